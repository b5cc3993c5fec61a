package cpu

// Decimal arithmetic (SDM Vol. 2: DAA, DAS, AAA, AAS, AAM, AAD).

func opDAA(c *CPU, in *inst) {
	al := uint64(uint8(c.R[EAX]))
	cf, af := c.cf(), c.af()
	old := al
	ncf, naf := false, false
	if al&0x0F > 9 || af {
		al += 6
		ncf = cf || al > 0xFF
		naf = true
	}
	if old > 0x99 || cf {
		al += 0x60
		ncf = true
	}
	al &= 0xFF
	c.setReg(1, EAX, al)
	c.setArith(ArithFlags, szp(uint64(al), 1)|b2f(ncf, FlagCF)|b2f(naf, FlagAF)|b2f((old^al)&al&0x80 != 0, FlagOF))
}

func opDAS(c *CPU, in *inst) {
	al := uint64(uint8(c.R[EAX]))
	cf, af := c.cf(), c.af()
	old := al
	ncf, naf := false, false
	if al&0x0F > 9 || af {
		ncf = cf || al < 6
		al -= 6
		naf = true
	}
	if old > 0x99 || cf {
		al -= 0x60
		ncf = true
	}
	al &= 0xFF
	c.setReg(1, EAX, al)
	c.setArith(ArithFlags, szp(uint64(al), 1)|b2f(ncf, FlagCF)|b2f(naf, FlagAF)|b2f((old^al)&old&0x80 != 0, FlagOF))
}

func opAAA(c *CPU, in *inst) {
	ax := uint64(uint16(c.R[EAX]))
	adj := ax&0x0F > 9 || c.af()
	if adj {
		ax += 0x106
	}
	ax &^= 0xF0
	c.setReg(2, EAX, ax)
	c.setArith(ArithFlags, szp(uint64(ax), 1)&^FlagSF|b2f(adj, FlagAF|FlagCF))
}

func opAAS(c *CPU, in *inst) {
	ax := uint64(uint16(c.R[EAX]))
	adj := ax&0x0F > 9 || c.af()
	if adj {
		ax -= 6
		ax -= 0x100
	}
	ax &^= 0xF0
	c.setReg(2, EAX, ax)
	c.setArith(ArithFlags, szp(uint64(ax), 1)&^FlagSF|b2f(adj, FlagAF|FlagCF))
}

func opAAM(c *CPU, in *inst) {
	base := in.imm & 0xFF
	if base == 0 {
		c.raise(ExcDE, 0, false)
	}
	al := uint64(uint8(c.R[EAX]))
	r := (al/base)<<8 | al%base
	c.setReg(2, EAX, r)
	c.setArith(ArithFlags, szp(uint64(r&0xFF), 1))
}

func opAAD(c *CPU, in *inst) {
	al := uint64(uint8(c.R[EAX]))
	ah := uint64(uint8(c.R[EAX] >> 8))
	prod := (ah * (in.imm & 0xFF)) & 0xFF
	r := (al + prod) & 0xFF
	c.setReg(2, EAX, r)
	// Flags as for an 8-bit ADD of AL and AH×imm8 (what hardware leaves in OF, AF, CF).
	c.aluFlags(aluADD, 1, al, prod, al+prod, false)
}
