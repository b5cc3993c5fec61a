package cpu

import "testing"

// The frequency leaves are what Linux's native_calibrate_tsc reads: EBX/EAX
// times ECX is the TSC rate, ECX the crystal (APIC timer) rate.
func TestCPUIDFrequencyLeaves(t *testing.T) {
	c := &CPU{}
	if a, _, _, _ := c.cpuid(0, 0); a != Model.MaxLeaf {
		t.Fatalf("without frequencies the maximum leaf is %#x, want %#x", a, Model.MaxLeaf)
	}
	c.Frequencies = Frequencies{TSCHz: 2_500_000_000, CrystalHz: 1_000_000_000}
	if a, b, _, _ := c.cpuid(0, 0); a != 0x16 || b != 0x756e6547 {
		t.Fatalf("leaf 0: max %#x vendor %#x", a, b)
	}
	den, num, crystal, _ := c.cpuid(0x15, 0)
	if crystal != 1_000_000_000 || uint64(crystal)*uint64(num)/uint64(den) != 2_500_000_000 {
		t.Fatalf("leaf 15H: %d × %d / %d", crystal, num, den)
	}
	if base, maxMHz, bus, _ := c.cpuid(0x16, 0); base != 2500 || maxMHz != 2500 || bus != 1000 {
		t.Fatalf("leaf 16H: base %d max %d bus %d MHz", base, maxMHz, bus)
	}
	for _, leaf := range []uint32{2, 4, 7, 0xB, 0xD} {
		if a, b, cc, d := c.cpuid(leaf, 0); a|b|cc|d != 0 {
			t.Errorf("leaf %#x: %#x %#x %#x %#x, want zeros", leaf, a, b, cc, d)
		}
	}
	if a, _, _, _ := c.cpuid(0x80000000, 0); a != Model.MaxExtLeaf {
		t.Errorf("extended leaves changed: %#x", a)
	}
}
