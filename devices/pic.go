package devices

// The two cascaded Intel 8259A programmable interrupt controllers of the
// PC/AT: the master at 0x20/0x21 takes IRQ 0–7, the slave at 0xA0/0xA1 takes
// IRQ 8–15 and drives the master's IR2. The edge/level control registers
// (ELCR, PIIX/ICH chipsets) sit at 0x4D0/0x4D1.
//
// An edge-triggered input latches its rising edge in IRR until INTA, even if
// the line falls first: devices signal an edge as a raise then a lower (QEMU
// models the 8259A the same way). A request that vanishes from a
// level-triggered input, or from the slave, before INTA gets the chip's IR7
// vector without an ISR bit: the spurious IRQ 7 or IRQ 15.
//
// References: Intel 8259A datasheet (order 231468), "Programming the 8259A"
// (ICW1–ICW4, OCW1–OCW3); Intel 82371AB PIIX4 datasheet §12.5 (ELCR).

// Port bases of the PC/AT interrupt controllers.
const (
	PICMasterBase = 0x20
	PICSlaveBase  = 0xA0
	ELCRBase      = 0x4D0
)

// picChip is one 8259A.
type picChip struct {
	irr, isr, imr uint8
	// lineLevel is the current level of each IR input, for edge detection.
	lineLevel uint8
	// elcr marks the level-triggered inputs (ELCR; ICW1.LTIM sets all).
	elcr, elcrWritable uint8

	vectorBase uint8 // ICW2, T7–T3
	cascade    uint8 // ICW3 as written
	initStep   int   // 0: operational; 2–4: the ICW expected next
	needICW4   bool
	single     bool // ICW1.SNGL: no ICW3
	levelAll   bool // ICW1.LTIM
	autoEOI    bool // ICW4.AEOI
	fullyNest  bool // ICW4.SFNM (master only)

	rotateOnAutoEOI bool  // OCW2 R SL EOI = 100
	lowestPriority  uint8 // IR with the lowest priority is lowestPriority; the next one is highest
	readISR         bool  // OCW3 RR/RIS
	poll            bool  // OCW3 P: the next read is a poll
	specialMask     bool  // OCW3 ESMM/SMM
}

// priority returns the priority rank of ir: 0 is the highest.
func (c *picChip) priority(ir int) int { return (ir - int(c.lowestPriority) - 1) & 7 }

// highest returns the highest-priority IR set in mask, or -1.
func (c *picChip) highest(mask uint8) int {
	if mask == 0 {
		return -1
	}
	for rank := 0; rank < 8; rank++ {
		ir := (rank + int(c.lowestPriority) + 1) & 7
		if mask&(1<<ir) != 0 {
			return ir
		}
	}
	return -1
}

// request returns the IR the chip would interrupt for, or -1: the
// highest-priority unmasked request that outranks every IR in service
// (8259A datasheet, "Priority resolver"; special mask mode and special fully
// nested mode relax the in-service check).
func (c *picChip) request(isMaster bool) int {
	ir := c.highest(c.irr &^ c.imr)
	if ir < 0 {
		return -1
	}
	inService := c.isr
	if c.specialMask {
		inService &^= c.imr
	}
	if isMaster && c.fullyNest {
		inService &^= c.cascade
	}
	if cur := c.highest(inService); cur >= 0 && c.priority(cur) <= c.priority(ir) {
		return -1
	}
	return ir
}

// setLine applies an input level: an edge-triggered IR latches a rising edge
// in IRR; a level-triggered IR follows the line (8259A datasheet, ICW1 LTIM).
func (c *picChip) setLine(ir int, level bool) {
	mask := uint8(1) << ir
	if c.elcr&mask != 0 || c.levelAll {
		if level {
			c.irr |= mask
		} else {
			c.irr &^= mask
		}
	} else if level && c.lineLevel&mask == 0 {
		c.irr |= mask
	}
	if level {
		c.lineLevel |= mask
	} else {
		c.lineLevel &^= mask
	}
}

// acknowledge performs the chip's part of an INTA cycle for ir.
func (c *picChip) acknowledge(ir int) {
	mask := uint8(1) << ir
	if c.elcr&mask == 0 && !c.levelAll {
		c.irr &^= mask
	}
	if c.autoEOI {
		if c.rotateOnAutoEOI {
			c.lowestPriority = uint8(ir)
		}
		return
	}
	c.isr |= mask
}

// icw1 starts the initialization sequence (8259A datasheet, ICW1): it clears
// IMR and ISR, gives IR7 the lowest priority, leaves special mask mode and
// selects IRR for reads. The edge-sense latches are reset: an input that is
// already high must go low and high again to be seen.
func (c *picChip) icw1(v uint8) {
	c.initStep = 2
	c.needICW4 = v&0x01 != 0
	c.single = v&0x02 != 0
	c.levelAll = v&0x08 != 0
	c.imr, c.isr = 0, 0
	if c.levelAll {
		c.irr = c.lineLevel
	} else {
		c.irr = c.lineLevel & c.elcr
	}
	c.lowestPriority = 7
	c.specialMask, c.readISR, c.poll = false, false, false
	// Without ICW4 its bits are zero (8259A datasheet, ICW1 IC4).
	c.autoEOI, c.rotateOnAutoEOI, c.fullyNest = false, false, false
}

// writeData handles a write to the odd port: ICW2–ICW4 during
// initialization, OCW1 (the mask) afterwards.
func (c *picChip) writeData(v uint8) {
	switch c.initStep {
	case 2: // ICW2: vector base, T7–T3.
		c.vectorBase = v & 0xF8
		switch {
		case !c.single:
			c.initStep = 3
		case c.needICW4:
			c.initStep = 4
		default:
			c.initStep = 0
		}
	case 3: // ICW3: slave lines (master) or slave ID (slave).
		c.cascade = v
		if c.needICW4 {
			c.initStep = 4
		} else {
			c.initStep = 0
		}
	case 4: // ICW4: AEOI (bit 1), SFNM (bit 4); 8086 mode is assumed.
		c.autoEOI = v&0x02 != 0
		c.fullyNest = v&0x10 != 0
		c.initStep = 0
	default: // OCW1
		c.imr = v
	}
}

// writeCommand handles a write to the even port: ICW1, OCW2 or OCW3.
func (c *picChip) writeCommand(v uint8) {
	switch {
	case v&0x10 != 0:
		c.icw1(v)
	case v&0x08 != 0: // OCW3
		if v&0x02 != 0 {
			c.readISR = v&0x01 != 0
		}
		c.poll = v&0x04 != 0
		if v&0x40 != 0 {
			c.specialMask = v&0x20 != 0
		}
	default: // OCW2: R, SL, EOI and L2–L0.
		level := int(v & 7)
		switch v >> 5 {
		case 0b001: // non-specific EOI
			if ir := c.highest(c.isr); ir >= 0 {
				c.isr &^= 1 << ir
			}
		case 0b011: // specific EOI
			c.isr &^= 1 << level
		case 0b101: // rotate on non-specific EOI
			if ir := c.highest(c.isr); ir >= 0 {
				c.isr &^= 1 << ir
				c.lowestPriority = uint8(ir)
			}
		case 0b100: // set rotate in automatic EOI mode
			c.rotateOnAutoEOI = true
		case 0b000: // clear rotate in automatic EOI mode
			c.rotateOnAutoEOI = false
		case 0b111: // rotate on specific EOI
			c.isr &^= 1 << level
			c.lowestPriority = uint8(level)
		case 0b110: // set priority
			c.lowestPriority = uint8(level)
		}
	}
}

// PIC is the cascaded pair of 8259As. It implements IRQSink for the devices
// and the CPU's interrupt interface (Pending, Acknowledge).
type PIC struct {
	chips [2]picChip // master, slave
	// intr is the master's INT output, recomputed on every state change so
	// that Pending is a field read.
	intr   bool
	notify func() // NotifyPending's f, or nil
}

// NewPIC returns the PIC pair in its power-on state: uninitialized, vector
// base 0, all inputs edge-triggered, nothing masked (the BIOS initializes it).
func NewPIC() *PIC {
	p := &PIC{}
	for i := range p.chips {
		p.chips[i].lowestPriority = 7
	}
	// ELCR: IRQ 0, 1, 2, 8 and 13 are always edge-triggered (PIIX4 §12.5.1).
	p.chips[0].elcrWritable = 0xF8
	p.chips[1].elcrWritable = 0xDE
	p.chips[0].cascade = 1 << 2
	return p
}

// update recomputes the cascade input and the INTR line.
func (p *PIC) update() {
	master, slave := &p.chips[0], &p.chips[1]
	if !master.single {
		master.setLine(2, slave.request(false) >= 0)
	}
	p.intr = master.request(true) >= 0
	if p.notify != nil {
		p.notify()
	}
}

// NotifyPending makes the PIC call f whenever its INTR may have been
// raised (cpu.InterruptNotifier, directly or through the local APIC).
func (p *PIC) NotifyPending(f func()) { p.notify = f }

// SetIRQ drives ISA interrupt line irq (0–15). IRQ 2 is wired to IRQ 9 on
// the AT (the master's IR2 carries the slave). Other numbers are ignored.
func (p *PIC) SetIRQ(irq int, level bool) {
	switch {
	case irq == 2:
		irq = 9
	case irq < 0 || irq > 15:
		return
	}
	p.chips[irq>>3].setLine(irq&7, level)
	p.update()
}

// Pending reports whether the PIC asserts INTR.
func (p *PIC) Pending() bool { return p.intr }

// Acknowledge runs the INTA cycle and returns the vector. If the request has
// gone by then, the chip answers with its IR7 vector without setting ISR
// (8259A datasheet, "Interrupt sequence": the spurious IRQ 7 or IRQ 15).
func (p *PIC) Acknowledge() uint8 {
	master, slave := &p.chips[0], &p.chips[1]
	ir := master.request(true)
	if ir < 0 {
		return master.vectorBase | 7
	}
	master.acknowledge(ir)
	vector := master.vectorBase | uint8(ir)
	if !master.single && master.cascade&(1<<ir) != 0 {
		if sir := slave.request(false); sir >= 0 {
			slave.acknowledge(sir)
			vector = slave.vectorBase | uint8(sir)
		} else {
			vector = slave.vectorBase | 7
		}
	}
	p.update()
	return vector
}

// poll answers a read in poll mode (OCW3 P=1): 0x80|IR and an implied INTA
// if a request is pending, else 0 (8259A datasheet, "The poll command").
func (p *PIC) poll(chip int) uint8 {
	c := &p.chips[chip]
	c.poll = false
	ir := c.request(chip == 0)
	if ir < 0 {
		return 0
	}
	c.acknowledge(ir)
	p.update()
	return 0x80 | uint8(ir)
}

func (p *PIC) readReg(chip int, off uint64) uint8 {
	c := &p.chips[chip]
	if c.poll {
		return p.poll(chip)
	}
	if off == 0 {
		if c.readISR {
			return c.isr
		}
		return c.irr
	}
	return c.imr
}

func (p *PIC) writeReg(chip int, off uint64, v uint8) {
	if off == 0 {
		p.chips[chip].writeCommand(v)
	} else {
		p.chips[chip].writeData(v)
	}
	p.update()
}

// ISR returns the in-service registers (master, slave), for tests and
// statistics.
func (p *PIC) ISR() (master, slave uint8) { return p.chips[0].isr, p.chips[1].isr }

// picPort is the two-port register window of one chip.
type picPort struct {
	pic  *PIC
	chip int
}

func (d picPort) Read(offset uint64, data []byte) {
	readBytes(2, offset, data, func(off uint64) byte { return d.pic.readReg(d.chip, off) })
}

func (d picPort) Write(offset uint64, data []byte) {
	writeBytes(2, offset, data, func(off uint64, v byte) { d.pic.writeReg(d.chip, off, v) })
}

// Master returns the master's register window (2 ports at 0x20).
func (p *PIC) Master() Device { return picPort{p, 0} }

// Slave returns the slave's register window (2 ports at 0xA0).
func (p *PIC) Slave() Device { return picPort{p, 1} }

// ELCR returns the edge/level control registers (2 ports at 0x4D0): bit n
// set makes IRQ n (IRQ 8+n for the second byte) level-triggered.
func (p *PIC) ELCR() Device { return elcrPort{p} }

type elcrPort struct{ pic *PIC }

func (d elcrPort) Read(offset uint64, data []byte) {
	readBytes(2, offset, data, func(off uint64) byte { return d.pic.chips[off].elcr })
}

func (d elcrPort) Write(offset uint64, data []byte) {
	writeBytes(2, offset, data, func(off uint64, v byte) {
		c := &d.pic.chips[off]
		c.elcr = v & c.elcrWritable
		// A level-triggered IR follows its line from now on.
		c.irr = c.irr&^c.elcr | c.lineLevel&c.elcr
		d.pic.update()
	})
}
