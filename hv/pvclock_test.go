package hv

import (
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// pvMachine is a pv-mode machine under icount, whose time the test sets
// through the instruction counter; no instruction runs.
func pvMachine(t *testing.T) *Machine {
	t.Helper()
	m, err := New(Config{Kernel: filepath.Join("..", "testdata", "hello.bin"), MemSize: 16 << 20, Paravirt: true, ICount: true})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NotNil(t, m.pv)
	return m
}

// setTime moves the machine clock to t (icount, shift 0: 1 ns per instruction).
func setTime(m *Machine, t time.Duration) { *m.clock.insns = uint64(t) }

func readTimeInfo(t *testing.T, m *Machine, addr mmu.GPA) (pvclockTimeInfo, uint32) {
	t.Helper()
	b := make([]byte, pvclockTimeInfoSize)
	require.NoError(t, m.Mem.ReadAt(addr, b))
	return decodePvclockTimeInfo(b)
}

// The scale KVM would choose (kvm_get_time_scale): mul in [2^31, 2^32), and
// the conversion within the precision of a 32-bit fraction.
func TestPvclockScale(t *testing.T) {
	shift, mul := pvclockScale(1_000_000_000)
	require.Equal(t, int8(1), shift)
	require.Equal(t, uint32(1<<31), mul)
	for _, hz := range []uint64{1_000_000_000, 2_500_000_000, 3_000_000_007, 4_294_967_296, 10_000_000_000, 100_000_000, 33_333_333, 1_000_000} {
		shift, mul := pvclockScale(hz)
		require.GreaterOrEqual(t, mul, uint32(1<<31), "hz %d", hz)
		ti := pvclockTimeInfo{Mul: mul, Shift: shift}
		for _, ticks := range []uint64{0, 1, 12345, hz, 1000 * hz} {
			want := float64(ticks) * 1e9 / float64(hz)
			got := float64(ti.read(ticks))
			require.InDelta(t, want, got, 1+want*0x1p-31, "hz %d, %d ticks", hz, ticks)
		}
	}
}

// kvm-clock as the guest reads it (the pvclock formula on its TSC) is the
// machine clock, to the nanosecond, at any later time; also after the guest
// moved its TSC.
func TestKVMClockReadsMachineClock(t *testing.T) {
	m := pvMachine(t)
	k := m.pv
	const addr = 0x5000
	setTime(m, 1234567891)
	require.True(t, k.WriteMSR(msrKVMSystemTime, addr|kvmMSREnabled))
	ti, version := readTimeInfo(t, m, addr)
	require.Equal(t, uint32(2), version, "written once: odd, then even")
	require.Equal(t, uint64(1234567891), ti.SystemTime)
	require.Equal(t, uint8(pvclockTSCStable), ti.Flags)
	v, ok := k.ReadMSR(msrKVMSystemTime)
	require.True(t, ok)
	require.Equal(t, uint64(addr|kvmMSREnabled), v)

	guestTSC := func(now time.Duration) uint64 { return m.clock.tscAt(now) + m.CPU.TSCOffset() }
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(ti pvclockTimeInfo) {
		for i := 0; i < 1000; i++ {
			now := time.Duration(ti.SystemTime) + time.Duration(rng.Int64N(int64(30*24*time.Hour)))
			got := ti.read(guestTSC(now))
			require.InDelta(t, float64(now), float64(got), 1, "at %v", now)
		}
	}
	check(ti)

	// The guest writes IA32_TSC (through the CPU, which tells the
	// hypervisor): tsc_timestamp follows, the clock does not jump.
	setTime(m, 5*time.Second)
	s := m.CPU.State()
	s.TSC = 42
	m.CPU.SetState(&s) // the offset as a WRMSR would leave it
	k.TSCChanged(m.CPU)
	ti2, version := readTimeInfo(t, m, addr)
	require.Equal(t, uint32(4), version)
	require.Equal(t, uint64(42), ti2.TSCTimestamp)
	require.Equal(t, uint64(5*time.Second), ti2.SystemTime)
	check(ti2)

	// Disabled: the structure is left alone.
	require.True(t, k.WriteMSR(msrKVMSystemTime, addr))
	setTime(m, 6*time.Second)
	k.TSCChanged(m.CPU)
	_, version = readTimeInfo(t, m, addr)
	require.Equal(t, uint32(4), version)
}

// The wall clock is the time at which kvm-clock read 0: under icount, the
// RTC's epoch.
func TestKVMWallClock(t *testing.T) {
	m := pvMachine(t)
	const addr = 0x6004
	setTime(m, 3*time.Second)
	for _, want := range []uint32{2, 4} {
		require.True(t, m.pv.WriteMSR(msrKVMWallClock, addr))
		b := make([]byte, pvclockWallClockSize)
		require.NoError(t, m.Mem.ReadAt(addr, b))
		require.Equal(t, want, binary.LittleEndian.Uint32(b[0:]), "version")
		require.Equal(t, uint32(icountEpoch.Unix()), binary.LittleEndian.Uint32(b[4:]), "sec")
		require.Equal(t, uint32(icountEpoch.Nanosecond()), binary.LittleEndian.Uint32(b[8:]), "nsec")
	}
}

// Structures that are not all in RAM make the WRMSR fault (#GP), and leave
// the MSR as it was; so does a misaligned PV EOI word. Other MSRs reach the
// local APIC.
func TestKVMMSRsRefuseBadAddresses(t *testing.T) {
	m := pvMachine(t)
	k := m.pv
	ram := m.Mem.Size()
	for _, tc := range []struct {
		msr uint32
		v   uint64
	}{
		{msrKVMWallClock, ram},
		{msrKVMWallClock, ram - pvclockWallClockSize + 1},
		{msrKVMWallClock, 1 << 32},
		{msrKVMWallClock, 0xFEE00000},
		{msrKVMSystemTime, ram | kvmMSREnabled},
		{msrKVMSystemTime, (ram - 16) | kvmMSREnabled},
		{msrKVMSystemTime, 0xFFFFF000 | kvmMSREnabled},
		{msrKVMSystemTime, 1<<63 | kvmMSREnabled},
		{msrKVMPVEOI, ram | kvmMSREnabled},
		{msrKVMPVEOI, 0x1002 | kvmMSREnabled},
		{msrKVMPVEOI, 0x1002},
	} {
		before, _ := k.ReadMSR(tc.msr)
		require.False(t, k.WriteMSR(tc.msr, tc.v), "MSR %#x ← %#x", tc.msr, tc.v)
		after, _ := k.ReadMSR(tc.msr)
		require.Equal(t, before, after)
	}
	// Disabled, the address is not looked at (as KVM).
	require.True(t, k.WriteMSR(msrKVMSystemTime, 0xFFFFF000))
	require.True(t, k.WriteMSR(msrKVMPVEOI, 0xFFFFF000))
	require.True(t, k.WriteMSR(msrKVMAsyncPF, 0))
	base, ok := k.ReadMSR(0x1B) // IA32_APIC_BASE, from the local APIC
	require.True(t, ok)
	require.Equal(t, uint64(0xFEE00900), base)
	_, ok = k.ReadMSR(0x4B564D03) // steal time: not offered
	require.False(t, ok)
	require.False(t, k.WriteMSR(0x4B564D03, 0x1000|1))
}

func TestKVMCPUIDLeaves(t *testing.T) {
	m := pvMachine(t)
	a, b, c, d, ok := m.pv.CPUID(0x40000000, 0)
	require.True(t, ok)
	require.Equal(t, uint32(0x40000001), a)
	sig := make([]byte, 12)
	binary.LittleEndian.PutUint32(sig[0:], b)
	binary.LittleEndian.PutUint32(sig[4:], c)
	binary.LittleEndian.PutUint32(sig[8:], d)
	require.Equal(t, "KVMKVMKVM\x00\x00\x00", string(sig))
	a, b, c, d, ok = m.pv.CPUID(0x40000001, 0)
	require.True(t, ok)
	require.Equal(t, uint32(1<<1|1<<3|1<<6|1<<11|1<<13|1<<24), a)
	require.Zero(t, b|c|d, "no hints")
	a, b, c, d, ok = m.pv.CPUID(0x40000002, 0)
	require.True(t, ok)
	require.Zero(t, a|b|c|d)
	_, _, _, _, ok = m.pv.CPUID(1, 0)
	require.False(t, ok, "the model answers leaf 1, with the hypervisor bit")
}

// enableAPIC software-enables the local APIC (SVR bit 8, spurious vector FF).
func enableAPIC(m *Machine) { m.LAPIC.Write(0xF0, []byte{0xFF, 0x01, 0, 0}) }

func apicBit(m *Machine, reg uint64, v uint8) bool {
	r := m.pv.apicBits(reg)
	return r[v>>5]&(1<<(v&31)) != 0
}

// PV EOI: an edge-triggered interrupt taken from the APIC sets the word;
// the guest's clearing it is its EOI, made before the next interrupt check.
// A level-triggered one, or one from the 8259, keeps the real EOI.
func TestPVEOI(t *testing.T) {
	m := pvMachine(t)
	k := m.pv
	enableAPIC(m)
	const word = 0x7000
	word0 := func() byte { b := make([]byte, 1); m.Mem.ReadAt(word, b); return b[0] }
	require.True(t, k.WriteMSR(msrKVMPVEOI, word|kvmMSREnabled))

	m.LAPIC.Deliver(0x31, false)
	require.True(t, k.Pending())
	require.Equal(t, uint8(0x31), k.Acknowledge())
	require.True(t, apicBit(m, lapicRegISR, 0x31))
	require.Equal(t, byte(kvmPVEOIBit), word0())
	require.False(t, k.Pending())
	require.True(t, apicBit(m, lapicRegISR, 0x31), "the bit is still set: no EOI yet")

	// A lower-priority interrupt waits behind the one in service until the
	// guest clears the bit.
	m.LAPIC.Deliver(0x22, false)
	require.False(t, k.Pending())
	require.NoError(t, m.Mem.WriteAt(word, []byte{0}))
	require.True(t, k.Pending(), "the PV EOI retired 0x31")
	require.False(t, apicBit(m, lapicRegISR, 0x31))
	require.Equal(t, uint8(0x22), k.Acknowledge())
	require.Equal(t, byte(kvmPVEOIBit), word0())

	// A higher one nests: the word moves to it, and the guest must write
	// the EOI register for the outer one.
	m.LAPIC.Deliver(0x51, false)
	require.True(t, k.Pending())
	require.Equal(t, uint8(0x51), k.Acknowledge())
	require.Equal(t, byte(kvmPVEOIBit), word0())
	require.NoError(t, m.Mem.WriteAt(word, []byte{0})) // PV EOI of 0x51
	k.Pending()
	require.False(t, apicBit(m, lapicRegISR, 0x51))
	require.True(t, apicBit(m, lapicRegISR, 0x22))
	m.LAPIC.Write(lapicRegEOI, []byte{0, 0, 0, 0}) // the guest's real EOI of 0x22
	require.False(t, apicBit(m, lapicRegISR, 0x22))

	// Level-triggered: no PV EOI (the IOAPIC must see the EOI).
	m.LAPIC.Deliver(0x41, true)
	require.Equal(t, uint8(0x41), k.Acknowledge())
	require.Equal(t, byte(0), word0())
	m.LAPIC.Write(lapicRegEOI, []byte{0, 0, 0, 0})

	// Disabling settles a pending PV EOI: one not yet made is left to the
	// guest (the word is cleared), one made is done.
	m.LAPIC.Deliver(0x33, false)
	require.Equal(t, uint8(0x33), k.Acknowledge())
	require.True(t, k.WriteMSR(msrKVMPVEOI, 0))
	require.Equal(t, byte(0), word0())
	require.True(t, apicBit(m, lapicRegISR, 0x33))
	m.LAPIC.Write(lapicRegEOI, []byte{0, 0, 0, 0})
	m.LAPIC.Deliver(0x34, false)
	require.Equal(t, uint8(0x34), k.Acknowledge())
	require.Equal(t, byte(0), word0(), "disabled")
}

// Hypercall results (hypercalls.rst): 32-bit outside 64-bit mode, EPERM
// above CPL 0, ENOSYS for unknown numbers; SEND_IPI reaches the APIC.
func TestKVMHypercalls(t *testing.T) {
	m := pvMachine(t)
	k := m.pv
	enableAPIC(m)
	c := m.CPU
	prot := cpu.FlatProtectedState(0x1000)
	long := prot
	long.CR0 |= cpu.CR0PG
	long.CR4 |= cpu.CR4PAE
	long.EFER = cpu.EFERLME | cpu.EFERLMA
	long.Seg[cpu.CS].Access = long.Seg[cpu.CS].Access&^cpu.AccDB | cpu.AccL
	user := prot
	user.Seg[cpu.CS].Selector |= 3
	user.Seg[cpu.CS].Access |= 3 << cpu.AccDPLShift
	call := func(s cpu.State, regs ...uint64) uint64 {
		s.GPR[cpu.EAX], s.GPR[cpu.EBX], s.GPR[cpu.ECX], s.GPR[cpu.EDX], s.GPR[cpu.ESI] = regs[0], regs[1], regs[2], regs[3], regs[4]
		c.SetState(&s)
		k.Hypercall(c)
		return c.R[cpu.EAX]
	}
	require.Equal(t, 3, func() int { c.SetState(&user); return c.CPL() }())
	require.Equal(t, 64, func() int { c.SetState(&long); return c.Mode() }())

	minus := func(v int64) uint64 { return uint64(v) }
	require.Equal(t, minus(-1000), call(long, 0xDEAD, 0, 0, 0, 0))
	require.Equal(t, uint64(0xFFFFFC18), call(prot, 0xDEAD, 0, 0, 0, 0))
	require.Equal(t, uint64(0xFFFFFC18), call(prot, 0xFFFFFFFF_00000000+0xDEAD, 0, 0, 0, 0))
	require.Equal(t, uint64(0), call(prot, 0xFFFFFFFF_00000001, 0, 0, 0, 0), "32-bit: the number is EAX")
	require.Equal(t, minus(-1000), call(long, 0xFFFFFFFF_00000001, 0, 0, 0, 0))
	require.Equal(t, uint64(0xFFFFFFFF), call(user, 1, 0, 0, 0, 0), "CPL 3: -KVM_EPERM")
	require.Equal(t, uint64(0), call(long, kvmHCVAPICPollIRQ, 0, 0, 0, 0))
	require.Equal(t, uint64(0), call(long, kvmHCKickCPU, 0, 0, 0, 0))
	require.Equal(t, uint64(0), call(long, kvmHCSchedYield, 0, 0, 0, 0))

	// SEND_IPI: bitmap low, high, min APIC ID, ICR.
	require.Equal(t, uint64(1), call(long, kvmHCSendIPI, 1, 0, 0, 0x45))
	require.True(t, apicBit(m, 0x200, 0x45), "IRR")
	require.Equal(t, uint64(1), call(prot, kvmHCSendIPI, 0, 1, 0xFFFFFFE0, 0x46), "32-bit: high covers min+32")
	require.True(t, apicBit(m, 0x200, 0x46))
	require.Equal(t, uint64(1), call(long, kvmHCSendIPI, 0, 1, 0xFFFFFFFFFFFFFFC0, 0x47), "64-bit: high covers min+64, min is 32-bit")
	require.Equal(t, uint64(0), call(long, kvmHCSendIPI, 2, 0, 0, 0x48), "APIC ID 1: nobody")
	require.False(t, apicBit(m, 0x200, 0x48))
	require.Equal(t, minus(-22), call(long, kvmHCSendIPI, 1, 0, 0, 0x48|1<<11), "logical destination")
	require.Equal(t, minus(-22), call(long, kvmHCSendIPI, 1, 0, 0, 0x48|1<<18), "shorthand")

	require.Equal(t, map[uint64]uint64{0xDEAD: 3, 1: 3, 0xFFFFFFFF_00000001: 1, kvmHCKickCPU: 1, kvmHCSchedYield: 1, kvmHCSendIPI: 6},
		m.Stats().Hypercalls)
}
