package cpu

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func f32bits(v float32) uint32 { return math.Float32bits(v) }
func f64bits(v float64) uint64 { return math.Float64bits(v) }

func xmmOf(lo, hi uint64) [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], lo)
	binary.LittleEndian.PutUint64(b[8:], hi)
	return b
}

func ps(a, b, c, d float32) [16]byte {
	return xmmOf(uint64(f32bits(a))|uint64(f32bits(b))<<32, uint64(f32bits(c))|uint64(f32bits(d))<<32)
}

// TestSSEExceptionsBeforeOperands: the #UD and #NM conditions of SSE and
// MMX instructions (SDM Vol. 3A §13.1.3, Table 13-1; Vol. 2A §2.5).
func TestSSEExceptions(t *testing.T) {
	box := newSSEBox(t)
	addps := []byte{0x0F, 0x58, 0xC1}        // addps xmm0, xmm1
	paddb := []byte{0x0F, 0xFC, 0xC1}        // paddb mm0, mm1
	paddbx := []byte{0x66, 0x0F, 0xFC, 0xC1} // paddb xmm0, xmm1
	movnti := []byte{0x0F, 0xC3, 0x06}       // movnti [esi], eax
	cases := []struct {
		name     string
		code     []byte
		cr0, cr4 uint64 // set, cleared
		clear4   uint64
		want     int
	}{
		{"addps", addps, 0, 0, 0, -1},
		{"addps without OSFXSR", addps, 0, 0, CR4OSFXSR, ExcUD},
		{"addps with EM", addps, CR0EM, 0, 0, ExcUD},
		{"addps with TS", addps, CR0TS, 0, 0, ExcNM},
		{"addps with EM and TS", addps, CR0EM | CR0TS, 0, 0, ExcUD},
		{"paddb xmm without OSFXSR", paddbx, 0, 0, CR4OSFXSR, ExcUD},
		{"paddb mm without OSFXSR", paddb, 0, 0, CR4OSFXSR, -1},
		{"paddb mm with EM", paddb, CR0EM, 0, 0, ExcUD},
		{"paddb mm with TS", paddb, CR0TS, 0, 0, ExcNM},
		{"movnti with TS", movnti, CR0TS | CR0EM, 0, CR4OSFXSR, -1},
		{"emms with TS", []byte{0x0F, 0x77}, CR0TS, 0, 0, ExcNM},
		{"MOVLPD from a register", []byte{0x66, 0x0F, 0x12, 0xC1}, 0, 0, 0, ExcUD},
		{"PSLLDQ on an mm register", []byte{0x0F, 0x73, 0xF8, 1}, 0, 0, 0, ExcUD},
		{"MOVMSKPS from memory", []byte{0x0F, 0x50, 0x06}, 0, 0, 0, ExcUD},
		{"SSE3 MOVDDUP", []byte{0xF2, 0x0F, 0x12, 0xC1}, 0, 0, 0, ExcUD},
		{"PUNPCKLQDQ on mm", []byte{0x0F, 0x6C, 0xC1}, 0, 0, 0, ExcUD},
		{"LOCK ADDPS", []byte{0xF0, 0x0F, 0x58, 0x06}, 0, 0, 0, ExcUD},
	}
	for _, tc := range cases {
		s := sseStartState()
		s.CR0 |= tc.cr0
		s.CR4 = s.CR4&^tc.clear4 | tc.cr4
		_, _, vec := box.run(t, tc.code, &s, make([]byte, 16))
		assert.Equal(t, tc.want, vec, tc.name)
	}
}

// TestSSEAlignment: MOVAPS and packed memory operands need 16-byte
// alignment (#GP(0)); MOVUPS, MOVDQU and scalar forms do not.
func TestSSEAlignment(t *testing.T) {
	box := newSSEBox(t)
	for _, tc := range []struct {
		name string
		code []byte
		want int
	}{
		{"movaps xmm0, [esi+4]", []byte{0x0F, 0x28, 0x46, 4}, ExcGP},
		{"movaps [esi+4], xmm0", []byte{0x0F, 0x29, 0x46, 4}, ExcGP},
		{"movdqa xmm0, [esi+8]", []byte{0x66, 0x0F, 0x6F, 0x46, 8}, ExcGP},
		{"addps xmm0, [esi+4]", []byte{0x0F, 0x58, 0x46, 4}, ExcGP},
		{"pxor xmm0, [esi+1]", []byte{0x66, 0x0F, 0xEF, 0x46, 1}, ExcGP},
		{"movntdq [esi+8], xmm0", []byte{0x66, 0x0F, 0xE7, 0x46, 8}, ExcGP},
		{"movups xmm0, [esi+4]", []byte{0x0F, 0x10, 0x46, 4}, -1},
		{"movdqu [esi+3], xmm0", []byte{0xF3, 0x0F, 0x7F, 0x46, 3}, -1},
		{"addss xmm0, [esi+4]", []byte{0xF3, 0x0F, 0x58, 0x46, 4}, -1},
		{"movlps xmm0, [esi+4]", []byte{0x0F, 0x12, 0x46, 4}, -1},
		{"cvtps2pd xmm0, [esi+4]", []byte{0x0F, 0x5A, 0x46, 4}, -1},
		{"pxor mm0, [esi+1]", []byte{0x0F, 0xEF, 0x46, 1}, -1},
		{"movaps xmm0, [esi+16]", []byte{0x0F, 0x28, 0x46, 16}, -1},
	} {
		s := sseStartState()
		_, _, vec := box.run(t, tc.code, &s, make([]byte, 48))
		assert.Equal(t, tc.want, vec, tc.name)
	}
}

// TestSSEStoreAtomic: a 16-byte store that fails its limit check writes nothing.
func TestSSEStoreAtomic(t *testing.T) {
	box := newSSEBox(t)
	s := sseStartState()
	s.Seg[DS].Limit = sbScratch + 11 // bytes 12–15 of the store are beyond the limit
	s.FPU.XMM[0] = xmmOf(0x1111111111111111, 0x2222222222222222)
	data := make([]byte, 16)
	_, got, vec := box.run(t, []byte{0x0F, 0x11, 0x06}, &s, data) // movups [esi], xmm0
	assert.Equal(t, ExcGP, vec)
	assert.Equal(t, data, got)
}

// TestSSEUnmasked: unmasked exceptions raise #XM (or #UD without
// CR4.OSXMMEXCPT), set their flags and leave the destination unchanged;
// an unmasked pre-computation exception stops the instruction before
// post-computation flags are looked for (SDM Vol. 1 §11.5.3.2).
func TestSSEUnmasked(t *testing.T) {
	box := newSSEBox(t)
	type tc struct {
		name      string
		code      []byte
		x0, x1    [16]byte
		mxcsr     uint32
		noXMMExc  bool
		wantVec   int
		wantMXCSR uint32
	}
	den := math.Float32frombits(1)
	for _, c := range []tc{
		{"divss by zero, ZM clear", []byte{0xF3, 0x0F, 0x5E, 0xC1}, ps(1, 0, 0, 0), ps(0, 0, 0, 0), 0x1D80, false, ExcXM, 0x1D84},
		{"divss by zero, no OSXMMEXCPT", []byte{0xF3, 0x0F, 0x5E, 0xC1}, ps(1, 0, 0, 0), ps(0, 0, 0, 0), 0x1D80, true, ExcUD, 0x1D84},
		{"divss by zero, masked", []byte{0xF3, 0x0F, 0x5E, 0xC1}, ps(1, 0, 0, 0), ps(0, 0, 0, 0), 0x1F80, false, -1, 0x1F84},
		{"addss inexact, PM clear", []byte{0xF3, 0x0F, 0x58, 0xC1}, ps(1, 0, 0, 0), ps(1e-10, 0, 0, 0), 0x0F80, false, ExcXM, 0x0FA0},
		{"addps: DE unmasked in lane 1, PE in lane 0", []byte{0x0F, 0x58, 0xC1}, ps(1, den, 0, 0), ps(1e-10, 1, 0, 0), 0x0E80, false, ExcXM, 0x0E82},
		{"addps: DE masked in lane 1, PE unmasked in lane 0", []byte{0x0F, 0x58, 0xC1}, ps(1, den, 0, 0), ps(1e-10, 1, 0, 0), 0x0F80, false, ExcXM, 0x0FA2},
		{"mulss tiny exact, UM clear", []byte{0xF3, 0x0F, 0x59, 0xC1}, ps(0x1p-100, 0, 0, 0), ps(0x1p-30, 0, 0, 0), 0x1780, false, ExcXM, 0x1790},
		{"mulss tiny exact, UM set", []byte{0xF3, 0x0F, 0x59, 0xC1}, ps(0x1p-100, 0, 0, 0), ps(0x1p-30, 0, 0, 0), 0x1F80, false, -1, 0x1F80},
		{"mulss overflow, OM clear", []byte{0xF3, 0x0F, 0x59, 0xC1}, ps(0x1p100, 0, 0, 0), ps(0x1p100, 0, 0, 0), 0x1B80, false, ExcXM, 0x1BA8},
		{"cvtss2si NaN, IM clear", []byte{0xF3, 0x0F, 0x2D, 0xC1}, ps(0, 0, 0, 0), ps(float32(math.NaN()), 0, 0, 0), 0x1F00, false, ExcXM, 0x1F01},
		{"comiss QNaN, IM clear", []byte{0x0F, 0x2F, 0xC1}, ps(0, 0, 0, 0), ps(float32(math.NaN()), 0, 0, 0), 0x1F00, false, ExcXM, 0x1F01},
		{"ucomiss QNaN, IM clear", []byte{0x0F, 0x2E, 0xC1}, ps(0, 0, 0, 0), ps(float32(math.NaN()), 0, 0, 0), 0x1F00, false, -1, 0x1F00},
	} {
		s := sseStartState()
		if c.noXMMExc {
			s.CR4 &^= CR4OSXMMEXCPT
		}
		s.FPU.XMM[0], s.FPU.XMM[1] = c.x0, c.x1
		s.FPU.MXCSR = c.mxcsr
		s.GPR[EAX] = 0x12345678
		out, _, vec := box.run(t, c.code, &s, make([]byte, 16))
		assert.Equal(t, c.wantVec, vec, c.name)
		assert.Equal(t, c.wantMXCSR, out.FPU.MXCSR, "%s: MXCSR", c.name)
		if vec >= 0 {
			assert.Equal(t, c.x0, out.FPU.XMM[0], "%s: destination changed", c.name)
			assert.Equal(t, uint64(0x12345678), out.GPR[EAX], "%s: EAX changed", c.name)
		}
	}
}

// TestMMXAliasing: MMX registers are the x87 registers' significands; an
// MMX instruction sets TOP = 0 and tags all valid, keeping each physical
// register's contents; EMMS empties the tag word (SDM Vol. 1 §9.5, Table 9-2).
func TestMMXAliasing(t *testing.T) {
	box := newSSEBox(t)
	s := sseStartState()
	s.FPU.FSW = 3 << 11 // TOP = 3: ST(i) is physical R((3+i) mod 8)
	s.FPU.FTW = 0x08
	for i := range s.FPU.ST {
		for j := range s.FPU.ST[i] {
			s.FPU.ST[i][j] = byte(0x10*i + j)
		}
	}
	stBefore := s.FPU.ST
	// movq mm0, mm1: MM1 is R1 = ST((1−3) mod 8) = ST(6) before the transition.
	out, _, vec := box.run(t, []byte{0x0F, 0x6F, 0xC1}, &s, make([]byte, 8))
	require.Equal(t, -1, vec)
	assert.Equal(t, uint16(0), out.FPU.FSW&(7<<11), "TOP")
	assert.Equal(t, uint8(0xFF), out.FPU.FTW, "tags")
	want := stBefore[6]
	want[8], want[9] = 0xFF, 0xFF
	assert.Equal(t, want, out.FPU.ST[0], "R0 = old R1 with exponent all ones")
	assert.Equal(t, stBefore[6], out.FPU.ST[1], "R1 unchanged")
	assert.Equal(t, stBefore[0], out.FPU.ST[3], "R3 was ST(0)")

	out, _, vec = box.run(t, []byte{0x0F, 0x77}, &out, make([]byte, 8)) // emms
	require.Equal(t, -1, vec)
	assert.Equal(t, uint8(0), out.FPU.FTW)

	// A pending unmasked x87 exception (FSW.ES) with CR0.NE raises #MF.
	s = sseStartState()
	s.FPU.FSW = 0x80 | 0x01
	_, _, vec = box.run(t, []byte{0x0F, 0xEF, 0xC0}, &s, make([]byte, 8)) // pxor mm0, mm0
	assert.Equal(t, ExcMF, vec)
}

// TestMASKMOVDQU stores the selected bytes at DS:EDI.
func TestMASKMOVDQU(t *testing.T) {
	box := newSSEBox(t)
	s := sseStartState()
	s.FPU.XMM[0] = xmmOf(0x0807060504030201, 0x100F0E0D0C0B0A09)
	s.FPU.XMM[1] = xmmOf(0x8000800000FF8080, 0x7F80000000000080)
	s.GPR[EDI] = sbScratch + 1
	data := make([]byte, 18)
	_, got, vec := box.run(t, []byte{0x66, 0x0F, 0xF7, 0xC1}, &s, data)
	require.Equal(t, -1, vec)
	assert.Equal(t, []byte{0, 1, 2, 3, 0, 0, 6, 0, 8, 9, 0, 0, 0, 0, 0, 0xF, 0, 0}, got)
}

// TestRcpApprox: RCPPS/RSQRTPS are within the SDM's 1.5 × 2^-12 relative
// error, and their special cases follow the SDM.
func TestRcpApprox(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100000; i++ {
		x := math.Float32frombits(r.Uint32() &^ (1 << 31))
		e := math.Float32bits(x) >> 23
		if e == 0 || e >= 253 {
			continue
		}
		got := float64(math.Float32frombits(rcp32(math.Float32bits(x))))
		if rel := math.Abs(got*float64(x) - 1); rel > 1.5/4096 {
			t.Fatalf("rcp(%g) = %g: relative error %g", x, got, rel)
		}
		got = float64(math.Float32frombits(rsqrt32(math.Float32bits(x))))
		if rel := math.Abs(got*math.Sqrt(float64(x)) - 1); rel > 1.5/4096 {
			t.Fatalf("rsqrt(%g) = %g: relative error %g", x, got, rel)
		}
	}
	for _, c := range []struct{ x, rcp, rsqrt uint32 }{
		{0, 0x7F800000, 0x7F800000},
		{0x80000000, 0xFF800000, 0xFF800000},
		{0x00000001, 0x7F800000, 0x7F800000},
		{0x80000001, 0xFF800000, 0xFF800000},
		{0x7F800000, 0, 0},
		{0xFF800000, 0x80000000, 0xFFC00000},
		{0x7F800001, 0x7FC00001, 0x7FC00001},
		{0xBF800000, 0xBF800000, 0xFFC00000},
		{0x7E800000, 0, 0x20000000},
	} {
		assert.Equal(t, c.rcp, rcp32(c.x), "rcp(%#x)", c.x)
		assert.Equal(t, c.rsqrt, rsqrt32(c.x), "rsqrt(%#x)", c.x)
	}
}

// TestSSEGlibcIdioms runs the strlen/memchr inner loop shape of glibc's SSE2
// string functions: PCMPEQB against zero, PMOVMSKB, BSF.
func TestSSEGlibcIdioms(t *testing.T) {
	box := newSSEBox(t)
	code := []byte{
		0x66, 0x0F, 0xEF, 0xC0, // pxor xmm0, xmm0
		0x89, 0xF1, // mov ecx, esi
		0x66, 0x0F, 0x6F, 0x09, // loop: movdqa xmm1, [ecx]
		0x66, 0x0F, 0x74, 0xC8, // pcmpeqb xmm1, xmm0
		0x66, 0x0F, 0xD7, 0xD1, // pmovmskb edx, xmm1
		0x83, 0xC1, 0x10, // add ecx, 16
		0x85, 0xD2, // test edx, edx
		0x74, 0xED, // jz loop
		0x0F, 0xBC, 0xC2, // bsf eax, edx
		0x29, 0xF1, // sub ecx, esi
		0x8D, 0x44, 0x01, 0xF0, // lea eax, [ecx+eax-16]
	}
	data := make([]byte, 64)
	for i := range data {
		data[i] = 'a' + byte(i%26)
	}
	data[37] = 0
	s := sseStartState()
	out, _, vec := box.run(t, code, &s, data)
	require.Equal(t, -1, vec)
	assert.Equal(t, uint64(37), out.GPR[EAX])
}

// TestSSECPUID: leaf 1 reports MMX, SSE and SSE2.
func TestSSECPUID(t *testing.T) {
	_, _, _, d := cpuid(1, 0)
	assert.Equal(t, uint32(featMMX|featSSE|featSSE2), d&(featMMX|featSSE|featSSE2))
}

// TestMovmskb checks the multiply that gathers the byte sign bits.
func TestMovmskb(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 10000; i++ {
		v := r.Uint64()
		var want uint32
		for j := 0; j < 8; j++ {
			want |= uint32(v>>(8*j+7)&1) << j
		}
		require.Equal(t, want, movmskb(v), "%#x", v)
	}
}

type sseCode []byte

func (f sseCode) byteAt(off uint64) (uint8, bool) {
	if off >= uint64(len(f)) {
		return 0, false
	}
	return f[off], true
}

// TestSSE64BitForms decodes and runs the REX forms of 64-bit mode: XMM8–15
// (REX.R, REX.B), 64-bit general registers (REX.W), MMX registers that
// ignore REX.R/B (SDM Vol. 2A §2.2.1.3).
func TestSSE64BitForms(t *testing.T) {
	box := newSSEBox(t)
	c := box.c
	c.CR4 |= CR4OSFXSR
	c.x87.fpu.MXCSR = 0x1F80
	exec := func(code ...byte) {
		t.Helper()
		var in inst
		require.Equal(t, decOK, decode(sseCode(code), 0, mode64, &in), "% x", code)
		in.fn(c, &in)
	}
	c.R[EAX] = 0x8877665544332211
	exec(0x66, 0x48, 0x0F, 0x6E, 0xC0) // movq xmm0, rax
	assert.Equal(t, xmm{0x8877665544332211, 0}, c.getX(0))
	exec(0x66, 0x48, 0x0F, 0x7E, 0xC1) // movq rcx, xmm0
	assert.Equal(t, uint64(0x8877665544332211), c.R[ECX])
	exec(0x66, 0x0F, 0x7E, 0xC2) // movd edx, xmm0 (zero-extends)
	assert.Equal(t, uint64(0x44332211), c.R[EDX])
	c.setX(9, xmm{f64bits(-3e12), 0})
	exec(0xF2, 0x49, 0x0F, 0x2D, 0xC1) // cvtsd2si rax, xmm9
	assert.Equal(t, uint64(0xFFFFFD458210D000), c.R[EAX], "%#x", c.R[EAX])
	exec(0xF2, 0x41, 0x0F, 0x2D, 0xC1) // cvtsd2si eax, xmm9: out of range
	assert.Equal(t, uint64(0x80000000), c.R[EAX])
	c.R[9] = 1<<62 + 1
	exec(0xF3, 0x49, 0x0F, 0x2A, 0xC1) // cvtsi2ss xmm0, r9
	assert.Equal(t, f32bits(0x1p62), c.getX(0).u32(0))
	c.setX(8, xmm{0x0000000100000002, 0x0000000300000004})
	c.setX(9, xmm{0x0000001000000020, 0x0000003000000040})
	exec(0x66, 0x45, 0x0F, 0xFE, 0xC1) // paddd xmm8, xmm9
	assert.Equal(t, xmm{0x0000001100000022, 0x0000003300000044}, c.getX(8))
	exec(0x66, 0x45, 0x0F, 0xD7, 0xC0) // pmovmskb r8d, xmm8
	assert.Equal(t, uint64(0), c.R[8])
	c.setMM(1, 0x1234)
	exec(0x4D, 0x0F, 0x6F, 0xC1) // movq mm0, mm1 (REX.R and REX.B ignored)
	assert.Equal(t, uint64(0x1234), c.getMM(0))
}
