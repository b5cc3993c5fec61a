package hostexec

import "fmt"

// The generator emits 32-, 16- (66h) and 8-bit forms of unprivileged integer
// instructions whose encoding means the same in 32-bit protected mode and in
// 64-bit mode: no REX (so 40–4Fh INC/DEC and 82h are never used, and byte
// registers 4–7 are AH, CH, DH, BH in both), no 67h, no moffs, no
// ModRM mod=00 rm=101 (RIP-relative in 64-bit mode). ESP and BaseReg are
// never operands; memory operands are [ebp+disp8], [ebp+disp32] or the
// SIB form of those, inside the scratch area.
//
// Generate64 makes cases for 64-bit mode only (Case.Mode 64): the same
// families with REX as well, see gen64.go.

// Source gives the generator its choices.
type Source interface{ Uint64() uint64 }

// Inst is one generated instruction and its effect on the status flags.
type Inst struct {
	Bytes []byte
	Name  string // the form in the SDM's notation and the operand size: "SHLD Ev,Gv,CL/16"
	Reads uint32 // flags it reads (the generator never lets it read an undefined one)
	Defs  uint32 // flags it leaves defined
	Undef uint32 // flags it may leave undefined
	// HiUndef has a bit per register whose bits 63:32 it leaves vendor-
	// dependent in 64-bit mode.
	HiUndef uint16
}

// Undefined returns the flags that may be undefined after insts, starting
// from a state in which the flags u are undefined.
func Undefined(u uint32, insts []Inst) uint32 {
	for _, in := range insts {
		u = u&^in.Defs | in.Undef
	}
	return u
}

// Generate makes a random case of 1–8 instructions (a shift or bit test
// whose count or offset is loaded just before counts as one) that means
// the same in 32-bit protected mode and in 64-bit mode.
func Generate(src Source) *Case { return (&gen{src: src}).generate() }

func (g *gen) generate() *Case {
	fs := forms
	if g.x64 {
		fs = forms64
	}
	want := 1 + g.n(8)
	var u uint32
	for i := 0; i < want; i++ {
		for tries := 0; tries <= 50; tries++ {
			mark := len(g.out)
			g.rx, g.wrap = rexState{}, [2][]byte{}
			fs[g.n(len(fs))](g)
			if uu, ok := readsDefined(u, g.out[mark:]); ok {
				u = uu
				break
			}
			// Reading an undefined flag: try another form. A fuzzer's
			// input can make every try the same; then there is one
			// instruction fewer.
			g.out = g.out[:mark]
		}
	}
	c := &Case{Insts: g.out, Undef: u}
	for _, in := range g.out {
		c.Code = append(c.Code, in.Bytes...)
		c.HiUndef |= in.HiUndef
	}
	nregs := 8
	if g.x64 {
		nregs, c.Mode = 16, 64
	}
	for r := range nregs {
		if g.x64 && g.n(8) == 0 {
			c.Regs.GPR[r] = specials64[g.n(len(specials64))]
			continue
		}
		c.Regs.GPR[r] = uint64(g.hi())<<32 | uint64(g.value())
	}
	c.Regs.GPR[RSP] = 0
	c.Regs.GPR[BaseReg] = BaseOff
	c.Regs.Flags = uint64(g.byte()) & (CF | PF | AF | ZF | SF)
	if g.n(2) == 0 {
		c.Regs.Flags |= OF
	}
	if g.n(4) == 0 {
		c.Regs.Flags |= DF
	}
	c.MemSeed = g.wide()<<32 | g.wide()
	c.Mem = FillMem(c.MemSeed)
	return c
}

// readsDefined reports whether no instruction of insts reads a flag that is
// undefined at that point, and the undefined flags after them.
func readsDefined(u uint32, insts []Inst) (uint32, bool) {
	ok := true
	for _, in := range insts {
		if in.Reads&u != 0 {
			ok = false
		}
		u = u&^in.Defs | in.Undef
	}
	return u, ok
}

// FillMem returns the scratch area's initial contents for seed (splitmix64).
func FillMem(seed uint64) []byte {
	m := make([]byte, MemSize)
	s := seed
	for i := 0; i < len(m); i += 8 {
		v := splitmix(&s)
		for j := 0; j < 8; j++ {
			m[i+j] = byte(v >> (8 * j))
		}
	}
	return m
}

func splitmix(s *uint64) uint64 {
	*s += 0x9E3779B97F4A7C15
	z := *s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// BytesSource draws one choice per byte of data, then continues from a
// generator seeded with data, so that a fuzzer's mutations map onto choices.
func BytesSource(data []byte) Source {
	s := uint64(len(data))
	for _, b := range data {
		s = s*0x100000001B3 ^ uint64(b)
	}
	return &byteSource{data: data, s: s}
}

type byteSource struct {
	data []byte
	s    uint64
}

func (b *byteSource) Uint64() uint64 {
	if len(b.data) > 0 {
		v := b.data[0]
		b.data = b.data[1:]
		return uint64(v)
	}
	return splitmix(&b.s)
}

type gen struct {
	src Source
	out []Inst
	x64 bool // Generate64: REX forms too

	// The instruction being built (64-bit mode): what its REX prefix must
	// be, and code to run just before and after it (wrap, see mem64).
	rx   rexState
	wrap [2][]byte
}

func (g *gen) n(k int) int { return int(g.src.Uint64() % uint64(k)) }
func (g *gen) byte() byte  { return byte(g.src.Uint64()) }
func (g *gen) wide() uint64 {
	return uint64(g.byte()) | uint64(g.byte())<<8 | uint64(g.byte())<<16 | uint64(g.byte())<<24
}

// big returns a number in [0, k) for k above 256.
func (g *gen) big(k int) int { return int(g.wide() % uint64(k)) }

var specials = []uint32{0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
	0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFF80, 0xFFFF8000, 0xFFFFFFFE, 31, 32, 33, 15, 16, 17}

// value returns a register or immediate value with the edge cases weighted.
func (g *gen) value() uint32 {
	switch g.n(8) {
	case 0, 1:
		return specials[g.n(len(specials))]
	case 2:
		return uint32(g.n(64))
	case 3:
		return -uint32(g.n(64))
	}
	return uint32(g.wide())
}

// hi returns a register's upper half, which 32-bit results must not depend on.
func (g *gen) hi() uint32 {
	switch g.n(4) {
	case 0:
		return 0
	case 1:
		return 0xFFFFFFFF
	}
	return uint32(g.wide())
}

// imm encodes v in size bytes.
func imm(v uint32, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// sizes and their names.
func (g *gen) size() int {
	if g.x64 {
		return g.need64([...]int{1, 2, 4, 4, 8, 8}[g.n(6)])
	}
	return [...]int{1, 2, 4, 4}[g.n(4)]
}
func (g *gen) sizev() int {
	if g.x64 {
		return g.need64([...]int{2, 4, 4, 8, 8}[g.n(5)])
	}
	if g.n(4) == 0 {
		return 2
	}
	return 4
}

// immSize is the size of an Iz immediate: 64-bit forms take 32 bits,
// sign-extended.
func immSize(size int) int { return min(size, 4) }
func bits(size int) string { return fmt.Sprint("/", size*8) }

// wordRegs are the registers a 16/32-bit operand may name.
var wordRegs = []byte{RAX, RCX, RDX, RBX, RSI, RDI}

func (g *gen) reg(size int) byte {
	if g.x64 {
		return g.reg64(size, false)
	}
	if size == 1 {
		return byte(g.n(8)) // AL CL DL BL AH CH DH BH
	}
	return wordRegs[g.n(len(wordRegs))]
}

// ea picks an offset into the scratch area for an access of size bytes (≤ 8),
// half the time among the first 64 bytes so that accesses overlap.
func (g *gen) ea(size int) int {
	if g.n(2) == 0 {
		return g.n(64)
	}
	return g.big(MemSize - size + 1)
}

// regS is reg for an operand the instruction only reads: in 64-bit mode
// it may be BPL, whose value (the low byte of the scratch address, 80h) is
// the same on both sides.
func (g *gen) regS(size int) byte {
	if g.x64 {
		return g.reg64(size, true)
	}
	return g.reg(size)
}

// mem encodes the ModRM (and SIB and displacement) of a memory operand at
// offset off into the scratch area, with reg in ModRM.reg.
func (g *gen) mem(reg byte, off int) []byte {
	if g.x64 {
		return g.mem64(reg, off)
	}
	disp := off - BaseOff
	sib := g.n(4) == 0
	rm := byte(5)
	if sib {
		rm = 4
	}
	var b []byte
	if disp >= -128 && disp < 128 && g.n(4) != 0 {
		b = []byte{1<<6 | reg<<3 | rm}
		if sib {
			b = append(b, byte(g.n(4))<<6|4<<3|5) // no index, any scale, base EBP
		}
		return append(b, byte(int8(disp)))
	}
	b = []byte{2<<6 | reg<<3 | rm}
	if sib {
		b = append(b, byte(g.n(4))<<6|4<<3|5)
	}
	return append(b, imm(uint32(int32(disp)), 4)...)
}

// rm encodes an r/m operand of size bytes: a register, or memory when memOK.
func (g *gen) rm(reg byte, size int, memOK bool) (b []byte, isMem bool) {
	return g.rmx(reg, size, memOK, false)
}

// rmS is rm for an operand the instruction only reads.
func (g *gen) rmS(reg byte, size int, memOK bool) (b []byte, isMem bool) {
	return g.rmx(reg, size, memOK, true)
}

func (g *gen) rmx(reg byte, size int, memOK, src bool) (b []byte, isMem bool) {
	if memOK && g.n(2) == 0 {
		return g.mem(reg, g.ea(size)), true
	}
	if g.x64 {
		r := g.reg64(size, src)
		g.rexRM(reg, r)
		return []byte{3<<6 | (reg&7)<<3 | r&7}, false
	}
	return []byte{3<<6 | reg<<3 | g.reg(size)}, false
}

// prefixes returns the prefixes of an instruction: 66h for 16 bits, maybe a
// segment override that means nothing here (ES SS DS: flat in protected
// mode, ignored in 64-bit mode; not CS, read-only in protected mode) on
// memory forms, and LOCK when asked for.
func (g *gen) prefixes(size int, isMem, lock bool) []byte {
	var p []byte
	if size == 2 {
		p = append(p, 0x66)
	}
	if isMem && g.n(16) == 0 {
		seg := []byte{0x26, 0x36, 0x3E}[g.n(3)]
		p = append(p, seg)
		if g.n(2) == 0 {
			p[0], p[len(p)-1] = p[len(p)-1], p[0]
		}
	}
	if lock && g.n(4) == 0 {
		p = append([]byte{0xF0}, p...)
	}
	if g.x64 {
		p = g.rexPrefix(p, size)
	}
	return p
}

// emit appends an instruction, wrapped in g.wrap.
func (g *gen) emit(name string, reads, defs, undef uint32, parts ...[]byte) {
	var in []byte
	for _, p := range parts {
		in = append(in, p...)
	}
	if g.x64 {
		in = trim15(in)
	}
	b := append(append(append([]byte(nil), g.wrap[0]...), in...), g.wrap[1]...)
	g.wrap = [2][]byte{}
	g.out = append(g.out, Inst{Bytes: b, Name: name, Reads: reads, Defs: defs, Undef: undef})
}

// plain appends an instruction that leaves the flags alone, outside g.wrap.
func (g *gen) plain(name string, b []byte) {
	g.out = append(g.out, Inst{Bytes: b, Name: name})
}

func op(b ...byte) []byte { return b }

// Flag effects (SDM Vol. 2 "Flags Affected" of each instruction).
const (
	logicDefs  = CF | OF | SF | ZF | PF // AND OR XOR TEST; AF undefined
	incDefs    = OF | SF | ZF | AF | PF // INC DEC: CF unchanged
	mulDefs    = CF | OF                // MUL IMUL: SF ZF AF PF undefined
	mulUndef   = SF | ZF | AF | PF
	btUndef    = OF | SF | AF | PF // BT*: ZF unchanged
	bsUndef    = CF | OF | SF | AF | PF
	sahfFlags  = SF | ZF | AF | PF | CF
	noneFlags  = 0
	allFlags   = Arith
	cfFlag     = CF
	undefLogic = AF
)

var aluNames = [8]string{"ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"}

func aluFlags(op int) (reads, defs, undef uint32) {
	switch op {
	case 1, 4, 6:
		return 0, logicDefs, undefLogic
	case 2, 3:
		return CF, allFlags, 0
	}
	return 0, allFlags, 0
}

// condReads are the flags each condition code tests (SDM Vol. 1 Table B-1).
var condReads = [8]uint32{OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF}
var condNames = [16]string{"O", "NO", "B", "AE", "E", "NE", "BE", "A", "S", "NS", "P", "NP", "L", "GE", "LE", "G"}

// shiftCounts weights the edges of the masked count and of the operand sizes.
var shiftCounts = []byte{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255}

func (g *gen) count() byte {
	if g.n(2) == 0 {
		return shiftCounts[g.n(len(shiftCounts))]
	}
	return g.byte()
}

var shiftNames = [8]string{"ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAL", "SAR"}

// shiftFlags is the flag effect of group-2 operation op on size bytes by
// count, if known (SDM Vol. 2B RCL/RCR/ROL/ROR and SAL/SAR/SHL/SHR): no
// change for a masked count of 0; OF defined only for 1; AF undefined; CF
// undefined for SHL/SHR by the operand size or more.
func shiftFlags(op, size int, count byte, known bool) (reads, defs, undef uint32) {
	if op == 2 || op == 3 {
		reads = CF
	}
	shl := op == 4 || op == 5 || op == 6
	if !known {
		undef = OF
		if op >= 4 {
			undef |= AF
			if shl && size < 4 {
				undef |= CF
			}
		}
		return
	}
	c := int(count & countMask(size))
	if c == 0 {
		return
	}
	defs = CF
	if op >= 4 {
		defs, undef = CF|SF|ZF|PF, AF
		if shl && c >= size*8 {
			defs, undef = defs&^CF, undef|CF
		}
	}
	if c == 1 {
		defs |= OF
	} else {
		undef |= OF
	}
	return
}

// countMask masks shift counts: 6 bits with 64-bit operands, else 5.
func countMask(size int) byte {
	if size == 8 {
		return 63
	}
	return 31
}

// shldFlags is the flag effect of SHLD/SHRD by a masked count (≤ the operand
// size: more leaves the result undefined, and the generator avoids it).
func shldFlags(count byte, size int) (defs, undef uint32) {
	c := count & countMask(size)
	if c == 0 {
		return 0, 0
	}
	defs, undef = CF|SF|ZF|PF, AF
	if c == 1 {
		defs |= OF
	} else {
		undef |= OF
	}
	return
}

// movCL loads a shift count into CL (MOV CL, imm8).
func (g *gen) movCL(c byte) { g.plain("MOV CL,Ib", op(0xB1, c)) }

// forms are the instruction families; a family may appear more than once
// to weight it.
var forms = []func(g *gen){
	(*gen).aluEG, (*gen).aluEG, (*gen).aluGE, (*gen).aluAcc, (*gen).aluImm, (*gen).aluImm,
	(*gen).test, (*gen).incDec, (*gen).negNot, (*gen).mul, (*gen).imul,
	(*gen).shift, (*gen).shift, (*gen).shift, (*gen).shld, (*gen).shld,
	(*gen).bt, (*gen).bsf, (*gen).bswap, (*gen).xchg, (*gen).xadd, (*gen).cmpxchg, (*gen).cmpxchg8b,
	(*gen).movx, (*gen).mov, (*gen).lea, (*gen).setcc, (*gen).cmovcc,
	(*gen).convert, (*gen).flagOps, (*gen).nop,
}

func (g *gen) aluEG() {
	o, size := g.n(8), g.size()
	r, f := g.regS(size), byte(o*8+1)
	if size == 1 {
		f--
	}
	e, m := g.rmx(r, size, true, o == 7)
	rd, df, un := aluFlags(o)
	kind := "Ev,Gv"
	if size == 1 {
		kind = "Eb,Gb"
	}
	g.emit(aluNames[o]+" "+kind+bits(size), rd, df, un, g.prefixes(size, m, m && o != 7), op(f), e)
}

func (g *gen) aluGE() {
	o, size := g.n(8), g.size()
	var r byte
	if o == 7 {
		r = g.regS(size)
	} else {
		r = g.reg(size)
	}
	f := byte(o*8 + 3)
	if size == 1 {
		f--
	}
	e, m := g.rmS(r, size, true)
	rd, df, un := aluFlags(o)
	g.emit(aluNames[o]+" Gv,Ev"+bits(size), rd, df, un, g.prefixes(size, m, false), op(f), e)
}

func (g *gen) aluAcc() {
	o, size := g.n(8), g.size()
	f := byte(o*8 + 5)
	if size == 1 {
		f--
	}
	rd, df, un := aluFlags(o)
	g.emit(aluNames[o]+" eAX,Iz"+bits(size), rd, df, un, g.prefixes(size, false, false), op(f), imm(g.value(), immSize(size)))
}

func (g *gen) aluImm() {
	o, size := g.n(8), g.size()
	e, m := g.rmx(byte(o), size, true, o == 7)
	rd, df, un := aluFlags(o)
	p := g.prefixes(size, m, m && o != 7)
	switch {
	case size == 1:
		g.emit(aluNames[o]+" Eb,Ib", rd, df, un, p, op(0x80), e, imm(g.value(), 1))
	case g.n(2) == 0:
		g.emit(aluNames[o]+" Ev,Ib"+bits(size), rd, df, un, p, op(0x83), e, imm(g.value(), 1))
	default:
		g.emit(aluNames[o]+" Ev,Iz"+bits(size), rd, df, un, p, op(0x81), e, imm(g.value(), immSize(size)))
	}
}

func (g *gen) test() {
	size := g.size()
	w := byte(1)
	if size == 1 {
		w = 0
	}
	switch g.n(3) {
	case 0:
		e, m := g.rmS(g.regS(size), size, true)
		g.emit("TEST Ev,Gv"+bits(size), 0, logicDefs, undefLogic, g.prefixes(size, m, false), op(0x84+w), e)
	case 1:
		g.emit("TEST eAX,Iz"+bits(size), 0, logicDefs, undefLogic, g.prefixes(size, false, false), op(0xA8+w), imm(g.value(), immSize(size)))
	default:
		e, m := g.rmS(0, size, true)
		g.emit("TEST Ev,Iz"+bits(size), 0, logicDefs, undefLogic, g.prefixes(size, m, false), op(0xF6+w), e, imm(g.value(), immSize(size)))
	}
}

func (g *gen) incDec() {
	size, o := g.size(), g.n(2)
	e, m := g.rm(byte(o), size, true)
	f := byte(0xFF)
	if size == 1 {
		f = 0xFE
	}
	g.emit([]string{"INC", "DEC"}[o]+" Ev"+bits(size), 0, incDefs, 0, g.prefixes(size, m, m), op(f), e)
}

func (g *gen) negNot() {
	size, o := g.size(), 2+g.n(2)
	e, m := g.rm(byte(o), size, true)
	f := byte(0xF7)
	if size == 1 {
		f = 0xF6
	}
	var defs uint32
	if o == 3 {
		defs = allFlags
	}
	g.emit([]string{"NOT", "NEG"}[o-2]+" Ev"+bits(size), 0, defs, 0, g.prefixes(size, m, m), op(f), e)
}

// mul is MUL and IMUL with one operand (F6/F7 /4 /5); DIV and IDIV are
// left out: #DE would kill the process.
func (g *gen) mul() {
	size, o := g.size(), 4+g.n(2)
	e, m := g.rmS(byte(o), size, true)
	f := byte(0xF7)
	if size == 1 {
		f = 0xF6
	}
	g.emit([]string{"MUL", "IMUL"}[o-4]+" Ev"+bits(size), 0, mulDefs, mulUndef, g.prefixes(size, m, false), op(f), e)
}

func (g *gen) imul() {
	size := g.sizev()
	e, m := g.rmS(g.reg(size), size, true)
	p := g.prefixes(size, m, false)
	switch g.n(3) {
	case 0:
		g.emit("IMUL Gv,Ev"+bits(size), 0, mulDefs, mulUndef, p, op(0x0F, 0xAF), e)
	case 1:
		g.emit("IMUL Gv,Ev,Ib"+bits(size), 0, mulDefs, mulUndef, p, op(0x6B), e, imm(g.value(), 1))
	default:
		g.emit("IMUL Gv,Ev,Iz"+bits(size), 0, mulDefs, mulUndef, p, op(0x69), e, imm(g.value(), immSize(size)))
	}
}

// shift is group 2 (C0/C1 by imm8, D0/D1 by 1, D2/D3 by CL), /6 included:
// it is SHL on both vendors' parts.
func (g *gen) shift() {
	size, o := g.size(), g.n(8)
	w := byte(1)
	if size == 1 {
		w = 0
	}
	e, m := g.rm(byte(o), size, true)
	p := g.prefixes(size, m, false)
	name := shiftNames[o]
	if o == 6 {
		name = "SAL(/6)"
	}
	switch g.n(4) {
	case 0:
		c := g.count()
		rd, df, un := shiftFlags(o, size, c, true)
		g.emit(name+" Ev,Ib"+bits(size), rd, df, un, p, op(0xC0+w), e, op(c))
	case 1:
		rd, df, un := shiftFlags(o, size, 1, true)
		g.emit(name+" Ev,1"+bits(size), rd, df, un, p, op(0xD0+w), e)
	case 2:
		rd, df, un := shiftFlags(o, size, 0, false)
		g.emit(name+" Ev,CL"+bits(size), rd, df, un, p, op(0xD2+w), e)
	default:
		c := g.count()
		g.movCL(c)
		rd, df, un := shiftFlags(o, size, c, true)
		g.emit(name+" Ev,CL"+bits(size), rd, df, un, p, op(0xD2+w), e)
	}
}

// shld is SHLD/SHRD by imm8 or by CL (loaded just before). 16-bit counts
// stay within 0–16 after masking: above, the result is undefined.
func (g *gen) shld() {
	size := g.sizev()
	c := g.count()
	if size == 2 {
		c = byte(g.n(17)) + 32*byte(g.n(8))
	}
	e, m := g.rm(g.regS(size), size, true)
	p := g.prefixes(size, m, false)
	dir := g.n(2)
	name := []string{"SHLD", "SHRD"}[dir]
	f := byte(0xA4 + 8*dir)
	df, un := shldFlags(c, size)
	if g.n(2) == 0 {
		g.emit(name+" Ev,Gv,Ib"+bits(size), 0, df, un, p, op(0x0F, f), e, op(c))
		return
	}
	g.movCL(c)
	g.emit(name+" Ev,Gv,CL"+bits(size), 0, df, un, p, op(0x0F, f+1), e)
}

var btNames = [4]string{"BT", "BTS", "BTR", "BTC"}

// bt is BT/BTS/BTR/BTC by imm8 (memory or register) or by a register: on
// a register, or on memory with the offset loaded just before (MOV r, imm32;
// with a 64-bit operand REX.W C7 /0, sign-extended) so that the bit string
// stays in the scratch area.
func (g *gen) bt() {
	size, o := g.sizev(), g.n(4)
	lock := o != 0
	switch g.n(3) {
	case 0:
		e, m := g.rmx(byte(4+o), size, true, o == 0)
		g.emit(btNames[o]+" Ev,Ib"+bits(size), 0, CF, btUndef, g.prefixes(size, m, m && lock), op(0x0F, 0xBA), e, op(g.count()))
	case 1:
		e, _ := g.rmx(g.regS(size), size, false, o == 0)
		g.emit(btNames[o]+" Ev,Gv"+bits(size), 0, CF, btUndef, g.prefixes(size, false, false), op(0x0F, 0xA3+8*byte(o)), e)
	default:
		// The bit offset, signed, moves the access by size*floor(off/(8*size)).
		r := g.reg(size)
		off := int32(g.n(256)) - 96
		g.plain(movImmName(r, size), movImm(r, size, off))
		e := g.mem(r, 64+g.n(512))
		g.emit(btNames[o]+" Ev,Gv"+bits(size)+" mem", 0, CF, btUndef, g.prefixes(size, true, lock), op(0x0F, 0xA3+8*byte(o)), e)
	}
}

// movImm loads v into register r: MOV r32, imm32 (B8+r), or for a 64-bit
// operand MOV r/m64, imm32 (REX.W C7 /0), sign-extended.
func movImm(r byte, size int, v int32) []byte {
	if size == 8 {
		return append([]byte{0x48 | r>>3, 0xC7, 0xC0 | r&7}, imm(uint32(v), 4)...)
	}
	var b []byte
	if r >= 8 {
		b = append(b, 0x41)
	}
	return append(append(b, 0xB8+r&7), imm(uint32(v), 4)...)
}

func movImmName(r byte, size int) string {
	if size == 8 {
		return "MOV Ev,Iz/64"
	}
	return "MOV Gv,Iz/32"
}

// bsf is BSF/BSR (never F3h: that is TZCNT/LZCNT). A zero source leaves the
// destination unchanged: AMD documents it and Intel parts do it.
func (g *gen) bsf() {
	size, o := g.sizev(), g.n(2)
	e, m := g.rmS(g.reg(size), size, true)
	g.emit([]string{"BSF", "BSR"}[o]+" Gv,Ev"+bits(size), 0, ZF, bsUndef, g.prefixes(size, m, false), op(0x0F, 0xBC+byte(o)), e)
}

// bswap is BSWAP r32 or, in 64-bit mode, r64 (REX.W); never with 66h,
// whose result is undefined.
func (g *gen) bswap() {
	if g.x64 {
		size := g.need64(4 + 4*g.n(2))
		r := g.opReg(g.reg(size))
		g.emit("BSWAP r"+bits(size), 0, 0, 0, g.prefixes(size, false, false), op(0x0F, 0xC8+r))
		return
	}
	g.emit("BSWAP r32", 0, 0, 0, op(0x0F, 0xC8+g.reg(4)))
}

// xchg is XCHG Ev,Gv and XCHG eAX,r (90+r, never 90 itself: that is NOP;
// in 64-bit mode REX.B 90 is XCHG R8).
func (g *gen) xchg() {
	size := g.size()
	if size != 1 && g.n(3) == 0 {
		var r byte
		if g.x64 {
			r = g.opReg(x64Regs[1+g.n(len(x64Regs)-1)])
		} else {
			r = wordRegs[1+g.n(len(wordRegs)-1)]
		}
		g.emit("XCHG eAX,r"+bits(size), 0, 0, 0, g.prefixes(size, false, false), op(0x90+r))
		return
	}
	e, m := g.rm(g.reg(size), size, true)
	f := byte(0x87)
	if size == 1 {
		f = 0x86
	}
	g.emit("XCHG Ev,Gv"+bits(size), 0, 0, 0, g.prefixes(size, m, m), op(f), e)
}

func (g *gen) xadd() {
	size := g.size()
	e, m := g.rm(g.reg(size), size, true)
	f := byte(0xC1)
	if size == 1 {
		f = 0xC0
	}
	g.emit("XADD Ev,Gv"+bits(size), 0, allFlags, 0, g.prefixes(size, m, m), op(0x0F, f), e)
}

func (g *gen) cmpxchg() {
	size := g.size()
	e, m := g.rm(g.regS(size), size, true)
	rm := e[0] & 7
	if g.rx.bits&rexB != 0 {
		rm += 8
	}
	f := byte(0xB1)
	if size == 1 {
		f = 0xB0
	}
	// A failed compare writes the destination back on Intel (SDM: DEST ←
	// TEMP, zero-extending) but not on AMD (APM). The 64-bit generator's
	// instructions read upper halves, so there MOV r32, r32 follows in the
	// same Inst and zero-extends either way.
	if g.x64 && size == 4 && !m {
		g.wrap[1] = []byte{0x89, 0xC0 | (rm&7)<<3 | rm&7}
		if rm >= 8 {
			g.wrap[1] = append([]byte{0x40 | rexR | rexB}, g.wrap[1]...)
		}
	}
	g.emit("CMPXCHG Ev,Gv"+bits(size), 0, allFlags, 0, g.prefixes(size, m, m), op(0x0F, f), e)
	if !g.x64 && size == 4 && !m {
		g.out[len(g.out)-1].HiUndef = 1 << rm
	}
}

// cmpxchg8b is CMPXCHG8B m64 (0F C7 /1, memory only: a register is #UD)
// and, in 64-bit mode, CMPXCHG16B m128 (REX.W; #GP unless 16-byte aligned).
func (g *gen) cmpxchg8b() {
	if g.x64 && g.n(2) == 0 {
		g.rx.no66 = true
		off := 16 * g.n(4)
		if g.n(2) == 0 {
			off = 16 * g.n(MemSize/16)
		}
		e := g.mem(1, off)
		g.emit("CMPXCHG16B Mdq", 0, ZF, 0, g.prefixes(g.need64(8), true, true), op(0x0F, 0xC7), e)
		return
	}
	e := g.mem(1, g.ea(8))
	g.emit("CMPXCHG8B Mq", 0, ZF, 0, g.prefixes(4, true, true), op(0x0F, 0xC7), e)
}

func (g *gen) movx() {
	o := g.n(4) // B6 MOVZX Gv,Eb; B7 MOVZX Gd,Ew; BE MOVSX Gv,Eb; BF MOVSX Gd,Ew
	f := []byte{0xB6, 0xB7, 0xBE, 0xBF}[o]
	src := 1 + o&1
	size := 4
	if src == 1 {
		size = g.sizev()
	} else if g.x64 && g.n(2) == 0 {
		size = g.need64(8)
	}
	e, m := g.rmS(g.reg(size), src, true)
	name := []string{"MOVZX Gv,Eb", "MOVZX Gv,Ew", "MOVSX Gv,Eb", "MOVSX Gv,Ew"}[o]
	g.emit(name+bits(size), 0, 0, 0, g.prefixes(size, m, false), op(0x0F, f), e)
}

func (g *gen) mov() {
	size := g.size()
	w := byte(1)
	if size == 1 {
		w = 0
	}
	switch g.n(4) {
	case 0:
		e, m := g.rm(g.regS(size), size, true)
		g.emit("MOV Ev,Gv"+bits(size), 0, 0, 0, g.prefixes(size, m, false), op(0x88+w), e)
	case 1:
		e, m := g.rmS(g.reg(size), size, true)
		g.emit("MOV Gv,Ev"+bits(size), 0, 0, 0, g.prefixes(size, m, false), op(0x8A+w), e)
	case 2:
		e, m := g.rm(0, size, true)
		g.emit("MOV Ev,Iz"+bits(size), 0, 0, 0, g.prefixes(size, m, false), op(0xC6+w), e, imm(g.value(), immSize(size)))
	default:
		r := g.reg(size)
		if g.x64 {
			r = g.opReg(r)
		}
		p := g.prefixes(size, false, false)
		if size == 8 { // REX.W B8+r: the one 64-bit immediate
			v := g.value64()
			g.emit("MOV r,Iv/64", 0, 0, 0, p, op(0xB8+r), imm(uint32(v), 4), imm(uint32(v>>32), 4))
			return
		}
		g.emit("MOV r,Iz"+bits(size), 0, 0, 0, p, op(0xB0+8*w+r), imm(g.value(), size))
	}
}

// lea computes an address from the general registers (never EBP, whose
// value differs between the host and the interpreter, nor ESP); the low 32
// bits are the same whether the address size is 32 or 64.
func (g *gen) lea() {
	if g.x64 {
		g.lea64()
		return
	}
	size := g.sizev()
	r := g.reg(size)
	mod := byte(g.n(3))
	var b []byte
	if g.n(2) == 0 { // no SIB
		b = []byte{mod<<6 | r<<3 | g.reg(4)}
	} else {
		index := byte(4) // none
		if g.n(4) != 0 {
			index = g.reg(4)
		}
		base := g.reg(4)
		if mod == 0 && g.n(4) == 0 {
			base = 5 // disp32, no base
		}
		b = []byte{mod<<6 | r<<3 | 4, byte(g.n(4))<<6 | index<<3 | base}
		if mod == 0 && base == 5 {
			b = append(b, imm(g.value(), 4)...)
		}
	}
	switch mod {
	case 1:
		b = append(b, g.byte())
	case 2:
		b = append(b, imm(g.value(), 4)...)
	}
	g.emit("LEA Gv,M"+bits(size), 0, 0, 0, g.prefixes(size, false, false), op(0x8D), b)
}

func (g *gen) setcc() {
	cc := byte(g.n(16))
	e, m := g.rm(0, 1, true)
	g.emit("SET"+condNames[cc]+" Eb", condReads[cc/2], 0, 0, g.prefixes(1, m, false), op(0x0F, 0x90+cc), e)
}

func (g *gen) cmovcc() {
	cc, size := byte(g.n(16)), g.sizev()
	e, m := g.rmS(g.reg(size), size, true)
	g.emit("CMOV"+condNames[cc]+" Gv,Ev"+bits(size), condReads[cc/2], 0, 0, g.prefixes(size, m, false), op(0x0F, 0x40+cc), e)
}

func (g *gen) convert() {
	if g.x64 { // 98: CBW CWDE CDQE; 99: CWD CDQ CQO
		o, k := g.n(2), g.n(3)
		size := g.need64([]int{2, 4, 8}[k])
		name := [2][3]string{{"CBW", "CWDE", "CDQE"}, {"CWD", "CDQ", "CQO"}}[o][k]
		g.emit(name, 0, 0, 0, g.prefixes(size, false, false), op(0x98+byte(o)))
		return
	}
	switch g.n(4) {
	case 0:
		g.emit("CBW", 0, 0, 0, op(0x66, 0x98))
	case 1:
		g.emit("CWDE", 0, 0, 0, op(0x98))
	case 2:
		g.emit("CWD", 0, 0, 0, op(0x66, 0x99))
	default:
		g.emit("CDQ", 0, 0, 0, op(0x99))
	}
}

// flagOps are LAHF (the CPU has LAHF-SAHF in 64-bit mode: CPUID
// 8000_0001h ECX bit 0), SAHF, CLC, STC, CMC, CLD and STD. In 64-bit mode
// they may carry a REX prefix, which changes nothing (LAHF and SAHF name
// AH, not SPL).
func (g *gen) flagOps() {
	var p []byte
	if g.x64 {
		p = g.prefixes(4, false, false)
	}
	switch g.n(7) {
	case 0:
		g.emit("LAHF", sahfFlags, 0, 0, p, op(0x9F))
	case 1:
		g.emit("SAHF", 0, sahfFlags, 0, p, op(0x9E))
	case 2:
		g.emit("CLC", 0, cfFlag, 0, p, op(0xF8))
	case 3:
		g.emit("STC", 0, cfFlag, 0, p, op(0xF9))
	case 4:
		g.emit("CMC", cfFlag, cfFlag, 0, p, op(0xF5))
	case 5:
		g.emit("CLD", 0, noneFlags, 0, p, op(0xFC))
	default:
		g.emit("STD", 0, noneFlags, 0, p, op(0xFD))
	}
}

// nop is 90 (never with REX.B: that is XCHG R8) and NOP Ev (0F 1F /0).
func (g *gen) nop() {
	if g.n(2) == 0 {
		g.emit("NOP", 0, 0, 0, op(0x90))
		return
	}
	size := g.sizev()
	e, m := g.rmS(0, size, true)
	g.emit("NOP Ev"+bits(size), 0, 0, 0, g.prefixes(size, m, false), op(0x0F, 0x1F), e)
}
