package cpu

// Interrupts, exceptions and far control transfers (SDM Vol. 3A chapter 6,
// §5.8 privilege changes through gates; Vol. 2 CALL, JMP, RET, INT, IRET).

// contributory exceptions (SDM Vol. 3A §6.15, Table 6-5).
func contributory(v uint8) bool {
	return v == ExcDE || v == ExcTS || v == ExcNP || v == ExcSS || v == ExcGP
}

// deliverFault delivers c.fault, turning a fault during delivery into #DF
// and a fault while delivering #DF into a shutdown.
func (c *CPU) deliverFault() {
	c.Stats.Exceptions++
	f := c.fault
	c.halted = false
	if f.vector == ExcDB && c.trapDB {
		c.trapDB = false
	}
	c.faultChain = c.faultChain[:0]
	for tries := 0; ; tries++ {
		if c.tryDeliver(f) {
			return
		}
		second := c.fault
		c.faultChain = append(c.faultChain, f)
		switch {
		case f.vector == ExcDF:
			c.faultChain = append(c.faultChain, second)
			c.stopReason = StopShutdown
			c.stop = true
			return
		case contributory(f.vector) && contributory(second.vector),
			f.vector == ExcPF && (second.vector == ExcPF || contributory(second.vector)):
			f = fault{vector: ExcDF, code: 0, hasCode: true}
		default:
			f = second
		}
		if tries > 3 {
			c.stopReason = StopShutdown
			c.stop = true
			return
		}
	}
}

// tryDeliver delivers an exception; it reports false, with c.fault set, if
// delivery itself faulted.
func (c *CPU) tryDeliver(f fault) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errFault {
				panic(r)
			}
			ok = false
		}
	}()
	c.interrupt(f.vector, intException, f.code, f.hasCode, c.EIP)
	return true
}

type intSource int

const (
	intException intSource = iota // a fault or trap raised by the CPU
	intSoftware                   // INT n, INT3, INTO: gate DPL is checked
	intExternal                   // INTR from the interrupt controller
)

// takeExternalInterrupt acknowledges and delivers a maskable interrupt.
func (c *CPU) takeExternalInterrupt() {
	v := c.intr.Acknowledge()
	c.Stats.Interrupts++
	c.fault = fault{}
	if !c.tryExternal(v) {
		c.deliverFault()
	}
}

func (c *CPU) tryExternal(v uint8) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errFault {
				panic(r)
			}
			ok = false
		}
	}()
	c.interrupt(v, intExternal, 0, false, c.EIP)
	return true
}

// interrupt transfers control through the IVT or IDT. ret is the EIP to push.
func (c *CPU) interrupt(vector uint8, src intSource, code uint32, hasCode bool, ret uint64) {
	c.materialize()
	if c.CR0&CR0PE == 0 {
		c.interruptReal(vector, ret)
		return
	}
	if c.long {
		c.interrupt64(vector, src, code, hasCode, ret)
		return
	}
	ext := uint32(0)
	if src == intExternal {
		ext = 1
	}
	idtCode := uint32(vector)*8 + 2 + ext
	if uint64(vector)*8+7 > uint64(c.IDTR.Limit) {
		c.gp(idtCode)
	}
	gate := descriptor(c.sysRead(uint64(c.IDTR.Base)+uint64(vector)*8, 8))
	typ := gate.typ()
	if !gate.system() || (typ != sysIntGate16 && typ != sysIntGate32 && typ != sysTrapGate16 && typ != sysTrapGate32) {
		if typ == sysTaskGate && gate.system() {
			c.gp(idtCode) // hardware task switching is not supported
		}
		c.gp(idtCode)
	}
	if src == intSoftware && gate.dpl() < c.cpl {
		c.gp(idtCode)
	}
	if !gate.present() {
		c.raise(ExcNP, idtCode, true)
	}
	sel := gate.gateSelector()
	if sel&^3 == 0 {
		c.gp(ext)
	}
	d, daddr := c.readDesc(sel, ExcGP)
	scode := uint32(sel&^3) + ext
	if !d.code() || d.dpl() > c.cpl {
		c.gp(scode)
	}
	if !d.present() {
		c.raise(ExcNP, scode, true)
	}
	gate32 := typ == sysIntGate32 || typ == sysTrapGate32
	size := uint8(2)
	if gate32 {
		size = 4
	}
	target := gate.gateOffset()
	if !gate32 {
		target &= 0xFFFF
	}
	oldFlags := c.flags()
	oldCS := c.Seg[CS].Selector
	newCPL := c.cpl
	if !d.conforming() {
		newCPL = d.dpl()
	}
	if c.eflags&FlagVM != 0 && newCPL != 0 {
		c.gp(scode)
	}
	if newCPL < c.cpl {
		// Inner privilege: switch to the stack of newCPL from the TSS (§6.12.1).
		oldSS, oldESP := c.Seg[SS].Selector, uint64(c.R[ESP])
		fromVM := c.eflags&FlagVM != 0
		c.switchToInnerStack(newCPL)
		if fromVM {
			c.push(size, uint64(c.Seg[GS].Selector))
			c.push(size, uint64(c.Seg[FS].Selector))
			c.push(size, uint64(c.Seg[DS].Selector))
			c.push(size, uint64(c.Seg[ES].Selector))
			for _, s := range []int{GS, FS, DS, ES} {
				c.Seg[s] = Segment{}
			}
		}
		c.push(size, uint64(oldSS))
		c.push(size, oldESP)
	}
	c.push(size, uint64(oldFlags))
	c.push(size, uint64(oldCS))
	c.push(size, ret)
	if hasCode {
		c.push(size, uint64(code))
	}
	c.checkFarTarget(d, target)
	d = c.setAccessed(d, daddr)
	c.eflags &^= FlagTF | FlagNT | FlagRF | FlagVM
	if typ == sysIntGate16 || typ == sysIntGate32 {
		c.eflags &^= FlagIF
	}
	cs := d.segment(sel&^3 | uint16(newCPL))
	c.setSeg(CS, cs)
	c.cpl = newCPL
	c.modeChanged()
	c.refreshSegChecks()
	c.EIP = target
}

// interruptReal uses the real-mode IVT (SDM Vol. 3A §20.1.4).
func (c *CPU) interruptReal(vector uint8, ret uint64) {
	a := uint64(vector) * 4
	if a+3 > uint64(c.IDTR.Limit) {
		c.gp(0)
	}
	ip := uint64(c.sysRead(uint64(c.IDTR.Base)+a, 2))
	cs := uint16(c.sysRead(uint64(c.IDTR.Base)+a+2, 2))
	c.push(2, uint64(c.flags()))
	c.push(2, uint64(c.Seg[CS].Selector))
	c.push(2, ret)
	c.eflags &^= FlagIF | FlagTF | FlagAC | FlagRF
	seg := c.Seg[CS]
	seg.Selector, seg.Base = cs, uint64(cs)<<4
	c.setSeg(CS, seg)
	c.EIP = ip
}

// tssStack reads the SS:ESP for privilege level pl from the current TSS.
func (c *CPU) tssStack(pl int) (uint16, uint64) {
	tr := &c.TR
	typ := int(tr.Access & 0xF)
	if typ == sysTSS32Avail || typ == sysTSS32Busy {
		off := uint64(4 + pl*8)
		if off+5 > uint64(tr.Limit) {
			c.raise(ExcTS, uint32(tr.Selector&^3), true)
		}
		esp := uint64(c.sysRead(uint64(tr.Base)+off, 4))
		ss := uint16(c.sysRead(uint64(tr.Base)+off+4, 2))
		return ss, esp
	}
	off := uint64(2 + pl*4)
	if off+3 > uint64(tr.Limit) {
		c.raise(ExcTS, uint32(tr.Selector&^3), true)
	}
	sp := uint64(c.sysRead(uint64(tr.Base)+off, 2))
	ss := uint16(c.sysRead(uint64(tr.Base)+off+2, 2))
	return ss, sp
}

// checkTSSStack validates the inner stack segment (#TS on failure, §6.12.1.1).
func (c *CPU) checkTSSStack(sel uint16, pl int) descriptor {
	code := uint32(sel &^ 3)
	if sel&^3 == 0 {
		c.raise(ExcTS, 0, true)
	}
	a, ok := c.descAddr(sel)
	if !ok {
		c.raise(ExcTS, code, true)
	}
	d := descriptor(c.sysRead(a, 8))
	if int(sel&3) != pl || d.dpl() != pl || !d.writableData() {
		c.raise(ExcTS, code, true)
	}
	if !d.present() {
		c.raise(ExcSS, code, true)
	}
	return c.setAccessed(d, a)
}

func (c *CPU) refreshSegChecks() {
	for s := range c.Seg {
		c.updateSegCheck(s)
	}
}

func opINT(c *CPU, in *inst) { c.softInt(uint8(in.imm), in.next) }

func opINT3(c *CPU, in *inst) { c.softInt(ExcBP, in.next) }

func opINT1(c *CPU, in *inst) {
	c.interrupt(ExcDB, intException, 0, false, in.next)
}

func opINTO(c *CPU, in *inst) {
	if c.of() {
		c.softInt(ExcOF, in.next)
		return
	}
	c.EIP = in.next
}

// softInt is INT n: in virtual-8086 mode with IOPL < 3 it faults (§20.3.1).
func (c *CPU) softInt(v uint8, next uint64) {
	if c.eflags&FlagVM != 0 && c.iopl() < 3 {
		c.gp(0)
	}
	c.interrupt(v, intSoftware, 0, false, next)
	c.stop = true
}

func (c *CPU) iopl() int { return int(c.eflags>>12) & 3 }

func opBOUND(c *CPU, in *inst) {
	off := c.ea(in)
	s := int(in.seg)
	lo := signExtend(c.readSize(s, off, in.size), in.size)
	hi := signExtend(c.readSize(s, off+uint64(in.size), in.size), in.size)
	v := signExtend(c.getReg(in.size, in.reg), in.size)
	if int32(v) < int32(lo) || int32(v) > int32(hi) {
		c.raise(ExcBR, 0, false)
	}
}

// Far transfers.

func jmpFar(c *CPU, in *inst) { c.farJump(uint16(in.imm2), in.imm, in.size) }

func jmpFarE(c *CPU, in *inst) {
	off := c.ea(in)
	v := c.readSize(int(in.seg), off, in.size)
	sel := c.read16(int(in.seg), off+uint64(in.size))
	c.farJump(sel, v, in.size)
}

func callFar(c *CPU, in *inst) { c.farCall(uint16(in.imm2), in.imm, in.size, in.next) }

func callFarE(c *CPU, in *inst) {
	off := c.ea(in)
	v := c.readSize(int(in.seg), off, in.size)
	sel := c.read16(int(in.seg), off+uint64(in.size))
	c.farCall(sel, v, in.size, in.next)
}

// realCS loads CS in real or virtual-8086 mode.
func (c *CPU) realCS(sel uint16, eip uint64) {
	if eip > uint64(c.Seg[CS].Limit) {
		c.gp(0)
	}
	seg := c.Seg[CS]
	seg.Selector, seg.Base = sel, uint64(sel)<<4
	c.setSeg(CS, seg)
	c.EIP = eip
}

// codeTarget checks a code-segment descriptor for a direct far JMP or CALL
// (SDM Vol. 3A §5.8.1).
func (c *CPU) codeTarget(sel uint16, d descriptor) {
	code := uint32(sel &^ 3)
	rpl := int(sel & 3)
	if d.conforming() {
		if d.dpl() > c.cpl {
			c.gp(code)
		}
	} else if rpl > c.cpl || d.dpl() != c.cpl {
		c.gp(code)
	}
	if !d.present() {
		c.raise(ExcNP, code, true)
	}
}

func (c *CPU) farJump(sel uint16, eip uint64, size uint8) {
	if size == 2 {
		eip &= 0xFFFF
	}
	if !c.pmode {
		c.realCS(sel, eip)
		return
	}
	if sel&^3 == 0 {
		c.gp(0)
	}
	d, addr := c.readDesc(sel, ExcGP)
	code := uint32(sel &^ 3)
	if d.code() {
		c.codeTarget(sel, d)
		c.checkFarTarget(d, eip)
		d = c.setAccessed(d, addr)
		c.setSeg(CS, d.segment(sel&^3|uint16(c.cpl)))
		c.EIP = eip
		return
	}
	if c.long && d.system() && d.typ() == sysCallGate32 {
		c.callGate64(sel, addr, d, 0, true)
		return
	}
	if d.system() && (d.typ() == sysCallGate16 || d.typ() == sysCallGate32) {
		if d.dpl() < c.cpl || d.dpl() < int(sel&3) {
			c.gp(code)
		}
		if !d.present() {
			c.raise(ExcNP, code, true)
		}
		tsel := d.gateSelector()
		teip := d.gateOffset()
		if d.typ() == sysCallGate16 {
			teip &= 0xFFFF
		}
		if tsel&^3 == 0 {
			c.gp(0)
		}
		td, taddr := c.readDesc(tsel, ExcGP)
		tcode := uint32(tsel &^ 3)
		if !td.code() || (td.conforming() && td.dpl() > c.cpl) || (!td.conforming() && td.dpl() != c.cpl) {
			c.gp(tcode)
		}
		if !td.present() {
			c.raise(ExcNP, tcode, true)
		}
		c.checkFarTarget(td, teip)
		td = c.setAccessed(td, taddr)
		c.setSeg(CS, td.segment(tsel&^3|uint16(c.cpl)))
		c.EIP = teip
		return
	}
	// Task gates and TSS descriptors would switch tasks: not supported.
	c.gp(code)
}

func (c *CPU) farCall(sel uint16, eip uint64, size uint8, next uint64) {
	if size == 2 {
		eip &= 0xFFFF
	}
	if !c.pmode {
		if eip > uint64(c.Seg[CS].Limit) {
			c.gp(0)
		}
		// Check the stack room first so a fault changes nothing.
		c.linW(SS, (c.sp()-uint64(size)*2)&c.spMask(), uint64(size)*2)
		c.push(size, uint64(c.Seg[CS].Selector))
		c.push(size, next)
		c.realCS(sel, eip)
		return
	}
	if sel&^3 == 0 {
		c.gp(0)
	}
	d, addr := c.readDesc(sel, ExcGP)
	code := uint32(sel &^ 3)
	if d.code() {
		c.codeTarget(sel, d)
		c.checkFarTarget(d, eip)
		c.linW(SS, (c.sp()-uint64(size)*2)&c.spMask(), uint64(size)*2)
		c.push(size, uint64(c.Seg[CS].Selector))
		c.push(size, next)
		d = c.setAccessed(d, addr)
		c.setSeg(CS, d.segment(sel&^3|uint16(c.cpl)))
		c.EIP = eip
		return
	}
	if c.long && d.system() && d.typ() == sysCallGate32 {
		c.callGate64(sel, addr, d, next, false)
		return
	}
	if !d.system() || (d.typ() != sysCallGate16 && d.typ() != sysCallGate32) {
		c.gp(code) // task gates and TSSs: task switching is not supported
	}
	// Call gate (SDM Vol. 3A §5.8.5).
	if d.dpl() < c.cpl || d.dpl() < int(sel&3) {
		c.gp(code)
	}
	if !d.present() {
		c.raise(ExcNP, code, true)
	}
	tsel := d.gateSelector()
	gsize := uint8(4)
	teip := d.gateOffset()
	if d.typ() == sysCallGate16 {
		gsize = 2
		teip &= 0xFFFF
	}
	if tsel&^3 == 0 {
		c.gp(0)
	}
	td, taddr := c.readDesc(tsel, ExcGP)
	tcode := uint32(tsel &^ 3)
	if !td.code() || td.dpl() > c.cpl {
		c.gp(tcode)
	}
	if !td.present() {
		c.raise(ExcNP, tcode, true)
	}
	c.checkFarTarget(td, teip)
	oldCS := c.Seg[CS].Selector
	if !td.conforming() && td.dpl() < c.cpl {
		// More privileged: new stack from the TSS, copy the parameters (§5.8.5, Figure 5-13).
		newCPL := td.dpl()
		n := d.gateParams()
		oldSS, oldESP := c.Seg[SS].Selector, c.sp()
		params := make([]uint64, n)
		for i := 0; i < n; i++ {
			params[i] = c.peek(gsize, uint64(i)*uint64(gsize))
		}
		c.switchToInnerStack(newCPL)
		c.push(gsize, uint64(oldSS))
		c.push(gsize, oldESP)
		for i := n - 1; i >= 0; i-- {
			c.push(gsize, params[i])
		}
		c.push(gsize, uint64(oldCS))
		c.push(gsize, next)
		td = c.setAccessed(td, taddr)
		c.setSeg(CS, td.segment(tsel&^3|uint16(newCPL)))
		c.refreshSegChecks()
		c.EIP = teip
		return
	}
	c.push(gsize, uint64(oldCS))
	c.push(gsize, next)
	td = c.setAccessed(td, taddr)
	c.setSeg(CS, td.segment(tsel&^3|uint16(c.cpl)))
	c.EIP = teip
}

// opRETF: far return, to the same or an outer privilege level (§5.8.6).
func opRETF(c *CPU, in *inst) {
	size := in.size
	imm := uint64(0)
	if in.desc.flags&fImm16 != 0 {
		imm = in.imm
	}
	eip := c.peek(size, 0)
	sel := uint16(c.peek(size, uint64(size)))
	if !c.pmode {
		c.realCS(sel, eip)
		c.setSP(c.sp() + 2*uint64(size) + imm)
		return
	}
	d, addr, rpl := c.returnCS(sel)
	c.checkFarTarget(d, eip)
	if rpl == c.cpl {
		d = c.setAccessed(d, addr)
		c.setSeg(CS, d.segment(sel))
		c.setSP(c.sp() + 2*uint64(size) + imm)
		c.EIP = eip
		return
	}
	// Outer level: pop SS:ESP too.
	espOff := 2*uint64(size) + imm
	newESP := c.peek(size, espOff)
	ssSel := uint16(c.peek(size, espOff+uint64(size)))
	ssd := c.checkOuterSS(ssSel, rpl)
	d = c.setAccessed(d, addr)
	c.setSeg(CS, d.segment(sel))
	c.Seg[SS] = ssd.segment(ssSel)
	c.modeChanged()
	c.updateSegCheck(SS)
	if c.stackB {
		c.R[ESP] = uint64(newESP + imm)
	} else {
		c.setSP(newESP + imm)
	}
	c.nullifyOuter()
	c.refreshSegChecks()
	c.EIP = eip
}

// returnCS checks the code segment that RETF or IRET returns to
// (SDM Vol. 2 RET, "RETURN-TO-OTHER-PRIVILEGE-LEVEL" and IRET).
func (c *CPU) returnCS(sel uint16) (descriptor, uint64, int) {
	if sel&^3 == 0 {
		c.gp(0)
	}
	d, addr := c.readDesc(sel, ExcGP)
	code := uint32(sel &^ 3)
	rpl := int(sel & 3)
	if !d.code() || rpl < c.cpl || (d.conforming() && d.dpl() > rpl) || (!d.conforming() && d.dpl() != rpl) {
		c.gp(code)
	}
	if !d.present() {
		c.raise(ExcNP, code, true)
	}
	return d, addr, rpl
}

// switchToInnerStack loads SS:ESP for privilege level pl from the TSS and
// makes pl the CPL (SDM Vol. 3A §5.8.5 and §6.12.1).
func (c *CPU) switchToInnerStack(pl int) {
	ssSel, esp := c.tssStack(pl)
	ssd := c.checkTSSStack(ssSel, pl)
	c.cpl = pl
	c.Seg[SS] = ssd.segment(ssSel)
	c.stackB = ssd&(1<<54) != 0
	c.updateSegCheck(SS)
	if c.stackB {
		c.R[ESP] = uint64(esp)
	} else {
		c.setSP(esp)
	}
}

// checkOuterSS validates the stack segment of a return to privilege rpl.
func (c *CPU) checkOuterSS(sel uint16, rpl int) descriptor {
	code := uint32(sel &^ 3)
	if sel&^3 == 0 {
		c.gp(0)
	}
	d, addr := c.readDesc(sel, ExcGP)
	if int(sel&3) != rpl || d.dpl() != rpl || !d.writableData() {
		c.gp(code)
	}
	if !d.present() {
		c.raise(ExcSS, code, true)
	}
	return c.setAccessed(d, addr)
}

// opIRET returns from an interrupt (SDM Vol. 2 IRET; Vol. 3A §6.12.1).
func opIRET(c *CPU, in *inst) {
	size := in.size
	c.stop = true
	if c.CR0&CR0PE == 0 {
		eip := c.peek(size, 0)
		cs := uint16(c.peek(size, uint64(size)))
		fl := c.peek(size, 2*uint64(size))
		c.realCS(cs, eip)
		c.setSP(c.sp() + 3*uint64(size))
		c.writeFlags(fl, size, true)
		return
	}
	if c.eflags&FlagVM != 0 {
		if c.iopl() < 3 {
			c.gp(0)
		}
		eip := c.peek(size, 0)
		cs := uint16(c.peek(size, uint64(size)))
		fl := c.peek(size, 2*uint64(size))
		c.realCS(cs, eip)
		c.setSP(c.sp() + 3*uint64(size))
		c.writeFlags(fl, size, false)
		return
	}
	if c.long {
		c.iret64(size)
		return
	}
	if c.eflags&FlagNT != 0 {
		// Return to the task in the TSS back link (SDM Vol. 2 IRET, TASK-RETURN):
		// the link must be a GDT selector of a busy TSS, else #TS.
		link := uint16(c.sysRead(uint64(c.TR.Base), 2))
		if link&4 != 0 {
			c.raise(ExcTS, uint32(link&^3), true)
		}
		a, ok := c.descAddr(link)
		if !ok {
			c.raise(ExcTS, uint32(link&^3), true)
		}
		d := descriptor(c.sysRead(a, 8))
		if !d.system() || d.typ() != sysTSS32Busy && d.typ() != sysTSS16Busy {
			c.raise(ExcTS, uint32(link&^3), true)
		}
		c.gp(uint32(link &^ 3)) // the task switch itself is not supported
	}
	eip := c.peek(size, 0)
	sel := uint16(c.peek(size, uint64(size)))
	fl := c.peek(size, 2*uint64(size))
	if size == 4 && fl&FlagVM != 0 && c.cpl == 0 {
		c.iretToV86(eip, sel, fl)
		return
	}
	d, addr, rpl := c.returnCS(sel)
	if size == 2 {
		eip &= 0xFFFF
	}
	c.checkFarTarget(d, eip)
	oldCPL := c.cpl
	if rpl == c.cpl {
		c.setSP(c.sp() + 3*uint64(size))
		d = c.setAccessed(d, addr)
		c.setSeg(CS, d.segment(sel))
		c.writeFlagsAt(fl, size, oldCPL)
		c.EIP = eip
		return
	}
	newESP := c.peek(size, 3*uint64(size))
	ssSel := uint16(c.peek(size, 4*uint64(size)))
	ssd := c.checkOuterSS(ssSel, rpl)
	d = c.setAccessed(d, addr)
	c.setSeg(CS, d.segment(sel))
	c.writeFlagsAt(fl, size, oldCPL)
	c.Seg[SS] = ssd.segment(ssSel)
	c.modeChanged()
	c.updateSegCheck(SS)
	if c.stackB {
		c.R[ESP] = uint64(newESP)
	} else {
		c.setSP(newESP)
	}
	c.nullifyOuter()
	c.refreshSegChecks()
	c.EIP = eip
}

// iretToV86 returns to virtual-8086 mode (SDM Vol. 2 IRET, RETURN-TO-VIRTUAL-8086-MODE).
func (c *CPU) iretToV86(eip uint64, cs uint16, fl uint64) {
	esp := c.peek(4, 12)
	ss := uint16(c.peek(4, 16))
	es := uint16(c.peek(4, 20))
	ds := uint16(c.peek(4, 24))
	fs := uint16(c.peek(4, 28))
	gs := uint16(c.peek(4, 32))
	c.setFlags(uint32(fl)&^FlagRF | FlagVM)
	c.modeChanged()
	for s, sel := range map[int]uint16{ES: es, DS: ds, FS: fs, GS: gs, SS: ss, CS: cs} {
		seg := RealModeSegment(sel)
		seg.Access |= 3 << AccDPLShift
		if s == CS {
			seg.Access |= AccCode
		}
		c.Seg[s] = seg
	}
	c.modeChanged()
	c.refreshSegChecks()
	c.R[ESP] = uint64(esp)
	c.EIP = eip & 0xFFFF
}

// checkFarTarget checks the offset of a far transfer against the new code
// segment: its limit, or canonicity for a 64-bit code segment (L=1 in
// IA-32e mode).
func (c *CPU) checkFarTarget(d descriptor, eip uint64) {
	if c.long && d&(1<<53) != 0 {
		if !canonical(eip) {
			c.gp(0)
		}
		return
	}
	if eip > d.limit() {
		c.gp(0)
	}
}
