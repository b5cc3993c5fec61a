package cpu

// The x87 FPU (SDM Vol. 1 chapter 8). Not emulated yet: the escape opcodes
// D8–DF keep the table's opESC row (#NM with CR0.EM/TS, else no operation),
// and CPUID reports no FPU.

// x87State is the FPU's state inside the CPU.
type x87State struct {
	fpu FPUState
}

// registerX87 installs the x87 rows of the opcode table.
func registerX87() {}

// loadFPU and storeFPU move the x87/SSE state in and out of State.
func (c *CPU) loadFPU(s *FPUState) { c.x87.fpu = *s }

func (c *CPU) storeFPU(s *FPUState) { *s = c.x87.fpu }
