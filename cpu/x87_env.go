package cpu

// The x87 environment and state images: FSTENV/FLDENV and FSAVE/FRSTOR in
// their four layouts (SDM Vol. 1 §8.1.10, Figures 8-9 to 8-12: 16- and
// 32-bit operand size, protected and real/virtual-8086 mode).

import "encoding/binary"

// envImage returns the 14- or 28-byte environment image.
func (c *CPU) envImage(size uint8) []byte {
	x := &c.x87
	le := binary.LittleEndian
	fip, fcs := uint32(x.fpu.FIP), uint32(uint16(x.fpu.FIP>>32))
	fdp, fds := uint32(x.fpu.FDP), uint32(uint16(x.fpu.FDP>>32))
	fop := uint32(x.fpu.FOP & 0x7FF)
	real := !c.pmode && c.mode != mode64
	// Real and virtual-8086 mode store 20/32-bit linear pointers.
	lip, ldp := fip+fcs<<4, fdp+fds<<4
	if size == 2 {
		b := make([]byte, 14)
		le.PutUint16(b[0:], x.fpu.FCW)
		le.PutUint16(b[2:], x.fpu.FSW)
		le.PutUint16(b[4:], x.fullTag())
		if real {
			le.PutUint16(b[6:], uint16(lip))
			le.PutUint16(b[8:], uint16(lip>>16<<12|fop))
			le.PutUint16(b[10:], uint16(ldp))
			le.PutUint16(b[12:], uint16(ldp>>16<<12))
		} else {
			le.PutUint16(b[6:], uint16(fip))
			le.PutUint16(b[8:], uint16(fcs))
			le.PutUint16(b[10:], uint16(fdp))
			le.PutUint16(b[12:], uint16(fds))
		}
		return b
	}
	// The reserved upper halves read as ones on silicon (host x87 test).
	b := []byte{2: 0xFF, 3: 0xFF, 6: 0xFF, 7: 0xFF, 10: 0xFF, 11: 0xFF, 26: 0xFF, 27: 0xFF}
	b = append(b, make([]byte, 28-len(b))...)
	le.PutUint16(b[0:], x.fpu.FCW)
	le.PutUint16(b[4:], x.fpu.FSW)
	le.PutUint16(b[8:], x.fullTag())
	if real {
		le.PutUint16(b[12:], uint16(lip))
		le.PutUint32(b[16:], lip>>16<<12|fop)
		le.PutUint16(b[20:], uint16(ldp))
		le.PutUint32(b[24:], ldp>>16<<12)
	} else {
		le.PutUint32(b[12:], fip)
		le.PutUint32(b[16:], fcs|fop<<16)
		le.PutUint32(b[20:], fdp)
		le.PutUint16(b[24:], uint16(fds))
	}
	return b
}

// loadEnvImage loads an environment image (FLDENV, FRSTOR).
func (c *CPU) loadEnvImage(b []byte) {
	x := &c.x87
	le := binary.LittleEndian
	real := !c.pmode && c.mode != mode64
	var fcw, fsw, tag uint16
	var fip, fcs, fdp, fds, fop uint32
	if len(b) == 14 {
		fcw, fsw, tag = le.Uint16(b[0:]), le.Uint16(b[2:]), le.Uint16(b[4:])
		if real {
			fip = uint32(le.Uint16(b[6:])) | uint32(le.Uint16(b[8:])>>12)<<16
			fop = uint32(le.Uint16(b[8:]) & 0x7FF)
			fdp = uint32(le.Uint16(b[10:])) | uint32(le.Uint16(b[12:])>>12)<<16
		} else {
			fip, fcs = uint32(le.Uint16(b[6:])), uint32(le.Uint16(b[8:]))
			fdp, fds = uint32(le.Uint16(b[10:])), uint32(le.Uint16(b[12:]))
		}
	} else {
		fcw, fsw, tag = le.Uint16(b[0:]), le.Uint16(b[4:]), le.Uint16(b[8:])
		if real {
			fip = uint32(le.Uint16(b[12:])) | le.Uint32(b[16:])>>12<<16
			fop = le.Uint32(b[16:]) & 0x7FF
			fdp = uint32(le.Uint16(b[20:])) | le.Uint32(b[24:])>>12<<16
		} else {
			fip, fcs, fop = le.Uint32(b[12:]), le.Uint32(b[16:])&0xFFFF, le.Uint32(b[16:])>>16&0x7FF
			fdp, fds = le.Uint32(b[20:]), le.Uint32(b[24:])&0xFFFF
		}
	}
	x.fpu.FCW = fcwLoad(fcw)
	x.setTop(int(fsw>>11) & 7) // the physical registers stay
	x.fpu.FSW = fsw
	x.setFullTag(tag)
	x.fpu.FOP = uint16(fop)
	x.fpu.FIP = uint64(fcs)<<32 | uint64(fip)
	x.fpu.FDP = uint64(fds)<<32 | uint64(fdp)
	x.updateES()
}

func envSize(in *inst) int {
	if in.size == 2 {
		return 14
	}
	return 28
}

// writeBytes stores b at seg:off after checking the whole range.
func (c *CPU) writeBytes(in *inst, b []byte) {
	s, off := int(in.seg), c.ea(in)
	la := c.linW(s, off, uint64(len(b)))
	c.physW(la)
	c.physW(la + uint64(len(b)-1))
	for i, v := range b {
		c.write8(s, off+uint64(i), v)
	}
}

func (c *CPU) readBytes(in *inst, n int) []byte {
	s, off := int(in.seg), c.ea(in)
	c.linR(s, off, uint64(n))
	b := make([]byte, n)
	for i := range b {
		b[i] = c.read8(s, off+uint64(i))
	}
	return b
}

// opFNSTENV stores the environment, then masks all exceptions (SDM Vol. 2A FSTENV).
func opFNSTENV(c *CPU, in *inst) {
	c.writeBytes(in, c.envImage(in.size))
	c.x87.fpu.FCW |= feAll
	c.x87.updateES()
}

func opFLDENV(c *CPU, in *inst) {
	c.loadEnvImage(c.readBytes(in, envSize(in)))
}

// opFNSAVE stores the environment and ST(0)–ST(7), then initializes the FPU.
func opFNSAVE(c *CPU, in *inst) {
	x := &c.x87
	b := c.envImage(in.size)
	for i := 0; i < 8; i++ {
		var r [10]byte
		putF80(r[:], x.get(i))
		b = append(b, r[:]...)
	}
	c.writeBytes(in, b)
	x.fninit()
}

func opFRSTOR(c *CPU, in *inst) {
	x := &c.x87
	n := envSize(in)
	b := c.readBytes(in, n+80)
	c.loadEnvImage(b[:n])
	for i := 0; i < 8; i++ {
		copy(x.fpu.ST[i][:], b[n+10*i:n+10*i+10])
	}
}
