package hostexec

import "fmt"

// The 64-bit generator (Generate64) runs the same families as the 32-bit
// one, with REX (SDM Vol. 2A §2.2.1) where it means something and now and
// then where it does not:
//
//   - REX.W for 64-bit operands (Iz stays 32 bits, sign-extended, but for
//     MOV r64, imm64), sometimes with a 66h that REX.W overrides;
//   - R8–R15 through REX.R (ModRM.reg), REX.B (ModRM.rm, SIB base, opcode
//     register) and REX.X (SIB index), R12 as rm by way of a SIB byte and
//     R13 as a base only with a displacement (mod 00 would be RIP-relative
//     or, in a SIB, no base);
//   - byte registers: with a REX prefix 4–7 are SPL BPL SIL DIL, without it
//     AH CH DH BH, so an instruction naming AH–BH never has one; SPL is never
//     used, BPL only as a source (its value, 80h, the low byte of the
//     scratch address, is the same on both sides);
//   - a REX with no bits, a REX.X where there is no SIB, and a REX before a
//     legacy prefix (which the CPU ignores);
//   - memory operands [rbp+disp], [rbp+index*scale+disp] with the index
//     loaded just before (MOV, zero- or sign-extended), and [rN+disp] or
//     [rN+index*scale+disp] with R8–R15 as the base: MOV rN, RBP before the
//     instruction and MOV rN32, imm32 after it, in the same Inst so that a
//     reduction never splits them (rN holds the host's address in between);
//   - MOVSXD, CDQE, CQO, CMPXCHG16B, BSWAP r64, LEA with 64-bit registers and
//     67h.
//
// RSP and RBP are never data registers.

// rexState is what the instruction being built needs of its REX prefix.
type rexState struct {
	bits   byte // W R X B
	need   bool // a REX must be there: SPL–DIL, or bits
	forbid bool // AH–BH named: no REX
	sib    bool // a SIB byte: REX.X means an index
	no66   bool // no 66h beside REX.W
	legacy []byte
}

// REX bits (SDM Vol. 2A §2.2.1.2, Table 2-4).
const (
	rexB = 1 << iota
	rexX
	rexR
	rexW
)

// Generate64 makes a random case for 64-bit mode only (Mode 64): the
// 32-bit generator's forms, their 64-bit operand sizes, R8–R15 and REX byte
// registers, and 64-bit-only instructions. All sixteen registers start
// random (but RSP, unused, and RBP, the scratch address).
func Generate64(src Source) *Case { return (&gen{src: src, x64: true}).generate() }

var forms64 = append(append([]func(g *gen){}, forms...),
	(*gen).movsxd, (*gen).aluEG, (*gen).aluImm, (*gen).shift, (*gen).mov)

// x64Regs are the registers a 16/32/64-bit operand may name in 64-bit mode.
var x64Regs = []byte{RAX, RCX, RDX, RBX, RSI, RDI, 8, 9, 10, 11, 12, 13, 14, 15}

// rexBytes are the byte registers that need or allow a REX: AL–BL, SIL,
// DIL, R8B–R15B; rexBytesSrc adds BPL.
var (
	rexBytes    = []byte{0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	rexBytesSrc = []byte{0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
)

var specials64 = []uint64{0, 1, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 0x7FFFFFFFFFFFFFFF,
	0xFFFFFFFF, 0x100000000, 0x80000000, 0xFFFFFFFF80000000, 0x7FFFFFFF, 0xFFFFFFFF00000000,
	0x8000000080000000, 0xFFFFFFFFFFFFFF80, 0x00000000FFFFFF80, 63, 64, 65}

// value64 is a 64-bit register or immediate value.
func (g *gen) value64() uint64 {
	if g.n(4) == 0 {
		return specials64[g.n(len(specials64))]
	}
	return uint64(g.hi())<<32 | uint64(g.value())
}

// need64 notes that an operand size of 8 needs REX.W, so that no byte
// register chosen later can be AH–BH; it returns size.
func (g *gen) need64(size int) int {
	if size == 8 {
		g.rx.need = true
	}
	return size
}

// reg64 picks a register for an operand of size bytes, consistently with
// the REX state: for bytes 4–7 mean AH–BH without REX and SPL–DIL with it.
func (g *gen) reg64(size int, src bool) byte {
	if size == 1 {
		switch {
		case g.rx.forbid:
			return byte(g.n(8))
		case !g.rx.need && g.n(4) == 0:
			r := byte(g.n(8))
			if r >= 4 {
				g.rx.forbid = true
			}
			return r
		}
		set := rexBytes
		if src {
			set = rexBytesSrc
		}
		r := set[g.n(len(set))]
		if r >= 4 {
			g.rx.need = true
		}
		return r
	}
	if g.rx.forbid {
		return wordRegs[g.n(len(wordRegs))]
	}
	r := x64Regs[g.n(len(x64Regs))]
	if r >= 8 {
		g.rx.need = true
	}
	return r
}

// setREX notes a REX bit the instruction needs.
func (g *gen) setREX(bit byte) {
	g.rx.bits |= bit
	g.rx.need = true
}

// rexRM notes the REX bits of a ModRM with reg (a register or a /digit)
// and register rm.
func (g *gen) rexRM(reg, rm byte) {
	if reg >= 8 {
		g.setREX(rexR)
	}
	if rm >= 8 {
		g.setREX(rexB)
	}
}

// opReg notes REX.B for a register encoded in the opcode and returns its
// low three bits.
func (g *gen) opReg(r byte) byte {
	if r >= 8 {
		g.setREX(rexB)
	}
	return r & 7
}

// rexPrefix appends to the legacy prefixes p the REX the instruction
// needs, or maybe one that changes nothing, and resets the REX state.
func (g *gen) rexPrefix(p []byte, size int) []byte {
	rx := g.rx
	g.rx = rexState{}
	p = append(p, rx.legacy...)
	if size == 8 {
		rx.bits |= rexW
		if !rx.no66 && g.n(8) == 0 {
			p = append(p, 0x66) // REX.W wins
		}
	}
	if len(p) > 0 && g.n(16) == 0 {
		// Followed by a legacy prefix, a REX is ignored (SDM Vol. 2A
		// §2.2.1: it must immediately precede the opcode).
		p = append([]byte{0x40 | byte(g.n(16))}, p...)
	}
	if rx.forbid {
		if rx.bits != 0 || rx.need {
			panic("hostexec: AH–BH and a REX in one instruction")
		}
		return p
	}
	if !rx.sib && rx.bits&rexX == 0 && g.n(16) == 0 {
		rx.bits |= rexX // no SIB: REX.X is unused
	}
	if rx.bits != 0 || rx.need || g.n(8) == 0 {
		p = append(p, 0x40|rx.bits)
	}
	return p
}

// mem64 is mem in 64-bit mode: [rbp+disp] (half the time), an index
// register loaded just before, or a copy of RBP in R8–R15 as the base.
func (g *gen) mem64(reg byte, off int) []byte {
	if reg >= 8 {
		g.setREX(rexR)
	}
	k := g.n(8)
	useIndex := k == 4 || k == 5 || k == 7
	base := byte(RBP)
	if k >= 6 && !g.rx.forbid {
		var cands []byte
		for r := byte(8); r < 16; r++ {
			if r != reg {
				cands = append(cands, r)
			}
		}
		base = cands[g.n(len(cands))]
		g.setREX(rexB)
		if g.n(2) == 0 { // MOV r/m64, r64 or MOV r64, r/m64
			g.wrap[0] = []byte{0x48 | rexB, 0x89, 0xC0 | RBP<<3 | base&7}
		} else {
			g.wrap[0] = []byte{0x48 | rexR, 0x8B, 0xC0 | (base&7)<<3 | RBP}
		}
		g.wrap[1] = append([]byte{0x41, 0xB8 + base&7}, imm(g.value(), 4)...)
	}
	disp := off - BaseOff
	index, scale := byte(4), byte(g.n(4)) // index 4 without REX.X: none
	if useIndex {
		// Not RCX (a shift's count is loaded after), not reg (BT's offset),
		// not the base; R8–R15 only when REX is allowed.
		set := x64Regs
		if g.rx.forbid {
			set = wordRegs
		}
		var cands []byte
		for _, r := range set {
			if r != RCX && r != reg && r != base {
				cands = append(cands, r)
			}
		}
		index = cands[g.n(len(cands))]
		v := int32(g.n(96)) - 32
		if scale == 0 && g.n(2) == 0 {
			v = int32(g.n(1024)) - 256
		}
		disp -= int(v) << scale
		if v >= 0 && g.n(2) == 0 {
			g.plain("MOV Gv,Iz/32 (index)", movImm(index, 4, v))
		} else {
			g.plain("MOV Ev,Iz/64 (index)", movImm(index, 8, v))
		}
		if index >= 8 {
			g.setREX(rexX)
		}
	}
	sib := useIndex || base&7 == 4 || g.n(4) == 0
	rm := base & 7
	if sib {
		rm = 4
		g.rx.sib = true
	}
	mod, d := byte(2), imm(uint32(int32(disp)), 4)
	if disp >= -128 && disp < 128 && g.n(4) != 0 {
		mod, d = 1, []byte{byte(int8(disp))}
	}
	b := []byte{mod<<6 | (reg&7)<<3 | rm}
	if sib {
		b = append(b, scale<<6|(index&7)<<3|base&7)
	}
	return append(b, d...)
}

// lea64 is LEA with 64-bit registers: any of them (but RSP, RBP) as base
// and index, maybe with 67h (a 32-bit address).
func (g *gen) lea64() {
	size := g.sizev()
	r := g.reg(size)
	g.rexRM(r, 0)
	mod := byte(g.n(3))
	var b []byte
	if g.n(2) == 0 { // no SIB, but R12 needs one
		base := g.reg(8)
		if base&7 == 5 && mod == 0 {
			mod = 1 // mod 00 rm 101 is RIP-relative, whatever REX.B says
		}
		g.rexRM(0, base)
		if base&7 == 4 {
			g.rx.sib = true
			b = []byte{mod<<6 | (r&7)<<3 | 4, byte(g.n(4))<<6 | 4<<3 | 4}
		} else {
			b = []byte{mod<<6 | (r&7)<<3 | base&7}
		}
	} else {
		g.rx.sib = true
		index := byte(4) // none, REX.X clear
		if g.n(4) != 0 {
			index = g.reg(8) // R12: 100 with REX.X, an index
			if index >= 8 {
				g.setREX(rexX)
			}
		}
		base := g.reg(8)
		noBase := mod == 0 && g.n(4) == 0
		if noBase {
			base = 5 + 8*byte(g.n(2)) // disp32, no base, whatever REX.B says
		} else if base&7 == 5 && mod == 0 {
			mod = 1
		}
		g.rexRM(0, base)
		b = []byte{mod<<6 | (r&7)<<3 | 4, byte(g.n(4))<<6 | (index&7)<<3 | base&7}
		if noBase {
			b = append(b, imm(g.value(), 4)...)
		}
	}
	switch mod {
	case 1:
		b = append(b, g.byte())
	case 2:
		b = append(b, imm(g.value(), 4)...)
	}
	name := "LEA Gv,M" + bits(size)
	if g.n(8) == 0 {
		g.rx.legacy = []byte{0x67}
		name += " a32"
	}
	g.emit(name, 0, 0, 0, g.prefixes(size, false, false), op(0x8D), b)
}

// movsxd is MOVSXD Gq,Ed (REX.W 63 /r) and, now and then, 63 /r without
// REX.W, a 32-bit move (SDM: "not encouraged").
func (g *gen) movsxd() {
	size := 8
	if g.n(4) == 0 {
		size = 4
	}
	g.need64(size)
	e, m := g.rmS(g.reg(size), 4, true)
	g.emit("MOVSXD Gv,Ed"+bits(size), 0, 0, 0, g.prefixes(size, m, false), op(0x63), e)
}

// trim15 drops prefixes that change nothing (an ignored REX, a segment
// override, 66h beside REX.W) from an instruction longer than 15 bytes,
// which would be #GP (SDM Vol. 2A §2.3.11).
func trim15(b []byte) []byte {
	for len(b) > 15 {
		n := 0 // prefix bytes
		for n < len(b) && (isLegacyPrefix(b[n]) || b[n]&0xF0 == 0x40) {
			n++
		}
		rexW := n > 0 && b[n-1]&0xF8 == 0x48
		drop := -1
		for i := 0; i < n && drop < 0; i++ {
			switch {
			case b[i]&0xF0 == 0x40 && i < n-1, // followed by a legacy prefix
				b[i] == 0x26 || b[i] == 0x2E || b[i] == 0x36 || b[i] == 0x3E,
				b[i] == 0x66 && rexW:
				drop = i
			}
		}
		if drop < 0 {
			panic(fmt.Sprintf("hostexec: % x is longer than 15 bytes", b))
		}
		b = append(b[:drop:drop], b[drop+1:]...)
	}
	return b
}

func isLegacyPrefix(b byte) bool {
	switch b {
	case 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3:
		return true
	}
	return false
}
