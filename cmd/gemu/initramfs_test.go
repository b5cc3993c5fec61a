package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/firmware/initramfs"
)

// cpioEntry is one entry of a newc archive read back by readInitramfs.
type cpioEntry struct {
	mode, rdevMajor, rdevMinor uint32
	data                       string
}

// readInitramfs gunzips and parses the newc archive at file (the format is
// checked in detail by firmware/initramfs's tests).
func readInitramfs(t *testing.T, file string) map[string]cpioEntry {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	out := map[string]cpioEntry{}
	field := func(off, i int) int {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		require.NoError(t, err)
		return int(v)
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; ; {
		require.Equal(t, "070701", string(b[off:off+6]))
		size, namesize := field(off, 6), field(off, 11)
		name := string(b[off+110 : off+110+namesize-1])
		data := align(off + 110 + namesize)
		if name == "TRAILER!!!" {
			require.Equal(t, len(b), data)
			return out
		}
		_, dup := out[name]
		require.False(t, dup, name)
		out[name] = cpioEntry{uint32(field(off, 1)), uint32(field(off, 9)), uint32(field(off, 10)), string(b[data : data+size])}
		off = align(data + size)
	}
}

// fakeBusybox writes a shell script that lists applets like busybox
// --list-full.
func fakeBusybox(t *testing.T, dir string) string {
	p := filepath.Join(dir, "busybox")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\nprintf 'bin/sh\\nsbin/poweroff\\nusr/bin/[\\nlinuxrc\\nbin/busybox\\n'\n"), 0o755))
	return p
}

func TestInitramfs(t *testing.T) {
	dir := t.TempDir()
	bb := fakeBusybox(t, dir)
	mod := filepath.Join(dir, "virtio.ko")
	require.NoError(t, os.WriteFile(mod, []byte("\x7fELF module"), 0o644))
	tree := filepath.Join(dir, "tree")
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "sub/empty"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "sub/run.sh"), []byte("echo hi\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "top.txt"), []byte("top"), 0o600))
	require.NoError(t, os.Symlink("sub/run.sh", filepath.Join(tree, "link")))
	treeLink := filepath.Join(dir, "treelink")
	require.NoError(t, os.Symlink(tree, treeLink))
	overlay := filepath.Join(dir, "overlay")
	require.NoError(t, os.MkdirAll(filepath.Join(overlay, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(overlay, "etc/hostname"), []byte("guest\n"), 0o644))
	script := filepath.Join(dir, "my-init")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho mine\n"), 0o644))
	out := filepath.Join(dir, "initrd.gz")

	const kmod = "/lib/modules/6.1.0-28-amd64/kernel/drivers/virtio/virtio.ko"
	args := []string{"initramfs", "-o", out, "--busybox", bb, "--init", script,
		"--add", mod + ":" + kmod,
		"--add", mod + ":/root/",
		"--add", mod + ":/",
		"--add", tree + ":/opt/tree",
		"--add", treeLink + ":/opt/viaLink/",
		"--add", overlay + ":/"}
	status, stdout, stderr := gemu(args...)
	require.Equal(t, 0, status, stderr)
	require.Empty(t, stdout)
	require.Empty(t, stderr)

	m := readInitramfs(t, out)
	require.Equal(t, cpioEntry{mode: 0o100755, data: "#!/bin/sh\necho mine\n"}, m["init"])
	bbData, err := os.ReadFile(bb)
	require.NoError(t, err)
	require.Equal(t, cpioEntry{mode: 0o100755, data: string(bbData)}, m["bin/busybox"])
	for _, l := range []string{"bin/sh", "sbin/poweroff", "usr/bin/["} {
		require.Equal(t, cpioEntry{mode: 0o120777, data: "/bin/busybox"}, m[l], l)
	}
	require.NotContains(t, m, "linuxrc")
	require.NotContains(t, m, "bin/ls", "the listed applets, not the fallback")
	require.Equal(t, cpioEntry{mode: 0o020600, rdevMajor: 5, rdevMinor: 1}, m["dev/console"])
	for _, d := range []string{"dev", "lib/modules", "lib/modules/6.1.0-28-amd64/kernel/drivers/virtio"} {
		require.Equal(t, uint32(0o040755), m[d].mode, d)
	}
	require.Equal(t, uint32(0o040555), m["proc"].mode)
	require.Equal(t, cpioEntry{mode: 0o100644, data: "\x7fELF module"}, m[strings.TrimPrefix(kmod, "/")])
	require.Equal(t, cpioEntry{mode: 0o100644, data: "\x7fELF module"}, m["root/virtio.ko"])
	require.Equal(t, cpioEntry{mode: 0o100644, data: "\x7fELF module"}, m["virtio.ko"])
	for _, base := range []string{"opt/tree", "opt/viaLink"} {
		require.Equal(t, uint32(0o040750), m[base+"/sub"].mode, base)
		require.Equal(t, uint32(0o040750), m[base+"/sub/empty"].mode, base)
		require.Equal(t, cpioEntry{mode: 0o100755, data: "echo hi\n"}, m[base+"/sub/run.sh"], base)
		require.Equal(t, cpioEntry{mode: 0o100600, data: "top"}, m[base+"/top.txt"], base)
		require.Equal(t, cpioEntry{mode: 0o120777, data: "sub/run.sh"}, m[base+"/link"], base)
	}
	require.Equal(t, cpioEntry{mode: 0o100644, data: "guest\n"}, m["etc/hostname"])

	// The same flags give the same bytes.
	first, err := os.ReadFile(out)
	require.NoError(t, err)
	status, _, stderr = gemu(args...)
	require.Equal(t, 0, status, stderr)
	second, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, first, second)
}

// TestInitramfsFallback uses a busybox that lists nothing and is
// dynamically linked: the built-in applet list is linked and gemu warns.
func TestInitramfsFallback(t *testing.T) {
	dir := t.TempDir()
	bin, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true")
	}
	bb := filepath.Join(dir, "true")
	require.NoError(t, os.WriteFile(bb, bin, 0o755))
	out := filepath.Join(dir, "initrd.gz")
	status, _, stderr := gemu("initramfs", "-o", out, "--busybox", bb)
	require.Equal(t, 0, status, stderr)
	if dynamicWarning(bb, bin) != "" {
		require.Contains(t, stderr, "dynamically linked")
		require.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
	}
	m := readInitramfs(t, out)
	for _, p := range initramfs.FallbackApplets {
		require.Equal(t, cpioEntry{mode: 0o120777, data: "/bin/busybox"}, m[p], p)
	}
	require.Equal(t, initramfs.DefaultInit, m["init"].data)
}

// TestInitramfsHostBusybox builds with the real default /bin/busybox.
func TestInitramfsHostBusybox(t *testing.T) {
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("no /bin/busybox (apt-get install busybox-static)")
	}
	out := filepath.Join(t.TempDir(), "initrd.gz")
	status, stdout, stderr := gemu("initramfs", "-o", out)
	require.Equal(t, 0, status, stderr)
	require.Empty(t, stdout+stderr, "a static busybox needs no warning")
	m := readInitramfs(t, out)
	require.Equal(t, string(bin), m["bin/busybox"].data)
	links := 0
	for _, e := range m {
		if e.mode == 0o120777 && e.data == "/bin/busybox" {
			links++
		}
	}
	require.Greater(t, links, 100, "busybox --list-full")
	for _, p := range []string{"bin/sh", "bin/cttyhack", "sbin/poweroff", "bin/mount"} {
		require.Equal(t, "/bin/busybox", m[p].data, p)
	}
	require.Equal(t, initramfs.DefaultInit, m["init"].data)
}

func TestInitramfsErrors(t *testing.T) {
	dir := t.TempDir()
	bb := fakeBusybox(t, dir)
	out := filepath.Join(dir, "out.gz")
	missing := filepath.Join(dir, "missing")
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--busybox", bb}, "-o FILE is required"},
		{[]string{"-o", out, "--busybox", missing}, missing + ": no such file or directory (a static busybox is needed: apt-get install busybox-static)"},
		{[]string{"-o", out, "--busybox", bb, "--init", missing}, "--init: " + missing},
		{[]string{"-o", out, "--busybox", bb, "--add", file}, "want HOSTPATH:GUESTPATH"},
		{[]string{"-o", out, "--busybox", bb, "--add", file + ":relative"}, "want HOSTPATH:GUESTPATH"},
		{[]string{"-o", out, "--busybox", bb, "--add", ":/x"}, "want HOSTPATH:GUESTPATH"},
		{[]string{"-o", out, "--busybox", bb, "--add", missing + ":/x"}, missing + ": no such file"},
		{[]string{"-o", out, "--busybox", bb, "--add", file + ":/."}, "bad GUESTPATH"},
		{[]string{"-o", out, "--busybox", bb, "--add", file + ":/a/../../x"}, "bad GUESTPATH"},
		{[]string{"-o", out, "--busybox", bb, "--add", dir + ":/x/../y"}, "bad GUESTPATH"},
		{[]string{"-o", out, "--busybox", bb, "--add", file + ":/bin"}, "bin: is a directory"},
		{[]string{"-o", out, "--busybox", bb, "extra"}, `unexpected argument "extra"`},
		{[]string{"-o", filepath.Join(missing, "out.gz"), "--busybox", bb}, "-o: " + missing + "/out.gz: no such file"},
	} {
		status, stdout, stderr := gemu(append([]string{"initramfs"}, c.args...)...)
		require.Equal(t, 2, status, "%v", c.args)
		require.Empty(t, stdout)
		require.True(t, strings.HasPrefix(stderr, "gemu initramfs: "), "%v: %q", c.args, stderr)
		require.Equal(t, 1, strings.Count(stderr, "\n"), "%v: %q", c.args, stderr)
		require.Contains(t, stderr, c.want, "%v", c.args)
		_, err := os.Stat(out)
		require.True(t, os.IsNotExist(err), "%v left %s behind", c.args, out)
	}

	status, _, stderr := gemu("initramfs", "--bogus")
	require.Equal(t, 2, status)
	require.Contains(t, stderr, "flag provided but not defined")
	status, _, stderr = gemu("initramfs", "-h")
	require.Equal(t, 0, status)
	require.Contains(t, stderr, "usage: gemu initramfs -o FILE")
	_, _, stderr = gemu()
	require.Contains(t, stderr, "gemu initramfs")
}
