package cpu

// Differential testing against the host CPU (DESIGN.md, "How we know it is
// right", item 1): random sequences of unprivileged integer instructions
// run natively (cpu/internal/hostexec) and in the interpreter from the same
// registers, flags and scratch memory; the results must agree but for the
// flags the SDM leaves undefined. Every distinct mismatch is kept as a
// regression case in testdata/hostdiff (go test -run HostDiff
// -hostdiff.record); TestHostDiff replays them all.
//
// Mode 32 runs hostexec.Generate's cases, which mean the same in both modes;
// mode 64 runs hostexec.Generate64's, which add REX forms (64-bit operands,
// R8–R15, SPL–DIL) and 64-bit-only instructions. A corpus case made by
// Generate64 says "mode 64" and runs in mode 64 only.
//
//	go test ./cpu/ -run HostDiff                       # corpus + 20,000 cases, per mode
//	go test ./cpu/ -run XXX -fuzz FuzzHostDiff -fuzztime 3m -hostdiff.record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/arch/x86/x86asm"

	"github.com/gemu-project/gemu/cpu/internal/hostexec"
	"github.com/gemu-project/gemu/mmu"
)

var (
	hostdiffRecord = flag.Bool("hostdiff.record", false, "write each new cause of a host/gemu mismatch to testdata/hostdiff, and let FuzzHostDiff go on")
	hostdiffLog    = flag.String("hostdiff.log", "", "append each mismatch's cause to this file (for counting fuzz runs)")
	hostdiffN      = flag.Int("hostdiff.n", 20000, "random cases TestHostDiff runs (-short: a tenth)")
)

// hdModeT is how the interpreter runs the cases.
type hdModeT int

const (
	// hdMode32: flat 32-bit protected mode. The generated encodings mean
	// the same there as in 64-bit mode (no REX, no 67h, no RIP-relative);
	// only the low 32 bits of each register are compared, and the
	// interpreter's upper halves must stay zero.
	hdMode32 hdModeT = 32
	// hdMode64: 64-bit mode, identity-paged; whole registers compared.
	hdMode64 hdModeT = 64
)

var hdModes = []hdModeT{hdMode32, hdMode64}

// generate makes a random case for mode.
func (mode hdModeT) generate(src hostexec.Source) *hostexec.Case {
	if mode == hdMode64 {
		return hostexec.Generate64(src)
	}
	return hostexec.Generate(src)
}

// Guest layout of the interpreter's side.
const (
	hdGDT     = 0x500  // null, 0x08 64-bit code, 0x10 32-bit code, 0x18 data
	hdIDT     = 0x600  // 32 gates to hdTraps+vector (8 or 16 bytes each)
	hdCode    = 0x1000 // the case's code, then HLT
	hdTraps   = 0x3000 // one HLT per exception vector
	hdStack   = 0x8000
	hdScratch = 0x10000 // the scratch area: EBP = hdScratch + BaseOff
	hdPML4    = 0x20000 // mode 64: PML4, PDPT, PD mapping 0–2 MiB with one large page
)

// hdResult is the outcome of a case on one side.
type hdResult struct {
	GPR   [16]uint64 // RBP relative to the scratch area
	Flags uint64
	Mem   []byte
	Fault string // the interpreter raised an exception or did not reach the HLT
	host  bool
}

// gemuBox is an interpreter with the fixed guest layout, reused by cases.
type gemuBox struct {
	mode   hdModeT
	mem    *mmu.Memory
	c      *CPU
	tables []byte // GDT, IDT and trap HLTs as written, to check they stay so
	paging []byte
}

func newGemuBox(mode hdModeT) (*gemuBox, error) {
	mem, err := mmu.NewMemory(2 << 20)
	if err != nil {
		return nil, err
	}
	b := &gemuBox{mode: mode, mem: mem, c: New(mem, testIO{}, nil)}
	gdt := []byte{ // accessed already, so that loading them writes nothing
		0, 0, 0, 0, 0, 0, 0, 0,
		0xFF, 0xFF, 0, 0, 0, 0x9B, 0xAF, 0, // 0x08: 64-bit code
		0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0, // 0x10: 32-bit code, base 0, 4 GiB
		0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0, // 0x18: data
	}
	var idt []byte
	for v := 0; v < 32; v++ { // interrupt gates (SDM Vol. 3A §6.11 Figure 6-2, §6.14.1 Figure 6-7)
		off := hdTraps + v
		if mode == hdMode64 {
			idt = append(idt, byte(off), byte(off>>8), 0x08, 0, 0, 0x8E, byte(off>>16), byte(off>>24), 0, 0, 0, 0, 0, 0, 0, 0)
		} else {
			idt = append(idt, byte(off), byte(off>>8), 0x10, 0, 0, 0x8E, byte(off>>16), byte(off>>24))
		}
	}
	traps := bytes.Repeat([]byte{0xF4}, 32)
	paging := make([]byte, 0x3000) // PML4E → PDPTE → PDE: 2 MiB page at 0; accessed and dirty
	for i, e := range []uint64{hdPML4 + 0x1000 | 0x23, hdPML4 + 0x2000 | 0x23, 0xE3} {
		binary.LittleEndian.PutUint64(paging[0x1000*i:], e)
	}
	for _, w := range []struct {
		at   mmu.GPA
		data []byte
	}{{hdGDT, gdt}, {hdIDT, idt}, {hdTraps, traps}, {hdPML4, paging}} {
		if err := mem.WriteAt(w.at, w.data); err != nil {
			return nil, err
		}
	}
	b.tables = append([]byte(nil), mem.RAM[:hdTraps+32]...)
	b.paging = paging
	return b, nil
}

// run runs c in the interpreter.
func (b *gemuBox) run(c *hostexec.Case) (*hdResult, error) {
	if !bytes.Equal(b.mem.RAM[:hdCode], b.tables[:hdCode]) || !bytes.Equal(b.mem.RAM[hdTraps:hdTraps+32], b.tables[hdTraps:]) ||
		!bytes.Equal(b.mem.RAM[hdPML4:hdPML4+len(b.paging)], b.paging) {
		return nil, errors.New("hostdiff: a previous case overwrote the GDT, IDT, trap handlers or page tables")
	}
	if err := b.mem.WriteAt(hdCode, append(append([]byte(nil), c.Code...), 0xF4)); err != nil {
		return nil, err
	}
	if err := b.mem.WriteAt(hdScratch, c.Mem); err != nil {
		return nil, err
	}
	s := FlatProtectedState(hdCode)
	for i := range s.GPR {
		s.GPR[i] = c.Regs.GPR[i]
		if b.mode == hdMode32 {
			s.GPR[i] &= 0xFFFFFFFF
		}
	}
	s.GPR[ESP] = hdStack
	s.GPR[EBP] = (hdScratch + c.Regs.GPR[hostexec.BaseReg]) & 0xFFFFFFFF
	s.EFLAGS = 2 | c.Regs.Flags&hostexec.Loaded
	s.GDTR = DTR{Base: hdGDT, Limit: 4*8 - 1}
	s.IDTR = DTR{Base: hdIDT, Limit: 32*8 - 1}
	if b.mode == hdMode64 { // IA-32e mode, identity-paged
		s.CR0 |= CR0PG
		s.CR4 = CR4PAE
		s.CR3 = hdPML4
		s.EFER = EFERLME | EFERLMA
		s.Seg[CS] = Segment{Selector: 0x08, Limit: 0xFFFFFFFF, Access: AccP | AccS | AccCode | AccWritable | AccAccessed | AccL | AccG}
		s.IDTR.Limit = 32*16 - 1
	}
	b.c.SetState(&s)
	r, err := b.c.Run(1000)
	st := b.c.State()
	out := &hdResult{Flags: st.EFLAGS, Mem: make([]byte, len(c.Mem))}
	for i := range out.GPR {
		out.GPR[i] = st.GPR[i]
	}
	out.GPR[EBP] -= hdScratch
	copy(out.Mem, b.mem.RAM[hdScratch:])
	switch end := st.EIP; {
	case end > hdTraps && end <= hdTraps+32:
		// The gate pushed the return address, maybe below an error code.
		at := st.GPR[ESP]
		if v := end - hdTraps - 1; v == 8 || (v >= 10 && v <= 14) || v == 17 {
			at += uint64(b.mode / 8)
		}
		eip := uint64(b.mem.Read32(mmu.GPA(at)))
		out.Fault = fmt.Sprintf("#%s at code+%#x", excName(end-hdTraps-1), eip-hdCode)
	case r != StopHalt || err != nil || end != hdCode+uint64(len(c.Code))+1:
		out.Fault = fmt.Sprintf("stopped (%v, %v) at eip %#x", r, err, end)
	}
	return out, nil
}

func excName(v uint64) string {
	names := []string{"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "9", "TS", "NP", "SS", "GP", "PF", "15", "MF", "AC"}
	if v < uint64(len(names)) {
		return names[v]
	}
	return fmt.Sprint(v)
}

// hostRun runs c natively.
func hostRun(c *hostexec.Case) (*hdResult, error) {
	mem := append([]byte(nil), c.Mem...)
	out, err := hostexec.Run(c.Code, &c.Regs, mem)
	if err != nil {
		return nil, err
	}
	r := &hdResult{Flags: out.Flags, Mem: mem, host: true}
	r.GPR = out.GPR
	return r, nil
}

// hdView is what the comparison sees of a result: the registers (mode 32:
// their low 32 bits), the defined flags by name, the bytes where the two
// sides' memories differ, and any fault.
type hdView struct {
	RAX, RCX, RDX, RBX, RBP, RSI, RDI string
	R8to15                            string // mode 64
	Flags                             string
	Mem                               map[string]string
	Fault                             string
}

var hdFlagNames = []struct {
	bit  uint64
	name string
}{{hostexec.CF, "CF"}, {hostexec.PF, "PF"}, {hostexec.AF, "AF"}, {hostexec.ZF, "ZF"}, {hostexec.SF, "SF"}, {hostexec.DF, "DF"}, {hostexec.OF, "OF"}}

func hdFlags(f, mask uint64) string {
	var s []string
	for _, n := range hdFlagNames {
		switch {
		case mask&n.bit == 0:
			s = append(s, n.name+"?")
		case f&n.bit != 0:
			s = append(s, n.name)
		default:
			s = append(s, "--")
		}
	}
	return strings.Join(s, " ")
}

// view shows r against other, after c. In mode 32 the interpreter's registers must
// have zero upper halves (legacy modes cannot set them), so a nonzero one
// shows in full and differs.
func (r *hdResult) view(mode hdModeT, c *hostexec.Case, other *hdResult) hdView {
	undef := c.Undef
	reg := func(i int) string {
		if mode == hdMode32 && (r.host || r.GPR[i]>>32 == 0) {
			return fmt.Sprintf("%08x", uint32(r.GPR[i]))
		}
		if mode == hdMode64 && c.HiUndef>>i&1 != 0 {
			return fmt.Sprintf("????????%08x", uint32(r.GPR[i]))
		}
		return fmt.Sprintf("%016x", r.GPR[i])
	}
	v := hdView{RAX: reg(EAX), RCX: reg(ECX), RDX: reg(EDX), RBX: reg(EBX), RBP: reg(EBP), RSI: reg(ESI), RDI: reg(EDI),
		Flags: hdFlags(r.Flags, hostexec.Loaded&^uint64(undef)), Fault: r.Fault}
	if mode == hdMode64 {
		var hi []string
		for i := 8; i < 16; i++ {
			hi = append(hi, reg(i))
		}
		v.R8to15 = strings.Join(hi, " ")
	}
	for i := range r.Mem {
		if r.Mem[i] != other.Mem[i] {
			if v.Mem == nil {
				v.Mem = map[string]string{}
			}
			v.Mem[fmt.Sprintf("%#04x", i)] = fmt.Sprintf("%02x", r.Mem[i])
		}
	}
	return v
}

// differing names the fields of two views that differ, for a cause key.
func differing(a, b hdView) string {
	var d []string
	for _, f := range []struct{ x, y string }{{a.RAX, b.RAX}, {a.RCX, b.RCX}, {a.RDX, b.RDX},
		{a.RBX, b.RBX}, {a.RBP, b.RBP}, {a.RSI, b.RSI}, {a.RDI, b.RDI}, {a.R8to15, b.R8to15}} {
		if f.x != f.y {
			d = append(d, "reg")
			break
		}
	}
	if a.Fault != b.Fault {
		return "fault"
	}
	if a.Flags != b.Flags {
		fa, fb := strings.Fields(a.Flags), strings.Fields(b.Flags)
		for i := range fa {
			if fa[i] != fb[i] {
				d = append(d, hdFlagNames[i].name)
			}
		}
	}
	if len(a.Mem) > 0 {
		d = append(d, "mem")
	}
	return strings.Join(d, "+")
}

// hostDiff runs cases on both sides.
type hostDiff struct {
	mu   sync.Mutex
	box  *gemuBox
	mode hdModeT

	cases, mismatches int
	causes            map[string]int
}

// newHostDiff skips tb where the host cannot run the cases.
func newHostDiff(tb testing.TB, mode hdModeT) *hostDiff {
	tb.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		tb.Skipf("host differential test needs linux/amd64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	// CPUID 8000_0001h: ECX bit 0 is LAHF/SAHF in 64-bit mode, which the
	// generator emits.
	in := hostexec.Regs{}
	in.GPR[hostexec.RAX] = 0x80000001
	out, err := hostexec.Run([]byte{0x0F, 0xA2}, &in, nil)
	if err != nil {
		tb.Skipf("cannot run code natively (an executable mapping is needed): %v", err)
	}
	if out.GPR[hostexec.RCX]&1 == 0 {
		tb.Skip("the host has no LAHF/SAHF in 64-bit mode (CPUID 8000_0001h ECX[0])")
	}
	box, err := newGemuBox(mode)
	if err != nil {
		tb.Fatal(err)
	}
	return &hostDiff{box: box, mode: mode, causes: map[string]int{}}
}

// mismatch is a case whose two results differ.
type mismatch struct {
	mode       hdModeT
	c          *hostexec.Case // as run
	min        *hostexec.Case // the smallest reproduction found (c if none smaller)
	culprit    string         // the form of the instruction after which the results first differ
	key        string         // culprit and what differs: the cause
	host, gemu *hdResult      // of min
	diff       string
}

// compare runs c on both sides; it returns the views and whether they agree.
func (h *hostDiff) compare(c *hostexec.Case) (hv, gv hdView, host, gemu *hdResult, err error) {
	host, err = hostRun(c)
	if err != nil {
		return
	}
	gemu, err = h.box.run(c)
	if err != nil {
		return
	}
	return host.view(h.mode, c, gemu), gemu.view(h.mode, c, host), host, gemu, nil
}

// check runs c; on a mismatch it finds the culprit instruction and the
// smallest window of instructions, from the host's state before them, that
// still differs.
func (h *hostDiff) check(c *hostexec.Case) (*mismatch, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cases++
	hv, gv, host, gemu, err := h.compare(c)
	if err != nil || cmp.Equal(hv, gv) {
		return nil, err
	}
	h.mismatches++
	m := &mismatch{mode: h.mode, c: c, min: c, culprit: "?", host: host, gemu: gemu}
	what := differing(hv, gv)
	if n := len(c.Insts); n > 0 {
		// The first prefix that differs ends with the culprit.
		end := n
		for i := 1; i < n; i++ {
			p := prefixCase(c, 0, i, nil)
			a, b, _, _, err := h.compare(p)
			if err == nil && !cmp.Equal(a, b) {
				end = i
				break
			}
		}
		m.culprit = c.Insts[end-1].Name
		// The shortest window ending there, from the host's state.
		for start := end - 1; start >= 0; start-- {
			pre := prefixCase(c, 0, start, nil)
			ph, err := hostRun(pre)
			if err != nil {
				return nil, err
			}
			w := prefixCase(c, start, end, ph)
			a, b, wh, wg, err := h.compare(w)
			if err == nil && !cmp.Equal(a, b) {
				m.min, m.host, m.gemu, what = w, wh, wg, differing(a, b)
				break
			}
		}
	} else if in, err := x86asm.Decode(c.Code, 64); err == nil {
		m.culprit = in.Op.String()
	}
	hv, gv = m.host.view(h.mode, m.min, m.gemu), m.gemu.view(h.mode, m.min, m.host)
	m.diff = cmp.Diff(hv, gv)
	m.key = fmt.Sprintf("%s %s (mode %d)", m.culprit, what, h.mode)
	h.causes[m.key]++
	return m, nil
}

// prefixCase is c's instructions [i, j), from c's initial state or, when
// from is set, from that result (the host's after c's first i instructions).
func prefixCase(c *hostexec.Case, i, j int, from *hdResult) *hostexec.Case {
	p := &hostexec.Case{Insts: c.Insts[i:j], Mode: c.Mode, Regs: c.Regs, MemSeed: c.MemSeed, Mem: c.Mem}
	for _, in := range p.Insts {
		p.Code = append(p.Code, in.Bytes...)
	}
	p.Undef = hostexec.Undefined(0, p.Insts)
	for _, in := range p.Insts {
		p.HiUndef |= in.HiUndef
	}
	if from != nil {
		p.Regs.GPR = from.GPR
		p.Regs.GPR[ESP] = 0
		p.Regs.Flags = from.Flags & hostexec.Loaded
		p.Mem = from.Mem
	}
	return p
}

// disasm lists c's code as the host sees it (64-bit mode), by instruction
// when the generator's boundaries are known; an Inst of several machine
// instructions (an alternate base register's MOVs around the instruction)
// shows each.
func disasm(c *hostexec.Case) string {
	var b strings.Builder
	insts := c.Insts
	if insts == nil {
		for pc := 0; pc < len(c.Code); {
			n, _ := decodeLen(c.Code[pc:])
			insts = append(insts, hostexec.Inst{Bytes: c.Code[pc : pc+n]})
			pc += n
		}
	}
	pc := 0
	for _, it := range insts {
		var parts [][]byte
		for at := 0; at < len(it.Bytes); {
			n, ok := decodeLen(it.Bytes[at:])
			if !ok { // x86asm does not know it: the rest as one
				n = len(it.Bytes) - at
			}
			parts = append(parts, it.Bytes[at:at+n])
			at += n
		}
		for k, p := range parts {
			text := it.Name
			if len(parts) > 1 {
				text = ""
			}
			if in, err := x86asm.Decode(skipIgnoredREX(p), 64); err == nil && in.Op != 0 && in.Len == len(skipIgnoredREX(p)) {
				text = x86asm.IntelSyntax(in, uint64(pc), nil)
			}
			if len(parts) > 1 && k == 1 {
				text += "    ; " + it.Name
			}
			fmt.Fprintf(&b, "  +%02x  % -24x %s\n", pc, p, text)
			pc += len(p)
		}
	}
	return b.String()
}

// decodeLen is the length of the instruction at the start of code (1 and
// false if x86asm cannot tell), counting a REX that a legacy prefix voids,
// which x86asm does not know.
func decodeLen(code []byte) (int, bool) {
	s := skipIgnoredREX(code)
	if in, err := x86asm.Decode(s, 64); err == nil {
		return in.Len + len(code) - len(s), true
	}
	return 1, false
}

// skipIgnoredREX drops a REX prefix followed by a legacy prefix.
func skipIgnoredREX(code []byte) []byte {
	if len(code) > 1 && code[0]&0xF0 == 0x40 {
		switch code[1] {
		case 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3:
			return code[1:]
		}
	}
	return code
}

func (m *mismatch) report() string {
	c := m.min
	var b strings.Builder
	fmt.Fprintf(&b, "cause: %s\n", m.key)
	b.WriteString(disasm(c))
	b.WriteString("initial:")
	regs := []int{EAX, ECX, EDX, EBX, ESI, EDI}
	if m.mode == hdMode64 {
		regs = append(regs, 8, 9, 10, 11, 12, 13, 14, 15)
	}
	for _, r := range regs {
		if m.mode == hdMode32 {
			fmt.Fprintf(&b, " %s=%08x", hdRegNames[r], uint32(c.Regs.GPR[r]))
		} else {
			fmt.Fprintf(&b, " %s=%016x", hdRegNames[r], c.Regs.GPR[r])
		}
	}
	fmt.Fprintf(&b, " flags %s\n", hdFlags(c.Regs.Flags, hostexec.Loaded))
	fmt.Fprintf(&b, "ebp = scratch+%#x (scratch contents: the case's memseed and mem lines)\n", c.Regs.GPR[EBP])
	fmt.Fprintf(&b, "host vs gemu (-host +gemu; ? marks undefined flags):\n%s", m.diff)
	if m.min != m.c {
		fmt.Fprintf(&b, "(reduced from %d instructions:\n%s)\n", len(m.c.Insts), disasm(m.c))
	}
	return b.String()
}

var hdRegNames = [16]string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

var hdFileName = regexp.MustCompile(`[^a-z0-9]+`)

// note logs m and, with -hostdiff.record, keeps it in the corpus unless its
// cause has a file already.
func (h *hostDiff) note(tb testing.TB, m *mismatch) {
	tb.Helper()
	if *hostdiffLog != "" {
		if f, err := os.OpenFile(*hostdiffLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, m.key)
			f.Close()
		}
	}
	if !*hostdiffRecord || len(m.c.Insts) == 0 {
		return
	}
	name := strings.Trim(hdFileName.ReplaceAllString(strings.ToLower(m.key), "-"), "-")
	path := filepath.Join("testdata", "hostdiff", name+".txt")
	if _, err := os.Stat(path); err == nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(m.min.Format(strings.TrimRight(m.report(), "\n"))), 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("recorded %s", path)
}

func TestHostDiff(t *testing.T) {
	for _, mode := range hdModes {
		t.Run(fmt.Sprintf("mode%d", mode), func(t *testing.T) { testHostDiff(t, mode, false) })
	}
	// The same cases in native code (jit.go), translated at first sight.
	t.Run("mode32jit", func(t *testing.T) { testHostDiff(t, hdMode32, true) })
	t.Run("mode64jit", func(t *testing.T) { testHostDiff(t, hdMode64, true) })
}

// testHostDiff runs the corpus and the random cases in one mode.
func testHostDiff(t *testing.T, mode hdModeT, jit bool) {
	h := newHostDiff(t, mode)
	if jit {
		if !h.box.c.EnableJIT(true) {
			t.Skip("no native code on this host")
		}
		h.box.c.jit.threshold = 1
		defer func() {
			st := h.box.c.Stats
			t.Logf("%d of %d instructions ran native", st.NativeInstructions, st.Instructions)
			if st.NativeInstructions == 0 {
				t.Error("no instruction ran native: the cases did not test the translator")
			}
		}()
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "hostdiff", "*.txt"))
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := hostexec.ParseCase(string(text))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if c.Mode != 0 && c.Mode != int(mode) {
				t.Skipf("a mode %d case", c.Mode)
			}
			m, err := h.check(c)
			if err != nil {
				t.Fatal(err)
			}
			if m != nil {
				t.Errorf("%s still differs:\n%s", f, m.report())
			}
		})
	}
	corpus := h.cases
	n := *hostdiffN
	if testing.Short() {
		n /= 10
	}
	rng := rand.New(rand.NewPCG(0x9e3779b97f4a7c15, 1))
	shown := map[string]int{}
	for i := 0; i < n; i++ {
		c := mode.generate(rng)
		m, err := h.check(c)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if m == nil {
			continue
		}
		h.note(t, m)
		if shown[m.key]++; shown[m.key] <= 2 {
			t.Errorf("case %d differs from the host:\n%s", i, m.report())
		}
	}
	t.Logf("%d corpus cases, %d random cases, %d mismatches", corpus, h.cases-corpus, h.mismatches)
	keys := make([]string, 0, len(h.causes))
	for k := range h.causes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return h.causes[keys[i]] > h.causes[keys[j]] })
	for _, k := range keys {
		t.Logf("%6d  %s", h.causes[k], k)
	}
}

// FuzzHostDiff draws the generators' choices from the fuzz input, one case
// per mode (Generate for mode 32, Generate64 for mode 64). With
// -hostdiff.record a mismatch is kept in testdata/hostdiff (once per cause)
// and fuzzing goes on; without it, the first mismatch fails.
func FuzzHostDiff(f *testing.F) {
	for _, s := range []string{"", "\x00", "\x07\x11\x22\x33", "\x03\x0c\x05\x01\x02\x1f\x20\x21", "shld\xff\x10\x00"} {
		f.Add([]byte(s))
	}
	var hs []*hostDiff
	for _, mode := range hdModes {
		hs = append(hs, newHostDiff(f, mode))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, h := range hs {
			c := h.mode.generate(hostexec.BytesSource(data))
			m, err := h.check(c)
			if err != nil {
				t.Fatal(err)
			}
			if m == nil {
				continue
			}
			h.note(t, m)
			if !*hostdiffRecord {
				t.Fatalf("differs from the host:\n%s", m.report())
			}
		}
	})
}
