package virtio

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/gemu-project/gemu/devices"
)

// virtio-net (virtio 1.2 §5.1): queue 0 receives, queue 1 transmits. Every
// buffer starts with struct virtio_net_hdr, 12 bytes with VIRTIO_F_VERSION_1
// (§5.1.6); no offloads are offered, so the header carries no checksum or
// segmentation work and the driver's checksums travel as they are.
const (
	netFMAC    = 1 << 5  // VIRTIO_NET_F_MAC: config.mac is valid
	netFStatus = 1 << 16 // VIRTIO_NET_F_STATUS: config.status is valid

	netHeaderSize  = 12
	netConfigSize  = 8 // mac[6], status (§5.1.4)
	netStatusUp    = 1 // VIRTIO_NET_S_LINK_UP
	netRxQueue     = 0
	netTxQueue     = 1
	netQueueSize   = 256
	netInboxFrames = 256 // received frames waiting for receive buffers
)

// NetStats counts a virtio-net device's work.
type NetStats struct {
	FramesIn, BytesIn   uint64 // delivered to the guest
	FramesOut, BytesOut uint64 // sent by the guest
	// Dropped counts received frames lost: the inbox was full, or the
	// guest's buffer was too small for the frame.
	Dropped uint64
}

// Net is a virtio-net device on a host network backend.
type Net struct {
	link     devices.NetBackend
	features uint64
	config   [netConfigSize]byte

	// Set by Activate.
	rx, tx *Queue
	intr   Interrupt

	// Frames from the backend's goroutine, taken on the vCPU's at Poll.
	mu        sync.Mutex
	inbox     [][]byte
	pending   atomic.Bool
	inboxFull atomic.Uint64 // frames dropped at the inbox

	stats NetStats
}

// NewNet makes a virtio-net device with the given MAC address on link; the
// device takes the link's received frames.
func NewNet(link devices.NetBackend, mac [6]byte) *Net {
	n := &Net{link: link, features: RingFeatures | netFMAC | netFStatus}
	copy(n.config[:6], mac[:])
	binary.LittleEndian.PutUint16(n.config[6:], netStatusUp)
	link.SetReceiver(n.receive)
	return n
}

// ID is DeviceIDNet.
func (n *Net) ID() DeviceID { return DeviceIDNet }

// Features are the offered feature bits.
func (n *Net) Features() uint64 { return n.features }

// NumQueues is 2: one receive and one transmit queue (no VIRTIO_NET_F_MQ,
// no control queue).
func (n *Net) NumQueues() int { return 2 }

// MaxQueueSize is 256.
func (n *Net) MaxQueueSize() uint16 { return netQueueSize }

// ReadConfig reads struct virtio_net_config: mac, then status.
func (n *Net) ReadConfig(offset uint64, data []byte) {
	clear(data)
	if offset < uint64(len(n.config)) {
		copy(data, n.config[offset:])
	}
}

// WriteConfig ignores writes: the fields are read-only for the driver.
func (n *Net) WriteConfig(uint64, []byte) {}

// Activate takes the queues.
func (n *Net) Activate(env Env) error {
	n.rx, n.tx, n.intr = env.Queues[netRxQueue], env.Queues[netTxQueue], env.Interrupt
	return nil
}

// Reset forgets the queues; frames waiting for the guest stay queued.
func (n *Net) Reset() { n.rx, n.tx, n.intr = nil, nil, nil }

// Stats returns the counters.
func (n *Net) Stats() NetStats {
	s := n.stats
	s.Dropped += n.inboxFull.Load()
	return s
}

// receive queues a frame from the backend; any goroutine may call it.
func (n *Net) receive(frame []byte) {
	n.mu.Lock()
	if len(n.inbox) < netInboxFrames {
		n.inbox = append(n.inbox, frame)
		n.pending.Store(true)
	} else {
		n.inboxFull.Add(1)
	}
	n.mu.Unlock()
}

// Poll delivers received frames into the guest's receive buffers. The
// machine calls it on the vCPU goroutine; it costs one atomic load when no
// frame waits.
func (n *Net) Poll() error {
	if !n.pending.Load() || n.rx == nil {
		return nil
	}
	return n.deliver()
}

// Notify serves the transmit queue, or retries delivery when the driver
// adds receive buffers.
func (n *Net) Notify(queue int) error {
	switch queue {
	case netRxQueue:
		if n.rx != nil && n.pending.Load() {
			return n.deliver()
		}
	case netTxQueue:
		if n.tx != nil {
			return n.transmit()
		}
	}
	return nil
}

// transmit sends each available chain's frame, after its header (§5.1.6.2).
func (n *Net) transmit() error {
	q := n.tx
	defer func() {
		if q.NeedsInterrupt() {
			n.intr.UsedBuffer(netTxQueue)
		}
	}()
	for {
		c, err := q.Pop()
		if err != nil || c == nil {
			return err
		}
		if size := c.ReadableLen(); size > netHeaderSize && size-netHeaderSize <= devices.NetMaxFrame {
			frame := make([]byte, size-netHeaderSize)
			c.Read(frame, netHeaderSize)
			n.stats.FramesOut++
			n.stats.BytesOut += uint64(len(frame))
			n.link.Send(frame) // a broken link loses the frame, as a cut cable would
		}
		q.Push(c.Head, 0)
	}
}

// deliver moves waiting frames into receive buffers while there are both
// (§5.1.6.3): a header with num_buffers = 1, then the frame.
func (n *Net) deliver() error {
	q := n.rx
	delivered := false
	defer func() {
		if delivered && q.NeedsInterrupt() {
			n.intr.UsedBuffer(netRxQueue)
		}
	}()
	for {
		n.mu.Lock()
		if len(n.inbox) == 0 {
			n.pending.Store(false)
			n.mu.Unlock()
			return nil
		}
		frame := n.inbox[0]
		n.mu.Unlock()
		c, err := q.Pop()
		if err != nil || c == nil {
			return err // no buffer: the frame waits for the next one
		}
		n.mu.Lock()
		n.inbox[0] = nil
		n.inbox = n.inbox[1:]
		n.mu.Unlock()
		var written uint32
		if c.WritableLen() >= uint64(netHeaderSize+len(frame)) {
			var hdr [netHeaderSize]byte
			binary.LittleEndian.PutUint16(hdr[10:], 1) // num_buffers
			c.Write(hdr[:], 0)
			c.Write(frame, netHeaderSize)
			written = uint32(netHeaderSize + len(frame))
			n.stats.FramesIn++
			n.stats.BytesIn += uint64(len(frame))
		} else {
			n.stats.Dropped++ // the buffer goes back empty
		}
		q.Push(c.Head, written)
		delivered = true
	}
}
