package cpu

// The translator's decoder: one table of opcodes (table.go) drives it; it
// turns guest bytes into pre-decoded inst values once per block.

type handler func(c *CPU, in *inst)

// inst is one pre-decoded guest instruction.
type inst struct {
	fn     handler
	eip    uint32 // offset in CS of this instruction
	next   uint32 // offset in CS of the next one
	disp   uint32
	imm    uint32
	imm2   uint32
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
	byteAt(off uint32) (uint8, bool)
}

// decoder state for one instruction.
type decoder struct {
	f      fetcher
	pos    uint32 // offset in CS
	start  uint32
	ok     bool
	code32 bool
	count  int
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

// decode decodes the instruction at offset eip.
func decode(f fetcher, eip uint32, code32 bool, in *inst) decodeResult {
	d := decoder{f: f, pos: eip, start: eip, ok: true, code32: code32}
	*in = inst{eip: eip, base: regNone, index: regNone, seg: DS}
	opsize32, addr32 := code32, code32
	var op uint16
	segSet := false
prefixes:
	for {
		b := d.u8()
		if !d.ok {
			return decFetchFault
		}
		if d.count > 15 {
			// Longer than 15 bytes: #GP(0) in fact (SDM Vol. 2A §2.3.11); we raise it at run time.
			in.fn = opTooLong
			in.next = d.pos
			return decOK
		}
		switch b {
		case 0x26, 0x2E, 0x36, 0x3E:
			in.seg, segSet = (b>>3)&3, true
		case 0x64, 0x65:
			in.seg, segSet = b-0x64+FS, true
		case 0x66:
			opsize32 = !code32
			in.p66 = true
		case 0x67:
			addr32 = !code32
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
	}
	if op == 0x0F {
		op = 0x100 | uint16(d.u8())
	}
	desc := &opTable[op]
	in.size = 2
	if opsize32 {
		in.size = 4
	}
	if desc.flags&fByte != 0 {
		in.size = 1
	}
	if desc.flags&fWord != 0 {
		in.size = 2
	}
	in.asize = 2
	if addr32 {
		in.asize = 4
	}
	in.segOvr = segSet
	fn := desc.fn
	immFlags := desc.flags & immMask
	switch {
	case desc.flags&fCount1 != 0:
		in.imm2 = 1
	case desc.flags&fCountCL != 0:
		in.imm2 = 2
	}
	if desc.flags&fModRM != 0 {
		modrm := d.u8()
		d.modrm(in, modrm, addr32, segSet)
		if desc.group != nil {
			g := &desc.group[in.reg]
			fn = g.fn
			if g.name != "" {
				desc = g
				immFlags |= g.flags & immMask
			}
			if desc.flags&fByte != 0 {
				in.size = 1
			}
		}
		if desc.flags&fRegOnly != 0 && in.mem || desc.flags&fMemOnly != 0 && !in.mem {
			fn = nil
		}
	}
	in.desc = desc
	switch immFlags {
	case fImm8:
		in.imm = uint32(d.u8())
	case fImm8s:
		in.imm = uint32(int32(int8(d.u8())))
	case fImm16:
		in.imm = uint32(d.u16())
	case fImmZ:
		if in.size == 1 {
			in.imm = uint32(d.u8())
		} else if in.size == 2 {
			in.imm = uint32(d.u16())
		} else {
			in.imm = d.u32()
		}
	case fImmFar:
		if opsize32 {
			in.imm = d.u32()
		} else {
			in.imm = uint32(d.u16())
		}
		in.imm2 = uint32(d.u16())
	case fImmEnter:
		in.imm = uint32(d.u16())
		in.imm2 = uint32(d.u8())
	case fMoffs:
		in.mem = true
		if addr32 {
			in.disp = d.u32()
		} else {
			in.disp = uint32(d.u16())
		}
	case fRel8:
		r := uint32(int32(int8(d.u8())))
		in.imm = d.pos + r
	case fRelZ:
		var r uint32
		if opsize32 {
			r = d.u32()
		} else {
			r = uint32(int32(int16(d.u16())))
		}
		in.imm = d.pos + r
	}
	if !d.ok {
		return decFetchFault
	}
	if d.count > 15 {
		in.fn = opTooLong
		in.next = d.pos
		return decOK
	}
	if immFlags&(fRel8|fRelZ) != 0 && !opsize32 {
		in.imm &= 0xFFFF
	}
	in.next = d.pos
	if !code32 {
		in.next &= 0xFFFF
	}
	if fn == nil {
		in.fn = opUD
		return decUD
	}
	if in.lock && (desc.flags&fLockable == 0 || !in.mem) {
		in.fn = opUD
		return decUD
	}
	in.fn = fn
	in.branch = desc.flags&fBranch != 0
	if desc.flags&fOpReg != 0 {
		in.reg = uint8(op & 7)
	}
	in.sub = desc.sub
	specialize(in)
	return decOK
}

// modrm decodes the ModRM byte, SIB and displacement (SDM Vol. 2A §2.1.5).
func (d *decoder) modrm(in *inst, modrm uint8, addr32, segSet bool) {
	mod, reg, rm := modrm>>6, (modrm>>3)&7, modrm&7
	in.reg = reg
	if mod == 3 {
		in.rm = rm
		return
	}
	in.mem = true
	defSS := false
	if !addr32 {
		// 16-bit addressing forms (Table 2-1).
		bases := [8][2]uint8{{EBX, ESI}, {EBX, EDI}, {EBP, ESI}, {EBP, EDI}, {ESI, regNone}, {EDI, regNone}, {EBP, regNone}, {EBX, regNone}}
		in.base, in.index = bases[rm][0], bases[rm][1]
		defSS = rm == 2 || rm == 3 || rm == 6
		switch mod {
		case 0:
			if rm == 6 {
				in.base, defSS = regNone, false
				in.disp = uint32(d.u16())
			}
		case 1:
			in.disp = uint32(int32(int8(d.u8())))
		case 2:
			in.disp = uint32(d.u16())
		}
	} else {
		// 32-bit addressing forms (Tables 2-2 and 2-3).
		if rm == 4 {
			sib := d.u8()
			scale, index, base := sib>>6, (sib>>3)&7, sib&7
			if index != 4 {
				in.index, in.scale = index, scale
			}
			if base == 5 && mod == 0 {
				in.disp = d.u32()
			} else {
				in.base = base
				defSS = base == ESP || base == EBP
			}
		} else if rm == 5 && mod == 0 {
			in.disp = d.u32()
		} else {
			in.base = rm
			defSS = rm == EBP
		}
		switch mod {
		case 1:
			in.disp += uint32(int32(int8(d.u8())))
		case 2:
			in.disp += d.u32()
		}
	}
	if defSS && !segSet {
		in.seg = SS
	}
}

// ea computes the effective address (offset) of the memory operand.
func (c *CPU) ea(in *inst) uint32 {
	a := uint32(c.R[in.base]) + uint32(c.R[in.index])<<in.scale + in.disp
	if in.asize == 2 {
		a &= 0xFFFF
	}
	return a
}
