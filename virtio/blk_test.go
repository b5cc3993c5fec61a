package virtio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
	vt "github.com/gemu-project/gemu/virtio/virtiotest"
)

const (
	blkGSI      = 5
	blkSectors  = 64
	blkRingSize = 16
	dataBase    = 0x20000
	dataEnd     = 0xF0000
)

// countingBackend records the calls that change the disk.
type countingBackend struct {
	devices.BlockBackend
	writes [][2]int64 // offset, length
	syncs  int
}

func (b *countingBackend) WriteAt(p []byte, off int64) (int, error) {
	b.writes = append(b.writes, [2]int64{off, int64(len(p))})
	return b.BlockBackend.WriteAt(p, off)
}

func (b *countingBackend) Sync() error {
	b.syncs++
	return b.BlockBackend.Sync()
}

// discardingBackend also implements Discarder, by writing zeros.
type discardingBackend struct {
	*countingBackend
	discards [][2]int64
}

func (b *discardingBackend) Discard(off, n int64) error {
	b.discards = append(b.discards, [2]int64{off, n})
	_, err := b.BlockBackend.WriteAt(make([]byte, n), off)
	return err
}

type blkOptions struct {
	readOnly bool
	discard  bool
	want     uint64 // features the driver accepts; 0 means all offered
	serial   string
	backend  devices.BlockBackend // instead of a disk image
}

// blkHarness is a virtio-blk device on a temporary disk image behind
// virtio-mmio, driven like Linux's virtio_blk.
type blkHarness struct {
	t    *testing.T
	path string
	mem  *mmu.Memory
	disk *countingBackend
	blk  *Block
	m    *MMIO
	d    driver
	r    *vt.Ring
	irq  *irqRecorder
	log  *logRecorder
	next mmu.GPA
}

// diskPattern is the initial image: no two nearby sectors alike.
func diskPattern() []byte {
	b := make([]byte, blkSectors*devices.SectorSize)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

func newBlk(t *testing.T, o blkOptions) *blkHarness {
	t.Helper()
	h := &blkHarness{t: t, mem: newMemory(t), irq: &irqRecorder{}, log: &logRecorder{}}
	backend := o.backend
	if backend == nil {
		h.path = filepath.Join(t.TempDir(), "disk.img")
		if err := os.WriteFile(h.path, diskPattern(), 0o644); err != nil {
			t.Fatal(err)
		}
		fb, err := devices.OpenFileBackend(h.path, o.readOnly)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fb.Close() })
		h.disk = &countingBackend{BlockBackend: fb}
		backend = h.disk
		if o.discard {
			backend = &discardingBackend{countingBackend: h.disk}
		}
	}
	var err error
	h.blk, err = NewBlock(backend, BlockConfig{Serial: o.serial, QueueSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	h.m = NewMMIO(h.blk, MMIOConfig{Mem: h.mem, IRQ: h.irq, GSI: blkGSI, Logf: h.log.logf})
	h.d = driver{t, h.m}
	h.r = vt.NewRing(h.mem, ringBase, blkRingSize)
	want := o.want
	if want == 0 {
		want = ^uint64(0)
	}
	h.d.start(want, h.r)
	return h
}

func (h *blkHarness) file() []byte {
	h.t.Helper()
	b, err := os.ReadFile(h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// alloc returns n bytes of guest memory for buffers, 8-byte aligned.
func (h *blkHarness) alloc(n int) mmu.GPA {
	if h.next == 0 || h.next+mmu.GPA(n) > dataEnd {
		h.next = dataBase
	}
	a := h.next
	h.next = (a + mmu.GPA(n) + 7) &^ 7
	return a
}

// blkRequest is a request as a driver lays it out.
type blkRequest struct {
	typ    uint32
	sector uint64
	out    []byte // data after the header: OUT data, segments
	in     int    // device-writable bytes before the status byte
	// split cuts the data into buffers of this many bytes (0: one buffer);
	// indirect puts the chain in an indirect table.
	split    int
	indirect bool
}

type blkReply struct {
	status byte
	in     []byte
	used   vt.Used
}

// buffers cuts n bytes at addr into pieces of split bytes.
func buffers(addr mmu.GPA, n, split int, write bool) []vt.Buf {
	if n == 0 {
		return nil
	}
	if split <= 0 {
		split = n
	}
	var bufs []vt.Buf
	for off := 0; off < n; off += split {
		bufs = append(bufs, vt.Buf{Addr: addr + mmu.GPA(off), Len: uint32(min(split, n-off)), Write: write})
	}
	return bufs
}

func (h *blkHarness) post(req blkRequest) (in, status mmu.GPA) {
	hdr := make([]byte, blkHeaderSize)
	binary.LittleEndian.PutUint32(hdr[0:], req.typ)
	binary.LittleEndian.PutUint64(hdr[8:], req.sector)
	hdrAddr := h.alloc(blkHeaderSize)
	outAddr := h.alloc(len(req.out))
	in = h.alloc(req.in)
	status = h.alloc(1)
	h.mem.WriteAt(hdrAddr, hdr)
	h.mem.WriteAt(outAddr, req.out)
	h.mem.WriteAt(status, []byte{0xEE})
	bufs := []vt.Buf{{Addr: hdrAddr, Len: blkHeaderSize}}
	bufs = append(bufs, buffers(outAddr, len(req.out), req.split, false)...)
	bufs = append(bufs, buffers(in, req.in, req.split, true)...)
	bufs = append(bufs, vt.Buf{Addr: status, Len: 1, Write: true})
	if req.indirect {
		h.r.AddIndirect(h.alloc(vt.DescSize*len(bufs)), bufs...)
	} else {
		h.r.AddChain(bufs...)
	}
	return in, status
}

// do posts one request, kicks, and takes its completion like the driver's
// interrupt handler.
func (h *blkHarness) do(req blkRequest) blkReply {
	h.t.Helper()
	used := h.r.UsedIdx()
	in, status := h.post(req)
	h.d.kick(0)
	if err := h.m.Err(); err != nil {
		h.t.Fatalf("device needs reset: %v", err)
	}
	if got := h.r.UsedIdx(); got != used+1 {
		h.t.Fatalf("used idx %d after the request, want %d", got, used+1)
	}
	if s := h.d.interrupt(); s != mmioIntUsedBuffer {
		h.t.Fatalf("InterruptStatus %#x, want a used buffer notification", s)
	}
	rep := blkReply{in: make([]byte, req.in), used: h.r.UsedElem(used)}
	h.mem.ReadAt(in, rep.in)
	rep.status = h.mem.RAM[status]
	// As Linux re-enables callbacks: notify at the next used entry.
	h.r.SetUsedEvent(h.r.UsedIdx())
	return rep
}

func sectorData(seed byte, n int) []byte {
	b := make([]byte, n*devices.SectorSize)
	for i := range b {
		b[i] = seed + byte(i*13) + byte(i>>8)
	}
	return b
}

func TestBlockConfigSpace(t *testing.T) {
	h := newBlk(t, blkOptions{})
	cfg := func(off uint64) uint32 { return h.d.read(mmioConfig + off) }
	gen := h.d.read(mmioConfigGeneration)
	capacity := uint64(cfg(blkCfgCapacity)) | uint64(cfg(blkCfgCapacity+4))<<32
	equal(t, gen, h.d.read(mmioConfigGeneration), "config generation")
	equal(t, uint64(blkSectors), capacity, "capacity")
	equal(t, uint32(62), cfg(blkCfgSegMax), "seg_max")
	equal(t, uint32(512), cfg(blkCfgBlkSize), "blk_size")
	equal(t, uint32(blkMaxWriteZeroesSectors), cfg(blkCfgMaxWriteZeroesSectors), "max_write_zeroes_sectors")
	equal(t, uint32(0), cfg(blkCfgMaxDiscardSectors), "max_discard_sectors without a Discarder")
	equal(t, uint32(0), cfg(0x80), "past the structure")
	// A 64-bit field may also be read in one access.
	var b [8]byte
	h.m.Read(mmioConfig+blkCfgCapacity, b[:])
	equal(t, uint64(blkSectors), binary.LittleEndian.Uint64(b[:]), "64-bit capacity read")

	f := h.d.deviceFeatures()
	equal(t, RingFeatures|blkFSegMax|blkFBlkSize|blkFFlush|blkFWriteZeroes, f, "offered features")
	equal(t, f, h.m.Core().DriverFeatures(), "negotiated features")
}

func TestBlockWriteReadBack(t *testing.T) {
	for _, layout := range []struct {
		name     string
		split    int
		indirect bool
	}{{"one buffer", 0, false}, {"odd splits", 300, false}, {"indirect", 700, true}} {
		t.Run(layout.name, func(t *testing.T) {
			h := newBlk(t, blkOptions{})
			data := sectorData(3, 4)
			rep := h.do(blkRequest{typ: blkTOut, sector: 3, out: data, split: layout.split, indirect: layout.indirect})
			equal(t, byte(blkSOK), rep.status, "OUT status")
			equal(t, vt.Used{ID: rep.used.ID, Len: 1}, rep.used, "OUT used length: the status byte")

			want := diskPattern()
			copy(want[3*512:], data)
			if !bytes.Equal(want, h.file()) {
				t.Fatal("image differs from the pattern with the written sectors")
			}
			rep = h.do(blkRequest{typ: blkTIn, sector: 3, in: len(data), split: layout.split, indirect: layout.indirect})
			equal(t, byte(blkSOK), rep.status, "IN status")
			equal(t, uint32(len(data)+1), rep.used.Len, "IN used length")
			if !bytes.Equal(data, rep.in) {
				t.Fatal("read back differs from what was written")
			}
			rep = h.do(blkRequest{typ: blkTIn, sector: blkSectors - 1, in: 512})
			equal(t, byte(blkSOK), rep.status, "IN of the last sector")
			equal(t, want[(blkSectors-1)*512:], rep.in, "last sector")
			st := h.blk.Stats()
			equal(t, BlockStats{Requests: 3, SectorsRead: 5, SectorsWritten: 4}, st, "stats")
		})
	}
}

func TestBlockFlush(t *testing.T) {
	h := newBlk(t, blkOptions{})
	h.do(blkRequest{typ: blkTOut, sector: 0, out: sectorData(1, 1)})
	equal(t, 0, h.disk.syncs, "syncs after a write with VIRTIO_BLK_F_FLUSH")
	rep := h.do(blkRequest{typ: blkTFlush})
	equal(t, byte(blkSOK), rep.status, "FLUSH status")
	equal(t, 1, h.disk.syncs, "syncs after FLUSH")

	// Without VIRTIO_BLK_F_FLUSH a completed write is stable (§5.2.6.2).
	h = newBlk(t, blkOptions{want: ^blkFFlush})
	h.do(blkRequest{typ: blkTOut, sector: 0, out: sectorData(1, 1)})
	equal(t, 1, h.disk.syncs, "syncs after a write without VIRTIO_BLK_F_FLUSH")
}

func TestBlockGetID(t *testing.T) {
	for _, serial := range []string{"gemu-disk0", "01234567890123456789", "012345678901234567890123"} {
		h := newBlk(t, blkOptions{serial: serial})
		rep := h.do(blkRequest{typ: blkTGetID, in: blkIDBytes})
		equal(t, byte(blkSOK), rep.status, "GET_ID status")
		want := make([]byte, blkIDBytes)
		copy(want, serial)
		equal(t, want, rep.in, "GET_ID of %q", serial)
	}
}

func segments(segs ...blkSegment) []byte {
	b := make([]byte, blkSegmentSize*len(segs))
	for i, s := range segs {
		binary.LittleEndian.PutUint64(b[i*16:], s.sector)
		binary.LittleEndian.PutUint32(b[i*16+8:], s.sectors)
		binary.LittleEndian.PutUint32(b[i*16+12:], s.flags)
	}
	return b
}

func TestBlockWriteZeroesAndDiscard(t *testing.T) {
	h := newBlk(t, blkOptions{discard: true})
	disc := h.blk.discarder.(*discardingBackend)
	f := h.d.deviceFeatures()
	if f&blkFDiscard == 0 || f&blkFWriteZeroes == 0 {
		t.Fatalf("features %#x: want DISCARD and WRITE_ZEROES with a Discarder", f)
	}
	equal(t, uint32(1), h.d.read(mmioConfig+blkCfgWriteZeroesMayUnmap)&0xFF, "write_zeroes_may_unmap")
	want := diskPattern()

	rep := h.do(blkRequest{typ: blkTWriteZeroes, out: segments(blkSegment{sector: 2, sectors: 3})})
	equal(t, byte(blkSOK), rep.status, "WRITE_ZEROES")
	clear(want[2*512 : 5*512])
	equal(t, 0, len(disc.discards), "discards for WRITE_ZEROES without unmap")
	rep = h.do(blkRequest{typ: blkTWriteZeroes, out: segments(blkSegment{sector: 10, sectors: 1, flags: blkFlagUnmap})})
	equal(t, byte(blkSOK), rep.status, "WRITE_ZEROES with unmap")
	clear(want[10*512 : 11*512])
	equal(t, [][2]int64{{10 * 512, 512}}, disc.discards, "discards for WRITE_ZEROES with unmap")
	rep = h.do(blkRequest{typ: blkTDiscard, out: segments(blkSegment{sector: 20, sectors: 2}, blkSegment{sector: 30, sectors: 8})})
	equal(t, byte(blkSOK), rep.status, "DISCARD")
	clear(want[20*512 : 22*512])
	clear(want[30*512 : 38*512])
	if !bytes.Equal(want, h.file()) {
		t.Fatal("image after zeroing differs")
	}

	// Refused requests change nothing (§5.2.6.2: UNSUPP for flags, IOERR
	// for the driver's limits and ranges).
	before := h.file()
	writes := len(h.disk.writes)
	for _, tc := range []struct {
		name   string
		typ    uint32
		out    []byte
		status byte
	}{
		{"discard with unmap", blkTDiscard, segments(blkSegment{sector: 1, sectors: 1, flags: blkFlagUnmap}), blkSUnsupp},
		{"write zeroes with an unknown flag", blkTWriteZeroes, segments(blkSegment{sector: 1, sectors: 1, flags: 2}), blkSUnsupp},
		{"two write-zeroes segments", blkTWriteZeroes, segments(blkSegment{sector: 1, sectors: 1}, blkSegment{sector: 3, sectors: 1}), blkSIOErr},
		{"17 discard segments", blkTDiscard, segments(make([]blkSegment, 17)...), blkSIOErr},
		{"no segment", blkTDiscard, nil, blkSIOErr},
		{"half a segment", blkTDiscard, make([]byte, 8), blkSIOErr},
		{"second segment past the end", blkTDiscard, segments(blkSegment{sector: 1, sectors: 1}, blkSegment{sector: blkSectors - 1, sectors: 2}), blkSIOErr},
		{"segment at a huge sector", blkTWriteZeroes, segments(blkSegment{sector: ^uint64(0), sectors: 1}), blkSIOErr},
		{"too many sectors", blkTWriteZeroes, segments(blkSegment{sector: 0, sectors: blkMaxWriteZeroesSectors + 1}), blkSIOErr},
	} {
		rep := h.do(blkRequest{typ: tc.typ, out: tc.out})
		equal(t, tc.status, rep.status, "%s: status", tc.name)
	}
	if !bytes.Equal(before, h.file()) {
		t.Fatal("refused requests changed the image")
	}
	equal(t, writes, len(h.disk.writes), "backend writes for refused requests")
	equal(t, 3, len(disc.discards), "discards for refused requests")

	// Without a Discarder, DISCARD is neither offered nor served.
	h = newBlk(t, blkOptions{})
	rep = h.do(blkRequest{typ: blkTDiscard, out: segments(blkSegment{sector: 1, sectors: 1})})
	equal(t, byte(blkSUnsupp), rep.status, "DISCARD without a Discarder")
}

func TestBlockReadOnly(t *testing.T) {
	h := newBlk(t, blkOptions{readOnly: true})
	f := h.m.Core().DriverFeatures()
	if f&blkFRO == 0 || f&(blkFWriteZeroes|blkFDiscard) != 0 {
		t.Fatalf("features %#x: want RO, no WRITE_ZEROES or DISCARD", f)
	}
	before := h.file()
	for _, req := range []blkRequest{
		{typ: blkTOut, sector: 1, out: sectorData(9, 2)},
		{typ: blkTWriteZeroes, out: segments(blkSegment{sector: 1, sectors: 1})},
		{typ: blkTDiscard, out: segments(blkSegment{sector: 1, sectors: 1})},
	} {
		rep := h.do(req)
		want := byte(blkSUnsupp)
		if req.typ == blkTOut {
			want = blkSIOErr // §5.2.6.2
		}
		equal(t, want, rep.status, "request type %d on a read-only disk", req.typ)
	}
	rep := h.do(blkRequest{typ: blkTIn, sector: 1, in: 512})
	equal(t, byte(blkSOK), rep.status, "IN on a read-only disk")
	equal(t, before[512:1024], rep.in, "read-only data")
	equal(t, byte(blkSOK), h.do(blkRequest{typ: blkTFlush}).status, "FLUSH on a read-only disk")
	equal(t, 0, len(h.disk.writes), "backend writes")
	if !bytes.Equal(before, h.file()) {
		t.Fatal("read-only image changed")
	}
}

// TestBlockBadRequests checks requests the driver got wrong fail with a
// status and leave every byte of the image as it was.
func TestBlockBadRequests(t *testing.T) {
	h := newBlk(t, blkOptions{})
	before := h.file()
	for _, tc := range []struct {
		name   string
		req    blkRequest
		status byte
	}{
		{"read past the end", blkRequest{typ: blkTIn, sector: blkSectors, in: 512}, blkSIOErr},
		{"read across the end", blkRequest{typ: blkTIn, sector: blkSectors - 1, in: 1024}, blkSIOErr},
		{"write past the end", blkRequest{typ: blkTOut, sector: blkSectors, out: sectorData(1, 1)}, blkSIOErr},
		{"write across the end", blkRequest{typ: blkTOut, sector: blkSectors - 2, out: sectorData(1, 3)}, blkSIOErr},
		{"write at sector 2^64-1", blkRequest{typ: blkTOut, sector: ^uint64(0), out: sectorData(1, 1)}, blkSIOErr},
		{"write where sector*512 overflows", blkRequest{typ: blkTOut, sector: 1 << 55, out: sectorData(1, 1)}, blkSIOErr},
		{"write of part of a sector", blkRequest{typ: blkTOut, sector: 1, out: make([]byte, 100)}, blkSIOErr},
		{"read of part of a sector", blkRequest{typ: blkTIn, sector: 1, in: 513}, blkSIOErr},
		{"unknown type", blkRequest{typ: 99, sector: 1, out: sectorData(1, 1)}, blkSUnsupp},
		{"legacy SCSI command", blkRequest{typ: 2, sector: 1, out: sectorData(1, 1)}, blkSUnsupp},
		{"empty write at the end", blkRequest{typ: blkTOut, sector: blkSectors}, blkSOK},
	} {
		rep := h.do(tc.req)
		equal(t, tc.status, rep.status, "%s: status", tc.name)
		if !bytes.Equal(before, h.file()) {
			t.Fatalf("%s: image changed", tc.name)
		}
	}
	equal(t, 0, len(h.disk.writes), "backend writes")

	// A header shorter than 16 bytes, with a status byte: IOERR.
	statusAddr := h.alloc(1)
	h.r.AddChain(vt.Buf{Addr: h.alloc(8), Len: 8}, vt.Buf{Addr: statusAddr, Len: 1, Write: true})
	h.d.kick(0)
	equal(t, byte(blkSIOErr), h.mem.RAM[statusAddr], "short header status")
	equal(t, error(nil), h.m.Err(), "device error after a short header")
}

func TestBlockRequestWithoutStatusNeedsReset(t *testing.T) {
	h := newBlk(t, blkOptions{})
	h.d.interrupt()
	hdr := h.alloc(16)
	h.r.AddChain(vt.Buf{Addr: hdr, Len: 16}, vt.Buf{Addr: h.alloc(512), Len: 512})
	h.d.kick(0)
	if !errors.Is(h.m.Err(), ErrNoStatus) {
		t.Fatalf("Err = %v, want %v", h.m.Err(), ErrNoStatus)
	}
	if h.d.status()&StatusNeedsReset == 0 {
		t.Fatalf("status %#x without DEVICE_NEEDS_RESET", h.d.status())
	}
	equal(t, uint32(mmioIntConfigChanged), h.d.read(mmioInterruptStatus), "InterruptStatus")
	equal(t, true, h.irq.level[blkGSI], "interrupt line")
	if !h.log.contains("without a device-writable status byte") || !h.log.contains("needs reset") {
		t.Fatalf("log %q lacks the reason", h.log.lines)
	}
	// Later requests wait for the reset.
	h.post(blkRequest{typ: blkTFlush})
	h.d.kick(0)
	equal(t, uint16(0), h.r.UsedIdx(), "used idx while the device needs a reset")

	// Linux's recovery: reset and start again.
	h.r = vt.NewRing(h.mem, ringBase, blkRingSize)
	h.d.start(^uint64(0), h.r)
	equal(t, false, h.irq.level[blkGSI], "interrupt line after the reset")
	equal(t, byte(blkSOK), h.do(blkRequest{typ: blkTFlush}).status, "FLUSH after the reset")
}

func TestBlockReadInvalidatesCode(t *testing.T) {
	h := newBlk(t, blkOptions{})
	var pages []mmu.GPA
	h.mem.OnCodeWrite = func(p mmu.GPA) { pages = append(pages, p) }
	h.next = 0x40000 - 16 - 8 // the data buffer starts at 0x40000
	h.mem.MarkCode(0x40000)
	rep := h.do(blkRequest{typ: blkTIn, sector: 0, in: 512})
	equal(t, byte(blkSOK), rep.status, "IN status")
	equal(t, []mmu.GPA{0x40000}, pages, "code pages the read overwrote")
}

func TestBlockInterruptSuppression(t *testing.T) {
	h := newBlk(t, blkOptions{})
	h.r.SetUsedEvent(1) // notify when entry 1 is used
	h.post(blkRequest{typ: blkTFlush})
	h.d.kick(0)
	equal(t, uint16(1), h.r.UsedIdx(), "used idx")
	equal(t, uint32(0), h.d.read(mmioInterruptStatus), "InterruptStatus before used_event")
	equal(t, 0, len(h.irq.events), "line changes")
	h.post(blkRequest{typ: blkTFlush})
	h.d.kick(0)
	equal(t, uint32(mmioIntUsedBuffer), h.d.interrupt(), "InterruptStatus at used_event")
	equal(t, []irqEvent{{blkGSI, true}, {blkGSI, false}}, h.irq.events, "line changes")
	equal(t, uint16(2), h.r.AvailEvent(), "avail_event")

	h = newBlk(t, blkOptions{want: ^FeatureEventIdx})
	h.r.SetAvailFlags(vt.AvailNoInterrupt)
	h.post(blkRequest{typ: blkTFlush})
	h.d.kick(0)
	equal(t, uint16(1), h.r.UsedIdx(), "used idx")
	equal(t, uint32(0), h.d.read(mmioInterruptStatus), "InterruptStatus with VIRTQ_AVAIL_F_NO_INTERRUPT")
}

func TestNewBlockQueueSize(t *testing.T) {
	disk := &countingBackend{}
	for _, qs := range []uint16{2, 6, 100, 65535} {
		if _, err := NewBlock(fixedSize{disk}, BlockConfig{QueueSize: qs}); err == nil {
			t.Errorf("queue size %d accepted", qs)
		}
	}
	b, err := NewBlock(fixedSize{disk}, BlockConfig{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, uint16(256), b.MaxQueueSize(), "default queue size")
}

type fixedSize struct{ *countingBackend }

func (fixedSize) Size() int64    { return 1 << 20 }
func (fixedSize) ReadOnly() bool { return false }

// failingBackend is a disk whose every access can fail, as a dying disk.
type failingBackend struct {
	fail bool
	data []byte
}

var errDisk = errors.New("input/output error")

func (b *failingBackend) ReadAt(p []byte, off int64) (int, error) {
	if b.fail {
		return 0, errDisk
	}
	return copy(p, b.data[off:]), nil
}

func (b *failingBackend) WriteAt(p []byte, off int64) (int, error) {
	if b.fail {
		return 0, errDisk
	}
	return copy(b.data[off:], p), nil
}

func (b *failingBackend) Sync() error {
	if b.fail {
		return errDisk
	}
	return nil
}

func (b *failingBackend) Size() int64    { return int64(len(b.data)) }
func (b *failingBackend) ReadOnly() bool { return false }

func TestBlockBackendErrors(t *testing.T) {
	disk := &failingBackend{data: diskPattern()}
	h := newBlk(t, blkOptions{backend: disk, want: ^blkFFlush})
	reqs := []blkRequest{
		{typ: blkTIn, sector: 1, in: 1024, split: 512},
		{typ: blkTOut, sector: 1, out: sectorData(5, 2)},
		{typ: blkTFlush},
		{typ: blkTWriteZeroes, out: segments(blkSegment{sector: 1, sectors: 2})},
	}
	for _, req := range reqs {
		equal(t, byte(blkSOK), h.do(req).status, "request type %d on a working disk", req.typ)
	}
	disk.fail = true
	for _, req := range reqs {
		equal(t, byte(blkSIOErr), h.do(req).status, "request type %d on a failing disk", req.typ)
	}
	equal(t, error(nil), h.m.Err(), "device error: disk errors are request errors")
	st := h.blk.Stats()
	equal(t, uint64(8), st.Requests, "requests")
	equal(t, uint64(4), st.Errors, "errors")
}
