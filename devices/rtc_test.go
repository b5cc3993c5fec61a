package devices

import (
	"testing"
	"time"
)

func rtcRead(r *RTC, reg byte) byte {
	out8(r, 0, reg)
	return in8(r, 1)
}

func rtcWrite(r *RTC, reg, v byte) {
	out8(r, 0, reg)
	out8(r, 1, v)
}

// 2024-03-05 is a Tuesday: day of week 3.
var rtcStart = time.Date(2024, 3, 5, 13, 45, 30, 0, time.UTC)

func TestRTCTimeFormats(t *testing.T) {
	tests := []struct {
		name string
		regB byte
		want [10]byte // registers 0x00–0x09 (alarms not checked)
		cent byte
	}{
		{"BCD 24h", 0x02, [10]byte{0x30, 0, 0x45, 0, 0x13, 0, 3, 0x05, 0x03, 0x24}, 0x20},
		{"binary 24h", 0x06, [10]byte{30, 0, 45, 0, 13, 0, 3, 5, 3, 24}, 20},
		{"BCD 12h", 0x00, [10]byte{0x30, 0, 0x45, 0, 0x81, 0, 3, 0x05, 0x03, 0x24}, 0x20},
		{"binary 12h", 0x04, [10]byte{30, 0, 45, 0, 0x81, 0, 3, 5, 3, 24}, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRTC(&ManualClock{}, nil, rtcStart, 64<<20)
			rtcWrite(r, rtcRegB, tc.regB)
			var got [10]byte
			for i := range got {
				if i == 1 || i == 3 || i == 5 {
					continue
				}
				got[i] = rtcRead(r, byte(i))
			}
			equal(t, tc.want, got, "time registers")
			equal(t, tc.cent, rtcRead(r, rtcCentury), "century")
		})
	}
}

func TestRTC12HourEdges(t *testing.T) {
	tests := []struct {
		hour int
		want byte
	}{{0, 0x12}, {1, 0x01}, {11, 0x11}, {12, 0x92}, {13, 0x81}, {23, 0x91}}
	for _, tc := range tests {
		start := time.Date(2024, 1, 1, tc.hour, 0, 0, 0, time.UTC)
		r := NewRTC(&ManualClock{}, nil, start, 0)
		rtcWrite(r, rtcRegB, 0x00)
		equal(t, tc.want, rtcRead(r, rtcHours), "hour %d in 12h BCD", tc.hour)
	}
}

func TestRTCAdvancesAndSet(t *testing.T) {
	clock := &ManualClock{}
	r := NewRTC(clock, nil, rtcStart, 0)
	clock.T = 2*time.Second + 100*time.Millisecond
	equal(t, byte(0x32), rtcRead(r, rtcSeconds), "seconds after 2.1 s")

	// SET freezes the registers; the written time runs from SET's release.
	rtcWrite(r, rtcRegB, 0x82)
	rtcWrite(r, rtcSeconds, 0x58)
	rtcWrite(r, rtcMinutes, 0x59)
	rtcWrite(r, rtcHours, 0x23)
	rtcWrite(r, rtcDayOfMonth, 0x31)
	rtcWrite(r, rtcMonth, 0x12)
	rtcWrite(r, rtcYear, 0x99)
	rtcWrite(r, rtcCentury, 0x19)
	clock.T += 5 * time.Second
	equal(t, byte(0x58), rtcRead(r, rtcSeconds), "seconds while SET")
	rtcWrite(r, rtcRegB, 0x02)
	equal(t, time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC), r.Time(), "time after SET")
	clock.T += 2 * time.Second
	equal(t, [4]byte{0x00, 0x00, 0x01, 0x00}, [4]byte{rtcRead(r, rtcSeconds), rtcRead(r, rtcHours), rtcRead(r, rtcDayOfMonth), rtcRead(r, rtcYear)},
		"rolled over to 2000")
	equal(t, byte(0x20), rtcRead(r, rtcCentury), "century after the rollover")

	// A write without SET changes just that field.
	rtcWrite(r, rtcMinutes, 0x30)
	equal(t, time.Date(2000, 1, 1, 0, 30, 0, 0, time.UTC), r.Time(), "after writing minutes")
}

func TestRTCUpdateInProgress(t *testing.T) {
	clock := &ManualClock{}
	r := NewRTC(clock, nil, rtcStart, 0)
	tests := []struct {
		at   time.Duration
		want byte
	}{
		{0, 0},
		{500 * time.Millisecond, 0},
		{time.Second - 245*time.Microsecond, 0},
		{time.Second - 244*time.Microsecond, rtcAUIP},
		{time.Second - time.Microsecond, rtcAUIP},
		{time.Second, 0},
	}
	for _, tc := range tests {
		clock.T = tc.at
		equal(t, tc.want|0x26, rtcRead(r, rtcRegA), "register A at %v", tc.at)
	}
	equal(t, byte(rtcDVRT), rtcRead(r, rtcRegD), "register D")
}

func TestRTCInterrupts(t *testing.T) {
	tests := []struct {
		name     string
		regA     byte
		regB     byte
		alarm    [3]byte // seconds, minutes, hours alarm (BCD)
		at       time.Duration
		wantNext time.Duration // deadline returned by Advance(0)
		wantC    byte
	}{
		{"periodic 1024 Hz", 0x26, 0x42, [3]byte{}, 976563 * time.Nanosecond, 976563 * time.Nanosecond, 0xC0},
		{"periodic 2 Hz", 0x2F, 0x42, [3]byte{}, 500 * time.Millisecond, 500 * time.Millisecond, 0xC0},
		{"update-ended (PF set too: it needs no enable)", 0x26, 0x12, [3]byte{}, time.Second, time.Second, 0xD0},
		{"alarm in 2 s", 0x20, 0x22, [3]byte{0x32, 0x45, 0x13}, 2 * time.Second, time.Second, 0xB0},
		{"alarm don't-care", 0x20, 0x22, [3]byte{0xC0, 0xC0, 0xC0}, time.Second, time.Second, 0xB0},
		{"flags without enables: no IRQF", 0x26, 0x02, [3]byte{}, time.Second, NoDeadline, 0x50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &ManualClock{}
			irq := &irqRecorder{}
			r := NewRTC(clock, irq, rtcStart, 0)
			rtcWrite(r, rtcSecondsAlarm, tc.alarm[0])
			rtcWrite(r, rtcMinutesAlarm, tc.alarm[1])
			rtcWrite(r, rtcHoursAlarm, tc.alarm[2])
			rtcWrite(r, rtcRegA, tc.regA)
			rtcWrite(r, rtcRegB, tc.regB)
			equal(t, tc.wantNext, r.Advance(0), "first deadline")
			for now := time.Duration(0); now < tc.at; now += tc.at / 4 {
				r.Advance(now)
			}
			r.Advance(tc.at)
			wantIRQ := tc.wantC&rtcCIRQF != 0
			equal(t, wantIRQ, irq.level[8], "IRQ 8 level before reading C")
			if wantIRQ {
				equal(t, NoDeadline, r.Advance(tc.at), "no deadline while IRQF is set")
			}
			clock.T = tc.at
			equal(t, tc.wantC, rtcRead(r, rtcRegC), "register C")
			equal(t, false, irq.level[8], "IRQ 8 after reading C")
			equal(t, byte(0), rtcRead(r, rtcRegC), "register C read twice")
		})
	}
}

func TestRTCPeriodicEdges(t *testing.T) {
	clock := &ManualClock{}
	irq := &irqRecorder{}
	r := NewRTC(clock, irq, rtcStart, 0)
	rtcWrite(r, rtcRegB, 0x42)
	// The guest acknowledges each interrupt by reading C: one edge per period.
	now := time.Duration(0)
	for i := 0; i < 10; i++ {
		now = r.Advance(now)
		clock.T = now
		rtcRead(r, rtcRegC)
	}
	equal(t, 10, irq.risingEdges(8), "edges in ten periods")
	equal(t, timeOfTick(320, rtcOscHz), now, "tenth period")
}

func TestCMOSMemory(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		mem      uint64
		ext      uint16 // 0x17/0x18 and 0x30/0x31
		ext16    uint16 // 0x34/0x35
		above4G  uint32 // 0x5B–0x5D
		checksum uint16
	}{
		{"1 MiB", 1 * mib, 0, 0, 0, 0},
		{"16 MiB", 16 * mib, 15 * 1024, 0, 0, 0},
		{"128 MiB", 128 * mib, 0xFFFF, 112 * 16, 0, 0},
		{"8 GiB", 8192 * mib, 0xFFFF, (3584 - 16) * 16, (8192 - 3584) * 16, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRTC(&ManualClock{}, nil, rtcStart, tc.mem)
			r.SetCPUs(4)
			word := func(lo byte) uint16 { return uint16(rtcRead(r, lo)) | uint16(rtcRead(r, lo+1))<<8 }
			equal(t, uint16(640), word(0x15), "base memory")
			equal(t, tc.ext, word(0x17), "extended memory")
			equal(t, tc.ext, word(0x30), "extended memory (copy)")
			equal(t, tc.ext16, word(0x34), "memory above 16 MiB")
			equal(t, tc.above4G, uint32(word(0x5B))|uint32(rtcRead(r, 0x5D))<<16, "memory above 4 GiB")
			equal(t, byte(3), rtcRead(r, 0x5F), "CPUs minus one")
			equal(t, byte(0), rtcRead(r, 0x10), "no floppy")
			var sum uint16
			for i := byte(0x10); i < 0x2E; i++ {
				sum += uint16(rtcRead(r, i))
			}
			equal(t, sum, word(0x2E)>>8|word(0x2E)<<8, "checksum (big-endian)")
		})
	}
}

func TestRTCOddAccesses(t *testing.T) {
	clock := &ManualClock{}
	r := NewRTC(clock, &irqRecorder{}, rtcStart, 0)
	// NMI-disable bit on the index is ignored.
	out8(r, 0, 0x80|rtcRegB)
	equal(t, byte(0x02), in8(r, 1), "register B through an NMI-masked index")
	equal(t, byte(0xFF), in8(r, 0), "index port read")
	// Garbage in every register, including read-only ones, wide accesses.
	for i := 0; i < 128; i++ {
		rtcWrite(r, byte(i), 0xFF)
		rtcRead(r, byte(i))
		clock.T += 3 * time.Millisecond
		r.Advance(clock.T)
	}
	r.Write(0, []byte{0x0C, 0, 0, 0})
	r.Read(1, make([]byte, 4))
	r.Time()
	// A CMOS byte outside the clock keeps what was written.
	rtcWrite(r, 0x40, 0x5A)
	equal(t, byte(0x5A), rtcRead(r, 0x40), "CMOS RAM byte")
}
