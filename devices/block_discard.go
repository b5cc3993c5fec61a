package devices

import "fmt"

// Discard deallocates [off, off+n) of the image so that it reads back as
// zeros: a hole punched in the file where the host allows it (sparse images
// shrink when the guest trims), zeros written where it does not. virtio-blk
// offers DISCARD to the guest because the backend has this method.
func (b *FileBackend) Discard(off, n int64) error {
	if b.readOnly {
		return ErrReadOnly
	}
	if off < 0 || n < 0 || off > b.size || n > b.size-off {
		return fmt.Errorf("disk image %s: discard of %d bytes at %d is outside its %d bytes", b.path, n, off, b.size)
	}
	if n == 0 {
		return nil
	}
	if punchHole(b.f, off, n) == nil {
		return nil
	}
	zeros := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := b.f.WriteAt(zeros[:k], off); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}
