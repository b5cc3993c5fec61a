package cpu

// Integer arithmetic and logic (SDM Vol. 2: ADD, ADC, SUB, SBB, AND, OR,
// XOR, CMP, TEST, INC, DEC, NEG, NOT, XADD, CMPXCHG, CMPXCHG8B).

const (
	aluADD = iota
	aluOR
	aluADC
	aluSBB
	aluAND
	aluSUB
	aluXOR
	aluCMP
)

// aluCompute returns the result of ALU operation op; cin is the carry in.
func aluCompute(op uint8, a, b uint64, cin bool) uint64 {
	var ci uint64
	if cin {
		ci = 1
	}
	switch op {
	case aluADD:
		return a + b
	case aluOR:
		return a | b
	case aluADC:
		return a + b + ci
	case aluSBB:
		return a - b - ci
	case aluAND:
		return a & b
	case aluXOR:
		return a ^ b
	}
	return a - b // SUB, CMP
}

var aluLazy = [8]lazyOp{lzAdd, lzLogic, lzAdc, lzSbb, lzLogic, lzSub, lzLogic, lzSub}

// aluFlags records the flags of an ALU operation.
func (c *CPU) aluFlags(op uint8, size uint8, a, b, res uint64, cin bool) {
	c.setLazy(aluLazy[op], size, cin, uint64(a), uint64(b), uint64(res))
}

func (c *CPU) aluOp(in *inst, a, b uint64) (uint64, bool) {
	cin := false
	if in.sub == aluADC || in.sub == aluSBB {
		cin = c.cf()
	}
	return aluCompute(in.sub, a, b, cin), cin
}

// aluEG: op Eb/Ev, Gb/Gv.
func aluEG(c *CPU, in *inst) {
	var m rmw
	b := c.getReg(in.size, in.reg)
	if in.sub == aluCMP {
		a := c.readE(in)
		c.aluFlags(aluCMP, in.size, a, b, a-b, false)
		return
	}
	a := c.rmwRead(in, &m)
	r, cin := c.aluOp(in, a, b)
	c.rmwWrite(in, &m, r)
	c.aluFlags(in.sub, in.size, a, b, r, cin)
}

// aluGE: op Gb/Gv, Eb/Ev.
func aluGE(c *CPU, in *inst) {
	a := c.getReg(in.size, in.reg)
	b := c.readE(in)
	r, cin := c.aluOp(in, a, b)
	if in.sub != aluCMP {
		c.setReg(in.size, in.reg, r)
	}
	c.aluFlags(in.sub, in.size, a, b, r, cin)
}

// aluAI: op AL/eAX, imm.
func aluAI(c *CPU, in *inst) {
	a := c.getReg(in.size, EAX)
	b := in.imm & sizeMask(in.size)
	r, cin := c.aluOp(in, a, b)
	if in.sub != aluCMP {
		c.setReg(in.size, EAX, r)
	}
	c.aluFlags(in.sub, in.size, a, b, r, cin)
}

// aluEI: Grp1 op E, imm.
func aluEI(c *CPU, in *inst) {
	b := in.imm & sizeMask(in.size)
	if in.sub == aluCMP {
		a := c.readE(in)
		c.aluFlags(aluCMP, in.size, a, b, a-b, false)
		return
	}
	var m rmw
	a := c.rmwRead(in, &m)
	r, cin := c.aluOp(in, a, b)
	c.rmwWrite(in, &m, r)
	c.aluFlags(in.sub, in.size, a, b, r, cin)
}

func testEG(c *CPU, in *inst) {
	r := c.readE(in) & c.getReg(in.size, in.reg)
	c.aluFlags(aluAND, in.size, r, r, r, false)
}

func testAI(c *CPU, in *inst) {
	r := c.getReg(in.size, EAX) & in.imm
	c.aluFlags(aluAND, in.size, r, r, r, false)
}

func testEI(c *CPU, in *inst) {
	r := c.readE(in) & in.imm
	c.aluFlags(aluAND, in.size, r, r, r, false)
}

func (c *CPU) incFlags(size uint8, a, r uint64) {
	c.setLazy(lzInc, size, c.cf(), uint64(a), 1, uint64(r))
}

func (c *CPU) decFlags(size uint8, a, r uint64) {
	c.setLazy(lzDec, size, c.cf(), uint64(a), 1, uint64(r))
}

func incReg(c *CPU, in *inst) {
	a := c.getReg(in.size, in.reg)
	c.setReg(in.size, in.reg, a+1)
	c.incFlags(in.size, a, a+1)
}

func decReg(c *CPU, in *inst) {
	a := c.getReg(in.size, in.reg)
	c.setReg(in.size, in.reg, a-1)
	c.decFlags(in.size, a, a-1)
}

func incE(c *CPU, in *inst) {
	var m rmw
	a := c.rmwRead(in, &m)
	c.rmwWrite(in, &m, a+1)
	c.incFlags(in.size, a, a+1)
}

func decE(c *CPU, in *inst) {
	var m rmw
	a := c.rmwRead(in, &m)
	c.rmwWrite(in, &m, a-1)
	c.decFlags(in.size, a, a-1)
}

func opNOT(c *CPU, in *inst) {
	var m rmw
	a := c.rmwRead(in, &m)
	c.rmwWrite(in, &m, ^a)
}

func opNEG(c *CPU, in *inst) {
	var m rmw
	b := c.rmwRead(in, &m)
	r := -b
	c.rmwWrite(in, &m, r)
	c.aluFlags(aluSUB, in.size, 0, b, r, false)
}

// opXADD exchanges and adds (SDM Vol. 2 XADD: TEMP ← SRC + DEST;
// SRC ← DEST; DEST ← TEMP, so with one register as both, the sum wins).
func opXADD(c *CPU, in *inst) {
	var m rmw
	a := c.rmwRead(in, &m)
	b := c.getReg(in.size, in.reg)
	r := a + b
	if in.mem {
		c.rmwWrite(in, &m, r) // memory first: a fault leaves the register intact
		c.setReg(in.size, in.reg, a)
	} else {
		c.setReg(in.size, in.reg, a)
		c.rmwWrite(in, &m, r)
	}
	c.aluFlags(aluADD, in.size, a, b, r, false)
}

// opCMPXCHG compares the accumulator with the destination (SDM Vol. 2
// CMPXCHG: the destination is written in both cases on a memory operand).
func opCMPXCHG(c *CPU, in *inst) {
	var m rmw
	dst := c.rmwRead(in, &m)
	acc := c.getReg(in.size, EAX)
	if acc&sizeMask(in.size) == dst {
		c.rmwWrite(in, &m, c.getReg(in.size, in.reg))
	} else {
		c.rmwWrite(in, &m, dst)
		c.setReg(in.size, EAX, dst)
	}
	c.aluFlags(aluCMP, in.size, acc, dst, acc-dst, false)
}

// opCMPXCHG8B compares EDX:EAX with m64, or with REX.W RDX:RAX with m128
// (SDM Vol. 2 CMPXCHG8B/CMPXCHG16B; the 16-byte form needs an aligned operand).
func opCMPXCHG8B(c *CPU, in *inst) {
	off := c.ea(in)
	s := int(in.seg)
	if in.size == 8 {
		la := c.linW(s, off, 16)
		if la&15 != 0 {
			c.gp(0)
		}
		c.linR(s, off, 16)
		lo, hi := c.lread64(la), c.lread64(la+8)
		c.materialize()
		if lo == c.R[EAX] && hi == c.R[EDX] {
			c.lwrite64(la, c.R[EBX])
			c.lwrite64(la+8, c.R[ECX])
			c.eflags |= FlagZF
		} else {
			c.lwrite64(la, lo)
			c.lwrite64(la+8, hi)
			c.R[EAX], c.R[EDX] = lo, hi
			c.eflags &^= FlagZF
		}
		return
	}
	la := c.linW(s, off, 8)
	c.linR(s, off, 8)
	v := c.lread64(la)
	lo, hi := uint32(v), uint32(v>>32)
	c.materialize()
	if lo == uint32(c.R[EAX]) && hi == uint32(c.R[EDX]) {
		c.lwrite64(la, uint64(uint32(c.R[EBX]))|uint64(uint32(c.R[ECX]))<<32)
		c.eflags |= FlagZF
	} else {
		c.lwrite64(la, v)
		c.R[EAX], c.R[EDX] = uint64(lo), uint64(hi)
		c.eflags &^= FlagZF
	}
}

func opCMC(c *CPU, in *inst) { c.setCF(!c.cf()) }
func opCLC(c *CPU, in *inst) { c.setCF(false) }
func opSTC(c *CPU, in *inst) { c.setCF(true) }
func opCLD(c *CPU, in *inst) { c.eflags &^= FlagDF }
func opSTD(c *CPU, in *inst) { c.eflags |= FlagDF }

// opSALC sets AL to 0xFF if CF, else 0 (undocumented D6).
func opSALC(c *CPU, in *inst) {
	if c.cf() {
		c.setReg(1, EAX, 0xFF)
	} else {
		c.setReg(1, EAX, 0)
	}
}

func opSAHF(c *CPU, in *inst) {
	c.materialize()
	ah := uint32(uint8(c.R[EAX] >> 8))
	m := uint32(FlagSF | FlagZF | FlagAF | FlagPF | FlagCF)
	c.eflags = c.eflags&^m | ah&m
}

func opLAHF(c *CPU, in *inst) {
	f := c.flags()&(FlagSF|FlagZF|FlagAF|FlagPF|FlagCF) | 2
	c.R[EAX] = c.R[EAX]&^0xFF00 | uint64(f)<<8
}

func opSETcc(c *CPU, in *inst) {
	var v uint64
	if c.cond(in.sub) {
		v = 1
	}
	c.writeE(in, v)
}

// opCMOVcc: the source is read (and may fault) whatever the condition; with
// a 32-bit operand the destination is written only when the condition holds.
func opCMOVcc(c *CPU, in *inst) {
	v := c.readE(in)
	if c.cond(in.sub) {
		c.setReg(in.size, in.reg, v)
	} else if in.size == 4 {
		c.R[in.reg] &= 0xFFFFFFFF // a 32-bit destination is zero-extended either way
	}
}
