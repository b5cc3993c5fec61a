package cpu

// Specialized handlers for 64-bit operands (see fast.go).

func specialize64(in *inst) {
	fn := in.fn
	switch {
	case same(fn, aluEG) && !in.mem, same(fn, aluGE) && !in.mem:
		dst, src := in.rm, in.reg
		if same(fn, aluGE) {
			dst, src = in.reg, in.rm
		}
		if f := aluRR64[in.sub]; f != nil {
			in.fn = f
			in.rm, in.reg = dst, src
		}
	case same(fn, aluEI) && !in.mem:
		if f := aluRI64[in.sub]; f != nil {
			in.fn = f
		}
	case same(fn, aluAI):
		in.rm = EAX
		if f := aluRI64[in.sub]; f != nil {
			in.fn = f
		}
	case same(fn, movEG):
		if in.mem {
			in.fn = movStore64
		} else {
			in.fn = movRR64 // writes reg from rm: swap
			in.rm, in.reg = in.reg, in.rm
		}
	case same(fn, movGE):
		if in.mem {
			in.fn = movLoad64
		} else {
			in.fn = movRR64
		}
	case same(fn, incE) && !in.mem:
		in.fn, in.reg = inc64, in.rm
	case same(fn, decE) && !in.mem:
		in.fn, in.reg = dec64, in.rm
	case same(fn, opLEA) && in.asize == 8:
		in.fn = lea64
	case same(fn, opShift) && !in.mem && in.imm2 == 0:
		switch in.sub {
		case shSHR:
			in.fn = shrRI64
		case shSHL, shSAL:
			in.fn = shlRI64
		}
	}
}

func movRR64(c *CPU, in *inst)    { c.R[in.reg] = c.R[in.rm] }
func movLoad64(c *CPU, in *inst)  { c.R[in.reg] = c.read64(int(in.seg), c.ea(in)) }
func movStore64(c *CPU, in *inst) { c.write64(int(in.seg), c.ea(in), c.R[in.reg]) }

func lea64(c *CPU, in *inst) {
	c.R[in.reg] = c.R[in.base] + c.R[in.index]<<in.scale + in.disp
}

func inc64(c *CPU, in *inst) {
	a := c.R[in.reg]
	c.R[in.reg] = a + 1
	c.setLazy(lzInc, 8, c.cf(), a, 1, a+1)
}

func dec64(c *CPU, in *inst) {
	a := c.R[in.reg]
	c.R[in.reg] = a - 1
	c.setLazy(lzDec, 8, c.cf(), a, 1, a-1)
}

func shrRI64(c *CPU, in *inst) {
	n := in.imm & 63
	if n == 0 {
		return
	}
	v := c.R[in.rm]
	r := v >> n
	c.R[in.rm] = r
	c.materialize()
	fl := szp(r, 8) | b2f(v>>(n-1)&1 != 0, FlagCF) | b2f(v>>63 != 0, FlagOF)
	c.eflags = c.eflags&^ArithFlags | fl
}

func shlRI64(c *CPU, in *inst) {
	n := in.imm & 63
	if n == 0 {
		return
	}
	r, fl, mask := c.shift(shSHL, 8, c.R[in.rm], n)
	c.R[in.rm] = r
	c.setArith(mask, fl)
}

func logic64(c *CPU, r uint64) { c.setLazy(lzLogic, 8, false, r, r, r) }

// ALU r64, r64 (rm ← rm op reg) and r64, imm (sign-extended imm32).
var aluRR64 = [8]handler{
	aluADD: func(c *CPU, in *inst) {
		a, b := c.R[in.rm], c.R[in.reg]
		c.R[in.rm] = a + b
		c.setLazy(lzAdd, 8, false, a, b, a+b)
	},
	aluSUB: func(c *CPU, in *inst) {
		a, b := c.R[in.rm], c.R[in.reg]
		c.R[in.rm] = a - b
		c.setLazy(lzSub, 8, false, a, b, a-b)
	},
	aluCMP: func(c *CPU, in *inst) {
		a, b := c.R[in.rm], c.R[in.reg]
		c.setLazy(lzSub, 8, false, a, b, a-b)
	},
	aluAND: func(c *CPU, in *inst) { r := c.R[in.rm] & c.R[in.reg]; c.R[in.rm] = r; logic64(c, r) },
	aluOR:  func(c *CPU, in *inst) { r := c.R[in.rm] | c.R[in.reg]; c.R[in.rm] = r; logic64(c, r) },
	aluXOR: func(c *CPU, in *inst) { r := c.R[in.rm] ^ c.R[in.reg]; c.R[in.rm] = r; logic64(c, r) },
}

var aluRI64 = [8]handler{
	aluADD: func(c *CPU, in *inst) {
		a, b := c.R[in.rm], in.imm
		c.R[in.rm] = a + b
		c.setLazy(lzAdd, 8, false, a, b, a+b)
	},
	aluSUB: func(c *CPU, in *inst) {
		a, b := c.R[in.rm], in.imm
		c.R[in.rm] = a - b
		c.setLazy(lzSub, 8, false, a, b, a-b)
	},
	aluCMP: func(c *CPU, in *inst) {
		a, b := c.R[in.rm], in.imm
		c.setLazy(lzSub, 8, false, a, b, a-b)
	},
	aluAND: func(c *CPU, in *inst) { r := c.R[in.rm] & in.imm; c.R[in.rm] = r; logic64(c, r) },
	aluOR:  func(c *CPU, in *inst) { r := c.R[in.rm] | in.imm; c.R[in.rm] = r; logic64(c, r) },
	aluXOR: func(c *CPU, in *inst) { r := c.R[in.rm] ^ in.imm; c.R[in.rm] = r; logic64(c, r) },
}
