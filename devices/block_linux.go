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
