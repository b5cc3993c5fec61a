package cpu

import "math/bits"

// Data movement and the stack (SDM Vol. 2: MOV, LEA, XCHG, MOVZX, MOVSX,
// CBW, CWD, BSWAP, XLAT, PUSH, POP, PUSHA, POPA, ENTER, LEAVE).

func opNOP(c *CPU, in *inst) {}

func movEG(c *CPU, in *inst) { c.writeE(in, c.getReg(in.size, in.reg)) }
func movGE(c *CPU, in *inst) { c.setReg(in.size, in.reg, c.readE(in)) }
func movRI(c *CPU, in *inst) { c.setReg(in.size, in.reg, in.imm) }
func movEI(c *CPU, in *inst) { c.writeE(in, in.imm) }

// movAO: MOV AL/eAX, moffs.
func movAO(c *CPU, in *inst) {
	c.setReg(in.size, EAX, c.readSize(int(in.seg), in.disp, in.size))
}

func movOA(c *CPU, in *inst) {
	c.writeSize(int(in.seg), in.disp, in.size, c.getReg(in.size, EAX))
}

func opLEA(c *CPU, in *inst) { c.setReg(in.size, in.reg, c.ea(in)) }

func xchgEG(c *CPU, in *inst) {
	var m rmw
	a := c.rmwRead(in, &m)
	b := c.getReg(in.size, in.reg)
	c.rmwWrite(in, &m, b)
	c.setReg(in.size, in.reg, a)
}

func xchgAX(c *CPU, in *inst) {
	if in.reg == EAX {
		return // 90: NOP, even in 64-bit mode where XCHG EAX,EAX would zero-extend
	}
	a, b := c.getReg(in.size, EAX), c.getReg(in.size, in.reg)
	c.setReg(in.size, EAX, b)
	c.setReg(in.size, in.reg, a)
}

func movzxB(c *CPU, in *inst) {
	sz := in.size
	v := c.readEAt(in, 1)
	c.setReg(sz, in.reg, v)
}

func movzxW(c *CPU, in *inst) {
	sz := in.size
	v := c.readEAt(in, 2)
	c.setReg(sz, in.reg, v)
}

func movsxB(c *CPU, in *inst) {
	sz := in.size
	v := c.readEAt(in, 1)
	c.setReg(sz, in.reg, signExtend(v, 1))
}

func movsxW(c *CPU, in *inst) {
	sz := in.size
	v := c.readEAt(in, 2)
	c.setReg(sz, in.reg, signExtend(v, 2))
}

// opCBW: CBW, CWDE, CDQE (SDM Vol. 2 CBW/CWDE/CDQE).
func opCBW(c *CPU, in *inst) {
	c.setReg(in.size, EAX, signExtend(c.getReg(in.size/2, EAX), in.size/2))
}

// opCWD: CWD, CDQ, CQO fill rDX with the sign of rAX.
func opCWD(c *CPU, in *inst) {
	var v uint64
	if c.getReg(in.size, EAX)&signBit(in.size) != 0 {
		v = ^uint64(0)
	}
	c.setReg(in.size, EDX, v)
}

func opBSWAP(c *CPU, in *inst) {
	switch in.size {
	case 2:
		// BSWAP with a 16-bit operand is undefined; hardware clears the word.
		c.setReg(2, in.reg, 0)
	case 4:
		c.R[in.reg] = uint64(bits.ReverseBytes32(uint32(c.R[in.reg])))
	default:
		c.R[in.reg] = bits.ReverseBytes64(c.R[in.reg])
	}
}

func opXLAT(c *CPU, in *inst) {
	off := (c.R[EBX] + uint64(uint8(c.R[EAX]))) & sizeMask(in.asize)
	c.setReg(1, EAX, uint64(c.read8(int(in.seg), off)))
}

// The stack. SS.B selects ESP or SP (SDM Vol. 1 §6.2.3).

// stackSize is the stack-address size: 2 (SP), 4 (ESP) or 8 (RSP in 64-bit mode).
func (c *CPU) stackSize() uint8 {
	switch {
	case c.mode == mode64:
		return 8
	case c.stackB:
		return 4
	}
	return 2
}

func (c *CPU) sp() uint64 { return c.R[ESP] & sizeMask(c.stackSize()) }

func (c *CPU) setSP(v uint64) { c.setReg(c.stackSize(), ESP, v) }

func (c *CPU) spMask() uint64 { return sizeMask(c.stackSize()) }

func (c *CPU) push(size uint8, v uint64) {
	sp := (c.sp() - uint64(size)) & c.spMask()
	c.writeSize(SS, sp, size, v)
	c.setSP(sp)
}

func (c *CPU) pop(size uint8) uint64 {
	sp := c.sp()
	v := c.readSize(SS, sp, size)
	c.setSP(sp + uint64(size))
	return v
}

// peek reads the stack at an offset from the top without popping.
func (c *CPU) peek(size uint8, at uint64) uint64 {
	return c.readSize(SS, (c.sp()+at)&c.spMask(), size)
}

func pushReg(c *CPU, in *inst) { c.push(in.size, c.getReg(in.size, in.reg)) }

func popReg(c *CPU, in *inst) {
	v := c.pop(in.size)
	c.setReg(in.size, in.reg, v)
}

func pushImm(c *CPU, in *inst) { c.push(in.size, in.imm) }

func pushE(c *CPU, in *inst) { c.push(in.size, c.readE(in)) }

// popE: POP Ev computes the address after incrementing ESP (SDM Vol. 2 POP).
func popE(c *CPU, in *inst) {
	v := c.peek(in.size, 0)
	old := c.R[ESP]
	c.setSP(c.sp() + uint64(in.size))
	if in.mem {
		func() {
			defer func() {
				if r := recover(); r != nil {
					c.R[ESP] = old
					panic(r)
				}
			}()
			c.writeE(in, v)
		}()
		return
	}
	c.setReg(in.size, in.rm, v)
}

func opPUSHA(c *CPU, in *inst) {
	sp := c.sp()
	m := c.spMask()
	if !c.pmode && sp&1 != 0 && sp < 16 {
		c.gp(0) // real mode: SP = 7, 9, 11, 13 or 15 (SDM Vol. 2 PUSHA, real-address mode exceptions)
	}
	// Check every slot first so that a fault leaves ESP untouched; SP wraps
	// within the segment between the pushes.
	for i := uint64(1); i <= 8; i++ {
		c.linW(SS, (sp-uint64(in.size)*i)&m, uint64(in.size))
	}
	var vals [8]uint64
	for r := uint8(0); r < 8; r++ {
		vals[r] = c.getReg(in.size, r)
	}
	for r := 0; r < 8; r++ {
		sp = (sp - uint64(in.size)) & m
		c.writeSize(SS, sp, in.size, vals[r])
	}
	c.setSP(sp)
}

func opPOPA(c *CPU, in *inst) {
	sp := c.sp()
	m := c.spMask()
	var vals [8]uint64
	for r := 7; r >= 0; r-- {
		vals[r] = c.readSize(SS, sp, in.size)
		sp = (sp + uint64(in.size)) & m
	}
	for r := uint8(0); r < 8; r++ {
		if r != ESP {
			c.setReg(in.size, r, vals[r])
		}
	}
	c.setSP(sp)
}

// opENTER makes a stack frame (SDM Vol. 2 ENTER).
func opENTER(c *CPU, in *inst) {
	size := in.size
	alloc := in.imm
	level := in.imm2 & 31
	m := c.spMask()
	sp := c.sp()
	bp := c.getReg(c.stackSize(), EBP)
	sp = (sp - uint64(size)) & m
	c.writeSize(SS, sp, size, c.getReg(size, EBP))
	frame := sp
	if level > 0 {
		for i := uint64(1); i < level; i++ {
			bp = (bp - uint64(size)) & m
			v := c.readSize(SS, bp, size)
			sp = (sp - uint64(size)) & m
			c.writeSize(SS, sp, size, v)
		}
		sp = (sp - uint64(size)) & m
		c.writeSize(SS, sp, size, frame)
	}
	newSP := (sp - alloc) & m
	// The new top of stack must be writable (#SS otherwise).
	if alloc > 0 {
		c.linW(SS, newSP, 1)
	}
	c.setReg(size, EBP, frame)
	c.setSP(newSP)
}

func opLEAVE(c *CPU, in *inst) {
	bp := c.getReg(c.stackSize(), EBP)
	v := c.readSize(SS, bp, in.size)
	c.setSP(bp + uint64(in.size))
	c.setReg(in.size, EBP, v)
}
