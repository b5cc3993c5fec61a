package cpu

// The CPU model, defined in one place: CPUID reports exactly the features
// that are implemented (SDM Vol. 2A CPUID, Tables 3-8 to 3-20).

// CPUID leaf 1 EDX feature bits.
const (
	featFPU   = 1 << 0
	featVME   = 1 << 1
	featDE    = 1 << 2
	featPSE   = 1 << 3
	featTSC   = 1 << 4
	featMSR   = 1 << 5
	featCX8   = 1 << 8
	featAPIC  = 1 << 9
	featPAE   = 1 << 6
	featSEP   = 1 << 11
	featPGE   = 1 << 13
	featCMOV  = 1 << 15
	featPAT   = 1 << 16
	featPSE36 = 1 << 17
	featCLFSH = 1 << 19

	// Leaf 1 ECX.
	featCX16        = 1 << 13
	featTSCDeadline = 1 << 24

	// Leaf 7 (subleaf 0) EDX.
	feat7ArchCapabilities = 1 << 29 // IA32_ARCH_CAPABILITIES (MSR 10AH) exists

	// Leaf 80000001h EDX and ECX.
	extSYSCALL = 1 << 11
	extNX      = 1 << 20
	extRDTSCP  = 1 << 27
	extLM      = 1 << 29
	extLAHF    = 1 << 0 // ECX: LAHF/SAHF in 64-bit mode
)

// Model is the processor gemu presents: an x86-64 integer core (long mode,
// NX, SYSCALL) whose x87 and SSE units report themselves when they register.
var Model = struct {
	Vendor              string
	Family, Model, Step uint32
	FeaturesEDX         uint32
	FeaturesECX         uint32
	ExtFeaturesEDX      uint32
	ExtFeaturesECX      uint32
	MaxLeaf, MaxExtLeaf uint32
	BrandString         string
}{
	Vendor:         "GenuineIntel",
	Family:         6,
	Model:          1,
	Step:           1,
	FeaturesEDX:    featDE | featPSE | featTSC | featMSR | featPAE | featCX8 | featAPIC | featSEP | featPGE | featCMOV | featPAT | featPSE36 | featCLFSH,
	FeaturesECX:    featCX16,
	ExtFeaturesEDX: extSYSCALL | extNX | extRDTSCP | extLM,
	ExtFeaturesECX: extLAHF,
	MaxLeaf:        7,
	MaxExtLeaf:     0x80000008,
	BrandString:    "gemu virtual CPU",
}

func opCPUID(c *CPU, in *inst) {
	a, b, cc, d := c.cpuid(uint32(c.R[EAX]), uint32(c.R[ECX]))
	c.R[EAX], c.R[EBX], c.R[ECX], c.R[EDX] = uint64(a), uint64(b), uint64(cc), uint64(d)
}

func le32(s string, i int) uint32 {
	var v uint32
	for k := 0; k < 4; k++ {
		if i+k < len(s) {
			v |= uint32(s[i+k]) << (8 * k)
		}
	}
	return v
}

// Frequencies are what the machine's clocks run at: with them set, CPUID
// reports leaves 15H (TSC/crystal ratio) and 16H (frequencies), so that a
// kernel reads its TSC and APIC timer rates instead of calibrating them
// (SDM Vol. 2A CPUID leaves 15H and 16H; Linux native_calibrate_tsc also
// takes the crystal as the APIC timer's clock).
type Frequencies struct {
	TSCHz     uint64 // the time-stamp counter's rate
	CrystalHz uint64 // the core crystal: the local APIC timer's input clock
}

// frequencyLeaf is the highest basic leaf when frequencies are reported.
const frequencyLeaf = 0x16

// cpuid is the CPUID instruction of this CPU: the package model plus the
// machine's clock frequencies, plus the hypervisor's leaves when it shows
// itself (hypercall.go).
func (c *CPU) cpuid(leaf, sub uint32) (a, b, cc, d uint32) {
	if c.Hypervisor != nil {
		return c.hypervisorCPUID(leaf, sub)
	}
	return c.modelCPUID(leaf, sub)
}

// modelCPUID is the package model with the machine's clock frequencies.
func (c *CPU) modelCPUID(leaf, sub uint32) (a, b, cc, d uint32) {
	if leaf == 1 && c.TSCDeadlineTimer {
		a, b, cc, d = cpuid(leaf, sub)
		return a, b, cc | featTSCDeadline, d
	}
	f := c.Frequencies
	if f.TSCHz == 0 || f.CrystalHz == 0 {
		return cpuid(leaf, sub)
	}
	switch {
	case leaf == 0:
		a, b, cc, d = cpuid(0, sub)
		return max(a, frequencyLeaf), b, cc, d
	case leaf == 0x15:
		// TSC = crystal × EBX / EAX; the ratio reduced by the common divisor.
		g := gcd(f.TSCHz, f.CrystalHz)
		num, den := f.TSCHz/g, f.CrystalHz/g
		if num > 0xFFFFFFFF || den > 0xFFFFFFFF || f.CrystalHz > 0xFFFFFFFF {
			return 0, 0, 0, 0 // not expressible: the kernel calibrates
		}
		return uint32(den), uint32(num), uint32(f.CrystalHz), 0
	case leaf == 0x16:
		// Base, maximum and bus (reference) frequencies in MHz.
		mhz := uint32(min(f.TSCHz/1e6, 0xFFFF))
		return mhz, mhz, uint32(min(f.CrystalHz/1e6, 0xFFFF)), 0
	case leaf > Model.MaxLeaf && leaf <= frequencyLeaf:
		return 0, 0, 0, 0 // leaves 8–14H: nothing to report
	case leaf > frequencyLeaf && leaf < 0x80000000:
		return c.modelCPUID(frequencyLeaf, sub)
	}
	return cpuid(leaf, sub)
}

// ArchCapabilities is IA32_ARCH_CAPABILITIES (SDM Vol. 4 Table 2-2, MSR
// 10AH): an interpreter executes nothing speculatively, so it says that it
// is not affected by the speculative-execution flaws the MSR can rule out:
// Rogue Data Cache Load (Meltdown), Speculative Store Bypass, MDS, TSX
// async abort, MMIO stale data, post-barrier RSB, Gather Data Sampling,
// Register File Data Sampling, Branch History Injection and Indirect
// Target Selection. Linux then needs no page-table isolation, no buffer
// clearing on kernel exit and no return thunks (as on a KVM host that
// reports the same).
const ArchCapabilities = 1<<0 | // RDCL_NO
	1<<4 | // SSB_NO
	1<<5 | // MDS_NO
	1<<6 | // IF_PSCHANGE_MC_NO
	1<<8 | // TAA_NO
	1<<13 | // SBDR_SSDP_NO
	1<<14 | // FBSDP_NO
	1<<15 | // PSDP_NO
	1<<20 | // BHI_NO
	1<<24 | // PBRSB_NO
	1<<26 | // GDS_NO
	1<<27 | // RFDS_NO
	1<<62 // ITS_NO

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func cpuid(leaf, sub uint32) (a, b, c, d uint32) {
	m := &Model
	switch {
	case leaf == 0:
		return m.MaxLeaf, le32(m.Vendor, 0), le32(m.Vendor, 8), le32(m.Vendor, 4)
	case leaf == 1:
		sig := m.Step | m.Model<<4 | m.Family<<8
		// EBX: CLFLUSH line size 8×8 = 64 bytes, one logical processor, APIC ID 0.
		return sig, 8<<8 | 1<<16, m.FeaturesECX, m.FeaturesEDX
	case leaf == 7:
		if sub != 0 {
			return 0, 0, 0, 0
		}
		return 0, 0, 0, feat7ArchCapabilities
	case leaf > 1 && leaf < 7:
		return 0, 0, 0, 0 // caches, monitor, power: nothing to report
	case leaf == 0x80000000:
		return m.MaxExtLeaf, 0, 0, 0
	case leaf == 0x80000001:
		return 0, 0, m.ExtFeaturesECX, m.ExtFeaturesEDX
	case leaf == 0x80000008:
		return physAddrBits | 48<<8, 0, 0, 0 // physical and linear address bits
	case leaf >= 0x80000002 && leaf <= 0x80000004:
		i := int(leaf-0x80000002) * 16
		return le32(m.BrandString, i), le32(m.BrandString, i+4), le32(m.BrandString, i+8), le32(m.BrandString, i+12)
	case leaf > m.MaxLeaf && leaf < 0x80000000:
		// Beyond the maximum basic leaf: the highest basic leaf's data (Intel behaviour).
		return cpuid(m.MaxLeaf, sub)
	}
	return 0, 0, 0, 0
}
