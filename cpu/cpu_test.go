package cpu_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

type nullIO struct{ out []uint32 }

func (n *nullIO) In(port uint16, size int) uint32 { return 0xFFFFFFFF >> (32 - 8*size) }
func (n *nullIO) Out(port uint16, size int, v uint32) {
	n.out = append(n.out, v)
}

// runReal runs code at 0000:7C00 in real mode until HLT.
func runReal(t *testing.T, code []byte) cpu.State {
	t.Helper()
	mem, err := mmu.NewMemory(2 << 20)
	require.NoError(t, err)
	require.NoError(t, mem.WriteAt(0x7C00, code))
	c := cpu.New(mem, &nullIO{}, nil)
	s := cpu.ResetState(0, 0x7C00)
	s.GPR[cpu.ESP] = 0x7000
	c.SetState(&s)
	r, err := c.Run(1000)
	require.NoError(t, err)
	require.Equal(t, cpu.StopHalt, r)
	return c.State()
}

func TestRealModeArithmetic(t *testing.T) {
	// mov ax,5; add ax,3; mov cx,4; l: add ax,ax; loop l; hlt
	st := runReal(t, []byte{0xB8, 5, 0, 0x05, 3, 0, 0xB9, 4, 0, 0x01, 0xC0, 0xE2, 0xFC, 0xF4})
	require.Equal(t, uint64(8<<4), st.GPR[cpu.EAX])
	require.Equal(t, uint64(0), st.GPR[cpu.ECX])
	require.Equal(t, uint64(0x7C0E), st.EIP)
}

func TestDivideErrorRealMode(t *testing.T) {
	// IVT[0] → 0000:7D00 (hlt). xor cx,cx; div cx → #DE.
	code := make([]byte, 0x101)
	copy(code, []byte{0x31, 0xC9, 0xF7, 0xF1, 0xF4})
	code[0x100] = 0xF4
	mem, _ := mmu.NewMemory(2 << 20)
	require.NoError(t, mem.WriteAt(0x7C00, code))
	mem.Write16(0, 0x7D00)
	mem.Write16(2, 0)
	c := cpu.New(mem, &nullIO{}, nil)
	s := cpu.ResetState(0, 0x7C00)
	s.GPR[cpu.ESP] = 0x7000
	c.SetState(&s)
	r, err := c.Run(100)
	require.NoError(t, err)
	require.Equal(t, cpu.StopHalt, r)
	st := c.State()
	require.Equal(t, uint64(0x7D01), st.EIP)
	// The pushed IP is that of the DIV (a fault).
	require.Equal(t, uint16(0x7C02), mem.Read16(0x7000-6))
}
