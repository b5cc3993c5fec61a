//go:build linux && amd64

package hostexec

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The mapping: one code page (RX while running, RW while being written), one
// context page (RW) and the scratch area (RW). The epilogue reaches the
// context page RIP-relative, so it needs no free register and no stack.
const (
	pageSize = 4096
	ctxOff   = pageSize     // context: GPR[16], RFLAGS, entry
	memOff   = 2 * pageSize // scratch area
	mapSize  = memOff + MaxMem

	ctxFlags = 16 * 8
	ctxEntry = 17 * 8
)

// enter loads the registers and RFLAGS from the context at ctx, calls the
// code at its entry field and restores BP (hostexec_amd64.s).
//
//go:noescape
func enter(ctx uintptr)

var host struct {
	sync.Mutex
	once sync.Once
	m    []byte
	base uintptr
	err  error
}

func setup() {
	m, err := unix.Mmap(-1, 0, mapSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		host.err = fmt.Errorf("hostexec: mmap: %w", err)
		return
	}
	host.m, host.base = m, uintptr(unsafe.Pointer(&m[0]))
	if err := unix.Mprotect(m[:pageSize], unix.PROT_READ|unix.PROT_EXEC); err != nil {
		host.err = fmt.Errorf("hostexec: cannot map a page executable: %w", err)
	}
}

// Run runs code natively from the registers and flags in in, with mem as the
// scratch area: in.GPR[BaseReg] is an offset into mem, and the code finds
// the area's address plus that offset in BaseReg. The code must end where
// it falls through to its last byte (no jumps out), must not touch RSP, and
// must not fault (see the package comment). mem is updated in place; the
// result's GPR[BaseReg] is again relative to mem and its GPR[RSP] is in's.
func Run(code []byte, in *Regs, mem []byte) (Regs, error) {
	host.once.Do(setup)
	if host.err != nil {
		return Regs{}, host.err
	}
	if len(code) > MaxCode || len(mem) > MaxMem {
		return Regs{}, fmt.Errorf("hostexec: code %d bytes (max %d), scratch %d bytes (max %d)", len(code), MaxCode, len(mem), MaxMem)
	}
	host.Lock()
	defer host.Unlock()
	m := host.m
	if err := unix.Mprotect(m[:pageSize], unix.PROT_READ|unix.PROT_WRITE); err != nil {
		return Regs{}, fmt.Errorf("hostexec: mprotect RW: %w", err)
	}
	n := copy(m, code)
	n += epilogue(m[n:], n)
	clear(m[n:pageSize])
	if err := unix.Mprotect(m[:pageSize], unix.PROT_READ|unix.PROT_EXEC); err != nil {
		return Regs{}, fmt.Errorf("hostexec: mprotect RX: %w", err)
	}

	scratch := uint64(host.base) + memOff
	ctx := m[ctxOff : ctxOff+pageSize]
	for i, v := range in.GPR {
		if i == BaseReg {
			v += scratch
		}
		binary.LittleEndian.PutUint64(ctx[8*i:], v)
	}
	binary.LittleEndian.PutUint64(ctx[ctxFlags:], in.Flags&Loaded|0x202)
	binary.LittleEndian.PutUint64(ctx[ctxEntry:], uint64(host.base))
	copy(m[memOff:], mem)

	enter(host.base + ctxOff)

	var out Regs
	for i := range out.GPR {
		out.GPR[i] = binary.LittleEndian.Uint64(ctx[8*i:])
	}
	out.GPR[BaseReg] -= scratch
	out.GPR[RSP] = in.GPR[RSP]
	out.Flags = binary.LittleEndian.Uint64(ctx[ctxFlags:])
	copy(mem, m[memOff:])
	return out, nil
}

// epilogue writes at b, which is at offset at in the code page, the code
// that stores all registers but RSP and RFLAGS into the context and returns:
// MOV [rip+d], r64 for each, PUSHFQ, POP [rip+d], RET. It uses 8 bytes of
// stack below the return address, as the CALL did.
func epilogue(b []byte, at int) int {
	n := 0
	rip := func(field, size int) []byte { // disp32 to a context field
		d := int32(ctxOff + field - (at + n + size))
		return binary.LittleEndian.AppendUint32(nil, uint32(d))
	}
	for r := 0; r < 16; r++ {
		if r == RSP {
			continue
		}
		rex := byte(0x48 | (r>>3)<<2) // REX.W, REX.R for R8–R15
		n += copy(b[n:], append([]byte{rex, 0x89, byte((r&7)<<3 | 5)}, rip(8*r, 7)...))
	}
	n += copy(b[n:], []byte{0x9C}) // PUSHFQ
	n += copy(b[n:], append([]byte{0x8F, 0x05}, rip(ctxFlags, 6)...))
	n += copy(b[n:], []byte{0xC3})
	return n
}
