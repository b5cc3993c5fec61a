package cpu

// The x87 FPU (SDM Vol. 1 chapter 8): the register stack, control, status
// and tag words, exceptions, and the escape opcodes D8–DF. The arithmetic is
// float80.go's software extended precision; the instructions by family are
// in x87_*.go.
//
// Exceptions (SDM Vol. 1 §8.4–§8.7): a masked exception sets its flag and
// the instruction delivers the default result. An unmasked one sets its flag,
// ES and B; pre-computation exceptions (IE, DE, ZE) leave the destination and
// the stack unchanged, post-computation ones (OE, UE) store the bias-adjusted
// result to a register. The exception is reported on the *next* waiting x87
// instruction (or WAIT): #MF when CR0.NE = 1. With CR0.NE = 0 (the MS-DOS
// compatible FERR#/IGNNE# path, §8.7) gemu models no FERR# line: the
// exception stays pending in FSW.ES and the instruction runs.

// FPU status word bits (SDM Vol. 1 §8.1.3, Figure 8-4).
const (
	fswSF  = 1 << 6
	fswES  = 1 << 7
	fswC0  = 1 << 8
	fswC1  = 1 << 9
	fswC2  = 1 << 10
	fswC3  = 1 << 14
	fswB   = 1 << 15
	fswTop = 7 << 11
	fswCC  = fswC0 | fswC1 | fswC2 | fswC3
)

// featFXSR is CPUID.1:EDX bit 24, FXSAVE/FXRSTOR (SDM Vol. 2A Table 3-11).
const featFXSR = 1 << 24

// x87State is the FPU's state inside the CPU: FPUState is the only storage.
// The data registers are kept in fpu.ST in stack order (ST[i] = ST(i)), as
// FXSAVE and KVM's kvm_fpu store them and as the MMX code (mmx.go) reads
// them; a change of TOP rotates the array so that the physical registers
// keep their contents. FTW is the abridged tag word by physical register
// (bit i = Ri valid). FIP and FDP hold the offset in bits 0–31 and the
// selector in bits 32–47 outside 64-bit mode, as FXSAVE's 64-bit view of
// its image.
type x87State struct {
	fpu FPUState
}

func (x *x87State) top() int       { return int(x.fpu.FSW>>11) & 7 }
func (x *x87State) phys(i int) int { return (x.top() + i) & 7 }

// setTop changes TOP, rotating fpu.ST so that ST(i) stays physical register
// (TOP+i) mod 8.
func (x *x87State) setTop(t int) {
	if d := (t - x.top()) & 7; d != 0 {
		old := x.fpu.ST
		for i := range x.fpu.ST {
			x.fpu.ST[i] = old[(i+d)&7]
		}
	}
	x.fpu.FSW = x.fpu.FSW&^fswTop | uint16(t&7)<<11
}

// empty reports whether ST(i) is empty (tag 11b).
func (x *x87State) empty(i int) bool { return x.fpu.FTW>>x.phys(i)&1 == 0 }

func (x *x87State) get(i int) float80 { return getF80(x.fpu.ST[i&7][:]) }

func (x *x87State) set(i int, v float80) {
	putF80(x.fpu.ST[i&7][:], v)
	x.fpu.FTW |= 1 << x.phys(i)
}

func (x *x87State) push(v float80) {
	x.setTop(x.top() - 1)
	x.set(0, v)
}

func (x *x87State) pop() {
	x.fpu.FTW &^= 1 << x.phys(0)
	x.setTop(x.top() + 1)
}

// setCC sets C3, C2, C1, C0.
func (x *x87State) setCC(c3, c2, c1, c0 bool) {
	f := x.fpu.FSW &^ fswCC
	if c0 {
		f |= fswC0
	}
	if c1 {
		f |= fswC1
	}
	if c2 {
		f |= fswC2
	}
	if c3 {
		f |= fswC3
	}
	x.fpu.FSW = f
}

func (x *x87State) setC1(v bool) {
	x.fpu.FSW &^= fswC1
	if v {
		x.fpu.FSW |= fswC1
	}
}

// env is the rounding environment of FCW: RC, PC (00b single, 10b double,
// 11b extended; the reserved 01b as extended) and the masks (§8.1.5).
func (x *x87State) env() *fenv {
	fcw := x.fpu.FCW
	e := &fenv{rc: uint8(fcw>>10) & 3, prec: 64, mask: uint8(fcw) & feAll}
	switch fcw >> 8 & 3 {
	case 0:
		e.prec = 24
	case 2:
		e.prec = 53
	}
	return e
}

// updateES recomputes ES and B from the flags and masks (§8.1.3.1).
func (x *x87State) updateES() {
	if uint8(x.fpu.FSW)&^uint8(x.fpu.FCW)&feAll != 0 {
		x.fpu.FSW |= fswES | fswB
	} else {
		x.fpu.FSW &^= fswES | fswB
	}
}

// done merges the exceptions of env into FSW and sets C1 from the rounding
// (§8.1.3.3: C1 tells whether the last rounding was upward). It reports
// false when an unmasked pre-computation exception (IE, DE, ZE) forbids
// storing the result (§8.5.1–§8.5.3).
func (x *x87State) done(env *fenv) bool {
	fl := env.flags
	pre := fl & (feIE | feDE | feZE) &^ env.mask
	if pre != 0 {
		fl &= feIE | feDE | feZE
	}
	x.fpu.FSW |= uint16(fl)
	x.setC1(fl&fePE != 0 && env.up)
	if fl&^env.mask != 0 {
		x.fpu.FSW |= fswES | fswB
	}
	return pre == 0
}

// stackFault raises #IS (IE and SF; C1 = 1 on overflow, 0 on underflow,
// §8.5.1.1); it reports whether the exception is masked, in which case the
// instruction goes on with the real indefinite.
func (x *x87State) stackFault(overflow bool) bool {
	x.fpu.FSW |= feIE | fswSF
	x.setC1(overflow)
	if x.fpu.FCW&feIE == 0 {
		x.fpu.FSW |= fswES | fswB
		return false
	}
	return true
}

// x87Wait is the check of every waiting x87 instruction and of WAIT/FWAIT:
// a pending unmasked exception raises #MF when CR0.NE = 1 (SDM Vol. 1
// §8.6, Vol. 3A §6.15 "Interrupt 16"). opWAIT calls it after its #NM check.
func (c *CPU) x87Wait() {
	if c.x87.fpu.FSW&fswES != 0 && c.CR0&CR0NE != 0 {
		c.raise(ExcMF, 0, false)
	}
}

// fninit is FNINIT (SDM Vol. 2A FINIT/FNINIT): FCW 037Fh, FSW 0, all empty.
func (x *x87State) fninit() {
	x.setTop(0)
	x.fpu.FCW = 0x037F
	x.fpu.FSW = 0
	x.fpu.FTW = 0
	x.fpu.FOP = 0
	x.fpu.FIP = 0
	x.fpu.FDP = 0
}

// fullTag returns the 16-bit tag word (§8.1.7): 00 valid, 01 zero,
// 10 special (NaN, infinity, denormal, unsupported), 11 empty, by physical register.
func (x *x87State) fullTag() uint16 {
	var t uint16
	for p := 0; p < 8; p++ {
		var v uint16 = 3
		if x.fpu.FTW>>p&1 != 0 {
			switch x.get(p - x.top()).class() {
			case c80Normal:
				v = 0
			case c80Zero:
				v = 1
			default:
				v = 2
			}
		}
		t |= v << (2 * p)
	}
	return t
}

// setFullTag loads a 16-bit tag word: only "empty or not" is kept, the
// classes are derived from the registers (as FXSAVE's abridged form does).
func (x *x87State) setFullTag(t uint16) {
	x.fpu.FTW = 0
	for p := 0; p < 8; p++ {
		if t>>(2*p)&3 != 3 {
			x.fpu.FTW |= 1 << p
		}
	}
}

// putF80 and getF80 encode the 10-byte memory image (little-endian).
func putF80(b []byte, v float80) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v.m >> (8 * i))
	}
	b[8], b[9] = byte(v.se), byte(v.se>>8)
}

func getF80(b []byte) float80 {
	var v float80
	for i := 0; i < 8; i++ {
		v.m |= uint64(b[i]) << (8 * i)
	}
	v.se = uint16(b[8]) | uint16(b[9])<<8
	return v
}

// loadFPU and storeFPU move the x87/SSE state in and out of State.
func (c *CPU) loadFPU(s *FPUState) { c.x87.fpu = *s }

func (c *CPU) storeFPU(s *FPUState) { *s = c.x87.fpu }

// Escape dispatch. Each opcode D8–DF has 8 memory forms (ModRM.reg) and
// 64 register forms (ModRM bits 0–5).
type x87Op struct {
	name   string
	fn     handler
	nowait bool // FN* control instructions do not check pending exceptions
	ctrl   bool // control instructions do not update FIP, FDP, FOP (§8.1.8)
}

var (
	x87Mem [8][8]x87Op
	x87Reg [8][64]x87Op
)

// x87ESC runs one escape instruction (SDM Vol. 2A §A.4): #NM with CR0.EM or
// CR0.TS (Vol. 3A §2.5, Table 2-2), #UD for a reserved form, #MF for a
// pending exception unless the instruction does not wait; then the
// instruction pointers (§8.1.8) and the instruction itself.
func x87ESC(c *CPU, in *inst) {
	if c.CR0&(CR0EM|CR0TS) != 0 {
		c.raise(ExcNM, 0, false)
	}
	op := in.sub & 7
	var o *x87Op
	if in.mem {
		o = &x87Mem[op][in.reg&7]
	} else {
		o = &x87Reg[op][(in.reg&7)<<3|in.rm&7]
	}
	if o.fn == nil {
		c.ud()
	}
	if !o.nowait {
		c.x87Wait()
	}
	if !o.ctrl {
		c.x87Pointers(in, op)
	}
	o.fn(c, in)
}

// x87Pointers records FIP (CS:offset), FOP and, for memory operands,
// FDP (DS:offset) of a non-control instruction (SDM Vol. 1 §8.1.8, §8.1.9).
func (c *CPU) x87Pointers(in *inst, op uint8) {
	x := &c.x87
	modrm := uint16(in.reg&7) << 3
	if !in.mem {
		modrm |= 0xC0 | uint16(in.rm&7)
	}
	x.fpu.FOP = uint16(op)<<8 | modrm
	if c.mode == mode64 {
		x.fpu.FIP = in.eip
	} else {
		x.fpu.FIP = uint64(c.Seg[CS].Selector)<<32 | in.eip&0xFFFFFFFF
	}
	if in.mem {
		off := c.ea(in)
		if c.mode == mode64 {
			x.fpu.FDP = off
		} else {
			x.fpu.FDP = uint64(c.Seg[in.seg].Selector)<<32 | off&0xFFFFFFFF
		}
	}
}

// registerX87 installs the x87 rows of the opcode table, the 0F AE group
// (FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, fences, CLFLUSH) and the CPUID bits.
func registerX87() {
	names := [8]string{"ESC D8 (x87)", "ESC D9 (x87)", "ESC DA (x87)", "ESC DB (x87)", "ESC DC (x87)", "ESC DD (x87)", "ESC DE (x87)", "ESC DF (x87)"}
	for i := uint16(0); i < 8; i++ {
		row(0xD8+i, names[i], fModRM, x87ESC).sub = uint8(i)
	}
	registerX87Ops()
	groupRow(0x1AE, "Grp15", 0, [8]opDesc{
		{name: "FXSAVE M", flags: fModRM | fMemOnly, fn: opFXSAVE},
		{name: "FXRSTOR M", flags: fModRM | fMemOnly, fn: opFXRSTOR},
		{name: "LDMXCSR Md", flags: fModRM | fMemOnly, fn: opLDMXCSR},
		{name: "STMXCSR Md", flags: fModRM | fMemOnly, fn: opSTMXCSR},
		{},
		{name: "LFENCE", flags: fModRM | fRegOnly, fn: opFence},
		{name: "MFENCE", flags: fModRM | fRegOnly, fn: opFence},
		{name: "SFENCE/CLFLUSH", flags: fModRM, fn: opSFENCEorCLFLUSH},
	})
	Model.FeaturesEDX |= featFPU | featFXSR
}
