//go:build linux

package devices

import (
	"strings"
	"testing"
)

// Images are locked as QEMU locks them: one writer, or any number of
// readers; an overlay's base is read while the overlay is open and written
// only by a commit that nobody else reads through.
func TestImageLocks(t *testing.T) {
	ovl, base, _ := newOverlayFiles(t)
	refused := func(what, want string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: got %v, want an error saying %q", what, err, want)
		}
	}
	open := func(path string, ro bool) (*FileBackend, error) {
		b, err := OpenFileBackend(path, ro)
		if err == nil {
			t.Cleanup(func() { b.Close() })
		}
		return b, err
	}

	// Raw: one writer excludes everybody; readers share.
	w, err := open(base, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = open(base, false)
	refused("a second writer", "in use by another process", err)
	_, err = open(base, true)
	refused("a reader beside a writer", "being written by another process", err)
	w.Close()
	r1, err := open(base, true)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := open(base, true)
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	_, err = open(base, false)
	refused("a writer beside readers", "in use by another process", err)

	// Overlay: it reads its base beside the others; it has one user.
	o := openOverlay(t, ovl)
	_, err = OpenOverlay(ovl)
	refused("the overlay opened twice", "in use by another process", err)
	_, err = o.Commit()
	refused("a commit while others read the base", "in use by another process", err)
	r1.Close()
	r2.Close()
	if _, err := o.Commit(); err != nil {
		t.Fatalf("a commit with the base to itself: %v", err)
	}
	_, err = open(base, false)
	refused("a writer of the base of an open overlay", "in use by another process", err)
	if _, err := open(base, true); err != nil {
		t.Fatalf("a reader beside the overlay after its commit: %v", err)
	}
}
