package devices

import "testing"

// regDevice is a register window that answers reads with its tag.
type regDevice struct{ tag byte }

func (d *regDevice) Read(offset uint64, data []byte) {
	for i := range data {
		data[i] = d.tag
	}
}
func (d *regDevice) Write(offset uint64, data []byte) {}

func TestBusUnregister(t *testing.T) {
	b := NewBus("test")
	a, c := &regDevice{0xA}, &regDevice{0xC}
	if err := b.Register(0x100, 0x10, "a", a); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(0x200, 0x10, "c", c); err != nil {
		t.Fatal(err)
	}
	buf := []byte{0}
	if !b.Read(0x105, buf) || buf[0] != 0xA { // also primes the cache with "a"
		t.Fatalf("read a: %v %#x", true, buf[0])
	}
	for _, bad := range []struct{ base, size uint64 }{{0x100, 0x8}, {0x108, 0x8}, {0x300, 0x10}} {
		if err := b.Unregister(bad.base, bad.size); err == nil {
			t.Errorf("Unregister(%#x, %#x) succeeded", bad.base, bad.size)
		}
	}
	if err := b.Unregister(0x100, 0x10); err != nil {
		t.Fatal(err)
	}
	if b.Read(0x105, buf) {
		t.Error("read at the removed range was claimed")
	}
	if err := b.Unregister(0x100, 0x10); err == nil {
		t.Error("second Unregister succeeded")
	}
	if !b.Read(0x20F, buf) || buf[0] != 0xC {
		t.Errorf("read c after removing a: %#x", buf[0])
	}
	// The range is free again: a device can move there.
	if err := b.Register(0x100, 0x100, "c2", c); err != nil {
		t.Fatal(err)
	}
	if !b.Read(0x1FF, buf) || buf[0] != 0xC || b.Name(0x1FF) != "c2" {
		t.Errorf("read at the new range: %#x %q", buf[0], b.Name(0x1FF))
	}
}
