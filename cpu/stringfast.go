package cpu

import (
	"encoding/binary"

	"github.com/gemu-project/gemu/mmu"
)

// REP STOS and REP MOVS in 64-bit mode with a 64-bit address size and
// DF = 0: the elements that lie in one page whose translation is in the
// TLB are stored or copied in one go; the first element of each page (a
// TLB miss, an access across pages, a fault) takes the generic path for
// one element. Registers advance as they would element by element, so a
// fault leaves the instruction restartable (SDM Vol. 2 REP), and the TLB
// counters count each element as the generic path does.

func specializeString(in *inst) {
	if in.asize != 8 || in.lock {
		return
	}
	switch {
	case same(in.fn, opSTOS):
		in.fn = repStosL
	case same(in.fn, opMOVS) && in.seg < FS:
		in.fn = repMovsL
	}
}

func repStosL(c *CPU, in *inst) {
	if c.eflags&FlagDF != 0 {
		opSTOS(c, in)
		return
	}
	size := uint64(in.size)
	v := c.getReg(in.size, EAX)
	u := c.tlbUser()
	for c.R[ECX] != 0 {
		la := c.R[EDI]
		n := min(c.R[ECX], (0x1000-la&0xFFF)/size)
		if e := &c.tlb.Write[u][(la>>12)&(mmu.TLBSize-1)]; n > 0 && e.Tag == la>>12+1 {
			p := e.Page | la&0xFFF
			fillPattern(c.ram[p:p+n*size], v, size)
			c.tlb.Hits += n
			c.R[EDI] += n * size
			c.R[ECX] -= n
			continue
		}
		c.writeSize(ES, la, in.size, v)
		c.R[EDI] += size
		c.R[ECX]--
	}
}

// fillPattern stores v (size bytes, little-endian) over b.
func fillPattern(b []byte, v, size uint64) {
	if v == 0 {
		clear(b)
		return
	}
	switch size {
	case 1:
		for i := range b {
			b[i] = uint8(v)
		}
	case 2:
		for i := 0; i+2 <= len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], uint16(v))
		}
	case 4:
		for i := 0; i+4 <= len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], uint32(v))
		}
	default:
		for i := 0; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], v)
		}
	}
}

func repMovsL(c *CPU, in *inst) {
	if c.eflags&FlagDF != 0 {
		opMOVS(c, in)
		return
	}
	size := uint64(in.size)
	u := c.tlbUser()
	for c.R[ECX] != 0 {
		src, dst := c.R[ESI], c.R[EDI]
		n := min(c.R[ECX], (0x1000-src&0xFFF)/size, (0x1000-dst&0xFFF)/size)
		es := &c.tlb.Read[u][(src>>12)&(mmu.TLBSize-1)]
		ed := &c.tlb.Write[u][(dst>>12)&(mmu.TLBSize-1)]
		if n > 0 && es.Tag == src>>12+1 && ed.Tag == dst>>12+1 {
			ps, pd, nb := es.Page|src&0xFFF, ed.Page|dst&0xFFF, n*size
			if pd > ps && pd < ps+nb {
				// The destination overlaps the source ahead of it: copy
				// element by element, as the instruction does.
				for i := uint64(0); i < nb; i += size {
					copy(c.ram[pd+i:pd+i+size], c.ram[ps+i:ps+i+size])
				}
			} else {
				copy(c.ram[pd:pd+nb], c.ram[ps:ps+nb])
			}
			c.tlb.Hits += 2 * n
			c.R[ESI] += nb
			c.R[EDI] += nb
			c.R[ECX] -= n
			continue
		}
		v := c.readSize(int(in.seg), src, in.size)
		c.writeSize(ES, dst, in.size, v)
		c.R[ESI] += size
		c.R[EDI] += size
		c.R[ECX]--
	}
}
