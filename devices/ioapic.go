package devices

// An Intel 82093AA-compatible I/O APIC at 0xFEC00000: 24 interrupt input
// pins, each with a redirection entry that turns it into an interrupt
// message on the APIC bus. Registers are reached indirectly: IOREGSEL
// (offset 0x00) selects one, IOWIN (offset 0x10) reads or writes it.
//
// Inputs come through IRQSink, so that the devices wired to the PIC can be
// wired here too; the level passed is the asserted state, and the polarity
// bit is stored but not applied (QEMU and KVM do the same: device models
// assert their lines high). Routing ISA IRQ 0 to pin 2 (the MADT's interrupt
// source override) is the machine's business.
//
// Destinations are matched by the receiving local APIC (APICBus.Send): with
// one CPU, a message in physical mode to an ID other than the LAPIC's (0),
// or in logical mode to a set without it, is dropped.
//
// Reference: Intel 82093AA I/O APIC datasheet (order 290566), §3.1
// (IOREGSEL, IOWIN), §3.2 (IOAPICID, IOAPICVER, IOAPICARB, IOREDTBL).

// I/O APIC constants.
const (
	IOAPICBase = 0xFEC00000
	IOAPICSize = 0x1000 // the page guests map; only 0x00 and 0x10 decode
	IOAPICPins = 24

	ioapicVersionValue = (IOAPICPins-1)<<16 | 0x11 // 82093AA §3.2.2
)

// Register indices behind IOREGSEL (82093AA §3.2).
const (
	ioapicRegID      = 0x00
	ioapicRegVersion = 0x01
	ioapicRegArb     = 0x02
	ioapicRegRedir   = 0x10 // two per pin: low dword, high dword
)

// Redirection entry bits (82093AA §3.2.4).
const (
	redirDestLogical = 1 << 11
	redirRemoteIRR   = 1 << 14
	redirLevel       = 1 << 15
	redirMasked      = 1 << 16
	redirWritableLow = 0x1AFFF // vector, delivery and destination mode, polarity, trigger, mask
)

// IOAPIC is the I/O APIC. It implements Device (its two-register window)
// and IRQSink (its input pins).
type IOAPIC struct {
	bus   APICBus
	sel   uint8
	id    uint8 // bits 27:24 of IOAPICID
	redir [IOAPICPins]uint64
	lines uint32 // asserted inputs
}

// NewIOAPIC returns an I/O APIC that sends its messages to bus (nil: drops
// them), with every redirection entry masked.
func NewIOAPIC(bus APICBus) *IOAPIC {
	io := &IOAPIC{bus: bus}
	for i := range io.redir {
		io.redir[i] = redirMasked
	}
	return io
}

// Entry returns the redirection entry of pin, for tests and statistics.
func (io *IOAPIC) Entry(pin int) uint64 { return io.redir[pin] }

// levelTriggered reports whether entry e uses Remote IRR: a level-triggered
// fixed or lowest-priority entry. SMI, NMI, INIT and ExtINT are always
// edge-triggered (82093AA §3.2.4, delivery mode).
func levelTriggered(e uint64) bool {
	mode := uint8(e>>8) & 7
	return e&redirLevel != 0 && (mode == APICFixed || mode == APICLowestPriority)
}

// SetIRQ drives input pin irq (0–23; others are ignored). An edge-triggered
// pin sends on a rising edge; a level-triggered pin sends while asserted
// unless Remote IRR is set. A masked pin ignores its input (82093AA §3.2.4,
// mask): an edge is lost, a level is seen once unmasked.
func (io *IOAPIC) SetIRQ(irq int, level bool) {
	if irq < 0 || irq >= IOAPICPins {
		return
	}
	bit := uint32(1) << irq
	rising := level && io.lines&bit == 0
	if level {
		io.lines |= bit
	} else {
		io.lines &^= bit
	}
	if rising || level && levelTriggered(io.redir[irq]) {
		io.service(irq)
	}
}

// service sends pin's message if the entry allows it, and sets Remote IRR
// when a level-triggered one is accepted.
func (io *IOAPIC) service(pin int) {
	e := io.redir[pin]
	level := levelTriggered(e)
	if e&redirMasked != 0 || io.bus == nil || level && (io.lines&(1<<pin) == 0 || e&redirRemoteIRR != 0) {
		return
	}
	m := APICMessage{
		Vector:  uint8(e),
		Mode:    uint8(e>>8) & 7,
		Logical: e&redirDestLogical != 0,
		Dest:    uint8(e >> 56),
		Level:   level,
	}
	if io.bus.Send(m) && level {
		io.redir[pin] |= redirRemoteIRR
	}
}

// EOI is the local APIC's EOI broadcast for vector: it clears Remote IRR of
// the level-triggered entries with that vector, which send again if their
// input is still asserted (82093AA §3.2.4, Remote IRR).
func (io *IOAPIC) EOI(vector uint8) {
	for pin, e := range io.redir {
		if e&redirRemoteIRR != 0 && uint8(e) == vector {
			io.redir[pin] &^= redirRemoteIRR
			io.service(pin)
		}
	}
}

// Read reads IOREGSEL (offset 0) or IOWIN (0x10); narrower reads return
// bytes of the 32-bit register, other offsets read 0.
func (io *IOAPIC) Read(offset uint64, data []byte) {
	var v uint32
	switch offset &^ 0xF {
	case 0x00:
		v = uint32(io.sel)
	case 0x10:
		v = io.readReg()
	}
	for i := range data {
		if b := offset&0xF + uint64(i); b < 4 {
			data[i] = byte(v >> (8 * b))
		} else {
			data[i] = 0
		}
	}
}

// Write writes IOREGSEL (any width, its low byte) or IOWIN (32 bits; the
// 82093AA decodes only dword accesses there).
func (io *IOAPIC) Write(offset uint64, data []byte) {
	switch {
	case offset == 0x00 && len(data) >= 1:
		io.sel = data[0]
	case offset == 0x10 && len(data) >= 4:
		io.writeReg(uint32(littleEndian(data[:4])))
	}
}

func (io *IOAPIC) readReg() uint32 {
	switch r := io.sel; {
	case r == ioapicRegID, r == ioapicRegArb: // the arbitration ID follows the ID
		return uint32(io.id) << 24
	case r == ioapicRegVersion:
		return ioapicVersionValue
	case r >= ioapicRegRedir && r < ioapicRegRedir+2*IOAPICPins:
		e := io.redir[(r-ioapicRegRedir)/2]
		if r&1 != 0 {
			return uint32(e >> 32)
		}
		return uint32(e)
	}
	return 0
}

func (io *IOAPIC) writeReg(v uint32) {
	switch r := io.sel; {
	case r == ioapicRegID:
		io.id = uint8(v>>24) & 0x0F
	case r >= ioapicRegRedir && r < ioapicRegRedir+2*IOAPICPins:
		pin := int(r-ioapicRegRedir) / 2
		e := io.redir[pin]
		if r&1 != 0 { // destination, bits 63:56
			io.redir[pin] = e&0xFFFFFFFF | uint64(v&0xFF000000)<<32
			return
		}
		e = e&^0xFFFFFFFF | e&redirRemoteIRR | uint64(v&redirWritableLow)
		// An entry switched to edge loses its Remote IRR, as on the ICH
		// I/O APICs; Linux clears a stuck Remote IRR this way.
		if e&redirLevel == 0 {
			e &^= redirRemoteIRR
		}
		io.redir[pin] = e
		if levelTriggered(e) { // a level still asserted is seen once unmasked
			io.service(pin)
		}
	}
}
