package firmware

import "fmt"

// E820Type is the type of an address range in the memory map (ACPI 6.x §15,
// Table 15.1).
type E820Type uint32

// Address range types (ACPI 6.x §15, Table 15.1).
const (
	E820RAM      E820Type = 1 // AddressRangeMemory: usable by the OS
	E820Reserved E820Type = 2 // AddressRangeReserved: do not use
)

func (t E820Type) String() string {
	switch t {
	case E820RAM:
		return "usable"
	case E820Reserved:
		return "reserved"
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// E820Entry is one range of the memory map, as INT 15h AX=E820h returns it
// (ACPI 6.x §15.1) and as the multiboot mmap lists it (Multiboot 0.6.96 §3.3).
type E820Entry struct {
	Base   uint64
	Length uint64
	Type   E820Type
}

// End is the first address past the range.
func (e E820Entry) End() uint64 { return e.Base + e.Length }

func (e E820Entry) String() string {
	return fmt.Sprintf("0x%08x-0x%08x %s", e.Base, e.End(), e.Type)
}

// Fixed areas of the PC memory map below 1 MiB.
const (
	ebdaBase  = 0x9FC00  // extended BIOS data area, 1 KiB below 640 KiB
	lowEnd    = 0xA0000  // end of conventional memory
	biosBase  = 0xF0000  // system BIOS, 64 KiB
	highStart = 0x100000 // extended memory
)

// E820 is the machine's memory map for memSize bytes of RAM: the one the BIOS
// returns from INT 15h AX=E820h and the one multiboot kernels get, so the two
// always agree. Conventional memory below the EBDA and all RAM above 1 MiB are
// usable; the EBDA (0x9FC00–0xA0000) and the BIOS (0xF0000–0x100000) are
// reserved; the VGA and option-ROM hole 0xA0000–0xF0000 is not listed.
func E820(memSize uint64) []E820Entry {
	low := min(memSize, ebdaBase)
	m := []E820Entry{
		{Base: 0, Length: low, Type: E820RAM},
		{Base: ebdaBase, Length: lowEnd - ebdaBase, Type: E820Reserved},
		{Base: biosBase, Length: highStart - biosBase, Type: E820Reserved},
	}
	if memSize > highStart {
		m = append(m, E820Entry{Base: highStart, Length: memSize - highStart, Type: E820RAM})
	}
	return m
}
