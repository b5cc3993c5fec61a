package cpu

import "encoding/binary"

// MMX registers alias the x87 registers (SDM Vol. 1 §9.5): MMi is the
// significand (bits 0–63) of physical register Ri. Every MMX instruction but
// EMMS sets TOP to 0 and tags all registers valid, and a write to MMi sets
// bits 64–79 of Ri (sign and exponent) to all ones (Table 9-2). FPUState.ST
// is kept in stack order (ST(i) = ST[i]); with TOP = 0 that is physical order.

// mmxEnter does the x87-to-MMX transition and the checks that precede an
// MMX instruction: #UD if CR0.EM=1, #NM if CR0.TS=1, #MF if an unmasked x87
// exception is pending and CR0.NE=1 (SDM Vol. 3A §13.1.2; Vol. 2, exception
// class 22-1).
func (c *CPU) mmxEnter() {
	if c.CR0&(CR0EM|CR0TS) != 0 {
		if c.CR0&CR0EM != 0 {
			c.ud()
		}
		c.raise(ExcNM, 0, false)
	}
	if c.x87.fpu.FSW&fswES != 0 && c.CR0&CR0NE != 0 {
		c.raise(ExcMF, 0, false)
	}
	c.x87.setTop(0) // rotates fpu.ST: the physical registers keep their contents
	c.x87.fpu.FTW = 0xFF
}

func (c *CPU) getMM(r uint8) uint64 {
	return binary.LittleEndian.Uint64(c.x87.fpu.ST[r&7][0:8])
}

func (c *CPU) setMM(r uint8, v uint64) {
	st := &c.x87.fpu.ST[r&7]
	binary.LittleEndian.PutUint64(st[0:8], v)
	st[8], st[9] = 0xFF, 0xFF
}

// readQ reads the mm/m64 operand.
func (c *CPU) readQ(in *inst) uint64 {
	if in.mem {
		return c.read64(int(in.seg), c.ea(in))
	}
	return c.getMM(in.rm)
}

// opEMMS empties the x87 tag word (SDM Vol. 2A EMMS).
func opEMMS(c *CPU, in *inst) {
	if in.p66 || in.rep != 0 {
		c.ud()
	}
	c.mmxEnter()
	c.x87.fpu.FTW = 0
}
