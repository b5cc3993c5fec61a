package cpu

// The translator's decoder: one table of opcodes (table.go) drives it; it
// turns guest bytes into pre-decoded inst values once per block.

type handler func(c *CPU, in *inst)

// inst is one pre-decoded guest instruction.
type inst struct {
	fn     handler
	eip    uint64 // offset in CS of this instruction (RIP in 64-bit mode)
	next   uint64 // offset in CS of the next one
	disp   uint64
	imm    uint64
	imm2   uint64
	desc   *opDesc // the table row (name, sensitivity) for traces and statistics
	size   uint8   // operand size in bytes: 1, 2 or 4
	asize  uint8   // address size in bytes: 2 or 4
	reg    uint8   // ModRM.reg, or the register encoded in the opcode
	rm     uint8   // ModRM.rm register when mem is false
	mem    bool    // the r/m operand is in memory
	seg    uint8   // segment of the memory operand
	base   uint8
	index  uint8
	scale  uint8
	rep    uint8 // 0, prefF3 or prefF2
	lock   bool
	sub    uint8 // handler parameter: ALU operation, condition code, segment…
	branch bool  // the handler sets EIP itself
	segOvr bool  // a segment-override prefix was present
	p66    bool  // a 66h prefix was present (a mandatory prefix for SSE forms)
	modrm  uint8 // the raw ModRM byte (the x87 keeps it in FOP)
	last   bool  // the last operation of its block's exec list
}

const (
	prefF3 = 1
	prefF2 = 2
)

// decodeError marks bytes that do not form a valid instruction.
type decodeResult int

const (
	decOK         decodeResult = iota
	decUD                      // invalid opcode: the instruction raises #UD when executed
	decFetchFault              // the bytes cannot be fetched (page fault)
)

// fetcher gives the translator the bytes of guest code.
type fetcher interface {
	byteAt(off uint64) (uint8, bool)
}

// Decode modes: the code size of the CS descriptor and long mode.
const (
	mode16 = 16
	mode32 = 32
	mode64 = 64
)

// decoder state for one instruction.
type decoder struct {
	f     fetcher
	pos   uint64 // offset in CS
	ok    bool
	count int
	mode  uint8
	rex   uint8 // the REX prefix (0x40–0x4F) in 64-bit mode, or 0
}

func (d *decoder) u8() uint8 {
	b, ok := d.f.byteAt(d.pos)
	if !ok {
		d.ok = false
	}
	d.pos++
	d.count++
	return b
}

func (d *decoder) u16() uint16 {
	lo := d.u8()
	return uint16(lo) | uint16(d.u8())<<8
}

func (d *decoder) u32() uint32 {
	lo := d.u16()
	return uint32(lo) | uint32(d.u16())<<16
}

func (d *decoder) u64() uint64 {
	lo := d.u32()
	return uint64(lo) | uint64(d.u32())<<32
}

// REX bits (SDM Vol. 2A §2.2.1).
const (
	rexB = 1 << 0
	rexX = 1 << 1
	rexR = 1 << 2
	rexW = 1 << 3
)

// byteRegREX maps byte-register numbers 4–7 to SPL, BPL, SIL, DIL when a REX
// prefix is present (getReg treats 24–27 as the low byte of R4–R7).
const byteRegREX = 20

// decode decodes the instruction at offset eip in the given mode, with
// the handler specialized to its operands (fast.go).
func decode(f fetcher, eip uint64, mode uint8, in *inst) decodeResult {
	r := decodeGeneric(f, eip, mode, in)
	if r == decOK {
		specialize(in, mode)
	}
	return r
}

// decodeGeneric decodes with the table's generic handler.
func decodeGeneric(f fetcher, eip uint64, mode uint8, in *inst) decodeResult {
	d := decoder{f: f, pos: eip, ok: true, mode: mode}
	*in = inst{eip: eip, base: regNone, index: regNone, seg: DS}
	long := mode == mode64
	opsize32 := mode != mode16
	asize := uint8(2)
	switch mode {
	case mode32:
		asize = 4
	case mode64:
		asize = 8
	}
	var op uint16
	segSet := false
prefixes:
	for {
		b := d.u8()
		if !d.ok {
			return decFetchFault
		}
		if d.count > 15 {
			// Longer than 15 bytes: #GP(0) (SDM Vol. 2A §2.3.11), raised at run time.
			in.fn = opTooLong
			in.next = d.pos
			return decOK
		}
		if long && b&0xF0 == 0x40 {
			d.rex = b // REX: only effective right before the opcode
			continue
		}
		switch b {
		case 0x26, 0x2E, 0x36, 0x3E:
			if !long { // ignored in 64-bit mode (SDM Vol. 1 §3.3.7.1)
				in.seg, segSet = (b>>3)&3, true
			}
		case 0x64, 0x65:
			in.seg, segSet = b-0x64+FS, true
		case 0x66:
			opsize32 = mode == mode16
			in.p66 = true
		case 0x67:
			switch mode {
			case mode16:
				asize = 4
			case mode32:
				asize = 2
			default:
				asize = 4
			}
		case 0xF0:
			in.lock = true
		case 0xF2:
			in.rep = prefF2
		case 0xF3:
			in.rep = prefF3
		default:
			op = uint16(b)
			break prefixes
		}
		d.rex = 0
	}
	if op == 0x0F {
		op = 0x100 | uint16(d.u8())
	}
	rex := d.rex
	desc := &opTable[op]
	if long && opTable64[op].fn != nil {
		desc = &opTable64[op]
	}
	if long && desc.flags&fInv64 != 0 {
		in.fn, in.next, in.desc = opUD, d.pos, desc
		return decUD
	}
	in.size = 2
	if opsize32 {
		in.size = 4
	}
	if rex&rexW != 0 {
		in.size = 8
	}
	if long && desc.flags&fDef64 != 0 && (in.size == 4 || desc.flags&fBranch != 0) {
		in.size = 8 // near branches and stack operations default to 64 bits
	}
	if desc.flags&fByte != 0 {
		in.size = 1
	}
	if desc.flags&fWord != 0 {
		in.size = 2
	}
	in.asize = asize
	in.segOvr = segSet
	fn := desc.fn
	flags := desc.flags
	immFlags := flags & immMask
	switch {
	case flags&fCount1 != 0:
		in.imm2 = 1
	case flags&fCountCL != 0:
		in.imm2 = 2
	}
	ripRel := false
	if flags&fModRM != 0 {
		modrm := d.u8()
		in.modrm = modrm
		ripRel = d.modrm(in, modrm, asize, segSet)
		if desc.group != nil {
			g := &desc.group[in.reg&7]
			fn = g.fn
			if g.name != "" {
				desc = g
				flags |= g.flags
				immFlags |= g.flags & immMask
			}
			if g.flags&fByte != 0 {
				in.size = 1
			}
			if long && g.flags&fDef64 != 0 && (in.size == 4 || g.flags&fBranch != 0) {
				in.size = 8
			}
		}
		if flags&fRegOnly != 0 && in.mem || flags&fMemOnly != 0 && !in.mem {
			fn = nil
		}
		if rex != 0 && !in.mem && in.rm >= 4 && in.rm < 8 && (in.size == 1 || flags&fRMByte != 0) {
			in.rm += byteRegREX
		}
		if rex != 0 && in.reg >= 4 && in.reg < 8 && in.size == 1 && flags&fByte != 0 {
			in.reg += byteRegREX
		}
	}
	in.desc = desc
	switch immFlags {
	case fImm8:
		in.imm = uint64(d.u8())
	case fImm8s:
		in.imm = uint64(int64(int8(d.u8())))
	case fImm16:
		in.imm = uint64(d.u16())
	case fImmZ:
		switch in.size {
		case 1:
			in.imm = uint64(d.u8())
		case 2:
			in.imm = uint64(d.u16())
		case 4:
			in.imm = uint64(d.u32())
		default:
			if flags&fImm64 != 0 {
				in.imm = d.u64() // MOV r64, imm64
			} else {
				in.imm = uint64(int64(int32(d.u32())))
			}
		}
	case fImmFar:
		if opsize32 {
			in.imm = uint64(d.u32())
		} else {
			in.imm = uint64(d.u16())
		}
		in.imm2 = uint64(d.u16())
	case fImmEnter:
		in.imm = uint64(d.u16())
		in.imm2 = uint64(d.u8())
	case fMoffs:
		in.mem = true
		switch asize {
		case 2:
			in.disp = uint64(d.u16())
		case 4:
			in.disp = uint64(d.u32())
		default:
			in.disp = d.u64()
		}
	case fRel8:
		in.imm = uint64(int64(int8(d.u8())))
	case fRelZ:
		if in.size == 2 {
			in.imm = uint64(int64(int16(d.u16())))
		} else {
			in.imm = uint64(int64(int32(d.u32())))
		}
	}
	if !d.ok {
		return decFetchFault
	}
	if d.count > 15 {
		in.fn = opTooLong
		in.next = d.pos
		return decOK
	}
	in.next = d.pos
	switch mode {
	case mode16:
		in.next &= 0xFFFF
	case mode32:
		in.next &= 0xFFFFFFFF
	}
	if immFlags&(fRel8|fRelZ) != 0 {
		// Relative targets wrap at the operand size (SDM Vol. 2A JMP, Jcc).
		in.imm = (in.next + in.imm) & sizeMask(in.size)
	}
	if ripRel {
		in.disp += in.next
	}
	if fn == nil {
		in.fn = opUD
		return decUD
	}
	if in.lock && (flags&fLockable == 0 || !in.mem) {
		in.fn = opUD
		return decUD
	}
	in.fn = fn
	in.branch = flags&fBranch != 0
	if flags&fOpReg != 0 {
		in.reg = uint8(op&7) | (rex&rexB)<<3
		if rex != 0 && in.size == 1 && in.reg >= 4 && in.reg < 8 {
			in.reg += byteRegREX
		}
	}
	in.sub = desc.sub
	return decOK
}

// modrm decodes the ModRM byte, SIB and displacement (SDM Vol. 2A §2.1.5,
// §2.2.1 for REX and RIP-relative addressing). It reports whether the
// operand is RIP-relative (the displacement then needs the next RIP).
func (d *decoder) modrm(in *inst, modrm uint8, asize uint8, segSet bool) (ripRel bool) {
	rex := d.rex
	mod, reg, rm := modrm>>6, (modrm>>3)&7, modrm&7
	in.reg = reg | (rex&rexR)<<1
	if mod == 3 {
		in.rm = rm | (rex&rexB)<<3
		return false
	}
	in.mem = true
	defSS := false
	if asize == 2 {
		// 16-bit addressing forms (Table 2-1).
		bases := [8][2]uint8{{EBX, ESI}, {EBX, EDI}, {EBP, ESI}, {EBP, EDI}, {ESI, regNone}, {EDI, regNone}, {EBP, regNone}, {EBX, regNone}}
		in.base, in.index = bases[rm][0], bases[rm][1]
		defSS = rm == 2 || rm == 3 || rm == 6
		switch mod {
		case 0:
			if rm == 6 {
				in.base, defSS = regNone, false
				in.disp = uint64(d.u16())
			}
		case 1:
			in.disp = uint64(int64(int8(d.u8())))
		case 2:
			in.disp = uint64(d.u16())
		}
	} else {
		// 32- and 64-bit addressing forms (Tables 2-2, 2-3).
		if rm == 4 {
			sib := d.u8()
			scale, index, base := sib>>6, (sib>>3)&7|(rex&rexX)<<2, sib&7
			if index != 4 {
				in.index, in.scale = index, scale
			}
			if base == 5 && mod == 0 {
				in.disp = uint64(int64(int32(d.u32())))
			} else {
				in.base = base | (rex&rexB)<<3
				defSS = base == ESP || base == EBP
			}
		} else if rm == 5 && mod == 0 {
			in.disp = uint64(int64(int32(d.u32())))
			ripRel = d.mode == mode64
		} else {
			in.base = rm | (rex&rexB)<<3
			defSS = rm == EBP
		}
		switch mod {
		case 1:
			in.disp += uint64(int64(int8(d.u8())))
		case 2:
			in.disp += uint64(int64(int32(d.u32())))
		}
	}
	if defSS && !segSet {
		in.seg = SS
	}
	return ripRel
}

// ea computes the effective address (offset) of the memory operand.
func (c *CPU) ea(in *inst) uint64 {
	a := c.R[in.base] + c.R[in.index]<<in.scale + in.disp
	switch in.asize {
	case 2:
		a &= 0xFFFF
	case 4:
		a &= 0xFFFFFFFF
	}
	return a
}
