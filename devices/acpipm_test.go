package devices

import (
	"math/big"
	"math/rand"
	"testing"
	"time"
)

func in32(d Device, off uint64) uint32 {
	b := make([]byte, 4)
	d.Read(off, b)
	return uint32(littleEndian(b))
}

// pmTimerAt is the expected PM_TMR at t, computed with big integers:
// floor(t × 3579545 Hz) mod 2^24.
func pmTimerAt(t time.Duration) uint32 {
	v := new(big.Int).Mul(big.NewInt(int64(t)), big.NewInt(3579545))
	v.Quo(v, big.NewInt(int64(time.Second)))
	return uint32(new(big.Int).Mod(v, big.NewInt(1<<24)).Uint64())
}

func newTestACPIPM() (*ACPIPM, *ManualClock, *irqRecorder, *int) {
	clock, irq, offs := &ManualClock{}, &irqRecorder{}, new(int)
	return NewACPIPM(clock, irq, func() { *offs++ }), clock, irq, offs
}

func TestACPIPMTimer(t *testing.T) {
	p, clock, _, _ := newTestACPIPM()
	times := []time.Duration{
		0, 1, 279, 280, time.Microsecond, time.Millisecond, time.Second,
		4687500 * time.Microsecond, // just past 2^24 ticks: wrapped
		10 * time.Second, time.Hour, 1000*time.Hour + 123456789,
	}
	for _, at := range times {
		clock.T = at
		want := pmTimerAt(at)
		equal(t, want, in32(p, 8), "4-byte PM_TMR at %v", at)
		equal(t, want, p.Timer(), "Timer() at %v", at)
		equal(t, uint16(want), in16(p, 8), "low word at %v", at)
		equal(t, uint16(want>>16), in16(p, 10), "high word at %v", at)
		for i := range 4 {
			equal(t, byte(want>>(8*i)), in8(p, uint64(8+i)), "byte %d at %v", i, at)
		}
		equal(t, uint32(0), want>>24, "24 bits at %v", at)
	}
	// Known values: 1 s is 3579545 ticks; 10 s is 35795450 mod 2^24.
	clock.T = time.Second
	equal(t, uint32(3579545), in32(p, 8), "PM_TMR at 1 s")
	clock.T = 10 * time.Second
	equal(t, uint32(35795450-2<<24), in32(p, 8), "PM_TMR at 10 s")
	// Writes are ignored.
	p.Write(8, []byte{0, 0, 0, 0})
	equal(t, uint32(35795450-2<<24), in32(p, 8), "PM_TMR after a write")
	// Bytes past the block read as unclaimed ports.
	equal(t, uint32(0xFF000000|(35795450-2<<24)>>8), in32(p, 9), "4-byte read at 0x609")
}

func TestACPIPMTimerStatusAndSCI(t *testing.T) {
	p, clock, irq, _ := newTestACPIPM()
	flip := timeOfTick(1<<23, ACPIPMTimerHz) // bit 23 first toggles, ≈2.34 s
	equal(t, NoDeadline, p.Advance(0), "no deadline without TMR_EN")

	out16(p, 2, pm1TmrEn)
	equal(t, uint16(pm1TmrEn), in16(p, 2), "PM1_EN")
	equal(t, flip, p.Advance(0), "deadline: bit 23 toggles")
	clock.T = flip - 1
	equal(t, flip, p.Advance(clock.T), "deadline before the toggle")
	equal(t, uint16(0), in16(p, 0), "PM1_STS before the toggle")
	equal(t, 0, len(irq.events), "no SCI before the toggle")

	clock.T = flip
	equal(t, NoDeadline, p.Advance(clock.T), "no deadline while TMR_STS is set")
	equal(t, true, irq.level[ACPISCIIRQ], "SCI raised at the toggle")
	equal(t, true, p.SCI(), "SCI()")
	equal(t, uint16(pm1TmrSts), in16(p, 0), "TMR_STS")

	// Write 1 to clear: SCI drops; the next deadline is the next toggle.
	out16(p, 0, pm1TmrSts)
	equal(t, uint16(0), in16(p, 0), "TMR_STS cleared")
	equal(t, false, irq.level[ACPISCIIRQ], "SCI lowered")
	flip2 := timeOfTick(2<<23, ACPIPMTimerHz)
	equal(t, flip2, p.Advance(clock.T), "next deadline")
	equal(t, []irqEvent{{9, true}, {9, false}}, irq.events, "SCI events")

	// Without TMR_EN the status is set on the toggle but SCI stays low;
	// enabling it afterwards raises SCI at once.
	out16(p, 2, 0)
	equal(t, NoDeadline, p.Advance(clock.T), "no deadline without TMR_EN")
	clock.T = flip2 + time.Millisecond
	equal(t, uint16(pm1TmrSts), in16(p, 0), "TMR_STS found by reading PM1_STS")
	equal(t, false, irq.level[ACPISCIIRQ], "no SCI while disabled")
	out8(p, 2, pm1TmrEn)
	equal(t, true, irq.level[ACPISCIIRQ], "SCI on enable")
	out8(p, 0, pm1TmrSts)
	equal(t, false, irq.level[ACPISCIIRQ], "SCI cleared by a byte write")

	// A guest that fell far behind gets one status bit and one deadline
	// past now.
	clock.T = time.Hour
	p.Advance(clock.T)
	equal(t, true, irq.level[ACPISCIIRQ], "SCI after a long gap")
	out16(p, 0, 0xFFFF)
	next := p.Advance(clock.T)
	if next <= clock.T || next > clock.T+flip {
		t.Fatalf("deadline %v after a long gap at %v", next, clock.T)
	}
	equal(t, uint32(1), (pmTimerAt(next)^pmTimerAt(next-1))>>23&1, "bit 23 toggles at the deadline")
}

func TestACPIPMStatusWriteOneToClear(t *testing.T) {
	p, _, irq, _ := newTestACPIPM()
	p.PowerButton()
	equal(t, uint16(pm1PwrBtnSts), in16(p, 0), "PWRBTN_STS")
	equal(t, false, irq.level[ACPISCIIRQ], "no SCI without PWRBTN_EN")
	out16(p, 2, pm1PwrBtnEn|0xFEFE) // undefined enables are dropped
	equal(t, uint16(pm1PwrBtnEn|pm1GblEn|pm1RTCEn), in16(p, 2), "PM1_EN keeps the defined bits (GBL_EN and RTC_EN stick: Linux checks they do)")
	equal(t, true, irq.level[ACPISCIIRQ], "SCI on PWRBTN_EN")

	out16(p, 0, 0)
	equal(t, uint16(pm1PwrBtnSts), in16(p, 0), "writing 0 clears nothing")
	out16(p, 0, pm1TmrSts|pm1WakSts)
	equal(t, uint16(pm1PwrBtnSts), in16(p, 0), "writing other bits clears nothing")
	out8(p, 0, 0xFF)
	equal(t, uint16(pm1PwrBtnSts), in16(p, 0), "low byte does not hold PWRBTN_STS")
	out8(p, 1, 0x01)
	equal(t, uint16(0), in16(p, 0), "PWRBTN_STS cleared by a byte write")
	equal(t, false, irq.level[ACPISCIIRQ], "SCI lowered")

	// WAK_STS, set by an unsupported sleep, clears the same way.
	out16(p, 4, 1<<10|pm1SlpEn)
	equal(t, uint16(pm1WakSts), in16(p, 0), "WAK_STS")
	equal(t, false, irq.level[ACPISCIIRQ], "WAK_STS has no enable")
	out16(p, 0, pm1WakSts)
	equal(t, uint16(0), in16(p, 0), "WAK_STS cleared")
}

func TestACPIPMSleep(t *testing.T) {
	tests := []struct {
		name  string
		off   uint64
		data  []byte
		offs  int
		cnt   uint16 // PM1_CNT read back
		wakes bool
	}{
		{"S5 (SLP_TYP 0)", 4, []byte{0x00, 0x20}, 1, 0x0001, false},
		{"S5 (SLP_TYP 0), byte write", 5, []byte{0x20}, 1, 0x0001, false},
		{"S5 (SLP_TYP 0), with SCI_EN", 4, []byte{0x01, 0x20}, 1, 0x0001, false},
		{"S5 (SLP_TYP 5)", 4, []byte{0x00, 0x34}, 1, 0x1401, false},
		{"S5, dword write", 4, []byte{0x00, 0x20, 0xFF, 0xFF}, 1, 0x0001, false},
		{"SLP_TYP 0 without SLP_EN", 4, []byte{0x00, 0x00}, 0, 0x0001, false},
		{"SLP_TYP 5 without SLP_EN", 4, []byte{0x00, 0x14}, 0, 0x1401, false},
		{"SLP_EN, SLP_TYP 1", 4, []byte{0x00, 0x24}, 0, 0x0401, true},
		{"SLP_EN, SLP_TYP 2", 4, []byte{0x00, 0x28}, 0, 0x0801, true},
		{"SLP_EN, SLP_TYP 3", 5, []byte{0x2C}, 0, 0x0C01, true},
		{"SLP_EN, SLP_TYP 7", 4, []byte{0xFF, 0xFF}, 0, 0x1C01, true},
		{"low byte only", 4, []byte{0xFF}, 0, 0x0001, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, _, offs := newTestACPIPM()
			equal(t, uint16(pm1SCIEn), in16(p, 4), "PM1_CNT at reset: SCI_EN")
			p.Write(tc.off, tc.data)
			equal(t, tc.offs, *offs, "PowerOff calls")
			equal(t, tc.cnt, in16(p, 4), "PM1_CNT (SCI_EN 1, SLP_EN 0)")
			equal(t, tc.wakes, in16(p, 0)&pm1WakSts != 0, "WAK_STS")
		})
	}
	// SLP_TYP written first, then SLP_EN with it, as ACPICA does.
	p, _, _, offs := newTestACPIPM()
	out16(p, 4, 5<<10)
	equal(t, 0, *offs, "SLP_TYP alone")
	out16(p, 4, 5<<10|pm1SlpEn)
	equal(t, 1, *offs, "then SLP_EN")
	// A nil PowerOff is allowed.
	q := NewACPIPM(&ManualClock{}, nil, nil)
	out16(q, 4, pm1SlpEn)
	q.PowerButton()
}

func TestACPIPMRegisters(t *testing.T) {
	p, _, _, _ := newTestACPIPM()
	equal(t, uint8(1), in8(p, 4), "SCI_EN reads 1")
	out16(p, 4, 0) // cannot be cleared: no SMI_CMD, always ACPI mode
	equal(t, uint8(1), in8(p, 4), "SCI_EN after writing 0")
	out16(p, 6, 0xFFFF)
	equal(t, uint16(0), in16(p, 6), "reserved 0x606")
	equal(t, uint32(pm1SCIEn), in32(p, 4), "PM1_CNT and the reserved word in a dword read")
	out16(p, 2, 0x0101)
	equal(t, uint32(0x0101)<<16, in32(p, 0), "PM1_STS and PM1_EN in one dword")
	b := make([]byte, 2)
	p.Read(11, b)
	equal(t, byte(0xFF), b[1], "past the block")
	p.Read(100, b)
	equal(t, []byte{0xFF, 0xFF}, b, "far past the block")
}

func TestACPIPMSurvivesGarbage(t *testing.T) {
	clock := &ManualClock{}
	p := NewACPIPM(clock, &irqRecorder{}, func() {})
	rng := rand.New(rand.NewSource(4))
	for i := range 100000 {
		off := uint64(rng.Intn(16))
		if i%1000 == 0 {
			off = rng.Uint64()
		}
		data := make([]byte, rng.Intn(9))
		rng.Read(data)
		if rng.Intn(2) == 0 {
			p.Read(off, data)
		} else {
			p.Write(off, data)
		}
		if i%16 == 0 {
			clock.T += time.Duration(rng.Intn(100)) * time.Millisecond
			if d := p.Advance(clock.T); d <= clock.T {
				t.Fatalf("deadline %v not after now %v", d, clock.T)
			}
		}
	}
	p.Advance(NoDeadline - 1)
	p.Read(8, make([]byte, 4))
}

func TestPCACPIPM(t *testing.T) {
	clock, irq, offs := &ManualClock{}, &irqRecorder{}, 0
	pc, err := NewPC(PCConfig{MemSize: 64 << 20, Clock: clock, StartTime: rtcStart, IRQ: irq,
		PowerOff: func() { offs++ }})
	if err != nil {
		t.Fatal(err)
	}
	for port := uint16(ACPIPMBase); port < ACPIPMBase+ACPIPMSize; port++ {
		equal(t, "acpi-pm", pc.PIO.Name(uint64(port)), "name of port %#x", port)
	}
	equal(t, "", pc.PIO.Name(ACPIPMBase-1), "below the block")
	equal(t, "", pc.PIO.Name(ACPIPMBase+ACPIPMSize), "above the block")

	equal(t, uint32(1), pc.In(ACPIPM1aCnt, 2), "SCI_EN")
	clock.T = 3 * time.Second
	equal(t, pmTimerAt(clock.T), pc.In(ACPIPMTimer, 4), "PM_TMR")

	// The timer's deadline joins the PC's.
	pc.Out(ACPIPM1aEvt, 2, 0xFFFF) // clear the toggle at 2.34 s
	pc.Out(ACPIPM1aEvt+2, 2, pm1TmrEn)
	flip := timeOfTick(2<<23, ACPIPMTimerHz)
	equal(t, flip, pc.Advance(clock.T), "PC deadline is the PM timer's")
	clock.T = flip
	pc.Advance(clock.T)
	equal(t, true, irq.level[ACPISCIIRQ], "SCI on IRQ 9")
	equal(t, uint32(pm1TmrSts), pc.In(ACPIPM1aEvt, 2), "TMR_STS")
	pc.Out(ACPIPM1aEvt, 2, pm1TmrSts)
	equal(t, false, irq.level[ACPISCIIRQ], "SCI cleared")

	pc.Out(ACPIPM1aCnt, 2, pm1SlpEn) // SLP_TYP 0: S5
	equal(t, 1, offs, "PowerOff")
}
