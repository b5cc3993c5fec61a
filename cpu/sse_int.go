package cpu

// Packed-integer instructions: the MMX forms (no prefix, mm and mm/m64) and
// the SSE2 forms (66 prefix, xmm and aligned xmm/m128) of the same opcodes
// (SDM Vol. 1 §9.4, §11.4.3; Vol. 2 PADDB…PXOR). Most are lane-wise within
// each 64-bit half, so one function on a quadword serves both widths.

const (
	hiBytes = 0x8080808080808080
	hiWords = 0x8000800080008000
	hiDords = 0x8000000080000000
)

type pintOp struct {
	name string
	fn   func(a, b uint64) uint64
}

// pintOps are the lane-wise operations, by the opcode's second byte.
var pintOps = [0x100]pintOp{
	0x64: {"PCMPGTB", func(a, b uint64) uint64 { return lanes(a, b, 8, cmpgt8) }},
	0x65: {"PCMPGTW", func(a, b uint64) uint64 { return lanes(a, b, 16, cmpgt16) }},
	0x66: {"PCMPGTD", func(a, b uint64) uint64 { return lanes(a, b, 32, cmpgt32) }},
	0x74: {"PCMPEQB", pcmpeqb},
	0x75: {"PCMPEQW", func(a, b uint64) uint64 { return lanes(a, b, 16, cmpeq) }},
	0x76: {"PCMPEQD", func(a, b uint64) uint64 { return lanes(a, b, 32, cmpeq) }},
	0xD4: {"PADDQ", func(a, b uint64) uint64 { return a + b }},
	0xD5: {"PMULLW", func(a, b uint64) uint64 { return lanes(a, b, 16, func(x, y uint64) uint64 { return x * y }) }},
	0xD8: {"PSUBUSB", func(a, b uint64) uint64 { return lanes(a, b, 8, subus) }},
	0xD9: {"PSUBUSW", func(a, b uint64) uint64 { return lanes(a, b, 16, subus) }},
	0xDA: {"PMINUB", pminub},
	0xDB: {"PAND", func(a, b uint64) uint64 { return a & b }},
	0xDC: {"PADDUSB", func(a, b uint64) uint64 { return lanes(a, b, 8, addus8) }},
	0xDD: {"PADDUSW", func(a, b uint64) uint64 { return lanes(a, b, 16, addus16) }},
	0xDE: {"PMAXUB", pmaxub},
	0xDF: {"PANDN", func(a, b uint64) uint64 { return ^a & b }},
	0xE0: {"PAVGB", func(a, b uint64) uint64 { return lanes(a, b, 8, avg) }},
	0xE3: {"PAVGW", func(a, b uint64) uint64 { return lanes(a, b, 16, avg) }},
	0xE4: {"PMULHUW", func(a, b uint64) uint64 { return lanes(a, b, 16, func(x, y uint64) uint64 { return x * y >> 16 }) }},
	0xE5: {"PMULHW", func(a, b uint64) uint64 {
		return lanes(a, b, 16, func(x, y uint64) uint64 { return uint64(int64(int16(x)) * int64(int16(y)) >> 16) })
	}},
	0xE8: {"PSUBSB", func(a, b uint64) uint64 { return lanes(a, b, 8, subs8) }},
	0xE9: {"PSUBSW", func(a, b uint64) uint64 { return lanes(a, b, 16, subs16) }},
	0xEA: {"PMINSW", func(a, b uint64) uint64 {
		return lanes(a, b, 16, func(x, y uint64) uint64 { return uint64(min(int16(x), int16(y))) })
	}},
	0xEB: {"POR", func(a, b uint64) uint64 { return a | b }},
	0xEC: {"PADDSB", func(a, b uint64) uint64 { return lanes(a, b, 8, adds8) }},
	0xED: {"PADDSW", func(a, b uint64) uint64 { return lanes(a, b, 16, adds16) }},
	0xEE: {"PMAXSW", func(a, b uint64) uint64 {
		return lanes(a, b, 16, func(x, y uint64) uint64 { return uint64(max(int16(x), int16(y))) })
	}},
	0xEF: {"PXOR", func(a, b uint64) uint64 { return a ^ b }},
	0xF4: {"PMULUDQ", func(a, b uint64) uint64 { return uint64(uint32(a)) * uint64(uint32(b)) }},
	0xF5: {"PMADDWD", func(a, b uint64) uint64 {
		return lanes(a, b, 32, func(x, y uint64) uint64 {
			return uint64(int32(int16(x))*int32(int16(y)) + int32(int16(x>>16))*int32(int16(y>>16)))
		})
	}},
	0xF6: {"PSADBW", psadbw},
	0xF8: {"PSUBB", func(a, b uint64) uint64 { return (a | hiBytes) - (b &^ hiBytes) ^ (a^^b)&hiBytes }},
	0xF9: {"PSUBW", func(a, b uint64) uint64 { return (a | hiWords) - (b &^ hiWords) ^ (a^^b)&hiWords }},
	0xFA: {"PSUBD", func(a, b uint64) uint64 { return (a | hiDords) - (b &^ hiDords) ^ (a^^b)&hiDords }},
	0xFB: {"PSUBQ", func(a, b uint64) uint64 { return a - b }},
	0xFC: {"PADDB", func(a, b uint64) uint64 { return (a&^hiBytes + b&^hiBytes) ^ (a^b)&hiBytes }},
	0xFD: {"PADDW", func(a, b uint64) uint64 { return (a&^hiWords + b&^hiWords) ^ (a^b)&hiWords }},
	0xFE: {"PADDD", func(a, b uint64) uint64 { return (a&^hiDords + b&^hiDords) ^ (a^b)&hiDords }},
}

// lanes applies f to each w-bit lane of a quadword; f sees the lanes
// zero-extended and its result is truncated to w bits.
func lanes(a, b uint64, w uint, f func(x, y uint64) uint64) uint64 {
	m := uint64(1)<<w - 1
	var r uint64
	for i := uint(0); i < 64; i += w {
		r |= f(a>>i&m, b>>i&m) & m << i
	}
	return r
}

// sx8 and sx16 sign-extend a lane.
func sx8(x uint64) int64  { return int64(int8(x)) }
func sx16(x uint64) int64 { return int64(int16(x)) }

func cmpeq(x, y uint64) uint64 { return cmpeqMask(x == y) }

// cmpgt compares signed lanes (the lanes arrive zero-extended).
func cmpgt8(x, y uint64) uint64  { return cmpeqMask(int8(x) > int8(y)) }
func cmpgt16(x, y uint64) uint64 { return cmpeqMask(int16(x) > int16(y)) }
func cmpgt32(x, y uint64) uint64 { return cmpeqMask(int32(x) > int32(y)) }

func cmpeqMask(t bool) uint64 {
	if t {
		return ^uint64(0)
	}
	return 0
}

func subus(x, y uint64) uint64 {
	if x < y {
		return 0
	}
	return x - y
}

func addus8(x, y uint64) uint64  { return min(x+y, 0xFF) }
func addus16(x, y uint64) uint64 { return min(x+y, 0xFFFF) }
func avg(x, y uint64) uint64     { return (x + y + 1) >> 1 }

func sat(v, lo, hi int64) uint64 { return uint64(min(max(v, lo), hi)) }

func adds8(x, y uint64) uint64  { return sat(sx8(x)+sx8(y), -128, 127) }
func subs8(x, y uint64) uint64  { return sat(sx8(x)-sx8(y), -128, 127) }
func adds16(x, y uint64) uint64 { return sat(sx16(x)+sx16(y), -32768, 32767) }
func subs16(x, y uint64) uint64 { return sat(sx16(x)-sx16(y), -32768, 32767) }

// pcmpeqb: a zero byte of a^b has its top bit clear after adding 0x7F to
// its low seven bits and or-ing the byte back in.
func pcmpeqb(a, b uint64) uint64 {
	x := a ^ b
	t := (x&^hiBytes + ^uint64(hiBytes)) | x
	return (^t & hiBytes >> 7) * 0xFF
}

func pminub(a, b uint64) uint64 {
	var r uint64
	for i := 0; i < 64; i += 8 {
		r |= uint64(min(uint8(a>>i), uint8(b>>i))) << i
	}
	return r
}

func pmaxub(a, b uint64) uint64 {
	var r uint64
	for i := 0; i < 64; i += 8 {
		r |= uint64(max(uint8(a>>i), uint8(b>>i))) << i
	}
	return r
}

// psadbw sums the absolute differences of the eight bytes into the low word.
func psadbw(a, b uint64) uint64 {
	var s uint64
	for i := 0; i < 64; i += 8 {
		x, y := uint8(a>>i), uint8(b>>i)
		s += uint64(max(x, y) - min(x, y))
	}
	return s
}

// pintOperands fetches the destination and source of an MMX (no prefix) or
// SSE2 (66) packed-integer instruction, after the checks of its class.
// half is the number of quadwords: 1 for MMX, 2 for XMM.
func (c *CPU) pintOperands(in *inst) (d, s xmm, half int) {
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		return xmm{c.getMM(in.reg)}, xmm{c.readQ(in)}, 1
	case formPD:
		c.sseCheck()
		return c.getX(in.reg), c.readW(in, true), 2
	}
	c.ud()
	return
}

func (c *CPU) pintStore(in *inst, d xmm, half int) {
	if half == 1 {
		c.setMM(in.reg, d[0])
	} else {
		c.setX(in.reg, d)
	}
}

// opPInt runs a lane-wise packed-integer operation.
func opPInt(c *CPU, in *inst) {
	f := pintOps[in.sub].fn
	d, s, n := c.pintOperands(in)
	for i := 0; i < n; i++ {
		d[i] = f(d[i], s[i])
	}
	c.pintStore(in, d, n)
}

var unpackNames = [16]string{0: "PUNPCKLBW", 1: "PUNPCKLWD", 2: "PUNPCKLDQ", 8: "PUNPCKHBW", 9: "PUNPCKHWD", 0xA: "PUNPCKHDQ", 0xC: "PUNPCKLQDQ", 0xD: "PUNPCKHQDQ"}

// interleave merges the w-bit lanes of a and b: a0 b0 a1 b1 …
func interleave(a, b uint32, w uint) uint64 {
	m := uint64(1)<<w - 1
	var r uint64
	for i, j := uint(0), uint(0); i < 32; i, j = i+w, j+2*w {
		r |= (uint64(a)>>i&m)<<j | (uint64(b)>>i&m)<<(j+w)
	}
	return r
}

// opPunpck: PUNPCKL/H BW, WD, DQ (MMX and SSE2) and PUNPCKL/HQDQ (SSE2).
// The MMX low forms read only 32 bits from memory.
func opPunpck(c *CPU, in *inst) {
	op := in.sub & 0xF
	w := uint(8) << (op & 3)
	high := op&8 != 0
	var d, s xmm
	n := 2
	switch sseForm(in) {
	case formPS:
		if op >= 0xC {
			c.ud()
		}
		c.mmxEnter()
		n = 1
		d[0] = c.getMM(in.reg)
		switch {
		case !in.mem:
			s[0] = c.getMM(in.rm)
		case high:
			s[0] = c.read64(int(in.seg), c.ea(in))
		default:
			s[0] = uint64(c.read32(int(in.seg), c.ea(in)))
		}
	case formPD:
		c.sseCheck()
		d, s = c.getX(in.reg), c.readW(in, true)
	default:
		c.ud()
	}
	var r xmm
	switch {
	case op == 0xC:
		r = xmm{d[0], s[0]}
	case op == 0xD:
		r = xmm{d[1], s[1]}
	case n == 1:
		a, b := d[0], s[0]
		if high {
			a, b = a>>32, b>>32
		}
		r[0] = interleave(uint32(a), uint32(b), w)
	default:
		a, b := d[0], s[0]
		if high {
			a, b = d[1], s[1]
		}
		r = xmm{interleave(uint32(a), uint32(b), w), interleave(uint32(a>>32), uint32(b>>32), w)}
	}
	c.pintStore(in, r, n)
}

// pack narrows the lanes of one quadword with saturation.
func pack(v uint64, op uint8) uint32 {
	var r uint32
	switch op {
	case 0x63: // PACKSSWB
		for i := 0; i < 4; i++ {
			r |= uint32(uint8(sat(int64(int16(v>>(16*i))), -128, 127))) << (8 * i)
		}
	case 0x67: // PACKUSWB
		for i := 0; i < 4; i++ {
			r |= uint32(uint8(sat(int64(int16(v>>(16*i))), 0, 255))) << (8 * i)
		}
	case 0x6B: // PACKSSDW
		for i := 0; i < 2; i++ {
			r |= uint32(uint16(sat(int64(int32(v>>(32*i))), -32768, 32767))) << (16 * i)
		}
	}
	return r
}

// opPack: PACKSSWB, PACKUSWB, PACKSSDW: the destination's lanes narrowed
// into the low half, the source's into the high half.
func opPack(c *CPU, in *inst) {
	d, s, n := c.pintOperands(in)
	if n == 1 {
		d[0] = uint64(pack(d[0], in.sub)) | uint64(pack(s[0], in.sub))<<32
	} else {
		d = xmm{
			uint64(pack(d[0], in.sub)) | uint64(pack(d[1], in.sub))<<32,
			uint64(pack(s[0], in.sub)) | uint64(pack(s[1], in.sub))<<32,
		}
	}
	c.pintStore(in, d, n)
}

var shiftOpNames = map[uint16]string{
	0xD1: "PSRLW", 0xD2: "PSRLD", 0xD3: "PSRLQ", 0xE1: "PSRAW", 0xE2: "PSRAD",
	0xF1: "PSLLW", 0xF2: "PSLLD", 0xF3: "PSLLQ",
}

func shiftImmName(sub uint8) string {
	switch sub {
	case 0x03:
		return "PSRLDQ U,Ib"
	case 0x07:
		return "PSLLDQ U,Ib"
	}
	return shiftOpNames[uint16(sub)] + " N/U,Ib"
}

// pshift shifts each lane of v by count; the lane width is in the opcode's
// low two bits (1 word, 2 doubleword, 3 quadword), the kind in its high
// nibble (D logical right, E arithmetic right, F left). Logical shifts by
// more than the lane width give zero, arithmetic ones fill with the sign.
func pshift(op uint8, v, count uint64) uint64 {
	w := uint64(8) << (op & 3)
	if count >= w {
		if op>>4 != 0xE {
			return 0
		}
		count = w - 1
	}
	m := uint64(1)<<w - 1
	if w == 64 {
		m = ^uint64(0)
	}
	var r uint64
	for i := uint64(0); i < 64; i += w {
		x := v >> i & m
		switch op >> 4 {
		case 0xD:
			x >>= count
		case 0xE:
			x = uint64(int64(x<<(64-w)) >> (64 - w) >> count)
		case 0xF:
			x <<= count
		}
		r |= x & m << i
	}
	return r
}

// opPShift: PSRLW/D/Q, PSRAW/D, PSLLW/D/Q by an mm/m64 or xmm/m128 count
// (its low quadword).
func opPShift(c *CPU, in *inst) {
	d, s, n := c.pintOperands(in)
	for i := 0; i < n; i++ {
		d[i] = pshift(in.sub, d[i], s[0])
	}
	c.pintStore(in, d, n)
}

// opPShiftImm: groups 12–14, shifts of an mm or xmm register (ModRM.rm) by
// imm8, and the byte shifts PSRLDQ/PSLLDQ (66 only).
func opPShiftImm(c *CPU, in *inst) {
	count := uint64(in.imm & 0xFF)
	switch sseForm(in) {
	case formPS:
		if in.sub == 0x03 || in.sub == 0x07 {
			c.ud()
		}
		c.mmxEnter()
		c.setMM(in.rm, pshift(in.sub, c.getMM(in.rm), count))
	case formPD:
		c.sseCheck()
		v := c.getX(in.rm)
		switch in.sub {
		case 0x03:
			v = bsrl(v, count)
		case 0x07:
			v = bsll(v, count)
		default:
			v = xmm{pshift(in.sub, v[0], count), pshift(in.sub, v[1], count)}
		}
		c.setX(in.rm, v)
	default:
		c.ud()
	}
}

// bsrl and bsll shift 128 bits by n bytes (PSRLDQ, PSLLDQ).
func bsrl(v xmm, n uint64) xmm {
	switch {
	case n >= 16:
		return xmm{}
	case n >= 8:
		return xmm{v[1] >> (8 * (n - 8)), 0}
	case n == 0:
		return v
	}
	return xmm{v[0]>>(8*n) | v[1]<<(64-8*n), v[1] >> (8 * n)}
}

func bsll(v xmm, n uint64) xmm {
	switch {
	case n >= 16:
		return xmm{}
	case n >= 8:
		return xmm{0, v[0] << (8 * (n - 8))}
	case n == 0:
		return v
	}
	return xmm{v[0] << (8 * n), v[1]<<(8*n) | v[0]>>(64-8*n)}
}
