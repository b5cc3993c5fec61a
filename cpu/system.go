package cpu

// System instructions: flags that need privilege, I/O, control and debug
// registers, descriptor tables, CPUID, MSRs and the time-stamp counter.

// writeFlags loads EFLAGS from POPF or IRET with the privilege rules of
// SDM Vol. 2 POPF: IOPL changes only at CPL 0, IF only when CPL ≤ IOPL;
// VM, RF, VIP, VIF are never loaded this way.
func (c *CPU) writeFlags(v64 uint64, size uint8, iret bool) {
	c.writeFlagsAt(v64, size, c.cpl)
}

func (c *CPU) writeFlagsAt(v64 uint64, size uint8, cpl int) {
	v := uint32(v64)
	c.materialize()
	mask := uint32(ArithFlags | FlagTF | FlagDF | FlagOF | FlagNT | FlagIF | FlagIOPL | FlagAC | FlagID)
	if c.pmode || c.eflags&FlagVM != 0 {
		if cpl > 0 {
			mask &^= FlagIOPL
		}
		if cpl > c.iopl() {
			mask &^= FlagIF
		}
	}
	if size == 2 {
		mask &= 0xFFFF
	}
	c.eflags = c.eflags&^mask | v&mask | 2
	c.stop = true
}

func opPUSHF(c *CPU, in *inst) {
	if c.eflags&FlagVM != 0 && c.iopl() < 3 {
		c.gp(0)
	}
	// VM and RF read as 0 in the pushed image (SDM Vol. 2 PUSHF).
	c.push(in.size, uint64(c.flags()&^(FlagVM|FlagRF)))
}

func opPOPF(c *CPU, in *inst) {
	if c.eflags&FlagVM != 0 && c.iopl() < 3 {
		c.gp(0)
	}
	v := c.peek(in.size, 0)
	c.setSP(c.sp() + uint64(in.size))
	c.writeFlags(v, in.size, false)
}

func opCLI(c *CPU, in *inst) {
	if (c.pmode || c.eflags&FlagVM != 0) && c.cpl > c.iopl() {
		c.gp(0)
	}
	c.eflags &^= FlagIF
}

func opSTI(c *CPU, in *inst) {
	if (c.pmode || c.eflags&FlagVM != 0) && c.cpl > c.iopl() {
		c.gp(0)
	}
	if c.eflags&FlagIF == 0 {
		c.inhibit = true // SDM Vol. 2 STI: interrupts wait one instruction
	}
	c.eflags |= FlagIF
	c.stop = true
}

// privileged raises #GP(0) unless CPL is 0 (SDM Vol. 3A §5.9).
func (c *CPU) privileged() {
	if c.cpl != 0 {
		c.gp(0)
	}
}

func opHLT(c *CPU, in *inst) {
	c.privileged()
	c.halted = true
	c.stop = true
}

// checkIO applies IOPL and the TSS I/O permission bitmap (SDM Vol. 1 §19.5).
func (c *CPU) checkIO(port uint16, size uint8) {
	if !(c.pmode && c.cpl > c.iopl()) && c.eflags&FlagVM == 0 {
		return
	}
	tr := &c.TR
	typ := int(tr.Access & 0xF)
	if typ != sysTSS32Avail && typ != sysTSS32Busy || tr.Limit < 0x67 {
		c.gp(0)
	}
	base := uint64(c.sysRead(uint64(tr.Base)+0x66, 2))
	byteOff := base + uint64(port)/8
	if byteOff+1 > uint64(tr.Limit) {
		c.gp(0)
	}
	bitsv := uint64(c.sysRead(uint64(tr.Base)+byteOff, 2))
	if bitsv>>(port&7)&(1<<size-1) != 0 {
		c.gp(0)
	}
}

func opIN(c *CPU, in *inst) {
	port := uint16(in.imm)
	if in.sub == 1 {
		port = uint16(c.R[EDX])
	}
	c.checkIO(port, in.size)
	c.setReg(in.size, EAX, uint64(c.io.In(port, int(in.size))))
}

func opOUT(c *CPU, in *inst) {
	port := uint16(in.imm)
	if in.sub == 1 {
		port = uint16(c.R[EDX])
	}
	c.checkIO(port, in.size)
	c.io.Out(port, int(in.size), uint32(c.getReg(in.size, EAX)))
}

func opUD(c *CPU, in *inst) { c.ud() }

func opTooLong(c *CPU, in *inst) { c.gp(0) }

// opESC: x87 escape. With CR0.EM or CR0.TS set it raises #NM (SDM Vol. 3A
// §2.5); the x87 itself is not emulated yet, so no FPU is reported in CPUID
// and the escape otherwise does nothing, as on a CPU without a coprocessor.
func opESC(c *CPU, in *inst) {
	if c.CR0&(CR0EM|CR0TS) != 0 {
		c.raise(ExcNM, 0, false)
	}
	if in.mem {
		// The operand is still addressed: a segment-limit violation faults.
		c.linR(int(in.seg), c.ea(in), escOperandSize[in.sub])
	}
}

// escOperandSize is the memory-operand size of the common form of each
// escape opcode D8–DF (m32fp, m32int, m64fp, m16int).
var escOperandSize = [8]uint64{4, 4, 4, 4, 8, 8, 2, 2}

func opWAIT(c *CPU, in *inst) {
	if c.CR0&(CR0MP|CR0TS) == CR0MP|CR0TS {
		c.raise(ExcNM, 0, false)
	}
}

// Control registers (SDM Vol. 3A §2.5; Vol. 2 MOV—Move to/from Control Registers).

func movRC(c *CPU, in *inst) {
	c.privileged()
	var v uint64
	switch in.reg {
	case 0:
		v = c.CR0
	case 2:
		v = c.CR2
	case 3:
		v = c.CR3
	case 4:
		v = c.CR4
	default:
		c.ud()
	}
	c.R[in.rm] = uint64(v)
}

func movCR(c *CPU, in *inst) {
	c.privileged()
	v := uint64(c.R[in.rm])
	switch in.reg {
	case 0:
		c.writeCR0(v)
	case 2:
		c.CR2 = v
	case 3:
		c.CR3 = v
		c.tlb.FlushCR3++
		c.tlb.Flush(c.CR4&CR4PGE != 0)
	case 4:
		if v&^uint64(CR4VME|CR4PVI|CR4TSD|CR4DE|CR4PSE|CR4PGE|1<<9|1<<10) != 0 {
			c.gp(0) // reserved bits, or PAE which this CPU does not offer yet
		}
		if (v^c.CR4)&(CR4PSE|CR4PGE|CR4PAE) != 0 {
			c.tlb.FlushCR0CR4++
			c.tlb.Flush(false)
		}
		c.CR4 = v
	default:
		c.ud()
	}
	c.stop = true
}

// writeCR0 applies a CR0 write (SDM Vol. 3A §2.5, §9.9 mode switching).
func (c *CPU) writeCR0(v uint64) {
	if v&CR0PG != 0 && v&CR0PE == 0 || v&CR0NW != 0 && v&CR0CD == 0 {
		c.gp(0)
	}
	v |= CR0ET
	old := c.CR0
	c.CR0 = v
	if (old^v)&(CR0PG|CR0WP|CR0PE) != 0 {
		c.tlb.FlushCR0CR4++
		c.tlb.Flush(false)
	}
	c.modeChanged()
	c.refreshSegChecks()
	c.stop = true
}

func movRD(c *CPU, in *inst) {
	c.privileged()
	r := in.reg
	if r == 4 || r == 5 {
		if c.CR4&CR4DE != 0 {
			c.ud()
		}
		r += 2
	}
	c.R[in.rm] = uint64(c.DR[r])
}

func movDR(c *CPU, in *inst) {
	c.privileged()
	r := in.reg
	if r == 4 || r == 5 {
		if c.CR4&CR4DE != 0 {
			c.ud()
		}
		r += 2
	}
	c.DR[r] = uint64(c.R[in.rm])
}

func opCLTS(c *CPU, in *inst) {
	c.privileged()
	c.CR0 &^= CR0TS
}

func opWBINVD(c *CPU, in *inst) { c.privileged() }

func opINVLPG(c *CPU, in *inst) {
	c.privileged()
	la := uint64(c.Seg[in.seg].Base) + c.ea(in)
	c.tlb.FlushINVLPG++
	c.tlb.FlushPage(uint64(la))
}

func opSMSW(c *CPU, in *inst) {
	if in.mem {
		in.size = 2
	}
	c.writeE(in, c.CR0)
}

// opLMSW loads CR0 bits 0–3; it can set PE but not clear it.
func opLMSW(c *CPU, in *inst) {
	c.privileged()
	v := c.readE(in) & 0xF
	nv := c.CR0&^0xE | v&0xF | c.CR0&CR0PE
	c.writeCR0(nv)
}

// Descriptor-table registers (SDM Vol. 2 LGDT/LIDT, SGDT/SIDT).

func (c *CPU) loadDTR(in *inst) DTR {
	c.privileged()
	off := c.ea(in)
	limit := c.read16(int(in.seg), off)
	if c.mode == mode64 {
		return DTR{Base: c.read64(int(in.seg), off+2), Limit: limit} // 10-byte form
	}
	base := uint64(c.read32(int(in.seg), off+2))
	if in.size == 2 {
		base &= 0xFFFFFF
	}
	return DTR{Base: base, Limit: limit}
}

func (c *CPU) storeDTR(in *inst, d DTR) {
	off := c.ea(in)
	// Check both parts before writing either.
	n := uint64(6)
	if c.mode == mode64 {
		n = 10
	}
	c.linW(int(in.seg), off, n)
	c.write16(int(in.seg), off, d.Limit)
	if c.mode == mode64 {
		c.write64(int(in.seg), off+2, d.Base)
		return
	}
	base := d.Base
	if in.size == 2 {
		// With a 16-bit operand the 286 layout is stored: the top byte is 0.
		base &= 0xFFFFFF
	}
	c.write32(int(in.seg), off+2, uint32(base))
}

func opLGDT(c *CPU, in *inst) { c.GDTR = c.loadDTR(in) }
func opLIDT(c *CPU, in *inst) { c.IDTR = c.loadDTR(in) }
func opSGDT(c *CPU, in *inst) { c.storeDTR(in, c.GDTR) }
func opSIDT(c *CPU, in *inst) { c.storeDTR(in, c.IDTR) }

func (c *CPU) needPmode() {
	if !c.pmode {
		c.ud()
	}
}

func opSLDT(c *CPU, in *inst) {
	c.needPmode()
	if in.mem {
		in.size = 2
	}
	c.writeE(in, uint64(c.LDTR.Selector))
}

func opSTR(c *CPU, in *inst) {
	c.needPmode()
	if in.mem {
		in.size = 2
	}
	c.writeE(in, uint64(c.TR.Selector))
}

func opLLDT(c *CPU, in *inst) {
	c.needPmode()
	c.privileged()
	sel := uint16(c.readE(in))
	if sel&^3 == 0 {
		c.LDTR = Segment{Selector: sel}
		return
	}
	if sel&4 != 0 {
		c.gp(uint32(sel &^ 3))
	}
	d, _ := c.readDesc(sel, ExcGP)
	if !d.system() || d.typ() != sysLDT {
		c.gp(uint32(sel &^ 3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3), true)
	}
	c.LDTR = d.segment(sel)
}

func opLTR(c *CPU, in *inst) {
	c.needPmode()
	c.privileged()
	sel := uint16(c.readE(in))
	if sel&^3 == 0 || sel&4 != 0 {
		c.gp(uint32(sel &^ 3))
	}
	d, addr := c.readDesc(sel, ExcGP)
	if !d.system() || (d.typ() != sysTSS32Avail && d.typ() != sysTSS16Avail) {
		c.gp(uint32(sel &^ 3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3), true)
	}
	// Mark the TSS busy (SDM Vol. 3A §7.2.4).
	d |= 2 << 40
	c.sysWrite(addr+5, 1, uint64(d>>40)&0xFF)
	c.TR = d.segment(sel)
}

// descVisible applies the checks of LAR, LSL, VERR and VERW: the
// descriptor must be visible at CPL and RPL (SDM Vol. 2 LAR).
func (c *CPU) descVisible(sel uint16) (descriptor, bool) {
	if sel&^3 == 0 {
		return 0, false
	}
	a, ok := c.descAddr(sel)
	if !ok {
		return 0, false
	}
	d := descriptor(c.sysRead(a, 8))
	if !d.conforming() && (d.dpl() < c.cpl || d.dpl() < int(sel&3)) {
		return d, false
	}
	return d, true
}

func opLAR(c *CPU, in *inst) {
	c.needPmode()
	sz := in.size
	in.size = 2
	sel := uint16(c.readE(in))
	in.size = sz
	d, ok := c.descVisible(sel)
	if ok && d.system() {
		switch d.typ() {
		case sysTSS16Avail, sysLDT, sysTSS16Busy, sysCallGate16, sysTaskGate, sysTSS32Avail, sysTSS32Busy, sysCallGate32:
		default:
			ok = false
		}
	}
	if !ok {
		c.setArith(FlagZF, 0)
		return
	}
	c.setReg(in.size, in.reg, uint64(d>>32)&0x00F0FF00)
	c.setArith(FlagZF, FlagZF)
}

func opLSL(c *CPU, in *inst) {
	c.needPmode()
	sz := in.size
	in.size = 2
	sel := uint16(c.readE(in))
	in.size = sz
	d, ok := c.descVisible(sel)
	if ok && d.system() {
		switch d.typ() {
		case sysTSS16Avail, sysLDT, sysTSS16Busy, sysTSS32Avail, sysTSS32Busy:
		default:
			ok = false
		}
	}
	if !ok {
		c.setArith(FlagZF, 0)
		return
	}
	c.setReg(in.size, in.reg, d.limit())
	c.setArith(FlagZF, FlagZF)
}

func opVERR(c *CPU, in *inst) {
	c.needPmode()
	d, ok := c.descVisible(uint16(c.readE(in)))
	c.setArith(FlagZF, b2f(ok && !d.system() && d.readable(), FlagZF))
}

func opVERW(c *CPU, in *inst) {
	c.needPmode()
	d, ok := c.descVisible(uint16(c.readE(in)))
	c.setArith(FlagZF, b2f(ok && d.writableData(), FlagZF))
}

// Time-stamp counter (SDM Vol. 3B §17.17).

func (c *CPU) tsc() uint64 {
	if c.TimeStampCounter != nil {
		return c.TimeStampCounter() + c.tscOff
	}
	return c.Stats.Instructions + c.tscOff
}

func (c *CPU) setTSC(v uint64) { c.tscOff = 0; c.tscOff = v - c.tsc() }

func opRDTSC(c *CPU, in *inst) {
	if c.CR4&CR4TSD != 0 && c.cpl != 0 {
		c.gp(0)
	}
	t := c.tsc()
	c.R[EAX], c.R[EDX] = uint64(uint64(t)), t>>32
}

// Model-specific registers that this CPU has (SDM Vol. 4, Table 2-2).
const (
	msrTSC         = 0x10
	msrSysenterCS  = 0x174
	msrSysenterESP = 0x175
	msrSysenterEIP = 0x176
)

func opRDMSR(c *CPU, in *inst) {
	c.privileged()
	var v uint64
	switch uint64(c.R[ECX]) {
	case msrTSC:
		v = c.tsc()
	case msrSysenterCS:
		v = uint64(c.sysenter.cs)
	case msrSysenterESP:
		v = uint64(c.sysenter.esp)
	case msrSysenterEIP:
		v = uint64(c.sysenter.eip)
	default:
		c.gp(0) // an MSR this CPU does not have
	}
	c.R[EAX], c.R[EDX] = uint64(uint64(v)), v>>32
}

func opWRMSR(c *CPU, in *inst) {
	c.privileged()
	v := uint64(uint64(c.R[EDX]))<<32 | uint64(uint64(c.R[EAX]))
	switch uint64(c.R[ECX]) {
	case msrTSC:
		c.setTSC(v)
	case msrSysenterCS:
		c.sysenter.cs = uint64(v)
	case msrSysenterESP:
		c.sysenter.esp = uint64(v)
	case msrSysenterEIP:
		c.sysenter.eip = uint64(v)
	default:
		c.gp(0)
	}
}
