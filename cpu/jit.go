package cpu

// Native code for hot blocks (jit_amd64.go): a block of 64-bit code, or of
// 32-bit code in the flat model (flat32), that has run jitThreshold times
// is translated to host instructions, which work on the registers in
// CPU.R, reach guest memory through the shadow TLB, and keep the guest's
// arithmetic flags in the host's. What the translator cannot express, and
// every TLB miss, leaves the native code for the interpreter at that
// instruction, with the state exact.

// jitThreshold is how many times a block runs interpreted before it is
// translated to native code: most blocks run a few times only, and
// translation costs some microseconds.
const jitThreshold = 32

// jitState is what native code reads and writes besides the registers
// and counters: CPU.jit, at a fixed offset.
type jitState struct {
	tlbRead uintptr // &tlb.Read[user], the half for the current CPL
	tlbWrit uintptr // &tlb.Write[user]
	tlbExec uintptr // &tlb.Exec[user]
	// jumps finds a native block by its physical address, mode and EIP,
	// for the ends whose successor is not linked: returns, and jumps to
	// other pages. Native code reads the pointer as the table's address.
	jumps *[jumpCacheSize]jumpCacheEntry
	// flags holds the guest's arithmetic flags whenever native code is
	// between blocks (or left): in from execNative, out when it returns.
	flags uint64
	// end: native code goes on from block to block while
	// Stats.Instructions < end (0: it returns after each block).
	end uint64
	// on: translate hot blocks (EnableJIT and the host allows it).
	on   bool
	code *codeBuffer
	// blocks are the translated blocks by id: native code returns the id
	// of the block it left.
	blocks []*block
	// insts and scratch are the translator's buffers, kept for the next.
	insts   []inst
	scratch []byte
	// threshold is jitThreshold (tests lower it to translate at once).
	threshold uint16
}

// jumpCacheSize is the number of jump cache entries (a power of 2).
const jumpCacheSize = 4096

// jumpCacheEntry maps a block's key to its native code: key is the
// physical address | mode<<48 (RAM is below 2^48 bytes).
type jumpCacheEntry struct {
	key, eip uint64
	entry    uintptr
	_        uint64 // 32 bytes: native code indexes the table with a shift
}

// jumpSlot is the jump cache slot of a physical address (as dispatch
// computes it in native code).
func jumpSlot(pa uint64) uint64 { return (pa ^ pa>>12) & (jumpCacheSize - 1) }

// nativeBlock is the host code of a block.
type nativeBlock struct {
	entry uintptr
	// hits[i] is the number of TLB hits in the instructions before i, all
	// of which hit when the code leaves at instruction i.
	hits []uint32
	// exits are the block's ends, which linkNative patches to jump to
	// their successor; incoming are the jumps patched to this block.
	exits    []chainExit
	incoming []*chainExit
}

// chainExit is an end of a block's native code: a jump at site to patch
// (it falls through to a return until then).
type chainExit struct {
	target uint64 // the EIP it goes to
	site   uintptr
	linked bool
}

// Return value of native code: the id of the block it left (high 32
// bits) and the index of the instruction at which interpretation resumes
// (len(insts) when the block completed and set EIP).
const jitIndexMask = 0xFFFF

// EnableJIT turns the native translation of hot 64-bit and flat 32-bit
// blocks on or off.
// It reports whether it is on: the host may not allow it (not linux/amd64,
// or no executable memory).
func (c *CPU) EnableJIT(on bool) bool {
	if on && c.jit.code == nil {
		c.jit.code = newCodeBuffer()
	}
	c.jit.on = on && c.jit.code != nil && len(c.ram) > 0
	if c.jit.on && c.jit.jumps == nil {
		c.jit.jumps = new([jumpCacheSize]jumpCacheEntry)
	}
	c.jit.threshold = jitThreshold
	c.FlushTranslations()
	return c.jit.on
}

// JIT reports whether hot blocks are translated to native code.
func (c *CPU) JIT() bool { return c.jit.on }

// heat counts a block's interpreted runs and translates it when it is hot.
func (c *CPU) heat(b *block) {
	if !(b.mode == mode64 || b.mode == mode32 && b.csBase == 0) {
		b.jitFailed = true // 16-bit code, or a CS base: left to the interpreter
		return
	}
	b.heat++
	if b.heat < c.jit.threshold || c.Trace != nil || c.profile != nil {
		return
	}
	b.native = c.compileBlock(b)
	if b.native != nil {
		c.Stats.BlocksNative++
	} else {
		b.heat = 0
		b.jitFailed = true
	}
}

// flat32 reports whether 32-bit native code may run: CS, DS, ES and SS
// have base 0 and a 4-GiB limit (the usual flat model), so its memory
// operands need no segment checks. Native code changes no segment.
func (c *CPU) flat32() bool {
	for _, s := range [...]int{ES, SS, DS} {
		ck := &c.segck[s]
		if c.Seg[s].Base != 0 || ck.lo != 0 || ck.hi != 0xFFFFFFFF || !ck.readable || !ck.writable {
			return false
		}
	}
	return c.Seg[CS].Base == 0 && c.Seg[CS].Limit == 0xFFFFFFFF
}

// execNative runs native code from block b, on through the blocks it is
// linked to while the budget lasts and no interrupt can be taken (IF and
// the interrupt hint do not change in native code), then interprets the
// rest of the block it left, if any. It returns that block.
func (c *CPU) execNative(b *block, end uint64) *block {
	c.jit.flags = uint64(c.flags()&ArithFlags | 2)
	u := c.tlbUser()
	c.jit.tlbRead = tlbAddr(&c.tlb.Read[u])
	c.jit.tlbWrit = tlbAddr(&c.tlb.Write[u])
	c.jit.tlbExec = tlbAddr(&c.tlb.Exec[u])
	c.jit.jumps[jumpSlot(uint64(b.phys))] = jumpCacheEntry{key: uint64(b.phys) | uint64(b.mode)<<48, eip: b.eip, entry: b.native.entry}
	c.jit.end = end
	if c.intrHint && c.eflags&FlagIF != 0 {
		c.jit.end = 0
	}
	r := jitEnter(b.native.entry, c)
	c.eflags = c.eflags&^ArithFlags | uint32(c.jit.flags)&ArithFlags
	c.lz.op = lzNone
	b = c.jit.blocks[r>>32]
	i := int(r & jitIndexMask)
	if i == len(b.insts) {
		return b // counted by the native code
	}
	c.tlb.Hits += uint64(b.native.hits[i])
	c.Stats.NativeInstructions += uint64(i)
	c.curBlock = b
	c.execBlock(b, &b.exec[i])
	return b
}

// linkNative patches prev's native exit to b's EIP to jump to b's native
// code: b starts in prev's page, so it is the block that the address
// maps to whenever prev runs (as with block.link).
func (c *CPU) linkNative(prev, b *block) {
	if !prev.valid || !b.valid || prev.phys>>12 != b.phys>>12 || prev.csBase != b.csBase || prev.mode != b.mode {
		return
	}
	for i := range prev.native.exits {
		e := &prev.native.exits[i]
		if e.target == b.eip && !e.linked {
			e.linked = true
			c.jit.code.patchJump(e.site, b.native.entry)
			b.native.incoming = append(b.native.incoming, e)
		}
	}
}

// unlinkNative restores the jumps patched to b, which is being dropped,
// and takes it out of the jump cache.
func (c *CPU) unlinkNative(b *block) {
	if e := &c.jit.jumps[jumpSlot(uint64(b.phys))]; e.entry == b.native.entry {
		*e = jumpCacheEntry{}
	}
	for _, e := range b.native.incoming {
		c.jit.code.patchJump(e.site, e.site+4) // on to the lookup after the jump
		e.linked = false                       // the successor translated again may be linked
	}
	b.native.incoming = nil
}
