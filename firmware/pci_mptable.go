package firmware

import "fmt"

// MP table entries for PCI bus 0 (Intel MultiProcessor Specification 1.4
// §4.3.2, §4.3.4), for an OS that routes PCI interrupts to
// the IOAPIC from the MP table (Linux acpi=off with an APIC: without them it
// reports "can't find IRQ for PCI INT A; probably buggy MP table" and falls
// back to the interrupt line register, edge-triggered). As SeaBIOS builds
// them for QEMU: the PCI bus has MP bus ID 0 — Linux matches the MP bus ID
// against the PCI bus number — and the ISA bus then takes ID 1; every pin of
// every slot gets an I/O interrupt entry to the IOAPIC pin of the ISA IRQ
// its PIRQ line is routed to, active high and level-triggered (the PCI
// bus's "conforming" trigger); the ISA entries of those IRQs must go, or
// the OS sees the pin twice with different triggers.

// MP bus IDs with a PCI bus.
const (
	mpPCIBusID        = 0
	mpISABusIDWithPCI = 1
	mpFlagsActiveHigh = 0x0001 // PO = 01, EL = 00: conforming (level on PCI)
)

// mpPCIEntries returns the bus entry of PCI bus 0 (§4.3.2), which goes
// before the ISA bus entry, and the I/O interrupt entries (§4.3.4) of pins
// INTA#–INTD# of slots (1–31) to IOAPIC ioapicID, pin pirqs[(slot - 1 + pin)
// mod 4] (QEMU's rotation), with their count; and the ISA IRQs that PCI
// uses, whose ISA entries the caller leaves out.
func mpPCIEntries(ioapicID uint8, slots []int, pirqs [4]uint8) (bus, ints []byte, count int, pciIRQs uint16, err error) {
	if pirqs == [4]uint8{} {
		pirqs = pciDefaultPIRQs
	}
	for i, irq := range pirqs {
		if irq == 0 || irq == 2 || irq >= 16 {
			return nil, nil, 0, 0, fmt.Errorf("MP table: PIRQ%c routed to IRQ %d", 'A'+i, irq)
		}
		pciIRQs |= 1 << irq
	}
	bus = append([]byte{mpEntryBus, mpPCIBusID}, "PCI   "...)
	for _, s := range slots {
		if s < 1 || s > 31 {
			return nil, nil, 0, 0, fmt.Errorf("MP table: PCI slot %d", s)
		}
		for pin := range 4 {
			ints = append(ints,
				mpEntryIOInt, mpIntINT,
				byte(mpFlagsActiveHigh), byte(mpFlagsActiveHigh>>8),
				mpPCIBusID,
				byte(s<<2|pin), // PCI source IRQ: device in bits 6:2, INTA#–INTD# as 0–3
				ioapicID,
				pirqs[(s-1+pin)&3])
			count++
		}
	}
	return bus, ints, count, pciIRQs, nil
}
