package devices

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestI8042(t *testing.T) {
	type step struct {
		port  uint64 // 0: data (0x60), 4: command (0x64)
		write bool
		value byte // written, or expected on read
	}
	w := func(port uint64, v byte) step { return step{port, true, v} }
	r := func(port uint64, v byte) step { return step{port, false, v} }
	tests := []struct {
		name      string
		steps     []step
		wantReset int
		wantA20   bool
	}{
		{"status with no data", []step{r(4, 0x18)}, 0, true},
		{"self-test answers 0x55 and sets the system flag", []step{w(4, 0xAA), r(4, 0x1D), r(0, 0x55), r(4, 0x1C), r(0, 0x55)}, 0, true},
		{"command byte read and write", []step{w(4, 0x20), r(0, 0x03), w(4, 0x60), w(0, 0x65), w(4, 0x20), r(0, 0x65)}, 0, true},
		{"disable and enable the keyboard", []step{w(4, 0xAD), w(4, 0x20), r(0, 0x13), w(4, 0xAE), w(4, 0x20), r(0, 0x03)}, 0, true},
		{"pulse reset with 0xFE", []step{w(4, 0xFE)}, 1, true},
		{"0xFF pulses nothing", []step{w(4, 0xFF)}, 0, true},
		{"output port: A20 off", []step{w(4, 0xD1), w(0, 0x01), w(4, 0xD0), r(0, 0x01)}, 0, false},
		{"output port: bit 0 clear resets", []step{w(4, 0xD1), w(0, 0x02)}, 1, true},
		{"mouse loop-back", []step{w(4, 0xD3), w(0, 0x5A), r(4, 0x31), r(0, 0x5A)}, 0, true},
		{"absent keyboard: 0xFE with time-out", []step{w(0, 0xFF), r(4, 0x51), r(0, 0xFE), r(4, 0x10)}, 0, true},
		{"absent mouse", []step{w(4, 0xD4), w(0, 0xF4), r(4, 0x71), r(0, 0xFE)}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resets := 0
			k := NewI8042(func() { resets++ }, nil)
			for i, s := range tc.steps {
				if s.write {
					out8(k, s.port, s.value)
				} else {
					equal(t, s.value, in8(k, s.port), "step %d: read of port %#x", i, 0x60+s.port)
				}
			}
			equal(t, tc.wantReset, resets, "resets")
			equal(t, tc.wantA20, k.A20(), "A20")
		})
	}
}

func TestI8042Interrupts(t *testing.T) {
	irq := &irqRecorder{}
	k := NewI8042(nil, irq)
	out8(k, 4, 0xAA)
	equal(t, true, irq.level[1], "IRQ 1 with a byte waiting")
	in8(k, 0)
	equal(t, false, irq.level[1], "IRQ 1 after the read")
	out8(k, 4, 0xD3)
	out8(k, 0, 0x12)
	equal(t, [2]bool{false, true}, [2]bool{irq.level[1], irq.level[12]}, "mouse data on IRQ 12")
	in8(k, 0)
	out8(k, 4, 0x60)
	out8(k, 0, 0x00) // interrupts off
	out8(k, 4, 0xAA)
	equal(t, false, irq.level[1], "no IRQ 1 when disabled")
	// The output queue is bounded.
	for i := 0; i < 100; i++ {
		out8(k, 4, 0x20)
	}
}

func TestPortA(t *testing.T) {
	resets := 0
	p := NewPortA(func() { resets++ })
	out8(p, 0, 0x02)
	equal(t, [3]any{true, byte(0x02), 0}, [3]any{p.A20(), in8(p, 0), resets}, "fast A20")
	out8(p, 0, 0x03)
	equal(t, 1, resets, "reset on bit 0")
	out8(p, 0, 0x03)
	equal(t, 2, resets, "bit 0 reads back 0, so each write resets")
}

func TestPostCodeAndDebugExit(t *testing.T) {
	p := NewPostCode()
	out8(p, 0, 0x55)
	out8(p, 0, 0xAA)
	code, writes := p.Last()
	equal(t, [2]any{byte(0xAA), uint64(2)}, [2]any{code, writes}, "last code")
	equal(t, byte(0xAA), in8(p, 0), "read back")

	tests := []struct {
		data []byte
		want int
	}{
		{[]byte{0x00}, 1},
		{[]byte{0x01}, 3},
		{[]byte{0x10, 0x00, 0x00, 0x00}, 0x21},
		{[]byte{0xFF, 0xFF}, 0x1FFFF},
	}
	for _, tc := range tests {
		got := -1
		d := NewDebugExit(func(status int) { got = status })
		d.Write(0, tc.data)
		equal(t, tc.want, got, "exit status for % x", tc.data)
	}
	NewDebugExit(nil).Write(0, []byte{1}) // no callback: ignored
	equal(t, byte(0xFF), in8(NewDebugExit(nil), 0), "debug-exit read")
}

func TestFwCfg(t *testing.T) {
	f := NewFwCfg(2, 256<<20)
	f.AddFile("etc/test", []byte("hello"))
	f.AddFile("bootorder", []byte("/disk@0\n"))
	readItem := func(key uint16, n int) []byte {
		out16(f, 0, key)
		b := make([]byte, n)
		for i := range b {
			b[i] = in8(f, 1)
		}
		return b
	}
	tests := []struct {
		name string
		key  uint16
		want []byte
	}{
		{"signature", FwCfgSignature, []byte("QEMU")},
		{"ID: traditional interface", FwCfgID, []byte{1, 0, 0, 0}},
		{"RAM size", FwCfgRAMSize, binary.LittleEndian.AppendUint64(nil, 256<<20)},
		{"CPUs", FwCfgNbCPUs, []byte{2, 0}},
		{"past the end reads 0", FwCfgNbCPUs, []byte{2, 0, 0, 0}},
		{"unknown key", 0x1234, []byte{0, 0, 0}},
		{"first file", FwCfgFileFirst, []byte("hello")},
	}
	for _, tc := range tests {
		equal(t, tc.want, readItem(tc.key, len(tc.want)), "%s", tc.name)
	}
	// Re-selecting restarts the item.
	readItem(FwCfgSignature, 2)
	equal(t, []byte("QE"), readItem(FwCfgSignature, 2), "re-selected")

	dir := readItem(FwCfgFileDir, 4+2*64)
	equal(t, uint32(2), binary.BigEndian.Uint32(dir), "file count")
	entry := dir[4:68]
	equal(t, uint32(8), binary.BigEndian.Uint32(entry), "first entry size (sorted: bootorder)")
	equal(t, uint16(FwCfgFileFirst+1), binary.BigEndian.Uint16(entry[4:]), "first entry key")
	equal(t, "bootorder", string(entry[8:8+9]), "first entry name")
	// A 16-bit read of the data port returns two successive bytes.
	out16(f, 0, FwCfgSignature)
	equal(t, uint16('Q')|uint16('E')<<8, in16(f, 1), "16-bit data read")
}

func TestDebugCon(t *testing.T) {
	var out bytes.Buffer
	pc, err := NewPC(PCConfig{MemSize: 16 << 20, DebugCon: &out})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []byte("hi\n") {
		pc.Out(DebugConPort, 1, uint32(b))
	}
	if got := pc.In(DebugConPort, 1); got != 0xE9 {
		t.Errorf("readback %#x, want 0xe9", got)
	}
	if out.String() != "hi\n" {
		t.Errorf("output %q", out.String())
	}
	// Without a writer the port is absent.
	pc, err = NewPC(PCConfig{MemSize: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.In(DebugConPort, 1); got != 0xFF {
		t.Errorf("absent debugcon reads %#x, want 0xff", got)
	}
}
