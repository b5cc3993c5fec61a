package cpu

import (
	"testing"
)

// benchSSELoop runs body (which must not touch ECX) b.N times in a guest
// loop and reports the time per guest instruction.
func benchSSELoop(b *testing.B, body []byte, insns int, mxcsr uint32) {
	box := newSSEBox(b)
	box.limit = uint64(b.N)*uint64(insns+2) + 10
	code := append([]byte{0xB9, 0, 0, 0, 0}, body...) // mov ecx, N
	code = append(code, 0x49, 0x75, byte(-(len(body) + 3)))
	n := uint32(b.N)
	code[1], code[2], code[3], code[4] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	s := sseStartState()
	s.FPU.MXCSR = mxcsr
	s.FPU.XMM[0] = ps(1.1, 2.2, 3.3, 4.4)
	s.FPU.XMM[1] = ps(1.0000001, 0.999, 1.5, -0.7)
	s.FPU.XMM[2] = ps(0.5, 0.25, 3, 7)
	b.ResetTimer()
	_, _, vec := box.run(b, code, &s, make([]byte, 64))
	if vec >= 0 {
		b.Fatalf("vector %d", vec)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(insns+2)), "ns/insn")
}

// addps xmm0, xmm1; subps xmm0, xmm1; mulps xmm0, xmm2; divps xmm0, xmm2:
// the values stay put, so every lane takes the normal-operand path.
var addSubMulDivPS = []byte{0x0F, 0x58, 0xC1, 0x0F, 0x5C, 0xC1, 0x0F, 0x59, 0xC2, 0x0F, 0x5E, 0xC2}

func BenchmarkSSEArithPS(b *testing.B) { benchSSELoop(b, addSubMulDivPS, 4, 0x1F80) }

// BenchmarkSSEArithPSRoundDown takes the soft-float path (RC = down).
func BenchmarkSSEArithPSRoundDown(b *testing.B) { benchSSELoop(b, addSubMulDivPS, 4, 0x3F80) }

// BenchmarkFPCore measures one binary32 and one binary64 operation of the
// soft-float core, in each path.
func BenchmarkFPCore(b *testing.B) {
	for _, rc := range []uint32{rcNearest, rcDown} {
		e := newFPEnv(0x1F80 | rc<<mxRCShift)
		x32, y32 := uint64(f32bits(1.1)), uint64(f32bits(3.3))
		x64, y64 := f64bits(1.1), f64bits(3.3)
		name := map[uint32]string{rcNearest: "nearest", rcDown: "down"}[rc]
		b.Run("add32-"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e.add(fmt32, x32, y32, false)
			}
		})
		b.Run("mul64-"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e.mul(fmt64, x64, y64)
			}
		})
		b.Run("div64-"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e.div(fmt64, x64, y64)
			}
		})
		b.Run("sqrt64-"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e.sqrt(fmt64, y64)
			}
		})
	}
}

func BenchmarkSSEMulDivSD(b *testing.B) {
	// mulsd xmm0, xmm1; divsd xmm0, xmm1
	benchSSELoop(b, []byte{0xF2, 0x0F, 0x59, 0xC1, 0xF2, 0x0F, 0x5E, 0xC1}, 2, 0x1F80)
}

func BenchmarkSSEStrlenStep(b *testing.B) {
	// movdqa xmm1, [esi]; pcmpeqb xmm1, xmm3; pmovmskb edx, xmm1; test edx, edx
	benchSSELoop(b, []byte{0x66, 0x0F, 0x6F, 0x0E, 0x66, 0x0F, 0x74, 0xCB, 0x66, 0x0F, 0xD7, 0xD1, 0x85, 0xD2}, 4, 0x1F80)
}

func TestSSENoAllocs(t *testing.T) {
	box := newSSEBox(t)
	s := sseStartState()
	// addps, cmpltps, cvtps2dq, pshufd, paddb, movdqa: run once, then again
	// without SetState (whose TLB flush makes the first access allocate).
	code := []byte{0x0F, 0x58, 0xC1, 0x0F, 0xC2, 0xC1, 1, 0x66, 0x0F, 0x5B, 0xC1, 0x66, 0x0F, 0x70, 0xC1, 0x1B, 0x66, 0x0F, 0xFC, 0xC1, 0x66, 0x0F, 0x6F, 0x06}
	box.run(t, code, &s, make([]byte, 16))
	allocs := testing.AllocsPerRun(100, func() {
		box.c.EIP, box.c.halted = sbCode, false
		box.c.Run(uint64(6))
	})
	if allocs > 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}
