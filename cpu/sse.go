package cpu

// SSE and SSE2 (SDM Vol. 1 chapters 10 and 11). Not emulated yet: CPUID
// reports neither, and the 0F-prefixed SSE opcodes raise #UD.

// sseState is the SSE unit's state inside the CPU (the XMM registers and
// MXCSR live in the FPU state for now).
type sseState struct{}

// registerSSE installs the SSE rows of the opcode table.
func registerSSE() {}
