package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gemu-project/gemu/firmware/initramfs"
)

const initramfsUsage = `usage: gemu initramfs -o FILE [--busybox PATH] [--init SCRIPT] [--add HOSTPATH:GUESTPATH]...
                      [--modules NAME,...] [--module-tree DIR]

Writes a gzip-compressed newc cpio for the kernel's initrd: busybox as
/bin/busybox with links for its applets, /dev/console, and an /init that
mounts proc, sysfs and devtmpfs and starts a shell on the console
(gemu.cmd="COMMAND" on the kernel command line runs COMMAND and powers off).
--add copies a host file to GUESTPATH (a GUESTPATH ending in / receives the
file's name), or a host directory recursively to be GUESTPATH (/ merges it
into the root); --init replaces /init. --modules adds kernel modules and
their dependencies from the module tree, loaded by the default /init.

flags:
`

// addList is the repeatable --add flag.
type addList []string

func (l *addList) String() string     { return strings.Join(*l, " ") }
func (l *addList) Set(s string) error { *l = append(*l, s); return nil }

type initramfsFlags struct {
	*flag.FlagSet
	out, busybox, init  string
	modules, moduleTree string
	adds                addList
}

func newInitramfsFlags(out io.Writer) *initramfsFlags {
	f := &initramfsFlags{FlagSet: flag.NewFlagSet("gemu initramfs", flag.ContinueOnError)}
	f.SetOutput(out)
	f.Usage = func() {
		fmt.Fprint(out, initramfsUsage)
		f.PrintDefaults()
	}
	f.StringVar(&f.out, "o", "", "write the archive to `FILE` (required)")
	f.StringVar(&f.busybox, "busybox", "/bin/busybox", "static busybox `binary` for the guest")
	f.StringVar(&f.init, "init", "", "host `script` to use as /init instead of the default")
	f.Var(&f.adds, "add", "add `HOSTPATH:GUESTPATH` (repeatable)")
	f.StringVar(&f.modules, "modules", "", "kernel modules to add and load at boot: comma-separated `names` (e.g. virtio_blk,virtio_pci)")
	f.StringVar(&f.moduleTree, "module-tree", "", "the kernel's module `directory` (default: the newest /lib/modules/*)")
	return f
}

func cmdInitramfs(args []string, stdout, stderr io.Writer) int {
	f := newInitramfsFlags(stderr)
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gemu initramfs: %v\n", err)
		return 2
	}
	if f.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", f.Arg(0)))
	}
	if f.out == "" {
		return fail(errors.New("-o FILE is required"))
	}
	a, warning, err := buildInitramfs(f)
	if err != nil {
		return fail(err)
	}
	var buf bytes.Buffer
	if err := a.Write(&buf); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
		return fail(fmt.Errorf("-o: %v", pathErr(err)))
	}
	if warning != "" {
		fmt.Fprintf(stderr, "gemu initramfs: warning: %s\n", warning)
	}
	return 0
}

// buildInitramfs assembles the archive the flags describe. The warning,
// if any, is about a busybox that will not run in the guest as it is.
func buildInitramfs(f *initramfsFlags) (a *initramfs.Archive, warning string, err error) {
	bb, err := os.ReadFile(f.busybox)
	if err != nil {
		return nil, "", fmt.Errorf("--busybox: %v (a static busybox is needed: apt-get install busybox-static)", pathErr(err))
	}
	warning = dynamicWarning(f.busybox, bb)
	init := []byte(initramfs.DefaultInit)
	if f.init != "" {
		if init, err = os.ReadFile(f.init); err != nil {
			return nil, "", fmt.Errorf("--init: %v", pathErr(err))
		}
	}
	if a, err = initramfs.NewBusybox(bb, busyboxApplets(f.busybox), init); err != nil {
		return nil, "", err
	}
	for _, spec := range f.adds {
		if err := addHostPath(a, spec); err != nil {
			return nil, "", err
		}
	}
	if f.modules != "" {
		tree := f.moduleTree
		if tree == "" {
			trees, _ := filepath.Glob("/lib/modules/*")
			if len(trees) == 0 {
				return nil, "", errors.New("--modules: no /lib/modules/* (give --module-tree)")
			}
			sort.Strings(trees)
			tree = trees[len(trees)-1]
		}
		if err := initramfs.AddModules(a, tree, strings.Split(f.modules, ",")); err != nil {
			return nil, "", fmt.Errorf("--modules: %v", err)
		}
	}
	return a, warning, nil
}

// pathErr shortens an *fs.PathError to "PATH: reason".
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// busyboxApplets asks the host to run busybox --list-full (a static x86
// busybox runs on the host as well as in the guest) and falls back to a
// built-in list when that fails or lists nothing.
func busyboxApplets(bin string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--list-full").Output()
	if err == nil {
		if applets := initramfs.ParseApplets(string(out)); len(applets) > 0 {
			return applets
		}
	}
	return initramfs.FallbackApplets
}

// dynamicWarning says when busybox is an ELF file with a program
// interpreter: a dynamically linked busybox lacks its libraries in the
// guest.
func dynamicWarning(name string, bin []byte) string {
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return ""
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Sprintf("%s is dynamically linked; the guest will lack its libraries (apt-get install busybox-static)", name)
		}
	}
	return ""
}

// addHostPath handles one --add HOSTPATH:GUESTPATH: a file (symlinks
// followed) or a directory tree, whose symlinks are kept as symlinks.
func addHostPath(a *initramfs.Archive, spec string) error {
	i := strings.LastIndex(spec, ":")
	if i <= 0 || !strings.HasPrefix(spec[i+1:], "/") {
		return fmt.Errorf("--add %q: want HOSTPATH:GUESTPATH with an absolute GUESTPATH", spec)
	}
	host, guest := spec[:i], spec[i+1:]
	fail := func(err error) error { return fmt.Errorf("--add %s: %v", spec, pathErr(err)) }
	st, err := os.Stat(host)
	if err != nil {
		return fail(err)
	}
	if !st.IsDir() {
		if strings.HasSuffix(guest, "/") {
			guest += filepath.Base(host)
		}
		if _, err := initramfs.Clean(guest); err != nil {
			return fmt.Errorf("--add %q: bad GUESTPATH %q", spec, guest)
		}
		if err := addHostFile(a, host, guest, st); err != nil {
			return fail(err)
		}
		return nil
	}
	// A directory becomes GUESTPATH itself; "/" merges it into the root.
	if strings.Contains("/"+guest+"/", "/../") {
		return fmt.Errorf("--add %q: bad GUESTPATH %q", spec, guest)
	}
	guest = path.Clean(guest)
	if host, err = filepath.EvalSymlinks(host); err != nil { // walk the target of a symlinked HOSTPATH
		return fail(err)
	}
	err = filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(host, p)
		if err != nil {
			return err
		}
		g := path.Join(guest, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if g == "/" {
				return nil // the root is implicit
			}
			return a.AddDir(g, info.Mode())
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return a.AddSymlink(g, target)
		}
		return addHostFile(a, p, g, info)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// addHostFile adds the regular host file p at guest with its permissions.
func addHostFile(a *initramfs.Archive, p, guest string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file, directory or symlink", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return a.AddFile(guest, info.Mode(), data)
}
