package cpu

import "github.com/gemu-project/gemu/mmu"

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

func opWAIT(c *CPU, in *inst) {
	if c.CR0&(CR0MP|CR0TS) == CR0MP|CR0TS {
		c.raise(ExcNM, 0, false)
	}
	c.x87Wait() // a pending unmasked x87 exception raises #MF (SDM Vol. 1 §8.6)
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
	case 8:
		if c.mode != mode64 {
			c.ud()
		}
		v = c.CR8
	default:
		c.ud()
	}
	// In 64-bit mode the operand is 64 bits, else 32 (SDM Vol. 2 MOV CR).
	if c.mode == mode64 {
		c.R[in.rm] = v
	} else {
		c.R[in.rm] = v & 0xFFFFFFFF
	}
}

// cr4Valid are the CR4 bits this CPU implements (SDM Vol. 3A §2.5).
const cr4Valid = CR4VME | CR4PVI | CR4TSD | CR4DE | CR4PSE | CR4PAE | CR4PGE | CR4PCE | 1<<9 | 1<<10

func movCR(c *CPU, in *inst) {
	c.privileged()
	v := c.R[in.rm]
	if c.mode != mode64 {
		v &= 0xFFFFFFFF
	}
	switch in.reg {
	case 0:
		c.writeCR0(v)
	case 2:
		c.CR2 = v
	case 3:
		c.writeCR3(v)
	case 4:
		if v&^uint64(cr4Valid) != 0 || c.long && v&CR4PAE == 0 {
			c.gp(0) // reserved bits, or clearing PAE in IA-32e mode
		}
		if (v^c.CR4)&(CR4PSE|CR4PGE|CR4PAE) != 0 {
			c.tlb.FlushCR0CR4++
			c.tlb.Flush(false)
		}
		c.CR4 = v
		if v&CR4PAE != 0 && c.CR0&CR0PG != 0 && !c.long {
			c.loadPDPTEs()
		}
	case 8:
		if c.mode != mode64 || v > 15 {
			c.gp(0)
		}
		c.CR8 = v
	default:
		c.ud()
	}
	c.stop = true
}

// writeCR3 loads the page-table base; non-global translations are dropped
// (SDM Vol. 3A §4.10.4.1).
func (c *CPU) writeCR3(v uint64) {
	c.CR3 = v
	c.tlb.FlushCR3++
	c.tlb.Flush(c.CR4&CR4PGE != 0)
	if c.CR4&CR4PAE != 0 && c.CR0&CR0PG != 0 && !c.long {
		c.loadPDPTEs()
	}
}

// loadPDPTEs reads the four PAE page-directory-pointer entries at CR3
// (SDM Vol. 3A §4.4.1): a reserved bit set in a present entry is #GP(0).
func (c *CPU) loadPDPTEs() {
	base := mmu.GPA(c.CR3 &^ 0x1F)
	for i := range c.pdpte {
		e := uint64(c.mem.Read32(base+mmu.GPA(i*8))) | uint64(c.mem.Read32(base+mmu.GPA(i*8+4)))<<32
		if e&1 != 0 && e&(0x1E6|^uint64(1<<physAddrBits-1)) != 0 {
			c.gp(0)
		}
		c.pdpte[i] = e
	}
}

// writeCR0 applies a CR0 write (SDM Vol. 3A §2.5, §9.9 mode switching,
// §10.8.5 IA-32e mode activation).
func (c *CPU) writeCR0(v uint64) {
	if v&CR0PG != 0 && v&CR0PE == 0 || v&CR0NW != 0 && v&CR0CD == 0 || v>>32 != 0 {
		c.gp(0)
	}
	v |= CR0ET
	old := c.CR0
	if v&CR0PG != 0 && old&CR0PG == 0 && c.EFER&EFERLME != 0 {
		// Activating IA-32e mode needs PAE and a CS that is not 64-bit yet.
		if c.CR4&CR4PAE == 0 || c.Seg[CS].Access&AccL != 0 {
			c.gp(0)
		}
		c.EFER |= EFERLMA
	}
	if v&CR0PG == 0 && old&CR0PG != 0 && c.long {
		if c.mode == mode64 {
			c.gp(0) // paging cannot be turned off from 64-bit code
		}
		c.EFER &^= EFERLMA
	}
	c.CR0 = v
	if (old^v)&(CR0PG|CR0WP|CR0PE) != 0 {
		c.tlb.FlushCR0CR4++
		c.tlb.Flush(false)
	}
	c.modeChanged()
	if v&CR0PG != 0 && old&CR0PG == 0 && c.CR4&CR4PAE != 0 && !c.long {
		c.loadPDPTEs()
	}
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
	c.LDTR.Base |= c.systemBaseHigh(sel)
}

// systemBaseHigh returns bits 63:32 of a system-segment base: in IA-32e
// mode LDT and TSS descriptors are 16 bytes (SDM Vol. 3A §8.2.3, Figure 8-4).
func (c *CPU) systemBaseHigh(sel uint16) uint64 {
	if !c.long {
		return 0
	}
	a, ok := c.descAddr(sel + 8)
	if !ok {
		c.gp(uint32(sel &^ 3))
	}
	return c.sysRead(a, 4) << 32
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
	high := c.systemBaseHigh(sel)
	// Mark the TSS busy (SDM Vol. 3A §7.2.4).
	d |= 2 << 40
	c.sysWrite(addr+5, 1, uint64(d>>40)&0xFF)
	c.TR = d.segment(sel)
	c.TR.Base |= high
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
	sel := uint16(c.readEAt(in, 2))
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
	sel := uint16(c.readEAt(in, 2))
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
	msrTSC          = 0x10
	msrPlatformID   = 0x17 // IA32_PLATFORM_ID
	msrBIOSSignID   = 0x8B // IA32_BIOS_SIGN_ID: the microcode revision
	msrMTRRcap      = 0xFE
	msrSysenterCS   = 0x174
	msrSysenterESP  = 0x175
	msrSysenterEIP  = 0x176
	msrArchCaps     = 0x10A // IA32_ARCH_CAPABILITIES, read-only
	msrMiscEnable   = 0x1A0
	msrPAT          = 0x277
	msrMTRRdefType  = 0x2FF
	msrEFER         = 0xC0000080
	msrSTAR         = 0xC0000081
	msrLSTAR        = 0xC0000082
	msrCSTAR        = 0xC0000083
	msrSFMASK       = 0xC0000084
	msrFSBase       = 0xC0000100
	msrGSBase       = 0xC0000101
	msrKernelGSBase = 0xC0000102
	msrTSCAux       = 0xC0000103
)

// DefaultPAT is the PAT value after reset (SDM Vol. 3A §13.12.4).
const DefaultPAT = 0x0007040600070406

func opRDMSR(c *CPU, in *inst) {
	c.privileged()
	v, ok := c.readMSR(uint32(c.R[ECX]))
	if !ok {
		c.gp(0) // an MSR this CPU does not have
	}
	c.R[EAX], c.R[EDX] = uint64(uint32(v)), v>>32
}

func opWRMSR(c *CPU, in *inst) {
	c.privileged()
	v := uint64(uint32(c.R[EDX]))<<32 | uint64(uint32(c.R[EAX]))
	if !c.writeMSR(uint32(c.R[ECX]), v) {
		c.gp(0)
	}
}

func (c *CPU) readMSR(n uint32) (uint64, bool) {
	switch n {
	case msrTSC:
		return c.tsc(), true
	case msrMTRRcap:
		return 0, true // no variable or fixed ranges, no WC
	case msrPlatformID, msrBIOSSignID:
		return 0, true // no microcode loaded
	case msrMTRRdefType:
		return 0x6, true // write-back default, MTRRs disabled
	case msrMiscEnable:
		return 1, true // fast strings
	case msrArchCaps:
		return ArchCapabilities, true
	case msrSysenterCS:
		return c.sysenter.cs, true
	case msrSysenterESP:
		return c.sysenter.esp, true
	case msrSysenterEIP:
		return c.sysenter.eip, true
	case msrPAT:
		return c.msr.pat, true
	case msrEFER:
		return c.EFER, true
	case msrSTAR:
		return c.msr.star, true
	case msrLSTAR:
		return c.msr.lstar, true
	case msrCSTAR:
		return c.msr.cstar, true
	case msrSFMASK:
		return c.msr.sfmask, true
	case msrFSBase:
		return c.Seg[FS].Base, true
	case msrGSBase:
		return c.Seg[GS].Base, true
	case msrKernelGSBase:
		return c.msr.kernelGSBase, true
	case msrTSCAux:
		return c.msr.tscAux, true
	}
	if c.MachineMSRs != nil {
		return c.MachineMSRs.ReadMSR(n)
	}
	return 0, false
}

// writeMSR writes an MSR; it reports false for #GP (no such MSR, reserved
// bits, a non-canonical address).
func (c *CPU) writeMSR(n uint32, v uint64) bool {
	switch n {
	case msrTSC:
		c.setTSC(v)
		if c.Hypervisor != nil {
			c.Hypervisor.TSCChanged(c) // its clock pages follow the guest's TSC
		}
	case msrMTRRdefType, msrMiscEnable, msrBIOSSignID:
		// Accepted and ignored: memory types do not matter to an emulator.
	case msrSysenterCS:
		c.sysenter.cs = v & 0xFFFF
	case msrSysenterESP:
		if !canonical(v) {
			return false
		}
		c.sysenter.esp = v
	case msrSysenterEIP:
		if !canonical(v) {
			return false
		}
		c.sysenter.eip = v
	case msrPAT:
		for i := 0; i < 8; i++ {
			if t := v >> (8 * i) & 0xFF; t > 7 || t == 2 || t == 3 {
				return false
			}
		}
		c.msr.pat = v
	case msrEFER:
		// SCE, LME and NXE are writable, LMA is read-only, and LME cannot
		// change while paging is on (SDM Vol. 3A §10.8.5).
		if v&^uint64(EFERSCE|EFERLME|EFERLMA|EFERNXE) != 0 {
			return false
		}
		if c.CR0&CR0PG != 0 && (v^c.EFER)&EFERLME != 0 {
			return false
		}
		if (v^c.EFER)&EFERNXE != 0 {
			c.tlb.Flush(false)
		}
		c.EFER = v&^EFERLMA | c.EFER&EFERLMA
	case msrSTAR:
		c.msr.star = v
	case msrLSTAR, msrCSTAR, msrKernelGSBase, msrFSBase, msrGSBase:
		if !canonical(v) {
			return false
		}
		switch n {
		case msrLSTAR:
			c.msr.lstar = v
		case msrCSTAR:
			c.msr.cstar = v
		case msrKernelGSBase:
			c.msr.kernelGSBase = v
		case msrFSBase:
			c.Seg[FS].Base = v
		case msrGSBase:
			c.Seg[GS].Base = v
		}
	case msrSFMASK:
		c.msr.sfmask = v & 0xFFFFFFFF
	case msrTSCAux:
		c.msr.tscAux = v & 0xFFFFFFFF
	default:
		if c.MachineMSRs != nil {
			return c.MachineMSRs.WriteMSR(n, v)
		}
		return false
	}
	return true
}
