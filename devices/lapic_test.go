package devices

import (
	"testing"
	"time"
)

// fakePIC is an InterruptController that answers with one vector.
type fakePIC struct {
	pending bool
	vector  uint8
	acks    int
}

func (p *fakePIC) Pending() bool { return p.pending }

func (p *fakePIC) Acknowledge() uint8 {
	p.acks++
	p.pending = false
	return p.vector
}

// lapicEnv is a local APIC under test with what it is wired to.
type lapicEnv struct {
	clock *ManualClock
	a     *LAPIC
	pic   *fakePIC
	eois  []uint8 // EOI broadcasts
	nmis  int
	irqs  int // timer interrupts taken by tick
}

func newLAPICEnv(cfg LAPICConfig) *lapicEnv {
	e := &lapicEnv{clock: &ManualClock{}, pic: &fakePIC{vector: 0x20}}
	cfg.PIC = e.pic
	cfg.NMI = func() { e.nmis++ }
	e.a = NewLAPIC(e.clock, cfg)
	e.a.SetEOIBroadcast(func(v uint8) { e.eois = append(e.eois, v) })
	return e
}

func lapicRead(a *LAPIC, reg uint64) uint32 {
	b := make([]byte, 4)
	a.Read(reg, b)
	return uint32(littleEndian(b))
}

func lapicWrite(a *LAPIC, reg uint64, v uint32) {
	b := make([]byte, 4)
	putLittleEndian(b, uint64(v))
	a.Write(reg, b)
}

// lapicStep is one action or check of a local APIC scenario.
type lapicStep func(t *testing.T, e *lapicEnv)

func wr(reg uint64, v uint32) lapicStep {
	return func(_ *testing.T, e *lapicEnv) { lapicWrite(e.a, reg, v) }
}

func rd(reg uint64, want uint32) lapicStep {
	return func(t *testing.T, e *lapicEnv) {
		t.Helper()
		equal(t, want, lapicRead(e.a, reg), "register %#x", reg)
	}
}

func deliver(v uint8, level bool) lapicStep {
	return func(_ *testing.T, e *lapicEnv) { e.a.Deliver(v, level) }
}

func lack(want uint8) lapicStep {
	return func(t *testing.T, e *lapicEnv) {
		t.Helper()
		equal(t, want, e.a.Acknowledge(), "vector")
	}
}

func lpending(want bool) lapicStep {
	return func(t *testing.T, e *lapicEnv) {
		t.Helper()
		equal(t, want, e.a.Pending(), "Pending")
	}
}

func check(what string, want any, got func(e *lapicEnv) any) lapicStep {
	return func(t *testing.T, e *lapicEnv) {
		t.Helper()
		equal(t, want, got(e), "%s", what)
	}
}

var (
	eoi      = wr(lapicEOI, 0)
	enable   = wr(lapicSVR, 0x1FF) // software enable, spurious vector 0xFF
	latchESR = wr(lapicESR, 0)
)

// vectorBit returns the register offset and bit that hold vector v in the
// ISR, TMR or IRR starting at base.
func vectorReg(base uint64, v uint8) uint64 { return base + uint64(v>>5)<<4 }
func vectorBit(v uint8) uint32              { return 1 << (v & 31) }

func runLAPIC(t *testing.T, cfg LAPICConfig, steps []lapicStep) *lapicEnv {
	t.Helper()
	e := newLAPICEnv(cfg)
	for _, s := range steps {
		s(t, e)
	}
	return e
}

func TestLAPICReset(t *testing.T) {
	want := map[uint64]uint32{
		lapicID: 0, lapicVersion: 0x00050014, lapicTPR: 0, lapicAPR: 0, lapicPPR: 0,
		lapicEOI: 0, lapicRRD: 0, lapicLDR: 0, lapicDFR: 0xFFFFFFFF, lapicSVR: 0xFF,
		lapicESR: 0, lapicLVTCMCI: 0x10000, lapicICRLow: 0, lapicICRHigh: 0,
		lapicLVTTimer: 0x10000, 0x330: 0x10000, 0x340: 0x10000, 0x350: 0x10000,
		0x360: 0x10000, lapicLVTError: 0x10000, lapicTimerInitial: 0,
		lapicTimerCurrent: 0, lapicTimerDivide: 0,
	}
	for i := uint64(0); i < 8; i++ {
		want[lapicISR+i<<4], want[lapicTMR+i<<4], want[lapicIRR+i<<4] = 0, 0, 0
	}
	tests := []struct {
		name string
		cfg  LAPICConfig
		diff map[uint64]uint32
	}{
		{"default", LAPICConfig{}, nil},
		{"APIC ID 3", LAPICConfig{ID: 3}, map[uint64]uint32{lapicID: 0x03000000}},
		{"virtual wire: LINT0 unmasked ExtINT", LAPICConfig{VirtualWire: true}, map[uint64]uint32{0x350: 0x700}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLAPICEnv(tc.cfg)
			for reg, v := range want {
				if d, ok := tc.diff[reg]; ok {
					v = d
				}
				equal(t, v, lapicRead(e.a, reg), "register %#x", reg)
			}
			equal(t, uint64(0xFEE00900), e.a.Base(), "IA32_APIC_BASE")
			equal(t, false, e.a.Pending(), "Pending")
			equal(t, NoDeadline, e.a.Advance(time.Hour), "timer deadline")
		})
	}
}

func TestLAPICInterrupts(t *testing.T) {
	tests := []struct {
		name  string
		steps []lapicStep
	}{
		{"IRR to ISR to EOI", []lapicStep{
			deliver(0x40, false), rd(vectorReg(lapicIRR, 0x40), vectorBit(0x40)), lpending(true),
			lack(0x40), rd(vectorReg(lapicIRR, 0x40), 0), rd(vectorReg(lapicISR, 0x40), vectorBit(0x40)),
			rd(lapicPPR, 0x40), lpending(false), eoi, rd(vectorReg(lapicISR, 0x40), 0), rd(lapicPPR, 0),
		}},
		{"highest vector first; lower classes wait for EOI", []lapicStep{
			deliver(0x41, false), deliver(0x80, false), deliver(0x55, false),
			lack(0x80), lpending(false), eoi, lack(0x55), lpending(false), eoi, lack(0x41), eoi, lpending(false),
		}},
		{"same class does not nest", []lapicStep{
			deliver(0x51, false), lack(0x51), deliver(0x5F, false), lpending(false), eoi, lack(0x5F),
		}},
		{"higher class nests; EOI retires the highest", []lapicStep{
			deliver(0x40, false), lack(0x40), deliver(0x90, false), lpending(true), lack(0x90),
			rd(lapicPPR, 0x90), eoi, rd(vectorReg(lapicISR, 0x90), 0), rd(vectorReg(lapicISR, 0x40), vectorBit(0x40)),
			rd(lapicPPR, 0x40), eoi, rd(lapicPPR, 0),
		}},
		{"TPR blocks its class and below", []lapicStep{
			wr(lapicTPR, 0x50), rd(lapicTPR, 0x50), deliver(0x55, false), lpending(false), rd(lapicPPR, 0x50),
			deliver(0x61, false), lpending(true), lack(0x61), rd(lapicPPR, 0x60), eoi, lpending(false),
			wr(lapicTPR, 0), lack(0x55),
		}},
		{"PPR is TPR when TPR's class is not below ISR's", []lapicStep{
			wr(lapicTPR, 0x23), deliver(0x70, false), lack(0x70), rd(lapicPPR, 0x70), eoi, rd(lapicPPR, 0x23),
			deliver(0x29, false), lpending(false), deliver(0x31, false), lack(0x31), wr(lapicTPR, 0x3A), rd(lapicPPR, 0x3A),
		}},
		{"spurious vector when TPR rises between INTR and INTA", []lapicStep{
			deliver(0x40, false), lpending(true), wr(lapicTPR, 0xF0), lack(0xFF),
			rd(vectorReg(lapicISR, 0x40), 0), rd(vectorReg(lapicIRR, 0x40), vectorBit(0x40)),
		}},
		{"spurious vector comes from SVR", []lapicStep{wr(lapicSVR, 0x13F), rd(lapicSVR, 0x13F), lack(0x3F)}},
		{"EOI with nothing in service", []lapicStep{eoi, eoi, lpending(false), rd(lapicPPR, 0)}},
		{"level-triggered EOI is broadcast, edge is not", []lapicStep{
			deliver(0x60, true), rd(vectorReg(lapicTMR, 0x60), vectorBit(0x60)), lack(0x60), eoi,
			deliver(0x81, false), rd(vectorReg(lapicTMR, 0x81), 0), lack(0x81), eoi,
			check("EOI broadcasts", []uint8{0x60}, func(e *lapicEnv) any { return e.eois }),
		}},
		{"a repeated request collapses into one", []lapicStep{
			deliver(0x40, false), deliver(0x40, false), lack(0x40), eoi, lpending(false),
		}},
		{"the same vector can be in IRR and ISR", []lapicStep{
			deliver(0x40, false), lack(0x40), deliver(0x40, false), lpending(false), eoi, lack(0x40),
		}},
		{"vectors 0-15 are illegal", []lapicStep{
			deliver(0x05, false), rd(lapicIRR, 0), lpending(false), latchESR, rd(lapicESR, esrReceiveIllegalVector),
		}},
		{"CR8 is TPR[7:4]", []lapicStep{
			func(_ *testing.T, e *lapicEnv) { e.a.SetCR8(0x15) }, rd(lapicTPR, 0x50),
			wr(lapicTPR, 0x9C), check("CR8", uint64(9), func(e *lapicEnv) any { return e.a.CR8() }),
			deliver(0x95, false), lpending(false), deliver(0xA0, false), lack(0xA0),
		}},
		{"read-only registers ignore writes", []lapicStep{
			deliver(0x40, false), wr(lapicVersion, 0), wr(lapicPPR, 0xFF), wr(vectorReg(lapicIRR, 0x40), 0),
			wr(lapicTimerCurrent, 5), rd(lapicVersion, 0x50014), rd(lapicPPR, 0),
			rd(vectorReg(lapicIRR, 0x40), vectorBit(0x40)), rd(lapicTimerCurrent, 0), latchESR, rd(lapicESR, 0),
		}},
		{"register masks", []lapicStep{
			wr(lapicID, 0xFFFFFFFF), rd(lapicID, 0xFF000000), wr(lapicID, 0),
			wr(lapicLDR, 0xFFFFFFFF), rd(lapicLDR, 0xFF000000), wr(lapicDFR, 0), rd(lapicDFR, 0x0FFFFFFF),
			wr(lapicSVR, 0xFFFFFFFF), rd(lapicSVR, 0x3FF), wr(lapicTimerDivide, 0xFFFFFFFF), rd(lapicTimerDivide, 0xB),
			wr(lapicLVTTimer, 0xFFFFFFFF), rd(lapicLVTTimer, 0x300FF), wr(0x350, 0xFFFFFFFF), rd(0x350, 0x1A7FF),
			wr(lapicLVTError, 0xFFFFFFFF), rd(lapicLVTError, 0x100FF), wr(0x330, 0xFFFFFFFF), rd(0x330, 0x107FF),
			wr(lapicLVTCMCI, 0xFFFFFFFF), rd(lapicLVTCMCI, 0x107FF),
		}},
		{"narrow reads see bytes of the register; narrow writes are dropped", []lapicStep{
			func(t *testing.T, e *lapicEnv) {
				b := []byte{0}
				e.a.Read(lapicVersion+2, b)
				equal(t, []byte{0x05}, b, "byte 2 of the version")
				b = make([]byte, 8)
				e.a.Read(lapicVersion, b)
				equal(t, []byte{0x14, 0, 5, 0, 0, 0, 0, 0}, b, "8-byte read")
				e.a.Write(lapicTPR, []byte{0x70})
				e.a.Write(lapicTPR+4, []byte{1, 2, 3, 4})
			},
			rd(lapicTPR, 0),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLAPIC(t, LAPICConfig{}, append([]lapicStep{enable}, tc.steps...)) })
	}
}

func TestLAPICErrors(t *testing.T) {
	tests := []struct {
		name  string
		steps []lapicStep
	}{
		{"ESR shows the errors latched by the last write", []lapicStep{
			deliver(0x03, false), rd(lapicESR, 0), latchESR, rd(lapicESR, esrReceiveIllegalVector),
			rd(lapicESR, esrReceiveIllegalVector), latchESR, rd(lapicESR, 0),
		}},
		{"errors accumulate", []lapicStep{
			deliver(0x03, false), wr(lapicICRLow, 0x40004), latchESR,
			rd(lapicESR, esrReceiveIllegalVector|esrSendIllegalVector),
		}},
		{"an error raises the LVT error interrupt", []lapicStep{
			wr(lapicLVTError, 0xE3), deliver(0x03, false), lpending(true), lack(0xE3),
		}},
		{"masked LVT error: no interrupt", []lapicStep{
			wr(lapicLVTError, 0x100E3), deliver(0x03, false), lpending(false),
		}},
		{"an illegal error vector does not loop", []lapicStep{
			wr(lapicLVTError, 0x05), deliver(0x03, false), lpending(false), latchESR, rd(lapicESR, esrReceiveIllegalVector),
		}},
		{"reserved registers: illegal register address", []lapicStep{
			rd(0x040, 0), latchESR, rd(lapicESR, esrIllegalRegister), latchESR, rd(lapicESR, 0),
			wr(0x3F0, 1), latchESR, rd(lapicESR, esrIllegalRegister),
		}},
		{"self-IPI with an illegal vector: send illegal vector", []lapicStep{
			wr(lapicICRLow, 0x4000F), lpending(false), latchESR, rd(lapicESR, esrSendIllegalVector),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLAPIC(t, LAPICConfig{}, append([]lapicStep{enable}, tc.steps...)) })
	}
}

func TestLAPICICR(t *testing.T) {
	nmis := func(n int) lapicStep { return check("NMIs", n, func(e *lapicEnv) any { return e.nmis }) }
	tests := []struct {
		name  string
		id    uint8
		steps []lapicStep
	}{
		{"self shorthand", 0, []lapicStep{wr(lapicICRHigh, 0x05000000), wr(lapicICRLow, 0x40045), lack(0x45)}},
		{"all including self", 0, []lapicStep{wr(lapicICRLow, 0x80046), lack(0x46)}},
		{"all excluding self reaches nobody", 0, []lapicStep{wr(lapicICRLow, 0xC0047), lpending(false)}},
		{"physical destination: own ID", 2, []lapicStep{wr(lapicICRHigh, 0x02000000), wr(lapicICRLow, 0x48), lack(0x48)}},
		{"physical destination: another ID", 2, []lapicStep{wr(lapicICRHigh, 0x00000000), wr(lapicICRLow, 0x48), lpending(false)}},
		{"physical broadcast", 2, []lapicStep{wr(lapicICRHigh, 0xFF000000), wr(lapicICRLow, 0x49), lack(0x49)}},
		{"logical flat", 0, []lapicStep{
			wr(lapicLDR, 0x02000000), wr(lapicICRHigh, 0x04000000), wr(lapicICRLow, 0x84A), lpending(false),
			wr(lapicICRHigh, 0x03000000), wr(lapicICRLow, 0x84A), lack(0x4A),
		}},
		{"logical cluster", 0, []lapicStep{
			wr(lapicDFR, 0x0FFFFFFF), wr(lapicLDR, 0x21000000),
			wr(lapicICRHigh, 0x11000000), wr(lapicICRLow, 0x84B), lpending(false),
			wr(lapicICRHigh, 0x23000000), wr(lapicICRLow, 0x84B), lack(0x4B),
		}},
		{"logical, LDR not yet set", 0, []lapicStep{wr(lapicICRHigh, 0x01000000), wr(lapicICRLow, 0x84C), lpending(false)}},
		{"level-triggered self-IPI sets TMR", 0, []lapicStep{
			wr(lapicICRLow, 0x4C04D), rd(vectorReg(lapicTMR, 0x4D), vectorBit(0x4D)), lack(0x4D), eoi,
			check("EOI broadcasts", []uint8{0x4D}, func(e *lapicEnv) any { return e.eois }),
		}},
		{"NMI to self", 0, []lapicStep{wr(lapicICRLow, 0x40400), nmis(1), lpending(false)}},
		{"INIT and start-up are ignored", 0, []lapicStep{
			wr(lapicICRLow, 0x44500), wr(lapicICRLow, 0x40610), wr(lapicICRLow, 0x40200), lpending(false), nmis(0),
		}},
		{"readback: delivery status idle", 0, []lapicStep{
			wr(lapicICRHigh, 0xFFFFFFFF), rd(lapicICRHigh, 0xFF000000),
			wr(lapicICRLow, 0xFFFFFFFF), rd(lapicICRLow, 0x000CCFFF), lpending(false),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runLAPIC(t, LAPICConfig{ID: tc.id}, append([]lapicStep{enable}, tc.steps...))
		})
	}
}

// tick sets the clock to ns, runs Advance and takes every pending
// interrupt (with its EOI), counting them in irqs.
func tick(ns time.Duration) lapicStep {
	return func(_ *testing.T, e *lapicEnv) {
		e.clock.T = ns
		e.a.Advance(ns)
		for e.a.Pending() {
			e.a.Acknowledge()
			e.irqs++
			lapicWrite(e.a, lapicEOI, 0)
		}
	}
}

func irqs(n int) lapicStep {
	return check("timer interrupts", n, func(e *lapicEnv) any { return e.irqs })
}

func count(want uint32) lapicStep { return rd(lapicTimerCurrent, want) }

func due(want time.Duration) lapicStep {
	return func(t *testing.T, e *lapicEnv) {
		t.Helper()
		equal(t, want, e.a.Advance(e.clock.T), "next deadline")
	}
}

func TestLAPICTimer(t *testing.T) {
	const oneShot, periodic, masked = 0x30, 0x20030, 0x10030
	tests := []struct {
		name  string
		steps []lapicStep
	}{
		{"one-shot, divide by 1", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 1000), due(1000),
			count(1000), tick(1), count(999), tick(999), count(1), irqs(0), tick(1000), count(0), irqs(1),
			tick(5000), irqs(1), due(NoDeadline), rd(lapicTimerInitial, 1000),
		}},
		{"divide by 2 after reset", []lapicStep{
			wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 100), tick(100), count(50), tick(199), count(1), irqs(0),
			tick(200), irqs(1),
		}},
		{"divide by 16", []lapicStep{
			wr(lapicTimerDivide, 0x3), wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 100), due(1600),
			tick(800), count(50), tick(1599), count(1), tick(1600), count(0), irqs(1),
		}},
		{"divide by 128", []lapicStep{
			wr(lapicTimerDivide, 0xA), wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 10), due(1280),
			tick(128), count(9), tick(1280), irqs(1),
		}},
		{"periodic reloads", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, periodic), wr(lapicTimerInitial, 100_000),
			count(100_000), tick(99_999), count(1), irqs(0), tick(100_000), count(100_000), irqs(1), due(200_000),
			tick(250_000), count(50_000), irqs(2), tick(300_000), irqs(3),
		}},
		{"periodic that fell behind gets one interrupt", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, periodic), wr(lapicTimerInitial, 100_000),
			tick(1_050_000), irqs(1), count(50_000), due(1_100_000), tick(1_100_000), irqs(2),
		}},
		{"periodic faster than MinTimerPeriod is slowed down", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, periodic), wr(lapicTimerInitial, 1000),
			tick(1000), irqs(1), due(1000 + MinTimerPeriod), tick(2000), irqs(1), tick(1000 + MinTimerPeriod), irqs(2),
		}},
		{"masked: counts without interrupts", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, masked), wr(lapicTimerInitial, 1000),
			tick(500), count(500), tick(1000), count(0), irqs(0), due(NoDeadline),
		}},
		{"initial count 0 stops the timer", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, periodic), wr(lapicTimerInitial, 100_000), tick(50_000),
			wr(lapicTimerInitial, 0), count(0), due(NoDeadline), tick(200_000), irqs(0),
		}},
		{"rewriting the initial count restarts", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 1000), tick(500),
			wr(lapicTimerInitial, 1000), tick(1000), irqs(0), count(500), tick(1500), irqs(1),
		}},
		{"a new divider applies from the current count", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 1000), tick(400),
			wr(lapicTimerDivide, 0x0), count(600), tick(600), count(500), due(1600), tick(1599), irqs(0), tick(1600), irqs(1),
		}},
		{"one-shot switched to periodic keeps counting", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 100_000), tick(50_000),
			wr(lapicLVTTimer, periodic), count(50_000), tick(100_000), irqs(1), tick(200_000), irqs(2),
		}},
		{"periodic switched to one-shot ends after the current period", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, periodic), wr(lapicTimerInitial, 100_000), tick(150_000),
			wr(lapicLVTTimer, oneShot), count(50_000), tick(200_000), irqs(2), tick(400_000), irqs(2), count(0),
		}},
		{"the timer vector obeys TPR", []lapicStep{
			wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, oneShot), wr(lapicTPR, 0x30), wr(lapicTimerInitial, 10),
			tick(10), irqs(0), wr(lapicTPR, 0), tick(11), irqs(1),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLAPIC(t, LAPICConfig{}, append([]lapicStep{enable}, tc.steps...)) })
	}

	t.Run("slower bus clock", func(t *testing.T) {
		runLAPIC(t, LAPICConfig{BusHz: 100_000_000}, []lapicStep{ // 10 ns per count
			enable, wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, oneShot), wr(lapicTimerInitial, 100),
			due(1000), tick(500), count(50), tick(1000), irqs(1),
		})
	})
}

func TestLAPICTSCDeadline(t *testing.T) {
	const tscMode = 0x40030
	deadline := func(tsc uint64) lapicStep {
		return func(t *testing.T, e *lapicEnv) {
			t.Helper()
			equal(t, true, e.a.WriteMSR(MSRTSCDeadline, tsc), "WRMSR IA32_TSC_DEADLINE")
		}
	}
	readDeadline := func(want uint64) lapicStep {
		return func(t *testing.T, e *lapicEnv) {
			t.Helper()
			v, ok := e.a.ReadMSR(MSRTSCDeadline)
			equal(t, true, ok, "RDMSR IA32_TSC_DEADLINE")
			equal(t, want, v, "IA32_TSC_DEADLINE")
		}
	}
	cfg := LAPICConfig{TSCDeadline: true, TSCHz: 2_000_000_000} // 2 TSC ticks per ns
	tests := []struct {
		name  string
		cfg   LAPICConfig
		steps []lapicStep
	}{
		{"not offered: mode bit 18 reserved, no MSR", LAPICConfig{}, []lapicStep{
			wr(lapicLVTTimer, tscMode), rd(lapicLVTTimer, 0x30),
			check("MSR present", false, func(e *lapicEnv) any { _, ok := e.a.ReadMSR(MSRTSCDeadline); return ok }),
			check("MSR write", false, func(e *lapicEnv) any { return e.a.WriteMSR(MSRTSCDeadline, 1) }),
		}},
		{"TSCHz is required", LAPICConfig{TSCDeadline: true}, []lapicStep{wr(lapicLVTTimer, tscMode), rd(lapicLVTTimer, 0x30)}},
		{"fires at the deadline and clears the MSR", cfg, []lapicStep{
			wr(lapicLVTTimer, tscMode), rd(lapicLVTTimer, tscMode), deadline(2000), readDeadline(2000), due(1000),
			tick(999), irqs(0), tick(1000), irqs(1), readDeadline(0), due(NoDeadline),
		}},
		{"a past deadline fires at once", cfg, []lapicStep{
			tick(5000), wr(lapicLVTTimer, tscMode), deadline(100), irqs(0), tick(5000), irqs(1), readDeadline(0),
		}},
		{"0 disarms", cfg, []lapicStep{
			wr(lapicLVTTimer, tscMode), deadline(2000), deadline(0), readDeadline(0), tick(10_000), irqs(0),
		}},
		{"initial count is ignored, current count reads 0", cfg, []lapicStep{
			wr(lapicLVTTimer, tscMode), wr(lapicTimerInitial, 100), rd(lapicTimerInitial, 0), count(0),
			deadline(4000), count(0), tick(2000), irqs(1),
		}},
		{"leaving TSC-deadline mode disarms", cfg, []lapicStep{
			wr(lapicLVTTimer, tscMode), deadline(2000), wr(lapicLVTTimer, 0x30), readDeadline(0),
			tick(5000), irqs(0), deadline(2000), readDeadline(0), due(NoDeadline),
		}},
		{"entering TSC-deadline mode stops the count", cfg, []lapicStep{
			wr(lapicLVTTimer, 0x30), wr(lapicTimerInitial, 100), wr(lapicLVTTimer, tscMode),
			rd(lapicTimerInitial, 0), count(0), tick(10_000), irqs(0),
		}},
		{"a TSC with an offset", LAPICConfig{TSCDeadline: true, TSCHz: 1_000_000_000}, []lapicStep{
			func(_ *testing.T, e *lapicEnv) {
				e.a.cfg.TSC = func() uint64 { return 1_000_000 + uint64(e.clock.T) }
			},
			wr(lapicLVTTimer, tscMode), deadline(1_000_000 + 3000), due(3000), tick(3000), irqs(1),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLAPIC(t, tc.cfg, append([]lapicStep{enable}, tc.steps...)) })
	}
}

func TestLAPICDisabled(t *testing.T) {
	setBase := func(v uint64, ok bool) lapicStep {
		return func(t *testing.T, e *lapicEnv) {
			t.Helper()
			equal(t, ok, e.a.WriteMSR(MSRAPICBase, v), "WRMSR IA32_APIC_BASE %#x", v)
		}
	}
	base := func(want uint64) lapicStep {
		return check("IA32_APIC_BASE", want, func(e *lapicEnv) any { v, _ := e.a.ReadMSR(MSRAPICBase); return v })
	}
	picPending := func(e *lapicEnv) { e.pic.pending = true }
	tests := []struct {
		name  string
		cfg   LAPICConfig
		steps []lapicStep
	}{
		{"software-disabled after reset: no fixed interrupts accepted", LAPICConfig{}, []lapicStep{
			deliver(0x40, false), rd(vectorReg(lapicIRR, 0x40), 0), wr(lapicICRLow, 0x40041), lpending(false),
			check("IOAPIC message", false, func(e *lapicEnv) any { return e.a.Send(APICMessage{Vector: 0x42}) }),
			lack(0xFF),
		}},
		{"software-disabled: LVT writes stay masked", LAPICConfig{}, []lapicStep{
			wr(lapicLVTTimer, 0x30), rd(lapicLVTTimer, 0x10030), wr(0x350, 0x700), rd(0x350, 0x10700),
		}},
		{"software disable masks every LVT entry", LAPICConfig{}, []lapicStep{
			enable, wr(lapicLVTTimer, 0x20030), wr(0x350, 0x700), wr(lapicLVTError, 0xE0), wr(lapicSVR, 0xFF),
			rd(lapicLVTTimer, 0x30030), rd(0x350, 0x10700), rd(lapicLVTError, 0x100E0),
			enable, rd(lapicLVTTimer, 0x30030),
		}},
		{"software-disabled: the timer counts silently", LAPICConfig{}, []lapicStep{
			enable, wr(lapicTimerDivide, 0xB), wr(lapicLVTTimer, 0x30), wr(lapicTimerInitial, 1000), wr(lapicSVR, 0xFF),
			tick(500), count(500), tick(1000), irqs(0),
		}},
		{"software-disabled: held IRR is still dispensed", LAPICConfig{}, []lapicStep{
			enable, deliver(0x40, false), wr(lapicSVR, 0xFF), lpending(true), lack(0x40),
		}},
		{"globally disabled: page not decoded, 8259 straight to INTR", LAPICConfig{}, []lapicStep{
			enable, wr(lapicTPR, 0x20), deliver(0x40, false), setBase(0xFEE00000, true), base(0xFEE00100),
			rd(lapicVersion, 0xFFFFFFFF), wr(lapicSVR, 0x1FF), lpending(false), deliver(0x41, false), lpending(false),
			func(_ *testing.T, e *lapicEnv) { picPending(e) }, lpending(true), lack(0x20),
			setBase(0xFEE00800, true), base(0xFEE00900), rd(lapicSVR, 0xFF), rd(lapicTPR, 0),
			rd(vectorReg(lapicIRR, 0x40), 0), lpending(false),
		}},
		{"globally disabled: no timer", LAPICConfig{}, []lapicStep{
			enable, wr(lapicLVTTimer, 0x30), wr(lapicTimerInitial, 1000), setBase(0xFEE00000, true),
			due(NoDeadline), tick(2000), irqs(0),
		}},
		{"IA32_APIC_BASE reserved bits", LAPICConfig{}, []lapicStep{
			setBase(0xFEE00C00, false), setBase(0xFEE00901, false), setBase(0xFEE00B00, false),
			setBase(1<<52|0xFEE00900, false), base(0xFEE00900),
			setBase(0xFED00800, true), base(0xFED00900), // BSP is read-only; relocation is the machine's
		}},
		{"other MSRs are not the APIC's", LAPICConfig{}, []lapicStep{
			check("RDMSR 0x10", false, func(e *lapicEnv) any { _, ok := e.a.ReadMSR(0x10); return ok }),
			check("WRMSR 0x10", false, func(e *lapicEnv) any { return e.a.WriteMSR(0x10, 0) }),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLAPIC(t, tc.cfg, tc.steps) })
	}
}

func TestLAPICExtINT(t *testing.T) {
	picPending := func(_ *testing.T, e *lapicEnv) { e.pic.pending = true }
	acks := func(n int) lapicStep {
		return check("PIC acknowledges", n, func(e *lapicEnv) any { return e.pic.acks })
	}
	tests := []struct {
		name  string
		cfg   LAPICConfig
		steps []lapicStep
	}{
		{"LINT0 masked after reset: the 8259 is cut off", LAPICConfig{}, []lapicStep{picPending, lpending(false), acks(0)}},
		{"virtual wire preset", LAPICConfig{VirtualWire: true}, []lapicStep{
			lpending(false), picPending, lpending(true), lack(0x20), acks(1), lpending(false),
		}},
		{"LINT0 programmed to ExtINT", LAPICConfig{}, []lapicStep{
			enable, wr(0x350, 0x700), picPending, lpending(true), lack(0x20), rd(lapicISR+0x10, 0),
		}},
		{"LINT0 masked by the guest", LAPICConfig{VirtualWire: true}, []lapicStep{
			enable, wr(0x350, 0x10700), picPending, lpending(false),
		}},
		{"LINT0 in fixed mode does not pass the 8259", LAPICConfig{}, []lapicStep{
			enable, wr(0x350, 0x031), picPending, lpending(false),
		}},
		{"ExtINT is served before fixed interrupts", LAPICConfig{VirtualWire: true}, []lapicStep{
			enable, deliver(0xE0, false), picPending, lack(0x20), lack(0xE0),
		}},
		{"ExtINT is not subject to TPR", LAPICConfig{VirtualWire: true}, []lapicStep{
			enable, wr(lapicTPR, 0xF0), picPending, lpending(true), lack(0x20),
		}},
		{"ExtINT message from the IOAPIC", LAPICConfig{}, []lapicStep{
			enable,
			check("accepted", true, func(e *lapicEnv) any { return e.a.Send(APICMessage{Mode: APICExtINT}) }),
			lpending(true), picPending, lack(0x20), acks(1), lpending(false),
		}},
		{"NMI message", LAPICConfig{}, []lapicStep{
			check("accepted", true, func(e *lapicEnv) any { return e.a.Send(APICMessage{Mode: APICNMI}) }),
			check("NMIs", 1, func(e *lapicEnv) any { return e.nmis }), lpending(false),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLAPIC(t, tc.cfg, tc.steps) })
	}
}

// TestLAPICVirtualWireWithPIT runs the legacy path end to end: the PIT's
// IRQ 0 through the 8259 and LINT0 to the CPU.
func TestLAPICVirtualWireWithPIT(t *testing.T) {
	clock := &ManualClock{}
	pic := NewPIC()
	for _, s := range initPIC(0x01) {
		s(t, pic)
	}
	a := NewLAPIC(clock, LAPICConfig{PIC: pic, VirtualWire: true})
	pit := NewPIT(clock, pic)
	pitProgram(pit, 0, 0x34, 1193) // about 1 ms, mode 2
	equal(t, false, a.Pending(), "Pending before the first tick")
	clock.T = pit.Advance(0)
	pit.Advance(clock.T)
	equal(t, true, a.Pending(), "Pending after the tick")
	equal(t, uint8(0x20), a.Acknowledge(), "vector")
	m, _ := pic.ISR()
	equal(t, uint8(1), m, "8259 ISR")
	equal(t, false, a.Pending(), "Pending after INTA")
}

func BenchmarkLAPICPending(b *testing.B) {
	a := NewLAPIC(&ManualClock{}, LAPICConfig{PIC: NewPIC(), VirtualWire: true})
	lapicWrite(a, lapicSVR, 0x1FF)
	for i := 0; i < b.N; i++ {
		if a.Pending() {
			b.Fatal("pending")
		}
	}
}

func BenchmarkLAPICAdvanceIdle(b *testing.B) {
	a := NewLAPIC(&ManualClock{}, LAPICConfig{})
	for i := 0; i < b.N; i++ {
		a.Advance(time.Duration(i))
	}
}
