package devices

import "time"

// The Intel 8254 programmable interval timer at 0x40–0x43, and the PC/AT's
// port 0x61 (system control port B) that holds channel 2's gate and output.
//
// Counters are not ticked: every value the guest reads is computed from the
// Clock, as the number of 1.193182 MHz input clocks elapsed since the count
// was loaded. Only channel 0 has an interrupt (IRQ 0); Advance delivers its
// rising edges.
//
// Reference: Intel 8254 datasheet (order 231164): "Control Word Format",
// "Read-Back Command", "Counter Latch Command", "Mode Definitions".

// PITFrequency is the 8254's input clock on a PC, in Hz.
const PITFrequency = 1193182

// Port bases of the PIT and of system control port B.
const (
	PITBase   = 0x40
	PortBBase = 0x61
)

// Control word fields (8254 datasheet, "Control Word Format").
const (
	pitAccessLatch = 0 // counter latch command
	pitAccessLSB   = 1
	pitAccessMSB   = 2
	pitAccessWord  = 3 // LSB then MSB
)

type pitChannel struct {
	mode   uint8 // 0–5
	access uint8 // pitAccessLSB, pitAccessMSB or pitAccessWord
	bcd    bool
	reload uint16 // the count register (CR) as written

	writeMSBNext bool  // access word: the next byte written is the MSB
	pendingLSB   uint8 // the LSB waiting for its MSB
	readMSBNext  bool  // access word: the next byte read is the MSB

	countLatched  bool
	latchedCount  uint16
	latchMSBNext  bool
	statusLatched bool
	latchedStatus uint8
	nullCount     bool

	loaded    bool // a count has been written since the control word
	gate      bool
	triggered bool // modes 1 and 5: a gate edge has started the count

	// While running, elapsed(t) = elapsedBase + ticks(t) - startTick.
	running     bool
	startTick   uint64
	elapsedBase uint64

	irqDue time.Duration // next rising edge of OUT, or NoDeadline
}

// modulus is the counter's wrap-around value: 2^16, or 10^4 in BCD.
func (c *pitChannel) modulus() uint64 {
	if c.bcd {
		return 10000
	}
	return 1 << 16
}

// initialCount returns N, the count as a number of input clocks: a written
// 0 is the largest count (8254 datasheet, "Mode Definitions").
func (c *pitChannel) initialCount() uint64 {
	n := uint64(c.reload)
	if c.bcd {
		n = uint64(fromBCD(uint8(c.reload))) + 100*uint64(fromBCD(uint8(c.reload>>8)))
		n %= 10000
	}
	if n == 0 {
		n = c.modulus()
	}
	return n
}

func (c *pitChannel) elapsed(nowTick uint64) uint64 {
	if !c.running || nowTick < c.startTick {
		return c.elapsedBase
	}
	return c.elapsedBase + nowTick - c.startTick
}

// count returns the counting element (CE) at nowTick, as the guest reads it.
func (c *pitChannel) count(nowTick uint64) uint16 {
	if !c.loaded {
		return c.reload
	}
	n, m, e := c.initialCount(), c.modulus(), c.elapsed(nowTick)
	var v uint64
	switch c.mode {
	case 2: // N, N-1, …, 1, then reload
		v = n - e%n
	case 3: // by twos through each half period
		p, high := e%n, (n+1)/2
		if p < high {
			v = n - 2*p
		} else {
			v = n - 2*(p-high)
		}
	default: // modes 0, 1, 4, 5 count down and wrap through the modulus
		v = (n + m - e%m) % m
	}
	v %= m
	if c.bcd {
		return uint16(toBCD(uint8(v%100))) | uint16(toBCD(uint8(v/100)))<<8
	}
	return uint16(v)
}

// out returns the OUT pin at nowTick (8254 datasheet, "Mode Definitions").
func (c *pitChannel) out(nowTick uint64) bool {
	n, e := c.initialCount(), c.elapsed(nowTick)
	switch c.mode {
	case 0: // low from the control word until terminal count
		return c.loaded && e >= n
	case 1: // low from the trigger until terminal count
		return !c.loaded || !c.triggered || e >= n
	case 2: // low for the one clock at count 1
		return !c.loaded || !c.running || n < 2 || e%n != n-1
	case 3: // high for the first half period
		return !c.loaded || !c.running || e%n < (n+1)/2
	case 4: // low for the one clock after terminal count
		return !c.loaded || e != n
	default: // 5: the same, after a gate trigger
		return !c.loaded || !c.triggered || e != n
	}
}

// nextRisingEdge returns the time of the first rising edge of OUT after
// nowTick, or NoDeadline.
func (c *pitChannel) nextRisingEdge(nowTick uint64) time.Duration {
	if !c.loaded || !c.running {
		return NoDeadline
	}
	n, e := c.initialCount(), c.elapsed(nowTick)
	var target uint64
	switch c.mode {
	case 0, 1:
		target = n
	case 4, 5:
		target = n + 1
	default: // 2, 3: every N clocks
		target = (e/n + 1) * n
	}
	if e >= target {
		return NoDeadline
	}
	return timeOfTick(c.startTick+target-c.elapsedBase, PITFrequency)
}

// start (re)starts counting from the initial count at nowTick.
func (c *pitChannel) start(nowTick uint64) {
	c.elapsedBase, c.startTick = 0, nowTick
	c.running = true
}

// loadCount handles a complete count write.
func (c *pitChannel) loadCount(v uint16, nowTick uint64) {
	c.reload = v
	c.loaded = true
	c.nullCount = false
	switch c.mode {
	case 1, 5: // wait for a gate trigger
		c.running, c.triggered = false, false
		c.elapsedBase = 0
	default:
		c.start(nowTick)
		c.running = c.gate
	}
}

// setGate applies a gate level (8254 datasheet, "Gate" table): modes 0 and
// 4 pause while it is low, modes 2 and 3 stop and reload on its rising edge,
// modes 1 and 5 are triggered by its rising edge.
func (c *pitChannel) setGate(level bool, nowTick uint64) {
	if level == c.gate {
		return
	}
	c.gate = level
	if !c.loaded {
		return
	}
	switch c.mode {
	case 0, 4:
		if level {
			c.startTick, c.running = nowTick, true
		} else {
			c.elapsedBase, c.running = c.elapsed(nowTick), false
		}
	case 2, 3:
		if level {
			c.start(nowTick)
		} else {
			c.elapsedBase, c.running = c.elapsed(nowTick), false
		}
	default: // 1, 5
		if level {
			c.start(nowTick)
			c.triggered = true
		}
	}
}

// PIT is the 8254 with its three channels. Channel 0 drives IRQ 0, channel
// 2's gate and output go through port 0x61; channel 1 (DRAM refresh) counts
// but drives nothing.
type PIT struct {
	clock Clock
	irq   IRQSink
	ch    [3]pitChannel
}

// NewPIT returns an 8254 whose counters follow clock, with channel 0 wired
// to IRQ 0 of irq (which may be nil). Channels 0 and 1 have their gates tied
// high; channel 2's gate starts low (port 0x61 bit 0).
func NewPIT(clock Clock, irq IRQSink) *PIT {
	p := &PIT{clock: clock, irq: irq}
	for i := range p.ch {
		c := &p.ch[i]
		c.access, c.mode = pitAccessWord, 0
		c.gate = i != 2
		c.irqDue = NoDeadline
	}
	return p
}

func (p *PIT) nowTick() uint64 { return ticksAt(p.clock.Now(), PITFrequency) }

// Read reads ports 0x40–0x42 (counters); 0x43 is write-only and reads 0xFF.
func (p *PIT) Read(offset uint64, data []byte) {
	readBytes(4, offset, data, p.readPort)
}

// Write writes a counter (0x40–0x42) or the control word (0x43).
func (p *PIT) Write(offset uint64, data []byte) {
	writeBytes(4, offset, data, p.writePort)
}

func (p *PIT) readPort(off uint64) byte {
	if off == 3 {
		return 0xFF
	}
	c := &p.ch[off]
	if c.statusLatched {
		c.statusLatched = false
		return c.latchedStatus
	}
	if c.countLatched {
		v := c.latchedCount
		switch {
		case c.access == pitAccessMSB:
			c.countLatched = false
			return byte(v >> 8)
		case c.access == pitAccessWord && !c.latchMSBNext:
			c.latchMSBNext = true
			return byte(v)
		case c.access == pitAccessWord:
			c.latchMSBNext, c.countLatched = false, false
			return byte(v >> 8)
		default:
			c.countLatched = false
			return byte(v)
		}
	}
	v := c.count(p.nowTick())
	switch c.access {
	case pitAccessMSB:
		return byte(v >> 8)
	case pitAccessWord:
		c.readMSBNext = !c.readMSBNext
		if !c.readMSBNext {
			return byte(v >> 8)
		}
	}
	return byte(v)
}

func (p *PIT) writePort(off uint64, v byte) {
	now := p.nowTick()
	if off == 3 {
		p.writeControl(v, now)
		return
	}
	c := &p.ch[off]
	switch c.access {
	case pitAccessLSB:
		c.loadCount(uint16(v), now)
	case pitAccessMSB:
		c.loadCount(uint16(v)<<8, now)
	default:
		if !c.writeMSBNext {
			c.pendingLSB, c.writeMSBNext = v, true
			if c.mode == 0 { // the first byte stops the count (mode 0)
				c.loaded, c.running = false, false
			}
			break
		}
		c.writeMSBNext = false
		c.loadCount(uint16(v)<<8|uint16(c.pendingLSB), now)
	}
	if off == 0 {
		c.irqDue = c.nextRisingEdge(now)
	}
}

func (p *PIT) writeControl(v byte, now uint64) {
	sel := v >> 6
	if sel == 3 { // read-back command
		for i := range p.ch {
			if v&(2<<i) == 0 {
				continue
			}
			c := &p.ch[i]
			if v&0x20 == 0 && !c.countLatched { // COUNT is active low
				p.latchCount(c, now)
			}
			if v&0x10 == 0 && !c.statusLatched { // STATUS is active low
				c.latchedStatus = c.status(now)
				c.statusLatched = true
			}
		}
		return
	}
	c := &p.ch[sel]
	access := (v >> 4) & 3
	if access == pitAccessLatch {
		if !c.countLatched {
			p.latchCount(c, now)
		}
		return
	}
	c.access = access
	c.mode = (v >> 1) & 7
	if c.mode > 5 { // 6 and 7 are aliases of 2 and 3
		c.mode -= 4
	}
	c.bcd = v&1 != 0
	c.loaded, c.running, c.triggered = false, false, false
	c.elapsedBase = 0
	c.writeMSBNext, c.readMSBNext = false, false
	c.countLatched, c.statusLatched, c.latchMSBNext = false, false, false
	c.nullCount = true
	if sel == 0 {
		c.irqDue = NoDeadline
	}
}

func (p *PIT) latchCount(c *pitChannel, now uint64) {
	c.latchedCount = c.count(now)
	c.countLatched = true
	c.latchMSBNext = false
}

// status is the read-back status byte: OUT, NULL COUNT, then the control
// word's RW, M and BCD bits (8254 datasheet, "Status Byte").
func (c *pitChannel) status(now uint64) uint8 {
	s := c.access<<4 | c.mode<<1
	if c.bcd {
		s |= 1
	}
	if c.out(now) {
		s |= 0x80
	}
	if c.nullCount {
		s |= 0x40
	}
	return s
}

// SetGate drives the gate input of channel ch (only channel 2's is wired,
// through port 0x61).
func (p *PIT) SetGate(ch int, level bool) {
	if ch < 0 || ch > 2 {
		return
	}
	now := p.nowTick()
	p.ch[ch].setGate(level, now)
	if ch == 0 {
		p.ch[0].irqDue = p.ch[0].nextRisingEdge(now)
	}
}

// Output returns the OUT pin of channel ch now.
func (p *PIT) Output(ch int) bool {
	if ch < 0 || ch > 2 {
		return false
	}
	return p.ch[ch].out(p.nowTick())
}

// Advance delivers channel 0's interrupt if its rising edge is due by now
// and returns the time of the next one (NoDeadline if none). The edge is a
// raise then a lower of IRQ 0. A guest that fell behind by several periods
// gets one edge, not a burst: the next deadline is the first period boundary
// after now, and never less than MinTimerPeriod away.
func (p *PIT) Advance(now time.Duration) time.Duration {
	c := &p.ch[0]
	if now < c.irqDue {
		return c.irqDue
	}
	if p.irq != nil {
		p.irq.SetIRQ(0, true)
		p.irq.SetIRQ(0, false)
	}
	c.irqDue = c.nextRisingEdge(ticksAt(now, PITFrequency))
	if c.irqDue != NoDeadline && c.irqDue < now+MinTimerPeriod {
		c.irqDue = now + MinTimerPeriod
	}
	return c.irqDue
}

// PortB is the PC/AT system control port B at 0x61 (Intel 82371AB PIIX4
// datasheet §12.7.1, NMI status and control): bit 0 gates PIT channel 2,
// bit 1 enables the speaker, bits 2–3 are NMI enables; reads add the refresh
// toggle (bit 4, here flipped on each read) and channel 2's OUT (bit 5).
type PortB struct {
	pit     *PIT
	control uint8 // bits 0–3 as written
	refresh bool
}

// NewPortB returns port 0x61 wired to pit's channel 2.
func NewPortB(pit *PIT) *PortB { return &PortB{pit: pit} }

// Read returns the port's value.
func (b *PortB) Read(offset uint64, data []byte) {
	readBytes(1, offset, data, func(uint64) byte {
		v := b.control
		b.refresh = !b.refresh
		if b.refresh {
			v |= 0x10
		}
		if b.pit.Output(2) {
			v |= 0x20
		}
		return v
	})
}

// Write sets bits 0–3; bit 0 drives channel 2's gate.
func (b *PortB) Write(offset uint64, data []byte) {
	writeBytes(1, offset, data, func(_ uint64, v byte) {
		b.control = v & 0x0F
		b.pit.SetGate(2, v&1 != 0)
	})
}

// SpeakerOn reports whether the speaker is driven (gate and data enable).
func (b *PortB) SpeakerOn() bool { return b.control&3 == 3 }

// fromBCD decodes a packed BCD byte; invalid digits decode as their value.
func fromBCD(v uint8) uint8 { return v>>4*10 + v&0x0F }

// toBCD encodes 0–99 as packed BCD.
func toBCD(v uint8) uint8 { return v/10<<4 | v%10 }
