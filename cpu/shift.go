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

// shiftCountMask: counts are masked to 5 bits, 6 with a 64-bit operand
// (SDM Vol. 2 SAL/SAR/SHL/SHR).
func shiftCountMask(size uint8) uint64 {
	if size == 8 {
		return 0x3F
	}
	return 0x1F
}

// shiftNothing is a shift by a masked count of 0: the flags do not change
// and the operand is still read (and may fault); a 32-bit register
// destination is still written, so it is zero-extended in 64-bit mode.
func (c *CPU) shiftNothing(in *inst) {
	c.readE(in)
	if !in.mem && in.size == 4 {
		c.R[in.rm] &= 0xFFFFFFFF
	}
}

func opShift(c *CPU, in *inst) {
	var count uint64
	switch {
	case in.imm2 == 1:
		count = 1
	case in.imm2 == 2:
		count = c.R[ECX]
	default:
		count = in.imm
	}
	count &= shiftCountMask(in.size)
	if count == 0 {
		c.shiftNothing(in)
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
	case shRCL, shRCR:
		n := count % (bits + 1)
		if n == 0 {
			return v, c.flags(), 0
		}
		cf := c.cf()
		// OF (defined for a count of 1) for RCR is MSB(dest) XOR CF before the rotate.
		rcrOF := (v&msb != 0) != cf
		r = v
		for i := uint64(0); i < n; i++ { // one bit at a time through CF (at most 64)
			if op == shRCL {
				out := r&msb != 0
				r = (r<<1 | uint64(b2f(cf, 1))) & m
				cf = out
			} else {
				out := r&1 != 0
				r = r>>1 | uint64(b2f(cf, 1))*msb
				cf = out
			}
		}
		of := (r&msb != 0) != cf
		if op == shRCR {
			of = rcrOF
			if n != 1 {
				of = (r&msb != 0) != (r&(msb>>1) != 0)
			}
		}
		return r, b2f(cf, FlagCF) | b2f(of, FlagOF), FlagCF | FlagOF
	case shSHL, shSAL:
		r = v << count & m
		cf := count <= bits && v>>(bits-count)&1 != 0
		fl = szp(r, size) | b2f(cf, FlagCF) | b2f((r&msb != 0) != cf, FlagOF)
		return r, fl, ArithFlags
	case shSHR:
		r = uint64(uint64(v) >> count)
		cf := uint64(v)>>(count-1)&1 != 0
		fl = szp(uint64(r), size) | b2f(cf, FlagCF) | b2f(v&msb != 0, FlagOF)
		return r, fl, ArithFlags
	default: // SAR
		sv := int64(signExtend(v, size))
		r = uint64(uint64(sv>>count) & m)
		cf := sv>>(count-1)&1 != 0
		fl = szp(uint64(r), size) | b2f(cf, FlagCF)
		return r, fl, ArithFlags
	}
}

// opSHLD: sub 0 count in imm8, 1 count in CL.
func opSHLD(c *CPU, in *inst) {
	count := in.imm
	if in.sub == 1 {
		count = c.R[ECX]
	}
	count &= shiftCountMask(in.size)
	if count == 0 {
		c.shiftNothing(in)
		return
	}
	var m rmw
	dst := c.rmwRead(in, &m)
	src := c.getReg(in.size, in.reg)
	bits := uint64(in.size) * 8
	var r uint64
	var cf bool
	switch in.size {
	case 8:
		r = dst<<count | src>>(64-count)
		cf = dst>>(64-count)&1 != 0
	case 4:
		w := dst<<32 | src
		r = (w << count) >> 32
		cf = dst>>(32-count)&1 != 0
	default:
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
	count := in.imm
	if in.sub == 1 {
		count = c.R[ECX]
	}
	count &= shiftCountMask(in.size)
	if count == 0 {
		c.shiftNothing(in)
		return
	}
	var m rmw
	dst := c.rmwRead(in, &m)
	src := c.getReg(in.size, in.reg)
	bits := uint64(in.size) * 8
	var r uint64
	var cf bool
	switch in.size {
	case 8:
		r = dst>>count | src<<(64-count)
		cf = dst>>(count-1)&1 != 0
	case 4:
		w := src<<32 | dst
		r = w >> count & 0xFFFFFFFF
		cf = dst>>(count-1)&1 != 0
	default:
		w := uint64(dst)<<32 | uint64(src)<<16 | uint64(dst)
		r = uint64(w >> count & 0xFFFF)
		cf = w>>(count-1)&1 != 0
	}
	msb := uint64(1) << (bits - 1)
	fl := szp(uint64(r), in.size) | b2f(cf, FlagCF) | b2f((r&msb) != (dst&msb), FlagOF)
	c.rmwWrite(in, &m, r)
	c.setArith(ArithFlags, fl)
}
