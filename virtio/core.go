package virtio

import (
	"errors"
	"fmt"

	"github.com/gemu-project/gemu/mmu"
)

// Core is the transport-neutral half of a virtio device: the device status
// state machine (virtio 1.2 §2.1, §3.1), feature negotiation (§2.2), the
// queue configuration the driver writes, and DEVICE_NEEDS_RESET with its
// reason. A transport (virtio-mmio, later virtio-pci) maps its registers
// onto these methods and supplies the Interrupt.
type Core struct {
	dev  Device
	mem  *mmu.Memory
	intr Interrupt
	logf func(format string, args ...any)

	status         uint8
	driverFeatures uint64
	queues         []coreQueue
	failure        error // why DEVICE_NEEDS_RESET is set
	generation     uint32
}

type coreQueue struct {
	config QueueConfig
	queue  *Queue // non-nil while the queue is ready
}

// NewCore wraps dev for a transport. intr carries the notifications to the
// driver; logf, if not nil, receives the reasons for DEVICE_NEEDS_RESET and
// for driver accesses that were ignored.
func NewCore(dev Device, mem *mmu.Memory, intr Interrupt, logf func(format string, args ...any)) *Core {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	c := &Core{dev: dev, mem: mem, intr: intr, logf: logf, queues: make([]coreQueue, dev.NumQueues())}
	c.resetQueues()
	return c
}

// Device returns the device type behind the core.
func (c *Core) Device() Device { return c.dev }

// Logf logs through the core's logger, prefixed with the device name.
func (c *Core) Logf(format string, args ...any) {
	c.logf("%s: %s", c.dev.ID(), fmt.Sprintf(format, args...))
}

// Status is the device status (virtio 1.2 §2.1).
func (c *Core) Status() uint8 { return c.status }

// Err is the reason the device set DEVICE_NEEDS_RESET, or nil. It wraps
// the queue's Err reason, if any.
func (c *Core) Err() error { return c.failure }

// ConfigGeneration changes whenever the device changes its configuration
// space (virtio 1.2 §2.5).
func (c *Core) ConfigGeneration() uint32 { return c.generation }

// Reset is a device reset (virtio 1.2 §2.4): status, features and queues
// go back to their initial state. The transport clears its own state.
func (c *Core) Reset() {
	c.dev.Reset()
	c.status = 0
	c.driverFeatures = 0
	c.failure = nil
	c.resetQueues()
}

func (c *Core) resetQueues() {
	for i := range c.queues {
		c.queues[i] = coreQueue{config: QueueConfig{Size: uint32(c.dev.MaxQueueSize())}}
	}
}

// WriteStatus is the driver writing the device status. 0 resets the device.
// FEATURES_OK stays clear if the device refuses the driver's features
// (virtio 1.2 §2.2.2); DRIVER_OK starts the device.
func (c *Core) WriteStatus(v uint8) {
	if v == 0 {
		c.Reset()
		return
	}
	old := c.status
	// DEVICE_NEEDS_RESET belongs to the device.
	v = v&^StatusNeedsReset | old&StatusNeedsReset
	if cleared := old &^ v; cleared != 0 {
		// virtio 1.2 §2.1.1: the driver MUST NOT clear a status bit.
		c.Logf("driver cleared status bits %#x; kept", cleared)
		v |= cleared
	}
	if v&StatusFeaturesOK != 0 && old&StatusFeaturesOK == 0 {
		if err := c.checkFeatures(); err != nil {
			c.Logf("FEATURES_OK refused: %v", err)
			v &^= StatusFeaturesOK
		}
	}
	c.status = v
	if v&StatusDriverOK != 0 && old&StatusDriverOK == 0 {
		c.activate()
	}
}

// checkFeatures accepts any subset of the offered features that includes
// VIRTIO_F_VERSION_1: there is no legacy interface (virtio 1.2 §6.1).
func (c *Core) checkFeatures() error {
	offered := c.dev.Features()
	if extra := c.driverFeatures &^ offered; extra != 0 {
		return fmt.Errorf("driver accepted features %#x the device does not offer", extra)
	}
	if offered&FeatureVersion1 != 0 && c.driverFeatures&FeatureVersion1 == 0 {
		return errors.New("driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)")
	}
	return nil
}

func (c *Core) activate() {
	if c.status&StatusNeedsReset != 0 {
		return
	}
	if c.status&StatusFeaturesOK == 0 {
		c.Fail(errors.New("DRIVER_OK set without FEATURES_OK"))
		return
	}
	env := Env{Mem: c.mem, Features: c.driverFeatures, Queues: make([]*Queue, len(c.queues)), Interrupt: deviceInterrupt{c}}
	for i := range c.queues {
		env.Queues[i] = c.queues[i].queue
	}
	if err := c.dev.Activate(env); err != nil {
		c.Fail(err)
	}
}

// Fail sets DEVICE_NEEDS_RESET with a reason (virtio 1.2 §2.1.2): it logs
// the reason and, once DRIVER_OK is set, sends a configuration change
// notification. The first reason is kept until the reset.
func (c *Core) Fail(err error) {
	if c.status&StatusNeedsReset != 0 {
		return
	}
	c.status |= StatusNeedsReset
	c.failure = fmt.Errorf("%s: %w", c.dev.ID(), err)
	c.logf("%v; device needs reset", c.failure)
	if c.status&StatusDriverOK != 0 {
		c.intr.ConfigChanged()
	}
}

// DeviceFeatures returns 32 offered feature bits, word 0 or 1.
func (c *Core) DeviceFeatures(word uint32) uint32 {
	if word > 1 {
		return 0
	}
	return uint32(c.dev.Features() >> (32 * word))
}

// DriverFeatures is the set the driver accepted so far.
func (c *Core) DriverFeatures() uint64 { return c.driverFeatures }

// SetDriverFeatures sets 32 accepted feature bits, word 0 or 1. Once
// FEATURES_OK is set the features are fixed and writes are ignored.
func (c *Core) SetDriverFeatures(word, bits uint32) {
	switch {
	case c.status&StatusFeaturesOK != 0:
		c.Logf("driver features written after FEATURES_OK; ignored")
	case word > 1:
		if bits != 0 {
			c.Logf("driver features word %d = %#x; no such features, ignored", word, bits)
		}
	default:
		shift := 32 * word
		c.driverFeatures = c.driverFeatures&^(0xFFFFFFFF<<shift) | uint64(bits)<<shift
	}
}

// NumQueues is the number of queues of the device.
func (c *Core) NumQueues() int { return len(c.queues) }

// QueueMax is the largest size queue i may have, 0 for no such queue.
func (c *Core) QueueMax(i int) uint16 {
	if i < 0 || i >= len(c.queues) {
		return 0
	}
	return c.dev.MaxQueueSize()
}

// QueueConfig returns what the driver wrote about queue i so far.
func (c *Core) QueueConfig(i int) QueueConfig {
	if i < 0 || i >= len(c.queues) {
		return QueueConfig{}
	}
	return c.queues[i].config
}

// SetQueueConfig records the driver's size and addresses for queue i. It
// is ignored for a queue that does not exist or is ready.
func (c *Core) SetQueueConfig(i int, cfg QueueConfig) {
	switch {
	case i < 0 || i >= len(c.queues):
		c.Logf("configuration of queue %d, which does not exist; ignored", i)
	case c.queues[i].queue != nil:
		c.Logf("configuration of queue %d while it is ready; ignored", i)
	default:
		c.queues[i].config = cfg
	}
}

// QueueReady reports whether queue i is enabled.
func (c *Core) QueueReady(i int) bool {
	return i >= 0 && i < len(c.queues) && c.queues[i].queue != nil
}

// SetQueueReady enables or disables queue i. Enabling checks the
// configuration against guest memory and the negotiated features; a bad one
// sets DEVICE_NEEDS_RESET. Queues are set up between FEATURES_OK and
// DRIVER_OK (virtio 1.2 §3.1.1); changes at other times are ignored.
func (c *Core) SetQueueReady(i int, ready bool) {
	switch {
	case i < 0 || i >= len(c.queues):
		c.Logf("queue %d does not exist; ready bit ignored", i)
		return
	case ready == (c.queues[i].queue != nil):
		return
	case c.status&StatusDriverOK != 0:
		c.Logf("queue %d enabled or disabled after DRIVER_OK; ignored", i)
		return
	case !ready:
		c.queues[i].queue = nil
		return
	case c.status&StatusFeaturesOK == 0:
		c.Logf("queue %d enabled before FEATURES_OK; ignored", i)
		return
	case c.status&StatusNeedsReset != 0:
		return
	}
	cfg := c.queues[i].config
	if cfg.Size > uint32(c.dev.MaxQueueSize()) {
		c.Fail(fmt.Errorf("queue %d: %w: size %d above the maximum %d", i, ErrQueueConfig, cfg.Size, c.dev.MaxQueueSize()))
		return
	}
	q, err := NewQueue(c.mem, cfg, c.driverFeatures)
	if err != nil {
		c.Fail(fmt.Errorf("queue %d: %w", i, err))
		return
	}
	c.queues[i].queue = q
}

// Notify is the driver's available buffer notification for queue i. It
// reaches the device only while the device is live: DRIVER_OK set (virtio
// 1.2 §2.1.2), no DEVICE_NEEDS_RESET or FAILED, the queue ready.
func (c *Core) Notify(i int) {
	if c.status&(StatusDriverOK|StatusNeedsReset|StatusFailed) != StatusDriverOK {
		return
	}
	if !c.QueueReady(i) {
		c.Logf("notification for queue %d, which is not ready; ignored", i)
		return
	}
	if err := c.dev.Notify(i); err != nil {
		c.Fail(fmt.Errorf("queue %d: %w", i, err))
	}
}

// ReadConfig reads the device-specific configuration space.
func (c *Core) ReadConfig(offset uint64, data []byte) { c.dev.ReadConfig(offset, data) }

// WriteConfig writes the device-specific configuration space.
func (c *Core) WriteConfig(offset uint64, data []byte) { c.dev.WriteConfig(offset, data) }

// deviceInterrupt is the Interrupt a device gets: it keeps notifications
// within DRIVER_OK (virtio 1.2 §2.1.2) and bumps the configuration
// generation on a change.
type deviceInterrupt struct{ c *Core }

func (d deviceInterrupt) UsedBuffer(queue int) {
	if d.c.status&StatusDriverOK != 0 {
		d.c.intr.UsedBuffer(queue)
	}
}

func (d deviceInterrupt) ConfigChanged() {
	d.c.generation++
	if d.c.status&StatusDriverOK != 0 {
		d.c.intr.ConfigChanged()
	}
}
