package cpu

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gemu-project/gemu/mmu"
)

// Instruction-level x87 tests: machine code in flat 32-bit protected mode
// with an IDT whose 32 gates lead to one HLT each (at x87Traps+vector).

const (
	x87GDT   = 0x500
	x87IDT   = 0x600
	x87Code  = 0x1000
	x87Data  = 0x2000
	x87Traps = 0x3000
)

type x87Run struct {
	c   *CPU
	mem *mmu.Memory
	s   State
}

// vector returns the exception taken, or -1 if the code reached its HLT.
func (r *x87Run) vector() int {
	if e := r.s.EIP; e > x87Traps && e <= x87Traps+32 {
		return int(e - x87Traps - 1)
	}
	return -1
}

// faultEIP is the EIP the exception pushed (no error code).
func (r *x87Run) faultEIP() uint32 { return r.mem.Read32(mmu.GPA(r.s.GPR[ESP])) }

func (r *x87Run) data(off, n int) []byte {
	return append([]byte(nil), r.mem.RAM[x87Data+off:x87Data+off+n]...)
}

func runX87(t *testing.T, code []byte, data []byte, setup func(s *State)) *x87Run {
	t.Helper()
	mem, err := mmu.NewMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	gdt := []byte{
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0, // 0x10 code
		0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0, // 0x18 data
	}
	var idt []byte
	for v := 0; v < 32; v++ {
		off := x87Traps + v
		idt = append(idt, byte(off), byte(off>>8), 0x10, 0, 0, 0x8E, byte(off>>16), byte(off>>24))
	}
	for _, w := range []struct {
		at uint64
		b  []byte
	}{{x87GDT, gdt}, {x87IDT, idt}, {x87Traps, bytes.Repeat([]byte{0xF4}, 32)}, {x87Code, append(code, 0xF4)}, {x87Data, data}} {
		if err := mem.WriteAt(mmu.GPA(w.at), w.b); err != nil {
			t.Fatal(err)
		}
	}
	c := New(mem, testIO{}, nil)
	s := FlatProtectedState(x87Code)
	s.GPR[ESP] = 0x8000
	s.GDTR = DTR{Base: x87GDT, Limit: 31}
	s.IDTR = DTR{Base: x87IDT, Limit: 32*8 - 1}
	s.CR0 |= CR0NE
	if setup != nil {
		setup(&s)
	}
	c.SetState(&s)
	if r, err := c.Run(10000); err != nil || r != StopHalt {
		t.Fatalf("run: %v %v", r, err)
	}
	return &x87Run{c: c, mem: mem, s: c.State()}
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }

func TestX87AddAndStore(t *testing.T) {
	code := []byte{
		0xDB, 0xE3, // fninit
		0xD9, 0xE8, // fld1
		0xD9, 0xEB, // fldpi
		0xDE, 0xC1, // faddp st1, st0
		0xDB, 0x3D, 0x00, 0x20, 0x00, 0x00, // fstp tword [0x2000]
		0xDD, 0x3D, 0x10, 0x20, 0x00, 0x00, // fnstsw [0x2010]
	}
	r := runX87(t, code, nil, nil)
	if r.vector() >= 0 {
		t.Fatalf("exception %d", r.vector())
	}
	// 1 + π rounded to nearest: 0x4001 C90FDAA22168C235 / 2 + 0x8000… → 4.14159…
	env := newFenv(f80Near)
	want := env.add(f80One, env.constant(2), false)
	if got := getF80(r.data(0, 10)); got != want {
		t.Fatalf("1+pi = %04x.%016x want %04x.%016x", got.se, got.m, want.se, want.m)
	}
	if fsw := le16(r.data(0x10, 2)); fsw&feAll != fePE {
		t.Fatalf("fsw %#04x: want PE only", fsw)
	}
	if r.s.FPU.FTW != 0 || r.s.FPU.FSW&fswTop != 0 {
		t.Fatalf("stack not empty: ftw %#x fsw %#x", r.s.FPU.FTW, r.s.FPU.FSW)
	}
}

func TestX87StackOverflowAndUnderflow(t *testing.T) {
	code := []byte{0xDB, 0xE3}
	for i := 0; i < 9; i++ {
		code = append(code, 0xD9, 0xE8) // fld1
	}
	code = append(code, 0xDF, 0xE0) // fnstsw ax
	r := runX87(t, code, nil, nil)
	ax := uint16(r.s.GPR[EAX])
	if ax&(feIE|fswSF|fswC1) != feIE|fswSF|fswC1 {
		t.Fatalf("overflow: fsw %#04x", ax)
	}
	if getF80(r.s.FPU.ST[0][:]) != f80Indefinite || r.s.FPU.FTW != 0xFF {
		t.Fatalf("overflow: ST0 % x ftw %#x", r.s.FPU.ST[0], r.s.FPU.FTW)
	}
	// Underflow: FADD with an empty stack, masked: ST0 = indefinite, C1 = 0.
	code = []byte{0xDB, 0xE3, 0xD8, 0xC1, 0xDF, 0xE0}
	r = runX87(t, code, nil, nil)
	if ax := uint16(r.s.GPR[EAX]); ax&(feIE|fswSF|fswC1) != feIE|fswSF {
		t.Fatalf("underflow: fsw %#04x", ax)
	}
}

// An unmasked exception sets ES and B; the next waiting x87 instruction
// raises #MF with CR0.NE = 1, leaving the stack as it was (SDM Vol. 1 §8.6).
func TestX87UnmaskedExceptionMF(t *testing.T) {
	code := []byte{
		0xDB, 0xE3, // fninit
		0xD9, 0x2D, 0x00, 0x20, 0x00, 0x00, // fldcw [0x2000]
		0xD9, 0xE8, // fld1
		0xD9, 0xEE, // fldz
		0xDE, 0xF9, // fdivp st1, st0: 1/0, ZE unmasked
		0xDD, 0x3D, 0x10, 0x20, 0x00, 0x00, // fnstsw [0x2010]: no wait, no #MF
		0xD9, 0xD0, // fnop: #MF
	}
	cw := []byte{0x7B, 0x03} // 0x037B: ZE unmasked
	r := runX87(t, code, cw, nil)
	if r.vector() != ExcMF || r.faultEIP() != x87Code+20 {
		t.Fatalf("vector %d at %#x", r.vector(), r.faultEIP())
	}
	fsw := le16(r.data(0x10, 2))
	if fsw&(feZE|fswES|fswB) != feZE|fswES|fswB || fsw&fswTop != 6<<11 {
		t.Fatalf("fsw %#04x", fsw)
	}
	if getF80(r.s.FPU.ST[0][:]) != f80Zero(false) || getF80(r.s.FPU.ST[1][:]) != f80One {
		t.Fatalf("the stack changed")
	}
	// With CR0.NE = 0 the exception stays pending: no #MF.
	r = runX87(t, code, cw, func(s *State) { s.CR0 &^= CR0NE })
	if r.vector() >= 0 {
		t.Fatalf("CR0.NE=0: vector %d", r.vector())
	}
}

func TestX87NM(t *testing.T) {
	for _, cr0 := range []uint64{CR0TS, CR0EM} {
		r := runX87(t, []byte{0x90, 0xD9, 0xE8}, nil, func(s *State) { s.CR0 |= cr0 })
		if r.vector() != ExcNM || r.faultEIP() != x87Code+1 {
			t.Fatalf("cr0 %#x: vector %d at %#x", cr0, r.vector(), r.faultEIP())
		}
	}
}

func TestX87CompareAndFCOMI(t *testing.T) {
	code := []byte{
		0xDB, 0xE3, // fninit
		0xD9, 0xE8, // fld1
		0xD9, 0xEB, // fldpi: ST0 = π, ST1 = 1
		0xD8, 0xD1, // fcom st1: π > 1 → C3 C2 C0 = 000
		0xDF, 0xE0, // fnstsw ax
		0x89, 0xC3, // mov ebx, eax
		0xDB, 0xF1, // fcomi st1: CF = ZF = PF = 0
		0x9C, 0x5A, // pushf; pop edx
		0xD9, 0xC9, // fxch st1: ST0 = 1
		0xDF, 0xF1, // fcomip st1: 1 < π: CF = 1, pop
		0x9C, 0x59, // pushf; pop ecx
		0xD9, 0xE4, // ftst: π > 0
		0xDF, 0xE0, // fnstsw ax
	}
	r := runX87(t, code, nil, nil)
	if r.s.GPR[EBX]&(fswC0|fswC2|fswC3) != 0 {
		t.Errorf("fcom: %#x", r.s.GPR[EBX])
	}
	if r.s.GPR[EDX]&(FlagCF|FlagZF|FlagPF) != 0 || r.s.GPR[ECX]&(FlagCF|FlagZF|FlagPF) != FlagCF {
		t.Errorf("fcomi flags %#x, fcomip %#x", r.s.GPR[EDX], r.s.GPR[ECX])
	}
	if r.s.GPR[EAX]&(fswC0|fswC2|fswC3) != 0 || r.s.FPU.FTW != 0x80 {
		t.Errorf("ftst %#x ftw %#x", r.s.GPR[EAX], r.s.FPU.FTW)
	}
}

// FISTP in the four rounding modes (SDM Vol. 1 §4.8.4).
func TestX87FISTRounding(t *testing.T) {
	var code []byte
	var data []byte
	data = append(data, make([]byte, 0x40)...)
	binary.LittleEndian.PutUint64(data[0x20:], 0xC004000000000000) // -2.5
	code = append(code, 0xDB, 0xE3)
	for rc := 0; rc < 4; rc++ {
		binary.LittleEndian.PutUint16(data[2*rc:], uint16(0x037F|rc<<10))
		code = append(code,
			0xD9, 0x2D, byte(2*rc), 0x20, 0x00, 0x00, // fldcw [0x2000+2rc]
			0xDD, 0x05, 0x20, 0x20, 0x00, 0x00, // fld qword [0x2020]
			0xDB, 0x1D, byte(0x10+4*rc), 0x20, 0x00, 0x00) // fistp dword [0x2010+4rc]
	}
	r := runX87(t, code, data, nil)
	want := []int32{-2, -3, -2, -2}
	for rc, w := range want {
		if got := int32(binary.LittleEndian.Uint32(r.data(0x10+4*rc, 4))); got != w {
			t.Errorf("rc %d: %d want %d", rc, got, w)
		}
	}
}

func TestX87FSAVEFRSTORAndFXSAVE(t *testing.T) {
	code := []byte{
		0xDB, 0xE3, // fninit
		0xD9, 0xE8, // fld1
		0xD9, 0xEB, // fldpi
		0xD9, 0xEE, // fldz
		0xDD, 0x35, 0x00, 0x21, 0x00, 0x00, // fnsave [0x2100]
		0xDD, 0x25, 0x00, 0x21, 0x00, 0x00, // frstor [0x2100]
		0x0F, 0xAE, 0x05, 0x00, 0x22, 0x00, 0x00, // fxsave [0x2200]
		0xDB, 0xE3, // fninit
		0x0F, 0xAE, 0x0D, 0x00, 0x22, 0x00, 0x00, // fxrstor [0x2200]
		0x0F, 0xAE, 0x05, 0x00, 0x24, 0x00, 0x00, // fxsave [0x2400]
	}
	r := runX87(t, code, nil, func(s *State) {
		s.CR4 |= CR4OSFXSR
		s.FPU.XMM[3][0] = 0xAB
		s.FPU.MXCSR = 0x1F80 | 1<<13
	})
	if r.vector() >= 0 {
		t.Fatalf("exception %d at %#x", r.vector(), r.faultEIP())
	}
	save := r.data(0x100, 108)
	if le16(save[0:]) != 0x037F || le16(save[4:])&fswTop != 5<<11 || le16(save[8:]) != 0x07FF|1<<10 {
		// tags: R5 zero (01), R6 valid (00), R7 valid (00), others empty (11): 0b00_00_01_11_11_11_11_11.
		t.Errorf("fnsave env: fcw %#x fsw %#x ftw %#x", le16(save[0:]), le16(save[4:]), le16(save[8:]))
	}
	if getF80(save[28:]) != f80Zero(false) || getF80(save[48:]) != f80One {
		t.Errorf("fnsave registers: % x", save[28:58])
	}
	fx := r.data(0x200, 512)
	if le16(fx[0:]) != 0x037F || le16(fx[2:])&fswTop != 5<<11 || fx[4] != 0xE0 {
		t.Errorf("fxsave header: % x", fx[:8])
	}
	if getF80(fx[32:]) != f80Zero(false) || getF80(fx[64:]) != f80One {
		t.Errorf("fxsave ST order: % x", fx[32:80])
	}
	if binary.LittleEndian.Uint32(fx[24:]) != 0x1F80|1<<13 || binary.LittleEndian.Uint32(fx[28:]) != fxMXCSRMask || fx[160+48] != 0xAB {
		t.Errorf("fxsave MXCSR/XMM: % x", fx[24:32])
	}
	if fx2 := r.data(0x400, 512); !bytes.Equal(fx, fx2) {
		t.Errorf("fxrstor/fxsave round trip differs")
	}
	// Misaligned FXSAVE: #GP.
	r = runX87(t, []byte{0x0F, 0xAE, 0x05, 0x08, 0x22, 0x00, 0x00}, nil, nil)
	if r.vector() != ExcGP {
		t.Errorf("misaligned fxsave: vector %d", r.vector())
	}
}
