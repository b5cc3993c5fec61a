package virtio

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
	vt "github.com/gemu-project/gemu/virtio/virtiotest"
)

var _ devices.Device = (*MMIO)(nil)

// fakeDevice is a device type with two queues that records what the core
// asks of it.
type fakeDevice struct {
	config   [8]byte
	env      *Env
	notified []int
	resets   int
}

const fakeFeatures = RingFeatures | 1<<3

func (d *fakeDevice) ID() DeviceID         { return DeviceIDEntropy }
func (d *fakeDevice) Features() uint64     { return fakeFeatures }
func (d *fakeDevice) NumQueues() int       { return 2 }
func (d *fakeDevice) MaxQueueSize() uint16 { return 8 }
func (d *fakeDevice) ReadConfig(off uint64, data []byte) {
	clear(data)
	if off < uint64(len(d.config)) {
		copy(data, d.config[off:])
	}
}
func (d *fakeDevice) WriteConfig(off uint64, data []byte) {
	if off < uint64(len(d.config)) {
		copy(d.config[off:], data)
	}
}
func (d *fakeDevice) Activate(env Env) error { d.env = &env; return nil }
func (d *fakeDevice) Notify(q int) error     { d.notified = append(d.notified, q); return nil }
func (d *fakeDevice) Reset()                 { d.env = nil; d.resets++ }

func newFakeMMIO(t *testing.T) (*fakeDevice, *MMIO, driver, *irqRecorder, *logRecorder, *mmu.Memory) {
	mem := newMemory(t)
	dev := &fakeDevice{}
	irq, log := &irqRecorder{}, &logRecorder{}
	m := NewMMIO(dev, MMIOConfig{Mem: mem, IRQ: irq, GSI: 7, Logf: log.logf})
	return dev, m, driver{t, m}, irq, log, mem
}

// TestMMIOLinuxDriverSequence drives a virtio-blk device as Linux's
// virtio_mmio and virtio_blk do, from probe to a completed interrupt.
func TestMMIOLinuxDriverSequence(t *testing.T) {
	h := newBlk(t, blkOptions{})
	// newBlk already probed; do it again step by step on a fresh window.
	mem, irq := h.mem, &irqRecorder{}
	m := NewMMIO(h.blk, MMIOConfig{Mem: mem, IRQ: irq, GSI: blkGSI})
	d := driver{t, m}

	// vm_probe: magic, version, device and vendor.
	equal(t, uint32(0x74726976), d.read(mmioMagicValue), "MagicValue")
	equal(t, uint32(2), d.read(mmioVersionReg), "Version")
	equal(t, uint32(2), d.read(mmioDeviceID), "DeviceID")
	equal(t, uint32(MMIOVendorID), d.read(mmioVendorIDReg), "VendorID")

	// virtio_dev_probe: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK.
	d.write(mmioStatus, 0)
	equal(t, uint8(0), d.status(), "status after reset")
	d.addStatus(StatusAcknowledge)
	d.addStatus(StatusDriver)
	offered := d.deviceFeatures()
	if offered&FeatureVersion1 == 0 {
		t.Fatalf("features %#x lack VIRTIO_F_VERSION_1", offered)
	}
	accepted := offered & (FeatureVersion1 | FeatureEventIdx | FeatureIndirectDesc | blkFSegMax | blkFBlkSize | blkFFlush)
	d.writeFeatures(accepted)
	d.addStatus(StatusFeaturesOK)
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK, d.status(), "status after FEATURES_OK")

	// virtblk_probe: capacity, then the queue (vm_setup_vq), then DRIVER_OK.
	equal(t, uint32(blkSectors), d.read(mmioConfig+blkCfgCapacity), "capacity")
	r := vt.NewRing(mem, 0x8000, 32)
	d.setupQueue(0, r)
	equal(t, uint32(1), d.read(mmioQueueReady), "QueueReady")
	d.addStatus(StatusDriverOK)
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK, d.status(), "status after DRIVER_OK")
	equal(t, accepted, m.Core().DriverFeatures(), "negotiated features")

	// A read of sector 1 with an indirect table, as virtblk_add_req does.
	hdr, data, status, table := mmu.GPA(0x20000), mmu.GPA(0x21000), mmu.GPA(0x22000), mmu.GPA(0x23000)
	var h16 [16]byte
	binary.LittleEndian.PutUint32(h16[0:], blkTIn)
	binary.LittleEndian.PutUint64(h16[8:], 1)
	mem.WriteAt(hdr, h16[:])
	head := r.AddIndirect(table, vt.Buf{Addr: hdr, Len: 16}, vt.Buf{Addr: data, Len: 512, Write: true}, vt.Buf{Addr: status, Len: 1, Write: true})
	equal(t, uint32(0), d.read(mmioInterruptStatus), "InterruptStatus before the kick")
	d.kick(0)

	// The interrupt: line high, used ring filled.
	equal(t, []irqEvent{{blkGSI, true}}, irq.events, "line after the request")
	equal(t, uint16(1), r.UsedIdx(), "used idx")
	equal(t, vt.Used{ID: uint32(head), Len: 513}, r.UsedElem(0), "used element")
	equal(t, byte(blkSOK), mem.RAM[status], "request status")
	equal(t, diskPattern()[512:1024], mem.RAM[data:data+512], "sector 1")

	// vm_interrupt: read InterruptStatus, ACK it; the line drops.
	equal(t, uint32(mmioIntUsedBuffer), d.interrupt(), "InterruptStatus")
	equal(t, []irqEvent{{blkGSI, true}, {blkGSI, false}}, irq.events, "line after the ACK")
	equal(t, uint32(0), d.read(mmioInterruptStatus), "InterruptStatus after the ACK")

	// Removal: reset, then each queue's ready bit cleared.
	d.write(mmioStatus, 0)
	d.write(mmioQueueSel, 0)
	d.write(mmioQueueReady, 0)
	equal(t, uint32(0), d.read(mmioQueueReady), "QueueReady after removal")
	equal(t, error(nil), m.Err(), "device error")
}

func TestMMIOQueueAddresses(t *testing.T) {
	dev, m, d, _, _, mem := newFakeMMIO(t)
	if !d.negotiate(^uint64(0)) {
		t.Fatal("FEATURES_OK refused")
	}
	// A ring above 4 GiB cannot be in this RAM: the high halves matter.
	d.write(mmioQueueSel, 1)
	d.write(mmioQueueNum, 8)
	d.write(mmioQueueDescLow, 0x1000)
	d.write(mmioQueueDescHigh, 1)
	d.write(mmioQueueDriverLow, 0x2000)
	d.write(mmioQueueDeviceLow, 0x3000)
	equal(t, QueueConfig{Size: 8, Desc: 0x1_0000_1000, Driver: 0x2000, Device: 0x3000}, m.Core().QueueConfig(1), "queue 1 configuration")
	d.write(mmioQueueDescHigh, 0)
	d.write(mmioQueueReady, 1)
	equal(t, uint32(1), d.read(mmioQueueReady), "QueueReady")
	// While ready, the configuration is fixed.
	d.write(mmioQueueNum, 4)
	d.write(mmioQueueDescLow, 0x5000)
	equal(t, QueueConfig{Size: 8, Desc: 0x1000, Driver: 0x2000, Device: 0x3000}, m.Core().QueueConfig(1), "queue 1 while ready")
	d.addStatus(StatusDriverOK)
	if dev.env == nil || dev.env.Queues[0] != nil || dev.env.Queues[1] == nil {
		t.Fatalf("Activate env %+v: want queue 1 only", dev.env)
	}
	equal(t, QueueConfig{Size: 8, Desc: 0x1000, Driver: 0x2000, Device: 0x3000}, dev.env.Queues[1].Config(), "queue given to the device")
	if dev.env.Mem != mem {
		t.Fatal("device given another memory")
	}
	d.kick(1)
	d.kick(0) // not ready
	d.kick(2) // no such queue
	d.kick(0xFFFFFFFF)
	equal(t, []int{1}, dev.notified, "notifications")
}

func TestMMIOIgnoresBadAccesses(t *testing.T) {
	dev, m, d, _, log, _ := newFakeMMIO(t)
	d.negotiate(^uint64(0))
	status, resets := d.status(), dev.resets

	// Control registers are 32-bit and aligned (§4.2.2.2).
	for _, width := range []int{1, 2, 8} {
		b := make([]byte, width)
		for i := range b {
			b[i] = 0xFF
		}
		m.Read(mmioMagicValue, b)
		equal(t, make([]byte, width), b, "%d-byte read of MagicValue", width)
		m.Write(mmioStatus, []byte{0, 0, 0, 0, 0, 0, 0, 0}[:width])
	}
	m.Write(mmioStatus+1, []byte{0})
	b := make([]byte, 4)
	m.Read(mmioMagicValue+2, b)
	equal(t, make([]byte, 4), b, "unaligned read")
	equal(t, status, d.status(), "status after bad writes (a reset would clear it)")
	equal(t, resets, dev.resets, "resets")

	// Write-only, read-only and unknown registers.
	equal(t, uint32(0), d.read(mmioQueueNotify), "read of QueueNotify")
	equal(t, uint32(0), d.read(0x0f0), "read of a hole")
	d.write(mmioMagicValue, 0)
	d.write(mmioQueueNumMax, 1)
	d.write(0x0f0, 1)
	equal(t, uint32(MMIOMagic), d.read(mmioMagicValue), "MagicValue after a write")
	if !log.contains("ignored") {
		t.Fatal("ignored accesses not logged")
	}

	// Shared memory: none, every region reads length and base -1.
	d.write(mmioSHMSel, 0)
	for _, r := range []uint64{mmioSHMLenLow, mmioSHMLenHigh, mmioSHMBaseLow, mmioSHMBaseHigh} {
		equal(t, uint32(0xFFFFFFFF), d.read(r), "SHM register %#x", r)
	}
	equal(t, uint32(0), d.read(mmioQueueReset), "QueueReset")

	// Configuration space: naturally aligned 1, 2, 4 or 8 bytes.
	m.Write(mmioConfig+4, []byte{1, 2, 3, 4})
	equal(t, [8]byte{4: 1, 2, 3, 4}, dev.config, "config after a 32-bit write")
	m.Write(mmioConfig+1, []byte{9, 9})
	m.Write(mmioConfig+2, []byte{9, 9, 9})
	equal(t, [8]byte{4: 1, 2, 3, 4}, dev.config, "config after misaligned writes")
	b = []byte{0xFF, 0xFF}
	m.Read(mmioConfig+5, b)
	equal(t, []byte{0, 0}, b, "misaligned config read")
	b = []byte{0xFF}
	m.Read(mmioConfig+5, b)
	equal(t, []byte{2}, b, "byte config read")
	b = make([]byte, 8)
	m.Read(MMIOSize-4, b)
	equal(t, make([]byte, 8), b, "config read past the window")
}

func TestMMIOFeatureNegotiation(t *testing.T) {
	_, m, d, _, log, _ := newFakeMMIO(t)

	// A legacy driver (no VIRTIO_F_VERSION_1) is refused (§6.1).
	if d.negotiate(^FeatureVersion1) {
		t.Fatal("FEATURES_OK kept without VIRTIO_F_VERSION_1")
	}
	if !log.contains("VERSION_1") {
		t.Fatalf("log %q lacks the reason", log.lines)
	}
	// So is one that accepts what was not offered (§2.2.2).
	d.write(mmioStatus, 0)
	d.addStatus(StatusAcknowledge | StatusDriver)
	d.writeFeatures(fakeFeatures | 1<<4)
	d.addStatus(StatusFeaturesOK)
	equal(t, StatusAcknowledge|StatusDriver, d.status(), "status after FEATURES_OK with an unoffered feature")

	// Features beyond bit 63 do not exist.
	d.write(mmioDeviceFeaturesSel, 2)
	equal(t, uint32(0), d.read(mmioDeviceFeatures), "device features word 2")
	d.write(mmioDriverFeaturesSel, 2)
	d.write(mmioDriverFeatures, 1)

	// After FEATURES_OK the features are fixed.
	if !d.negotiate(FeatureVersion1) {
		t.Fatal("FEATURES_OK refused")
	}
	d.writeFeatures(fakeFeatures)
	equal(t, FeatureVersion1, m.Core().DriverFeatures(), "features written after FEATURES_OK")

	// The driver cannot clear a status bit but by a reset; NEEDS_RESET is the device's.
	d.write(mmioStatus, uint32(StatusAcknowledge|StatusNeedsReset))
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK, d.status(), "status after clearing bits")
}

func TestMMIOSequenceErrors(t *testing.T) {
	t.Run("queue ready before FEATURES_OK", func(t *testing.T) {
		_, m, d, _, _, _ := newFakeMMIO(t)
		d.addStatus(StatusAcknowledge | StatusDriver)
		r := vt.NewRing(m.core.mem, ringBase, 8)
		d.setupQueue(0, r)
		equal(t, uint32(0), d.read(mmioQueueReady), "QueueReady before FEATURES_OK")
		equal(t, error(nil), m.Err(), "error")
	})
	t.Run("queue out of range", func(t *testing.T) {
		_, m, d, _, _, _ := newFakeMMIO(t)
		d.negotiate(^uint64(0))
		d.write(mmioQueueSel, 2)
		equal(t, uint32(0), d.read(mmioQueueNumMax), "QueueNumMax of queue 2")
		d.write(mmioQueueNum, 8)
		d.write(mmioQueueReady, 1)
		equal(t, uint32(0), d.read(mmioQueueReady), "QueueReady of queue 2")
		equal(t, error(nil), m.Err(), "error")
	})
	for _, tc := range []struct {
		name string
		cfg  QueueConfig
	}{
		{"queue ready before its addresses", QueueConfig{Size: 8}},
		{"queue size above QueueNumMax", QueueConfig{Size: 16, Desc: 0x1000, Driver: 0x2000, Device: 0x3000}},
		{"queue size not a power of two", QueueConfig{Size: 6, Desc: 0x1000, Driver: 0x2000, Device: 0x3000}},
		{"queue size 0", QueueConfig{Size: 0, Desc: 0x1000, Driver: 0x2000, Device: 0x3000}},
		{"misaligned used ring", QueueConfig{Size: 8, Desc: 0x1000, Driver: 0x2000, Device: 0x3002}},
		{"ring outside RAM", QueueConfig{Size: 8, Desc: 0x1000, Driver: 0x2000, Device: 0xFFFFF000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev, m, d, irq, log, _ := newFakeMMIO(t)
			d.negotiate(^uint64(0))
			d.write(mmioQueueSel, 0)
			d.write(mmioQueueNum, tc.cfg.Size)
			d.write(mmioQueueDescLow, uint32(tc.cfg.Desc))
			d.write(mmioQueueDriverLow, uint32(tc.cfg.Driver))
			d.write(mmioQueueDeviceLow, uint32(tc.cfg.Device))
			d.write(mmioQueueReady, 1)
			equal(t, uint32(0), d.read(mmioQueueReady), "QueueReady")
			if !errors.Is(m.Err(), ErrQueueConfig) || d.status()&StatusNeedsReset == 0 {
				t.Fatalf("status %#x, Err %v: want DEVICE_NEEDS_RESET for %v", d.status(), m.Err(), ErrQueueConfig)
			}
			if !log.contains("needs reset") {
				t.Fatalf("log %q lacks the reason", log.lines)
			}
			// Before DRIVER_OK there is no configuration change notification,
			// and DRIVER_OK does not start a device that needs a reset.
			equal(t, 0, len(irq.events), "line changes")
			d.addStatus(StatusDriverOK)
			if dev.env != nil {
				t.Fatal("device activated while it needs a reset")
			}
		})
	}
	t.Run("DRIVER_OK without FEATURES_OK", func(t *testing.T) {
		dev, m, d, irq, _, _ := newFakeMMIO(t)
		d.addStatus(StatusAcknowledge | StatusDriver)
		d.addStatus(StatusDriverOK)
		if m.Err() == nil || d.status()&StatusNeedsReset == 0 || dev.env != nil {
			t.Fatalf("status %#x, Err %v, env %v", d.status(), m.Err(), dev.env)
		}
		equal(t, uint32(mmioIntConfigChanged), d.read(mmioInterruptStatus), "InterruptStatus")
		equal(t, true, irq.level[7], "line")
	})
	t.Run("notify before DRIVER_OK", func(t *testing.T) {
		dev, _, d, _, _, mem := newFakeMMIO(t)
		d.negotiate(^uint64(0))
		d.setupQueue(0, vt.NewRing(mem, ringBase, 8))
		d.kick(0)
		equal(t, []int(nil), dev.notified, "notifications before DRIVER_OK")
		d.addStatus(StatusDriverOK)
		d.kick(0)
		equal(t, []int{0}, dev.notified, "notifications after DRIVER_OK")
		// FAILED: the driver gave up.
		d.addStatus(StatusFailed)
		d.kick(0)
		equal(t, []int{0}, dev.notified, "notifications after FAILED")
	})
}

// TestMMIOMalformedQueueNeedsReset posts a looping chain to virtio-blk:
// the device sets DEVICE_NEEDS_RESET, tells why, raises a configuration
// change interrupt, and a reset brings it back.
func TestMMIOMalformedQueueNeedsReset(t *testing.T) {
	h := newBlk(t, blkOptions{})
	h.r.SetDesc(0, vt.Desc{Addr: dataBase, Len: 16, Flags: vt.FlagNext, Next: 1})
	h.r.SetDesc(1, vt.Desc{Addr: dataBase, Len: 16, Flags: vt.FlagNext, Next: 0})
	h.r.Offer(0)
	h.d.kick(0)
	if !errors.Is(h.m.Err(), ErrLoop) {
		t.Fatalf("Err = %v, want %v", h.m.Err(), ErrLoop)
	}
	equal(t, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK|StatusNeedsReset, h.d.status(), "status")
	equal(t, uint32(mmioIntConfigChanged), h.d.read(mmioInterruptStatus), "InterruptStatus")
	equal(t, []irqEvent{{blkGSI, true}}, h.irq.events, "line")
	if !h.log.contains("descriptor chain loops") {
		t.Fatalf("log %q lacks the reason", h.log.lines)
	}
	equal(t, uint16(0), h.r.UsedIdx(), "used idx")

	h.d.write(mmioStatus, 0)
	equal(t, uint8(0), h.d.status(), "status after reset")
	equal(t, error(nil), h.m.Err(), "Err after reset")
	equal(t, uint32(0), h.d.read(mmioInterruptStatus), "InterruptStatus after reset")
	equal(t, []irqEvent{{blkGSI, true}, {blkGSI, false}}, h.irq.events, "line after reset")
	equal(t, uint32(0), h.d.read(mmioQueueReady), "QueueReady after reset")
}

func TestMMIOConfigChange(t *testing.T) {
	dev, m, d, irq, _, mem := newFakeMMIO(t)
	gen := d.read(mmioConfigGeneration)
	d.negotiate(^uint64(0))
	d.setupQueue(0, vt.NewRing(mem, ringBase, 8))
	d.addStatus(StatusDriverOK)
	dev.env.Interrupt.ConfigChanged()
	if d.read(mmioConfigGeneration) == gen {
		t.Fatal("ConfigGeneration unchanged after a configuration change")
	}
	equal(t, uint32(mmioIntConfigChanged), d.interrupt(), "InterruptStatus")
	dev.env.Interrupt.UsedBuffer(0)
	dev.env.Interrupt.ConfigChanged()
	// Acknowledging one event keeps the line up for the other.
	d.write(mmioInterruptACK, mmioIntUsedBuffer)
	equal(t, true, irq.level[7], "line with a configuration change pending")
	d.write(mmioInterruptACK, mmioIntConfigChanged)
	equal(t, false, irq.level[7], "line with nothing pending")
	equal(t, "virtio_mmio.device=512@0xd0000000:7", m.KernelArg(0xd0000000), "kernel argument")
}
