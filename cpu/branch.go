package cpu

// Near control transfers (SDM Vol. 2: Jcc, JMP, CALL, RET, LOOP, JCXZ).

// checkTarget raises #GP(0) for a branch target beyond the CS limit, or
// not canonical in 64-bit mode (SDM Vol. 2A JMP, "64-bit mode exceptions").
func (c *CPU) checkTarget(target uint64) {
	if c.mode == mode64 {
		if !canonical(target) {
			c.gp(0)
		}
	} else if target > uint64(c.Seg[CS].Limit) {
		c.gp(0)
	}
}

// jumpNear sets EIP to a near target after checkTarget.
func (c *CPU) jumpNear(target uint64) {
	c.checkTarget(target)
	c.EIP = target
}

func opJcc(c *CPU, in *inst) {
	if c.cond(in.sub) {
		c.jumpNear(in.imm)
	} else {
		c.EIP = in.next
	}
}

func opJMPrel(c *CPU, in *inst) { c.jumpNear(in.imm) }

func opCALLrel(c *CPU, in *inst) {
	c.checkTarget(in.imm)
	c.push(in.size, in.next)
	c.EIP = in.imm
}

func jmpE(c *CPU, in *inst) {
	t := c.readE(in)
	c.jumpNear(t)
}

func callE(c *CPU, in *inst) {
	t := c.readE(in)
	c.checkTarget(t)
	c.push(in.size, in.next)
	c.EIP = t
}

func opRET(c *CPU, in *inst) {
	t := c.peek(in.size, 0)
	c.jumpNear(t)
	c.setSP(c.sp() + uint64(in.size))
}

func opRETimm(c *CPU, in *inst) {
	t := c.peek(in.size, 0)
	c.jumpNear(t)
	c.setSP(c.sp() + uint64(in.size) + in.imm)
}

// counter returns CX or ECX by address size.
func (c *CPU) counter(in *inst) uint64 {
	return c.R[ECX] & sizeMask(in.asize)
}

func (c *CPU) setCounter(in *inst, v uint64) {
	c.setReg(in.asize, ECX, v)
}

// opLOOP: sub 0 LOOPNE, 1 LOOPE, 2 LOOP.
func opLOOP(c *CPU, in *inst) {
	n := c.counter(in) - 1
	c.setCounter(in, n)
	take := n != 0
	switch in.sub {
	case 0:
		take = take && !c.zf()
	case 1:
		take = take && c.zf()
	}
	if take {
		c.jumpNear(in.imm)
	} else {
		c.EIP = in.next
	}
}

func opJCXZ(c *CPU, in *inst) {
	if c.counter(in) == 0 {
		c.jumpNear(in.imm)
	} else {
		c.EIP = in.next
	}
}
