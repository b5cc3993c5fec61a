package devices

import "fmt"

// Message signalled interrupts for PCI functions: the MSI-X capability
// (PCI 3.0 §6.8.2), with its vector table and pending bit array in a BAR,
// and the plain MSI capability (PCI 3.0 §6.8.1). A device model adds one to
// its configuration space and calls Notify(vector) where it would raise
// INTx; the message goes out through the bus's MSI callback (PCIBusConfig.
// MSI), which MSIToAPIC turns into a local APIC interrupt message.
//
// Messages are memory writes by the function: they need the command
// register's Bus Master Enable, and an address in the local APIC range
// 0xFEE00000–0xFEEFFFFF (SDM Vol. 3A §11.11.1). Bad programming — another
// address, a vector out of range — drops the message, counts it in Dropped
// and logs it through the bus's logger; it never panics.

// MSI-X capability layout (PCI 3.0 §6.8.2, Figure 6-10).
const (
	msixCapLength     = 12
	msixControl       = 2 // Message Control
	msixTableOffset   = 4 // Table Offset / Table BIR
	msixPBAOffset     = 8 // PBA Offset / PBA BIR
	msixEnable        = 1 << 15
	msixFunctionMask  = 1 << 14
	msixMaxVectors    = 2048 // Table Size is 11 bits, N-1
	msixEntrySize     = 16   // Message Address, Upper Address, Data, Vector Control (§6.8.2.6–9)
	msixEntryVecCtl   = 12
	msixVecCtlMasked  = 1 << 0
	msixMinRegionSize = 0x1000
)

// MSIAddressValid reports whether addr is a message address for the local
// APICs: bits 31:20 are FEEH and the upper half is zero (SDM Vol. 3A
// §11.11.1).
func MSIAddressValid(addr uint64) bool { return addr>>20 == 0xFEE }

// MSI message fields (SDM Vol. 3A §11.11.1, Figure 11-24; §11.11.2,
// Figure 11-25).
const (
	msiAddrDestLogical = 1 << 2
	msiDataLevelAssert = 1 << 14
	msiDataTriggerLvl  = 1 << 15
)

// MSIMessage decodes an MSI write into the interrupt message it carries:
// destination ID in address bits 19:12, destination mode in bit 2; vector
// in data bits 7:0, delivery mode in 10:8, trigger mode in bit 15. It
// reports false for an address outside the local APIC range and for the
// deassert message of a level-triggered interrupt, which carries nothing.
func MSIMessage(addr uint64, data uint32) (APICMessage, bool) {
	if !MSIAddressValid(addr) {
		return APICMessage{}, false
	}
	level := data&msiDataTriggerLvl != 0
	if level && data&msiDataLevelAssert == 0 {
		return APICMessage{}, false
	}
	return APICMessage{
		Vector:  uint8(data),
		Mode:    uint8(data>>8) & 7,
		Logical: addr&msiAddrDestLogical != 0,
		Dest:    uint8(addr >> 12),
		Level:   level,
	}, true
}

// MSIToAPIC returns the MSI callback for PCIBusConfig.MSI that delivers
// messages to bus (the local APIC).
func MSIToAPIC(bus APICBus) func(addr uint64, data uint32) {
	return func(addr uint64, data uint32) {
		if m, ok := MSIMessage(addr, data); ok {
			bus.Send(m)
		}
	}
}

// PCIMSIX is an MSI-X capability and its table and PBA. It implements
// Device for the BAR region that holds them: a device gives it a BAR of its
// own (PCIBAR{Kind: PCIBARMem32, Size: m.RegionSize(), Dev: m}), or
// forwards the accesses of that part of a shared BAR to Read and Write with
// offsets from the BAR's base.
type PCIMSIX struct {
	cs       *PCIConfigSpace
	cap      int
	n        int
	bar      int
	tableOff uint64
	pbaOff   uint64
	table    []byte
	pba      []uint64
	enabled  bool
	fmask    bool

	Dropped uint64 // messages dropped for bad programming
}

// NewPCIMSIX adds an MSI-X capability with vectors entries (1–2048) to cs,
// with its table at tableOffset and its PBA at pbaOffset (both 8-byte
// aligned, not overlapping) in BAR bar. Every vector starts masked and the
// capability disabled (§6.8.2.3, §6.8.2.9).
func NewPCIMSIX(cs *PCIConfigSpace, vectors, bar int, tableOffset, pbaOffset uint64) (*PCIMSIX, error) {
	tableLen := uint64(vectors) * msixEntrySize
	pbaLen := uint64((vectors+63)/64) * 8
	switch {
	case vectors < 1 || vectors > msixMaxVectors:
		return nil, fmt.Errorf("MSI-X: %d vectors, want 1 to %d", vectors, msixMaxVectors)
	case bar < 0 || bar > 5:
		return nil, fmt.Errorf("MSI-X: no BAR %d", bar)
	case tableOffset%8 != 0 || pbaOffset%8 != 0 || tableOffset >= 1<<32 || pbaOffset >= 1<<32:
		return nil, fmt.Errorf("MSI-X: table offset %#x and PBA offset %#x must be 8-byte aligned 32-bit offsets", tableOffset, pbaOffset)
	case tableOffset < pbaOffset+pbaLen && pbaOffset < tableOffset+tableLen:
		return nil, fmt.Errorf("MSI-X: table %#x+%#x overlaps PBA %#x+%#x", tableOffset, tableLen, pbaOffset, pbaLen)
	}
	m := &PCIMSIX{
		cs: cs, n: vectors, bar: bar, tableOff: tableOffset, pbaOff: pbaOffset,
		table: make([]byte, tableLen), pba: make([]uint64, pbaLen/8),
	}
	if b := cs.BAR(bar); b.Kind != PCIBARUnused && b.Size < m.RegionSize() {
		return nil, fmt.Errorf("MSI-X: BAR %d of %#x bytes cannot hold the table and PBA (%#x)", bar, b.Size, m.RegionSize())
	}
	off, err := cs.AddCapability(PCICapMSIX, msixCapLength)
	if err != nil {
		return nil, err
	}
	m.cap = off
	cs.Set16(off+msixControl, uint16(vectors-1))
	cs.Set32(off+msixTableOffset, uint32(tableOffset)|uint32(bar))
	cs.Set32(off+msixPBAOffset, uint32(pbaOffset)|uint32(bar))
	cs.SetWritable(off+msixControl, 2, msixEnable|msixFunctionMask)
	cs.OnWrite(off+msixControl, 2, func(int, []byte) { m.controlWritten() })
	for v := range vectors {
		m.table[v*msixEntrySize+msixEntryVecCtl] = msixVecCtlMasked
	}
	return m, nil
}

// Capability returns the capability's offset in configuration space.
func (m *PCIMSIX) Capability() int { return m.cap }

// Vectors returns the table size.
func (m *PCIMSIX) Vectors() int { return m.n }

// RegionSize is the smallest power of two, at least 4 KiB, that holds the
// table and the PBA: the size of a BAR dedicated to them.
func (m *PCIMSIX) RegionSize() uint64 {
	end := max(m.tableOff+uint64(len(m.table)), m.pbaOff+8*uint64(len(m.pba)))
	size := uint64(msixMinRegionSize)
	for size < end {
		size <<= 1
	}
	return size
}

// Enabled reports whether the guest has enabled MSI-X.
func (m *PCIMSIX) Enabled() bool { return m.enabled }

// FunctionMasked reports the Function Mask bit.
func (m *PCIMSIX) FunctionMasked() bool { return m.fmask }

// Masked reports the mask bit of vector v (true for a bad vector).
func (m *PCIMSIX) Masked(v int) bool {
	return v < 0 || v >= m.n || m.table[v*msixEntrySize+msixEntryVecCtl]&msixVecCtlMasked != 0
}

// Pending reports the pending bit of vector v.
func (m *PCIMSIX) Pending(v int) bool {
	return v >= 0 && v < m.n && m.pba[v/64]&(1<<(v%64)) != 0
}

// Message returns the address and data programmed in vector v's entry.
func (m *PCIMSIX) Message(v int) (addr uint64, data uint32) {
	if v < 0 || v >= m.n {
		return 0, 0
	}
	e := m.table[v*msixEntrySize:]
	addr = littleEndian(e[0:8]) &^ 3 // bits 1:0 of the address are zero (§6.8.2.6)
	return addr, uint32(littleEndian(e[8:12]))
}

// Notify signals vector v. With MSI-X enabled, the message goes out, or if
// the vector or the function is masked its pending bit is set and it goes
// out when unmasked (§6.8.2.9, §6.8.2.10); Notify then reports true. It
// reports false when MSI-X is disabled (the device may assert INTx
// instead) or v is out of range.
func (m *PCIMSIX) Notify(v int) bool {
	if v < 0 || v >= m.n {
		m.Dropped++
		m.cs.log("MSI-X: vector %d out of range (%d vectors)", v, m.n)
		return false
	}
	if !m.enabled {
		return false
	}
	if m.fmask || m.Masked(v) {
		m.pba[v/64] |= 1 << (v % 64)
		return true
	}
	m.send(v)
	return true
}

// ClearPending clears the pending bit of v: the device's reason for the
// interrupt went away while it was masked (§6.8.2.10).
func (m *PCIMSIX) ClearPending(v int) {
	if v >= 0 && v < m.n {
		m.pba[v/64] &^= 1 << (v % 64)
	}
}

func (m *PCIMSIX) send(v int) {
	m.pba[v/64] &^= 1 << (v % 64)
	addr, data := m.Message(v)
	if !m.cs.sendMSI(fmt.Sprintf("MSI-X vector %d", v), addr, data) {
		m.Dropped++
	}
}

// controlWritten applies a write to Message Control: enabling MSI-X takes
// the function off INTx; clearing the function mask sends what is pending.
func (m *PCIMSIX) controlWritten() {
	ctl := m.cs.Get16(m.cap + msixControl)
	m.enabled = ctl&msixEnable != 0
	m.fmask = ctl&msixFunctionMask != 0
	m.cs.msixOn = m.enabled
	m.cs.updateINTx()
	for v := range m.n {
		m.flush(v)
	}
}

// flush sends v if it is pending and nothing masks it any longer.
func (m *PCIMSIX) flush(v int) {
	if m.enabled && !m.fmask && !m.Masked(v) && m.Pending(v) {
		m.send(v)
	}
}

// Read reads the table or the PBA, at offset from the BAR's base; bytes
// outside both read 0. Software should use aligned dword or qword accesses
// (§6.8.2); any width works here.
func (m *PCIMSIX) Read(offset uint64, data []byte) {
	for i := range data {
		a := offset + uint64(i)
		switch {
		case a-m.tableOff < uint64(len(m.table)):
			data[i] = m.table[a-m.tableOff]
		case a-m.pbaOff < 8*uint64(len(m.pba)):
			o := a - m.pbaOff
			data[i] = byte(m.pba[o/8] >> (8 * (o % 8)))
		default:
			data[i] = 0
		}
	}
}

// Write writes the table; the PBA is read-only, and so are the reserved
// bits of Vector Control. Unmasking a vector with its pending bit set sends
// its message.
func (m *PCIMSIX) Write(offset uint64, data []byte) {
	first, last := -1, -1
	for i, b := range data {
		o := offset + uint64(i) - m.tableOff
		if o >= uint64(len(m.table)) {
			continue
		}
		switch o % msixEntrySize {
		case msixEntryVecCtl:
			b &= msixVecCtlMasked
		case msixEntryVecCtl + 1, msixEntryVecCtl + 2, msixEntryVecCtl + 3:
			b = 0
		}
		m.table[o] = b
		v := int(o / msixEntrySize)
		if first < 0 {
			first = v
		}
		last = v
	}
	for v := first; v >= 0 && v <= last; v++ {
		m.flush(v)
	}
}

// MSI capability layout with 64-bit addresses and per-vector masking, the
// form this model offers (PCI 3.0 §6.8.1, Figure 6-9).
const (
	msiCapLength       = 0x18
	msiControl         = 0x02
	msiAddrLow         = 0x04
	msiAddrHigh        = 0x08
	msiData            = 0x0C
	msiMaskBits        = 0x10
	msiPendingBits     = 0x14
	msiEnable          = 1 << 0
	msiMMEShift        = 4 // Multiple Message Enable, bits 6:4
	msiMMCShift        = 1 // Multiple Message Capable, bits 3:1
	msi64Bit           = 1 << 7
	msiPerVectorMask   = 1 << 8
	msiControlWritable = msiEnable | 7<<msiMMEShift
)

// PCIMSI is a plain MSI capability: up to 32 vectors, one address and data
// pair, the vector number in the low bits of the data (§6.8.1.6),
// per-vector mask and pending bits.
type PCIMSI struct {
	cs  *PCIConfigSpace
	cap int
	n   int // vectors the function requests (Multiple Message Capable)

	Dropped uint64 // messages dropped for bad programming
}

// NewPCIMSI adds an MSI capability for vectors (1, 2, 4, 8, 16 or 32) to cs.
func NewPCIMSI(cs *PCIConfigSpace, vectors int) (*PCIMSI, error) {
	if vectors < 1 || vectors > 32 || vectors&(vectors-1) != 0 {
		return nil, fmt.Errorf("MSI: %d vectors, want a power of two up to 32", vectors)
	}
	off, err := cs.AddCapability(PCICapMSI, msiCapLength)
	if err != nil {
		return nil, err
	}
	m := &PCIMSI{cs: cs, cap: off, n: vectors}
	cs.Set16(off+msiControl, uint16(pciLog2(uint64(vectors)))<<msiMMCShift|msi64Bit|msiPerVectorMask)
	cs.SetWritable(off+msiControl, 2, msiControlWritable)
	cs.SetWritable(off+msiAddrLow, 4, 0xFFFFFFFC)
	cs.SetWritable(off+msiAddrHigh, 4, 0xFFFFFFFF)
	cs.SetWritable(off+msiData, 2, 0xFFFF)
	cs.SetWritable(off+msiMaskBits, 4, uint32(uint64(1)<<vectors-1))
	cs.OnWrite(off+msiControl, 2, func(int, []byte) { m.controlWritten() })
	cs.OnWrite(off+msiMaskBits, 4, func(int, []byte) { m.flush() })
	return m, nil
}

// Capability returns the capability's offset in configuration space.
func (m *PCIMSI) Capability() int { return m.cap }

// Enabled reports whether the guest has enabled MSI.
func (m *PCIMSI) Enabled() bool { return m.cs.Get16(m.cap+msiControl)&msiEnable != 0 }

// allocated is the number of vectors the guest granted (Multiple Message
// Enable), never more than the function asked for.
func (m *PCIMSI) allocated() int {
	mme := int(m.cs.Get16(m.cap+msiControl)>>msiMMEShift) & 7
	return min(1<<mme, m.n)
}

// Masked reports the mask bit of vector v.
func (m *PCIMSI) Masked(v int) bool {
	return v < 0 || v >= 32 || m.cs.Get32(m.cap+msiMaskBits)&(1<<v) != 0
}

// Pending reports the pending bit of vector v.
func (m *PCIMSI) Pending(v int) bool {
	return v >= 0 && v < 32 && m.cs.Get32(m.cap+msiPendingBits)&(1<<v) != 0
}

// Notify signals vector v: sent, or held pending while masked; it reports
// false if MSI is disabled or v is beyond the vectors the guest allocated.
func (m *PCIMSI) Notify(v int) bool {
	if !m.Enabled() {
		return false
	}
	if v < 0 || v >= m.allocated() {
		m.Dropped++
		m.cs.log("MSI: vector %d beyond the %d allocated", v, m.allocated())
		return false
	}
	if m.Masked(v) {
		m.cs.Set32(m.cap+msiPendingBits, m.cs.Get32(m.cap+msiPendingBits)|1<<v)
		return true
	}
	m.send(v)
	return true
}

func (m *PCIMSI) send(v int) {
	m.cs.Set32(m.cap+msiPendingBits, m.cs.Get32(m.cap+msiPendingBits)&^(1<<v))
	addr := uint64(m.cs.Get32(m.cap+msiAddrLow)) | uint64(m.cs.Get32(m.cap+msiAddrHigh))<<32
	data := uint32(m.cs.Get16(m.cap + msiData))
	data = data&^uint32(m.allocated()-1) | uint32(v)
	if !m.cs.sendMSI(fmt.Sprintf("MSI vector %d", v), addr, data) {
		m.Dropped++
	}
}

func (m *PCIMSI) controlWritten() {
	m.cs.msiOn = m.Enabled()
	m.cs.updateINTx()
	m.flush()
}

// flush sends the pending vectors that are no longer masked.
func (m *PCIMSI) flush() {
	if !m.Enabled() {
		return
	}
	for v := range m.allocated() {
		if m.Pending(v) && !m.Masked(v) {
			m.send(v)
		}
	}
}
