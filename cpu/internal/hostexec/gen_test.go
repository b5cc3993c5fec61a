package hostexec

import (
	"errors"
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
	for i := range 3000 {
		c := Generate(rng)
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
