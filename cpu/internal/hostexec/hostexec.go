// Package hostexec runs short x86 instruction sequences natively on the
// host CPU, so that tests can compare the interpreter with silicon
// (DESIGN.md, "How we know it is right", item 1), and generates random
// sequences that are safe to run that way.
//
// Run maps one executable page, copies the code into it followed by an
// epilogue that stores every register and RFLAGS, and enters it through a
// Go assembly trampoline (hostexec_amd64.s). There is no cgo and no signal
// handling: an instruction that faults (#UD, #GP, #PF, #DE, #AC) kills the
// whole test process with SIGILL/SIGSEGV/SIGFPE/SIGBUS. The generator
// (gen.go) therefore emits only instructions that cannot fault: no
// division, no privileged or I/O instruction, no stack use, memory
// operands only [rbp+disp] inside the scratch area, no LOCK on a register.
package hostexec

import "errors"

// Register numbers in encoding order (SDM Vol. 2A §2.1.5, Table 2-2).
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
)

// BaseReg holds the scratch area's address while the code runs: Regs gives
// and returns it as an offset into the area. The generator never writes it.
const BaseReg = RBP

// BaseOff is the offset into the scratch area that the generator's cases put
// in BaseReg, so that disp8 reaches the area's first 256 bytes.
const BaseOff = 0x80

// MemSize is the size of the scratch area the generator addresses.
const MemSize = 4096

// RFLAGS bits (SDM Vol. 1 §3.4.3).
const (
	CF = 1 << 0
	PF = 1 << 2
	AF = 1 << 4
	ZF = 1 << 6
	SF = 1 << 7
	DF = 1 << 10
	OF = 1 << 11

	// Arith are the six status flags.
	Arith = CF | PF | AF | ZF | SF | OF
	// Loaded are the flags Run loads from Regs.Flags; others are the host's.
	Loaded = Arith | DF
)

// Regs is the register state given to and returned by Run.
type Regs struct {
	GPR   [16]uint64 // RAX RCX RDX RBX RSP RBP RSI RDI R8–R15; RSP is not loaded
	Flags uint64     // RFLAGS; Run loads only the Loaded bits
}

// MaxCode and MaxMem bound Run's code and scratch area.
const (
	MaxCode = 4096 - 256
	MaxMem  = 64 << 10
)

// ErrUnsupported is returned where native execution is not available.
var ErrUnsupported = errors.New("hostexec: native execution needs linux/amd64")
