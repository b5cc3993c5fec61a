package cpu

// Segmentation in protected mode (SDM Vol. 3A §3.4, §5.5–5.8).

// Descriptor types of system segments (SDM Vol. 3A §3.5, Table 3-2).
const (
	sysTSS16Avail = 1
	sysLDT        = 2
	sysTSS16Busy  = 3
	sysCallGate16 = 4
	sysTaskGate   = 5
	sysIntGate16  = 6
	sysTrapGate16 = 7
	sysTSS32Avail = 9
	sysTSS32Busy  = 11
	sysCallGate32 = 12
	sysIntGate32  = 14
	sysTrapGate32 = 15
)

// descriptor is a raw 8-byte segment descriptor.
type descriptor uint64

func (d descriptor) base() uint64 {
	return uint64(d>>16)&0xFFFFFF | uint64(d>>56)<<24
}

func (d descriptor) limit() uint64 {
	l := uint64(d)&0xFFFF | uint64(d>>32)&0xF0000
	if d&(1<<55) != 0 {
		l = l<<12 | 0xFFF
	}
	return l
}

func (d descriptor) access() uint16 {
	return uint16(d>>40)&0xFF | uint16(d>>52&0xF)<<12
}

func (d descriptor) present() bool { return d&(1<<47) != 0 }
func (d descriptor) dpl() int      { return int(d>>45) & 3 }
func (d descriptor) system() bool  { return d&(1<<44) == 0 }
func (d descriptor) typ() int      { return int(d>>40) & 0xF }
func (d descriptor) code() bool    { return !d.system() && d&(1<<43) != 0 }
func (d descriptor) conforming() bool {
	return d.code() && d&(1<<42) != 0
}
func (d descriptor) readable() bool { return !d.code() || d&(1<<41) != 0 }
func (d descriptor) writableData() bool {
	return !d.system() && !d.code() && d&(1<<41) != 0
}

// gate fields (SDM Vol. 3A §5.8.3, §6.11).
func (d descriptor) gateSelector() uint16 { return uint16(d >> 16) }
func (d descriptor) gateOffset() uint64 {
	return uint64(d)&0xFFFF | uint64(d>>48)<<16
}
func (d descriptor) gateParams() int { return int(d>>32) & 0x1F }

func (d descriptor) segment(sel uint16) Segment {
	return Segment{Selector: sel, Base: d.base(), Limit: uint32(d.limit()), Access: d.access()}
}

// descAddr returns the linear address of the descriptor for sel, or ok=false
// if it lies beyond the GDT or LDT limit.
func (c *CPU) descAddr(sel uint16) (uint64, bool) {
	idx := uint64(sel &^ 7)
	if sel&4 != 0 {
		if c.LDTR.Access&AccP == 0 || c.LDTR.Selector&^3 == 0 || idx+7 > uint64(c.LDTR.Limit) {
			return 0, false
		}
		return c.LDTR.Base + idx, true
	}
	if idx+7 > uint64(c.GDTR.Limit) {
		return 0, false
	}
	return c.GDTR.Base + idx, true
}

// readDesc reads the descriptor for sel, raising #GP(sel) if it is outside its table.
func (c *CPU) readDesc(sel uint16, exc uint8) (descriptor, uint64) {
	a, ok := c.descAddr(sel)
	if !ok {
		c.raise(exc, uint32(sel&^3), true)
	}
	return descriptor(c.sysRead(a, 8)), a
}

// setAccessed sets the accessed bit of a code or data descriptor in memory.
func (c *CPU) setAccessed(d descriptor, addr uint64) descriptor {
	if !d.system() && d&(1<<40) == 0 {
		d |= 1 << 40
		c.sysWrite(addr+5, 1, uint64(d>>40)&0xFF)
	}
	return d
}

// setSeg loads a segment register's cache and its derived state.
func (c *CPU) setSeg(s int, seg Segment) {
	c.Seg[s] = seg
	if s == CS || s == SS {
		c.modeChanged()
		if s == CS {
			// CS changes the code size and the CPL: leave the block.
			c.stop = true
		}
	}
	c.updateSegCheck(s)
}

// loadSeg loads a data or stack segment register (MOV, POP, LDS…;
// SDM Vol. 3A §5.5 and Vol. 2 MOV "Operation").
func (c *CPU) loadSeg(s int, sel uint16) {
	if !c.pmode {
		seg := c.Seg[s]
		seg.Selector = sel
		seg.Base = uint64(sel) << 4
		if c.eflags&FlagVM != 0 {
			seg = RealModeSegment(sel)
			seg.Access |= 3 << AccDPLShift
		}
		seg.Access |= AccP
		c.setSeg(s, seg)
		return
	}
	rpl := int(sel & 3)
	if sel&^3 == 0 {
		// A null SS is allowed in 64-bit mode at CPL < 3 (SDM Vol. 2 MOV).
		if s == SS && !(c.mode == mode64 && c.cpl < 3 && rpl == c.cpl) {
			c.gp(0)
		}
		if s == SS {
			c.setSeg(s, Segment{Selector: sel, Access: AccP | AccS | AccWritable | uint16(rpl)<<AccDPLShift})
			return
		}
		c.setSeg(s, Segment{Selector: sel})
		return
	}
	d, addr := c.readDesc(sel, ExcGP)
	code := uint32(sel &^ 3)
	if s == SS {
		if rpl != c.cpl || d.dpl() != c.cpl || !d.writableData() {
			c.gp(code)
		}
		if !d.present() {
			c.raise(ExcSS, code, true)
		}
	} else {
		if d.system() || !d.readable() {
			c.gp(code)
		}
		if !d.conforming() && (rpl > d.dpl() || c.cpl > d.dpl()) {
			c.gp(code)
		}
		if !d.present() {
			c.raise(ExcNP, code, true)
		}
	}
	d = c.setAccessed(d, addr)
	c.setSeg(s, d.segment(sel))
}

// nullifyOuter clears data segment registers that the new, outer privilege
// level may not use (SDM Vol. 3A §5.8.6, RET to an outer level).
func (c *CPU) nullifyOuter() {
	for _, s := range []int{ES, DS, FS, GS} {
		seg := &c.Seg[s]
		if seg.Access&AccS == 0 || seg.Selector&^3 == 0 {
			continue
		}
		conf := seg.Access&AccCode != 0 && seg.Access&AccExpDown != 0
		if !conf && seg.DPL() < c.cpl {
			// The selector becomes null and the segment unusable; the base
			// stays (what FS/GS-based code in 64-bit mode relies on, as in QEMU).
			c.setSeg(s, Segment{Selector: 0, Base: seg.Base})
		}
	}
}

func pushSeg(c *CPU, in *inst) {
	c.push(in.size, uint64(c.Seg[in.sub].Selector))
}

func popSeg(c *CPU, in *inst) {
	sel := uint16(c.peek(in.size, 0))
	c.loadSeg(int(in.sub), sel)
	c.setSP(c.sp() + uint64(in.size))
	if in.sub == SS {
		c.inhibit = true
		c.stop = true
	}
}

func movESw(c *CPU, in *inst) {
	if in.reg > GS {
		c.ud()
	}
	v := uint64(c.Seg[in.reg].Selector)
	if in.mem {
		in.size = 2
	}
	c.writeE(in, v)
}

func movSwE(c *CPU, in *inst) {
	if in.reg > GS || in.reg == CS {
		c.ud()
	}
	sel := uint16(c.readE(in))
	c.loadSeg(int(in.reg), sel)
	if in.reg == SS {
		c.inhibit = true
		c.stop = true
	}
}

// opLxS: LDS, LES, LSS, LFS, LGS load a far pointer.
func opLxS(c *CPU, in *inst) {
	off := c.ea(in)
	s := int(in.seg)
	v := c.readSize(s, off, in.size)
	sel := c.read16(s, off+uint64(in.size))
	c.loadSeg(int(in.sub), sel)
	c.setReg(in.size, in.reg, v)
}

// opARPL adjusts a selector's RPL (protected mode only).
func opARPL(c *CPU, in *inst) {
	if !c.pmode {
		c.ud()
	}
	in.size = 2
	var m rmw
	dst := c.rmwRead(in, &m)
	src := c.getReg(2, in.reg)
	if dst&3 < src&3 {
		c.rmwWrite(in, &m, dst&^3|src&3)
		c.setArith(FlagZF, FlagZF)
	} else {
		c.setArith(FlagZF, 0)
	}
}
