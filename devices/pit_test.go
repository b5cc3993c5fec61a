package devices

import (
	"testing"
	"time"
)

// atTick returns the clock time at which PIT input clock n begins.
func atTick(n uint64) time.Duration { return timeOfTick(n, PITFrequency) }

// pitReadCount latches channel ch and reads its count (LSB then MSB).
func pitReadCount(p *PIT, ch uint64) uint16 {
	out8(p, 3, byte(ch<<6)) // counter latch command
	lo := in8(p, ch)
	hi := in8(p, ch)
	return uint16(hi)<<8 | uint16(lo)
}

func pitProgram(p *PIT, ch uint64, control byte, count uint16) {
	out8(p, 3, control)
	out8(p, ch, byte(count))
	out8(p, ch, byte(count>>8))
}

func TestPITCounting(t *testing.T) {
	tests := []struct {
		name    string
		control byte // for channel 0
		count   uint16
		ticks   []uint64 // input clocks since the count was written
		want    []uint16 // counts read at those times
		wantOut []bool   // OUT at those times
	}{
		{"mode 0 counts down then wraps", 0x30, 100,
			[]uint64{0, 1, 99, 100, 101}, []uint16{100, 99, 1, 0, 0xFFFF}, []bool{false, false, false, true, true}},
		{"mode 0 with count 0 is 65536", 0x30, 0,
			[]uint64{0, 1, 65535, 65536}, []uint16{0, 0xFFFF, 1, 0}, []bool{false, false, false, true}},
		{"mode 2 rate generator", 0x34, 1000,
			[]uint64{0, 250, 998, 999, 1000, 1250}, []uint16{1000, 750, 2, 1, 1000, 750}, []bool{true, true, true, false, true, true}},
		{"mode 3 square wave, even", 0x36, 4,
			[]uint64{0, 1, 2, 3, 4}, []uint16{4, 2, 4, 2, 4}, []bool{true, true, false, false, true}},
		{"mode 3 square wave, odd: high one clock longer", 0x36, 5,
			[]uint64{0, 2, 3, 4, 5}, []uint16{5, 1, 5, 3, 5}, []bool{true, true, false, false, true}},
		{"mode 4 strobe", 0x38, 10,
			[]uint64{0, 9, 10, 11}, []uint16{10, 1, 0, 0xFFFF}, []bool{true, true, false, true}},
		{"BCD mode 0", 0x31, 0x1000,
			[]uint64{0, 1, 1000, 1001}, []uint16{0x1000, 0x0999, 0x0000, 0x9999}, []bool{false, false, true, true}},
		{"mode 6 is mode 2", 0x3C, 10,
			[]uint64{0, 9, 10}, []uint16{10, 1, 10}, []bool{true, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &ManualClock{}
			p := NewPIT(clock, nil)
			pitProgram(p, 0, tc.control, tc.count)
			for i, tick := range tc.ticks {
				clock.T = atTick(tick)
				equal(t, tc.want[i], pitReadCount(p, 0), "count at tick %d", tick)
				equal(t, tc.wantOut[i], p.Output(0), "OUT at tick %d", tick)
			}
		})
	}
}

func TestPITAccessModes(t *testing.T) {
	clock := &ManualClock{T: atTick(5000)}
	p := NewPIT(clock, nil)
	// LSB only: the count is 0x0040; reads give the LSB.
	out8(p, 3, 0x10|0x04) // ch0, LSB, mode 2
	out8(p, 0, 0x40)
	equal(t, byte(0x40), in8(p, 0), "LSB-only read")
	// MSB only: the count is 0x1200.
	out8(p, 3, 0x20|0x04)
	out8(p, 0, 0x12)
	equal(t, byte(0x12), in8(p, 0), "MSB-only read")
	// Unlatched word reads alternate LSB, MSB.
	pitProgram(p, 0, 0x34, 0x1234)
	equal(t, [2]byte{0x34, 0x12}, [2]byte{in8(p, 0), in8(p, 0)}, "live LSB/MSB")
	// A latch holds its value while the counter moves on; a second latch
	// command before the read is ignored.
	out8(p, 3, 0x00)
	clock.T += atTick(3) - atTick(0) + 1
	out8(p, 3, 0x00)
	equal(t, [2]byte{0x34, 0x12}, [2]byte{in8(p, 0), in8(p, 0)}, "latched count")
	equal(t, uint16(0x1234-3), pitReadCount(p, 0), "after the latch")
	// Port 0x43 is write-only.
	equal(t, byte(0xFF), in8(p, 3), "control port read")
}

func TestPITReadBack(t *testing.T) {
	clock := &ManualClock{}
	p := NewPIT(clock, nil)
	pitProgram(p, 0, 0x34, 1000)
	pitProgram(p, 2, 0xB0, 500) // gate low: not counting
	clock.T = atTick(100)
	// Latch status and count of channels 0 and 2.
	out8(p, 3, 0xC0|0x08|0x02)
	equal(t, byte(0x80|0x34), in8(p, 0), "channel 0 status: OUT high, mode 2, LSB/MSB")
	equal(t, [2]byte{byte(900 & 0xFF), byte(900 >> 8)}, [2]byte{in8(p, 0), in8(p, 0)}, "channel 0 count")
	equal(t, byte(0x30), in8(p, 2), "channel 2 status: OUT low, mode 0")
	equal(t, [2]byte{0xF4, 0x01}, [2]byte{in8(p, 2), in8(p, 2)}, "channel 2 count (gate low)")
	// Status only; the null-count bit is set until a count is written.
	out8(p, 3, 0x72) // ch1, LSB/MSB, mode 1
	out8(p, 3, 0xE0|0x04)
	equal(t, byte(0x80|0x40|0x32), in8(p, 1), "channel 1 status after a control word")
}

func TestPITChannel0Interrupts(t *testing.T) {
	clock := &ManualClock{}
	irq := &irqRecorder{}
	p := NewPIT(clock, irq)
	equal(t, NoDeadline, p.Advance(0), "unprogrammed deadline")

	pitProgram(p, 0, 0x34, 1193) // mode 2, about 1 kHz
	period := atTick(1193)
	next := p.Advance(0)
	equal(t, period, next, "first deadline")
	equal(t, 0, irq.risingEdges(0), "edges before the deadline")

	next = p.Advance(next)
	equal(t, 1, irq.risingEdges(0), "edges at the first deadline")
	equal(t, []irqEvent{{0, true}, {0, false}}, irq.events, "an edge is a raise then a lower")
	equal(t, atTick(2*1193), next, "second deadline")

	// Far behind: one edge, then the next period boundary after now.
	now := atTick(1193*50 + 7)
	next = p.Advance(now)
	equal(t, 2, irq.risingEdges(0), "edges after falling behind")
	equal(t, atTick(1193*51), next, "deadline after falling behind")
	equal(t, atTick(1193*51), p.Advance(now+1), "no edge before the deadline")
	equal(t, 2, irq.risingEdges(0), "edges before the new deadline")

	// Mode 0: one edge at terminal count, then nothing.
	clock.T = atTick(100000)
	pitProgram(p, 0, 0x30, 100)
	next = p.Advance(clock.T)
	equal(t, atTick(100100), next, "one-shot deadline")
	equal(t, NoDeadline, p.Advance(next), "after the one-shot")
	equal(t, 3, irq.risingEdges(0), "one-shot edges")
	equal(t, NoDeadline, p.Advance(next+time.Second), "still nothing")
	equal(t, 3, irq.risingEdges(0), "one-shot edges later")

	// A tiny period is capped to MinTimerPeriod.
	pitProgram(p, 0, 0x34, 2)
	now = clock.T + time.Millisecond
	next = p.Advance(now)
	equal(t, now+MinTimerPeriod, next, "capped deadline")
}

// TestPortBCalibration follows Linux's pit_calibrate_tsc: gate channel 2 on
// through port 0x61, mode 0, then poll bit 5 for the terminal count.
func TestPortBCalibration(t *testing.T) {
	clock := &ManualClock{}
	p := NewPIT(clock, nil)
	b := NewPortB(p)
	out8(b, 0, (in8(b, 0)&^0x02)|0x01)
	pitProgram(p, 2, 0xB0, 11932) // 10 ms
	equal(t, byte(0), in8(b, 0)&0x20, "OUT2 before terminal count")
	clock.T = atTick(11931)
	equal(t, byte(0), in8(b, 0)&0x20, "OUT2 one clock early")
	clock.T = atTick(11932)
	equal(t, byte(0x20), in8(b, 0)&0x20, "OUT2 at terminal count")
	equal(t, byte(0x01), in8(b, 0)&0x0F, "written bits read back")

	r1, r2 := in8(b, 0)&0x10, in8(b, 0)&0x10
	if r1 == r2 {
		t.Fatalf("refresh bit did not toggle: %#x %#x", r1, r2)
	}

	// Gate low pauses mode 0; gate high resumes.
	pitProgram(p, 2, 0xB0, 1000)
	clock.T += atTick(100) - atTick(0)
	start := pitReadCount(p, 2)
	out8(b, 0, 0x00)
	clock.T += 50 * time.Microsecond
	equal(t, start, pitReadCount(p, 2), "count while the gate is low")
	out8(b, 0, 0x01)
	clock.T += atTick(10) - atTick(0) + 1
	if got := pitReadCount(p, 2); got >= start || start-got > 11 {
		t.Fatalf("count after the gate rose: %d, was %d", got, start)
	}
	out8(b, 0, 0x03)
	equal(t, true, b.SpeakerOn(), "speaker on")
}

func TestPITOddProgramming(t *testing.T) {
	clock := &ManualClock{}
	p := NewPIT(clock, &irqRecorder{})
	// Reads of unprogrammed counters, half-written counts, modes 1 and 5
	// without a gate edge, wide accesses: nothing panics, reads are stable.
	for _, v := range []byte{0x00, 0x40, 0x80, 0xC0, 0xFF, 0x3E, 0x32, 0x3A, 0x12, 0x22} {
		out8(p, 3, v)
		out8(p, 0, 0x01)
		in8(p, 0)
		in8(p, 1)
		in8(p, 2)
		clock.T += time.Millisecond
		p.Advance(clock.T)
	}
	p.Write(0, []byte{1, 2, 3, 4, 5, 6})
	b := make([]byte, 8)
	p.Read(2, b)
	p.SetGate(7, true)
	equal(t, false, p.Output(-1), "Output of a channel that does not exist")
	// Mode 1 on channel 2 counts from the gate's rising edge.
	pitProgram(p, 2, 0xB2, 10)
	equal(t, true, p.Output(2), "mode 1 OUT before the trigger")
	p.SetGate(2, true)
	equal(t, false, p.Output(2), "mode 1 OUT after the trigger")
	clock.T += atTick(10) - atTick(0) + 1
	equal(t, true, p.Output(2), "mode 1 OUT at terminal count")
}

func TestTickConversions(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 1193, 1193182, 1 << 40} {
		d := timeOfTick(n, PITFrequency)
		equal(t, n, ticksAt(d, PITFrequency), "ticksAt(timeOfTick(%d))", n)
		if d > 0 {
			equal(t, n-1, ticksAt(d-1, PITFrequency), "ticksAt(timeOfTick(%d)-1)", n)
		}
	}
	equal(t, uint64(PITFrequency)*86400*365, ticksAt(365*24*time.Hour, PITFrequency), "a year of ticks")
	equal(t, NoDeadline, timeOfTick(1<<63, PITFrequency), "saturation")
}
