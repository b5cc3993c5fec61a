package hv_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/hv"
)

// testdata/pvcall.bin checks KVM's interface from the guest's side in pv
// mode (CPUID signature, hypercall results incl. ENOSYS and EPERM,
// kvm-clock and the wall clock, #GP for structures outside RAM), and in full
// mode that the hypervisor stays hidden (no CPUID bit, VMCALL is #UD).
func TestPVGuest(t *testing.T) {
	for _, tc := range []struct {
		name     string
		paravirt bool
		icount   bool
		want     string
	}{
		{"pv", true, false, "hypervisor: KVM"},
		{"pv-icount", true, true, "hypervisor: KVM"},
		{"full", false, false, "hypervisor: none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			m, err := hv.New(hv.Config{
				Kernel: filepath.Join("..", "testdata", "pvcall.bin"), MemSize: 64 << 20,
				SerialOut: &out, Timeout: 60 * time.Second,
				Paravirt: tc.paravirt, ICount: tc.icount, ICountShift: 3,
			})
			require.NoError(t, err)
			defer m.Close()
			res, err := m.Run()
			require.NoError(t, err)
			s := out.String()
			require.Equal(t, hv.ExitDebugPort, res.Kind, s)
			require.Equal(t, 1, res.Status, s)
			require.Contains(t, s, tc.want+"\n", s)
			require.Contains(t, s, "verdict: 0 (pass)", s)
			var stats bytes.Buffer
			res.Stats.Write(&stats)
			if !tc.paravirt {
				require.Empty(t, res.Stats.Hypercalls)
				require.NotContains(t, stats.String(), "hypercall")
				return
			}
			// VMCALL 0xDEAD; VAPIC_POLL_IRQ at CPL 0 and at CPL 3; SCHED_YIELD.
			require.Equal(t, map[uint64]uint64{0xDEAD: 1, 1: 2, 11: 1}, res.Stats.Hypercalls)
			require.Contains(t, stats.String(), "sched_yield")
		})
	}
}

// TestPVLinux boots Debian's kernel through its PVH entry in pv mode: it
// must find KVM, run on kvm-clock and take the paravirtual paths; the same
// boot in full mode finds no hypervisor. Both boots are timed.
func TestPVLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a real kernel twice")
	}
	vmlinux := debianVmlinux(t)
	initrd := busyboxInitramfs(t)
	// Also what the CPU model says in both modes: the TSC-deadline timer,
	// and IA32_ARCH_CAPABILITIES ruling out Meltdown and (with a
	// hypervisor shown, which Linux otherwise presumes vulnerable) ITS.
	const vuln = "/sys/devices/system/cpu/vulnerabilities/"
	const cmd = `dmesg | grep -i -E 'kvm|clocksource|hypervisor|paravirt|deadline'; ` +
		`echo meltdown=$(cat ` + vuln + `meltdown) its=$(cat ` + vuln + `indirect_target_selection)`
	boot := func(t *testing.T, paravirt bool) (string, hv.Stats) {
		s, res := bootLinux(t, hv.Config{
			Kernel: vmlinux, Initrd: initrd, MemSize: 256 << 20,
			Append: `console=ttyS0 quiet cryptomgr.notests`, Paravirt: paravirt,
		}, cmd)
		return s, res.Stats
	}
	lines := func(s string) string {
		var b strings.Builder
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(strings.ToLower(l), "kvm") || strings.Contains(l, "clocksource") || strings.Contains(l, "ypervisor") {
				b.WriteString("  " + strings.TrimRight(l, "\r") + "\n")
			}
		}
		return b.String()
	}

	cpuModel := func(t *testing.T, s string) {
		t.Helper()
		require.Contains(t, s, "TSC deadline timer available", s)
		require.Contains(t, s, "meltdown=Not affected its=Not affected", s)
	}
	pv, pvStats := boot(t, true)
	cpuModel(t, pv)
	require.Contains(t, pv, "Hypervisor detected: KVM", pv)
	require.Contains(t, pv, "Booting paravirtualized kernel on KVM", pv)
	require.Contains(t, pv, "kvm-clock: Using msrs 4b564d01 and 4b564d00", pv)
	require.Contains(t, pv, "clocksource: Switched to clocksource kvm-clock", pv)
	t.Logf("pv mode: %d instructions in %v (%.0f MIPS), hypercalls %v; the kernel said:\n%s",
		pvStats.Instructions, pvStats.Elapsed.Round(time.Millisecond), pvStats.MIPS(), pvStats.Hypercalls, lines(pv))

	full, fullStats := boot(t, false)
	cpuModel(t, full)
	require.NotContains(t, full, "Hypervisor detected", full)
	require.NotContains(t, full, "kvm-clock", full)
	require.Empty(t, fullStats.Hypercalls)
	t.Logf("full mode: %d instructions in %v (%.0f MIPS); the kernel said:\n%s",
		fullStats.Instructions, fullStats.Elapsed.Round(time.Millisecond), fullStats.MIPS(), lines(full))
}
