package firmware

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestE820(t *testing.T) {
	tests := []struct {
		mem  uint64
		want []E820Entry
	}{
		{32 << 20, []E820Entry{
			{0, 0x9FC00, E820RAM},
			{0x9FC00, 0x400, E820Reserved},
			{0xF0000, 0x10000, E820Reserved},
			{0x100000, 31 << 20, E820RAM},
		}},
		{1 << 20, []E820Entry{
			{0, 0x9FC00, E820RAM},
			{0x9FC00, 0x400, E820Reserved},
			{0xF0000, 0x10000, E820Reserved},
		}},
		{6 << 30, []E820Entry{
			{0, 0x9FC00, E820RAM},
			{0x9FC00, 0x400, E820Reserved},
			{0xF0000, 0x10000, E820Reserved},
			{0x100000, 6<<30 - 1<<20, E820RAM},
		}},
	}
	for _, tc := range tests {
		got := E820(tc.mem)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("E820(%#x) (-want +got):\n%s", tc.mem, d)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Base < got[i-1].End() {
				t.Errorf("E820(%#x): entries %d and %d overlap or are out of order", tc.mem, i-1, i)
			}
		}
	}
	if s := (E820Entry{0x9FC00, 0x400, E820Reserved}).String(); s != "0x0009fc00-0x000a0000 reserved" {
		t.Errorf("String() = %q", s)
	}
	if s := E820Type(5).String(); s != "type 5" {
		t.Errorf("String() = %q", s)
	}
}
