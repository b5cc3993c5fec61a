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
