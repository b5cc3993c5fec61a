package initramfs

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// DefaultInit is the /init of a busybox initramfs. It mounts proc, sysfs
// and devtmpfs, loads the modules listed in ModuleList, prints a banner and starts a shell that owns the console
// (cttyhack opens the real console, e.g. /dev/ttyS0, so job control works).
// Leaving the shell powers the machine off rather than panicking the kernel.
// With gemu.root=DISK (sda, vda) it first waits up to 30 s for that disk, as
// an initramfs waits for its root device. With gemu.cmd="COMMAND" (or
// gemu.cmd=WORD) on the kernel command line it runs COMMAND instead of the
// shell, then powers off.
const DefaultInit = `#!/bin/sh
# /init of a gemu initramfs, run by busybox sh as PID 1.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
if [ -f /etc/gemu-modules ]; then
	while read -r m; do insmod "$m" || echo "insmod $m failed"; done < /etc/gemu-modules
fi
root=$(sed -n 's/.*gemu\.root=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$root" ]; then
	# As an initramfs waits for its root device: up to 30 s.
	n=0
	while [ ! -e "/sys/block/$root" ] && [ $n -lt 3000 ]; do sleep 0.01; n=$((n+1)); done
	[ -e "/sys/block/$root" ] || echo "gemu initramfs: no disk $root after 30 s"
fi
echo
echo "gemu initramfs: $(uname -sr) on $(uname -m)"
cmd=$(sed -n -e 's/.*gemu\.cmd="\([^"]*\)".*/\1/p;t' -e 's/.*gemu\.cmd=\([^" ][^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$cmd" ]; then
	sh -c "$cmd"
	echo "gemu.cmd: exit status $?"
	poweroff -f
fi
echo "poweroff -f (or leaving the shell) powers off"
setsid cttyhack sh
poweroff -f
`

// skeletonDirs are the directories of a minimal root: the mount points of
// DefaultInit and the homes of busybox's applets.
var skeletonDirs = []struct {
	path string
	mode fs.FileMode
}{
	{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"lib", 0o755},
	{"mnt", 0o755}, {"proc", 0o555}, {"root", 0o700}, {"run", 0o755},
	{"sbin", 0o755}, {"sys", 0o555}, {"tmp", 0o777 | fs.ModeSticky},
	{"usr/bin", 0o755}, {"usr/sbin", 0o755},
}

// AddSkeleton adds the directories of a minimal root and the device nodes
// the kernel and init need before devtmpfs is mounted: init's stdin,
// stdout and stderr are /dev/console of the initramfs (c 5 1).
func AddSkeleton(a *Archive) error {
	for _, d := range skeletonDirs {
		if err := a.AddDir(d.path, d.mode); err != nil {
			return err
		}
	}
	if err := a.AddDevice("dev/console", fs.ModeCharDevice|0o600, 5, 1); err != nil {
		return err
	}
	return a.AddDevice("dev/null", fs.ModeCharDevice|0o666, 1, 3)
}

// FallbackApplets are the links made when the busybox binary cannot list
// its own applets: common applets where Debian's busybox puts them.
var FallbackApplets = []string{
	"bin/sh", "bin/ls", "bin/cat", "bin/echo", "bin/mount", "bin/umount",
	"bin/uname", "bin/dmesg", "bin/ps", "bin/mkdir", "bin/rm", "bin/cp",
	"bin/mv", "bin/ln", "bin/ping", "bin/dd", "bin/sync", "bin/sleep",
	"bin/grep", "bin/sed", "bin/df", "bin/chmod", "bin/chown", "bin/mknod",
	"bin/cttyhack", "bin/true", "bin/false", "bin/kill", "bin/stty", "bin/vi",
	"sbin/poweroff", "sbin/reboot", "sbin/halt", "sbin/insmod",
	"sbin/modprobe", "sbin/lsmod", "sbin/ip", "sbin/ifconfig",
	"usr/bin/nc", "usr/bin/awk", "usr/bin/head", "usr/bin/tail", "usr/bin/wc",
	"usr/bin/free", "usr/bin/du", "usr/bin/find", "usr/bin/setsid",
	"usr/bin/hexdump", "usr/bin/md5sum", "usr/bin/sha256sum", "usr/bin/seq",
	"usr/bin/test", "usr/bin/[", "usr/bin/printf", "usr/bin/env",
}

// ParseApplets reads the output of `busybox --list-full`, one applet path
// a line such as "usr/bin/awk", and returns the paths to link. It drops
// busybox itself, linuxrc (an initramfs starts /init) and names that are
// not valid archive paths.
func ParseApplets(list string) []string {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(list, "\n") {
		p, err := Clean(strings.TrimSpace(line))
		if err != nil || p == "linuxrc" || path.Base(p) == "busybox" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// AddBusybox adds the busybox binary as /bin/busybox and, for each applet
// path, a symlink to it.
func AddBusybox(a *Archive, busybox []byte, applets []string) error {
	if err := a.AddFile("bin/busybox", 0o755, busybox); err != nil {
		return err
	}
	for _, p := range applets {
		if err := a.AddSymlink(p, "/bin/busybox"); err != nil {
			return fmt.Errorf("busybox applet: %w", err)
		}
	}
	return nil
}

// NewBusybox returns an archive with a minimal root (AddSkeleton), busybox
// with its applet links (AddBusybox) and init as /init (DefaultInit for the
// usual one).
func NewBusybox(busybox []byte, applets []string, init []byte) (*Archive, error) {
	a := &Archive{}
	if err := AddSkeleton(a); err != nil {
		return nil, err
	}
	if err := AddBusybox(a, busybox, applets); err != nil {
		return nil, err
	}
	if err := a.AddFile("init", 0o755, init); err != nil {
		return nil, err
	}
	return a, nil
}
