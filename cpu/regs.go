package cpu

// Register and operand access by operand size.

// getReg reads register r at size bytes. For bytes, r 4–7 are AH, CH, DH,
// BH (SDM Vol. 2A §3.1.1.1, Table 3-1), 8–15 are R8B–R15B and 24–27 are SPL,
// BPL, SIL, DIL (the decoder maps 4–7 there when a REX prefix is present).
func (c *CPU) getReg(size uint8, r uint8) uint64 {
	switch size {
	case 1:
		switch {
		case r < 4 || r >= 8 && r < 16:
			return uint64(uint8(c.R[r]))
		case r < 8:
			return uint64(uint8(c.R[r-4] >> 8))
		}
		return uint64(uint8(c.R[r-byteRegREX]))
	case 2:
		return uint64(uint16(c.R[r]))
	case 4:
		return uint64(uint32(c.R[r]))
	}
	return c.R[r]
}

// setReg writes register r at size bytes. Byte and word writes keep the
// other bytes; a doubleword write zero-extends into bits 63:32 (SDM Vol. 1
// §3.4.1.1), which in legacy modes is invisible.
func (c *CPU) setReg(size uint8, r uint8, v uint64) {
	switch size {
	case 1:
		switch {
		case r < 4 || r >= 8 && r < 16:
			c.R[r] = c.R[r]&^0xFF | uint64(uint8(v))
		case r < 8:
			c.R[r-4] = c.R[r-4]&^0xFF00 | uint64(uint8(v))<<8
		default:
			c.R[r-byteRegREX] = c.R[r-byteRegREX]&^0xFF | uint64(uint8(v))
		}
	case 2:
		c.R[r] = c.R[r]&^0xFFFF | uint64(uint16(v))
	case 4:
		c.R[r] = uint64(uint32(v))
	default:
		c.R[r] = v
	}
}

// readE reads the r/m operand.
func (c *CPU) readE(in *inst) uint64 {
	if in.mem {
		return c.readSize(int(in.seg), c.ea(in), in.size)
	}
	return c.getReg(in.size, in.rm)
}

// readEAt reads the r/m operand at a size other than the instruction's
// (MOVZX, MOVSX, MOVSXD, LAR, LSL). Handlers must not change in.size for
// that: an exception unwinds them half-way and the block is reused.
func (c *CPU) readEAt(in *inst, size uint8) uint64 {
	if in.mem {
		return c.readSize(int(in.seg), c.ea(in), size)
	}
	return c.getReg(size, in.rm)
}

// writeE writes the r/m operand.
func (c *CPU) writeE(in *inst, v uint64) {
	if in.mem {
		c.writeSize(int(in.seg), c.ea(in), in.size, v)
		return
	}
	c.setReg(in.size, in.rm, v)
}

// rmw is a read-modify-write r/m operand: the address is computed once and
// the write is checked before any state changes (SDM Vol. 3A §6.6: faults
// leave the instruction restartable).
type rmw struct {
	off uint64
	la  uint64
}

func (c *CPU) rmwRead(in *inst, m *rmw) uint64 {
	if !in.mem {
		return c.getReg(in.size, in.rm)
	}
	m.off = c.ea(in)
	s := int(in.seg)
	// Check writability first, so a read-only segment faults before the read.
	m.la = c.linW(s, m.off, uint64(in.size))
	c.linR(s, m.off, uint64(in.size))
	switch in.size {
	case 1:
		return uint64(c.lread8(m.la))
	case 2:
		return uint64(c.lread16(m.la))
	case 4:
		return uint64(c.lread32(m.la))
	}
	return c.lread64(m.la)
}

func (c *CPU) rmwWrite(in *inst, m *rmw, v uint64) {
	if !in.mem {
		c.setReg(in.size, in.rm, v)
		return
	}
	switch in.size {
	case 1:
		c.lwrite8(m.la, uint8(v))
	case 2:
		c.lwrite16(m.la, uint16(v))
	case 4:
		c.lwrite32(m.la, uint32(v))
	default:
		c.lwrite64(m.la, v)
	}
}

// signExtend widens a value of size bytes to 64 bits.
func signExtend(v uint64, size uint8) uint64 {
	switch size {
	case 1:
		return uint64(int64(int8(v)))
	case 2:
		return uint64(int64(int16(v)))
	case 4:
		return uint64(int64(int32(v)))
	}
	return v
}
