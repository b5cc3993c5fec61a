package cpu

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// traced wraps a handler so that Trace sees each instruction before it runs.
// Tracing translates one instruction per block, so the cost stays out of the
// normal hot path.
func traced(fn handler) handler {
	return func(c *CPU, in *inst) {
		if c.Trace != nil {
			c.Trace(c, in.eip, c.Disassemble(in.eip))
		}
		fn(c, in)
	}
}

// Disassemble returns the text of the instruction at CS:eip (for traces).
func (c *CPU) Disassemble(eip uint64) string {
	var buf [15]byte
	n := 0
	for ; n < len(buf); n++ {
		la := c.Seg[CS].Base + eip + uint64(n)
		if c.mode == mode64 {
			la = eip + uint64(n)
		}
		b, ok := c.peekByte(la)
		if !ok {
			break
		}
		buf[n] = b
	}
	mode := int(c.mode)
	inst, err := x86asm.Decode(buf[:n], mode)
	if err != nil {
		return fmt.Sprintf("(bad) % x", buf[:1])
	}
	return x86asm.IntelSyntax(inst, uint64(eip), nil)
}

// peekByte reads a byte of guest memory through the current translation
// without faults or side effects on the TLB counters.
func (c *CPU) peekByte(la uint64) (b uint8, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errFault {
				panic(r)
			}
			ok = false
		}
	}()
	saved := c.CR2
	pa := c.translate(la, false, false, false)
	c.CR2 = saved
	if !c.mem.IsRAM(pa, 1) {
		return 0xFF, true
	}
	return c.ram[pa], true
}
