package cpu

import (
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// The oracle is math/big.Float: it rounds exactly in each of the IEEE modes
// at any precision, with an exponent range far wider than float80's, so for
// results in float80's normal range its rounding is the x87's.

var bigModes = [4]big.RoundingMode{f80Near: big.ToNearestEven, f80Down: big.ToNegativeInf, f80Up: big.ToPositiveInf, f80Chop: big.ToZero}

// f80Big returns a finite float80 exactly.
func f80Big(a float80) *big.Float {
	z := new(big.Float).SetPrec(64)
	if a.class() == c80Zero {
		if a.neg() {
			z.Neg(z)
		}
		return z
	}
	neg, e, m := a.unpack()
	z.SetUint64(m)
	z.SetMantExp(z, int(e)-63)
	if neg {
		z.Neg(z)
	}
	return z
}

// bigF80 converts a big.Float with at most 64 significant bits in the normal
// range to float80 exactly.
func bigF80(t *testing.T, z *big.Float) float80 {
	if z.Sign() == 0 {
		return f80Zero(z.Signbit())
	}
	m := new(big.Float)
	e := z.MantExp(m) // z = m × 2^e, 0.5 ≤ |m| < 1
	m.SetMantExp(m, 64)
	u, acc := new(big.Float).Abs(m).Uint64()
	if acc != big.Exact {
		t.Fatalf("bigF80: %v is not 64-bit", z)
	}
	be := e - 1 + f80Bias
	if be <= 0 || be >= f80ExpMax {
		t.Fatalf("bigF80: %v out of the normal range", z)
	}
	return float80{m: u, se: signBits(z.Signbit()) | uint16(be)}
}

// randF80 returns a random normal value with exponents around 1.
func randF80(r *rand.Rand, spread int) float80 {
	m := r.Uint64() | f80J
	switch r.Intn(6) {
	case 0:
		m = f80J | r.Uint64()>>uint(r.Intn(64)) // few low bits set
	case 1:
		m = ^uint64(0) << uint(r.Intn(40)) // runs of ones
	}
	e := f80Bias + r.Intn(2*spread+1) - spread
	return float80{m: m, se: signBits(r.Intn(2) == 0) | uint16(e)}
}

func TestFloat80ArithmeticAgainstBig(t *testing.T) {
	r := rand.New(rand.NewSource(80))
	precs := []uint8{64, 53, 24}
	for n := 0; n < 40000; n++ {
		a, b := randF80(r, 70), randF80(r, 70)
		if n%3 == 0 { // close exponents: cancellation
			b.se = b.se&0x8000 | a.se&0x7FFF + uint16(r.Intn(3))
		}
		rc := uint8(r.Intn(4))
		prec := precs[r.Intn(3)]
		op := r.Intn(5)
		env := &fenv{rc: rc, prec: prec, mask: feAll}
		z := new(big.Float).SetPrec(uint(prec)).SetMode(bigModes[rc])
		var got float80
		switch op {
		case 0:
			got = env.add(a, b, false)
			z.Add(f80Big(a), f80Big(b))
		case 1:
			got = env.add(a, b, true)
			z.Sub(f80Big(a), f80Big(b))
		case 2:
			got = env.mul(a, b)
			z.Mul(f80Big(a), f80Big(b))
		case 3:
			got = env.div(a, b)
			z.Quo(f80Big(a), f80Big(b))
		case 4:
			a = a.abs()
			got = env.sqrt(a)
			z = bigSqrt(f80Big(a), uint(prec), bigModes[rc])
		}
		var want float80
		if z.Sign() == 0 {
			want = f80Zero(rc == f80Down)
		} else {
			want = bigF80(t, z)
		}
		exact := z.Acc() == big.Exact
		if op == 4 {
			exact = bigExactSqrt(f80Big(a), z)
		}
		if got != want {
			t.Fatalf("op %d rc %d pc %d: %04x.%016x, %04x.%016x: got %04x.%016x want %04x.%016x",
				op, rc, prec, a.se, a.m, b.se, b.m, got.se, got.m, want.se, want.m)
		}
		if (env.flags&fePE != 0) == exact {
			t.Fatalf("op %d rc %d pc %d: %04x.%016x, %04x.%016x: PE %v, exact %v", op, rc, prec, a.se, a.m, b.se, b.m, env.flags&fePE != 0, exact)
		}
		if op != 4 && !exact {
			up := (z.Acc() == big.Above) != z.Signbit()
			if env.up != up {
				t.Fatalf("op %d: C1 %v want %v", op, env.up, up)
			}
		}
		if env.flags&^fePE != 0 {
			t.Fatalf("op %d: unexpected flags %#x", op, env.flags)
		}
	}
}

// bigSqrt rounds √x correctly at prec bits in mode, by bracketing the
// candidate from a wider computation with exact squares.
func bigSqrt(x *big.Float, prec uint, mode big.RoundingMode) *big.Float {
	wide := new(big.Float).SetPrec(prec + 70).Sqrt(x)
	z := new(big.Float).SetPrec(prec).SetMode(mode).Set(wide)
	return z
}

// bigExactSqrt reports whether z² = x exactly.
func bigExactSqrt(x, z *big.Float) bool {
	sq := new(big.Float).SetPrec(300).Mul(z, z)
	return sq.Cmp(x) == 0
}

func TestFloat80SqrtBrackets(t *testing.T) {
	// √x rounded down must satisfy z² ≤ x < (z+ulp)², checked exactly.
	r := rand.New(rand.NewSource(2))
	for n := 0; n < 5000; n++ {
		a := randF80(r, 5000).abs()
		env := &fenv{rc: f80Chop, prec: 64, mask: feAll}
		z := f80Big(env.sqrt(a))
		x := f80Big(a)
		ulp := new(big.Float).SetMantExp(big.NewFloat(1), z.MantExp(nil)-64)
		z2 := new(big.Float).SetPrec(400).Mul(z, z)
		zu := new(big.Float).SetPrec(400).Add(z, ulp)
		zu2 := new(big.Float).SetPrec(800).Mul(zu, zu)
		if z2.Cmp(x) > 0 || zu2.Cmp(x) <= 0 {
			t.Fatalf("sqrt %04x.%016x not bracketed", a.se, a.m)
		}
	}
}

func TestFloat80Specials(t *testing.T) {
	env := newFenv(f80Near)
	inf, ninf := f80Inf(false), f80Inf(true)
	snan := float80{m: f80J | 1, se: 0x7FFF}
	qnan := float80{m: f80J | f80Quiet | 5, se: 0x7FFF}
	one := f80One
	zero := f80Zero(false)
	cases := []struct {
		name  string
		got   func(e *fenv) float80
		want  float80
		flags uint8
	}{
		{"inf-inf", func(e *fenv) float80 { return e.add(inf, inf, true) }, f80Indefinite, feIE},
		{"inf+inf", func(e *fenv) float80 { return e.add(inf, inf, false) }, inf, 0},
		{"0*inf", func(e *fenv) float80 { return e.mul(zero, ninf) }, f80Indefinite, feIE},
		{"0/0", func(e *fenv) float80 { return e.div(zero, zero) }, f80Indefinite, feIE},
		{"1/0", func(e *fenv) float80 { return e.div(one, zero) }, inf, feZE},
		{"-1/0", func(e *fenv) float80 { return e.div(one.chs(), zero) }, ninf, feZE},
		{"sqrt(-1)", func(e *fenv) float80 { return e.sqrt(one.chs()) }, f80Indefinite, feIE},
		{"sqrt(-0)", func(e *fenv) float80 { return e.sqrt(zero.chs()) }, zero.chs(), 0},
		{"snan+1", func(e *fenv) float80 { return e.add(snan, one, false) }, snan.quiet(), feIE},
		{"qnan+1", func(e *fenv) float80 { return e.add(one, qnan, false) }, qnan, 0},
		{"snan+qnan", func(e *fenv) float80 { return e.add(snan, qnan, false) }, qnan, feIE},
		{"unnormal", func(e *fenv) float80 { return e.add(float80{m: 1, se: 0x4000}, one, false) }, f80Indefinite, feIE},
		{"1-1", func(e *fenv) float80 { return e.add(one, one, true) }, zero, 0},
		{"overflow", func(e *fenv) float80 {
			return e.mul(float80{m: f80J, se: 0x7FFE}, float80{m: f80J, se: 0x4000})
		}, inf, feOE | fePE},
		// The smallest denormal halved: a tie, rounded to even (zero); tiny and inexact.
		{"underflow", func(e *fenv) float80 { return e.mul(float80{m: 1}, float80{m: f80J, se: f80Bias - 1}) }, zero, feUE | fePE | feDE},
		// Denormal result, exact: no UE when masked.
		{"exact denormal", func(e *fenv) float80 { return e.mul(float80{m: f80J, se: 1}, float80{m: f80J, se: f80Bias - 3}) }, float80{m: f80J >> 3}, 0},
	}
	for _, tc := range cases {
		e := newFenv(f80Near)
		got := tc.got(e)
		if got != tc.want || e.flags != tc.flags {
			t.Errorf("%s: got %04x.%016x flags %#x, want %04x.%016x flags %#x", tc.name, got.se, got.m, e.flags, tc.want.se, tc.want.m, tc.flags)
		}
	}
	// -0 from x - x when rounding down.
	env.rc = f80Down
	if got := env.add(one, one, true); got != zero.chs() {
		t.Errorf("1-1 rounding down: %04x", got.se)
	}
}

func TestFloat80UnmaskedOverflowBiasAdjust(t *testing.T) {
	// SDM Vol. 1 §8.5.4.2: the result is divided by 2^24576.
	env := &fenv{rc: f80Near, prec: 64, mask: feAll &^ feOE}
	got := env.mul(float80{m: f80J, se: 0x7FFE}, float80{m: f80J, se: 0x4001})
	want := float80{m: f80J, se: 0x7FFE + 2 - biasAdj}
	if got != want || env.flags != feOE {
		t.Fatalf("got %04x.%016x flags %#x", got.se, got.m, env.flags)
	}
	env = &fenv{rc: f80Near, prec: 64, mask: feAll &^ feUE}
	got = env.mul(float80{m: f80J, se: 1}, float80{m: f80J, se: f80Bias - 3})
	want = float80{m: f80J, se: 1 - 3 + biasAdj}
	if got != want || env.flags != feUE {
		t.Fatalf("underflow: got %04x.%016x flags %#x", got.se, got.m, env.flags)
	}
}

func TestFloat80ConversionsAgainstGo(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for n := 0; n < 20000; n++ {
		a := randF80(r, 1100)
		if n%4 == 0 {
			a = randF80(r, 40)
			a.se = a.se&0x8000 | uint16(f80Bias-1022-r.Intn(60)) // float64 denormal range
		}
		env := newFenv(f80Near)
		got := env.toFloat64(a)
		want, acc := f80Big(a).Float64()
		if got != math.Float64bits(want) {
			t.Fatalf("toFloat64 %04x.%016x: got %016x want %016x", a.se, a.m, got, math.Float64bits(want))
		}
		if (env.flags&fePE != 0) != (acc != big.Exact) {
			t.Fatalf("toFloat64 %04x.%016x: PE %v acc %v", a.se, a.m, env.flags&fePE != 0, acc)
		}
		// Back: exact.
		env = newFenv(f80Near)
		back := env.fromFloat64(got)
		if !math.IsInf(want, 0) && want != 0 && f80Big(back).Cmp(big.NewFloat(want)) != 0 {
			t.Fatalf("fromFloat64 %016x: %04x.%016x", got, back.se, back.m)
		}
		b := randF80(r, 160)
		env = newFenv(f80Near)
		g32 := env.toFloat32(b)
		w32, _ := f80Big(b).Float32()
		if g32 != math.Float32bits(w32) {
			t.Fatalf("toFloat32 %04x.%016x: got %08x want %08x", b.se, b.m, g32, math.Float32bits(w32))
		}
		if back := newFenv(f80Near).fromFloat32(g32); !math.IsInf(float64(w32), 0) && w32 != 0 && f80Big(back).Cmp(big.NewFloat(float64(w32))) != 0 {
			t.Fatalf("fromFloat32 %08x", g32)
		}
	}
	// An SNaN converts as an SNaN (FLD quiets it); denormals raise DE.
	env := newFenv(f80Near)
	if v := env.fromFloat64(0x7FF0000000000001); v.class() != c80SNaN || env.flags != 0 {
		t.Errorf("SNaN load: %v %#x", v.class(), env.flags)
	}
	env = newFenv(f80Near)
	if v := env.fromFloat32(1); f80Big(v).Cmp(big.NewFloat(float64(math.SmallestNonzeroFloat32))) != 0 || env.flags != feDE {
		t.Errorf("denormal load: %#x", env.flags)
	}
	if got := newFenv(f80Near).toFloat64(f80Indefinite); got != 0xFFF8000000000000 {
		t.Errorf("indefinite to double: %016x", got)
	}
}

func TestFloat80IntegerConversions(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for n := 0; n < 20000; n++ {
		a := randF80(r, 0)
		a.se = a.se&0x8000 | uint16(f80Bias+r.Intn(70)-4)
		rc := uint8(r.Intn(4))
		size := []int{2, 4, 8}[r.Intn(3)]
		env := newFenv(rc)
		got := env.toInt(a, size, false)
		// Round to an integer in the mode: through big.Int with an explicit rule.
		want, exact := bigRoundInt(f80Big(a), rc)
		lim := new(big.Int).Lsh(big.NewInt(1), uint(size*8-1))
		inRange := want.Cmp(new(big.Int).Neg(lim)) >= 0 && want.Cmp(lim) < 0
		if !inRange {
			if got != -1<<(size*8-1) || env.flags != feIE {
				t.Fatalf("toInt %04x.%016x size %d: got %d flags %#x, want indefinite", a.se, a.m, size, got, env.flags)
			}
			continue
		}
		if got != want.Int64() || (env.flags == fePE) == exact {
			t.Fatalf("toInt %04x.%016x rc %d: got %d flags %#x want %v exact %v", a.se, a.m, rc, got, env.flags, want, exact)
		}
		if rf := newFenv(rc).roundInt(a); f80Big(rf).Cmp(new(big.Float).SetInt(want)) != 0 {
			t.Fatalf("roundInt %04x.%016x rc %d", a.se, a.m, rc)
		}
	}
	for _, v := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 12345678901} {
		if got := newFenv(f80Near).toInt(fromInt64(v), 8, false); got != v {
			t.Errorf("int64 round trip %d: %d", v, got)
		}
	}
	// BCD.
	for _, v := range []int64{0, 7, -42, 999999999999999999, -123456789012345678} {
		b := newFenv(f80Near).toBCD(fromInt64(v))
		if back := fromBCD(b); back != fromInt64(v) && !(v == 0) {
			t.Errorf("BCD %d: % x", v, b)
		}
	}
	env := newFenv(f80Near)
	if b := env.toBCD(fromInt64(1e18)); b != [10]byte{7: 0xC0, 8: 0xFF, 9: 0xFF} || env.flags != feIE {
		t.Errorf("BCD out of range: % x %#x", b, env.flags)
	}
	if b := newFenv(f80Near).toBCD(fromInt64(-1234)); b != [10]byte{0x34, 0x12, 9: 0x80} {
		t.Errorf("BCD -1234: % x", b)
	}
}

// bigRoundInt rounds x to an integer by rc; exact reports no rounding.
func bigRoundInt(x *big.Float, rc uint8) (*big.Int, bool) {
	tr, _ := x.Int(nil) // toward zero
	frac := new(big.Float).Sub(x, new(big.Float).SetInt(tr))
	if frac.Sign() == 0 {
		return tr, true
	}
	half := new(big.Float).Abs(frac).Cmp(big.NewFloat(0.5))
	away := false
	switch rc {
	case f80Near:
		away = half > 0 || half == 0 && tr.Bit(0) == 1
	case f80Down:
		away = x.Sign() < 0
	case f80Up:
		away = x.Sign() > 0
	}
	if away {
		tr.Add(tr, big.NewInt(int64(x.Sign())))
	}
	return tr, false
}

func TestFloat80Remainder(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for n := 0; n < 20000; n++ {
		a, b := randF80(r, 30), randF80(r, 30)
		nearest := r.Intn(2) == 0
		env := newFenv(f80Near)
		got, q, partial := env.rem(a, b, nearest)
		if partial {
			t.Fatalf("partial with small exponents")
		}
		ba, bb := f80Big(a), f80Big(b)
		quo := new(big.Float).SetPrec(2000).Quo(ba, bb)
		qi, _ := quo.Int(nil)
		rem := new(big.Float).SetPrec(2000).Sub(ba, new(big.Float).SetPrec(2000).Mul(new(big.Float).SetInt(qi), bb))
		if nearest {
			c := new(big.Float).SetPrec(2000).Abs(rem)
			c.Mul(c, big.NewFloat(2))
			cmp := c.Cmp(new(big.Float).Abs(bb))
			if cmp > 0 || cmp == 0 && qi.Bit(0) == 1 {
				s := int64(quo.Sign())
				qi.Add(qi, big.NewInt(s))
				rem.Sub(ba, new(big.Float).SetPrec(2000).Mul(new(big.Float).SetInt(qi), bb))
			}
		}
		if rem.Sign() == 0 {
			rem.SetInt64(0)
			if a.neg() {
				rem.Neg(rem)
			}
		}
		if f80Big(got).Cmp(rem) != 0 || got.neg() != rem.Signbit() {
			t.Fatalf("rem(%04x.%016x, %04x.%016x, %v) = %04x.%016x want %v", a.se, a.m, b.se, b.m, nearest, got.se, got.m, rem)
		}
		if uq := new(big.Int).Abs(qi).Uint64() & 7; uq != q {
			t.Fatalf("rem quotient bits %d want %d", q, uq)
		}
		if env.flags != 0 {
			t.Fatalf("rem flags %#x", env.flags)
		}
	}
	// Partial reduction: exponent difference of 64 or more sets C2 and keeps the value's class.
	env := newFenv(f80Near)
	_, _, partial := env.rem(float80{m: f80J | 12345, se: f80Bias + 100}, f80One, false)
	if !partial {
		t.Errorf("no partial remainder for a difference of 100")
	}
}

func TestFloat80ScaleXtractConstants(t *testing.T) {
	env := newFenv(f80Near)
	if got := env.scale(f80One, fromInt64(-3).chs().chs()); got != (float80{m: f80J, se: f80Bias - 3}) {
		t.Errorf("fscale: %04x.%016x", got.se, got.m)
	}
	e, s := env.xtract(fromInt64(-24))
	if e != fromInt64(4) || s != (float80{m: 0xC000000000000000, se: 0x8000 | f80Bias}) {
		t.Errorf("fxtract: %v %v", e, s)
	}
	// FLDPI in the four rounding modes (QEMU and silicon: …C235 nearest).
	want := [4]uint64{0xC90FDAA22168C235, 0xC90FDAA22168C234, 0xC90FDAA22168C235, 0xC90FDAA22168C234}
	for rc := uint8(0); rc < 4; rc++ {
		if got := newFenv(rc).constant(2); got.m != want[rc] || got.se != 0x4000 {
			t.Errorf("FLDPI rc %d: %04x.%016x", rc, got.se, got.m)
		}
	}
	if got := newFenv(f80Near).constant(1); got.m != 0xB8AA3B295C17F0BC {
		t.Errorf("FLDL2E: %016x", got.m)
	}
}

// TestX87TranscendentalPrecision documents the narrower choice for FSIN,
// FCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1: they are computed in float64,
// so their significands have at most 53 significant bits (the low 11 of the
// 64 are zero), where a correctly rounded 80-bit result generally has 64.
// The error is at most about 2^-52 relative instead of 2^-64.
func TestX87TranscendentalPrecision(t *testing.T) {
	env := newFenv(f80Near)
	x := fromInt64(1)                   // sin(1) = 0.84147098480789650665250…
	got := env.trans(x, math.Sin, true) // through float64
	exact, _ := new(big.Float).SetString("0.8414709848078965066525023216302989996225630607983710656727517099")
	want := new(big.Float).SetPrec(64).Set(exact) // the correctly rounded 80-bit value
	w := bigF80(t, want)
	if got == w {
		t.Fatalf("sin(1) through float64 equals the 80-bit result; update this test")
	}
	if got.m&0x7FF != 0 || w.m&0x7FF == 0 {
		t.Fatalf("expected 53 significant bits: got %016x, 80-bit %016x", got.m, w.m)
	}
	diff := int64(got.m - w.m)
	if diff < -(1<<11) || diff > 1<<11 {
		t.Fatalf("sin(1) off by %d units of 2^-64", diff)
	}
	if env.flags != fePE {
		t.Fatalf("flags %#x", env.flags)
	}
}
