package cpu

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/mmu"
)

// longMachine maps the first 2 MiB with one 2 MiB page through 4-level
// paging and returns a CPU in 64-bit mode at 0x1000 with code loaded.
func longMachine(t *testing.T, code []byte) (*CPU, *mmu.Memory) {
	t.Helper()
	mem, err := mmu.NewMemory(4 << 20)
	require.NoError(t, err)
	put := func(a uint64, v uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		require.NoError(t, mem.WriteAt(mmu.GPA(a), b[:]))
	}
	put(0x10000, 0x11000|3)       // PML4E
	put(0x11000, 0x12000|3)       // PDPTE
	put(0x12000, 0x0|0x80|3)      // PDE: 2 MiB page at 0
	put(0x12008, 0x200000|0x80|3) // PDE: 2 MiB page at 2 MiB
	require.NoError(t, mem.WriteAt(0x1000, code))
	c := New(mem, testIO{}, nil)
	s := FlatProtectedState(0x1000)
	s.CR0 |= CR0PG
	s.CR4 = CR4PAE
	s.CR3 = 0x10000
	s.EFER = EFERLME | EFERLMA | EFERSCE | EFERNXE
	s.Seg[CS] = Segment{Selector: 0x08, Limit: 0xFFFFFFFF, Access: AccP | AccS | AccCode | AccWritable | AccL | AccG}
	s.GPR[ESP] = 0x8000
	c.SetState(&s)
	return c, mem
}

func TestLongModeBasics(t *testing.T) {
	code := []byte{
		0x48, 0xB8, 0xF0, 0xDE, 0xBC, 0x9A, 0x78, 0x56, 0x34, 0x12, // mov rax, 0x123456789abcdef0
		0x48, 0x89, 0xC3, // mov rbx, rax
		0x48, 0x01, 0xC3, // add rbx, rax
		0x49, 0x89, 0xD8, // mov r8, rbx
		0x41, 0xFF, 0xC0, // inc r8d (zero-extends into r8)
		0x50,       // push rax
		0x41, 0x59, // pop r9
		0x48, 0x8D, 0x0D, 0x10, 0x00, 0x00, 0x00, // lea rcx, [rip+0x10]
		0x40, 0xB6, 0x7F, // mov sil, 0x7f (REX: SIL, not DH)
		0x48, 0x63, 0xD6, // movsxd rdx, esi
		0x48, 0xC7, 0xC7, 0xFF, 0xFF, 0xFF, 0xFF, // mov rdi, -1 (imm32 sign-extended)
		0x66, 0x89, 0xC7, // mov di, ax (keeps the upper bits)
		0xF4,
	}
	c, _ := longMachine(t, code)
	r, err := c.Run(100)
	require.NoError(t, err)
	require.Equal(t, StopHalt, r)
	s := c.State()
	require.Equal(t, uint64(0x123456789ABCDEF0), s.GPR[EAX])
	require.Equal(t, uint64(0x2468ACF13579BDE0), s.GPR[EBX])
	require.Equal(t, uint64(0x3579BDE1), s.GPR[8])
	require.Equal(t, uint64(0x123456789ABCDEF0), s.GPR[9])
	require.Equal(t, uint64(0x1000+32+0x10), s.GPR[ECX])
	require.Equal(t, uint64(0x7F), s.GPR[ESI]&0xFF)
	require.Equal(t, uint64(0), s.GPR[EDX]>>32)
	require.Equal(t, uint64(0xFFFFFFFFFFFFDEF0), s.GPR[EDI])
	require.Equal(t, uint64(0x8000), s.GPR[ESP])
}

func TestSyscallSysret(t *testing.T) {
	code := make([]byte, 0x100)
	copy(code, []byte{0x0F, 0x05, 0xF4})        // syscall; hlt (after sysret)
	copy(code[0x80:], []byte{0x48, 0x0F, 0x07}) // kernel: sysretq
	c, _ := longMachine(t, code)
	c.msr.star = uint64(0x08)<<32 | uint64(0x1B)<<48 // kernel CS 0x08; user base 0x1B
	c.msr.lstar = 0x1080
	c.msr.sfmask = FlagIF
	c.eflags |= FlagIF
	_, _ = c.Run(1) // SYSCALL
	require.Equal(t, uint64(0x1080), c.EIP)
	require.Equal(t, uint64(0x1002), c.R[ECX])
	require.NotZero(t, c.R[11]&FlagIF)
	require.Zero(t, c.eflags&FlagIF)
	require.Equal(t, uint16(0x08), c.Seg[CS].Selector)
	require.Equal(t, 0, c.cpl)
	_, _ = c.Run(1) // SYSRETQ
	require.Equal(t, uint64(0x1002), c.EIP)
	require.Equal(t, uint16(0x2B), c.Seg[CS].Selector)
	require.Equal(t, uint16(0x23), c.Seg[SS].Selector)
	require.Equal(t, 3, c.cpl)
	require.Equal(t, uint8(mode64), c.mode)
	require.NotZero(t, c.eflags&FlagIF)
}

// SYSCALL with TF masked by SFMASK does not trap; SYSRET that sets TF traps
// at once (what Linux and kvm-unit-tests' syscall test rely on).
func TestSyscallSingleStep(t *testing.T) {
	code := make([]byte, 0x100)
	copy(code, []byte{0x0F, 0x05, 0x90, 0xF4})  // syscall; nop; hlt
	copy(code[0x80:], []byte{0x48, 0x0F, 0x07}) // kernel: sysretq
	c, _ := longMachine(t, code)
	c.msr.star = uint64(0x08)<<32 | uint64(0x1B)<<48
	c.msr.lstar = 0x1080
	c.msr.sfmask = FlagTF
	c.eflags |= FlagTF
	_, err := c.Run(1) // SYSCALL: TF cleared on entry, no #DB
	require.NoError(t, err)
	require.Equal(t, uint64(0x1080), c.EIP)
	require.Zero(t, c.Stats.Exceptions)
	// SYSRETQ restores RFLAGS from R11 (TF set): the #DB follows it at once;
	// with no IDT that ends in a triple fault.
	_, err = c.Run(1)
	require.Error(t, err)
	require.NotZero(t, c.DR[6]&(1<<14))
}
