// Package ssehost runs single SSE, SSE2 and MMX instructions on the host
// processor, for tests only: the host's own silicon is the oracle for the
// emulator's vector and floating-point semantics (DESIGN.md, "How we know it
// is right"). Code is copied into an executable anonymous mapping and called
// with the guest-visible registers loaded from a State and stored back.
package ssehost

import (
	"errors"
	"runtime"
	"syscall"
)

// State is the register file the trampoline loads before the code runs and
// stores after it returns. The field offsets are fixed: ssehost_amd64.s
// uses them.
type State struct {
	XMM   [8][16]byte // offset 0
	MM    [8]uint64   // offset 128
	GPR   [8]uint64   // offset 192: RAX RCX RDX RBX (RSP RBP unused) RSI RDI (outputs)
	MXCSR uint32      // offset 256
	Flags uint32      // offset 260: RFLAGS after the code (output only)
}

// Supported reports whether this host can run code (amd64 only).
func Supported() bool { return runtime.GOARCH == "amd64" }

// Code is an executable buffer.
type Code struct {
	buf []byte
}

// NewCode maps an executable page-aligned buffer of size bytes.
func NewCode(size int) (*Code, error) {
	if !Supported() {
		return nil, errors.New("ssehost: not an amd64 host")
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, err
	}
	return &Code{buf: b}, nil
}

// Run copies insn followed by RET into the buffer and executes it with the
// registers of s; RSI and RDI point at mem (which must be at least 16 bytes and
// should be 16-byte aligned for aligned forms). MXCSR must mask every
// exception: an unmasked one would kill the test process with SIGFPE.
func (c *Code) Run(insn []byte, s *State, mem []byte) {
	if len(insn)+1 > len(c.buf) || len(mem) < 16 {
		panic("ssehost: bad buffers")
	}
	if s.MXCSR&0x1F80 != 0x1F80 {
		panic("ssehost: unmasked MXCSR exception")
	}
	n := copy(c.buf, insn)
	c.buf[n] = 0xC3 // RET
	run(c.buf, s, mem)
}

// Close unmaps the buffer.
func (c *Code) Close() error { return syscall.Munmap(c.buf) }
