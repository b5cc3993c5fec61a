package virtio

import (
	"encoding/binary"
	"fmt"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
)

// virtio-mmio version 2 (virtio 1.2 §4.2). The window is 0x200 bytes: the
// control registers, then the device configuration space at 0x100.
const (
	// MMIOSize is the size of a device's register window.
	MMIOSize = 0x200

	MMIOMagic   = 0x74726976 // "virt"
	MMIOVersion = 2
	// MMIOVendorID is "GEMU" in little-endian ASCII, as QEMU reports
	// "QEMU". Guests bind drivers by device ID with any vendor (Linux's
	// virtio_mmio included), so nothing needs QEMU's value, and a guest
	// can tell which implementation it talks to.
	MMIOVendorID = 0x554D4547

	mmioConfig = 0x100
)

// Register offsets (virtio 1.2 §4.2.2, table 4.1).
const (
	mmioMagicValue        = 0x000
	mmioVersionReg        = 0x004
	mmioDeviceID          = 0x008
	mmioVendorIDReg       = 0x00c
	mmioDeviceFeatures    = 0x010
	mmioDeviceFeaturesSel = 0x014
	mmioDriverFeatures    = 0x020
	mmioDriverFeaturesSel = 0x024
	mmioQueueSel          = 0x030
	mmioQueueNumMax       = 0x034
	mmioQueueNum          = 0x038
	mmioQueueReady        = 0x044
	mmioQueueNotify       = 0x050
	mmioInterruptStatus   = 0x060
	mmioInterruptACK      = 0x064
	mmioStatus            = 0x070
	mmioQueueDescLow      = 0x080
	mmioQueueDescHigh     = 0x084
	mmioQueueDriverLow    = 0x090
	mmioQueueDriverHigh   = 0x094
	mmioQueueDeviceLow    = 0x0a0
	mmioQueueDeviceHigh   = 0x0a4
	mmioSHMSel            = 0x0ac
	mmioSHMLenLow         = 0x0b0
	mmioSHMLenHigh        = 0x0b4
	mmioSHMBaseLow        = 0x0b8
	mmioSHMBaseHigh       = 0x0bc
	mmioQueueReset        = 0x0c0
	mmioConfigGeneration  = 0x0fc
)

// InterruptStatus bits (virtio 1.2 §4.2.2).
const (
	mmioIntUsedBuffer    = 1
	mmioIntConfigChanged = 2
)

// MMIOConfig is how a virtio-mmio device is wired into the machine.
type MMIOConfig struct {
	Mem *mmu.Memory
	// IRQ receives the interrupt line, GSI its number. The line is a level:
	// high while InterruptStatus is not zero.
	IRQ devices.IRQSink
	GSI int
	// Logf, if not nil, receives the reason the device needs a reset and
	// the driver accesses that were ignored.
	Logf func(format string, args ...any)
}

// MMIO is a virtio-mmio version 2 register window in front of a Device. It
// is a devices.Device: the bus hands it offsets within [0, MMIOSize).
type MMIO struct {
	core *Core
	irq  devices.IRQSink
	gsi  int

	deviceFeaturesSel uint32
	driverFeaturesSel uint32
	queueSel          uint32
	interruptStatus   uint32
	line              bool
}

// NewMMIO puts dev behind a virtio-mmio window.
func NewMMIO(dev Device, cfg MMIOConfig) *MMIO {
	m := &MMIO{irq: cfg.IRQ, gsi: cfg.GSI}
	m.core = NewCore(dev, cfg.Mem, mmioInterrupt{m}, cfg.Logf)
	return m
}

// Core is the transport-neutral state behind the window.
func (m *MMIO) Core() *Core { return m.core }

// Err is the reason the device needs a reset, or nil.
func (m *MMIO) Err() error { return m.core.Err() }

// InterruptStatus is the InterruptStatus register; the line is high while
// it is not zero.
func (m *MMIO) InterruptStatus() uint32 { return m.interruptStatus }

// KernelArg is the Linux command-line parameter that declares the device
// at base (virtio_mmio.device=<size>@<base>:<irq>; needs
// CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES).
func (m *MMIO) KernelArg(base uint64) string {
	return fmt.Sprintf("virtio_mmio.device=%d@%#x:%d", MMIOSize, base, m.gsi)
}

// configAccess reports whether an access to the configuration space is
// one the driver may make: 1, 2, 4 or 8 bytes, naturally aligned, inside
// the window (virtio 1.2 §4.2.2.2).
func configAccess(offset uint64, n int) bool {
	switch n {
	case 1, 2, 4, 8:
		return offset%uint64(n) == 0 && offset+uint64(n) <= MMIOSize
	}
	return false
}

// Read is a driver read of the window. Accesses the spec does not allow
// (not 32-bit aligned control registers, write-only registers) read 0.
func (m *MMIO) Read(offset uint64, data []byte) {
	clear(data)
	if offset >= mmioConfig {
		if !configAccess(offset, len(data)) {
			m.core.Logf("virtio-mmio: %d-byte config read at %#x; ignored", len(data), offset)
			return
		}
		m.core.ReadConfig(offset-mmioConfig, data)
		return
	}
	if len(data) != 4 || offset%4 != 0 {
		m.core.Logf("virtio-mmio: %d-byte read at %#x; registers are 32-bit, ignored", len(data), offset)
		return
	}
	binary.LittleEndian.PutUint32(data, m.readRegister(offset))
}

func (m *MMIO) readRegister(offset uint64) uint32 {
	c := m.core
	sel := int(m.queueSel)
	switch offset {
	case mmioMagicValue:
		return MMIOMagic
	case mmioVersionReg:
		return MMIOVersion
	case mmioDeviceID:
		return uint32(c.Device().ID())
	case mmioVendorIDReg:
		return MMIOVendorID
	case mmioDeviceFeatures:
		return c.DeviceFeatures(m.deviceFeaturesSel)
	case mmioQueueNumMax:
		return uint32(c.QueueMax(sel))
	case mmioQueueReady:
		if c.QueueReady(sel) {
			return 1
		}
		return 0
	case mmioInterruptStatus:
		return m.interruptStatus
	case mmioStatus:
		return uint32(c.Status())
	case mmioSHMLenLow, mmioSHMLenHigh, mmioSHMBaseLow, mmioSHMBaseHigh:
		return 0xFFFFFFFF // no shared memory regions: length and base -1
	case mmioQueueReset:
		return 0 // VIRTIO_F_RING_RESET is not offered
	case mmioConfigGeneration:
		return c.ConfigGeneration()
	}
	c.Logf("virtio-mmio: read of write-only or unknown register %#x", offset)
	return 0
}

// Write is a driver write to the window. Accesses the spec does not allow
// are ignored; a bad queue setup sets DEVICE_NEEDS_RESET.
func (m *MMIO) Write(offset uint64, data []byte) {
	if offset >= mmioConfig {
		if !configAccess(offset, len(data)) {
			m.core.Logf("virtio-mmio: %d-byte config write at %#x; ignored", len(data), offset)
			return
		}
		m.core.WriteConfig(offset-mmioConfig, data)
		return
	}
	if len(data) != 4 || offset%4 != 0 {
		m.core.Logf("virtio-mmio: %d-byte write at %#x; registers are 32-bit, ignored", len(data), offset)
		return
	}
	m.writeRegister(offset, binary.LittleEndian.Uint32(data))
}

func (m *MMIO) writeRegister(offset uint64, v uint32) {
	c := m.core
	sel := int(m.queueSel)
	switch offset {
	case mmioDeviceFeaturesSel:
		m.deviceFeaturesSel = v
	case mmioDriverFeatures:
		c.SetDriverFeatures(m.driverFeaturesSel, v)
	case mmioDriverFeaturesSel:
		m.driverFeaturesSel = v
	case mmioQueueSel:
		m.queueSel = v
	case mmioQueueNum:
		cfg := c.QueueConfig(sel)
		cfg.Size = v
		c.SetQueueConfig(sel, cfg)
	case mmioQueueReady:
		c.SetQueueReady(sel, v&1 != 0)
	case mmioQueueNotify:
		c.Notify(int(v)) // the queue index: VIRTIO_F_NOTIFICATION_DATA is not offered
	case mmioInterruptACK:
		m.interruptStatus &^= v
		m.updateLine()
	case mmioStatus:
		if uint8(v) == 0 {
			m.reset()
			return
		}
		c.WriteStatus(uint8(v))
	case mmioQueueDescLow, mmioQueueDescHigh, mmioQueueDriverLow, mmioQueueDriverHigh, mmioQueueDeviceLow, mmioQueueDeviceHigh:
		cfg := c.QueueConfig(sel)
		addr := &cfg.Desc
		switch offset &^ 7 {
		case mmioQueueDriverLow:
			addr = &cfg.Driver
		case mmioQueueDeviceLow:
			addr = &cfg.Device
		}
		if offset&4 == 0 {
			*addr = *addr&^0xFFFFFFFF | mmu.GPA(v)
		} else {
			*addr = *addr&0xFFFFFFFF | mmu.GPA(v)<<32
		}
		c.SetQueueConfig(sel, cfg)
	case mmioSHMSel:
		// No shared memory regions: every selection reads back length -1.
	case mmioQueueReset:
		c.Logf("virtio-mmio: QueueReset written, VIRTIO_F_RING_RESET not offered; ignored")
	default:
		c.Logf("virtio-mmio: write of read-only or unknown register %#x; ignored", offset)
	}
}

// reset is a write of 0 to Status (virtio 1.2 §4.2.2.1): the device
// resets, InterruptStatus and the ready bits clear.
func (m *MMIO) reset() {
	m.core.Reset()
	m.deviceFeaturesSel, m.driverFeaturesSel, m.queueSel = 0, 0, 0
	m.interruptStatus = 0
	m.updateLine()
}

func (m *MMIO) raise(bits uint32) {
	m.interruptStatus |= bits
	m.updateLine()
}

// updateLine drives the interrupt line from InterruptStatus, only on a change.
func (m *MMIO) updateLine() {
	level := m.interruptStatus != 0
	if level == m.line {
		return
	}
	m.line = level
	if m.irq != nil {
		m.irq.SetIRQ(m.gsi, level)
	}
}

// mmioInterrupt is the transport's Interrupt (virtio 1.2 §4.2.3.4).
type mmioInterrupt struct{ m *MMIO }

func (i mmioInterrupt) UsedBuffer(int) { i.m.raise(mmioIntUsedBuffer) }
func (i mmioInterrupt) ConfigChanged() { i.m.raise(mmioIntConfigChanged) }
