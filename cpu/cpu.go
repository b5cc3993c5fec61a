package cpu

import (
	"fmt"

	"github.com/gemu-project/gemu/mmu"
)

// regNone is a register slot that always holds zero, used by effective
// addresses without a base or index so that address arithmetic has no branch.
const regNone = 16

// StopReason tells why Run returned.
type StopReason int

const (
	StopNone      StopReason = iota
	StopLimit                // the instruction budget ran out
	StopHalt                 // HLT executed; the CPU waits for an interrupt
	StopShutdown             // triple fault (SDM Vol. 3A §6.15, #DF)
	StopRequested            // a device or the host asked to stop (RequestStop)
	StopTrap                 // a trapped instruction that the CPU hands to the hypervisor
)

func (r StopReason) String() string {
	return [...]string{"none", "limit", "halt", "shutdown", "requested", "trap"}[r]
}

// Stats are the engine's counters.
type Stats struct {
	Instructions      uint64
	BlocksTranslated  uint64
	BlocksInvalidated uint64
	BlockLookups      uint64
	ChainedJumps      uint64
	Exceptions        uint64
	Interrupts        uint64
	// BlocksNative counts the blocks translated to host code (jit.go), and
	// NativeInstructions the instructions that ran there.
	BlocksNative       uint64
	NativeInstructions uint64
}

// CPU is one virtual x86 processor.
type CPU struct {
	EIP    uint64 // RIP in 64-bit mode
	eflags uint32 // all flags but the arithmetic ones, which are lazy (flags.go)
	lz     lazyFlags

	Seg      [6]Segment
	LDTR     Segment
	TR       Segment
	GDTR     DTR
	IDTR     DTR
	CR0      uint64
	CR2      uint64
	CR3      uint64
	CR4      uint64
	CR8      uint64
	DR       [8]uint64
	EFER     uint64
	tscOff   uint64
	sysenter struct{ cs, esp, eip uint64 }
	msr      longMSRs // long.go
	x87      x87State // x87.go
	sse      sseState // sse.go

	segck  [6]segCheck
	pdpte  [4]uint64 // PAE PDPTEs, loaded with CR3 (SDM Vol. 3A §4.4.1)
	trapDB bool      // a single-step #DB is being delivered
	// recheckTF: the last instruction (SYSCALL, SYSRET, SYSENTER, SYSEXIT)
	// traps on TF as it left it, not as it found it.
	recheckTF bool
	cpl       int
	pmode     bool  // CR0.PE and not virtual-8086
	codeD     bool  // CS.D: 32-bit default operand and address size
	stackB    bool  // SS.B: 32-bit stack pointer (64-bit RSP in 64-bit mode)
	long      bool  // IA-32e mode active (EFER.LMA)
	mode      uint8 // decode mode: mode16, mode32 or mode64 (CS.L in IA-32e mode)
	halted    bool
	// inhibit delays interrupts by one instruction after STI, MOV SS and POP SS
	// (SDM Vol. 3A §6.8.3).
	inhibit bool

	mem  *mmu.Memory
	ram  []byte
	io   IO
	intr Interrupts
	tlb  mmu.TLB

	// intrHint: ask intr whether an interrupt is pending at the next block
	// boundary with IF set. It stays set when intrPoll (a controller that
	// does not notify, an InterruptNotifier's absence).
	intrHint, intrPoll bool

	// profile, when set, has the blocks count their executions (hotblocks.go).
	profile *blockProfiler

	cache blockCache
	jit   jitState

	// stop ends the current block early (self-modifying code, mode changes) and,
	// with stopReason set, the Run loop.
	stop       bool
	stopReason StopReason
	curBlock   *block
	fault      fault
	nesting    int     // exception delivery depth, for #DF and shutdown
	faultChain []fault // the exceptions whose delivery failed, for the shutdown message
	// slowBuf and sysBuf carry the data of slow-path and descriptor-table
	// accesses (mem.go) without an allocation per access.
	slowBuf, sysBuf [8]byte

	// Trace, when set, receives each instruction before it executes.
	Trace func(c *CPU, eip uint64, text string)
	Stats Stats
	// MachineMSRs serves the MSRs that the core does not implement; nil: none.
	MachineMSRs MSRs
	// TimeStampCounter returns the TSC; nil means instructions retired.
	TimeStampCounter func() uint64
	// Frequencies, when set, are reported by CPUID leaves 15H and 16H.
	Frequencies Frequencies
	// TSCDeadlineTimer says that the machine's local APIC offers the
	// TSC-deadline timer mode: CPUID.01H:ECX[24] (SDM Vol. 3A §11.5.4.1).
	TSCDeadlineTimer bool
	// Hypervisor, when set, is the paravirtual interface offered to the
	// guest (hypercall.go); nil: the hypervisor stays hidden.
	Hypervisor Hypervisor
	// sensitive counts the executions of each sensitive row (trapcount.go).
	sensitive []uint64

	// R holds the general registers in encoding order; R[regNone] is always 0.
	// It has 256 entries so that a uint8 register number indexes it without
	// a bounds check (the entries above regNone stay 0), and it comes last so
	// that the fields above keep short offsets: 11% more guest MIPS than
	// [17]uint64 first in the struct.
	R [256]uint64
}

// New makes a CPU attached to guest memory, port I/O and an interrupt
// controller (intr may be nil). It starts in the reset state at F000:FFF0.
func New(mem *mmu.Memory, io IO, intr Interrupts) *CPU {
	c := &CPU{mem: mem, ram: mem.RAM, io: io, sensitive: make([]uint64, len(sensitiveRows))}
	c.SetInterrupts(intr)
	c.cache.init()
	mem.OnCodeWrite = c.invalidatePage
	s := ResetState(0xF000, 0xFFF0)
	c.SetState(&s)
	return c
}

// SetState loads the architectural state.
func (c *CPU) SetState(s *State) {
	for i := range s.GPR {
		c.R[i] = s.GPR[i]
	}
	c.EIP = s.EIP
	c.setFlags(uint32(s.EFLAGS))
	c.Seg = s.Seg
	c.LDTR, c.TR, c.GDTR, c.IDTR = s.LDTR, s.TR, s.GDTR, s.IDTR
	c.CR0, c.CR2, c.CR3, c.CR4, c.CR8 = s.CR0, s.CR2, s.CR3, s.CR4, s.CR8
	c.DR = s.DR
	c.EFER = s.EFER
	c.sysenter.cs, c.sysenter.esp, c.sysenter.eip = s.SysenterCS, s.SysenterESP, s.SysenterEIP
	c.msr = longMSRs{star: s.STAR, lstar: s.LSTAR, cstar: s.CSTAR, sfmask: s.SFMASK, kernelGSBase: s.KernelGSBase, pat: s.PAT, tscAux: s.TSCAux}
	c.halted = s.Halted
	c.setTSC(s.TSC)
	c.loadFPU(&s.FPU)
	c.modeChanged()
	c.tlb.Flush(false)
}

// State stores the architectural state.
func (c *CPU) State() State {
	var s State
	for i := range s.GPR {
		s.GPR[i] = c.R[i]
	}
	s.EIP = c.EIP
	s.EFLAGS = uint64(c.flags())
	s.Seg = c.Seg
	s.LDTR, s.TR, s.GDTR, s.IDTR = c.LDTR, c.TR, c.GDTR, c.IDTR
	s.CR0, s.CR2, s.CR3, s.CR4, s.CR8 = c.CR0, c.CR2, c.CR3, c.CR4, c.CR8
	s.DR = c.DR
	s.EFER = c.EFER
	s.SysenterCS, s.SysenterESP, s.SysenterEIP = c.sysenter.cs, c.sysenter.esp, c.sysenter.eip
	s.STAR, s.LSTAR, s.CSTAR, s.SFMASK = c.msr.star, c.msr.lstar, c.msr.cstar, c.msr.sfmask
	s.KernelGSBase, s.PAT, s.TSCAux = c.msr.kernelGSBase, c.msr.pat, c.msr.tscAux
	s.Halted = c.halted
	s.TSC = c.tsc()
	c.storeFPU(&s.FPU)
	return s
}

// TLBStats returns the shadow TLB's counters.
func (c *CPU) TLBStats() *mmu.TLB { return &c.tlb }

// RequestStop makes Run return StopRequested after the current instruction.
// Devices call it (through the machine) from within port or MMIO accesses.
func (c *CPU) RequestStop() {
	c.stop = true
	if c.stopReason == StopNone {
		c.stopReason = StopRequested
	}
}

// EndBlock ends the current block after the current instruction, e.g. when
// a device raised an interrupt line that should be taken promptly.
func (c *CPU) EndBlock() { c.stop = true }

// Halted reports whether the CPU is in the HLT state.
func (c *CPU) Halted() bool { return c.halted }

// CPL is the current privilege level.
func (c *CPU) CPL() int { return c.cpl }

// Mode is the code size being executed: 16, 32 or 64.
func (c *CPU) Mode() int { return int(c.mode) }

// InterruptsEnabled reports EFLAGS.IF.
func (c *CPU) InterruptsEnabled() bool { return c.eflags&FlagIF != 0 }

// modeChanged recomputes the cached mode bits after CR0, EFLAGS.VM, CS or SS change.
func (c *CPU) modeChanged() {
	c.pmode = c.CR0&CR0PE != 0 && c.eflags&FlagVM == 0
	if c.CR0&CR0PE == 0 {
		c.cpl = 0
	} else if c.eflags&FlagVM != 0 {
		c.cpl = 3
	} else {
		c.cpl = int(c.Seg[CS].Selector & 3)
		if c.Seg[CS].Access&AccS != 0 {
			c.cpl = c.Seg[CS].DPL()
			if c.Seg[CS].Access&AccExpDown != 0 { // conforming: CPL stays the RPL
				c.cpl = int(c.Seg[CS].Selector & 3)
			}
		}
	}
	c.long = c.EFER&EFERLMA != 0
	c.codeD = c.pmode && c.Seg[CS].Access&AccDB != 0
	c.stackB = c.pmode && c.Seg[SS].Access&AccDB != 0
	switch {
	case c.long && c.Seg[CS].Access&AccL != 0:
		c.mode = mode64
		c.codeD = false
		c.stackB = true
	case c.codeD:
		c.mode = mode32
	default:
		c.mode = mode16
	}
	c.refreshSegChecks()
}

// Run executes guest instructions until the budget of n instructions runs
// out, the CPU halts, a triple fault shuts it down, or a stop is requested.
func (c *CPU) Run(n uint64) (StopReason, error) {
	end := c.Stats.Instructions + n
	c.stopReason = StopNone
	c.intrHint = true // at every slice, whatever was notified
	faults := uint64(0)
	for {
		if c.runBlocks(end) {
			// An exception was delivered; go on, but count deliveries against
			// the budget so that a fault loop cannot spin forever.
			faults++
			if faults > n && c.stopReason == StopNone {
				return StopLimit, nil
			}
			continue
		}
		if c.stopReason != StopNone {
			r := c.stopReason
			c.stopReason = StopNone
			if r == StopShutdown {
				return r, fmt.Errorf("triple fault at %04x:%08x (%s; CR2=%#x)", c.Seg[CS].Selector, c.EIP, c.describeFaultChain(), c.CR2)
			}
			return r, nil
		}
		if c.halted {
			return StopHalt, nil
		}
		if c.Stats.Instructions >= end {
			return StopLimit, nil
		}
	}
}

// runBlocks runs blocks until a stop condition; it reports true if it
// returned because a guest exception was raised (and has been delivered).
func (c *CPU) runBlocks(end uint64) (faulted bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errFault {
				panic(r)
			}
			c.retireFaulting()
			c.deliverFault()
			faulted = true
		}
	}()
	var prev *block
	for c.Stats.Instructions < end {
		if c.stopReason != StopNone {
			return false
		}
		if c.intrHint && c.eflags&FlagIF != 0 && !c.inhibit && c.intr != nil {
			c.intrHint = c.intrPoll
			if c.intr.Pending() {
				c.halted = false
				c.takeExternalInterrupt()
				c.intrHint = true // another may wait behind this one
				prev = nil
			}
		}
		if c.halted {
			return false
		}
		c.inhibit = false
		if c.eflags&FlagTF != 0 {
			c.singleStep()
			prev = nil
			continue
		}
		// The successor is most often one of prev's links; look there
		// before calling out to the block cache.
		var b *block
		if prev != nil {
			if nb := prev.link[0]; nb != nil && nb.eip == c.EIP && nb.valid {
				b = nb
			} else if nb := prev.link[1]; nb != nil && nb.eip == c.EIP && nb.valid {
				b = nb
			}
		}
		if b != nil {
			c.Stats.ChainedJumps++
		} else {
			b = c.nextBlock(prev)
		}
		c.curBlock = b
		c.stop = false
		if b.native == nil && c.jit.on && !b.jitFailed {
			c.heat(b)
		}
		if b.native != nil && (b.mode == mode64 || c.flat32()) {
			if prev != nil && prev.native != nil {
				c.linkNative(prev, b)
			}
			b = c.execNative(b, end)
		} else {
			c.execBlock(b, &b.exec[0])
		}
		c.curBlock = nil
		if c.recheckTF {
			c.recheckTF = false
			if c.eflags&FlagTF != 0 && c.stopReason == StopNone {
				c.singleStepTrap() // SYSRET or SYSEXIT set TF
				prev = nil
				continue
			}
		}
		prev = b
		if c.stop {
			prev = nil
		}
	}
	return false
}

// execBlock runs the pre-decoded operations of one block from in, an
// element of b.exec. The hot loop: one store of EIP and one indirect call
// per guest instruction.
//
// It walks the list by pointer (nextInst) to its last entry: Go keeps no
// register across the call, and a pointer is the one value to reload.
func (c *CPU) execBlock(b *block, in *inst) {
	for {
		c.EIP = in.eip
		in.fn(c, in)
		if c.stop {
			c.blockStopped(b, in)
			return
		}
		if in.last {
			break
		}
		in = nextInst(in)
	}
	c.Stats.Instructions += uint64(len(b.insts))
	if !in.branch {
		c.EIP = in.next
	}
}

// blockStopped ends a block early after the operation in of b.exec set c.stop.
func (c *CPU) blockStopped(b *block, in *inst) {
	i := instIndex(b.exec, in)
	n := i + 1
	if n == len(b.exec) {
		n = len(b.insts) // a fused pair retired both
	}
	c.Stats.Instructions += uint64(n)
	if in := &b.exec[i]; !in.branch {
		c.EIP = in.next
	}
}

// retireFaulting counts the instructions of the current block that completed
// before the one that faulted.
func (c *CPU) retireFaulting() {
	b := c.curBlock
	c.curBlock = nil
	if b == nil {
		return
	}
	for i := range b.insts {
		if b.insts[i].eip == c.EIP {
			c.Stats.Instructions += uint64(i)
			return
		}
	}
}

// singleStep runs one instruction with EFLAGS.TF set and then raises the
// single-step debug trap (SDM Vol. 3A §17.3.1.4).
func (c *CPU) singleStep() {
	csBase := c.Seg[CS].Base
	if c.mode == mode64 {
		csBase = 0
	}
	pa := c.fetchPhys(csBase + c.EIP)
	b := c.translateOne(pa, c.EIP, csBase)
	c.curBlock = b
	c.stop = false
	c.execBlock(b, &b.exec[0])
	c.curBlock = nil
	if c.stopReason != StopNone || c.halted {
		return
	}
	if c.recheckTF {
		// SYSCALL, SYSRET, SYSENTER, SYSEXIT: the trap follows TF as the
		// instruction left it, so a kernel can mask TF on entry (Linux's
		// MSR_SYSCALL_MASK) and a return that sets TF traps at once.
		c.recheckTF = false
		if c.eflags&FlagTF == 0 {
			return
		}
	}
	c.singleStepTrap()
}

// singleStepTrap delivers the single-step #DB after an instruction.
func (c *CPU) singleStepTrap() {
	c.DR[6] |= 1 << 14 // BS
	c.trapDB = true
	c.fault = fault{vector: ExcDB}
	c.deliverFault()
}

// describeFaultChain names the exceptions that led to a shutdown.
func (c *CPU) describeFaultChain() string {
	out := ""
	for i, f := range c.faultChain {
		if i > 0 {
			out += " → "
		}
		out += fmt.Sprintf("vector %d", f.vector)
		if f.hasCode {
			out += fmt.Sprintf(" code %#x", f.code)
		}
	}
	if out == "" {
		return "no exception recorded"
	}
	return out
}
