package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/devices"
)

func gemu(args ...string) (status int, stdout, stderr string) {
	var o, e bytes.Buffer
	status = run(args, strings.NewReader(""), &o, &e)
	return status, o.String(), e.String()
}

func TestDemo(t *testing.T) {
	status, out, errOut := gemu("run")
	require.Equal(t, 0, status, errOut)
	require.Contains(t, out, "Hello from gemu!")
}

func TestGuestExitStatus(t *testing.T) {
	status, out, _ := gemu("run", "--kernel", "../../testdata/hello.bin", "--stats")
	require.Equal(t, 1, status) // verdict 0 → (0<<1)|1
	require.Contains(t, out, "hello, world")
}

func TestTraceAndSerialFile(t *testing.T) {
	dir := t.TempDir()
	trace, serial := filepath.Join(dir, "trace.txt"), filepath.Join(dir, "serial.txt")
	status, _, errOut := gemu("run", "--kernel", "../../testdata/hello.bin", "--trace", trace, "--serial", "file:"+serial)
	require.Equal(t, 1, status, errOut)
	tr, err := os.ReadFile(trace)
	require.NoError(t, err)
	require.Contains(t, string(tr), "out dx, al")
	s, err := os.ReadFile(serial)
	require.NoError(t, err)
	require.Contains(t, string(s), "hello, world")
}

func TestBadInputIsOneLine(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.bin")
	require.NoError(t, os.WriteFile(junk, nil, 0o644))
	for _, args := range [][]string{
		{"run", "--kernel", filepath.Join(dir, "nope.bin")},
		{"run", "--kernel", junk},
		{"run", "--mem", "lots"},
		{"run", "--serial", "tcp:1"},
		{"run", "--mode", "warp"},
		{"run", "--mode", "hw"}, // no KVM here, or no engine yet: it says which
		{"run", "--bogus"},
		{"frobnicate"},
	} {
		status, _, errOut := gemu(args...)
		require.Equal(t, 2, status, "%v", args)
		require.NotContains(t, errOut, "panic", "%v", args)
		if args[len(args)-1] != "--bogus" {
			require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "%v: %q", args, errOut)
		}
	}
}

func TestMaxInstructions(t *testing.T) {
	status, _, errOut := gemu("run", "--kernel", "../../testdata/intloop.bin", "--append", "100000000", "--max-instructions", "50000")
	require.Equal(t, 3, status)
	require.Contains(t, errOut, "instruction limit")
}

func TestLinuxFlagConflicts(t *testing.T) {
	status, _, errOut := gemu("run", "--linux", "--kernel", "../../testdata/hello.bin")
	require.Equal(t, 2, status)
	require.Contains(t, errOut, "--linux")
	require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1)
}

// A disk that another process writes is refused in one line, as QEMU
// refuses an image whose lock it cannot take.
func TestDiskInUse(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(img, make([]byte, 1<<20), 0o644))
	other, err := devices.OpenFileBackend(img, false) // the other process's open file
	require.NoError(t, err)
	defer other.Close()
	for _, ro := range []string{"", ",ro"} {
		status, _, errOut := gemu("run", "--kernel", "../../testdata/hello.bin", "--disk", img+ro)
		require.Equal(t, 2, status, errOut)
		require.Contains(t, errOut, img)
		require.Contains(t, errOut, "by another process")
		require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, errOut)
	}
	other.Close()
	status, _, errOut := gemu("run", "--kernel", "../../testdata/hello.bin", "--disk", img)
	require.Equal(t, 1, status, errOut)
}
