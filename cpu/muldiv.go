package cpu

import "math/bits"

// Multiplication and division (SDM Vol. 2: MUL, IMUL, DIV, IDIV).

// opMUL: unsigned AL/AX/EAX × r/m.
func opMUL(c *CPU, in *inst) {
	src := c.readE(in)
	var lo uint32
	var hi bool
	switch in.size {
	case 1:
		r := uint32(uint8(c.R[EAX])) * src
		c.setReg(2, EAX, r)
		lo, hi = r&0xFF, r>>8 != 0
	case 2:
		r := uint32(uint16(c.R[EAX])) * src
		c.setReg(2, EAX, r)
		c.setReg(2, EDX, r>>16)
		lo, hi = r&0xFFFF, r>>16 != 0
	default:
		h, l := bits.Mul32(uint32(c.R[EAX]), src)
		c.R[EAX], c.R[EDX] = uint64(l), uint64(h)
		lo, hi = l, h != 0
	}
	c.mulFlags(in.size, lo, hi)
}

// mulFlags: CF = OF = upper half significant; SF, ZF, PF follow the low
// half as current processors do (the SDM leaves them undefined).
func (c *CPU) mulFlags(size uint8, lo uint32, hi bool) {
	c.setArith(ArithFlags, szp(uint64(lo), size)|b2f(hi, FlagCF|FlagOF))
}

// opIMUL1: signed AL/AX/EAX × r/m.
func opIMUL1(c *CPU, in *inst) {
	src := int64(int32(signExtend(c.readE(in), in.size)))
	switch in.size {
	case 1:
		r := int64(int8(c.R[EAX])) * src
		c.setReg(2, EAX, uint32(r))
		c.mulFlags(1, uint32(r)&0xFF, r != int64(int8(r)))
	case 2:
		r := int64(int16(c.R[EAX])) * src
		c.setReg(2, EAX, uint32(r))
		c.setReg(2, EDX, uint32(r>>16))
		c.mulFlags(2, uint32(r)&0xFFFF, r != int64(int16(r)))
	default:
		r := int64(int32(c.R[EAX])) * src
		c.R[EAX], c.R[EDX] = uint64(uint32(r)), uint64(uint32(r>>32))
		c.mulFlags(4, uint32(r), r != int64(int32(r)))
	}
}

func (c *CPU) imul2(in *inst, a, b uint32) {
	x := int64(int32(signExtend(a, in.size))) * int64(int32(signExtend(b, in.size)))
	var over bool
	if in.size == 2 {
		over = x != int64(int16(x))
	} else {
		over = x != int64(int32(x))
	}
	c.setReg(in.size, in.reg, uint32(x))
	c.mulFlags(in.size, uint32(x)&sizeMask32(in.size), over)
}

// imulGE: IMUL Gv, Ev.
func imulGE(c *CPU, in *inst) { c.imul2(in, c.getReg(in.size, in.reg), c.readE(in)) }

// imulGEI: IMUL Gv, Ev, imm.
func imulGEI(c *CPU, in *inst) { c.imul2(in, c.readE(in), in.imm) }

// opDIV: unsigned divide; #DE on a zero divisor or a quotient too large.
func opDIV(c *CPU, in *inst) {
	d := uint64(c.readE(in))
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
		c.setReg(2, EAX, uint32(r<<8|q))
	case 2:
		n := uint64(uint16(c.R[EDX]))<<16 | uint64(uint16(c.R[EAX]))
		q, r := n/d, n%d
		if q > 0xFFFF {
			c.raise(ExcDE, 0, false)
		}
		c.setReg(2, EAX, uint32(q))
		c.setReg(2, EDX, uint32(r))
	default:
		hi := uint32(c.R[EDX])
		if uint64(hi) >= d {
			c.raise(ExcDE, 0, false)
		}
		q, r := bits.Div32(hi, uint32(c.R[EAX]), uint32(d))
		c.R[EAX], c.R[EDX] = uint64(q), uint64(r)
	}
}

// opIDIV: signed divide; #DE on a zero divisor or a quotient out of range.
func opIDIV(c *CPU, in *inst) {
	d := int64(int32(signExtend(c.readE(in), in.size)))
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
		c.setReg(2, EAX, uint32(uint8(r))<<8|uint32(uint8(q)))
	case 2:
		n := int64(int32(uint32(uint16(c.R[EDX]))<<16 | uint32(uint16(c.R[EAX]))))
		q, r := n/d, n%d
		if q != int64(int16(q)) {
			c.raise(ExcDE, 0, false)
		}
		c.setReg(2, EAX, uint32(q))
		c.setReg(2, EDX, uint32(r))
	default:
		n := int64(uint64(uint32(c.R[EDX]))<<32 | uint64(uint32(c.R[EAX])))
		if n == -1<<63 && d == -1 {
			c.raise(ExcDE, 0, false)
		}
		q, r := n/d, n%d
		if q != int64(int32(q)) {
			c.raise(ExcDE, 0, false)
		}
		c.R[EAX], c.R[EDX] = uint64(uint32(q)), uint64(uint32(r))
	}
}
