package hostexec

import (
	"errors"
	"testing"
)

func TestRunBasic(t *testing.T) {
	mem := make([]byte, 64)
	in := Regs{Flags: CF}
	for i := range in.GPR {
		in.GPR[i] = uint64(i) * 0x1111111111111111
	}
	in.GPR[BaseReg] = 8
	// adc eax, ecx; mov [rbp+4], eax; add dword [rbp-8], 7
	code := []byte{0x11, 0xC8, 0x89, 0x45, 0x04, 0x83, 0x45, 0xF8, 0x07}
	out, err := Run(code, &in, mem)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.GPR[RAX] = 0x11111112 // 32-bit result zero-extended
	want.Flags = out.Flags
	if out.GPR != want.GPR {
		t.Errorf("GPR = %x, want %x", out.GPR, want.GPR)
	}
	if out.Flags&Arith != 0 { // last: 0+7
		t.Errorf("flags = %#x, want no status flag", out.Flags)
	}
	if mem[12] != 0x12 || mem[13] != 0x11 || mem[0] != 7 {
		t.Errorf("mem = % x", mem[:16])
	}
}
