//go:build linux

package mmu

import "golang.org/x/sys/unix"

// allocRAM maps anonymous memory so that the KVM engine can register the very
// same host pages as guest memory.
func allocRAM(size uint64) ([]byte, error) {
	return unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
}
