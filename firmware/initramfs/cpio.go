// Package initramfs builds Linux initramfs images: gzip-compressed cpio
// archives in the "newc" format of the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst.
//
// An Archive collects directories, regular files, symlinks and device nodes
// by path and writes them sorted, owned by root, with one fixed mtime and
// inode numbers given in path order, so the same input always gives the
// same bytes.
package initramfs

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"sort"
	"strings"
)

// File type bits of cpio's mode field (the st_mode values of buffer-format.rst).
const (
	modeDir     = 0o040000
	modeRegular = 0o100000
	modeSymlink = 0o120000
	modeChar    = 0o020000
	modeBlock   = 0o060000
)

// trailer names the entry that ends an archive (buffer-format.rst).
const trailer = "TRAILER!!!"

type entry struct {
	mode         uint32 // type and permission bits, as st_mode
	data         []byte // file contents or symlink target
	major, minor uint32 // device number of a device node
}

// Archive is an initramfs under construction. The zero value is empty and
// ready to use. Paths are slash-separated and taken relative to the root:
// "/bin/sh" and "bin/sh" name the same entry. Adding an entry creates its
// missing parent directories with mode 0755. Adding a non-directory where
// one already is replaces it; adding a directory where one already is sets
// its mode.
type Archive struct {
	// MTime is the modification time of every entry, in seconds since the
	// Unix epoch; 0 unless set.
	MTime int64

	entries map[string]*entry
}

// Clean returns p as an archive path (relative, without "." or ".."
// elements), or an error if p names the root or climbs out of it.
func Clean(p string) (string, error) {
	c := path.Clean("/" + p)[1:]
	if c == "" {
		return "", fmt.Errorf("initramfs: path %q names the root", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return "", fmt.Errorf("initramfs: path %q contains ..", p)
		}
	}
	if strings.IndexByte(c, 0) >= 0 || c == trailer {
		// A NUL would end the name early; the trailer's name ends the archive.
		return "", fmt.Errorf("initramfs: path %q cannot be stored in a cpio archive", p)
	}
	return c, nil
}

// permBits converts the permission, setuid, setgid and sticky bits of m to
// st_mode bits. Unix's own 07000 bits are taken as well, so 0o4755 and
// fs.ModeSetuid|0o755 both mean setuid.
func permBits(m fs.FileMode) uint32 {
	b := uint32(m & 0o7777)
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// put stores e at p after making p's parent directories.
func (a *Archive) put(p string, e *entry) error {
	p, err := Clean(p)
	if err != nil {
		return err
	}
	if a.entries == nil {
		a.entries = make(map[string]*entry)
	}
	if dir := path.Dir(p); dir != "." {
		if err := a.mkdirAll(dir); err != nil {
			return err
		}
	}
	isDir := e.mode&0o170000 == modeDir
	if old, ok := a.entries[p]; ok {
		oldDir := old.mode&0o170000 == modeDir
		switch {
		case oldDir && isDir:
			old.mode = e.mode
			return nil
		case oldDir:
			return fmt.Errorf("initramfs: %s: is a directory", p)
		case isDir:
			return fmt.Errorf("initramfs: %s: exists and is not a directory", p)
		}
	}
	a.entries[p] = e
	return nil
}

// mkdirAll makes the clean path p and its parents directories, keeping
// those that exist.
func (a *Archive) mkdirAll(p string) error {
	if old, ok := a.entries[p]; ok {
		if old.mode&0o170000 != modeDir {
			return fmt.Errorf("initramfs: %s: exists and is not a directory", p)
		}
		return nil
	}
	if dir := path.Dir(p); dir != "." {
		if err := a.mkdirAll(dir); err != nil {
			return err
		}
	}
	a.entries[p] = &entry{mode: modeDir | 0o755}
	return nil
}

// AddDir adds the directory p with the permission bits of mode.
func (a *Archive) AddDir(p string, mode fs.FileMode) error {
	return a.put(p, &entry{mode: modeDir | permBits(mode)})
}

// AddFile adds the regular file p holding data, with the permission bits
// of mode. The archive keeps data; the caller must not change it.
func (a *Archive) AddFile(p string, mode fs.FileMode, data []byte) error {
	if uint64(len(data)) > math.MaxUint32 {
		return fmt.Errorf("initramfs: %s: %d bytes is more than newc's 32-bit size field", p, len(data))
	}
	return a.put(p, &entry{mode: modeRegular | permBits(mode), data: data})
}

// AddSymlink adds the symbolic link p pointing at target.
func (a *Archive) AddSymlink(p, target string) error {
	if target == "" {
		return fmt.Errorf("initramfs: %s: empty symlink target", p)
	}
	return a.put(p, &entry{mode: modeSymlink | 0o777, data: []byte(target)})
}

// AddDevice adds the device node p with number major:minor: a character
// device if mode has fs.ModeCharDevice, else a block device if mode has
// fs.ModeDevice. For example AddDevice("/dev/console",
// fs.ModeCharDevice|0o600, 5, 1).
func (a *Archive) AddDevice(p string, mode fs.FileMode, major, minor uint32) error {
	var t uint32
	switch {
	case mode&fs.ModeCharDevice != 0:
		t = modeChar
	case mode&fs.ModeDevice != 0:
		t = modeBlock
	default:
		return fmt.Errorf("initramfs: %s: device mode %v is neither character nor block", p, mode)
	}
	return a.put(p, &entry{mode: t | permBits(mode), major: major, minor: minor})
}

// Len returns the number of entries, the trailer not counted.
func (a *Archive) Len() int { return len(a.entries) }

// Paths returns the paths of the entries in archive order.
func (a *Archive) Paths() []string {
	ps := make([]string, 0, len(a.entries))
	for p := range a.entries {
		ps = append(ps, p)
	}
	// A parent is a prefix of its children, so it sorts before them.
	sort.Strings(ps)
	return ps
}

// Write writes the archive to w as a gzip-compressed newc cpio: the form
// the kernel unpacks from an initrd (buffer-format.rst, "compressed").
func (a *Archive) Write(w io.Writer) error {
	// gzip.Writer's header has no name and a zero mtime unless set, so the
	// output depends on the entries alone.
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := a.WriteCPIO(zw); err != nil {
		return err
	}
	return zw.Close()
}

// WriteCPIO writes the archive to w as an uncompressed newc cpio ending in
// the TRAILER!!! entry.
func (a *Archive) WriteCPIO(w io.Writer) error {
	if a.MTime < 0 || a.MTime > math.MaxUint32 {
		return fmt.Errorf("initramfs: mtime %d does not fit newc's 32-bit field", a.MTime)
	}
	bw := bufio.NewWriter(w)
	cw := &cpioWriter{w: bw}
	for i, p := range a.Paths() {
		e := a.entries[p]
		nlink := uint32(1)
		if e.mode&0o170000 == modeDir {
			nlink = 2
		}
		cw.entry(p, header{
			ino: uint32(i + 1), mode: e.mode, nlink: nlink, mtime: uint32(a.MTime),
			rdevMajor: e.major, rdevMinor: e.minor,
		}, e.data)
	}
	cw.entry(trailer, header{nlink: 1}, nil)
	if cw.err != nil {
		return cw.err
	}
	return bw.Flush()
}

// header holds the fields of a newc header that vary here; uid, gid, the
// device of the archive's filesystem and the checksum are always 0.
type header struct {
	ino, mode, nlink, mtime uint32
	rdevMajor, rdevMinor    uint32
}

type cpioWriter struct {
	w   *bufio.Writer
	off int64
	err error
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.off += int64(n)
	c.err = err
}

// pad writes NULs up to the next multiple of 4 bytes.
func (c *cpioWriter) pad() {
	var zero [3]byte
	c.write(zero[:(4-c.off%4)%4])
}

// entry writes one newc entry: "070701", thirteen 8-digit hex fields, the
// NUL-terminated name padded to 4 bytes, then the data padded to 4 bytes
// (buffer-format.rst).
func (c *cpioWriter) entry(name string, h header, data []byte) {
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		h.ino, h.mode, 0, 0, h.nlink, h.mtime, len(data),
		0, 0, h.rdevMajor, h.rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write(append([]byte(name), 0))
	c.pad()
	c.write(data)
	c.pad()
}
