//go:build linux && amd64

#include "textflag.h"

// func jitEnter(entry uintptr, c *CPU) uint64
//
// ABI0: the native code may clobber every general register but SP and BP
// (it uses RAX, RBX, RCX, RDX, RSI); the ABI wrapper restores R14 and X15.
// NOSPLIT with a fixed frame: the code uses no stack but the CALL's return
// address and a PUSHFQ or two. The runtime never asynchronously preempts
// at a PC outside Go code, and signals run on the signal stack.
TEXT ·jitEnter(SB), NOSPLIT, $16-24
	MOVQ entry+0(FP), AX
	MOVQ c+8(FP), BX
	CALL AX
	MOVQ AX, ret+16(FP)
	RET
