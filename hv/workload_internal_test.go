package hv

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/devices"
)

func TestStatName(t *testing.T) {
	for field, want := range map[string]string{
		"Instructions": "instructions", "TLBFlushes": "TLB flushes", "BlocksTranslated": "blocks translated",
		"PortIO": "port I/O", "TLBHits": "TLB hits", "Traps": "traps",
	} {
		require.Equal(t, want, statName(field))
	}
}

func TestStatCounters(t *testing.T) {
	s := Stats{
		Instructions: 1000, Interrupts: 7, Elapsed: time.Second,
		PortIO:     []devices.PortCount{{Port: 0x3f8, Name: "com1", Count: 5}, {Port: 0x80, Count: 2}},
		Sensitive:  []cpu.SensitiveCount{{SensitiveRow: cpu.SensitiveRow{Name: "CPUID"}, Count: 3}},
		Devices:    []DeviceExits{{Device: "virtio-blk", MMIO: 9}, {Device: "com1", PortIO: 5}},
		Hypercalls: map[uint64]uint64{5: 1, 1: 2},
	}
	got := map[string]Metric{}
	var order []string
	for _, m := range statCounters(s) {
		require.NotContains(t, got, m.Name)
		got[m.Name] = m
		order = append(order, m.Name)
	}
	require.Equal(t, Metric{Name: "instructions", Value: 1000}, got["instructions"])
	require.Equal(t, Metric{Name: "interrupts", Value: 7}, got["interrupts"])
	require.Equal(t, Metric{Name: "port I/O", Value: 7}, got["port I/O"])
	require.Equal(t, Metric{Name: "port I/O 0x3f8 com1", Value: 5, Detail: true}, got["port I/O 0x3f8 com1"])
	require.Equal(t, Metric{Name: "traps by CPUID", Value: 3, Detail: true}, got["traps by CPUID"])
	require.Equal(t, Metric{Name: "MMIO exits", Value: 9}, got["MMIO exits"])
	require.Equal(t, Metric{Name: "MMIO exits to virtio-blk", Value: 9, Detail: true}, got["MMIO exits to virtio-blk"])
	require.Equal(t, Metric{Name: "hypercalls", Value: 3}, got["hypercalls"])
	require.True(t, got["TLB hits"].Detail)
	require.NotContains(t, got, "elapsed")
	require.Less(t, indexOf(order, "hypercalls[1]"), indexOf(order, "hypercalls[5]"))
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func TestDiffCounters(t *testing.T) {
	begin := []Metric{{Name: "instructions", Value: 10}, {Name: "port 0x80", Value: 4, Detail: true}}
	end := []Metric{{Name: "instructions", Value: 25}, {Name: "port 0x80", Value: 4, Detail: true},
		{Name: "port 0x3f8", Value: 2, Detail: true}}
	require.Equal(t, []Metric{{Name: "instructions", Value: 15}, {Name: "port 0x3f8", Value: 2, Detail: true}},
		diffCounters(begin, end))
}

// TestSerialWatch feeds a console byte by byte: markers are timed at their
// newline, a retried phase keeps its last begin, the prompt fires once.
func TestSerialWatch(t *testing.T) {
	w := newSerialWatch()
	snaps := 0
	w.snap = func() []Metric { snaps++; return []Metric{{Name: "instructions", Value: float64(100 * snaps)}} }
	prompts := 0
	w.onPrompt = func() { prompts++ }
	feed := func(s string) {
		for i := range len(s) {
			_, err := w.Write([]byte{s[i]})
			require.NoError(t, err)
		}
	}
	feed("Command line: console=ttyS0 gemu.cmd=\"echo @bench:x-begin\"\r\n")
	feed("@bench:x-begin\r\n@bench:x-begin\r\n")
	time.Sleep(2 * time.Millisecond)
	feed("@bench:x-end 12+0 records\r\n")
	d, c, err := w.phase("x")
	require.NoError(t, err)
	require.GreaterOrEqual(t, d, 2*time.Millisecond)
	require.Equal(t, []Metric{{Name: "instructions", Value: 100}}, c, "from the second begin to the end")
	mk, ok := w.marker("x-end")
	require.True(t, ok)
	require.Equal(t, "12+0 records", mk.text)
	_, _, err = w.phase("y")
	require.ErrorContains(t, err, "did not finish y")
	require.ErrorContains(t, err, "@bench:x-end")

	require.True(t, w.prompt().IsZero())
	feed("# not yet a prompt\r\n")
	feed("poweroff -f (or leaving the shell) powers off\r\n~ # ")
	feed("ls\r\n~ # ")
	require.False(t, w.prompt().IsZero())
	require.Equal(t, 1, prompts)
}
