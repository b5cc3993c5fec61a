package cpu

import "github.com/gemu-project/gemu/mmu"

// Hooks for a paravirtual hypervisor (hv/gemuhc.go): what a hypercall may do
// to the vCPU on the guest's behalf. Each makes the checks of the
// instruction it stands for, but reports a value that instruction would
// refuse instead of raising an exception in the guest: the hypercall then
// returns an error code.

// SetCR3 loads CR3 as MOV to CR3 does (SDM Vol. 3A §4.10.4.1: the non-global
// translations are flushed; with PAE paging the four PDPTEs are loaded,
// §4.4.1), and ends the current block so that no block chained under the
// old address space is followed. It reports false, and changes nothing,
// for a value MOV to CR3 would not load: outside IA-32e mode one wider than
// 32 bits (the instruction takes only 32), in IA-32e mode one with bits at
// or above MAXPHYADDR (#GP(0), SDM Vol. 2B MOV—Move to/from Control
// Registers), and with PAE paging one whose PDPTEs have a reserved bit set
// in a present entry (#GP(0), §4.4.1).
func (c *CPU) SetCR3(v uint64) bool {
	if c.long && v>>physAddrBits != 0 || !c.long && v>>32 != 0 {
		return false
	}
	if c.CR4&CR4PAE != 0 && c.CR0&CR0PG != 0 && !c.long && !c.validPDPTEs(v) {
		return false
	}
	c.writeCR3(v)
	c.stop = true
	return true
}

// validPDPTEs reports whether loadPDPTEs would take the PDPTEs at cr3
// without #GP(0).
func (c *CPU) validPDPTEs(cr3 uint64) bool {
	base := cr3 &^ 0x1F
	for i := uint64(0); i < 4; i++ {
		a := base + i*8
		e := uint64(c.mem.Read32(mmu.GPA(a))) | uint64(c.mem.Read32(mmu.GPA(a+4)))<<32
		if e&1 != 0 && e&(0x1E6|^uint64(1<<physAddrBits-1)) != 0 {
			return false
		}
	}
	return true
}
