package firmware

import (
	"bytes"
	"testing"
)

func TestMPPCIEntries(t *testing.T) {
	bus, ints, n, irqs, err := mpPCIEntries(0, []int{2, 3}, [4]uint8{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bus, []byte{1, 0, 'P', 'C', 'I', ' ', ' ', ' '}) {
		t.Errorf("bus entry % x", bus)
	}
	if n != 8 || len(ints) != 8*8 || irqs != 1<<10|1<<11 {
		t.Fatalf("%d entries, %d bytes, IRQs %#x", n, len(ints), irqs)
	}
	// Slot 2: INTA# → PIRQB (10), INTB# → PIRQC (11), INTC# → PIRQD (11),
	// INTD# → PIRQA (10); slot 3 INTA# → PIRQC (11).
	for i, want := range [][]byte{
		{3, 0, 1, 0, 0, 2<<2 | 0, 0, 10},
		{3, 0, 1, 0, 0, 2<<2 | 1, 0, 11},
		{3, 0, 1, 0, 0, 2<<2 | 2, 0, 11},
		{3, 0, 1, 0, 0, 2<<2 | 3, 0, 10},
		{3, 0, 1, 0, 0, 3<<2 | 0, 0, 11},
	} {
		if got := ints[8*i : 8*i+8]; !bytes.Equal(got, want) {
			t.Errorf("entry %d: % x, want % x", i, got, want)
		}
	}
	if _, ints, _, _, _ := mpPCIEntries(2, []int{4}, [4]uint8{5, 9, 10, 11}); ints[6] != 2 || ints[7] != 11 {
		t.Errorf("slot 4 INTA# with PIRQD → 11, IOAPIC 2: % x", ints[:8])
	}
	for _, bad := range []struct {
		slots []int
		pirqs [4]uint8
	}{{[]int{0}, [4]uint8{}}, {[]int{32}, [4]uint8{}}, {[]int{2}, [4]uint8{10, 10, 11, 16}}, {[]int{2}, [4]uint8{2, 10, 11, 11}}} {
		if _, _, _, _, err := mpPCIEntries(0, bad.slots, bad.pirqs); err == nil {
			t.Errorf("mpPCIEntries(%v, %v) succeeded", bad.slots, bad.pirqs)
		}
	}
}
