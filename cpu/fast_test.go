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
