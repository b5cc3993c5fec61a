//go:build linux && amd64

#include "textflag.h"

// func enter(ctx uintptr)
//
// ABI0, so every general register may be clobbered except SP and BP; the
// ABI wrapper restores R14 (g) and X15 on return. NOSPLIT with a fixed
// frame: the code uses no stack but the CALL's return address and the
// epilogue's PUSHFQ. Not preemptible: the runtime never asynchronously
// preempts at a PC outside Go code, and signal handlers run on the signal
// stack and find g through TLS.
TEXT ·enter(SB), NOSPLIT, $16-8
	MOVQ ctx+0(FP), AX
	MOVQ BP, 8(SP)
	MOVQ 136(AX), BX // entry
	MOVQ BX, 0(SP)
	PUSHQ 128(AX)    // RFLAGS
	POPFQ
	MOVQ 8(AX), CX
	MOVQ 16(AX), DX
	MOVQ 24(AX), BX
	MOVQ 40(AX), BP
	MOVQ 48(AX), SI
	MOVQ 56(AX), DI
	MOVQ 64(AX), R8
	MOVQ 72(AX), R9
	MOVQ 80(AX), R10
	MOVQ 88(AX), R11
	MOVQ 96(AX), R12
	MOVQ 104(AX), R13
	MOVQ 112(AX), R14
	MOVQ 120(AX), R15
	MOVQ 0(AX), AX
	CALL 0(SP)
	CLD
	MOVQ 8(SP), BP
	RET
