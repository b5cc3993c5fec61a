package cpu_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// pollPIC is an interrupt controller that the CPU must ask before every
// block; notifyPIC tells the CPU when it raises its line.
type pollPIC struct{ pending bool }

func (p *pollPIC) Pending() bool { return p.pending }
func (p *pollPIC) Acknowledge() uint8 {
	p.pending = false
	return 0x20
}

type notifyPIC struct {
	pollPIC
	notify func()
}

func (p *notifyPIC) NotifyPending(f func()) { p.notify = f }

// raisingIO raises the interrupt when the guest writes port 0x80, telling
// the CPU or not.
type raisingIO struct {
	nullIO
	pic    *pollPIC
	notify func()
}

func (r *raisingIO) Out(port uint16, size int, v uint32) {
	r.pic.pending = true
	if r.notify != nil {
		r.notify()
	}
}

// TestInterruptHint: with a controller that notifies, the CPU asks for
// interrupts only after a notification (or at the start of a slice); with
// one that does not, before every block.
func TestInterruptHint(t *testing.T) {
	// sti; mov cx,50; w: loop w; out 0x80,al; l: inc bx; jmp l — and at
	// 0x7D00: mov ax,0x1234; hlt.
	code := make([]byte, 0x104)
	copy(code, []byte{0xFB, 0xB9, 50, 0, 0xE2, 0xFE, 0xE6, 0x80, 0x43, 0xEB, 0xFD})
	copy(code[0x100:], []byte{0xB8, 0x34, 0x12, 0xF4})
	run := func(intr cpu.Interrupts, io *raisingIO) (*cpu.CPU, cpu.StopReason) {
		mem, err := mmu.NewMemory(2 << 20)
		require.NoError(t, err)
		require.NoError(t, mem.WriteAt(0x7C00, code))
		mem.Write16(0x20*4, 0x7D00) // IVT[0x20] = 0000:7D00
		mem.Write16(0x20*4+2, 0)
		c := cpu.New(mem, io, intr)
		s := cpu.ResetState(0, 0x7C00)
		s.GPR[cpu.ESP] = 0x7000
		c.SetState(&s)
		r, err := c.Run(10000)
		require.NoError(t, err)
		return c, r
	}
	taken := func(c *cpu.CPU) bool { return c.State().GPR[cpu.EAX] == 0x1234 }

	poll := &pollPIC{}
	c, r := run(poll, &raisingIO{pic: poll})
	require.Equal(t, cpu.StopHalt, r, "a polled controller's interrupt is taken at once")
	require.True(t, taken(c))

	n := &notifyPIC{}
	io := &raisingIO{pic: &n.pollPIC}
	io.notify = func() { n.notify() }
	c, r = run(n, io)
	require.Equal(t, cpu.StopHalt, r, "a notified interrupt is taken at once")
	require.True(t, taken(c))

	quiet := &notifyPIC{}
	c, r = run(quiet, &raisingIO{pic: &quiet.pollPIC})
	require.Equal(t, cpu.StopLimit, r, "without a notification the CPU does not ask within the slice")
	require.False(t, taken(c))
	r, err := c.Run(10000)
	require.NoError(t, err)
	require.Equal(t, cpu.StopHalt, r, "the next slice asks")
	require.True(t, taken(c))
}
