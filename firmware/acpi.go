package firmware

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// ACPI tables for a PC with a PIIX4-style power-management block, built for
// an OS that finds them by scanning 0xE0000–0xFFFFF for the RSDP (or is
// handed the RSDP address: boot_params.acpi_rsdp_addr, PVH rsdp_paddr).
// The platform is not hardware-reduced: it has the PM1a event and control
// blocks and the PM timer (FADT), and powers off through \_S5 and
// PM1a_CNT. Reference: ACPI 6.4, cited by section.
//
// Layout from the base the caller gives (16-byte aligned, below 4 GiB):
//
//	+0x000 RSDP (36 bytes)      +0x040 FACS (64 bytes, 64-byte aligned)
//	then RSDT, XSDT, FADT, MADT and DSDT, each 16-byte aligned.

// Where the machine puts the tables and what the power-management device
// must implement. The tables occupy ACPIBase..ACPIBase+ACPIAreaSize, which
// the memory map must mark reserved.
const (
	ACPIBase     = 0xE0000 // the RSDP is at ACPIBase, inside the BIOS scan range (§5.2.5.1)
	ACPIAreaSize = 0x10000 // 0xE0000–0xEFFFF

	// PM registers in I/O space, QEMU's PIIX4 layout (ACPI 6.4 §4.8):
	// PM1_STS at 0x600 and PM1_EN at 0x602 (16 bits each), PM1_CNT at
	// 0x604 (16 bits), PM_TMR at 0x608 (32-bit read, 24-bit counter at
	// 3.579545 MHz: TMR_VAL_EXT is 0).
	ACPIPM1aEvtPort = 0x600
	ACPIPM1aCntPort = 0x604
	ACPIPMTimerPort = 0x608
	ACPIPM1EvtLen   = 4
	ACPIPM1CntLen   = 2
	ACPIPMTimerLen  = 4

	// ACPISCIIRQ is the SCI: ISA IRQ 9, level-triggered, active high
	// (MADT override), asserted while PM1_STS & PM1_EN is not zero.
	ACPISCIIRQ = 9

	// ACPIS5SleepType is SLP_TYP for S5 in \_S5 (PIIX4 and QEMU: 0). OSPM
	// powers off by writing SLP_TYP<<10 | SLP_EN (bit 13) to PM1a_CNT
	// (§4.8, §7.4.2); SCI_EN (bit 0) must read 1, as there is no SMI_CMD.
	ACPIS5SleepType = 0

	// The FADT reset register: writing 0xFE to the i8042's command port
	// pulses the reset line (§4.8, §5.2.9).
	ACPIResetPort  = 0x64
	ACPIResetValue = 0xFE
)

// Platform facts that the tables describe; they mirror devices (LAPICBase,
// IOAPICBase, IOAPICPins), which firmware does not import.
const (
	acpiLAPICAddr  = 0xFEE00000
	acpiIOAPICAddr = 0xFEC00000
	acpiIOAPICPins = 24
)

// VirtioMMIODevice is a virtio-mmio transport for the DSDT: a device with
// _HID "LNRO0005", its register window and its interrupt (level-triggered,
// active high: the line stays up until the driver writes InterruptACK).
type VirtioMMIODevice struct {
	Base, Size uint64 // register window, below 4 GiB
	GSI        uint32 // IOAPIC input
}

// ACPIConfig says what the ACPI tables describe.
type ACPIConfig struct {
	Base     uint64 // physical address of the tables (RSDP first); 0 means ACPIBase
	CPUs     int    // processors, with local APIC IDs and ACPI UIDs 0..CPUs-1; 0 means 1
	IOAPICID uint8  // the IOAPIC's ID (its reset value is 0)
	// LevelIRQs are ISA IRQs wired level-triggered, active high (PCI INTx
	// links, QEMU's 5, 10 and 11). The SCI (IRQ 9) always is.
	LevelIRQs  []uint8
	VirtioMMIO []VirtioMMIODevice
	PCI        *PCIHostBridge
}

// Table identification (§5.2.6).
const (
	acpiOEMID        = "GEMU  "
	acpiOEMTableID   = "GEMU" // + the table's signature
	acpiOEMRevision  = 1
	acpiCreatorID    = "GEMU"
	acpiCreatorRev   = 1
	acpiHeaderLen    = 36
	acpiRSDPLen      = 36
	acpiFACSLen      = 64
	acpiFADTLen      = 276 // ACPI 6.0 and later (§5.2.9)
	acpiFADTRevision = 6
)

// BuildACPI lays out the tables at cfg.Base and returns them with the
// physical address of the RSDP.
func BuildACPI(cfg ACPIConfig) (tables []byte, rsdpAddr uint64, err error) {
	base := cfg.Base
	if base == 0 {
		base = ACPIBase
	}
	cpus := cfg.CPUs
	if cpus == 0 {
		cpus = 1
	}
	switch {
	case base%16 != 0:
		return nil, 0, fmt.Errorf("ACPI: base %#x is not 16-byte aligned", base)
	case cpus < 0 || cpus > 255:
		return nil, 0, fmt.Errorf("ACPI: %d CPUs, want 1 to 255", cpus)
	}
	for _, irq := range cfg.LevelIRQs {
		if irq >= 16 || irq == 0 || irq == 2 {
			return nil, 0, fmt.Errorf("ACPI: level-triggered IRQ %d is not an ISA IRQ other than 0 and 2", irq)
		}
	}
	for i, d := range cfg.VirtioMMIO {
		if d.Size == 0 || d.Base+d.Size > 1<<32 || d.Base+d.Size < d.Base {
			return nil, 0, fmt.Errorf("ACPI: virtio-mmio device %d at %#x+%#x is not a range below 4 GiB", i, d.Base, d.Size)
		}
		if d.GSI >= acpiIOAPICPins {
			return nil, 0, fmt.Errorf("ACPI: virtio-mmio device %d: GSI %d, the IOAPIC has %d inputs", i, d.GSI, acpiIOAPICPins)
		}
	}

	dsdt, err := buildDSDT(cfg, cpus)
	if err != nil {
		return nil, 0, err
	}
	madt := buildMADT(cfg, cpus)

	// Offsets of each table from base.
	align := func(off, a int) int { return (off + a - 1) &^ (a - 1) }
	offFACS := align(acpiRSDPLen, 64)
	offRSDT := align(offFACS+acpiFACSLen, 16)
	offXSDT := align(offRSDT+acpiHeaderLen+4*2, 16)
	offFADT := align(offXSDT+acpiHeaderLen+8*2, 16)
	offMADT := align(offFADT+acpiFADTLen, 16)
	offDSDT := align(offMADT+len(madt), 16)
	size := offDSDT + len(dsdt)
	if base+uint64(size) > 1<<32 {
		return nil, 0, fmt.Errorf("ACPI: tables at %#x+%#x cross 4 GiB", base, size)
	}
	addr := func(off int) uint64 { return base + uint64(off) }

	buf := make([]byte, size)
	copy(buf, buildRSDP(addr(offRSDT), addr(offXSDT)))
	copy(buf[offFACS:], buildFACS())
	copy(buf[offRSDT:], buildRSDT([]uint32{uint32(addr(offFADT)), uint32(addr(offMADT))}))
	copy(buf[offXSDT:], buildXSDT([]uint64{addr(offFADT), addr(offMADT)}))
	copy(buf[offFADT:], buildFADT(addr(offFACS), addr(offDSDT)))
	copy(buf[offMADT:], madt)
	copy(buf[offDSDT:], dsdt)
	return buf, base, nil
}

// acpiWriter appends little-endian fields.
type acpiWriter struct{ b []byte }

func (w *acpiWriter) u8(v uint8)   { w.b = append(w.b, v) }
func (w *acpiWriter) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *acpiWriter) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *acpiWriter) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *acpiWriter) str(s string, n int) {
	b := make([]byte, n)
	copy(b, s)
	w.b = append(w.b, b...)
}

// gas appends a Generic Address Structure (§5.2.3.2).
func (w *acpiWriter) gas(space, bitWidth, bitOffset, accessSize uint8, address uint64) {
	w.u8(space)
	w.u8(bitWidth)
	w.u8(bitOffset)
	w.u8(accessSize)
	w.u64(address)
}

// GAS address spaces and access sizes (§5.2.3.2).
const (
	gasSystemIO   = 1
	gasAccessAny  = 0 // "undefined (legacy reasons)"
	gasAccessByte = 1
)

// header appends a System Description Table header (§5.2.6) with Length
// and Checksum left for acpiSeal.
func (w *acpiWriter) header(sig string, revision uint8) {
	w.str(sig, 4)
	w.u32(0) // Length
	w.u8(revision)
	w.u8(0) // Checksum
	w.str(acpiOEMID, 6)
	w.str(acpiOEMTableID+sig, 8)
	w.u32(acpiOEMRevision)
	w.str(acpiCreatorID, 4)
	w.u32(acpiCreatorRev)
}

// acpiSeal fills in the Length and Checksum of a table with a header.
func acpiSeal(t []byte) []byte {
	binary.LittleEndian.PutUint32(t[4:], uint32(len(t)))
	t[9] = 0
	t[9] = -acpiSum(t)
	return t
}

// acpiSum is the byte sum that a valid table brings to zero.
func acpiSum(b []byte) uint8 {
	var s uint8
	for _, v := range b {
		s += v
	}
	return s
}

// buildRSDP: revision 2, with the checksum of the first 20 bytes (ACPI 1.0
// part) and the extended checksum of all 36 (§5.2.5.3).
func buildRSDP(rsdt, xsdt uint64) []byte {
	var w acpiWriter
	w.str("RSD PTR ", 8)
	w.u8(0) // Checksum
	w.str(acpiOEMID, 6)
	w.u8(2) // Revision
	w.u32(uint32(rsdt))
	w.u32(acpiRSDPLen)
	w.u64(xsdt)
	w.u8(0)      // Extended Checksum
	w.str("", 3) // Reserved
	b := w.b
	b[8] = -acpiSum(b[:20])
	b[32] = -acpiSum(b)
	return b
}

// buildFACS: no waking vector, no S4BIOS, the global lock free (§5.2.10).
// The FACS has no checksum.
func buildFACS() []byte {
	var w acpiWriter
	w.str("FACS", 4)
	w.u32(acpiFACSLen)
	w.u32(0) // Hardware Signature
	w.u32(0) // Firmware Waking Vector
	w.u32(0) // Global Lock
	w.u32(0) // Flags
	w.u64(0) // X Firmware Waking Vector
	w.u8(2)  // Version
	w.str("", 3)
	w.u32(0)      // OSPM Flags
	w.str("", 24) // Reserved
	return w.b
}

// buildRSDT and buildXSDT list the tables other than the DSDT and FACS,
// which the FADT points to (§5.2.7, §5.2.8).
func buildRSDT(entries []uint32) []byte {
	var w acpiWriter
	w.header("RSDT", 1)
	for _, e := range entries {
		w.u32(e)
	}
	return acpiSeal(w.b)
}

func buildXSDT(entries []uint64) []byte {
	var w acpiWriter
	w.header("XSDT", 1)
	for _, e := range entries {
		w.u64(e)
	}
	return acpiSeal(w.b)
}

// FADT Flags (§5.2.9.1) and IA-PC Boot Architecture Flags (§5.2.9.3).
const (
	fadtWBINVD      = 1 << 0
	fadtProcC1      = 1 << 2
	fadtPwrButton   = 1 << 4 // 1: no fixed-feature power button
	fadtSlpButton   = 1 << 5 // 1: no fixed-feature sleep button
	fadtFixRTC      = 1 << 6 // 1: no RTC wake status in PM1_STS
	fadtResetRegSup = 1 << 10

	bootArchLegacyDevices = 1 << 0
	bootArch8042          = 1 << 1
	bootArchNoVGA         = 1 << 2
)

// buildFADT writes the FADT, revision 6 (§5.2.9). SMI_CMD is 0: there is
// no SMM and the platform is always in ACPI mode. The 32-bit and 64-bit
// (X_) fields carry the same addresses.
func buildFADT(facs, dsdt uint64) []byte {
	var w acpiWriter
	w.header("FACP", acpiFADTRevision)
	w.u32(uint32(facs))    // FIRMWARE_CTRL
	w.u32(uint32(dsdt))    // DSDT
	w.u8(0)                // Reserved (INT_MODEL in ACPI 1.0)
	w.u8(0)                // Preferred_PM_Profile: unspecified
	w.u16(ACPISCIIRQ)      // SCI_INT
	w.u32(0)               // SMI_CMD
	w.u8(0)                // ACPI_ENABLE
	w.u8(0)                // ACPI_DISABLE
	w.u8(0)                // S4BIOS_REQ
	w.u8(0)                // PSTATE_CNT
	w.u32(ACPIPM1aEvtPort) // PM1a_EVT_BLK
	w.u32(0)               // PM1b_EVT_BLK
	w.u32(ACPIPM1aCntPort) // PM1a_CNT_BLK
	w.u32(0)               // PM1b_CNT_BLK
	w.u32(0)               // PM2_CNT_BLK
	w.u32(ACPIPMTimerPort) // PM_TMR_BLK
	w.u32(0)               // GPE0_BLK
	w.u32(0)               // GPE1_BLK
	w.u8(ACPIPM1EvtLen)
	w.u8(ACPIPM1CntLen)
	w.u8(0) // PM2_CNT_LEN
	w.u8(ACPIPMTimerLen)
	w.u8(0)       // GPE0_BLK_LEN
	w.u8(0)       // GPE1_BLK_LEN
	w.u8(0)       // GPE1_BASE
	w.u8(0)       // CST_CNT
	w.u16(0x0FFF) // P_LVL2_LAT: > 100, no C2
	w.u16(0x0FFF) // P_LVL3_LAT: > 1000, no C3
	w.u16(0)      // FLUSH_SIZE
	w.u16(0)      // FLUSH_STRIDE
	w.u8(0)       // DUTY_OFFSET
	w.u8(0)       // DUTY_WIDTH
	w.u8(0)       // DAY_ALRM
	w.u8(0)       // MON_ALRM
	w.u8(0x32)    // CENTURY: the RTC's CMOS index
	w.u16(bootArchLegacyDevices | bootArch8042 | bootArchNoVGA)
	w.u8(0) // Reserved
	w.u32(fadtWBINVD | fadtProcC1 | fadtPwrButton | fadtSlpButton | fadtFixRTC | fadtResetRegSup)
	w.gas(gasSystemIO, 8, 0, gasAccessByte, ACPIResetPort) // RESET_REG
	w.u8(ACPIResetValue)
	w.u16(0)                                                               // ARM_BOOT_ARCH
	w.u8(0)                                                                // FADT Minor Version: 6.0
	w.u64(facs)                                                            // X_FIRMWARE_CTRL
	w.u64(dsdt)                                                            // X_DSDT
	w.gas(gasSystemIO, 8*ACPIPM1EvtLen, 0, gasAccessAny, ACPIPM1aEvtPort)  // X_PM1a_EVT_BLK
	w.gas(0, 0, 0, 0, 0)                                                   // X_PM1b_EVT_BLK
	w.gas(gasSystemIO, 8*ACPIPM1CntLen, 0, gasAccessAny, ACPIPM1aCntPort)  // X_PM1a_CNT_BLK
	w.gas(0, 0, 0, 0, 0)                                                   // X_PM1b_CNT_BLK
	w.gas(0, 0, 0, 0, 0)                                                   // X_PM2_CNT_BLK
	w.gas(gasSystemIO, 8*ACPIPMTimerLen, 0, gasAccessAny, ACPIPMTimerPort) // X_PM_TMR_BLK
	w.gas(0, 0, 0, 0, 0)                                                   // X_GPE0_BLK
	w.gas(0, 0, 0, 0, 0)                                                   // X_GPE1_BLK
	w.gas(0, 0, 0, 0, 0)                                                   // SLEEP_CONTROL_REG (hardware-reduced only)
	w.gas(0, 0, 0, 0, 0)                                                   // SLEEP_STATUS_REG
	w.u64(0)                                                               // Hypervisor Vendor Identity
	return acpiSeal(w.b)
}

// MADT structure types (§5.2.12) and MPS INTI flags.
const (
	madtPCATCompat     = 1 << 0
	madtLocalAPIC      = 0
	madtIOAPIC         = 1
	madtSourceOverride = 2
	madtLocalAPICNMI   = 4
	madtEnabled        = 1 << 0

	intiActiveHigh = 0x1 // polarity, bits 1:0
	intiLevel      = 0xC // trigger mode, bits 3:2
)

// buildMADT describes the local APICs, the IOAPIC with GSIs 0–23, the ISA
// IRQ overrides (IRQ 0 on pin 2; the SCI and cfg.LevelIRQs level, active
// high) and LINT1 as NMI on every processor (§5.2.12).
func buildMADT(cfg ACPIConfig, cpus int) []byte {
	var w acpiWriter
	w.header("APIC", 5)
	w.u32(acpiLAPICAddr)
	w.u32(madtPCATCompat) // the 8259s are present
	for i := range cpus {
		w.u8(madtLocalAPIC) // §5.2.12.2
		w.u8(8)
		w.u8(uint8(i)) // ACPI Processor UID
		w.u8(uint8(i)) // APIC ID
		w.u32(madtEnabled)
	}
	w.u8(madtIOAPIC) // §5.2.12.3
	w.u8(12)
	w.u8(cfg.IOAPICID)
	w.u8(0)
	w.u32(acpiIOAPICAddr)
	w.u32(0)                                                // Global System Interrupt Base
	override := func(irq uint8, gsi uint32, flags uint16) { // §5.2.12.5
		w.u8(madtSourceOverride)
		w.u8(10)
		w.u8(0) // Bus: ISA
		w.u8(irq)
		w.u32(gsi)
		w.u16(flags)
	}
	override(0, 2, 0) // conforms to ISA: edge, active high
	level := map[uint8]bool{ACPISCIIRQ: true}
	for _, irq := range cfg.LevelIRQs {
		level[irq] = true
	}
	irqs := make([]int, 0, len(level))
	for irq := range level {
		irqs = append(irqs, int(irq))
	}
	sort.Ints(irqs)
	for _, irq := range irqs {
		override(uint8(irq), uint32(irq), intiLevel|intiActiveHigh)
	}
	w.u8(madtLocalAPICNMI) // §5.2.12.7
	w.u8(6)
	w.u8(0xFF) // all processors
	w.u16(0)   // conforms: edge, active high
	w.u8(1)    // LINT1
	return acpiSeal(w.b)
}

// buildDSDT writes the DSDT (§5.2.11.1) with a revision of 2 (64-bit
// integers) and this namespace (ACPI 6.4 §6.1, §6.2, §7.4.2):
//
//	\_S5_   Package {SLP_TYPa, SLP_TYPb, 0, 0}
//	\_SB_.C000…  processors, _HID "ACPI0007", _UID = MADT Processor UID
//	\_SB_.COM1   PNP0501, IO 0x3F8/8, IRQ 4
//	\_SB_.RTC_   PNP0B00, IO 0x70/2, IRQ 8
//	\_SB_.TMR_   PNP0100, IO 0x40/4, IRQ 0
//	\_SB_.PIC_   PNP0000, IO 0x20/2 and 0xA0/2, IRQ 2
//	\_SB_.KBD_   PNP0303, IO 0x60/1 and 0x64/1, IRQ 1
//	\_SB_.VR00…  LNRO0005 (virtio-mmio), Memory32Fixed and Interrupt
func buildDSDT(cfg ACPIConfig, cpus int) ([]byte, error) {
	var body []byte
	body = append(body, amlName(`\_S5_`, amlPackage(
		amlInteger(ACPIS5SleepType), amlInteger(ACPIS5SleepType), amlInteger(0), amlInteger(0)))...)

	var sb [][]byte
	for i := range cpus {
		sb = append(sb, amlDevice(fmt.Sprintf("C%03X", i),
			amlName("_HID", amlString("ACPI0007")),
			amlName("_UID", amlInteger(uint64(i)))))
	}
	isa := func(name, hid string, uid uint64, res ...[]byte) []byte {
		return amlDevice(name,
			amlName("_HID", amlInteger(uint64(amlEISAID(hid)))),
			amlName("_UID", amlInteger(uid)),
			amlName("_CRS", amlResourceTemplate(res...)))
	}
	sb = append(sb,
		isa("COM1", "PNP0501", 1, resIO(0x3F8, 8), resIRQ(4)),
		isa("RTC_", "PNP0B00", 0, resIO(0x70, 2), resIRQ(8)),
		isa("TMR_", "PNP0100", 0, resIO(0x40, 4), resIRQ(0)),
		isa("PIC_", "PNP0000", 0, resIO(0x20, 2), resIO(0xA0, 2), resIRQ(2)),
		isa("KBD_", "PNP0303", 0, resIO(0x60, 1), resIO(0x64, 1), resIRQ(1)),
	)
	if cfg.PCI != nil {
		dev, err := pciHostBridgeAML(*cfg.PCI)
		if err != nil {
			return nil, err
		}
		sb = append(sb, dev)
	}
	if len(cfg.VirtioMMIO) > 0x100 {
		return nil, fmt.Errorf("ACPI: %d virtio-mmio devices, at most 256", len(cfg.VirtioMMIO))
	}
	for i, d := range cfg.VirtioMMIO {
		sb = append(sb, amlDevice(fmt.Sprintf("VR%02X", i),
			amlName("_HID", amlString("LNRO0005")),
			amlName("_UID", amlInteger(uint64(i))),
			amlName("_CRS", amlResourceTemplate(
				resMemory32Fixed(uint32(d.Base), uint32(d.Size)),
				resInterrupt(d.GSI)))))
	}
	body = append(body, amlScope(`\_SB_`, sb...)...)

	var w acpiWriter
	w.header("DSDT", 2)
	w.b = append(w.b, body...)
	return acpiSeal(w.b), nil
}

// A minimal AML encoder (ACPI 6.4 §20.2). Names are given as in ASL, with
// segments of exactly four characters: "_HID", `\_SB_`, `\_SB_.COM1`.

const (
	amlZeroOp          = 0x00
	amlOneOp           = 0x01
	amlNameOp          = 0x08
	amlBytePrefix      = 0x0A
	amlWordPrefix      = 0x0B
	amlDWordPrefix     = 0x0C
	amlStringPrefix    = 0x0D
	amlQWordPrefix     = 0x0E
	amlScopeOp         = 0x10
	amlBufferOp        = 0x11
	amlPackageOp       = 0x12
	amlExtOpPrefix     = 0x5B
	amlDeviceOp        = 0x82 // after ExtOpPrefix
	amlDualNamePrefix  = 0x2E
	amlMultiNamePrefix = 0x2F
	amlRootChar        = '\\'
)

// amlPkgLength encodes the PkgLength of n bytes that follow it; the
// encoded length counts its own bytes (§20.2.4): one byte up to 63, else a
// lead byte with the count of following bytes in bits 7:6 and the low
// nibble in bits 3:0.
func amlPkgLength(n int) []byte {
	if n+1 < 1<<6 {
		return []byte{byte(n + 1)}
	}
	for k := 1; k <= 3; k++ {
		total := n + 1 + k
		if total < 1<<(4+8*k) {
			b := []byte{byte(k<<6) | byte(total&0xF)}
			for i := range k {
				b = append(b, byte(total>>(4+8*i)))
			}
			return b
		}
	}
	panic(fmt.Sprintf("AML: package of %d bytes is too long", n))
}

// amlPkg is op, then a PkgLength over body, then body.
func amlPkg(op []byte, body []byte) []byte {
	out := append([]byte{}, op...)
	out = append(out, amlPkgLength(len(body))...)
	return append(out, body...)
}

// amlNameString encodes a name path (§20.2.2). It panics on a malformed
// name: they are constants of this file.
func amlNameString(path string) []byte {
	var out []byte
	if len(path) > 0 && path[0] == amlRootChar {
		out = append(out, amlRootChar)
		path = path[1:]
	}
	var segs []string
	for len(path) > 0 {
		if len(path) < 4 || (len(path) > 4 && path[4] != '.') {
			panic("AML: bad name " + path)
		}
		seg := path[:4]
		for i := 0; i < 4; i++ {
			c := seg[i]
			if !(c == '_' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
				panic("AML: bad name segment " + seg)
			}
		}
		segs = append(segs, seg)
		path = path[min(5, len(path)):]
	}
	switch len(segs) {
	case 0:
		out = append(out, 0) // NullName
	case 1:
	case 2:
		out = append(out, amlDualNamePrefix)
	default:
		out = append(out, amlMultiNamePrefix, byte(len(segs)))
	}
	for _, s := range segs {
		out = append(out, s...)
	}
	return out
}

// amlInteger encodes an integer in the shortest form (§20.2.3).
func amlInteger(v uint64) []byte {
	switch {
	case v == 0:
		return []byte{amlZeroOp}
	case v == 1:
		return []byte{amlOneOp}
	case v <= 0xFF:
		return []byte{amlBytePrefix, byte(v)}
	case v <= 0xFFFF:
		return binary.LittleEndian.AppendUint16([]byte{amlWordPrefix}, uint16(v))
	case v <= 0xFFFFFFFF:
		return binary.LittleEndian.AppendUint32([]byte{amlDWordPrefix}, uint32(v))
	}
	return binary.LittleEndian.AppendUint64([]byte{amlQWordPrefix}, v)
}

// amlString encodes an ASCII string constant (§20.2.3).
func amlString(s string) []byte {
	out := append([]byte{amlStringPrefix}, s...)
	return append(out, 0)
}

// amlName is DefName: Name (name, object) (§20.2.5.1).
func amlName(name string, obj []byte) []byte {
	out := append([]byte{amlNameOp}, amlNameString(name)...)
	return append(out, obj...)
}

// amlScope is DefScope (§20.2.5.1).
func amlScope(name string, terms ...[]byte) []byte {
	body := amlNameString(name)
	for _, t := range terms {
		body = append(body, t...)
	}
	return amlPkg([]byte{amlScopeOp}, body)
}

// amlDevice is DefDevice (§20.2.5.2).
func amlDevice(name string, terms ...[]byte) []byte {
	body := amlNameString(name)
	for _, t := range terms {
		body = append(body, t...)
	}
	return amlPkg([]byte{amlExtOpPrefix, amlDeviceOp}, body)
}

// amlPackage is DefPackage with constant elements (§20.2.5.4).
func amlPackage(elems ...[]byte) []byte {
	body := []byte{byte(len(elems))}
	for _, e := range elems {
		body = append(body, e...)
	}
	return amlPkg([]byte{amlPackageOp}, body)
}

// amlBuffer is DefBuffer with a constant size and initializer (§20.2.5.4).
func amlBuffer(data []byte) []byte {
	body := append(amlInteger(uint64(len(data))), data...)
	return amlPkg([]byte{amlBufferOp}, body)
}

// amlEISAID compresses a PNP ID such as "PNP0501" into the 32-bit EISA ID
// that ASL's EISAID() produces (§19.6.35): three letters of five bits and
// four hex digits, stored in that order from the lowest byte up.
func amlEISAID(id string) uint32 {
	if len(id) != 7 {
		panic("AML: bad EISA ID " + id)
	}
	l := func(c byte) uint32 { return uint32(c-'@') & 0x1F }
	h := func(c byte) uint32 {
		switch {
		case c >= '0' && c <= '9':
			return uint32(c - '0')
		case c >= 'A' && c <= 'F':
			return uint32(c-'A') + 10
		}
		panic("AML: bad EISA ID " + id)
	}
	b0 := l(id[0])<<2 | l(id[1])>>3
	b1 := (l(id[1])&7)<<5 | l(id[2])
	b2 := h(id[3])<<4 | h(id[4])
	b3 := h(id[5])<<4 | h(id[6])
	return b0 | b1<<8 | b2<<16 | b3<<24
}

// Resource data (§6.4): each returns one descriptor; amlResourceTemplate
// ends the list and wraps it in a Buffer.

// resIO is an I/O Port descriptor, 16-bit decode, fixed at port (§6.4.2.5).
func resIO(port uint16, length uint8) []byte {
	b := []byte{0x47, 0x01, 0, 0, 0, 0, 0x01, length}
	binary.LittleEndian.PutUint16(b[2:], port)
	binary.LittleEndian.PutUint16(b[4:], port)
	return b
}

// resIRQ is an IRQ descriptor without flags: ISA edge, active high
// (§6.4.2.1).
func resIRQ(irqs ...uint8) []byte {
	var mask uint16
	for _, i := range irqs {
		mask |= 1 << i
	}
	return binary.LittleEndian.AppendUint16([]byte{0x22}, mask)
}

// resMemory32Fixed is a read-write 32-bit fixed memory range (§6.4.3.4).
func resMemory32Fixed(base, size uint32) []byte {
	b := []byte{0x86, 9, 0, 0x01}
	b = binary.LittleEndian.AppendUint32(b, base)
	return binary.LittleEndian.AppendUint32(b, size)
}

// resInterrupt is an Extended Interrupt descriptor for one GSI: consumer,
// level-triggered, active high, exclusive (§6.4.3.6).
func resInterrupt(gsi uint32) []byte {
	b := []byte{0x89, 6, 0, 0x01, 1}
	return binary.LittleEndian.AppendUint32(b, gsi)
}

// amlResourceTemplate appends the End Tag (§6.4.2.9; a zero checksum
// counts as valid) and makes a Buffer of the descriptors.
func amlResourceTemplate(descs ...[]byte) []byte {
	var b []byte
	for _, d := range descs {
		b = append(b, d...)
	}
	return amlBuffer(append(b, 0x79, 0))
}
