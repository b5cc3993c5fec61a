package initramfs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rec is one parsed newc entry.
type rec struct {
	name                                            string
	ino, mode, uid, gid, nlink, mtime               uint32
	devMajor, devMinor, rdevMajor, rdevMinor, check uint32
	data                                            []byte
}

// readNewc parses a newc archive by buffer-format.rst, checking the magic,
// the 4-byte alignment, that padding is NULs, the name's NUL and the
// trailer; it returns the entries before the trailer.
func readNewc(t *testing.T, b []byte) []rec {
	t.Helper()
	var out []rec
	off := 0
	pad := func() {
		for ; off%4 != 0; off++ {
			require.Less(t, off, len(b), "padding runs past the end")
			require.Zero(t, b[off], "padding byte at %d", off)
		}
	}
	for {
		require.LessOrEqual(t, off+110, len(b), "truncated header at %d", off)
		require.Zero(t, off%4, "header at %d not 4-aligned", off)
		require.Equal(t, "070701", string(b[off:off+6]), "magic at %d", off)
		var f [13]uint32
		for i := range f {
			s := string(b[off+6+8*i : off+14+8*i])
			v, err := strconv.ParseUint(s, 16, 32)
			require.NoError(t, err, "field %d at %d", i, off)
			f[i] = uint32(v)
		}
		off += 110
		size, namesize := int(f[6]), int(f[11])
		require.Greater(t, namesize, 1)
		require.LessOrEqual(t, off+namesize, len(b))
		name := string(b[off : off+namesize-1])
		require.Zero(t, b[off+namesize-1], "name %q not NUL-terminated", name)
		require.NotContains(t, name, "\x00")
		off += namesize
		pad()
		require.LessOrEqual(t, off+size, len(b))
		data := b[off : off+size]
		off += size
		pad()
		if name == trailer {
			require.Equal(t, [13]uint32{4: 1, 11: 11}, f, "trailer fields")
			require.Equal(t, len(b), off, "bytes after the trailer")
			return out
		}
		out = append(out, rec{name, f[0], f[1], f[2], f[3], f[4], f[5], f[7], f[8], f[9], f[10], f[12], data})
	}
}

func cpioBytes(t *testing.T, a *Archive) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, a.WriteCPIO(&buf))
	return buf.Bytes()
}

func byName(rs []rec) map[string]rec {
	m := map[string]rec{}
	for _, r := range rs {
		m[r.name] = r
	}
	return m
}

// sample has every entry type, names and data of every length mod 4, and
// entries added out of order with implicit parents.
func sample(t *testing.T) *Archive {
	a := &Archive{}
	require.NoError(t, a.AddFile("/usr/share/deep/file", 0o644, []byte("deep")))
	for n := 0; n < 6; n++ {
		require.NoError(t, a.AddFile(fmt.Sprintf("/data/f%s", strings.Repeat("x", n)), 0o600, bytes.Repeat([]byte{'a' + byte(n)}, n)))
	}
	require.NoError(t, a.AddDir("/tmp", 0o777|fs.ModeSticky))
	require.NoError(t, a.AddFile("bin/su", 0o4755, []byte("su")))
	require.NoError(t, a.AddFile("bin/sg", fs.ModeSetgid|0o755, []byte("sg")))
	require.NoError(t, a.AddSymlink("/bin/sh", "busybox"))
	require.NoError(t, a.AddDevice("/dev/console", fs.ModeCharDevice|0o600, 5, 1))
	require.NoError(t, a.AddDevice("/dev/vda1", fs.ModeDevice|0o660, 254, 1))
	require.NoError(t, a.AddDevice("/dev/big", fs.ModeCharDevice|0o600, 0x1234, 0xabcdef))
	return a
}

func TestRoundTrip(t *testing.T) {
	a := sample(t)
	rs := readNewc(t, cpioBytes(t, a))
	require.Equal(t, a.Len(), len(rs))

	var names []string
	inos := map[uint32]bool{}
	for _, r := range rs {
		names = append(names, r.name)
		require.False(t, inos[r.ino], "inode %d reused", r.ino)
		inos[r.ino] = true
		require.Zero(t, r.uid+r.gid+r.mtime+r.devMajor+r.devMinor+r.check, r.name)
		require.False(t, strings.HasPrefix(r.name, "/"), r.name)
	}
	require.Equal(t, []string{
		"bin", "bin/sg", "bin/sh", "bin/su", "data", "data/f", "data/fx", "data/fxx",
		"data/fxxx", "data/fxxxx", "data/fxxxxx", "dev", "dev/big", "dev/console",
		"dev/vda1", "tmp", "usr", "usr/share", "usr/share/deep", "usr/share/deep/file",
	}, names)

	m := byName(rs)
	for _, d := range []string{"bin", "data", "dev", "usr", "usr/share", "usr/share/deep"} {
		require.Equal(t, uint32(0o040755), m[d].mode, d)
		require.Equal(t, uint32(2), m[d].nlink, d)
		require.Empty(t, m[d].data, d)
	}
	require.Equal(t, uint32(0o041777), m["tmp"].mode)
	for n := 0; n < 6; n++ {
		r := m["data/f"+strings.Repeat("x", n)]
		require.Equal(t, uint32(0o100600), r.mode)
		require.Equal(t, uint32(1), r.nlink)
		require.Equal(t, bytes.Repeat([]byte{'a' + byte(n)}, n), r.data)
	}
	require.Equal(t, "deep", string(m["usr/share/deep/file"].data))
	require.Equal(t, uint32(0o104755), m["bin/su"].mode)
	require.Equal(t, uint32(0o102755), m["bin/sg"].mode)
	require.Equal(t, uint32(0o120777), m["bin/sh"].mode)
	require.Equal(t, "busybox", string(m["bin/sh"].data))
	con := m["dev/console"]
	require.Equal(t, []uint32{0o020600, 5, 1}, []uint32{con.mode, con.rdevMajor, con.rdevMinor})
	vda := m["dev/vda1"]
	require.Equal(t, []uint32{0o060660, 254, 1}, []uint32{vda.mode, vda.rdevMajor, vda.rdevMinor})
	big := m["dev/big"]
	require.Equal(t, []uint32{0x1234, 0xabcdef}, []uint32{big.rdevMajor, big.rdevMinor})
	require.Empty(t, con.data)
}

// TestKnownBytes pins the encoding of a one-file archive, written out by
// hand from buffer-format.rst.
func TestKnownBytes(t *testing.T) {
	a := &Archive{MTime: 0x5f5e100}
	require.NoError(t, a.AddFile("ab", 0o644, []byte("hello")))
	want := "070701" + "00000001" + "000081A4" + "00000000" + "00000000" + "00000001" +
		"05F5E100" + "00000005" + "00000000" + "00000000" + "00000000" + "00000000" +
		"00000003" + "00000000" + "ab\x00" + "\x00\x00\x00" + // 110+3 bytes, padded to 116
		"hello\x00\x00\x00" + // 5 bytes, padded to 8
		"070701" + strings.Repeat("0", 32) + "00000001" + strings.Repeat("0", 48) +
		"0000000B" + "00000000" + "TRAILER!!!\x00" + "\x00\x00\x00" // 110+11, padded to 124
	require.Equal(t, want, string(cpioBytes(t, a)))
}

func TestMTime(t *testing.T) {
	a := &Archive{MTime: 1700000000}
	require.NoError(t, a.AddFile("x", 0o644, nil))
	for _, r := range readNewc(t, cpioBytes(t, a)) {
		require.Equal(t, uint32(1700000000), r.mtime, r.name)
	}
	for _, bad := range []int64{-1, 1 << 32} {
		a.MTime = bad
		require.Error(t, a.WriteCPIO(io.Discard))
	}
}

func TestDeterministic(t *testing.T) {
	b := &Archive{}
	// The sample's entries in another order, parents made explicitly.
	require.NoError(t, b.AddDevice("dev/big", fs.ModeCharDevice|0o600, 0x1234, 0xabcdef))
	require.NoError(t, b.AddDevice("dev/vda1", fs.ModeDevice|0o660, 254, 1))
	require.NoError(t, b.AddDevice("dev/console", fs.ModeCharDevice|0o600, 5, 1))
	require.NoError(t, b.AddSymlink("bin/sh", "busybox"))
	require.NoError(t, b.AddFile("bin/sg", fs.ModeSetgid|0o755, []byte("sg")))
	require.NoError(t, b.AddFile("bin/su", fs.ModeSetuid|0o755, []byte("su")))
	require.NoError(t, b.AddDir("tmp", fs.ModeSticky|0o777))
	for n := 5; n >= 0; n-- {
		require.NoError(t, b.AddFile("data/f"+strings.Repeat("x", n), 0o600, bytes.Repeat([]byte{'a' + byte(n)}, n)))
	}
	require.NoError(t, b.AddDir("usr/share", 0o755))
	require.NoError(t, b.AddFile("usr/share/deep/file", 0o644, []byte("deep")))

	var x, y bytes.Buffer
	require.NoError(t, sample(t).Write(&x))
	require.NoError(t, b.Write(&y))
	require.Equal(t, x.Bytes(), y.Bytes())
}

func TestGzip(t *testing.T) {
	a := sample(t)
	var z bytes.Buffer
	require.NoError(t, a.Write(&z))
	require.Equal(t, []byte{0x1f, 0x8b, 8}, z.Bytes()[:3]) // gzip magic, deflate
	zr, err := gzip.NewReader(&z)
	require.NoError(t, err)
	zr.Multistream(false)
	require.True(t, zr.Header.ModTime.IsZero() || zr.Header.ModTime.Unix() == 0)
	require.Empty(t, zr.Header.Name)
	raw, err := io.ReadAll(zr) // checks the CRC and length
	require.NoError(t, err)
	require.NoError(t, zr.Close())
	require.Equal(t, cpioBytes(t, a), raw)
}

func TestReplaceAndErrors(t *testing.T) {
	a := &Archive{}
	require.NoError(t, a.AddFile("etc/motd", 0o644, []byte("old")))
	require.NoError(t, a.AddSymlink("etc/motd", "/proc/version")) // replaces
	require.NoError(t, a.AddDir("etc", 0o700))                    // sets the mode
	require.NoError(t, a.AddDir("/etc/", 0o750))
	m := byName(readNewc(t, cpioBytes(t, a)))
	require.Equal(t, uint32(0o120777), m["etc/motd"].mode)
	require.Equal(t, uint32(0o040750), m["etc"].mode)
	require.Equal(t, 2, a.Len())

	for name, err := range map[string]error{
		"file over dir":        a.AddFile("etc", 0o644, nil),
		"dir over file":        a.AddDir("etc/motd", 0o755),
		"under a symlink":      a.AddFile("etc/motd/x", 0o644, nil),
		"root":                 a.AddDir("/", 0o755),
		"empty":                a.AddFile("", 0o644, nil),
		"dot":                  a.AddFile(".", 0o644, nil),
		"dotdot":               a.AddFile("a/../../b", 0o644, nil),
		"trailer name":         a.AddFile("TRAILER!!!", 0o644, nil),
		"NUL":                  a.AddFile("a\x00b", 0o644, nil),
		"empty symlink target": a.AddSymlink("l", ""),
		"not a device":         a.AddDevice("dev/x", 0o600, 1, 1),
	} {
		require.Error(t, err, name)
	}
	require.Equal(t, 2, a.Len(), "failed adds leave nothing behind")
}

func TestHostCPIO(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed (apt-get install cpio)")
	}
	a := sample(t)
	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = bytes.NewReader(cpioBytes(t, a))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, a.Len(), "%s", out)
	got := map[string]string{}
	for i, l := range lines {
		fields := strings.Fields(l)
		name := fields[len(fields)-1]
		if strings.HasPrefix(fields[0], "l") {
			name = fields[len(fields)-3]
			require.Equal(t, "busybox", fields[len(fields)-1])
		}
		require.Equal(t, a.Paths()[i], name)
		got[name] = l
	}
	require.Regexp(t, `^crw------- .* 5, +1 `, got["dev/console"])
	require.Regexp(t, `^brw-rw---- .* 254, +1 `, got["dev/vda1"])
	require.Regexp(t, `^-rwsr-xr-x .* 2 `, got["bin/su"])
	require.Regexp(t, `^drwxrwxrwt `, got["tmp"])
	require.Regexp(t, `^-rw------- .* 5 `, got["data/fxxxxx"])

	// Extraction restores the data (devices need root; list only those).
	dir := t.TempDir()
	b := &Archive{}
	require.NoError(t, b.AddFile("d/f", 0o640, []byte("contents")))
	require.NoError(t, b.AddSymlink("d/l", "f"))
	cmd = exec.Command("cpio", "-id", "--quiet")
	cmd.Dir, cmd.Stdin = dir, bytes.NewReader(cpioBytes(t, b))
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	data, err := os.ReadFile(path.Join(dir, "d/l"))
	require.NoError(t, err)
	require.Equal(t, "contents", string(data))
	st, err := os.Stat(path.Join(dir, "d/f"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o640), st.Mode().Perm())
}
