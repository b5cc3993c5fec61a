package cpu

// FXSAVE, FXRSTOR and the rest of the 0F AE group (SDM Vol. 2A FXSAVE,
// FXRSTOR; Vol. 1 §10.5.1, Table 10-2). LDMXCSR and STMXCSR are here because
// they share the group row; MXCSR and the XMM registers are FPUState's.

import "encoding/binary"

// fxMXCSRMask is the MXCSR_MASK that FXSAVE reports: every MXCSR bit
// 0–15 is supported, DAZ included (SDM Vol. 1 §11.6.6).
const fxMXCSRMask = 0x0000FFFF

// fxImage returns the 512-byte FXSAVE image. The XMM registers and MXCSR
// are saved only with CR4.OSFXSR = 1, which the SDM allows and QEMU does.
// Bytes 10–15 of each ST slot and the reserved area are left as they are
// in memory (old holds them).
func (c *CPU) fxImage(old []byte) []byte {
	x := &c.x87
	le := binary.LittleEndian
	b := old
	le.PutUint16(b[0:], x.fpu.FCW)
	le.PutUint16(b[2:], x.fpu.FSW)
	b[4] = x.fpu.FTW
	b[5] = 0
	le.PutUint16(b[6:], x.fpu.FOP&0x7FF)
	le.PutUint64(b[8:], x.fpu.FIP)
	le.PutUint64(b[16:], x.fpu.FDP)
	for i := 0; i < 8; i++ {
		putF80(b[32+16*i:], x.get(i))
	}
	if c.CR4&CR4OSFXSR != 0 {
		le.PutUint32(b[24:], x.fpu.MXCSR)
		le.PutUint32(b[28:], fxMXCSRMask)
		n := 8
		if c.mode == mode64 {
			n = 16
		}
		for i := 0; i < n; i++ {
			copy(b[160+16*i:], x.fpu.XMM[i][:])
		}
	}
	return b
}

// fxCheck raises #NM (CR0.TS or CR0.EM) and #GP for a misaligned operand,
// and returns the operand's linear address.
func (c *CPU) fxCheck(in *inst) {
	if c.CR0&(CR0EM|CR0TS) != 0 {
		c.raise(ExcNM, 0, false)
	}
	if in.rep != 0 || in.p66 {
		c.ud()
	}
	if (c.Seg[in.seg].Base+c.ea(in))&15 != 0 {
		c.gp(0)
	}
}

func opFXSAVE(c *CPU, in *inst) {
	c.fxCheck(in)
	old := c.readBytes(in, 512)
	c.writeBytes(in, c.fxImage(old))
}

func opFXRSTOR(c *CPU, in *inst) {
	c.fxCheck(in)
	x := &c.x87
	le := binary.LittleEndian
	b := c.readBytes(in, 512)
	osfxsr := c.CR4&CR4OSFXSR != 0
	mxcsr := le.Uint32(b[24:])
	if osfxsr && mxcsr&^fxMXCSRMask != 0 {
		c.gp(0)
	}
	x.fpu.FCW = fcwLoad(le.Uint16(b[0:]))
	x.fpu.FSW = le.Uint16(b[2:])
	x.fpu.FTW = b[4]
	x.fpu.FOP = le.Uint16(b[6:]) & 0x7FF
	x.fpu.FIP = le.Uint64(b[8:])
	x.fpu.FDP = le.Uint64(b[16:])
	if c.mode != mode64 {
		x.fpu.FIP &= 0xFFFF_FFFFFFFF
		x.fpu.FDP &= 0xFFFF_FFFFFFFF
	}
	for i := 0; i < 8; i++ {
		copy(x.fpu.ST[i][:], b[32+16*i:32+16*i+10])
	}
	x.updateES()
	if osfxsr {
		x.fpu.MXCSR = mxcsr
		n := 8
		if c.mode == mode64 {
			n = 16
		}
		for i := 0; i < n; i++ {
			copy(x.fpu.XMM[i][:], b[160+16*i:])
		}
	}
}

// mxcsrCheck is LDMXCSR/STMXCSR's #UD (CR0.EM, CR4.OSFXSR = 0) and #NM (CR0.TS).
func (c *CPU) mxcsrCheck(in *inst) {
	if c.CR0&CR0EM != 0 || c.CR4&CR4OSFXSR == 0 || in.rep != 0 || in.p66 {
		c.ud()
	}
	if c.CR0&CR0TS != 0 {
		c.raise(ExcNM, 0, false)
	}
}

// opLDMXCSR: #GP(0) for reserved bits (SDM Vol. 2B LDMXCSR).
func opLDMXCSR(c *CPU, in *inst) {
	c.mxcsrCheck(in)
	v := c.read32(int(in.seg), c.ea(in))
	if v&^fxMXCSRMask != 0 {
		c.gp(0)
	}
	c.x87.fpu.MXCSR = v
}

func opSTMXCSR(c *CPU, in *inst) {
	c.mxcsrCheck(in)
	c.write32(int(in.seg), c.ea(in), c.x87.fpu.MXCSR)
}

// opFence is LFENCE, MFENCE, SFENCE: the interpreter runs one instruction
// at a time in order, so there is nothing to wait for.
func opFence(c *CPU, in *inst) {
	if in.rep != 0 || in.p66 {
		c.ud()
	}
}

// opSFENCEorCLFLUSH: 0F AE /7 is SFENCE with a register operand and
// CLFLUSH m8 with memory; CLFLUSH checks its operand like a byte read
// (segment and page faults) and does nothing else: there is no cache.
func opSFENCEorCLFLUSH(c *CPU, in *inst) {
	if in.rep != 0 || in.p66 {
		c.ud()
	}
	if in.mem {
		c.read8(int(in.seg), c.ea(in))
	}
}
