package virtio

import (
	"fmt"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
)

// virtio-pci, modern interface only (virtio 1.2 §4.1), laid out as QEMU
// lays out a non-transitional device, which is what Linux's virtio_pci
// (virtio_pci_modern_dev.c) is tested against:
//
//   - BAR 4, 64-bit prefetchable memory, 16 KiB: the common configuration
//     at 0x0000, the ISR status at 0x1000, the device configuration at
//     0x2000 and the notification area at 0x3000, one 4 KiB page each;
//   - BAR 1, 32-bit memory, 4 KiB: the MSI-X table at 0 and its PBA at
//     0x800, one vector for configuration changes and one per queue;
//   - in configuration space, one vendor-specific capability per region
//     (§4.1.4), the PCI configuration access capability (§4.1.4.9) and the
//     MSI-X capability; interrupt pin INTA#.
//
// Everything the driver writes is checked: an access of the wrong width or
// outside a region is logged and ignored, a vector that does not exist
// reads back as NO_VECTOR (§4.1.5.1.2), a bad queue puts the device in
// DEVICE_NEEDS_RESET. Like the other devices, a PCI belongs to one
// goroutine.

// PCI identity (virtio 1.2 §4.1.2).
const (
	// PCIVendorID is Red Hat's vendor ID, which every virtio-pci device
	// uses.
	PCIVendorID = 0x1AF4
	// PCIDeviceIDBase plus the virtio device type is the PCI device ID of
	// a modern (non-transitional) device; the range ends at 0x107F.
	PCIDeviceIDBase = 0x1040
	// PCIRevision is 1: non-transitional devices SHOULD have a revision of
	// 1 or higher (§4.1.2.1), so that legacy drivers leave them alone.
	PCIRevision = 1
)

// The BARs and the layout of the modern BAR.
const (
	// PCIModernBAR holds the common configuration, ISR, device
	// configuration and notification regions.
	PCIModernBAR = 4
	// PCIMSIXBAR holds the MSI-X table and PBA.
	PCIMSIXBAR = 1

	pciCommonOffset = 0x0000
	pciISROffset    = 0x1000
	pciDeviceOffset = 0x2000
	pciNotifyOffset = 0x3000
	pciRegionSize   = 0x1000 // every region, as QEMU: one page
	pciModernSize   = 0x4000

	// PCINotifyMultiplier is notify_off_multiplier: queue i's notification
	// address is i × 4 into the notification region (queue_notify_off is
	// the queue index), as QEMU without page-per-vq.
	PCINotifyMultiplier = 4
	// PCIMaxQueues is how many queues fit in the notification region.
	PCIMaxQueues = pciRegionSize / PCINotifyMultiplier

	pciMSIXTableOffset = 0
	pciMSIXPBAOffset   = 0x800 // as QEMU; moved up for more than 128 vectors
)

// PCINoVector is VIRTIO_MSI_NO_VECTOR: no MSI-X vector for an event
// (§4.1.5.1.2).
const PCINoVector = 0xFFFF

// Vendor-specific capability structure (struct virtio_pci_cap, §4.1.4):
// cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2], offset,
// length; the notification capability adds notify_off_multiplier, the PCI
// configuration access capability pci_cfg_data.
const (
	pciCapLen        = 2
	pciCapCfgType    = 3
	pciCapBar        = 4
	pciCapID         = 5
	pciCapOffset     = 8
	pciCapLength     = 12
	pciCapNotifyMult = 16
	pciCapCfgData    = 16

	pciCapSize       = 16
	pciNotifyCapSize = 20
	pciCfgCapSize    = 20
)

// cfg_type values (§4.1.4).
const (
	pciCapCommonCfg = 1
	pciCapNotifyCfg = 2
	pciCapISRCfg    = 3
	pciCapDeviceCfg = 4
	pciCapPCICfg    = 5
)

// ISR status bits (§4.1.4.5).
const (
	pciISRQueue  = 1
	pciISRConfig = 2
)

// PCIConfig is how a virtio-pci device is wired into the machine.
type PCIConfig struct {
	Mem *mmu.Memory
	// Class is the 24-bit PCI class code; 0 takes QEMU's for the device
	// type (PCIClass).
	Class uint32
	// Logf, if not nil, receives the reason the device needs a reset and
	// the driver accesses that were ignored.
	Logf func(format string, args ...any)
}

// PCI is a virtio device behind the modern virtio-pci transport. It is a
// devices.PCIFunction, to add to a devices.PCIBus, and the devices.Device
// of its modern BAR (PCIModernBAR): the bus hands it offsets from the
// BAR's base.
type PCI struct {
	core *Core
	cs   *devices.PCIConfigSpace
	msix *devices.PCIMSIX

	cfgCap int // offset of the PCI configuration access capability

	deviceFeatureSel uint32
	driverFeatureSel uint32
	queueSel         uint16
	configVector     uint16
	queueVectors     []uint16
	isr              uint8
}

// PCIClass returns the class code QEMU gives a virtio device type: block
// devices are SCSI storage controllers, network devices Ethernet
// controllers, consoles other communication controllers, the rest
// unclassified (0x00FF00, QEMU's PCI_CLASS_OTHERS).
func PCIClass(id DeviceID) uint32 {
	switch id {
	case DeviceIDNet:
		return 0x020000
	case DeviceIDBlock:
		return 0x010000
	case DeviceIDConsole:
		return 0x078000
	}
	return 0x00FF00
}

// NewPCI puts dev behind a virtio-pci function. Add the result to the
// machine's devices.PCIBus; the bus maps its BARs where the firmware (or
// PCIBus.AssignResources) puts them.
func NewPCI(dev Device, cfg PCIConfig) (*PCI, error) {
	id, n := dev.ID(), dev.NumQueues()
	switch {
	case cfg.Mem == nil:
		return nil, fmt.Errorf("virtio-pci: %s: no guest memory", id)
	case uint32(id) == 0 || uint32(id) > 0x3F:
		return nil, fmt.Errorf("virtio-pci: device type %d has no modern PCI device ID", uint32(id))
	case n < 1 || n > PCIMaxQueues:
		return nil, fmt.Errorf("virtio-pci: %s: %d queues, want 1 to %d", id, n, PCIMaxQueues)
	}
	class := cfg.Class
	if class == 0 {
		class = PCIClass(id)
	}
	devID := uint16(PCIDeviceIDBase + uint32(id))
	p := &PCI{queueVectors: make([]uint16, n)}
	p.core = NewCore(dev, cfg.Mem, pciInterrupt{p}, cfg.Logf)
	p.cs = devices.NewPCIConfigSpace(devices.PCIID{
		Vendor: PCIVendorID, Device: devID, Class: class, Revision: PCIRevision,
		// §4.1.2.1: a subsystem ID of 0x40 or more keeps legacy drivers,
		// which match the subsystem ID against the device type, away.
		SubsystemVendor: PCIVendorID, Subsystem: devID,
		Pin: 1,
	})
	if err := p.cs.SetBAR(PCIModernBAR, devices.PCIBAR{Kind: devices.PCIBARMem64, Size: pciModernSize, Prefetchable: true, Dev: p}); err != nil {
		return nil, err
	}
	vectors := n + 1
	pba := max(uint64(pciMSIXPBAOffset), (pciMSIXTableOffset+16*uint64(vectors)+7)&^7)
	msix, err := devices.NewPCIMSIX(p.cs, vectors, PCIMSIXBAR, pciMSIXTableOffset, pba)
	if err != nil {
		return nil, err
	}
	p.msix = msix
	if err := p.cs.SetBAR(PCIMSIXBAR, devices.PCIBAR{Kind: devices.PCIBARMem32, Size: msix.RegionSize(), Dev: msix}); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		typ    uint8
		offset uint32
	}{
		{pciCapCommonCfg, pciCommonOffset},
		{pciCapISRCfg, pciISROffset},
		{pciCapDeviceCfg, pciDeviceOffset},
		{pciCapNotifyCfg, pciNotifyOffset},
	} {
		size := pciCapSize
		if c.typ == pciCapNotifyCfg {
			size = pciNotifyCapSize
		}
		off, err := p.addCap(c.typ, size, PCIModernBAR, c.offset, pciRegionSize)
		if err != nil {
			return nil, err
		}
		if c.typ == pciCapNotifyCfg {
			p.cs.Set32(off+pciCapNotifyMult, PCINotifyMultiplier)
		}
	}
	// The PCI configuration access capability (§4.1.4.9): the driver
	// writes bar, offset and length, then reads or writes pci_cfg_data to
	// reach the BAR without mapping it.
	off, err := p.addCap(pciCapPCICfg, pciCfgCapSize, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	p.cfgCap = off
	p.cs.SetWritable(off+pciCapBar, 1, 0xFF)
	p.cs.SetWritable(off+pciCapOffset, 4, 0xFFFFFFFF)
	p.cs.SetWritable(off+pciCapLength, 4, 0xFFFFFFFF)
	p.cs.SetWritable(off+pciCapCfgData, 4, 0xFFFFFFFF)
	p.cs.OnRead(off+pciCapCfgData, 4, p.cfgDataRead)
	p.cs.OnWrite(off+pciCapCfgData, 4, p.cfgDataWrite)
	p.resetTransport()
	return p, nil
}

// addCap appends a vendor-specific capability of size bytes describing
// length bytes at offset in bar.
func (p *PCI) addCap(typ uint8, size, bar int, offset, length uint32) (int, error) {
	off, err := p.cs.AddCapability(devices.PCICapVendor, size)
	if err != nil {
		return 0, err
	}
	p.cs.Set8(off+pciCapLen, uint8(size))
	p.cs.Set8(off+pciCapCfgType, typ)
	p.cs.Set8(off+pciCapBar, uint8(bar))
	p.cs.Set8(off+pciCapID, 0)
	p.cs.Set32(off+pciCapOffset, offset)
	p.cs.Set32(off+pciCapLength, length)
	return off, nil
}

// PCIConfig returns the function's configuration space (devices.PCIFunction).
func (p *PCI) PCIConfig() *devices.PCIConfigSpace { return p.cs }

// Core is the transport-neutral state behind the function.
func (p *PCI) Core() *Core { return p.core }

// Err is the reason the device needs a reset, or nil.
func (p *PCI) Err() error { return p.core.Err() }

// MSIX is the function's MSI-X capability and table.
func (p *PCI) MSIX() *devices.PCIMSIX { return p.msix }

// ISR is the ISR status (§4.1.4.5), without the read's side effect.
func (p *PCI) ISR() uint8 { return p.isr }

// ConfigVector is the MSI-X vector for configuration changes, or
// PCINoVector.
func (p *PCI) ConfigVector() uint16 { return p.configVector }

// QueueVector is queue i's MSI-X vector, or PCINoVector.
func (p *PCI) QueueVector(i int) uint16 {
	if i < 0 || i >= len(p.queueVectors) {
		return PCINoVector
	}
	return p.queueVectors[i]
}

// region splits an offset of the modern BAR into a region and an offset
// in it; an access of n bytes must stay in the region.
func (p *PCI) region(offset uint64, n int) (base, off uint64, ok bool) {
	if offset >= pciModernSize {
		return 0, 0, false
	}
	base = offset &^ (pciRegionSize - 1)
	off = offset - base
	return base, off, n > 0 && off+uint64(n) <= pciRegionSize
}

// Read is a driver read of the modern BAR. Accesses the spec does not
// allow read 0.
func (p *PCI) Read(offset uint64, data []byte) {
	clear(data)
	base, off, ok := p.region(offset, len(data))
	if !ok {
		p.core.Logf("virtio-pci: %d-byte read at %#x crosses a region; ignored", len(data), offset)
		return
	}
	switch base {
	case pciCommonOffset:
		p.readCommon(off, data)
	case pciISROffset:
		p.readISR(off, data)
	case pciDeviceOffset:
		if !deviceConfigAccess(off, len(data)) {
			p.core.Logf("virtio-pci: %d-byte device configuration read at %#x; ignored", len(data), off)
			return
		}
		p.core.ReadConfig(off, data)
	case pciNotifyOffset:
		// Write-only; reads 0.
	}
}

// Write is a driver write to the modern BAR. Accesses the spec does not
// allow are ignored; a bad queue setup sets DEVICE_NEEDS_RESET.
func (p *PCI) Write(offset uint64, data []byte) {
	base, off, ok := p.region(offset, len(data))
	if !ok {
		p.core.Logf("virtio-pci: %d-byte write at %#x crosses a region; ignored", len(data), offset)
		return
	}
	switch base {
	case pciCommonOffset:
		p.writeCommon(off, data)
	case pciISROffset:
		p.core.Logf("virtio-pci: write to the ISR status; ignored")
	case pciDeviceOffset:
		if !deviceConfigAccess(off, len(data)) {
			p.core.Logf("virtio-pci: %d-byte device configuration write at %#x; ignored", len(data), off)
			return
		}
		p.core.WriteConfig(off, data)
	case pciNotifyOffset:
		p.writeNotify(off, data)
	}
}

// deviceConfigAccess reports whether an access to the device configuration
// is 1, 2, 4 or 8 bytes and naturally aligned (§4.1.3.1: fields are read
// with their own width, 64-bit ones as two 32-bit halves).
func deviceConfigAccess(off uint64, n int) bool {
	switch n {
	case 1, 2, 4, 8:
		return off%uint64(n) == 0
	}
	return false
}

// readISR reads the ISR status, which clears it and deasserts INTx
// (§4.1.4.5). It is a byte (§4.1.3.1).
func (p *PCI) readISR(off uint64, data []byte) {
	if off != 0 || len(data) != 1 {
		p.core.Logf("virtio-pci: %d-byte ISR read at %#x; the ISR status is one byte at 0, ignored", len(data), off)
		return
	}
	data[0] = p.isr
	p.isr = 0
	p.updateINTx()
}

// writeNotify is an available buffer notification (§4.1.4.4): the queue
// is the one whose queue_notify_off × notify_off_multiplier is the offset.
// The value is the queue index (VIRTIO_F_NOTIFICATION_DATA is not offered)
// and is not needed.
func (p *PCI) writeNotify(off uint64, data []byte) {
	if off%PCINotifyMultiplier != 0 {
		p.core.Logf("virtio-pci: notification at %#x, not a queue's address; ignored", off)
		return
	}
	p.core.Notify(int(off / PCINotifyMultiplier))
}

// resetTransport puts the transport's own registers in their reset state:
// selectors 0, no MSI-X vectors (QEMU's virtio_reset), ISR clear.
func (p *PCI) resetTransport() {
	p.deviceFeatureSel, p.driverFeatureSel, p.queueSel = 0, 0, 0
	p.configVector = PCINoVector
	for i := range p.queueVectors {
		p.queueVectors[i] = PCINoVector
	}
	for v := range p.msix.Vectors() {
		p.msix.ClearPending(v)
	}
	p.isr = 0
	p.updateINTx()
}

// reset is a write of 0 to device_status (§4.1.4.3.1).
func (p *PCI) reset() {
	p.core.Reset()
	p.resetTransport()
}

// mapVector is what a vector register keeps from a write: the vector if
// the MSI-X table has it, else NO_VECTOR, which tells the driver the
// mapping failed (§4.1.5.1.2).
func (p *PCI) mapVector(what string, v uint16) uint16 {
	if v != PCINoVector && int(v) >= p.msix.Vectors() {
		p.core.Logf("virtio-pci: %s MSI-X vector %d, the table has %d; NO_VECTOR", what, v, p.msix.Vectors())
		return PCINoVector
	}
	return v
}

// interrupt signals an event: with MSI-X enabled, the event's vector if it
// has one; otherwise the ISR bit and INTx (§4.1.5.3, §4.1.5.4). The
// configuration bit is set either way (§4.1.4.5.1).
func (p *PCI) interrupt(bit uint8, vector uint16) {
	if p.msix.Enabled() {
		if bit == pciISRConfig {
			p.isr |= bit
		}
		if vector != PCINoVector {
			p.msix.Notify(int(vector))
		}
		return
	}
	p.isr |= bit
	p.updateINTx()
}

// updateINTx asserts INTx while the ISR status is not zero and MSI-X is
// off. It runs on events, ISR reads and resets only, as QEMU: a
// configuration bit left in the ISR while MSI-X was on does not assert the
// line when the driver turns MSI-X off (Linux does, falling back to INTx,
// before its handler is installed).
func (p *PCI) updateINTx() {
	p.cs.SetINTx(p.isr != 0 && !p.msix.Enabled())
}

// pciInterrupt is the transport's Interrupt.
type pciInterrupt struct{ p *PCI }

func (i pciInterrupt) UsedBuffer(queue int) { i.p.interrupt(pciISRQueue, i.p.QueueVector(queue)) }
func (i pciInterrupt) ConfigChanged()       { i.p.interrupt(pciISRConfig, i.p.configVector) }

// cfgAccess returns the BAR access that the PCI configuration access
// capability describes now, if it is one the device performs: length 1, 2
// or 4, offset aligned to it, inside the modern BAR (§4.1.4.9.1).
func (p *PCI) cfgAccess() (offset uint64, n int, ok bool) {
	c := p.cfgCap
	bar := p.cs.Get8(c + pciCapBar)
	offset = uint64(p.cs.Get32(c + pciCapOffset))
	length := p.cs.Get32(c + pciCapLength)
	switch {
	case bar != PCIModernBAR:
		p.core.Logf("virtio-pci: configuration access to BAR %d; only BAR %d has registers, ignored", bar, PCIModernBAR)
	case length != 1 && length != 2 && length != 4:
		p.core.Logf("virtio-pci: configuration access of %d bytes; ignored", length)
	case offset%uint64(length) != 0 || offset+uint64(length) > pciModernSize:
		p.core.Logf("virtio-pci: configuration access of %d bytes at %#x; ignored", length, offset)
	default:
		return offset, int(length), true
	}
	return 0, 0, false
}

// cfgDataRead is a guest read touching pci_cfg_data: the device reads the
// BAR, stores the bytes in pci_cfg_data, and the guest sees them.
func (p *PCI) cfgDataRead(reg int, data []byte) {
	offset, n, ok := p.cfgAccess()
	if !ok {
		return
	}
	var buf [4]byte
	p.Read(offset, buf[:n])
	field := p.cfgCap + pciCapCfgData
	for i, b := range buf[:n] {
		p.cs.Set8(field+i, b)
	}
	for i := range data {
		if r := reg + i; r >= field && r < field+4 {
			data[i] = p.cs.Get8(r)
		}
	}
}

// cfgDataWrite is a guest write touching pci_cfg_data: the device writes
// its first length bytes to the BAR.
func (p *PCI) cfgDataWrite(int, []byte) {
	offset, n, ok := p.cfgAccess()
	if !ok {
		return
	}
	var buf [4]byte
	field := p.cfgCap + pciCapCfgData
	for i := range n {
		buf[i] = p.cs.Get8(field + i)
	}
	p.Write(offset, buf[:n])
}
