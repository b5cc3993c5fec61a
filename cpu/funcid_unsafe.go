package cpu

import (
	"unsafe"

	"github.com/gemu-project/gemu/mmu"
)

// funcID returns the code pointer of a handler, so that the translator can
// recognise which generic handler the table chose. This is the only use of
// unsafe in the package, with nextInst, instIndex and tlbAddr below (and
// the native code's offsets, jit_amd64.go).
func funcID(h handler) uintptr {
	if h == nil {
		return 0
	}
	return **(**uintptr)(unsafe.Pointer(&h))
}

// nextInst is the operation after in in its block's exec list; execBlock
// stops at the one marked last, so the pointer never leaves the list.
func nextInst(in *inst) *inst {
	return (*inst)(unsafe.Add(unsafe.Pointer(in), unsafe.Sizeof(inst{})))
}

// instIndex is the index of in, an element of list.
func instIndex(list []inst, in *inst) int {
	return int((uintptr(unsafe.Pointer(in)) - uintptr(unsafe.Pointer(&list[0]))) / unsafe.Sizeof(inst{}))
}

// tlbAddr is the address of a TLB table, for native code (jit.go).
func tlbAddr(t *[mmu.TLBSize]mmu.TLBEntry) uintptr { return uintptr(unsafe.Pointer(t)) }
