package devices

// The two chipset functions of QEMU's "pc" machine: the Intel 440FX host
// bridge (PMC) at 00:00.0 and the PIIX3 PCI-to-ISA bridge at 00:01.0, with
// the identities and reset values QEMU gives them (hw/pci-host/i440fx.c,
// hw/isa/piix3.c).
//
// References: Intel 440FX PCIset datasheet (order 290549), host bridge
// configuration registers; Intel 82371FB/SB PIIX/PIIX3 datasheet (order
// 290550), function 0 configuration registers; both cited by register name.

// PCI IDs and chipset registers.
const (
	PCIVendorIntel     = 0x8086
	PCIDeviceI440FX    = 0x1237 // 82441FX PMC
	PCIDevicePIIX3     = 0x7000 // 82371SB PIIX3 function 0, PCI-to-ISA bridge
	PCIVendorRedHat    = 0x1AF4 // QEMU's subsystem vendor
	PCISubsystemQEMU   = 0x1100 // QEMU's subsystem ID
	pciClassHostBridge = 0x060000
	pciClassISABridge  = 0x060100
	i440fxRevision     = 0x02
	i440fxPAM0         = 0x59 // PAM0–PAM6, 0x59–0x5F (440FX)
	i440fxSMRAM        = 0x72 // 440FX SMRAM control
	i440fxSMRAMDefault = 0x02 // C_BASE_SEG: A0000h
	piixPIRQRC         = 0x60 // PIRQRC[A:D], 0x60–0x63 (PIIX3)
	piixPIRQDisable    = 0x80 // IRQINTxRC disable (bit 7)
	piixPIRQWritable   = 0x8F // bits 7 and 3:0; bits 6:4 reserved
	piixDefaultCommand = PCICommandIO | PCICommandMemory | PCICommandMaster
	piixValidIRQs      = 0xDEF8 // IRQ 3–7, 9–12, 14, 15: PIRQRC values 0–2, 8, 13 are reserved
)

// I440FX is the host bridge at 00:00.0. It has no BARs and no interrupt
// pin; its PAM and SMRAM registers (shadow RAM and SMM control, which a BIOS
// programs) are kept as plain storage: the machine has no shadowing to do.
type I440FX struct{ cs *PCIConfigSpace }

func newI440FX() *I440FX {
	cs := NewPCIConfigSpace(PCIID{
		Vendor: PCIVendorIntel, Device: PCIDeviceI440FX, Revision: i440fxRevision,
		Class:           pciClassHostBridge,
		SubsystemVendor: PCIVendorRedHat, Subsystem: PCISubsystemQEMU,
	})
	cs.ReserveConfig(PCIConfigSize)
	cs.SetWritable(i440fxPAM0, 7, 0xFFFFFFFF)
	cs.SetWritable(i440fxPAM0+4, 3, 0xFFFFFF)
	cs.Set8(i440fxSMRAM, i440fxSMRAMDefault)
	return &I440FX{cs: cs}
}

// PCIConfig implements PCIFunction.
func (h *I440FX) PCIConfig() *PCIConfigSpace { return h.cs }

// PIIX3 is the PCI-to-ISA bridge at 00:01.0 (multi-function, as on QEMU,
// where IDE and USB are its functions 1 and 2). Its PIRQ route control
// registers 0x60–0x63 send PCI interrupt lines PIRQA–D to ISA IRQs: bits
// 3:0 hold the IRQ, bit 7 disables the route (the reset value, 80h). Linux
// reads and writes them through its "PIIX/ICH" router when it routes IRQs
// from the $PIR table (acpi=off).
type PIIX3 struct{ cs *PCIConfigSpace }

func newPIIX3(bus *PCIBus) *PIIX3 {
	cs := NewPCIConfigSpace(PCIID{
		Vendor: PCIVendorIntel, Device: PCIDevicePIIX3,
		Class:           pciClassISABridge,
		SubsystemVendor: PCIVendorRedHat, Subsystem: PCISubsystemQEMU,
		MultiFunction: true,
	})
	p := &PIIX3{cs: cs}
	cs.ReserveConfig(PCIConfigSize)
	// QEMU's piix3_reset: decoding and bus mastering on, DEVSEL medium, the
	// ISA bus timing, X-bus and DMA registers at their datasheet defaults.
	cs.Set16(PCICommand, piixDefaultCommand)
	cs.Set16(PCIStatus, PCIStatusDevselMedium)
	for reg, v := range map[int]uint8{
		0x4C: 0x4D, // IORT: ISA I/O recovery timer
		0x4E: 0x03, // XBCS: X-bus chip select
		0x69: 0x02, // TOM: top of memory
		0x70: 0x80, // MBIRQ0: motherboard IRQ route disabled
		0x76: 0x0C, // MBDMA0, MBDMA1
		0x77: 0x0C,
		0x78: 0x02, // PCSC: programmable chip select
		0xA0: 0x08, // SMICNTL
		0xA8: 0x0F, // SEE
	} {
		cs.Set8(reg, v)
	}
	// The device-specific area is writable storage, as QEMU's default
	// wmask; the route registers keep their reserved bits 6:4 at 0.
	for r := PCIHeaderSize; r < PCIConfigSize; r += 4 {
		cs.SetWritable(r, 4, 0xFFFFFFFF)
	}
	for i := range 4 {
		cs.Set8(piixPIRQRC+i, piixPIRQDisable)
	}
	cs.SetWritable(piixPIRQRC, 4, piixPIRQWritable*0x01010101)
	cs.OnWrite(piixPIRQRC, 4, func(int, []byte) { bus.updateIRQs() })
	return p
}

// PCIConfig implements PCIFunction.
func (p *PIIX3) PCIConfig() *PCIConfigSpace { return p.cs }

// Route returns the ISA IRQ that PIRQ line pirq (0–3 for PIRQA–D) is routed
// to, and false if the route is disabled or names a reserved IRQ.
func (p *PIIX3) Route(pirq int) (int, bool) {
	if pirq < 0 || pirq > 3 {
		return 0, false
	}
	v := p.cs.Get8(piixPIRQRC + pirq)
	irq := int(v & 0x0F)
	if v&piixPIRQDisable != 0 || piixValidIRQs&(1<<irq) == 0 {
		return 0, false
	}
	return irq, true
}
