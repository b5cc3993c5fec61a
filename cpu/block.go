package cpu

import (
	"github.com/gemu-project/gemu/mmu"
)

// Translated blocks: decoded once, cached by guest-physical address and
// code size, chained to their successors in the same page, and invalidated
// when the guest writes to a page that holds them.

const (
	maxBlockInsts = 64
	blockHashBits = 14
)

type block struct {
	phys   mmu.GPA // guest-physical address of the first byte
	eip    uint64  // CS offset of the first instruction
	csBase uint64
	mode   uint8
	valid  bool
	insts  []inst
	// exec is the prefix of insts that execBlock dispatches: all of them, or
	// all but a final Jcc fused into the instruction before it (fuse.go).
	exec []inst
	// link caches the successor blocks that start in the same page
	// (taken branch target and fall-through).
	link [2]*block
	// pages are the physical pages the block's bytes come from (one or two).
	pages [2]uint64
	// execs counts the block's executions while blocks are profiled.
	execs uint64
	// native is the block's host code (jit.go); heat counts its runs
	// until then; jitFailed: it cannot be translated.
	native    *nativeBlock
	heat      uint16
	jitFailed bool
}

type blockKey struct {
	phys   mmu.GPA
	eip    uint64
	csBase uint64
	mode   uint8
}

type blockCache struct {
	hash   [1 << blockHashBits]*block
	all    map[blockKey]*block
	byPage map[uint64][]*block
}

func (bc *blockCache) init() {
	bc.all = make(map[blockKey]*block)
	bc.byPage = make(map[uint64][]*block)
}

func hashPhys(pa mmu.GPA) uint64 {
	return (uint64(pa) ^ uint64(pa)>>blockHashBits) & (1<<blockHashBits - 1)
}

// FlushTranslations drops every translated block.
func (c *CPU) FlushTranslations() {
	for _, bl := range c.cache.all {
		bl.valid = false
		bl.native = nil // its code goes with the buffer
		if c.profile != nil {
			c.profile.retire(bl)
		}
	}
	c.cache.hash = [1 << blockHashBits]*block{}
	c.cache.init()
	if c.jit.code != nil {
		c.jit.code.reset()
	}
	clear(c.jit.blocks)
	c.jit.blocks = c.jit.blocks[:0]
	if c.jit.jumps != nil {
		clear(c.jit.jumps[:])
	}
}

// invalidatePage drops the blocks translated from a physical page; the
// memory calls it on the first write to a code page.
func (c *CPU) invalidatePage(page mmu.GPA) {
	p := uint64(page) >> 12
	list := c.cache.byPage[p]
	if len(list) == 0 {
		return
	}
	delete(c.cache.byPage, p)
	for _, bl := range list {
		if !bl.valid {
			continue
		}
		bl.valid = false
		c.Stats.BlocksInvalidated++
		if bl.native != nil {
			c.unlinkNative(bl)
		}
		if c.profile != nil {
			c.profile.retire(bl)
		}
		delete(c.cache.all, blockKey{bl.phys, bl.eip, bl.csBase, bl.mode})
		if h := &c.cache.hash[hashPhys(bl.phys)]; *h == bl {
			*h = nil
		}
		if bl == c.curBlock {
			// The running block changed under us: end it after this instruction
			// (SDM Vol. 3A §8.1.3, self-modifying code).
			c.stop = true
		}
	}
}

// nextBlock finds or translates the block at CS:EIP. prev is the block just
// executed, whose links are tried first.
func (c *CPU) nextBlock(prev *block) *block {
	eip := c.EIP
	if prev != nil {
		for i := range prev.link {
			if nb := prev.link[i]; nb != nil && nb.eip == eip && nb.valid {
				c.Stats.ChainedJumps++
				return nb
			}
		}
	}
	c.Stats.BlockLookups++
	csBase := c.Seg[CS].Base
	if c.mode == mode64 {
		csBase = 0
	}
	la := csBase + eip
	pa := c.fetchPhys(la)
	bl := c.cache.hash[hashPhys(pa)]
	if bl == nil || bl.phys != pa || bl.eip != eip || bl.csBase != csBase || bl.mode != c.mode || !bl.valid {
		bl = c.cache.all[blockKey{pa, eip, csBase, c.mode}]
		if bl == nil {
			bl = c.translateBlock(pa, eip, csBase)
		}
		c.cache.hash[hashPhys(pa)] = bl
	}
	if prev != nil && prev.valid && pa>>12 == prev.phys>>12 && la>>12 == (prev.csBase+prev.eip)>>12 {
		if prev.link[0] == nil {
			prev.link[0] = bl
		} else {
			prev.link[1] = bl
		}
	}
	return bl
}

// fetchPhys translates a code address for execution, raising #PF or #GP.
func (c *CPU) fetchPhys(la uint64) mmu.GPA {
	if c.mode == mode64 {
		if !canonical(la) {
			c.gp(0)
		}
	} else if c.EIP > uint64(c.Seg[CS].Limit) {
		c.gp(0)
	}
	u := c.tlbUser()
	e := &c.tlb.Exec[u][(la>>12)&(mmu.TLBSize-1)]
	if e.Tag == la>>12+1 {
		return mmu.GPA(e.Page | la&0xFFF)
	}
	return c.translate(la, false, u == 1, true)
}

// codeFetcher reads guest code bytes for the decoder: within the first page
// directly, and across into the next page through a translation that must
// not fault (a faulting fetch ends the block before that instruction).
type codeFetcher struct {
	c       *CPU
	csBase  uint64
	limit   uint64
	page    uint64 // linear page of the block's first byte
	phys    mmu.GPA
	phys2   mmu.GPA
	hasNext bool
	crossed bool
	mask    uint64
}

func (f *codeFetcher) byteAt(off uint64) (uint8, bool) {
	off &= f.mask
	if off > f.limit {
		return 0, false
	}
	la := f.csBase + off
	var pa mmu.GPA
	if la&^0xFFF == f.page {
		pa = f.phys + mmu.GPA(la&0xFFF)
	} else if la&^0xFFF == f.page+0x1000 {
		if !f.hasNext {
			p, ok := f.c.probeFetch(la &^ 0xFFF)
			if !ok {
				return 0, false
			}
			f.phys2, f.hasNext = p, true
		}
		f.crossed = true
		pa = f.phys2 + mmu.GPA(la&0xFFF)
	} else {
		return 0, false
	}
	if !f.c.mem.IsRAM(pa, 1) {
		return 0xFF, true
	}
	return f.c.ram[pa], true
}

// probeFetch translates la for execution without raising a fault.
func (c *CPU) probeFetch(la uint64) (pa mmu.GPA, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errFault {
				panic(r)
			}
			ok = false
		}
	}()
	saved := c.CR2
	pa = c.translate(la, false, c.cpl == 3, true)
	c.CR2 = saved
	return pa, true
}

// translateBlock decodes guest code at CS:EIP (physical pa) into a block.
func (c *CPU) translateBlock(pa mmu.GPA, eip, csBase uint64) *block {
	bl := c.decodeBlock(pa, eip, csBase, maxBlockInsts)
	c.cache.all[blockKey{pa, eip, csBase, c.mode}] = bl
	return bl
}

// translateOne decodes a single instruction into an uncached block (single-stepping).
func (c *CPU) translateOne(pa mmu.GPA, eip, csBase uint64) *block {
	return c.decodeBlock(pa, eip, csBase, 1)
}

func (c *CPU) decodeBlock(pa mmu.GPA, eip, csBase uint64, max int) *block {
	c.Stats.BlocksTranslated++
	f := &codeFetcher{c: c, csBase: csBase, limit: uint64(c.Seg[CS].Limit), page: (csBase + eip) &^ 0xFFF, phys: pa &^ 0xFFF, mask: 0xFFFFFFFF}
	switch c.mode {
	case mode16:
		f.mask = 0xFFFF
	case mode64:
		f.mask, f.limit = ^uint64(0), ^uint64(0)
	}
	bl := &block{phys: pa, eip: eip, csBase: csBase, mode: c.mode, valid: true}
	insts := make([]inst, 0, 8)
	off := eip
	for len(insts) < max {
		var in inst
		crossedBefore := f.crossed
		r := decode(f, off, c.mode, &in)
		if r == decFetchFault {
			if len(insts) == 0 {
				// The first instruction cannot be fetched: raise the fault now,
				// at this EIP, with a real translation attempt.
				c.raiseFetchFault(csBase, off, f)
			}
			break
		}
		if c.Trace != nil {
			in.fn = traced(in.fn)
		}
		insts = append(insts, in)
		if r == decUD || in.desc == nil || in.desc.flags&(fEnd|fBranch) != 0 || c.Trace != nil {
			break
		}
		if f.crossed && !crossedBefore {
			break // the instruction spilled into the next page: end here
		}
		off = in.next
		if (csBase+off)&^0xFFF != f.page {
			break
		}
	}
	bl.insts = insts
	bl.exec = insts
	if c.Trace == nil {
		bl.exec = insts[:fuse(insts)]
	}
	bl.exec[len(bl.exec)-1].last = true
	if c.profile != nil {
		countExecutions(bl)
	}
	bl.pages[0] = uint64(pa) >> 12
	c.registerCodePage(bl, pa)
	if f.hasNext && f.crossed {
		bl.pages[1] = uint64(f.phys2) >> 12
		c.registerCodePage(bl, f.phys2)
	}
	return bl
}

func (c *CPU) registerCodePage(bl *block, pa mmu.GPA) {
	p := uint64(pa) >> 12
	c.cache.byPage[p] = append(c.cache.byPage[p], bl)
	if !c.mem.IsCode(pa) {
		c.mem.MarkCode(pa)
		c.tlb.DropWrites(pa)
	}
}

// raiseFetchFault raises the exception for an instruction whose bytes
// cannot be fetched: #GP past the CS limit, else #PF on the page.
func (c *CPU) raiseFetchFault(csBase, off uint64, f *codeFetcher) {
	for i := uint64(0); i < 15; i++ {
		o := (off + i) & f.mask
		if o > f.limit {
			c.gp(0)
		}
		la := csBase + o
		if la&^0xFFF != f.page {
			c.translate(la, false, c.cpl == 3, true) // raises #PF
		}
	}
	c.gp(0)
}
