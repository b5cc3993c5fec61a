package devices

import (
	"strings"
	"testing"
)

func TestNetTap(t *testing.T) {
	tap, err := OpenNetTap("gemutest%d", nil)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "tap") || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q is not one line about the tap", err)
		}
		t.Skipf("no tap device here: %v", err)
	}
	defer tap.Close()
	if !strings.HasPrefix(tap.Name(), "gemutest") {
		t.Errorf("interface name %q", tap.Name())
	}
	var b NetBackend = tap
	b.SetReceiver(func([]byte) {})
	// The interface is down: the kernel may refuse the frame, which is a
	// drop, not an error.
	if err := b.Send(testFrame(60, 0)); err != nil {
		t.Errorf("Send: %v", err)
	}
	st := tap.Stats()
	if st.FramesOut+st.Dropped != 1 {
		t.Errorf("stats %+v: the frame is neither sent nor dropped", st)
	}
	if err := b.Send(nil); err == nil {
		t.Error("empty frame: no error")
	}
	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tap.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Send(testFrame(60, 0)); err == nil {
		t.Error("Send after Close: no error")
	}
}

func TestNetTapBadName(t *testing.T) {
	if _, err := OpenNetTap("a/b", nil); err == nil {
		t.Error("tap named a/b: no error")
	}
}
