package virtio

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gemu-project/gemu/mmu"
	vt "github.com/gemu-project/gemu/virtio/virtiotest"
)

const (
	ringBase = 0x1000
	bufBase  = 0x10000
)

func queueFor(t *testing.T, r *vt.Ring, features uint64) *Queue {
	t.Helper()
	q, err := NewQueue(r.Mem, QueueConfig{Size: uint32(r.Size), Desc: r.Desc, Driver: r.Avail, Device: r.Used}, features)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQueuePopAndPush(t *testing.T) {
	mem := newMemory(t)
	r := vt.NewRing(mem, ringBase, 8)
	q := queueFor(t, r, RingFeatures)

	if c, err := q.Pop(); c != nil || err != nil {
		t.Fatalf("empty queue: Pop = %v, %v", c, err)
	}
	head := r.AddChain(
		vt.Buf{Addr: bufBase, Len: 16},
		vt.Buf{Addr: bufBase + 0x100, Len: 0}, // empty: carries nothing
		vt.Buf{Addr: bufBase + 0x200, Len: 512},
		vt.Buf{Addr: bufBase + 0x400, Len: 1, Write: true},
	)
	c, err := q.Pop()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, head, c.Head, "head")
	equal(t, []Buffer{{bufBase, 16}, {bufBase + 0x200, 512}}, c.Readable, "readable")
	equal(t, []Buffer{{bufBase + 0x400, 1}}, c.Writable, "writable")
	equal(t, uint64(528), c.ReadableLen(), "readable length")
	equal(t, uint64(1), c.WritableLen(), "writable length")
	if c, err := q.Pop(); c != nil || err != nil {
		t.Fatalf("after the only chain: Pop = %v, %v", c, err)
	}

	q.Push(c.Head, 1)
	equal(t, uint16(1), r.UsedIdx(), "used idx")
	equal(t, vt.Used{ID: uint32(head), Len: 1}, r.UsedElem(0), "used element")

	// The indices are free-running: wrap the 16-bit counters.
	for i := 0; i < 70000; i++ {
		h := r.AddChain(vt.Buf{Addr: bufBase, Len: 4, Write: true})
		c, err := q.Pop()
		if err != nil || c == nil || c.Head != h {
			t.Fatalf("round %d: Pop = %v, %v; want head %d", i, c, err, h)
		}
		q.Push(c.Head, 4)
	}
	equal(t, uint16(70001%65536), r.UsedIdx(), "used idx after wrapping")
}

func TestQueueIndirect(t *testing.T) {
	mem := newMemory(t)
	r := vt.NewRing(mem, ringBase, 8)
	q := queueFor(t, r, RingFeatures)

	// A lone indirect descriptor; its WRITE flag means nothing (§2.7.5.3.2).
	vt.WriteTable(mem, bufBase, vt.Linked(0,
		vt.Buf{Addr: bufBase + 0x1000, Len: 16},
		vt.Buf{Addr: bufBase + 0x2000, Len: 100, Write: true},
		vt.Buf{Addr: bufBase + 0x3000, Len: 1, Write: true},
	))
	r.SetDesc(5, vt.Desc{Addr: bufBase, Len: 48, Flags: vt.FlagIndirect | vt.FlagWrite})
	r.Offer(5)
	c, err := q.Pop()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, uint16(5), c.Head, "head")
	equal(t, []Buffer{{bufBase + 0x1000, 16}}, c.Readable, "readable")
	equal(t, []Buffer{{bufBase + 0x2000, 100}, {bufBase + 0x3000, 1}}, c.Writable, "writable")

	// Direct descriptors followed by an indirect one (§2.7.5.3.2: MUST handle).
	vt.WriteTable(mem, bufBase+0x800, vt.Linked(0, vt.Buf{Addr: bufBase + 0x4000, Len: 8, Write: true}))
	r.SetDesc(0, vt.Desc{Addr: bufBase + 0x5000, Len: 16, Flags: vt.FlagNext, Next: 3})
	r.SetDesc(3, vt.Desc{Addr: bufBase + 0x800, Len: 16, Flags: vt.FlagIndirect})
	r.Offer(0)
	c, err = q.Pop()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, []Buffer{{bufBase + 0x5000, 16}}, c.Readable, "readable")
	equal(t, []Buffer{{bufBase + 0x4000, 8}}, c.Writable, "writable")
}

// TestQueueMalformed posts every kind of broken chain and checks Pop
// refuses it with the right reason, without panicking.
func TestQueueMalformed(t *testing.T) {
	const size = 4
	mem := newMemory(t)
	ramEnd := uint64(mem.Size())
	rd := func(addr uint64, n uint32) vt.Desc { return vt.Desc{Addr: addr, Len: n} }
	tests := []struct {
		name     string
		features uint64
		post     func(r *vt.Ring)
		want     error
	}{
		{"self loop", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 0})
			r.Offer(0)
		}, ErrLoop},
		{"loop", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 1})
			r.SetDesc(1, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 2})
			r.SetDesc(2, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 0})
			r.Offer(0)
		}, ErrLoop},
		{"loop in indirect table", RingFeatures, func(r *vt.Ring) {
			vt.WriteTable(mem, bufBase, []vt.Desc{
				{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 1},
				{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 0},
			})
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 32, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrLoop},
		{"head out of range", RingFeatures, func(r *vt.Ring) { r.Offer(size) }, ErrDescIndex},
		{"next out of range", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: size})
			r.Offer(0)
		}, ErrDescIndex},
		{"next out of the indirect table", RingFeatures, func(r *vt.Ring) {
			vt.WriteTable(mem, bufBase, []vt.Desc{{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 2}, rd(bufBase, 1)})
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 32, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrDescIndex},
		{"chain longer than the queue", RingFeatures, func(r *vt.Ring) {
			vt.WriteTable(mem, bufBase, vt.Linked(0, vt.Buf{Addr: bufBase, Len: 1}, vt.Buf{Addr: bufBase, Len: 1}, vt.Buf{Addr: bufBase, Len: 1}))
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 1})
			r.SetDesc(1, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext, Next: 2})
			r.SetDesc(2, vt.Desc{Addr: bufBase, Len: 48, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrChainTooLong},
		{"buffer past the end of RAM", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, rd(ramEnd-4, 8))
			r.Offer(0)
		}, ErrOutsideRAM},
		{"buffer above RAM", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, rd(0xFEE00000, 4))
			r.Offer(0)
		}, ErrOutsideRAM},
		{"buffer wrapping the address space", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, rd(^uint64(0)-1, 16))
			r.Offer(0)
		}, ErrOutsideRAM},
		{"indirect table outside RAM", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: ramEnd - 16, Len: 32, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrOutsideRAM},
		{"readable after writable", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 1, Flags: vt.FlagNext | vt.FlagWrite, Next: 1})
			r.SetDesc(1, rd(bufBase, 1))
			r.Offer(0)
		}, ErrDirection},
		{"readable after writable in an indirect table", RingFeatures, func(r *vt.Ring) {
			vt.WriteTable(mem, bufBase, vt.Linked(0, vt.Buf{Addr: bufBase, Len: 1, Write: true}, vt.Buf{Addr: bufBase, Len: 1}))
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 32, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrDirection},
		{"readable after an empty writable", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 0, Flags: vt.FlagNext | vt.FlagWrite, Next: 1})
			r.SetDesc(1, rd(bufBase, 1))
			r.Offer(0)
		}, ErrDirection},
		{"writable buffer over the available ring", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: uint64(r.Avail) - 8, Len: 10, Flags: vt.FlagWrite})
			r.Offer(0)
		}, ErrRingOverlap},
		{"writable buffer over the end of the available ring", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: uint64(r.Avail) + 6 + 2*size - 1, Len: 1, Flags: vt.FlagWrite})
			r.Offer(0)
		}, ErrRingOverlap},
		{"nested indirect", RingFeatures, func(r *vt.Ring) {
			vt.WriteTable(mem, bufBase, []vt.Desc{{Addr: bufBase + 0x100, Len: 16, Flags: vt.FlagIndirect}})
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 16, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrNestedIndirect},
		{"indirect not negotiated", FeatureVersion1, func(r *vt.Ring) {
			vt.WriteTable(mem, bufBase, vt.Linked(0, vt.Buf{Addr: bufBase, Len: 1}))
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 16, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrIndirect},
		{"indirect with next", RingFeatures, func(r *vt.Ring) {
			vt.WriteTable(mem, bufBase, vt.Linked(0, vt.Buf{Addr: bufBase, Len: 1}))
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 16, Flags: vt.FlagIndirect | vt.FlagNext, Next: 1})
			r.SetDesc(1, rd(bufBase, 1))
			r.Offer(0)
		}, ErrIndirect},
		{"indirect table length not a multiple of 16", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 24, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrIndirectTable},
		{"empty indirect table", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 0, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrIndirectTable},
		{"indirect table longer than the queue", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: bufBase, Len: 16 * (size + 1), Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrIndirectTable},
		{"indirect table of 4 GiB", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, vt.Desc{Addr: 0, Len: 0xFFFFFFF0, Flags: vt.FlagIndirect})
			r.Offer(0)
		}, ErrIndirectTable},
		{"avail idx jumps past the queue size", RingFeatures, func(r *vt.Ring) {
			r.SetDesc(0, rd(bufBase, 1))
			r.SetAvailIdx(size + 1)
		}, ErrAvailIndex},
		{"avail idx goes backwards", RingFeatures, func(r *vt.Ring) { r.SetAvailIdx(0xFFFF) }, ErrAvailIndex},
		{"avail idx jumps by half the index space", RingFeatures, func(r *vt.Ring) { r.SetAvailIdx(0x8000) }, ErrAvailIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clear(mem.RAM)
			r := vt.NewRing(mem, ringBase, size)
			q := queueFor(t, r, tc.features)
			tc.post(r)
			c, err := q.Pop()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Pop = %v, %v; want error %q", c, err, tc.want)
			}
			if c != nil {
				t.Fatalf("Pop returned a chain with error %v", err)
			}
			t.Log(err)
		})
	}
}

func TestQueueChainOver4GiB(t *testing.T) {
	mem := newMemory(t)
	const size = 8192
	r := vt.NewRing(mem, ringBase, size)
	q := queueFor(t, r, RingFeatures)
	// 4097 descriptors of the whole 1 MiB of RAM: more than 2^32 bytes.
	for i := uint16(0); i <= 4096; i++ {
		r.SetDesc(i, vt.Desc{Addr: 0, Len: 1 << 20, Flags: vt.FlagNext, Next: i + 1})
	}
	r.SetDesc(4097, vt.Desc{Addr: 0, Len: 1})
	r.Offer(0)
	if _, err := q.Pop(); !errors.Is(err, ErrChainBytes) {
		t.Fatalf("Pop error = %v, want %v", err, ErrChainBytes)
	}
}

func TestNewQueueChecksConfig(t *testing.T) {
	mem := newMemory(t)
	ok := QueueConfig{Size: 4, Desc: 0x1000, Driver: 0x2000, Device: 0x3000}
	if _, err := NewQueue(mem, ok, 0); err != nil {
		t.Fatal(err)
	}
	end := mmu.GPA(mem.Size())
	for name, mod := range map[string]func(*QueueConfig){
		"size 0":                   func(c *QueueConfig) { c.Size = 0 },
		"size 3":                   func(c *QueueConfig) { c.Size = 3 },
		"size 65536":               func(c *QueueConfig) { c.Size = 65536 },
		"size 1<<32-4":             func(c *QueueConfig) { c.Size = 1<<32 - 4 },
		"descriptors misaligned":   func(c *QueueConfig) { c.Desc = 0x1008 },
		"available ring odd":       func(c *QueueConfig) { c.Driver = 0x2001 },
		"used ring misaligned":     func(c *QueueConfig) { c.Device = 0x3002 },
		"descriptors outside RAM":  func(c *QueueConfig) { c.Desc = end - 16 },
		"used ring outside RAM":    func(c *QueueConfig) { c.Device = 1 << 40 },
		"available ring at 2^64-2": func(c *QueueConfig) { c.Driver = ^mmu.GPA(1) },
		"all at 0":                 func(c *QueueConfig) { *c = QueueConfig{Size: 4} },
		"used overlaps available":  func(c *QueueConfig) { c.Device = 0x2008 },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := NewQueue(mem, cfg, 0); !errors.Is(err, ErrQueueConfig) {
			t.Errorf("%s: NewQueue error = %v, want %v", name, err, ErrQueueConfig)
		}
	}
}

func TestQueueInterruptSuppression(t *testing.T) {
	mem := newMemory(t)
	post := func(r *vt.Ring, q *Queue) {
		r.AddChain(vt.Buf{Addr: bufBase, Len: 1, Write: true})
		c, err := q.Pop()
		if err != nil || c == nil {
			t.Fatalf("Pop = %v, %v", c, err)
		}
		q.Push(c.Head, 1)
	}

	t.Run("flags", func(t *testing.T) {
		r := vt.NewRing(mem, ringBase, 8)
		q := queueFor(t, r, FeatureVersion1)
		equal(t, false, q.NeedsInterrupt(), "nothing used yet")
		post(r, q)
		equal(t, true, q.NeedsInterrupt(), "flags 0")
		equal(t, false, q.NeedsInterrupt(), "no new used entry")
		r.SetAvailFlags(vt.AvailNoInterrupt)
		post(r, q)
		equal(t, false, q.NeedsInterrupt(), "VIRTQ_AVAIL_F_NO_INTERRUPT")
		r.SetAvailFlags(0)
		post(r, q)
		equal(t, true, q.NeedsInterrupt(), "flags 0 again")
		// used_event means nothing without VIRTIO_F_EVENT_IDX.
		r.SetUsedEvent(100)
		post(r, q)
		equal(t, true, q.NeedsInterrupt(), "used_event ignored")
	})

	t.Run("event idx", func(t *testing.T) {
		r := vt.NewRing(mem, ringBase, 8)
		q := queueFor(t, r, RingFeatures)
		// used_event 0: notify after the first buffer (§2.7.7 note).
		post(r, q)
		equal(t, true, q.NeedsInterrupt(), "used idx 1, used_event 0")
		post(r, q)
		post(r, q)
		equal(t, false, q.NeedsInterrupt(), "used idx 3, used_event 0")
		// The flag means nothing with VIRTIO_F_EVENT_IDX.
		r.SetAvailFlags(vt.AvailNoInterrupt)
		// used_event 4: notify once entry 4 is written, used idx 5.
		r.SetUsedEvent(4)
		post(r, q)
		equal(t, false, q.NeedsInterrupt(), "entry 3 written, used_event 4")
		post(r, q)
		equal(t, true, q.NeedsInterrupt(), "entry 4 written, used_event 4")
		// Several entries at once: notify if used_event is among them.
		r.SetUsedEvent(6)
		post(r, q)
		post(r, q)
		post(r, q)
		equal(t, true, q.NeedsInterrupt(), "entries 5-7 written, used_event 6")
		post(r, q)
		equal(t, false, q.NeedsInterrupt(), "entry 8 written, used_event 6")
	})
}

func TestQueueAvailEvent(t *testing.T) {
	mem := newMemory(t)
	r := vt.NewRing(mem, ringBase, 8)
	q := queueFor(t, r, RingFeatures)
	for i := 0; i < 3; i++ {
		r.AddChain(vt.Buf{Addr: bufBase, Len: 1})
	}
	for {
		c, err := q.Pop()
		if err != nil {
			t.Fatal(err)
		}
		if c == nil {
			break
		}
		q.Push(c.Head, 0)
	}
	// Having found the ring empty, the device asks to hear of entry 3.
	equal(t, uint16(3), r.AvailEvent(), "avail_event")
	equal(t, uint16(0), r.UsedFlags(), "used flags")

	// Without VIRTIO_F_EVENT_IDX the field is left alone.
	clear(mem.RAM)
	r = vt.NewRing(mem, ringBase, 8)
	q = queueFor(t, r, FeatureVersion1)
	r.AddChain(vt.Buf{Addr: bufBase, Len: 1})
	q.Pop()
	q.Pop()
	equal(t, uint16(0), r.AvailEvent(), "avail_event without EVENT_IDX")
}

func TestChainCopies(t *testing.T) {
	mem := newMemory(t)
	r := vt.NewRing(mem, ringBase, 8)
	q := queueFor(t, r, RingFeatures)
	copy(mem.RAM[bufBase:], "0123456789")
	copy(mem.RAM[bufBase+0x100:], "abcdefghij")
	r.AddChain(
		vt.Buf{Addr: bufBase, Len: 10},
		vt.Buf{Addr: bufBase + 0x100, Len: 10},
		vt.Buf{Addr: 0x5000, Len: 3, Write: true},
		vt.Buf{Addr: 0x6000 - 2, Len: 7, Write: true}, // straddles a page
	)
	c, err := q.Pop()
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 8)
	equal(t, 8, c.Read(got, 6), "Read count")
	equal(t, "6789abcd", string(got), "Read across buffers")
	equal(t, 4, c.Read(got, 16), "Read at the end")
	equal(t, 0, c.Read(got, 100), "Read past the end")

	var pages []mmu.GPA
	mem.OnCodeWrite = func(p mmu.GPA) { pages = append(pages, p) }
	mem.MarkCode(0x5000)
	mem.MarkCode(0x6000)
	equal(t, 6, c.Write([]byte("XYZuvw"), 1), "Write count")
	equal(t, "\x00XY", string(mem.RAM[0x5000:0x5003]), "first writable buffer")
	equal(t, "Zuvw", string(mem.RAM[0x6000-2:0x6002]), "second writable buffer")
	equal(t, []mmu.GPA{0x5000, 0x6000}, pages, "code pages invalidated by the device's writes")

	var out bytes.Buffer
	w := &writerAt{&out}
	if err := c.CopyOut(w, 0, 2, 15); err != nil {
		t.Fatal(err)
	}
	equal(t, "23456789abcdefg", out.String(), "CopyOut")
	if err := c.CopyOut(w, 0, 10, 11); err == nil {
		t.Fatal("CopyOut past the readable part: no error")
	}

	mem.MarkCode(0x6000)
	pages = nil
	if err := c.CopyIn(bytes.NewReader([]byte("ABCDEFGHIJ")), 0, 0, 10); err != nil {
		t.Fatal(err)
	}
	equal(t, "ABC", string(mem.RAM[0x5000:0x5003]), "CopyIn first buffer")
	equal(t, "DEFGHIJ", string(mem.RAM[0x6000-2:0x6005]), "CopyIn second buffer")
	equal(t, []mmu.GPA{0x6000}, pages, "code page invalidated by CopyIn")
	if err := c.CopyIn(bytes.NewReader([]byte("short")), 0, 0, 10); err == nil {
		t.Fatal("CopyIn from a short reader: no error")
	}
}

// writerAt is an io.WriterAt appending in order to a bytes.Buffer.
type writerAt struct{ b *bytes.Buffer }

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) {
	if off != int64(w.b.Len()) {
		return 0, errors.New("out of order")
	}
	return w.b.Write(p)
}
