package ssehost

import (
	"encoding/binary"
	"math"
	"testing"
)

func TestAddps(t *testing.T) {
	if !Supported() {
		t.Skip("not amd64")
	}
	c, err := NewCode(4096)
	if err != nil {
		t.Skip(err)
	}
	defer c.Close()
	var s State
	s.MXCSR = 0x1F80
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint32(s.XMM[0][i*4:], math.Float32bits(1.5))
		binary.LittleEndian.PutUint32(s.XMM[1][i*4:], math.Float32bits(0.1))
	}
	s.GPR[0] = 7
	mem := make([]byte, 16)
	c.Run([]byte{0x0F, 0x58, 0xC1, 0x89, 0xC3, 0x0F, 0x11, 0x06}, &s, mem) // addps xmm0,xmm1; mov ebx,eax; movups [rsi],xmm0
	got := math.Float32frombits(binary.LittleEndian.Uint32(s.XMM[0][:]))
	if got != float32(1.5)+float32(0.1) || s.MXCSR != 0x1FA0 || s.GPR[3] != 7 {
		t.Fatalf("got %v mxcsr %#x ebx %d", got, s.MXCSR, s.GPR[3])
	}
	if binary.LittleEndian.Uint32(mem) != math.Float32bits(got) {
		t.Fatalf("mem % x", mem)
	}
}
