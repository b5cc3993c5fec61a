package virtio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gemu-project/gemu/mmu"
)

// Split virtqueue layout (virtio 1.2 §2.7).
const (
	// MaxQueueSize is the largest split queue (virtio 1.2 §2.7).
	MaxQueueSize = 32768

	descSize     = 16
	descNext     = 1 // VIRTQ_DESC_F_NEXT
	descWrite    = 2 // VIRTQ_DESC_F_WRITE
	descIndirect = 4 // VIRTQ_DESC_F_INDIRECT

	availNoInterrupt = 1 // VIRTQ_AVAIL_F_NO_INTERRUPT (virtio 1.2 §2.7.7)

	// maxChainBytes bounds the bytes of one chain (virtio 1.2 §2.7.5.1).
	maxChainBytes = 1 << 32
)

// Why a queue's contents were refused. Pop's errors wrap one of these, so
// errors.Is tells the reason; the message adds the indices and addresses.
var (
	ErrQueueConfig    = errors.New("bad queue configuration")
	ErrAvailIndex     = errors.New("available index moved by more than the queue size")
	ErrDescIndex      = errors.New("descriptor index out of range")
	ErrLoop           = errors.New("descriptor chain loops")
	ErrChainTooLong   = errors.New("descriptor chain longer than the queue size")
	ErrChainBytes     = errors.New("descriptor chain longer than 4 GiB")
	ErrOutsideRAM     = errors.New("buffer outside guest RAM")
	ErrDirection      = errors.New("device-readable descriptor after a device-writable one")
	ErrRingOverlap    = errors.New("device-writable buffer overlaps the available ring")
	ErrIndirect       = errors.New("misused indirect descriptor")
	ErrNestedIndirect = errors.New("indirect descriptor inside an indirect table")
	ErrIndirectTable  = errors.New("bad indirect descriptor table")
)

// QueueConfig is what the driver tells the transport about a queue: its
// size and the guest-physical addresses of its three parts (virtio 1.2
// §2.7: descriptor area, driver area = available ring, device area = used
// ring).
type QueueConfig struct {
	Size                 uint32
	Desc, Driver, Device mmu.GPA
}

// Queue is the device side of a split virtqueue in guest memory. It is not
// safe for concurrent use; a device serves a queue from one goroutine.
type Queue struct {
	mem    *mmu.Memory
	config QueueConfig
	size   uint16
	// The three parts, checked once to lie in RAM: guest RAM never moves.
	desc, avail, used []byte

	eventIdx, indirect bool

	nextAvail  uint16 // the next available-ring entry to take
	availIdx   uint16 // the driver's avail idx as last read
	usedIdx    uint16 // the device's used idx
	lastSignal uint16 // usedIdx at the last interrupt decision

	visited []uint64 // loop detection, one bit per descriptor
	barrier atomic.Uint32
}

// NewQueue checks a driver's queue configuration (virtio 1.2 §2.7: size a
// power of two ≤ 32768, the alignment of each part) and that the three
// parts lie in guest RAM without overlapping. features are the negotiated
// ones (EVENT_IDX, INDIRECT_DESC).
func NewQueue(mem *mmu.Memory, cfg QueueConfig, features uint64) (*Queue, error) {
	n := uint64(cfg.Size)
	if n == 0 || n > MaxQueueSize || n&(n-1) != 0 {
		return nil, fmt.Errorf("%w: size %d is not a power of two from 1 to %d", ErrQueueConfig, n, MaxQueueSize)
	}
	parts := [3]struct {
		name  string
		addr  mmu.GPA
		size  uint64
		align uint64
	}{
		{"descriptor table", cfg.Desc, descSize * n, 16},
		{"available ring", cfg.Driver, 6 + 2*n, 2},
		{"used ring", cfg.Device, 6 + 8*n, 4},
	}
	var mem3 [3][]byte
	for i, p := range parts {
		if uint64(p.addr)%p.align != 0 {
			return nil, fmt.Errorf("%w: %s at %#x is not %d-byte aligned", ErrQueueConfig, p.name, uint64(p.addr), p.align)
		}
		b, err := mem.Slice(p.addr, p.size)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrQueueConfig, p.name, err)
		}
		mem3[i] = b
		for _, o := range parts[:i] {
			if p.addr < o.addr+mmu.GPA(o.size) && o.addr < p.addr+mmu.GPA(p.size) {
				return nil, fmt.Errorf("%w: %s at %#x+%#x overlaps the %s at %#x+%#x",
					ErrQueueConfig, p.name, uint64(p.addr), p.size, o.name, uint64(o.addr), o.size)
			}
		}
	}
	return &Queue{
		mem:      mem,
		config:   cfg,
		size:     uint16(n),
		desc:     mem3[0],
		avail:    mem3[1],
		used:     mem3[2],
		eventIdx: features&FeatureEventIdx != 0,
		indirect: features&FeatureIndirectDesc != 0,
		visited:  make([]uint64, (n+63)/64),
	}, nil
}

// Size is the number of entries of the queue.
func (q *Queue) Size() uint16 { return q.size }

// Config is the configuration the queue was made from.
func (q *Queue) Config() QueueConfig { return q.config }

// NextAvail is the free-running index of the next available entry to take.
func (q *Queue) NextAvail() uint16 { return q.nextAvail }

// UsedIdx is the free-running index of the next used entry to fill.
func (q *Queue) UsedIdx() uint16 { return q.usedIdx }

// fence orders the guest-memory accesses before it against those after it.
// A sequentially consistent atomic keeps the Go compiler from moving plain
// loads and stores across it, and is a locked instruction (a full barrier)
// on amd64; it matters once vCPUs run on other host threads (KVM).
func (q *Queue) fence() { q.barrier.Add(1) }

func (q *Queue) readAvailIdx() uint16 { return binary.LittleEndian.Uint16(q.avail[2:]) }

// setAvailEvent writes avail_event: the driver notifies the device once it
// makes entry idx available (virtio 1.2 §2.7.10).
func (q *Queue) setAvailEvent(idx uint16) {
	off := 4 + 8*uint64(q.size)
	binary.LittleEndian.PutUint16(q.used[off:], idx)
	q.mem.NoteWrite(q.config.Device+mmu.GPA(off), 2)
}

// Pop takes the next chain the driver made available (virtio 1.2 §2.7.13),
// or returns nil if there is none. An error wraps one of the Err reasons;
// the device must then stop using the queue and ask for a reset.
func (q *Queue) Pop() (*Chain, error) {
	if q.nextAvail == q.availIdx {
		q.availIdx = q.readAvailIdx()
		if q.nextAvail == q.availIdx && q.eventIdx {
			// Ask for a notification at the next entry, then look again so
			// that an entry made available meanwhile is not missed.
			q.setAvailEvent(q.nextAvail)
			q.fence()
			q.availIdx = q.readAvailIdx()
		}
		if pending := q.availIdx - q.nextAvail; pending > q.size {
			return nil, fmt.Errorf("%w: avail idx went to %d with %d taken (queue size %d)",
				ErrAvailIndex, q.availIdx, q.nextAvail, q.size)
		}
		if q.nextAvail == q.availIdx {
			return nil, nil
		}
		q.fence() // the ring entries after the index that published them
	}
	slot := 4 + 2*uint64(q.nextAvail&(q.size-1))
	head := binary.LittleEndian.Uint16(q.avail[slot:])
	q.nextAvail++
	return q.readChain(head)
}

// descriptor is one decoded table entry (virtio 1.2 §2.7.5).
type descriptor struct {
	addr  uint64
	len   uint32
	flags uint16
	next  uint16
}

func readDescriptor(table []byte, i uint32) descriptor {
	b := table[i*descSize : i*descSize+descSize]
	return descriptor{
		addr:  binary.LittleEndian.Uint64(b[0:]),
		len:   binary.LittleEndian.Uint32(b[8:]),
		flags: binary.LittleEndian.Uint16(b[12:]),
		next:  binary.LittleEndian.Uint16(b[14:]),
	}
}

func (q *Queue) clearVisited(entries uint32) {
	clear(q.visited[:(entries+63)/64])
}

// visit marks descriptor i and reports whether it was already marked.
func (q *Queue) visit(i uint32) bool {
	w, bit := i/64, uint64(1)<<(i%64)
	seen := q.visited[w]&bit != 0
	q.visited[w] |= bit
	return seen
}

// readChain walks the chain at head: zero or more descriptors of the table,
// possibly ending in one that refers to an indirect table (virtio 1.2
// §2.7.5.3). Each descriptor is read from guest memory once, so a driver
// changing it meanwhile cannot defeat the checks.
func (q *Queue) readChain(head uint16) (*Chain, error) {
	if head >= q.size {
		return nil, fmt.Errorf("%w: chain head %d, queue size %d", ErrDescIndex, head, q.size)
	}
	c := &Chain{Head: head, mem: q.mem}
	table, entries, i := q.desc, uint32(q.size), uint32(head)
	inIndirect, seenWritable := false, false
	count := 0
	q.clearVisited(entries)
	for {
		if q.visit(i) {
			return nil, fmt.Errorf("%w: descriptor %d reached twice (head %d)", ErrLoop, i, head)
		}
		d := readDescriptor(table, i)
		if d.flags&descIndirect != 0 {
			// virtio 1.2 §2.7.5.3.1: negotiated, alone, one level deep,
			// whole descriptors; no longer than a chain may be.
			switch {
			case inIndirect:
				return nil, fmt.Errorf("%w: entry %d (head %d)", ErrNestedIndirect, i, head)
			case !q.indirect:
				return nil, fmt.Errorf("%w: VIRTIO_F_INDIRECT_DESC not negotiated (head %d)", ErrIndirect, head)
			case d.flags&descNext != 0:
				return nil, fmt.Errorf("%w: INDIRECT with NEXT in descriptor %d (head %d)", ErrIndirect, i, head)
			case d.len == 0 || d.len%descSize != 0:
				return nil, fmt.Errorf("%w: length %d is not a non-zero multiple of 16 (head %d)", ErrIndirectTable, d.len, head)
			case d.len/descSize > uint32(q.size):
				return nil, fmt.Errorf("%w: %d descriptors, more than the queue size %d (head %d)", ErrIndirectTable, d.len/descSize, q.size, head)
			}
			t, err := q.mem.Slice(mmu.GPA(d.addr), uint64(d.len))
			if err != nil {
				return nil, fmt.Errorf("%w: indirect table at %#x+%#x (head %d)", ErrOutsideRAM, d.addr, d.len, head)
			}
			table, entries, i, inIndirect = t, d.len/descSize, 0, true
			q.clearVisited(entries)
			continue
		}
		count++
		if count > int(q.size) {
			return nil, fmt.Errorf("%w: more than %d descriptors (head %d)", ErrChainTooLong, q.size, head)
		}
		writable := d.flags&descWrite != 0
		if !writable && seenWritable {
			return nil, fmt.Errorf("%w: descriptor %d (head %d)", ErrDirection, i, head)
		}
		seenWritable = seenWritable || writable
		if d.len > 0 {
			if !q.mem.IsRAM(mmu.GPA(d.addr), uint64(d.len)) {
				return nil, fmt.Errorf("%w: %#x+%#x in descriptor %d (head %d)", ErrOutsideRAM, d.addr, d.len, i, head)
			}
			// The available ring is written only by the driver (virtio 1.2
			// §2.7.6); a request writing it could feed itself forever.
			if writable && d.addr < uint64(q.config.Driver)+uint64(len(q.avail)) && uint64(q.config.Driver) < d.addr+uint64(d.len) {
				return nil, fmt.Errorf("%w: %#x+%#x in descriptor %d (head %d)", ErrRingOverlap, d.addr, d.len, i, head)
			}
			if c.readableLen+c.writableLen+uint64(d.len) > maxChainBytes {
				return nil, fmt.Errorf("%w: head %d", ErrChainBytes, head)
			}
			b := Buffer{Addr: mmu.GPA(d.addr), Len: d.len}
			if writable {
				c.Writable = append(c.Writable, b)
				c.writableLen += uint64(d.len)
			} else {
				c.Readable = append(c.Readable, b)
				c.readableLen += uint64(d.len)
			}
		}
		if d.flags&descNext == 0 {
			return c, nil
		}
		if uint32(d.next) >= entries {
			return nil, fmt.Errorf("%w: next %d of descriptor %d, table of %d (head %d)", ErrDescIndex, d.next, i, entries, head)
		}
		i = uint32(d.next)
	}
}

// Push returns the chain at head to the driver with the number of bytes
// the device wrote into it (virtio 1.2 §2.7.8): the element first, then
// the index that publishes it.
func (q *Queue) Push(head uint16, written uint32) {
	slot := 4 + 8*uint64(q.usedIdx&(q.size-1))
	binary.LittleEndian.PutUint32(q.used[slot:], uint32(head))
	binary.LittleEndian.PutUint32(q.used[slot+4:], written)
	q.mem.NoteWrite(q.config.Device+mmu.GPA(slot), 8)
	q.fence()
	q.usedIdx++
	binary.LittleEndian.PutUint16(q.used[2:], q.usedIdx)
	q.mem.NoteWrite(q.config.Device+2, 2)
}

// NeedsInterrupt reports whether the driver wants a used buffer
// notification for the entries pushed since the last call (virtio 1.2
// §2.7.7): with EVENT_IDX when the used index passed used_event, else
// unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT.
func (q *Queue) NeedsInterrupt() bool {
	q.fence() // the used index before the driver's suppression fields
	old, cur := q.lastSignal, q.usedIdx
	q.lastSignal = cur
	if old == cur {
		return false
	}
	if !q.eventIdx {
		return binary.LittleEndian.Uint16(q.avail[0:])&availNoInterrupt == 0
	}
	usedEvent := binary.LittleEndian.Uint16(q.avail[4+2*uint64(q.size):])
	return cur-usedEvent-1 < cur-old
}
