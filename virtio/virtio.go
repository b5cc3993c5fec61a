// Package virtio holds the virtio 1.2 devices: the split virtqueue as a
// library over guest memory (queue.go, chain.go), the transport-neutral
// device core with feature negotiation and the status state machine
// (core.go), the virtio-mmio version 2 transport (mmio.go) and the device
// types (blk.go). Everything a driver writes is checked: a malformed queue
// puts the device in DEVICE_NEEDS_RESET with a reason, never a panic.
//
// Reference: Virtual I/O Device (VIRTIO) Version 1.2, cited as "virtio 1.2 §x".
package virtio

import "fmt"

// DeviceID is a virtio device type (virtio 1.2 §5).
type DeviceID uint32

// Device types.
const (
	DeviceIDNet     DeviceID = 1
	DeviceIDBlock   DeviceID = 2
	DeviceIDConsole DeviceID = 3
	DeviceIDEntropy DeviceID = 4
)

func (id DeviceID) String() string {
	switch id {
	case DeviceIDNet:
		return "virtio-net"
	case DeviceIDBlock:
		return "virtio-blk"
	case DeviceIDConsole:
		return "virtio-console"
	case DeviceIDEntropy:
		return "virtio-rng"
	}
	return fmt.Sprintf("virtio-%d", uint32(id))
}

// Device status bits (virtio 1.2 §2.1).
const (
	StatusAcknowledge uint8 = 1
	StatusDriver      uint8 = 2
	StatusDriverOK    uint8 = 4
	StatusFeaturesOK  uint8 = 8
	StatusNeedsReset  uint8 = 64
	StatusFailed      uint8 = 128
)

// Reserved feature bits, as masks (virtio 1.2 §6).
const (
	FeatureIndirectDesc     uint64 = 1 << 28 // VIRTIO_F_INDIRECT_DESC
	FeatureEventIdx         uint64 = 1 << 29 // VIRTIO_F_EVENT_IDX
	FeatureVersion1         uint64 = 1 << 32 // VIRTIO_F_VERSION_1
	FeatureAccessPlatform   uint64 = 1 << 33
	FeatureRingPacked       uint64 = 1 << 34
	FeatureInOrder          uint64 = 1 << 35
	FeatureNotificationData uint64 = 1 << 38
	FeatureRingReset        uint64 = 1 << 40

	// RingFeatures are what this package's split virtqueue implements for
	// every device type; devices offer them along with their own bits.
	RingFeatures = FeatureVersion1 | FeatureIndirectDesc | FeatureEventIdx
)
