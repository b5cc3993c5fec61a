package hv_test

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/hv"
)

// TestDebianLinuxDisks boots Debian's kernel (PVH entry) with a disk on each
// of gemu's block devices (and a virtio-mmio network card, which must
// appear as eth0). On each the guest reads what the host prepared
// at sector 0 and writes its own pattern at sector 2048 with fsync; the host
// then finds the pattern in the image and the rest of the image unchanged.
func TestDebianLinuxDisks(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a real kernel")
	}
	vmlinux := debianVmlinux(t)
	initrd := busyboxInitramfs(t, "virtio_pci", "virtio_mmio", "virtio_blk", "ata_piix", "sd_mod", "virtio_net")
	// virtio-pci probes before virtio-mmio: its disks come first. The
	// overlay disk is read from its base and written to its overlay.
	disks := []struct {
		name, iface, dev string
		overlay          bool
	}{
		{"virtio-pci", hv.DriveVirtio, "vda", false},
		{"virtio-pci-overlay", hv.DriveVirtio, "vdb", true},
		{"virtio-mmio", hv.DriveVirtioMMIO, "vdc", false},
		{"ide", hv.DriveIDE, "sda", false},
	}
	dir := t.TempDir()
	var drives []hv.Drive
	var script strings.Builder
	images := map[string][]byte{}
	for _, d := range disks {
		img := make([]byte, 8<<20)
		copy(img, "host sector of "+d.name+"\n")
		path := filepath.Join(dir, d.name+".img")
		require.NoError(t, os.WriteFile(path, img, 0o644))
		images[path] = img
		drive := hv.Drive{Path: path, Interface: d.iface}
		if d.overlay {
			drive.Overlay = filepath.Join(dir, d.name+".cow")
		}
		drives = append(drives, drive)
		// head -c reads the host's line; dd writes the guest's one, padded to a sector.
		script.WriteString("echo " + d.dev + ": $(head -n 1 /dev/" + d.dev + "); " +
			"echo guest wrote " + d.dev + " | dd of=/dev/" + d.dev + " bs=512 seek=2048 conv=sync,fsync 2>/dev/null; ")
	}
	// On vda the host also put a tar archive at 2 MiB, which the guest
	// unpacks, and a pattern at 3 MiB, which the guest discards (TRIM): the
	// image must read zeros there after the run.
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	hello := []byte("a file the host prepared\n")
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(hello))}))
	_, err := tw.Write(hello)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	vda := images[drives[0].Path]
	copy(vda[2<<20:], tarball.Bytes())
	for i := 3 << 20; i < 4<<20; i++ {
		vda[i] = 0xEE
	}
	require.NoError(t, os.WriteFile(drives[0].Path, vda, 0o644))
	script.WriteString("dd if=/dev/vda bs=512 skip=4096 count=64 2>/dev/null | tar -xOf - hello.txt; " +
		"blkdiscard -o 3145728 -l 1048576 /dev/vda && echo discarded; ")
	// And a virtio-net card on virtio-mmio: the guest names it eth0.
	nic, err := devices.ParseNetSpec("socket,listen="+freePort(t)+",model=virtio-mmio,mac=52:54:00:aa:bb:cc", 0)
	require.NoError(t, err)
	script.WriteString("echo eth0 $(cat /sys/class/net/eth0/address)")
	s, _ := bootLinux(t, hv.Config{
		Kernel: vmlinux, Initrd: initrd, MemSize: 256 << 20, Drives: drives, Nets: []devices.NetSpec{nic},
		Append: `console=ttyS0 quiet`,
	}, script.String())
	require.Contains(t, s, "a file the host prepared\r\n", s)
	require.Contains(t, s, "discarded\r\n", s)
	clear(images[drives[0].Path][3<<20 : 4<<20]) // what the discard leaves
	require.Contains(t, s, "eth0 52:54:00:aa:bb:cc\r\n", s)
	for i, d := range disks {
		require.Contains(t, s, d.dev+": host sector of "+d.name+"\r\n", s)
		got, err := os.ReadFile(drives[i].Path)
		require.NoError(t, err)
		want := images[drives[i].Path]
		if d.overlay {
			// The base is untouched; the overlay reads as base + the guest's sector.
			require.True(t, bytes.Equal(want, got), "%s: the base image changed", d.name)
			ov, err := devices.OpenOverlay(drives[i].Overlay)
			require.NoError(t, err)
			got = make([]byte, len(want))
			_, err = ov.ReadAt(got, 0)
			require.NoError(t, err)
			require.NoError(t, ov.Close())
		}
		sector := make([]byte, 512)
		copy(sector, "guest wrote "+d.dev+"\n")
		copy(want[2048*512:], sector)
		require.True(t, bytes.Equal(want, got), "%s: the disk differs from the expected one", d.name)
	}
}
