package hv_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/hv"
)

func TestParseDrive(t *testing.T) {
	for spec, want := range map[string]hv.Drive{
		"a.img":                        {Path: "a.img"},
		"a.img,if=virtio-mmio,ro":      {Path: "a.img", Interface: hv.DriveVirtioMMIO, ReadOnly: true},
		"a.img,if=virtio":              {Path: "a.img", Interface: hv.DriveVirtio},
		"file=b.img,readonly=on":       {Path: "b.img", ReadOnly: true},
		"file=b.img,format=raw,if=ide": {Path: "b.img", Interface: hv.DriveIDE},
		"b.img,overlay=o.cow":          {Path: "b.img", Overlay: "o.cow"},
	} {
		got, err := hv.ParseDrive(spec)
		require.NoError(t, err, spec)
		require.Equal(t, want, got, spec)
	}
	for spec, msg := range map[string]string{
		"":                   "no file",
		"a.img,if=scsi":      "if=scsi",
		"a.img,readonly=yes": "readonly=yes",
		"a.img,format=qcow2": "format=qcow2",
		"a.img,cache=none":   `unknown option "cache=none"`,
		"a.img,ro,overlay=o": "ro and overlay=",
	} {
		_, err := hv.ParseDrive(spec)
		require.ErrorContains(t, err, msg, spec)
	}
}

// Two IDE disks, a missing image and a truncated one are refused with a clear error.
func TestBadDrives(t *testing.T) {
	_, err := hv.New(hv.Config{Kernel: "../testdata/hello.bin", Drives: []hv.Drive{{Path: "/nonexistent.img"}}})
	require.ErrorContains(t, err, "/nonexistent.img")
	img := "../testdata/bootsector.img"
	ro := hv.Drive{Path: img, ReadOnly: true}
	_, err = hv.New(hv.Config{Kernel: "../testdata/hello.bin", Drives: []hv.Drive{ro, ro, ro}})
	require.ErrorContains(t, err, "only 2 IDE disks")
}

// RAM would cover the PCI window, the IOAPIC and the LAPIC above 3 GiB.
func TestMemoryBelowPCIHole(t *testing.T) {
	_, err := hv.New(hv.Config{Kernel: "../testdata/hello.bin", MemSize: 4 << 30})
	require.ErrorContains(t, err, "PCI hole")
	m, err := hv.New(hv.Config{Kernel: "../testdata/hello.bin", MemSize: 3 << 30})
	require.NoError(t, err)
	require.NoError(t, m.Close())
}
