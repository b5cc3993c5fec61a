package cpu

import "math/bits"

// Multiplication and division (SDM Vol. 2: MUL, IMUL, DIV, IDIV).

// opMUL: unsigned rAX × r/m into rDX:rAX (AX for bytes).
func opMUL(c *CPU, in *inst) {
	src := c.readE(in)
	var lo uint64
	var hi bool
	switch in.size {
	case 1:
		r := uint64(uint8(c.R[EAX])) * src
		c.setReg(2, EAX, r)
		lo, hi = r&0xFF, r>>8 != 0
	case 2:
		r := uint64(uint16(c.R[EAX])) * src
		c.setReg(2, EAX, r)
		c.setReg(2, EDX, r>>16)
		lo, hi = r&0xFFFF, r>>16 != 0
	case 4:
		r := uint64(uint32(c.R[EAX])) * src
		c.R[EAX], c.R[EDX] = r&0xFFFFFFFF, r>>32
		lo, hi = r&0xFFFFFFFF, r>>32 != 0
	default:
		h, l := bits.Mul64(c.R[EAX], src)
		c.R[EAX], c.R[EDX] = l, h
		lo, hi = l, h != 0
	}
	c.mulFlags(in.size, lo, hi)
}

// mulFlags: CF = OF = upper half significant; SF, ZF, PF follow the low
// half as current processors do (the SDM leaves them undefined).
func (c *CPU) mulFlags(size uint8, lo uint64, hi bool) {
	c.setArith(ArithFlags, szp(lo, size)|b2f(hi, FlagCF|FlagOF))
}

// mul128 is the signed 128-bit product of a and b.
func mul128(a, b int64) (hi int64, lo uint64) {
	h, l := bits.Mul64(uint64(a), uint64(b))
	// Correct the unsigned high half for the signs (two's complement).
	if a < 0 {
		h -= uint64(b)
	}
	if b < 0 {
		h -= uint64(a)
	}
	return int64(h), l
}

// opIMUL1: signed rAX × r/m into rDX:rAX.
func opIMUL1(c *CPU, in *inst) {
	src := int64(signExtend(c.readE(in), in.size))
	switch in.size {
	case 1:
		r := int64(int8(c.R[EAX])) * src
		c.setReg(2, EAX, uint64(r))
		c.mulFlags(1, uint64(r)&0xFF, r != int64(int8(r)))
	case 2:
		r := int64(int16(c.R[EAX])) * src
		c.setReg(2, EAX, uint64(r))
		c.setReg(2, EDX, uint64(r>>16))
		c.mulFlags(2, uint64(r)&0xFFFF, r != int64(int16(r)))
	case 4:
		r := int64(int32(c.R[EAX])) * src
		c.R[EAX], c.R[EDX] = uint64(uint32(r)), uint64(uint32(r>>32))
		c.mulFlags(4, uint64(uint32(r)), r != int64(int32(r)))
	default:
		hi, lo := mul128(int64(c.R[EAX]), src)
		c.R[EAX], c.R[EDX] = lo, uint64(hi)
		c.mulFlags(8, lo, hi != int64(lo)>>63)
	}
}

// imul2 is the two- and three-operand IMUL: the product truncated to the
// operand size, CF = OF = significant bits lost.
func (c *CPU) imul2(in *inst, a, b uint64) {
	x, y := int64(signExtend(a, in.size)), int64(signExtend(b, in.size))
	var r uint64
	var over bool
	switch in.size {
	case 2:
		p := x * y
		r, over = uint64(p), p != int64(int16(p))
	case 4:
		p := x * y
		r, over = uint64(p), p != int64(int32(p))
	default:
		hi, lo := mul128(x, y)
		r, over = lo, hi != int64(lo)>>63
	}
	c.setReg(in.size, in.reg, r)
	c.mulFlags(in.size, r&sizeMask(in.size), over)
}

// imulGE: IMUL Gv, Ev.
func imulGE(c *CPU, in *inst) { c.imul2(in, c.getReg(in.size, in.reg), c.readE(in)) }

// imulGEI: IMUL Gv, Ev, imm.
func imulGEI(c *CPU, in *inst) { c.imul2(in, c.readE(in), in.imm) }

// opDIV: unsigned divide; #DE on a zero divisor or a quotient too large.
func opDIV(c *CPU, in *inst) {
	d := c.readE(in)
	if d == 0 {
		c.raise(ExcDE, 0, false)
	}
	switch in.size {
	case 1:
		n := uint64(uint16(c.R[EAX]))
		q, r := n/d, n%d
		if q > 0xFF {
			c.raise(ExcDE, 0, false)
		}
		c.setReg(2, EAX, r<<8|q)
	case 2:
		n := uint64(uint16(c.R[EDX]))<<16 | uint64(uint16(c.R[EAX]))
		q, r := n/d, n%d
		if q > 0xFFFF {
			c.raise(ExcDE, 0, false)
		}
		c.setReg(2, EAX, q)
		c.setReg(2, EDX, r)
	case 4:
		n := uint64(uint32(c.R[EDX]))<<32 | uint64(uint32(c.R[EAX]))
		q, r := n/d, n%d
		if q > 0xFFFFFFFF {
			c.raise(ExcDE, 0, false)
		}
		c.R[EAX], c.R[EDX] = q, r
	default:
		if c.R[EDX] >= d {
			c.raise(ExcDE, 0, false)
		}
		q, r := bits.Div64(c.R[EDX], c.R[EAX], d)
		c.R[EAX], c.R[EDX] = q, r
	}
}

// opIDIV: signed divide; #DE on a zero divisor or a quotient out of range.
func opIDIV(c *CPU, in *inst) {
	d := int64(signExtend(c.readE(in), in.size))
	if d == 0 {
		c.raise(ExcDE, 0, false)
	}
	switch in.size {
	case 1:
		n := int64(int16(c.R[EAX]))
		q, r := n/d, n%d
		if q != int64(int8(q)) {
			c.raise(ExcDE, 0, false)
		}
		c.setReg(2, EAX, uint64(uint8(r))<<8|uint64(uint8(q)))
	case 2:
		n := int64(int32(uint32(uint16(c.R[EDX]))<<16 | uint32(uint16(c.R[EAX]))))
		q, r := n/d, n%d
		if q != int64(int16(q)) {
			c.raise(ExcDE, 0, false)
		}
		c.setReg(2, EAX, uint64(q))
		c.setReg(2, EDX, uint64(r))
	case 4:
		n := int64(uint64(uint32(c.R[EDX]))<<32 | uint64(uint32(c.R[EAX])))
		if n == -1<<63 && d == -1 {
			c.raise(ExcDE, 0, false)
		}
		q, r := n/d, n%d
		if q != int64(int32(q)) {
			c.raise(ExcDE, 0, false)
		}
		c.R[EAX], c.R[EDX] = uint64(uint32(q)), uint64(uint32(r))
	default:
		q, r, ok := idiv128(int64(c.R[EDX]), c.R[EAX], d)
		if !ok {
			c.raise(ExcDE, 0, false)
		}
		c.R[EAX], c.R[EDX] = uint64(q), uint64(r)
	}
}

// idiv128 divides the signed 128-bit hi:lo by d, truncating toward zero; ok
// is false when the quotient does not fit in 64 bits.
func idiv128(hi int64, lo uint64, d int64) (q, r int64, ok bool) {
	neg := hi < 0
	uhi, ulo := uint64(hi), lo
	if neg { // negate the 128-bit dividend
		ulo = ^ulo + 1
		uhi = ^uhi
		if ulo == 0 {
			uhi++
		}
	}
	ud := uint64(d)
	if d < 0 {
		ud = uint64(-d)
	}
	if uhi >= ud {
		return 0, 0, false
	}
	uq, ur := bits.Div64(uhi, ulo, ud)
	qneg := neg != (d < 0)
	if qneg {
		if uq > 1<<63 {
			return 0, 0, false
		}
		q = -int64(uq)
	} else {
		if uq > 1<<63-1 {
			return 0, 0, false
		}
		q = int64(uq)
	}
	r = int64(ur)
	if neg {
		r = -r
	}
	return q, r, true
}
