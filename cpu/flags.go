package cpu

import "math/bits"

// Lazy flags: arithmetic records its operands and result; the six status
// flags are computed only when something reads them.
type lazyOp uint8

const (
	lzNone  lazyOp = iota // status flags are in CPU.eflags
	lzAdd                 // res = a + b
	lzAdc                 // res = a + b + cin
	lzSub                 // res = a - b (CMP, NEG with a = 0)
	lzSbb                 // res = a - b - cin
	lzLogic               // AND OR XOR TEST: CF = OF = 0
	lzInc                 // CF kept in cin
	lzDec                 // CF kept in cin
	// lzRes: ZF, SF and PF from res, CF in cin, OF in bit 0 of b, AF clear
	// (shifts, multiplies: the flags they define are known at once).
	lzRes
)

type lazyFlags struct {
	op   lazyOp
	size uint8 // operand size in bytes: 1, 2, 4 (8 in long mode)
	cin  bool  // carry in (ADC/SBB) or the preserved CF (INC/DEC)
	a, b uint64
	res  uint64
}

func sizeMask(size uint8) uint64 { return 1<<(uint64(size)*8) - 1 }
func signBit(size uint8) uint64  { return 1 << (uint64(size)*8 - 1) }

// setLazy records a flag-setting operation.
// Fields are stored one by one: a struct literal would be built in a
// temporary and copied with wide moves that stall store forwarding.
func (c *CPU) setLazy(op lazyOp, size uint8, cin bool, a, b, res uint64) {
	l := &c.lz
	l.op, l.size, l.cin = op, size, cin
	l.a, l.b, l.res = a, b, res
}

func (c *CPU) cf() bool {
	l := &c.lz
	m := sizeMask(l.size)
	switch l.op {
	case lzNone:
		return c.eflags&FlagCF != 0
	case lzAdd:
		return l.res&m < l.a&m
	case lzAdc:
		return l.res&m < l.a&m || (l.cin && l.res&m == l.a&m)
	case lzSub:
		return l.a&m < l.b&m
	case lzSbb:
		return l.a&m < l.b&m || (l.cin && l.a&m == l.b&m)
	case lzLogic:
		return false
	default: // lzInc, lzDec, lzRes
		return l.cin
	}
}

func (c *CPU) zf() bool {
	if c.lz.op == lzNone {
		return c.eflags&FlagZF != 0
	}
	return c.lz.res&sizeMask(c.lz.size) == 0
}

func (c *CPU) sf() bool {
	if c.lz.op == lzNone {
		return c.eflags&FlagSF != 0
	}
	return c.lz.res&signBit(c.lz.size) != 0
}

func (c *CPU) of() bool {
	l := &c.lz
	s := signBit(l.size)
	switch l.op {
	case lzNone:
		return c.eflags&FlagOF != 0
	case lzAdd, lzAdc, lzInc:
		return (l.a^l.res)&(l.b^l.res)&s != 0
	case lzSub, lzSbb, lzDec:
		return (l.a^l.b)&(l.a^l.res)&s != 0
	case lzRes:
		return l.b&1 != 0
	default:
		return false
	}
}

func (c *CPU) pf() bool {
	if c.lz.op == lzNone {
		return c.eflags&FlagPF != 0
	}
	return bits.OnesCount8(uint8(c.lz.res))&1 == 0
}

func (c *CPU) af() bool {
	l := &c.lz
	switch l.op {
	case lzNone:
		return c.eflags&FlagAF != 0
	case lzLogic, lzRes:
		return false
	default:
		return (l.a^l.b^l.res)&0x10 != 0
	}
}

// flags returns the whole EFLAGS register.
func (c *CPU) flags() uint32 {
	if c.lz.op == lzNone {
		return c.eflags
	}
	f := c.eflags &^ ArithFlags
	if c.cf() {
		f |= FlagCF
	}
	if c.pf() {
		f |= FlagPF
	}
	if c.af() {
		f |= FlagAF
	}
	if c.zf() {
		f |= FlagZF
	}
	if c.sf() {
		f |= FlagSF
	}
	if c.of() {
		f |= FlagOF
	}
	return f
}

// materialize folds the lazy status flags into eflags.
func (c *CPU) materialize() {
	if c.lz.op != lzNone {
		c.eflags = c.flags()
		c.lz.op = lzNone
	}
}

// setFlags loads EFLAGS (reserved bit 1 set, bits 3, 5, 15 clear; SDM Vol. 1 §3.4.3).
func (c *CPU) setFlags(f uint32) {
	c.eflags = f&0x3F7FD5 | 2
	c.lz.op = lzNone
}

// setArith sets the status flags from explicit values (shifts, multiplies, BCD).
func (c *CPU) setArith(mask, val uint32) {
	c.materialize()
	c.eflags = c.eflags&^mask | val&mask
}

// setCF sets only CF.
func (c *CPU) setCF(v bool) {
	c.materialize()
	if v {
		c.eflags |= FlagCF
	} else {
		c.eflags &^= FlagCF
	}
}

// szp returns SF, ZF and PF for a result of the given size.
func szp(res uint64, size uint8) uint32 {
	var f uint32
	if res&sizeMask(size) == 0 {
		f |= FlagZF
	}
	if res&signBit(size) != 0 {
		f |= FlagSF
	}
	if bits.OnesCount8(uint8(res))&1 == 0 {
		f |= FlagPF
	}
	return f
}

func b2f(v bool, f uint32) uint32 {
	if v {
		return f
	}
	return 0
}

// cond evaluates condition code cc (SDM Vol. 1 Appendix B, Table B-1).
func (c *CPU) cond(cc uint8) bool {
	if cc>>1 == 5 { // P, NP: the only conditions on PF, which costs a popcount
		return c.pf() != (cc&1 != 0)
	}
	return ccTable[cc&15]>>c.condIndex()&1 != 0
}

// Conditions are evaluated through a table: the five status flags that
// conditions test, packed into an index, select a bit of ccTable[cc].
// Only P and NP read the PF bit, and they are evaluated apart, so the
// indexes computed on the hot paths leave PF out.
const (
	ciCF = 1 << iota
	ciZF
	ciSF
	ciOF
	ciPF
)

var ccTable = func() (t [16]uint32) {
	for cc := 0; cc < 16; cc++ {
		for i := uint32(0); i < 32; i++ {
			cf, zf, sf, of, pf := i&ciCF != 0, i&ciZF != 0, i&ciSF != 0, i&ciOF != 0, i&ciPF != 0
			var r bool
			switch cc >> 1 {
			case 0: // O
				r = of
			case 1: // B
				r = cf
			case 2: // E
				r = zf
			case 3: // BE
				r = cf || zf
			case 4: // S
				r = sf
			case 5: // P
				r = pf
			case 6: // L
				r = sf != of
			case 7: // LE
				r = zf || sf != of
			}
			if r != (cc&1 != 0) {
				t[cc] |= 1 << i
			}
		}
	}
	return t
}()

func b2u(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// subIndex is the condition index (without PF) of a - b = r (CMP, SUB) at size bytes.
func subIndex(a, b, r uint64, size uint8) uint32 {
	m, s := sizeMask(size), signBit(size)
	a, b, r = a&m, b&m, r&m
	return b2u(a < b) | b2u(r == 0)<<1 | b2u(r&s != 0)<<2 | b2u((a^b)&(a^r)&s != 0)<<3
}

// logicIndex is the condition index (without PF) of a logic result (CF = OF = 0).
func logicIndex(r uint64, size uint8) uint32 {
	r &= sizeMask(size)
	return b2u(r == 0)<<1 | b2u(r&signBit(size) != 0)<<2
}

// condIndex packs the current status flags for ccTable (PF only when the
// flags are materialized).
func (c *CPU) condIndex() uint32 {
	l := &c.lz
	switch l.op {
	case lzNone:
		f := c.eflags
		return f&FlagCF | f>>5&ciZF | f>>5&ciSF | f>>8&ciOF | f<<2&ciPF
	case lzSub:
		return subIndex(l.a, l.b, l.res, l.size)
	case lzLogic:
		return logicIndex(l.res, l.size)
	case lzAdd:
		m, s := sizeMask(l.size), signBit(l.size)
		a, b, r := l.a&m, l.b&m, l.res&m
		return b2u(r < a) | b2u(r == 0)<<1 | b2u(r&s != 0)<<2 | b2u((a^r)&(b^r)&s != 0)<<3
	case lzRes:
		return logicIndex(l.res, l.size) | b2u(l.cin) | uint32(l.b&1)<<3
	}
	return b2u(c.cf()) | b2u(c.zf())<<1 | b2u(c.sf())<<2 | b2u(c.of())<<3
}
