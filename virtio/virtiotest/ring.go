// Package virtiotest is the driver's side of a split virtqueue, for tests:
// it lays out a descriptor table, available ring and used ring in guest
// memory, posts chains (well-formed or not) and reads back the used ring
// (virtio 1.2 §2.7). It writes raw values and checks nothing, so that tests
// can build every malformed case. Misuse that cannot be a guest's (a ring
// that does not fit in RAM) panics: it is a bug in the test.
package virtiotest

import (
	"encoding/binary"
	"fmt"

	"github.com/gemu-project/gemu/mmu"
)

// Descriptor flags and ring flags (virtio 1.2 §2.7.5, §2.7.7).
const (
	FlagNext     = 1
	FlagWrite    = 2
	FlagIndirect = 4

	AvailNoInterrupt = 1
	UsedNoNotify     = 1

	DescSize = 16
)

// Desc is a raw descriptor.
type Desc struct {
	Addr  uint64
	Len   uint32
	Flags uint16
	Next  uint16
}

// Buf is one buffer of a chain to post.
type Buf struct {
	Addr  mmu.GPA
	Len   uint32
	Write bool // device-writable
}

// Ring is a split virtqueue in guest memory, seen from the driver.
type Ring struct {
	Mem               *mmu.Memory
	Size              uint16
	Desc, Avail, Used mmu.GPA

	nextDesc uint16 // next table slot AddChain uses
	availIdx uint16
}

// Layout returns the addresses of the three parts of a ring of size entries
// placed at base (16-byte aligned), and the first address after it.
func Layout(base mmu.GPA, size uint16) (desc, avail, used, end mmu.GPA) {
	desc = base
	avail = desc + DescSize*mmu.GPA(size)
	used = (avail + 6 + 2*mmu.GPA(size) + 3) &^ 3
	end = used + 6 + 8*mmu.GPA(size)
	return
}

// NewRing lays out a ring of size entries at base and zeroes it.
func NewRing(mem *mmu.Memory, base mmu.GPA, size uint16) *Ring {
	desc, avail, used, end := Layout(base, size)
	r := &Ring{Mem: mem, Size: size, Desc: desc, Avail: avail, Used: used}
	r.write(base, make([]byte, end-base))
	return r
}

// End is the first address after the ring.
func (r *Ring) End() mmu.GPA { return r.Used + 6 + 8*mmu.GPA(r.Size) }

func (r *Ring) write(addr mmu.GPA, b []byte) {
	if err := r.Mem.WriteAt(addr, b); err != nil {
		panic(fmt.Sprintf("virtiotest: %v", err))
	}
}

func (r *Ring) put16(addr mmu.GPA, v uint16) {
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], v)
	r.write(addr, b[:])
}

func (r *Ring) get16(addr mmu.GPA) uint16 {
	var b [2]byte
	if err := r.Mem.ReadAt(addr, b[:]); err != nil {
		panic(fmt.Sprintf("virtiotest: %v", err))
	}
	return binary.LittleEndian.Uint16(b[:])
}

// EncodeTable returns descriptors as a table in guest byte order.
func EncodeTable(descs []Desc) []byte {
	b := make([]byte, DescSize*len(descs))
	for i, d := range descs {
		e := b[i*DescSize:]
		binary.LittleEndian.PutUint64(e[0:], d.Addr)
		binary.LittleEndian.PutUint32(e[8:], d.Len)
		binary.LittleEndian.PutUint16(e[12:], d.Flags)
		binary.LittleEndian.PutUint16(e[14:], d.Next)
	}
	return b
}

// WriteTable writes descriptors at addr: an indirect table, for one.
func WriteTable(mem *mmu.Memory, addr mmu.GPA, descs []Desc) {
	if err := mem.WriteAt(addr, EncodeTable(descs)); err != nil {
		panic(fmt.Sprintf("virtiotest: %v", err))
	}
}

// SetDesc writes descriptor i of the table, whatever its values (i may be
// out of the table only if RAM holds it).
func (r *Ring) SetDesc(i uint16, d Desc) {
	r.write(r.Desc+DescSize*mmu.GPA(i), EncodeTable([]Desc{d}))
}

// Linked returns descriptors for bufs chained in order by NEXT, the first
// at index first (first+1, … follow): a chain for a table or an indirect
// table (first 0).
func Linked(first uint16, bufs ...Buf) []Desc {
	descs := make([]Desc, len(bufs))
	for i, b := range bufs {
		d := Desc{Addr: uint64(b.Addr), Len: b.Len}
		if b.Write {
			d.Flags |= FlagWrite
		}
		if i+1 < len(bufs) {
			d.Flags |= FlagNext
			d.Next = first + uint16(i) + 1
		}
		descs[i] = d
	}
	return descs
}

// AddChain writes bufs into consecutive free table slots (wrapping at the
// end of the table), links them and makes the chain available. It returns
// the head. A chain longer than the table would overwrite itself: it
// panics (build such chains with SetDesc).
func (r *Ring) AddChain(bufs ...Buf) uint16 {
	if len(bufs) > int(r.Size) {
		panic(fmt.Sprintf("virtiotest: chain of %d buffers in a table of %d", len(bufs), r.Size))
	}
	head := r.nextDesc
	for i, d := range Linked(0, bufs...) {
		slot := (head + uint16(i)) % r.Size
		if d.Flags&FlagNext != 0 {
			d.Next = (slot + 1) % r.Size
		}
		r.SetDesc(slot, d)
	}
	r.nextDesc = (head + uint16(len(bufs))) % r.Size
	r.Offer(head)
	return head
}

// AddIndirect writes bufs as an indirect table at table, puts one
// descriptor referring to it in the next free slot and makes it available.
// It returns the head.
func (r *Ring) AddIndirect(table mmu.GPA, bufs ...Buf) uint16 {
	WriteTable(r.Mem, table, Linked(0, bufs...))
	head := r.nextDesc
	r.SetDesc(head, Desc{Addr: uint64(table), Len: DescSize * uint32(len(bufs)), Flags: FlagIndirect})
	r.nextDesc = (head + 1) % r.Size
	r.Offer(head)
	return head
}

// Offer puts head in the next available-ring entry and publishes it by
// incrementing the available index.
func (r *Ring) Offer(head uint16) {
	r.put16(r.Avail+4+2*mmu.GPA(r.availIdx%r.Size), head)
	r.availIdx++
	r.put16(r.Avail+2, r.availIdx)
}

// SetAvailIdx writes the available index, whatever the value.
func (r *Ring) SetAvailIdx(idx uint16) {
	r.availIdx = idx
	r.put16(r.Avail+2, idx)
}

// AvailIdx is the available index the ring last wrote.
func (r *Ring) AvailIdx() uint16 { return r.availIdx }

// SetAvailFlags writes the available ring's flags (AvailNoInterrupt).
func (r *Ring) SetAvailFlags(flags uint16) { r.put16(r.Avail, flags) }

// SetUsedEvent writes used_event (VIRTIO_F_EVENT_IDX).
func (r *Ring) SetUsedEvent(idx uint16) { r.put16(r.Avail+4+2*mmu.GPA(r.Size), idx) }

// AvailEvent reads avail_event, written by the device (VIRTIO_F_EVENT_IDX).
func (r *Ring) AvailEvent() uint16 { return r.get16(r.Used + 4 + 8*mmu.GPA(r.Size)) }

// UsedFlags reads the used ring's flags.
func (r *Ring) UsedFlags() uint16 { return r.get16(r.Used) }

// UsedIdx reads the used index.
func (r *Ring) UsedIdx() uint16 { return r.get16(r.Used + 2) }

// Used is one used-ring element.
type Used struct {
	ID, Len uint32
}

// UsedElem reads used-ring entry i (taken modulo the size).
func (r *Ring) UsedElem(i uint16) Used {
	var b [8]byte
	if err := r.Mem.ReadAt(r.Used+4+8*mmu.GPA(i%r.Size), b[:]); err != nil {
		panic(fmt.Sprintf("virtiotest: %v", err))
	}
	return Used{ID: binary.LittleEndian.Uint32(b[0:]), Len: binary.LittleEndian.Uint32(b[4:])}
}
