package devices

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// SectorSize is the logical sector size of the emulated disks.
const SectorSize = 512

// BlockBackend is the storage behind an emulated disk. Offsets and lengths
// are in bytes; the disks only issue whole, aligned sectors.
type BlockBackend interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	// Sync makes the writes so far durable (the guest's cache flush).
	Sync() error
	// Size is the capacity in bytes, a multiple of SectorSize.
	Size() int64
	ReadOnly() bool
}

// ErrReadOnly is returned by writes to a read-only backend.
var ErrReadOnly = errors.New("disk image is read-only")

// FileBackend is a raw disk image in a host file (or block device). Writes
// go straight to the file: nothing is cached on the host side beyond the
// kernel's page cache, and Sync calls fsync.
type FileBackend struct {
	f        *os.File
	path     string
	size     int64
	readOnly bool
}

// OpenFileBackend opens a raw image. It refuses a missing file, an empty
// one and one whose size is not a multiple of 512 bytes (a truncated or
// non-disk file is more likely a mistake than a disk), naming the path.
func OpenFileBackend(path string, readOnly bool) (*FileBackend, error) {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("disk image %s does not exist", path)
		case errors.Is(err, fs.ErrPermission) && !readOnly:
			return nil, fmt.Errorf("disk image %s: not writable (open it read-only?): %w", path, err)
		case errors.As(err, &pe):
			return nil, fmt.Errorf("disk image %s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("disk image %s: %w", path, err)
	}
	if err := lockImage(f, !readOnly); err != nil {
		f.Close()
		return nil, lockError("disk image "+path, !readOnly, err)
	}
	size, err := f.Seek(0, io.SeekEnd) // Stat reports 0 for block devices
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("disk image %s: %w", path, err)
	}
	switch {
	case size == 0:
		f.Close()
		return nil, fmt.Errorf("disk image %s is empty", path)
	case size%SectorSize != 0:
		f.Close()
		return nil, fmt.Errorf("disk image %s: size %d bytes is not a multiple of %d-byte sectors", path, size, SectorSize)
	}
	return &FileBackend{f: f, path: path, size: size, readOnly: readOnly}, nil
}

// errImageLocked is lockImage's answer when another open file holds a
// conflicting lock.
var errImageLocked = errors.New("image locked")

// lockError explains a refused image lock.
func lockError(what string, write bool, err error) error {
	if errors.Is(err, errImageLocked) {
		if write {
			return fmt.Errorf("%s is in use by another process (it holds a lock on it); not opened for writing", what)
		}
		return fmt.Errorf("%s is being written by another process (it holds a lock on it); not opened", what)
	}
	return fmt.Errorf("%s: lock: %w", what, err)
}

// ReadAt reads from the image.
func (b *FileBackend) ReadAt(p []byte, off int64) (int, error) { return b.f.ReadAt(p, off) }

// WriteAt writes to the image; it fails on a read-only backend.
func (b *FileBackend) WriteAt(p []byte, off int64) (int, error) {
	if b.readOnly {
		return 0, ErrReadOnly
	}
	return b.f.WriteAt(p, off)
}

// Sync flushes the image to stable storage.
func (b *FileBackend) Sync() error {
	if b.readOnly {
		return nil
	}
	return b.f.Sync()
}

// Size returns the image size in bytes.
func (b *FileBackend) Size() int64 { return b.size }

// ReadOnly reports whether writes are refused.
func (b *FileBackend) ReadOnly() bool { return b.readOnly }

// Path returns the image's path.
func (b *FileBackend) Path() string { return b.path }

// Close closes the image file.
func (b *FileBackend) Close() error { return b.f.Close() }
