package cpu_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// The block profile ranks a loop first, with one execution per iteration,
// and survives the rewriting of the loop's page (the count is kept, the
// disassembly is not).
func TestHotBlocks(t *testing.T) {
	// mov cx,1000; l: add ax,cx; dec cx; jnz l; mov byte [0x7C20],0x90; hlt
	code := []byte{0xB9, 0xE8, 0x03, 0x01, 0xC8, 0x49, 0x75, 0xFB, 0xC6, 0x06, 0x20, 0x7C, 0x90, 0xF4}
	mem, err := mmu.NewMemory(2 << 20)
	require.NoError(t, err)
	require.NoError(t, mem.WriteAt(0x7C00, code))
	c := cpu.New(mem, &nullIO{}, nil)
	require.Nil(t, c.HotBlocks(5), "profiling is off")
	c.ProfileBlocks(true)
	s := cpu.ResetState(0, 0x7C00)
	s.GPR[cpu.ESP] = 0x7000
	c.SetState(&s)

	// The block at 0x7C00 (mov and the first iteration), then the loop's
	// own block 999 times: stop before the self-modifying store.
	r, err := c.Run(4 + 3*999)
	require.NoError(t, err)
	require.Equal(t, cpu.StopLimit, r)
	hot := c.HotBlocks(5)
	require.NotEmpty(t, hot)
	loop := hot[0]
	require.Equal(t, uint64(0x7C03), loop.Addr)
	require.Equal(t, 3, loop.Instructions)
	require.Equal(t, uint64(999), loop.Execs)
	require.Equal(t, uint64(3*999), loop.Retired())
	require.Equal(t, 16, loop.Mode)
	require.Equal(t, []string{"add ax, cx", "dec cx", "jnz 0x7c03"}, loop.Code)

	// The store rewrites the loop's page: the blocks are dropped, their
	// counts kept.
	r, err = c.Run(100)
	require.NoError(t, err)
	require.Equal(t, cpu.StopHalt, r)
	hot = c.HotBlocks(5)
	require.Equal(t, uint64(0x7C03), hot[0].Addr)
	require.Equal(t, uint64(999), hot[0].Execs, "the first iteration ran in the block at 0x7C00")
	require.Empty(t, hot[0].Code, "the page was rewritten: no disassembly")
}
