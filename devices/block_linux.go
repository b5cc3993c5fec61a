package devices

import (
	"os"

	"golang.org/x/sys/unix"
)

// punchHole deallocates a range of f, keeping its size (fallocate(2)
// FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE).
func punchHole(f *os.File, off, n int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// lockImage takes an advisory lock on an image file for as long as it is
// open (flock(2); the kernel drops it when the file is closed or the
// process dies): exclusive for a writer, shared for a reader, as QEMU
// locks its images, so that two gemu processes cannot both write one
// disk, nor one write what another reads.
func lockImage(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		switch err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err {
		case unix.EINTR:
			continue
		case unix.EWOULDBLOCK:
			return errImageLocked
		case unix.ENOLCK, unix.EOPNOTSUPP:
			return nil // a file system without locks: the image is used unlocked, as by QEMU
		default:
			return err
		}
	}
}
