package virtio

import "github.com/gemu-project/gemu/mmu"

// Device is a virtio device type, independent of the transport that
// exposes it (virtio-mmio here, virtio-pci later). The transport's Core
// calls it; a device never sees transport registers.
type Device interface {
	// ID is the device type (virtio 1.2 §5).
	ID() DeviceID
	// Features are the feature bits the device offers (virtio 1.2 §2.2),
	// including the RingFeatures it wants.
	Features() uint64
	// NumQueues is the number of virtqueues; MaxQueueSize the largest
	// size the driver may give each of them (a power of two ≤ 32768).
	NumQueues() int
	MaxQueueSize() uint16
	// ReadConfig and WriteConfig access the device-specific configuration
	// space (virtio 1.2 §2.5). Reads past its end return zeros; data is
	// 1, 2, 4 or 8 bytes.
	ReadConfig(offset uint64, data []byte)
	WriteConfig(offset uint64, data []byte)
	// Activate starts the device when the driver sets DRIVER_OK. An error
	// puts the device in DEVICE_NEEDS_RESET.
	Activate(env Env) error
	// Notify is the driver's available-buffer notification for a queue
	// (virtio 1.2 §2.3). An error means the driver broke the protocol in a
	// way no request status can report; the device then needs a reset.
	Notify(queue int) error
	// Reset returns the device to its initial state (virtio 1.2 §2.4):
	// it forgets the queues and the interrupt of the last Activate.
	Reset()
}

// Env is what a device gets when the driver sets DRIVER_OK.
type Env struct {
	Mem *mmu.Memory
	// Features is the negotiated set.
	Features uint64
	// Queues has one entry per device queue, nil for one the driver did
	// not enable.
	Queues []*Queue
	// Interrupt signals the driver.
	Interrupt Interrupt
}

// Interrupt is how a device notifies the driver; the transport provides it
// (virtio 1.2 §2.3; virtio-mmio: InterruptStatus bits 0 and 1).
type Interrupt interface {
	// UsedBuffer is a used buffer notification for a queue. Devices call
	// it when Queue.NeedsInterrupt says so.
	UsedBuffer(queue int)
	// ConfigChanged is a configuration change notification; the
	// configuration generation changes with it.
	ConfigChanged()
}
