package cpu

// The opcode table: the single source of truth for decoding (operand forms,
// immediates), the handler of each instruction, and which instructions are
// sensitive or privileged (they end their block and are counted by row).
// Rows are written in Intel's notation (SDM Vol. 2D, Appendix A).

type opFlags uint32

const (
	fModRM    opFlags = 1 << iota
	fByte             // 8-bit operand
	fWord             // 16-bit operand whatever the operand-size attribute
	fBranch           // the handler sets EIP
	fEnd              // ends the block (mode or control changes)
	fOpReg            // register number in the low 3 bits of the opcode
	fLockable         // LOCK is allowed with a memory destination
	fRegOnly          // ModRM must be a register form
	fMemOnly          // ModRM must be a memory form
	fImm8
	fImm8s // imm8 sign-extended to the operand size
	fImm16
	fImmZ // imm16 or imm32 by operand size (imm8 for byte ops)
	fImmFar
	fImmEnter
	fMoffs
	fRel8
	fRelZ
	// Sensitive: reads or changes privileged state (DESIGN.md; Robin & Irvine 2000)
	// or is privileged; the hypervisor counts it.
	fSensitive
	fCount1  // shift by one (D0, D1)
	fCountCL // shift by CL (D2, D3)
	fInv64   // invalid in 64-bit mode (#UD)
	fDef64   // operand size defaults to 64 bits in 64-bit mode (stack, near branches)
	fRMByte  // the r/m operand is a byte though the row is not (MOVZX, MOVSX, SETcc)
	fImm64   // with REX.W the immediate is 64 bits (MOV r64, imm64)
)

const immMask = fImm8 | fImm8s | fImm16 | fImmZ | fImmFar | fImmEnter | fMoffs | fRel8 | fRelZ

// opDesc is one row of the table.
type opDesc struct {
	name   string
	flags  opFlags
	fn     handler
	sub    uint8
	group  *[8]opDesc
	reason string // why a sensitive instruction is sensitive
}

// opTable is indexed by the opcode byte, or 0x100|byte for 0F-prefixed opcodes.
var opTable [0x200]opDesc

// opTable64 holds the rows whose meaning changes in 64-bit mode (e.g. 63:
// MOVSXD instead of ARPL); an empty row means opTable's row applies.
var opTable64 [0x200]opDesc

func row(op uint16, name string, flags opFlags, fn handler) *opDesc {
	opTable[op] = opDesc{name: name, flags: flags, fn: fn}
	return &opTable[op]
}

func rowSub(op uint16, name string, flags opFlags, fn handler, sub uint8) {
	opTable[op] = opDesc{name: name, flags: flags, fn: fn, sub: sub}
}

func sensitive(op uint16, name string, flags opFlags, fn handler, reason string) {
	opTable[op] = opDesc{name: name, flags: flags | fSensitive | fEnd, fn: fn, reason: reason}
}

func groupRow(op uint16, name string, flags opFlags, g [8]opDesc) {
	gg := g
	opTable[op] = opDesc{name: name, flags: flags | fModRM, group: &gg}
}

var aluNames = [8]string{"ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"}
var ccNames = [16]string{"O", "NO", "B", "AE", "E", "NE", "BE", "A", "S", "NS", "P", "NP", "L", "GE", "LE", "G"}
var shiftNames = [8]string{"ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAL", "SAR"}

func init() {
	// ALU: 00–3F (SDM Vol. 2 ADD, OR, ADC, SBB, AND, SUB, XOR, CMP).
	for i := uint16(0); i < 8; i++ {
		n, lk := aluNames[i], fLockable
		if i == 7 {
			lk = 0
		}
		rowSub(i*8+0, n+" Eb,Gb", fModRM|fByte|lk, aluEG, uint8(i))
		rowSub(i*8+1, n+" Ev,Gv", fModRM|lk, aluEG, uint8(i))
		rowSub(i*8+2, n+" Gb,Eb", fModRM|fByte, aluGE, uint8(i))
		rowSub(i*8+3, n+" Gv,Ev", fModRM, aluGE, uint8(i))
		rowSub(i*8+4, n+" AL,Ib", fByte|fImmZ, aluAI, uint8(i))
		rowSub(i*8+5, n+" eAX,Iz", fImmZ, aluAI, uint8(i))
	}
	g1 := [8]opDesc{}
	g1b := [8]opDesc{}
	for i := 0; i < 8; i++ {
		lk := fLockable
		if i == 7 {
			lk = 0
		}
		g1[i] = opDesc{name: aluNames[i] + " Ev,I", flags: fModRM | lk, fn: aluEI, sub: uint8(i)}
		g1b[i] = opDesc{name: aluNames[i] + " Eb,Ib", flags: fModRM | fByte | lk, fn: aluEI, sub: uint8(i)}
	}
	groupRow(0x80, "Grp1 Eb,Ib", fByte|fImmZ, g1b)
	groupRow(0x81, "Grp1 Ev,Iz", fImmZ, g1)
	groupRow(0x82, "Grp1 Eb,Ib", fByte|fImmZ, g1b)
	groupRow(0x83, "Grp1 Ev,Ib", fImm8s, g1)
	for i := uint16(0); i < 4; i++ {
		seg := []uint8{ES, CS, SS, DS}[i]
		rowSub(0x06+i*8, "PUSH "+segNames[seg], 0, pushSeg, seg)
		if seg != CS {
			rowSub(0x07+i*8, "POP "+segNames[seg], fEnd, popSeg, seg)
		}
	}
	opTable[0x17].flags |= fSensitive
	rowSub(0x1A0, "PUSH FS", 0, pushSeg, FS)
	rowSub(0x1A1, "POP FS", 0, popSeg, FS)
	rowSub(0x1A8, "PUSH GS", 0, pushSeg, GS)
	rowSub(0x1A9, "POP GS", 0, popSeg, GS)
	row(0x27, "DAA", 0, opDAA)
	row(0x2F, "DAS", 0, opDAS)
	row(0x37, "AAA", 0, opAAA)
	row(0x3F, "AAS", 0, opAAS)
	for r := uint16(0); r < 8; r++ {
		row(0x40+r, "INC Zv", fOpReg, incReg)
		row(0x48+r, "DEC Zv", fOpReg, decReg)
		row(0x50+r, "PUSH Zv", fOpReg, pushReg)
		row(0x58+r, "POP Zv", fOpReg, popReg)
		row(0x90+r, "XCHG Zv,eAX", fOpReg, xchgAX)
		row(0xB0+r, "MOV Zb,Ib", fOpReg|fByte|fImmZ, movRI)
		row(0xB8+r, "MOV Zv,Iv", fOpReg|fImmZ, movRI)
		row(0x1C8+r, "BSWAP Zd", fOpReg, opBSWAP)
	}
	row(0x90, "NOP / XCHG r8,rAX", fOpReg, xchgAX) // 90 is XCHG eAX,eAX; with REX.B it is XCHG R8,rAX
	row(0x60, "PUSHA", 0, opPUSHA)
	row(0x61, "POPA", 0, opPOPA)
	row(0x62, "BOUND Gv,Ma", fModRM|fMemOnly, opBOUND)
	sensitive(0x63, "ARPL Ew,Gw", fModRM|fWord, opARPL, "adjusts a selector's privilege")
	row(0x68, "PUSH Iz", fImmZ, pushImm)
	row(0x69, "IMUL Gv,Ev,Iz", fModRM|fImmZ, imulGEI)
	row(0x6A, "PUSH Ib", fImm8s, pushImm)
	row(0x6B, "IMUL Gv,Ev,Ib", fModRM|fImm8s, imulGEI)
	sensitive(0x6C, "INSB", fByte, opINS, "port I/O")
	sensitive(0x6D, "INS", 0, opINS, "port I/O")
	sensitive(0x6E, "OUTSB", fByte, opOUTS, "port I/O")
	sensitive(0x6F, "OUTS", 0, opOUTS, "port I/O")
	for cc := uint16(0); cc < 16; cc++ {
		rowSub(0x70+cc, "J"+ccNames[cc]+" Jb", fRel8|fBranch|fEnd, opJcc, uint8(cc))
		rowSub(0x180+cc, "J"+ccNames[cc]+" Jz", fRelZ|fBranch|fEnd, opJcc, uint8(cc))
		rowSub(0x190+cc, "SET"+ccNames[cc]+" Eb", fModRM|fByte, opSETcc, uint8(cc))
		rowSub(0x140+cc, "CMOV"+ccNames[cc]+" Gv,Ev", fModRM, opCMOVcc, uint8(cc))
	}
	row(0x84, "TEST Eb,Gb", fModRM|fByte, testEG)
	row(0x85, "TEST Ev,Gv", fModRM, testEG)
	row(0x86, "XCHG Eb,Gb", fModRM|fByte|fLockable, xchgEG)
	row(0x87, "XCHG Ev,Gv", fModRM|fLockable, xchgEG)
	row(0x88, "MOV Eb,Gb", fModRM|fByte, movEG)
	row(0x89, "MOV Ev,Gv", fModRM, movEG)
	row(0x8A, "MOV Gb,Eb", fModRM|fByte, movGE)
	row(0x8B, "MOV Gv,Ev", fModRM, movGE)
	sensitive(0x8C, "MOV Ev,Sw", fModRM, movESw, "reads a segment selector (RPL reveals CPL)")
	row(0x8D, "LEA Gv,M", fModRM|fMemOnly, opLEA)
	sensitive(0x8E, "MOV Sw,Ew", fModRM|fWord, movSwE, "loads a segment descriptor")
	groupRow(0x8F, "Grp1A", 0, [8]opDesc{{name: "POP Ev", flags: fModRM, fn: popE}})
	row(0x98, "CBW/CWDE", 0, opCBW)
	row(0x99, "CWD/CDQ", 0, opCWD)
	sensitive(0x9A, "CALL Ap", fImmFar|fBranch, callFar, "far call: loads CS, may use a call gate")
	row(0x9B, "WAIT", 0, opWAIT)
	sensitive(0x9C, "PUSHF", 0, opPUSHF, "reads IF and IOPL without faulting")
	sensitive(0x9D, "POPF", 0, opPOPF, "silently ignores IF/IOPL changes at low privilege")
	row(0x9E, "SAHF", 0, opSAHF)
	row(0x9F, "LAHF", 0, opLAHF)
	row(0xA0, "MOV AL,Ob", fByte|fMoffs, movAO)
	row(0xA1, "MOV eAX,Ov", fMoffs, movAO)
	row(0xA2, "MOV Ob,AL", fByte|fMoffs, movOA)
	row(0xA3, "MOV Ov,eAX", fMoffs, movOA)
	row(0xA4, "MOVSB", fByte, opMOVS)
	row(0xA5, "MOVS", 0, opMOVS)
	row(0xA6, "CMPSB", fByte, opCMPS)
	row(0xA7, "CMPS", 0, opCMPS)
	row(0xA8, "TEST AL,Ib", fByte|fImmZ, testAI)
	row(0xA9, "TEST eAX,Iz", fImmZ, testAI)
	row(0xAA, "STOSB", fByte, opSTOS)
	row(0xAB, "STOS", 0, opSTOS)
	row(0xAC, "LODSB", fByte, opLODS)
	row(0xAD, "LODS", 0, opLODS)
	row(0xAE, "SCASB", fByte, opSCAS)
	row(0xAF, "SCAS", 0, opSCAS)
	g2 := [8]opDesc{}
	g2b := [8]opDesc{}
	for i := 0; i < 8; i++ {
		g2[i] = opDesc{name: shiftNames[i], flags: fModRM, fn: opShift, sub: uint8(i)}
		g2b[i] = opDesc{name: shiftNames[i], flags: fModRM | fByte, fn: opShift, sub: uint8(i)}
	}
	groupRow(0xC0, "Grp2 Eb,Ib", fByte|fImm8, g2b)
	groupRow(0xC1, "Grp2 Ev,Ib", fImm8, g2)
	groupRow(0xD0, "Grp2 Eb,1", fByte|fCount1, g2b)
	groupRow(0xD1, "Grp2 Ev,1", fCount1, g2)
	groupRow(0xD2, "Grp2 Eb,CL", fByte|fCountCL, g2b)
	groupRow(0xD3, "Grp2 Ev,CL", fCountCL, g2)
	row(0xC2, "RET Iw", fImm16|fBranch|fEnd, opRETimm)
	row(0xC3, "RET", fBranch|fEnd, opRET)
	sensitive(0xC4, "LES Gv,Mp", fModRM|fMemOnly, opLxS, "loads a segment descriptor")
	opTable[0xC4].sub = ES
	sensitive(0xC5, "LDS Gv,Mp", fModRM|fMemOnly, opLxS, "loads a segment descriptor")
	opTable[0xC5].sub = DS
	sensitive(0x1B2, "LSS Gv,Mp", fModRM|fMemOnly, opLxS, "loads a segment descriptor")
	opTable[0x1B2].sub = SS
	sensitive(0x1B4, "LFS Gv,Mp", fModRM|fMemOnly, opLxS, "loads a segment descriptor")
	opTable[0x1B4].sub = FS
	sensitive(0x1B5, "LGS Gv,Mp", fModRM|fMemOnly, opLxS, "loads a segment descriptor")
	opTable[0x1B5].sub = GS
	groupRow(0xC6, "Grp11 Eb,Ib", fByte|fImmZ, [8]opDesc{{name: "MOV Eb,Ib", flags: fModRM | fByte, fn: movEI}})
	groupRow(0xC7, "Grp11 Ev,Iz", fImmZ, [8]opDesc{{name: "MOV Ev,Iz", flags: fModRM, fn: movEI}})
	row(0xC8, "ENTER Iw,Ib", fImmEnter, opENTER)
	row(0xC9, "LEAVE", 0, opLEAVE)
	sensitive(0xCA, "RETF Iw", fImm16|fBranch, opRETF, "far return: loads CS, may change privilege")
	sensitive(0xCB, "RETF", fBranch, opRETF, "far return: loads CS, may change privilege")
	sensitive(0xCC, "INT3", fBranch, opINT3, "software interrupt through the IDT")
	sensitive(0xCD, "INT Ib", fImm8|fBranch, opINT, "software interrupt through the IDT")
	sensitive(0xCE, "INTO", fBranch, opINTO, "software interrupt through the IDT")
	sensitive(0xCF, "IRET", fBranch, opIRET, "loads CS, SS and EFLAGS, may change privilege")
	row(0xD4, "AAM Ib", fImm8, opAAM)
	row(0xD5, "AAD Ib", fImm8, opAAD)
	row(0xD6, "SALC", 0, opSALC)
	row(0xD7, "XLAT", 0, opXLAT)
	row(0xE0, "LOOPNE Jb", fRel8|fBranch|fEnd, opLOOP).sub = 0
	row(0xE1, "LOOPE Jb", fRel8|fBranch|fEnd, opLOOP).sub = 1
	row(0xE2, "LOOP Jb", fRel8|fBranch|fEnd, opLOOP).sub = 2
	row(0xE3, "JCXZ Jb", fRel8|fBranch|fEnd, opJCXZ)
	sensitive(0xE4, "IN AL,Ib", fByte|fImm8, opIN, "port I/O")
	sensitive(0xE5, "IN eAX,Ib", fImm8, opIN, "port I/O")
	sensitive(0xE6, "OUT Ib,AL", fByte|fImm8, opOUT, "port I/O")
	sensitive(0xE7, "OUT Ib,eAX", fImm8, opOUT, "port I/O")
	row(0xE8, "CALL Jz", fRelZ|fBranch|fEnd, opCALLrel)
	row(0xE9, "JMP Jz", fRelZ|fBranch|fEnd, opJMPrel)
	sensitive(0xEA, "JMP Ap", fImmFar|fBranch, jmpFar, "far jump: loads CS, may use a call gate")
	row(0xEB, "JMP Jb", fRel8|fBranch|fEnd, opJMPrel)
	sensitive(0xEC, "IN AL,DX", fByte, opIN, "port I/O")
	opTable[0xEC].sub = 1
	sensitive(0xED, "IN eAX,DX", 0, opIN, "port I/O")
	opTable[0xED].sub = 1
	sensitive(0xEE, "OUT DX,AL", fByte, opOUT, "port I/O")
	opTable[0xEE].sub = 1
	sensitive(0xEF, "OUT DX,eAX", 0, opOUT, "port I/O")
	opTable[0xEF].sub = 1
	sensitive(0xF1, "INT1", fBranch, opINT1, "debug trap through the IDT")
	sensitive(0xF4, "HLT", 0, opHLT, "privileged: stops the CPU")
	row(0xF5, "CMC", 0, opCMC)
	g3 := func(b opFlags) [8]opDesc {
		return [8]opDesc{
			{name: "TEST E,I", flags: fModRM | b | fImmZ, fn: testEI},
			{name: "TEST E,I", flags: fModRM | b | fImmZ, fn: testEI},
			{name: "NOT E", flags: fModRM | b | fLockable, fn: opNOT},
			{name: "NEG E", flags: fModRM | b | fLockable, fn: opNEG},
			{name: "MUL E", flags: fModRM | b, fn: opMUL},
			{name: "IMUL E", flags: fModRM | b, fn: opIMUL1},
			{name: "DIV E", flags: fModRM | b, fn: opDIV},
			{name: "IDIV E", flags: fModRM | b, fn: opIDIV},
		}
	}
	groupRow(0xF6, "Grp3 Eb", fByte, g3(fByte))
	groupRow(0xF7, "Grp3 Ev", 0, g3(0))
	row(0xF8, "CLC", 0, opCLC)
	row(0xF9, "STC", 0, opSTC)
	sensitive(0xFA, "CLI", 0, opCLI, "privileged by IOPL: changes IF")
	sensitive(0xFB, "STI", 0, opSTI, "privileged by IOPL: changes IF")
	row(0xFC, "CLD", 0, opCLD)
	row(0xFD, "STD", 0, opSTD)
	groupRow(0xFE, "Grp4", fByte, [8]opDesc{
		{name: "INC Eb", flags: fModRM | fByte | fLockable, fn: incE},
		{name: "DEC Eb", flags: fModRM | fByte | fLockable, fn: decE},
	})
	groupRow(0xFF, "Grp5", 0, [8]opDesc{
		{name: "INC Ev", flags: fModRM | fLockable, fn: incE},
		{name: "DEC Ev", flags: fModRM | fLockable, fn: decE},
		{name: "CALL Ev", flags: fModRM | fBranch | fEnd, fn: callE},
		{name: "CALLF Mp", flags: fModRM | fMemOnly | fBranch | fEnd | fSensitive, fn: callFarE, reason: "far call: loads CS, may use a call gate"},
		{name: "JMP Ev", flags: fModRM | fBranch | fEnd, fn: jmpE},
		{name: "JMPF Mp", flags: fModRM | fMemOnly | fBranch | fEnd | fSensitive, fn: jmpFarE, reason: "far jump: loads CS, may use a call gate"},
		{name: "PUSH Ev", flags: fModRM, fn: pushE},
	})

	// Two-byte opcodes.
	sens := fSensitive | fEnd
	groupRow(0x100, "Grp6", 0, [8]opDesc{
		{name: "SLDT Ev", flags: fModRM | sens, fn: opSLDT, reason: "reads the LDTR without faulting"},
		{name: "STR Ev", flags: fModRM | sens, fn: opSTR, reason: "reads the TR without faulting"},
		{name: "LLDT Ew", flags: fModRM | fWord | sens, fn: opLLDT, reason: "privileged: loads the LDTR"},
		{name: "LTR Ew", flags: fModRM | fWord | sens, fn: opLTR, reason: "privileged: loads the TR"},
		{name: "VERR Ew", flags: fModRM | fWord | sens, fn: opVERR, reason: "reveals descriptor privilege"},
		{name: "VERW Ew", flags: fModRM | fWord | sens, fn: opVERW, reason: "reveals descriptor privilege"},
	})
	groupRow(0x101, "Grp7", 0, [8]opDesc{
		{name: "SGDT Ms", flags: fModRM | fMemOnly | sens, fn: opSGDT, reason: "reads the GDTR without faulting"},
		{name: "SIDT Ms", flags: fModRM | fMemOnly | sens, fn: opSIDT, reason: "reads the IDTR without faulting"},
		{name: "LGDT Ms", flags: fModRM | fMemOnly | sens, fn: opLGDT, reason: "privileged: loads the GDTR"},
		{name: "LIDT Ms", flags: fModRM | fMemOnly | sens, fn: opLIDT, reason: "privileged: loads the IDTR"},
		{name: "SMSW Ew", flags: fModRM | sens, fn: opSMSW, reason: "reads CR0 without faulting"},
		{},
		{name: "LMSW Ew", flags: fModRM | fWord | sens, fn: opLMSW, reason: "privileged: writes CR0"},
		{name: "INVLPG M", flags: fModRM | fMemOnly | sens, fn: opINVLPG, reason: "privileged: TLB control"},
	})
	sensitive(0x102, "LAR Gv,Ew", fModRM, opLAR, "reveals descriptor access rights")
	sensitive(0x103, "LSL Gv,Ew", fModRM, opLSL, "reveals descriptor limits")
	sensitive(0x106, "CLTS", 0, opCLTS, "privileged: writes CR0.TS")
	sensitive(0x108, "INVD", 0, opWBINVD, "privileged: cache control")
	sensitive(0x109, "WBINVD", 0, opWBINVD, "privileged: cache control")
	row(0x10B, "UD2", 0, opUD)
	row(0x10D, "NOP Ev (prefetch)", fModRM, opNOP)
	for i := uint16(0x118); i <= 0x11F; i++ {
		row(i, "NOP Ev", fModRM, opNOP)
	}
	sensitive(0x120, "MOV Rd,Cd", fModRM|fRegOnly, movRC, "privileged: reads a control register")
	sensitive(0x121, "MOV Rd,Dd", fModRM|fRegOnly, movRD, "privileged: reads a debug register")
	sensitive(0x122, "MOV Cd,Rd", fModRM|fRegOnly, movCR, "privileged: writes a control register")
	sensitive(0x123, "MOV Dd,Rd", fModRM|fRegOnly, movDR, "privileged: writes a debug register")
	sensitive(0x130, "WRMSR", 0, opWRMSR, "privileged: writes a model-specific register")
	sensitive(0x131, "RDTSC", 0, opRDTSC, "reads the time-stamp counter (CR4.TSD)")
	sensitive(0x132, "RDMSR", 0, opRDMSR, "privileged: reads a model-specific register")
	sensitive(0x1A2, "CPUID", 0, opCPUID, "reveals the processor model")
	row(0x1A3, "BT Ev,Gv", fModRM, opBT)
	row(0x1A4, "SHLD Ev,Gv,Ib", fModRM|fImm8, opSHLD)
	row(0x1A5, "SHLD Ev,Gv,CL", fModRM, opSHLD).sub = 1
	row(0x1AB, "BTS Ev,Gv", fModRM|fLockable, opBTS)
	row(0x1AC, "SHRD Ev,Gv,Ib", fModRM|fImm8, opSHRD)
	row(0x1AD, "SHRD Ev,Gv,CL", fModRM, opSHRD).sub = 1
	row(0x1AF, "IMUL Gv,Ev", fModRM, imulGE)
	row(0x1B0, "CMPXCHG Eb,Gb", fModRM|fByte|fLockable, opCMPXCHG)
	row(0x1B1, "CMPXCHG Ev,Gv", fModRM|fLockable, opCMPXCHG)
	row(0x1B3, "BTR Ev,Gv", fModRM|fLockable, opBTR)
	row(0x1B6, "MOVZX Gv,Eb", fModRM, movzxB)
	row(0x1B7, "MOVZX Gv,Ew", fModRM, movzxW)
	groupRow(0x1BA, "Grp8 Ev,Ib", fImm8, [8]opDesc{
		4: {name: "BT Ev,Ib", flags: fModRM, fn: opBT, sub: 1},
		5: {name: "BTS Ev,Ib", flags: fModRM | fLockable, fn: opBTS, sub: 1},
		6: {name: "BTR Ev,Ib", flags: fModRM | fLockable, fn: opBTR, sub: 1},
		7: {name: "BTC Ev,Ib", flags: fModRM | fLockable, fn: opBTC, sub: 1},
	})
	row(0x1BB, "BTC Ev,Gv", fModRM|fLockable, opBTC)
	row(0x1BC, "BSF Gv,Ev", fModRM, opBSF)
	row(0x1BD, "BSR Gv,Ev", fModRM, opBSR)
	row(0x1BE, "MOVSX Gv,Eb", fModRM, movsxB)
	row(0x1BF, "MOVSX Gv,Ew", fModRM, movsxW)
	row(0x1C0, "XADD Eb,Gb", fModRM|fByte|fLockable, opXADD)
	row(0x1C1, "XADD Ev,Gv", fModRM|fLockable, opXADD)
	groupRow(0x1C7, "Grp9", 0, [8]opDesc{1: {name: "CMPXCHG8B Mq", flags: fModRM | fMemOnly | fLockable, fn: opCMPXCHG8B}})
	row(0x1B9, "UD1", fModRM, opUD)
	row(0x1FF, "UD0", fModRM, opUD)

	// Instruction families that register their own rows.
	registerX87()
	registerSSE()
	registerLong()

	// 64-bit mode (SDM Vol. 2D Appendix A, opcodes marked i64 and d64).
	for _, op := range []uint16{0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F,
		0x60, 0x61, 0x62, 0x82, 0x9A, 0xC4, 0xC5, 0xCE, 0xD4, 0xD5, 0xD6, 0xEA} {
		opTable[op].flags |= fInv64
	}
	for op := uint16(0x50); op < 0x60; op++ {
		opTable[op].flags |= fDef64
	}
	for op := uint16(0x70); op < 0x80; op++ {
		opTable[op].flags |= fDef64
		opTable[0x180+op-0x70].flags |= fDef64
	}
	for _, op := range []uint16{0x68, 0x6A, 0x9C, 0x9D, 0xC2, 0xC3, 0xC8, 0xC9, 0xE0, 0xE1, 0xE2, 0xE3, 0xE8, 0xE9, 0xEB, 0x1A0, 0x1A1, 0x1A8, 0x1A9} {
		opTable[op].flags |= fDef64
	}
	opTable[0x8F].group[0].flags |= fDef64
	for _, r := range []int{2, 4, 6} {
		opTable[0xFF].group[r].flags |= fDef64
	}
	for op := uint16(0xB8); op < 0xC0; op++ {
		opTable[op].flags |= fImm64
	}
	for _, op := range []uint16{0x1B6, 0x1BE} {
		opTable[op].flags |= fRMByte
	}
	for op := uint16(0x190); op < 0x1A0; op++ {
		opTable[op].flags |= fRMByte
	}

	for i := range opTable {
		d := &opTable[i]
		if d.flags&fBranch != 0 {
			d.flags |= fEnd
		}
	}
	countSensitive() // last: every sensitive row is in place (trapcount.go)
}

var segNames = [6]string{"ES", "CS", "SS", "DS", "FS", "GS"}

// SensitiveRow is one row of the table of sensitive and privileged instructions.
type SensitiveRow struct {
	Name   string
	Reason string
}

// SensitiveTable lists the sensitive and privileged instructions with the
// reason for each (DESIGN.md, Robin & Irvine 2000).
func SensitiveTable() []SensitiveRow {
	var rows []SensitiveRow
	add := func(d *opDesc) {
		if d.flags&fSensitive != 0 {
			rows = append(rows, SensitiveRow{Name: d.name, Reason: d.reason})
		}
	}
	for i := range opTable {
		d := &opTable[i]
		add(d)
		if d.group != nil {
			for j := range d.group {
				add(&d.group[j])
			}
		}
	}
	return rows
}
