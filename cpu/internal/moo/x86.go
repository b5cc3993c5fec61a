package moo

// A small 16-bit decoder for the one-byte opcode map, enough to state the
// runner's known-difference predicates precisely: which prefixes a test
// carries, how long its instruction is, and which memory accesses it makes
// (segment, offset, size, in program order), so that a runner can tell
// which access raised a segment-overrun exception.

// Segment numbers, in x86 encoding order.
const (
	SegES = iota
	SegCS
	SegSS
	SegDS
)

// SegNames are the segment names by number.
var SegNames = [4]string{"es", "cs", "ss", "ds"}

// Inst is a decoded instruction.
type Inst struct {
	Prefixes  []byte
	Lock      bool
	Rep       byte // 0, 0xF2 or 0xF3
	SegOvr    int  // -1 if none
	Op        byte
	HasModRM  bool
	ModRM     byte
	Disp      uint16
	Imm       []byte // immediate bytes (including far pointers and moffs)
	Len       int    // prefixes + opcode + operands: the instruction's length
	Truncated bool   // the bytes ended before the instruction did (Len is still its full length)
}

// Mod, Reg and RM are the ModR/M fields.
func (in *Inst) Mod() int { return int(in.ModRM >> 6) }
func (in *Inst) Reg() int { return int(in.ModRM>>3) & 7 }
func (in *Inst) RM() int  { return int(in.ModRM) & 7 }

// MemOperand reports whether the instruction has a ModR/M memory operand.
func (in *Inst) MemOperand() bool { return in.HasModRM && in.Mod() != 3 }

func hasModRM(op byte) bool {
	switch {
	case op < 0x40:
		return op&7 < 4
	case op >= 0x62 && op <= 0x63, op == 0x69, op == 0x6B:
		return true
	case op >= 0x80 && op <= 0x8F:
		return true
	case op == 0xC0, op == 0xC1, op >= 0xC4 && op <= 0xC7:
		return true
	case op >= 0xD0 && op <= 0xD3, op >= 0xD8 && op <= 0xDF:
		return true
	case op == 0xF6, op == 0xF7, op == 0xFE, op == 0xFF:
		return true
	}
	return false
}

// immSize is the number of immediate bytes after the ModR/M and
// displacement; reg is the ModR/M reg field (for F6/F7).
func immSize(op byte, reg int) int {
	switch {
	case op < 0x40 && op&7 == 4:
		return 1
	case op < 0x40 && op&7 == 5:
		return 2
	}
	switch op {
	case 0x6A, 0x6B, 0x80, 0x82, 0x83, 0xA8, 0xC0, 0xC1, 0xC6, 0xCD, 0xD4, 0xD5, 0xEB:
		return 1
	case 0x68, 0x69, 0x81, 0xA9, 0xC2, 0xC7, 0xCA, 0xE8, 0xE9:
		return 2
	case 0xA0, 0xA1, 0xA2, 0xA3:
		return 2
	case 0xC8:
		return 3
	case 0x9A, 0xEA:
		return 4
	case 0xF6:
		if reg < 2 {
			return 1
		}
	case 0xF7:
		if reg < 2 {
			return 2
		}
	}
	switch {
	case op >= 0x70 && op <= 0x7F, op >= 0xE0 && op <= 0xE7, op >= 0xB0 && op <= 0xB7:
		return 1
	case op >= 0xB8 && op <= 0xBF:
		return 2
	}
	return 0
}

// Decode decodes the instruction at the start of b (a test's BYTS).
func Decode(b []byte) Inst {
	in := Inst{SegOvr: -1}
	i := 0 // nominal position: it runs past len(b) when the bytes end early
	get := func() byte {
		i++
		if i > len(b) {
			in.Truncated = true
			return 0
		}
		return b[i-1]
	}
prefixes:
	for i < len(b) {
		switch p := b[i]; p {
		case 0x26, 0x2E, 0x36, 0x3E:
			in.SegOvr = int(p>>3) & 3
		case 0xF0:
			in.Lock = true
		case 0xF2, 0xF3:
			in.Rep = p
		default:
			break prefixes
		}
		in.Prefixes = b[:i+1]
		i++
	}
	in.Op = get()
	if hasModRM(in.Op) {
		in.HasModRM = true
		in.ModRM = get()
		switch {
		case in.Mod() == 0 && in.RM() == 6, in.Mod() == 2:
			in.Disp = uint16(get()) | uint16(get())<<8
		case in.Mod() == 1:
			in.Disp = uint16(int8(get()))
		}
	}
	start := i
	for range immSize(in.Op, in.Reg()) {
		get()
	}
	if !in.Truncated {
		in.Imm = b[start:i]
	}
	// Len counts the bytes the instruction needs even when b ends early.
	in.Len = i
	return in
}

// EA returns the 16-bit effective address of the ModR/M memory operand and
// its segment (the override, else SS for BP-based forms, else DS); regs are
// a test's registers.
func (in *Inst) EA(regs *[NumRegs]uint16) (seg int, off uint16) {
	r := regs
	var base uint16
	seg = SegDS
	switch in.RM() {
	case 0:
		base = r[BX] + r[SI]
	case 1:
		base = r[BX] + r[DI]
	case 2:
		base, seg = r[BP]+r[SI], SegSS
	case 3:
		base, seg = r[BP]+r[DI], SegSS
	case 4:
		base = r[SI]
	case 5:
		base = r[DI]
	case 6:
		if in.Mod() == 0 {
			base = 0
		} else {
			base, seg = r[BP], SegSS
		}
	case 7:
		base = r[BX]
	}
	if in.SegOvr >= 0 {
		seg = in.SegOvr
	}
	return seg, base + in.Disp
}

// Access is one memory access an instruction makes.
type Access struct {
	Seg   int
	Off   uint16
	Size  int
	Stack bool // an implicit stack access (push, pop, call, return)
}

// Overruns reports whether the access runs past offset 0xFFFF of its
// segment (a real-mode segment-limit violation on a 386 or later).
func (a Access) Overruns() bool { return int(a.Off)+a.Size-1 > 0xFFFF }

// memOperandSize is the size of the ModR/M memory operand in bytes, or 0
// when the instruction does not access it (LEA, undefined forms).
func (in *Inst) memOperandSize() int {
	op, reg := in.Op, in.Reg()
	switch {
	case op < 0x40, op >= 0x80 && op <= 0x8B, op >= 0xC0 && op <= 0xC1, op >= 0xD0 && op <= 0xD3, op == 0xC6, op == 0xC7, op == 0xF6, op == 0xF7, op == 0xFE:
		if op == 0xC6 || op == 0xC7 {
			if reg != 0 {
				return 0
			}
		}
		if op == 0xFE && reg > 1 {
			return 0
		}
		return 1 + int(op&1)
	case op == 0x8C, op == 0x8E, op == 0x69, op == 0x6B:
		return 2
	case op == 0x8F:
		if reg != 0 {
			return 0
		}
		return 2
	case op == 0x62, op == 0xC4, op == 0xC5:
		return 4
	case op == 0xD8:
		return 4 // m32fp
	case op == 0xFF:
		switch reg {
		case 3, 5:
			return 4
		case 7:
			return 0
		}
		return 2
	}
	return 0
}

// Accesses lists the memory accesses of in, in program order, for the
// registers regs; string instructions are followed for their REP count.
// It covers data and stack accesses, not instruction fetch or exception
// delivery. Operands that the instruction reads as two words are listed as
// one access of their full size.
func (in *Inst) Accesses(regs *[NumRegs]uint16) []Access {
	var out []Access
	r := regs
	sp := r[SP]
	push := func(n int) {
		for range n {
			sp -= 2
			out = append(out, Access{Seg: SegSS, Off: sp, Size: 2, Stack: true})
		}
	}
	pop := func(n int) {
		for range n {
			out = append(out, Access{Seg: SegSS, Off: sp, Size: 2, Stack: true})
			sp += 2
		}
	}
	mem := func() {
		if size := in.memOperandSize(); in.MemOperand() && size > 0 {
			seg, off := in.EA(regs)
			out = append(out, Access{Seg: seg, Off: off, Size: size})
		}
	}
	op := in.Op
	switch {
	case op == 0x06 || op == 0x0E || op == 0x16 || op == 0x1E, op >= 0x50 && op <= 0x57, op == 0x68, op == 0x6A, op == 0x9C:
		push(1)
	case op == 0x07 || op == 0x17 || op == 0x1F, op >= 0x58 && op <= 0x5F, op == 0x9D:
		pop(1)
	case op == 0x60:
		push(8)
	case op == 0x61:
		pop(8)
	case op == 0x8F:
		pop(1)
		mem()
	case op == 0x9A:
		push(2)
	case op == 0xE8:
		push(1)
	case op == 0xC2, op == 0xC3:
		pop(1)
	case op == 0xCA, op == 0xCB:
		pop(2)
	case op == 0xCF:
		pop(3)
	case op == 0xC9: // LEAVE: SP = BP, then POP BP
		sp = r[BP]
		pop(1)
	case op == 0xFF && (in.Reg() == 2 || in.Reg() == 6):
		mem()
		push(1)
	case op == 0xFF && in.Reg() == 3:
		mem()
		push(2)
	case op >= 0xA4 && op <= 0xAF && op != 0xA8 && op != 0xA9, op >= 0x6C && op <= 0x6F:
		out = in.stringAccesses(regs)
	case op == 0xA0 || op == 0xA1 || op == 0xA2 || op == 0xA3:
		seg := SegDS
		if in.SegOvr >= 0 {
			seg = in.SegOvr
		}
		if len(in.Imm) == 2 {
			out = append(out, Access{Seg: seg, Off: uint16(in.Imm[0]) | uint16(in.Imm[1])<<8, Size: 1 + int(op&1)})
		}
	case op == 0xD7: // XLAT
		seg := SegDS
		if in.SegOvr >= 0 {
			seg = in.SegOvr
		}
		out = append(out, Access{Seg: seg, Off: r[BX] + r[AX]&0xFF, Size: 1})
	default:
		mem()
	}
	return out
}

func (in *Inst) stringAccesses(regs *[NumRegs]uint16) []Access {
	var out []Access
	op := in.Op
	size := 1 + int(op&1)
	step := uint16(size)
	if regs[FLAGS]&(1<<10) != 0 { // DF
		step = -step
	}
	src := SegDS
	if in.SegOvr >= 0 {
		src = in.SegOvr
	}
	n := 1
	if in.Rep != 0 {
		n = int(regs[CX])
	}
	si, di := regs[SI], regs[DI]
	readsSI := op == 0xA4 || op == 0xA5 || op == 0xA6 || op == 0xA7 || op == 0xAC || op == 0xAD || op == 0x6E || op == 0x6F
	usesDI := !(op == 0xAC || op == 0xAD || op == 0x6E || op == 0x6F)
	for range n {
		if readsSI {
			out = append(out, Access{Seg: src, Off: si, Size: size})
			si += step
		}
		if usesDI {
			out = append(out, Access{Seg: SegES, Off: di, Size: size})
			di += step
		}
		if len(out) > 512 {
			break
		}
	}
	return out
}

// FirstOverrun returns the first access of in that runs past offset 0xFFFF,
// and whether there is one.
func (in *Inst) FirstOverrun(regs *[NumRegs]uint16) (Access, bool) {
	for _, a := range in.Accesses(regs) {
		if a.Overruns() {
			return a, true
		}
	}
	return Access{}, false
}

// LockAllowed reports whether a 386 or later accepts a LOCK prefix on in
// (SDM Vol. 2A LOCK): only ADD, ADC, AND, NOT, NEG, OR, SBB, SUB, XOR,
// INC, DEC and XCHG (and the two-byte bit-test and exchange instructions,
// not in this one-byte decoder) whose destination is a memory operand.
// Everything else raises #UD.
func (in *Inst) LockAllowed() bool {
	if !in.MemOperand() {
		return false
	}
	op, reg := in.Op, in.Reg()
	switch {
	case op < 0x40 && op&7 < 2 && op>>3 != 7: // ALU r/m, r (not CMP)
		return true
	case op >= 0x80 && op <= 0x83:
		return reg != 7 // not CMP
	case op == 0x86, op == 0x87:
		return true
	case op == 0xF6, op == 0xF7:
		return reg == 2 || reg == 3
	case op == 0xFE, op == 0xFF:
		return reg == 0 || reg == 1
	}
	return false
}
