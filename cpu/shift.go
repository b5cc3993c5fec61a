package cpu

// Shifts and rotates (SDM Vol. 2: SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD).

const (
	shROL = iota
	shROR
	shRCL
	shRCR
	shSHL
	shSHR
	shSAL
	shSAR
)

func opShift(c *CPU, in *inst) {
	var count uint64
	switch {
	case in.imm2 == 1:
		count = 1
	case in.imm2 == 2:
		count = uint64(c.R[ECX]) & 0x1F
	default:
		count = in.imm & 0x1F
	}
	if count == 0 {
		// A zero count changes nothing, not even the flags; the operand is
		// still read (and may fault).
		c.readE(in)
		return
	}
	var m rmw
	v := c.rmwRead(in, &m)
	r, fl, mask := c.shift(in.sub, in.size, v, count)
	c.rmwWrite(in, &m, r)
	c.setArith(mask, fl)
}

// shift computes a shift or rotate and the flags it defines.
func (c *CPU) shift(op uint8, size uint8, v, count uint64) (r uint64, fl, mask uint32) {
	bits := uint64(size) * 8
	m := uint64(sizeMask(size))
	msb := uint64(1) << (bits - 1)
	v &= m
	switch op {
	case shROL:
		n := count % bits
		r = uint64((uint64(v)<<n | uint64(v)>>(bits-n)) & m)
		cf := r & 1
		fl = b2f(cf != 0, FlagCF) | b2f((r&msb != 0) != (cf != 0), FlagOF)
		return r, fl, FlagCF | FlagOF
	case shROR:
		n := count % bits
		r = uint64((uint64(v)>>n | uint64(v)<<(bits-n)) & m)
		top, next := r&msb != 0, r&(msb>>1) != 0
		fl = b2f(top, FlagCF) | b2f(top != next, FlagOF)
		return r, fl, FlagCF | FlagOF
	case shRCL:
		n := count % (bits + 1)
		cf := uint64(0)
		if c.cf() {
			cf = 1
		}
		if n == 0 {
			return v, c.flags(), 0
		}
		wide := uint64(v) | cf<<bits // bits+1-bit value
		wide = (wide<<n | wide>>(bits+1-n)) & (m<<1 | 1)
		r = uint64(wide & m)
		ncf := wide>>bits&1 != 0
		fl = b2f(ncf, FlagCF) | b2f((r&msb != 0) != ncf, FlagOF)
		return r, fl, FlagCF | FlagOF
	case shRCR:
		n := count % (bits + 1)
		cf := uint64(0)
		if c.cf() {
			cf = 1
		}
		if n == 0 {
			return v, c.flags(), 0
		}
		// OF (defined for a count of 1) is MSB(dest) XOR CF before the rotate.
		of := (v&msb != 0) != (cf != 0)
		wide := uint64(v) | cf<<bits
		wide = (wide>>n | wide<<(bits+1-n)) & (m<<1 | 1)
		r = uint64(wide & m)
		ncf := wide>>bits&1 != 0
		if n != 1 {
			of = (r&msb != 0) != (r&(msb>>1) != 0)
		}
		fl = b2f(ncf, FlagCF) | b2f(of, FlagOF)
		return r, fl, FlagCF | FlagOF
	case shSHL, shSAL:
		wide := uint64(v) << count
		r = uint64(wide & m)
		cf := wide>>bits&1 != 0
		fl = szp(uint64(r), size) | b2f(cf, FlagCF) | b2f((r&msb != 0) != cf, FlagOF)
		return r, fl, ArithFlags
	case shSHR:
		r = uint64(uint64(v) >> count)
		cf := uint64(v)>>(count-1)&1 != 0
		fl = szp(uint64(r), size) | b2f(cf, FlagCF) | b2f(v&msb != 0, FlagOF)
		return r, fl, ArithFlags
	default: // SAR
		sv := int64(int32(signExtend(v, size)))
		r = uint64(uint64(sv>>count) & m)
		cf := sv>>(count-1)&1 != 0
		fl = szp(uint64(r), size) | b2f(cf, FlagCF)
		return r, fl, ArithFlags
	}
}

// opSHLD: sub 0 count in imm8, 1 count in CL.
func opSHLD(c *CPU, in *inst) {
	count := in.imm & 0x1F
	if in.sub == 1 {
		count = uint64(c.R[ECX]) & 0x1F
	}
	if count == 0 {
		c.readE(in)
		return
	}
	var m rmw
	dst := c.rmwRead(in, &m)
	src := c.getReg(in.size, in.reg)
	bits := uint64(in.size) * 8
	var r uint64
	var cf bool
	if in.size == 4 {
		w := uint64(dst)<<32 | uint64(src)
		r = uint64((w << count) >> 32)
		cf = dst>>(32-count)&1 != 0
	} else {
		// 16-bit: counts above 16 shift in bits of the destination again.
		w := uint64(dst)<<32 | uint64(src)<<16 | uint64(dst)
		r = uint64((w << count) >> 32 & 0xFFFF)
		cf = (w<<(count-1))>>47&1 != 0
	}
	msb := uint64(1) << (bits - 1)
	fl := szp(uint64(r), in.size) | b2f(cf, FlagCF) | b2f((r&msb) != (dst&msb), FlagOF)
	c.rmwWrite(in, &m, r)
	c.setArith(ArithFlags, fl)
}

func opSHRD(c *CPU, in *inst) {
	count := in.imm & 0x1F
	if in.sub == 1 {
		count = uint64(c.R[ECX]) & 0x1F
	}
	if count == 0 {
		c.readE(in)
		return
	}
	var m rmw
	dst := c.rmwRead(in, &m)
	src := c.getReg(in.size, in.reg)
	bits := uint64(in.size) * 8
	var r uint64
	var cf bool
	if in.size == 4 {
		w := uint64(src)<<32 | uint64(dst)
		r = uint64(w >> count)
		cf = dst>>(count-1)&1 != 0
	} else {
		w := uint64(dst)<<32 | uint64(src)<<16 | uint64(dst)
		r = uint64(w >> count & 0xFFFF)
		cf = w>>(count-1)&1 != 0
	}
	msb := uint64(1) << (bits - 1)
	fl := szp(uint64(r), in.size) | b2f(cf, FlagCF) | b2f((r&msb) != (dst&msb), FlagOF)
	c.rmwWrite(in, &m, r)
	c.setArith(ArithFlags, fl)
}
