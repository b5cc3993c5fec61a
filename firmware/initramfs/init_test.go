package initramfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseApplets(t *testing.T) {
	list := "usr/bin/[\nusr/bin/[[\n\nsbin/acpid\nlinuxrc\nbin/busybox\n  bin/sh  \r\nbin/sh\n../escape\n/bin/ls\n"
	require.Equal(t, []string{"usr/bin/[", "usr/bin/[[", "sbin/acpid", "bin/sh", "bin/ls"}, ParseApplets(list))
	require.Empty(t, ParseApplets(""))
}

func TestFallbackApplets(t *testing.T) {
	// Every fallback is a valid path, once, in one of busybox's four homes.
	require.Equal(t, FallbackApplets, ParseApplets(strings.Join(FallbackApplets, "\n")))
	for _, p := range FallbackApplets {
		dir := filepath.Dir(p)
		require.Contains(t, []string{"bin", "sbin", "usr/bin", "usr/sbin"}, dir, p)
	}
	require.Contains(t, FallbackApplets, "bin/sh")
	require.Contains(t, FallbackApplets, "bin/cttyhack")
	require.Contains(t, FallbackApplets, "usr/bin/setsid")
}

func TestBusyboxRoot(t *testing.T) {
	a := &Archive{}
	require.NoError(t, AddSkeleton(a))
	require.NoError(t, AddBusybox(a, []byte("BB"), []string{"bin/sh", "usr/sbin/new/applet"}))
	require.NoError(t, a.AddFile("init", 0o755, []byte(DefaultInit)))
	m := byName(readNewc(t, cpioBytes(t, a)))

	con := m["dev/console"]
	require.Equal(t, []uint32{0o020600, 5, 1}, []uint32{con.mode, con.rdevMajor, con.rdevMinor})
	null := m["dev/null"]
	require.Equal(t, []uint32{0o020666, 1, 3}, []uint32{null.mode, null.rdevMajor, null.rdevMinor})
	for _, d := range []string{"proc", "sys", "dev", "tmp", "bin", "sbin", "usr/bin", "usr/sbin", "usr/sbin/new"} {
		require.Equal(t, uint32(0o040000), m[d].mode&0o170000, d)
	}
	require.Equal(t, uint32(0o041777), m["tmp"].mode)
	require.Equal(t, uint32(0o100755), m["bin/busybox"].mode)
	require.Equal(t, "BB", string(m["bin/busybox"].data))
	for _, l := range []string{"bin/sh", "usr/sbin/new/applet"} {
		require.Equal(t, uint32(0o120777), m[l].mode, l)
		require.Equal(t, "/bin/busybox", string(m[l].data), l)
	}
	init := m["init"]
	require.Equal(t, uint32(0o100755), init.mode)
	require.True(t, strings.HasPrefix(string(init.data), "#!/bin/sh\n"))
	for _, want := range []string{
		"mount -t proc proc /proc\n", "mount -t sysfs sys /sys\n",
		"mount -t devtmpfs dev /dev\n", "setsid cttyhack sh\n", "poweroff -f\n",
	} {
		require.Contains(t, string(init.data), want)
	}
}

// TestDefaultInitSyntax parses the init script with the host's shells.
func TestDefaultInitSyntax(t *testing.T) {
	script := filepath.Join(t.TempDir(), "init")
	require.NoError(t, os.WriteFile(script, []byte(DefaultInit), 0o755))
	ran := false
	for _, sh := range [][]string{{"/bin/busybox", "sh"}, {"/bin/sh"}} {
		if _, err := os.Stat(sh[0]); err != nil {
			continue
		}
		out, err := exec.Command(sh[0], append(sh[1:], "-n", script)...).CombinedOutput()
		require.NoError(t, err, "%v: %s", sh, out)
		ran = true
	}
	if !ran {
		t.Skip("no host shell")
	}
}

// TestGemuCmd runs the command-line parsing lines of DefaultInit on sample
// /proc/cmdline contents with the host's sed.
func TestGemuCmd(t *testing.T) {
	parse := func(variable string) string {
		for _, l := range strings.Split(DefaultInit, "\n") {
			if strings.HasPrefix(l, variable+"=$(sed ") {
				return strings.TrimSuffix(strings.TrimPrefix(l, variable+"=$("), " /proc/cmdline)")
			}
		}
		return ""
	}
	line, root := parse("cmd"), parse("root")
	require.NotEmpty(t, line)
	require.NotEmpty(t, root)
	if _, err := exec.LookPath("sed"); err != nil {
		t.Skip("no sed")
	}
	for cmdline, want := range map[string]string{
		`console=ttyS0 gemu.root=vda quiet`: "vda",
		`gemu.root=sda`:                     "sda",
		`console=ttyS0 quiet`:               "",
	} {
		f := filepath.Join(t.TempDir(), "cmdline")
		require.NoError(t, os.WriteFile(f, []byte(cmdline+"\n"), 0o644))
		out, err := exec.Command("sh", "-c", root+" "+f).Output()
		require.NoError(t, err, cmdline)
		require.Equal(t, want, strings.TrimSuffix(string(out), "\n"), cmdline)
	}
	for cmdline, want := range map[string]string{
		`console=ttyS0 gemu.cmd="uname -a; echo hi" quiet`: "uname -a; echo hi",
		`gemu.cmd=uname quiet`:                             "uname",
		`console=ttyS0 panic=-1`:                           "",
		`gemu.cmd="unterminated`:                           "",
	} {
		f := filepath.Join(t.TempDir(), "cmdline")
		require.NoError(t, os.WriteFile(f, []byte(cmdline+"\n"), 0o644))
		out, err := exec.Command("sh", "-c", line+" "+f).Output()
		require.NoError(t, err, cmdline)
		require.Equal(t, want, strings.TrimSuffix(string(out), "\n"), cmdline)
	}
}
