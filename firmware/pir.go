package firmware

import (
	"encoding/binary"
	"fmt"
)

// The $PIR PCI IRQ routing table (Microsoft, "PCI IRQ Routing Table
// Specification" 1.0), which an OS without ACPI (Linux acpi=off, its
// arch/x86/pci/irq.c) finds by scanning 0xF0000–0xFFFFF on 16-byte
// boundaries. It names the interrupt router — the PIIX3 at 00:01.0, whose
// registers 0x60–0x63 route PIRQA–D to ISA IRQs — and, for each slot, the
// router register ("link") that each of its INTA#–INTD# pins reaches and
// the IRQs that link can take. The wiring is QEMU's i440FX (SeaBIOS's
// pirtable.c): pin INTx# of slot S reaches PIRQ (S - 1 + x) mod 4, with x
// 0 for INTA#.
//
// Layout (spec §4.2): a 32-byte header, then 16 bytes per slot.
//
//	+0  "$PIR"
//	+4  u16 version 0x0100          +6  u16 table size
//	+8  u8  router's bus            +9  u8  router's devfn
//	+10 u16 IRQs for PCI only       +12 u32 compatible router (vendor | device<<16)
//	+16 u32 miniport data           +20 11 reserved bytes
//	+31 u8  checksum (all bytes sum to 0)
//
//	slot entry: +0 bus, +1 devfn (device<<3), then for INTA#–INTD# a link
//	byte and a u16 IRQ bitmap (+2, +5, +8, +11), +14 slot number (0:
//	embedded), +15 reserved.

// PIRBase is where the machine puts the table: 16-byte aligned in the BIOS
// area 0xF0000–0xFFFFF (reserved in the memory map), in the part of the
// built-in BIOS image that holds no code (0xF0C90–0xFE05A is padding). The
// table is written after the BIOS image, if any, is installed.
const PIRBase = 0xFD000

// PIRMaxSize bounds the table: the header and 32 slots.
const PIRMaxSize = pirHeaderLen + 32*pirSlotLen

// Interrupt router facts; they mirror devices (PCIDevicePIIX3 at 00:01.0,
// the PIRQRC registers, the IRQs they accept), which firmware does not
// import.
const (
	pirVersion       = 0x0100
	pirHeaderLen     = 32
	pirSlotLen       = 16
	pirRouterDevFn   = 1 << 3 // 00:01.0
	pirRouterVendor  = 0x8086
	pirRouterDevice  = 0x7000 // PIIX3; Linux's "PIIX/ICH" router
	pirLinkBase      = 0x60   // PIRQRC[A] config register: the link value of PIRQA
	PIRDefaultIRQMap = 0xDEF8 // IRQ 3–7, 9–12, 14, 15: what the PIIX3 can route to
)

// PIRConfig says what the table describes.
type PIRConfig struct {
	// Slots are the device numbers on bus 0 to describe (1–31); nil means
	// 1–31. Slot 1, the router's own, is marked embedded.
	Slots []int
	// IRQMap is the bitmap of ISA IRQs each link can take; 0 means
	// PIRDefaultIRQMap.
	IRQMap uint16
	// ExclusiveIRQs are IRQs dedicated to PCI (usually none).
	ExclusiveIRQs uint16
}

// BuildPIR returns the table, its checksum set.
func BuildPIR(cfg PIRConfig) ([]byte, error) {
	slots := cfg.Slots
	if slots == nil {
		for s := 1; s < 32; s++ {
			slots = append(slots, s)
		}
	}
	irqMap := cfg.IRQMap
	if irqMap == 0 {
		irqMap = PIRDefaultIRQMap
	}
	if irqMap&0x0007 != 0 || irqMap&cfg.ExclusiveIRQs != cfg.ExclusiveIRQs {
		return nil, fmt.Errorf("$PIR: IRQ map %#x must leave out IRQs 0–2 and include the exclusive IRQs %#x", irqMap, cfg.ExclusiveIRQs)
	}
	seen := map[int]bool{}
	for _, s := range slots {
		if s < 1 || s > 31 || seen[s] {
			return nil, fmt.Errorf("$PIR: slot %d is not a distinct device number from 1 to 31", s)
		}
		seen[s] = true
	}

	size := pirHeaderLen + pirSlotLen*len(slots)
	t := make([]byte, size)
	le := binary.LittleEndian
	copy(t, "$PIR")
	le.PutUint16(t[4:], pirVersion)
	le.PutUint16(t[6:], uint16(size))
	t[8] = 0 // router on bus 0
	t[9] = pirRouterDevFn
	le.PutUint16(t[10:], cfg.ExclusiveIRQs)
	le.PutUint32(t[12:], pirRouterVendor|pirRouterDevice<<16)
	for i, s := range slots {
		e := t[pirHeaderLen+i*pirSlotLen:]
		e[0] = 0 // bus
		e[1] = byte(s << 3)
		for pin := range 4 {
			e[2+3*pin] = pirLinkBase + byte((s-1+pin)&3)
			le.PutUint16(e[3+3*pin:], irqMap)
		}
		if s != 1 {
			e[14] = byte(s)
		}
	}
	t[31] = -acpiSum(t)
	return t, nil
}
