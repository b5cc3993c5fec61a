package cpu

import "math"

// SSE/SSE2 floating-point instructions (SDM Vol. 2: ADDPS…XORPD; Vol. 1
// §10.4, §11.4). Packed forms (PS, PD) take an aligned xmm/m128 source;
// scalar forms (SS, SD) take xmm/m32 or xmm/m64 and keep the destination's
// upper lanes.

// fpLanes applies a per-lane operation under the instruction's form: 4 or
// 1 binary32 lanes, 2 or 1 binary64 lanes. src is only read for its lanes.
func (c *CPU) fpLanes(in *inst, op func(e *fpEnv, f *fpFormat, a, b uint64) uint64) {
	c.sseCheck()
	e := c.fpEnv()
	d := c.getX(in.reg)
	switch sseForm(in) {
	case formPS:
		s := c.readW(in, true)
		r0 := op(e, fmt32, d[0]&0xFFFFFFFF, s[0]&0xFFFFFFFF)
		r1 := op(e, fmt32, d[0]>>32, s[0]>>32)
		r2 := op(e, fmt32, d[1]&0xFFFFFFFF, s[1]&0xFFFFFFFF)
		r3 := op(e, fmt32, d[1]>>32, s[1]>>32)
		d = xmm{r0&0xFFFFFFFF | r1<<32, r2&0xFFFFFFFF | r3<<32}
	case formPD:
		s := c.readW(in, true)
		d[0] = op(e, fmt64, d[0], s[0])
		d[1] = op(e, fmt64, d[1], s[1])
	case formSS:
		s := c.readWd(in)
		d.setU32(0, uint32(op(e, fmt32, uint64(d.u32(0)), uint64(s))))
	case formSD:
		s := c.readWq(in)
		d[0] = op(e, fmt64, d[0], s)
	}
	c.fpDone(e)
	c.setX(in.reg, d)
}

var fpBinary = [0x60]func(e *fpEnv, f *fpFormat, a, b uint64) uint64{
	0x51: func(e *fpEnv, f *fpFormat, a, b uint64) uint64 { return e.sqrt(f, b) },
	0x58: func(e *fpEnv, f *fpFormat, a, b uint64) uint64 { return e.add(f, a, b, false) },
	0x59: func(e *fpEnv, f *fpFormat, a, b uint64) uint64 { return e.mul(f, a, b) },
	0x5C: func(e *fpEnv, f *fpFormat, a, b uint64) uint64 { return e.add(f, a, b, true) },
	0x5D: func(e *fpEnv, f *fpFormat, a, b uint64) uint64 { return e.minmax(f, a, b, false) },
	0x5E: func(e *fpEnv, f *fpFormat, a, b uint64) uint64 { return e.div(f, a, b) },
	0x5F: func(e *fpEnv, f *fpFormat, a, b uint64) uint64 { return e.minmax(f, a, b, true) },
}

// opFPArith: ADD, SUB, MUL, DIV, SQRT, MIN, MAX in the PS/PD/SS/SD forms.
func opFPArith(c *CPU, in *inst) { c.fpLanes(in, fpBinary[in.sub]) }

// opRcp: RCPPS/RCPSS (sub 0) and RSQRTPS/RSQRTSS (sub 1). The SDM asks for a
// relative error of at most 1.5 × 2^-12 and each processor has its own
// table; gemu returns the exactly rounded binary32 reciprocal, which is
// within that bound. Special cases follow the SDM: denormal operands are
// zeros, tiny results are flushed to zero, no MXCSR flag is set, RC is ignored.
func opRcp(c *CPU, in *inst) {
	f := rcp32
	if in.sub == 1 {
		f = rsqrt32
	}
	c.sseCheck()
	d := c.getX(in.reg)
	switch sseForm(in) {
	case formPS:
		s := c.readW(in, true)
		for i := 0; i < 4; i++ {
			d.setU32(i, f(s.u32(i)))
		}
	case formSS:
		d.setU32(0, f(c.readWd(in)))
	default:
		c.ud()
	}
	c.setX(in.reg, d)
}

func rcp32(x uint32) uint32 {
	sign := x & (1 << 31)
	switch e := x >> 23 & 0xFF; {
	case e == 0xFF && x&0x7FFFFF != 0: // NaN
		return x | 1<<22
	case e == 0xFF: // ±∞ → ±0
		return sign
	case e == 0: // ±0 and denormals → ±∞
		return sign | 0x7F800000
	case e >= 253: // |x| ≥ 2^126: a tiny result, flushed
		return sign
	}
	return math.Float32bits(float32(1 / float64(math.Float32frombits(x))))
}

func rsqrt32(x uint32) uint32 {
	sign := x & (1 << 31)
	switch e := x >> 23 & 0xFF; {
	case e == 0xFF && x&0x7FFFFF != 0:
		return x | 1<<22
	case e == 0: // ±0 and denormals → ±∞
		return sign | 0x7F800000
	case sign != 0:
		return 0xFFC00000
	case e == 0xFF:
		return 0
	}
	return math.Float32bits(float32(1 / math.Sqrt(float64(math.Float32frombits(x)))))
}

// opCMPP: CMPPS/CMPPD/CMPSS/CMPSD with predicate imm8[2:0]: EQ LT LE UNORD
// NEQ NLT NLE ORD (SDM Vol. 2A CMPPS, Table 3-1). LT, LE, NLT, NLE signal on
// QNaNs. A true lane is all ones.
func opCMPP(c *CPU, in *inst) {
	pred := in.imm & 7
	c.fpLanes(in, func(e *fpEnv, f *fpFormat, a, b uint64) uint64 {
		signaling := pred == 1 || pred == 2 || pred == 5 || pred == 6
		r := e.compare(f, a, b, signaling)
		var t bool
		switch pred & 3 {
		case 0:
			t = r == cmpEqual
		case 1:
			t = r == cmpLess
		case 2:
			t = r == cmpLess || r == cmpEqual
		case 3:
			t = r == cmpUnordered
		}
		if pred&4 != 0 {
			t = !t
		}
		if !t {
			return 0
		}
		return f.signBit<<1 - 1
	})
}

// opCOMIS: UCOMISS/UCOMISD (sub 0) and COMISS/COMISD (sub 1) set ZF, PF, CF
// (unordered 111, less 001, equal 100, greater 000) and clear OF, SF, AF.
func opCOMIS(c *CPU, in *inst) {
	c.sseCheck()
	e := c.fpEnv()
	var r int
	switch sseForm(in) {
	case formPS:
		r = e.compare(fmt32, uint64(uint32(c.getXLo(in.reg))), uint64(c.readWd(in)), in.sub == 1)
	case formPD:
		r = e.compare(fmt64, c.getXLo(in.reg), c.readWq(in), in.sub == 1)
	default:
		c.ud()
	}
	c.fpDone(e)
	c.setArith(ArithFlags, [4]uint32{FlagCF, FlagZF, 0, FlagZF | FlagPF | FlagCF}[r])
}

// Conversions (SDM Vol. 1 §11.4.2; Vol. 2 CVT*).

// opCvt2A: CVTPI2PS xmm,mm/m64; CVTPI2PD xmm,mm/m64; CVTSI2SS, CVTSI2SD xmm,r/m32.
func opCvt2A(c *CPU, in *inst) {
	c.sseCheck()
	e := c.fpEnv()
	d := c.getX(in.reg)
	switch sseForm(in) {
	case formPS, formPD:
		var s uint64
		if in.mem {
			s = c.read64(int(in.seg), c.ea(in))
		} else {
			c.mmxEnter()
			s = c.getMM(in.rm)
		}
		lo, hi := int64(int32(s)), int64(int32(s>>32))
		if sseForm(in) == formPS {
			d.setU32(0, uint32(e.fromInt(fmt32, lo)))
			d.setU32(1, uint32(e.fromInt(fmt32, hi)))
		} else {
			d = xmm{e.fromInt(fmt64, lo), e.fromInt(fmt64, hi)}
		}
	case formSS:
		d.setU32(0, uint32(e.fromInt(fmt32, c.readEyInt(in))))
	case formSD:
		d[0] = e.fromInt(fmt64, c.readEyInt(in))
	}
	c.fpDone(e)
	c.setX(in.reg, d)
}

// opCvt2D: CVT(T)PS2PI mm,xmm/m64; CVT(T)PD2PI mm,xmm/m128; CVT(T)SS2SI,
// CVT(T)SD2SI r32,xmm/m. sub 1 truncates.
func opCvt2D(c *CPU, in *inst) {
	c.sseCheck()
	e := c.fpEnv()
	trunc := in.sub == 1
	switch sseForm(in) {
	case formPS, formPD:
		var lo, hi uint64
		if sseForm(in) == formPS {
			s := c.readWq(in)
			lo, hi = e.toInt(fmt32, s&0xFFFFFFFF, 32, trunc), e.toInt(fmt32, s>>32, 32, trunc)
		} else {
			s := c.readW(in, true)
			lo, hi = e.toInt(fmt64, s[0], 32, trunc), e.toInt(fmt64, s[1], 32, trunc)
		}
		c.mmxEnter()
		c.fpDone(e)
		c.setMM(in.reg, lo|hi<<32)
	case formSS:
		r := e.toInt(fmt32, uint64(c.readWd(in)), 8*uint(gprSize(in)), trunc)
		c.fpDone(e)
		c.setReg(gprSize(in), in.reg, r)
	case formSD:
		r := e.toInt(fmt64, c.readWq(in), 8*uint(gprSize(in)), trunc)
		c.fpDone(e)
		c.setReg(gprSize(in), in.reg, r)
	}
}

// opCvt5A: CVTPS2PD xmm,xmm/m64; CVTPD2PS xmm,xmm/m128; CVTSS2SD; CVTSD2SS.
func opCvt5A(c *CPU, in *inst) {
	c.sseCheck()
	e := c.fpEnv()
	d := c.getX(in.reg)
	switch sseForm(in) {
	case formPS:
		s := c.readWq(in)
		d = xmm{e.convert(fmt32, fmt64, s&0xFFFFFFFF), e.convert(fmt32, fmt64, s>>32)}
	case formPD:
		s := c.readW(in, true)
		d = xmm{e.convert(fmt64, fmt32, s[0]) | e.convert(fmt64, fmt32, s[1])<<32, 0}
	case formSS:
		d[0] = e.convert(fmt32, fmt64, uint64(c.readWd(in)))
	case formSD:
		d.setU32(0, uint32(e.convert(fmt64, fmt32, c.readWq(in))))
	}
	c.fpDone(e)
	c.setX(in.reg, d)
}

// opCvt5B: CVTDQ2PS; 66 CVTPS2DQ; F3 CVTTPS2DQ (all xmm, xmm/m128).
func opCvt5B(c *CPU, in *inst) {
	c.sseCheck()
	form := sseForm(in)
	if form == formSD {
		c.ud()
	}
	e := c.fpEnv()
	s := c.readW(in, true)
	var d xmm
	for i := 0; i < 4; i++ {
		var r uint64
		if form == formPS {
			r = e.fromInt(fmt32, int64(int32(s.u32(i))))
		} else {
			r = e.toInt(fmt32, uint64(s.u32(i)), 32, form == formSS)
		}
		d.setU32(i, uint32(r))
	}
	c.fpDone(e)
	c.setX(in.reg, d)
}

// opCvtE6: 66 CVTTPD2DQ; F2 CVTPD2DQ (xmm/m128 → low two dwords, upper
// zeroed); F3 CVTDQ2PD (xmm/m64 → two doubles).
func opCvtE6(c *CPU, in *inst) {
	c.sseCheck()
	e := c.fpEnv()
	var d xmm
	switch sseForm(in) {
	case formPS:
		c.ud()
	case formSS:
		s := c.readWq(in)
		d = xmm{e.fromInt(fmt64, int64(int32(s))), e.fromInt(fmt64, int64(int32(s>>32)))}
	default:
		s := c.readW(in, true)
		trunc := sseForm(in) == formPD
		d[0] = e.toInt(fmt64, s[0], 32, trunc) | e.toInt(fmt64, s[1], 32, trunc)<<32
	}
	c.fpDone(e)
	c.setX(in.reg, d)
}
