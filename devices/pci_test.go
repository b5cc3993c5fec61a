package devices

import (
	"fmt"
	"strings"
	"testing"
)

// regWindow is a BAR's register window: 256 bytes of storage, offsets from
// the BAR's base.
type regWindow struct{ regs [256]byte }

func (w *regWindow) Read(offset uint64, data []byte) {
	for i := range data {
		data[i] = w.regs[(offset+uint64(i))&0xFF]
	}
}

func (w *regWindow) Write(offset uint64, data []byte) {
	for i := range data {
		w.regs[(offset+uint64(i))&0xFF] = data[i]
	}
}

// testFunction is a PCI function with an I/O BAR 0 (32 bytes), a memory BAR
// 1 (4 KiB) and a prefetchable 64-bit memory BAR 2–3 (16 KiB), on pin pin.
type testFunction struct {
	cs            *PCIConfigSpace
	io, mem, mem2 *regWindow
}

func (f *testFunction) PCIConfig() *PCIConfigSpace { return f.cs }

func newTestFunction(t testing.TB, pin uint8) *testFunction {
	t.Helper()
	f := &testFunction{
		cs: NewPCIConfigSpace(PCIID{Vendor: 0x1AF4, Device: 0x1000, Class: 0x020000, Revision: 1,
			SubsystemVendor: 0x1AF4, Subsystem: 1, Pin: pin}),
		io: &regWindow{}, mem: &regWindow{}, mem2: &regWindow{},
	}
	for i := range 256 {
		f.io.regs[i], f.mem.regs[i], f.mem2.regs[i] = byte(i), byte(i)^0x55, byte(i)^0xAA
	}
	for i, b := range []PCIBAR{
		{Kind: PCIBARIO, Size: 0x20, Dev: f.io},
		{Kind: PCIBARMem32, Size: 0x1000, Dev: f.mem},
		{Kind: PCIBARMem64, Size: 0x4000, Prefetchable: true, Dev: f.mem2},
	} {
		if err := f.cs.SetBAR(i, b); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// pciTestBus is a PCI bus on fresh port and MMIO buses, with a device at
// 0xFEE00000 (standing for the local APIC) to collide with.
type pciTestBus struct {
	*PCIBus
	pio, mmio *Bus
	irq       *irqRecorder
	msis      []msiWrite
	logs      []string
	resets    int
}

type msiWrite struct {
	Addr uint64
	Data uint32
}

func newPCITestBus(t testing.TB) *pciTestBus {
	t.Helper()
	tb := &pciTestBus{pio: NewBus("pio"), mmio: NewBus("mmio"), irq: &irqRecorder{}}
	if err := tb.mmio.Register(LAPICBase, LAPICSize, "lapic", &regWindow{}); err != nil {
		t.Fatal(err)
	}
	b, err := NewPCIBus(PCIBusConfig{
		PIO: tb.pio, MMIO: tb.mmio, IRQ: tb.irq,
		MSI:   func(addr uint64, data uint32) { tb.msis = append(tb.msis, msiWrite{addr, data}) },
		Reset: func() { tb.resets++ },
		Log:   func(format string, args ...any) { tb.logs = append(tb.logs, fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	tb.PCIBus = b
	return tb
}

// in and out are port accesses through the port bus, as the CPU makes them;
// unclaimed ports read all ones.
func (tb *pciTestBus) in(port uint16, size int) uint32 {
	data := make([]byte, size)
	if !tb.pio.Read(uint64(port), data) {
		return 0xFFFFFFFF >> (32 - 8*size)
	}
	return uint32(littleEndian(data))
}

func (tb *pciTestBus) out(port uint16, size int, v uint32) {
	data := make([]byte, size)
	putLittleEndian(data, uint64(v))
	tb.pio.Write(uint64(port), data)
}

// cfgAddr is CONFIG_ADDRESS for bus 0, slot, fn, reg.
func cfgAddr(slot, fn, reg int) uint32 { return 1<<31 | uint32(slot)<<11 | uint32(fn)<<8 | uint32(reg) }

// cfgRead and cfgWrite go through the ports with mechanism #1.
func (tb *pciTestBus) cfgRead(slot, fn, reg, size int) uint32 {
	tb.out(0xCF8, 4, cfgAddr(slot, fn, reg&^3))
	return tb.in(uint16(0xCFC+reg&3), size)
}

func (tb *pciTestBus) cfgWrite(slot, fn, reg, size int, v uint32) {
	tb.out(0xCF8, 4, cfgAddr(slot, fn, reg&^3))
	tb.out(uint16(0xCFC+reg&3), size, v)
}

func mmioRead32(b *Bus, addr uint64) (uint32, bool) {
	data := make([]byte, 4)
	ok := b.Read(addr, data)
	return uint32(littleEndian(data)), ok
}

func TestPCIConfigMechanism(t *testing.T) {
	tb := newPCITestBus(t)

	// CONFIG_ADDRESS: dword only; reserved bits read 0 (PCI 3.0 §3.2.2.3.2).
	tb.out(0xCF8, 4, 0xFFFFFFFF)
	equal(t, uint32(0x80FFFFFC), tb.in(0xCF8, 4), "CONFIG_ADDRESS after writing ones")
	// Linux's pci_check_type1: a byte write to 0xCFB must not disturb it.
	tb.out(0xCF8, 4, 0x80000000)
	tb.out(0xCFB, 1, 0x01)
	equal(t, uint32(0x80000000), tb.in(0xCF8, 4), "CONFIG_ADDRESS after a byte write to 0xCFB")
	equal(t, uint32(0xFFFF), tb.in(0xCF8, 2), "word read of 0xCF8")

	// The host bridge and the ISA bridge, as on QEMU's i440FX.
	equal(t, uint32(0x12378086), tb.cfgRead(0, 0, 0, 4), "00:00.0 vendor and device")
	equal(t, uint32(0x06000002), tb.cfgRead(0, 0, 8, 4), "00:00.0 class and revision")
	equal(t, uint32(0x70008086), tb.cfgRead(1, 0, 0, 4), "00:01.0 vendor and device")
	equal(t, uint32(0x0601), tb.cfgRead(1, 0, 0x0A, 2), "00:01.0 class")
	equal(t, uint32(0x80), tb.cfgRead(1, 0, 0x0E, 1), "00:01.0 header type (multi-function)")
	equal(t, uint32(0x11001AF4), tb.cfgRead(1, 0, 0x2C, 4), "00:01.0 subsystem")

	// Byte and word lanes of one dword.
	tb.out(0xCF8, 4, cfgAddr(0, 0, 0))
	for lane, want := range []uint32{0x86, 0x80, 0x37, 0x12} {
		equal(t, want, tb.in(uint16(0xCFC+lane), 1), "byte lane %d", lane)
	}
	equal(t, uint32(0x8086), tb.in(0xCFC, 2), "word lane 0")
	equal(t, uint32(0x1237), tb.in(0xCFE, 2), "word lane 2")
	equal(t, uint32(0x3780), tb.in(0xCFD, 2), "word at 0xCFD (misaligned)")
	// A word at 0xCFF runs past the dword into the next register.
	tb.out(0xCF8, 4, cfgAddr(0, 0, 0xFC))
	equal(t, uint32(0xFF00), tb.in(0xCFF, 2), "word at 0xCFF of register 0xFC")

	// Enable bit clear, another bus, absent functions: all ones, writes lost.
	tb.out(0xCF8, 4, 0x00000000)
	equal(t, uint32(0xFFFFFFFF), tb.in(0xCFC, 4), "data with the enable bit clear")
	tb.out(0xCF8, 4, 1<<31|1<<16)
	equal(t, uint32(0xFFFFFFFF), tb.in(0xCFC, 4), "bus 1")
	equal(t, uint32(0xFFFFFFFF), tb.cfgRead(5, 0, 0, 4), "absent 00:05.0")
	equal(t, uint32(0xFF), tb.cfgRead(5, 0, 0x3D, 1), "absent 00:05.0, byte")
	equal(t, uint32(0xFFFF), tb.cfgRead(1, 3, 2, 2), "absent 00:01.3, word")
	tb.cfgWrite(5, 0, 4, 2, 7)
	equal(t, uint32(0xFFFF), tb.ConfigRead(5, 0, 4, 2), "absent function after a write")

	// A device: read-only IDs, writable bits only, misaligned bytes.
	f := newTestFunction(t, 1)
	if err := tb.Add(3, 0, f); err != nil {
		t.Fatal(err)
	}
	tb.cfgWrite(3, 0, 0, 4, 0)
	equal(t, uint32(0x10001AF4), tb.cfgRead(3, 0, 0, 4), "IDs after writing 0")
	tb.cfgWrite(3, 0, 0x3C, 4, 0xFFFFFFFF)
	equal(t, uint32(0x01FF), tb.cfgRead(3, 0, 0x3C, 2), "interrupt line writable, pin read-only")
	tb.cfgWrite(3, 0, 0x3D, 1, 0x0B) // the pin byte alone: read-only
	tb.cfgWrite(3, 0, 0x3C, 1, 0x0A)
	equal(t, uint32(0x010A), tb.cfgRead(3, 0, 0x3C, 2), "line and pin after byte writes")
	tb.cfgWrite(3, 0, 0x0D, 1, 0x40) // latency timer, byte lane 1
	tb.cfgWrite(3, 0, 0x0C, 1, 0x10) // cache line size, byte lane 0
	equal(t, uint32(0x00004010), tb.cfgRead(3, 0, 0x0C, 4), "cache line and latency (header type 0)")
	tb.cfgWrite(3, 0, 0x0E, 2, 0xFFFF)
	equal(t, uint32(0x00), tb.cfgRead(3, 0, 0x0E, 1), "header type is read-only")
	tb.cfgWrite(3, 0, 0x30, 4, 0xFFFFFFFF)
	equal(t, uint32(0), tb.cfgRead(3, 0, 0x30, 4), "no expansion ROM")
	tb.cfgWrite(3, 0, 0x80, 4, 0xFFFFFFFF)
	equal(t, uint32(0), tb.cfgRead(3, 0, 0x80, 4), "device-specific area is read-only by default")
}

func TestPCICommandAndStatus(t *testing.T) {
	tb := newPCITestBus(t)
	f := newTestFunction(t, 1)
	if err := tb.Add(3, 0, f); err != nil {
		t.Fatal(err)
	}
	tb.cfgWrite(3, 0, PCICommand, 2, 0xFFFF)
	equal(t, uint32(0x0547), tb.cfgRead(3, 0, PCICommand, 2), "command after writing ones")
	// RW1C error bits (PCI 3.0 §6.2.3).
	f.cs.Set16(PCIStatus, 0x8000|0x2000|PCIStatusDevselMedium)
	tb.cfgWrite(3, 0, PCIStatus, 2, 0x2000)
	equal(t, uint32(0x8000|PCIStatusDevselMedium), tb.cfgRead(3, 0, PCIStatus, 2), "status after clearing bit 13")
	// A dword write to the command register must not clear status bits that
	// are written as 0.
	tb.cfgWrite(3, 0, PCICommand, 4, 0x00000003)
	equal(t, uint32(0x8000|PCIStatusDevselMedium)<<16|3, tb.cfgRead(3, 0, PCICommand, 4), "command and status")
	// The host bridge: no BARs, no pin, PAM storage.
	equal(t, uint32(0), tb.cfgRead(0, 0, 0x10, 4), "host bridge BAR 0")
	tb.cfgWrite(0, 0, 0x10, 4, 0xFFFFFFFF)
	equal(t, uint32(0), tb.cfgRead(0, 0, 0x10, 4), "host bridge BAR 0 after writing ones")
	equal(t, uint32(0), tb.cfgRead(0, 0, 0x3D, 1), "host bridge pin")
	tb.cfgWrite(0, 0, 0x5A, 1, 0x33)
	equal(t, uint32(0x33), tb.cfgRead(0, 0, 0x5A, 1), "PAM1")
	equal(t, uint32(0x02), tb.cfgRead(0, 0, 0x72, 1), "SMRAM")
}

// pciSize is Linux's pci_size: the size a BAR decodes from its value and
// the value read after writing all ones.
func pciSize(base, maxbase, mask uint64) uint64 {
	size := maxbase & mask
	if size == 0 {
		return 0
	}
	return size & -size
}

func TestPCIBARSizing(t *testing.T) {
	tb := newPCITestBus(t)
	f := newTestFunction(t, 1)
	if err := tb.Add(3, 0, f); err != nil {
		t.Fatal(err)
	}
	for reg, want := range map[int]uint32{0x10: 0x1, 0x14: 0x0, 0x18: 0xC, 0x1C: 0, 0x20: 0, 0x24: 0} {
		equal(t, want, tb.cfgRead(3, 0, reg, 4), "BAR at %#x before sizing", reg)
	}
	for reg, want := range map[int]uint32{
		0x10: 0x0000FFE1, // I/O, 32 bytes, 16-bit decode
		0x14: 0xFFFFF000, // 32-bit memory, 4 KiB
		0x18: 0xFFFFC00C, // 64-bit prefetchable, 16 KiB: low half
		0x1C: 0xFFFFFFFF, // high half
		0x20: 0,          // unused
		0x24: 0,
	} {
		tb.cfgWrite(3, 0, reg, 4, 0xFFFFFFFF)
		equal(t, want, tb.cfgRead(3, 0, reg, 4), "BAR at %#x after writing ones", reg)
	}
	equal(t, uint64(0x20), pciSize(0, 0xFFE0, 0xFFFC), "I/O size")
	equal(t, uint64(0x1000), pciSize(0, 0xFFFFF000, 0xFFFFFFF0), "mem32 size")
	equal(t, uint64(0x4000), pciSize(0, 0xFFFFFFFF_FFFFC000, ^uint64(0xF)), "mem64 size")
	// The sizing pattern is never mapped, even with decoding on.
	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandIO|PCICommandMemory)
	for i := range 3 {
		if base, ok := tb.BARMapped(3, 0, i); ok {
			t.Errorf("BAR %d mapped at %#x while it holds the sizing pattern", i, base)
		}
	}
	// Byte writes reach the address bits too.
	tb.cfgWrite(3, 0, 0x14, 4, 0)
	tb.cfgWrite(3, 0, 0x17, 1, 0xC1)
	tb.cfgWrite(3, 0, 0x15, 1, 0x23)
	equal(t, uint32(0xC1002000), tb.cfgRead(3, 0, 0x14, 4), "BAR 1 after byte writes")

	// Bad BAR descriptions are refused.
	cs := NewPCIConfigSpace(PCIID{Vendor: 1})
	for _, c := range []struct {
		i int
		b PCIBAR
	}{
		{0, PCIBAR{Kind: PCIBARIO, Size: 0x200, Dev: f.io}},
		{0, PCIBAR{Kind: PCIBARIO, Size: 0x30, Dev: f.io}},
		{0, PCIBAR{Kind: PCIBARMem32, Size: 8, Dev: f.io}},
		{0, PCIBAR{Kind: PCIBARMem32, Size: 0x1000}},
		{5, PCIBAR{Kind: PCIBARMem64, Size: 0x1000, Dev: f.io}},
		{6, PCIBAR{Kind: PCIBARMem32, Size: 0x1000, Dev: f.io}},
	} {
		if err := cs.SetBAR(c.i, c.b); err == nil {
			t.Errorf("SetBAR(%d, %+v) succeeded", c.i, c.b)
		}
	}
	if err := cs.SetBAR(2, PCIBAR{Kind: PCIBARMem64, Size: 0x1000, Dev: f.io}); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetBAR(3, PCIBAR{Kind: PCIBARMem32, Size: 0x1000, Dev: f.io}); err == nil {
		t.Error("SetBAR on the high half of a 64-bit BAR succeeded")
	}
}

func TestPCIBARRelocation(t *testing.T) {
	tb := newPCITestBus(t)
	f := newTestFunction(t, 1)
	if err := tb.Add(3, 0, f); err != nil {
		t.Fatal(err)
	}
	tb.cfgWrite(3, 0, 0x10, 4, 0xC100)
	tb.cfgWrite(3, 0, 0x14, 4, 0xC0001000)
	tb.cfgWrite(3, 0, 0x18, 4, 0x00000000)
	tb.cfgWrite(3, 0, 0x1C, 4, 0x00000001) // 0x1_0000_0000, above 4 GiB
	if _, ok := mmioRead32(tb.mmio, 0xC0001004); ok {
		t.Fatal("memory BAR decodes with the memory enable bit clear")
	}
	equal(t, uint32(0xFF), tb.in(0xC104, 1), "I/O BAR with the I/O enable bit clear")

	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandMemory)
	v, ok := mmioRead32(tb.mmio, 0xC0001004)
	equal(t, true, ok, "memory BAR claimed")
	equal(t, uint32(0x52535051), v, "register 4 of BAR 1 (bytes 4..7 ^ 0x55)")
	v, _ = mmioRead32(tb.mmio, 0x1_0000_0008)
	equal(t, uint32(0xA1A0A3A2), v, "register 8 of the 64-bit BAR above 4 GiB")
	equal(t, uint32(0xFF), tb.in(0xC104, 1), "I/O BAR still off")

	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandMemory|PCICommandIO)
	equal(t, uint32(0x07060504), tb.in(0xC104, 4), "I/O BAR register 4")
	f.io.regs[0x10] = 0x99
	tb.out(0xC111, 1, 0x42)
	equal(t, byte(0x42), f.io.regs[0x11], "I/O BAR write")

	// Move BAR 1 while decoding (Linux does for 32-bit BARs).
	tb.cfgWrite(3, 0, 0x14, 4, 0xC0008000)
	if _, ok := mmioRead32(tb.mmio, 0xC0001004); ok {
		t.Error("old address still decodes after the move")
	}
	v, ok = mmioRead32(tb.mmio, 0xC0008004)
	equal(t, true, ok && v == 0x52535051, "new address decodes")
	base, ok := tb.BARMapped(3, 0, 1)
	equal(t, true, ok && base == 0xC0008000, "BARMapped after the move")
	// Move the I/O BAR byte by byte.
	tb.cfgWrite(3, 0, 0x11, 1, 0xD0)
	equal(t, uint32(0xFF), tb.in(0xC104, 1), "old I/O address")
	equal(t, uint32(0x04), tb.in(0xD004, 1), "new I/O address")

	// Memory off: every memory window goes away, I/O stays.
	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandIO)
	if _, ok := mmioRead32(tb.mmio, 0xC0008004); ok {
		t.Error("BAR 1 decodes with memory off")
	}
	if _, ok := mmioRead32(tb.mmio, 0x1_0000_0008); ok {
		t.Error("BAR 2 decodes with memory off")
	}
	equal(t, uint32(0x04), tb.in(0xD004, 1), "I/O BAR with memory off")

	// A BAR over another device (the LAPIC) is not mapped, and is logged;
	// moved away, it maps again.
	tb.cfgWrite(3, 0, 0x14, 4, LAPICBase)
	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandIO|PCICommandMemory)
	if _, ok := tb.BARMapped(3, 0, 1); ok {
		t.Error("BAR 1 mapped over the LAPIC")
	}
	if tb.mmio.Name(LAPICBase) != "lapic" {
		t.Errorf("the LAPIC lost its page to %q", tb.mmio.Name(LAPICBase))
	}
	if len(tb.logs) == 0 || !strings.Contains(tb.logs[len(tb.logs)-1], "00:03.0") {
		t.Errorf("collision not logged: %q", tb.logs)
	}
	tb.cfgWrite(3, 0, 0x14, 4, 0xC0002000)
	if base, ok := tb.BARMapped(3, 0, 1); !ok || base != 0xC0002000 {
		t.Errorf("BAR 1 after moving off the LAPIC: %#x %v", base, ok)
	}
	equal(t, "pci-00:03.0-bar1", tb.mmio.Name(0xC0002000), "window name")

	// Address 0 and ranges that reach the top of their space do not map.
	tb.cfgWrite(3, 0, 0x14, 4, 0)
	if _, ok := tb.BARMapped(3, 0, 1); ok {
		t.Error("BAR 1 mapped at 0")
	}
	tb.cfgWrite(3, 0, 0x10, 4, 0xFFE0)
	if _, ok := tb.BARMapped(3, 0, 0); ok {
		t.Error("I/O BAR mapped at 0xFFE0, which reaches 0xFFFF")
	}
}

func TestPCIINTxRouting(t *testing.T) {
	tb := newPCITestBus(t)
	// Slot 2 INTA# and slot 5 INTA# reach PIRQB and PIRQA; slot 3 INTB#
	// reaches PIRQD (QEMU's rotation).
	a, b, c := newTestFunction(t, 1), newTestFunction(t, 1), newTestFunction(t, 2)
	for _, x := range []struct {
		slot int
		f    *testFunction
	}{{2, a}, {5, b}, {3, c}} {
		if err := tb.Add(x.slot, 0, x.f); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, []int{0, 1, 2, 3, 5}, tb.Slots(), "slots")
	equal(t, uint32(0x80808080), tb.cfgRead(1, 0, 0x60, 4), "PIRQ route registers at reset")
	equal(t, -1, tb.IRQ(2, 1), "slot 2 INTA# unrouted")

	a.cs.SetINTx(true) // routes disabled: nothing reaches the ISA bus
	equal(t, 0, len(tb.irq.events), "events with the routes disabled")
	equal(t, uint32(PCIStatusInterrupt), tb.cfgRead(2, 0, PCIStatus, 2)&PCIStatusInterrupt, "interrupt status")

	// Linux's pirq_piix_set writes the link byte; the asserted line comes up.
	tb.cfgWrite(1, 0, 0x61, 1, 10) // PIRQB → IRQ 10
	equal(t, []irqEvent{{10, true}}, tb.irq.events, "after routing PIRQB")
	equal(t, 10, tb.IRQ(2, 1), "slot 2 INTA#")
	tb.cfgWrite(1, 0, 0x60, 1, 10) // PIRQA → IRQ 10 too: shared
	b.cs.SetINTx(true)
	a.cs.SetINTx(false)
	equal(t, []irqEvent{{10, true}}, tb.irq.events, "IRQ 10 held by slot 5 while slot 2 drops")
	b.cs.SetINTx(false)
	equal(t, []irqEvent{{10, true}, {10, false}}, tb.irq.events, "IRQ 10 drops with the last")

	// Slot 3 INTB# → PIRQD, unrouted, then routed to 11.
	c.cs.SetINTx(true)
	equal(t, 2, len(tb.irq.events), "PIRQD unrouted")
	tb.cfgWrite(1, 0, 0x63, 1, 11)
	equal(t, irqEvent{11, true}, tb.irq.events[2], "PIRQD → 11")
	// Rerouting an asserted line moves it.
	tb.cfgWrite(1, 0, 0x63, 1, 5)
	equal(t, []irqEvent{{5, true}, {11, false}}, tb.irq.events[3:], "PIRQD 11 → 5")
	// Route disable bit, and reserved IRQs (0–2, 8, 13), stop it.
	tb.cfgWrite(1, 0, 0x63, 1, 0x85)
	equal(t, irqEvent{5, false}, tb.irq.events[5], "route disabled")
	for _, irq := range []uint32{0, 2, 8, 13} {
		tb.cfgWrite(1, 0, 0x63, 1, irq)
		equal(t, 6, len(tb.irq.events), "route to reserved IRQ %d", irq)
	}
	tb.cfgWrite(1, 0, 0x63, 1, 0xFF)
	equal(t, uint32(0x8F), tb.cfgRead(1, 0, 0x63, 1), "route register reserved bits")

	// Interrupt Disable masks the pin but not Interrupt Status.
	tb.cfgWrite(1, 0, 0x63, 1, 11)
	equal(t, irqEvent{11, true}, tb.irq.events[6], "PIRQD → 11 again")
	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandINTxDisable)
	equal(t, irqEvent{11, false}, tb.irq.events[7], "Interrupt Disable")
	equal(t, uint32(PCIStatusInterrupt), tb.cfgRead(3, 0, PCIStatus, 2)&PCIStatusInterrupt, "status with INTx disabled")
	tb.cfgWrite(3, 0, PCICommand, 2, 0)
	equal(t, irqEvent{11, true}, tb.irq.events[8], "Interrupt Disable cleared")
	c.cs.SetINTx(false)
	equal(t, irqEvent{11, false}, tb.irq.events[9], "deasserted")
	equal(t, uint32(0), tb.cfgRead(3, 0, PCIStatus, 2)&PCIStatusInterrupt, "status after deassert")
	equal(t, 10, len(tb.irq.events), "event count")
}

func TestPCIAddErrors(t *testing.T) {
	tb := newPCITestBus(t)
	f := newTestFunction(t, 1)
	if err := tb.Add(0, 0, f); err == nil {
		t.Error("Add over the host bridge succeeded")
	}
	if err := tb.Add(32, 0, f); err == nil {
		t.Error("Add at slot 32 succeeded")
	}
	if err := tb.Add(4, 1, f); err == nil {
		t.Error("Add of function 1 without function 0 succeeded")
	}
	slot, err := tb.AddDevice(f)
	if err != nil || slot != 2 {
		t.Fatalf("AddDevice: slot %d, %v", slot, err)
	}
	if err := tb.Add(6, 0, f); err == nil {
		t.Error("adding a function twice succeeded")
	}
	if err := tb.Add(2, 1, newTestFunction(t, 1)); err == nil {
		t.Error("function 1 of a single-function device succeeded")
	}
	// Function 1 of the multi-function PIIX3 slot.
	if err := tb.Add(1, 1, newTestFunction(t, 1)); err != nil {
		t.Errorf("function 01.1: %v", err)
	}
	equal(t, uint32(0x10001AF4), tb.cfgRead(1, 1, 0, 4), "01.1 IDs")
	if tb.Function(1, 1) == nil || tb.Function(1, 2) != nil || tb.Function(-1, 0) != nil {
		t.Error("Function lookups")
	}
}

func TestPCIAssignResources(t *testing.T) {
	tb := newPCITestBus(t)
	a, b := newTestFunction(t, 1), newTestFunction(t, 2)
	if err := tb.Add(3, 0, a); err != nil {
		t.Fatal(err)
	}
	if err := tb.Add(4, 0, b); err != nil {
		t.Fatal(err)
	}
	if err := tb.AssignResources(); err != nil {
		t.Fatal(err)
	}
	equal(t, uint32(0x0B0B0A0A), tb.cfgRead(1, 0, 0x60, 4), "PIRQ routes (SeaBIOS: 10, 10, 11, 11)")
	// Slot 3 INTA# → PIRQC → 11; slot 4 INTB# → PIRQA → 10.
	equal(t, uint32(11), tb.cfgRead(3, 0, PCIInterruptLine, 1), "slot 3 interrupt line")
	equal(t, uint32(10), tb.cfgRead(4, 0, PCIInterruptLine, 1), "slot 4 interrupt line")
	equal(t, uint32(0), tb.cfgRead(0, 0, PCIInterruptLine, 1), "host bridge interrupt line untouched")

	seen := map[uint64]bool{}
	for _, f := range []*testFunction{a, b} {
		cmd := f.cs.Get16(PCICommand)
		equal(t, uint16(PCICommandIO|PCICommandMemory|PCICommandSERR), cmd, "command")
		for i := range 3 {
			bar := f.cs.BAR(i)
			addr := f.cs.BARAddress(i)
			if addr%max(bar.Size, 4) != 0 || seen[addr] {
				t.Errorf("%s BAR %d at %#x: misaligned or shared", f.cs.name, i, addr)
			}
			seen[addr] = true
			lo, hi := uint64(PCIMemBase), uint64(PCIMemLimit)
			if bar.Kind == PCIBARIO {
				lo, hi = PCIIOBase, PCIIOLimit
			} else if addr%pciMemAlign != 0 {
				t.Errorf("%s BAR %d at %#x: not page aligned", f.cs.name, i, addr)
			}
			if addr < lo || addr+bar.Size-1 > hi {
				t.Errorf("%s BAR %d at %#x+%#x outside %#x–%#x", f.cs.name, i, addr, bar.Size, lo, hi)
			}
			if base, ok := tb.BARMapped(int(f.cs.name[4]-'0'), 0, i); !ok || base != addr {
				t.Errorf("%s BAR %d not mapped at %#x", f.cs.name, i, addr)
			}
		}
	}
	// The largest memory BAR goes first.
	equal(t, uint64(PCIMemBase), a.cs.BARAddress(2), "slot 3's 16 KiB BAR first")
	v, _ := mmioRead32(tb.mmio, b.cs.BARAddress(1)+4)
	equal(t, uint32(0x52535051), v, "slot 4 BAR 1 through the MMIO bus")
	equal(t, uint32(0x07060504), tb.in(uint16(b.cs.BARAddress(0))+4, 4), "slot 4 BAR 0 through the port bus")

	// Linux may reassign: decoding off, a new address, decoding on.
	tb.cfgWrite(4, 0, PCICommand, 2, 0)
	tb.cfgWrite(4, 0, 0x14, 4, 0xD0000000)
	tb.cfgWrite(4, 0, PCICommand, 2, PCICommandMemory)
	v, ok := mmioRead32(tb.mmio, 0xD0000004)
	equal(t, true, ok && v == 0x52535051, "reassigned BAR 1")

	// Idempotent.
	if err := tb.AssignResources(); err != nil {
		t.Fatal(err)
	}
}

// hugeFunction has a 2 GiB memory BAR: more than the PCI window holds.
type hugeFunction struct{ cs *PCIConfigSpace }

func (f *hugeFunction) PCIConfig() *PCIConfigSpace { return f.cs }

func TestPCIAssignResourcesFull(t *testing.T) {
	tb := newPCITestBus(t)
	f := &hugeFunction{NewPCIConfigSpace(PCIID{Vendor: 1, Device: 2})}
	if err := f.cs.SetBAR(0, PCIBAR{Kind: PCIBARMem32, Size: 1 << 31, Dev: &regWindow{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.AddDevice(f); err != nil {
		t.Fatal(err)
	}
	if err := tb.AssignResources(); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("AssignResources with a 2 GiB BAR: %v", err)
	}
}

func TestPCIResetControl(t *testing.T) {
	tb := newPCITestBus(t)
	tb.out(0xCF9, 1, 0x02)
	equal(t, 0, tb.resets, "resets after SYS_RST alone")
	equal(t, uint32(0x02), tb.in(0xCF9, 1), "RCR")
	tb.out(0xCF8, 4, 0x80000000)
	tb.out(0xCF9, 1, 0x06) // Linux's reboot=pci writes 0x02 then 0x06
	equal(t, 1, tb.resets, "resets after RST_CPU")
	equal(t, uint32(0x80000000), tb.in(0xCF8, 4), "CONFIG_ADDRESS untouched by 0xCF9")
}

// TestPCIRandomConfig drives the bus with random port accesses, config
// writes and interrupts: nothing may panic, and every mapped window must
// stay claimed where the bus says it is.
func TestPCIRandomConfig(t *testing.T) {
	tb := newPCITestBus(t)
	var fns []*testFunction
	var msixs []*PCIMSIX
	var msis []*PCIMSI
	for slot := 2; slot < 6; slot++ {
		f := newTestFunction(t, uint8(slot%4+1))
		m, err := NewPCIMSIX(f.cs, 8, 4, 0, 0x800)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.cs.SetBAR(4, PCIBAR{Kind: PCIBARMem32, Size: m.RegionSize(), Dev: m}); err != nil {
			t.Fatal(err)
		}
		mi, err := NewPCIMSI(f.cs, 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := tb.Add(slot, 0, f); err != nil {
			t.Fatal(err)
		}
		fns, msixs, msis = append(fns, f), append(msixs, m), append(msis, mi)
	}
	if err := tb.AssignResources(); err != nil {
		t.Fatal(err)
	}
	rng := uint64(0x9E3779B97F4A7C15)
	next := func() uint64 {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return rng
	}
	sizes := []int{1, 2, 4}
	for range 200000 {
		r := next()
		size := sizes[r%3]
		switch (r >> 2) % 8 {
		case 0: // CONFIG_ADDRESS, mostly valid functions
			slot := int(r>>8) % 8
			tb.out(0xCF8, 4, cfgAddr(slot, int(r>>16)%2, int(r>>24)&0xFC)|uint32(r>>40)&0x7F000003)
		case 1, 2: // CONFIG_DATA
			tb.out(uint16(0xCFC+int(r>>8)%4), size, uint32(r>>32))
		case 3:
			tb.in(uint16(0xCF8+int(r>>8)%8), size)
		case 4: // MMIO in the PCI window and around
			data := make([]byte, size)
			addr := PCIMemBase + (r>>8)%0x40000
			if r&(1<<60) != 0 {
				tb.mmio.Write(addr, data)
			} else {
				tb.mmio.Read(addr, data)
			}
		case 5:
			i := int(r>>8) % len(fns)
			msixs[i].Notify(int(r>>16)%10 - 1)
			msis[i].Notify(int(r>>24)%6 - 1)
		case 6:
			fns[int(r>>8)%len(fns)].cs.SetINTx(r&(1<<20) != 0)
		case 7: // the PIRQ routes
			tb.cfgWrite(1, 0, 0x60+int(r>>8)%4, 1, uint32(r>>16))
		}
	}
	for slot := 2; slot < 6; slot++ {
		for i := range 6 {
			if base, ok := tb.BARMapped(slot, 0, i); ok {
				bus := tb.mmio
				if fns[slot-2].cs.BAR(i).Kind == PCIBARIO {
					bus = tb.pio
				}
				if !strings.HasPrefix(bus.Name(base), "pci-") {
					t.Errorf("00:%02x.0 BAR %d mapped at %#x, but the bus has %q there", slot, i, base, bus.Name(base))
				}
			}
		}
	}
	if tb.mmio.Name(LAPICBase) != "lapic" {
		t.Error("the LAPIC lost its page")
	}
}

func TestPCIConfigHooksAndCapabilities(t *testing.T) {
	tb := newPCITestBus(t)
	f := newTestFunction(t, 1)
	cs := f.cs
	// A vendor capability whose byte 3 is a live counter and byte 4 a
	// writable register with a side effect.
	off, err := cs.AddCapability(PCICapVendor, 8)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, PCIHeaderSize, off, "first capability offset")
	reads, wrote := 0, -1
	cs.OnRead(off+3, 1, func(reg int, data []byte) {
		reads++
		if i := off + 3 - reg; i >= 0 && i < len(data) {
			data[i] = byte(reads)
		}
	})
	cs.SetWritable(off+4, 1, 0x0F)
	cs.OnWrite(off+4, 1, func(int, []byte) { wrote = int(cs.Get8(off + 4)) })
	off2, err := cs.AddCapability(PCICapVendor, 3)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, off+8, off2, "second capability offset")
	if err := tb.Add(3, 0, f); err != nil {
		t.Fatal(err)
	}
	equal(t, map[uint32]int{PCICapVendor: off2}, capabilities(tb, 3), "the walk ends at the last vendor capability")
	equal(t, uint32(off2)<<8|PCICapVendor, tb.cfgRead(3, 0, off, 2), "first header: next pointer")
	equal(t, uint32(0x01)<<24, tb.cfgRead(3, 0, off, 4)&0xFF000000, "live byte, first read")
	equal(t, uint32(0x02), tb.cfgRead(3, 0, off+3, 1), "live byte, second read")
	tb.cfgWrite(3, 0, off+4, 4, 0xFFFFFFFF)
	equal(t, 0x0F, wrote, "write hook saw the masked value")
	tb.cfgWrite(3, 0, off+5, 1, 0xFF) // outside the hook's range
	equal(t, 0x0F, wrote, "write hook not called for other registers")

	// The space runs out.
	for {
		if _, err := cs.AddCapability(PCICapVendor, 64); err != nil {
			break
		}
	}
	if _, err := cs.AddCapability(PCICapVendor, 1); err == nil {
		t.Error("a 1-byte capability was accepted")
	}
}
