package cpu

// String instructions with REP/REPE/REPNE (SDM Vol. 2: MOVS, CMPS, STOS,
// LODS, SCAS, INS, OUTS; Vol. 1 §7.3.9). Each iteration updates the
// registers, so a fault leaves the instruction restartable.

// index registers by address size.
func (c *CPU) idx(in *inst, r uint8) uint64 {
	return c.R[r] & sizeMask(in.asize)
}

func (c *CPU) advance(in *inst, r uint8) {
	d := uint64(in.size)
	if c.eflags&FlagDF != 0 {
		d = -d
	}
	c.setReg(in.asize, r, c.R[r]+d)
}

// repeat runs body once, or while the counter is non-zero with a REP prefix.
// cmp makes REPE/REPNE test ZF after each iteration.
func (c *CPU) repeat(in *inst, cmp bool, body func()) {
	if in.rep == 0 {
		body()
		return
	}
	for c.counter(in) != 0 {
		body()
		c.setCounter(in, c.counter(in)-1)
		if cmp {
			z := c.zf()
			if in.rep == prefF3 && !z || in.rep == prefF2 && z {
				return
			}
		}
	}
}

func opMOVS(c *CPU, in *inst) {
	c.repeat(in, false, func() {
		v := c.readSize(int(in.seg), c.idx(in, ESI), in.size)
		c.writeSize(ES, c.idx(in, EDI), in.size, v)
		c.advance(in, ESI)
		c.advance(in, EDI)
	})
}

func opSTOS(c *CPU, in *inst) {
	v := c.getReg(in.size, EAX)
	c.repeat(in, false, func() {
		c.writeSize(ES, c.idx(in, EDI), in.size, v)
		c.advance(in, EDI)
	})
}

func opLODS(c *CPU, in *inst) {
	c.repeat(in, false, func() {
		c.setReg(in.size, EAX, c.readSize(int(in.seg), c.idx(in, ESI), in.size))
		c.advance(in, ESI)
	})
}

func opCMPS(c *CPU, in *inst) {
	c.repeat(in, true, func() {
		a := c.readSize(int(in.seg), c.idx(in, ESI), in.size)
		b := c.readSize(ES, c.idx(in, EDI), in.size)
		c.advance(in, ESI)
		c.advance(in, EDI)
		c.aluFlags(aluCMP, in.size, a, b, a-b, false)
	})
}

func opSCAS(c *CPU, in *inst) {
	a := c.getReg(in.size, EAX)
	c.repeat(in, true, func() {
		b := c.readSize(ES, c.idx(in, EDI), in.size)
		c.advance(in, EDI)
		c.aluFlags(aluCMP, in.size, a, b, a-b, false)
	})
}

func opINS(c *CPU, in *inst) {
	port := uint16(c.R[EDX])
	c.checkIO(port, in.size)
	c.repeat(in, false, func() {
		// Check the destination before the port read so a fault loses no data.
		c.linW(ES, c.idx(in, EDI), uint64(in.size))
		v := uint64(c.io.In(port, int(in.size)))
		c.writeSize(ES, c.idx(in, EDI), in.size, v)
		c.advance(in, EDI)
	})
}

func opOUTS(c *CPU, in *inst) {
	port := uint16(c.R[EDX])
	c.checkIO(port, in.size)
	c.repeat(in, false, func() {
		v := c.readSize(int(in.seg), c.idx(in, ESI), in.size)
		c.io.Out(port, int(in.size), uint32(v))
		c.advance(in, ESI)
	})
}
