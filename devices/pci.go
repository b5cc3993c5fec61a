package devices

import (
	"fmt"
	"sort"
)

// PCI bus 0 of an i440FX/PIIX3 PC, as QEMU's "pc" machine presents it: the
// host bridge at 00:00.0, the PCI-to-ISA bridge at 00:01.0, and devices in
// the other slots, reached through configuration mechanism #1 at ports
// 0xCF8–0xCFF (PCI 3.0 §3.2.2.3.2).
//
// The bus owns the functions' register windows: when the guest programs a
// BAR or flips the command register's I/O or memory enable, it moves the
// window on the port bus or the MMIO bus given at construction. INTx pins
// go through the PIIX3's PIRQ routing to ISA IRQs; MSI and MSI-X messages
// through PCIBusConfig.MSI.
//
// Without a BIOS, AssignResources does what SeaBIOS does before the OS
// runs: program the PIRQ routes, the BARs (in the windows below), the
// interrupt line registers, and enable decoding.
//
// Like the other devices, the bus belongs to one goroutine.

// Windows that AssignResources allocates BARs from, SeaBIOS's on QEMU's
// i440FX with 2–3 GiB of RAM: the 32-bit PCI hole from 0xC0000000 up to
// below the IOAPIC at 0xFEC00000, less 0xFEB00000–0xFEBFFFFF, which is kept
// for platform devices (virtio-mmio), and I/O ports 0xC000–0xFFFF. RAM must
// end below PCIMemBase: the MMIO bus only sees addresses that no RAM backs,
// and the e820 map must not put RAM in the window. The host bridge's ACPI
// _CRS (firmware.PCIHostBridge) declares the same window.
const (
	PCIMemBase  = 0xC0000000
	PCIMemLimit = 0xFEAFFFFF // inclusive
	PCIIOBase   = 0xC000
	PCIIOLimit  = 0xFFFF // inclusive

	// pciMemAlign is the smallest alignment of a memory BAR, as SeaBIOS: a
	// page, so that no two functions share one.
	pciMemAlign = 0x1000
)

// Configuration mechanism #1 (PCI 3.0 §3.2.2.3.2) and the PIIX3 Reset
// Control Register (PIIX3 datasheet, RC register), which shares the dword at
// 0xCF8: byte accesses to 0xCF9 reach it, only dword accesses reach
// CONFIG_ADDRESS.
const (
	PCIConfigAddressPort = 0xCF8
	PCIConfigDataPort    = 0xCFC
	PCIResetControlPort  = 0xCF9
	pciPortsSize         = 8

	pciConfigEnable   = 1 << 31
	pciConfigAddrMask = 0x80FFFFFC // bits 30:24 and 1:0 are reserved, read 0

	rcrSystemReset = 1 << 1 // SYS_RST: hard reset on the next RST_CPU
	rcrResetCPU    = 1 << 2 // RST_CPU: 0→1 resets
)

// PCIDefaultPIRQs are the ISA IRQs that SeaBIOS routes PIRQA–PIRQD to on
// QEMU's i440FX (pciinit.c, pci_irqs), and AssignResources too.
var PCIDefaultPIRQs = [4]uint8{10, 10, 11, 11}

// PCIFunction is one function of a PCI device: the bus serves the guest's
// configuration cycles from its configuration space.
type PCIFunction interface {
	PCIConfig() *PCIConfigSpace
}

// PCIBusConfig says what the bus is wired to.
type PCIBusConfig struct {
	PIO  *Bus // port I/O: 0xCF8–0xCFF and the I/O BARs
	MMIO *Bus // memory-mapped I/O: the memory BARs
	// IRQ receives the ISA interrupt lines that PCI INTx is routed to (the
	// machine's fan-out to the 8259s and the IOAPIC); nil drops them.
	IRQ IRQSink
	// MSI performs message writes (MSI, MSI-X) to the local APICs; wire it to
	// MSIToAPIC(lapic). nil drops them.
	MSI func(addr uint64, data uint32)
	// Reset is the PIIX3 reset control register's reset (a write of 1 to
	// bit 2 of port 0xCF9: Linux's reboot=pci); nil ignores it.
	Reset func()
	// Log receives reports of bad programming by the guest (a BAR over
	// another device, an MSI to a bad address); nil: silent.
	Log func(format string, args ...any)
}

// PCIBus is bus 0. It implements Device for the configuration ports.
type PCIBus struct {
	cfg   PCIBusConfig
	addr  uint32 // CONFIG_ADDRESS
	rcr   uint8  // reset control register
	slots [256]*pciSlot

	Host *I440FX // 00:00.0
	ISA  *PIIX3  // 00:01.0

	pirqAsserted [4]int   // functions asserting each PIRQ line
	isaLevel     [16]bool // ISA IRQ levels last sent
}

// pciSlot is a function on the bus and the windows its BARs hold now.
type pciSlot struct {
	devfn uint8
	fn    PCIFunction
	cs    *PCIConfigSpace
	maps  [6]pciMapping
}

// pciMapping is where a BAR's window is registered; bus nil: nowhere.
type pciMapping struct {
	bus        *Bus
	base, size uint64
}

// NewPCIBus builds bus 0 with its host bridge and ISA bridge and maps the
// configuration ports on cfg.PIO.
func NewPCIBus(cfg PCIBusConfig) (*PCIBus, error) {
	if cfg.PIO == nil || cfg.MMIO == nil {
		return nil, fmt.Errorf("PCI: the bus needs a port bus and an MMIO bus")
	}
	b := &PCIBus{cfg: cfg}
	b.Host = newI440FX()
	b.ISA = newPIIX3(b)
	if err := b.Add(0, 0, b.Host); err != nil {
		return nil, err
	}
	if err := b.Add(1, 0, b.ISA); err != nil {
		return nil, err
	}
	if err := cfg.PIO.Register(PCIConfigAddressPort, pciPortsSize, "pci-config", b); err != nil {
		return nil, err
	}
	return b, nil
}

// PCIDevFn packs a device (slot) and function number as PCI does: device in
// bits 7:3, function in bits 2:0.
func PCIDevFn(slot, fn int) uint8 { return uint8(slot<<3 | fn) }

// pciName formats bus 0, slot and function as Linux prints them.
func pciName(devfn uint8) string { return fmt.Sprintf("00:%02x.%d", devfn>>3, devfn&7) }

// Add puts f at slot (0–31), function fn (0–7). A function other than 0
// needs function 0 present and marked multi-function, or an OS will not
// find it. The function's BARs are mapped at once if its configuration
// space already enables them.
func (b *PCIBus) Add(slot, fn int, f PCIFunction) error {
	if slot < 0 || slot > 31 || fn < 0 || fn > 7 {
		return fmt.Errorf("PCI: no slot %d function %d", slot, fn)
	}
	devfn := PCIDevFn(slot, fn)
	cs := f.PCIConfig()
	switch {
	case cs == nil:
		return fmt.Errorf("PCI %s: no configuration space", pciName(devfn))
	case b.slots[devfn] != nil:
		return fmt.Errorf("PCI %s: slot taken", pciName(devfn))
	case cs.intx != nil || cs.name != "":
		return fmt.Errorf("PCI %s: function is already on a bus", pciName(devfn))
	case fn != 0 && (b.slots[PCIDevFn(slot, 0)] == nil ||
		b.slots[PCIDevFn(slot, 0)].cs.Get8(PCIHeaderType)&pciHeaderMultiFunction == 0):
		return fmt.Errorf("PCI %s: function 0 of the slot is absent or not multi-function", pciName(devfn))
	}
	s := &pciSlot{devfn: devfn, fn: f, cs: cs}
	b.slots[devfn] = s
	cs.name = pciName(devfn)
	cs.logf = b.cfg.Log
	cs.msi = b.cfg.MSI
	cs.intx = func(level bool) { b.setINTx(s, level) }
	if cs.intxLine { // asserted before it was plugged in
		b.setINTx(s, true)
	}
	b.remap(s)
	return nil
}

// AddDevice puts f at function 0 of the lowest free slot from 2 up (QEMU's
// i440FX puts its first device there) and returns the slot.
func (b *PCIBus) AddDevice(f PCIFunction) (int, error) {
	for slot := 2; slot < 32; slot++ {
		empty := true
		for fn := range 8 {
			if b.slots[PCIDevFn(slot, fn)] != nil {
				empty = false
			}
		}
		if empty {
			return slot, b.Add(slot, 0, f)
		}
	}
	return 0, fmt.Errorf("PCI: no free slot")
}

// Function returns the function at slot and fn, or nil.
func (b *PCIBus) Function(slot, fn int) PCIFunction {
	if slot < 0 || slot > 31 || fn < 0 || fn > 7 {
		return nil
	}
	if s := b.slots[PCIDevFn(slot, fn)]; s != nil {
		return s.fn
	}
	return nil
}

// Slots returns the device numbers that hold a function, in order (for the
// $PIR table and the ACPI _PRT).
func (b *PCIBus) Slots() []int {
	var out []int
	for slot := range 32 {
		for fn := range 8 {
			if b.slots[PCIDevFn(slot, fn)] != nil {
				out = append(out, slot)
				break
			}
		}
	}
	return out
}

// Read serves the configuration ports (offsets from 0xCF8). Accesses that
// reach no register read all ones, as on an ISA bus.
func (b *PCIBus) Read(offset uint64, data []byte) {
	switch {
	case offset == 0 && len(data) == 4:
		putLittleEndian(data, uint64(b.addr))
	case offset == 1 && len(data) == 1:
		data[0] = b.rcr
	case offset >= 4:
		b.dataAccess(int(offset-4), data, false)
	default:
		fillOnes(data)
	}
}

// Write serves the configuration ports.
func (b *PCIBus) Write(offset uint64, data []byte) {
	switch {
	case offset == 0 && len(data) == 4:
		b.addr = uint32(littleEndian(data)) & pciConfigAddrMask
	case offset == 1 && len(data) == 1:
		// PIIX3 RC register: RST_CPU resets, SYS_RST picks hard or soft; QEMU
		// resets the machine either way, and so do we.
		if data[0]&rcrResetCPU != 0 && b.cfg.Reset != nil {
			b.cfg.Reset()
		}
		b.rcr = data[0] & rcrSystemReset
	case offset >= 4:
		b.dataAccess(int(offset-4), data, true)
	}
}

// dataAccess is an access to CONFIG_DATA at byte lane lane (0–3) for the
// function and register that CONFIG_ADDRESS selects. Without the enable
// bit, on a bus other than 0 or at an absent function, reads return all
// ones and writes vanish (PCI 3.0 §3.2.2.3.2: master abort).
func (b *PCIBus) dataAccess(lane int, data []byte, write bool) {
	a := b.addr
	if a&pciConfigEnable == 0 || a>>16&0xFF != 0 {
		if !write {
			fillOnes(data)
		}
		return
	}
	reg := int(a&0xFC) + lane
	if write {
		b.writeConfig(uint8(a>>8), reg, data)
	} else {
		b.readConfig(uint8(a>>8), reg, data)
	}
}

func (b *PCIBus) readConfig(devfn uint8, reg int, data []byte) {
	s := b.slots[devfn]
	if s == nil {
		fillOnes(data)
		return
	}
	s.cs.guestRead(reg, data)
}

func (b *PCIBus) writeConfig(devfn uint8, reg int, data []byte) {
	s := b.slots[devfn]
	if s == nil {
		return
	}
	s.cs.guestWrite(reg, data)
	if pciOverlaps(reg, len(data), PCICommand, 2) || pciOverlaps(reg, len(data), PCIBAR0, 24) {
		b.remap(s)
	}
}

// ConfigRead reads size (1, 2 or 4) bytes at reg of slot, fn as the guest
// would; an absent function reads all ones.
func (b *PCIBus) ConfigRead(slot, fn, reg, size int) uint32 {
	var buf [4]byte
	data := buf[:min(max(size, 1), 4)]
	if slot < 0 || slot > 31 || fn < 0 || fn > 7 {
		return 0xFFFFFFFF >> (32 - 8*len(data))
	}
	b.readConfig(PCIDevFn(slot, fn), reg, data)
	return uint32(littleEndian(data))
}

// ConfigWrite writes size (1, 2 or 4) bytes at reg of slot, fn as the
// guest would.
func (b *PCIBus) ConfigWrite(slot, fn, reg, size int, v uint32) {
	if slot < 0 || slot > 31 || fn < 0 || fn > 7 {
		return
	}
	var buf [4]byte
	data := buf[:min(max(size, 1), 4)]
	putLittleEndian(data, uint64(v))
	b.writeConfig(PCIDevFn(slot, fn), reg, data)
}

// remap moves each BAR window of s to where its registers and the command
// register say it decodes. A window that cannot be registered (it overlaps
// another device) stays unmapped and is logged.
func (b *PCIBus) remap(s *pciSlot) {
	for i := range s.maps {
		bar := s.cs.BAR(i)
		var want pciMapping
		if base, ok := s.cs.barWindow(i); ok {
			want = pciMapping{bus: b.cfg.MMIO, base: base, size: bar.Size}
			if bar.Kind == PCIBARIO {
				want.bus = b.cfg.PIO
			}
		}
		cur := &s.maps[i]
		if *cur == want {
			continue
		}
		if cur.bus != nil {
			if err := cur.bus.Unregister(cur.base, cur.size); err != nil {
				s.cs.log("BAR %d: %v", i, err)
			}
			*cur = pciMapping{}
		}
		if want.bus == nil {
			continue
		}
		name := bar.Name
		if name == "" {
			name = fmt.Sprintf("pci-%s-bar%d", s.cs.name, i)
		}
		if err := want.bus.Register(want.base, want.size, name, bar.Dev); err != nil {
			s.cs.log("BAR %d not mapped: %v", i, err)
			continue
		}
		*cur = want
	}
}

// BARMapped reports where BAR i of slot, fn is mapped now: its base, and
// false if it decodes nowhere.
func (b *PCIBus) BARMapped(slot, fn, i int) (uint64, bool) {
	if slot < 0 || slot > 31 || fn < 0 || fn > 7 || i < 0 || i > 5 {
		return 0, false
	}
	s := b.slots[PCIDevFn(slot, fn)]
	if s == nil || s.maps[i].bus == nil {
		return 0, false
	}
	return s.maps[i].base, true
}

// pciPIRQ is the PIRQ line (0–3 for PIRQA–D) that pin (1–4 for INTA#–
// INTD#) of a device in slot reaches on QEMU's i440FX: the pins rotate by
// slot (QEMU pci_slot_get_pirq, SeaBIOS $PIR table), so that INTA# of slot 1
// is PIRQA and INTA# of slot 2 is PIRQB.
func pciPIRQ(slot int, pin uint8) int { return (slot + int(pin) - 2) & 3 }

// setINTx records the INTx line of s and updates the ISA IRQs.
func (b *PCIBus) setINTx(s *pciSlot, level bool) {
	pin := s.cs.Get8(PCIInterruptPin)
	if pin < 1 || pin > 4 {
		return
	}
	p := pciPIRQ(int(s.devfn>>3), pin)
	if level {
		b.pirqAsserted[p]++
	} else if b.pirqAsserted[p] > 0 {
		b.pirqAsserted[p]--
	}
	b.updateIRQs()
}

// updateIRQs drives each ISA IRQ as the OR of the PIRQ lines routed to it:
// PCI interrupts are level-triggered and shareable (PCI 3.0 §2.2.6).
func (b *PCIBus) updateIRQs() {
	var want [16]bool
	for p, n := range b.pirqAsserted {
		if irq, ok := b.ISA.Route(p); ok && n > 0 {
			want[irq] = true
		}
	}
	for irq, level := range want {
		if level != b.isaLevel[irq] {
			b.isaLevel[irq] = level
			if b.cfg.IRQ != nil {
				b.cfg.IRQ.SetIRQ(irq, level)
			}
		}
	}
}

// IRQ returns the ISA IRQ that pin (1–4) of a device in slot is routed to
// now, or -1.
func (b *PCIBus) IRQ(slot int, pin uint8) int {
	if pin < 1 || pin > 4 {
		return -1
	}
	if irq, ok := b.ISA.Route(pciPIRQ(slot, pin)); ok {
		return irq
	}
	return -1
}

// AssignResources programs the bus as SeaBIOS does on QEMU (pciinit.c),
// for an OS started without a BIOS: PIRQA–D routed to PCIDefaultPIRQs; every
// BAR given an address, largest first and naturally aligned (memory BARs to
// at least a page), in PCIMemBase–PCIMemLimit (32- and 64-bit alike) or
// PCIIOBase–PCIIOLimit; each interrupt line register set to the IRQ its pin
// is routed to; I/O and memory decoding and SERR enabled. The OS may move
// the BARs afterwards. It fails if the windows are too small or a BAR
// cannot be mapped.
func (b *PCIBus) AssignResources() error {
	for p, irq := range PCIDefaultPIRQs {
		b.ConfigWrite(1, 0, piixPIRQRC+p, 1, uint32(irq))
	}

	type req struct {
		s    *pciSlot
		bar  int
		kind PCIBARKind
		size uint64
	}
	var reqs []req
	for _, s := range b.slots {
		if s == nil {
			continue
		}
		for i := range 6 {
			if bar := s.cs.BAR(i); bar.Kind != PCIBARUnused {
				reqs = append(reqs, req{s, i, bar.Kind, bar.Size})
			}
		}
	}
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].size > reqs[j].size })
	io, mem := uint64(PCIIOBase), uint64(PCIMemBase)
	for _, r := range reqs {
		next, limit, align := &mem, uint64(PCIMemLimit), max(r.size, pciMemAlign)
		if r.kind == PCIBARIO {
			next, limit, align = &io, PCIIOLimit, r.size
		}
		base := (*next + align - 1) &^ (align - 1)
		if base < *next || base+r.size-1 > limit || base+r.size-1 < base {
			return fmt.Errorf("PCI %s: BAR %d (%s, %#x bytes) does not fit in the window", r.s.cs.name, r.bar, r.kind, r.size)
		}
		*next = base + r.size
		slot, fn := int(r.s.devfn>>3), int(r.s.devfn&7)
		reg := PCIBAR0 + 4*r.bar
		b.ConfigWrite(slot, fn, reg, 4, uint32(base))
		if r.kind == PCIBARMem64 {
			b.ConfigWrite(slot, fn, reg+4, 4, uint32(base>>32))
		}
	}
	for _, s := range b.slots {
		if s == nil {
			continue
		}
		slot, fn := int(s.devfn>>3), int(s.devfn&7)
		if pin := s.cs.Get8(PCIInterruptPin); pin >= 1 && pin <= 4 {
			line := b.IRQ(slot, pin)
			if line < 0 {
				line = 0xFF // "unknown or no connection" (PCI 3.0 §6.2.4)
			}
			b.ConfigWrite(slot, fn, PCIInterruptLine, 1, uint32(line))
		}
		cmd := uint32(s.cs.Get16(PCICommand)) | PCICommandIO | PCICommandMemory | PCICommandSERR
		b.ConfigWrite(slot, fn, PCICommand, 2, cmd)
	}
	for _, r := range reqs {
		if r.s.maps[r.bar].bus == nil {
			return fmt.Errorf("PCI %s: BAR %d at %#x could not be mapped (it overlaps another device)", r.s.cs.name, r.bar, r.s.cs.BARAddress(r.bar))
		}
	}
	return nil
}

func fillOnes(data []byte) {
	for i := range data {
		data[i] = 0xFF
	}
}
