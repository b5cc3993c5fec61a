package cpu

import "encoding/binary"

// SSE and SSE2 (SDM Vol. 1 chapters 10 and 11) and MMX (chapter 9). The
// XMM registers and MXCSR live in the FPU state (FPUState, owned by the x87
// unit); the MMX registers alias the x87 registers (mmx.go). Files:
//   sse.go       state access, #UD/#NM checks, operand fetch, the opcode rows
//   sse_fp.go    IEEE arithmetic with MXCSR rounding, DAZ/FTZ and exact flags
//   sse_float.go floating-point instructions (arithmetic, compares, conversions)
//   sse_int.go   packed-integer instructions (MMX and SSE2 forms)
//   sse_move.go  moves, shuffles, unpacks, masks
//   mmx.go       MMX register aliasing, EMMS, the x87-to-MMX transition

// CR4 bits that enable SSE (SDM Vol. 3A §2.5).
const (
	CR4OSFXSR     = 1 << 9  // FXSAVE/FXRSTOR and SSE instructions enabled
	CR4OSXMMEXCPT = 1 << 10 // unmasked SIMD FP exceptions raise #XM, not #UD
)

// CPUID leaf 1 EDX bits of the vector units (SDM Vol. 2A CPUID, Table 3-11).
const (
	featMMX  = 1 << 23
	featSSE  = 1 << 25
	featSSE2 = 1 << 26
)

// sseState is the SSE unit's scratch inside the CPU; its architectural
// registers are in c.x87.fpu (FPUState.XMM, FPUState.MXCSR).
type sseState struct {
	env fpEnv // the current instruction's MXCSR environment and flags
}

// xmm is a 128-bit value as two little-endian quadwords.
type xmm [2]uint64

func (v xmm) u32(i int) uint32 { return uint32(v[i>>1] >> (32 * (i & 1))) }

func (v *xmm) setU32(i int, x uint32) {
	sh := 32 * (i & 1)
	v[i>>1] = v[i>>1]&^(0xFFFFFFFF<<sh) | uint64(x)<<sh
}

func (c *CPU) getX(r uint8) xmm {
	x := &c.x87.fpu.XMM[r]
	return xmm{binary.LittleEndian.Uint64(x[0:]), binary.LittleEndian.Uint64(x[8:])}
}

func (c *CPU) setX(r uint8, v xmm) {
	x := &c.x87.fpu.XMM[r]
	binary.LittleEndian.PutUint64(x[0:], v[0])
	binary.LittleEndian.PutUint64(x[8:], v[1])
}

func (c *CPU) getXLo(r uint8) uint64 { return binary.LittleEndian.Uint64(c.x87.fpu.XMM[r][0:]) }

func (c *CPU) setXLo(r uint8, v uint64) { binary.LittleEndian.PutUint64(c.x87.fpu.XMM[r][0:], v) }

func (c *CPU) setXHi(r uint8, v uint64) { binary.LittleEndian.PutUint64(c.x87.fpu.XMM[r][8:], v) }

func (c *CPU) getXHi(r uint8) uint64 { return binary.LittleEndian.Uint64(c.x87.fpu.XMM[r][8:]) }

// sseCheck raises the exceptions of an SSE/SSE2 instruction before its
// operands are touched: #UD if CR0.EM=1 or CR4.OSFXSR=0, #NM if CR0.TS=1
// (SDM Vol. 3A §13.1.3 and Table 13-1; Vol. 2A §2.5, exception class 4).
func (c *CPU) sseCheck() {
	if c.CR0&(CR0EM|CR0TS) != 0 || c.CR4&CR4OSFXSR == 0 {
		if c.CR0&CR0EM != 0 || c.CR4&CR4OSFXSR == 0 {
			c.ud()
		}
		c.raise(ExcNM, 0, false)
	}
}

// Forms selected by the mandatory prefix (SDM Vol. 2A §2.1.2: F2/F3 win over 66).
const (
	formPS = iota // no prefix: packed single, or MMX
	formPD        // 66
	formSS        // F3
	formSD        // F2
)

func sseForm(in *inst) int {
	switch {
	case in.rep == prefF3:
		return formSS
	case in.rep == prefF2:
		return formSD
	case in.p66:
		return formPD
	}
	return formPS
}

// Memory operands. Legacy SSE 128-bit operands must be 16-byte aligned
// except for the unaligned moves (SDM Vol. 1 §11.6.8; #GP(0) otherwise).

// readM128 reads a 16-byte memory operand.
func (c *CPU) readM128(in *inst, aligned bool) xmm {
	s := int(in.seg)
	off := c.ea(in)
	la := c.linR(s, off, 16)
	if aligned && la&15 != 0 {
		c.gp(0)
	}
	return xmm{c.read64(s, off), c.read64(s, off+8)}
}

// writeM128 writes a 16-byte memory operand; every byte is checked (limit and
// paging) before the first is written, so a fault leaves memory unchanged.
func (c *CPU) writeM128(in *inst, v xmm, aligned bool) {
	s := int(in.seg)
	off := c.ea(in)
	la := c.linW(s, off, 16)
	if aligned && la&15 != 0 {
		c.gp(0)
	}
	if la&0xFFF > 0xFF0 {
		c.physW(la + 15)
	}
	c.write64(s, off, v[0])
	c.write64(s, off+8, v[1])
}

// writeM64 writes 8 bytes with both pages checked first.
func (c *CPU) writeM64(in *inst, v uint64) {
	s := int(in.seg)
	off := c.ea(in)
	la := c.linW(s, off, 8)
	if la&0xFFF > 0xFF8 {
		c.physW(la + 7)
	}
	c.write64(s, off, v)
}

// readW reads the xmm/m128 operand.
func (c *CPU) readW(in *inst, aligned bool) xmm {
	if in.mem {
		return c.readM128(in, aligned)
	}
	return c.getX(in.rm)
}

// readWq reads the low quadword of an xmm/m64 operand.
func (c *CPU) readWq(in *inst) uint64 {
	if in.mem {
		return c.read64(int(in.seg), c.ea(in))
	}
	return c.getXLo(in.rm)
}

// readWd reads the low doubleword of an xmm/m32 operand.
func (c *CPU) readWd(in *inst) uint32 {
	if in.mem {
		return c.read32(int(in.seg), c.ea(in))
	}
	return uint32(c.getXLo(in.rm))
}

// gprSize is the size of a general-register operand of a vector
// instruction (Ey/Gy: 64 bits with REX.W, else 32; a 66h prefix is a
// mandatory prefix here, not an operand-size override).
func gprSize(in *inst) uint8 {
	if in.size == 8 {
		return 8
	}
	return 4
}

// readEy reads an r/m32 or r/m64 operand (MOVD/MOVQ, CVTSI2SS…), zero-extended.
func (c *CPU) readEy(in *inst) uint64 {
	if in.mem {
		if gprSize(in) == 8 {
			return c.read64(int(in.seg), c.ea(in))
		}
		return uint64(c.read32(int(in.seg), c.ea(in)))
	}
	return c.getReg(gprSize(in), in.rm)
}

// readEyInt reads Ey as a signed integer.
func (c *CPU) readEyInt(in *inst) int64 {
	v := c.readEy(in)
	if gprSize(in) == 4 {
		return int64(int32(v))
	}
	return int64(v)
}

// writeEy writes an r/m32 or r/m64 operand.
func (c *CPU) writeEy(in *inst, v uint64) {
	switch {
	case !in.mem:
		c.setReg(gprSize(in), in.rm, v)
	case gprSize(in) == 8:
		c.writeM64(in, v)
	default:
		c.write32(int(in.seg), c.ea(in), uint32(v))
	}
}

// sseRow installs a 0F-map row whose handler dispatches on the prefix.
func sseRow(op uint16, name string, flags opFlags, fn handler) *opDesc {
	return row(0x100|op, name, fModRM|flags, fn)
}

// registerSSE installs the MMX, SSE and SSE2 rows of the opcode table
// (SDM Vol. 2D Appendix A, Table A-3, the 0F map) and reports the units in CPUID.
func registerSSE() {
	// Moves (sse_move.go).
	sseRow(0x10, "MOVUPS/MOVUPD/MOVSS/MOVSD V,W", 0, opMovLoad)
	sseRow(0x11, "MOVUPS/MOVUPD/MOVSS/MOVSD W,V", 0, opMovStore)
	sseRow(0x12, "MOVLPS/MOVHLPS/MOVLPD V,W", 0, opMovLowLoad)
	sseRow(0x13, "MOVLPS/MOVLPD M,V", fMemOnly, opMovLowStore)
	sseRow(0x14, "UNPCKLPS/UNPCKLPD V,W", 0, opUnpckFP).sub = 0
	sseRow(0x15, "UNPCKHPS/UNPCKHPD V,W", 0, opUnpckFP).sub = 1
	sseRow(0x16, "MOVHPS/MOVLHPS/MOVHPD V,W", 0, opMovHighLoad)
	sseRow(0x17, "MOVHPS/MOVHPD M,V", fMemOnly, opMovHighStore)
	sseRow(0x28, "MOVAPS/MOVAPD V,W", 0, opMovAligned).sub = 0
	sseRow(0x29, "MOVAPS/MOVAPD W,V", 0, opMovAligned).sub = 1
	sseRow(0x2B, "MOVNTPS/MOVNTPD M,V", fMemOnly, opMovNTPS)
	sseRow(0x50, "MOVMSKPS/MOVMSKPD Gd,U", fRegOnly, opMovmskFP)
	sseRow(0x54, "ANDPS/ANDPD V,W", 0, opLogicFP).sub = 0
	sseRow(0x55, "ANDNPS/ANDNPD V,W", 0, opLogicFP).sub = 1
	sseRow(0x56, "ORPS/ORPD V,W", 0, opLogicFP).sub = 2
	sseRow(0x57, "XORPS/XORPD V,W", 0, opLogicFP).sub = 3
	sseRow(0x6E, "MOVD P/V,Ey", 0, opMovdLoad)
	sseRow(0x6F, "MOVQ/MOVDQA/MOVDQU P/V,Q/W", 0, opMovqLoad)
	sseRow(0x70, "PSHUFW/PSHUFD/PSHUFHW/PSHUFLW", fImm8, opPshuf)
	sseRow(0x7E, "MOVD Ey,P/V / MOVQ V,W", 0, opMovdStore)
	sseRow(0x7F, "MOVQ/MOVDQA/MOVDQU Q/W,P/V", 0, opMovqStore)
	sseRow(0xC3, "MOVNTI My,Gy", fMemOnly, opMOVNTI)
	sseRow(0xC4, "PINSRW P/V,Ry/Mw,Ib", fImm8, opPINSRW)
	sseRow(0xC5, "PEXTRW Gd,N/U,Ib", fImm8|fRegOnly, opPEXTRW)
	sseRow(0xC6, "SHUFPS/SHUFPD V,W,Ib", fImm8, opSHUFP)
	sseRow(0xD6, "MOVQ W,V / MOVQ2DQ / MOVDQ2Q", 0, opMovqD6)
	sseRow(0xD7, "PMOVMSKB Gd,N/U", fRegOnly, opPMOVMSKB)
	sseRow(0xE7, "MOVNTQ/MOVNTDQ M,P/V", fMemOnly, opMOVNTQ)
	sseRow(0xF7, "MASKMOVQ/MASKMOVDQU", fRegOnly, opMASKMOV)
	row(0x177, "EMMS", 0, opEMMS)

	// Floating point (sse_float.go).
	for op, name := range map[uint16]string{0x51: "SQRT", 0x58: "ADD", 0x59: "MUL", 0x5C: "SUB", 0x5D: "MIN", 0x5E: "DIV", 0x5F: "MAX"} {
		sseRow(op, name+"PS/PD/SS/SD V,W", 0, opFPArith).sub = uint8(op)
	}
	sseRow(0x52, "RSQRTPS/RSQRTSS V,W", 0, opRcp).sub = 1
	sseRow(0x53, "RCPPS/RCPSS V,W", 0, opRcp).sub = 0
	sseRow(0xC2, "CMPPS/CMPPD/CMPSS/CMPSD V,W,Ib", fImm8, opCMPP)
	sseRow(0x2E, "UCOMISS/UCOMISD V,W", 0, opCOMIS).sub = 0
	sseRow(0x2F, "COMISS/COMISD V,W", 0, opCOMIS).sub = 1
	sseRow(0x2A, "CVTPI2PS/CVTPI2PD/CVTSI2SS/CVTSI2SD", 0, opCvt2A)
	sseRow(0x2C, "CVTTPS2PI/CVTTPD2PI/CVTTSS2SI/CVTTSD2SI", 0, opCvt2D).sub = 1
	sseRow(0x2D, "CVTPS2PI/CVTPD2PI/CVTSS2SI/CVTSD2SI", 0, opCvt2D).sub = 0
	sseRow(0x5A, "CVTPS2PD/CVTPD2PS/CVTSS2SD/CVTSD2SS", 0, opCvt5A)
	sseRow(0x5B, "CVTDQ2PS/CVTPS2DQ/CVTTPS2DQ", 0, opCvt5B)
	sseRow(0xE6, "CVTTPD2DQ/CVTDQ2PD/CVTPD2DQ", 0, opCvtE6)

	// Packed integers (sse_int.go): lane-wise operations on 64-bit chunks.
	for op, f := range pintOps {
		if f.fn != nil {
			sseRow(uint16(op), f.name, 0, opPInt).sub = uint8(op)
		}
	}
	for _, op := range []uint16{0x60, 0x61, 0x62, 0x68, 0x69, 0x6A, 0x6C, 0x6D} {
		sseRow(op, unpackNames[op&0xF], 0, opPunpck).sub = uint8(op)
	}
	sseRow(0x63, "PACKSSWB", 0, opPack).sub = 0x63
	sseRow(0x67, "PACKUSWB", 0, opPack).sub = 0x67
	sseRow(0x6B, "PACKSSDW", 0, opPack).sub = 0x6B
	for _, op := range []uint16{0xD1, 0xD2, 0xD3, 0xE1, 0xE2, 0xF1, 0xF2, 0xF3} {
		sseRow(op, shiftOpNames[op], 0, opPShift).sub = uint8(op)
	}
	// Groups 12–14: shifts by an immediate, ModRM.reg selects (Table A-6).
	for i, op := range []uint16{0x71, 0x72, 0x73} {
		var g [8]opDesc
		base := [3]uint8{0xD1, 0xD2, 0xD3}[i] // the by-register opcode of the same shift, low byte
		for reg := 2; reg <= 7; reg++ {
			var sub uint8
			switch reg {
			case 2: // PSRL
				sub = base
			case 4: // PSRA (no PSRAQ)
				if i == 2 {
					continue
				}
				sub = base + 0x10
			case 6: // PSLL
				sub = base + 0x20
			case 3: // PSRLDQ (66 only)
				if i != 2 {
					continue
				}
				sub = 0x03
			case 7: // PSLLDQ (66 only)
				if i != 2 {
					continue
				}
				sub = 0x07
			default:
				continue
			}
			g[reg] = opDesc{name: shiftImmName(sub), flags: fModRM | fRegOnly | fImm8, fn: opPShiftImm, sub: sub}
		}
		groupRow(0x100|op, [3]string{"Grp12", "Grp13", "Grp14"}[i], fImm8, g)
	}

	Model.FeaturesEDX |= featMMX | featSSE | featSSE2
}
