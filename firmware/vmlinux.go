package firmware

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
)

// ErrNoXZ is UnpackVmlinux's error where the xz command is missing.
var ErrNoXZ = errors.New("no xz command to unpack the kernel's payload (apt-get install xz-utils)")

// UnpackVmlinux returns the uncompressed kernel inside a bzImage: its
// payload (boot protocol 2.08 payload_offset/payload_length), an XZ stream
// that the xz command unpacks into the vmlinux ELF, whose PVH note lets the
// kernel boot without decompressing itself.
func UnpackVmlinux(bzImage []byte) ([]byte, error) {
	xz, err := exec.LookPath("xz")
	if err != nil {
		return nil, ErrNoXZ
	}
	h, err := ParseLinuxHeader(bzImage)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(xz, "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(h.Payload())
	elf, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("unpacking the kernel's payload with xz: %w", err)
	}
	return elf, nil
}
