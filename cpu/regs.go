package cpu

// Register and operand access by operand size.

// getReg reads register r at size bytes; for bytes, r 4–7 are AH, CH, DH, BH
// (SDM Vol. 2A §3.1.1.1, Table 3-1).
func (c *CPU) getReg(size uint8, r uint8) uint32 {
	switch size {
	case 1:
		if r < 4 {
			return uint32(uint8(c.R[r]))
		}
		return uint32(uint8(c.R[r-4] >> 8))
	case 2:
		return uint32(uint16(c.R[r]))
	}
	return uint32(c.R[r])
}

// setReg writes register r at size bytes, keeping the bytes it does not cover.
func (c *CPU) setReg(size uint8, r uint8, v uint32) {
	switch size {
	case 1:
		if r < 4 {
			c.R[r] = c.R[r]&^0xFF | uint64(uint8(v))
		} else {
			c.R[r-4] = c.R[r-4]&^0xFF00 | uint64(uint8(v))<<8
		}
	case 2:
		c.R[r] = c.R[r]&^0xFFFF | uint64(uint16(v))
	default:
		c.R[r] = uint64(v)
	}
}

// readE reads the r/m operand.
func (c *CPU) readE(in *inst) uint32 {
	if in.mem {
		return c.readSize(int(in.seg), c.ea(in), in.size)
	}
	return c.getReg(in.size, in.rm)
}

// writeE writes the r/m operand.
func (c *CPU) writeE(in *inst, v uint32) {
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
	off uint32
	la  uint32
}

func (c *CPU) rmwRead(in *inst, m *rmw) uint32 {
	if !in.mem {
		return c.getReg(in.size, in.rm)
	}
	m.off = c.ea(in)
	s := int(in.seg)
	// Check writability first, so a read-only segment faults before the read.
	m.la = c.linW(s, m.off, uint32(in.size))
	c.linR(s, m.off, uint32(in.size))
	switch in.size {
	case 1:
		return uint32(c.lread8(m.la))
	case 2:
		return uint32(c.lread16(m.la))
	}
	return c.lread32(m.la)
}

func (c *CPU) rmwWrite(in *inst, m *rmw, v uint32) {
	if !in.mem {
		c.setReg(in.size, in.rm, v)
		return
	}
	switch in.size {
	case 1:
		c.lwrite8(m.la, uint8(v))
	case 2:
		c.lwrite16(m.la, uint16(v))
	default:
		c.lwrite32(m.la, v)
	}
}

func sizeMask32(size uint8) uint32 { return uint32(sizeMask(size)) }

// signExtend widens a value of size bytes to 32 bits.
func signExtend(v uint32, size uint8) uint32 {
	switch size {
	case 1:
		return uint32(int32(int8(v)))
	case 2:
		return uint32(int32(int16(v)))
	}
	return v
}
