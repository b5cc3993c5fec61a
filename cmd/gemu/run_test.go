package main

import (
	"bytes"
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
