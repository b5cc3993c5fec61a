package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/hv"
)

// TestBenchIntloop runs gemu bench end to end on a short intloop: every
// available mode once, the table on stdout, the progress on stderr, and
// the JSON and SVG files read back.
func TestBenchIntloop(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "bench.json"), filepath.Join(dir, "bench.svg")
	status, out, errOut := gemu("bench", "--runs", "1", "--intloop-iterations", "1000000",
		"--json", jsonPath, "--svg", svgPath, "intloop")
	require.Equal(t, 0, status, errOut)

	// The modes that run here by default, and those skipped with a reason.
	var ran, skipped []string
	for _, m := range hv.DefaultModes {
		if m.Available() == nil {
			ran = append(ran, string(m))
		} else {
			skipped = append(skipped, string(m))
		}
	}
	require.Equal(t, "full", ran[0])
	for i, m := range ran {
		require.Contains(t, errOut, "intloop under "+m+", run 1/1")
		if i > 0 {
			require.Contains(t, out, m+"/full")
		}
	}
	for _, m := range skipped {
		require.Contains(t, out, "skipped: mode "+m+": ")
	}
	require.Regexp(t, `(?m)^intloop\s+guest MIPS ↑\s+MIPS\s+\d`, out)
	require.Regexp(t, `(?m)^\s+instructions\s+11\.0M`, out)

	var rep benchReport
	b, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Equal(t, ran, rep.Modes)
	require.Len(t, rep.Runs, len(ran))
	require.Len(t, rep.Skipped, len(skipped))
	require.Equal(t, 1_000_000, rep.Options.IntloopIterations)
	for _, r := range rep.Runs {
		require.Empty(t, r.Error)
		require.Equal(t, "intloop", r.Workload)
	}
	var mips *benchMedian
	for i := range rep.Medians {
		if rep.Medians[i].Metric == "guest MIPS" {
			mips = &rep.Medians[i]
		}
	}
	require.NotNil(t, mips)
	require.Len(t, mips.Values, len(ran))
	require.Greater(t, mips.Values["full"], 1.0)
	require.Len(t, mips.Ratios, len(ran)-1)

	f, err := os.Open(svgPath)
	require.NoError(t, err)
	defer f.Close()
	text := checkXML(t, f)
	require.Contains(t, text, "intloop — guest MIPS")
	for _, m := range ran {
		require.Contains(t, text, m)
	}
}

// checkXML parses the document whole and returns its character data.
func checkXML(t *testing.T, r io.Reader) string {
	d := xml.NewDecoder(r)
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
				require.Equal(t, "http://www.w3.org/2000/svg", tok.Name.Space)
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	require.Equal(t, "svg", root)
	return text.String()
}

func TestBenchBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "nope"},
		{"bench", "--modes", "full,warp", "intloop"},
		{"bench", "--runs", "0", "intloop"},
		{"bench", "--disk-mb", "-1", "disk"},
		{"bench", "--bogus", "intloop"},
	} {
		status, out, errOut := gemu(args...)
		require.Equal(t, 2, status, "%v", args)
		require.Empty(t, out, "%v", args)
		if len(args) < 2 || args[1] != "--bogus" {
			require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", args, errOut)
			require.True(t, strings.HasPrefix(errOut, "gemu bench: "), "%v: %q", args, errOut)
		}
	}
}

func TestMedianAndRatio(t *testing.T) {
	require.True(t, math.IsNaN(median(nil)))
	require.Equal(t, 3.0, median([]float64{5, 1, 3}))
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	in := []float64{3, 1, 2}
	median(in)
	require.Equal(t, []float64{3, 1, 2}, in, "median must not sort its input")
	require.Equal(t, 2.0, ratio(4, 2))
	require.True(t, math.IsNaN(ratio(4, 0)))
}

// sampleRuns are two runs of a workload under two modes, one failed run
// and a run of another workload.
func sampleRuns() []benchRun {
	m := func(name, unit string, v float64, better int) hv.Metric {
		return hv.Metric{Name: name, Unit: unit, Value: v, Better: better}
	}
	return []benchRun{
		{Workload: "boot", Mode: "full", Run: 1, Metrics: []hv.Metric{m("boot", "s", 10, -1), m("traps", "", 100, 0), m("zero", "", 0, 0)}},
		{Workload: "boot", Mode: "qemu-tcg", Run: 1, Metrics: []hv.Metric{m("boot", "s", 2, -1)}},
		{Workload: "boot", Mode: "full", Run: 2, Metrics: []hv.Metric{m("boot", "s", 12, -1), m("traps", "", 300, 0), m("zero", "", 0, 0)}},
		{Workload: "boot", Mode: "qemu-tcg", Run: 2, Error: "QEMU: timed out"},
		{Workload: "loop", Mode: "full", Run: 1, Metrics: []hv.Metric{m("guest MIPS", "MIPS", 150, 1), {Name: "port 0x80", Value: 3, Detail: true}}},
		{Workload: "loop", Mode: "qemu-tcg", Run: 1, Metrics: []hv.Metric{m("guest MIPS", "MIPS", 3000, 1)}},
	}
}

func TestMedians(t *testing.T) {
	ms := medians(sampleRuns(), []string{"boot", "loop"}, []string{"full", "qemu-tcg"})
	require.Len(t, ms, 5)
	boot := ms[0]
	require.Equal(t, "boot", boot.Metric)
	require.Equal(t, map[string]float64{"full": 11, "qemu-tcg": 2}, boot.Values, "the failed run is left out")
	require.InDelta(t, 2.0/11, boot.Ratios["qemu-tcg"], 1e-12)
	traps := ms[1]
	require.Equal(t, map[string]float64{"full": 200}, traps.Values)
	require.Empty(t, traps.Ratios)
	require.Equal(t, "zero", ms[2].Metric)
	loop := ms[3]
	require.Equal(t, 20.0, loop.Ratios["qemu-tcg"])
	require.True(t, ms[4].Detail)
}

func TestTable(t *testing.T) {
	rep := &benchReport{
		Options: benchOptions{Runs: 2}, Workloads: []string{"boot", "loop"},
		Modes: []string{"full", "qemu-tcg"}, Runs: sampleRuns(),
		Skipped: []benchSkip{{Mode: "hw", Reason: "no /dev/kvm"}, {Workload: "net", Mode: "full", Reason: "no kernel"}},
	}
	rep.Medians = medians(rep.Runs, rep.Workloads, rep.Modes)
	var b bytes.Buffer
	writeTable(&b, rep, false)
	want := `gemu bench: medians of 2 run(s) per mode, modes alternating
skipped: mode hw: no /dev/kvm
skipped: net under full: no kernel
workload  metric        unit  full  qemu-tcg  qemu-tcg/full
boot      boot ↓        s     11.0      2.00          0.18x
          traps                200         -              -
loop      guest MIPS ↑  MIPS   150      3000         20.00x
↑ higher is better, ↓ lower is better; ratios are each mode's median over full's; counters are gemu's own (QEMU has none).
failed (left out of the medians): boot under qemu-tcg, run 2
`
	require.Equal(t, want, b.String())
	b.Reset()
	writeTable(&b, rep, true)
	require.Contains(t, b.String(), "port 0x80")
	require.NotContains(t, b.String(), "zero", "a counter that is zero everywhere")
}

func TestFmtValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{181.24, "MIPS", "181"}, {12.345, "MB/s", "12.3"}, {1.234, "s", "1.23"}, {0.5, "s", "0.50"},
		{999, "", "999"}, {12345, "", "12.3k"}, {6.02e9, "", "6.02G"}, {220e6, "", "220M"}, {999.9e3, "", "1.00M"},
		{math.NaN(), "s", "-"},
	} {
		require.Equal(t, c.want, fmtValue(c.v, c.unit), "%v %s", c.v, c.unit)
	}
}

func TestSVGEscapes(t *testing.T) {
	rep := &benchReport{Options: benchOptions{Runs: 1}, Modes: []string{"full", "pv"}, Medians: []benchMedian{
		{Workload: "a<b", Metric: "x & y", Unit: "MB/s", Better: 1, Values: map[string]float64{"full": 2}, Ratios: map[string]float64{}},
	}}
	var b bytes.Buffer
	require.NoError(t, writeSVG(&b, rep))
	text := checkXML(t, &b)
	require.Contains(t, text, "a<b — x & y")
	require.Contains(t, text, "no value") // pv has none
}
