package cpu

// Long mode (SDM Vol. 3A §2.2.1, §5.8.8, §6.14; Vol. 2 for the 64-bit forms).

// longMSRs are the MSRs of IA-32e mode and of the features that came with it.
type longMSRs struct {
	star, lstar, cstar, sfmask uint64
	kernelGSBase               uint64
	pat                        uint64
	tscAux                     uint64
}

// canonical reports whether a linear address is canonical: bits 63:47 all
// equal (SDM Vol. 1 §3.3.7.1, 48-bit linear addresses).
func canonical(la uint64) bool {
	return uint64(int64(la<<16)>>16) == la
}

// registerLong installs the rows that differ in, or exist only for, 64-bit mode.
func registerLong() {
	opTable64[0x63] = opDesc{name: "MOVSXD Gv,Ed", flags: fModRM, fn: opMOVSXD}
	sensitive(0x105, "SYSCALL", fBranch, opSYSCALL, "fast system call: changes CS, SS and privilege")
	sensitive(0x107, "SYSRET", fBranch, opSYSRET, "fast system return: changes CS, SS and privilege")
	sensitive(0x134, "SYSENTER", fBranch, opSYSENTER, "fast system call: changes CS, SS and privilege")
	sensitive(0x135, "SYSEXIT", fBranch, opSYSEXIT, "fast system return: changes CS, SS and privilege")
	g := opTable[0x101].group
	g[7] = opDesc{name: "INVLPG M / SWAPGS / RDTSCP", flags: fModRM | fSensitive | fEnd, fn: opGrp7Slot7, reason: "privileged: TLB control; swaps GS base; reads the TSC"}
	g[1] = opDesc{name: "SIDT Ms", flags: fModRM | fMemOnly | fSensitive | fEnd, fn: opSIDT, reason: "reads the IDTR without faulting"}
	g[0] = opDesc{name: "SGDT Ms / VMCALL", flags: fModRM | fSensitive | fEnd, fn: opGrp7Slot0, reason: "reads the GDTR without faulting; calls the hypervisor"}
	g[3] = opDesc{name: "LIDT Ms / VMMCALL", flags: fModRM | fSensitive | fEnd, fn: opGrp7Slot3, reason: "privileged: loads the IDTR; calls the hypervisor"}
	for _, op := range []uint16{0x105, 0x107, 0x134, 0x135} {
		opTable[op].flags |= fEnd
	}
}

// opMOVSXD: MOVSXD r64, r/m32 with REX.W; without it, a 32-bit move.
func opMOVSXD(c *CPU, in *inst) {
	sz := in.size
	v := c.readEAt(in, 4)
	c.setReg(sz, in.reg, signExtend(v, 4))
}

// opGrp7Slot7 is 0F 01 /7: INVLPG with a memory operand, SWAPGS (F8) and
// RDTSCP (F9) in the register forms.
func opGrp7Slot7(c *CPU, in *inst) {
	if in.mem {
		opINVLPG(c, in)
		return
	}
	switch in.rm & 7 {
	case 0: // SWAPGS (SDM Vol. 2 SWAPGS): 64-bit mode, CPL 0
		if c.mode != mode64 {
			c.ud()
		}
		c.privileged()
		c.Seg[GS].Base, c.msr.kernelGSBase = c.msr.kernelGSBase, c.Seg[GS].Base
	case 1: // RDTSCP
		if c.CR4&CR4TSD != 0 && c.cpl != 0 {
			c.gp(0)
		}
		t := c.tsc()
		c.R[EAX], c.R[EDX], c.R[ECX] = uint64(uint32(t)), t>>32, c.msr.tscAux&0xFFFFFFFF
	default:
		c.ud()
	}
}

// Flat segments loaded by SYSCALL, SYSRET, SYSENTER and SYSEXIT, which do
// not read descriptors (SDM Vol. 2 SYSCALL "Operation").
func flatCode(sel uint16, dpl int, long bool) Segment {
	s := Segment{Selector: sel, Limit: 0xFFFFFFFF, Access: AccP | AccS | AccCode | AccWritable | AccAccessed | AccG | uint16(dpl)<<AccDPLShift}
	if long {
		s.Access |= AccL
	} else {
		s.Access |= AccDB
	}
	return s
}

func flatStack(sel uint16, dpl int) Segment {
	return Segment{Selector: sel, Limit: 0xFFFFFFFF, Access: AccP | AccS | AccWritable | AccAccessed | AccG | AccDB | uint16(dpl)<<AccDPLShift}
}

func (c *CPU) loadFlat(cs, ss Segment) {
	c.Seg[CS], c.Seg[SS] = cs, ss
	c.modeChanged()
	c.stop = true
	c.recheckTF = true
}

// opSYSCALL (SDM Vol. 2 SYSCALL; AMD APM Vol. 2 §6.1.1 for legacy and
// compatibility mode, which use STAR[31:0] and CSTAR).
func opSYSCALL(c *CPU, in *inst) {
	if c.EFER&EFERSCE == 0 || !c.pmode {
		c.ud()
	}
	sel := uint16(c.msr.star >> 32 & 0xFFFC)
	fl := c.flags()
	if c.long {
		from64 := c.mode == mode64 // before CS changes
		c.R[ECX] = in.next
		c.R[11] = uint64(fl)
		c.setFlags(fl &^ uint32(c.msr.sfmask) &^ FlagRF)
		c.loadFlat(flatCode(sel, 0, true), flatStack(sel+8, 0))
		if from64 {
			c.EIP = c.msr.lstar
		} else {
			c.EIP = c.msr.cstar // compatibility mode (AMD APM Vol. 2 §6.1.1; Intel raises #UD)
		}
		return
	}
	c.R[ECX] = in.next & 0xFFFFFFFF
	c.setFlags(fl &^ (FlagIF | FlagVM | FlagRF))
	c.loadFlat(flatCode(sel, 0, false), flatStack(sel+8, 0))
	c.EIP = c.msr.star & 0xFFFFFFFF
}

// opSYSRET returns to CPL 3 (SDM Vol. 2 SYSRET).
func opSYSRET(c *CPU, in *inst) {
	if c.EFER&EFERSCE == 0 || !c.pmode {
		c.ud()
	}
	c.privileged()
	base := uint16(c.msr.star >> 48)
	ss := flatStack((base+8)&^3|3, 3)
	if c.long {
		if in.size == 8 {
			if !canonical(c.R[ECX]) {
				c.gp(0)
			}
			c.setFlags(uint32(c.R[11])&0x3C7FD7 | 2)
			c.loadFlat(flatCode((base+16)&^3|3, 3, true), ss)
			c.EIP = c.R[ECX]
			return
		}
		c.setFlags(uint32(c.R[11])&0x3C7FD7 | 2)
		c.loadFlat(flatCode(base&^3|3, 3, false), ss)
		c.EIP = c.R[ECX] & 0xFFFFFFFF
		return
	}
	c.eflags |= FlagIF
	c.loadFlat(flatCode(base&^3|3, 3, false), ss)
	c.EIP = c.R[ECX] & 0xFFFFFFFF
}

// opSYSENTER (SDM Vol. 2 SYSENTER).
func opSYSENTER(c *CPU, in *inst) {
	sel := uint16(c.sysenter.cs) &^ 3
	if !c.pmode || sel == 0 {
		c.gp(0)
	}
	c.eflags &^= FlagVM | FlagIF | FlagRF
	c.loadFlat(flatCode(sel, 0, c.long), flatStack(sel+8, 0))
	if c.long {
		c.R[ESP], c.EIP = c.sysenter.esp, c.sysenter.eip
	} else {
		c.R[ESP], c.EIP = c.sysenter.esp&0xFFFFFFFF, c.sysenter.eip&0xFFFFFFFF
	}
}

// opSYSEXIT (SDM Vol. 2 SYSEXIT).
func opSYSEXIT(c *CPU, in *inst) {
	sel := uint16(c.sysenter.cs) &^ 3
	if !c.pmode || sel == 0 {
		c.gp(0)
	}
	c.privileged()
	if in.size == 8 {
		if !canonical(c.R[EDX]) || !canonical(c.R[ECX]) {
			c.gp(0)
		}
		c.loadFlat(flatCode((sel+32)|3, 3, true), flatStack((sel+40)|3, 3))
		c.R[ESP], c.EIP = c.R[ECX], c.R[EDX]
		return
	}
	c.loadFlat(flatCode((sel+16)|3, 3, false), flatStack((sel+24)|3, 3))
	c.R[ESP], c.EIP = c.R[ECX]&0xFFFFFFFF, c.R[EDX]&0xFFFFFFFF
}

// tss64Stack reads RSPn (ist = 0) or ISTn from the 64-bit TSS (SDM Vol. 3A
// §8.7, Figure 8-11).
func (c *CPU) tss64Stack(pl int, ist int) uint64 {
	off := uint64(4 + pl*8)
	if ist != 0 {
		off = uint64(0x24 + (ist-1)*8)
	}
	if off+7 > uint64(c.TR.Limit) {
		c.raise(ExcTS, uint32(c.TR.Selector&^3), true)
	}
	return c.sysRead(c.TR.Base+off, 8)
}

// interrupt64 delivers an interrupt or exception in IA-32e mode through a
// 16-byte IDT gate, always pushing SS:RSP (SDM Vol. 3A §6.14).
func (c *CPU) interrupt64(vector uint8, src intSource, code uint32, hasCode bool, ret uint64) {
	ext := uint32(0)
	if src == intExternal {
		ext = 1
	}
	idtCode := uint32(vector)*8 + 2 + ext
	if uint64(vector)*16+15 > uint64(c.IDTR.Limit) {
		c.gp(idtCode)
	}
	lo := descriptor(c.sysRead(c.IDTR.Base+uint64(vector)*16, 8))
	hi := c.sysRead(c.IDTR.Base+uint64(vector)*16+8, 8)
	typ := lo.typ()
	if !lo.system() || typ != sysIntGate32 && typ != sysTrapGate32 {
		c.gp(idtCode)
	}
	if src == intSoftware && lo.dpl() < c.cpl {
		c.gp(idtCode)
	}
	if !lo.present() {
		c.raise(ExcNP, idtCode, true)
	}
	sel := lo.gateSelector()
	if sel&^3 == 0 {
		c.gp(ext)
	}
	d, daddr := c.readDesc(sel, ExcGP)
	scode := uint32(sel&^3) + ext
	if !d.code() || d.dpl() > c.cpl || d&(1<<53) == 0 || d&(1<<54) != 0 {
		c.gp(scode) // must be a 64-bit code segment (L=1, D=0)
	}
	if !d.present() {
		c.raise(ExcNP, scode, true)
	}
	target := lo.gateOffset() | (hi&0xFFFFFFFF)<<32
	if !canonical(target) {
		c.gp(ext)
	}
	newCPL := c.cpl
	if !d.conforming() {
		newCPL = d.dpl()
	}
	ist := int(lo>>32) & 7
	oldCPL := c.cpl
	oldSS, oldRSP := c.Seg[SS].Selector, c.R[ESP]
	rsp := oldRSP
	if c.mode != mode64 {
		rsp &= 0xFFFFFFFF
	}
	if ist != 0 {
		rsp = c.tss64Stack(0, ist)
	} else if newCPL < c.cpl {
		rsp = c.tss64Stack(newCPL, 0)
	}
	rsp &^= 15 // the frame is 16-byte aligned (§6.14.2)
	frame := [6]uint64{ret, uint64(c.Seg[CS].Selector), uint64(c.flags()), oldRSP, uint64(oldSS)}
	n := 5
	if hasCode {
		copy(frame[1:], frame[:5])
		frame[0] = uint64(code)
		n = 6
	}
	// Write the frame as a supervisor access at the new privilege level.
	c.cpl = newCPL
	ok := false
	defer func() {
		if !ok {
			c.cpl = oldCPL
		}
	}()
	base := rsp - uint64(n)*8
	for i := 0; i < n; i++ {
		la := base + uint64(i)*8
		if !canonical(la) {
			c.raise(ExcSS, 0, true)
		}
		c.lwrite64(la, frame[i])
	}
	ok = true
	d = c.setAccessed(d, daddr)
	c.eflags &^= FlagTF | FlagNT | FlagRF | FlagVM
	if typ == sysIntGate32 {
		c.eflags &^= FlagIF
	}
	if newCPL != oldCPL {
		// The new SS is a null selector with RPL = new CPL (§6.14.4).
		c.Seg[SS] = Segment{Selector: uint16(newCPL), Access: AccP | AccS | AccWritable | uint16(newCPL)<<AccDPLShift}
	}
	c.setSeg(CS, d.segment(sel&^3|uint16(newCPL)))
	c.R[ESP] = base
	c.refreshSegChecks()
	c.EIP = target
}

// iret64 is IRET in 64-bit mode: it always pops SS:RSP (SDM Vol. 2 IRET,
// IA-32e-MODE).
func (c *CPU) iret64(size uint8) {
	eip := c.peek(size, 0)
	sel := uint16(c.peek(size, uint64(size)))
	fl := c.peek(size, 2*uint64(size))
	rsp := c.peek(size, 3*uint64(size))
	ssSel := uint16(c.peek(size, 4*uint64(size)))
	d, addr, rpl := c.returnCS(sel)
	target64 := d&(1<<53) != 0
	if target64 {
		if !canonical(eip) {
			c.gp(0)
		}
	} else if eip > d.limit() {
		c.gp(0)
	}
	oldCPL := c.cpl
	var ss Segment
	if ssSel&^3 == 0 {
		// A null SS is allowed when returning to 64-bit code at CPL < 3.
		if !target64 || rpl == 3 {
			c.gp(0)
		}
		ss = Segment{Selector: ssSel, Access: AccP | AccS | AccWritable | uint16(rpl)<<AccDPLShift}
	} else {
		ss = c.checkOuterSS(ssSel, rpl).segment(ssSel)
	}
	d = c.setAccessed(d, addr)
	c.setSeg(CS, d.segment(sel))
	c.writeFlagsAt(fl, size, oldCPL)
	c.Seg[SS] = ss
	c.modeChanged()
	if c.mode == mode64 {
		c.R[ESP] = rsp
	} else {
		c.R[ESP] = rsp & 0xFFFFFFFF
	}
	if rpl > oldCPL {
		c.nullifyOuter()
	}
	c.refreshSegChecks()
	c.EIP = eip
}

// callGate64 is a far CALL or JMP through a 16-byte 64-bit call gate
// (SDM Vol. 3A §5.8.3.1, §5.8.5; Vol. 2 CALL, "IA-32e mode"): the target
// must be 64-bit code; a CALL to an inner level takes RSP from the TSS,
// loads a null SS and pushes SS, RSP, CS and RIP as quadwords.
func (c *CPU) callGate64(sel uint16, addr uint64, gate descriptor, next uint64, jump bool) {
	code := uint32(sel &^ 3)
	if gate.dpl() < c.cpl || gate.dpl() < int(sel&3) {
		c.gp(code)
	}
	if !gate.present() {
		c.raise(ExcNP, code, true)
	}
	hi := c.sysRead(addr+8, 8)
	if hi>>40&0x1F != 0 {
		c.gp(code) // the upper half's type field must be 0
	}
	tsel := gate.gateSelector()
	target := gate.gateOffset() | (hi&0xFFFFFFFF)<<32
	if tsel&^3 == 0 {
		c.gp(0)
	}
	td, taddr := c.readDesc(tsel, ExcGP)
	tcode := uint32(tsel &^ 3)
	if !td.code() || td&(1<<53) == 0 || td&(1<<54) != 0 || td.dpl() > c.cpl {
		c.gp(tcode)
	}
	if jump && (td.conforming() && td.dpl() > c.cpl || !td.conforming() && td.dpl() != c.cpl) {
		c.gp(tcode)
	}
	if !td.present() {
		c.raise(ExcNP, tcode, true)
	}
	if !canonical(target) {
		c.gp(0)
	}
	newCPL := c.cpl
	if !jump && !td.conforming() {
		newCPL = td.dpl()
	}
	td = c.setAccessed(td, taddr)
	if jump {
		c.setSeg(CS, td.segment(tsel&^3|uint16(c.cpl)))
		c.EIP = target
		return
	}
	oldCS, oldSS, oldRSP := c.Seg[CS].Selector, c.Seg[SS].Selector, c.R[ESP]
	if c.mode != mode64 {
		oldRSP &= 0xFFFFFFFF
	}
	rsp := oldRSP
	frame := []uint64{next, uint64(oldCS)}
	if newCPL < c.cpl {
		rsp = c.tss64Stack(newCPL, 0)
		frame = append(frame, oldRSP, uint64(oldSS))
	}
	oldCPL := c.cpl
	c.cpl = newCPL
	ok := false
	defer func() {
		if !ok {
			c.cpl = oldCPL
		}
	}()
	base := rsp - uint64(len(frame))*8
	for i, v := range frame {
		la := base + uint64(i)*8
		if !canonical(la) {
			c.raise(ExcSS, 0, true)
		}
		c.lwrite64(la, v)
	}
	ok = true
	if newCPL != oldCPL {
		c.Seg[SS] = Segment{Selector: uint16(newCPL), Access: AccP | AccS | AccWritable | uint16(newCPL)<<AccDPLShift}
	}
	c.setSeg(CS, td.segment(tsel&^3|uint16(newCPL)))
	c.R[ESP] = base
	c.refreshSegChecks()
	c.EIP = target
}
