package hostexec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/arch/x86/x86asm"
)

// TestGeneratedEncodings decodes every generated instruction in 32-bit and
// 64-bit mode: same length in both, no REX, no RIP-relative operand, no
// ESP or EBP but as the scratch base, no memory operand outside the area.
func TestGeneratedEncodings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := map[string]bool{}
	for range 5000 {
		c := Generate(rng)
		for _, in := range c.Insts {
			names[in.Name] = true
			if strings.HasPrefix(in.Name, "SAL(/6)") {
				continue // x86asm does not know the /6 alias
			}
			i32, err32 := x86asm.Decode(in.Bytes, 32)
			i64, err64 := x86asm.Decode(in.Bytes, 64)
			if err32 != nil || err64 != nil || i32.Len != len(in.Bytes) || i64.Len != len(in.Bytes) {
				t.Fatalf("%s % x: decodes as %v (%v) / %v (%v)", in.Name, in.Bytes, i32, err32, i64, err64)
			}
			if i64.Prefix[0]&0xF0 == 0x40 || bytesHaveREX(in.Bytes) {
				t.Fatalf("%s % x: REX", in.Name, in.Bytes)
			}
			for _, a := range i64.Args {
				switch a := a.(type) {
				case x86asm.Reg:
					if a == x86asm.RSP || a == x86asm.ESP || a == x86asm.SP || a == x86asm.RBP || a == x86asm.EBP || a == x86asm.BP {
						t.Fatalf("%s % x: %v uses %v", in.Name, in.Bytes, i64, a)
					}
				case x86asm.Mem:
					if i64.Op == x86asm.LEA {
						if a.Base == x86asm.RIP || a.Base == x86asm.RBP || a.Base == x86asm.RSP || a.Index == x86asm.RBP {
							t.Fatalf("%s % x: %v", in.Name, in.Bytes, i64)
						}
						continue
					}
					if a.Base != x86asm.RBP || a.Index != 0 || a.Disp < -BaseOff || a.Disp+int64(max(i64.MemBytes, 1)) > MemSize-BaseOff {
						t.Fatalf("%s % x: %v: memory operand outside the scratch area", in.Name, in.Bytes, i64)
					}
				}
			}
		}
	}
	t.Logf("%d forms", len(names))
}

// bytesHaveREX reports a 40–4F byte where an opcode would start.
func bytesHaveREX(b []byte) bool {
	for _, x := range b {
		switch x {
		case 0x66, 0xF0, 0x26, 0x36, 0x3E:
			continue
		}
		return x&0xF0 == 0x40
	}
	return false
}

// TestRunGenerated runs generated cases natively: a generator bug that
// emits a faulting instruction kills the test binary here first.
func TestRunGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 6000 {
		c := Generate(rng)
		if i%2 == 1 {
			c = Generate64(rng)
		}
		mem := append([]byte(nil), c.Mem...)
		_, err := Run(c.Code, &c.Regs, mem)
		if errors.Is(err, ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

func TestCaseRoundTrip(t *testing.T) {
	c := Generate(rand.New(rand.NewPCG(5, 6)))
	c.Mem[7] ^= 0xFF
	c.Mem[8] ^= 0x01
	c.Mem[MemSize-1] ^= 0x10
	c.HiUndef = 0x42
	text := c.Format("a comment\nof two lines")
	got, err := ParseCase(text)
	if err != nil {
		t.Fatal(err)
	}
	c.Insts = nil
	if d := cmp.Diff(c, got); d != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", d, text)
	}
	if !strings.Contains(text, "mem 0x7 ff") && !strings.Contains(text, "mem 0x7 ") {
		t.Errorf("no patch for byte 7:\n%s", text)
	}
}

// TestGeneratedEncodings64 decodes every instruction Generate64 makes
// (64-bit mode): the lengths add up; no RSP or SPL; RBP, EBP or BPL only as
// what they should be (BPL a source, RBP the scratch base or what MOV rN,
// RBP copies); no RIP-relative operand; memory operands inside the scratch
// area, computing index registers from the MOVs that load them and bases
// from MOV rN, RBP; CMPXCHG16B aligned.
func TestGeneratedEncodings64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := map[string]bool{}
	seen := map[string]bool{}
	for range 20000 {
		c := Generate64(rng)
		if c.Mode != 64 {
			t.Fatalf("mode %d", c.Mode)
		}
		known := map[x86asm.Reg]int64{} // register → value, from MOV r, imm before
		for _, in := range c.Insts {
			names[in.Name] = true
			bases := map[x86asm.Reg]bool{x86asm.RBP: true}
			skipped := 0
			for pc := 0; pc < len(in.Bytes); {
				if pc+1 < len(in.Bytes) && in.Bytes[pc]&0xF0 == 0x40 && isLegacyPrefix(in.Bytes[pc+1]) {
					seen["rex ignored"] = true // x86asm does not know that a legacy prefix voids a REX
					pc++
					skipped++
					continue
				}
				i, err := x86asm.Decode(in.Bytes[pc:], 64)
				if err != nil && (strings.HasPrefix(in.Name, "SAL(/6)") || in.Name == "NOP Ev/64") {
					break // x86asm knows neither the /6 alias nor REX.W 0F 1F
				}
				if err != nil {
					t.Fatalf("%s % x: at +%d: %v", in.Name, in.Bytes, pc, err)
				}
				if n := i.Len + skipped; n > 15 {
					t.Fatalf("%s % x: %v is %d bytes long", in.Name, in.Bytes, i, n)
				}
				skipped = 0
				pc += i.Len
				if pc > len(in.Bytes) {
					t.Fatalf("%s % x: %v runs past the end", in.Name, in.Bytes, i)
				}
				checkInst64(t, in, i, known, bases, seen)
			}
		}
	}
	for _, s := range []string{"SIB", "DIB", "R8B", "R15B", "AH", "BH", "BPB", "R8L", "R15W", "R12", "R13", "R12L", "R13L",
		"base R12", "base R13", "index R12", "index R13", "sib base R12", "lea base R13", "lea index R12", "rex ignored", "66 rex.w"} {
		if !seen[s] {
			t.Errorf("never generated: %s", s)
		}
	}
	t.Logf("%d forms", len(names))
}

func checkInst64(t *testing.T, in Inst, i x86asm.Inst, known map[x86asm.Reg]int64, bases map[x86asm.Reg]bool, seen map[string]bool) {
	t.Helper()
	fail := func(f string, a ...any) {
		t.Helper()
		t.Fatalf("%s % x: %v: %s", in.Name, in.Bytes, i, fmt.Sprintf(f, a...))
	}
	p66, rexW := false, false
	for _, p := range i.Prefix {
		if p&0xFF == 0x66 {
			p66 = true
		}
		if p&0xF0 == 0x40 && p&x86asm.PrefixREXW != 0 {
			rexW = true
		}
	}
	if p66 && rexW {
		seen["66 rex.w"] = true
	}
	dst := func(k int) bool { // Args[k] is written
		switch i.Op {
		case x86asm.CMP, x86asm.TEST, x86asm.BT, x86asm.MUL, x86asm.NOP:
			return false
		case x86asm.IMUL:
			return k == 0 && i.Args[1] != nil
		case x86asm.XCHG, x86asm.XADD:
			return true
		}
		return k == 0
	}
	for k, a := range i.Args {
		switch a := a.(type) {
		case x86asm.Reg:
			seen[a.String()] = true
			switch a {
			case x86asm.RSP, x86asm.ESP, x86asm.SP, x86asm.SPB:
				fail("uses %v", a)
			case x86asm.BPB:
				if dst(k) {
					fail("writes BPL")
				}
			case x86asm.RBP, x86asm.EBP, x86asm.BP:
				if !(i.Op == x86asm.MOV && k == 1) {
					fail("uses %v", a)
				}
			}
			if i.Op == x86asm.MOV && k == 0 {
				if src, ok := i.Args[1].(x86asm.Reg); ok && src == x86asm.RBP {
					bases[a] = true
					continue
				}
				if v, ok := i.Args[1].(x86asm.Imm); ok {
					switch {
					case a >= x86asm.RAX && a <= x86asm.R15:
						known[a] = int64(v)
					case a >= x86asm.EAX && a <= x86asm.R15L:
						known[a-x86asm.EAX+x86asm.RAX] = int64(uint32(v))
					}
					continue
				}
			}
			if dst(k) {
				r := a
				switch {
				case a >= x86asm.EAX && a <= x86asm.R15L:
					r = a - x86asm.EAX + x86asm.RAX
				case a >= x86asm.AX && a <= x86asm.R15W:
					r = a - x86asm.AX + x86asm.RAX
				}
				delete(known, r)
				delete(bases, r)
			}
		case x86asm.Mem:
			if a.Base == x86asm.RIP || a.Base == x86asm.EIP {
				fail("RIP-relative")
			}
			if i.Op == x86asm.LEA {
				for _, r := range []x86asm.Reg{a.Base, a.Index} {
					switch r {
					case x86asm.RSP, x86asm.RBP, x86asm.ESP, x86asm.EBP:
						fail("address from %v", r)
					}
				}
				if a.Base == x86asm.R13 || a.Base == x86asm.R12 {
					seen["lea base "+a.Base.String()] = true
				}
				if a.Index == x86asm.R12 || a.Index == x86asm.R13 {
					seen["lea index "+a.Index.String()] = true
				}
				continue
			}
			if !bases[a.Base] {
				fail("base %v is not the scratch address", a.Base)
			}
			if a.Base == x86asm.R12 && in.Bytes[0] != 0 {
				seen["sib base R12"] = true
			}
			seen["base "+a.Base.String()] = true
			addr := int64(BaseOff) + a.Disp
			if a.Index != 0 {
				seen["index "+a.Index.String()] = true
				v, ok := known[a.Index]
				if !ok {
					fail("index %v not loaded", a.Index)
				}
				addr += v * int64(a.Scale)
			}
			size := int64(max(i.MemBytes, 1))
			if (i.Op == x86asm.BT || i.Op == x86asm.BTS || i.Op == x86asm.BTR || i.Op == x86asm.BTC) && len(i.Args) > 1 {
				if r, ok := i.Args[1].(x86asm.Reg); ok {
					var off int64
					switch {
					case r >= x86asm.RAX && r <= x86asm.R15:
						off = known[r]
					case r >= x86asm.EAX && r <= x86asm.R15L:
						off = int64(int32(known[r-x86asm.EAX+x86asm.RAX]))
					case r >= x86asm.AX && r <= x86asm.R15W:
						off = int64(int16(known[r-x86asm.AX+x86asm.RAX]))
					}
					bitsz := 8 * size
					q := off / bitsz
					if off < 0 && off%bitsz != 0 {
						q--
					}
					addr += q * size
				}
			}
			if addr < 0 || addr+size > MemSize {
				fail("memory [%#x, %#x) outside the scratch area", addr, addr+size)
			}
			if i.Op == x86asm.CMPXCHG16B && addr%16 != 0 {
				fail("misaligned")
			}
		}
	}
}

// TestNoUndefinedReads feeds both generators inputs a fuzzer might make
// (runs of one byte, short repeated patterns) that can pick the same form
// on every try: no instruction may read a flag left undefined before it.
func TestNoUndefinedReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var inputs [][]byte
	for b := range 256 {
		inputs = append(inputs, bytes.Repeat([]byte{byte(b)}, 4096))
	}
	for range 20000 {
		pat := make([]byte, 1+rng.IntN(6))
		for i := range pat {
			pat[i] = byte(rng.Uint32())
		}
		inputs = append(inputs, bytes.Repeat(pat, 1+rng.IntN(2000)))
	}
	for _, data := range inputs {
		for _, gen := range []func(Source) *Case{Generate, Generate64} {
			c := gen(BytesSource(data))
			if u, ok := readsDefined(0, c.Insts); !ok || u != c.Undef || len(c.Insts) == 0 {
				t.Fatalf("input % x…: a flag read while undefined, or no instruction:\n%s", data[:min(len(data), 16)], c.Format(""))
			}
		}
	}
}
