package cpu

// Specialized handlers for the commonest instruction forms: 32-bit operands
// in registers or in memory through a flat segment. The translator picks
// them once (specialize); the generic handlers stay the reference semantics
// and the tests run both.

// specializeOff turns specialization off (tests compare both paths).
var specializeOff bool

// specialize replaces a generic handler by a faster one for the same form.
func specialize(in *inst) {
	if specializeOff || in.lock || in.rep != 0 {
		return
	}
	switch in.size {
	case 4:
		specialize32(in)
	case 8:
		specialize64(in)
	}
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
	case same(fn, opLEA) && in.asize == 4:
		in.fn = lea32
	case same(fn, opShift) && !in.mem && in.imm2 == 0:
		switch in.sub {
		case shSHL, shSAL:
			in.fn = shlRI32
		case shSHR:
			in.fn = shrRI32
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

func shlRI32(c *CPU, in *inst) {
	n := in.imm & 31
	if n == 0 {
		c.R[in.rm] &= 0xFFFFFFFF
		return
	}
	v := c.R[in.rm] & 0xFFFFFFFF
	r, fl, mask := c.shift(shSHL, 4, v, n)
	c.R[in.rm] = uint64(r)
	c.setArith(mask, fl)
}

func shrRI32(c *CPU, in *inst) {
	n := in.imm & 31
	if n == 0 {
		c.R[in.rm] &= 0xFFFFFFFF
		return
	}
	v := uint32(c.R[in.rm])
	r := v >> uint32(n)
	c.R[in.rm] = uint64(r)
	c.materialize()
	fl := szp(uint64(r), 4) | b2f(v>>uint32(n-1)&1 != 0, FlagCF) | b2f(v&0x80000000 != 0, FlagOF)
	c.eflags = c.eflags&^ArithFlags | fl
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
