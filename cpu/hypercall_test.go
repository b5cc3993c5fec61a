package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeHypervisor records what the CPU hands it.
type fakeHypervisor struct {
	calls      []uint64 // RAX of each hypercall
	cpls       []int
	tscChanges int
}

func (h *fakeHypervisor) CPUID(leaf, sub uint32) (a, b, c, d uint32, ok bool) {
	if leaf == 0x40000000 {
		return 0x40000001, 0x11, 0x22, 0x33, true
	}
	return 0, 0, 0, 0, false
}

func (h *fakeHypervisor) Hypercall(c *CPU) {
	h.calls = append(h.calls, c.R[EAX])
	h.cpls = append(h.cpls, c.CPL())
	c.R[EAX] = 42
}

func (h *fakeHypervisor) TSCChanged(c *CPU) { h.tscChanges++ }

var (
	codeVMCALL  = []byte{0x0F, 0x01, 0xC1}
	codeVMMCALL = []byte{0x0F, 0x01, 0xD9}
)

// Without a hypervisor VMCALL and VMMCALL are #UD, as outside VMX/SVM
// operation on silicon (SDM Vol. 3C §32.3; AMD APM Vol. 3 VMMCALL); with one,
// only the two hypercall encodings reach it and the other register forms of
// 0F 01 /0 and /3 (VMLAUNCH, VMRESUME, VMRUN, VMLOAD…) stay #UD.
func TestHypercallDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		hv   bool
		ud   bool
	}{
		{"vmcall without hypervisor", codeVMCALL, false, true},
		{"vmmcall without hypervisor", codeVMMCALL, false, true},
		{"vmcall", codeVMCALL, true, false},
		{"vmmcall", codeVMMCALL, true, false},
		{"vmlaunch", []byte{0x0F, 0x01, 0xC2}, true, true},
		{"vmxoff", []byte{0x0F, 0x01, 0xC4}, true, true},
		{"vmrun", []byte{0x0F, 0x01, 0xD8}, true, true},
		{"vmload", []byte{0x0F, 0x01, 0xDA}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := append([]byte{0xB8, 7, 0, 0, 0}, tc.code...) // mov eax, 7
			code = append(code, 0xF4)
			c, _ := longMachine(t, code)
			h := &fakeHypervisor{}
			if tc.hv {
				c.Hypervisor = h
			}
			r, err := c.Run(100)
			if tc.ud {
				// No IDT: the #UD becomes a triple fault whose chain starts with it.
				require.Equal(t, StopShutdown, r, "%v", err)
				require.Equal(t, uint8(ExcUD), c.faultChain[0].vector, c.describeFaultChain())
				require.Empty(t, h.calls)
				return
			}
			require.NoError(t, err)
			require.Equal(t, StopHalt, r)
			require.Equal(t, []uint64{7}, h.calls)
			require.Equal(t, []int{0}, h.cpls)
			require.Equal(t, uint64(42), c.R[EAX])
			require.Equal(t, uint64(0x1000+5+3+1), c.EIP)
		})
	}
}

// The memory forms that share the group-7 slots are unchanged: SGDT m and
// LIDT m.
func TestHypercallSlotsKeepSGDTAndLIDT(t *testing.T) {
	code := []byte{
		0x0F, 0x01, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, // sgdt [0x3000]
		0x0F, 0x01, 0x1C, 0x25, 0x00, 0x30, 0x00, 0x00, // lidt [0x3000]
		0xF4,
	}
	c, _ := longMachine(t, code)
	c.Hypervisor = &fakeHypervisor{}
	c.GDTR = DTR{Base: 0x123456789A, Limit: 0x3F}
	r, err := c.Run(10)
	require.NoError(t, err)
	require.Equal(t, StopHalt, r)
	require.Equal(t, c.GDTR, c.IDTR)
}

// CPUID with a hypervisor: its leaves, and CPUID.01H:ECX[31] set; without
// one the bit is clear and leaf 40000000H is the model's.
func TestHypervisorCPUID(t *testing.T) {
	c := &CPU{Frequencies: Frequencies{TSCHz: 1e9, CrystalHz: 25e6}}
	_, _, ecx, _ := c.cpuid(1, 0)
	require.Zero(t, ecx&featHypervisor)
	plain0 := [4]uint32{}
	plain0[0], plain0[1], plain0[2], plain0[3] = c.cpuid(0, 0)

	c.Hypervisor = &fakeHypervisor{}
	_, _, ecx2, _ := c.cpuid(1, 0)
	require.Equal(t, ecx|featHypervisor, ecx2)
	a, b, cc, d := c.cpuid(0x40000000, 0)
	require.Equal(t, [4]uint32{0x40000001, 0x11, 0x22, 0x33}, [4]uint32{a, b, cc, d})
	a, b, cc, d = c.cpuid(0, 0)
	require.Equal(t, plain0, [4]uint32{a, b, cc, d})
}

// A guest write to IA32_TSC is reported to the hypervisor.
func TestHypervisorTSCChanged(t *testing.T) {
	code := []byte{
		0xB9, 0x10, 0, 0, 0, // mov ecx, IA32_TSC
		0x31, 0xC0, // xor eax, eax
		0x31, 0xD2, // xor edx, edx
		0x0F, 0x30, // wrmsr
		0xF4,
	}
	c, _ := longMachine(t, code)
	h := &fakeHypervisor{}
	c.Hypervisor = h
	_, err := c.Run(10)
	require.NoError(t, err)
	require.Equal(t, 1, h.tscChanges)
}
