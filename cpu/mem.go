package cpu

import (
	"encoding/binary"

	"github.com/gemu-project/gemu/mmu"
)

// Exception vectors (SDM Vol. 3A §6.3.1, Table 6-1).
const (
	ExcDE  = 0
	ExcDB  = 1
	ExcNMI = 2
	ExcBP  = 3
	ExcOF  = 4
	ExcBR  = 5
	ExcUD  = 6
	ExcNM  = 7
	ExcDF  = 8
	ExcTS  = 10
	ExcNP  = 11
	ExcSS  = 12
	ExcGP  = 13
	ExcPF  = 14
	ExcMF  = 16
	ExcAC  = 17
	ExcXM  = 19 // SIMD floating-point exception
)

type fault struct {
	vector  uint8
	code    uint32
	hasCode bool
}

type faultPanic struct{}

// errFault is the panic value that unwinds an instruction that raised an
// exception; Run recovers it and delivers the exception. Exceptions are rare
// enough that unwinding is cheaper than checking a result on every access.
var errFault = &faultPanic{}

func (c *CPU) raise(vector uint8, code uint32, hasCode bool) {
	c.fault = fault{vector: vector, code: code, hasCode: hasCode}
	panic(errFault)
}

func (c *CPU) gp(code uint32) { c.raise(ExcGP, code, true) }
func (c *CPU) ud()            { c.raise(ExcUD, 0, false) }

// segLimitFault raises #SS for stack-segment accesses and #GP otherwise
// (SDM Vol. 3A §6.15, "Interrupt 12" and "Interrupt 13").
func (c *CPU) segFault(seg int) {
	if seg == SS {
		c.raise(ExcSS, 0, true)
	}
	c.gp(0)
}

// segment offset checks, precomputed when a segment register is loaded.
type segCheck struct {
	lo, hi   uint64 // valid offsets [lo, hi]
	readable bool
	writable bool
}

// updateSegCheck recomputes the checks of segment register s
// (SDM Vol. 3A §5.3 limit checking, §5.4 type checking).
func (c *CPU) updateSegCheck(s int) {
	seg := &c.Seg[s]
	ck := &c.segck[s]
	ck.lo, ck.hi = 0, uint64(seg.Limit)
	if !c.pmode {
		ck.readable, ck.writable = true, true
		return
	}
	if seg.Access&AccP == 0 || seg.Selector&^3 == 0 && s != CS && seg.Access&AccS == 0 {
		ck.readable, ck.writable = false, false
		return
	}
	if seg.Access&AccCode != 0 {
		ck.readable = seg.Access&AccWritable != 0
		ck.writable = false
	} else {
		ck.readable = true
		ck.writable = seg.Access&AccWritable != 0
		if seg.Access&AccExpDown != 0 {
			ck.lo = uint64(seg.Limit) + 1
			ck.hi = 0xFFFF
			if seg.Access&AccDB != 0 {
				ck.hi = 0xFFFFFFFF
			}
		}
	}
}

// linR returns the linear address of a size-byte read at seg:off.
func (c *CPU) linR(s int, off uint64, size uint64) uint64 {
	if c.mode == mode64 {
		return c.lin64(s, off, size)
	}
	ck := &c.segck[s]
	if off < ck.lo || off+size-1 > ck.hi || !ck.readable {
		c.segFault(s)
	}
	return (c.Seg[s].Base + off) & 0xFFFFFFFF
}

// linW returns the linear address of a size-byte write at seg:off.
func (c *CPU) linW(s int, off uint64, size uint64) uint64 {
	if c.mode == mode64 {
		return c.lin64(s, off, size)
	}
	ck := &c.segck[s]
	if off < ck.lo || off+size-1 > ck.hi || !ck.writable {
		c.segFault(s)
	}
	return (c.Seg[s].Base + off) & 0xFFFFFFFF
}

// lin64 forms a 64-bit-mode linear address: only FS and GS have a base, no
// limits apply, and the address must be canonical (SDM Vol. 3A §3.2.4,
// §6.15 #GP and #SS).
func (c *CPU) lin64(s int, off uint64, size uint64) uint64 {
	la := off
	if s >= FS {
		la += c.Seg[s].Base
	}
	if !canonical(la) || !canonical(la+size-1) {
		c.segFault(s)
	}
	return la
}

// tlbUser is the TLB half for the current privilege level.
func (c *CPU) tlbUser() int {
	if c.cpl == 3 {
		return 1
	}
	return 0
}

// translate maps a linear address to a physical one through the paging
// structures, filling the shadow TLB; it raises #PF on a fault.
func (c *CPU) translate(la uint64, write, user, fetch bool) mmu.GPA {
	c.tlb.Misses++
	var pa mmu.GPA
	t := mmu.Translation{Writable: true}
	if c.CR0&CR0PG != 0 {
		acc := mmu.Access{
			Write: write, User: user, Fetch: fetch,
			WP: c.CR0&CR0WP != 0, PSE: c.CR4&CR4PSE != 0, PGE: c.CR4&CR4PGE != 0,
		}
		var code uint32
		var ok bool
		switch {
		case c.CR4&CR4PAE == 0:
			t, code, ok = c.mem.Walk32(c.CR3, uint32(la), acc)
		case c.long:
			t, code, ok = c.mem.Walk4(c.CR3, la, mmu.Access64{Access: acc, NXE: c.EFER&EFERNXE != 0, MaxPhys: physAddrBits})
		default:
			t, code, ok = c.mem.WalkPAE(&c.pdpte, uint32(la), mmu.Access64{Access: acc, NXE: c.EFER&EFERNXE != 0, MaxPhys: physAddrBits})
		}
		if !ok {
			c.CR2 = la
			c.raise(ExcPF, code, true)
		}
		pa = t.PA
	} else {
		pa = mmu.GPA(la)
	}
	// Only canonical addresses enter the TLB: the 64-bit fast paths (fast64.go)
	// take a hit as proof that an address is canonical.
	if c.mem.IsRAM(pa&^0xFFF, mmu.PageSize) && canonical(la) {
		u := 0
		if user {
			u = 1
		}
		c.tlb.Fill(mmu.TLBRead, u, la, pa, t.Global)
		if t.Writable && !c.mem.IsCode(pa) {
			c.tlb.Fill(mmu.TLBWrite, u, la, pa, t.Global)
		}
		if !t.NoExec {
			c.tlb.Fill(mmu.TLBExec, u, la, pa, t.Global)
		}
	}
	return pa
}

// physAddrBits is MAXPHYADDR, reported in CPUID 80000008h.
const physAddrBits = 40

// physR translates la for a read by the current privilege level.
func (c *CPU) physR(la uint64) mmu.GPA {
	u := c.tlbUser()
	e := &c.tlb.Read[u][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 {
		return mmu.GPA(e.Page | uint64(la&0xFFF))
	}
	return c.translate(la, false, u == 1, false)
}

func (c *CPU) physW(la uint64) mmu.GPA {
	u := c.tlbUser()
	e := &c.tlb.Write[u][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 {
		return mmu.GPA(e.Page | uint64(la&0xFFF))
	}
	return c.translate(la, true, u == 1, false)
}

// Linear-address accessors. The fast path is a TLB hit on an access that
// does not cross a page; everything else goes through readSlow/writeSlow.

func (c *CPU) lread8(la uint64) uint8 {
	e := &c.tlb.Read[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 {
		c.tlb.Hits++
		return c.ram[e.Page|uint64(la&0xFFF)]
	}
	return uint8(c.readSlow(la, 1))
}

func (c *CPU) lread16(la uint64) uint16 {
	e := &c.tlb.Read[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 && la&0xFFF <= 0xFFE {
		c.tlb.Hits++
		return binary.LittleEndian.Uint16(c.ram[e.Page|uint64(la&0xFFF):])
	}
	return uint16(c.readSlow(la, 2))
}

func (c *CPU) lread32(la uint64) uint32 {
	e := &c.tlb.Read[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 && la&0xFFF <= 0xFFC {
		c.tlb.Hits++
		return binary.LittleEndian.Uint32(c.ram[e.Page|uint64(la&0xFFF):])
	}
	return uint32(c.readSlow(la, 4))
}

func (c *CPU) lwrite8(la uint64, v uint8) {
	e := &c.tlb.Write[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 {
		c.tlb.Hits++
		c.ram[e.Page|uint64(la&0xFFF)] = v
		return
	}
	c.writeSlow(la, 1, uint64(v))
}

func (c *CPU) lwrite16(la uint64, v uint16) {
	e := &c.tlb.Write[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 && la&0xFFF <= 0xFFE {
		c.tlb.Hits++
		binary.LittleEndian.PutUint16(c.ram[e.Page|uint64(la&0xFFF):], v)
		return
	}
	c.writeSlow(la, 2, uint64(v))
}

func (c *CPU) lwrite32(la uint64, v uint32) {
	e := &c.tlb.Write[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == uint64(la>>12)+1 && la&0xFFF <= 0xFFC {
		c.tlb.Hits++
		binary.LittleEndian.PutUint32(c.ram[e.Page|uint64(la&0xFFF):], v)
		return
	}
	c.writeSlow(la, 4, uint64(v))
}

// readSlow handles TLB misses, page-crossing accesses and MMIO.
func (c *CPU) readSlow(la uint64, size int) uint64 {
	// A buffer in the CPU, not on the stack: slices handed to MMIO devices
	// escape, and a local array would be allocated on every slow access.
	buf := &c.slowBuf
	*buf = [8]byte{}
	if int(la&0xFFF)+size > 0x1000 {
		// Split at the page boundary; both pages are checked before use.
		n := 0x1000 - int(la&0xFFF)
		pa1 := c.physR(la)
		pa2 := c.physR(la + uint64(n))
		c.mem.Read(pa1, buf[:n])
		c.mem.Read(pa2, buf[n:size])
	} else {
		c.mem.Read(c.physR(la), buf[:size])
	}
	return binary.LittleEndian.Uint64(buf[:])
}

func (c *CPU) writeSlow(la uint64, size int, v uint64) {
	buf := &c.slowBuf
	binary.LittleEndian.PutUint64(buf[:], v)
	if int(la&0xFFF)+size > 0x1000 {
		n := 0x1000 - int(la&0xFFF)
		pa1 := c.physW(la)
		pa2 := c.physW(la + uint64(n))
		c.mem.Write(pa1, buf[:n])
		c.mem.Write(pa2, buf[n:size])
	} else {
		c.mem.Write(c.physW(la), buf[:size])
	}
}

// Segmented accessors: seg:off → linear → memory.

func (c *CPU) read8(s int, off uint64) uint8   { return c.lread8(c.linR(s, off, 1)) }
func (c *CPU) read16(s int, off uint64) uint16 { return c.lread16(c.linR(s, off, 2)) }
func (c *CPU) read32(s int, off uint64) uint32 { return c.lread32(c.linR(s, off, 4)) }
func (c *CPU) write8(s int, off uint64, v uint8) {
	c.lwrite8(c.linW(s, off, 1), v)
}
func (c *CPU) write16(s int, off uint64, v uint16) {
	c.lwrite16(c.linW(s, off, 2), v)
}
func (c *CPU) write32(s int, off uint64, v uint32) {
	c.lwrite32(c.linW(s, off, 4), v)
}

// readSize and writeSize access 1, 2 or 4 bytes.
func (c *CPU) readSize(s int, off uint64, size uint8) uint64 {
	switch size {
	case 1:
		return uint64(c.read8(s, off))
	case 2:
		return uint64(c.read16(s, off))
	case 4:
		return uint64(c.read32(s, off))
	}
	return c.lread64(c.linR(s, off, 8))
}

func (c *CPU) writeSize(s int, off uint64, size uint8, v uint64) {
	switch size {
	case 1:
		c.write8(s, off, uint8(v))
	case 2:
		c.write16(s, off, uint16(v))
	case 4:
		c.write32(s, off, uint32(v))
	default:
		c.lwrite64(c.linW(s, off, 8), v)
	}
}

// System accesses (descriptor tables, TSS) are supervisor accesses whatever
// the CPL (SDM Vol. 3A §4.6.1, "implicit supervisor-mode accesses").
func (c *CPU) sysRead(la uint64, size int) uint64 {
	buf := &c.sysBuf
	*buf = [8]byte{}
	for i := 0; i < size; i++ {
		a := la + uint64(i)
		pa := mmu.GPA(a)
		if c.CR0&CR0PG != 0 {
			pa = c.translate(a, false, false, false)
		}
		c.mem.Read(pa, buf[i:i+1])
	}
	return binary.LittleEndian.Uint64(buf[:])
}

func (c *CPU) sysWrite(la uint64, size int, v uint64) {
	buf := &c.sysBuf
	binary.LittleEndian.PutUint64(buf[:], v)
	for i := 0; i < size; i++ {
		a := la + uint64(i)
		pa := mmu.GPA(a)
		if c.CR0&CR0PG != 0 {
			pa = c.translate(a, true, false, false)
		}
		c.mem.Write(pa, buf[i:i+1])
	}
}

// FlushTLB empties the shadow TLB (CR3 write without global pages, mode changes).
func (c *CPU) FlushTLB() { c.tlb.Flush(false) }

// read64 and write64 access 8 bytes (x87, MMX and SSE memory operands,
// 64-bit integer operands).
func (c *CPU) read64(s int, off uint64) uint64 { return c.lread64(c.linR(s, off, 8)) }

func (c *CPU) write64(s int, off uint64, v uint64) { c.lwrite64(c.linW(s, off, 8), v) }

func (c *CPU) lread64(la uint64) uint64 {
	e := &c.tlb.Read[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == la>>12+1 && la&0xFFF <= 0xFF8 {
		c.tlb.Hits++
		return binary.LittleEndian.Uint64(c.ram[e.Page|la&0xFFF:])
	}
	return c.readSlow(la, 8)
}

func (c *CPU) lwrite64(la uint64, v uint64) {
	e := &c.tlb.Write[c.tlbUser()][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == la>>12+1 && la&0xFFF <= 0xFF8 {
		c.tlb.Hits++
		binary.LittleEndian.PutUint64(c.ram[e.Page|la&0xFFF:], v)
		return
	}
	c.writeSlow(la, 8, v)
}
