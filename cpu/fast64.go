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
	case same(fn, opShift) && !in.mem:
		specializeShift(in, &shiftRI64, &shiftRC64)
	case same(fn, testEG) && !in.mem:
		in.fn = testRR64
	case same(fn, testEI) && !in.mem:
		in.fn = testRI64
	case same(fn, testAI):
		in.fn, in.rm = testRI64, EAX
	case same(fn, movRI):
		in.fn = movRI64
	case same(fn, movzxB) && !in.mem && lowByteReg(in.rm):
		in.fn = movzxRR8
	case same(fn, opMOVSXD) && !in.mem:
		in.fn = movsxdRR
	case same(fn, imulGE) && !in.mem:
		in.fn = imulRR64
	case same(fn, imulGEI) && !in.mem:
		in.fn = imulRRI64
	case same(fn, opCMOVcc) && !in.mem:
		in.fn = cmovRR64
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

// Shifts of a 64-bit register; n is 1–63 (see shl32).
func shl64(c *CPU, r uint8, n uint64) {
	v := c.R[r]
	res := v << n
	cf := v>>(64-n)&1 != 0
	c.R[r] = res
	c.setResFlags(8, res, cf, res>>63 != 0 != cf)
}

func shr64(c *CPU, r uint8, n uint64) {
	v := c.R[r]
	res := v >> n
	c.R[r] = res
	c.setResFlags(8, res, v>>(n-1)&1 != 0, v>>63 != 0)
}

func sar64(c *CPU, r uint8, n uint64) {
	v := int64(c.R[r])
	res := uint64(v >> n)
	c.R[r] = res
	c.setResFlags(8, res, v>>(n-1)&1 != 0, false)
}

var shiftRI64 = [8]handler{
	shSHL: func(c *CPU, in *inst) { shl64(c, in.rm, in.imm&63) },
	shSAL: func(c *CPU, in *inst) { shl64(c, in.rm, in.imm&63) },
	shSHR: func(c *CPU, in *inst) { shr64(c, in.rm, in.imm&63) },
	shSAR: func(c *CPU, in *inst) { sar64(c, in.rm, in.imm&63) },
}

var shiftRC64 = [8]handler{
	shSHL: func(c *CPU, in *inst) { shiftCL64(c, in, shl64) },
	shSAL: func(c *CPU, in *inst) { shiftCL64(c, in, shl64) },
	shSHR: func(c *CPU, in *inst) { shiftCL64(c, in, shr64) },
	shSAR: func(c *CPU, in *inst) { shiftCL64(c, in, sar64) },
}

func shiftCL64(c *CPU, in *inst, f func(c *CPU, r uint8, n uint64)) {
	if n := c.R[ECX] & 63; n != 0 {
		f(c, in.rm, n)
	}
}

func imulRR64(c *CPU, in *inst) {
	hi, lo := mul128(int64(c.R[in.reg]), int64(c.R[in.rm]))
	c.R[in.reg] = lo
	over := hi != int64(lo)>>63
	c.setResFlags(8, lo, over, over)
}

func imulRRI64(c *CPU, in *inst) {
	hi, lo := mul128(int64(c.R[in.rm]), int64(in.imm))
	c.R[in.reg] = lo
	over := hi != int64(lo)>>63
	c.setResFlags(8, lo, over, over)
}

func cmovRR64(c *CPU, in *inst) {
	if c.cond(in.sub) {
		c.R[in.reg] = c.R[in.rm]
	}
}

func logic64(c *CPU, r uint64) { c.setLazy(lzLogic, 8, false, r, r, r) }

func movsxdRR(c *CPU, in *inst) { c.R[in.reg] = uint64(int64(int32(c.R[in.rm]))) }

func testRR64(c *CPU, in *inst) { logic64(c, c.R[in.rm]&c.R[in.reg]) }
func testRI64(c *CPU, in *inst) { logic64(c, c.R[in.rm]&in.imm) }

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
