package virtio

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
	vt "github.com/gemu-project/gemu/virtio/virtiotest"
)

var (
	_ devices.PCIFunction = (*PCI)(nil)
	_ devices.Device      = (*PCI)(nil)
)

// memDisk is an in-memory block backend.
type memDisk struct{ b []byte }

func (d *memDisk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(d.b)) {
		return 0, errors.New("memDisk: out of range")
	}
	return copy(p, d.b[off:]), nil
}

func (d *memDisk) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(d.b)) {
		return 0, errors.New("memDisk: out of range")
	}
	return copy(d.b[off:], p), nil
}
func (d *memDisk) Sync() error    { return nil }
func (d *memDisk) Size() int64    { return int64(len(d.b)) }
func (d *memDisk) ReadOnly() bool { return false }

func newPCIBlock(t testing.TB) *Block {
	t.Helper()
	b, err := NewBlock(&memDisk{diskPattern()}, BlockConfig{QueueSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type msiWrite struct {
	Addr uint64
	Data uint32
}

// pciMachine is the part of a PC a virtio-pci function lives in: a port
// bus, an MMIO bus, PCI bus 0 with the function added and its resources
// assigned as SeaBIOS would, the ISA interrupt lines and the MSI writes.
type pciMachine struct {
	t      testing.TB
	mem    *mmu.Memory
	pio    *devices.Bus
	mmio   *devices.Bus
	bus    *devices.PCIBus
	irq    *irqRecorder
	msis   []msiWrite
	log    *logRecorder
	p      *PCI
	slot   int
	strict bool // fail the test on an access nothing claims
}

func newPCIMachine(t testing.TB, dev Device) *pciMachine {
	t.Helper()
	m := &pciMachine{t: t, mem: newMemory(t), pio: devices.NewBus("pio"), mmio: devices.NewBus("mmio"),
		irq: &irqRecorder{}, log: &logRecorder{}, strict: true}
	var err error
	m.bus, err = devices.NewPCIBus(devices.PCIBusConfig{
		PIO: m.pio, MMIO: m.mmio, IRQ: m.irq,
		MSI: func(addr uint64, data uint32) { m.msis = append(m.msis, msiWrite{addr, data}) },
		Log: m.log.logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.p, err = NewPCI(dev, PCIConfig{Mem: m.mem, Logf: m.log.logf}); err != nil {
		t.Fatal(err)
	}
	if m.slot, err = m.bus.AddDevice(m.p); err != nil {
		t.Fatal(err)
	}
	if err := m.bus.AssignResources(); err != nil {
		t.Fatal(err)
	}
	return m
}

// cfgRead and cfgWrite reach the function's configuration space through
// the ports, configuration mechanism #1.
func (m *pciMachine) cfgRead(reg, size int) uint32 {
	var a [4]byte
	binary.LittleEndian.PutUint32(a[:], 1<<31|uint32(m.slot)<<11|uint32(reg&^3))
	m.pio.Write(devices.PCIConfigAddressPort, a[:])
	data := make([]byte, size)
	m.pio.Read(uint64(devices.PCIConfigDataPort+reg&3), data)
	var b [4]byte
	copy(b[:], data)
	return binary.LittleEndian.Uint32(b[:])
}

func (m *pciMachine) cfgWrite(reg, size int, v uint32) {
	var a [4]byte
	binary.LittleEndian.PutUint32(a[:], 1<<31|uint32(m.slot)<<11|uint32(reg&^3))
	m.pio.Write(devices.PCIConfigAddressPort, a[:])
	binary.LittleEndian.PutUint32(a[:], v)
	m.pio.Write(uint64(devices.PCIConfigDataPort+reg&3), a[:size])
}

// read and write are memory accesses by the CPU at physical address addr.
func (m *pciMachine) read(addr uint64, size int) uint64 {
	m.t.Helper()
	data := make([]byte, size)
	if !m.mmio.Read(addr, data) && m.strict {
		m.t.Fatalf("%d-byte read at %#x: no device", size, addr)
	}
	var b [8]byte
	copy(b[:], data)
	return binary.LittleEndian.Uint64(b[:])
}

func (m *pciMachine) write(addr uint64, size int, v uint64) {
	m.t.Helper()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	if !m.mmio.Write(addr, b[:size]) && m.strict {
		m.t.Fatalf("%d-byte write at %#x: no device", size, addr)
	}
}

// intx is the level of the ISA IRQ the function's INTA# is routed to.
func (m *pciMachine) intx() bool {
	return m.irq.level[m.bus.IRQ(m.slot, 1)]
}

// pciDriver plays Linux's virtio_pci_modern (drivers/virtio/
// virtio_pci_modern_dev.c, virtio_pci_modern.c, virtio_pci_common.c in
// 6.1) against a pciMachine.
type pciDriver struct {
	m *pciMachine
	// Physical addresses of the regions, found from the capabilities.
	common, isr, device, notify uint64
	notifyLen, notifyMult       uint32
	msixTable                   uint64
}

// findCapability is virtio_pci_find_capability: the first vendor-specific
// capability of type typ whose BAR exists.
func (d *pciDriver) findCapability(typ uint8) int {
	m := d.m
	if m.cfgRead(devices.PCIStatus, 2)&devices.PCIStatusCapabilities == 0 {
		return 0
	}
	for pos, n := int(m.cfgRead(devices.PCICapabilitiesPointer, 1)), 0; pos != 0 && n < 48; pos, n = int(m.cfgRead(pos+1, 1)), n+1 {
		if m.cfgRead(pos, 1) != devices.PCICapVendor {
			continue
		}
		bar := int(m.cfgRead(pos+pciCapBar, 1))
		if bar > 5 {
			continue
		}
		if uint8(m.cfgRead(pos+pciCapCfgType, 1)) == typ && d.barAddress(bar) != 0 {
			return pos
		}
	}
	return 0
}

// capability finds the capability with ID id (pci_find_capability).
func (d *pciDriver) capability(id uint8) int {
	m := d.m
	for pos, n := int(m.cfgRead(devices.PCICapabilitiesPointer, 1)), 0; pos != 0 && n < 48; pos, n = int(m.cfgRead(pos+1, 1)), n+1 {
		if uint8(m.cfgRead(pos, 1)) == id {
			return pos
		}
	}
	return 0
}

// barAddress is the memory address programmed in BAR i, 0 if none.
func (d *pciDriver) barAddress(i int) uint64 {
	lo := d.m.cfgRead(devices.PCIBAR0+4*i, 4)
	if lo&1 != 0 {
		return 0 // I/O
	}
	addr := uint64(lo &^ 0xF)
	if lo&6 == 4 {
		addr |= uint64(d.m.cfgRead(devices.PCIBAR0+4*i+4, 4)) << 32
	}
	return addr
}

// mapCapability is vp_modern_map_capability: the address of [start,
// start+size) of the capability's structure, checked as Linux checks it.
func (d *pciDriver) mapCapability(pos int, minlen, align, start, size uint32) (uint64, uint32) {
	t, m := d.m.t, d.m
	t.Helper()
	bar := int(m.cfgRead(pos+pciCapBar, 1))
	offset := m.cfgRead(pos+pciCapOffset, 4)
	length := m.cfgRead(pos+pciCapLength, 4)
	if length <= start || length-start < minlen {
		t.Fatalf("capability at %#x: length %#x, want %#x from %#x", pos, length, minlen, start)
	}
	length -= start
	offset += start
	if offset&(align-1) != 0 {
		t.Fatalf("capability at %#x: offset %#x not %d-aligned", pos, offset, align)
	}
	length = min(length, size)
	if uint64(offset)+uint64(minlen) > d.m.p.PCIConfig().BAR(bar).Size {
		t.Fatalf("capability at %#x: %#x+%#x beyond BAR %d", pos, offset, minlen, bar)
	}
	return d.barAddress(bar) + uint64(offset), length
}

// probe is virtio_pci_probe and vp_modern_probe: it checks the identity,
// enables the device and bus mastering, and maps the regions.
func probePCI(t testing.TB, m *pciMachine) *pciDriver {
	t.Helper()
	d := &pciDriver{m: m}
	equal(t, uint32(PCIVendorID), m.cfgRead(devices.PCIVendorID, 2), "vendor ID")
	if dev := m.cfgRead(devices.PCIDeviceID, 2); dev < 0x1040 || dev > 0x107F {
		t.Fatalf("device ID %#x is not a modern virtio device", dev)
	}
	cmd := m.cfgRead(devices.PCICommand, 2)
	m.cfgWrite(devices.PCICommand, 2, cmd|devices.PCICommandMemory|devices.PCICommandMaster) // pci_enable_device, pci_set_master

	common := d.findCapability(pciCapCommonCfg)
	isr := d.findCapability(pciCapISRCfg)
	notify := d.findCapability(pciCapNotifyCfg)
	device := d.findCapability(pciCapDeviceCfg)
	if common == 0 || isr == 0 || notify == 0 || device == 0 {
		t.Fatalf("missing capabilities: common %#x isr %#x notify %#x device %#x", common, isr, notify, device)
	}
	d.common, _ = d.mapCapability(common, 0x38, 4, 0, 0x3C)
	d.isr, _ = d.mapCapability(isr, 1, 1, 0, 1)
	d.notifyMult = m.cfgRead(notify+pciCapNotifyMult, 4)
	d.notify, d.notifyLen = d.mapCapability(notify, 2, 2, 0, m.cfgRead(notify+pciCapLength, 4))
	d.device, _ = d.mapCapability(device, 0, 4, 0, 0x1000)
	return d
}

func (d *pciDriver) r8(off uint64) uint8    { return uint8(d.m.read(d.common+off, 1)) }
func (d *pciDriver) r16(off uint64) uint16  { return uint16(d.m.read(d.common+off, 2)) }
func (d *pciDriver) r32(off uint64) uint32  { return uint32(d.m.read(d.common+off, 4)) }
func (d *pciDriver) w8(off uint64, v uint8) { d.m.write(d.common+off, 1, uint64(v)) }
func (d *pciDriver) w16(off uint64, v uint16) {
	d.m.write(d.common+off, 2, uint64(v))
}
func (d *pciDriver) w32(off uint64, v uint32) { d.m.write(d.common+off, 4, uint64(v)) }

func (d *pciDriver) status() uint8 { return d.r8(pciDeviceStatus) }

func (d *pciDriver) addStatus(bits uint8) { d.w8(pciDeviceStatus, d.status()|bits) }

// reset is vp_reset: write 0, wait for status to read 0.
func (d *pciDriver) reset() {
	d.m.t.Helper()
	d.w8(pciDeviceStatus, 0)
	for range 10 {
		if d.status() == 0 {
			return
		}
	}
	d.m.t.Fatalf("status %#x after reset", d.status())
}

func (d *pciDriver) deviceFeatures() uint64 {
	d.w32(pciDeviceFeatureSelect, 0)
	f := uint64(d.r32(pciDeviceFeature))
	d.w32(pciDeviceFeatureSelect, 1)
	return f | uint64(d.r32(pciDeviceFeature))<<32
}

func (d *pciDriver) setFeatures(f uint64) {
	d.w32(pciDriverFeatureSelect, 0)
	d.w32(pciDriverFeature, uint32(f))
	d.w32(pciDriverFeatureSelect, 1)
	d.w32(pciDriverFeature, uint32(f>>32))
}

// negotiate is virtio_dev_probe up to FEATURES_OK.
func (d *pciDriver) negotiate(want uint64) bool {
	d.reset()
	d.addStatus(StatusAcknowledge)
	d.addStatus(StatusDriver)
	d.setFeatures(d.deviceFeatures() & want)
	d.addStatus(StatusFeaturesOK)
	return d.status()&StatusFeaturesOK != 0
}

// setupQueue is the modern setup_vq for queue i on ring r with MSI-X
// vector (PCINoVector without MSI-X). It returns the notification address.
func (d *pciDriver) setupQueue(i uint16, r *vt.Ring, vector uint16) uint64 {
	t := d.m.t
	t.Helper()
	if i >= d.r16(pciNumQueues) {
		t.Fatalf("queue %d: num_queues %d", i, d.r16(pciNumQueues))
	}
	d.w16(pciQueueSelect, i)
	num := d.r16(pciQueueSize)
	if num == 0 || d.r16(pciQueueEnable) != 0 {
		t.Fatalf("queue %d: size %d, enable %d", i, num, d.r16(pciQueueEnable))
	}
	if num&(num-1) != 0 || num < r.Size {
		t.Fatalf("queue %d: size %d, ring of %d", i, num, r.Size)
	}
	d.w16(pciQueueSize, r.Size)
	for _, a := range []struct {
		off  uint64
		addr mmu.GPA
	}{{pciQueueDesc, r.Desc}, {pciQueueDriver, r.Avail}, {pciQueueDevice, r.Used}} {
		d.w32(a.off, uint32(a.addr)) // vp_iowrite64_twopart
		d.w32(a.off+4, uint32(a.addr>>32))
	}
	off := uint64(d.r16(pciQueueNotifyOff)) * uint64(d.notifyMult)
	if off+2 > uint64(d.notifyLen) {
		t.Fatalf("queue %d: notify offset %#x beyond %#x", i, off, d.notifyLen)
	}
	if vector != PCINoVector {
		d.w16(pciQueueMSIXVector, vector)
		if got := d.r16(pciQueueMSIXVector); got != vector {
			t.Fatalf("queue %d: MSI-X vector %d read back as %#x", i, vector, got)
		}
	}
	return d.notify + off
}

// enableQueue is the end of vp_modern_find_vqs.
func (d *pciDriver) enableQueue(i uint16) {
	d.w16(pciQueueSelect, i)
	d.w16(pciQueueEnable, 1)
}

// kick is vp_notify: the queue index, 16 bits, at its address.
func (d *pciDriver) kick(addr uint64, i uint16) { d.m.write(addr, 2, uint64(i)) }

// readISR is vp_interrupt's read of the ISR status.
func (d *pciDriver) readISR() uint8 { return uint8(d.m.read(d.isr, 1)) }

// enableMSIX is pci_alloc_irq_vectors and request_irq on x86: each vector
// gets a message to the local APIC with vector 0x40+v, unmasked, and
// MSI-X is enabled. It returns the number of vectors.
func (d *pciDriver) enableMSIX() int {
	m := d.m
	c := d.capability(devices.PCICapMSIX)
	if c == 0 {
		m.t.Fatal("no MSI-X capability")
	}
	n := int(m.cfgRead(c+2, 2)&0x7FF) + 1
	table := m.cfgRead(c+4, 4)
	d.msixTable = d.barAddress(int(table&7)) + uint64(table&^7)
	m.cfgWrite(c+2, 2, 1<<15|1<<14) // enable, function masked while programming
	for v := range n {
		e := d.msixTable + 16*uint64(v)
		m.write(e, 4, 0xFEE00000)
		m.write(e+4, 4, 0)
		m.write(e+8, 4, uint64(0x40+v))
		m.write(e+12, 4, 0)
	}
	m.cfgWrite(c+2, 2, 1<<15)
	return n
}

// blkRead posts a virtio-blk read of sector into data as virtblk_add_req
// does, with an indirect table, and returns the head and the status byte's
// address.
func blkRead(mem *mmu.Memory, r *vt.Ring, sector uint64, hdr, data, status, table mmu.GPA) uint16 {
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], blkTIn)
	binary.LittleEndian.PutUint64(h[8:], sector)
	mem.WriteAt(hdr, h[:])
	mem.RAM[status] = 0xFF
	return r.AddIndirect(table, vt.Buf{Addr: hdr, Len: 16}, vt.Buf{Addr: data, Len: 512, Write: true}, vt.Buf{Addr: status, Len: 1, Write: true})
}

// TestPCIIdentity checks the configuration space a virtio-blk function
// shows to a guest after the firmware set it up.
func TestPCIIdentity(t *testing.T) {
	m := newPCIMachine(t, newPCIBlock(t))
	equal(t, 2, m.slot, "slot")
	equal(t, uint32(0x10421AF4), m.cfgRead(devices.PCIVendorID, 4), "vendor and device")
	equal(t, uint32(0x01000001), m.cfgRead(devices.PCIRevisionID, 4), "class and revision")
	equal(t, uint32(0x10421AF4), m.cfgRead(devices.PCISubsystemVendorID, 4), "subsystem")
	equal(t, uint32(0), m.cfgRead(devices.PCIHeaderType, 1), "header type")
	equal(t, uint32(1), m.cfgRead(devices.PCIInterruptPin, 1), "interrupt pin")
	equal(t, uint32(m.bus.IRQ(m.slot, 1)), m.cfgRead(devices.PCIInterruptLine, 1), "interrupt line")

	// BAR 1: 32-bit memory; BAR 4: 64-bit prefetchable memory (type bits
	// 0b1100), both assigned in the PCI hole.
	bar1, bar4 := m.cfgRead(devices.PCIBAR0+4, 4), m.cfgRead(devices.PCIBAR0+16, 4)
	equal(t, uint32(0), bar1&0xF, "BAR 1 type")
	equal(t, uint32(0xC), bar4&0xF, "BAR 4 type")
	if bar1&^0xF < devices.PCIMemBase || bar4&^0xF < devices.PCIMemBase {
		t.Fatalf("BARs at %#x and %#x, outside the PCI hole", bar1, bar4)
	}
	for _, bar := range []int{0, 2, 3} {
		equal(t, uint32(0), m.cfgRead(devices.PCIBAR0+4*bar, 4), "BAR %d", bar)
	}
	// Sizing BAR 4 the way an OS does: 16 KiB.
	m.cfgWrite(devices.PCIBAR0+16, 4, 0xFFFFFFFF)
	equal(t, uint32(0xFFFFC00C), m.cfgRead(devices.PCIBAR0+16, 4), "BAR 4 size mask")
	m.cfgWrite(devices.PCIBAR0+16, 4, bar4)

	// The capability list: four regions in BAR 4, the PCI configuration
	// access capability and MSI-X.
	type vcap struct {
		Type, Bar, Len   uint32
		Offset, Length   uint32
		NotifyMultiplier uint32
	}
	var vcaps []vcap
	msix := 0
	for pos := int(m.cfgRead(devices.PCICapabilitiesPointer, 1)); pos != 0; pos = int(m.cfgRead(pos+1, 1)) {
		if pos&3 != 0 || pos < devices.PCIHeaderSize {
			t.Fatalf("capability at %#x", pos)
		}
		switch m.cfgRead(pos, 1) {
		case devices.PCICapVendor:
			c := vcap{Type: m.cfgRead(pos+3, 1), Bar: m.cfgRead(pos+4, 1), Len: m.cfgRead(pos+2, 1),
				Offset: m.cfgRead(pos+8, 4), Length: m.cfgRead(pos+12, 4)}
			if c.Type == pciCapNotifyCfg {
				c.NotifyMultiplier = m.cfgRead(pos+16, 4)
			}
			vcaps = append(vcaps, c)
		case devices.PCICapMSIX:
			msix = pos
		}
	}
	equal(t, []vcap{
		{Type: pciCapCommonCfg, Bar: 4, Len: 16, Offset: 0x0000, Length: 0x1000},
		{Type: pciCapISRCfg, Bar: 4, Len: 16, Offset: 0x1000, Length: 0x1000},
		{Type: pciCapDeviceCfg, Bar: 4, Len: 16, Offset: 0x2000, Length: 0x1000},
		{Type: pciCapNotifyCfg, Bar: 4, Len: 20, Offset: 0x3000, Length: 0x1000, NotifyMultiplier: 4},
		{Type: pciCapPCICfg, Bar: 0, Len: 20},
	}, vcaps, "vendor-specific capabilities")
	if msix == 0 {
		t.Fatal("no MSI-X capability")
	}
	equal(t, uint32(1), m.cfgRead(msix+2, 2), "MSI-X table size: config + 1 queue, N-1")
	equal(t, uint32(PCIMSIXBAR), m.cfgRead(msix+4, 4), "MSI-X table BIR and offset")
	equal(t, uint32(0x800|PCIMSIXBAR), m.cfgRead(msix+8, 4), "MSI-X PBA BIR and offset")

	// Other device types take QEMU's classes.
	for _, c := range []struct {
		id    DeviceID
		class uint32
	}{{DeviceIDNet, 0x020000}, {DeviceIDBlock, 0x010000}, {DeviceIDConsole, 0x078000}, {DeviceIDEntropy, 0x00FF00}} {
		equal(t, c.class, PCIClass(c.id), "class of %s", c.id)
	}
}

// TestPCILinuxINTx drives virtio-blk over virtio-pci as Linux's
// virtio_pci and virtio_blk do without MSI-X (acpi=off, no APIC): from the
// capability walk to a request completed through the ISR and INTx.
func TestPCILinuxINTx(t *testing.T) {
	blk := newPCIBlock(t)
	m := newPCIMachine(t, blk)
	d := probePCI(t, m)

	// virtio_dev_probe.
	d.reset()
	d.addStatus(StatusAcknowledge)
	d.addStatus(StatusDriver)
	offered := d.deviceFeatures()
	equal(t, blk.Features(), offered, "device features")
	accepted := offered & (FeatureVersion1 | FeatureEventIdx | FeatureIndirectDesc | blkFSegMax | blkFBlkSize | blkFFlush)
	d.setFeatures(accepted)
	d.addStatus(StatusFeaturesOK)
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK, d.status(), "status after FEATURES_OK")
	equal(t, accepted, m.p.Core().DriverFeatures(), "negotiated features")
	d.w32(pciDriverFeatureSelect, 1)
	equal(t, uint32(accepted>>32), d.r32(pciDriverFeature), "driver_feature word 1 read back")

	// virtblk_probe: capacity as two 32-bit reads (vp_get), then the queue.
	capacity := uint64(m.read(d.device+blkCfgCapacity, 4)) | uint64(m.read(d.device+blkCfgCapacity+4, 4))<<32
	equal(t, uint64(blkSectors), capacity, "capacity")
	equal(t, uint16(1), d.r16(pciNumQueues), "num_queues")
	equal(t, uint16(PCINoVector), d.r16(pciConfigMSIXVector), "config_msix_vector before MSI-X")
	r := vt.NewRing(m.mem, 0x8000, 32)
	notify := d.setupQueue(0, r, PCINoVector)
	equal(t, d.notify, notify, "queue 0's notification address")
	d.enableQueue(0)
	equal(t, uint16(1), d.r16(pciQueueEnable), "queue_enable")
	equal(t, uint64(r.Desc), uint64(d.r32(pciQueueDesc))|uint64(d.r32(pciQueueDesc+4))<<32, "queue_desc")
	d.addStatus(StatusDriverOK)
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK, d.status(), "status after DRIVER_OK")

	// A read of sector 1, notified as vp_notify does.
	hdr, data, status, table := mmu.GPA(0x20000), mmu.GPA(0x21000), mmu.GPA(0x22000), mmu.GPA(0x23000)
	head := blkRead(m.mem, r, 1, hdr, data, status, table)
	if m.intx() {
		t.Fatal("INTx asserted before the request")
	}
	d.kick(notify, 0)
	equal(t, uint16(1), r.UsedIdx(), "used idx")
	equal(t, vt.Used{ID: uint32(head), Len: 513}, r.UsedElem(0), "used element")
	equal(t, byte(blkSOK), m.mem.RAM[status], "request status")
	equal(t, diskPattern()[512:1024], m.mem.RAM[data:data+512], "sector 1")

	// The interrupt: INTx on the routed ISA IRQ, Interrupt Status set.
	irq := m.bus.IRQ(m.slot, 1)
	equal(t, []irqEvent{{irq, true}}, m.irq.events, "IRQ lines after the request")
	equal(t, uint32(devices.PCIStatusInterrupt), m.cfgRead(devices.PCIStatus, 2)&devices.PCIStatusInterrupt, "Interrupt Status")

	// vp_interrupt: reading the ISR returns the queue bit, clears it and
	// deasserts the line.
	equal(t, uint8(pciISRQueue), d.readISR(), "ISR")
	equal(t, []irqEvent{{irq, true}, {irq, false}}, m.irq.events, "IRQ lines after the ISR read")
	equal(t, uint32(0), m.cfgRead(devices.PCIStatus, 2)&devices.PCIStatusInterrupt, "Interrupt Status after the ISR read")
	equal(t, uint8(0), d.readISR(), "ISR read again")

	// With the Interrupt Disable bit set the ISR still works, the line
	// stays low (PCI 3.0 §6.2.2). used_event asks for the next interrupt,
	// as virtqueue_enable_cb does.
	r.SetUsedEvent(r.UsedIdx())
	cmd := m.cfgRead(devices.PCICommand, 2)
	m.cfgWrite(devices.PCICommand, 2, cmd|devices.PCICommandINTxDisable)
	blkRead(m.mem, r, 2, hdr, data, status, table)
	d.kick(notify, 0)
	equal(t, uint16(2), r.UsedIdx(), "used idx after the second request")
	equal(t, 2, len(m.irq.events), "IRQ events with INTx disabled")
	equal(t, uint8(pciISRQueue), d.readISR(), "ISR with INTx disabled")
	m.cfgWrite(devices.PCICommand, 2, cmd)

	// Removal: reset; the queue is gone, the status reads 0.
	d.reset()
	d.w16(pciQueueSelect, 0)
	equal(t, uint16(0), d.r16(pciQueueEnable), "queue_enable after reset")
	equal(t, uint16(64), d.r16(pciQueueSize), "queue_size after reset: the maximum")
	equal(t, error(nil), m.p.Err(), "device error")
}

// TestPCILinuxMSIX drives the same device with MSI-X, one vector for
// configuration changes and one per queue (vp_find_vqs_msix with
// per_vq_vectors).
func TestPCILinuxMSIX(t *testing.T) {
	m := newPCIMachine(t, newPCIBlock(t))
	d := probePCI(t, m)
	if !d.negotiate(^FeatureEventIdx) {
		t.Fatalf("FEATURES_OK refused: %v", m.p.Err())
	}
	equal(t, 2, d.enableMSIX(), "MSI-X vectors")
	if !m.p.MSIX().Enabled() {
		t.Fatal("MSI-X not enabled")
	}

	// vp_config_vector writes the vector and reads it back.
	d.w16(pciConfigMSIXVector, 0)
	equal(t, uint16(0), d.r16(pciConfigMSIXVector), "config_msix_vector")
	// Vectors beyond the table read back NO_VECTOR (§4.1.5.1.2).
	d.w16(pciConfigMSIXVector, 2)
	equal(t, uint16(PCINoVector), d.r16(pciConfigMSIXVector), "config_msix_vector 2 of 2")
	d.w16(pciConfigMSIXVector, 0)

	r := vt.NewRing(m.mem, 0x8000, 32)
	d.w16(pciQueueSelect, 0)
	d.w16(pciQueueMSIXVector, 0x7FF)
	equal(t, uint16(PCINoVector), d.r16(pciQueueMSIXVector), "queue_msix_vector 0x7FF")
	notify := d.setupQueue(0, r, 1)
	d.enableQueue(0)
	d.addStatus(StatusDriverOK)

	hdr, data, status, table := mmu.GPA(0x20000), mmu.GPA(0x21000), mmu.GPA(0x22000), mmu.GPA(0x23000)
	blkRead(m.mem, r, 3, hdr, data, status, table)
	d.kick(notify, 0)
	equal(t, uint16(1), r.UsedIdx(), "used idx")
	equal(t, diskPattern()[3*512:4*512], m.mem.RAM[data:data+512], "sector 3")
	equal(t, []msiWrite{{0xFEE00000, 0x41}}, m.msis, "MSI-X messages")
	equal(t, []irqEvent(nil), m.irq.events, "INTx with MSI-X")
	equal(t, uint8(0), m.p.ISR(), "ISR: queue interrupts do not set it with MSI-X")

	// A masked vector: the message waits in the PBA until unmasked.
	m.write(d.msixTable+16+12, 4, 1)
	blkRead(m.mem, r, 4, hdr, data, status, table)
	d.kick(notify, 0)
	equal(t, uint16(2), r.UsedIdx(), "used idx, vector masked")
	equal(t, 1, len(m.msis), "messages while masked")
	if !m.p.MSIX().Pending(1) {
		t.Fatal("vector 1 not pending")
	}
	m.write(d.msixTable+16+12, 4, 0)
	equal(t, []msiWrite{{0xFEE00000, 0x41}, {0xFEE00000, 0x41}}, m.msis, "messages after unmasking")

	// NO_VECTOR: the used buffer notification goes nowhere.
	d.w16(pciQueueMSIXVector, PCINoVector)
	blkRead(m.mem, r, 5, hdr, data, status, table)
	d.kick(notify, 0)
	equal(t, uint16(3), r.UsedIdx(), "used idx, no vector")
	equal(t, 2, len(m.msis), "messages without a vector")
	equal(t, []irqEvent(nil), m.irq.events, "INTx without a vector")

	// A device that gives up (a descriptor loop) sends a configuration
	// change on the configuration vector and sets the ISR's bit 1.
	d.w16(pciQueueMSIXVector, 1)
	r.SetDesc(10, vt.Desc{Addr: uint64(hdr), Len: 16, Flags: vt.FlagNext, Next: 10})
	r.Offer(10)
	d.kick(notify, 0)
	if !errors.Is(m.p.Err(), ErrLoop) {
		t.Fatalf("Err = %v, want a loop", m.p.Err())
	}
	equal(t, StatusNeedsReset, d.status()&StatusNeedsReset, "DEVICE_NEEDS_RESET")
	equal(t, []msiWrite{{0xFEE00000, 0x41}, {0xFEE00000, 0x41}, {0xFEE00000, 0x40}}, m.msis, "messages after the failure")
	equal(t, uint8(pciISRConfig), m.p.ISR(), "ISR after a configuration change")
	equal(t, []irqEvent(nil), m.irq.events, "INTx after the failure")

	// Reset unmaps the vectors (QEMU's virtio_reset).
	d.reset()
	equal(t, uint16(PCINoVector), d.r16(pciConfigMSIXVector), "config_msix_vector after reset")
	d.w16(pciQueueSelect, 0)
	equal(t, uint16(PCINoVector), d.r16(pciQueueMSIXVector), "queue_msix_vector after reset")
	equal(t, uint8(0), m.p.ISR(), "ISR after reset")
}

// TestPCIConfigChange sends configuration changes from a device, through
// INTx and then MSI-X.
func TestPCIConfigChange(t *testing.T) {
	dev := &fakeDevice{}
	m := newPCIMachine(t, dev)
	d := probePCI(t, m)
	if !d.negotiate(^uint64(0)) {
		t.Fatal("FEATURES_OK refused")
	}
	equal(t, uint16(2), d.r16(pciNumQueues), "num_queues")
	r0, r1 := vt.NewRing(m.mem, 0x8000, 8), vt.NewRing(m.mem, 0x9000, 8)
	n0, n1 := d.setupQueue(0, r0, PCINoVector), d.setupQueue(1, r1, PCINoVector)
	equal(t, uint64(PCINotifyMultiplier), n1-n0, "notification addresses")
	d.enableQueue(0)
	d.enableQueue(1)
	d.addStatus(StatusDriverOK)
	if dev.env == nil {
		t.Fatal("device not activated")
	}
	d.kick(n1, 1)
	d.kick(n0, 0)
	equal(t, []int{1, 0}, dev.notified, "notifications")

	gen := d.r8(pciConfigGeneration)
	dev.env.Interrupt.ConfigChanged()
	equal(t, gen+1, d.r8(pciConfigGeneration), "config_generation")
	if !m.intx() {
		t.Fatal("INTx not asserted on a configuration change")
	}
	equal(t, uint8(pciISRConfig), d.readISR(), "ISR")
	if m.intx() {
		t.Fatal("INTx still asserted after the ISR read")
	}
	dev.env.Interrupt.UsedBuffer(1)
	dev.env.Interrupt.ConfigChanged()
	equal(t, uint8(pciISRQueue|pciISRConfig), d.readISR(), "ISR with both events")

	// MSI-X: config on vector 2, queue 1 on vector 0, queue 0 on none.
	equal(t, 3, d.enableMSIX(), "MSI-X vectors")
	d.w16(pciConfigMSIXVector, 2)
	d.w16(pciQueueSelect, 1)
	d.w16(pciQueueMSIXVector, 0)
	dev.env.Interrupt.ConfigChanged()
	dev.env.Interrupt.UsedBuffer(1)
	dev.env.Interrupt.UsedBuffer(0)
	equal(t, []msiWrite{{0xFEE00000, 0x42}, {0xFEE00000, 0x40}}, m.msis, "MSI-X messages")
	if m.intx() {
		t.Fatal("INTx asserted with MSI-X on")
	}
	// Turning MSI-X off leaves the stale configuration bit without a line.
	c := d.capability(devices.PCICapMSIX)
	m.cfgWrite(c+2, 2, 0)
	if m.intx() {
		t.Fatal("INTx asserted when MSI-X was turned off")
	}
	equal(t, uint8(pciISRConfig), d.readISR(), "ISR after MSI-X")
}

// TestPCIBadProgramming checks that the device survives what a broken
// driver does, as the spec asks: ignored accesses, NO_VECTOR, or
// DEVICE_NEEDS_RESET.
func TestPCIBadProgramming(t *testing.T) {
	dev := &fakeDevice{}
	m := newPCIMachine(t, dev)
	d := probePCI(t, m)
	p := m.p

	// Before FEATURES_OK a queue cannot be enabled.
	d.reset()
	d.addStatus(StatusAcknowledge | StatusDriver)
	d.w16(pciQueueSelect, 0)
	d.w16(pciQueueEnable, 1)
	equal(t, uint16(0), d.r16(pciQueueEnable), "queue_enable before FEATURES_OK")

	// Wrong widths and read-only fields are ignored.
	d.w32(pciDeviceFeatureSelect, 0)
	equal(t, uint64(0), m.read(d.common+pciDeviceFeature, 2), "2-byte read of device_feature")
	equal(t, uint64(0), m.read(d.common+pciDeviceFeature+1, 1), "byte read inside device_feature")
	equal(t, uint64(0), m.read(d.common+pciConfigMSIXVector, 4), "4-byte read of config_msix_vector")
	m.write(d.common+pciDeviceStatus, 2, 0)
	m.write(d.common+pciDeviceStatus, 4, 0)
	equal(t, StatusAcknowledge|StatusDriver, d.status(), "status after wide writes of 0")
	d.w16(pciNumQueues, 9)
	d.w32(pciDeviceFeature, 0)
	d.w8(pciConfigGeneration, 9)
	d.w16(pciQueueNotifyOff, 9)
	d.w16(pciQueueNotifyData, 9)
	d.w16(pciQueueReset, 1)
	equal(t, uint16(2), d.r16(pciNumQueues), "num_queues after a write")
	equal(t, uint16(0), d.r16(pciQueueNotifyOff), "queue_notify_off after a write")
	equal(t, uint16(0), d.r16(pciQueueReset), "queue_reset")
	equal(t, uint64(0), m.read(d.common+0x40, 4), "past the common configuration")
	m.write(d.common+0x40, 4, 1)
	// Accesses across the end of a region.
	equal(t, uint64(0), m.read(d.common+0xFFE, 4), "read across the common region's end")
	m.write(d.device+0xFFC, 8, ^uint64(0))
	// The device configuration: naturally aligned accesses only.
	m.write(d.device+2, 4, 0x11111111)
	m.write(d.device+4, 4, 0x04030201)
	equal(t, [8]byte{4: 1, 2, 3, 4}, dev.config, "device config")
	equal(t, uint64(0), m.read(d.device+1, 2), "misaligned device config read")
	equal(t, uint64(0x0201), m.read(d.device+4, 2), "device config read")
	equal(t, uint64(0x0403020100000000), m.read(d.device, 8), "8-byte device config read")
	buf := []byte{9, 9, 9}
	p.Read(pciDeviceOffset, buf)
	equal(t, []byte{0, 0, 0}, buf, "3-byte read")
	p.Read(pciModernSize, buf[:1])
	p.Write(pciModernSize+0x100, buf[:1])
	p.Read(1<<40, buf[:1])
	p.Write(pciCommonOffset, nil)
	p.Read(pciCommonOffset, nil)
	// The ISR is a byte at 0 and read-only; notifications are writes at
	// a queue's address.
	m.write(d.isr, 1, 3)
	equal(t, uint64(0), m.read(d.isr, 4), "4-byte ISR read")
	equal(t, uint64(0), m.read(d.isr+1, 1), "ISR byte 1")
	equal(t, uint64(0), m.read(d.notify, 2), "read of the notification area")

	// 64-bit queue addresses: as two halves or one 8-byte access; not as
	// 16-bit pieces.
	d.setFeatures(d.deviceFeatures())
	d.addStatus(StatusFeaturesOK)
	d.setFeatures(0) // ignored after FEATURES_OK
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK, d.status(), "status")
	d.w16(pciQueueSelect, 1)
	m.write(d.common+pciQueueDesc, 8, 0x1122_3344_5566_7788)
	m.write(d.common+pciQueueDriver+4, 4, 0xAABBCCDD)
	m.write(d.common+pciQueueDevice, 2, 0x1234)
	m.write(d.common+pciQueueDevice+2, 2, 0x1234)
	equal(t, QueueConfig{Size: 8, Desc: 0x1122_3344_5566_7788, Driver: 0xAABBCCDD_00000000}, p.Core().QueueConfig(1), "queue 1 configuration")
	equal(t, uint64(0x1122_3344_5566_7788), m.read(d.common+pciQueueDesc, 8), "8-byte read of queue_desc")
	equal(t, uint64(0x1122_3344), m.read(d.common+pciQueueDesc+4, 4), "queue_desc high half")

	// A queue that does not exist: size 0, no vector, writes ignored.
	d.w16(pciQueueSelect, 7)
	equal(t, uint16(0), d.r16(pciQueueSize), "queue_size of queue 7")
	equal(t, uint16(PCINoVector), d.r16(pciQueueMSIXVector), "queue_msix_vector of queue 7")
	equal(t, uint16(0), d.r16(pciQueueNotifyOff), "queue_notify_off of queue 7")
	d.w16(pciQueueSize, 4)
	d.w16(pciQueueMSIXVector, 0)
	d.w16(pciQueueEnable, 1)
	d.w32(pciQueueDesc, 0x1000)
	equal(t, uint16(0), d.r16(pciQueueEnable), "queue_enable of queue 7")
	equal(t, uint64(0), m.read(d.common+pciQueueDesc, 8), "queue_desc of queue 7")

	// queue_enable takes 1 only.
	d.w16(pciQueueSelect, 0)
	d.w16(pciQueueEnable, 2)
	equal(t, uint16(0), d.r16(pciQueueEnable), "queue_enable after writing 2")
	equal(t, error(nil), p.Err(), "device error so far")
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK, d.status(), "status so far")
	if !m.log.contains("ignored") {
		t.Fatal("ignored accesses not logged")
	}

	// Bad queues: DEVICE_NEEDS_RESET with the reason.
	for _, c := range []struct {
		name string
		size uint16
		desc uint64
	}{
		{"size not a power of two", 6, 0x8000},
		{"size above the maximum", 16, 0x8000},
		{"size 0", 0, 0x8000},
		{"ring outside RAM", 8, 0xC000_0000},
		{"ring across the end of RAM", 8, 1<<20 - 64},
		{"misaligned ring", 8, 0x8001},
	} {
		if !d.negotiate(^uint64(0)) {
			t.Fatal("FEATURES_OK refused")
		}
		r := vt.NewRing(m.mem, 0x8000, 8)
		d.w16(pciQueueSelect, 0)
		d.w16(pciQueueSize, c.size)
		m.write(d.common+pciQueueDesc, 8, c.desc)
		m.write(d.common+pciQueueDriver, 8, uint64(r.Avail))
		m.write(d.common+pciQueueDevice, 8, uint64(r.Used))
		d.w16(pciQueueEnable, 1)
		if !errors.Is(p.Err(), ErrQueueConfig) {
			t.Errorf("%s: Err = %v, want a bad queue configuration", c.name, p.Err())
		}
		equal(t, StatusNeedsReset, d.status()&StatusNeedsReset, "%s: DEVICE_NEEDS_RESET", c.name)
		equal(t, uint16(0), d.r16(pciQueueEnable), "%s: queue_enable", c.name)
		// DRIVER_OK does not start a device that needs a reset.
		d.addStatus(StatusDriverOK)
		d.kick(d.notify, 0)
		equal(t, []int(nil), dev.notified, "%s: notifications", c.name)
	}

	// Notifications at addresses that are not a queue's, or for queues
	// that are not ready, reach nobody.
	if !d.negotiate(^uint64(0)) {
		t.Fatal("FEATURES_OK refused")
	}
	d.setupQueue(0, vt.NewRing(m.mem, 0x8000, 8), PCINoVector)
	d.enableQueue(0)
	d.addStatus(StatusDriverOK)
	m.write(d.notify+2, 2, 0)
	m.write(d.notify+1, 1, 0)
	d.kick(d.notify+4, 1)       // queue 1: not enabled
	d.kick(d.notify+4*100, 100) // no such queue
	m.write(d.notify+0xFFC, 4, 0)
	d.kick(d.notify, 0)
	equal(t, []int{0}, dev.notified, "notifications")
	equal(t, error(nil), p.Err(), "device error")
}

// TestPCIConfigAccessCapability reaches the registers through the PCI
// configuration access capability (§4.1.4.9), with memory decoding off.
func TestPCIConfigAccessCapability(t *testing.T) {
	m := newPCIMachine(t, newPCIBlock(t))
	d := probePCI(t, m)
	c := d.findCapability(pciCapPCICfg)
	if c != 0 {
		t.Fatalf("PCI_CFG capability found with BAR 0: %#x", c)
	}
	for pos := int(m.cfgRead(devices.PCICapabilitiesPointer, 1)); pos != 0; pos = int(m.cfgRead(pos+1, 1)) {
		if m.cfgRead(pos, 1) == devices.PCICapVendor && m.cfgRead(pos+pciCapCfgType, 1) == pciCapPCICfg {
			c = pos
		}
	}
	if c == 0 {
		t.Fatal("no PCI_CFG capability")
	}
	m.cfgWrite(devices.PCICommand, 2, 0)
	m.strict = false
	equal(t, uint64(0), m.read(d.common+pciNumQueues, 2), "num_queues with decoding off")

	access := func(offset, length uint32) {
		m.cfgWrite(c+pciCapBar, 1, PCIModernBAR)
		m.cfgWrite(c+pciCapOffset, 4, offset)
		m.cfgWrite(c+pciCapLength, 4, length)
	}
	read := func(offset, length uint32) uint32 {
		access(offset, length)
		return m.cfgRead(c+pciCapCfgData, 4)
	}
	write := func(offset, length, v uint32) {
		access(offset, length)
		m.cfgWrite(c+pciCapCfgData, 4, v)
	}
	equal(t, uint32(1), read(pciCommonOffset+pciNumQueues, 2), "num_queues")
	equal(t, uint32(blkSectors), read(pciDeviceOffset+blkCfgCapacity, 4), "capacity")
	write(pciCommonOffset+pciDeviceStatus, 1, uint32(StatusAcknowledge))
	equal(t, StatusAcknowledge, m.p.Core().Status(), "status written through the capability")
	// A byte read of the data field performs the whole access.
	access(pciCommonOffset+pciDeviceStatus, 1)
	equal(t, uint32(StatusAcknowledge), m.cfgRead(c+pciCapCfgData, 1), "status, byte read")
	// The ISR read clears it.
	m.p.interrupt(pciISRQueue, PCINoVector)
	equal(t, uint32(pciISRQueue), read(pciISROffset, 1), "ISR")
	equal(t, uint8(0), m.p.ISR(), "ISR after the read")

	// Bad descriptions are ignored: a write of 0 to the status would
	// reset the device, and the data field keeps its bytes.
	for _, bad := range []struct {
		bar            uint32
		offset, length uint32
	}{
		{0, pciCommonOffset + pciDeviceStatus, 1},
		{1, pciCommonOffset + pciDeviceStatus, 1},
		{PCIModernBAR, pciCommonOffset + pciDeviceStatus, 3},
		{PCIModernBAR, pciCommonOffset + pciDeviceStatus, 8},
		{PCIModernBAR, pciCommonOffset + pciDeviceStatus + 1, 2},
		{PCIModernBAR, pciModernSize, 1},
		{PCIModernBAR, 0xFFFFFFFC, 4},
	} {
		m.cfgWrite(c+pciCapBar, 1, bad.bar)
		m.cfgWrite(c+pciCapOffset, 4, bad.offset)
		m.cfgWrite(c+pciCapLength, 4, bad.length)
		m.cfgWrite(c+pciCapCfgData, 4, 0)
		equal(t, StatusAcknowledge, m.p.Core().Status(), "status after %+v", bad)
		m.cfgWrite(c+pciCapCfgData, 4, 0x5A5A5A5A)
		equal(t, uint32(0x5A5A5A5A), m.cfgRead(c+pciCapCfgData, 4), "data after %+v", bad)
	}
	// The capability's type and the read-only bytes stay.
	m.cfgWrite(c, 4, 0)
	equal(t, uint32(pciCapPCICfg), m.cfgRead(c+pciCapCfgType, 1), "cfg_type after a write")
}

func TestNewPCIErrors(t *testing.T) {
	mem := newMemory(t)
	if _, err := NewPCI(&fakeDevice{}, PCIConfig{}); err == nil {
		t.Error("NewPCI without memory: no error")
	}
	if _, err := NewPCI(&countedDevice{fakeDevice: &fakeDevice{}, n: 0}, PCIConfig{Mem: mem}); err == nil {
		t.Error("NewPCI with no queue: no error")
	}
	if _, err := NewPCI(&countedDevice{fakeDevice: &fakeDevice{}, n: PCIMaxQueues + 1}, PCIConfig{Mem: mem}); err == nil {
		t.Error("NewPCI with too many queues: no error")
	}
	if _, err := NewPCI(&countedDevice{fakeDevice: &fakeDevice{}, n: 1, id: 0x40}, PCIConfig{Mem: mem}); err == nil {
		t.Error("NewPCI with device type 0x40: no error")
	}
	// Many queues: the PBA moves past the table.
	p, err := NewPCI(&countedDevice{fakeDevice: &fakeDevice{}, n: 200}, PCIConfig{Mem: mem, Class: 0x123456})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, 201, p.MSIX().Vectors(), "vectors")
	equal(t, uint32(0x123456), p.PCIConfig().Get32(devices.PCIRevisionID)>>8, "class")
	if p.PCIConfig().BAR(PCIMSIXBAR).Size < 201*16+8 {
		t.Fatalf("MSI-X BAR of %#x bytes", p.PCIConfig().BAR(PCIMSIXBAR).Size)
	}
}

// countedDevice is a fakeDevice with n queues and, if not 0, type id.
type countedDevice struct {
	*fakeDevice
	n  int
	id DeviceID
}

func (d *countedDevice) NumQueues() int { return d.n }
func (d *countedDevice) ID() DeviceID {
	if d.id != 0 {
		return d.id
	}
	return d.fakeDevice.ID()
}
