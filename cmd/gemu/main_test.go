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
		{"run", "--hotblocks", "-1"},
		{"run", "--hotblocks", "3", "--symbols", filepath.Join(dir, "nope.map")},
		{"run", "--hotblocks", "3", "--symbols", junk},
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

// --hotblocks ranks the translated blocks: intloop's loop first, with its
// code, named from a symbol map.
func TestHotBlocks(t *testing.T) {
	syms := filepath.Join(t.TempDir(), "intloop.map")
	require.NoError(t, os.WriteFile(syms, []byte("00100000 T _start\n00100240 t loop\nnot a symbol line\n"), 0o644))
	status, _, errOut := gemu("run", "--kernel", "../../testdata/intloop.bin", "--append", "10000",
		"--hotblocks", "2", "--symbols", syms)
	require.Equal(t, 1, status, errOut)
	lines := strings.Split(errOut, "\n")
	require.Contains(t, lines[0], "hot blocks: the 2 that retired the most of")
	require.Regexp(t, `^ 9\d\.\d\d%\s+110000\s+10000\s+11  0x100240 loop \(32-bit\)$`, lines[2])
	require.Contains(t, errOut, "jnz 0x100240")
	require.Regexp(t, `0x1[0-9a-f]{5} _start\+0x[0-9a-f]+ \(32-bit\)`, lines[3+11], "the second block, named from _start")
}
