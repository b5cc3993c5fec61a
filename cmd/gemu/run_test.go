package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A script drives the guest through stdin when it is not a terminal; input
// sent before the guest's UART driver starts is kept for it.
func TestSerialInputFromPipe(t *testing.T) {
	var out, errOut bytes.Buffer
	status := run([]string{"run", "--kernel", "../../testdata/console.bin", "--timeout", "60s"}, strings.NewReader("abq"), &out, &errOut)
	require.Equal(t, 1, status, errOut.String()) // verdict 0
	require.Contains(t, out.String(), "console guest up\nabq\n")
}

// A reset ends gemu (status 0) unless --reboot restarts the machine.
func TestReboot(t *testing.T) {
	status, out, errOut := gemu("run", "--kernel", "../../testdata/console.bin", "--append", "!")
	require.Equal(t, 0, status, errOut)
	require.Equal(t, 1, strings.Count(out, "console guest up"), out)
	require.Contains(t, errOut, "reset")

	status, out, errOut = gemu("run", "--kernel", "../../testdata/console.bin", "--append", "!", "--reboot", "--timeout", "1s")
	require.Equal(t, 3, status, errOut)
	require.Greater(t, strings.Count(out, "console guest up\nresetting"), 1, out)
	require.Contains(t, errOut, "timed out after 1s")
}

func TestICountFlag(t *testing.T) {
	for _, bad := range []string{"shift=11", "x", "shift=-1"} {
		status, _, errOut := gemu("run", "--icount", bad)
		require.Equal(t, 2, status, bad)
		require.Contains(t, errOut, "--icount", bad)
		require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	}
	// The same guest under icount retires the same instructions and sees the same time.
	var runs []string
	for range 2 {
		status, out, errOut := gemu("run", "--kernel", "../../testdata/pit.bin", "--icount", "shift=2", "--stats")
		require.Equal(t, 1, status, errOut)
		i := strings.Index(errOut, "instructions")
		require.GreaterOrEqual(t, i, 0, errOut)
		line, _, _ := strings.Cut(errOut[i:], "\n")
		runs = append(runs, out+line)
	}
	require.Equal(t, runs[0], runs[1])
}

// --stats-json writes the traps by sensitive instruction, the shadow-TLB
// figures and the I/O exits by device.
func TestStatsJSON(t *testing.T) {
	path := t.TempDir() + "/stats.json"
	status, _, errOut := gemu("run", "--kernel", "../../testdata/rings.bin", "--stats", "--stats-json", path)
	require.Equal(t, 1, status, errOut)
	require.Contains(t, errOut, "traps ")
	require.Contains(t, errOut, "I/O exits by device")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var s struct {
		Instructions uint64 `json:"instructions"`
		Traps        uint64 `json:"traps"`
		Sensitive    []struct {
			Name   string
			Reason string
			Count  uint64
		} `json:"sensitive"`
		Devices []struct {
			Device string `json:"device"`
			PortIO uint64 `json:"port_io"`
		} `json:"devices"`
		Flushes struct {
			CR3 uint64 `json:"cr3"`
		} `json:"tlb_flushes_by_cause"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	require.NotZero(t, s.Instructions)
	var sum uint64
	rows := map[string]uint64{}
	for _, r := range s.Sensitive {
		sum += r.Count
		rows[r.Name] = r.Count
		require.NotEmpty(t, r.Reason, r.Name)
	}
	require.Equal(t, s.Traps, sum, "traps are the sum of the rows")
	require.NotZero(t, rows["IRET"], "rings.asm returns from interrupts")
	require.NotZero(t, rows["LTR Ew"], "rings.asm loads a TSS")
	require.Equal(t, "com1", s.Devices[0].Device)
	require.NotZero(t, s.Flushes.CR3)
}

// --jit=false interprets every instruction; by default the integer loop
// runs in native code (where the host allows it), with the same result
// and the same instruction count.
func TestJITFlag(t *testing.T) {
	var outs [2]string
	var native [2]uint64
	for k, jit := range []string{"--jit=true", "--jit=false"} {
		path := t.TempDir() + "/stats.json"
		status, out, errOut := gemu("run", "--kernel", "../../testdata/intloop.bin", "--append", "100000", jit, "--stats-json", path)
		require.Equal(t, 1, status, errOut)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var s struct {
			Instructions uint64 `json:"instructions"`
			Native       uint64 `json:"native_instructions"`
		}
		require.NoError(t, json.Unmarshal(b, &s))
		outs[k], native[k] = fmt.Sprint(out, s.Instructions), s.Native
	}
	require.Equal(t, outs[0], outs[1])
	require.Zero(t, native[1], "--jit=false")
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		require.NotZero(t, native[0], "the loop should run native")
	}
	status, _, errOut := gemu("run", "--jit=maybe")
	require.Equal(t, 2, status, errOut)
}
