package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/firmware"
)

// TestMain lets a test run this binary as gemu itself (GEMU_AS_MAIN=1), so
// that a test can kill a real gemu process.
func TestMain(m *testing.M) {
	if os.Getenv("GEMU_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestKilledMidWrite boots Debian's kernel with a raw virtio disk and a
// virtio disk on an overlay; the guest writes numbered sectors to both with
// fsync and says which it has written; gemu is killed (SIGKILL) in the
// middle. Every acknowledged sector must be in the raw image and in the
// overlay, the overlay must open, and its base must be unchanged.
func TestKilledMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a real kernel")
	}
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(kernels) == 0 {
		t.Skip("no /boot/vmlinuz-*: install linux-image-amd64 (./test.sh does)")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("no /bin/busybox: install busybox-static (./test.sh does)")
	}
	dir := t.TempDir()
	img, err := os.ReadFile(kernels[len(kernels)-1])
	require.NoError(t, err)
	elf, err := firmware.UnpackVmlinux(img)
	if errors.Is(err, firmware.ErrNoXZ) {
		t.Skip(err.Error())
	}
	require.NoError(t, err)
	vmlinux, initrd := filepath.Join(dir, "vmlinux"), filepath.Join(dir, "initrd.gz")
	require.NoError(t, os.WriteFile(vmlinux, elf, 0o644))
	status, _, errOut := gemu("initramfs", "-o", initrd, "--modules", "virtio_pci,virtio_blk")
	require.Equal(t, 0, status, errOut)

	raw, base, cow := filepath.Join(dir, "raw.img"), filepath.Join(dir, "base.img"), filepath.Join(dir, "cow")
	baseData := bytes.Repeat([]byte("base"), 4<<20/4)
	require.NoError(t, os.WriteFile(raw, make([]byte, 4<<20), 0o644))
	require.NoError(t, os.WriteFile(base, baseData, 0o644))

	// Sector i of each disk gets "block i"; "acked i" follows both fsyncs.
	script := `for i in $(seq 1 400); do for d in vda vdb; do echo block $i | dd of=/dev/$d bs=512 seek=$i conv=sync,fsync 2>/dev/null; done; echo acked $i; done`
	cmd := exec.Command(os.Args[0], "run", "--kernel", vmlinux, "--initrd", initrd, "--mem", "256M",
		"--disk", raw+",if=virtio", "--disk", base+",if=virtio,overlay="+cow, "--serial", "stdio",
		"--append", `console=ttyS0 quiet gemu.cmd="`+script+`"`)
	cmd.Env = append(os.Environ(), "GEMU_AS_MAIN=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	const killAfter = 12
	acked := 0
	timer := time.AfterFunc(5*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(sc.Text()), "acked %d", &n); err == nil {
			acked = n
			if n == killAfter {
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
				break
			}
		}
	}
	cmd.Wait()
	require.Equal(t, killAfter, acked, "the guest did not get far enough before the deadline")

	sector := func(b []byte, i int) string {
		s := b[i*512 : (i+1)*512]
		return string(bytes.TrimRight(s, "\x00"))
	}
	rawData, err := os.ReadFile(raw)
	require.NoError(t, err)
	ov, err := devices.OpenOverlay(cow)
	require.NoError(t, err, "the overlay must open after the kill")
	cowData := make([]byte, len(baseData))
	_, err = ov.ReadAt(cowData, 0)
	require.NoError(t, err)
	require.NoError(t, ov.Close())
	for i := 1; i <= acked; i++ {
		want := fmt.Sprintf("block %d\n", i)
		require.Equal(t, want, sector(rawData, i), "raw image, sector %d", i)
		require.Equal(t, want, sector(cowData, i), "overlay, sector %d", i)
	}
	require.Equal(t, string(baseData[:512]), string(cowData[:512]), "overlay sector 0 still reads the base")
	gotBase, err := os.ReadFile(base)
	require.NoError(t, err)
	require.True(t, bytes.Equal(baseData, gotBase), "the overlay's base was written")
}
