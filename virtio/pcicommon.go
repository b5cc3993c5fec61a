package virtio

import (
	"encoding/binary"

	"github.com/gemu-project/gemu/mmu"
)

// The common configuration structure of virtio-pci (virtio 1.2 §4.1.4.3,
// struct virtio_pci_common_cfg), at the start of the modern BAR.
const (
	pciDeviceFeatureSelect = 0x00 // le32 RW
	pciDeviceFeature       = 0x04 // le32 RO
	pciDriverFeatureSelect = 0x08 // le32 RW
	pciDriverFeature       = 0x0C // le32 RW
	pciConfigMSIXVector    = 0x10 // le16 RW
	pciNumQueues           = 0x12 // le16 RO
	pciDeviceStatus        = 0x14 // u8 RW
	pciConfigGeneration    = 0x15 // u8 RO
	pciQueueSelect         = 0x16 // le16 RW
	pciQueueSize           = 0x18 // le16 RW
	pciQueueMSIXVector     = 0x1A // le16 RW
	pciQueueEnable         = 0x1C // le16 RW
	pciQueueNotifyOff      = 0x1E // le16 RO
	pciQueueDesc           = 0x20 // le64 RW
	pciQueueDriver         = 0x28 // le64 RW
	pciQueueDevice         = 0x30 // le64 RW
	pciQueueNotifyData     = 0x38 // le16 RO, with VIRTIO_F_NOTIF_CONFIG_DATA
	pciQueueReset          = 0x3A // le16 RW, with VIRTIO_F_RING_RESET
	pciCommonSize          = 0x3C
)

// pciCommonWidth is the width of the field at each offset.
var pciCommonWidth = [pciCommonSize]uint8{
	pciDeviceFeatureSelect: 4, pciDeviceFeature: 4,
	pciDriverFeatureSelect: 4, pciDriverFeature: 4,
	pciConfigMSIXVector: 2, pciNumQueues: 2,
	pciDeviceStatus: 1, pciConfigGeneration: 1,
	pciQueueSelect: 2, pciQueueSize: 2, pciQueueMSIXVector: 2, pciQueueEnable: 2, pciQueueNotifyOff: 2,
	pciQueueDesc: 8, pciQueueDriver: 8, pciQueueDevice: 8,
	pciQueueNotifyData: 2, pciQueueReset: 2,
}

// commonField finds the field an access of n bytes at off reaches: the
// field's offset, and the shift of the accessed part in it. Fields are
// accessed whole, with their own width; 64-bit fields also as two 32-bit
// halves (§4.1.3.1).
func commonField(off uint64, n int) (field uint64, shift uint, ok bool) {
	if off >= pciCommonSize {
		return 0, 0, false
	}
	if w := pciCommonWidth[off]; int(w) == n {
		return off, 0, true
	}
	if n == 4 && off%4 == 0 && off >= pciQueueDesc && off < pciQueueNotifyData {
		return off &^ 7, uint(off%8) * 8, true
	}
	return 0, 0, false
}

// readCommon reads the common configuration. Bytes past the structure
// read 0; a field read with the wrong width reads 0 and is logged.
func (p *PCI) readCommon(off uint64, data []byte) {
	if off >= pciCommonSize {
		return
	}
	field, shift, ok := commonField(off, len(data))
	if !ok {
		p.core.Logf("virtio-pci: %d-byte common configuration read at %#x; ignored", len(data), off)
		return
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], p.commonValue(field)>>shift)
	copy(data, b[:])
}

// commonValue is the value of the field at off.
func (p *PCI) commonValue(off uint64) uint64 {
	c := p.core
	sel := int(p.queueSel)
	switch off {
	case pciDeviceFeatureSelect:
		return uint64(p.deviceFeatureSel)
	case pciDeviceFeature:
		return uint64(c.DeviceFeatures(p.deviceFeatureSel))
	case pciDriverFeatureSelect:
		return uint64(p.driverFeatureSel)
	case pciDriverFeature:
		if p.driverFeatureSel > 1 {
			return 0
		}
		return uint64(uint32(c.DriverFeatures() >> (32 * p.driverFeatureSel)))
	case pciConfigMSIXVector:
		return uint64(p.configVector)
	case pciNumQueues:
		return uint64(c.NumQueues())
	case pciDeviceStatus:
		return uint64(c.Status())
	case pciConfigGeneration:
		return uint64(uint8(c.ConfigGeneration()))
	case pciQueueSelect:
		return uint64(p.queueSel)
	case pciQueueSize:
		// 0 for a queue that does not exist: it is unavailable.
		return uint64(uint16(c.QueueConfig(sel).Size))
	case pciQueueMSIXVector:
		return uint64(p.QueueVector(sel))
	case pciQueueEnable:
		if c.QueueReady(sel) {
			return 1
		}
		return 0
	case pciQueueNotifyOff:
		if sel < c.NumQueues() {
			return uint64(sel) // × PCINotifyMultiplier: one slot per queue
		}
		return 0
	case pciQueueDesc:
		return uint64(c.QueueConfig(sel).Desc)
	case pciQueueDriver:
		return uint64(c.QueueConfig(sel).Driver)
	case pciQueueDevice:
		return uint64(c.QueueConfig(sel).Device)
	}
	// queue_notify_data and queue_reset: their features are not offered.
	return 0
}

// writeCommon writes the common configuration. Writes with the wrong
// width, to read-only fields or past the structure are logged and ignored.
func (p *PCI) writeCommon(off uint64, data []byte) {
	field, shift, ok := commonField(off, len(data))
	if !ok {
		p.core.Logf("virtio-pci: %d-byte common configuration write at %#x; ignored", len(data), off)
		return
	}
	var b [8]byte
	copy(b[:], data)
	v := binary.LittleEndian.Uint64(b[:])
	c := p.core
	sel := int(p.queueSel)
	switch field {
	case pciDeviceFeatureSelect:
		p.deviceFeatureSel = uint32(v)
	case pciDriverFeatureSelect:
		p.driverFeatureSel = uint32(v)
	case pciDriverFeature:
		c.SetDriverFeatures(p.driverFeatureSel, uint32(v))
	case pciConfigMSIXVector:
		p.configVector = p.mapVector("configuration", uint16(v))
	case pciDeviceStatus:
		if v == 0 {
			p.reset()
			return
		}
		c.WriteStatus(uint8(v))
	case pciQueueSelect:
		p.queueSel = uint16(v)
	case pciQueueSize:
		cfg := c.QueueConfig(sel)
		cfg.Size = uint32(uint16(v))
		c.SetQueueConfig(sel, cfg) // checked when the queue is enabled
	case pciQueueMSIXVector:
		if sel >= len(p.queueVectors) {
			c.Logf("virtio-pci: MSI-X vector for queue %d, which does not exist; ignored", sel)
			return
		}
		p.queueVectors[sel] = p.mapVector("queue", uint16(v))
	case pciQueueEnable:
		// §4.1.4.3.2: the driver MUST NOT write 0; without
		// VIRTIO_F_RING_RESET a queue is disabled by a device reset only.
		if v != 1 {
			c.Logf("virtio-pci: queue_enable = %d for queue %d; only 1 is allowed, ignored", v, sel)
			return
		}
		c.SetQueueReady(sel, true)
	case pciQueueDesc, pciQueueDriver, pciQueueDevice:
		cfg := c.QueueConfig(sel)
		addr := &cfg.Desc
		switch field {
		case pciQueueDriver:
			addr = &cfg.Driver
		case pciQueueDevice:
			addr = &cfg.Device
		}
		mask := ^uint64(0) >> (64 - 8*uint(len(data))) << shift
		*addr = mmu.GPA(uint64(*addr)&^mask | v<<shift&mask)
		c.SetQueueConfig(sel, cfg)
	case pciQueueReset:
		c.Logf("virtio-pci: queue_reset written, VIRTIO_F_RING_RESET not offered; ignored")
	default:
		c.Logf("virtio-pci: write of read-only common configuration field %#x; ignored", field)
	}
}
