package cpu

// Differential test of the x87 against the host's own x87 (DESIGN.md, "How
// we know it is right", item 1): random sequences of x87 instructions whose
// memory operands are all [EBP+disp8] (the same bytes in 32- and 64-bit
// code) run natively through cpu/internal/hostexec and in the interpreter;
// the FNSAVE image (but for the instruction and data pointers), the stores
// and the EFLAGS that FCOMI set must agree. Transcendentals and partial
// remainders are left out: their results are implementation-specific.
//
//	go test ./cpu/ -run X87HostDiff -x87.cases 100000

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"testing"

	"github.com/gemu-project/gemu/cpu/internal/hostexec"
	"github.com/gemu-project/gemu/mmu"
)

var x87Cases = flag.Int("x87.cases", 3000, "random cases of TestX87HostDiff")

// Scratch layout, as EBP displacements (EBP = scratch + 0x80).
const (
	xdIn   = -0x80 // 8 input slots of 16 bytes
	xdCW   = 0x00  // 4 control words
	xdOut  = 0x10  // store area, 0x10–0x6F
	xdSave = 0x70  // FNSAVE image, 108 bytes
)

func x87RandInput(r *rand.Rand) []byte {
	b := make([]byte, 16)
	var v float80
	switch r.Intn(12) {
	case 0:
		v = f80Zero(r.Intn(2) == 0)
	case 1:
		v = f80Inf(r.Intn(2) == 0)
	case 2:
		v = float80{m: f80J | f80Quiet | r.Uint64()>>2, se: 0x7FFF}
	case 3:
		v = float80{m: r.Uint64() >> uint(r.Intn(64)), se: 0} // denormal
	case 4:
		v = fromInt64(int64(r.Intn(200) - 100))
	case 5:
		v = float80{m: f80J | 1<<uint(r.Intn(64)), se: uint16(f80Bias + r.Intn(30))}
	default:
		v = randF80(r, 40)
	}
	putF80(b, v)
	if r.Intn(4) == 0 { // integers and doubles in the low bytes
		binary.LittleEndian.PutUint64(b, r.Uint64()>>uint(r.Intn(64)))
	}
	return b
}

// x87RandCode returns a random instruction sequence (after FNINIT).
func x87RandCode(r *rand.Rand, n int) [][]byte {
	var insts [][]byte
	var code []byte
	m := func(op, reg byte, disp int) { code = append(code, op, 0x45|reg<<3, byte(int8(disp))) }
	in := func() int { return xdIn + 16*r.Intn(8) }
	out := func() int { return xdOut + 16*r.Intn(5) }
	sti := func() byte { return byte(r.Intn(8)) }
	for k := 0; k < n; k++ {
		code = nil
		switch r.Intn(20) {
		case 0, 1:
			m(0xDB, 5, in()) // fld m80
		case 2:
			m([]byte{0xD9, 0xDD}[r.Intn(2)], 0, in()) // fld m32/m64
		case 3:
			switch r.Intn(3) {
			case 0:
				m(0xDF, 0, in()) // fild m16
			case 1:
				m(0xDB, 0, in()) // fild m32
			default:
				m(0xDF, 5, in()) // fild m64
			}
		case 4, 5:
			m([]byte{0xD8, 0xDC, 0xDA, 0xDE}[r.Intn(4)], byte(r.Intn(8)), in()) // arith/compare m
		case 6, 7, 8:
			// D8 all, DC and DE without the compare /2 /3 (reserved or aliases).
			op := []byte{0xD8, 0xDC, 0xDE}[r.Intn(3)]
			reg := []byte{0, 1, 2, 3, 4, 5, 6, 7}[r.Intn(8)]
			if op != 0xD8 && (reg == 2 || reg == 3) {
				reg += 2
			}
			code = append(code, op, 0xC0|reg<<3|sti())
		case 9:
			code = append(code, 0xD9, []byte{0xE0, 0xE1, 0xFA, 0xFC, 0xE4, 0xE5, 0xF4, 0xFD, 0xF6, 0xF7, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE}[r.Intn(17)])
		case 10:
			code = append(code, 0xD9, 0xC8|sti()) // fxch
		case 11:
			code = append(code, 0xD9, 0xC0|sti()) // fld st(i)
		case 12:
			switch r.Intn(4) {
			case 0:
				m(0xD9, byte(2+r.Intn(2)), out()) // fst(p) m32
			case 1:
				m(0xDD, byte(2+r.Intn(2)), out()) // fst(p) m64
			case 2:
				m(0xDB, 7, out()) // fstp m80
			default:
				code = append(code, 0xDD, byte(0xD0+8*r.Intn(2))|sti()) // fst(p) st(i)
			}
		case 13:
			switch r.Intn(4) {
			case 0:
				m(0xDF, byte(2+r.Intn(2)), out()) // fist(p) m16
			case 1:
				m(0xDB, byte(2+r.Intn(2)), out()) // fist(p) m32
			case 2:
				m(0xDF, 7, out()) // fistp m64
			default:
				m(0xDF, 6, out()) // fbstp
			}
		case 14:
			m(0xD9, 5, xdCW+2*r.Intn(4)) // fldcw
		case 15:
			// fcomi/fucomi(p), then SETB, SETE, SETP to memory.
			code = append(code, []byte{0xDB, 0xDF}[r.Intn(2)], []byte{0xE8, 0xF0}[r.Intn(2)]|sti())
			d := out()
			code = append(code, 0x0F, 0x92, 0x45, byte(d), 0x0F, 0x94, 0x45, byte(d+1), 0x0F, 0x9A, 0x45, byte(d+2))
		case 16:
			code = append(code, []byte{0xDA, 0xDB}[r.Intn(2)], 0xC0|byte(r.Intn(4))<<3|sti()) // fcmovcc
		case 17:
			switch r.Intn(5) {
			case 0:
				code = append(code, 0xDD, 0xE0|sti()) // fucom
			case 1:
				code = append(code, 0xDD, 0xE8|sti()) // fucomp
			case 2:
				code = append(code, 0xDA, 0xE9) // fucompp
			case 3:
				code = append(code, 0xDE, 0xD9) // fcompp
			default:
				code = append(code, 0xD8, 0xD0|byte(r.Intn(2))<<3|sti()) // fcom(p)
			}
		case 18:
			code = append(code, 0xD9, []byte{0xF8, 0xF5}[r.Intn(2)]) // fprem, fprem1
		case 19:
			code = append(code, 0xDD, 0xC0|sti()) // ffree
		}
		insts = append(insts, code)
	}
	return insts
}

// x87Program is FNINIT, the instructions, FNSTSW and FNSAVE. The prologue
// loads +0 into all eight registers first, so that what empty registers
// hold (FXAM reports its sign) is the same on both sides.
func x87Program(insts [][]byte) []byte {
	code := []byte{0xDB, 0xE3}
	for i := 0; i < 8; i++ {
		code = append(code, 0xD9, 0xEE)
	}
	code = append(code, 0xDB, 0xE3)
	for _, in := range insts {
		code = append(code, in...)
	}
	return append(code, 0xDD, 0x45|7<<3, byte(xdOut+0x5E), 0xDD, 0x45|6<<3, xdSave)
}

// x87Interp runs code in the interpreter with the given scratch bytes.
func x87Interp(code, scratch []byte) ([]byte, error) {
	const at = 0x10000
	mem, err := mmu.NewMemory(1 << 20)
	if err != nil {
		return nil, err
	}
	if err := mem.WriteAt(0x1000, append(append([]byte(nil), code...), 0xF4)); err != nil {
		return nil, err
	}
	if err := mem.WriteAt(at, scratch); err != nil {
		return nil, err
	}
	c := New(mem, testIO{}, nil)
	s := FlatProtectedState(0x1000)
	s.GPR[ESP] = 0x8000
	s.GPR[EBP] = at + 0x80
	c.SetState(&s)
	if r, err := c.Run(10000); err != nil || r != StopHalt || c.State().EIP != uint64(0x1000+len(code)+1) {
		return nil, fmt.Errorf("interpreter stopped: %v %v at %#x", r, err, c.State().EIP)
	}
	return append([]byte(nil), mem.RAM[at:at+len(scratch)]...), nil
}

// x87Diff compares the two scratch areas: the stores, and the FNSAVE image
// but for FIP/FDP/FOP and the contents of empty registers.
func x87Diff(host, gemu []byte) string {
	const out, save = 0x80 + xdOut, 0x80 + xdSave
	if hs, gs := binary.LittleEndian.Uint16(host[out+0x5E:]), binary.LittleEndian.Uint16(gemu[out+0x5E:]); hs != gs {
		return fmt.Sprintf("FSW: host %#04x, gemu %#04x", hs, gs)
	}
	if !bytes.Equal(host[out:save], gemu[out:save]) {
		return fmt.Sprintf("stores differ:\nhost % x\ngemu % x", host[out:save], gemu[out:save])
	}
	h, g := host[save:save+108], gemu[save:save+108]
	if !bytes.Equal(h[0:12], g[0:12]) {
		return fmt.Sprintf("FCW/FSW/FTW: host % x, gemu % x", h[0:12], g[0:12])
	}
	tag := binary.LittleEndian.Uint16(h[8:])
	top := int(binary.LittleEndian.Uint16(h[4:])>>11) & 7
	for i := 0; i < 8; i++ {
		if tag>>(2*((top+i)&7))&3 == 3 {
			continue
		}
		if !bytes.Equal(h[28+10*i:38+10*i], g[28+10*i:38+10*i]) {
			return fmt.Sprintf("ST(%d): host % x, gemu % x", i, h[28+10*i:38+10*i], g[28+10*i:38+10*i])
		}
	}
	return ""
}

// x87Compare runs code on the host and in the interpreter and compares.
func x87Compare(code, scratch []byte) (string, error) {
	host := append([]byte(nil), scratch...)
	regs := hostexec.Regs{}
	regs.GPR[hostexec.BaseReg] = 0x80
	if _, err := hostexec.Run(code, &regs, host); err != nil {
		return "", err
	}
	gemu, err := x87Interp(code, scratch)
	if err != nil {
		return "", err
	}
	return x87Diff(host, gemu), nil
}

func TestX87HostDiff(t *testing.T) {
	if _, err := hostexec.Run([]byte{0x90}, &hostexec.Regs{}, make([]byte, 16)); errors.Is(err, hostexec.ErrUnsupported) || err != nil {
		t.Skipf("no native execution: %v", err)
	}
	r := rand.New(rand.NewSource(87))
	fails := 0
	for n := 0; n < *x87Cases; n++ {
		scratch := make([]byte, 0x200)
		for i := 0; i < 8; i++ {
			copy(scratch[16*i:], x87RandInput(r))
		}
		for i := 0; i < 4; i++ { // all masked; random RC and PC
			binary.LittleEndian.PutUint16(scratch[0x80+2*i:], uint16(0x037F&^0x0F00|r.Intn(4)<<10|[]int{0, 2, 3, 3}[r.Intn(4)]<<8))
		}
		insts := x87RandCode(r, 1+r.Intn(12))
		d, err := x87Compare(x87Program(insts), scratch)
		if err != nil {
			t.Fatal(err)
		}
		if d != "" {
			// Shrink to the first instruction after which the states differ.
			k := 1
			for ; k < len(insts); k++ {
				if dk, _ := x87Compare(x87Program(insts[:k]), scratch); dk != "" {
					d = dk
					break
				}
			}
			before := ""
			if k > 1 {
				h := append([]byte(nil), scratch...)
				regs := hostexec.Regs{}
				regs.GPR[hostexec.BaseReg] = 0x80
				hostexec.Run(x87Program(insts[:k-1]), &regs, h)
				sv := h[0x80+xdSave:]
				before = fmt.Sprintf("before: fsw %#04x ftw %#04x ST0 % x ST1 % x", binary.LittleEndian.Uint16(sv[4:]), binary.LittleEndian.Uint16(sv[8:]), sv[28:38], sv[38:48])
			}
			t.Errorf("%s\ncase %d: after % x (last of %d)\nprogram % x\ninputs % x\n%s", before, n, insts[k-1], k, x87Program(insts[:k]), scratch[:0x88], d)
			if fails++; fails > 5 {
				t.FailNow()
			}
		}
	}
}
