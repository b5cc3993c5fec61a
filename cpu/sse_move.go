package cpu

// Data movement, shuffles and masks of SSE/SSE2 and MMX (SDM Vol. 2: MOVAPS,
// MOVUPS, MOVSS, MOVSD, MOVLPS, MOVHPS, MOVD/MOVQ, MOVDQA/MOVDQU, PSHUF*,
// SHUFPS/PD, UNPCK*PS/PD, MOVMSKPS/PD, PMOVMSKB, PINSRW, PEXTRW, MOVNT*,
// MASKMOVQ/MASKMOVDQU).

// opMovLoad: 0F 10 MOVUPS, 66 MOVUPD, F3 MOVSS, F2 MOVSD (load direction).
// MOVSS/MOVSD zero the upper lanes when loading from memory and merge when
// moving between registers.
func opMovLoad(c *CPU, in *inst) {
	c.sseCheck()
	switch sseForm(in) {
	case formPS, formPD:
		c.setX(in.reg, c.readW(in, false))
	case formSS:
		if in.mem {
			c.setX(in.reg, xmm{uint64(c.readWd(in)), 0})
			return
		}
		d := c.getX(in.reg)
		d.setU32(0, uint32(c.getXLo(in.rm)))
		c.setX(in.reg, d)
	case formSD:
		if in.mem {
			c.setX(in.reg, xmm{c.readWq(in), 0})
			return
		}
		c.setXLo(in.reg, c.getXLo(in.rm))
	}
}

// opMovStore: 0F 11, the store direction (W ← V).
func opMovStore(c *CPU, in *inst) {
	c.sseCheck()
	v := c.getX(in.reg)
	switch sseForm(in) {
	case formPS, formPD:
		if in.mem {
			c.writeM128(in, v, false)
		} else {
			c.setX(in.rm, v)
		}
	case formSS:
		if in.mem {
			c.write32(int(in.seg), c.ea(in), v.u32(0))
			return
		}
		d := c.getX(in.rm)
		d.setU32(0, v.u32(0))
		c.setX(in.rm, d)
	case formSD:
		if in.mem {
			c.writeM64(in, v[0])
			return
		}
		c.setXLo(in.rm, v[0])
	}
}

// opMovLowLoad: 0F 12 MOVLPS V,Mq / MOVHLPS V,U; 66 MOVLPD V,Mq.
func opMovLowLoad(c *CPU, in *inst) {
	c.sseCheck()
	switch sseForm(in) {
	case formPS:
		if in.mem {
			c.setXLo(in.reg, c.readWq(in))
		} else {
			c.setXLo(in.reg, c.getXHi(in.rm))
		}
	case formPD:
		if !in.mem {
			c.ud()
		}
		c.setXLo(in.reg, c.readWq(in))
	default: // F3/F2: MOVSLDUP/MOVDDUP are SSE3
		c.ud()
	}
}

// opMovLowStore: 0F 13 MOVLPS Mq,V; 66 MOVLPD Mq,V.
func opMovLowStore(c *CPU, in *inst) {
	if in.rep != 0 {
		c.ud()
	}
	c.sseCheck()
	c.writeM64(in, c.getXLo(in.reg))
}

// opMovHighLoad: 0F 16 MOVHPS V,Mq / MOVLHPS V,U; 66 MOVHPD V,Mq.
func opMovHighLoad(c *CPU, in *inst) {
	c.sseCheck()
	switch sseForm(in) {
	case formPS:
		if in.mem {
			c.setXHi(in.reg, c.readWq(in))
		} else {
			c.setXHi(in.reg, c.getXLo(in.rm))
		}
	case formPD:
		if !in.mem {
			c.ud()
		}
		c.setXHi(in.reg, c.readWq(in))
	default: // F3: MOVSHDUP is SSE3
		c.ud()
	}
}

// opMovHighStore: 0F 17 MOVHPS Mq,V; 66 MOVHPD Mq,V.
func opMovHighStore(c *CPU, in *inst) {
	if in.rep != 0 {
		c.ud()
	}
	c.sseCheck()
	c.writeM64(in, c.getXHi(in.reg))
}

// opMovAligned: 0F 28/29 MOVAPS, 66 MOVAPD (sub 0 load, 1 store).
func opMovAligned(c *CPU, in *inst) {
	if in.rep != 0 {
		c.ud()
	}
	c.sseCheck()
	if in.sub == 0 {
		c.setX(in.reg, c.readW(in, true))
		return
	}
	if in.mem {
		c.writeM128(in, c.getX(in.reg), true)
	} else {
		c.setX(in.rm, c.getX(in.reg))
	}
}

// opMovNTPS: 0F 2B MOVNTPS, 66 MOVNTPD: a non-temporal hint, a plain aligned store here.
func opMovNTPS(c *CPU, in *inst) {
	if in.rep != 0 {
		c.ud()
	}
	c.sseCheck()
	c.writeM128(in, c.getX(in.reg), true)
}

// opMovmskFP: 0F 50 MOVMSKPS, 66 MOVMSKPD: the lanes' sign bits into a GPR.
func opMovmskFP(c *CPU, in *inst) {
	c.sseCheck()
	v := c.getX(in.rm)
	var m uint32
	switch sseForm(in) {
	case formPS:
		for i := 0; i < 4; i++ {
			m |= v.u32(i) >> 31 << i
		}
	case formPD:
		m = uint32(v[0]>>63 | v[1]>>63<<1)
	default:
		c.ud()
	}
	c.setReg(gprSize(in), in.reg, uint64(m))
}

// opLogicFP: ANDPS, ANDNPS, ORPS, XORPS and the PD forms (bitwise, 128 bits).
func opLogicFP(c *CPU, in *inst) {
	if in.rep != 0 {
		c.ud()
	}
	c.sseCheck()
	d, s := c.getX(in.reg), c.readW(in, true)
	for i := range d {
		switch in.sub {
		case 0:
			d[i] &= s[i]
		case 1:
			d[i] = ^d[i] & s[i]
		case 2:
			d[i] |= s[i]
		case 3:
			d[i] ^= s[i]
		}
	}
	c.setX(in.reg, d)
}

// opUnpckFP: UNPCKLPS/UNPCKLPD (sub 0), UNPCKHPS/UNPCKHPD (sub 1).
func opUnpckFP(c *CPU, in *inst) {
	if in.rep != 0 {
		c.ud()
	}
	c.sseCheck()
	d, s := c.getX(in.reg), c.readW(in, true)
	h := int(in.sub)
	if in.p66 {
		d = xmm{d[h], s[h]}
	} else {
		a, b := d[h], s[h]
		d = xmm{a&0xFFFFFFFF | b<<32, a>>32 | b&^0xFFFFFFFF}
	}
	c.setX(in.reg, d)
}

// opSHUFP: SHUFPS (two lanes of the destination, two of the source, by
// imm8 pairs) and SHUFPD (imm8 bits 0 and 1).
func opSHUFP(c *CPU, in *inst) {
	if in.rep != 0 {
		c.ud()
	}
	c.sseCheck()
	d, s := c.getX(in.reg), c.readW(in, true)
	imm := in.imm
	var r xmm
	if in.p66 {
		r = xmm{d[imm&1], s[imm>>1&1]}
	} else {
		r.setU32(0, d.u32(int(imm&3)))
		r.setU32(1, d.u32(int(imm>>2&3)))
		r.setU32(2, s.u32(int(imm>>4&3)))
		r.setU32(3, s.u32(int(imm>>6&3)))
	}
	c.setX(in.reg, r)
}

// opMovdLoad: 0F 6E MOVD mm,r/m32; 66 MOVD xmm,r/m32 (zero-extended);
// MOVQ from r/m64 with REX.W.
func opMovdLoad(c *CPU, in *inst) {
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		c.setMM(in.reg, c.readEy(in))
	case formPD:
		c.sseCheck()
		c.setX(in.reg, xmm{c.readEy(in), 0})
	default:
		c.ud()
	}
}

// opMovdStore: 0F 7E MOVD r/m32,mm; 66 MOVD r/m32,xmm (MOVQ r/m64 with
// REX.W); F3 MOVQ xmm,xmm/m64.
func opMovdStore(c *CPU, in *inst) {
	var v uint64
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		v = c.getMM(in.reg)
	case formPD:
		c.sseCheck()
		v = c.getXLo(in.reg)
	case formSS:
		c.sseCheck()
		c.setX(in.reg, xmm{c.readWq(in), 0})
		return
	default:
		c.ud()
	}
	c.writeEy(in, v)
}

// opMovqLoad: 0F 6F MOVQ mm,mm/m64; 66 MOVDQA; F3 MOVDQU.
func opMovqLoad(c *CPU, in *inst) {
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		c.setMM(in.reg, c.readQ(in))
	case formPD, formSS:
		c.sseCheck()
		c.setX(in.reg, c.readW(in, in.rep == 0))
	default:
		c.ud()
	}
}

// opMovqStore: 0F 7F MOVQ mm/m64,mm; 66 MOVDQA W,V; F3 MOVDQU W,V.
func opMovqStore(c *CPU, in *inst) {
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		v := c.getMM(in.reg)
		if in.mem {
			c.writeM64(in, v)
		} else {
			c.setMM(in.rm, v)
		}
	case formPD, formSS:
		c.sseCheck()
		v := c.getX(in.reg)
		if in.mem {
			c.writeM128(in, v, in.rep == 0)
		} else {
			c.setX(in.rm, v)
		}
	default:
		c.ud()
	}
}

// opMovqD6: 66 0F D6 MOVQ xmm/m64,xmm; F3 MOVQ2DQ xmm,mm; F2 MOVDQ2Q mm,xmm.
func opMovqD6(c *CPU, in *inst) {
	switch sseForm(in) {
	case formPD:
		c.sseCheck()
		v := c.getXLo(in.reg)
		if in.mem {
			c.writeM64(in, v)
		} else {
			c.setX(in.rm, xmm{v, 0})
		}
	case formSS:
		if in.mem {
			c.ud()
		}
		c.sseCheck()
		c.mmxEnter()
		c.setX(in.reg, xmm{c.getMM(in.rm), 0})
	case formSD:
		if in.mem {
			c.ud()
		}
		c.sseCheck()
		c.mmxEnter()
		c.setMM(in.reg, c.getXLo(in.rm))
	default:
		c.ud()
	}
}

// opMOVNTI: 0F C3 MOVNTI m32,r32 (m64,r64 with REX.W). It uses no vector
// state: no CR0/CR4 checks.
func opMOVNTI(c *CPU, in *inst) {
	if in.p66 || in.rep != 0 {
		c.ud()
	}
	c.writeEy(in, c.getReg(gprSize(in), in.reg))
}

// opMOVNTQ: 0F E7 MOVNTQ m64,mm; 66 MOVNTDQ m128,xmm (aligned).
func opMOVNTQ(c *CPU, in *inst) {
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		c.writeM64(in, c.getMM(in.reg))
	case formPD:
		c.sseCheck()
		c.writeM128(in, c.getX(in.reg), true)
	default:
		c.ud()
	}
}

// opMASKMOV: 0F F7 MASKMOVQ mm,mm; 66 MASKMOVDQU xmm,xmm: store the bytes of
// the first operand whose mask byte (second operand) has its top bit set, at
// DS:rDI (segment overridable). Bytes are stored one by one.
func opMASKMOV(c *CPU, in *inst) {
	var data, mask xmm
	n := 8
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		data[0], mask[0] = c.getMM(in.reg), c.getMM(in.rm)
	case formPD:
		c.sseCheck()
		data, mask = c.getX(in.reg), c.getX(in.rm)
		n = 16
	default:
		c.ud()
	}
	di := *in
	di.base, di.index, di.disp, di.scale = EDI, regNone, 0, 0
	off := c.ea(&di)
	s := int(in.seg)
	for i, a := 0, off; i < n; i, a = i+1, a+1 {
		sh := 8 * (i & 7)
		if mask[i>>3]>>sh&0x80 != 0 {
			c.write8(s, a, uint8(data[i>>3]>>sh))
		}
	}
}

// opPshuf: 0F 70 PSHUFW mm,mm/m64,imm8; 66 PSHUFD; F2 PSHUFLW; F3 PSHUFHW.
func opPshuf(c *CPU, in *inst) {
	imm := in.imm
	shuf4w := func(v uint64) uint64 { // four words of v by imm8
		var r uint64
		for i := 0; i < 4; i++ {
			r |= (v >> (16 * (imm >> (2 * i) & 3)) & 0xFFFF) << (16 * i)
		}
		return r
	}
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		c.setMM(in.reg, shuf4w(c.readQ(in)))
		return
	}
	c.sseCheck()
	s := c.readW(in, true)
	switch sseForm(in) {
	case formPD:
		var r xmm
		for i := 0; i < 4; i++ {
			r.setU32(i, s.u32(int(imm>>(2*i)&3)))
		}
		s = r
	case formSD:
		s[0] = shuf4w(s[0])
	case formSS:
		s[1] = shuf4w(s[1])
	}
	c.setX(in.reg, s)
}

// opPINSRW: 0F C4 PINSRW mm,r32/m16,imm8; 66 PINSRW xmm,r32/m16,imm8.
func opPINSRW(c *CPU, in *inst) {
	var w uint64
	read := func() {
		if in.mem {
			w = uint64(c.read16(int(in.seg), c.ea(in)))
		} else {
			w = uint64(uint16(c.getReg(4, in.rm)))
		}
	}
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		read()
		sh := 16 * (in.imm & 3)
		c.setMM(in.reg, c.getMM(in.reg)&^(0xFFFF<<sh)|w<<sh)
	case formPD:
		c.sseCheck()
		read()
		d := c.getX(in.reg)
		h, sh := in.imm>>2&1, 16*(in.imm&3)
		d[h] = d[h]&^(0xFFFF<<sh) | w<<sh
		c.setX(in.reg, d)
	default:
		c.ud()
	}
}

// opPEXTRW: 0F C5 PEXTRW r32,mm,imm8; 66 PEXTRW r32,xmm,imm8 (zero-extended).
func opPEXTRW(c *CPU, in *inst) {
	var v uint64
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		v = c.getMM(in.rm) >> (16 * (in.imm & 3))
	case formPD:
		c.sseCheck()
		v = c.getX(in.rm)[in.imm>>2&1] >> (16 * (in.imm & 3))
	default:
		c.ud()
	}
	c.setReg(gprSize(in), in.reg, uint64(uint16(v)))
}

// movmskb gathers the top bit of each byte of v.
func movmskb(v uint64) uint32 {
	return uint32((v & 0x8080808080808080) * 0x0002040810204081 >> 56)
}

// opPMOVMSKB: 0F D7 PMOVMSKB r32,mm; 66 PMOVMSKB r32,xmm.
func opPMOVMSKB(c *CPU, in *inst) {
	var m uint32
	switch sseForm(in) {
	case formPS:
		c.mmxEnter()
		m = movmskb(c.getMM(in.rm))
	case formPD:
		c.sseCheck()
		v := c.getX(in.rm)
		m = movmskb(v[0]) | movmskb(v[1])<<8
	default:
		c.ud()
	}
	c.setReg(gprSize(in), in.reg, uint64(m))
}
