package devices

import (
	"math/rand"
	"testing"
	"time"
)

// busRecorder is an APICBus that records the messages sent on it.
type busRecorder struct {
	msgs   []APICMessage
	refuse bool
}

func (b *busRecorder) Send(m APICMessage) bool {
	b.msgs = append(b.msgs, m)
	return !b.refuse
}

func ioapicRead(io *IOAPIC, reg uint8) uint32 {
	io.Write(0x00, []byte{reg, 0, 0, 0})
	b := make([]byte, 4)
	io.Read(0x10, b)
	return uint32(littleEndian(b))
}

func ioapicWrite(io *IOAPIC, reg uint8, v uint32) {
	io.Write(0x00, []byte{reg, 0, 0, 0})
	b := make([]byte, 4)
	putLittleEndian(b, uint64(v))
	io.Write(0x10, b)
}

// program writes pin's redirection entry, high dword first as Linux does.
func program(io *IOAPIC, pin int, e uint64) {
	ioapicWrite(io, uint8(0x11+2*pin), uint32(e>>32))
	ioapicWrite(io, uint8(0x10+2*pin), uint32(e))
}

// ioStep is one action or check of an IOAPIC scenario.
type ioStep func(t *testing.T, io *IOAPIC, bus *busRecorder)

func ioProgram(pin int, e uint64) ioStep {
	return func(_ *testing.T, io *IOAPIC, _ *busRecorder) { program(io, pin, e) }
}

func ioSet(pin int, level bool) ioStep {
	return func(_ *testing.T, io *IOAPIC, _ *busRecorder) { io.SetIRQ(pin, level) }
}

func ioEOI(v uint8) ioStep {
	return func(_ *testing.T, io *IOAPIC, _ *busRecorder) { io.EOI(v) }
}

func ioRefuse(r bool) ioStep {
	return func(_ *testing.T, _ *IOAPIC, bus *busRecorder) { bus.refuse = r }
}

// sent checks the messages sent since the last check.
func sent(want ...APICMessage) ioStep {
	return func(t *testing.T, _ *IOAPIC, bus *busRecorder) {
		t.Helper()
		if want == nil {
			want = []APICMessage{}
		}
		got := append([]APICMessage{}, bus.msgs...)
		bus.msgs = bus.msgs[:0]
		equal(t, want, got, "messages")
	}
}

func remoteIRR(pin int, want bool) ioStep {
	return func(t *testing.T, io *IOAPIC, _ *busRecorder) {
		t.Helper()
		equal(t, want, ioapicRead(io, uint8(0x10+2*pin))&redirRemoteIRR != 0, "Remote IRR of pin %d", pin)
	}
}

func ioRd(reg uint8, want uint32) ioStep {
	return func(t *testing.T, io *IOAPIC, _ *busRecorder) {
		t.Helper()
		equal(t, want, ioapicRead(io, reg), "register %#x", reg)
	}
}

func ioWr(reg uint8, v uint32) ioStep {
	return func(_ *testing.T, io *IOAPIC, _ *busRecorder) { ioapicWrite(io, reg, v) }
}

func fixed(v uint8, level bool) APICMessage { return APICMessage{Vector: v, Level: level} }

func TestIOAPICRegisters(t *testing.T) {
	io := NewIOAPIC(nil)
	equal(t, uint32(0), ioapicRead(io, 0), "IOAPICID")
	equal(t, uint32(0x00170011), ioapicRead(io, 1), "IOAPICVER")
	equal(t, uint32(0), ioapicRead(io, 2), "IOAPICARB")
	for pin := 0; pin < IOAPICPins; pin++ {
		equal(t, uint32(0x10000), ioapicRead(io, uint8(0x10+2*pin)), "pin %d low", pin)
		equal(t, uint32(0), ioapicRead(io, uint8(0x11+2*pin)), "pin %d high", pin)
	}
	for _, reg := range []uint8{0x03, 0x0F, 0x40, 0xFF} {
		equal(t, uint32(0), ioapicRead(io, reg), "unimplemented register %#x", reg)
	}

	ioapicWrite(io, 0, 0xFFFFFFFF)
	equal(t, uint32(0x0F000000), ioapicRead(io, 0), "IOAPICID: bits 27:24")
	equal(t, uint32(0x0F000000), ioapicRead(io, 2), "IOAPICARB follows the ID")
	ioapicWrite(io, 1, 0)
	ioapicWrite(io, 2, 0)
	equal(t, uint32(0x00170011), ioapicRead(io, 1), "IOAPICVER is read-only")

	ioapicWrite(io, 0x10, 0xFFFFFFFF)
	ioapicWrite(io, 0x11, 0xFFFFFFFF)
	equal(t, uint64(0xFF000000_0001AFFF), io.Entry(0), "writable bits")

	io.Write(0x00, []byte{0x2F})
	b := []byte{0}
	io.Read(0x00, b)
	equal(t, []byte{0x2F}, b, "IOREGSEL")
	b = []byte{0, 0}
	io.Read(0x12, b)
	equal(t, []byte{0, 0}, b, "IOWIN upper bytes of a masked pin 15 high dword")
	io.Write(0x10, []byte{1, 2}) // not a dword: dropped
	equal(t, uint32(0), ioapicRead(io, 0x2F), "narrow IOWIN write")
	b = make([]byte, 4)
	io.Read(0x20, b)
	equal(t, []byte{0, 0, 0, 0}, b, "offset 0x20")
}

func TestIOAPICDelivery(t *testing.T) {
	const (
		level    = 1 << 15
		masked   = 1 << 16
		logical  = 1 << 11
		lowPri   = APICLowestPriority << 8
		nmi      = APICNMI << 8
		extINT   = APICExtINT << 8
		activeLo = 1 << 13
	)
	tests := []struct {
		name  string
		steps []ioStep
	}{
		{"edge: one message per rising edge", []ioStep{
			ioProgram(4, 0x34), ioSet(4, true), sent(fixed(0x34, false)), ioSet(4, true), sent(),
			ioSet(4, false), sent(), ioSet(4, true), sent(fixed(0x34, false)), remoteIRR(4, false),
		}},
		{"edge: masked edges are lost", []ioStep{
			ioProgram(4, masked|0x34), ioSet(4, true), sent(), ioProgram(4, 0x34), sent(),
			ioSet(4, false), ioSet(4, true), sent(fixed(0x34, false)),
		}},
		{"level: Remote IRR until EOI", []ioStep{
			ioProgram(10, level|0x3A), ioSet(10, true), sent(fixed(0x3A, true)), remoteIRR(10, true),
			ioSet(10, true), sent(), ioEOI(0x3A), sent(fixed(0x3A, true)), remoteIRR(10, true),
			ioSet(10, false), ioEOI(0x3A), sent(), remoteIRR(10, false),
			ioSet(10, true), sent(fixed(0x3A, true)),
		}},
		{"level: EOI of another vector", []ioStep{
			ioProgram(10, level|0x3A), ioSet(10, true), sent(fixed(0x3A, true)), ioEOI(0x3B), remoteIRR(10, true), sent(),
		}},
		{"level: one EOI serves every pin of the vector", []ioStep{
			ioProgram(10, level|0x3A), ioProgram(11, level|0x3A), ioSet(10, true), ioSet(11, true),
			sent(fixed(0x3A, true), fixed(0x3A, true)), ioSet(10, false), ioSet(11, false),
			ioEOI(0x3A), remoteIRR(10, false), remoteIRR(11, false),
		}},
		{"level: asserted while masked, sent on unmask", []ioStep{
			ioProgram(10, masked|level|0x3A), ioSet(10, true), sent(), remoteIRR(10, false),
			ioProgram(10, level|0x3A), sent(fixed(0x3A, true)), remoteIRR(10, true),
		}},
		{"level: refused message leaves Remote IRR clear", []ioStep{
			ioRefuse(true), ioProgram(10, level|0x3A), ioSet(10, true), sent(fixed(0x3A, true)), remoteIRR(10, false),
			ioRefuse(false), ioSet(10, true), sent(fixed(0x3A, true)), remoteIRR(10, true),
		}},
		{"switching to edge clears Remote IRR", []ioStep{
			ioProgram(10, level|0x3A), ioSet(10, true), sent(fixed(0x3A, true)),
			ioProgram(10, masked|0x3A), remoteIRR(10, false), ioProgram(10, level|0x3A), sent(fixed(0x3A, true)),
		}},
		{"Remote IRR is read-only", []ioStep{
			ioProgram(10, level|0x3A|redirRemoteIRR|1<<12), remoteIRR(10, false), ioRd(0x24, level|0x3A),
			ioSet(10, true), ioProgram(10, level|0x3B), remoteIRR(10, true), sent(fixed(0x3A, true)),
		}},
		{"message fields", []ioStep{
			ioProgram(1, 0x03<<56|logical|lowPri|activeLo|level|0x51), ioSet(1, true),
			sent(APICMessage{Vector: 0x51, Mode: APICLowestPriority, Logical: true, Dest: 3, Level: true}),
		}},
		{"NMI and ExtINT are edge-triggered", []ioStep{
			ioProgram(5, level|nmi), ioSet(5, true), sent(APICMessage{Mode: APICNMI}), remoteIRR(5, false), ioSet(5, true), sent(),
			ioProgram(0, level|extINT), ioSet(0, true), sent(APICMessage{Mode: APICExtINT}), remoteIRR(0, false),
		}},
		{"destination high dword", []ioStep{
			ioWr(0x13, 0xAB123456), ioRd(0x13, 0xAB000000), ioWr(0x12, 0x41), ioSet(1, true),
			sent(APICMessage{Vector: 0x41, Dest: 0xAB}),
		}},
		{"pins out of range are ignored", []ioStep{
			ioProgram(0, 0x30), ioSet(-1, true), ioSet(24, true), ioSet(1000, true), sent(),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bus := &busRecorder{}
			io := NewIOAPIC(bus)
			for _, s := range tc.steps {
				s(t, io, bus)
			}
		})
	}
}

// TestIOAPICWithLAPIC wires the IOAPIC to a local APIC as the machine does.
func TestIOAPICWithLAPIC(t *testing.T) {
	newPair := func() (*IOAPIC, *LAPIC, *fakePIC) {
		pic := &fakePIC{vector: 0x20}
		a := NewLAPIC(&ManualClock{}, LAPICConfig{PIC: pic})
		io := NewIOAPIC(a)
		a.SetEOIBroadcast(io.EOI)
		lapicWrite(a, lapicSVR, 0x1FF)
		return io, a, pic
	}
	t.Run("edge", func(t *testing.T) {
		io, a, _ := newPair()
		program(io, 2, 0x30)
		io.SetIRQ(2, true)
		io.SetIRQ(2, false)
		equal(t, uint8(0x30), a.Acknowledge(), "vector")
		lapicWrite(a, lapicEOI, 0)
		equal(t, false, a.Pending(), "Pending after EOI")
	})
	t.Run("level: EOI broadcast clears Remote IRR and re-delivers", func(t *testing.T) {
		io, a, _ := newPair()
		program(io, 11, 1<<15|0x41)
		io.SetIRQ(11, true)
		equal(t, uint8(0x41), a.Acknowledge(), "vector")
		equal(t, false, a.Pending(), "Pending in service")
		lapicWrite(a, lapicEOI, 0) // the device still asserts its line
		equal(t, true, io.Entry(11)&redirRemoteIRR != 0, "Remote IRR after re-delivery")
		equal(t, uint8(0x41), a.Acknowledge(), "vector again")
		io.SetIRQ(11, false)
		lapicWrite(a, lapicEOI, 0)
		equal(t, false, io.Entry(11)&redirRemoteIRR != 0, "Remote IRR after the last EOI")
		equal(t, false, a.Pending(), "Pending")
	})
	t.Run("physical destination other than the APIC's ID is dropped", func(t *testing.T) {
		io, a, _ := newPair()
		program(io, 11, 1<<56|1<<15|0x41)
		io.SetIRQ(11, true)
		equal(t, false, a.Pending(), "Pending")
		equal(t, false, io.Entry(11)&redirRemoteIRR != 0, "Remote IRR")
	})
	t.Run("logical flat destination", func(t *testing.T) {
		io, a, _ := newPair()
		lapicWrite(a, lapicLDR, 0x01000000)
		program(io, 4, 0x01<<56|1<<11|0x34)
		io.SetIRQ(4, true)
		equal(t, uint8(0x34), a.Acknowledge(), "vector")
	})
	t.Run("software-disabled APIC refuses; the level is resent when enabled", func(t *testing.T) {
		io, a, _ := newPair()
		lapicWrite(a, lapicSVR, 0xFF)
		program(io, 11, 1<<15|0x41)
		io.SetIRQ(11, true)
		equal(t, false, a.Pending(), "Pending")
		equal(t, false, io.Entry(11)&redirRemoteIRR != 0, "Remote IRR")
		lapicWrite(a, lapicSVR, 0x1FF)
		program(io, 11, 1<<15|0x41) // Linux unmasks; any rewrite resamples the level
		equal(t, uint8(0x41), a.Acknowledge(), "vector")
	})
	t.Run("ExtINT pin asks the 8259", func(t *testing.T) {
		io, a, pic := newPair()
		program(io, 0, APICExtINT<<8)
		pic.pending = true
		io.SetIRQ(0, true)
		equal(t, true, a.Pending(), "Pending")
		equal(t, uint8(0x20), a.Acknowledge(), "vector from the 8259")
	})
}

// TestAPICSurvivesGarbage drives the PIC, LAPIC and IOAPIC, wired as a
// machine wires them, with random register accesses, input changes, MSR
// writes and timer advances: nothing may panic, and Advance never returns a
// deadline that is already past. And the CPU's interrupt hint holds: Pending
// never turns true without a NotifyPending call since it was last false.
func TestAPICSurvivesGarbage(t *testing.T) {
	clock := &ManualClock{}
	pic := NewPIC()
	for _, s := range initPIC(0x01) {
		s(t, pic)
	}
	nmis := 0
	a := NewLAPIC(clock, LAPICConfig{PIC: pic, VirtualWire: true, TSCDeadline: true, TSCHz: 3_000_000_000,
		NMI: func() { nmis++ }})
	io := NewIOAPIC(a)
	a.SetEOIBroadcast(io.EOI)
	notified, wasPending := false, false
	a.NotifyPending(func() { notified = true })
	rng := rand.New(rand.NewSource(1))
	sizes := []int{1, 2, 4, 8}
	regs := []uint64{lapicTPR, lapicEOI, lapicSVR, lapicESR, lapicICRLow, lapicICRHigh, lapicLVTTimer,
		0x350, lapicLVTError, lapicTimerInitial, lapicTimerDivide, lapicLDR, lapicDFR, lapicID}
	for i := 0; i < 300000; i++ {
		if p := a.Pending(); p && !wasPending && !notified {
			t.Fatalf("step %d: Pending turned true without a notification", i)
		} else {
			wasPending, notified = p, false
		}
		data := make([]byte, sizes[rng.Intn(len(sizes))])
		switch rng.Intn(12) {
		case 0, 1, 2: // a register the guest uses, written sensibly
			v := rng.Uint32()
			if rng.Intn(2) == 0 {
				v &= 0x000FFFFF
			}
			lapicWrite(a, regs[rng.Intn(len(regs))], v)
		case 3:
			a.Read(uint64(rng.Intn(LAPICSize)), data)
		case 4:
			rng.Read(data)
			a.Write(uint64(rng.Intn(LAPICSize)), data)
		case 5:
			ioapicWrite(io, uint8(rng.Intn(0x40)), rng.Uint32())
		case 6:
			rng.Read(data)
			io.Write(uint64(rng.Intn(0x20)), data)
			io.Read(uint64(rng.Intn(0x20)), data)
		case 7:
			io.SetIRQ(rng.Intn(30)-2, rng.Intn(2) == 0)
			pic.SetIRQ(rng.Intn(16), rng.Intn(2) == 0)
		case 8:
			if rng.Intn(50) == 0 {
				a.WriteMSR(MSRAPICBase, rng.Uint64()&0xFFFFF900|uint64(rng.Intn(2))<<11)
			} else {
				a.WriteMSR(MSRTSCDeadline, uint64(clock.T)*3+uint64(rng.Intn(1_000_000)))
			}
		case 9:
			a.Send(APICMessage{Vector: uint8(rng.Intn(256)), Mode: uint8(rng.Intn(8)), Logical: rng.Intn(2) == 0,
				Dest: uint8(rng.Intn(256)), Level: rng.Intn(2) == 0})
			io.EOI(uint8(rng.Intn(256)))
		case 10:
			a.SetCR8(rng.Uint64())
		case 11:
			clock.T += time.Duration(rng.Intn(200_000))
			if next := a.Advance(clock.T); next <= clock.T {
				t.Fatalf("Advance(%v) returned %v", clock.T, next)
			}
			for n := 0; a.Pending() && n < 300; n++ {
				a.Acknowledge()
				if rng.Intn(4) != 0 {
					lapicWrite(a, lapicEOI, 0)
					pic.Master().Write(0, []byte{0x20})
				}
			}
		}
	}
}
