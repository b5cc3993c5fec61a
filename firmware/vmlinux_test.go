package firmware

import (
	"errors"
	"testing"
)

// A file that is not a bzImage is refused with the header parser's error,
// never handed to xz.
func TestUnpackVmlinuxRefusesNonKernels(t *testing.T) {
	_, err := UnpackVmlinux([]byte("not a kernel at all"))
	if err == nil {
		t.Fatal("no error for a file that is not a bzImage")
	}
	if errors.Is(err, ErrNoXZ) {
		t.Skip(err)
	}
	if _, perr := ParseLinuxHeader([]byte("not a kernel at all")); err.Error() != perr.Error() {
		t.Fatalf("error %q, want the header parser's %q", err, perr)
	}
}
