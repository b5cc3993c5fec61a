package cpu

// Compare-and-branch fusion: a block that ends with CMP, SUB, AND or TEST
// on registers followed by Jcc runs both in one handler. The pair stays two
// instructions everywhere else (counts, fault addresses): only the dispatch
// of the Jcc disappears, and its condition is computed from the operands at
// hand instead of from the lazy flags. The flags are still recorded, since
// code after the branch may read them.
//
// The fused handler sits in the flag setter's slot and takes the Jcc's
// operands there: disp (unused by a register form) holds the branch target,
// imm2 the fall-through address and sub the condition code.

// fuse rewrites the last two instructions of a block for fusion if it can;
// it returns how many instructions execBlock dispatches.
func fuse(insts []inst) int {
	n := len(insts)
	if specializeOff || n < 2 || !same(insts[n-1].fn, opJcc) {
		return n
	}
	p, j := &insts[n-2], &insts[n-1]
	f := fusedHandlers[funcID(p.fn)]
	if f == nil || p.mem || j.sub>>1 == 5 { // JP and JNP stay apart (no PF below)
		return n
	}
	p.fn = f
	p.disp, p.imm2, p.sub = j.imm, j.next, j.sub
	p.branch = true
	return n - 1
}

var fusedHandlers = map[uintptr]handler{}

func init() {
	for _, e := range []struct{ flags, fused handler }{
		{aluRR32[aluCMP], cmpRRJcc32},
		{aluRI32[aluCMP], cmpRIJcc32},
		{aluRR32[aluSUB], subRRJcc32},
		{aluRI32[aluSUB], subRIJcc32},
		{aluRR32[aluAND], andRRJcc32},
		{aluRI32[aluAND], andRIJcc32},
		{testRR32, testRRJcc32},
		{testRI32, testRIJcc32},
		{aluRR64[aluCMP], cmpRRJcc64},
		{aluRI64[aluCMP], cmpRIJcc64},
		{aluRR64[aluSUB], subRRJcc64},
		{aluRI64[aluSUB], subRIJcc64},
		{aluRR64[aluAND], andRRJcc64},
		{aluRI64[aluAND], andRIJcc64},
		{testRR64, testRRJcc64},
		{cmpRI8, cmpRIJcc8},
		{testRI64, testRIJcc64},
	} {
		fusedHandlers[funcID(e.flags)] = e.fused
	}
}

// branchIf ends a fused pair: it jumps when condition in.sub holds for the
// condition index idx (flags.go), else falls through past the Jcc.
func (c *CPU) branchIf(in *inst, idx uint32) {
	if ccTable[in.sub&15]>>idx&1 != 0 {
		c.EIP = in.next // the Jcc's own address, should the target fault
		c.jumpNear(in.disp)
	} else {
		c.EIP = in.imm2
	}
}

// Condition indexes (CF | ZF<<1 | SF<<2 | OF<<3; PF is left out, see cond)
// of r = a − b and of logic results, at 32 and 64 bits.
func sub32Index(a, b, r uint32) uint32 {
	return b2u(a < b) | b2u(r == 0)<<1 | r>>31<<2 | ((a^b)&(a^r))>>31<<3
}

func sub64Index(a, b, r uint64) uint32 {
	return b2u(a < b) | b2u(r == 0)<<1 | uint32(r>>63)<<2 | uint32(((a^b)&(a^r))>>63)<<3
}

func logic32Index(r uint32) uint32 {
	return b2u(r == 0)<<1 | r>>31<<2
}

func logic64Index(r uint64) uint32 {
	return b2u(r == 0)<<1 | uint32(r>>63)<<2
}

func cmpRRJcc32(c *CPU, in *inst) {
	a, b := uint32(c.R[in.rm]), uint32(c.R[in.reg])
	r := a - b
	c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(r))
	c.branchIf(in, sub32Index(a, b, r))
}

func cmpRIJcc32(c *CPU, in *inst) {
	a, b := uint32(c.R[in.rm]), uint32(in.imm)
	r := a - b
	c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(r))
	c.branchIf(in, sub32Index(a, b, r))
}

func subRRJcc32(c *CPU, in *inst) {
	a, b := uint32(c.R[in.rm]), uint32(c.R[in.reg])
	r := a - b
	c.R[in.rm] = uint64(r)
	c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(r))
	c.branchIf(in, sub32Index(a, b, r))
}

func subRIJcc32(c *CPU, in *inst) {
	a, b := uint32(c.R[in.rm]), uint32(in.imm)
	r := a - b
	c.R[in.rm] = uint64(r)
	c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(r))
	c.branchIf(in, sub32Index(a, b, r))
}

func andRRJcc32(c *CPU, in *inst) {
	r := uint32(c.R[in.rm]) & uint32(c.R[in.reg])
	c.R[in.rm] = uint64(r)
	c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	c.branchIf(in, logic32Index(r))
}

func andRIJcc32(c *CPU, in *inst) {
	r := uint32(c.R[in.rm]) & uint32(in.imm)
	c.R[in.rm] = uint64(r)
	c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	c.branchIf(in, logic32Index(r))
}

func testRRJcc32(c *CPU, in *inst) {
	r := uint32(c.R[in.rm]) & uint32(c.R[in.reg])
	c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	c.branchIf(in, logic32Index(r))
}

func testRIJcc32(c *CPU, in *inst) {
	r := uint32(c.R[in.rm]) & uint32(in.imm)
	c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	c.branchIf(in, logic32Index(r))
}

func cmpRRJcc64(c *CPU, in *inst) {
	a, b := c.R[in.rm], c.R[in.reg]
	r := a - b
	c.setLazy(lzSub, 8, false, a, b, r)
	c.branchIf(in, sub64Index(a, b, r))
}

func cmpRIJcc64(c *CPU, in *inst) {
	a, b := c.R[in.rm], in.imm
	r := a - b
	c.setLazy(lzSub, 8, false, a, b, r)
	c.branchIf(in, sub64Index(a, b, r))
}

func subRRJcc64(c *CPU, in *inst) {
	a, b := c.R[in.rm], c.R[in.reg]
	r := a - b
	c.R[in.rm] = r
	c.setLazy(lzSub, 8, false, a, b, r)
	c.branchIf(in, sub64Index(a, b, r))
}

func subRIJcc64(c *CPU, in *inst) {
	a, b := c.R[in.rm], in.imm
	r := a - b
	c.R[in.rm] = r
	c.setLazy(lzSub, 8, false, a, b, r)
	c.branchIf(in, sub64Index(a, b, r))
}

func andRRJcc64(c *CPU, in *inst) {
	r := c.R[in.rm] & c.R[in.reg]
	c.R[in.rm] = r
	logic64(c, r)
	c.branchIf(in, logic64Index(r))
}

func andRIJcc64(c *CPU, in *inst) {
	r := c.R[in.rm] & in.imm
	c.R[in.rm] = r
	logic64(c, r)
	c.branchIf(in, logic64Index(r))
}

func testRRJcc64(c *CPU, in *inst) {
	r := c.R[in.rm] & c.R[in.reg]
	logic64(c, r)
	c.branchIf(in, logic64Index(r))
}

func testRIJcc64(c *CPU, in *inst) {
	r := c.R[in.rm] & in.imm
	logic64(c, r)
	c.branchIf(in, logic64Index(r))
}

func cmpRIJcc8(c *CPU, in *inst) {
	a, b := uint8(c.R[in.rm]), uint8(in.imm)
	r := a - b
	c.setLazy(lzSub, 1, false, uint64(a), uint64(b), uint64(r))
	c.branchIf(in, b2u(a < b)|b2u(r == 0)<<1|uint32(r>>7)<<2|uint32((a^b)&(a^r)>>7)<<3)
}
