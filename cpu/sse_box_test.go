package cpu

import (
	"bytes"
	"testing"

	"github.com/gemu-project/gemu/mmu"
)

// sseBox runs short code sequences in flat 32-bit protected mode with an
// IDT whose 32 gates lead to HLTs, so that an exception ends the run and its
// vector can be read back (EIP after the HLT).
type sseBox struct {
	mem   *mmu.Memory
	c     *CPU
	limit uint64 // instruction budget of a run (0: 1000)
}

const (
	sbGDT     = 0x500
	sbIDT     = 0x600
	sbTraps   = 0x800
	sbCode    = 0x1000
	sbScratch = 0x3000 // 16-byte aligned data area
	sbStack   = 0x8000
)

func newSSEBox(t testing.TB) *sseBox {
	t.Helper()
	mem, err := mmu.NewMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	gdt := []byte{
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0, // 0x10: flat 32-bit code
		0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0, // 0x18: flat data
	}
	var idt []byte
	for v := 0; v < 32; v++ { // 32-bit interrupt gates (SDM Vol. 3A §6.11)
		off := sbTraps + v
		idt = append(idt, byte(off), byte(off>>8), 0x10, 0, 0, 0x8E, byte(off>>16), byte(off>>24))
	}
	for _, w := range []struct {
		at   mmu.GPA
		data []byte
	}{{sbGDT, gdt}, {sbIDT, idt}, {sbTraps, bytes.Repeat([]byte{0xF4}, 32)}} {
		if err := mem.WriteAt(w.at, w.data); err != nil {
			t.Fatal(err)
		}
	}
	return &sseBox{mem: mem, c: New(mem, testIO{}, nil)}
}

// sseStartState is the starting state: flat protected mode with CR4.OSFXSR and
// CR4.OSXMMEXCPT set, the FPU reset, ESI = EDI = sbScratch.
func sseStartState() State {
	s := FlatProtectedState(sbCode)
	s.CR4 |= CR4OSFXSR | CR4OSXMMEXCPT
	s.CR0 |= CR0NE
	s.GDTR = DTR{Base: sbGDT, Limit: 4*8 - 1}
	s.IDTR = DTR{Base: sbIDT, Limit: 32*8 - 1}
	s.GPR[ESP] = sbStack
	s.GPR[ESI] = sbScratch
	s.GPR[EDI] = sbScratch
	return s
}

// run runs code (a HLT is appended) from s with data at sbScratch. It
// returns the final state, the scratch bytes and the exception vector, or
// -1 if the code ran to its HLT.
func (b *sseBox) run(t testing.TB, code []byte, s *State, data []byte) (State, []byte, int) {
	t.Helper()
	if err := b.mem.WriteAt(sbCode, append(append([]byte(nil), code...), 0xF4)); err != nil {
		t.Fatal(err)
	}
	if err := b.mem.WriteAt(sbScratch, data); err != nil {
		t.Fatal(err)
	}
	s.EIP, s.Halted = sbCode, false
	b.c.SetState(s)
	limit := b.limit
	if limit == 0 {
		limit = 1000
	}
	r, err := b.c.Run(limit)
	out := b.c.State()
	got := append([]byte(nil), b.mem.RAM[sbScratch:sbScratch+len(data)]...)
	switch end := out.EIP; {
	case end > sbTraps && end <= sbTraps+32:
		return out, got, int(end - sbTraps - 1)
	case r != StopHalt || err != nil || end != sbCode+uint64(len(code))+1:
		t.Fatalf("code % x: stopped (%v, %v) at eip %#x", code, r, err, end)
	}
	return out, got, -1
}
