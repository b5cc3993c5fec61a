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
	if a, b, cc, d := c.cpuid(7, 0); a|b|cc != 0 || d != feat7ArchCapabilities {
		t.Errorf("leaf 7: %#x %#x %#x %#x, want IA32_ARCH_CAPABILITIES only", a, b, cc, d)
	}
	for _, leaf := range []uint32{2, 4, 0xB, 0xD} {
		if a, b, cc, d := c.cpuid(leaf, 0); a|b|cc|d != 0 {
			t.Errorf("leaf %#x: %#x %#x %#x %#x, want zeros", leaf, a, b, cc, d)
		}
	}
	if a, _, _, _ := c.cpuid(0x80000000, 0); a != Model.MaxExtLeaf {
		t.Errorf("extended leaves changed: %#x", a)
	}
}

// IA32_ARCH_CAPABILITIES is enumerated by leaf 7 and read-only; the
// TSC-deadline bit of leaf 1 follows the machine's local APIC.
func TestCPUIDArchCapabilitiesAndTSCDeadline(t *testing.T) {
	c := &CPU{}
	if _, _, _, d := c.cpuid(7, 0); d&feat7ArchCapabilities == 0 {
		t.Fatal("leaf 7 EDX does not enumerate IA32_ARCH_CAPABILITIES")
	}
	if _, _, _, d := c.cpuid(7, 1); d != 0 {
		t.Errorf("leaf 7 subleaf 1 EDX = %#x, want 0", d)
	}
	v, ok := c.readMSR(msrArchCaps)
	if !ok || v != ArchCapabilities {
		t.Fatalf("RDMSR 10AH = %#x, %v", v, ok)
	}
	for _, bit := range []uint{0, 5, 8, 20, 62} { // RDCL_NO MDS_NO TAA_NO BHI_NO ITS_NO
		if v&(1<<bit) == 0 {
			t.Errorf("IA32_ARCH_CAPABILITIES bit %d clear", bit)
		}
	}
	if c.writeMSR(msrArchCaps, 0) {
		t.Error("WRMSR 10AH accepted; the MSR is read-only")
	}
	if _, _, cc, _ := c.cpuid(1, 0); cc&featTSCDeadline != 0 {
		t.Error("TSC-deadline timer advertised without the machine's APIC")
	}
	c.TSCDeadlineTimer = true
	for _, f := range []Frequencies{{}, {TSCHz: 1e9, CrystalHz: 1e9}} {
		c.Frequencies = f
		if _, _, cc, _ := c.cpuid(1, 0); cc&featTSCDeadline == 0 {
			t.Errorf("with %+v: TSC-deadline timer not advertised", f)
		}
	}
}
