package cpu

import (
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gemu-project/gemu/mmu"
)

type testIO struct{}

func (testIO) In(port uint16, size int) uint32     { return 0xFFFFFFFF }
func (testIO) Out(port uint16, size int, v uint32) {}

// runFlat32 runs code in flat 32-bit protected mode from 0x1000 until HLT.
func runFlat32(t *testing.T, code []byte, regs [8]uint64) State {
	t.Helper()
	mem, err := mmu.NewMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteAt(0x1000, code); err != nil {
		t.Fatal(err)
	}
	c := New(mem, testIO{}, nil)
	s := FlatProtectedState(0x1000)
	copy(s.GPR[:], regs[:])
	s.GPR[ESP] = 0x8000
	c.SetState(&s)
	if r, err := c.Run(100000); err != nil || r != StopHalt {
		t.Fatalf("run: %v %v", r, err)
	}
	return c.State()
}

// TestSpecializedHandlersMatchGeneric runs random sequences of the forms
// that fast.go specializes, with and without specialization, and compares
// the whole state: the generic handlers are the reference.
func TestSpecializedHandlersMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	modrm := func(reg, rm int) byte { return byte(0xC0 | reg<<3 | rm) }
	for round := 0; round < 300; round++ {
		var code []byte
		for i := 0; i < 40; i++ {
			r1, r2 := rng.Intn(8), rng.Intn(8)
			if r1 == ESP || r2 == ESP {
				continue
			}
			imm := []byte{byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))}
			switch rng.Intn(12) {
			case 0: // ALU Ev,Gv
				code = append(code, byte(rng.Intn(8)*8+1), modrm(r2, r1))
			case 1: // ALU Gv,Ev
				code = append(code, byte(rng.Intn(8)*8+3), modrm(r2, r1))
			case 2: // Grp1 Ev,Iz
				code = append(append(code, 0x81, modrm(rng.Intn(8), r1)), imm...)
			case 3: // Grp1 Ev,Ib
				code = append(code, 0x83, modrm(rng.Intn(8), r1), imm[0])
			case 4: // ALU eAX,Iz
				code = append(append(code, byte(rng.Intn(8)*8+5)), imm...)
			case 5: // MOV both directions
				code = append(code, 0x89, modrm(r2, r1), 0x8B, modrm(r1, r2))
			case 6: // INC, DEC
				code = append(code, byte(0x40+r1), byte(0x48+r2))
			case 7: // LEA r, [r + r*4 + disp8]
				code = append(code, 0x8D, byte(0x44|r1<<3), byte(2<<6|r2<<3|r1&7), imm[0])
			case 8: // SHL, SHR by imm8
				code = append(code, 0xC1, modrm(4, r1), imm[0]&31, 0xC1, modrm(5, r2), imm[1]&31)
			case 9: // store and load through memory
				code = append(code, 0x89, byte(0x05|r1<<3), 0, 0x20, 0, 0, 0x8B, byte(0x05|r2<<3), 0, 0x20, 0, 0)
			case 10: // read the flags
				code = append(code, 0x9C, 0x58+byte(r1)) // pushf; pop r1
			case 11: // ADC/SBB after a flag-setting op
				code = append(code, 0x11, modrm(r2, r1), 0x19, modrm(r1, r2))
			}
		}
		code = append(code, 0x9C, 0x58, 0xF4) // pushf; pop eax; hlt
		var regs [8]uint64
		for i := range regs {
			regs[i] = uint64(rng.Uint32())
		}
		specializeOff = true
		want := runFlat32(t, code, regs)
		specializeOff = false
		got := runFlat32(t, code, regs)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("round %d: specialized handlers differ (-generic +specialized):\n%s\ncode % x", round, d, code)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	mem, _ := mmu.NewMemory(1 << 20)
	c := New(mem, testIO{}, nil)
	s := FlatProtectedState(0x1234)
	for i := range s.GPR {
		s.GPR[i] = uint64(0x11111111 * (i + 1))
	}
	s.EFLAGS = 0x202 | FlagCF | FlagZF
	s.CR3, s.CR2, s.CR4 = 0x5000, 0xdeadb000, CR4PSE
	s.GDTR = DTR{Base: 0x800, Limit: 0x2F}
	s.IDTR = DTR{Base: 0x900, Limit: 0x7FF}
	s.DR[7] = 0x400
	s.SysenterCS, s.SysenterESP, s.SysenterEIP = 8, 0x9000, 0xC0000000
	s.TSC = 123456
	c.SetState(&s)
	got := c.State()
	if d := cmp.Diff(s, got); d != "" {
		t.Fatalf("state round trip (-set +got):\n%s", d)
	}
}

// TestSpecializedHandlersMatchGeneric64 is the same comparison in 64-bit
// mode, with REX.W forms and R8–R15.
func TestSpecializedHandlersMatchGeneric64(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for round := 0; round < 300; round++ {
		var code []byte
		reg := func() int {
			for {
				if r := rng.Intn(16); r != ESP {
					return r
				}
			}
		}
		for i := 0; i < 40; i++ {
			r1, r2 := reg(), reg()
			w := byte(0x48)
			if rng.Intn(4) == 0 {
				w = 0x40 // 32-bit operand with REX (zero-extension)
			}
			rex := w | byte(r2>>3)<<2 | byte(r1>>3)
			modrm := byte(0xC0 | (r2&7)<<3 | r1&7)
			imm := []byte{byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))}
			switch rng.Intn(9) {
			case 0: // ALU Ev,Gv
				code = append(code, rex, byte(rng.Intn(8)*8+1), modrm)
			case 1: // ALU Gv,Ev
				code = append(code, rex, byte(rng.Intn(8)*8+3), modrm)
			case 2: // Grp1 Ev,Iz
				code = append(append(code, rex&^4, 0x81, byte(0xC0|rng.Intn(8)<<3|r1&7)), imm...)
			case 3: // MOV both directions
				code = append(code, rex, 0x89, modrm, rex, 0x8B, modrm)
			case 4: // INC, DEC (FF /0, /1)
				code = append(code, rex&^4, 0xFF, byte(0xC0|r1&7), rex&^4, 0xFF, byte(0xC8|r1&7))
			case 5: // LEA r, [r + r*2 + disp8]
				code = append(code, rex|byte(r1>>3)<<1, 0x8D, byte(0x44|(r2&7)<<3), byte(1<<6|(r1&7)<<3|r1&7), imm[0])
			case 6: // SHL, SHR by imm8
				code = append(code, rex&^4, 0xC1, byte(0xE0|r1&7), imm[0]&63, rex&^4, 0xC1, byte(0xE8|r1&7), imm[1]&63)
			case 7: // store and load through [disp32]
				code = append(code, rex&^1, 0x89, byte(0x04|(r2&7)<<3), 0x25, 0, 0x20, 0, 0, rex&^1, 0x8B, byte(0x04|(r2&7)<<3), 0x25, 0, 0x20, 0, 0)
			case 8: // ADC, SBB after a flag-setting op
				code = append(code, rex, 0x11, modrm, rex, 0x19, modrm)
			}
		}
		code = append(code, 0x9C, 0x58, 0xF4) // pushfq; pop rax; hlt
		var regs [16]uint64
		for i := range regs {
			regs[i] = rng.Uint64()
		}
		run := func() State {
			c, _ := longMachine(t, code)
			for i := range regs {
				if i != ESP {
					c.R[i] = regs[i]
				}
			}
			if r, err := c.Run(100000); err != nil || r != StopHalt {
				t.Fatalf("run: %v %v", r, err)
			}
			return c.State()
		}
		specializeOff = true
		want := run()
		specializeOff = false
		got := run()
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("round %d: specialized handlers differ (-generic +specialized):\n%s\ncode % x", round, d, code)
		}
	}
}

// TestSpecializedHandlersMatchGeneric64Mem covers the 64-bit-mode memory
// forms (fastlong.go), shifts, multiplies, conditional moves and branches:
// random sequences over a buffer addressed by R15 that straddles a page
// boundary, so that both the TLB fast path and the slow path run.
func TestSpecializedHandlersMatchGeneric64Mem(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 400; round++ {
		// mov r15, 0x200FF0
		code := []byte{0x49, 0xBF, 0xF0, 0x0F, 0x20, 0, 0, 0, 0, 0}
		reg := func() int {
			for {
				if r := rng.Intn(15); r != ESP {
					return r
				}
			}
		}
		for i := 0; i < 40; i++ {
			r1, r2 := reg(), reg()
			w := byte(0)
			if rng.Intn(2) == 0 {
				w = 0x08
			}
			// REX for reg field r2 and [r15+disp8] (B set).
			rexM := 0x41 | w | byte(r2>>3)<<2
			mem := []byte{byte(0x47 | (r2&7)<<3), byte(rng.Intn(32))} // ModRM mod=01 rm=r15, disp8
			rexR := 0x40 | w | byte(r2>>3)<<2 | byte(r1>>3)
			modrm := byte(0xC0 | (r2&7)<<3 | r1&7)
			imm := []byte{byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))}
			switch rng.Intn(22) {
			case 0: // MOV Gv,Ev load
				code = append(append(code, rexM, 0x8B), mem...)
			case 1: // MOV Ev,Gv store, 16/32/64
				if rng.Intn(3) == 0 {
					code = append(code, 0x66)
				}
				code = append(append(code, rexM, 0x89), mem...)
			case 2: // MOV Eb,Gb store (with or without REX: AH–BH)
				if rng.Intn(2) == 0 {
					code = append(append(code, rexM&^8, 0x88), mem...)
				} else {
					// No REX: registers 4–7 are AH–BH; [rip+disp32] reaches the buffer.
					disp := 0x200FF0 + uint32(rng.Intn(32)) - uint32(0x1000+len(code)+6)
					code = append(code, 0x88, byte(0x05|(r2&7)<<3), byte(disp), byte(disp>>8), byte(disp>>16), byte(disp>>24))
				}
			case 3: // MOVZX Gv,Eb / Ew
				code = append(append(code, rexM, 0x0F, byte(0xB6+rng.Intn(2))), mem...)
			case 4: // ALU Gv,Ev with a memory source
				code = append(append(code, rexM, byte(rng.Intn(8)*8+3)), mem...)
			case 5: // CMP Ev,Gv with a memory destination
				code = append(append(code, rexM, 0x39), mem...)
			case 6: // shifts by imm8 and by 1
				code = append(code, rexR&^4, 0xC1, byte(0xC0|[]int{4, 5, 7, 6}[rng.Intn(4)]<<3|r1&7), imm[0])
				code = append(code, rexR&^4, 0xD1, byte(0xC0|[]int{4, 5, 7}[rng.Intn(3)]<<3|r1&7))
			case 7: // shifts by CL
				code = append(code, rexR&^4, 0xD3, byte(0xC0|[]int{4, 5, 7, 6}[rng.Intn(4)]<<3|r1&7))
			case 8: // IMUL Gv,Ev / Gv,Ev,Iz / Gv,Ev,Ib
				switch rng.Intn(3) {
				case 0:
					code = append(code, rexR, 0x0F, 0xAF, modrm)
				case 1:
					code = append(append(code, rexR, 0x69, modrm), imm...)
				default:
					code = append(code, rexR, 0x6B, modrm, imm[0])
				}
			case 9: // CMOVcc
				code = append(code, rexR, 0x0F, byte(0x40+rng.Intn(16)), modrm)
			case 10: // MOV r, imm32 / imm64
				code = append(append(code, rexR&^4, byte(0xB8+r1&7)), imm...)
				if w != 0 {
					code = append(code, imm...)
				}
			case 11: // LEA r32, [r64 + r64*2 + disp8]
				code = append(code, 0x40|byte(r2>>3)<<2|byte(r1>>3)<<1|byte(r1>>3), 0x8D, byte(0x44|(r2&7)<<3), byte(1<<6|(r1&7)<<3|r1&7), imm[0])
			case 12, 13: // CMP/SUB/TEST/AND then Jcc over a 2-byte INC
				switch rng.Intn(5) {
				case 0:
					code = append(code, rexR, byte(0x39-8*rng.Intn(2)), modrm) // CMP/SUB Ev,Gv
				case 1:
					code = append(code, rexR&^4, 0x83, byte(0xF8-8*rng.Intn(2)|int(r1&7)), imm[0]) // CMP/SUB Ev,Ib
				case 2:
					code = append(append(code, rexR&^4, 0x81, byte(0xF8|r1&7)), imm...) // CMP Ev,Iz
				case 3:
					code = append(code, rexR, byte(0x85-0x64*rng.Intn(2)), modrm) // TEST/AND Ev,Gv
				default:
					code = append(code, rexR, 0x3B, modrm) // CMP Gv,Ev
				}
				code = append(code, byte(0x70+rng.Intn(16)), 2, 0xFF, byte(0xC0|[]int{0, 1, 2, 3, 5, 6, 7}[rng.Intn(7)]))
			case 14: // ADC/SBB read CF
				code = append(code, rexR, 0x11, modrm, rexR, 0x19, modrm)
			case 15: // SETcc, and the flags through the stack
				code = append(code, 0x0F, byte(0x90+rng.Intn(16)), byte(0xC0|rng.Intn(4)))
				code = append(code, 0x9C, 0x58+byte(rng.Intn(4)))
			case 16: // PUSH r; POP r
				code = append(code, 0x40|byte(r1>>3), 0x50+byte(r1&7), 0x40|byte(r2>>3), 0x58+byte(r2&7))
			case 17: // CALL to the next instruction, POP; LEA RAX,[RIP+2]; PUSH RAX; RET
				code = append(code, 0xE8, 0, 0, 0, 0, 0x40|byte(r1>>3), 0x58+byte(r1&7))
				code = append(code, 0x48, 0x8D, 0x05, 2, 0, 0, 0, 0x50, 0xC3)
			case 18: // MOVZX Gv,Eb and MOVSXD Gq,Ed from registers
				code = append(code, rexR, 0x0F, 0xB6, modrm, rexR|8, 0x63, modrm)
			case 19: // CMP r8, imm8; Jcc
				code = append(code, rexR&^4, 0x80, byte(0xF8|r1&7), imm[0], byte(0x70+rng.Intn(16)), 2, 0xFF, 0xC0)
			case 20: // SHR r16, imm8
				code = append(code, 0x66, rexR&^4, 0xC1, byte(0xE8|r1&7), imm[0]&31|1)
			case 21: // CMP AL, imm8 (no REX: AH–BH as r/m)
				code = append(code, 0x80, byte(0xF8|rng.Intn(8)), imm[1])
			}
		}
		code = append(code, 0x9C, 0x58, 0xF4) // pushfq; pop rax; hlt
		var regs [16]uint64
		for i := range regs {
			regs[i] = rng.Uint64()
			if rng.Intn(4) == 0 {
				regs[i] &= 0xFF // small values: equal operands, zero results
			}
		}
		run := func() (State, []byte) {
			c, _ := longMachine(t, code)
			return runOverBuffer(t, c, &regs, round)
		}
		specializeOff = true
		want, wantMem := run()
		specializeOff = false
		got, gotMem := run()
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("round %d: specialized handlers differ (-generic +specialized):\n%s\ncode % x", round, d, code)
		}
		if d := cmp.Diff(wantMem, gotMem); d != "" {
			t.Fatalf("round %d: memory differs (-generic +specialized):\n%s\ncode % x", round, d, code)
		}
	}
}

// runOverBuffer runs c to HLT from regs (all but RSP) with the 64 bytes
// at 0x200FF0 (across a page boundary) filled from round, and returns the
// state and those bytes.
func runOverBuffer(t *testing.T, c *CPU, regs *[16]uint64, round int) (State, []byte) {
	t.Helper()
	for i := range regs {
		if i != ESP {
			c.R[i] = regs[i]
		}
	}
	buf := make([]byte, 64)
	for i := range buf {
		buf[i] = byte(round*7 + i*13)
	}
	if err := c.mem.WriteAt(0x200FF0, buf); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Run(100000); err != nil || r != StopHalt {
		t.Fatalf("round %d: run: %v %v", round, r, err)
	}
	if err := c.mem.ReadAt(0x200FF0, buf); err != nil {
		t.Fatal(err)
	}
	return c.State(), buf
}

// TestRepStringFastMatchesGeneric compares REP STOS and REP MOVS in 64-bit
// mode (stringfast.go) with the generic loops: random sizes, counts and
// addresses around page boundaries, overlapping copies, and DF set.
func TestRepStringFastMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	movImm := func(code []byte, r int, v uint64) []byte {
		code = append(code, 0x48, byte(0xB8+r))
		for i := 0; i < 8; i++ {
			code = append(code, byte(v>>(8*i)))
		}
		return code
	}
	for round := 0; round < 120; round++ {
		var code []byte
		for i := 0; i < 6; i++ {
			src := 0x200000 + uint64(rng.Intn(0x3000))
			dst := 0x200000 + uint64(rng.Intn(0x3000))
			if rng.Intn(3) == 0 {
				dst = src + uint64(rng.Intn(24)) // overlapping, destination ahead
			}
			code = movImm(code, ESI, src)
			code = movImm(code, EDI, dst)
			code = movImm(code, ECX, uint64(rng.Intn(1200)))
			code = movImm(code, EAX, rng.Uint64()&[]uint64{0, ^uint64(0)}[rng.Intn(2)])
			if rng.Intn(6) == 0 {
				code = append(code, 0xFD) // STD
			}
			size := []byte{0, 0x66, 0, 0x48}[rng.Intn(4)] // byte, word, dword, qword forms
			op := byte(0xA4 + 6*rng.Intn(2))              // MOVS or STOS
			if size == 0 && rng.Intn(2) == 0 {
				op++ // dword
			} else if size != 0 {
				op++
			}
			code = append(code, 0xF3)
			if size != 0 {
				code = append(code, size)
			}
			code = append(code, op, 0xFC) // ...; CLD
		}
		code = append(code, 0xF4)
		run := func() (State, []byte) {
			c, m := longMachine(t, code)
			buf := make([]byte, 0x4000)
			for i := range buf {
				buf[i] = byte(i*7 + round)
			}
			if err := m.WriteAt(0x200000, buf); err != nil {
				t.Fatal(err)
			}
			if r, err := c.Run(100000); err != nil || r != StopHalt {
				t.Fatalf("run: %v %v", r, err)
			}
			if err := m.ReadAt(0x200000, buf); err != nil {
				t.Fatal(err)
			}
			s := c.State()
			s.TSC = 0
			return s, buf
		}
		specializeOff = true
		want, wantMem := run()
		specializeOff = false
		got, gotMem := run()
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("round %d: state differs (-generic +fast):\n%s\ncode % x", round, d, code)
		}
		if d := cmp.Diff(wantMem, gotMem); d != "" {
			t.Fatalf("round %d: memory differs (-generic +fast):\n%s", round, d)
		}
	}
}

// TestCondIndexMatchesFlags checks the table-driven condition evaluation
// (flags.go) and the fused compare-and-branch indexes (fuse.go) against the
// flag-by-flag definitions of SDM Vol. 1 Appendix B, over random lazy states.
func TestCondIndexMatchesFlags(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	ref := func(c *CPU, cc uint8) bool {
		var r bool
		switch cc >> 1 {
		case 0:
			r = c.of()
		case 1:
			r = c.cf()
		case 2:
			r = c.zf()
		case 3:
			r = c.cf() || c.zf()
		case 4:
			r = c.sf()
		case 5:
			r = c.pf()
		case 6:
			r = c.sf() != c.of()
		case 7:
			r = c.zf() || c.sf() != c.of()
		}
		return r != (cc&1 != 0)
	}
	c := &CPU{}
	for i := 0; i < 200000; i++ {
		size := []uint8{1, 2, 4, 8}[rng.Intn(4)]
		a, b := rng.Uint64(), rng.Uint64()
		if rng.Intn(4) == 0 {
			b = a
		}
		if rng.Intn(4) == 0 {
			a &= 0xFF
		}
		op := lazyOp(rng.Intn(int(lzRes) + 1))
		cin := rng.Intn(2) == 0
		res := aluCompute([]uint8{aluADD, aluADD, aluADC, aluSUB, aluSBB, aluAND, aluADD, aluSUB, aluAND}[op], a, b, cin)
		c.eflags = uint32(rng.Intn(1 << 12))
		c.setLazy(op, size, cin, a, b, res)
		if op == lzRes {
			c.lz.b &= 1
		}
		for cc := uint8(0); cc < 16; cc++ {
			if got, want := c.cond(cc), ref(c, cc); got != want {
				t.Fatalf("op %d size %d a %#x b %#x res %#x cin %v: cond %d = %v, want %v", op, size, a, b, res, cin, cc, got, want)
			}
		}
		if op == lzSub && size == 4 {
			idx := sub32Index(uint32(a), uint32(b), uint32(res))
			for cc := uint8(0); cc < 16; cc++ {
				if cc>>1 == 5 {
					continue // P and NP are never fused
				}
				if got, want := ccTable[cc]>>idx&1 != 0, ref(c, cc); got != want {
					t.Fatalf("sub32Index a %#x b %#x: cond %d = %v, want %v", a, b, cc, got, want)
				}
			}
		}
		if op == lzSub && size == 8 {
			idx := sub64Index(a, b, res)
			for cc := uint8(0); cc < 16; cc++ {
				if cc>>1 == 5 {
					continue
				}
				if got, want := ccTable[cc]>>idx&1 != 0, ref(c, cc); got != want {
					t.Fatalf("sub64Index a %#x b %#x: cond %d = %v, want %v", a, b, cc, got, want)
				}
			}
		}
	}
}
