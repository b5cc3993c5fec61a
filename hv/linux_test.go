package hv_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/firmware"
	"github.com/gemu-project/gemu/firmware/initramfs"
	"github.com/gemu-project/gemu/hv"
)

// debianKernel returns the installed Debian kernel, or skips.
func debianKernel(t testing.TB) string {
	t.Helper()
	k, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(k) == 0 {
		t.Skip("no /boot/vmlinuz-*: install linux-image-amd64 (./test.sh does)")
	}
	return k[len(k)-1]
}

// busyboxInitramfs writes a busybox initramfs whose /init loads the kernel
// modules (and their dependencies) and runs gemu.cmd.
func busyboxInitramfs(t testing.TB, modules ...string) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("no /bin/busybox: install busybox-static (./test.sh does)")
	}
	out, err := exec.Command("/bin/busybox", "--list-full").Output()
	require.NoError(t, err)
	a, err := initramfs.NewBusybox(bb, initramfs.ParseApplets(string(out)), []byte(initramfs.DefaultInit))
	require.NoError(t, err)
	if len(modules) > 0 {
		trees, _ := filepath.Glob("/lib/modules/*")
		require.NotEmpty(t, trees, "no /lib/modules: install linux-image-amd64")
		require.NoError(t, initramfs.AddModules(a, trees[len(trees)-1], modules))
	}
	var buf bytes.Buffer
	require.NoError(t, a.Write(&buf))
	path := filepath.Join(t.TempDir(), "initramfs.gz")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

// TestDebianLinux boots Debian's own kernel (bzImage, 64-bit entry) in full
// mode with a busybox initramfs, runs commands and powers off, with and
// without ACPI (issue 4's checks: uname -r, /proc/cpuinfo, shell arithmetic,
// /proc/self).
func TestDebianLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a real kernel (about a minute per boot)")
	}
	kernel := debianKernel(t)
	initrd := busyboxInitramfs(t)
	release := strings.TrimPrefix(filepath.Base(kernel), "vmlinuz-")
	cmd := `uname -r; grep -c ^processor /proc/cpuinfo; echo answer=$((6*7)); ls /proc/self/ | grep -c .`
	vmlinux := extractVmlinux(t, kernel)
	// boot runs one boot and checks the answers; it returns the serial
	// output and the instructions retired.
	boot := func(t *testing.T, kernel, append string, icount bool) (string, uint64) {
		s, res := bootLinux(t, hv.Config{
			Kernel: kernel, Initrd: initrd, MemSize: 256 << 20, Append: append,
			ICount: icount, ICountShift: 3,
		}, cmd)
		require.Equal(t, 0, res.Status)
		require.Contains(t, s, "\n"+release+"\r\n", s)
		require.Contains(t, s, "answer=42", s)
		t.Logf("%d instructions in %v (%.0f MIPS)", res.Stats.Instructions, res.Stats.Elapsed.Round(time.Millisecond), res.Stats.MIPS())
		return s, res.Stats.Instructions
	}
	var icountOut string
	var icountInstructions uint64
	for _, tc := range []struct {
		name, kernel, append string
		icount               bool
	}{
		{"bzImage-acpi", kernel, "console=ttyS0 quiet", false},
		{"bzImage-acpi-off", kernel, "console=ttyS0 quiet acpi=off", false},
		{"pvh-acpi-off", vmlinux, "console=ttyS0 quiet acpi=off", false},
		// Under icount the kernel prints its timestamps: the second boot
		// must reproduce the first byte for byte.
		{"pvh-acpi-icount", vmlinux, "console=ttyS0 printk.time=1", true},
		{"pvh-acpi-icount-again", vmlinux, "console=ttyS0 printk.time=1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kernel == "" {
				t.Skip("no vmlinux: the xz command is needed to unpack the bzImage's payload")
			}
			out, n := boot(t, tc.kernel, tc.append, tc.icount)
			if !tc.icount {
				return
			}
			if icountOut == "" {
				icountOut, icountInstructions = out, n
				return
			}
			require.Equal(t, icountInstructions, n, "instructions retired by two icount boots")
			require.Equal(t, icountOut, out, "serial output of two icount boots")
		})
	}
}

// debianVmlinux returns the installed Debian kernel's vmlinux for the PVH
// entry, or skips.
func debianVmlinux(t testing.TB) string {
	t.Helper()
	vmlinux := extractVmlinux(t, debianKernel(t))
	if vmlinux == "" {
		t.Skip("no vmlinux: the xz command is needed to unpack the bzImage's payload")
	}
	return vmlinux
}

// bootLinux boots a Linux guest whose busybox /init runs cmd (gemu.cmd on
// cfg's command line) and powers off; it checks that the command exited 0
// and returns the serial output and the result.
func bootLinux(t *testing.T, cfg hv.Config, cmd string) (string, hv.Result) {
	t.Helper()
	var out bytes.Buffer
	cfg.Append += ` gemu.cmd="` + cmd + `"`
	cfg.SerialOut = &out
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	m, err := hv.New(cfg)
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	require.NoError(t, m.Close())
	s := out.String()
	require.Equal(t, hv.ExitPowerOff, res.Kind, "%s\n%s", res.Detail, s)
	require.Contains(t, s, "gemu.cmd: exit status 0", s)
	return s, res
}

// extractVmlinux unpacks the uncompressed vmlinux (ELF with the PVH note)
// from a bzImage's XZ payload, or returns "" if xz is missing.
func extractVmlinux(t testing.TB, bzImage string) string {
	t.Helper()
	img, err := os.ReadFile(bzImage)
	require.NoError(t, err)
	elf, err := firmware.UnpackVmlinux(img)
	if errors.Is(err, firmware.ErrNoXZ) {
		return ""
	}
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "vmlinux")
	require.NoError(t, os.WriteFile(path, elf, 0o644))
	return path
}
