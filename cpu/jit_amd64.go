//go:build linux && amd64

package cpu

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gemu-project/gemu/mmu"
)

// The translator to x86-64 host code (jit.go says what it is for).
//
// Register use in native code: RBX holds the *CPU (set by jitEnter); RDX
// carries effective addresses and then the host address of a memory
// operand; RAX, RCX and RSI are scratch. The guest registers stay in
// CPU.R, so the state is exact at every instruction boundary but for the
// arithmetic flags, which live in the host's RFLAGS between instructions
// and are stored to jitState.flags whenever the code leaves. Host
// instructions that change flags are used only where the guest instruction
// defines the same flags; around a TLB probe (which clobbers them) flags
// that are still needed are saved on the stack or spilled (plan, probe).
// Memory is reached only through TLB entries, which the MMU fills for RAM
// pages only and, for writes, never for a page that holds translated code
// (translate, registerCodePage): native code cannot leave guest RAM nor
// modify code without the interpreter seeing it. Encodings: SDM Vol. 2A
// §2.1 (ModRM, SIB, displacement) and §2.2.1 (REX).

//go:noescape
func jitEnter(entry uintptr, c *CPU) uint64

// Offsets into CPU for the generated code.
var (
	offR     = int32(unsafe.Offsetof(CPU{}.R))
	offEIP   = int32(unsafe.Offsetof(CPU{}.EIP))
	offJIT   = int32(unsafe.Offsetof(CPU{}.jit))
	offRAM   = int32(unsafe.Offsetof(CPU{}.ram)) // a slice: its first word is &RAM[0]
	offTLBR  = offJIT + int32(unsafe.Offsetof(jitState{}.tlbRead))
	offTLBW  = offJIT + int32(unsafe.Offsetof(jitState{}.tlbWrit))
	offFlags = offJIT + int32(unsafe.Offsetof(jitState{}.flags))
	offSeg   = int32(unsafe.Offsetof(CPU{}.Seg))
	offEnd   = offJIT + int32(unsafe.Offsetof(jitState{}.end))
	offInsns = int32(unsafe.Offsetof(CPU{}.Stats) + unsafe.Offsetof(Stats{}.Instructions))
	offNatv  = int32(unsafe.Offsetof(CPU{}.Stats) + unsafe.Offsetof(Stats{}.NativeInstructions))
	offHits  = int32(unsafe.Offsetof(CPU{}.tlb) + unsafe.Offsetof(mmu.TLB{}.Hits))
	offTLBX  = offJIT + int32(unsafe.Offsetof(jitState{}.tlbExec))
	offJC    = offJIT + int32(unsafe.Offsetof(jitState{}.jumps))
)

// codeBuffer is executable memory filled from the start; it is emptied
// with the translations (FlushTranslations).
type codeBuffer struct {
	mem  []byte
	used int
}

const codeBufferSize = 64 << 20

func newCodeBuffer() *codeBuffer {
	m, err := unix.Mmap(-1, 0, codeBufferSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil // e.g. a kernel that refuses writable and executable pages
	}
	b := &codeBuffer{mem: m}
	runtime.AddCleanup(b, func(m []byte) { unix.Munmap(m) }, m)
	return b
}

func (b *codeBuffer) reset() { b.used = 0 }

// patchJump points the rel32 of a jump at site to target.
func (b *codeBuffer) patchJump(site, target uintptr) {
	off := site - uintptr(unsafe.Pointer(&b.mem[0]))
	binary.LittleEndian.PutUint32(b.mem[off:], uint32(int32(target-(site+4))))
}

// place copies code into the buffer and returns its address, or 0 when full.
func (b *codeBuffer) place(code []byte) uintptr {
	if b.used+len(code) > len(b.mem) {
		return 0
	}
	copy(b.mem[b.used:], code)
	p := uintptr(unsafe.Pointer(&b.mem[b.used]))
	b.used += (len(code) + 15) &^ 15
	return p
}

// Host registers.
const (
	hAX = 0
	hCX = 1
	hDX = 2
	hBX = 3
	hSI = 6
)

// hmem is a host memory operand [base + disp].
type hmem struct {
	base int
	disp int32
}

type asm struct{ b []byte }

func (a *asm) emit(v ...byte) { a.b = append(a.b, v...) }
func (a *asm) u32(v uint32)   { a.b = binary.LittleEndian.AppendUint32(a.b, v) }
func (a *asm) u64(v uint64)   { a.b = binary.LittleEndian.AppendUint64(a.b, v) }

// prefix emits the operand-size prefix and REX for an operand size and
// the ModRM reg and rm registers.
func (a *asm) prefix(size int, reg, rm int) {
	if size == 2 {
		a.emit(0x66)
	}
	rex := byte(0)
	if size == 8 {
		rex |= 8
	}
	if reg >= 8 {
		rex |= 4
	}
	if rm >= 8 {
		rex |= 1
	}
	if rex != 0 {
		a.emit(0x40 | rex)
	}
}

// rm emits op with a memory operand: [66] [REX] op ModRM [disp].
func (a *asm) rm(size int, op []byte, reg int, m hmem) {
	a.prefix(size, reg, m.base)
	a.emit(op...)
	r := byte(reg&7) << 3
	switch {
	case m.disp == 0 && m.base&7 != 5:
		a.emit(r | byte(m.base&7))
	case m.disp >= -128 && m.disp < 128:
		a.emit(0x40|r|byte(m.base&7), byte(m.disp))
	default:
		a.emit(0x80 | r | byte(m.base&7))
		a.u32(uint32(m.disp))
	}
}

// rr emits op with a register operand in ModRM.rm.
func (a *asm) rr(size int, op []byte, reg, rm int) {
	a.prefix(size, reg, rm)
	a.emit(op...)
	a.emit(0xC0 | byte(reg&7)<<3 | byte(rm&7))
}

// imm emits an immediate of the operand size (at most 32 bits).
func (a *asm) imm(size int, v uint64) {
	switch size {
	case 1:
		a.emit(byte(v))
	case 2:
		a.emit(byte(v), byte(v>>8))
	default:
		a.u32(uint32(v))
	}
}

// op8v picks the byte form or the full-size form of an opcode.
func op8v(size int, op8 byte) []byte {
	if size == 1 {
		return []byte{op8}
	}
	return []byte{op8 + 1}
}

// bitTest is the Grp8 digit of a BT, BTS, BTR or BTC handler (0: none).
func bitTest(fn handler) int {
	switch {
	case same(fn, opBT):
		return 4
	case same(fn, opBTS):
		return 5
	case same(fn, opBTR):
		return 6
	case same(fn, opBTC):
		return 7
	}
	return 0
}

func b2byte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// movImm64 loads a 64-bit constant into a host register.
func (a *asm) movImm64(reg int, v uint64) {
	a.prefix(8, 0, reg)
	a.emit(0xB8 + byte(reg&7))
	a.u64(v)
}

// guestReg is the host operand of a guest register of the given size
// (byte registers 4–7 without REX are AH–BH, 24–27 are SPL–DIL).
func guestReg(size uint8, r uint8) hmem {
	if size == 1 {
		switch {
		case r >= byteRegREX:
			r -= byteRegREX
		case r >= 4 && r < 8:
			return hmem{hBX, offR + 8*int32(r-4) + 1}
		}
	}
	return hmem{hBX, offR + 8*int32(r)}
}

// Flag states while translating (plan, probe).
const (
	flClean   = iota // the host flags hold nothing the guest needs
	flLoaded         // they hold the guest's flags as the block found them
	flDirty          // they hold flags the block wrote
	flSpilled        // the flags the block wrote are in jitState.flags
)

// exitSite is a jump to patch to the code that leaves at instruction idx.
type exitSite struct {
	at       int // offset of the rel32
	idx      int
	popFlags bool // the flags were pushed before the TLB probe
	state    int
}

type jitc struct {
	a      asm
	c      *CPU
	insts  []inst
	n      int // instructions translated
	state  int
	exits  []exitSite
	hits   []uint32
	probes uint32
	id     uint64 // the block's index in jitState.blocks
	chains []chainExit
	mode   uint8
	// toLookup and toReturn are rel32 fields to point at the block's
	// lookup and return stubs (dispatch).
	toLookup, toReturn []int
	// flag use of each instruction: reads (a reader, or a writer of only
	// some flags), writes all status flags, writes some.
	reads, writesAll, writes []bool
	needAfter                []bool
}

// flagUse classifies a supported instruction's use of the status flags.
func flagUse(in *inst) (reads, writesAll, writes bool) {
	fn := in.fn
	switch {
	case same(fn, aluEG), same(fn, aluGE), same(fn, aluEI), same(fn, aluAI):
		r := in.sub == aluADC || in.sub == aluSBB
		return r, true, true
	case same(fn, testEG), same(fn, testEI), same(fn, testAI), same(fn, opNEG),
		same(fn, imulGE), same(fn, imulGEI), same(fn, opDIV), same(fn, opIDIV), same(fn, opCMPXCHG), same(fn, opXADD),
		same(fn, opMUL), same(fn, opIMUL1):
		return false, true, true
	case same(fn, incE), same(fn, decE), same(fn, incReg), same(fn, decReg), bitTest(fn) != 0:
		return true, false, true
	case same(fn, opShift):
		count := in.imm
		if in.imm2 == 1 {
			count = 1
		}
		if in.imm2 != 2 && count&shiftCountMask(in.size) != 0 && (in.sub == shSHL || in.sub == shSHR || in.sub == shSAL || in.sub == shSAR) {
			return false, true, true
		}
		return true, false, true
	case same(fn, opCMOVcc), same(fn, opSETcc), same(fn, opJcc):
		return true, false, false
	}
	return false, false, false
}

// supported reports whether the translator handles in.
func supported(in *inst) bool {
	fn := in.fn
	// LOCK: one virtual CPU, so the read-modify-write needs no bus lock
	// (the interpreter does the same); the forms it allows all have a
	// memory destination, which the translator handles below.
	if in.lock && !(same(fn, aluEG) || same(fn, aluEI) || same(fn, incE) || same(fn, decE) ||
		same(fn, opNOT) || same(fn, opNEG) || same(fn, opCMPXCHG) || same(fn, opXADD) || same(fn, xchgEG) || bitTest(fn) > 4) {
		return false
	}
	if in.rep != 0 && !same(fn, opNOP) && !same(fn, xchgAX) {
		return false
	}
	switch {
	case same(fn, aluEG), same(fn, aluGE), same(fn, aluEI), same(fn, aluAI),
		same(fn, testEG), same(fn, testEI), same(fn, testAI),
		same(fn, movEG), same(fn, movGE), same(fn, movEI), same(fn, movRI),
		same(fn, incE), same(fn, decE), same(fn, incReg), same(fn, decReg), same(fn, opNOT), same(fn, opNEG),
		same(fn, movzxB), same(fn, movzxW), same(fn, movsxB), same(fn, movsxW),
		same(fn, opSETcc), same(fn, opNOP):
		return true
	case same(fn, opLEA):
		return in.size != 2
	case same(fn, xchgAX), same(fn, xchgEG), same(fn, opMUL), same(fn, opIMUL1):
		return true
	case same(fn, opLEAVE):
		return in.size == 8 // 64-bit mode
	case same(fn, opShift):
		return in.sub != shRCL && in.sub != shRCR
	case same(fn, opMOVSXD):
		return in.size == 8 || in.size == 4
	case same(fn, imulGE), same(fn, imulGEI), same(fn, opCMOVcc):
		return in.size != 1
	case same(fn, opJcc), same(fn, opJMPrel):
		return canonical(in.imm)
	case same(fn, pushReg), same(fn, popReg), same(fn, pushImm), same(fn, opRET):
		return in.size == 8 // 64-bit mode
	case same(fn, opCALLrel):
		return in.size == 8 && canonical(in.imm)
	case same(fn, opDIV), same(fn, opIDIV), same(fn, opCBW), same(fn, opCWD):
		return true
	case same(fn, opCMPXCHG), same(fn, opXADD):
		return in.mem // a register destination is written differently by vendors
	case bitTest(fn) != 0:
		// With a register offset, a memory operand is a bit string that
		// may reach beyond it (SDM Vol. 2A BT): left to the interpreter.
		return !in.mem || in.sub == 1
	case same(fn, opBSWAP):
		return in.size != 2
	}
	return false
}

// pageFetcher serves the bytes of one page of guest code from RAM.
type pageFetcher struct {
	ram  []byte
	page uint64 // linear page
	phys uint64
}

func (f *pageFetcher) byteAt(off uint64) (uint8, bool) {
	if off&^0xFFF != f.page {
		return 0, false
	}
	return f.ram[f.phys+off&0xFFF], true
}

// compileBlock translates b (valid; 64-bit code, or 32-bit code with a CS
// base of 0) to native code: the prefix of its instructions that the
// translator handles, within its first page. It returns nil when that
// prefix is too short to be worth it.
func (c *CPU) compileBlock(b *block) *nativeBlock {
	if c.jit.code == nil || uint64(b.phys)|0xFFF >= uint64(len(c.ram)) {
		return nil
	}
	// Decode again without specialization or fusion: the translator reads
	// the generic operand fields, which those rewrite.
	f := &pageFetcher{ram: c.ram, page: b.eip &^ 0xFFF, phys: uint64(b.phys) &^ 0xFFF}
	insts := c.jit.insts[:0] // scratch, reused: translation allocates little
	defer func() { c.jit.insts = insts[:0] }()
	for i := range b.insts {
		var in inst
		if decodeGeneric(f, b.insts[i].eip, b.mode, &in) != decOK || in.next != b.insts[i].next || !supported(&in) ||
			b.mode == mode32 && in.mem && (in.asize != 4 || in.seg != DS && in.seg != ES && in.seg != SS) {
			break
		}
		insts = append(insts, in)
	}
	n := len(insts)
	if n < len(b.insts) && n >= len(b.exec) {
		n = len(b.exec) - 1 // the fused pair is dispatched as one: leave before it
	}
	if n < 2 && !(n == 1 && n == len(b.insts)) {
		return nil
	}
	j := &jitc{c: c, insts: insts[:n], n: n, id: uint64(len(c.jit.blocks)), mode: b.mode}
	j.a.b = c.jit.scratch[:0]
	defer func() { c.jit.scratch = j.a.b[:0] }()
	j.plan()
	j.translate(len(b.insts))
	entry := c.jit.code.place(j.a.b)
	if entry == 0 {
		// Full: start again with every block (none is running).
		c.FlushTranslations()
		return nil
	}
	for i := range j.chains {
		j.chains[i].site += entry
	}
	c.jit.blocks = append(c.jit.blocks, b)
	return &nativeBlock{entry: entry, hits: j.hits, exits: j.chains}
}

// plan computes where flags are read, written and needed (needAfter[i]:
// the flags as they are before instruction i are read later).
func (j *jitc) plan() {
	n := j.n
	j.reads = make([]bool, n)
	j.writesAll = make([]bool, n)
	j.writes = make([]bool, n)
	j.needAfter = make([]bool, n+1)
	for i := n - 1; i >= 0; i-- {
		j.reads[i], j.writesAll[i], j.writes[i] = flagUse(&j.insts[i])
		j.needAfter[i] = j.reads[i] || !j.writesAll[i] && j.needAfter[i+1]
	}
}

// translate emits the block: the entry, each instruction, then the exits.
// total is the block's instruction count (the index that means "done").
func (j *jitc) translate(total int) {
	a := &j.a
	j.hits = make([]uint32, total+1)
	if j.needAfter[0] {
		a.rm(0, []byte{0xFF}, 6, hmem{hBX, offFlags}) // push [flags]
		a.emit(0x9D)                                  // popfq
		j.state = flLoaded
	}
	ended := false
	for i := range j.insts {
		j.hits[i] = j.probes
		in := &j.insts[i]
		if j.emitInst(i, in, total) {
			ended = true
			break
		}
		if j.writes[i] {
			j.state = flDirty
		}
	}
	for i := j.n; i <= total; i++ {
		j.hits[i] = j.probes
	}
	if !ended {
		if j.n == total {
			last := &j.insts[j.n-1]
			j.leave(total, last.next)
		} else {
			j.leaveAt(j.n, j.state)
		}
	}
	if len(j.toReturn) > 0 {
		j.dispatch(total)
	}
	for _, e := range j.exits {
		binary.LittleEndian.PutUint32(a.b[e.at:], uint32(len(a.b)-(e.at+4)))
		if e.popFlags {
			a.emit(0x9D) // popfq
		}
		j.leaveAt(e.idx, e.state)
	}
}

// leaveAt returns to the interpreter at instruction idx with flags state st.
func (j *jitc) leaveAt(idx, st int) {
	a := &j.a
	if st == flDirty {
		a.emit(0x9C)                                  // pushfq
		a.rm(0, []byte{0x8F}, 0, hmem{hBX, offFlags}) // pop [flags]
	}
	a.movImm64(hAX, j.id<<32|uint64(idx))
	a.emit(0xC3) // ret
}

// chainTo ends the block at target with the flags stored: it counts the
// block's instructions and TLB hits, and, while the budget in
// jitState.end lasts, jumps on to the successor's native code once
// linkNative has patched the jump (until then, and when the budget is
// spent, it returns).
func (j *jitc) chainTo(target uint64, total int) {
	a := &j.a
	a.movImm64(hAX, target)
	a.rm(8, []byte{0x89}, hAX, hmem{hBX, offEIP})
	j.count(total)
	j.budget()
	a.emit(0xE9) // jmp rel32: on to the lookup until linked
	site := len(a.b)
	a.u32(0)
	j.chains = append(j.chains, chainExit{target: target, site: uintptr(site)})
	a.movImm64(hAX, target)
	j.jumpStub(&j.toLookup)
}

// budget returns to Go when the instruction budget is spent (RCX, flags).
func (j *jitc) budget() {
	a := &j.a
	a.rm(8, []byte{0x8B}, hCX, hmem{hBX, offInsns}) // mov rcx, [insns]
	a.rm(8, []byte{0x3B}, hCX, hmem{hBX, offEnd})   // cmp rcx, [end]
	a.emit(0x0F, 0x83)                              // jae return
	j.toReturn = append(j.toReturn, len(a.b))
	a.u32(0)
}

// jumpStub emits a jmp rel32 to a stub of the block, resolved at its end.
func (j *jitc) jumpStub(list *[]int) {
	j.a.emit(0xE9)
	*list = append(*list, len(j.a.b))
	j.a.u32(0)
}

// dispatch emits the block's two stubs for its completed ends. lookup
// (RAX = the next EIP, flags stored, block counted) finds the next
// block's native code through the execute TLB and the jump cache, as
// nextBlock would find the block, and jumps there; return gives the
// block's id and completion to Go.
func (j *jitc) dispatch(total int) {
	a := &j.a
	var miss []int
	jne := func() {
		a.emit(0x0F, 0x85)
		miss = append(miss, len(a.b))
		a.u32(0)
	}
	if len(j.toLookup) > 0 {
		for _, at := range j.toLookup {
			binary.LittleEndian.PutUint32(a.b[at:], uint32(len(a.b)-(at+4)))
		}
		a.rr(8, []byte{0x8B}, hDX, hAX) // mov rdx, rax
		a.rr(8, []byte{0xC1}, 5, hDX)   // shr rdx, 12
		a.emit(12)
		a.rr(4, []byte{0x8B}, hCX, hDX) // mov ecx, edx
		a.rr(4, []byte{0x81}, 4, hCX)   // and ecx, 1023
		a.u32(1023)
		a.rr(8, []byte{0xC1}, 4, hCX) // shl rcx, 4
		a.emit(4)
		a.rm(8, []byte{0x03}, hCX, hmem{hBX, offTLBX}) // add rcx, [tlbExec]
		a.rm(8, []byte{0x8D}, hSI, hmem{hDX, 1})       // lea rsi, [rdx+1]
		a.rm(8, []byte{0x3B}, hSI, hmem{hCX, 0})       // cmp rsi, [rcx]
		jne()
		a.rr(4, []byte{0x8B}, hDX, hAX) // mov edx, eax
		a.rr(4, []byte{0x81}, 4, hDX)   // and edx, 0xFFF
		a.u32(0xFFF)
		a.rm(8, []byte{0x0B}, hDX, hmem{hCX, 8}) // or rdx, [rcx+8]: the physical address
		a.rr(8, []byte{0x8B}, hSI, hDX)          // mov rsi, rdx
		a.rr(8, []byte{0xC1}, 5, hSI)            // shr rsi, 12
		a.emit(12)
		a.rr(8, []byte{0x33}, hSI, hDX) // xor rsi, rdx
		a.rr(4, []byte{0x81}, 4, hSI)   // and esi, jumpCacheSize-1
		a.u32(jumpCacheSize - 1)
		a.rr(8, []byte{0xC1}, 4, hSI) // shl rsi, 5
		a.emit(5)
		a.rm(8, []byte{0x03}, hSI, hmem{hBX, offJC}) // add rsi, [jumps]
		a.movImm64(hCX, uint64(j.mode)<<48)
		a.rr(8, []byte{0x0B}, hCX, hDX)          // or rcx, rdx
		a.rm(8, []byte{0x3B}, hCX, hmem{hSI, 0}) // cmp rcx, [rsi]
		jne()
		a.rm(8, []byte{0x3B}, hAX, hmem{hSI, 8}) // cmp rax, [rsi+8]
		jne()
		a.rm(0, []byte{0xFF}, 4, hmem{hSI, 16}) // jmp [rsi+16]
	}
	for _, at := range append(j.toReturn, miss...) {
		binary.LittleEndian.PutUint32(a.b[at:], uint32(len(a.b)-(at+4)))
	}
	a.movImm64(hAX, j.id<<32|uint64(total))
	a.emit(0xC3)
}

// count adds a completed block's instructions and TLB hits to the
// statistics (the flags are stored: this changes them).
func (j *jitc) count(total int) {
	a := &j.a
	a.rm(8, []byte{0x81}, 0, hmem{hBX, offInsns}) // add qword [insns], total
	a.u32(uint32(total))
	a.rm(8, []byte{0x81}, 0, hmem{hBX, offNatv})
	a.u32(uint32(total))
	if j.probes > 0 {
		a.rm(8, []byte{0x81}, 0, hmem{hBX, offHits})
		a.u32(j.probes)
	}
}

// addRSP adds d to RSP without changing the flags (LEA).
func (j *jitc) addRSP(d int32) {
	j.a.rm(8, []byte{0x8B}, hCX, guestReg(8, ESP))
	j.a.rm(8, []byte{0x8D}, hCX, hmem{hCX, d})
	j.a.rm(8, []byte{0x89}, hCX, guestReg(8, ESP))
}

// leave ends the block: the flags stored, EIP = next.
func (j *jitc) leave(total int, next uint64) {
	if j.state == flDirty {
		j.a.emit(0x9C)
		j.a.rm(0, []byte{0x8F}, 0, hmem{hBX, offFlags})
	}
	j.chainTo(next, total)
}

// ea computes the effective (then linear) address of in's memory operand
// into RDX, with no flag changes (SDM Vol. 2A §2.1.5; 64-bit mode: only FS
// and GS have a base).
func (j *jitc) ea(in *inst) {
	a := &j.a
	disp := int64(in.disp)
	fits := disp == int64(int32(disp))
	if in.base == regNone && in.index == regNone {
		a.movImm64(hDX, in.disp)
	} else {
		if in.base != regNone {
			a.rm(8, []byte{0x8B}, hDX, guestReg(8, in.base))
		}
		if in.index != regNone {
			a.rm(8, []byte{0x8B}, hCX, guestReg(8, in.index))
		}
		d32 := uint32(0)
		if fits {
			d32 = uint32(int32(disp))
		}
		a.prefix(8, hDX, 0)
		a.emit(0x8D) // lea rdx, [...]
		switch {
		case in.base == regNone: // [index*scale + disp32]
			a.emit(0x14, in.scale<<6|hCX<<3|5)
		case in.index != regNone: // [rdx + index*scale + disp32]
			a.emit(0x94, in.scale<<6|hCX<<3|hDX)
		default: // [rdx + disp32]
			a.emit(0x92)
		}
		a.u32(d32)
		if !fits {
			a.movImm64(hAX, in.disp)
			a.prefix(8, hDX, 0)
			a.emit(0x8D, 0x14, hAX<<3|hDX) // lea rdx, [rdx + rax]
		}
	}
	if in.asize == 4 {
		a.rr(4, []byte{0x89}, hDX, hDX) // mov edx, edx
	}
	if in.seg == FS || in.seg == GS {
		a.rm(8, []byte{0x8B}, hCX, hmem{hBX, offSeg + int32(in.seg)*int32(unsafe.Sizeof(Segment{})) + int32(unsafe.Offsetof(Segment{}.Base))})
		a.prefix(8, hDX, 0)
		a.emit(0x8D, 0x14, hCX<<3|hDX) // lea rdx, [rdx + rcx]
	}
}

// probe looks the linear address in RDX up in the TLB for a size-byte
// access and leaves the host address in RDX; a miss (or an access across
// pages) leaves the native code at instruction idx. It keeps the flags
// the instruction or its successors need (see plan).
func (j *jitc) probe(i int, size int, write bool) {
	a := &j.a
	keep := j.protectFlags(i)
	if keep {
		a.emit(0x9C) // pushfq
	}
	tlb := offTLBR
	if write {
		tlb = offTLBW
	}
	a.rr(8, []byte{0x8B}, hAX, hDX)                        // mov rax, rdx
	a.rr(8, []byte{0xC1}, 5, hAX)                          // shr rax, 12
	a.emit(12)                                             //
	a.rr(4, []byte{0x8B}, hCX, hAX)                        // mov ecx, eax
	a.rr(4, []byte{0x81}, 4, hCX)                          // and ecx, 1023
	a.u32(1023)                                            //
	a.rr(8, []byte{0xC1}, 4, hCX)                          // shl rcx, 4
	a.emit(4)                                              //
	a.rm(8, []byte{0x03}, hCX, hmem{hBX, tlb})             // add rcx, [tlb]
	a.rm(8, []byte{0x8D}, hSI, hmem{hDX, int32(size - 1)}) // lea rsi, [rdx+size-1]
	a.rr(8, []byte{0xC1}, 5, hSI)                          // shr rsi, 12
	a.emit(12)                                             //
	a.rm(8, []byte{0x8D}, hSI, hmem{hSI, 1})               // lea rsi, [rsi+1]
	a.rm(8, []byte{0x3B}, hSI, hmem{hCX, 0})               // cmp rsi, [rcx]
	a.emit(0x0F, 0x85)                                     // jne exit
	j.exits = append(j.exits, exitSite{at: len(a.b), idx: i, popFlags: keep, state: j.state})
	a.u32(0)
	a.rr(4, []byte{0x81}, 4, hDX) // and edx, 0xFFF
	a.u32(0xFFF)
	a.rm(8, []byte{0x0B}, hDX, hmem{hCX, 8})      // or rdx, [rcx+8]
	a.rm(8, []byte{0x03}, hDX, hmem{hBX, offRAM}) // add rdx, [ram]
	if keep {
		a.emit(0x9D) // popfq
	}
	j.probes++
}

// protectFlags prepares for host instructions that change the flags
// before instruction i runs (a TLB probe, a division's checks). It
// reports whether the flags must be pushed before them and popped after
// (instruction i or a later one reads them); otherwise flags the block
// wrote are spilled to jitState.flags, for an exit to find.
func (j *jitc) protectFlags(i int) (keep bool) {
	switch j.state {
	case flLoaded, flDirty:
		keep = j.reads[i] || !j.writesAll[i] && j.needAfter[i+1]
		if !keep {
			if j.state == flDirty {
				j.a.emit(0x9C)                                  // pushfq
				j.a.rm(0, []byte{0x8F}, 0, hmem{hBX, offFlags}) // pop [flags]
				j.state = flSpilled
			} else {
				j.state = flClean
			}
		}
	}
	return keep
}

// exitIf emits a conditional jump (0F 8x) that leaves at instruction i.
func (j *jitc) exitIf(cc byte, i int) {
	j.a.emit(0x0F, 0x80|cc)
	j.exits = append(j.exits, exitSite{at: len(j.a.b), idx: i, state: j.state})
	j.a.u32(0)
}

// operandE is the host operand of in's r/m operand (probing the TLB for
// a memory operand, as a read or a read-modify-write).
func (j *jitc) operandE(i int, in *inst, size uint8, write bool) hmem {
	if !in.mem {
		return guestReg(size, in.rm)
	}
	j.ea(in)
	j.probe(i, int(size), write)
	return hmem{hDX, 0}
}

// storeAccumulator stores a multiply's or divide's result from the host's
// AX (bytes: AH:AL) or rDX:rAX to the guest's.
func (j *jitc) storeAccumulator(size uint8) {
	if size == 1 {
		j.a.rm(2, []byte{0x89}, hAX, guestReg(2, EAX))
		return
	}
	j.storeReg(size, EAX, hAX)
	j.storeReg(size, EDX, hDX)
}

// storeReg writes host register reg (holding a result of the operand
// size) to a guest register: a 32-bit result is zero-extended (SDM Vol. 1
// §3.4.1.1), narrower ones keep the other bits.
func (j *jitc) storeReg(size uint8, r uint8, reg int) {
	if size == 4 {
		j.a.rm(8, []byte{0x89}, reg, guestReg(8, r))
		return
	}
	j.a.rm(int(size), op8v(int(size), 0x88), reg, guestReg(size, r))
}

// alu emits op dst, src where dst is a host operand and src is a host
// register (srcReg ≥ 0) or an immediate. A 32-bit guest register
// destination is written whole (zero-extension).
func (j *jitc) alu(k uint8, size uint8, dst hmem, dstIsReg bool, dstReg uint8, srcReg int, imm uint64) {
	a := &j.a
	sz := int(size)
	writes := k != aluCMP && k != 8 // 8: TEST
	if size == 4 && dstIsReg && writes {
		a.rm(4, []byte{0x8B}, hCX, dst) // mov ecx, dst
		j.aluForm(k, sz, true, hCX, hmem{}, srcReg, imm)
		a.rm(8, []byte{0x89}, hCX, dst) // mov dst, rcx
		return
	}
	j.aluForm(k, sz, false, 0, dst, srcReg, imm)
}

func (j *jitc) aluForm(k uint8, sz int, toReg bool, reg int, dst hmem, srcReg int, imm uint64) {
	a := &j.a
	if k == 8 { // TEST
		if srcReg >= 0 {
			if toReg {
				a.rr(sz, op8v(sz, 0x84), srcReg, reg)
			} else {
				a.rm(sz, op8v(sz, 0x84), srcReg, dst)
			}
			return
		}
		if toReg {
			a.rr(sz, op8v(sz, 0xF6), 0, reg)
		} else {
			a.rm(sz, op8v(sz, 0xF6), 0, dst)
		}
		a.imm(sz, imm)
		return
	}
	if srcReg >= 0 {
		op := op8v(sz, k*8) // op r/m, r
		if toReg {
			a.rr(sz, op, srcReg, reg)
		} else {
			a.rm(sz, op, srcReg, dst)
		}
		return
	}
	op := []byte{0x81}
	immSz := sz
	switch {
	case sz == 1:
		op = []byte{0x80}
	case int64(imm) == int64(int8(imm)) || sz == 2 && int16(imm) == int16(int8(imm)):
		op, immSz = []byte{0x83}, 1
	}
	if toReg {
		a.rr(sz, op, int(k), reg)
	} else {
		a.rm(sz, op, int(k), dst)
	}
	a.imm(immSz, imm)
}

// loadReg loads a guest operand of the given size into a host register
// (zero-extended to 32 bits at least).
func (j *jitc) load(size uint8, reg int, m hmem) {
	switch size {
	case 1:
		j.a.rm(4, []byte{0x0F, 0xB6}, reg, m)
	case 2:
		j.a.rm(4, []byte{0x0F, 0xB7}, reg, m)
	default:
		j.a.rm(int(size), []byte{0x8B}, reg, m)
	}
}

// emitInst translates one instruction; it reports whether it ended the
// code (a branch).
func (j *jitc) emitInst(i int, in *inst, total int) bool {
	a := &j.a
	fn := in.fn
	sz := int(in.size)
	switch {
	case same(fn, opNOP):
	case same(fn, xchgAX), same(fn, xchgEG):
		// XCHG: a memory operand is read, then written (no bus lock: one CPU).
		var dst hmem
		if same(fn, xchgAX) {
			if in.reg == EAX {
				break // 90: NOP
			}
			dst = guestReg(in.size, EAX)
		} else {
			dst = j.operandE(i, in, in.size, true)
		}
		j.load(in.size, hAX, dst)
		j.load(in.size, hCX, guestReg(in.size, in.reg))
		if dst.base == hDX {
			a.rm(sz, op8v(sz, 0x88), hCX, dst)
		} else if same(fn, xchgAX) {
			j.storeReg(in.size, EAX, hCX)
		} else {
			j.storeReg(in.size, in.rm, hCX)
		}
		j.storeReg(in.size, in.reg, hAX)
	case same(fn, opMUL), same(fn, opIMUL1):
		// rDX:rAX (AX for bytes) = rAX × E (SDM Vol. 2B MUL, IMUL).
		digit := 4
		if same(fn, opIMUL1) {
			digit = 5
		}
		src := j.operandE(i, in, in.size, false)
		j.load(in.size, hCX, src)
		j.load(in.size, hAX, guestReg(in.size, EAX))
		a.rr(sz, op8v(sz, 0xF6), digit, hCX)
		j.storeAccumulator(in.size)
	case same(fn, opLEAVE):
		// RSP = RBP, then POP RBP; a miss changes nothing.
		a.rm(8, []byte{0x8B}, hDX, guestReg(8, EBP))
		j.probe(i, 8, false)
		a.rm(8, []byte{0x8B}, hAX, hmem{hDX, 0})
		a.rm(8, []byte{0x8B}, hCX, guestReg(8, EBP))
		a.rm(8, []byte{0x8D}, hCX, hmem{hCX, 8})
		a.rm(8, []byte{0x89}, hCX, guestReg(8, ESP))
		a.rm(8, []byte{0x89}, hAX, guestReg(8, EBP))
	case same(fn, aluEG):
		// op E, G
		dst := j.operandE(i, in, in.size, in.sub != aluCMP)
		j.load(in.size, hAX, guestReg(in.size, in.reg))
		j.alu(in.sub, in.size, dst, !in.mem, in.rm, hAX, 0)
	case same(fn, aluGE):
		src := j.operandE(i, in, in.size, false)
		j.load(in.size, hAX, src)
		j.alu(in.sub, in.size, guestReg(in.size, in.reg), true, in.reg, hAX, 0)
	case same(fn, aluEI):
		dst := j.operandE(i, in, in.size, in.sub != aluCMP)
		j.alu(in.sub, in.size, dst, !in.mem, in.rm, -1, in.imm)
	case same(fn, aluAI):
		j.alu(in.sub, in.size, guestReg(in.size, EAX), true, EAX, -1, in.imm)
	case same(fn, testEG):
		dst := j.operandE(i, in, in.size, false)
		j.load(in.size, hAX, guestReg(in.size, in.reg))
		j.alu(8, in.size, dst, false, 0, hAX, 0)
	case same(fn, testEI):
		dst := j.operandE(i, in, in.size, false)
		j.alu(8, in.size, dst, false, 0, -1, in.imm)
	case same(fn, testAI):
		j.alu(8, in.size, guestReg(in.size, EAX), false, 0, -1, in.imm)
	case same(fn, movEG):
		dst := j.operandE(i, in, in.size, true)
		j.load(in.size, hAX, guestReg(in.size, in.reg))
		if !in.mem {
			j.storeReg(in.size, in.rm, hAX)
		} else {
			a.rm(sz, op8v(sz, 0x88), hAX, dst)
		}
	case same(fn, movGE):
		src := j.operandE(i, in, in.size, false)
		j.load(in.size, hAX, src)
		j.storeReg(in.size, in.reg, hAX)
	case same(fn, movEI), same(fn, movRI):
		r := in.rm
		if same(fn, movRI) {
			r = in.reg
		}
		var dst hmem
		if same(fn, movEI) {
			dst = j.operandE(i, in, in.size, true)
		} else {
			dst = guestReg(in.size, r)
		}
		switch {
		case sz == 8 && in.imm != uint64(int64(int32(in.imm))):
			a.movImm64(hAX, in.imm)
			a.rm(8, []byte{0x89}, hAX, dst)
		case sz == 4 && (same(fn, movRI) || !in.mem):
			a.emit(0xB8) // mov eax, imm32
			a.u32(uint32(in.imm))
			a.rm(8, []byte{0x89}, hAX, dst)
		default:
			a.rm(sz, op8v(sz, 0xC6), 0, dst)
			a.imm(sz, in.imm)
		}
	case same(fn, opLEA):
		j.ea(&inst{base: in.base, index: in.index, scale: in.scale, disp: in.disp, asize: in.asize})
		if in.size == 4 {
			a.rr(4, []byte{0x89}, hDX, hDX) // mov edx, edx
		}
		a.rm(8, []byte{0x89}, hDX, guestReg(8, in.reg))
	case same(fn, incE), same(fn, decE), same(fn, incReg), same(fn, decReg), same(fn, opNOT), same(fn, opNEG):
		var dst hmem
		if same(fn, incReg) || same(fn, decReg) { // 40+r, 48+r (not in 64-bit mode)
			dst = guestReg(in.size, in.reg)
		} else {
			dst = j.operandE(i, in, in.size, true)
		}
		mem := in.mem && dst.base == hDX
		var op []byte
		var digit int
		switch {
		case same(fn, incE), same(fn, incReg):
			op, digit = op8v(sz, 0xFE), 0
		case same(fn, decE), same(fn, decReg):
			op, digit = op8v(sz, 0xFE), 1
		case same(fn, opNOT):
			op, digit = op8v(sz, 0xF6), 2
		default:
			op, digit = op8v(sz, 0xF6), 3
		}
		if sz == 4 && !mem {
			a.rm(4, []byte{0x8B}, hCX, dst)
			a.rr(4, op, digit, hCX)
			a.rm(8, []byte{0x89}, hCX, dst)
		} else {
			a.rm(sz, op, digit, dst)
		}
	case same(fn, opShift):
		dst := j.operandE(i, in, in.size, true)
		var op []byte
		switch in.imm2 {
		case 1:
			op = op8v(sz, 0xD0)
		case 2:
			op = op8v(sz, 0xD2)
			a.rm(4, []byte{0x0F, 0xB6}, hCX, guestReg(1, ECX)) // movzx ecx, guest CL
		default:
			op = op8v(sz, 0xC0)
		}
		if sz == 4 && !in.mem {
			a.rm(4, []byte{0x8B}, hAX, dst)
			a.rr(4, op, int(in.sub), hAX)
			if in.imm2 == 0 {
				a.emit(byte(in.imm))
			}
			a.rm(8, []byte{0x89}, hAX, dst)
		} else {
			a.rm(sz, op, int(in.sub), dst)
			if in.imm2 == 0 {
				a.emit(byte(in.imm))
			}
		}
	case same(fn, movzxB), same(fn, movzxW), same(fn, movsxB), same(fn, movsxW), same(fn, opMOVSXD):
		var srcSize uint8
		var op []byte
		opSize := 4
		switch {
		case same(fn, movzxB):
			srcSize, op = 1, []byte{0x0F, 0xB6}
		case same(fn, movzxW):
			srcSize, op = 2, []byte{0x0F, 0xB7}
		case same(fn, movsxB):
			srcSize, op = 1, []byte{0x0F, 0xBE}
		case same(fn, movsxW):
			srcSize, op = 2, []byte{0x0F, 0xBF}
		default:
			srcSize, op = 4, []byte{0x63}
			if sz == 4 {
				op = []byte{0x8B}
			}
		}
		if sz == 8 {
			opSize = 8
		}
		src := j.operandE(i, in, srcSize, false)
		a.rm(opSize, op, hAX, src)
		j.storeReg(in.size, in.reg, hAX)
	case same(fn, imulGE), same(fn, imulGEI):
		src := j.operandE(i, in, in.size, false)
		if same(fn, imulGE) {
			a.rm(sz, []byte{0x8B}, hAX, guestReg(in.size, in.reg)) // mov ax/eax/rax, G
			a.rm(sz, []byte{0x0F, 0xAF}, hAX, src)
		} else {
			a.rm(sz, []byte{0x69}, hAX, src)
			a.imm(sz, in.imm)
		}
		j.storeReg(in.size, in.reg, hAX)
	case same(fn, opCMOVcc):
		src := j.operandE(i, in, in.size, false)
		load := sz
		if sz == 2 {
			load = 8 // keep the upper bits of the destination
		}
		a.rm(load, []byte{0x8B}, hAX, guestReg(8, in.reg))
		a.rm(sz, []byte{0x0F, 0x40 + in.sub&15}, hAX, src)
		if sz == 2 {
			a.rm(8, []byte{0x89}, hAX, guestReg(8, in.reg))
		} else {
			j.storeReg(in.size, in.reg, hAX)
		}
	case same(fn, opSETcc):
		dst := j.operandE(i, in, 1, true)
		a.rm(0, []byte{0x0F, 0x90 + in.sub&15}, 0, dst)
	case same(fn, opJcc):
		// Store the flags (no change to them), then branch.
		if j.state == flDirty {
			a.emit(0x9C)
			a.rm(0, []byte{0x8F}, 0, hmem{hBX, offFlags})
		}
		a.emit(0x0F, 0x80+in.sub&15) // jcc taken
		at := len(a.b)
		a.u32(0)
		j.chainTo(in.next, total)
		binary.LittleEndian.PutUint32(a.b[at:], uint32(len(a.b)-(at+4)))
		j.chainTo(in.imm, total)
		return true
	case same(fn, opJMPrel):
		j.leave(total, in.imm)
		return true
	case same(fn, pushReg), same(fn, pushImm), same(fn, opCALLrel):
		// RSP − 8, then the store, then RSP: a miss leaves RSP as it was.
		a.rm(8, []byte{0x8B}, hDX, guestReg(8, ESP))
		a.rm(8, []byte{0x8D}, hDX, hmem{hDX, -8})
		j.probe(i, 8, true)
		switch {
		case same(fn, pushReg):
			a.rm(8, []byte{0x8B}, hAX, guestReg(8, in.reg)) // PUSH RSP pushes the old value
		case same(fn, pushImm):
			a.movImm64(hAX, in.imm)
		default:
			a.movImm64(hAX, in.next) // the return address
		}
		a.rm(8, []byte{0x89}, hAX, hmem{hDX, 0})
		j.addRSP(-8)
		if same(fn, opCALLrel) {
			j.leave(total, in.imm)
			return true
		}
	case bitTest(fn) != 0:
		k := bitTest(fn) // the Grp8 digit: 4 BT, 5 BTS, 6 BTR, 7 BTC
		dst := j.operandE(i, in, in.size, k != 4)
		if !in.mem {
			j.load(in.size, hCX, dst)
			dst = hmem{base: -1}
		}
		rmOp := func(op []byte, reg int) {
			if dst.base < 0 {
				a.rr(sz, op, reg, hCX)
			} else {
				a.rm(sz, op, reg, dst)
			}
		}
		if in.sub == 1 { // Ev, Ib
			rmOp([]byte{0x0F, 0xBA}, k)
			a.emit(byte(in.imm))
		} else { // Ev, Gv (register destination)
			j.load(in.size, hAX, guestReg(in.size, in.reg))
			rmOp([]byte{0x0F, 0xA3 | byte(k-4)<<3}, hAX)
		}
		if dst.base < 0 && k != 4 {
			j.storeReg(in.size, in.rm, hCX)
		}
	case same(fn, opCMPXCHG):
		// RAX keeps its upper half on success; a failure loads the
		// destination into AL/AX/EAX (zero-extended)/RAX, as the host does.
		dst := j.operandE(i, in, in.size, true)
		j.load(in.size, hCX, guestReg(in.size, in.reg))
		a.rm(8, []byte{0x8B}, hAX, guestReg(8, EAX))
		a.rm(sz, []byte{0x0F, 0xB0 | b2byte(sz != 1)}, hCX, dst)
		a.rm(8, []byte{0x89}, hAX, guestReg(8, EAX))
	case same(fn, opXADD):
		dst := j.operandE(i, in, in.size, true)
		j.load(in.size, hCX, guestReg(in.size, in.reg))
		a.rm(sz, []byte{0x0F, 0xC0 | b2byte(sz != 1)}, hCX, dst)
		j.storeReg(in.size, in.reg, hCX)
	case same(fn, opBSWAP):
		a.rm(sz, []byte{0x8B}, hAX, guestReg(8, in.reg))
		a.prefix(sz, 0, 0)
		a.emit(0x0F, 0xC8) // bswap eax/rax (0F C8+r)
		a.rm(8, []byte{0x89}, hAX, guestReg(8, in.reg))
	case same(fn, opCBW):
		switch sz {
		case 2:
			a.rm(4, []byte{0x0F, 0xBE}, hAX, guestReg(1, EAX)) // movsx eax, AL
		case 4:
			a.rm(4, []byte{0x0F, 0xBF}, hAX, guestReg(2, EAX)) // movsx eax, AX
		default:
			a.rm(8, []byte{0x63}, hAX, guestReg(4, EAX)) // movsxd rax, EAX
		}
		j.storeReg(in.size, EAX, hAX)
	case same(fn, opCWD):
		a.rm(sz, []byte{0x8B}, hAX, guestReg(in.size, EAX))
		a.prefix(sz, 0, 0)
		a.emit(0x99) // cwd, cdq, cqo: no flags
		j.storeReg(in.size, EDX, hDX)
	case same(fn, opDIV), same(fn, opIDIV):
		// The interpreter raises #DE: for a zero divisor or a quotient
		// too large (SDM Vol. 2A DIV, IDIV), the code leaves before
		// dividing. IDIV leaves too for a divisor of −1 or a dividend
		// wider than its low half (rare): the host's IDIV cannot fault.
		signed := same(fn, opIDIV)
		src := j.operandE(i, in, in.size, false)
		j.load(in.size, hCX, src)
		j.protectFlags(i)
		wide := max(sz, 4)
		switch {
		case sz == 1:
			j.load(2, hAX, guestReg(2, EAX))
			a.rr(4, []byte{0x8B}, hDX, hAX) // mov edx, eax
			a.rr(4, []byte{0xC1}, 5, hDX)   // shr edx, 8: AH
			a.emit(8)
		default:
			j.load(in.size, hAX, guestReg(in.size, EAX))
			j.load(in.size, hDX, guestReg(in.size, EDX))
		}
		a.rr(wide, []byte{0x85}, hCX, hCX) // test ecx, ecx (rcx)
		j.exitIf(0x4, i)                   // jz
		if !signed {
			a.rr(wide, []byte{0x3B}, hDX, hCX) // cmp edx, ecx: the high half against the divisor
			j.exitIf(0x3, i)                   // jae
			a.rr(sz, op8v(sz, 0xF6), 6, hCX)   // div cl/cx/ecx/rcx
		} else {
			cmpImm8 := byte(0x83) // cmp cx/ecx/rcx, −1 (sign-extended imm8)
			if sz == 1 {
				cmpImm8 = 0x80 // cmp cl, −1
			}
			a.rr(sz, []byte{cmpImm8}, 7, hCX)
			a.emit(0xFF)
			j.exitIf(0x4, i) // je
			// The high half must be the sign of the low half.
			switch sz {
			case 1:
				a.rr(4, []byte{0x0F, 0xBE}, hSI, hAX) // movsx esi, al
				a.rr(2, []byte{0x3B}, hSI, hAX)       // cmp si, ax
			case 2:
				a.rr(4, []byte{0x0F, 0xBF}, hSI, hAX) // movsx esi, ax
				a.rr(4, []byte{0xC1}, 7, hSI)         // sar esi, 16
				a.emit(16)
				a.rr(2, []byte{0x3B}, hSI, hDX) // cmp si, dx
			default:
				a.rr(sz, []byte{0x8B}, hSI, hAX) // mov esi/rsi, eax/rax
				a.rr(sz, []byte{0xC1}, 7, hSI)   // sar, size*8-1
				a.emit(byte(sz*8 - 1))
				a.rr(sz, []byte{0x3B}, hSI, hDX) // cmp with the high half
			}
			j.exitIf(0x5, i)                 // jne
			a.rr(sz, op8v(sz, 0xF6), 7, hCX) // idiv
		}
		j.storeAccumulator(in.size)
	case same(fn, popReg):
		a.rm(8, []byte{0x8B}, hDX, guestReg(8, ESP))
		j.probe(i, 8, false)
		a.rm(8, []byte{0x8B}, hAX, hmem{hDX, 0})
		j.addRSP(8)
		a.rm(8, []byte{0x89}, hAX, guestReg(8, in.reg)) // POP RSP loads the value read
	case same(fn, opRET):
		// The probe stores the flags (nothing after it reads them).
		a.rm(8, []byte{0x8B}, hDX, guestReg(8, ESP))
		j.probe(i, 8, false)
		a.rm(8, []byte{0x8B}, hAX, hmem{hDX, 0})
		// A non-canonical return address faults in the interpreter
		// (SDM Vol. 2B RET: #GP(0)).
		a.rr(8, []byte{0x8B}, hCX, hAX) // mov rcx, rax
		a.rr(8, []byte{0xC1}, 4, hCX)   // shl rcx, 16
		a.emit(16)
		a.rr(8, []byte{0xC1}, 7, hCX) // sar rcx, 16
		a.emit(16)
		a.rr(8, []byte{0x3B}, hCX, hAX) // cmp rcx, rax
		a.emit(0x0F, 0x85)              // jne exit
		j.exits = append(j.exits, exitSite{at: len(a.b), idx: i, state: j.state})
		a.u32(0)
		a.rm(8, []byte{0x89}, hAX, hmem{hBX, offEIP})
		j.addRSP(8)
		j.count(total)
		j.budget()
		j.jumpStub(&j.toLookup)
		return true
	default:
		panic("jit: unsupported instruction translated")
	}
	return false
}
