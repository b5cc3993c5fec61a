package firmware

import (
	"encoding/binary"
	"fmt"
)

// The DSDT device for PCI bus 0, \_SB_.PCI0, as QEMU's i440FX DSDT has it,
// less the link devices: a PCI host bridge (_HID PNP0A03, ACPI 6.4 §6.1.5)
// with its bus number, its resource windows (_CRS) and a static interrupt
// routing table (_PRT, ACPI 6.4 §6.2.13) that names the GSI of every slot's
// INTA#–INTD# directly. The GSIs are the ISA IRQs the PIIX3 routes PIRQA–D
// to (the IOAPIC sees ISA IRQ n on pin n), so the routes must stay where the
// machine programmed them (devices.PCIBus.AssignResources): with a static
// _PRT, Linux never reprograms them. Static GSIs are level-triggered and
// active-low to the OS; the IOAPIC model ignores polarity (as KVM's does),
// so that works with the bus driving the lines high.

// PCI windows that the host bridge decodes; they mirror devices.PCIMemBase,
// PCIMemLimit (the 32-bit window for BARs) and QEMU's I/O split around the
// configuration ports.
const (
	pciDefaultMemBase  = 0xC0000000
	pciDefaultMemLimit = 0xFEAFFFFF
	pciVGABase         = 0x000A0000
	pciVGALimit        = 0x000BFFFF
)

// pciDefaultPIRQs are SeaBIOS's PIRQA–D routes on QEMU's i440FX (and
// devices.PCIDefaultPIRQs).
var pciDefaultPIRQs = [4]uint8{10, 10, 11, 11}

// PCIHostBridge describes PCI bus 0 for the DSDT.
type PCIHostBridge struct {
	// PIRQs are the GSIs that PIRQA–D reach (ISA IRQs on the IOAPIC pins of
	// the same numbers); all zero means 10, 10, 11, 11.
	PIRQs [4]uint8
	// MemBase and MemLimit bound the 32-bit memory window for BARs
	// (inclusive); both zero mean 0xC0000000–0xFEAFFFFF.
	MemBase, MemLimit uint32
}

// pciHostBridgeAML returns Device (PCI0) for the \_SB_ scope:
//
//	_HID EISAID("PNP0A03"), _UID 0, _BBN 0 (no _ADR: a device has a _HID
//	or an _ADR, not both, ACPI 6.4 §6.1)
//	_CRS: WordBusNumber 0–0xFF; IO 0xCF8/8 (the configuration ports, used
//	      by the bridge itself); WordIO 0x0000–0x0CF7 and 0x0D00–0xFFFF;
//	      DWordMemory 0xA0000–0xBFFFF (VGA) and the BAR window
//	_PRT: Package {0xSSSSFFFF, pin, 0, GSI} for slots 0–31, pins 0–3, GSI
//	      PIRQs[(slot - 1 + pin) mod 4], QEMU's rotation
func pciHostBridgeAML(cfg PCIHostBridge) ([]byte, error) {
	pirqs := cfg.PIRQs
	if pirqs == [4]uint8{} {
		pirqs = pciDefaultPIRQs
	}
	for i, g := range pirqs {
		if g == 0 || g == 2 || g >= acpiIOAPICPins {
			return nil, fmt.Errorf("ACPI: PIRQ%c routed to GSI %d", 'A'+i, g)
		}
	}
	memBase, memLimit := cfg.MemBase, cfg.MemLimit
	if memBase == 0 && memLimit == 0 {
		memBase, memLimit = pciDefaultMemBase, pciDefaultMemLimit
	}
	if memLimit <= memBase || memBase <= pciVGALimit || memLimit >= acpiIOAPICAddr {
		return nil, fmt.Errorf("ACPI: PCI memory window %#x–%#x must lie between 1 MiB and the IOAPIC", memBase, memLimit)
	}

	crs := amlResourceTemplate(
		resWordBusNumber(0x00, 0xFF),
		resIO(0xCF8, 8),
		resWordIO(0x0000, 0x0CF7),
		resWordIO(0x0D00, 0xFFFF),
		resDWordMemory(pciVGABase, pciVGALimit, true),
		resDWordMemory(memBase, memLimit, false),
	)
	var prt [][]byte
	for slot := range 32 {
		for pin := range 4 {
			prt = append(prt, amlPackage(
				amlInteger(uint64(slot)<<16|0xFFFF), // _ADR: device, any function
				amlInteger(uint64(pin)),             // 0–3: INTA#–INTD#
				amlInteger(0),                       // Source: none, a GSI
				amlInteger(uint64(pirqs[(slot-1+pin)&3])),
			))
		}
	}
	return amlDevice("PCI0",
		amlName("_HID", amlInteger(uint64(amlEISAID("PNP0A03")))),
		amlName("_UID", amlInteger(0)),
		amlName("_BBN", amlInteger(0)),
		amlName("_CRS", crs),
		amlName("_PRT", amlPackage(prt...)),
	), nil
}

// Address space descriptors (ACPI 6.4 §6.4.3.5): a producer's window
// (general flags bit 0 clear), positive decode, minimum and maximum fixed.
const (
	resAddrMemory       = 0
	resAddrIO           = 1
	resAddrBusNumber    = 2
	resAddrFixedWindow  = 1<<3 | 1<<2 // _MAF, _MIF
	resIOEntireRange    = 3           // _RNG, I/O resource flags
	resMemReadWrite     = 1 << 0      // _RW, memory resource flags
	resMemCacheable     = 1 << 1      // _MEM = 1
	resWordDescriptor   = 0x88        // §6.4.3.5.3
	resDWordDescriptor  = 0x87        // §6.4.3.5.2
	resWordDescBodyLen  = 13
	resDWordDescBodyLen = 23
)

// resWord is a Word Address Space Descriptor for [lo, hi] (§6.4.3.5.3).
func resWord(typ, typeFlags uint8, lo, hi uint16) []byte {
	b := []byte{resWordDescriptor, resWordDescBodyLen, 0, typ, resAddrFixedWindow, typeFlags}
	for _, v := range []uint16{0, lo, hi, 0, hi - lo + 1} { // granularity, min, max, translation, length
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// resWordBusNumber is WordBusNumber (ResourceProducer, MinFixed, MaxFixed,
// PosDecode) for buses lo–hi.
func resWordBusNumber(lo, hi uint16) []byte { return resWord(resAddrBusNumber, 0, lo, hi) }

// resWordIO is WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
// EntireRange) for ports lo–hi.
func resWordIO(lo, hi uint16) []byte { return resWord(resAddrIO, resIOEntireRange, lo, hi) }

// resDWordMemory is DWordMemory (ResourceProducer, PosDecode, MinFixed,
// MaxFixed, Cacheable or NonCacheable, ReadWrite) for lo–hi (§6.4.3.5.2).
func resDWordMemory(lo, hi uint32, cacheable bool) []byte {
	flags := uint8(resMemReadWrite)
	if cacheable {
		flags |= resMemCacheable
	}
	b := []byte{resDWordDescriptor, resDWordDescBodyLen, 0, resAddrMemory, resAddrFixedWindow, flags}
	for _, v := range []uint32{0, lo, hi, 0, hi - lo + 1} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}
