package firmware

import (
	"encoding/binary"
	"fmt"
)

// Intel MultiProcessor Specification 1.4 tables, for an OS booted without
// ACPI (Linux acpi=off): the MP floating pointer structure (§4.1) followed by
// the MP configuration table (§4.2, §4.3), describing the processors in
// virtual-wire mode (8259 ExtINT on LINT0, NMI on LINT1; no IMCR), the ISA
// bus and the IOAPIC with ISA IRQ 0 on pin 2 and IRQs 1, 3–15 on their own
// pins.

// MPTableBase is where the machine puts the tables: in the last KiB of base
// memory (0x9FC00–0x9FFFF, reserved in the memory map), which an OS scans
// for the floating pointer (§4), past the first 256 bytes that a BIOS keeps
// for its EBDA. The BIOS's POST clears that KiB: the table is for boots
// that do not run it.
const MPTableBase = 0x9FD00

// MPConfig says what the MP table describes.
type MPConfig struct {
	CPUs         int    // processors, local APIC IDs 0..CPUs-1 (ID 0 the BSP); 0 means 1
	CPUSignature uint32 // CPUID.01H:EAX (stepping, model, family)
	CPUFeatures  uint32 // CPUID.01H:EDX
	IOAPICID     uint8  // the IOAPIC's ID (its reset value is 0)
	PCISlots     []int
}

// MP table constants (MP spec 1.4 §4.1, §4.2, §4.3).
const (
	mpSpecRev         = 4 // version 1.4
	mpFloatingLen     = 16
	mpHeaderLen       = 44
	mpLAPICVersion    = 0x14 // integrated xAPIC (devices/lapic.go)
	mpIOAPICVersion   = 0x11 // 82093AA (devices/ioapic.go)
	mpEntryProcessor  = 0
	mpEntryBus        = 1
	mpEntryIOAPIC     = 2
	mpEntryIOInt      = 3
	mpEntryLocalInt   = 4
	mpCPUEnabled      = 1 << 0
	mpCPUBootstrap    = 1 << 1
	mpIOAPICEnabled   = 1 << 0
	mpIntINT          = 0 // vectored interrupt, from the redirection entry
	mpIntNMI          = 1
	mpIntExtINT       = 3
	mpISABusID        = 0
	mpAllLocalAPICs   = 0xFF
	mpFlagsConforming = 0 // polarity and trigger conform to the bus (ISA: edge, high)
)

// BuildMPTable lays out the floating pointer at base (16-byte aligned; §4
// says where an OS looks) and the configuration table right after it.
func BuildMPTable(base uint64, cfg MPConfig) ([]byte, error) {
	cpus := cfg.CPUs
	if cpus == 0 {
		cpus = 1
	}
	switch {
	case base%16 != 0:
		return nil, fmt.Errorf("MP table: base %#x is not 16-byte aligned", base)
	case cpus < 0 || cpus > 255:
		return nil, fmt.Errorf("MP table: %d CPUs, want 1 to 255", cpus)
	}

	// Configuration table header (§4.2); length and checksum
	// filled in at the end.
	var w acpiWriter
	w.str("PCMP", 4)
	w.u16(0) // base table length
	w.u8(mpSpecRev)
	w.u8(0) // checksum
	w.str("GEMU", 8)
	w.str("GEMU PC", 12)
	w.u32(0) // OEM table pointer
	w.u16(0) // OEM table size
	w.u16(0) // entry count
	w.u32(acpiLAPICAddr)
	w.u16(0) // extended table length
	w.u8(0)  // extended table checksum
	w.u8(0)

	// Entries in the order of their types (§4.3).
	entries := 0
	for i := range cpus { // §4.3.1
		flags := uint8(mpCPUEnabled)
		if i == 0 {
			flags |= mpCPUBootstrap
		}
		w.u8(mpEntryProcessor)
		w.u8(uint8(i))
		w.u8(mpLAPICVersion)
		w.u8(flags)
		w.u32(cfg.CPUSignature)
		w.u32(cfg.CPUFeatures)
		w.u64(0)
		entries++
	}
	isaBus := uint8(mpISABusID)
	var pciInts []byte
	var pciIRQs uint16
	if cfg.PCISlots != nil {
		bus, ints, n, irqs, err := mpPCIEntries(cfg.IOAPICID, cfg.PCISlots, [4]uint8{})
		if err != nil {
			return nil, err
		}
		w.b = append(w.b, bus...)
		entries++
		pciInts, pciIRQs = ints, irqs
		entries += n
		isaBus = mpISABusIDWithPCI
	}
	w.u8(mpEntryBus) // §4.3.2
	w.u8(isaBus)
	w.str("ISA   ", 6)
	entries++
	w.u8(mpEntryIOAPIC) // §4.3.3
	w.u8(cfg.IOAPICID)
	w.u8(mpIOAPICVersion)
	w.u8(mpIOAPICEnabled)
	w.u32(acpiIOAPICAddr)
	entries++
	w.b = append(w.b, pciInts...)
	for irq := range 16 { // §4.3.4
		if pciIRQs&(1<<irq) != 0 {
			continue
		}
		pin := irq
		switch irq {
		case 0:
			pin = 2
		case 2:
			continue // the cascade: no ISA source
		}
		w.u8(mpEntryIOInt)
		w.u8(mpIntINT)
		w.u16(mpFlagsConforming)
		w.u8(isaBus)
		w.u8(uint8(irq))
		w.u8(cfg.IOAPICID)
		w.u8(uint8(pin))
		entries++
	}
	local := func(typ, dest, lint uint8) { // §4.3.5
		w.u8(mpEntryLocalInt)
		w.u8(typ)
		w.u16(mpFlagsConforming)
		w.u8(isaBus)
		w.u8(0)
		w.u8(dest)
		w.u8(lint)
		entries++
	}
	local(mpIntExtINT, 0, 0) // the 8259 on the BSP's LINT0 (virtual wire, §3.6.2.2)
	local(mpIntNMI, mpAllLocalAPICs, 1)

	table := w.b
	binary.LittleEndian.PutUint16(table[4:], uint16(len(table)))
	binary.LittleEndian.PutUint16(table[34:], uint16(entries))
	table[7] = -acpiSum(table)

	// Floating pointer structure (§4.1).
	fp := make([]byte, mpFloatingLen)
	copy(fp, "_MP_")
	binary.LittleEndian.PutUint32(fp[4:], uint32(base+mpFloatingLen))
	fp[8] = mpFloatingLen / 16 // length in paragraphs
	fp[9] = mpSpecRev
	fp[11] = 0 // feature 1: a configuration table is present
	fp[12] = 0 // feature 2: IMCRP clear, virtual-wire mode
	fp[10] = -acpiSum(fp)

	if base+uint64(mpFloatingLen+len(table)) > 1<<32 {
		return nil, fmt.Errorf("MP table at %#x crosses 4 GiB", base)
	}
	return append(fp, table...), nil
}
