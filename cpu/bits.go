package cpu

import "math/bits"

// Bit tests and scans (SDM Vol. 2: BT, BTS, BTR, BTC, BSF, BSR).

const (
	btTest = iota
	btSet
	btReset
	btComplement
)

// bitOp runs BT/BTS/BTR/BTC. With a register bit offset and a memory
// operand, the offset is signed and may address outside the operand
// (SDM Vol. 2 BT, "bit base" addressing).
func (c *CPU) bitOp(in *inst, kind int) {
	nbits := uint64(in.size) * 8
	var off uint64
	immForm := in.sub == 1 // Grp8: BT* Ev, Ib
	if immForm {
		off = in.imm & (nbits - 1)
	} else {
		off = c.getReg(in.size, in.reg)
	}
	var v, bit uint64
	if !in.mem {
		bit = off & (nbits - 1)
		v = c.getReg(in.size, in.rm)
		c.setCF(v>>bit&1 != 0)
		if kind != btTest {
			c.setReg(in.size, in.rm, bitApply(v, bit, kind))
		}
		return
	}
	ea := c.ea(in)
	if !immForm {
		so := int64(signExtend(off, in.size))
		ea += uint64(so>>(3+bits.TrailingZeros64(uint64(in.size)))) * uint64(in.size)
		ea &= sizeMask(in.asize)
	}
	bit = off & (nbits - 1)
	s := int(in.seg)
	if kind == btTest {
		v = c.readSize(s, ea, in.size)
		c.setCF(v>>bit&1 != 0)
		return
	}
	la := c.linW(s, ea, uint64(in.size))
	c.linR(s, ea, uint64(in.size))
	v = c.readSize(s, ea, in.size)
	c.writeSize(s, ea, in.size, bitApply(v, bit, kind))
	_ = la
	c.setCF(v>>bit&1 != 0)
}

func bitApply(v, bit uint64, kind int) uint64 {
	switch kind {
	case btSet:
		return v | 1<<bit
	case btReset:
		return v &^ (1 << bit)
	}
	return v ^ 1<<bit
}

func opBT(c *CPU, in *inst)  { c.bitOp(in, btTest) }
func opBTS(c *CPU, in *inst) { c.bitOp(in, btSet) }
func opBTR(c *CPU, in *inst) { c.bitOp(in, btReset) }
func opBTC(c *CPU, in *inst) { c.bitOp(in, btComplement) }

// opBSF: ZF=1 and the destination unchanged when the source is zero.
func opBSF(c *CPU, in *inst) {
	v := c.readE(in)
	if v == 0 {
		c.setArith(FlagZF, FlagZF)
		return
	}
	r := uint64(bits.TrailingZeros64(v))
	c.setReg(in.size, in.reg, r)
	c.setArith(ArithFlags, szp(uint64(r), in.size)&^FlagZF)
}

func opBSR(c *CPU, in *inst) {
	v := c.readE(in)
	if v == 0 {
		c.setArith(FlagZF, FlagZF)
		return
	}
	r := uint64(63 - bits.LeadingZeros64(v))
	c.setReg(in.size, in.reg, r)
	c.setArith(ArithFlags, szp(uint64(r), in.size)&^FlagZF)
}
