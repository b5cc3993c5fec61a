package cpu

// Specialized handlers for the commonest instruction forms: 32-bit operands
// in registers or in memory through a flat segment. The translator picks
// them once (specialize); the generic handlers stay the reference semantics
// and the tests run both.

// specializeOff turns specialization off (tests compare both paths).
var specializeOff bool

// specialize replaces a generic handler by a faster one for the same form,
// decoded in the given mode.
func specialize(in *inst, mode uint8) {
	if specializeOff || in.lock {
		return
	}
	if in.rep != 0 {
		if mode == mode64 {
			specializeString(in)
		}
		return
	}
	if mode == mode64 && specializeLong(in) {
		return
	}
	switch in.size {
	case 1:
		specialize8(in)
	case 2:
		specialize16(in)
	case 4:
		specialize32(in)
	case 8:
		specialize64(in)
	}
}

func specialize8(in *inst) {
	fn := in.fn
	switch {
	case same(fn, aluEI) && !in.mem && in.sub == aluCMP && lowByteReg(in.rm):
		in.fn = cmpRI8
	}
}

func specialize16(in *inst) {
	fn := in.fn
	switch {
	case same(fn, opShift) && !in.mem && in.imm2 == 0 && in.sub == shSHR && in.imm&31 != 0:
		in.fn = shrRI16
	}
}

// cmpRI8: CMP r8, imm8 on the low byte of a register.
func cmpRI8(c *CPU, in *inst) {
	a, b := uint8(c.R[in.rm]), uint8(in.imm)
	c.setLazy(lzSub, 1, false, uint64(a), uint64(b), uint64(a-b))
}

// shrRI16: SHR r16, imm8 (count 1–31: counts past 15 leave 0, CF from
// the bits shifted out, as the generic shift computes them).
func shrRI16(c *CPU, in *inst) {
	n := in.imm & 31
	v := c.R[in.rm] & 0xFFFF
	res := v >> n
	c.R[in.rm] = c.R[in.rm]&^0xFFFF | res
	c.setResFlags(2, res, v>>(n-1)&1 != 0, v>>15 != 0)
}

func specialize32(in *inst) {
	fn := in.fn
	switch {
	case same(fn, aluEG) && !in.mem, same(fn, aluGE) && !in.mem:
		if in.rm == in.reg && in.sub == aluXOR {
			in.fn = xorZero32
			return
		}
		dst, src := in.rm, in.reg
		if same(fn, aluGE) {
			dst, src = in.reg, in.rm
		}
		if f := aluRR32[in.sub]; f != nil {
			in.fn = f
			in.rm, in.reg = dst, src
		}
	case same(fn, aluEI) && !in.mem:
		if f := aluRI32[in.sub]; f != nil {
			in.fn = f
		}
	case same(fn, aluAI):
		in.rm = EAX
		if f := aluRI32[in.sub]; f != nil {
			in.fn = f
		}
	case same(fn, movEG):
		if in.mem {
			in.fn = movStore32
		} else {
			// MOV Ev, Gv: destination rm, source reg; movRR32 writes reg from rm, so swap.
			in.fn = movRR32
			in.rm, in.reg = in.reg, in.rm
		}
	case same(fn, movGE):
		if in.mem {
			in.fn = movLoad32
		} else {
			// MOV Gv, Ev: destination reg, source rm.
			in.fn = movRR32
		}
	case same(fn, incReg):
		in.fn = inc32
	case same(fn, decReg):
		in.fn = dec32
	case same(fn, incE) && !in.mem:
		in.fn, in.reg = inc32, in.rm
	case same(fn, decE) && !in.mem:
		in.fn, in.reg = dec32, in.rm
	case same(fn, opLEA) && (in.asize == 4 || in.asize == 8):
		in.fn = lea32 // the address wraps at 32 bits or wider: the low half is the same
	case same(fn, opShift) && !in.mem:
		specializeShift(in, &shiftRI32, &shiftRC32)
	case same(fn, testEG) && !in.mem:
		in.fn = testRR32
	case same(fn, testEI) && !in.mem:
		in.fn = testRI32
	case same(fn, testAI):
		in.fn, in.rm = testRI32, EAX
	case same(fn, movRI):
		in.fn = movRI64 // the decoder zero-extended imm32
	case same(fn, movzxB) && !in.mem && lowByteReg(in.rm):
		in.fn = movzxRR8
	case same(fn, imulGE) && !in.mem:
		in.fn = imulRR32
	case same(fn, imulGEI) && !in.mem:
		in.fn = imulRRI32
	case same(fn, opCMOVcc) && !in.mem:
		in.fn = cmovRR32
	}
}

// specializeShift picks a shift handler by count form: immediate (or 1) from
// ri, CL from rc. A zero immediate count stays generic.
func specializeShift(in *inst, ri, rc *[8]handler) {
	switch in.imm2 {
	case 0, 1:
		if in.imm2 == 1 {
			in.imm = 1 // D1 /r: the count is 1
		}
		if in.imm&shiftCountMask(in.size) == 0 {
			return
		}
		if f := ri[in.sub]; f != nil {
			in.fn = f
		}
	case 2:
		if f := rc[in.sub]; f != nil {
			in.fn = f
		}
	}
}

// same compares handlers by identity (funcs are not comparable in Go, but
// their code pointers are).
func same(a, b handler) bool { return funcID(a) == funcID(b) }

// movRR32: MOV r32, r32 (reg ← rm).
func movRR32(c *CPU, in *inst) { c.R[in.reg] = c.R[in.rm] & 0xFFFFFFFF }

func movLoad32(c *CPU, in *inst) { c.R[in.reg] = uint64(c.read32(int(in.seg), c.ea(in))) }

func movStore32(c *CPU, in *inst) { c.write32(int(in.seg), c.ea(in), uint32(c.R[in.reg])) }

func xorZero32(c *CPU, in *inst) {
	c.R[in.rm] = 0
	c.setLazy(lzLogic, 4, false, 0, 0, 0)
}

func lea32(c *CPU, in *inst) {
	c.R[in.reg] = uint64(uint32(c.R[in.base]) + uint32(c.R[in.index])<<in.scale + uint32(in.disp))
}

func inc32(c *CPU, in *inst) {
	a := uint32(c.R[in.reg])
	c.R[in.reg] = uint64(a + 1)
	c.setLazy(lzInc, 4, c.cf(), uint64(a), 1, uint64(a+1))
}

func dec32(c *CPU, in *inst) {
	a := uint32(c.R[in.reg])
	c.R[in.reg] = uint64(a - 1)
	c.setLazy(lzDec, 4, c.cf(), uint64(a), 1, uint64(a-1))
}

// setResFlags records flags known at once: ZF, SF, PF of res, CF, OF, AF clear.
func (c *CPU) setResFlags(size uint8, res uint64, cf, of bool) {
	c.setLazy(lzRes, size, cf, 0, uint64(b2u(of)), res)
}

// Shifts of a 32-bit register (SDM Vol. 2 SAL/SAR/SHL/SHR); n is 1–31.
// SHL: CF is the last bit out, OF = MSB(result) XOR CF; SHR: OF = MSB of
// the operand; SAR: OF = 0. AF is left clear, as by the generic shift.
func shl32(c *CPU, r uint8, n uint64) {
	v := uint32(c.R[r])
	res := v << n
	cf := v>>(32-n)&1 != 0
	c.R[r] = uint64(res)
	c.setResFlags(4, uint64(res), cf, res>>31 != 0 != cf)
}

func shr32(c *CPU, r uint8, n uint64) {
	v := uint32(c.R[r])
	res := v >> n
	c.R[r] = uint64(res)
	c.setResFlags(4, uint64(res), v>>(n-1)&1 != 0, v>>31 != 0)
}

func sar32(c *CPU, r uint8, n uint64) {
	v := int32(c.R[r])
	res := uint32(v >> n)
	c.R[r] = uint64(res)
	c.setResFlags(4, uint64(res), v>>(n-1)&1 != 0, false)
}

var shiftRI32 = [8]handler{
	shSHL: func(c *CPU, in *inst) { shl32(c, in.rm, in.imm&31) },
	shSAL: func(c *CPU, in *inst) { shl32(c, in.rm, in.imm&31) },
	shSHR: func(c *CPU, in *inst) { shr32(c, in.rm, in.imm&31) },
	shSAR: func(c *CPU, in *inst) { sar32(c, in.rm, in.imm&31) },
}

// By CL: a masked count of 0 changes no flag but still zero-extends the
// register (in 64-bit mode).
var shiftRC32 = [8]handler{
	shSHL: func(c *CPU, in *inst) { shiftCL32(c, in, shl32) },
	shSAL: func(c *CPU, in *inst) { shiftCL32(c, in, shl32) },
	shSHR: func(c *CPU, in *inst) { shiftCL32(c, in, shr32) },
	shSAR: func(c *CPU, in *inst) { shiftCL32(c, in, sar32) },
}

func shiftCL32(c *CPU, in *inst, f func(c *CPU, r uint8, n uint64)) {
	n := c.R[ECX] & 31
	if n == 0 {
		c.R[in.rm] &= 0xFFFFFFFF
		return
	}
	f(c, in.rm, n)
}

func movRI64(c *CPU, in *inst) { c.R[in.reg] = in.imm }

// movzxRR8: MOVZX r32/r64, r8 from the low byte of a register.
func movzxRR8(c *CPU, in *inst) { c.R[in.reg] = c.R[in.rm] & 0xFF }

func testRR32(c *CPU, in *inst) {
	r := uint32(c.R[in.rm]) & uint32(c.R[in.reg])
	c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
}

func testRI32(c *CPU, in *inst) {
	r := uint32(c.R[in.rm]) & uint32(in.imm)
	c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
}

// IMUL r32, r32 and r32, r32, imm: CF = OF = the product does not fit.
func imulRR32(c *CPU, in *inst) {
	p := int64(int32(c.R[in.reg])) * int64(int32(c.R[in.rm]))
	c.R[in.reg] = uint64(uint32(p))
	over := p != int64(int32(p))
	c.setResFlags(4, uint64(uint32(p)), over, over)
}

func imulRRI32(c *CPU, in *inst) {
	p := int64(int32(c.R[in.rm])) * int64(int32(in.imm))
	c.R[in.reg] = uint64(uint32(p))
	over := p != int64(int32(p))
	c.setResFlags(4, uint64(uint32(p)), over, over)
}

// CMOVcc r32, r32: the destination is zero-extended whether or not it moves.
func cmovRR32(c *CPU, in *inst) {
	if c.cond(in.sub) {
		c.R[in.reg] = c.R[in.rm] & 0xFFFFFFFF
	} else {
		c.R[in.reg] &= 0xFFFFFFFF
	}
}

// ALU r32, r32 (rm ← rm op reg) and r32, imm.
var aluRR32 = [8]handler{
	aluADD: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.rm]), uint32(c.R[in.reg])
		c.R[in.rm] = uint64(a + b)
		c.setLazy(lzAdd, 4, false, uint64(a), uint64(b), uint64(a+b))
	},
	aluSUB: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.rm]), uint32(c.R[in.reg])
		c.R[in.rm] = uint64(a - b)
		c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(a-b))
	},
	aluCMP: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.rm]), uint32(c.R[in.reg])
		c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(a-b))
	},
	aluAND: func(c *CPU, in *inst) {
		r := uint32(c.R[in.rm]) & uint32(c.R[in.reg])
		c.R[in.rm] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
	aluOR: func(c *CPU, in *inst) {
		r := uint32(c.R[in.rm]) | uint32(c.R[in.reg])
		c.R[in.rm] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
	aluXOR: func(c *CPU, in *inst) {
		r := uint32(c.R[in.rm]) ^ uint32(c.R[in.reg])
		c.R[in.rm] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
}

var aluRI32 = [8]handler{
	aluADD: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.rm]), uint32(in.imm)
		c.R[in.rm] = uint64(a + b)
		c.setLazy(lzAdd, 4, false, uint64(a), uint64(b), uint64(a+b))
	},
	aluSUB: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.rm]), uint32(in.imm)
		c.R[in.rm] = uint64(a - b)
		c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(a-b))
	},
	aluCMP: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.rm]), uint32(in.imm)
		c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(a-b))
	},
	aluAND: func(c *CPU, in *inst) {
		r := uint32(c.R[in.rm]) & uint32(in.imm)
		c.R[in.rm] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
	aluOR: func(c *CPU, in *inst) {
		r := uint32(c.R[in.rm]) | uint32(in.imm)
		c.R[in.rm] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
	aluXOR: func(c *CPU, in *inst) {
		r := uint32(c.R[in.rm]) ^ uint32(in.imm)
		c.R[in.rm] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
}
