package devices

import (
	"strings"
	"testing"
)

// msixTestDevice is a function with 4 MSI-X vectors in BAR 1 (table at 0,
// PBA at 0x800) and a 2-vector MSI capability, on slot 3 of a test bus,
// with BAR 1 at 0xC0000000, memory decoding and bus mastering on.
func msixTestDevice(t *testing.T) (*pciTestBus, *testFunction, *PCIMSIX, *PCIMSI) {
	t.Helper()
	tb := newPCITestBus(t)
	f := &testFunction{cs: NewPCIConfigSpace(PCIID{Vendor: 0x1AF4, Device: 0x1041, Class: 0x020000, Pin: 1})}
	m, err := NewPCIMSIX(f.cs, 4, 1, 0, 0x800)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cs.SetBAR(1, PCIBAR{Kind: PCIBARMem32, Size: m.RegionSize(), Dev: m}); err != nil {
		t.Fatal(err)
	}
	mi, err := NewPCIMSI(f.cs, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Add(3, 0, f); err != nil {
		t.Fatal(err)
	}
	tb.cfgWrite(3, 0, 0x14, 4, 0xC0000000)
	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandMemory|PCICommandMaster)
	return tb, f, m, mi
}

func mmioWrite32(t *testing.T, b *Bus, addr uint64, v uint32) {
	t.Helper()
	data := make([]byte, 4)
	putLittleEndian(data, uint64(v))
	if !b.Write(addr, data) {
		t.Fatalf("write at %#x unclaimed", addr)
	}
}

// capabilities walks the capability list as an OS does (PCI 3.0 §6.7).
func capabilities(tb *pciTestBus, slot int) map[uint32]int {
	caps := map[uint32]int{}
	if tb.cfgRead(slot, 0, PCIStatus, 2)&PCIStatusCapabilities == 0 {
		return caps
	}
	for off := int(tb.cfgRead(slot, 0, PCICapabilitiesPointer, 1)); off != 0; off = int(tb.cfgRead(slot, 0, off+1, 1)) {
		caps[tb.cfgRead(slot, 0, off, 1)] = off
	}
	return caps
}

func TestPCIMSIXCapability(t *testing.T) {
	tb, _, m, mi := msixTestDevice(t)
	caps := capabilities(tb, 3)
	equal(t, map[uint32]int{PCICapMSIX: m.Capability(), PCICapMSI: mi.Capability()}, caps, "capability list")
	c := m.Capability()
	equal(t, uint32(3), tb.cfgRead(3, 0, c+2, 2), "Message Control: table size N-1, disabled")
	equal(t, uint32(0x000|1), tb.cfgRead(3, 0, c+4, 4), "Table Offset/BIR")
	equal(t, uint32(0x800|1), tb.cfgRead(3, 0, c+8, 4), "PBA Offset/BIR")
	tb.cfgWrite(3, 0, c+4, 4, 0xFFFFFFFF)
	tb.cfgWrite(3, 0, c+2, 2, 0xFFFF)
	equal(t, uint32(0xC003), tb.cfgRead(3, 0, c+2, 2), "Message Control after writing ones")
	equal(t, uint32(0x000|1), tb.cfgRead(3, 0, c+4, 4), "Table Offset is read-only")
	equal(t, uint64(0x1000), m.RegionSize(), "region size")

	// Every vector starts masked with address and data 0 (§6.8.2.9).
	for v := range 4 {
		ctl, _ := mmioRead32(tb.mmio, 0xC0000000+uint64(v)*16+12)
		equal(t, uint32(1), ctl, "vector %d control", v)
	}
	// Reserved Vector Control bits are read-only; the PBA is read-only.
	mmioWrite32(t, tb.mmio, 0xC0000000+12, 0xFFFFFFFE)
	ctl, _ := mmioRead32(tb.mmio, 0xC0000000+12)
	equal(t, uint32(0), ctl, "vector 0 control after writing 0xFFFFFFFE")
	mmioWrite32(t, tb.mmio, 0xC0000800, 0xFFFFFFFF)
	pba, _ := mmioRead32(tb.mmio, 0xC0000800)
	equal(t, uint32(0), pba, "PBA after a write")

	for _, bad := range []struct {
		vectors, bar int
		table, pba   uint64
	}{{0, 1, 0, 0x800}, {2049, 1, 0, 0x8000}, {4, 6, 0, 0x800}, {4, 1, 4, 0x800}, {4, 1, 0, 0x20}} {
		if _, err := NewPCIMSIX(NewPCIConfigSpace(PCIID{}), bad.vectors, bad.bar, bad.table, bad.pba); err == nil {
			t.Errorf("NewPCIMSIX(%+v) succeeded", bad)
		}
	}
}

func TestPCIMSIXDelivery(t *testing.T) {
	tb, f, m, _ := msixTestDevice(t)
	c := m.Capability()
	tb.cfgWrite(1, 0, 0x60, 4, 0x0B0B0A0A) // route INTx, to see that MSI-X takes the pin off it

	equal(t, false, m.Notify(0), "Notify with MSI-X disabled")
	equal(t, 0, len(tb.msis), "messages while disabled")

	tb.cfgWrite(3, 0, c+2, 2, msixEnable)
	equal(t, true, m.Enabled(), "enabled")
	// Vector 0 is masked: pending, nothing sent.
	equal(t, true, m.Notify(0), "Notify of a masked vector")
	equal(t, 0, len(tb.msis), "messages while masked")
	pba, _ := mmioRead32(tb.mmio, 0xC0000800)
	equal(t, uint32(1), pba, "PBA with vector 0 pending")

	// Program vector 0 (APIC ID 1, vector 0x31, fixed, edge) and unmask it:
	// the pending message goes out.
	mmioWrite32(t, tb.mmio, 0xC0000000, 0xFEE01000)
	mmioWrite32(t, tb.mmio, 0xC0000004, 0)
	mmioWrite32(t, tb.mmio, 0xC0000008, 0x0031)
	equal(t, 0, len(tb.msis), "messages before the unmask")
	mmioWrite32(t, tb.mmio, 0xC000000C, 0)
	equal(t, []msiWrite{{0xFEE01000, 0x31}}, tb.msis, "message on unmask")
	equal(t, false, m.Pending(0), "pending after delivery")

	equal(t, true, m.Notify(0), "Notify")
	equal(t, 2, len(tb.msis), "messages after Notify")

	// Function mask holds every vector pending; clearing it sends them.
	tb.cfgWrite(3, 0, c+2, 2, msixEnable|msixFunctionMask)
	m.Notify(0)
	equal(t, true, m.Pending(0), "pending under the function mask")
	equal(t, 2, len(tb.msis), "messages under the function mask")
	tb.cfgWrite(3, 0, c+3, 1, msixEnable>>8) // byte write to the high half
	equal(t, 3, len(tb.msis), "messages after clearing the function mask")

	// A qword write of address and upper address; a 64-bit address above
	// 4 GiB is not a local APIC address: dropped and logged.
	data := make([]byte, 8)
	putLittleEndian(data, 0x1_FEE0_0000)
	tb.mmio.Write(0xC0000010, data)
	mmioWrite32(t, tb.mmio, 0xC0000018, 0x41)
	mmioWrite32(t, tb.mmio, 0xC000001C, 0)
	m.Notify(1)
	equal(t, 3, len(tb.msis), "message to a bad address")
	equal(t, uint64(1), m.Dropped, "dropped")
	if len(tb.logs) == 0 || !strings.Contains(tb.logs[len(tb.logs)-1], "MSI-X vector 1") {
		t.Errorf("bad address not logged: %q", tb.logs)
	}
	// Vectors out of range are refused.
	equal(t, false, m.Notify(4), "Notify(4)")
	equal(t, false, m.Notify(-1), "Notify(-1)")
	equal(t, uint64(3), m.Dropped, "dropped")

	// No bus mastering, no message.
	tb.cfgWrite(3, 0, PCICommand, 2, PCICommandMemory)
	m.Notify(0)
	equal(t, 3, len(tb.msis), "messages without bus mastering")

	// While MSI-X is enabled the function does not use INTx.
	f.cs.SetINTx(true)
	equal(t, 0, len(tb.irq.events), "INTx with MSI-X enabled")
	tb.cfgWrite(3, 0, c+2, 2, 0)
	equal(t, []irqEvent{{11, true}}, tb.irq.events, "INTx once MSI-X is disabled (slot 3 INTA# → PIRQC → 11)")
	f.cs.SetINTx(false)
}

func TestPCIMSI(t *testing.T) {
	tb, _, _, mi := msixTestDevice(t)
	c := mi.Capability()
	equal(t, uint32(0x0182), tb.cfgRead(3, 0, c+2, 2), "Message Control: 2 vectors capable, 64-bit, per-vector masking")
	equal(t, false, mi.Notify(0), "Notify with MSI disabled")

	tb.cfgWrite(3, 0, c+4, 4, 0xFEE00000)
	tb.cfgWrite(3, 0, c+8, 4, 0)
	tb.cfgWrite(3, 0, c+0xC, 2, 0x4040)
	tb.cfgWrite(3, 0, c+2, 2, 1<<4|msiEnable) // two vectors
	equal(t, true, mi.Notify(1), "Notify(1)")
	equal(t, []msiWrite{{0xFEE00000, 0x4041}}, tb.msis, "vector 1 in the data's low bit")
	equal(t, false, mi.Notify(2), "Notify beyond the allocated vectors")

	tb.cfgWrite(3, 0, c+0x10, 4, 0xFFFFFFFF)
	equal(t, uint32(3), tb.cfgRead(3, 0, c+0x10, 4), "mask bits: only the capable vectors")
	mi.Notify(0)
	equal(t, uint32(1), tb.cfgRead(3, 0, c+0x14, 4), "pending bits")
	tb.cfgWrite(3, 0, c+0x10, 4, 2)
	equal(t, []msiWrite{{0xFEE00000, 0x4041}, {0xFEE00000, 0x4040}}, tb.msis, "vector 0 sent on unmask")
	equal(t, uint32(0), tb.cfgRead(3, 0, c+0x14, 4), "pending bits after the unmask")

	if _, err := NewPCIMSI(NewPCIConfigSpace(PCIID{}), 3); err == nil {
		t.Error("NewPCIMSI with 3 vectors succeeded")
	}
}

// apicRecorder is an APICBus that records messages.
type apicRecorder struct{ got []APICMessage }

func (r *apicRecorder) Send(m APICMessage) bool { r.got = append(r.got, m); return true }

func TestMSIMessage(t *testing.T) {
	for _, c := range []struct {
		addr uint64
		data uint32
		want APICMessage
		ok   bool
	}{
		{0xFEE00000, 0x0030, APICMessage{Vector: 0x30}, true},
		{0xFEE0300C, 0x0123, APICMessage{Vector: 0x23, Mode: APICLowestPriority, Logical: true, Dest: 3}, true},
		{0xFEEFF000, 0x0400, APICMessage{Mode: APICNMI, Dest: 0xFF}, true},
		{0xFEE00000, 0xC051, APICMessage{Vector: 0x51, Level: true}, true}, // level, assert
		{0xFEE00000, 0x8051, APICMessage{}, false},                         // level, deassert
		{0xFED00000, 0x0030, APICMessage{}, false},
		{0x1_FEE00000, 0x0030, APICMessage{}, false},
	} {
		got, ok := MSIMessage(c.addr, c.data)
		if ok != c.ok || got != c.want {
			t.Errorf("MSIMessage(%#x, %#x) = %+v, %v; want %+v, %v", c.addr, c.data, got, ok, c.want, c.ok)
		}
	}
	r := &apicRecorder{}
	send := MSIToAPIC(r)
	send(0xFEE01000, 0x41)
	send(0xFEC00000, 0x41)
	equal(t, []APICMessage{{Vector: 0x41, Dest: 1}}, r.got, "messages through MSIToAPIC")

	// End to end: a local APIC receives the vector in IRR.
	lapic := NewLAPIC(&ManualClock{}, LAPICConfig{})
	lapic.Write(lapicSVR, []byte{0xFF, 0x01, 0, 0}) // software enable
	MSIToAPIC(lapic)(0xFEE00000, 0x0045)
	equal(t, true, lapic.Pending(), "LAPIC pending after an MSI")
	equal(t, uint8(0x45), lapic.Acknowledge(), "vector")
}
