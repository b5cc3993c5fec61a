package virtio

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gemu-project/gemu/mmu"
	vt "github.com/gemu-project/gemu/virtio/virtiotest"
)

// fakeLink is a NetBackend that keeps what the device sends and lets the
// test play the far end.
type fakeLink struct {
	sent    [][]byte
	deliver func([]byte)
}

func (l *fakeLink) Send(f []byte) error {
	l.sent = append(l.sent, append([]byte(nil), f...))
	return nil
}
func (l *fakeLink) SetReceiver(fn func([]byte)) { l.deliver = fn }
func (l *fakeLink) Close() error                { return nil }

// startNet brings a virtio-net up over virtio-mmio as Linux's virtio_net
// does: both queues, then DRIVER_OK.
func startNet(t *testing.T) (*Net, *fakeLink, driver, *vt.Ring, *vt.Ring, *mmu.Memory) {
	mem := newMemory(t)
	link := &fakeLink{}
	mac := [6]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	n := NewNet(link, mac)
	irq := &irqRecorder{}
	m := NewMMIO(n, MMIOConfig{Mem: mem, IRQ: irq, GSI: 9})
	d := driver{t: t, m: m}
	if !d.negotiate(^uint64(0)) {
		t.Fatalf("FEATURES_OK refused: %v", m.Err())
	}
	rx := vt.NewRing(mem, 0x1000, 8)
	tx := vt.NewRing(mem, 0x4000, 8)
	d.setupQueue(0, rx)
	d.setupQueue(1, tx)
	d.addStatus(StatusDriverOK)
	var cfg [8]byte
	m.Read(mmioConfig, cfg[:])
	equal(t, mac[:], cfg[:6], "config: mac")
	equal(t, uint16(1), binary.LittleEndian.Uint16(cfg[6:]), "config: status LINK_UP")
	return n, link, d, rx, tx, mem
}

func TestNetTransmitAndReceive(t *testing.T) {
	n, link, d, rx, tx, mem := startNet(t)

	// Transmit: header and frame in two buffers, as Linux's xmit_skb may.
	frame := bytes.Repeat([]byte{0xAB}, 60)
	mem.WriteAt(0x10000, make([]byte, netHeaderSize))
	mem.WriteAt(0x10100, frame)
	tx.AddChain(vt.Buf{Addr: 0x10000, Len: netHeaderSize}, vt.Buf{Addr: 0x10100, Len: 60})
	d.kick(1)
	equal(t, 1, len(link.sent), "frames sent")
	equal(t, frame, link.sent[0], "frame on the link")
	equal(t, uint16(1), tx.UsedIdx(), "tx used")
	equal(t, uint32(1), d.interrupt(), "used-buffer interrupt")

	// Receive with no buffer posted: the frame waits.
	in := []byte("a frame from the wire, at least this long....................")
	link.deliver(in)
	equal(t, nil, n.Poll(), "poll")
	equal(t, uint16(0), rx.UsedIdx(), "nothing used without buffers")
	// The driver posts a buffer and kicks: the frame lands with its header.
	rx.AddChain(vt.Buf{Addr: 0x20000, Len: 1526, Write: true})
	d.kick(0)
	equal(t, uint16(1), rx.UsedIdx(), "rx used")
	u := rx.UsedElem(0)
	equal(t, uint32(netHeaderSize+len(in)), u.Len, "used length")
	got := make([]byte, netHeaderSize+len(in))
	mem.ReadAt(0x20000, got)
	equal(t, uint16(1), binary.LittleEndian.Uint16(got[10:]), "num_buffers")
	equal(t, in, got[netHeaderSize:], "received frame")

	// A buffer too small for the frame goes back empty and counts a drop.
	rx.AddChain(vt.Buf{Addr: 0x21000, Len: 20, Write: true})
	link.deliver(in)
	n.Poll()
	equal(t, uint16(2), rx.UsedIdx(), "rx used")
	equal(t, uint32(0), rx.UsedElem(1).Len, "no bytes in a short buffer")
	s := n.Stats()
	equal(t, NetStats{FramesIn: 1, BytesIn: uint64(len(in)), FramesOut: 1, BytesOut: 60, Dropped: 1}, s, "stats")

	// A flood beyond the inbox is dropped, not buffered without bound.
	for range netInboxFrames + 10 {
		link.deliver(in)
	}
	equal(t, uint64(11), n.Stats().Dropped, "dropped at the inbox")
}

// A malformed transmit chain puts the device in NEEDS_RESET; nothing is sent.
func TestNetMalformedChain(t *testing.T) {
	_, link, d, _, tx, _ := startNet(t)
	tx.AddChain(vt.Buf{Addr: mmu.GPA(1 << 40), Len: 64})
	d.kick(1)
	equal(t, 0, len(link.sent), "frames sent")
	equal(t, true, d.status()&StatusNeedsReset != 0, "NEEDS_RESET")
}
