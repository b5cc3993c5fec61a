// Package cpu is the virtual x86 CPU: architectural state, the translator
// (decode once into cached blocks of pre-decoded operations), instruction
// semantics and exception delivery. It knows no device: it reaches the machine
// through mmu.Memory and the small interfaces in this file.
package cpu

// Register numbers in encoding order (SDM Vol. 2A §2.1.5, Table 2-2).
const (
	EAX = iota
	ECX
	EDX
	EBX
	ESP
	EBP
	ESI
	EDI
)

// Segment register numbers in encoding order (SDM Vol. 2A §3.1.1.3, Sreg).
const (
	ES = iota
	CS
	SS
	DS
	FS
	GS
)

// EFLAGS bits (SDM Vol. 1 §3.4.3).
const (
	FlagCF   = 1 << 0
	FlagPF   = 1 << 2
	FlagAF   = 1 << 4
	FlagZF   = 1 << 6
	FlagSF   = 1 << 7
	FlagTF   = 1 << 8
	FlagIF   = 1 << 9
	FlagDF   = 1 << 10
	FlagOF   = 1 << 11
	FlagIOPL = 3 << 12
	FlagNT   = 1 << 14
	FlagRF   = 1 << 16
	FlagVM   = 1 << 17
	FlagAC   = 1 << 18
	FlagVIF  = 1 << 19
	FlagVIP  = 1 << 20
	FlagID   = 1 << 21

	// ArithFlags are the six status flags that arithmetic sets.
	ArithFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF
)

// Control-register bits (SDM Vol. 3A §2.5).
const (
	CR0PE = 1 << 0
	CR0MP = 1 << 1
	CR0EM = 1 << 2
	CR0TS = 1 << 3
	CR0ET = 1 << 4
	CR0NE = 1 << 5
	CR0WP = 1 << 16
	CR0AM = 1 << 18
	CR0NW = 1 << 29
	CR0CD = 1 << 30
	CR0PG = 1 << 31

	CR4VME = 1 << 0
	CR4PVI = 1 << 1
	CR4TSD = 1 << 2
	CR4DE  = 1 << 3
	CR4PSE = 1 << 4
	CR4PAE = 1 << 5
	CR4PGE = 1 << 7
	CR4PCE = 1 << 8

	// EFER bits (SDM Vol. 3A §2.2.1, Table 2-1 and §5.8.8).
	EFERSCE = 1 << 0
	EFERLME = 1 << 8
	EFERLMA = 1 << 10
	EFERNXE = 1 << 11
)

// Segment is a segment register with its hidden descriptor cache
// (SDM Vol. 3A §3.4.3). Access holds descriptor bits 40–47 in its low byte
// (type, S, DPL, P) and bits 52–55 in bits 12–15 (AVL, L, D/B, G), the layout
// VMX and KVM use.
type Segment struct {
	Selector uint16
	Base     uint64
	Limit    uint32 // expanded to bytes
	Access   uint16
}

// Descriptor-cache access bits.
const (
	AccAccessed = 1 << 0
	AccWritable = 1 << 1 // data: writable; code: readable
	AccExpDown  = 1 << 2 // data: expand-down; code: conforming
	AccCode     = 1 << 3
	AccS        = 1 << 4 // code or data (not system)
	AccDPLShift = 5
	AccP        = 1 << 7
	AccL        = 1 << 13
	AccDB       = 1 << 14
	AccG        = 1 << 15
)

// DPL returns the descriptor privilege level.
func (s *Segment) DPL() int { return int(s.Access>>AccDPLShift) & 3 }

// DTR is a descriptor-table register (GDTR, IDTR).
type DTR struct {
	Base  uint64
	Limit uint16
}

// State is the architectural state that both engines load and store.
type State struct {
	GPR    [16]uint64 // RAX RCX RDX RBX RSP RBP RSI RDI R8–R15
	EIP    uint64
	EFLAGS uint64
	Seg    [6]Segment // ES CS SS DS FS GS
	LDTR   Segment
	TR     Segment
	GDTR   DTR
	IDTR   DTR
	CR0    uint64
	CR2    uint64
	CR3    uint64
	CR4    uint64
	CR8    uint64
	DR     [8]uint64
	EFER   uint64
	// The long-mode MSRs (SDM Vol. 4 Table 2-2; Vol. 3A §5.8.8 SYSCALL).
	STAR, LSTAR, CSTAR, SFMASK uint64
	KernelGSBase               uint64
	PAT                        uint64
	TSCAux                     uint64
	TSC                        uint64
	// SysenterCS, SysenterESP, SysenterEIP are the SYSENTER MSRs (SDM Vol. 2B SYSENTER).
	SysenterCS, SysenterESP, SysenterEIP uint64
	Halted                               bool
	FPU                                  FPUState
}

// FPUState is the x87, MMX and SSE state, in the terms of FXSAVE
// (SDM Vol. 1 §10.5.1, Table 10-2) and of KVM's kvm_fpu.
type FPUState struct {
	FCW   uint16      // x87 control word
	FSW   uint16      // x87 status word (TOP in bits 11–13)
	FTW   uint8       // abridged tag word: bit i set when physical register i is valid
	FOP   uint16      // last x87 opcode (11 bits)
	FIP   uint64      // last x87 instruction pointer
	FDP   uint64      // last x87 data pointer
	ST    [8][10]byte // ST(0)–ST(7) in stack order (ST[i] = ST(i)), as FXSAVE and kvm_fpu; 80-bit little-endian
	XMM   [16][16]byte
	MXCSR uint32
}

// ResetFPU is the x87/SSE state after RESET or FNINIT/power-up with SSE
// (SDM Vol. 1 §8.1.1 FINIT; §10.2.3.1 MXCSR default 0x1F80).
func ResetFPU() FPUState {
	return FPUState{FCW: 0x037F, MXCSR: 0x1F80}
}

// RealModeSegment returns a real-mode segment cache for selector sel
// (SDM Vol. 3A §20.1.1: base = selector × 16, limit 64 KiB).
func RealModeSegment(sel uint16) Segment {
	return Segment{Selector: sel, Base: uint64(sel) << 4, Limit: 0xFFFF, Access: AccP | AccS | AccWritable | AccAccessed}
}

// ResetState is the state after RESET, except that CS:IP is given
// (SDM Vol. 3A §9.1.1, Table 9-1).
func ResetState(cs, ip uint16) State {
	var s State
	for i := range s.Seg {
		s.Seg[i] = RealModeSegment(0)
	}
	s.Seg[CS] = RealModeSegment(cs)
	s.Seg[CS].Access |= AccCode
	s.EIP = uint64(ip)
	s.EFLAGS = 2
	s.CR0 = CR0ET | CR0CD | CR0NW
	s.GDTR.Limit = 0xFFFF
	s.IDTR.Limit = 0xFFFF
	s.LDTR = Segment{Limit: 0xFFFF, Access: AccP | 2}
	s.TR = Segment{Limit: 0xFFFF, Access: AccP | 11}
	s.FPU = ResetFPU()
	s.PAT = DefaultPAT
	return s
}

// FlatProtectedState is the state that multiboot and ELF loaders hand a
// 32-bit kernel: protected mode, paging off, flat 4 GiB code (selector 0x10)
// and data (0x18) segments, interrupts off (Multiboot 0.6.96 §3.2).
func FlatProtectedState(entry uint32) State {
	s := ResetState(0, 0)
	code := Segment{Selector: 0x10, Limit: 0xFFFFFFFF, Access: AccP | AccS | AccCode | AccWritable | AccAccessed | AccDB | AccG}
	data := Segment{Selector: 0x18, Limit: 0xFFFFFFFF, Access: AccP | AccS | AccWritable | AccAccessed | AccDB | AccG}
	for i := range s.Seg {
		s.Seg[i] = data
	}
	s.Seg[CS] = code
	s.CR0 = CR0PE | CR0ET
	s.EIP = uint64(entry)
	return s
}

// IO is the port-I/O space as the CPU sees it.
type IO interface {
	In(port uint16, size int) uint32
	Out(port uint16, size int, v uint32)
}

// MSRs are model-specific registers that the machine rather than the core
// implements (IA32_APIC_BASE, IA32_TSC_DEADLINE, paravirtual MSRs). Each
// method reports false for an MSR it does not have: the CPU raises #GP(0).
type MSRs interface {
	ReadMSR(n uint32) (uint64, bool)
	WriteMSR(n uint32, v uint64) bool
}

// Interrupts is the CPU's INTR line and interrupt-acknowledge cycle.
type Interrupts interface {
	// Pending reports whether a maskable interrupt is waiting.
	Pending() bool
	// Acknowledge returns the vector of the interrupt being taken.
	Acknowledge() uint8
}

// InterruptNotifier is an Interrupts that calls back whenever Pending may
// have turned true, so that the CPU need not ask before every block: it
// asks at the first block boundary with IF set after a call. Without it,
// the CPU asks before every block.
type InterruptNotifier interface {
	Interrupts
	NotifyPending(f func())
}
