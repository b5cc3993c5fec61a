package hostexec

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Case is one differential test: code and the state it starts from.
type Case struct {
	Insts   []Inst // the instructions of Code, when generated (nil when parsed)
	Mode    int    // 64: the code means what it should in 64-bit mode only (Generate64); 0: in both modes
	Code    []byte
	Undef   uint32 // flags that may be undefined after Code
	HiUndef uint16 // registers whose upper halves may be vendor-dependent after Code
	Regs    Regs   // initial; GPR[BaseReg] is an offset into Mem, GPR[RSP] unused
	MemSeed uint64 // FillMem(MemSeed) is Mem but for the bytes Format lists
	Mem     []byte // initial scratch area, MemSize bytes
}

var regNames = [8]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"}

// Format writes c in the regression corpus's text form: lines of
// "key value", "#" comments first.
//
//	mode 64           (only if not 0)
//	code 66 0f a5 c8
//	undef 0x810
//	hiundef 0x4       (only if not 0)
//	regs rax=… rcx=… (all eight, 64-bit hex; rbp is the offset into mem)
//	flags 0x893
//	memseed 0x…
//	mem 0x40 0a0b0c   (bytes that differ from FillMem(memseed))
func (c *Case) Format(comment string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	if c.Mode != 0 {
		fmt.Fprintf(&b, "mode %d\n", c.Mode)
	}
	fmt.Fprintf(&b, "code % x\n", c.Code)
	fmt.Fprintf(&b, "undef %#x\n", c.Undef)
	if c.HiUndef != 0 {
		fmt.Fprintf(&b, "hiundef %#x\n", c.HiUndef)
	}
	b.WriteString("regs")
	for i, n := range regNames {
		fmt.Fprintf(&b, " %s=%016x", n, c.Regs.GPR[i])
	}
	fmt.Fprintf(&b, "\nflags %#x\nmemseed %#x\n", c.Regs.Flags, c.MemSeed)
	fill := FillMem(c.MemSeed)
	for i := 0; i < len(c.Mem); {
		if c.Mem[i] == fill[i] {
			i++
			continue
		}
		j := i
		for j < len(c.Mem) && c.Mem[j] != fill[j] {
			j++
		}
		fmt.Fprintf(&b, "mem %#x %x\n", i, c.Mem[i:j])
		i = j
	}
	return b.String()
}

// ParseCase reads the form Format writes.
func ParseCase(text string) (*Case, error) {
	c := &Case{}
	var patches []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		key, val, _ := strings.Cut(l, " ")
		var err error
		switch key {
		case "mode":
			c.Mode, err = strconv.Atoi(val)
			if err == nil && c.Mode != 0 && c.Mode != 64 {
				err = fmt.Errorf("mode %d: want 64 or none", c.Mode)
			}
		case "code":
			c.Code, err = hex.DecodeString(strings.ReplaceAll(val, " ", ""))
		case "undef":
			var v uint64
			v, err = strconv.ParseUint(val, 0, 32)
			c.Undef = uint32(v)
		case "hiundef":
			var v uint64
			v, err = strconv.ParseUint(val, 0, 16)
			c.HiUndef = uint16(v)
		case "flags":
			c.Regs.Flags, err = strconv.ParseUint(val, 0, 64)
		case "memseed":
			c.MemSeed, err = strconv.ParseUint(val, 0, 64)
		case "regs":
			for _, f := range strings.Fields(val) {
				n, v, _ := strings.Cut(f, "=")
				i := indexOf(regNames[:], n)
				if i < 0 {
					err = fmt.Errorf("unknown register %q", n)
					break
				}
				if c.Regs.GPR[i], err = strconv.ParseUint(v, 16, 64); err != nil {
					break
				}
			}
		case "mem":
			patches = append(patches, val)
		default:
			err = fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
	}
	if len(c.Code) == 0 {
		return nil, fmt.Errorf("no code")
	}
	c.Mem = FillMem(c.MemSeed)
	for _, p := range patches {
		o, h, _ := strings.Cut(p, " ")
		off, err := strconv.ParseUint(o, 0, 32)
		if err != nil {
			return nil, fmt.Errorf("mem %s: %v", p, err)
		}
		b, err := hex.DecodeString(h)
		if err != nil || off+uint64(len(b)) > MemSize {
			return nil, fmt.Errorf("mem %s: bad bytes or range", p)
		}
		copy(c.Mem[off:], b)
	}
	return c, nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
