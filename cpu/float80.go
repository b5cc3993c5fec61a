package cpu

import (
	"math"
	"math/big"
	"math/bits"
)

// float80 is the x87 double extended-precision format in software
// (SDM Vol. 1 §4.2.2, Figure 4-3): sign, 15-bit exponent biased by 16383,
// 64-bit significand with an explicit integer bit J (bit 63).
type float80 struct {
	m  uint64 // significand, J in bit 63
	se uint16 // sign in bit 15, biased exponent in bits 0–14
}

const (
	f80Bias   = 16383
	f80ExpMax = 0x7FFF
	f80J      = 1 << 63
	f80Quiet  = 1 << 62 // the quiet bit of a NaN (SDM Vol. 1 §4.8.3.4)
	biasAdj   = 24576   // exponent bias adjust of unmasked #O/#U (SDM Vol. 1 §8.5.4.2, §8.5.5.2)
)

// Exception flags, as in FSW bits 0–5 and FCW mask bits 0–5 (SDM Vol. 1 §8.1.3.1).
const (
	feIE  = 1 << 0 // invalid operation
	feDE  = 1 << 1 // denormal operand
	feZE  = 1 << 2 // divide by zero
	feOE  = 1 << 3 // overflow
	feUE  = 1 << 4 // underflow
	fePE  = 1 << 5 // precision (inexact)
	feAll = 0x3F
)

// Rounding control (FCW.RC, SDM Vol. 1 §4.8.4, Table 4-8).
const (
	f80Near = 0
	f80Down = 1
	f80Up   = 2
	f80Chop = 3
)

// fenv is the rounding environment of one operation and the exceptions it raises.
type fenv struct {
	rc    uint8 // FCW.RC
	prec  uint8 // significand bits of x87 arithmetic results: 24, 53 or 64 (FCW.PC)
	mask  uint8 // FCW exception masks
	flags uint8 // exceptions raised
	up    bool  // the last rounding increased the magnitude (reported in C1)
}

func newFenv(rc uint8) *fenv { return &fenv{rc: rc, prec: 64, mask: feAll} }

var (
	f80Indefinite = float80{m: 0xC000000000000000, se: 0xFFFF} // real indefinite (SDM Vol. 1 §4.8.3.7)
	f80One        = float80{m: f80J, se: f80Bias}
)

func f80Inf(neg bool) float80  { return float80{m: f80J, se: signBits(neg) | f80ExpMax} }
func f80Zero(neg bool) float80 { return float80{se: signBits(neg)} }

func signBits(neg bool) uint16 {
	if neg {
		return 0x8000
	}
	return 0
}

func (a float80) neg() bool    { return a.se&0x8000 != 0 }
func (a float80) bexp() int32  { return int32(a.se & f80ExpMax) }
func (a float80) abs() float80 { return float80{m: a.m, se: a.se &^ 0x8000} }
func (a float80) chs() float80 { return float80{m: a.m, se: a.se ^ 0x8000} }

// Classes of 80-bit encodings (SDM Vol. 1 §8.2.2, Table 8-3).
type f80Class uint8

const (
	c80Zero     f80Class = iota
	c80Denormal          // includes pseudo-denormals (exponent 0, J set)
	c80Normal
	c80Inf
	c80QNaN
	c80SNaN
	c80Unsupported // unnormals, pseudo-NaNs and pseudo-infinities: #IA since the 387
)

func (a float80) class() f80Class {
	e := a.bexp()
	switch {
	case e == 0:
		if a.m == 0 {
			return c80Zero
		}
		return c80Denormal
	case e == f80ExpMax:
		switch {
		case a.m&f80J == 0:
			return c80Unsupported
		case a.m<<1 == 0:
			return c80Inf
		case a.m&f80Quiet != 0:
			return c80QNaN
		}
		return c80SNaN
	case a.m&f80J == 0:
		return c80Unsupported
	}
	return c80Normal
}

func (a float80) isNaN() bool {
	k := a.class()
	return k == c80QNaN || k == c80SNaN
}

// unpack returns a finite nonzero value as m × 2^(e−63) with m normalized (J set).
func (a float80) unpack() (neg bool, e int32, m uint64) {
	neg, e, m = a.neg(), a.bexp()-f80Bias, a.m
	if a.bexp() == 0 {
		e = 1 - f80Bias
	}
	if m != 0 && m&f80J == 0 {
		n := bits.LeadingZeros64(m)
		m <<= n
		e -= int32(n)
	}
	return
}

// binary formats that results are rounded to.
type ffmt struct {
	prec       int32 // significand bits with the integer bit
	emin, emax int32 // unbiased exponents of the normal range
	ext        bool  // the 80-bit format itself (denormals have exponent field 0)
}

var (
	fmtF32 = ffmt{24, -126, 127, false}
	fmtF64 = ffmt{53, -1022, 1023, false}
)

func fmtExt(prec uint8) ffmt { return ffmt{int32(prec), 1 - f80Bias, f80Bias, true} }

// roundBits keeps the top k bits of hi:lo (k ≤ 64) and rounds by rc; it
// returns the kept integer (which may have carried to 2^k; for k = 64 the
// carry is reported by carry) and whether bits were lost.
func roundBits(hi, lo uint64, k int32, neg bool, rc uint8) (q uint64, carry, inexact, inc bool) {
	var rbit, sticky bool
	switch {
	case k >= 64:
		q, rbit, sticky = hi, lo>>63 != 0, lo<<1 != 0
	case k > 0:
		q = hi >> (64 - k)
		rbit = hi>>(63-k)&1 != 0
		sticky = hi&(1<<(63-k)-1) != 0 || lo != 0
	case k == 0:
		rbit, sticky = hi>>63 != 0, hi<<1 != 0 || lo != 0
	default:
		sticky = hi != 0 || lo != 0
	}
	inexact = rbit || sticky
	switch rc {
	case f80Near:
		inc = rbit && (sticky || q&1 != 0)
	case f80Down:
		inc = inexact && neg
	case f80Up:
		inc = inexact && !neg
	}
	if inc {
		q++
		carry = q == 0
	}
	return
}

// roundPack rounds the exact value hi:lo × 2^(e−127) (hi normalized, lo may
// carry a sticky bit in bit 0) to format f by env's rounding control, and
// raises OE, UE and PE (SDM Vol. 1 §4.9.1.4–§4.9.1.6). Tininess is detected
// after rounding, as the SDM's "result of rounding with unbounded exponent".
// For the 80-bit register format with OE or UE unmasked the result is
// bias-adjusted by 2^∓24576 (§8.5.4.2, §8.5.5.2). Results in narrower
// formats come back as exact 80-bit values.
func (env *fenv) roundPack(neg bool, e int32, hi, lo uint64, f ffmt) float80 {
	env.up = false
	if hi == 0 {
		if lo == 0 {
			return f80Zero(neg)
		}
		n := bits.LeadingZeros64(lo)
		hi, lo, e = lo<<n, 0, e-64-int32(n)
	} else if n := bits.LeadingZeros64(hi); n != 0 {
		hi, lo, e = hi<<n|lo>>(64-n), lo<<n, e-int32(n)
	}
	k := f.prec
	tiny := false
	if e < f.emin {
		// Tiny after rounding with unbounded exponent: not if rounding
		// carries the value up to the smallest normal.
		q, carry, _, _ := roundBits(hi, lo, k, neg, env.rc)
		tiny = e < f.emin-1 || !carry && q>>k == 0
		if tiny && f.ext && env.mask&feUE == 0 && e+biasAdj >= f.emin {
			env.flags |= feUE
			return env.roundPack(neg, e+biasAdj, hi, lo, f)
		}
		k -= f.emin - e
	}
	q, carry, inexact, inc := roundBits(hi, lo, k, neg, env.rc)
	env.up = inc
	// The result is q × 2^(e−k+1).
	re := e - k + 1
	var m uint64
	if carry {
		m, re = f80J, re+64
	} else if q == 0 {
		m = 0
	} else {
		n := bits.LeadingZeros64(q)
		m, re = q<<n, re+63-int32(n)
	}
	if inexact {
		env.flags |= fePE
		if tiny {
			env.flags |= feUE
		}
	}
	if m == 0 {
		return f80Zero(neg)
	}
	if re > f.emax {
		if f.ext && env.mask&feOE == 0 && e-biasAdj <= f.emax {
			env.flags |= feOE
			return env.roundPack(neg, e-biasAdj, hi, lo, f)
		}
		env.flags |= feOE | fePE
		toInf := env.rc == f80Near || env.rc == f80Up && !neg || env.rc == f80Down && neg
		env.up = toInf
		if toInf {
			return f80Inf(neg)
		}
		// The largest finite value of the format.
		return float80{m: ^uint64(0) << (64 - f.prec), se: signBits(neg) | uint16(f.emax+f80Bias)}
	}
	if f.ext && re < f.emin {
		return float80{m: m >> (f.emin - re), se: signBits(neg)}
	}
	return float80{m: m, se: signBits(neg) | uint16(re+f80Bias)}
}

// quiet returns a NaN with its quiet bit set.
func (a float80) quiet() float80 { return float80{m: a.m | f80Quiet, se: a.se} }

// nanResult applies the NaN rules of SDM Vol. 1 §4.8.3.5, Table 4-7, to
// operands of which at least one is a NaN or unsupported; it raises IE for
// an SNaN or an unsupported encoding.
func (env *fenv) nanResult(a, b float80, two bool) float80 {
	ka, kb := a.class(), c80Normal
	if two {
		kb = b.class()
	}
	if ka == c80Unsupported || kb == c80Unsupported {
		env.flags |= feIE
		return f80Indefinite
	}
	if ka == c80SNaN || kb == c80SNaN {
		env.flags |= feIE
	}
	an, bn := ka == c80QNaN || ka == c80SNaN, kb == c80QNaN || kb == c80SNaN
	switch {
	case an && !bn:
		return a.quiet()
	case bn && !an:
		return b.quiet()
	case ka == c80SNaN && kb == c80QNaN:
		return b
	case ka == c80QNaN && kb == c80SNaN:
		return a
	}
	// Both SNaN or both QNaN: the larger significand; if equal, the positive one.
	am, bm := a.m|f80Quiet, b.m|f80Quiet
	if am > bm || am == bm && !a.neg() {
		return a.quiet()
	}
	return b.quiet()
}

// special reports whether an operand needs the NaN rules.
func (k f80Class) special() bool { return k >= c80QNaN }

// denormCheck raises DE for denormal operands (SDM Vol. 1 §4.9.1.3).
func (env *fenv) denormCheck(ks ...f80Class) {
	for _, k := range ks {
		if k == c80Denormal {
			env.flags |= feDE
		}
	}
}

// add returns a + b (sub: a − b) rounded to env.prec bits.
func (env *fenv) add(a, b float80, sub bool) float80 {
	ka, kb := a.class(), b.class()
	if ka.special() || kb.special() {
		return env.nanResult(a, b, true)
	}
	if sub {
		b = b.chs()
	}
	env.denormCheck(ka, kb)
	switch {
	case ka == c80Inf && kb == c80Inf:
		if a.neg() != b.neg() {
			env.flags |= feIE
			return f80Indefinite
		}
		return a
	case ka == c80Inf:
		return a
	case kb == c80Inf:
		return b
	case ka == c80Zero && kb == c80Zero:
		if a.neg() == b.neg() {
			return a
		}
		return f80Zero(env.rc == f80Down)
	case ka == c80Zero:
		a, b = b, a
		fallthrough
	case kb == c80Zero:
		// x + 0 is x, rounded to the precision control.
		na, ea, ma := a.unpack()
		return env.roundPack(na, ea, ma, 0, fmtExt(env.prec))
	}
	na, ea, ma := a.unpack()
	nb, eb, mb := b.unpack()
	if eb > ea || eb == ea && mb > ma {
		na, ea, ma, nb, eb, mb = nb, eb, mb, na, ea, ma
	}
	// Align b on a in 128 bits, with lost bits folded into a sticky bit.
	d := ea - eb
	bh, bl := mb, uint64(0)
	switch {
	case d == 0:
	case d < 64:
		bh, bl = mb>>d, mb<<(64-d)
	case d < 128:
		bh, bl = 0, mb>>(d-64)
		if mb<<(128-d) != 0 {
			bl |= 1
		}
	default:
		bh, bl = 0, 1
	}
	if na == nb {
		lo, c := bits.Add64(0, bl, 0)
		hi, c2 := bits.Add64(ma, bh, c)
		if c2 != 0 {
			lo = lo>>1 | hi<<63 | lo&1
			hi = hi>>1 | f80J
			ea++
		}
		return env.roundPack(na, ea, hi, lo, fmtExt(env.prec))
	}
	lo, br := bits.Sub64(0, bl, 0)
	hi, _ := bits.Sub64(ma, bh, br)
	if hi == 0 && lo == 0 {
		return f80Zero(env.rc == f80Down)
	}
	return env.roundPack(na, ea, hi, lo, fmtExt(env.prec))
}

// mul returns a × b rounded to env.prec bits.
func (env *fenv) mul(a, b float80) float80 {
	ka, kb := a.class(), b.class()
	if ka.special() || kb.special() {
		return env.nanResult(a, b, true)
	}
	neg := a.neg() != b.neg()
	env.denormCheck(ka, kb)
	switch {
	case ka == c80Inf && kb == c80Zero, ka == c80Zero && kb == c80Inf:
		env.flags |= feIE
		return f80Indefinite
	case ka == c80Inf || kb == c80Inf:
		return f80Inf(neg)
	case ka == c80Zero || kb == c80Zero:
		return f80Zero(neg)
	}
	_, ea, ma := a.unpack()
	_, eb, mb := b.unpack()
	hi, lo := bits.Mul64(ma, mb)
	// ma × mb / 2^126 is in [1, 4): hi:lo × 2^(ea+eb+1−127).
	return env.roundPack(neg, ea+eb+1, hi, lo, fmtExt(env.prec))
}

// div returns a ÷ b rounded to env.prec bits.
func (env *fenv) div(a, b float80) float80 {
	ka, kb := a.class(), b.class()
	if ka.special() || kb.special() {
		return env.nanResult(a, b, true)
	}
	neg := a.neg() != b.neg()
	switch {
	case ka == c80Inf && kb == c80Inf, ka == c80Zero && kb == c80Zero:
		env.flags |= feIE
		return f80Indefinite
	}
	switch {
	case ka == c80Inf:
		env.denormCheck(kb)
		return f80Inf(neg)
	case kb == c80Zero:
		// Divide-by-zero outranks the denormal operand (SDM Vol. 1 §4.9.2).
		env.flags |= feZE
		return f80Inf(neg)
	}
	env.denormCheck(ka, kb)
	switch {
	case ka == c80Zero || kb == c80Inf:
		return f80Zero(neg)
	}
	_, ea, ma := a.unpack()
	_, eb, mb := b.unpack()
	e := ea - eb
	var q1, r uint64
	if ma >= mb {
		q1, r = bits.Div64(ma>>1, ma<<63, mb)
	} else {
		q1, r = bits.Div64(ma, 0, mb)
		e--
	}
	q2, r2 := bits.Div64(r, 0, mb)
	if r2 != 0 {
		q2 |= 1
	}
	return env.roundPack(neg, e, q1, q2, fmtExt(env.prec))
}

// sqrt returns √a rounded to env.prec bits.
func (env *fenv) sqrt(a float80) float80 {
	k := a.class()
	switch {
	case k.special():
		return env.nanResult(a, a, false)
	case k == c80Zero:
		return a
	case a.neg():
		env.flags |= feIE
		return f80Indefinite
	case k == c80Inf:
		return a
	}
	env.denormCheck(k)
	// A 96-bit integer root through math/big (allocates; FSQRT is rare).
	_, e, m := a.unpack()
	t := e - 63
	n := new(big.Int).SetUint64(m)
	var re int32
	if t&1 == 0 {
		n.Lsh(n, 128)
		re = t/2 + 31
	} else {
		n.Lsh(n, 127)
		re = (t-1)/2 + 32
	}
	root := new(big.Int).Sqrt(n)
	sticky := new(big.Int).Mul(root, root).Cmp(n) != 0
	r := root.Uint64() // the low 64 of 96 bits
	rh := new(big.Int).Rsh(root, 64).Uint64()
	hi, lo := rh<<32|r>>32, r<<32
	if sticky {
		lo |= 1
	}
	return env.roundPack(false, re, hi, lo, fmtExt(env.prec))
}

// Comparison results.
const (
	f80Less = iota
	f80Equal
	f80Greater
	f80Unordered
)

// compare compares a and b; NaNs raise IE if signalling, or always when
// quietNaN is false (FCOM vs FUCOM, SDM Vol. 2A FCOM/FUCOM).
func (env *fenv) compare(a, b float80, ordered bool) int {
	ka, kb := a.class(), b.class()
	if ka == c80Unsupported || kb == c80Unsupported || ka == c80SNaN || kb == c80SNaN {
		env.flags |= feIE
		return f80Unordered
	}
	if ka == c80QNaN || kb == c80QNaN {
		if ordered {
			env.flags |= feIE
		}
		return f80Unordered
	}
	env.denormCheck(ka, kb)
	if ka == c80Zero && kb == c80Zero {
		return f80Equal
	}
	if a.neg() != b.neg() {
		if a.neg() {
			return f80Less
		}
		return f80Greater
	}
	// Same sign: compare magnitudes (normalized through unpack for denormals).
	r := cmpMag(a, ka, b, kb)
	if a.neg() {
		r = 2 - r
	}
	return r
}

func cmpMag(a float80, ka f80Class, b float80, kb f80Class) int {
	switch {
	case ka == kb && (ka == c80Inf || ka == c80Zero):
		return f80Equal
	case ka == c80Inf || kb == c80Zero:
		return f80Greater
	case kb == c80Inf || ka == c80Zero:
		return f80Less
	}
	_, ea, ma := a.unpack()
	_, eb, mb := b.unpack()
	switch {
	case ea > eb || ea == eb && ma > mb:
		return f80Greater
	case ea == eb && ma == mb:
		return f80Equal
	}
	return f80Less
}

// roundInt rounds a to an integral value by env.rc (FRNDINT, SDM Vol. 2A).
func (env *fenv) roundInt(a float80) float80 {
	k := a.class()
	switch {
	case k.special():
		return env.nanResult(a, a, false)
	case k == c80Zero || k == c80Inf:
		return a
	}
	env.denormCheck(k)
	neg, e, m := a.unpack()
	if e >= 63 {
		return a
	}
	q, carry, inexact, inc := roundBits(m, 0, e+1, neg, env.rc)
	env.up = inc
	if inexact {
		env.flags |= fePE
	}
	if carry {
		return float80{m: f80J, se: signBits(neg) | uint16(63+f80Bias)}
	}
	if q == 0 {
		return f80Zero(neg)
	}
	return fromUint(neg, q)
}

// fromUint returns ±v exactly.
func fromUint(neg bool, v uint64) float80 {
	if v == 0 {
		return f80Zero(neg)
	}
	n := bits.LeadingZeros64(v)
	return float80{m: v << n, se: signBits(neg) | uint16(63-n+f80Bias)}
}

// fromInt64 converts an integer exactly (FILD).
func fromInt64(v int64) float80 {
	if v < 0 {
		return fromUint(true, uint64(-v))
	}
	return fromUint(false, uint64(v))
}

// toInt rounds a to a signed integer of size bytes by env.rc (FIST); out of
// range values and NaNs raise IE and give the integer indefinite
// (SDM Vol. 1 §4.8.3.7: the most negative integer). truncate is FISTTP's chop.
func (env *fenv) toInt(a float80, size int, truncate bool) int64 {
	indef := int64(-1) << (size*8 - 1)
	k := a.class()
	switch {
	case k.special() || k == c80Inf:
		env.flags |= feIE
		return indef
	case k == c80Zero:
		return 0
	}
	rc := env.rc
	if truncate {
		rc = f80Chop
	}
	neg, e, m := a.unpack()
	if e >= 64 {
		env.flags |= feIE
		return indef
	}
	q, carry, inexact, inc := roundBits(m, 0, e+1, neg, rc)
	limit := uint64(1) << (size*8 - 1) // |min|
	if carry || q > limit || q == limit && !neg {
		env.flags |= feIE
		return indef
	}
	env.up = inc
	if inexact {
		env.flags |= fePE
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// fromFloat64 converts an IEEE double exactly (FLD m64fp); a denormal
// raises DE.
func (env *fenv) fromFloat64(u uint64) float80 {
	return env.fromBinary(u>>63 != 0, int32(u>>52&0x7FF), u&(1<<52-1), 52, 1023, 0x7FF)
}

// fromFloat32 converts an IEEE single exactly (FLD m32fp).
func (env *fenv) fromFloat32(u uint32) float80 {
	return env.fromBinary(u>>31 != 0, int32(u>>23&0xFF), uint64(u&(1<<23-1)), 23, 127, 0xFF)
}

func (env *fenv) fromBinary(neg bool, e int32, frac uint64, fbits int, bias, emax int32) float80 {
	s := signBits(neg)
	switch {
	case e == emax:
		if frac == 0 {
			return f80Inf(neg)
		}
		// NaNs convert as they are: an SNaN stays signalling, for the
		// arithmetic's NaN rules; FLD quiets it (x87_ops.go fldMem).
		return float80{m: f80J | frac<<(63-fbits), se: s | f80ExpMax}
	case e == 0:
		if frac == 0 {
			return f80Zero(neg)
		}
		env.flags |= feDE
		n := bits.LeadingZeros64(frac)
		return float80{m: frac << n, se: s | uint16(1-bias-int32(n-(63-fbits))+f80Bias)}
	}
	return float80{m: f80J | frac<<(63-fbits), se: s | uint16(e-bias+f80Bias)}
}

// toFloat64 rounds a to an IEEE double (FST m64fp).
func (env *fenv) toFloat64(a float80) uint64 {
	r, nan := env.toBinary(a, fmtF64)
	s := uint64(0)
	if r.neg() {
		s = 1 << 63
	}
	switch {
	case nan:
		return s | 0x7FF<<52 | r.m<<1>>12
	case r.bexp() == f80ExpMax:
		return s | 0x7FF<<52
	case r.m == 0:
		return s
	}
	_, e, m := r.unpack()
	if e < -1022 {
		return s | m>>(11+uint(-1022-e))
	}
	return s | uint64(e+1023)<<52 | m<<1>>12
}

// toFloat32 rounds a to an IEEE single (FST m32fp).
func (env *fenv) toFloat32(a float80) uint32 {
	r, nan := env.toBinary(a, fmtF32)
	s := uint32(0)
	if r.neg() {
		s = 1 << 31
	}
	switch {
	case nan:
		return s | 0xFF<<23 | uint32(r.m<<1>>41)
	case r.bexp() == f80ExpMax:
		return s | 0xFF<<23
	case r.m == 0:
		return s
	}
	_, e, m := r.unpack()
	if e < -126 {
		return s | uint32(m>>(40+uint(-126-e)))
	}
	return s | uint32(e+127)<<23 | uint32(m<<1>>41)
}

// toBinary rounds a to a narrower format, returning an exact 80-bit value,
// or the quieted NaN (nan set).
func (env *fenv) toBinary(a float80, f ffmt) (float80, bool) {
	k := a.class()
	switch k {
	case c80SNaN, c80QNaN, c80Unsupported:
		return env.nanResult(a, a, false), true
	case c80Zero, c80Inf:
		return a, false
	}
	// No DE: FST lists no #D (SDM Vol. 2A FST/FSTP).
	neg, e, m := a.unpack()
	return env.roundPack(neg, e, m, 0, f), false
}

// round80 rounds a (an 80-bit value) to env.prec bits: x + 0 without the add.
func (env *fenv) round80(a float80) float80 {
	switch a.class() {
	case c80Normal, c80Denormal:
		neg, e, m := a.unpack()
		return env.roundPack(neg, e, m, 0, fmtExt(env.prec))
	}
	return a
}

// fromBCD converts an 18-digit packed BCD integer (FBLD, SDM Vol. 1 §4.7).
func fromBCD(b [10]byte) float80 {
	var v uint64
	for i := 8; i >= 0; i-- {
		v = v*100 + uint64(b[i]>>4)*10 + uint64(b[i]&15)
	}
	return fromUint(b[9]&0x80 != 0, v)
}

// toBCD rounds a to an integer and packs it (FBSTP); out of range or NaN
// gives IE and the packed BCD indefinite (SDM Vol. 1 §4.7, Table 4-4).
func (env *fenv) toBCD(a float80) (out [10]byte) {
	indef := [10]byte{7: 0xC0, 8: 0xFF, 9: 0xFF}
	k := a.class()
	if k.special() || k == c80Inf {
		env.flags |= feIE
		return indef
	}
	var q uint64
	neg := a.neg()
	if k != c80Zero {
		_, e, m := a.unpack()
		if e >= 60 {
			env.flags |= feIE
			return indef
		}
		var carry, inexact, inc bool
		q, carry, inexact, inc = roundBits(m, 0, e+1, neg, env.rc)
		if carry || q > 999999999999999999 {
			env.flags |= feIE
			return indef
		}
		env.up = inc
		if inexact {
			env.flags |= fePE
		}
	}
	for i := 0; i < 9; i++ {
		d := q % 100
		q /= 100
		out[i] = byte(d/10)<<4 | byte(d%10)
	}
	if neg {
		out[9] = 0x80
	}
	return
}

// rem computes the partial remainder of FPREM (nearest false: truncating
// quotient) or FPREM1 (IEEE remainder) exactly, SDM Vol. 2A FPREM/FPREM1.
// q holds the low three bits of the quotient; partial is C2 (the exponent
// difference was 64 or more and only a partial reduction was done).
func (env *fenv) rem(a, b float80, nearest bool) (r float80, q uint64, partial bool) {
	ka, kb := a.class(), b.class()
	if ka.special() || kb.special() {
		return env.nanResult(a, b, true), 0, false
	}
	if ka == c80Inf || kb == c80Zero {
		env.flags |= feIE
		return f80Indefinite, 0, false
	}
	env.denormCheck(ka, kb)
	if ka == c80Zero || kb == c80Inf {
		return a, 0, false
	}
	na, ea, ma := a.unpack()
	_, eb, mb := b.unpack()
	d := ea - eb
	if d >= 64 {
		// Partial remainder: reduce by b × 2^(d−n) with n in [32, 63]
		// (the SDM leaves n to the implementation; this is our choice).
		n := 32 + (d-64)%32
		eb += d - n
		d = n
		partial = true
	}
	var rm uint64
	rneg := na
	re := eb // rm × 2^(re−63)
	switch {
	case d < 0:
		rm, re = ma, ea
		if nearest && d == -1 && ma > mb {
			// |a| > |b|/2: quotient 1, remainder a − b, of magnitude
			// (2mb − ma)·2^(ea−63), which fits 64 bits (computed mod 2^64).
			rm, rneg, q = mb<<1-ma, !na, 1
		}
	default:
		var qq uint64
		if d == 0 {
			qq, rm = bits.Div64(0, ma, mb)
		} else {
			qq, rm = bits.Div64(ma>>(64-d), ma<<d, mb)
		}
		if nearest && !partial && (rm > mb-rm || rm == mb-rm && qq&1 != 0) {
			qq++
			rm = mb - rm
			rneg = !na
		}
		q = qq
	}
	if rm == 0 {
		return f80Zero(na), q & 7, partial
	}
	// Exact: roundPack only packs (and denormalizes tiny remainders).
	return env.roundPack(rneg, re, rm, 0, fmtExt(64)), q & 7, partial
}

// scale returns a × 2^trunc(b) (FSCALE, SDM Vol. 2A).
func (env *fenv) scale(a, b float80) float80 {
	ka, kb := a.class(), b.class()
	if ka.special() || kb.special() {
		return env.nanResult(a, b, true)
	}
	env.denormCheck(ka, kb)
	if kb == c80Inf {
		switch {
		case ka == c80Zero && !b.neg(), ka == c80Inf && b.neg():
			env.flags |= feIE
			return f80Indefinite
		case ka == c80Zero || ka == c80Inf:
			return a
		case b.neg():
			return f80Zero(a.neg())
		}
		return f80Inf(a.neg())
	}
	if ka == c80Zero || ka == c80Inf {
		return a
	}
	var n int64
	if kb != c80Zero {
		nb, eb, mb := b.unpack()
		switch {
		case eb < 0:
			n = 0
		case eb >= 20:
			n = 1 << 20
		default:
			n = int64(mb >> (63 - eb))
		}
		if nb {
			n = -n
		}
	}
	na, ea, ma := a.unpack()
	return env.roundPack(na, ea+int32(n), ma, 0, fmtExt(64))
}

// xtract splits a into its exponent and significand (FXTRACT, SDM Vol. 2A).
func (env *fenv) xtract(a float80) (exp, sig float80) {
	k := a.class()
	switch k {
	case c80SNaN, c80QNaN, c80Unsupported:
		n := env.nanResult(a, a, false)
		return n, n
	case c80Zero:
		env.flags |= feZE
		return f80Inf(true), a
	case c80Inf:
		return f80Inf(false), a
	}
	env.denormCheck(k)
	neg, e, m := a.unpack()
	return fromInt64(int64(e)), float80{m: m, se: signBits(neg) | f80Bias}
}

// Conversions through float64 for the transcendental instructions.

// toF64 returns the value as a Go float64 (rounded to nearest; NaN and
// infinities kept).
func (a float80) toF64() float64 {
	env := newFenv(f80Near)
	return math.Float64frombits(env.toFloat64(a))
}

// fromF64 converts a Go float64 exactly.
func fromF64(x float64) float80 {
	return newFenv(f80Near).fromFloat64(math.Float64bits(x))
}

// Constants of FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2 to 128 bits,
// rounded by RC when loaded (SDM Vol. 1 §8.3.8). Each is hi:lo × 2^(e−127).
var f80Consts = [...]struct {
	e      int32
	hi, lo uint64
}{
	{1, 0xD49A784BCD1B8AFE, 0x492BF6FF4DAFDB4C},  // log2(10)
	{0, 0xB8AA3B295C17F0BB, 0xBE87FED0691D3E88},  // log2(e)
	{1, 0xC90FDAA22168C234, 0xC4C6628B80DC1CD1},  // π
	{-2, 0x9A209A84FBCFF798, 0x8F8959AC0B7C9178}, // log10(2)
	{-1, 0xB17217F7D1CF79AB, 0xC9E3B39803F2F6AF}, // ln(2)
}

// constant returns constant i of f80Consts rounded by env.rc to 64 bits;
// unlike arithmetic, it does not raise PE.
func (env *fenv) constant(i int) float80 {
	c := f80Consts[i]
	save := env.flags
	r := env.roundPack(false, c.e, c.hi, c.lo, fmtExt(64))
	env.flags = save
	return r
}
