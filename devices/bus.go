// Package devices holds the machine's buses and the device models that both
// engines share: the interpreter reaches them by direct calls, KVM through exits.
// It imports no hv.
package devices

import (
	"fmt"
	"sort"
)

// Device is one register window on a bus. The bus hands it the offset of the
// access from the start of its range, never the absolute address, and a data
// slice of the access width (1, 2, 4 or 8 bytes).
type Device interface {
	Read(offset uint64, data []byte)
	Write(offset uint64, data []byte)
}

// IRQSink receives interrupt-line changes from devices (the PIC, later the
// IOAPIC). Edge-triggered devices raise then lower the line.
type IRQSink interface {
	SetIRQ(irq int, level bool)
}

type busRange struct {
	base, size uint64
	name       string
	dev        Device
	accesses   uint64 // reads and writes, for the statistics
}

// Bus maps address ranges to devices. It refuses overlapping ranges.
type Bus struct {
	name   string
	ranges []busRange // sorted by base
	// last caches the range of the previous access: guests hit the same device in runs.
	last int
}

// NewBus returns an empty bus; name appears in errors ("pio", "mmio").
func NewBus(name string) *Bus { return &Bus{name: name} }

// Register maps [base, base+size) to dev. It fails on an empty range or one
// that overlaps a range already registered.
func (b *Bus) Register(base, size uint64, name string, dev Device) error {
	if size == 0 || base+size < base {
		return fmt.Errorf("%s bus: %s: bad range %#x+%#x", b.name, name, base, size)
	}
	i := sort.Search(len(b.ranges), func(i int) bool { return b.ranges[i].base >= base })
	if i > 0 {
		if p := b.ranges[i-1]; p.base+p.size > base {
			return fmt.Errorf("%s bus: %s at %#x+%#x overlaps %s at %#x+%#x", b.name, name, base, size, p.name, p.base, p.size)
		}
	}
	if i < len(b.ranges) {
		if n := b.ranges[i]; base+size > n.base {
			return fmt.Errorf("%s bus: %s at %#x+%#x overlaps %s at %#x+%#x", b.name, name, base, size, n.name, n.base, n.size)
		}
	}
	b.ranges = append(b.ranges, busRange{})
	copy(b.ranges[i+1:], b.ranges[i:])
	b.ranges[i] = busRange{base: base, size: size, name: name, dev: dev}
	b.last = 0
	return nil
}

// find returns the index of the range that holds addr, or -1.
func (b *Bus) find(addr uint64) int {
	if b.last < len(b.ranges) {
		if r := &b.ranges[b.last]; addr-r.base < r.size {
			return b.last
		}
	}
	i := sort.Search(len(b.ranges), func(i int) bool { return b.ranges[i].base+b.ranges[i].size > addr })
	if i < len(b.ranges) && addr >= b.ranges[i].base {
		b.last = i
		return i
	}
	return -1
}

// Read performs a read at addr; it reports false if no device claims it.
func (b *Bus) Read(addr uint64, data []byte) bool {
	i := b.find(addr)
	if i < 0 {
		return false
	}
	r := &b.ranges[i]
	r.accesses++
	r.dev.Read(addr-r.base, data)
	return true
}

// Write performs a write at addr; it reports false if no device claims it.
func (b *Bus) Write(addr uint64, data []byte) bool {
	i := b.find(addr)
	if i < 0 {
		return false
	}
	r := &b.ranges[i]
	r.accesses++
	r.dev.Write(addr-r.base, data)
	return true
}

// Name returns the name of the device at addr, or "" (for statistics).
func (b *Bus) Name(addr uint64) string {
	if i := b.find(addr); i >= 0 {
		return b.ranges[i].name
	}
	return ""
}

// Unregister removes the range registered at base with size, so that a
// device can move (a PCI BAR the guest reprograms). It fails if no range was
// registered with exactly that base and size.
func (b *Bus) Unregister(base, size uint64) error {
	i := sort.Search(len(b.ranges), func(i int) bool { return b.ranges[i].base >= base })
	if i == len(b.ranges) || b.ranges[i].base != base || b.ranges[i].size != size {
		return fmt.Errorf("%s bus: nothing registered at %#x+%#x", b.name, base, size)
	}
	b.ranges = append(b.ranges[:i], b.ranges[i+1:]...)
	b.last = 0
	return nil
}

// RangeCount is how often the guest accessed one device window.
type RangeCount struct {
	Name     string
	Base     uint64
	Accesses uint64
}

// Counts returns the accesses to each window of the bus, for the windows
// the guest touched, busiest first.
func (b *Bus) Counts() []RangeCount {
	var out []RangeCount
	for _, r := range b.ranges {
		if r.accesses != 0 {
			out = append(out, RangeCount{Name: r.name, Base: r.base, Accesses: r.accesses})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Accesses > out[j].Accesses })
	return out
}
