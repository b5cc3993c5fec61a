package devices

import (
	"fmt"
	"math/bits"
)

// The configuration space of one PCI function: the 256 bytes of a type 0
// header and its device-specific area, with a mask of the bits the guest may
// write, a mask of the bits it clears by writing ones, the function's base
// address registers and its capability list. A device model builds one with
// NewPCIConfigSpace, describes its BARs and capabilities, and hands it to the
// bus through PCIFunction; the bus serves the guest's configuration cycles
// from it and moves the BARs' register windows when they are reprogrammed.
//
// Reference: PCI Local Bus Specification 3.0 (PCI 3.0), chapter 6, cited by
// section below.

// PCIConfigSize is the size of a conventional PCI configuration space.
const PCIConfigSize = 256

// Type 0 header registers (PCI 3.0 §6.1, Figure 6-1).
const (
	PCIVendorID            = 0x00
	PCIDeviceID            = 0x02
	PCICommand             = 0x04
	PCIStatus              = 0x06
	PCIRevisionID          = 0x08
	PCIClassCode           = 0x09 // programming interface, subclass, base class
	PCICacheLineSize       = 0x0C
	PCILatencyTimer        = 0x0D
	PCIHeaderType          = 0x0E
	PCIBAR0                = 0x10 // six BARs, 0x10–0x27
	PCISubsystemVendorID   = 0x2C
	PCISubsystemID         = 0x2E
	PCIExpansionROM        = 0x30
	PCICapabilitiesPointer = 0x34
	PCIInterruptLine       = 0x3C
	PCIInterruptPin        = 0x3D

	// PCIHeaderSize is the end of the standard header; capabilities and
	// device-specific registers follow (PCI 3.0 §6.1).
	PCIHeaderSize = 0x40
)

// Command register bits (PCI 3.0 §6.2.2).
const (
	PCICommandIO          = 1 << 0
	PCICommandMemory      = 1 << 1
	PCICommandMaster      = 1 << 2
	PCICommandParity      = 1 << 6
	PCICommandSERR        = 1 << 8
	PCICommandINTxDisable = 1 << 10

	pciCommandWritable = PCICommandIO | PCICommandMemory | PCICommandMaster |
		PCICommandParity | PCICommandSERR | PCICommandINTxDisable
)

// Status register bits (PCI 3.0 §6.2.3). The error bits are cleared by
// writing 1 (RW1C); the others are read-only.
const (
	PCIStatusInterrupt    = 1 << 3
	PCIStatusCapabilities = 1 << 4
	PCIStatusDevselMedium = 1 << 9
	pciStatusW1C          = 0xF900 // bits 8 and 11–15
)

// Capability IDs (PCI 3.0 Appendix H).
const (
	PCICapMSI    = 0x05
	PCICapVendor = 0x09
	PCICapMSIX   = 0x11
)

const pciHeaderMultiFunction = 0x80 // Header Type bit 7 (PCI 3.0 §6.2.1)

// PCIID identifies a function: the read-only registers of its header.
type PCIID struct {
	Vendor, Device uint16
	// Class is the 24-bit class code: base class << 16 | subclass << 8 |
	// programming interface (PCI 3.0 Appendix D).
	Class    uint32
	Revision uint8
	// SubsystemVendor and Subsystem identify the board (PCI 3.0 §6.2.4);
	// QEMU gives its devices 1AF4:1100.
	SubsystemVendor, Subsystem uint16
	// Pin is the interrupt pin: 0 for none, 1–4 for INTA#–INTD# (PCI 3.0
	// §6.2.4).
	Pin uint8
	// MultiFunction sets Header Type bit 7: the device has functions other
	// than 0, which an OS scans only then.
	MultiFunction bool
}

// PCIBARKind says what a base address register decodes (PCI 3.0 §6.2.5.1).
type PCIBARKind uint8

// BAR kinds. A 64-bit memory BAR takes two registers: BAR i holds the low
// half and the type, BAR i+1 the high half.
const (
	PCIBARUnused PCIBARKind = iota
	PCIBARIO
	PCIBARMem32
	PCIBARMem64

	pciBARUpper // the high half of the 64-bit BAR below
)

func (k PCIBARKind) String() string {
	switch k {
	case PCIBARUnused:
		return "unused"
	case PCIBARIO:
		return "io"
	case PCIBARMem32:
		return "mem32"
	case PCIBARMem64:
		return "mem64"
	case pciBARUpper:
		return "mem64-upper"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// PCIBAR describes one base address register and the register window it
// maps.
type PCIBAR struct {
	Kind PCIBARKind
	// Size is a power of two: 4 to 256 bytes for I/O (PCI 3.0 §6.2.5.1 caps
	// an I/O BAR at 256 bytes), at least 16 for memory, at most 2 GiB for a
	// 32-bit memory BAR.
	Size         uint64
	Prefetchable bool   // memory only
	Dev          Device // the window; it sees offsets from the BAR's base
	Name         string // on the bus; "" gives "pci-BB:DD.F-barN"
}

// BAR register low bits (PCI 3.0 §6.2.5.1, Figures 6-5 and 6-6).
const (
	pciBARSpaceIO      = 0x1
	pciBARMemType64    = 0x4
	pciBARPrefetchable = 0x8
	pciBARIOAddrMask   = 0xFFFC // I/O BARs decode 16 bits of address
	pciBARMemAddrMask  = 0xFFFFFFF0
)

// PCIConfigSpace is the configuration space of one function. The device
// model sets it up (Set*, SetWritable, SetBAR, AddCapability) before adding
// the function to the bus; the guest then reaches it through the bus
// (PCIBus.ConfigRead, ConfigWrite and the configuration ports), which
// honours the writable masks and moves the BAR windows.
type PCIConfigSpace struct {
	regs  [PCIConfigSize]byte
	wmask [PCIConfigSize]byte // bits the guest may write
	w1c   [PCIConfigSize]byte // bits the guest clears by writing 1
	bars  [6]PCIBAR
	hooks []pciConfigHook

	capNext int // where the next capability goes
	capLast int // the last capability, whose next pointer links a new one

	// Set by the bus when the function joins it.
	intx func(level bool)               // the function's INTx line
	msi  func(addr uint64, data uint32) // message writes to the APICs
	logf func(format string, args ...any)
	name string // "00:03.0"

	intxRequest bool // the device asserts INTx (Interrupt Status)
	intxLine    bool // what the bus sees, after Interrupt Disable and MSI
	msiOn       bool // MSI enabled: INTx is not used (PCI 3.0 §6.8.1.3)
	msixOn      bool // MSI-X enabled (PCI 3.0 §6.8.2.3)
}

// pciConfigHook runs a device's code for registers [start, end).
type pciConfigHook struct {
	start, end int
	read       func(reg int, data []byte)
	write      func(reg int, data []byte)
}

// NewPCIConfigSpace returns the configuration space of a function with the
// given identity: command register zero (decoding off), no BARs, no
// capabilities, interrupt line 0. The header's writable bits are the
// command register's I/O, memory, bus master, parity, SERR and interrupt
// disable bits, the status register's error bits (RW1C), cache line size,
// latency timer and interrupt line (PCI 3.0 §6.2); the device-specific area
// 0x40–0xFF is read-only until SetWritable says otherwise.
func NewPCIConfigSpace(id PCIID) *PCIConfigSpace {
	c := &PCIConfigSpace{capNext: PCIHeaderSize}
	c.Set16(PCIVendorID, id.Vendor)
	c.Set16(PCIDeviceID, id.Device)
	c.Set8(PCIRevisionID, id.Revision)
	c.Set8(PCIClassCode, uint8(id.Class))
	c.Set16(PCIClassCode+1, uint16(id.Class>>8))
	if id.MultiFunction {
		c.Set8(PCIHeaderType, pciHeaderMultiFunction)
	}
	c.Set16(PCISubsystemVendorID, id.SubsystemVendor)
	c.Set16(PCISubsystemID, id.Subsystem)
	if id.Pin <= 4 {
		c.Set8(PCIInterruptPin, id.Pin)
	}
	c.SetWritable(PCICommand, 2, pciCommandWritable)
	c.w1c[PCIStatus] = pciStatusW1C & 0xFF
	c.w1c[PCIStatus+1] = pciStatusW1C >> 8
	c.SetWritable(PCICacheLineSize, 2, 0xFFFF) // and the latency timer
	c.SetWritable(PCIInterruptLine, 1, 0xFF)
	return c
}

// Get8, Get16 and Get32 read registers as the device sees them (little
// endian; no hooks). Bytes past the end read 0.
func (c *PCIConfigSpace) Get8(reg int) uint8 { return uint8(c.get(reg, 1)) }

// Get16 reads a 16-bit register.
func (c *PCIConfigSpace) Get16(reg int) uint16 { return uint16(c.get(reg, 2)) }

// Get32 reads a 32-bit register.
func (c *PCIConfigSpace) Get32(reg int) uint32 { return c.get(reg, 4) }

func (c *PCIConfigSpace) get(reg, size int) uint32 {
	var v uint32
	for i := range size {
		if r := reg + i; r >= 0 && r < PCIConfigSize {
			v |= uint32(c.regs[r]) << (8 * i)
		}
	}
	return v
}

// Set8, Set16 and Set32 store registers from the device's side: read-only
// bits included, no hooks. Bytes past the end are dropped.
func (c *PCIConfigSpace) Set8(reg int, v uint8) { c.set(reg, 1, uint32(v)) }

// Set16 stores a 16-bit register.
func (c *PCIConfigSpace) Set16(reg int, v uint16) { c.set(reg, 2, uint32(v)) }

// Set32 stores a 32-bit register.
func (c *PCIConfigSpace) Set32(reg int, v uint32) { c.set(reg, 4, v) }

func (c *PCIConfigSpace) set(reg, size int, v uint32) {
	for i := range size {
		if r := reg + i; r >= 0 && r < PCIConfigSize {
			c.regs[r] = byte(v >> (8 * i))
		}
	}
}

// SetWritable sets which bits of the size-byte register at reg the guest
// may write (1 bits); the others keep their value.
func (c *PCIConfigSpace) SetWritable(reg, size int, mask uint32) {
	for i := range size {
		if r := reg + i; r >= 0 && r < PCIConfigSize {
			c.wmask[r] = byte(mask >> (8 * i))
		}
	}
}

// OnWrite calls f after every guest write that touches [reg, reg+length),
// once the writable bits have been stored; f gets the whole access. A device
// uses it for registers with side effects.
func (c *PCIConfigSpace) OnWrite(reg, length int, f func(reg int, data []byte)) {
	c.hooks = append(c.hooks, pciConfigHook{start: reg, end: reg + length, write: f})
}

// OnRead calls f for every guest read that touches [reg, reg+length), after
// data has been filled from the stored registers; f may replace bytes with
// live values.
func (c *PCIConfigSpace) OnRead(reg, length int, f func(reg int, data []byte)) {
	c.hooks = append(c.hooks, pciConfigHook{start: reg, end: reg + length, read: f})
}

// AddCapability appends a capability of length bytes (at least 2: ID and
// next pointer) to the capability list (PCI 3.0 §6.7) and returns its
// offset, dword aligned in 0x40–0xFF. The caller fills the body and sets
// its writable bits.
func (c *PCIConfigSpace) AddCapability(id uint8, length int) (int, error) {
	off := (c.capNext + 3) &^ 3
	if length < 2 || off+length > PCIConfigSize {
		return 0, fmt.Errorf("PCI: capability %#x of %d bytes does not fit at %#x", id, length, off)
	}
	c.regs[off] = id
	c.regs[off+1] = 0 // end of list
	if c.capLast == 0 {
		c.regs[PCICapabilitiesPointer] = byte(off)
	} else {
		c.regs[c.capLast+1] = byte(off)
	}
	c.capLast = off
	c.capNext = off + length
	c.Set16(PCIStatus, c.Get16(PCIStatus)|PCIStatusCapabilities)
	return off, nil
}

// ReserveConfig keeps [PCIHeaderSize, end) out of the capability allocator,
// for device-specific registers (the PIIX3's, the i440FX's).
func (c *PCIConfigSpace) ReserveConfig(end int) { c.capNext = max(c.capNext, end) }

// SetBAR describes BAR i (0–5). A 64-bit BAR takes registers i and i+1.
// Set BARs before the function joins the bus; the register reads back as
// unprogrammed (address 0) with its type bits, and its writable bits make
// the sizing protocol work: writing all ones reads back the size mask (PCI
// 3.0 §6.2.5.1).
func (c *PCIConfigSpace) SetBAR(i int, b PCIBAR) error {
	if i < 0 || i >= len(c.bars) {
		return fmt.Errorf("PCI: BAR %d does not exist", i)
	}
	if c.bars[i].Kind == pciBARUpper {
		return fmt.Errorf("PCI: BAR %d is the high half of 64-bit BAR %d", i, i-1)
	}
	pow2 := b.Size != 0 && b.Size&(b.Size-1) == 0
	switch b.Kind {
	case PCIBARUnused:
	case PCIBARIO:
		if !pow2 || b.Size < 4 || b.Size > 256 || b.Prefetchable {
			return fmt.Errorf("PCI: I/O BAR %d: size %#x, want a power of two from 4 to 256, not prefetchable", i, b.Size)
		}
	case PCIBARMem32:
		if !pow2 || b.Size < 16 || b.Size > 1<<31 {
			return fmt.Errorf("PCI: memory BAR %d: size %#x, want a power of two from 16 bytes to 2 GiB", i, b.Size)
		}
	case PCIBARMem64:
		if !pow2 || b.Size < 16 || b.Size > 1<<62 {
			return fmt.Errorf("PCI: 64-bit memory BAR %d: size %#x, want a power of two of at least 16", i, b.Size)
		}
		if i == len(c.bars)-1 || c.bars[i+1].Kind != PCIBARUnused {
			return fmt.Errorf("PCI: 64-bit BAR %d needs BAR %d free for its high half", i, i+1)
		}
	default:
		return fmt.Errorf("PCI: BAR %d: unknown kind %d", i, b.Kind)
	}
	if b.Kind != PCIBARUnused && b.Dev == nil {
		return fmt.Errorf("PCI: BAR %d has no device", i)
	}
	if c.bars[i].Kind == PCIBARMem64 { // a 64-bit BAR redefined: free its high half
		c.bars[i+1] = PCIBAR{}
		c.Set32(PCIBAR0+4*(i+1), 0)
		c.SetWritable(PCIBAR0+4*(i+1), 4, 0)
	}
	c.bars[i] = b
	reg := PCIBAR0 + 4*i
	mask := ^(b.Size - 1)
	switch b.Kind {
	case PCIBARUnused:
		c.Set32(reg, 0)
		c.SetWritable(reg, 4, 0)
	case PCIBARIO:
		c.Set32(reg, pciBARSpaceIO)
		c.SetWritable(reg, 4, uint32(mask)&pciBARIOAddrMask)
	case PCIBARMem32, PCIBARMem64:
		var typ uint32
		if b.Kind == PCIBARMem64 {
			typ |= pciBARMemType64
			c.bars[i+1] = PCIBAR{Kind: pciBARUpper}
			c.Set32(reg+4, 0)
			c.SetWritable(reg+4, 4, uint32(mask>>32))
		}
		if b.Prefetchable {
			typ |= pciBARPrefetchable
		}
		c.Set32(reg, typ)
		c.SetWritable(reg, 4, uint32(mask)&pciBARMemAddrMask)
	}
	return nil
}

// BAR returns the description of BAR i (PCIBARUnused for the high half of
// a 64-bit BAR or an index out of range).
func (c *PCIConfigSpace) BAR(i int) PCIBAR {
	if i < 0 || i >= len(c.bars) || c.bars[i].Kind == pciBARUpper {
		return PCIBAR{}
	}
	return c.bars[i]
}

// BARAddress returns the base address programmed in BAR i (0 if unused).
func (c *PCIConfigSpace) BARAddress(i int) uint64 {
	reg := PCIBAR0 + 4*i
	switch c.BAR(i).Kind {
	case PCIBARIO:
		return uint64(c.Get32(reg) & pciBARIOAddrMask)
	case PCIBARMem32:
		return uint64(c.Get32(reg) & pciBARMemAddrMask)
	case PCIBARMem64:
		return uint64(c.Get32(reg)&pciBARMemAddrMask) | uint64(c.Get32(reg+4))<<32
	}
	return 0
}

// barWindow returns where BAR i decodes now, and whether it decodes at all:
// the command register must enable its space, and the address must be a
// plausible one. Like QEMU (pci_bar_address), an address of 0, a range that
// wraps or reaches the top of its space (the sizing pattern), or an I/O
// range past 0xFFFF is not mapped.
func (c *PCIConfigSpace) barWindow(i int) (base uint64, ok bool) {
	b := c.BAR(i)
	cmd := c.Get16(PCICommand)
	base = c.BARAddress(i)
	end := base + b.Size // exclusive
	switch b.Kind {
	case PCIBARIO:
		ok = cmd&PCICommandIO != 0 && end < 1<<16
	case PCIBARMem32:
		ok = cmd&PCICommandMemory != 0 && end < 1<<32
	case PCIBARMem64:
		ok = cmd&PCICommandMemory != 0 && end > base
	}
	return base, ok && base != 0
}

// guestRead is a guest read of len(data) bytes at reg; bytes past the end
// of the space read all ones.
func (c *PCIConfigSpace) guestRead(reg int, data []byte) {
	for i := range data {
		if r := reg + i; r >= 0 && r < PCIConfigSize {
			data[i] = c.regs[r]
		} else {
			data[i] = 0xFF
		}
	}
	for _, h := range c.hooks {
		if h.read != nil && reg < h.end && reg+len(data) > h.start {
			h.read(reg, data)
		}
	}
}

// guestWrite is a guest write: each byte changes only its writable bits and
// clears the RW1C bits written as 1; then the device's hooks run.
func (c *PCIConfigSpace) guestWrite(reg int, data []byte) {
	for i, v := range data {
		r := reg + i
		if r < 0 || r >= PCIConfigSize {
			continue
		}
		old := c.regs[r]
		c.regs[r] = old&^c.wmask[r] | v&c.wmask[r]
		c.regs[r] &^= v & c.w1c[r]
	}
	if reg <= PCICommand+1 && reg+len(data) > PCICommand {
		c.updateINTx() // Interrupt Disable may have changed
	}
	for _, h := range c.hooks {
		if h.write != nil && reg < h.end && reg+len(data) > h.start {
			h.write(reg, data)
		}
	}
}

// SetINTx drives the function's interrupt pin: level true asserts it. The
// Interrupt Status bit follows the request; the line reaches the bus
// unless the command register's Interrupt Disable bit is set or MSI or
// MSI-X is enabled (PCI 3.0 §6.2.2, §6.2.3, §6.8.1.3, §6.8.2.3).
func (c *PCIConfigSpace) SetINTx(level bool) {
	c.intxRequest = level
	c.updateINTx()
}

func (c *PCIConfigSpace) updateINTx() {
	st := c.Get16(PCIStatus) &^ PCIStatusInterrupt
	if c.intxRequest {
		st |= PCIStatusInterrupt
	}
	c.Set16(PCIStatus, st)
	line := c.intxRequest && c.Get16(PCICommand)&PCICommandINTxDisable == 0 && !c.msiOn && !c.msixOn
	if line != c.intxLine {
		c.intxLine = line
		if c.intx != nil {
			c.intx(line)
		}
	}
}

// sendMSI performs an MSI or MSI-X message write. It is a memory write by
// the function, so it needs Bus Master Enable (PCI 3.0 §6.2.2, §6.8); and it
// must address the local APICs (SDM Vol. 3A §11.11.1). Reports whether the
// message went out.
func (c *PCIConfigSpace) sendMSI(what string, addr uint64, data uint32) bool {
	switch {
	case c.Get16(PCICommand)&PCICommandMaster == 0:
		c.log("%s: message %#x to %#x dropped: bus mastering is off", what, data, addr)
		return false
	case !MSIAddressValid(addr):
		c.log("%s: message %#x dropped: address %#x is not in 0xFEE00000–0xFEEFFFFF", what, data, addr)
		return false
	case c.msi == nil:
		return false
	}
	c.msi(addr, data)
	return true
}

// log reports bad programming by the guest, if the bus has a logger.
func (c *PCIConfigSpace) log(format string, args ...any) {
	if c.logf != nil {
		c.logf("pci %s: "+format, append([]any{c.name}, args...)...)
	}
}

// pciOverlaps reports whether [reg, reg+n) meets [start, start+length).
func pciOverlaps(reg, n, start, length int) bool { return reg < start+length && reg+n > start }

// log2 of a power of two.
func pciLog2(v uint64) int { return bits.TrailingZeros64(v) }
