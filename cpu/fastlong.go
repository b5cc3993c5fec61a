package cpu

import (
	"encoding/binary"

	"github.com/gemu-project/gemu/mmu"
)

// Specialized memory-operand handlers for 64-bit mode (see fast.go).
//
// With a 64-bit address size and any segment but FS and GS, the linear
// address is the effective address: no base, no limit (SDM Vol. 3A §3.2.4).
// The only check left is that the address is canonical, and a TLB hit on an
// access that stays within one page proves it: translate fills the TLB only
// for canonical addresses. So the fast path is the address arithmetic and a
// TLB probe; a miss takes the full path (read32 and the like), which checks
// and raises #GP or #SS.

// specializeLong picks a 64-bit-mode handler for in; it reports whether it did.
func specializeLong(in *inst) bool {
	fn, sz := in.fn, in.size
	if sz == 8 {
		// The stack: RSP with no SS base or limit.
		var f handler
		switch {
		case same(fn, pushReg):
			f = pushRegL
		case same(fn, popReg):
			f = popRegL
		case same(fn, opCALLrel):
			f = callRelL
		case same(fn, opRET):
			f = retL
		}
		if f != nil {
			in.fn = f
			return true
		}
	}
	if !in.mem || in.asize != 8 || in.seg >= FS {
		return false
	}
	var f handler
	switch {
	case same(fn, movGE):
		f = pick(sz, nil, nil, movLoad32L, movLoad64L)
	case same(fn, movEG):
		if sz == 1 && !lowByteReg(in.reg) {
			return false
		}
		f = pick(sz, movStore8L, movStore16L, movStore32L, movStore64L)
	case same(fn, movzxB):
		f = pick(sz, nil, nil, movzxLoad8L, movzxLoad8L)
	case same(fn, movzxW):
		f = pick(sz, nil, nil, movzxLoad16L, movzxLoad16L)
	case same(fn, aluGE):
		f = pick(sz, nil, nil, aluGM32L[in.sub], aluGM64L[in.sub])
	case same(fn, aluEG) && in.sub == aluCMP:
		f = pick(sz, nil, nil, cmpMG32L, cmpMG64L)
	}
	if f == nil {
		return false
	}
	in.fn = f
	return true
}

// pick returns the handler for an operand size of 1, 2, 4 or 8 bytes.
func pick(size uint8, h1, h2, h4, h8 handler) handler {
	switch size {
	case 1:
		return h1
	case 2:
		return h2
	case 4:
		return h4
	}
	return h8
}

// lowByteReg: byte register r is the low byte of R[r] (not AH–BH, not SPL–DIL).
func lowByteReg(r uint8) bool { return r < 4 || r >= 8 && r < 16 }

// ea64 is the effective address with a 64-bit address size.
func (c *CPU) ea64(in *inst) uint64 { return c.R[in.base] + c.R[in.index]<<in.scale + in.disp }

// probeR and probeW look la up in the TLB for a size-byte access; on a hit
// within one page they return the offset of the bytes in RAM. They are
// small enough to inline, so the hottest handlers below make no call on
// the fast path.
func (c *CPU) probeR(la, size uint64) (uint64, bool) {
	e := &c.tlb.Read[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == la>>12+1 && la&0xFFF <= 0x1000-size {
		c.tlb.Hits++
		return e.Page | la&0xFFF, true
	}
	return 0, false
}

func (c *CPU) probeW(la, size uint64) (uint64, bool) {
	e := &c.tlb.Write[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == la>>12+1 && la&0xFFF <= 0x1000-size {
		c.tlb.Hits++
		return e.Page | la&0xFFF, true
	}
	return 0, false
}

func (c *CPU) load8L(in *inst) uint8 {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 1); ok {
		return c.ram[p]
	}
	return c.read8(int(in.seg), la)
}

func (c *CPU) load16L(in *inst) uint16 {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 2); ok {
		return binary.LittleEndian.Uint16(c.ram[p:])
	}
	return c.read16(int(in.seg), la)
}

func (c *CPU) load32L(in *inst) uint32 {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 4); ok {
		return binary.LittleEndian.Uint32(c.ram[p:])
	}
	return c.read32(int(in.seg), la)
}

func (c *CPU) load64L(in *inst) uint64 {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 8); ok {
		return binary.LittleEndian.Uint64(c.ram[p:])
	}
	return c.read64(int(in.seg), la)
}

func movLoad32L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 4); ok {
		c.R[in.reg] = uint64(binary.LittleEndian.Uint32(c.ram[p:]))
		return
	}
	c.R[in.reg] = uint64(c.read32(int(in.seg), la))
}

func movLoad64L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 8); ok {
		c.R[in.reg] = binary.LittleEndian.Uint64(c.ram[p:])
		return
	}
	c.R[in.reg] = c.read64(int(in.seg), la)
}

func movzxLoad8L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 1); ok {
		c.R[in.reg] = uint64(c.ram[p])
		return
	}
	c.R[in.reg] = uint64(c.read8(int(in.seg), la))
}

func movzxLoad16L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeR(la, 2); ok {
		c.R[in.reg] = uint64(binary.LittleEndian.Uint16(c.ram[p:]))
		return
	}
	c.R[in.reg] = uint64(c.read16(int(in.seg), la))
}

func movStore8L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeW(la, 1); ok {
		c.ram[p] = uint8(c.R[in.reg])
		return
	}
	c.write8(int(in.seg), la, uint8(c.R[in.reg]))
}

func movStore16L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeW(la, 2); ok {
		binary.LittleEndian.PutUint16(c.ram[p:], uint16(c.R[in.reg]))
		return
	}
	c.write16(int(in.seg), la, uint16(c.R[in.reg]))
}

func movStore32L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeW(la, 4); ok {
		binary.LittleEndian.PutUint32(c.ram[p:], uint32(c.R[in.reg]))
		return
	}
	c.write32(int(in.seg), la, uint32(c.R[in.reg]))
}

func movStore64L(c *CPU, in *inst) {
	la := c.ea64(in)
	if p, ok := c.probeW(la, 8); ok {
		binary.LittleEndian.PutUint64(c.ram[p:], c.R[in.reg])
		return
	}
	c.write64(int(in.seg), la, c.R[in.reg])
}

// CMP Ev,Gv with a memory destination: flags of mem − reg.
func cmpMG32L(c *CPU, in *inst) {
	a, b := c.load32L(in), uint32(c.R[in.reg])
	c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(a-b))
}

func cmpMG64L(c *CPU, in *inst) {
	a, b := c.load64L(in), c.R[in.reg]
	c.setLazy(lzSub, 8, false, a, b, a-b)
}

// ALU Gv,Ev with a memory source: reg ← reg op mem (ADC and SBB stay generic).
var aluGM32L = [8]handler{
	aluADD: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.reg]), c.load32L(in)
		c.R[in.reg] = uint64(a + b)
		c.setLazy(lzAdd, 4, false, uint64(a), uint64(b), uint64(a+b))
	},
	aluSUB: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.reg]), c.load32L(in)
		c.R[in.reg] = uint64(a - b)
		c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(a-b))
	},
	aluCMP: func(c *CPU, in *inst) {
		a, b := uint32(c.R[in.reg]), c.load32L(in)
		c.setLazy(lzSub, 4, false, uint64(a), uint64(b), uint64(a-b))
	},
	aluAND: func(c *CPU, in *inst) {
		r := uint32(c.R[in.reg]) & c.load32L(in)
		c.R[in.reg] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
	aluOR: func(c *CPU, in *inst) {
		r := uint32(c.R[in.reg]) | c.load32L(in)
		c.R[in.reg] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
	aluXOR: func(c *CPU, in *inst) {
		r := uint32(c.R[in.reg]) ^ c.load32L(in)
		c.R[in.reg] = uint64(r)
		c.setLazy(lzLogic, 4, false, uint64(r), uint64(r), uint64(r))
	},
}

var aluGM64L = [8]handler{
	aluADD: func(c *CPU, in *inst) {
		a, b := c.R[in.reg], c.load64L(in)
		c.R[in.reg] = a + b
		c.setLazy(lzAdd, 8, false, a, b, a+b)
	},
	aluSUB: func(c *CPU, in *inst) {
		a, b := c.R[in.reg], c.load64L(in)
		c.R[in.reg] = a - b
		c.setLazy(lzSub, 8, false, a, b, a-b)
	},
	aluCMP: func(c *CPU, in *inst) {
		a, b := c.R[in.reg], c.load64L(in)
		c.setLazy(lzSub, 8, false, a, b, a-b)
	},
	aluAND: func(c *CPU, in *inst) { r := c.R[in.reg] & c.load64L(in); c.R[in.reg] = r; logic64(c, r) },
	aluOR:  func(c *CPU, in *inst) { r := c.R[in.reg] | c.load64L(in); c.R[in.reg] = r; logic64(c, r) },
	aluXOR: func(c *CPU, in *inst) { r := c.R[in.reg] ^ c.load64L(in); c.R[in.reg] = r; logic64(c, r) },
}

// The 64-bit stack (SDM Vol. 1 §6.2.3 and §6.14.2): 8-byte pushes and pops
// through RSP. A faulting access leaves RSP unchanged.

func (c *CPU) push64L(v uint64) {
	sp := c.R[ESP] - 8
	if p, ok := c.probeW(sp, 8); ok {
		binary.LittleEndian.PutUint64(c.ram[p:], v)
	} else {
		c.write64(SS, sp, v)
	}
	c.R[ESP] = sp
}

func (c *CPU) top64L() uint64 {
	sp := c.R[ESP]
	if p, ok := c.probeR(sp, 8); ok {
		return binary.LittleEndian.Uint64(c.ram[p:])
	}
	return c.read64(SS, sp)
}

func pushRegL(c *CPU, in *inst) { c.push64L(c.R[in.reg]) }

// popRegL: POP RSP loads the value read, after the increment.
func popRegL(c *CPU, in *inst) {
	v := c.top64L()
	c.R[ESP] += 8
	c.R[in.reg] = v
}

func callRelL(c *CPU, in *inst) {
	c.checkTarget(in.imm)
	c.push64L(in.next)
	c.EIP = in.imm
}

func retL(c *CPU, in *inst) {
	t := c.top64L()
	c.jumpNear(t)
	c.R[ESP] += 8
}
