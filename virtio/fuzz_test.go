package virtio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
	vt "github.com/gemu-project/gemu/virtio/virtiotest"
)

// FuzzQueue feeds virtio-blk, behind virtio-mmio, a guest memory image of
// random descriptor tables, rings, indirect tables and requests. It checks
// that nothing panics, that a device that gives up names a known reason,
// and that the disk image changes only where a request asked for it: the
// data range of an OUT, the segments of a WRITE_ZEROES or DISCARD, as a
// simple independent reading of the chain finds them before the kick.
//
// opts: bits 0-2 queue size 2<<n; 3 read-only disk; 4 EVENT_IDX; 5
// INDIRECT_DESC; 6 FLUSH negotiated; 7 the disk can discard.
func FuzzQueue(f *testing.F) {
	path := filepath.Join(f.TempDir(), "disk.img")
	if err := os.WriteFile(path, diskPattern(), 0o644); err != nil {
		f.Fatal(err)
	}
	// The read-only disk is a second file: an image open for writing
	// cannot also be opened for reading (image locks).
	roPath := filepath.Join(f.TempDir(), "disk-ro.img")
	if err := os.WriteFile(roPath, diskPattern(), 0o644); err != nil {
		f.Fatal(err)
	}
	rw, err := devices.OpenFileBackend(path, false)
	if err != nil {
		f.Fatal(err)
	}
	ro, err := devices.OpenFileBackend(roPath, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { rw.Close(); ro.Close() })
	for _, s := range fuzzSeeds() {
		f.Add(s.opts, s.image)
	}
	f.Fuzz(func(t *testing.T, opts uint8, image []byte) {
		if _, err := rw.WriteAt(diskPattern(), 0); err != nil {
			t.Fatal(err)
		}
		var disk devices.BlockBackend = rw
		diskPath := path
		if opts&8 != 0 {
			disk, diskPath = ro, roPath
		}
		fuzzOne(t, opts, image, disk, diskPath)
	})
}

// TestFuzzSeeds checks the seeds do what they are meant to, so that the
// fuzz target is not vacuous.
func TestFuzzSeeds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(path, diskPattern(), 0o644); err != nil {
		t.Fatal(err)
	}
	rw, err := devices.OpenFileBackend(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	seeds := fuzzSeeds()
	for i, want := range []struct {
		used uint16
		err  error
	}{{7, nil}, {2, nil}, {2, nil}, {0, ErrLoop}, {0, ErrAvailIndex}, {0, ErrNoStatus}, {0, ErrRingOverlap}} {
		if _, err := rw.WriteAt(diskPattern(), 0); err != nil {
			t.Fatal(err)
		}
		m, r := fuzzOne(t, seeds[i].opts, seeds[i].image, rw, path)
		if !errors.Is(m.Err(), want.err) || (want.err == nil && m.Err() != nil) {
			t.Errorf("seed %d: Err = %v, want %v", i, m.Err(), want.err)
		}
		if got := r.UsedIdx(); got != want.used {
			t.Errorf("seed %d: used idx %d, want %d", i, got, want.used)
		}
	}
}

// Fuzzed guest memory layout: the queue's parts at fixed addresses for any
// size up to 256, then buffers.
const (
	fuzzRAM    = 64 << 10
	fuzzDesc   = 0x0000
	fuzzAvail  = 0x1000
	fuzzUsed   = 0x1800
	fuzzBuffer = 0x2100
)

func fuzzRing(mem *mmu.Memory, opts uint8) *vt.Ring {
	return &vt.Ring{Mem: mem, Size: uint16(2) << (opts & 7), Desc: fuzzDesc, Avail: fuzzAvail, Used: fuzzUsed}
}

// fuzzOne runs one image and returns the transport and ring for a look.
func fuzzOne(t *testing.T, opts uint8, image []byte, backend devices.BlockBackend, path string) (*MMIO, *vt.Ring) {
	mem := &mmu.Memory{RAM: make([]byte, fuzzRAM)}
	copy(mem.RAM, image)
	r := fuzzRing(mem, opts)
	clear(mem.RAM[fuzzUsed:r.End()]) // the driver zeroes the used ring

	g := &guardedDisk{BlockBackend: backend, t: t}
	var disk devices.BlockBackend = g
	if opts&0x80 != 0 {
		disk = &guardedDiscardingDisk{g}
	}
	blk, err := NewBlock(disk, BlockConfig{Serial: "fuzz", QueueSize: 256})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMMIO(blk, MMIOConfig{Mem: mem, IRQ: &irqRecorder{}, GSI: 5})
	d := driver{t, m}
	want := FeatureVersion1 | blkFSegMax | blkFBlkSize | blkFRO | blkFWriteZeroes | blkFDiscard
	for bit, f := range map[uint8]uint64{0x10: FeatureEventIdx, 0x20: FeatureIndirectDesc, 0x40: blkFFlush} {
		if opts&bit != 0 {
			want |= f
		}
	}
	target := binary.LittleEndian.Uint16(mem.RAM[fuzzAvail+2:])
	r.SetAvailIdx(0)
	d.start(want, r)

	var changed []diskSpan // everything any request asked to write
	if target > r.Size {
		r.SetAvailIdx(target)
		d.kick(0)
		if !errors.Is(m.Err(), ErrAvailIndex) {
			t.Fatalf("avail idx %d with queue size %d: Err = %v", target, r.Size, m.Err())
		}
	}
	// Make the chains available one at a time, so that each is read just
	// before the device reads it: a request may write guest memory that
	// later chains are made of.
	for k := uint16(1); k <= target && target <= r.Size; k++ {
		r.SetAvailIdx(k)
		head := binary.LittleEndian.Uint16(mem.RAM[fuzzAvail+4+2*((k-1)%r.Size):])
		g.allowed = nil
		if !backend.ReadOnly() {
			g.allowed = requestedSpans(mem.RAM, r.Size, head)
		}
		changed = append(changed, g.allowed...)
		d.kick(0)
		if m.Err() != nil {
			break
		}
		// A request that rewrote the available ring may have let the
		// device take more than this chain: stop predicting.
		if r.UsedIdx() != k || binary.LittleEndian.Uint16(mem.RAM[fuzzAvail+2:]) != k {
			break
		}
	}
	if err := m.Err(); err != nil && !knownReason(err) {
		t.Fatalf("device needs reset for an unclassified reason: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before := diskPattern()
	if len(after) != len(before) {
		t.Fatalf("disk image is %d bytes, was %d", len(after), len(before))
	}
	for i := range before {
		if before[i] != after[i] && !inSpans(changed, int64(i), 1) {
			t.Fatalf("disk byte %#x changed outside any requested range %v", i, changed)
		}
	}
	return m, r
}

func knownReason(err error) bool {
	for _, e := range []error{ErrQueueConfig, ErrAvailIndex, ErrDescIndex, ErrLoop, ErrChainTooLong, ErrChainBytes,
		ErrOutsideRAM, ErrDirection, ErrRingOverlap, ErrIndirect, ErrNestedIndirect, ErrIndirectTable, ErrNoStatus} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// diskSpan is a byte range of the disk.
type diskSpan struct{ off, n int64 }

func inSpans(spans []diskSpan, off, n int64) bool {
	for _, s := range spans {
		if off >= s.off && n <= s.n && off-s.off <= s.n-n {
			return true
		}
	}
	return false
}

// sectorSpan is n sectors from sector, or false if it cannot be on a disk.
func sectorSpan(sector, n uint64) (diskSpan, bool) {
	if sector >= 1<<40 || n >= 1<<40 {
		return diskSpan{}, false
	}
	return diskSpan{int64(sector * 512), int64(n * 512)}, true
}

// requestedSpans reads the chain at head the way a driver means it,
// independently of Queue, and returns the disk ranges it asks to write. It
// is lenient (any table, any index it can follow, up to one indirect level)
// so that it allows at least what the device may do.
func requestedSpans(ram []byte, size, head uint16) []diskSpan {
	var readable []byte // device-readable bytes in RAM, in order
	var readableLen uint64
	table, entries, i := ram[fuzzDesc:fuzzDesc+16*int(size)], uint64(size), uint64(head)
	indirect := false
	for step := 0; step < 2*int(size)+2 && i < entries; step++ {
		e := table[16*i:]
		addr, n := binary.LittleEndian.Uint64(e[0:]), uint64(binary.LittleEndian.Uint32(e[8:]))
		flags, next := binary.LittleEndian.Uint16(e[12:]), binary.LittleEndian.Uint16(e[14:])
		if flags&vt.FlagIndirect != 0 {
			if indirect || n%16 != 0 || addr >= uint64(len(ram)) || n > uint64(len(ram))-addr {
				break
			}
			table, entries, i, indirect = ram[addr:addr+n], n/16, 0, true
			continue
		}
		if flags&vt.FlagWrite == 0 {
			readableLen += n
			if addr < uint64(len(ram)) && n <= uint64(len(ram))-addr {
				readable = append(readable, ram[addr:addr+n]...)
			}
		}
		if flags&vt.FlagNext == 0 {
			break
		}
		i = uint64(next)
	}
	if len(readable) < blkHeaderSize {
		return nil
	}
	typ, sector := binary.LittleEndian.Uint32(readable[0:]), binary.LittleEndian.Uint64(readable[8:])
	var spans []diskSpan
	switch typ {
	case blkTOut:
		if s, ok := sectorSpan(sector, 0); ok {
			s.n = int64(min(readableLen-blkHeaderSize, 1<<40))
			spans = append(spans, s)
		}
	case blkTDiscard, blkTWriteZeroes:
		for seg := readable[blkHeaderSize:]; len(seg) >= blkSegmentSize; seg = seg[blkSegmentSize:] {
			s, ok := sectorSpan(binary.LittleEndian.Uint64(seg[0:]), uint64(binary.LittleEndian.Uint32(seg[8:])))
			if ok {
				spans = append(spans, s)
			}
		}
	}
	return spans
}

// guardedDisk fails the test on a write outside the allowed spans.
type guardedDisk struct {
	devices.BlockBackend
	t       *testing.T
	allowed []diskSpan
}

func (g *guardedDisk) WriteAt(p []byte, off int64) (int, error) {
	if !inSpans(g.allowed, off, int64(len(p))) {
		g.t.Fatalf("disk write at %#x+%#x outside the requested %v", off, len(p), g.allowed)
	}
	return g.BlockBackend.WriteAt(p, off)
}

type guardedDiscardingDisk struct{ *guardedDisk }

func (g *guardedDiscardingDisk) Discard(off, n int64) error {
	_, err := g.WriteAt(make([]byte, n), off)
	return err
}

type fuzzSeed struct {
	opts  uint8
	image []byte
}

// fuzzSeeds are well-formed and malformed images to start from.
func fuzzSeeds() []fuzzSeed {
	const all = 0x10 | 0x20 | 0x40 // EVENT_IDX, INDIRECT_DESC, FLUSH
	var seeds []fuzzSeed
	add := func(opts uint8, build func(r *vt.Ring, b *bufs)) {
		mem := &mmu.Memory{RAM: make([]byte, fuzzRAM)}
		r := fuzzRing(mem, opts)
		build(r, &bufs{mem: mem, next: fuzzBuffer})
		end := len(mem.RAM)
		for end > 0 && mem.RAM[end-1] == 0 {
			end--
		}
		seeds = append(seeds, fuzzSeed{opts, mem.RAM[:end]})
	}
	request := func(r *vt.Ring, b *bufs, typ uint32, sector uint64, out []byte, in int, indirect bool) {
		hdr := make([]byte, blkHeaderSize)
		binary.LittleEndian.PutUint32(hdr, typ)
		binary.LittleEndian.PutUint64(hdr[8:], sector)
		chain := []vt.Buf{{Addr: b.put(hdr), Len: blkHeaderSize}}
		if len(out) > 0 {
			chain = append(chain, vt.Buf{Addr: b.put(out), Len: uint32(len(out))})
		}
		if in > 0 {
			chain = append(chain, vt.Buf{Addr: b.put(make([]byte, in)), Len: uint32(in), Write: true})
		}
		chain = append(chain, vt.Buf{Addr: b.put([]byte{0xEE}), Len: 1, Write: true})
		if indirect {
			r.AddIndirect(b.put(make([]byte, vt.DescSize*len(chain))), chain...)
		} else {
			r.AddChain(chain...)
		}
	}
	// Every request type, direct and indirect.
	add(4|all, func(r *vt.Ring, b *bufs) {
		request(r, b, blkTOut, 2, sectorData(1, 2), 0, false)
		request(r, b, blkTIn, 2, nil, 1024, false)
		request(r, b, blkTFlush, 0, nil, 0, false)
		request(r, b, blkTGetID, 0, nil, blkIDBytes, true)
		request(r, b, blkTWriteZeroes, 0, segments(blkSegment{sector: 10, sectors: 2}), 0, false)
		request(r, b, blkTOut, 20, sectorData(2, 1), 0, true)
		request(r, b, blkTIn, blkSectors, nil, 512, false)
	})
	add(1|0x80|all, func(r *vt.Ring, b *bufs) {
		request(r, b, blkTDiscard, 0, segments(blkSegment{sector: 4, sectors: 4}, blkSegment{sector: 40, sectors: 1}), 0, false)
		request(r, b, blkTWriteZeroes, 0, segments(blkSegment{sector: 8, sectors: 1, flags: blkFlagUnmap}), 0, true)
	})
	add(2|8|all, func(r *vt.Ring, b *bufs) { // read-only
		request(r, b, blkTOut, 1, sectorData(3, 1), 0, false)
		request(r, b, blkTIn, 1, nil, 512, false)
	})
	add(1, func(r *vt.Ring, b *bufs) { // a loop, without any negotiated extras
		r.SetDesc(0, vt.Desc{Addr: fuzzBuffer, Len: 16, Flags: vt.FlagNext, Next: 1})
		r.SetDesc(1, vt.Desc{Addr: fuzzBuffer, Len: 16, Flags: vt.FlagNext, Next: 0})
		r.Offer(0)
	})
	add(2|all, func(r *vt.Ring, b *bufs) { // the available index far ahead
		request(r, b, blkTOut, 2, sectorData(1, 1), 0, false)
		r.SetAvailIdx(0x4000)
	})
	add(1|all, func(r *vt.Ring, b *bufs) { // no status byte
		r.AddChain(vt.Buf{Addr: b.put(make([]byte, 16)), Len: 16})
	})
	add(2|all, func(r *vt.Ring, b *bufs) { // a read over the available ring
		hdr := make([]byte, blkHeaderSize)
		r.AddChain(vt.Buf{Addr: b.put(hdr), Len: 16}, vt.Buf{Addr: fuzzAvail, Len: 512, Write: true}, vt.Buf{Addr: b.put([]byte{0}), Len: 1, Write: true})
		request(r, b, blkTOut, 3, sectorData(4, 1), 0, false)
	})
	return seeds
}

// bufs hands out guest memory for seed buffers.
type bufs struct {
	mem  *mmu.Memory
	next mmu.GPA
}

func (b *bufs) put(data []byte) mmu.GPA {
	a := b.next
	if err := b.mem.WriteAt(a, data); err != nil {
		panic(fmt.Sprint("fuzz seed: ", err))
	}
	b.next = (a + mmu.GPA(len(data)) + 15) &^ 15
	return a
}
