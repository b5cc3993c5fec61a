package cpu

import (
	"math"
	"math/bits"
)

// IEEE 754 binary32/binary64 arithmetic as the SSE unit does it: MXCSR
// rounding control, DAZ and FTZ, and exact exception flags (SDM Vol. 1
// §4.8–4.9, §10.2.3, §11.5). Go's float arithmetic only rounds to nearest
// and reports nothing, so results go through a small soft-float core:
// operands are unpacked to a 64-bit significand, the exact result is formed
// with a sticky bit, and roundPack rounds it once for the format. The common
// case (round to nearest, normal operands and result) takes a fast path on
// the host's floats with an error-free check of inexactness.

// MXCSR bits (SDM Vol. 1 §10.2.3, Figure 10-3).
const (
	mxIE  = 1 << 0
	mxDE  = 1 << 1
	mxZE  = 1 << 2
	mxOE  = 1 << 3
	mxUE  = 1 << 4
	mxPE  = 1 << 5
	mxDAZ = 1 << 6
	mxFTZ = 1 << 15

	mxFlags     = 0x3F
	mxMaskShift = 7
	mxRCShift   = 13
)

// Rounding-control values (SDM Vol. 1 §4.8.4, Table 4-8).
const (
	rcNearest = 0
	rcDown    = 1
	rcUp      = 2
	rcZero    = 3
)

// fpFormat describes binary32 or binary64.
type fpFormat struct {
	mbits   uint   // stored significand bits
	bias    int    // exponent bias; emax = bias, emin = 1 - bias
	signBit uint64 // sign-bit mask
	expMask uint64 // exponent field, in place
	qnanBit uint64 // the quiet bit (top significand bit)
	indef   uint64 // the QNaN floating-point indefinite (SDM Vol. 1 §4.8.3.7)
}

var (
	fmt32 = &fpFormat{mbits: 23, bias: 127, signBit: 1 << 31, expMask: 0xFF << 23, qnanBit: 1 << 22, indef: 0xFFC00000}
	fmt64 = &fpFormat{mbits: 52, bias: 1023, signBit: 1 << 63, expMask: 0x7FF << 52, qnanBit: 1 << 51, indef: 0xFFF8000000000000}
)

// Operand classes.
const (
	clsZero = iota
	clsNormal
	clsDenormal
	clsInf
	clsQNaN
	clsSNaN
)

// fpVal is an unpacked operand: value = mant/2^63 × 2^exp, with the leading
// one of mant at bit 63 for finite non-zero values.
type fpVal struct {
	cls  uint8
	sign bool
	exp  int
	mant uint64
}

func (v *fpVal) isNaN() bool { return v.cls >= clsQNaN }

// unpack splits x of format f.
func (f *fpFormat) unpack(x uint64) fpVal {
	v := fpVal{sign: x&f.signBit != 0}
	e := int((x & f.expMask) >> f.mbits)
	m := x & (1<<f.mbits - 1)
	switch {
	case e == int(f.expMask>>f.mbits):
		switch {
		case m == 0:
			v.cls = clsInf
		case m&f.qnanBit != 0:
			v.cls = clsQNaN
		default:
			v.cls = clsSNaN
		}
	case e == 0:
		if m == 0 {
			v.cls = clsZero
			return v
		}
		v.cls = clsDenormal
		lz := bits.LeadingZeros64(m)
		v.mant = m << lz
		v.exp = 1 - f.bias - (lz - (63 - int(f.mbits)))
	default:
		v.cls = clsNormal
		v.mant = (m | 1<<f.mbits) << (63 - f.mbits)
		v.exp = e - f.bias
	}
	return v
}

// fpEnv is the MXCSR state of one instruction: its controls, and the flags
// it raises, kept apart by stage because unmasked pre-computation exceptions
// (IE, DE, ZE) stop an instruction before post-computation ones (OE, UE, PE)
// are looked for (SDM Vol. 1 §11.5.3).
type fpEnv struct {
	rc       uint32
	daz, ftz bool
	um       bool // underflow masked: tiny results report UE only when inexact
	pre      uint32
	post     uint32
}

func newFPEnv(mxcsr uint32) fpEnv {
	return fpEnv{
		rc:  mxcsr >> mxRCShift & 3,
		daz: mxcsr&mxDAZ != 0,
		ftz: mxcsr&mxFTZ != 0,
		um:  mxcsr&(mxUE<<mxMaskShift) != 0,
	}
}

// load unpacks an operand, turning denormals into zeros under DAZ
// (SDM Vol. 1 §10.2.3.4: no DE is reported for them).
func (e *fpEnv) load(f *fpFormat, x uint64) fpVal {
	v := f.unpack(x)
	if v.cls == clsDenormal && e.daz {
		v.cls = clsZero
	}
	return v
}

func (f *fpFormat) quiet(x uint64) uint64 { return x | f.qnanBit }

func (f *fpFormat) zero(neg bool) uint64 {
	if neg {
		return f.signBit
	}
	return 0
}

func (f *fpFormat) inf(neg bool) uint64 { return f.zero(neg) | f.expMask }

// nan2 is the result of a two-operand operation with a NaN operand: the
// first NaN operand made quiet; IE if either is an SNaN (SDM Vol. 1 §4.8.3.5,
// Table 4-7: SSE returns the first source operand's NaN).
func (e *fpEnv) nan2(f *fpFormat, a, b *fpVal, x, y uint64) uint64 {
	if a.cls == clsSNaN || b.cls == clsSNaN {
		e.pre |= mxIE
	}
	if a.isNaN() {
		return f.quiet(x)
	}
	return f.quiet(y)
}

// nan1 is the result of a one-operand operation on a NaN.
func (e *fpEnv) nan1(f *fpFormat, a *fpVal, x uint64) uint64 {
	if a.cls == clsSNaN {
		e.pre |= mxIE
	}
	return f.quiet(x)
}

func (e *fpEnv) invalid(f *fpFormat) uint64 {
	e.pre |= mxIE
	return f.indef
}

// roundBits shifts m right by sh (≥ 1) and rounds by the rounding control;
// it reports whether bits were lost.
func (e *fpEnv) roundBits(m uint64, sh uint, neg bool) (uint64, bool) {
	var q uint64
	var above, tie bool
	switch {
	case sh < 64:
		q = m >> sh
		rem, half := m&(1<<sh-1), uint64(1)<<(sh-1)
		if rem == 0 {
			return q, false
		}
		above, tie = rem > half, rem == half
	case sh == 64:
		above, tie = m > 1<<63, m == 1<<63
	}
	if m == 0 {
		return 0, false
	}
	switch e.rc {
	case rcNearest:
		if above || tie && q&1 != 0 {
			q++
		}
	case rcUp:
		if !neg {
			q++
		}
	case rcDown:
		if neg {
			q++
		}
	}
	return q, true
}

// roundPack rounds (-1)^neg × mant/2^63 × 2^exp (leading one at bit 63, the
// lowest bit sticky) to format f, with overflow, underflow and inexact flags.
func (e *fpEnv) roundPack(f *fpFormat, neg bool, exp int, mant uint64) uint64 {
	s := f.zero(neg)
	emin := 1 - f.bias
	sh := 63 - f.mbits
	q, inexact := e.roundBits(mant, sh, neg)
	rexp := exp
	if q>>(f.mbits+1) != 0 {
		q >>= 1
		rexp++
	}
	if rexp >= emin {
		if rexp > f.bias {
			return e.overflow(f, neg)
		}
		if inexact {
			e.post |= mxPE
		}
		return s | uint64(rexp+f.bias)<<f.mbits | q&(1<<f.mbits-1)
	}
	// Tiny: the result rounded with an unbounded exponent is below the
	// smallest normal (SDM Vol. 1 §11.5.2.5). Denormalize and round again; a
	// result that rounds up to the smallest normal encodes itself.
	q, inexact = e.roundBits(mant, sh+uint(emin-exp), neg)
	switch {
	case !e.um:
		e.post |= mxUE
		if inexact {
			e.post |= mxPE
		}
	case e.ftz:
		// Flush to zero (SDM Vol. 1 §10.2.3.3): UE and PE, a signed zero.
		e.post |= mxUE | mxPE
		return s
	case inexact:
		e.post |= mxUE | mxPE
	}
	return s | q
}

// overflow is the masked response to overflow (SDM Vol. 1 §4.9.1.4, Table 4-10).
func (e *fpEnv) overflow(f *fpFormat, neg bool) uint64 {
	e.post |= mxOE | mxPE
	toInf := e.rc == rcNearest || e.rc == rcUp && !neg || e.rc == rcDown && neg
	if toInf {
		return f.inf(neg)
	}
	return f.zero(neg) | (f.expMask - 1) // largest finite
}

// exactZero is the sign of an exact zero sum of operands of opposite signs:
// +0, except -0 when rounding down (IEEE 754-2008 §6.3).
func (e *fpEnv) exactZero(f *fpFormat) uint64 { return f.zero(e.rc == rcDown) }

// add returns x + y (or x − y when sub).
func (e *fpEnv) add(f *fpFormat, x, y uint64, sub bool) uint64 {
	if e.rc == rcNearest {
		if r, ok := fastAdd(e, f, x, y, sub); ok {
			return r
		}
	}
	a, b := e.load(f, x), e.load(f, y)
	if a.isNaN() || b.isNaN() {
		return e.nan2(f, &a, &b, x, y)
	}
	b.sign = b.sign != sub
	if a.cls == clsInf || b.cls == clsInf {
		if a.cls == clsInf && b.cls == clsInf {
			if a.sign != b.sign {
				return e.invalid(f)
			}
			return f.inf(a.sign)
		}
		if a.cls == clsDenormal || b.cls == clsDenormal {
			e.pre |= mxDE
		}
		if a.cls == clsInf {
			return f.inf(a.sign)
		}
		return f.inf(b.sign)
	}
	if a.cls == clsDenormal || b.cls == clsDenormal {
		e.pre |= mxDE
	}
	switch {
	case a.cls == clsZero && b.cls == clsZero:
		if a.sign == b.sign {
			return f.zero(a.sign)
		}
		return e.exactZero(f)
	case a.cls == clsZero:
		return e.roundPack(f, b.sign, b.exp, b.mant)
	case b.cls == clsZero:
		return e.roundPack(f, a.sign, a.exp, a.mant)
	}
	if a.exp < b.exp || a.exp == b.exp && a.mant < b.mant {
		a, b = b, a
	}
	// |a| ≥ |b|. Work one bit down so that a carry fits; b's bits shifted out
	// collapse into the sticky bit.
	ma, mb := a.mant>>1, b.mant>>1
	if d := uint(a.exp - b.exp); d >= 64 {
		mb = 1
	} else if d > 0 {
		lost := mb&(1<<d-1) != 0
		mb >>= d
		if lost {
			mb |= 1
		}
	}
	var m uint64
	if a.sign == b.sign {
		m = ma + mb
	} else {
		m = ma - mb
		if m == 0 {
			return e.exactZero(f)
		}
	}
	lz := bits.LeadingZeros64(m)
	return e.roundPack(f, a.sign, a.exp+1-lz, m<<lz)
}

// mul returns x × y.
func (e *fpEnv) mul(f *fpFormat, x, y uint64) uint64 {
	if e.rc == rcNearest {
		if r, ok := fastMul(e, f, x, y); ok {
			return r
		}
	}
	a, b := e.load(f, x), e.load(f, y)
	if a.isNaN() || b.isNaN() {
		return e.nan2(f, &a, &b, x, y)
	}
	neg := a.sign != b.sign
	if a.cls == clsInf || b.cls == clsInf {
		if a.cls == clsZero || b.cls == clsZero {
			return e.invalid(f)
		}
		if a.cls == clsDenormal || b.cls == clsDenormal {
			e.pre |= mxDE
		}
		return f.inf(neg)
	}
	if a.cls == clsDenormal || b.cls == clsDenormal {
		e.pre |= mxDE
	}
	if a.cls == clsZero || b.cls == clsZero {
		return f.zero(neg)
	}
	hi, lo := bits.Mul64(a.mant, b.mant)
	exp := a.exp + b.exp
	if hi>>63 != 0 {
		exp++
	} else {
		hi = hi<<1 | lo>>63
		lo <<= 1
	}
	if lo != 0 {
		hi |= 1
	}
	return e.roundPack(f, neg, exp, hi)
}

// div returns x ÷ y.
func (e *fpEnv) div(f *fpFormat, x, y uint64) uint64 {
	if e.rc == rcNearest {
		if r, ok := fastDiv(e, f, x, y); ok {
			return r
		}
	}
	a, b := e.load(f, x), e.load(f, y)
	if a.isNaN() || b.isNaN() {
		return e.nan2(f, &a, &b, x, y)
	}
	neg := a.sign != b.sign
	switch {
	case a.cls == clsInf && b.cls == clsInf, a.cls == clsZero && b.cls == clsZero:
		return e.invalid(f)
	case b.cls == clsZero && a.cls != clsInf:
		// Divide by zero: a finite non-zero dividend (SDM Vol. 1 §11.5.2.3).
		e.pre |= mxZE
		return f.inf(neg)
	}
	if a.cls == clsDenormal || b.cls == clsDenormal {
		e.pre |= mxDE
	}
	switch {
	case a.cls == clsInf:
		return f.inf(neg)
	case b.cls == clsInf, a.cls == clsZero:
		return f.zero(neg)
	}
	var q, r uint64
	exp := a.exp - b.exp
	if a.mant < b.mant {
		q, r = bits.Div64(a.mant, 0, b.mant)
		exp--
	} else {
		q, r = bits.Div64(a.mant>>1, a.mant<<63, b.mant)
	}
	if r != 0 {
		q |= 1
	}
	return e.roundPack(f, neg, exp, q)
}

// sqrt returns √x. The host's correctly rounded binary64 square root of the
// significand (scaled into [1, 4)) and its exact residual r² − y (by FMA)
// give the result with a sticky bit; no format can overflow or underflow here.
func (e *fpEnv) sqrt(f *fpFormat, x uint64) uint64 {
	a := e.load(f, x)
	switch {
	case a.isNaN():
		return e.nan1(f, &a, x)
	case a.cls == clsZero:
		return f.zero(a.sign)
	case a.sign:
		return e.invalid(f)
	case a.cls == clsInf:
		return x
	case a.cls == clsDenormal:
		e.pre |= mxDE
	}
	exp := a.exp
	ye := uint64(1023)
	if exp&1 != 0 {
		ye, exp = 1024, exp-1
	}
	y := math.Float64frombits(ye<<52 | a.mant>>11&(1<<52-1))
	r := math.Sqrt(y)
	m := (math.Float64bits(r)&(1<<52-1) | 1<<52) << 11
	switch res := math.FMA(-r, r, y); {
	case res > 0:
		m |= 1
	case res < 0:
		m-- // just below r: r ≥ 1 and r² > y ≥ 1, so m stays normalized
	}
	return e.roundPack(f, false, exp/2, m)
}

// Comparison results.
const (
	cmpLess = iota
	cmpEqual
	cmpGreater
	cmpUnordered
)

// compare orders x and y. IE for an SNaN, or for any NaN when signaling
// (the "ordered" predicates LT, LE and COMISS; SDM Vol. 2A CMPPS, Table 3-1);
// DE for a denormal when no NaN is involved.
func (e *fpEnv) compare(f *fpFormat, x, y uint64, signaling bool) int {
	a, b := e.load(f, x), e.load(f, y)
	if a.isNaN() || b.isNaN() {
		if signaling || a.cls == clsSNaN || b.cls == clsSNaN {
			e.pre |= mxIE
		}
		return cmpUnordered
	}
	if a.cls == clsDenormal || b.cls == clsDenormal {
		e.pre |= mxDE
	}
	return cmpVals(&a, &b)
}

// cmpVals orders two non-NaN operands (zeros equal whatever their signs).
func cmpVals(a, b *fpVal) int {
	if a.cls == clsZero && b.cls == clsZero {
		return cmpEqual
	}
	// Magnitude key: class (zero < finite < inf), then exponent, then significand.
	mag := func(v *fpVal) (int, int, uint64) {
		switch v.cls {
		case clsZero:
			return 0, 0, 0
		case clsInf:
			return 2, 0, 0
		}
		return 1, v.exp, v.mant
	}
	if a.sign != b.sign {
		if a.sign {
			return cmpLess
		}
		return cmpGreater
	}
	ac, ae, am := mag(a)
	bc, be, bm := mag(b)
	r := cmpEqual
	switch {
	case ac != bc:
		r = cmpLess
		if ac > bc {
			r = cmpGreater
		}
	case ae != be:
		r = cmpLess
		if ae > be {
			r = cmpGreater
		}
	case am != bm:
		r = cmpLess
		if am > bm {
			r = cmpGreater
		}
	}
	if a.sign && r != cmpEqual {
		r = cmpLess + cmpGreater - r
	}
	return r
}

// minmax returns the smaller (or larger) of x and y, or y when either is a
// NaN or both are zeros (SDM Vol. 2B MINPS/MAXPS: any NaN is invalid). Under
// DAZ a denormal operand is returned as a zero.
func (e *fpEnv) minmax(f *fpFormat, x, y uint64, max bool) uint64 {
	a, b := e.load(f, x), e.load(f, y)
	if a.isNaN() || b.isNaN() {
		e.pre |= mxIE
		if b.cls == clsZero {
			return f.zero(b.sign) // a denormal under DAZ
		}
		return y
	}
	if a.cls == clsDenormal || b.cls == clsDenormal {
		e.pre |= mxDE
	}
	r := cmpVals(&a, &b)
	pickA := r == cmpLess && !max || r == cmpGreater && max
	if pickA {
		if a.cls == clsZero {
			return f.zero(a.sign)
		}
		return x
	}
	if b.cls == clsZero {
		return f.zero(b.sign)
	}
	return y
}

// convert changes format (CVTSS2SD, CVTSD2SS, CVTPS2PD, CVTPD2PS). A NaN
// keeps its sign and the top of its payload, made quiet.
func (e *fpEnv) convert(from, to *fpFormat, x uint64) uint64 {
	a := e.load(from, x)
	switch a.cls {
	case clsQNaN, clsSNaN:
		if a.cls == clsSNaN {
			e.pre |= mxIE
		}
		payload := x & (1<<from.mbits - 1)
		if to.mbits > from.mbits {
			payload <<= to.mbits - from.mbits
		} else {
			payload >>= from.mbits - to.mbits
		}
		return to.zero(a.sign) | to.expMask | to.qnanBit | payload
	case clsInf:
		return to.inf(a.sign)
	case clsZero:
		return to.zero(a.sign)
	case clsDenormal:
		e.pre |= mxDE
	}
	return e.roundPack(to, a.sign, a.exp, a.mant)
}

// fromInt converts a signed integer (CVTSI2SS, CVTDQ2PS, CVTPI2PD…).
func (e *fpEnv) fromInt(f *fpFormat, v int64) uint64 {
	if v == 0 {
		return 0
	}
	neg := v < 0
	m := uint64(v)
	if neg {
		m = -m
	}
	lz := bits.LeadingZeros64(m)
	return e.roundPack(f, neg, 63-lz, m<<lz)
}

// toInt converts to a signed integer of n bits (32 or 64) by the rounding
// control, or by truncation (CVTT*). NaNs, infinities and values out of
// range are invalid and give the integer indefinite 1 << (n−1)
// (SDM Vol. 1 §4.8.3.7, §11.5.2.1). DAZ applies; DE is never reported.
func (e *fpEnv) toInt(f *fpFormat, x uint64, n uint, trunc bool) uint64 {
	indef := uint64(1) << (n - 1)
	a := e.load(f, x)
	switch a.cls {
	case clsQNaN, clsSNaN, clsInf:
		e.pre |= mxIE
		return indef
	case clsZero:
		return 0
	}
	if a.exp >= int(n) {
		e.pre |= mxIE
		return indef
	}
	save := e.rc
	if trunc {
		e.rc = rcZero
	}
	var q uint64
	inexact := false
	if a.exp == 63 {
		q = a.mant
	} else {
		q, inexact = e.roundBits(a.mant, uint(63-a.exp), a.sign)
	}
	e.rc = save
	if q > indef || q == indef && !a.sign {
		e.pre |= mxIE
		return indef
	}
	if inexact {
		e.post |= mxPE
	}
	if a.sign {
		q = -q
	}
	return q & (indef<<1 - 1)
}

// Fast paths: round to nearest, normal operands, a normal result. The host
// gives the correctly rounded result; inexactness comes from an error-free
// transformation (TwoSum for sums, FMA residuals for products and
// quotients). binary32 operations run in binary64, where products are exact
// and double rounding of +, −, ×, ÷ is innocuous (53 ≥ 2·24 + 2).
// Anything else (NaN, infinity, zero, denormal, possible underflow or
// overflow) returns ok = false for the soft-float path.

// normal64 reports whether x is a binary64 normal number whose magnitude is
// in [2^-960, 2^960]: far enough from underflow and overflow for the residuals.
func normal64(x float64) bool {
	e := math.Float64bits(x) >> 52 & 0x7FF
	return e >= 1023-960 && e <= 1023+960
}

func normal32(x float32) bool {
	e := math.Float32bits(x) >> 23 & 0xFF
	return e >= 1 && e <= 0xFE
}

func twoSumErr(a, b, s float64) float64 {
	bb := s - a
	return (a - (s - bb)) + (b - bb)
}

func fastAdd(e *fpEnv, f *fpFormat, x, y uint64, sub bool) (uint64, bool) {
	if f == fmt64 {
		a, b := math.Float64frombits(x), math.Float64frombits(y)
		if sub {
			b = -b
		}
		s := a + b
		if !normal64(a) || !normal64(b) || !normal64(s) {
			return 0, false
		}
		if twoSumErr(a, b, s) != 0 {
			e.post |= mxPE
		}
		return math.Float64bits(s), true
	}
	a, b := math.Float32frombits(uint32(x)), math.Float32frombits(uint32(y))
	if sub {
		b = -b
	}
	if !normal32(a) || !normal32(b) {
		return 0, false
	}
	a64, b64 := float64(a), float64(b)
	s := a64 + b64
	r := float32(s)
	if !normal32(r) {
		return 0, false
	}
	if float64(r) != s || twoSumErr(a64, b64, s) != 0 {
		e.post |= mxPE
	}
	return uint64(math.Float32bits(r)), true
}

func fastMul(e *fpEnv, f *fpFormat, x, y uint64) (uint64, bool) {
	if f == fmt64 {
		a, b := math.Float64frombits(x), math.Float64frombits(y)
		p := a * b
		if !normal64(a) || !normal64(b) || !normal64(p) {
			return 0, false
		}
		if math.FMA(a, b, -p) != 0 {
			e.post |= mxPE
		}
		return math.Float64bits(p), true
	}
	a, b := math.Float32frombits(uint32(x)), math.Float32frombits(uint32(y))
	if !normal32(a) || !normal32(b) {
		return 0, false
	}
	p := float64(a) * float64(b) // exact: 48 significant bits
	r := float32(p)
	if !normal32(r) {
		return 0, false
	}
	if float64(r) != p {
		e.post |= mxPE
	}
	return uint64(math.Float32bits(r)), true
}

func fastDiv(e *fpEnv, f *fpFormat, x, y uint64) (uint64, bool) {
	if f == fmt64 {
		a, b := math.Float64frombits(x), math.Float64frombits(y)
		q := a / b
		if !normal64(a) || !normal64(b) || !normal64(q) {
			return 0, false
		}
		if math.FMA(q, b, -a) != 0 {
			e.post |= mxPE
		}
		return math.Float64bits(q), true
	}
	a, b := math.Float32frombits(uint32(x)), math.Float32frombits(uint32(y))
	if !normal32(a) || !normal32(b) {
		return 0, false
	}
	r := float32(float64(a) / float64(b))
	if !normal32(r) {
		return 0, false
	}
	if math.FMA(float64(r), float64(b), -float64(a)) != 0 {
		e.post |= mxPE
	}
	return uint64(math.Float32bits(r)), true
}

// fpDone ends a floating-point instruction: it records the flags in MXCSR
// and raises #XM (or #UD without CR4.OSXMMEXCPT) for an unmasked exception,
// in which case the caller stores no result (SDM Vol. 1 §11.5.3.2). An
// unmasked pre-computation exception stops the instruction before any
// post-computation exception is looked for.
func (c *CPU) fpDone(e *fpEnv) {
	mx := &c.x87.fpu.MXCSR
	masks := *mx >> mxMaskShift & mxFlags
	if e.pre&^masks != 0 {
		*mx |= e.pre
		c.simdFault()
	}
	all := e.pre | e.post
	*mx |= all
	if all&^masks != 0 {
		c.simdFault()
	}
}

// simdFault raises the SIMD floating-point exception (SDM Vol. 3A §6.15,
// Interrupt 19: #UD instead when CR4.OSXMMEXCPT = 0).
func (c *CPU) simdFault() {
	if c.CR4&CR4OSXMMEXCPT == 0 {
		c.ud()
	}
	c.raise(ExcXM, 0, false)
}

// fpEnv starts a floating-point instruction. The environment lives in the
// CPU so that passing it to the lane functions allocates nothing.
func (c *CPU) fpEnv() *fpEnv {
	e := &c.sse.env
	*e = newFPEnv(c.x87.fpu.MXCSR)
	return e
}
