package devices

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
	"time"
)

type nullDevice struct{}

func (nullDevice) Read(uint64, []byte)  {}
func (nullDevice) Write(uint64, []byte) {}

func TestBusRefusesOverlaps(t *testing.T) {
	tests := []struct {
		base, size uint64
		wantErr    string
	}{
		{0x3F8, 8, ""},
		{0x3F8, 1, "overlaps a at 0x3f8+0x8"},
		{0x3F0, 9, "overlaps a at 0x3f8+0x8"},
		{0x3FF, 2, "overlaps a at 0x3f8+0x8"},
		{0x3F0, 8, ""},
		{0x400, 1, ""},
		{0x3EF, 2, "overlaps e at 0x3f0+0x8"},
		{0x10, 0, "bad range"},
		{^uint64(0), 2, "bad range"},
	}
	b := NewBus("pio")
	names := "abcdefghi"
	for i, tc := range tests {
		err := b.Register(tc.base, tc.size, names[i:i+1], nullDevice{})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Fatalf("Register(%#x+%#x): %v", tc.base, tc.size, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Fatalf("Register(%#x+%#x) error = %v, want %q", tc.base, tc.size, err, tc.wantErr)
		}
	}
}

func TestNewPC(t *testing.T) {
	disk, _ := newTestDisk(t, false)
	var serial bytes.Buffer
	exitStatus, resets := -1, 0
	clock := &ManualClock{}
	pc, err := NewPC(PCConfig{
		MemSize:   128 << 20,
		Clock:     clock,
		StartTime: rtcStart,
		SerialOut: &serial,
		Disk:      disk,
		Reset:     func() { resets++ },
		Exit:      func(s int) { exitStatus = s },
	})
	if err != nil {
		t.Fatal(err)
	}

	// Unclaimed ports read all ones at every width.
	reads := []struct {
		port uint16
		size int
		want uint32
	}{
		{0x2E, 1, 0xFF}, {0x2E, 2, 0xFFFF}, {0x2E, 4, 0xFFFFFFFF}, {0xCF8, 4, 0xFFFFFFFF},
		{0x3FD, 1, 0x60},        // COM1 LSR
		{0x1F7, 1, 0x50},        // ATA status
		{0x64, 1, 0x18},         // i8042 status
		{0x4D0, 2, 0x0000},      // ELCR
		{0x43, 1, 0xFF},         // PIT control (write-only)
		{0x3F6, 1, 0x50},        // ATA alternate status
		{0x3F7, 1, 0xFF},        // not the disk's
		{0x511, 1, uint32('Q')}, // fw_cfg data, signature selected
	}
	for _, r := range reads {
		equal(t, r.want, pc.In(r.port, r.size), "In(%#x, %d)", r.port, r.size)
	}

	// Serial output.
	for _, c := range []byte("ok\n") {
		pc.Out(0x3F8, 1, uint32(c))
	}
	equal(t, "ok\n", serial.String(), "serial output")

	// Program the PICs and the PIT as a kernel does, then take the tick.
	for _, w := range [][2]uint32{
		{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01},
		{0xA0, 0x11}, {0xA1, 0x28}, {0xA1, 0x02}, {0xA1, 0x01},
		{0x21, 0xFA}, {0xA1, 0xFF}, // IRQ 0 and the cascade unmasked
		{0x43, 0x34}, {0x40, 0xA9}, {0x40, 0x04}, // mode 2, 1193: 1 kHz
	} {
		pc.Out(uint16(w[0]), 1, w[1])
	}
	next := pc.Advance(0)
	equal(t, atTick(1193), next, "first deadline")
	equal(t, false, pc.PIC.Pending(), "no interrupt before the deadline")
	clock.T = next
	pc.Advance(next)
	equal(t, true, pc.PIC.Pending(), "timer interrupt pending")
	equal(t, uint8(0x20), pc.PIC.Acknowledge(), "timer vector")
	pc.Out(0x20, 1, 0x20)

	// The RTC through the PC; its periodic interrupt reaches IRQ 8.
	pc.Out(0x70, 1, 0x0B)
	pc.Out(0x71, 1, 0x42)
	pc.Out(0xA1, 1, 0xFE)
	next = pc.Advance(clock.T)
	equal(t, true, next <= clock.T+time.Millisecond, "RTC or PIT deadline within 1 ms")
	clock.T += 2 * time.Millisecond
	pc.Advance(clock.T)
	equal(t, uint8(0x20), pc.PIC.Acknowledge(), "timer first (priority)")
	pc.Out(0x20, 1, 0x20)
	equal(t, uint8(0x28), pc.PIC.Acknowledge(), "then the RTC")
	pc.Out(0x70, 1, 0x0C)
	equal(t, uint32(0xC0), pc.In(0x71, 1)&0xC0, "RTC register C")

	// Serial input reaches the guest after Poll.
	pc.COM1.Input([]byte("x"))
	pc.Poll()
	equal(t, uint32('x'), pc.In(0x3F8, 1), "serial input")

	// Reset and exit.
	pc.Out(0x64, 1, 0xFE)
	equal(t, 1, resets, "reset through the i8042")
	pc.Out(0xF4, 4, 0x10)
	equal(t, 0x21, exitStatus, "debug-exit status")

	equal(t, uint64(2), pc.Accesses(0x64), "accesses to 0x64 (a read, a write)")
	counts := pc.PortCounts()
	if len(counts) == 0 || counts[0].Count < counts[len(counts)-1].Count {
		t.Fatalf("PortCounts not sorted: %v", counts)
	}
	for _, c := range counts {
		if c.Port == 0x3F8 {
			equal(t, "com1", c.Name, "name of port 0x3f8")
		}
	}
}

func TestNewPCDefaults(t *testing.T) {
	pc, err := NewPC(PCConfig{MemSize: 32 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if pc.ATA != nil {
		t.Fatal("ATA present without a disk")
	}
	equal(t, uint32(0xFF), pc.In(0x1F7, 1), "no disk: ATA ports unclaimed")
	pc.Out(0xF4, 1, 0) // no Exit callback
	pc.Out(0x64, 1, 0xFE)
	pc.Out(0x3F8, 1, 'x') // no serial writer
	if y := pc.RTC.Time().Year(); y < 2024 {
		t.Fatalf("RTC year %d, want the host's", y)
	}
}

// TestPCSurvivesGarbage drives every legacy port with random accesses of
// every width, interleaved with timer advances: nothing may panic.
func TestPCSurvivesGarbage(t *testing.T) {
	disk, _ := newTestDisk(t, false)
	clock := &ManualClock{}
	pc, err := NewPC(PCConfig{MemSize: 64 << 20, Clock: clock, Disk: disk, StartTime: rtcStart})
	if err != nil {
		t.Fatal(err)
	}
	ports := []uint16{0x20, 0x21, 0x40, 0x41, 0x42, 0x43, 0x60, 0x61, 0x64, 0x70, 0x71, 0x80, 0x92,
		0xA0, 0xA1, 0xF4, 0x1F0, 0x1F1, 0x1F2, 0x1F3, 0x1F4, 0x1F5, 0x1F6, 0x1F7, 0x3F6,
		0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0x4D0, 0x4D1, 0x510, 0x511}
	rng := rand.New(rand.NewSource(1))
	sizes := []int{1, 2, 4}
	for i := 0; i < 200000; i++ {
		port := ports[rng.Intn(len(ports))]
		size := sizes[rng.Intn(3)]
		if rng.Intn(2) == 0 {
			pc.In(port, size)
		} else {
			pc.Out(port, size, rng.Uint32())
		}
		if i%64 == 0 {
			clock.T += time.Duration(rng.Intn(2000)) * time.Microsecond
			pc.Advance(clock.T)
			pc.COM1.Input([]byte{byte(i)})
			pc.Poll()
			if pc.PIC.Pending() {
				pc.PIC.Acknowledge()
			}
		}
	}
}

func BenchmarkPICPending(b *testing.B) {
	p := NewPIC()
	for i := 0; i < b.N; i++ {
		if p.Pending() {
			b.Fatal("pending")
		}
	}
}

func BenchmarkPCOutSerial(b *testing.B) {
	pc, err := NewPC(PCConfig{MemSize: 32 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pc.Out(0x3F8, 1, 'x')
		pc.In(0x3FD, 1)
	}
}

func BenchmarkUARTPollIdle(b *testing.B) {
	u := NewUART(nil, nil, 4)
	for i := 0; i < b.N; i++ {
		u.Poll()
	}
}

func BenchmarkPCAdvanceIdle(b *testing.B) {
	clock := &ManualClock{}
	pc, err := NewPC(PCConfig{MemSize: 32 << 20, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	pc.Out(0x43, 1, 0x34) // PIT mode 2 at 1 kHz
	pc.Out(0x40, 1, 0xA9)
	pc.Out(0x40, 1, 0x04)
	pc.Out(0x70, 1, 0x0B) // RTC update interrupts
	pc.Out(0x71, 1, 0x12)
	for i := 0; i < b.N; i++ {
		pc.Advance(1000)
	}
}
