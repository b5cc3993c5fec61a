package cpu

// The paravirtual hook: what a CPU does for a hypervisor that shows itself to
// the guest. The cpu package knows no particular hypervisor; hv/pv.go
// implements KVM's interface over this one.

// featHypervisor is CPUID.01H:ECX[31], which hypervisors set to tell the guest
// that it is virtualized and may look at leaves 40000000H and up (SDM Vol. 2A
// CPUID, Table 3-10: "not used, always returns 0" on silicon; Linux's
// X86_FEATURE_HYPERVISOR).
const featHypervisor = 1 << 31

// Hypervisor is the paravirtual interface a machine offers its guest.
type Hypervisor interface {
	// CPUID answers the leaves the hypervisor owns (40000000H–400000FFH);
	// ok false leaves the leaf to the processor model.
	CPUID(leaf, sub uint32) (a, b, c, d uint32, ok bool)
	// Hypercall serves VMCALL (0F 01 C1) and VMMCALL (0F 01 D9) at any CPL:
	// the calling convention (arguments and result in c.R) and the
	// privilege rules are the hypervisor's. Hypercall may change the
	// interrupt state; the block ends after the instruction.
	Hypercall(c *CPU)
	// TSCChanged tells that the guest wrote IA32_TSC, so that structures
	// in guest memory that relate the TSC to time can be refreshed.
	TSCChanged(c *CPU)
}

// hypervisorCPUID is CPUID with a Hypervisor attached: its leaves, and the
// model's with the hypervisor-present bit.
func (c *CPU) hypervisorCPUID(leaf, sub uint32) (a, b, cc, d uint32) {
	if a, b, cc, d, ok := c.Hypervisor.CPUID(leaf, sub); ok {
		return a, b, cc, d
	}
	a, b, cc, d = c.modelCPUID(leaf, sub)
	if leaf == 1 {
		cc |= featHypervisor
	}
	return a, b, cc, d
}

// opGrp7Slot0 is 0F 01 /0: SGDT with a memory operand, VMCALL (C1) in the
// register forms; the other register forms (VMX instructions) are #UD.
func opGrp7Slot0(c *CPU, in *inst) {
	if in.mem {
		opSGDT(c, in)
		return
	}
	if in.rm&7 != 1 {
		c.ud()
	}
	c.hypercall()
}

// opGrp7Slot3 is 0F 01 /3: LIDT with a memory operand, VMMCALL (D9) in the
// register forms; the other register forms (SVM instructions) are #UD.
func opGrp7Slot3(c *CPU, in *inst) {
	if in.mem {
		opLIDT(c, in)
		return
	}
	if in.rm&7 != 1 {
		c.ud()
	}
	c.hypercall()
}

// hypercall is VMCALL or VMMCALL. Outside VMX or SVM operation they are #UD
// (SDM Vol. 3C §32.3 VMCALL; AMD APM Vol. 3 VMMCALL): with no Hypervisor the
// machine stays indistinguishable from silicon.
func (c *CPU) hypercall() {
	if c.Hypervisor == nil {
		c.ud()
	}
	c.Hypervisor.Hypercall(c)
}

// SetInterrupts replaces the interrupt controller the CPU asks at block
// boundaries (a hypervisor may interpose on the acknowledge cycle).
func (c *CPU) SetInterrupts(intr Interrupts) {
	c.intr = intr
	c.intrHint, c.intrPoll = true, true
	if n, ok := intr.(InterruptNotifier); ok {
		n.NotifyPending(c.InterruptHint)
		c.intrPoll = false
	}
}

// InterruptHint says that the interrupt controller's Pending may have
// turned true: the CPU asks it at the next block boundary with IF set.
func (c *CPU) InterruptHint() { c.intrHint = true }

// TSCOffset is what the guest's writes to IA32_TSC added to the counter:
// the TSC reads TimeStampCounter() + TSCOffset().
func (c *CPU) TSCOffset() uint64 { return c.tscOff }
