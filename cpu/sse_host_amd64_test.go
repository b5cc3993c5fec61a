package cpu

// Differential tests of the SSE, SSE2 and MMX instructions against the
// host's own unit (cpu/internal/ssehost): each case runs the same bytes
// natively and in the interpreter from the same XMM, MMX, general
// registers, MXCSR and scratch memory, and everything must agree. Operands
// favour the hard cases: NaNs, infinities, denormals, zeros, values near
// overflow and underflow and integer limits, near-cancellation; MXCSR takes
// every rounding mode with DAZ and FTZ on or off (all exceptions masked: an
// unmasked one would kill the test process).
//
//	go test ./cpu/ -run SSEHost -sse.n 20000 -sse.seed 7

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/gemu-project/gemu/cpu/internal/ssehost"
)

var (
	sseN    = flag.Int("sse.n", 300, "random cases per instruction form in TestSSEHost (-short: a tenth)")
	sseSeed = flag.Uint64("sse.seed", 1, "random seed of TestSSEHost")
)

// Operand generators.
const (
	gInt   = iota // packed integers: byte patterns, equal lanes
	gF32          // binary32 lanes
	gF64          // binary64 lanes
	gI2F          // integers for conversions to floating point
	gShift        // packed integers, small shift count in register 1
)

// hostForm is one instruction form. The ModRM byte is the last byte of code
// (an imm8 follows when imm): reg and rm are randomized in 0–3 unless
// fixedReg (the group forms), and a memory form ([esi]) is tried when mem.
type hostForm struct {
	code     []byte
	gen      int
	imm      bool
	mem      bool
	memOnly  bool
	fixedReg bool
	flags    bool // compare ZF PF CF OF SF AF (COMISS…)
}

func hf(gen int, mem bool, code ...byte) hostForm { return hostForm{code: code, gen: gen, mem: mem} }

func hostForms() []hostForm {
	var fs []hostForm
	add := func(f hostForm) { fs = append(fs, f) }
	with := func(p byte, code ...byte) []byte {
		if p == 0 {
			return code
		}
		return append([]byte{p}, code...)
	}
	fpGen := map[byte]int{0: gF32, 0x66: gF64, 0xF3: gF32, 0xF2: gF64}
	for _, op := range []byte{0x51, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F} {
		for _, p := range []byte{0, 0x66, 0xF3, 0xF2} {
			add(hf(fpGen[p], true, with(p, 0x0F, op, 0xC1)...))
		}
	}
	for _, p := range []byte{0, 0x66, 0xF3, 0xF2} {
		add(hostForm{code: with(p, 0x0F, 0xC2, 0xC1), gen: fpGen[p], imm: true, mem: true})
	}
	for _, p := range []byte{0, 0x66} {
		for _, op := range []byte{0x2E, 0x2F} {
			add(hostForm{code: with(p, 0x0F, op, 0xC1), gen: fpGen[p], mem: true, flags: true})
		}
		for _, op := range []byte{0x54, 0x55, 0x56, 0x57, 0x14, 0x15, 0x10, 0x11, 0x28, 0x29} {
			add(hf(gInt, true, with(p, 0x0F, op, 0xC1)...))
		}
		add(hostForm{code: with(p, 0x0F, 0xC6, 0xC1), gen: gInt, imm: true, mem: true})
		add(hf(gF32, false, with(p, 0x0F, 0x50, 0xC1)...))
		for _, op := range []byte{0x12, 0x13, 0x16, 0x17, 0x2B} {
			add(hostForm{code: with(p, 0x0F, op, 0x06), gen: gInt, memOnly: true})
		}
	}
	add(hf(gInt, false, 0x0F, 0x12, 0xC1)) // MOVHLPS
	add(hf(gInt, false, 0x0F, 0x16, 0xC1)) // MOVLHPS
	for _, p := range []byte{0xF3, 0xF2} {
		add(hf(gInt, true, p, 0x0F, 0x10, 0xC1))
		add(hf(gInt, true, p, 0x0F, 0x11, 0xC1))
	}
	// Conversions.
	for _, p := range []byte{0xF3, 0xF2} {
		add(hf(gI2F, true, p, 0x0F, 0x2A, 0xC1))
		add(hf(fpGen[p], true, p, 0x0F, 0x2C, 0xC1))
		add(hf(fpGen[p], true, p, 0x0F, 0x2D, 0xC1))
	}
	for _, p := range []byte{0, 0x66} {
		add(hf(gI2F, true, with(p, 0x0F, 0x2A, 0xC1)...))
		add(hf(fpGen[p], true, with(p, 0x0F, 0x2C, 0xC1)...))
		add(hf(fpGen[p], true, with(p, 0x0F, 0x2D, 0xC1)...))
	}
	for _, p := range []byte{0, 0x66, 0xF3, 0xF2} {
		add(hf(fpGen[p], true, with(p, 0x0F, 0x5A, 0xC1)...))
	}
	add(hf(gI2F, true, 0x0F, 0x5B, 0xC1))
	add(hf(gF32, true, 0x66, 0x0F, 0x5B, 0xC1))
	add(hf(gF32, true, 0xF3, 0x0F, 0x5B, 0xC1))
	add(hf(gF64, true, 0x66, 0x0F, 0xE6, 0xC1))
	add(hf(gF64, true, 0xF2, 0x0F, 0xE6, 0xC1))
	add(hf(gI2F, true, 0xF3, 0x0F, 0xE6, 0xC1))
	// Packed integers, MMX and SSE2 forms.
	for _, p := range []byte{0, 0x66} {
		for op, f := range pintOps {
			if f.fn != nil {
				add(hf(gInt, true, with(p, 0x0F, byte(op), 0xC1)...))
			}
		}
		for _, op := range []byte{0x60, 0x61, 0x62, 0x63, 0x67, 0x68, 0x69, 0x6A, 0x6B} {
			add(hf(gInt, true, with(p, 0x0F, op, 0xC1)...))
		}
		for _, op := range []byte{0xD1, 0xD2, 0xD3, 0xE1, 0xE2, 0xF1, 0xF2, 0xF3} {
			add(hf(gShift, true, with(p, 0x0F, op, 0xC1)...))
		}
		for _, g := range []struct{ op, reg byte }{{0x71, 2}, {0x71, 4}, {0x71, 6}, {0x72, 2}, {0x72, 4}, {0x72, 6}, {0x73, 2}, {0x73, 6}} {
			add(hostForm{code: with(p, 0x0F, g.op, 0xC0|g.reg<<3), gen: gInt, imm: true, fixedReg: true})
		}
		add(hf(gInt, true, with(p, 0x0F, 0x6E, 0xC1)...))
		add(hf(gInt, true, with(p, 0x0F, 0x7E, 0xC1)...))
		add(hf(gInt, true, with(p, 0x0F, 0x6F, 0xC1)...))
		add(hf(gInt, true, with(p, 0x0F, 0x7F, 0xC1)...))
		add(hostForm{code: with(p, 0x0F, 0x70, 0xC1), gen: gInt, imm: true, mem: true})
		add(hostForm{code: with(p, 0x0F, 0xC4, 0xC1), gen: gInt, imm: true, mem: true})
		add(hostForm{code: with(p, 0x0F, 0xC5, 0xC1), gen: gInt, imm: true})
		add(hf(gInt, false, with(p, 0x0F, 0xD7, 0xC1)...))
		add(hf(gInt, false, with(p, 0x0F, 0xF7, 0xC1)...))
		add(hostForm{code: with(p, 0x0F, 0xE7, 0x06), gen: gInt, memOnly: true})
	}
	add(hf(gInt, true, 0x66, 0x0F, 0x6C, 0xC1))
	add(hf(gInt, true, 0x66, 0x0F, 0x6D, 0xC1))
	for _, reg := range []byte{3, 7} {
		add(hostForm{code: []byte{0x66, 0x0F, 0x73, 0xC0 | reg<<3}, gen: gInt, imm: true, fixedReg: true})
	}
	for _, p := range []byte{0xF3, 0xF2} {
		add(hostForm{code: []byte{p, 0x0F, 0x70, 0xC1}, gen: gInt, imm: true, mem: true})
	}
	add(hf(gInt, true, 0xF3, 0x0F, 0x7E, 0xC1))
	add(hf(gInt, true, 0xF3, 0x0F, 0x6F, 0xC1))
	add(hf(gInt, true, 0xF3, 0x0F, 0x7F, 0xC1))
	add(hf(gInt, true, 0x66, 0x0F, 0xD6, 0xC1))
	add(hf(gInt, false, 0xF3, 0x0F, 0xD6, 0xC1))
	add(hf(gInt, false, 0xF2, 0x0F, 0xD6, 0xC1))
	add(hostForm{code: []byte{0x0F, 0xC3, 0x06}, gen: gInt, memOnly: true})
	return fs
}

// Value generators.

func rnd32(r *rand.Rand) uint32 {
	specials := []uint32{0, 0x80000000, 1, 0x807FFFFF, 0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF,
		0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FA00001, 0xFF800001, 0x7FFFFFFF,
		0x3F800000, 0xBF800000, 0x4F000000, 0xCF000000, 0x4EFFFFFF, 0xCF000001, 0x5F000000, 0xDF000000,
		0x3F000000, 0xBFC00000, 0x40200000, 0x00400000, 0x80000001}
	switch r.IntN(8) {
	case 0:
		return specials[r.IntN(len(specials))]
	case 1: // integer-valued, for conversions
		v := float32(int32(r.Uint32()) >> r.IntN(32))
		if r.IntN(2) == 0 {
			v += 0.5
		}
		return f32bits(v)
	}
	sign := r.Uint32() & (1 << 31)
	var e uint32
	switch r.IntN(4) {
	case 0:
		e = r.Uint32N(256)
	case 1:
		e = r.Uint32N(30)
	case 2:
		e = 254 - r.Uint32N(30)
	default:
		e = 100 + r.Uint32N(60)
	}
	m := r.Uint32() & 0x7FFFFF
	if r.IntN(3) == 0 {
		m &^= 1<<r.IntN(23) - 1 // trailing zeros: exact results
	}
	return sign | e<<23 | m
}

func rnd64(r *rand.Rand) uint64 {
	specials := []uint64{0, 1 << 63, 1, 0x800FFFFFFFFFFFFF, 0x0010000000000000, 0x8010000000000000,
		0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000,
		0x7FF8000000000000, 0xFFF8000000000000, 0x7FF4000000000001, 0xFFF0000000000001,
		0x3FF0000000000000, 0xBFF0000000000000, 0x41E0000000000000, 0xC1E0000000000000,
		0x41DFFFFFFFFFFFFF, 0xC1E0000000200000, 0x43E0000000000000, 0xC3E0000000000000,
		0x3FE0000000000000, 0x47EFFFFFE0000000, 0x47EFFFFFF0000000, 0x36A0000000000000, 0x3690000000000001}
	switch r.IntN(8) {
	case 0:
		return specials[r.IntN(len(specials))]
	case 1:
		v := float64(int64(r.Uint64()) >> r.IntN(64))
		if r.IntN(2) == 0 {
			v += 0.5
		}
		return f64bits(v)
	}
	sign := r.Uint64() & (1 << 63)
	var e uint64
	switch r.IntN(5) {
	case 0:
		e = r.Uint64N(2048)
	case 1:
		e = r.Uint64N(60)
	case 2:
		e = 2046 - r.Uint64N(60)
	case 3: // the binary32 range's edges, for CVTSD2SS
		e = 1023 - 126 - 30 + r.Uint64N(60)
		if r.IntN(2) == 0 {
			e = 1023 + 127 - 30 + r.Uint64N(60)
		}
	default:
		e = 1000 + r.Uint64N(50)
	}
	m := r.Uint64() & (1<<52 - 1)
	if r.IntN(3) == 0 {
		m &^= 1<<r.IntN(52) - 1
	}
	return sign | e<<52 | m
}

func rndIntByte(r *rand.Rand) byte {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return 0xFF
	case 2:
		return 0x80
	case 3:
		return 0x7F
	}
	return byte(r.Uint32())
}

// fill fills b (a multiple of 8 bytes) with values of generator gen.
func fill(r *rand.Rand, gen int, b []byte) {
	for i := 0; i < len(b); i += 8 {
		switch gen {
		case gF32:
			binary.LittleEndian.PutUint32(b[i:], rnd32(r))
			binary.LittleEndian.PutUint32(b[i+4:], rnd32(r))
		case gF64:
			binary.LittleEndian.PutUint64(b[i:], rnd64(r))
		case gI2F:
			binary.LittleEndian.PutUint32(b[i:], uint32(int32(r.Uint32())>>r.IntN(32)))
			binary.LittleEndian.PutUint32(b[i+4:], uint32(int32(r.Uint32())>>r.IntN(32)))
		default:
			for j := 0; j < 8; j++ {
				b[i+j] = rndIntByte(r)
			}
		}
	}
}

// perturb makes b close to a: equal, or differing in the low bits.
func perturb(r *rand.Rand, gen int, a, b []byte) {
	copy(b, a)
	switch gen {
	case gF32:
		for i := 0; i < len(b); i += 4 {
			v := binary.LittleEndian.Uint32(b[i:]) + uint32(r.IntN(5)) - 2
			if r.IntN(2) == 0 {
				v ^= 1 << 31
			}
			binary.LittleEndian.PutUint32(b[i:], v)
		}
	case gF64:
		for i := 0; i < len(b); i += 8 {
			v := binary.LittleEndian.Uint64(b[i:]) + uint64(r.IntN(5)) - 2
			if r.IntN(2) == 0 {
				v ^= 1 << 63
			}
			binary.LittleEndian.PutUint64(b[i:], v)
		}
	default:
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = rndIntByte(r)
			}
		}
	}
}

// hostCase is the input of one case.
type hostCase struct {
	code []byte
	st   ssehost.State
	mem  [64]byte
}

func (f *hostForm) generate(r *rand.Rand) hostCase {
	var hc hostCase
	code := append([]byte(nil), f.code...)
	mi := len(code) - 1
	switch {
	case f.memOnly:
		code[mi] = code[mi]&0x38 | 0x06
	case f.mem && r.IntN(3) == 0:
		code[mi] = code[mi]&0x38 | 0x06
		if f.fixedReg {
			code[mi] = 0x06
		}
	}
	if !f.fixedReg {
		reg := byte(r.IntN(4))
		code[mi] = code[mi]&^0x38 | reg<<3
	}
	if code[mi]>>6 == 3 {
		code[mi] = code[mi]&^7 | byte(r.IntN(4))
	}
	if f.imm {
		imm := byte(r.Uint32())
		if r.IntN(2) == 0 {
			imm &= 0x1F
		}
		code = append(code, imm)
	}
	hc.code = code
	var regs [16 * 8]byte
	fill(r, f.gen, regs[:])
	for i := range hc.st.XMM {
		copy(hc.st.XMM[i][:], regs[16*i:])
	}
	if r.IntN(3) == 0 { // near-equal operands: cancellation, equal compares
		a, b := int(code[mi]>>3&3), int(code[mi]&3)
		perturb(r, f.gen, hc.st.XMM[a][:], hc.st.XMM[b][:])
	}
	var mm [64]byte
	fill(r, f.gen, mm[:])
	for i := range hc.st.MM {
		hc.st.MM[i] = binary.LittleEndian.Uint64(mm[8*i:])
	}
	fill(r, f.gen, hc.mem[:])
	for i := 0; i < 4; i++ {
		hc.st.GPR[i] = uint64(uint32(int32(r.Uint32()) >> r.IntN(32)))
	}
	if f.gen == gShift {
		for i := range hc.st.MM {
			if r.IntN(4) != 0 {
				hc.st.MM[i] = r.Uint64N(70)
			}
		}
		for i := range hc.st.XMM {
			if r.IntN(4) != 0 {
				binary.LittleEndian.PutUint64(hc.st.XMM[i][:], r.Uint64N(70))
			}
		}
		if r.IntN(4) != 0 {
			binary.LittleEndian.PutUint64(hc.mem[:], r.Uint64N(70))
		}
	}
	hc.st.MXCSR = 0x1F80 | r.Uint32N(4)<<13
	if r.IntN(3) == 0 {
		hc.st.MXCSR |= mxDAZ
	}
	if r.IntN(3) == 0 {
		hc.st.MXCSR |= mxFTZ
	}
	if r.IntN(8) == 0 {
		hc.st.MXCSR |= r.Uint32N(64) // sticky flags already set
	}
	return hc
}

// hostResult is what a case is compared on.
type hostResult struct {
	XMM   [8]string
	MM    [8]string
	GPR   [4]string
	MXCSR string
	Flags string
	Mem   string
	Fault string
}

func (hc *hostCase) view(st *ssehost.State, mem []byte, flags bool) hostResult {
	var v hostResult
	for i := range v.XMM {
		v.XMM[i] = fmt.Sprintf("%016x_%016x", binary.LittleEndian.Uint64(st.XMM[i][8:]), binary.LittleEndian.Uint64(st.XMM[i][:]))
		v.MM[i] = fmt.Sprintf("%016x", st.MM[i])
	}
	for i := range v.GPR {
		v.GPR[i] = fmt.Sprintf("%08x", uint32(st.GPR[i]))
	}
	v.MXCSR = fmt.Sprintf("%#x", st.MXCSR)
	if flags {
		v.Flags = fmt.Sprintf("%#x", st.Flags&(FlagZF|FlagPF|FlagCF|FlagOF|FlagSF|FlagAF))
	}
	v.Mem = fmt.Sprintf("% x", mem)
	return v
}

// runGemu runs a case in the interpreter.
func (b *sseBox) runHostCase(t testing.TB, hc *hostCase, flags bool) hostResult {
	s := sseStartState()
	for i := range hc.st.XMM {
		s.FPU.XMM[i] = hc.st.XMM[i]
		binary.LittleEndian.PutUint64(s.FPU.ST[i][:], hc.st.MM[i])
		s.FPU.ST[i][8], s.FPU.ST[i][9] = 0xFF, 0xFF
	}
	s.FPU.FTW = 0xFF
	s.FPU.MXCSR = hc.st.MXCSR
	for i := 0; i < 4; i++ {
		s.GPR[i] = hc.st.GPR[i]
	}
	out, mem, vec := b.run(t, hc.code, &s, hc.mem[:])
	var st ssehost.State
	for i := range st.XMM {
		st.XMM[i] = out.FPU.XMM[i]
		st.MM[i] = binary.LittleEndian.Uint64(out.FPU.ST[i][:])
	}
	copy(st.GPR[:4], out.GPR[:4])
	st.MXCSR = out.FPU.MXCSR
	st.Flags = uint32(out.EFLAGS)
	v := hc.view(&st, mem, flags)
	if vec >= 0 {
		v.Fault = fmt.Sprintf("vector %d", vec)
	}
	return v
}

func sseDisasm(code []byte) string {
	in, err := x86asm.Decode(code, 32)
	if err != nil {
		return fmt.Sprintf("% x (?)", code)
	}
	return fmt.Sprintf("% x (%s)", code, x86asm.IntelSyntax(in, 0, nil))
}

func TestSSEHost(t *testing.T) {
	code, err := ssehost.NewCode(4096)
	if err != nil {
		t.Skip(err)
	}
	defer code.Close()
	box := newSSEBox(t)
	n := *sseN
	if testing.Short() {
		n = max(n/10, 1)
	}
	r := rand.New(rand.NewPCG(*sseSeed, 2))
	hostMem := make([]byte, 64)
	fails := 0
	total := 0
	for _, f := range hostForms() {
		formFails := 0
		for i := 0; i < n; i++ {
			hc := f.generate(r)
			st := hc.st
			copy(hostMem, hc.mem[:])
			code.Run(hc.code, &st, hostMem)
			want := hc.view(&st, hostMem, f.flags)
			got := box.runHostCase(t, &hc, f.flags)
			total++
			if got != want {
				fails++
				formFails++
				if formFails <= 3 && fails <= 40 {
					t.Errorf("%s mxcsr %#x\n  in:  %s\n  diff:\n%s", sseDisasm(hc.code), hc.st.MXCSR, hc.inputs(), diffResults(want, got))
				}
			}
		}
	}
	t.Logf("%d cases, %d mismatches", total, fails)
}

func (hc *hostCase) inputs() string {
	var b strings.Builder
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "xmm%d=%016x_%016x ", i, binary.LittleEndian.Uint64(hc.st.XMM[i][8:]), binary.LittleEndian.Uint64(hc.st.XMM[i][:]))
	}
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "mm%d=%016x ", i, hc.st.MM[i])
	}
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "r%d=%08x ", i, uint32(hc.st.GPR[i]))
	}
	fmt.Fprintf(&b, "mem=% x", hc.mem[:16])
	return b.String()
}

func diffResults(want, got hostResult) string {
	var b strings.Builder
	line := func(name, w, g string) {
		if w != g {
			fmt.Fprintf(&b, "    %-6s host %s\n           gemu %s\n", name, w, g)
		}
	}
	for i := range want.XMM {
		line(fmt.Sprintf("xmm%d", i), want.XMM[i], got.XMM[i])
		line(fmt.Sprintf("mm%d", i), want.MM[i], got.MM[i])
	}
	for i := range want.GPR {
		line(fmt.Sprintf("r%d", i), want.GPR[i], got.GPR[i])
	}
	line("mxcsr", want.MXCSR, got.MXCSR)
	line("flags", want.Flags, got.Flags)
	line("mem", want.Mem, got.Mem)
	line("fault", want.Fault, got.Fault)
	return b.String()
}
