package cpu

import (
	"sort"

	"golang.org/x/arch/x86/x86asm"

	"github.com/gemu-project/gemu/mmu"
)

// Block profiling (gemu run --hotblocks), in the spirit of QEMU's hotblocks
// plugin: each translated block counts its executions; the report ranks
// the blocks by the guest instructions they retired.

// BlockProfile is one block's share of a run.
type BlockProfile struct {
	Addr         uint64 // linear address of the first instruction (CS base + EIP)
	Phys         uint64 // its guest-physical address
	Mode         int    // code size: 16, 32 or 64
	Instructions int    // guest instructions in the block
	Execs        uint64 // times the block was entered
	// Code is the block's disassembly, one instruction a line, for blocks
	// still translated at the end (empty for one whose page was rewritten).
	Code []string
}

// Retired is Execs × Instructions: what the block ran, counting a block
// left early (a fault, a stop) as whole.
func (b BlockProfile) Retired() uint64 { return b.Execs * uint64(b.Instructions) }

// blockProfiler keeps the counts of blocks that are no longer translated.
type blockProfiler struct {
	gone map[blockKey]*BlockProfile
}

// ProfileBlocks turns block profiling on (or off, dropping the counts). The
// blocks translated from then on count their executions; the others are
// dropped.
func (c *CPU) ProfileBlocks(on bool) {
	c.profile = nil
	if on {
		c.profile = &blockProfiler{gone: map[blockKey]*BlockProfile{}}
	}
	c.FlushTranslations()
}

// countExecutions makes a block's first operation count the block's
// executions: the dispatch loop itself stays as it is, profiling or not.
func countExecutions(bl *block) {
	first := &bl.exec[0]
	fn := first.fn
	first.fn = func(c *CPU, in *inst) {
		bl.execs++
		fn(c, in)
	}
}

// retire keeps the count of a block being dropped.
func (p *blockProfiler) retire(bl *block) {
	if bl.execs == 0 {
		return
	}
	k := blockKey{bl.phys, bl.eip, bl.csBase, bl.mode}
	bp := p.gone[k]
	if bp == nil {
		bp = bl.profile()
		bp.Execs = 0
		p.gone[k] = bp
	}
	bp.Execs += bl.execs
	bl.execs = 0
}

func (bl *block) profile() *BlockProfile {
	return &BlockProfile{Addr: bl.csBase + bl.eip, Phys: uint64(bl.phys), Mode: int(bl.mode),
		Instructions: len(bl.insts), Execs: bl.execs}
}

// HotBlocks returns the n blocks that retired the most instructions since
// profiling began, the most first (nil when profiling is off).
func (c *CPU) HotBlocks(n int) []BlockProfile {
	if c.profile == nil {
		return nil
	}
	type entry struct {
		bp *BlockProfile
		bl *block // still translated, or nil
	}
	byKey := map[blockKey]entry{}
	for k, bp := range c.profile.gone {
		cp := *bp
		byKey[k] = entry{bp: &cp}
	}
	for k, bl := range c.cache.all {
		if bl.execs == 0 {
			continue
		}
		if e, ok := byKey[k]; ok {
			e.bp.Execs += bl.execs
			byKey[k] = entry{e.bp, bl}
		} else {
			byKey[k] = entry{bl.profile(), bl}
		}
	}
	list := make([]entry, 0, len(byKey))
	for _, e := range byKey {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i].bp, list[j].bp
		if a.Retired() != b.Retired() {
			return a.Retired() > b.Retired()
		}
		return a.Addr < b.Addr
	})
	if len(list) > n {
		list = list[:n]
	}
	out := make([]BlockProfile, len(list))
	for i, e := range list {
		if e.bl != nil {
			e.bp.Code = c.disassembleBlock(e.bl)
		}
		out[i] = *e.bp
	}
	return out
}

// disassembleBlock decodes a block's instructions again from guest memory
// (the bytes of its first page; the block's own decode keeps no text).
func (c *CPU) disassembleBlock(bl *block) []string {
	first, last := &bl.insts[0], &bl.insts[len(bl.insts)-1]
	size := last.next - first.eip
	if size > 0x1000 {
		return nil
	}
	buf := make([]byte, size)
	if err := c.mem.ReadAt(bl.phys, buf[:min(size, 0x1000-uint64(bl.phys)&0xFFF)]); err != nil {
		return nil
	}
	if uint64(bl.phys)&0xFFF+size > 0x1000 {
		// The last instruction spills into the next page.
		rest := buf[0x1000-uint64(bl.phys)&0xFFF:]
		if bl.pages[1] == 0 || c.mem.ReadAt(mmu.GPA(bl.pages[1]<<12), rest) != nil {
			return nil
		}
	}
	var code []string
	for off, in := 0, bl.insts; len(in) > 0; in = in[1:] {
		n := int(in[0].next - in[0].eip)
		if off+n > len(buf) {
			break
		}
		d, err := x86asm.Decode(buf[off:off+n], int(bl.mode))
		if err != nil {
			code = append(code, "(bad)")
		} else {
			code = append(code, x86asm.IntelSyntax(d, in[0].eip, nil))
		}
		off += n
	}
	return code
}
