package cpu

// Native code for hot blocks (jit_amd64.go): a block of 64-bit code that
// has run jitThreshold times is translated to host instructions, which
// work on the registers in CPU.R, reach guest memory through the shadow
// TLB, and keep the guest's arithmetic flags in the host's. What the
// translator cannot express, and every TLB miss, leaves the native code
// for the interpreter at that instruction, with the state exact.

// jitThreshold is how many times a block runs interpreted before it is
// translated to native code: most blocks run a few times only, and
// translation costs some microseconds.
const jitThreshold = 32

// jitState is what native code reads and writes besides the registers:
// CPU.jit, at a fixed offset.
type jitState struct {
	ram     uintptr // &Memory.RAM[0]
	tlbRead uintptr // &tlb.Read[user], the half for the current CPL
	tlbWrit uintptr // &tlb.Write[user]
	// flags carries the arithmetic flags in (when the block reads them
	// before it writes them) and out (when the return value says so).
	flags uint64
	// on: translate hot blocks (EnableJIT and the host allows it).
	on   bool
	code *codeBuffer
	// threshold is jitThreshold (tests lower it to translate at once).
	threshold uint16
}

// nativeBlock is the host code of a block.
type nativeBlock struct {
	entry   uintptr
	flagsIn bool // load the guest's arithmetic flags on entry
	// hits[i] is the number of TLB hits in the instructions before i, all
	// of which hit when the code leaves at instruction i.
	hits []uint32
}

// Return value of native code: the index of the instruction at which
// interpretation resumes (len(insts) when the block completed and set
// EIP), and whether jitState.flags holds the arithmetic flags.
const (
	jitIndexMask = 0xFFFF
	jitFlagsOut  = 1 << 16
)

// EnableJIT turns the native translation of hot 64-bit blocks on or off.
// It reports whether it is on: the host may not allow it (not linux/amd64,
// no BMI… or no executable memory).
func (c *CPU) EnableJIT(on bool) bool {
	if on && c.jit.code == nil {
		c.jit.code = newCodeBuffer()
	}
	c.jit.on = on && c.jit.code != nil && len(c.ram) > 0
	if c.jit.on {
		c.jit.ram = ramAddr(c.ram)
	}
	c.jit.threshold = jitThreshold
	c.FlushTranslations()
	return c.jit.on
}

// JIT reports whether hot blocks are translated to native code.
func (c *CPU) JIT() bool { return c.jit.on }

// heat counts a block's interpreted runs and translates it when it is hot.
func (c *CPU) heat(b *block) {
	b.heat++
	if b.heat < c.jit.threshold || b.mode != mode64 || c.Trace != nil || c.profile != nil {
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

// execNative runs a block's native code, then interprets the rest of the
// block from the instruction at which the native code left, if any.
func (c *CPU) execNative(b *block) {
	nb := b.native
	if nb.flagsIn {
		c.jit.flags = uint64(c.flags()&ArithFlags | 2)
	}
	u := c.tlbUser()
	c.jit.tlbRead = tlbAddr(&c.tlb.Read[u])
	c.jit.tlbWrit = tlbAddr(&c.tlb.Write[u])
	r := jitEnter(nb.entry, c)
	if r&jitFlagsOut != 0 {
		c.eflags = c.eflags&^ArithFlags | uint32(c.jit.flags)&ArithFlags
		c.lz.op = lzNone
	}
	i := int(r & jitIndexMask)
	c.tlb.Hits += uint64(nb.hits[i])
	c.Stats.NativeInstructions += uint64(i)
	if i == len(b.insts) {
		c.Stats.Instructions += uint64(i)
		return
	}
	c.execBlock(b, &b.exec[i])
}
