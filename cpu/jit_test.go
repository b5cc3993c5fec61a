package cpu

import (
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jitCode generates random 64-bit code from the instructions the native
// translator handles, over a buffer addressed by R15 that straddles a page
// boundary (TLB hits, misses and accesses across pages) and through GS.
// Where an instruction leaves flags undefined (SDM Vol. 2: shifts by more
// than one, IMUL), the code reads the flags through PUSHFQ, masks the
// undefined ones, and overwrites them with a CMP: the host and the
// interpreter may differ there and nowhere else.
func jitCode(rng *rand.Rand, n int) []byte {
	// mov r15, 0x200FF0; mov r14d, 3; then the body three times (the
	// later ones with the TLB filled).
	code := []byte{0x49, 0xBF, 0xF0, 0x0F, 0x20, 0, 0, 0, 0, 0, 0x41, 0xBE, 3, 0, 0, 0}
	reg := func() int {
		for {
			if r := rng.Intn(14); r != ESP {
				return r
			}
		}
	}
	undefined := func(keep uint32) {
		// pushfq; pop rax; and eax, keep; cmp rsi, rdi
		code = append(code, 0x9C, 0x58, 0x25)
		code = append(code, byte(keep), byte(keep>>8), byte(keep>>16), byte(keep>>24))
		code = append(code, 0x48, 0x39, 0xFE)
	}
	defined := uint32(^uint32(0))
	for i := 0; i < n; i++ {
		r1, r2 := reg(), reg()
		var pre []byte
		w := byte(0)
		switch rng.Intn(5) {
		case 0, 1:
			w = 0x08
		case 2:
			pre = []byte{0x66}
		}
		rexM := 0x41 | w | byte(r2>>3)<<2
		mem := []byte{byte(0x47 | (r2&7)<<3), byte(rng.Intn(32))} // [r15+disp8]
		rexR := 0x40 | w | byte(r2>>3)<<2 | byte(r1>>3)
		modrm := byte(0xC0 | (r2&7)<<3 | r1&7)
		imm := []byte{byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))}
		if rng.Intn(3) == 0 {
			imm = []byte{byte(rng.Intn(3)), 0, 0, 0x80}
		}
		immv := imm
		if len(pre) != 0 {
			immv = imm[:2]
		}
		add := func(b ...byte) { code = append(append(code, pre...), b...) }
		switch rng.Intn(36) {
		case 0: // ALU Ev,Gv / Gv,Ev, registers
			add(rexR, byte(rng.Intn(8)*8+1+2*rng.Intn(2)), modrm)
		case 1: // ALU with memory, both directions
			add(append([]byte{rexM, byte(rng.Intn(8)*8 + 1 + 2*rng.Intn(2))}, mem...)...)
		case 2: // ALU Eb,Gb (AH–BH without REX)
			code = append(code, byte(rng.Intn(8)*8+2*rng.Intn(2)), byte(0xC0|rng.Intn(64)))
		case 3: // Grp1 Ev,Iz / Ev,Ib on a register or memory
			if rng.Intn(2) == 0 {
				add(append([]byte{rexR &^ 4, 0x81, byte(0xC0 | rng.Intn(8)<<3 | r1&7)}, immv...)...)
			} else {
				add(append([]byte{rexM &^ 4, 0x83, mem[0]&^0x38 | byte(rng.Intn(8)<<3)}, mem[1], imm[0])...)
			}
		case 4: // ALU AL/eAX, imm
			if rng.Intn(2) == 0 {
				code = append(code, byte(rng.Intn(8)*8+4), imm[0])
			} else {
				add(append([]byte{0x40 | w, byte(rng.Intn(8)*8 + 5)}, immv...)...)
			}
		case 5: // MOV loads and stores, all sizes
			op := []byte{0x88, 0x89, 0x8A, 0x8B}[rng.Intn(4)]
			add(append([]byte{rexM, op}, mem...)...)
		case 6: // MOV registers, MOV r, imm, MOV Ev, Iz
			switch rng.Intn(3) {
			case 0:
				add(rexR, 0x89, modrm)
			case 1:
				add(append([]byte{rexR &^ 4, byte(0xB8 + r1&7)}, immv...)...)
				if w != 0 {
					code = append(code, imm...)
				}
			default:
				add(append(append([]byte{rexM &^ 4, 0xC7}, mem[0]&^0x38, mem[1]), immv...)...)
			}
		case 7: // MOVZX, MOVSX from registers and memory; MOVSXD
			op := byte(0xB6 + rng.Intn(2) + 8*rng.Intn(2))
			if rng.Intn(2) == 0 {
				code = append(code, rexR, 0x0F, op, modrm)
			} else {
				code = append(append(code, rexM, 0x0F, op), mem...)
			}
			code = append(code, rexR|8, 0x63, modrm)
		case 8: // LEA, 64- and 32-bit, with and without an index
			code = append(code, 0x40|w|byte(r2>>3)<<2|byte(r1>>3)<<1|byte(r1>>3), 0x8D, byte(0x44|(r2&7)<<3), byte(rng.Intn(4)<<6|(r1&7)<<3|r1&7), imm[0])
			code = append(code, 0x48|byte(r2>>3)<<2, 0x8D, byte(0x05|(r2&7)<<3), imm[0], imm[1], 0, 0) // RIP-relative
			code = append(code, 0x67, 0x48|byte(r2>>3)<<2|byte(r1>>3)<<1|byte(r1>>3), 0x8D, byte(0x84|(r2&7)<<3), byte(rng.Intn(4)<<6|(r1&7)<<3|r1&7), imm[0], imm[1], imm[2], imm[3])
		case 9: // INC, DEC, NOT, NEG on registers and memory
			d := []int{0, 1}[rng.Intn(2)]
			if rng.Intn(2) == 0 {
				add(rexR&^4, 0xFF, byte(0xC0|d<<3|r1&7))
				add(rexR&^4, 0xF7, byte(0xC0|(2+rng.Intn(2))<<3|r1&7))
			} else {
				add(append([]byte{rexM &^ 4, 0xFF, mem[0]&^0x38 | byte(d<<3)}, mem[1])...)
				add(append([]byte{rexM &^ 4, 0xF7, mem[0]&^0x38 | byte((2+rng.Intn(2))<<3)}, mem[1])...)
			}
		case 10, 11: // shifts and rotates by imm8, 1 and CL, registers and memory
			sh := []int{0, 1, 4, 5, 7}[rng.Intn(5)]
			var dst []byte
			if rng.Intn(2) == 0 {
				dst = []byte{rexR &^ 4}
				dst = append(dst, 0, byte(0xC0|sh<<3|r1&7))
			} else {
				dst = append([]byte{rexM &^ 4, 0, mem[0]&^0x38 | byte(sh<<3)}, mem[1])
			}
			switch rng.Intn(3) {
			case 0:
				dst[1] = 0xC1
				add(append(dst, imm[0]&63)...)
				if imm[0]&63 > 1 || sh < 4 {
					undefined(defined &^ (FlagOF | FlagAF))
					continue
				}
			case 1:
				dst[1] = 0xD1
				add(dst...)
			default:
				dst[1] = 0xD3
				add(dst...)
				undefined(defined &^ (FlagOF | FlagAF))
				continue
			}
			undefined(defined &^ FlagAF)
		case 12: // IMUL Gv,Ev / Gv,Ev,Iz / Gv,Ev,Ib
			switch rng.Intn(3) {
			case 0:
				add(rexR, 0x0F, 0xAF, modrm)
			case 1:
				add(append([]byte{rexR, 0x69, modrm}, immv...)...)
			default:
				add(append(append([]byte{rexM, 0x6B}, mem...), imm[0])...)
			}
			undefined(FlagCF | FlagOF)
		case 13: // CMOVcc from registers and memory
			if rng.Intn(2) == 0 {
				add(rexR, 0x0F, byte(0x40+rng.Intn(16)), modrm)
			} else {
				add(append([]byte{rexM, 0x0F, byte(0x40 + rng.Intn(16))}, mem...)...)
			}
		case 14: // SETcc to a register (AH–BH too) and memory
			code = append(code, 0x0F, byte(0x90+rng.Intn(16)), byte(0xC0|rng.Intn(8)))
			code = append(append(code, 0x41, 0x0F, byte(0x90+rng.Intn(16))), mem[0]&^0x38, mem[1])
		case 15: // TEST registers, memory, immediates
			add(rexR, 0x85, modrm)
			add(append([]byte{rexM, 0x85}, mem...)...)
			add(append([]byte{rexR &^ 4, 0xF7, byte(0xC0 | r1&7)}, immv...)...)
		case 16, 17: // CMP/SUB/TEST then Jcc over an INC; JMP over one
			add(rexR, byte(0x39-8*rng.Intn(2)), modrm)
			code = append(code, byte(0x70+rng.Intn(16)), 3, 0x48, 0xFF, byte(0xC0|[]int{0, 1, 2, 3, 5, 6, 7}[rng.Intn(7)]))
			if rng.Intn(3) == 0 {
				code = append(code, 0xEB, 3, 0x48, 0xFF, 0xC0)
			}
		case 18: // ADC/SBB, registers and memory
			add(rexR, byte(0x11+8*rng.Intn(2)), modrm)
			add(append([]byte{rexM, byte(0x13 + 8*rng.Intn(2))}, mem...)...)
		case 19: // through GS (base -16)
			code = append(append(code, 0x65, rexM, byte(0x8B-2*rng.Intn(2))), mem...)
		case 20: // multi-byte NOP, XCHG eAX,eAX
			code = append(code, 0x0F, 0x1F, 0x44, 0, 0, 0x90)
		case 21: // BSWAP; and CMC, which the translator leaves to the interpreter
			code = append(code, 0x40|w|byte(r1>>3), 0x0F, 0xC8|byte(r1&7), 0xF5)
		case 22: // a 32-bit address (67h) load
			code = append(code, 0x67, rexM, 0x8B, mem[0], mem[1])
		case 23: // flags through the stack, read by the interpreter
			code = append(code, 0x9C, 0x58+byte(rng.Intn(4)))
		case 24: // PUSH r; PUSH imm8; POP r; POP r
			code = append(code, 0x40|byte(r1>>3), 0x50+byte(r1&7), 0x6A, imm[0], 0x40|byte(r2>>3), 0x58+byte(r2&7))
			code = append(code, 0x40|byte(r1>>3), 0x58+byte(r1&7))
		case 26: // DIV by a register made non-zero, all sizes, the high half cleared
			d := []int{1, 3, 5, 6, 7, 9, 12}[rng.Intn(7)]
			rex := byte(0x40) | w | byte(d>>3)
			switch rng.Intn(4) {
			case 0: // 8 bits: AH cleared, CL | 1
				code = append(code, 0x0F, 0xB6, 0xC0, 0x80, 0xC9, byte(rng.Intn(256))|1, 0xF6, 0xF1)
			case 1: // 16 bits
				code = append(code, 0x66, 0x31, 0xD2, 0x66, rex&^8, 0x83, byte(0xC8|d&7), 1, 0x66, rex&^8, 0xF7, byte(0xF0|d&7))
			default: // 32 or 64 bits
				code = append(code, 0x31, 0xD2, rex, 0x83, byte(0xC8|d&7), 1, rex, 0xF7, byte(0xF0|d&7))
			}
			undefined(defined &^ ArithFlags)
		case 27: // DIV by memory made non-zero
			code = append(code, 0x31, 0xD2, 0x49, 0x83, 0x4F, mem[1], 1, 0x49, 0xF7, 0x77, mem[1])
			undefined(defined &^ ArithFlags)
		case 29: // CMPXCHG and XADD with memory, with and without LOCK
			lock := []byte{0xF0}[:rng.Intn(2)]
			op := []byte{0xB0, 0xB1, 0xC0, 0xC1}[rng.Intn(4)]
			if op&1 == 0 { // byte forms: no 66h
				code = append(append(append(code, lock...), rexM&^8, 0x0F, op), mem...)
			} else {
				code = append(append(append(append(code, pre...), lock...), rexM, 0x0F, op), mem...)
			}
		case 30: // LOCKed ADD, SUB, OR, INC, NEG on memory
			switch rng.Intn(3) {
			case 0:
				add(append([]byte{0xF0, rexM, byte([]int{0, 1, 5}[rng.Intn(3)]*8 + 1)}, mem...)...)
			case 1:
				add(append([]byte{0xF0, rexM &^ 4, 0xFF, mem[0] &^ 0x38}, mem[1])...)
			default:
				add(append([]byte{0xF0, rexM &^ 4, 0xF7, mem[0]&^0x38 | 3<<3}, mem[1])...)
			}
		case 31: // BT, BTS, BTR, BTC: registers by register and immediate, memory by immediate (LOCKed too)
			k := rng.Intn(4)
			switch rng.Intn(3) {
			case 0:
				add(rexR, 0x0F, byte(0xA3+8*k), modrm)
			case 1:
				add(rexR&^4, 0x0F, 0xBA, byte(0xC0|(4+k)<<3|r1&7), imm[0])
			default:
				lock := []byte{0xF0}[:rng.Intn(2)]
				if k == 0 {
					lock = nil
				}
				add(append(append(lock, rexM&^4, 0x0F, 0xBA, mem[0]&^0x38|byte(4+k)<<3), mem[1], imm[0])...)
			}
			undefined(FlagCF)
		case 32: // XCHG registers, memory, with rAX (90+r)
			add(rexR, 0x87, modrm)
			add(append([]byte{rexM, byte(0x86 + rng.Intn(2))}, mem...)...)
			add(0x40|w|byte(r1>>3), 0x90+byte(r1&7))
		case 33: // MUL and one-operand IMUL by a register or memory, all sizes
			op := byte(0xF7)
			if rng.Intn(4) == 0 {
				op, pre = 0xF6, nil
			}
			digit := byte(4 + rng.Intn(2))
			if rng.Intn(2) == 0 {
				add(rexR&^4, op, 0xC0|digit<<3|byte(r1&7))
			} else {
				add(append([]byte{rexM &^ 4, op, mem[0]&^0x38 | digit<<3}, mem[1])...)
			}
			undefined(FlagCF | FlagOF)
		case 34: // PUSH RBP; MOV RBP, RSP; PUSH r; LEAVE
			code = append(code, 0x55, 0x48, 0x89, 0xE5, 0x40|byte(r1>>3), 0x50+byte(r1&7), 0xC9)
		case 35: // IDIV after CBW/CWD/CDQ/CQO (the dividend fits its low half), by a register or memory
			d := []int{1, 3, 5, 6, 7, 9, 12}[rng.Intn(7)]
			rex := byte(0x40) | w | byte(d>>3)
			// The divisor is made 1–127: with the dividend within its low
			// half, no quotient overflows.
			switch rng.Intn(3) {
			case 0: // bytes: AX = AL sign-extended; CL & 0x7F | 1
				code = append(code, 0x66, 0x98, 0x80, 0xE1, 0x7F, 0x80, 0xC9, 1, 0xF6, 0xF9)
			case 1: // 16, 32 or 64 bits by a register
				add(0x40|w, 0x99)
				add(rex, 0x83, byte(0xE0|d&7), 0x7F)
				add(rex, 0x83, byte(0xC8|d&7), 1)
				add(rex, 0xF7, byte(0xF8|d&7))
			default: // by memory
				add(0x40|w, 0x99)
				add(append([]byte{rexM &^ 4, 0x83, mem[0]&^0x38 | 4<<3}, mem[1], 0x7F)...)
				add(append([]byte{rexM &^ 4, 0x83, mem[0]&^0x38 | 1<<3}, mem[1], 1)...)
				add(append([]byte{rexM &^ 4, 0xF7, mem[0]&^0x38 | 7<<3}, mem[1])...)
			}
			undefined(defined &^ ArithFlags)
		case 28: // CBW/CWDE/CDQE, CWD/CDQ/CQO
			add(0x40|w, 0x98)
			add(0x40|w, 0x99)
		case 25: // CALL to the next instruction, POP; LEA RAX,[RIP+2]; PUSH RAX; RET
			code = append(code, 0xE8, 0, 0, 0, 0, 0x40|byte(r1>>3), 0x58+byte(r1&7))
			code = append(code, 0x48, 0x8D, 0x05, 2, 0, 0, 0, 0x50, 0xC3)
		}
	}
	// dec r14; jnz body; pushfq; pop rax; hlt
	code = append(code, 0x49, 0xFF, 0xCE, 0x0F, 0x85)
	rel := 16 - (len(code) + 4)
	code = append(code, byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24))
	return append(code, 0x9C, 0x58, 0xF4)
}

var (
	jitRounds = flag.Int("jit.rounds", 500, "random programs TestJITMatchesInterpreter runs")
	jitSeed   = flag.Int64("jit.seed", 5, "their seed")
)

// TestJITMatchesInterpreter runs random code translated to native code
// at its first execution and interpreted, and compares the state and the
// memory.
func TestJITMatchesInterpreter(t *testing.T) {
	rng := rand.New(rand.NewSource(*jitSeed))
	var native, total uint64
	defer func() { t.Logf("%d of %d instructions ran native", native, total) }()
	for round := 0; round < *jitRounds; round++ {
		code := jitCode(rng, 30)
		var regs [16]uint64
		for i := range regs {
			regs[i] = rng.Uint64()
			if rng.Intn(4) == 0 {
				regs[i] &= 0xFF
			}
		}
		run := func(jit bool) (State, []byte, Stats) {
			c := jitMachine(t, code, jit)
			c.Seg[GS].Base = 1<<64 - 16
			st, buf := runOverBuffer(t, c, &regs, round)
			return st, buf, c.Stats
		}
		want, wantMem, wantStats := run(false)
		got, gotMem, gotStats := run(true)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("round %d: native code differs (-interpreted +native):\n%s\ncode % x", round, d, code)
		}
		if d := cmp.Diff(wantMem, gotMem); d != "" {
			t.Fatalf("round %d: memory differs (-interpreted +native):\n%s\ncode % x", round, d, code)
		}
		native += gotStats.NativeInstructions
		total += gotStats.Instructions
		if wantStats.Instructions != gotStats.Instructions {
			t.Fatalf("round %d: %d instructions retired, interpreted %d", round, gotStats.Instructions, wantStats.Instructions)
		}
	}
}

// jitMachine is longMachine with native code translated at a block's
// first run, or interpreted only.
func jitMachine(t *testing.T, code []byte, jit bool) *CPU {
	t.Helper()
	c, _ := longMachine(t, code)
	if jit {
		if !c.EnableJIT(true) {
			t.Skip("no native code on this host")
		}
		c.jit.threshold = 1
	}
	return c
}

// runToHalt runs code on a jitMachine until it halts.
func runToHalt(t *testing.T, code []byte, jit bool) *CPU {
	t.Helper()
	c := jitMachine(t, code, jit)
	if r, err := c.Run(100000); err != nil || r != StopHalt {
		t.Fatalf("run (jit %v): %v %v", jit, r, err)
	}
	return c
}

// TestJITSelfModifyingCode: a loop whose blocks are native and linked to
// one another rewrites an instruction of its own body; the rewritten code
// must run from then on (the links into the dropped block are undone),
// in native code as in the interpreter.
func TestJITSelfModifyingCode(t *testing.T) {
	code := []byte{
		0xB9, 100, 0, 0, 0, // mov ecx, 100
		0x31, 0xC0, // xor eax, eax
		// loop (0x1007):
		0x83, 0xC0, 0x01, // add eax, 1 (the immediate is at 0x1009)
		0x83, 0xF9, 50, // cmp ecx, 50
		0x75, 0x07, // jne skip
		0xC6, 0x05, 0xF3, 0xFF, 0xFF, 0xFF, 0x02, // mov byte [rip-13], 2 (0x1016-13 = 0x1009)
		// skip (0x1016):
		0xFF, 0xC9, // dec ecx
		0x75, 0xED, // jnz loop
		0xF4,
	}
	run := func(jit bool) *CPU { return runToHalt(t, code, jit) }
	want, got := run(false), run(true)
	if want.R[EAX] != 149 || got.R[EAX] != 149 {
		t.Fatalf("EAX = %d interpreted, %d native; want 51×1 + 49×2 = 149", want.R[EAX], got.R[EAX])
	}
	if want.Stats.Instructions != got.Stats.Instructions {
		t.Fatalf("%d instructions native, %d interpreted", got.Stats.Instructions, want.Stats.Instructions)
	}
	if got.Stats.NativeInstructions == 0 || got.Stats.BlocksInvalidated == 0 {
		t.Fatalf("native instructions %d, blocks invalidated %d: the test did not test", got.Stats.NativeInstructions, got.Stats.BlocksInvalidated)
	}
}

// countingLoop is an endless loop of one block: inc rax; add rbx, rax.
var countingLoop = []byte{
	0x48, 0xFF, 0xC0, // inc rax
	0x48, 0x01, 0xC3, // add rbx, rax
	0xEB, 0xF8, // jmp back
}

// TestJITBudget: native code linked in a loop stops where the interpreter
// does when the instruction budget runs out (Run's limit, the machine's
// slices), and resumes from there.
func TestJITBudget(t *testing.T) {
	code := countingLoop
	var states [2][]State
	for k, jit := range []bool{false, true} {
		c, _ := longMachine(t, code)
		if jit && !c.EnableJIT(true) {
			t.Skip("no native code on this host")
		}
		for _, n := range []uint64{1000, 1, 77, 100000} {
			if r, err := c.Run(n); err != nil || r != StopLimit {
				t.Fatalf("run: %v %v", r, err)
			}
			states[k] = append(states[k], c.State())
		}
		if jit && c.Stats.NativeInstructions < 90000 {
			t.Fatalf("only %d of %d instructions native", c.Stats.NativeInstructions, c.Stats.Instructions)
		}
	}
	if d := cmp.Diff(states[0], states[1]); d != "" {
		t.Fatalf("native code stops elsewhere (-interpreted +native):\n%s", d)
	}
}

// TestJITUnlinkAcrossPages: block A starts in page P and ends in page Q;
// block C, all in P, is linked to A's native code. Rewriting A's bytes in
// Q drops A but not C: C's link must be undone, or it would run A's old
// code.
func TestJITUnlinkAcrossPages(t *testing.T) {
	code := make([]byte, 0x1010)
	copy(code, []byte{
		0xB9, 100, 0, 0, 0, // mov ecx, 100
		0x31, 0xC0, 0x31, 0xDB, 0x31, 0xD2, // xor eax, eax; xor ebx, ebx; xor edx, edx
		0xE9, 0xE6, 0x0F, 0, 0, // jmp A (0x1FF6)
	})
	copy(code[0xFF0:], []byte{
		0xFF, 0xC9, // C: dec ecx
		0x75, 0x02, // jnz A
		0xF4, 0x90, // hlt
		0x83, 0xC0, 0x01, // A (0x1FF6): add eax, 1
		0x83, 0xC3, 0x01, // add ebx, 1
		0x81, 0xC2, 0x01, 0x00, 0x00, 0x00, // add edx, 1 (its immediate ends at 0x2001)
		0x83, 0xF9, 50, // D (0x2002): cmp ecx, 50
		0x75, 0xE9, // jne C
		0xC6, 0x05, 0xF2, 0xFF, 0xFF, 0xFF, 0x01, // mov byte [0x2000], 1: the immediate becomes 0x10001
		0xEB, 0xE0, // jmp C
	})
	run := func(jit bool) *CPU { return runToHalt(t, code, jit) }
	want := uint64(51 + 49*0x10001)
	for _, jit := range []bool{false, true} {
		if c := run(jit); c.R[EDX] != want || c.R[EAX] != 100 {
			t.Fatalf("jit %v: EDX = %#x, EAX = %d; want %#x, 100", jit, c.R[EDX], c.R[EAX], want)
		}
	}
}

// TestJITFaultsInInterpreter: a RET to a non-canonical address and a load
// from an unmapped page leave native code for the interpreter, which
// raises the fault at the right instruction (here, without an IDT, a
// triple fault naming it).
func TestJITFaultsInInterpreter(t *testing.T) {
	for _, code := range [][]byte{
		{0x48, 0xFF, 0xC3, 0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x50, 0xC3},             // inc rbx; mov rax, 1<<63; push rax; ret
		{0x48, 0xFF, 0xC3, 0x8B, 0x04, 0x25, 0, 0, 0, 0x40, 0xF4},                         // inc rbx; mov eax, [0x40000000]; hlt
		{0x48, 0xFF, 0xC3, 0x31, 0xD2, 0x31, 0xC9, 0x48, 0xF7, 0xF1, 0xF4},                // inc rbx; xor edx, edx; xor ecx, ecx; div rcx: #DE
		{0x48, 0xFF, 0xC3, 0xBA, 5, 0, 0, 0, 0xB9, 2, 0, 0, 0, 0xF7, 0xF1, 0xF4},          // inc rbx; mov edx, 5; mov ecx, 2; div ecx: #DE (quotient too large)
		{0x48, 0xFF, 0xC3, 0x48, 0x99, 0x31, 0xC9, 0x48, 0xF7, 0xF9, 0xF4},                // inc rbx; cqo; xor ecx, ecx; idiv rcx: #DE
		{0x48, 0xFF, 0xC3, 0xB8, 0, 0, 0, 0x80, 0x99, 0x83, 0xC9, 0xFF, 0xF7, 0xF9, 0xF4}, // inc rbx; mov eax, 1<<31; cdq; or ecx, -1; idiv ecx: #DE (−2^31 / −1)
	} {
		var msgs [2]string
		for k, jit := range []bool{false, true} {
			c := jitMachine(t, code, jit)
			_, err := c.Run(1000)
			if err == nil {
				t.Fatalf("% x (jit %v): no fault", code, jit)
			}
			msgs[k] = fmt.Sprintf("%v; RBX=%d", err, c.R[EBX])
			if jit && c.Stats.NativeInstructions == 0 {
				t.Fatalf("% x: nothing ran native", code)
			}
		}
		if msgs[0] != msgs[1] {
			t.Fatalf("% x: interpreted %q, native %q", code, msgs[0], msgs[1])
		}
	}
}

// TestJITCodeBufferFull: when the executable buffer fills, every
// translation is dropped and translation starts again, as often as it
// takes; the results do not change.
func TestJITCodeBufferFull(t *testing.T) {
	// 100 blocks (ADD EAX, i; ADD EBX, EAX; JMP next), then DEC ECX; JNZ back.
	code := []byte{0xB9, 50, 0, 0, 0} // mov ecx, 50
	for i := 0; i < 100; i++ {
		code = append(code, 0x83, 0xC0, byte(i), 0x01, 0xC3, 0xEB, 0x00)
	}
	back := uint32(5 - (len(code) + 8)) // dec ecx; jnz rel32
	code = append(code, 0xFF, 0xC9, 0x0F, 0x85, byte(back), byte(back>>8), byte(back>>16), byte(back>>24), 0xF4)
	want := runToHalt(t, code, false)
	c := jitMachine(t, code, true)
	c.jit.code.mem = c.jit.code.mem[:3000] // room for about ten blocks
	if r, err := c.Run(1000000); err != nil || r != StopHalt {
		t.Fatalf("run: %v %v", r, err)
	}
	if want.R[EAX] != c.R[EAX] || want.R[EBX] != c.R[EBX] || want.Stats.Instructions != c.Stats.Instructions {
		t.Fatalf("native: EAX %#x EBX %#x, %d instructions; interpreted: %#x %#x, %d", c.R[EAX], c.R[EBX], c.Stats.Instructions, want.R[EAX], want.R[EBX], want.Stats.Instructions)
	}
	if c.Stats.BlocksNative < 200 || c.Stats.NativeInstructions == 0 {
		t.Fatalf("%d blocks translated, %d instructions native: the buffer did not fill", c.Stats.BlocksNative, c.Stats.NativeInstructions)
	}
}

// TestJITWithGC: while native code runs linked blocks for a long slice,
// the collector runs in another goroutine; its preemption signals land in
// native code, which the runtime cannot preempt, and it waits for the slice.
func TestJITWithGC(t *testing.T) {
	code := countingLoop
	c := jitMachine(t, code, true)
	done := make(chan struct{})
	gcs := 0
	go func() {
		defer close(done)
		for range 20 {
			runtime.GC()
			gcs++
		}
	}()
	for range 20 {
		if r, err := c.Run(2_000_000); err != nil || r != StopLimit {
			t.Fatalf("run: %v %v", r, err)
		}
	}
	<-done
	if c.R[EAX] < 13_000_000 || c.Stats.NativeInstructions < 39_000_000 {
		t.Fatalf("RAX %d, %d instructions native", c.R[EAX], c.Stats.NativeInstructions)
	}
	t.Logf("%d collections during %d native instructions", gcs, c.Stats.NativeInstructions)
}
