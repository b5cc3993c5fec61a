package cpu

import "math"

// The x87 instructions by escape opcode and ModRM (SDM Vol. 2A §A.4.2,
// Tables; the instruction pages of Vol. 2A–2C).

// Memory operand formats of the escape opcodes.
const (
	mF32 = iota
	mF64
	mF80
	mI16
	mI32
	mI64
)

// readMemReal reads a real or integer memory operand as an 80-bit value;
// IE (SNaN) and DE (denormal) of the conversion go to env.
func (c *CPU) readMemReal(in *inst, env *fenv, kind int) float80 {
	s, off := int(in.seg), c.ea(in)
	switch kind {
	case mF32:
		return env.fromFloat32(c.read32(s, off))
	case mF64:
		return env.fromFloat64(c.read64(s, off))
	case mF80:
		m := c.read64(s, off)
		return float80{m: m, se: c.read16(s, off+8)}
	case mI16:
		return fromInt64(int64(int16(c.read16(s, off))))
	case mI32:
		return fromInt64(int64(int32(c.read32(s, off))))
	}
	return fromInt64(int64(c.read64(s, off)))
}

// arith computes a op b for the arithmetic /digits: 0 add, 1 mul, 4 a−b,
// 5 b−a, 6 a÷b, 7 b÷a.
func x87Arith(env *fenv, op uint8, a, b float80) float80 {
	switch op {
	case 0:
		return env.add(a, b, false)
	case 1:
		return env.mul(a, b)
	case 4:
		return env.add(a, b, true)
	case 5:
		return env.add(b, a, true)
	case 6:
		return env.div(a, b)
	}
	return env.div(b, a)
}

// pushCheck checks that ST(7) is empty before a push; on stack overflow the
// masked response pushes the indefinite (SDM Vol. 1 §8.5.1.1). It reports
// whether the push may go on.
func (x *x87State) pushCheck() bool {
	if !x.empty(7) {
		if x.stackFault(true) {
			x.push(f80Indefinite)
		}
		return false
	}
	return true
}

// pushCheck2 is pushCheck for the instructions that replace ST(0) and push
// (FXTRACT, FPTAN, FSINCOS): the masked overflow response puts the
// indefinite in both (as the host x87 does).
func (x *x87State) pushCheck2() bool {
	if !x.empty(7) {
		if x.stackFault(true) {
			x.set(0, f80Indefinite)
			x.push(f80Indefinite)
		}
		return false
	}
	return true
}

// setCompare sets C3, C2, C0 from a comparison, C1 = 0 (SDM Vol. 2A FCOM).
func (x *x87State) setCompare(r int) {
	switch r {
	case f80Greater:
		x.setCC(false, false, false, false)
	case f80Less:
		x.setCC(false, false, false, true)
	case f80Equal:
		x.setCC(true, false, false, false)
	default:
		x.setCC(true, true, false, true)
	}
}

// arithMem: D8, DA, DC, DE memory forms (FADD … FIDIVR with m32fp,
// m32int, m64fp, m16int).
func arithMem(kind int) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		env := x.env()
		src := c.readMemReal(in, env, kind)
		// A denormal m32/m64 operand raises DE unless a NaN in ST(0) or a
		// divide by zero outranks it (SDM Vol. 1 §4.9.2).
		srcDE := env.flags&feDE != 0
		env.flags &^= feDE
		op := in.reg & 7
		if x.empty(0) {
			if x.stackFault(false) {
				if op == 2 || op == 3 {
					x.setCompare(f80Unordered)
					if op == 3 {
						x.pop()
					}
				} else {
					x.set(0, f80Indefinite)
				}
			}
			return
		}
		if op == 2 || op == 3 {
			r := env.compare(x.get(0), src, true)
			addDE(env, srcDE, x.get(0))
			if x.done(env) {
				x.setCompare(r)
				if op == 3 {
					x.pop()
				}
			}
			return
		}
		r := x87Arith(env, op, x.get(0), src)
		addDE(env, srcDE, x.get(0))
		if x.done(env) {
			x.set(0, r)
		}
	}
}

func addDE(env *fenv, srcDE bool, st0 float80) {
	if srcDE && !st0.class().special() && env.flags&feZE == 0 {
		env.flags |= feDE
	}
}

// arithReg: ST(dst) ← ST(dst) op ST(other), then pop if asked.
func (c *CPU) arithReg(op uint8, dst, other int, pop bool) {
	x := &c.x87
	if x.empty(dst) || x.empty(other) {
		if x.stackFault(false) {
			x.set(dst, f80Indefinite)
			if pop {
				x.pop()
			}
		}
		return
	}
	env := x.env()
	r := x87Arith(env, op, x.get(dst), x.get(other))
	if x.done(env) {
		x.set(dst, r)
		if pop {
			x.pop()
		}
	}
}

// compareReg compares ST(0) with ST(i) into C3, C2, C0 and pops n times
// (FCOM, FCOMP, FCOMPP, FUCOM, FUCOMP, FUCOMPP).
func (c *CPU) compareReg(i int, ordered bool, pops int) {
	x := &c.x87
	r := f80Unordered
	if x.empty(0) || x.empty(i) {
		if !x.stackFault(false) {
			return
		}
	} else {
		env := x.env()
		r = env.compare(x.get(0), x.get(i), ordered)
		if !x.done(env) {
			return
		}
	}
	x.setCompare(r)
	for ; pops > 0; pops-- {
		x.pop()
	}
}

// compareEFLAGS is FCOMI, FCOMIP, FUCOMI, FUCOMIP: ZF, PF, CF from the
// comparison, OF, SF, AF cleared (SDM Vol. 2A FCOMI).
func (c *CPU) compareEFLAGS(i int, ordered, pop bool) {
	x := &c.x87
	r := f80Unordered
	if x.empty(0) || x.empty(i) {
		if !x.stackFault(false) {
			return
		}
	} else {
		env := x.env()
		r = env.compare(x.get(0), x.get(i), ordered)
		c1 := x.fpu.FSW & fswC1
		if !x.done(env) {
			return
		}
		x.fpu.FSW |= c1 // C1 unchanged but for a stack fault (host x87)
	}
	var f uint32
	switch r {
	case f80Less:
		f = FlagCF
	case f80Equal:
		f = FlagZF
	case f80Unordered:
		f = FlagZF | FlagPF | FlagCF
	}
	c.setArith(FlagZF|FlagPF|FlagCF|FlagOF|FlagSF|FlagAF, f)
	if pop {
		x.pop()
	}
}

// fld pushes a memory operand (FLD m32/m64/m80fp, FILD m16/m32/m64int, FBLD).
func fldMem(kind int) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		env := x.env()
		v := c.readMemReal(in, env, kind)
		if v.class() == c80SNaN { // FLD m32/m64fp quiets an SNaN (not m80fp)
			if kind != mF80 {
				env.flags |= feIE
				v = v.quiet()
			}
		}
		if !x.pushCheck() {
			return
		}
		if x.done(env) {
			x.push(v)
		}
	}
}

func opFBLD(c *CPU, in *inst) {
	x := &c.x87
	var b [10]byte
	s, off := int(in.seg), c.ea(in)
	for i := range b {
		b[i] = c.read8(s, off+uint64(i))
	}
	if !x.pushCheck() {
		return
	}
	x.setC1(false)
	x.push(fromBCD(b))
}

// stMem stores ST(0) to memory and pops if asked: FST/FSTP m32/m64/m80fp,
// FIST/FISTP m16/m32/m64int, FISTTP, FBSTP. An unmasked exception stores
// nothing and does not pop (SDM Vol. 1 §8.5.4.2, §8.5.5.2 for stores).
func stMem(kind int, pop, truncate bool) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		env := x.env()
		v := f80Indefinite
		if x.empty(0) {
			if !x.stackFault(false) {
				return
			}
			env.flags = 0
			env.mask = feAll
		} else {
			v = x.get(0)
		}
		s, off := int(in.seg), c.ea(in)
		var u uint64
		switch kind {
		case mF32:
			u = uint64(env.toFloat32(v))
		case mF64:
			u = env.toFloat64(v)
		case mI16, mI32, mI64:
			size := [...]int{mI16: 2, mI32: 4, mI64: 8}[kind]
			u = uint64(env.toInt(v, size, truncate))
		}
		if env.flags&^env.mask&(feIE|feDE|feOE|feUE) != 0 {
			x.done(env)
			return
		}
		switch kind {
		case mF32, mI32:
			c.write32(s, off, uint32(u))
		case mF64, mI64:
			c.write64(s, off, u)
		case mI16:
			c.write16(s, off, uint16(u))
		case mF80:
			c.linW(s, off, 10)
			c.write64(s, off, v.m)
			c.write16(s, off+8, v.se)
		}
		x.done(env)
		if pop {
			x.pop()
		}
	}
}

func opFBSTP(c *CPU, in *inst) {
	x := &c.x87
	env := x.env()
	v := f80Indefinite
	if x.empty(0) {
		if !x.stackFault(false) {
			return
		}
		env.mask = feAll
	} else {
		v = x.get(0)
	}
	b := env.toBCD(v)
	if env.flags&^env.mask&(feIE|feDE) != 0 {
		x.done(env)
		return
	}
	s, off := int(in.seg), c.ea(in)
	c.linW(s, off, 10)
	for i := range b {
		c.write8(s, off+uint64(i), b[i])
	}
	x.done(env)
	x.pop()
}

// unary applies f to ST(0) (FCHS, FABS, FSQRT, FRNDINT).
func x87Unary(f func(env *fenv, a float80) float80) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		if x.empty(0) {
			if x.stackFault(false) {
				x.set(0, f80Indefinite)
			}
			return
		}
		env := x.env()
		r := f(env, x.get(0))
		if x.done(env) {
			x.set(0, r)
		}
	}
}

// loadConst pushes a constant (FLD1, FLDZ, FLDPI, …; SDM Vol. 1 §8.3.8).
func loadConst(k int) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		if !x.pushCheck() {
			return
		}
		x.setC1(false)
		switch k {
		case -1:
			x.push(f80One)
		case -2:
			x.push(f80Zero(false))
		default:
			x.push(x.env().constant(k))
		}
	}
}

// opFLDST is FLD ST(i). An empty ST(i) is a stack underflow: the masked
// response pushes the indefinite, without a second (overflow) fault, as the
// host x87 does.
func opFLDST(c *CPU, in *inst) {
	x := &c.x87
	i := int(in.rm & 7)
	if x.empty(i) {
		if x.stackFault(false) {
			x.push(f80Indefinite)
		}
		return
	}
	v := x.get(i)
	if !x.pushCheck() {
		return
	}
	x.setC1(false)
	x.push(v)
}

func opFXCH(c *CPU, in *inst) {
	x := &c.x87
	i := int(in.rm & 7)
	if x.empty(0) || x.empty(i) {
		if !x.stackFault(false) {
			return
		}
		for _, j := range []int{0, i} {
			if x.empty(j) {
				x.set(j, f80Indefinite)
			}
		}
	} else {
		x.setC1(false)
	}
	a, b := x.get(0), x.get(i)
	x.set(0, b)
	x.set(i, a)
}

// stReg is FST/FSTP ST(i).
func stReg(pop bool) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		i := int(in.rm & 7)
		v := x.get(0)
		if x.empty(0) {
			if !x.stackFault(false) {
				return
			}
			v = f80Indefinite
		} else {
			x.setC1(false)
		}
		x.set(i, v)
		if pop {
			x.pop()
		}
	}
}

// opFFREE empties ST(i); C1 is cleared (the SDM leaves C0–C3 undefined;
// this is the host x87's behaviour).
func opFFREE(c *CPU, in *inst) {
	x := &c.x87
	x.fpu.FTW &^= 1 << x.phys(int(in.rm&7))
	x.setC1(false)
}

// opFFREEP is the undocumented DF C0+i: FFREE ST(i), then pop.
func opFFREEP(c *CPU, in *inst) {
	opFFREE(c, in)
	c.x87.pop()
}

// fcmov is FCMOVcc (SDM Vol. 2A FCMOVcc): cc is an EFLAGS condition.
func fcmov(cc uint8) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		i := int(in.rm & 7)
		if x.empty(0) || x.empty(i) {
			if x.stackFault(false) {
				x.set(0, f80Indefinite)
			}
			return
		}
		if c.cond(cc) { // C1 unchanged (host x87)
			x.set(0, x.get(i))
		}
	}
}

func opFTST(c *CPU, in *inst) {
	x := &c.x87
	if x.empty(0) {
		if x.stackFault(false) {
			x.setCompare(f80Unordered)
		}
		return
	}
	env := x.env()
	r := env.compare(x.get(0), f80Zero(false), true)
	if x.done(env) {
		x.setCompare(r)
	}
}

// opFXAM classifies ST(0) into C3, C2, C0 with C1 = sign (SDM Vol. 2A FXAM).
func opFXAM(c *CPU, in *inst) {
	x := &c.x87
	v := x.get(0)
	s := v.neg()
	if x.empty(0) {
		x.setCC(true, false, s, true)
		return
	}
	switch v.class() {
	case c80Unsupported:
		x.setCC(false, false, s, false)
	case c80QNaN, c80SNaN:
		x.setCC(false, false, s, true)
	case c80Normal:
		x.setCC(false, true, s, false)
	case c80Inf:
		x.setCC(false, true, s, true)
	case c80Zero:
		x.setCC(true, false, s, false)
	case c80Denormal:
		x.setCC(true, true, s, false)
	}
}

func opFDECSTP(c *CPU, in *inst) {
	c.x87.setTop(c.x87.top() - 1)
	c.x87.setC1(false)
}

func opFINCSTP(c *CPU, in *inst) {
	c.x87.setTop(c.x87.top() + 1)
	c.x87.setC1(false)
}

func opFNOP(c *CPU, in *inst) {}

func opFNCLEX(c *CPU, in *inst) { c.x87.fpu.FSW &^= feAll | fswSF | fswES | fswB }

func opFNINIT(c *CPU, in *inst) { c.x87.fninit() }

// opFLDCW loads FCW; unmasking a pending exception makes the next waiting
// instruction raise it (SDM Vol. 1 §8.1.5, §8.6).
func opFLDCW(c *CPU, in *inst) {
	x := &c.x87
	x.fpu.FCW = fcwLoad(c.read16(int(in.seg), c.ea(in)))
	x.updateES()
}

// fcwLoad keeps the defined FCW bits: reserved bits 7 and 13–15 read as 0,
// bit 6 as 1 (measured on the host x87: FLDCW FFFFh gives 1F7Fh).
func fcwLoad(v uint16) uint16 { return v&0x1F3F | 0x40 }

func opFNSTCW(c *CPU, in *inst) { c.write16(int(in.seg), c.ea(in), c.x87.fpu.FCW) }

func opFNSTSWm(c *CPU, in *inst) { c.write16(int(in.seg), c.ea(in), c.x87.fpu.FSW) }

func opFNSTSWAX(c *CPU, in *inst) { c.setReg(2, EAX, uint64(c.x87.fpu.FSW)) }

// FPREM, FPREM1 (SDM Vol. 2A): C2 = incomplete; else C0, C3, C1 = Q2, Q1, Q0.
// With a NaN result (stack underflow, NaN or invalid operands) C2 and C1
// are cleared and C0, C3 kept, as the host x87 does (x87_hostdiff_test.go).
func fprem(nearest bool) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		if x.empty(0) || x.empty(1) {
			if x.stackFault(false) {
				x.set(0, f80Indefinite)
				x.fpu.FSW &^= fswC2
			}
			return
		}
		env := x.env()
		r, q, partial := env.rem(x.get(0), x.get(1), nearest)
		if !x.done(env) {
			return
		}
		x.set(0, r)
		switch {
		case r.isNaN():
			x.fpu.FSW &^= fswC2 | fswC1
		case partial:
			// C0, C1, C3 read as 0 after a partial reduction on the host x87.
			x.setCC(false, true, false, false)
		default:
			x.setCC(q&2 != 0, false, q&1 != 0, q&4 != 0)
		}
	}
}

func opFSCALE(c *CPU, in *inst) {
	x := &c.x87
	if x.empty(0) || x.empty(1) {
		if x.stackFault(false) {
			x.set(0, f80Indefinite)
		}
		return
	}
	env := x.env()
	r := env.scale(x.get(0), x.get(1))
	if x.done(env) {
		x.set(0, r)
	}
}

func opFXTRACT(c *CPU, in *inst) {
	x := &c.x87
	if x.empty(0) {
		if x.stackFault(false) {
			x.set(0, f80Indefinite)
			x.push(f80Indefinite) // no overflow check after an underflow (host x87)
		}
		return
	}
	if !x.pushCheck2() {
		return
	}
	env := x.env()
	e, s := env.xtract(x.get(0))
	if x.done(env) {
		x.set(0, e)
		x.push(s)
	}
}

// Transcendental instructions: computed through float64 (math package);
// see x87_test.go TestX87TranscendentalPrecision for where the results
// differ from correctly rounded 80-bit ones. PE is always raised for a
// nonzero argument (the results are irrational).

// trigRange checks FSIN, FCOS, FSINCOS, FPTAN's operand range |x| < 2^63
// (SDM Vol. 2A FSIN: outside, C2 = 1 and ST(0) unchanged).
func trigInRange(v float80) bool {
	return v.bexp() < f80Bias+63 || v.bexp() == f80ExpMax
}

// trans1 is FSIN, FCOS, F2XM1: ST(0) ← f(ST(0)); cos of 0 is 1 exactly.
func trans1(f func(float64) float64, trig bool) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		if x.empty(0) {
			if x.stackFault(false) {
				x.set(0, f80Indefinite)
			}
			return
		}
		v := x.get(0)
		if trig && !trigInRange(v) {
			x.fpu.FSW |= fswC2
			return
		}
		x.fpu.FSW &^= fswC2
		env := x.env()
		r := env.trans(v, f, trig)
		if x.done(env) {
			x.set(0, r)
		}
	}
}

// trans evaluates f at v through float64, with the special operands.
func (env *fenv) trans(v float80, f func(float64) float64, trig bool) float80 {
	switch k := v.class(); {
	case k.special():
		return env.nanResult(v, v, false)
	case k == c80Inf && trig:
		env.flags |= feIE
		return f80Indefinite
	case k == c80Denormal:
		env.flags |= feDE
	}
	y := f(v.toF64())
	r := fromF64(y)
	if v.class() != c80Zero || y != f(0) {
		env.flags |= fePE
	}
	return r
}

// trigPush is the shared part of FPTAN and FSINCOS, which replace ST(0)
// and push a second result: f gives (new ST(1), pushed ST(0)).
func trigPush(c *CPU, f func(env *fenv, v float80) (float80, float80)) {
	x := &c.x87
	if x.empty(0) {
		if x.stackFault(false) {
			x.set(0, f80Indefinite)
			x.push(f80Indefinite) // no overflow check after an underflow (host x87)
		}
		return
	}
	v := x.get(0)
	if !trigInRange(v) {
		x.fpu.FSW |= fswC2
		return
	}
	if !x.pushCheck2() {
		return
	}
	x.fpu.FSW &^= fswC2
	env := x.env()
	r0, r1 := f(env, v)
	if x.done(env) {
		x.set(0, r0)
		x.push(r1)
	}
}

func opFPTAN(c *CPU, in *inst) {
	trigPush(c, func(env *fenv, v float80) (float80, float80) {
		return env.trans(v, math.Tan, true), f80One
	})
}

func opFSINCOS(c *CPU, in *inst) {
	trigPush(c, func(env *fenv, v float80) (float80, float80) {
		s := env.trans(v, math.Sin, true)
		return s, env.trans(v, math.Cos, true)
	})
}

// binaryPop is FPATAN, FYL2X, FYL2XP1: ST(1) ← f(ST(1), ST(0)), pop.
func binaryPop(f func(env *fenv, y, x float80) float80) handler {
	return func(c *CPU, in *inst) {
		x := &c.x87
		if x.empty(0) || x.empty(1) {
			if x.stackFault(false) {
				x.set(1, f80Indefinite)
				x.pop()
			}
			return
		}
		env := x.env()
		r := f(env, x.get(1), x.get(0))
		if x.done(env) {
			x.set(1, r)
			x.pop()
		}
	}
}

// scaledF64 returns a and b as float64 after scaling both by the same power
// of two, so that their ratio survives float64's exponent range.
func scaledF64(a, b float80) (float64, float64) {
	finite := func(v float80) bool { k := v.class(); return k == c80Normal || k == c80Denormal }
	e := int32(math.MinInt32)
	for _, v := range []float80{a, b} {
		if finite(v) {
			if _, ve, _ := v.unpack(); ve > e {
				e = ve
			}
		}
	}
	conv := func(v float80) float64 {
		if !finite(v) {
			return v.toF64()
		}
		neg, ve, m := v.unpack()
		f := math.Ldexp(float64(m), int(ve-e)-63)
		if neg {
			f = -f
		}
		return f
	}
	return conv(a), conv(b)
}

func fpatan(env *fenv, y, x float80) float80 {
	ky, kx := y.class(), x.class()
	if ky.special() || kx.special() {
		return env.nanResult(y, x, true)
	}
	env.denormCheck(ky, kx)
	fy, fx := scaledF64(y, x)
	r := math.Atan2(fy, fx)
	if !(ky == c80Zero && !x.neg()) {
		env.flags |= fePE
	}
	return fromF64(r)
}

// log2Of returns log2(x) for a finite positive x, exactly split into the
// exponent and log2 of the significand in [1, 2).
func log2Of(x float80) float80 {
	_, e, m := x.unpack()
	frac := math.Log2(float64(m>>11) / (1 << 52))
	env := newFenv(f80Near)
	return env.add(fromInt64(int64(e)), fromF64(frac), false)
}

func fyl2x(env *fenv, y, x float80) float80 {
	ky, kx := y.class(), x.class()
	if ky.special() || kx.special() {
		return env.nanResult(y, x, true)
	}
	env.denormCheck(ky, kx)
	switch {
	case x.neg() && kx != c80Zero:
		env.flags |= feIE
		return f80Indefinite
	case kx == c80Zero:
		if ky == c80Zero {
			env.flags |= feIE
			return f80Indefinite
		}
		env.flags |= feZE
		return f80Inf(!y.neg())
	case kx == c80Inf:
		if ky == c80Zero {
			env.flags |= feIE
			return f80Indefinite
		}
		return f80Inf(y.neg())
	}
	l := log2Of(x)
	if l.class() == c80Zero { // x = 1
		if ky == c80Inf {
			env.flags |= feIE
			return f80Indefinite
		}
		return f80Zero(y.neg())
	}
	env.flags |= fePE
	return env.mul(y, l)
}

func fyl2xp1(env *fenv, y, x float80) float80 {
	ky, kx := y.class(), x.class()
	if ky.special() || kx.special() {
		return env.nanResult(y, x, true)
	}
	env.denormCheck(ky, kx)
	if kx == c80Zero {
		if ky == c80Inf {
			env.flags |= feIE
			return f80Indefinite
		}
		return f80Zero(x.neg() != y.neg())
	}
	l := math.Log1p(x.toF64()) / math.Ln2
	env.flags |= fePE
	return env.mul(y, fromF64(l))
}

func f2xm1(v float64) float64 { return math.Expm1(v * math.Ln2) }

// registerX87Ops fills the escape tables.
func registerX87Ops() {
	arithKinds := [8]int{0: mF32, 2: mI32, 4: mF64, 6: mI16}
	for _, op := range []int{0, 2, 4, 6} {
		for r := 0; r < 8; r++ {
			x87Mem[op][r] = x87Op{fn: arithMem(arithKinds[op])}
		}
	}
	// Register forms of D8 (ST(0) op ST(i)), DC (ST(i) op ST(0)), DE (… and pop).
	swap := [8]uint8{0, 1, 2, 3, 5, 4, 7, 6}
	for r := uint8(0); r < 8; r++ {
		for i := 0; i < 8; i++ {
			r, i := r, i
			idx := int(r)<<3 | i
			switch r {
			case 2, 3:
				pops := int(r - 2)
				x87Reg[0][idx] = x87Op{fn: func(c *CPU, in *inst) { c.compareReg(i, true, pops) }}
				x87Reg[4][idx] = x87Reg[0][idx]                                                 // FCOM2, FCOMP3 (undocumented aliases)
				x87Reg[6][idx] = x87Op{fn: func(c *CPU, in *inst) { c.compareReg(i, true, 1) }} // FCOMP5
			default:
				x87Reg[0][idx] = x87Op{fn: func(c *CPU, in *inst) { c.arithReg(r, 0, i, false) }}
				x87Reg[4][idx] = x87Op{fn: func(c *CPU, in *inst) { c.arithReg(swap[r], i, 0, false) }}
				x87Reg[6][idx] = x87Op{fn: func(c *CPU, in *inst) { c.arithReg(swap[r], i, 0, true) }}
			}
		}
	}
	x87Reg[6][3<<3|1] = x87Op{fn: func(c *CPU, in *inst) { c.compareReg(1, true, 2) }} // FCOMPP
	for i := 0; i < 8; i++ {
		if i != 1 {
			x87Reg[6][3<<3|i] = x87Op{}
		}
	}

	// D9.
	x87Mem[1][0] = x87Op{fn: fldMem(mF32)}
	x87Mem[1][2] = x87Op{fn: stMem(mF32, false, false)}
	x87Mem[1][3] = x87Op{fn: stMem(mF32, true, false)}
	x87Mem[1][4] = x87Op{fn: opFLDENV, ctrl: true}
	x87Mem[1][5] = x87Op{fn: opFLDCW, ctrl: true}
	x87Mem[1][6] = x87Op{fn: opFNSTENV, ctrl: true, nowait: true}
	x87Mem[1][7] = x87Op{fn: opFNSTCW, ctrl: true, nowait: true}
	for i := 0; i < 8; i++ {
		x87Reg[1][0<<3|i] = x87Op{fn: opFLDST}
		x87Reg[1][1<<3|i] = x87Op{fn: opFXCH}
		x87Reg[1][3<<3|i] = x87Op{fn: stReg(true)} // FSTP1 (undocumented alias)
		x87Reg[5][1<<3|i] = x87Op{fn: opFXCH}      // FXCH4
		x87Reg[7][1<<3|i] = x87Op{fn: opFXCH}      // FXCH7
		x87Reg[7][2<<3|i] = x87Op{fn: stReg(true)} // FSTP8
		x87Reg[7][3<<3|i] = x87Op{fn: stReg(true)} // FSTP9
	}
	x87Reg[1][0x10] = x87Op{fn: opFNOP}
	d9 := map[int]handler{
		0x20: x87Unary(func(env *fenv, a float80) float80 { return a.chs() }),
		0x21: x87Unary(func(env *fenv, a float80) float80 { return a.abs() }),
		0x24: opFTST,
		0x25: opFXAM,
		0x28: loadConst(-1),
		0x29: loadConst(0),
		0x2A: loadConst(1),
		0x2B: loadConst(2),
		0x2C: loadConst(3),
		0x2D: loadConst(4),
		0x2E: loadConst(-2),
		0x30: trans1(f2xm1, false),
		0x31: binaryPop(fyl2x),
		0x32: opFPTAN,
		0x33: binaryPop(fpatan),
		0x34: opFXTRACT,
		0x35: fprem(true),
		0x36: opFDECSTP,
		0x37: opFINCSTP,
		0x38: fprem(false),
		0x39: binaryPop(fyl2xp1),
		0x3A: x87Unary(func(env *fenv, a float80) float80 { return env.sqrt(a) }),
		0x3B: opFSINCOS,
		0x3C: x87Unary(func(env *fenv, a float80) float80 { return env.roundInt(a) }),
		0x3D: opFSCALE,
		0x3E: trans1(math.Sin, true),
		0x3F: trans1(math.Cos, true),
	}
	for k, fn := range d9 {
		x87Reg[1][k] = x87Op{fn: fn}
	}

	// DA: FCMOVB, FCMOVE, FCMOVBE, FCMOVU; FUCOMPP.
	// DB: FCMOVNB, FCMOVNE, FCMOVNBE, FCMOVNU (EFLAGS conditions, Table B-1).
	ccs := [4]uint8{2, 4, 6, 10}
	for r := 0; r < 4; r++ {
		for i := 0; i < 8; i++ {
			x87Reg[2][r<<3|i] = x87Op{fn: fcmov(ccs[r])}
			x87Reg[3][r<<3|i] = x87Op{fn: fcmov(ccs[r] + 1)}
		}
	}
	x87Reg[2][5<<3|1] = x87Op{fn: func(c *CPU, in *inst) { c.compareReg(1, false, 2) }}

	// DB.
	x87Mem[3][0] = x87Op{fn: fldMem(mI32)}
	x87Mem[3][1] = x87Op{fn: stMem(mI32, true, true)} // FISTTP (SSE3)
	x87Mem[3][2] = x87Op{fn: stMem(mI32, false, false)}
	x87Mem[3][3] = x87Op{fn: stMem(mI32, true, false)}
	x87Mem[3][5] = x87Op{fn: fldMem(mF80)}
	x87Mem[3][7] = x87Op{fn: stMem(mF80, true, false)}
	x87Reg[3][0x20] = x87Op{fn: opFNOP, nowait: true, ctrl: true} // FENI (8087), a no-op since the 287
	x87Reg[3][0x21] = x87Op{fn: opFNOP, nowait: true, ctrl: true} // FDISI
	x87Reg[3][0x22] = x87Op{fn: opFNCLEX, nowait: true, ctrl: true}
	x87Reg[3][0x23] = x87Op{fn: opFNINIT, nowait: true, ctrl: true}
	x87Reg[3][0x24] = x87Op{fn: opFNOP, nowait: true, ctrl: true} // FSETPM (287), a no-op since the 387
	for i := 0; i < 8; i++ {
		i := i
		x87Reg[3][5<<3|i] = x87Op{fn: func(c *CPU, in *inst) { c.compareEFLAGS(i, false, false) }} // FUCOMI
		x87Reg[3][6<<3|i] = x87Op{fn: func(c *CPU, in *inst) { c.compareEFLAGS(i, true, false) }}  // FCOMI
		x87Reg[7][5<<3|i] = x87Op{fn: func(c *CPU, in *inst) { c.compareEFLAGS(i, false, true) }}  // FUCOMIP
		x87Reg[7][6<<3|i] = x87Op{fn: func(c *CPU, in *inst) { c.compareEFLAGS(i, true, true) }}   // FCOMIP
		x87Reg[5][0<<3|i] = x87Op{fn: opFFREE}
		x87Reg[5][2<<3|i] = x87Op{fn: stReg(false)}
		x87Reg[5][3<<3|i] = x87Op{fn: stReg(true)}
		x87Reg[5][4<<3|i] = x87Op{fn: func(c *CPU, in *inst) { c.compareReg(i, false, 0) }} // FUCOM
		x87Reg[5][5<<3|i] = x87Op{fn: func(c *CPU, in *inst) { c.compareReg(i, false, 1) }} // FUCOMP
		x87Reg[7][0<<3|i] = x87Op{fn: opFFREEP}
	}

	// DD.
	x87Mem[5][0] = x87Op{fn: fldMem(mF64)}
	x87Mem[5][1] = x87Op{fn: stMem(mI64, true, true)} // FISTTP m64int (SSE3)
	x87Mem[5][2] = x87Op{fn: stMem(mF64, false, false)}
	x87Mem[5][3] = x87Op{fn: stMem(mF64, true, false)}
	x87Mem[5][4] = x87Op{fn: opFRSTOR, ctrl: true}
	x87Mem[5][6] = x87Op{fn: opFNSAVE, ctrl: true, nowait: true}
	x87Mem[5][7] = x87Op{fn: opFNSTSWm, ctrl: true, nowait: true}

	// DF.
	x87Mem[7][0] = x87Op{fn: fldMem(mI16)}
	x87Mem[7][1] = x87Op{fn: stMem(mI16, true, true)} // FISTTP m16int (SSE3)
	x87Mem[7][2] = x87Op{fn: stMem(mI16, false, false)}
	x87Mem[7][3] = x87Op{fn: stMem(mI16, true, false)}
	x87Mem[7][4] = x87Op{fn: opFBLD}
	x87Mem[7][5] = x87Op{fn: fldMem(mI64)}
	x87Mem[7][6] = x87Op{fn: opFBSTP}
	x87Mem[7][7] = x87Op{fn: stMem(mI64, true, false)}
	x87Reg[7][0x20] = x87Op{fn: opFNSTSWAX, ctrl: true, nowait: true}
}
