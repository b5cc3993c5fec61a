package devices

import (
	"math"
	"math/bits"
	"time"
)

// The local APIC of one CPU, in xAPIC mode: a 4 KiB register page at
// IA32_APIC_BASE (0xFEE00000 after reset). The x2APIC MSR interface is not
// offered.
//
// It is the CPU's interrupt controller (Pending, Acknowledge): fixed
// interrupts from its timer, its ICR (self-IPIs) and the IOAPIC pass through
// IRR and ISR under the task and processor priorities; the 8259's INTR reaches
// the CPU through LINT0 in ExtINT mode ("virtual wire", Intel MP spec 1.4
// §3.6.2.2), or directly when the APIC is globally disabled.
//
// Wiring for a machine with PIC, LAPIC and IOAPIC:
//
//	lapic := NewLAPIC(clock, LAPICConfig{PIC: pc.PIC, VirtualWire: !bios})
//	ioapic := NewIOAPIC(lapic)
//	lapic.SetEOIBroadcast(ioapic.EOI)
//	mmio.Register(LAPICBase, LAPICSize, "lapic", lapic)
//	mmio.Register(IOAPICBase, IOAPICSize, "ioapic", ioapic)
//
// and the CPU takes its interrupts from lapic (not from the PIC), calls
// lapic.Advance with the other timers, and routes IA32_APIC_BASE and
// IA32_TSC_DEADLINE to lapic (ReadMSR, WriteMSR) and MOV CR8 to CR8/SetCR8.
//
// Timer: the counter is not ticked; its value is computed from the Clock. It
// counts at BusHz divided by the divide configuration; BusHz defaults to
// 1 GHz, the APIC bus clock of QEMU and KVM (one count per nanosecond at
// divide by 1). If CPUID leaf 15H reports a core crystal clock, it must equal
// BusHz: Linux takes the APIC timer rate from it.
//
// Where the SDM leaves a choice, this model does what KVM does (so that the
// interpreter and the hw engine behave alike): fixed interrupts that arrive
// while the APIC is software-disabled are dropped, but those already in IRR
// stay deliverable; the 8259 passes through LINT0 whenever LINT0 holds an
// unmasked ExtINT entry; APR reads 0; accesses other than aligned 32-bit
// writes are dropped, narrower reads return bytes of the 32-bit register.
//
// Reference: Intel SDM Vol. 3A chapter 11 ("Advanced Programmable Interrupt
// Controller"), cited by section below.

// Local APIC constants.
const (
	LAPICBase         = 0xFEE00000    // default register page (SDM Vol. 3A §11.4.1)
	LAPICSize         = 0x1000        // one page
	LAPICBusFrequency = 1_000_000_000 // default timer input clock, in Hz

	MSRAPICBase    = 0x1B  // IA32_APIC_BASE (SDM Vol. 3A §11.4.4)
	MSRTSCDeadline = 0x6E0 // IA32_TSC_DEADLINE (SDM Vol. 3A §11.5.4.1)
)

// Register offsets (SDM Vol. 3A §11.4.1, Table 11-1).
const (
	lapicID           = 0x020
	lapicVersion      = 0x030
	lapicTPR          = 0x080
	lapicAPR          = 0x090
	lapicPPR          = 0x0A0
	lapicEOI          = 0x0B0
	lapicRRD          = 0x0C0
	lapicLDR          = 0x0D0
	lapicDFR          = 0x0E0
	lapicSVR          = 0x0F0
	lapicISR          = 0x100 // 8 registers each: ISR, TMR, IRR
	lapicTMR          = 0x180
	lapicIRR          = 0x200
	lapicESR          = 0x280
	lapicLVTCMCI      = 0x2F0
	lapicICRLow       = 0x300
	lapicICRHigh      = 0x310
	lapicLVTTimer     = 0x320
	lapicLVTError     = 0x370
	lapicTimerInitial = 0x380
	lapicTimerCurrent = 0x390
	lapicTimerDivide  = 0x3E0
)

// lapicVersionValue: version 14H (integrated xAPIC), max LVT entry 5 (timer,
// thermal, performance, LINT0, LINT1, error), no EOI-broadcast suppression
// (SDM Vol. 3A §11.4.8). Like QEMU's, it counts no CMCI entry, so guests do
// not use 0x2F0; the register is kept as storage all the same.
const lapicVersionValue = 0x00050014

// IA32_APIC_BASE bits (SDM Vol. 3A §11.4.4, Figure 11-5). Bit 10 (x2APIC
// enable) is reserved here: x2APIC is not offered.
const (
	apicBaseBSP      = 1 << 8
	apicBaseEnable   = 1 << 11
	apicBaseReserved = 0xFFF0_0000_0000_06FF // bits 0–7, 9, 10, 52–63
)

// LVT indices into LAPIC.lvt, in register order (0x2F0, then 0x320–0x370).
const (
	lvtCMCI = iota
	lvtTimer
	lvtThermal
	lvtPerf
	lvtLINT0
	lvtLINT1
	lvtError
	lvtCount
)

// LVT and ICR fields (SDM Vol. 3A §11.5.1, Figure 11-8; §11.6.1, Figure 11-12).
const (
	lvtDeliveryMode = 7 << 8
	lvtMasked       = 1 << 16
	lvtTimerPeriod  = 1 << 17 // timer mode 01: periodic
	lvtTimerTSC     = 1 << 18 // timer mode 10: TSC-deadline
	lvtTimerMode    = 3 << 17

	icrDestLogical = 1 << 11
	icrLevel       = 1 << 15
	icrWritable    = 0x000CCFFF // all but delivery status (12) and reserved bits
)

// lvtWritable holds the writable bits of each LVT entry; the delivery
// status bit (12) and LINT's remote IRR (14) are read-only, and the timer's
// mode bits depend on the TSC-deadline option.
var lvtWritable = [lvtCount]uint32{
	lvtCMCI:    0x107FF,
	lvtTimer:   0x100FF,
	lvtThermal: 0x107FF,
	lvtPerf:    0x107FF,
	lvtLINT0:   0x1A7FF,
	lvtLINT1:   0x1A7FF,
	lvtError:   0x100FF,
}

// Error status register bits (SDM Vol. 3A §11.5.3, Figure 11-9).
const (
	esrSendIllegalVector    = 1 << 5
	esrReceiveIllegalVector = 1 << 6
	esrIllegalRegister      = 1 << 7
)

// Delivery modes of interrupt messages, LVT entries, the ICR and IOAPIC
// redirection entries (SDM Vol. 3A §11.6.1; 82093AA datasheet §3.2.4).
const (
	APICFixed          = 0
	APICLowestPriority = 1
	APICSMI            = 2
	APICNMI            = 4
	APICINIT           = 5
	APICStartup        = 6
	APICExtINT         = 7
)

// APICMessage is an interrupt message to the local APICs, as an IOAPIC
// redirection entry, an ICR write or (later) an MSI carries it (SDM Vol. 3A
// §11.6.1 and §11.11).
type APICMessage struct {
	Vector  uint8
	Mode    uint8 // delivery mode: APICFixed … APICExtINT
	Logical bool  // destination mode
	Dest    uint8 // APIC ID, or logical destination set
	Level   bool  // trigger mode: level
}

// APICBus carries interrupt messages to the local APICs. Send reports
// whether an APIC accepted the message (the IOAPIC sets Remote IRR only
// then).
type APICBus interface {
	Send(m APICMessage) bool
}

// InterruptController is the CPU side of an interrupt controller, the same
// methods as cpu.Interrupts: the 8259's INTR and INTA, or the local APIC's.
type InterruptController interface {
	Pending() bool
	Acknowledge() uint8
}

// LAPICConfig says how to build a local APIC.
type LAPICConfig struct {
	ID    uint8  // the APIC ID; 0 for the single CPU
	BusHz uint64 // timer input clock before the divider; 0: LAPICBusFrequency

	// TSCDeadline offers the TSC-deadline timer mode (advertise
	// CPUID.01H:ECX[24] then). TSCHz is the TSC rate; TSC returns the guest's
	// TSC now (nil: Clock time × TSCHz). Without TSCHz the mode is not offered.
	TSCDeadline bool
	TSCHz       uint64
	TSC         func() uint64

	// PIC is the 8259 pair whose INTR drives LINT0; nil: none.
	PIC InterruptController
	// NMI receives NMIs (from the ICR, the IOAPIC); nil drops them.
	NMI func()
	// VirtualWire presets LINT0 to unmasked ExtINT at reset, as a BIOS does
	// (and KVM's default LINT0 quirk): for a kernel booted without a BIOS.
	// Without it LINT0 is masked until the guest programs it (SDM §11.4.7.1).
	VirtualWire bool
}

// LAPIC is one CPU's local APIC. It implements Device (the register page),
// APICBus, InterruptController and the machine MSRs IA32_APIC_BASE and
// IA32_TSC_DEADLINE.
type LAPIC struct {
	clock     Clock
	cfg       LAPICConfig
	busHz     uint64
	tscOK     bool
	broadcast func(vector uint8)

	base          uint64 // IA32_APIC_BASE
	id            uint8
	tpr           uint8
	ldr, dfr, svr uint32
	irr, isr, tmr [8]uint32 // bit v%32 of word v/32 is vector v
	esr, esrNext  uint32    // ESR as last latched; errors since
	icrLow        uint32
	icrHigh       uint32
	lvt           [lvtCount]uint32
	extINT        bool // an ExtINT message awaits INTA (IOAPIC pin in ExtINT mode)
	inError       bool // raising the error interrupt: no recursion

	// intr caches "a fixed interrupt outranks PPR", and viaPIC "the 8259's
	// INTR reaches the CPU" (LINT0 in ExtINT mode, or the APIC globally
	// disabled), so that Pending is cheap: the CPU asks before every block.
	intr, viaPIC bool
	notify       func() // NotifyPending's f, or nil

	// Timer (SDM Vol. 3A §11.5.4). While running, the count was c0 at t0
	// and falls by one every 2^shift bus clocks; in periodic mode it reloads
	// from initial on reaching 0.
	initial     uint32
	divide      uint32 // the divide configuration register
	shift       uint
	running     bool
	t0          time.Duration
	c0          uint64
	due         time.Duration // next expiry, or NoDeadline
	tscDeadline uint64
}

// NewLAPIC returns a local APIC in its reset state: globally enabled at
// 0xFEE00000 as the BSP, software-disabled, LVT masked (LINT0 unmasked
// ExtINT with cfg.VirtualWire).
func NewLAPIC(clock Clock, cfg LAPICConfig) *LAPIC {
	a := &LAPIC{clock: clock, cfg: cfg, busHz: cfg.BusHz, id: cfg.ID}
	if a.busHz == 0 {
		a.busHz = LAPICBusFrequency
	}
	a.tscOK = cfg.TSCDeadline && cfg.TSCHz != 0
	a.Reset()
	return a
}

// Reset puts the APIC in its power-up state (SDM Vol. 3A §11.4.7.1); the
// APIC ID is kept.
func (a *LAPIC) Reset() {
	a.base = LAPICBase | apicBaseBSP | apicBaseEnable
	a.resetRegisters()
}

func (a *LAPIC) resetRegisters() {
	a.tpr, a.ldr, a.dfr, a.svr = 0, 0, 0xFFFFFFFF, 0xFF
	a.irr, a.isr, a.tmr = [8]uint32{}, [8]uint32{}, [8]uint32{}
	a.esr, a.esrNext, a.icrLow, a.icrHigh = 0, 0, 0, 0
	for i := range a.lvt {
		a.lvt[i] = lvtMasked
	}
	if a.cfg.VirtualWire {
		a.lvt[lvtLINT0] = APICExtINT << 8
	}
	a.extINT = false
	a.initial, a.divide, a.shift = 0, 0, 1
	a.running, a.due, a.tscDeadline = false, NoDeadline, 0
	a.update()
}

// SetEOIBroadcast sets the function called with the vector of every EOI of
// a level-triggered interrupt (SDM Vol. 3A §11.8.5): the IOAPIC's EOI.
func (a *LAPIC) SetEOIBroadcast(f func(vector uint8)) { a.broadcast = f }

func (a *LAPIC) enabled() bool   { return a.base&apicBaseEnable != 0 }
func (a *LAPIC) swEnabled() bool { return a.svr&0x100 != 0 }

// Base returns IA32_APIC_BASE: the page address, BSP (bit 8) and global
// enable (bit 11).
func (a *LAPIC) Base() uint64 { return a.base }

// SetBase writes IA32_APIC_BASE; it reports false, for the CPU to raise
// #GP(0), if a reserved bit is set (the CPU checks MAXPHYADDR). BSP is
// read-only. Clearing the global enable returns the APIC to its power-up
// state (SDM Vol. 3A §11.4.3); the machine must remap the page if the address
// changes, and route the CPU's interrupts as Pending describes.
func (a *LAPIC) SetBase(msr uint64) bool {
	if msr&apicBaseReserved != 0 {
		return false
	}
	wasEnabled := a.enabled()
	a.base = msr&^apicBaseBSP | a.base&apicBaseBSP
	if wasEnabled && !a.enabled() {
		a.resetRegisters()
	}
	a.update()
	return true
}

// ReadMSR serves IA32_APIC_BASE and, with the TSC-deadline option,
// IA32_TSC_DEADLINE (the cpu.MSRs interface).
func (a *LAPIC) ReadMSR(n uint32) (uint64, bool) {
	switch {
	case n == MSRAPICBase:
		return a.Base(), true
	case n == MSRTSCDeadline && a.tscOK:
		return a.TSCDeadline(), true
	}
	return 0, false
}

// WriteMSR is the write half of ReadMSR; false means #GP(0).
func (a *LAPIC) WriteMSR(n uint32, v uint64) bool {
	switch {
	case n == MSRAPICBase:
		return a.SetBase(v)
	case n == MSRTSCDeadline && a.tscOK:
		a.SetTSCDeadline(v)
		return true
	}
	return false
}

// CR8 returns TPR[7:4], what MOV from CR8 reads in 64-bit mode (SDM Vol.
// 3A §11.8.6.1).
func (a *LAPIC) CR8() uint64 { return uint64(a.tpr >> 4) }

// SetCR8 is MOV to CR8: TPR[7:4] = CR8[3:0], TPR[3:0] = 0.
func (a *LAPIC) SetCR8(v uint64) {
	a.tpr = uint8(v&0xF) << 4
	a.update()
}

// highestVector returns the highest vector set in r, or -1.
func highestVector(r *[8]uint32) int {
	for i := 7; i >= 0; i-- {
		if r[i] != 0 {
			return i*32 + bits.Len32(r[i]) - 1
		}
	}
	return -1
}

func setVector(r *[8]uint32, v uint8)       { r[v>>5] |= 1 << (v & 31) }
func clearVector(r *[8]uint32, v uint8)     { r[v>>5] &^= 1 << (v & 31) }
func testVector(r *[8]uint32, v uint8) bool { return r[v>>5]&(1<<(v&31)) != 0 }

// ppr computes the processor priority (SDM Vol. 3A §11.8.3.1): TPR if its
// class is at least that of the highest in-service vector, else that class.
func (a *LAPIC) ppr() uint8 {
	isrv := uint8(max(highestVector(&a.isr), 0))
	if a.tpr>>4 >= isrv>>4 {
		return a.tpr
	}
	return isrv & 0xF0
}

// deliverable returns the vector the APIC would dispense now, or -1: the
// highest in IRR whose class is above PPR's (SDM Vol. 3A §11.8.3.1).
func (a *LAPIC) deliverable() int {
	v := highestVector(&a.irr)
	if v < 0 || !a.enabled() || uint8(v)>>4 <= a.ppr()>>4 {
		return -1
	}
	return v
}

func (a *LAPIC) update() {
	a.intr = a.deliverable() >= 0
	a.viaPIC = a.cfg.PIC != nil && (!a.enabled() || a.lint0ExtINT())
	if a.notify != nil {
		a.notify()
	}
}

// NotifyPending makes the APIC call f whenever Pending may have turned
// true: its own state changed, or the 8259 behind LINT0 changed its INTR
// (cpu.InterruptNotifier).
func (a *LAPIC) NotifyPending(f func()) {
	a.notify = f
	if n, ok := a.cfg.PIC.(interface{ NotifyPending(func()) }); ok {
		n.NotifyPending(f)
	}
}

// lint0ExtINT reports whether LINT0 passes the 8259's INTR through.
func (a *LAPIC) lint0ExtINT() bool {
	return a.lvt[lvtLINT0]&(lvtMasked|lvtDeliveryMode) == APICExtINT<<8
}

func (a *LAPIC) extINTPending() bool {
	return a.extINT || a.viaPIC && a.cfg.PIC.Pending()
}

// Pending reports whether the CPU's INTR is asserted: an ExtINT request
// (the 8259 through LINT0, or an ExtINT message) or a fixed interrupt above
// the processor priority. With the APIC globally disabled, LINT0 is the
// 8259's INTR itself (SDM Vol. 3A §11.4.3).
func (a *LAPIC) Pending() bool {
	return a.intr || a.extINT || a.viaPIC && a.cfg.PIC.Pending()
}

// Acknowledge is the INTA cycle. An ExtINT request is served first, by the
// 8259's INTA (KVM orders them the same way); otherwise the highest
// deliverable vector moves from IRR to ISR (SDM Vol. 3A §11.8.4). If nothing
// is deliverable any more (the TPR rose in between), the answer is the
// spurious vector and ISR is left alone (SDM Vol. 3A §11.9).
func (a *LAPIC) Acknowledge() uint8 {
	if !a.enabled() {
		if a.cfg.PIC != nil {
			return a.cfg.PIC.Acknowledge()
		}
		return 0xFF
	}
	if a.extINTPending() {
		a.extINT = false
		if a.cfg.PIC != nil {
			return a.cfg.PIC.Acknowledge()
		}
		return uint8(a.svr)
	}
	v := a.deliverable()
	if v < 0 {
		return uint8(a.svr)
	}
	clearVector(&a.irr, uint8(v))
	setVector(&a.isr, uint8(v))
	a.update()
	return uint8(v)
}

// Deliver accepts a fixed interrupt for vector into IRR, as an interrupt
// message addressed to this APIC; level marks it level-triggered (TMR), so
// that its EOI is broadcast. Dropped while the APIC is disabled.
func (a *LAPIC) Deliver(vector uint8, level bool) {
	if a.enabled() && a.swEnabled() {
		a.accept(vector, level)
	}
}

// accept latches vector in IRR (SDM Vol. 3A §11.8.4); vectors 0–15 are
// illegal (§11.5.3).
func (a *LAPIC) accept(vector uint8, level bool) bool {
	if vector < 16 {
		a.raiseError(esrReceiveIllegalVector)
		return false
	}
	setVector(&a.irr, vector)
	if level {
		setVector(&a.tmr, vector)
	} else {
		clearVector(&a.tmr, vector)
	}
	a.update()
	return true
}

// matches reports whether a message's destination includes this APIC (SDM
// Vol. 3A §11.6.2): its ID in physical mode, its LDR under the flat or
// cluster model in logical mode; FFH is a broadcast in both.
func (a *LAPIC) matches(dest uint8, logical bool) bool {
	if dest == 0xFF {
		return true
	}
	if !logical {
		return dest == a.id
	}
	ldr := uint8(a.ldr >> 24)
	switch a.dfr >> 28 {
	case 0xF: // flat
		return dest&ldr != 0
	case 0x0: // cluster
		return dest>>4 == ldr>>4 && dest&ldr&0x0F != 0
	}
	return false
}

// Send accepts an interrupt message addressed to this APIC (the APICBus
// interface): fixed and lowest-priority into IRR, NMI to the NMI function,
// ExtINT as a request for the 8259's INTA. SMI, INIT and start-up messages
// are not modelled and are refused.
func (a *LAPIC) Send(m APICMessage) bool {
	if !a.enabled() || !a.matches(m.Dest, m.Logical) {
		return false
	}
	return a.receive(m)
}

func (a *LAPIC) receive(m APICMessage) bool {
	switch m.Mode {
	case APICFixed, APICLowestPriority:
		// A software-disabled APIC accepts no fixed interrupts (§11.4.7.2).
		return a.swEnabled() && a.accept(m.Vector, m.Level)
	case APICNMI:
		if a.cfg.NMI != nil {
			a.cfg.NMI()
		}
		return true
	case APICExtINT:
		a.extINT = true
		if a.notify != nil {
			a.notify()
		}
		return true
	}
	return false
}

// raiseError records errors for the next ESR write and raises the LVT error
// interrupt (SDM Vol. 3A §11.5.3).
func (a *LAPIC) raiseError(bits uint32) {
	a.esrNext |= bits
	if a.inError {
		return
	}
	a.inError = true
	a.fireLVT(lvtError)
	a.inError = false
}

// fireLVT delivers a local interrupt from LVT entry i, if unmasked; the
// timer and error entries are always fixed (SDM Vol. 3A §11.5.1).
func (a *LAPIC) fireLVT(i int) {
	e := a.lvt[i]
	if e&lvtMasked != 0 || !a.enabled() || !a.swEnabled() {
		return
	}
	a.receive(APICMessage{Vector: uint8(e), Mode: uint8(e>>8) & 7})
}

// eoi retires the highest in-service vector and, if it was level-triggered,
// broadcasts its EOI (SDM Vol. 3A §11.8.5).
func (a *LAPIC) eoi() {
	v := highestVector(&a.isr)
	if v < 0 {
		return
	}
	clearVector(&a.isr, uint8(v))
	a.update()
	if testVector(&a.tmr, uint8(v)) && a.broadcast != nil {
		a.broadcast(uint8(v))
	}
}

// sendIPI sends the interrupt the ICR describes (SDM Vol. 3A §11.6.1).
// With one CPU, only messages that include this APIC arrive; INIT and
// start-up are refused by receive. Delivery is instant: the delivery
// status bit always reads idle.
func (a *LAPIC) sendIPI() {
	m := APICMessage{
		Vector:  uint8(a.icrLow),
		Mode:    uint8(a.icrLow>>8) & 7,
		Logical: a.icrLow&icrDestLogical != 0,
		Dest:    uint8(a.icrHigh >> 24),
		Level:   a.icrLow&icrLevel != 0,
	}
	if (m.Mode == APICFixed || m.Mode == APICLowestPriority) && m.Vector < 16 {
		a.raiseError(esrSendIllegalVector)
		return
	}
	var self bool
	switch (a.icrLow >> 18) & 3 {
	case 0: // no shorthand
		self = a.matches(m.Dest, m.Logical)
	case 1, 2: // self, all including self
		self = true
	}
	if self {
		a.receive(m)
	}
}

// Read reads the register page. Each 16-byte slot holds one 32-bit
// register in its first four bytes; the rest read 0 (SDM Vol. 3A §11.4.1).
// With the APIC globally disabled the page is not decoded: all ones.
func (a *LAPIC) Read(offset uint64, data []byte) {
	if !a.enabled() {
		for i := range data {
			data[i] = 0xFF
		}
		return
	}
	v := uint64(a.readReg(offset &^ 0xF))
	for i := range data {
		if b := offset&0xF + uint64(i); b < 4 {
			data[i] = byte(v >> (8 * b))
		} else {
			data[i] = 0
		}
	}
}

// Write writes a register. Only aligned 32-bit writes count (SDM Vol. 3A
// §11.4.1: other accesses are model-specific; KVM drops them too).
func (a *LAPIC) Write(offset uint64, data []byte) {
	if !a.enabled() || len(data) != 4 || offset&0xF != 0 {
		return
	}
	a.writeReg(offset, uint32(littleEndian(data)))
}

func (a *LAPIC) readReg(reg uint64) uint32 {
	switch {
	case reg == lapicID:
		return uint32(a.id) << 24
	case reg == lapicVersion:
		return lapicVersionValue
	case reg == lapicTPR:
		return uint32(a.tpr)
	case reg == lapicAPR, reg == lapicEOI, reg == lapicRRD:
		return 0
	case reg == lapicPPR:
		return uint32(a.ppr())
	case reg == lapicLDR:
		return a.ldr
	case reg == lapicDFR:
		return a.dfr
	case reg == lapicSVR:
		return a.svr
	case reg >= lapicISR && reg < lapicTMR:
		return a.isr[(reg-lapicISR)>>4]
	case reg >= lapicTMR && reg < lapicIRR:
		return a.tmr[(reg-lapicTMR)>>4]
	case reg >= lapicIRR && reg < lapicESR:
		return a.irr[(reg-lapicIRR)>>4]
	case reg == lapicESR:
		return a.esr
	case reg == lapicICRLow:
		return a.icrLow
	case reg == lapicICRHigh:
		return a.icrHigh
	case reg == lapicTimerInitial:
		return a.initial
	case reg == lapicTimerCurrent:
		return a.currentCount(a.clock.Now())
	case reg == lapicTimerDivide:
		return a.divide
	}
	if i := lvtIndex(reg); i >= 0 {
		return a.lvt[i]
	}
	a.raiseError(esrIllegalRegister)
	return 0
}

// lvtIndex maps an LVT register offset to its index, or -1.
func lvtIndex(reg uint64) int {
	switch {
	case reg == lapicLVTCMCI:
		return lvtCMCI
	case reg >= lapicLVTTimer && reg <= lapicLVTError:
		return int(reg-lapicLVTTimer)>>4 + lvtTimer
	}
	return -1
}

func (a *LAPIC) writeReg(reg uint64, v uint32) {
	switch reg {
	case lapicID: // read/write in xAPIC mode (SDM Vol. 3A §11.4.6)
		a.id = uint8(v >> 24)
	case lapicTPR:
		a.tpr = uint8(v)
		a.update()
	case lapicEOI:
		a.eoi()
	case lapicLDR:
		a.ldr = v & 0xFF000000
	case lapicDFR:
		a.dfr = v | 0x0FFFFFFF
	case lapicSVR:
		a.writeSVR(v)
	case lapicESR: // latch the errors since the last write (SDM Vol. 3A §11.5.3)
		a.esr, a.esrNext = a.esrNext, 0
	case lapicICRLow:
		a.icrLow = v & icrWritable
		a.sendIPI()
	case lapicICRHigh:
		a.icrHigh = v & 0xFF000000
	case lapicTimerInitial:
		a.writeInitialCount(v)
	case lapicTimerDivide:
		a.writeDivide(v)
	case lapicVersion, lapicAPR, lapicPPR, lapicRRD, lapicTimerCurrent:
		// read-only
	default:
		if i := lvtIndex(reg); i >= 0 {
			a.writeLVT(i, v)
		} else if reg < lapicISR || reg >= lapicESR {
			a.raiseError(esrIllegalRegister)
		} // ISR, TMR, IRR are read-only
	}
}

// writeSVR sets the spurious vector, software enable (bit 8) and focus
// checking (bit 9). Software disable masks every LVT entry (SDM Vol. 3A
// §11.4.7.2).
func (a *LAPIC) writeSVR(v uint32) {
	a.svr = v & 0x3FF
	if !a.swEnabled() {
		for i := range a.lvt {
			a.lvt[i] |= lvtMasked
		}
	}
	a.update()
}

// writeLVT writes LVT entry i; the mask bit stays set while the APIC is
// software-disabled (SDM Vol. 3A §11.4.7.2).
func (a *LAPIC) writeLVT(i int, v uint32) {
	w := lvtWritable[i]
	if i == lvtTimer {
		w |= lvtTimerPeriod
		if a.tscOK {
			w |= lvtTimerTSC
		}
	}
	if !a.swEnabled() {
		v |= lvtMasked
	}
	old := a.lvt[i]
	if i != lvtTimer {
		a.lvt[i] = v & w
		a.update()
		return
	}
	now := a.clock.Now()
	a.rebase(now)
	a.lvt[i] = v & w
	// Entering or leaving TSC-deadline mode disarms the timer (SDM Vol. 3A
	// §11.5.4.1); one-shot and periodic switch without a restart.
	if (old^a.lvt[i])&lvtTimerTSC != 0 {
		a.initial, a.running, a.due, a.tscDeadline = 0, false, NoDeadline, 0
	}
}

// Timer (SDM Vol. 3A §11.5.4).

func (a *LAPIC) timerMode() uint32 { return a.lvt[lvtTimer] & lvtTimerMode }

// elapsed returns the counts since t0.
func (a *LAPIC) elapsed(now time.Duration) uint64 {
	return ticksAt(now-a.t0, a.busHz) >> a.shift
}

// currentCount is the current-count register: 0 when stopped, expired in
// one-shot mode, or in TSC-deadline mode.
func (a *LAPIC) currentCount(now time.Duration) uint32 {
	if !a.running || a.timerMode() == lvtTimerTSC {
		return 0
	}
	e := a.elapsed(now)
	switch {
	case e < a.c0:
		return uint32(a.c0 - e)
	case a.timerMode() == lvtTimerPeriod && a.initial != 0:
		return a.initial - uint32((e-a.c0)%uint64(a.initial))
	}
	return 0
}

// nextExpiry returns the time of the first expiry at a count beyond e (the
// counts since t0), or NoDeadline.
func (a *LAPIC) nextExpiry(e uint64) time.Duration {
	var target uint64
	switch {
	case e < a.c0:
		target = a.c0
	case a.timerMode() == lvtTimerPeriod && a.initial != 0:
		n := uint64(a.initial)
		target = a.c0 + ((e-a.c0)/n+1)*n
	default:
		return NoDeadline
	}
	if target > math.MaxUint64>>a.shift {
		return NoDeadline
	}
	d := timeOfTick(target<<a.shift, a.busHz)
	if d >= NoDeadline-a.t0 {
		return NoDeadline
	}
	return a.t0 + d
}

// rebase restarts the count from its current value at now, so that a new
// divider or mode applies from now on. An expiry already due is left for
// Advance.
func (a *LAPIC) rebase(now time.Duration) {
	if !a.running || a.timerMode() == lvtTimerTSC || now >= a.due {
		return
	}
	a.c0 = uint64(a.currentCount(now))
	a.t0 = now
}

// writeInitialCount starts the count; 0 stops the timer. Ignored in
// TSC-deadline mode (SDM Vol. 3A §11.5.4.1).
func (a *LAPIC) writeInitialCount(v uint32) {
	if a.timerMode() == lvtTimerTSC {
		return
	}
	a.initial = v
	if v == 0 {
		a.running, a.due = false, NoDeadline
		return
	}
	a.running, a.t0, a.c0 = true, a.clock.Now(), uint64(v)
	a.due = a.nextExpiry(0)
}

// writeDivide sets the divider: bits 0, 1 and 3 encode 2, 4, …, 128, and
// 111b divides by 1 (SDM Vol. 3A §11.5.4, Figure 11-10).
func (a *LAPIC) writeDivide(v uint32) {
	now := a.clock.Now()
	a.rebase(now)
	a.divide = v & 0xB
	a.shift = uint((a.divide&3|a.divide>>1&4)+1) & 7
	if a.running && a.timerMode() != lvtTimerTSC && now < a.due {
		a.due = a.nextExpiry(0)
	}
}

// TSCDeadline returns IA32_TSC_DEADLINE: the armed deadline, 0 once it has
// fired or outside TSC-deadline mode (SDM Vol. 3A §11.5.4.1).
func (a *LAPIC) TSCDeadline() uint64 {
	if a.timerMode() != lvtTimerTSC {
		return 0
	}
	return a.tscDeadline
}

// SetTSCDeadline writes IA32_TSC_DEADLINE: it arms the timer for the TSC
// value tsc (0 disarms); a deadline already past fires at the next Advance.
// Ignored outside TSC-deadline mode. The deadline is converted to Clock
// time when written, so a later write to the TSC does not move it.
func (a *LAPIC) SetTSCDeadline(tsc uint64) {
	if !a.tscOK || a.timerMode() != lvtTimerTSC {
		return
	}
	a.tscDeadline = tsc
	if tsc == 0 {
		a.due = NoDeadline
		return
	}
	now := a.clock.Now()
	var cur uint64
	if a.cfg.TSC != nil {
		cur = a.cfg.TSC()
	} else {
		cur = ticksAt(now, a.cfg.TSCHz)
	}
	a.due = now
	if tsc > cur {
		if d := timeOfTick(tsc-cur, a.cfg.TSCHz); d < NoDeadline-now {
			a.due = now + d
		} else {
			a.due = NoDeadline
		}
	}
}

// Advance delivers the timer interrupt if it is due by now and returns the
// next expiry (NoDeadline if none). The count runs while the LVT entry is
// masked; only the interrupt is suppressed. Like the PIT, a periodic timer
// that fell behind gets one interrupt, and its next one is never less than
// MinTimerPeriod away. The deadline moves after register writes, so the
// machine must call Advance after guest MMIO and MSR writes too.
func (a *LAPIC) Advance(now time.Duration) time.Duration {
	if now < a.due {
		return a.due
	}
	a.fireLVT(lvtTimer)
	if a.timerMode() == lvtTimerTSC {
		a.tscDeadline, a.due = 0, NoDeadline
		return a.due
	}
	a.due = a.nextExpiry(a.elapsed(now))
	if a.due == NoDeadline {
		a.running = false
		return a.due
	}
	a.due = max(a.due, now+MinTimerPeriod)
	return a.due
}
