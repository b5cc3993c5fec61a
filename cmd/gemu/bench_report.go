package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gemu-project/gemu/hv"
)

// benchReport is what gemu bench measured: every run and the medians
// (the --json file).
type benchReport struct {
	Date      string        `json:"date"`
	Host      benchHost     `json:"host"`
	Options   benchOptions  `json:"options"`
	Workloads []string      `json:"workloads"`
	Modes     []string      `json:"modes"` // the modes that ran; the first is the base of the ratios
	Skipped   []benchSkip   `json:"skipped,omitempty"`
	Runs      []benchRun    `json:"runs"`
	Medians   []benchMedian `json:"medians"`
}

type benchHost struct {
	CPU  string `json:"cpu,omitempty"`
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Go   string `json:"go"`
	QEMU string `json:"qemu,omitempty"`
}

type benchOptions struct {
	Runs              int `json:"runs"`
	IntloopIterations int `json:"intloop_iterations"`
	DiskMB            int `json:"disk_mb"`
	NetMB             int `json:"net_mb"`
}

// benchSkip is a mode (Workload "") or a workload under a mode that could
// not run here.
type benchSkip struct {
	Workload string `json:"workload,omitempty"`
	Mode     string `json:"mode"`
	Reason   string `json:"reason"`
}

// benchRun is one run of one workload under one mode.
type benchRun struct {
	Workload string      `json:"workload"`
	Mode     string      `json:"mode"`
	Run      int         `json:"run"`
	Seconds  float64     `json:"seconds"` // host time of the whole run
	Metrics  []hv.Metric `json:"metrics,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// benchMedian is one metric of one workload: its median under each mode
// over the runs that succeeded, and its ratio to the base mode's.
type benchMedian struct {
	Workload string             `json:"workload"`
	Metric   string             `json:"metric"`
	Unit     string             `json:"unit,omitempty"`
	Better   int                `json:"better,omitempty"`
	Detail   bool               `json:"detail,omitempty"`
	Values   map[string]float64 `json:"values"`           // by mode
	Ratios   map[string]float64 `json:"ratios,omitempty"` // by mode: value / the base mode's value
}

// median is the middle value, or the mean of the two middle ones.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is v over base, or NaN where base is zero.
func ratio(v, base float64) float64 {
	if base == 0 || math.IsNaN(base) || math.IsNaN(v) {
		return math.NaN()
	}
	return v / base
}

// medians gathers the metrics of the successful runs: per workload, the
// metrics in the order the runs first gave them, each with its median per
// mode and its ratio to the first mode's median.
func medians(runs []benchRun, workloads, modes []string) []benchMedian {
	var out []benchMedian
	for _, w := range workloads {
		type key struct{ metric, mode string }
		values := map[key][]float64{}
		var order []hv.Metric
		seen := map[string]bool{}
		for _, r := range runs {
			if r.Workload != w || r.Error != "" {
				continue
			}
			for _, m := range r.Metrics {
				if !seen[m.Name] {
					seen[m.Name] = true
					order = append(order, m)
				}
				values[key{m.Name, r.Mode}] = append(values[key{m.Name, r.Mode}], m.Value)
			}
		}
		for _, m := range order {
			md := benchMedian{Workload: w, Metric: m.Name, Unit: m.Unit, Better: m.Better, Detail: m.Detail,
				Values: map[string]float64{}, Ratios: map[string]float64{}}
			for _, mode := range modes {
				if v, ok := values[key{m.Name, mode}]; ok {
					md.Values[mode] = median(v)
				}
			}
			if base, ok := md.Values[modes[0]]; ok {
				for _, mode := range modes[1:] {
					if v, ok := md.Values[mode]; ok {
						if r := ratio(v, base); !math.IsNaN(r) {
							md.Ratios[mode] = r
						}
					}
				}
			}
			out = append(out, md)
		}
	}
	return out
}

// fmtValue formats a median for the table and the chart: about three
// significant digits, counts with k, M, G.
func fmtValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "-"
	}
	digits := func(x float64) string {
		a := math.Abs(x)
		switch {
		case a >= 99.95:
			return strconv.FormatFloat(x, 'f', 0, 64)
		case a >= 9.995:
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	if unit != "" {
		return digits(v)
	}
	a := math.Abs(v)
	switch {
	case a < 1e4:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a < 999.5e3:
		return digits(v/1e3) + "k"
	case a < 999.5e6:
		return digits(v/1e6) + "M"
	}
	return digits(v/1e9) + "G"
}

// metricLabel is a metric's name with its direction: ↑ higher is better,
// ↓ lower is better.
func metricLabel(m benchMedian) string {
	switch {
	case m.Better > 0:
		return m.Metric + " ↑"
	case m.Better < 0:
		return m.Metric + " ↓"
	}
	return m.Metric
}

// tableRows are the medians the table shows: not the details unless asked
// for, and not the counters that are zero under every mode.
func tableRows(ms []benchMedian, detail bool) []benchMedian {
	var out []benchMedian
	for _, m := range ms {
		if m.Detail && !detail {
			continue
		}
		zero := m.Better == 0
		for _, v := range m.Values {
			zero = zero && v == 0
		}
		if !zero {
			out = append(out, m)
		}
	}
	return out
}

// writeTable prints the medians: one row per workload and metric, one
// column per mode, then the ratios to the first mode.
func writeTable(w io.Writer, rep *benchReport, detail bool) {
	o := rep.Options
	fmt.Fprintf(w, "gemu bench: medians of %d run(s) per mode, modes alternating", o.Runs)
	if rep.Host.CPU != "" {
		fmt.Fprintf(w, "; %s, %d CPUs", rep.Host.CPU, rep.Host.CPUs)
	}
	fmt.Fprintln(w)
	for _, line := range skipLines(rep) {
		fmt.Fprintln(w, line)
	}
	if len(rep.Modes) == 0 {
		fmt.Fprintln(w, "no mode can run here")
		return
	}
	header := []string{"workload", "metric", "unit"}
	header = append(header, rep.Modes...)
	base := rep.Modes[0]
	for _, m := range rep.Modes[1:] {
		header = append(header, m+"/"+base)
	}
	rows := [][]string{header}
	last := ""
	for _, m := range tableRows(rep.Medians, detail) {
		wl := m.Workload
		if wl == last {
			wl = ""
		}
		last = m.Workload
		row := []string{wl, metricLabel(m), m.Unit}
		for _, mode := range rep.Modes {
			v, ok := m.Values[mode]
			if !ok {
				v = math.NaN()
			}
			row = append(row, fmtValue(v, m.Unit))
		}
		for _, mode := range rep.Modes[1:] {
			if r, ok := m.Ratios[mode]; ok {
				row = append(row, strconv.FormatFloat(r, 'f', 2, 64)+"x")
			} else {
				row = append(row, "-")
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 1 {
		fmt.Fprintln(w, "no run succeeded")
		return
	}
	widths := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < 3 { // text columns to the left, numbers to the right
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	fmt.Fprintf(w, "↑ higher is better, ↓ lower is better; ratios are each mode's median over %s's; counters are gemu's own (QEMU has none).\n", base)
	var failed []string
	for _, r := range rep.Runs {
		if r.Error != "" {
			failed = append(failed, fmt.Sprintf("%s under %s, run %d", r.Workload, r.Mode, r.Run))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "failed (left out of the medians): %s\n", strings.Join(failed, "; "))
	}
}

// skipLines lists what was skipped, once per reason: a mode for every
// workload, or a workload under the modes that share a reason.
func skipLines(rep *benchReport) []string {
	var lines []string
	type key struct{ workload, reason string }
	modes := map[key][]string{}
	var order []key
	for _, s := range rep.Skipped {
		if s.Workload == "" {
			lines = append(lines, fmt.Sprintf("skipped: mode %s: %s", s.Mode, s.Reason))
			continue
		}
		k := key{s.Workload, s.Reason}
		if _, ok := modes[k]; !ok {
			order = append(order, k)
		}
		modes[k] = append(modes[k], s.Mode)
	}
	for _, k := range order {
		if len(modes[k]) == len(rep.Modes) {
			lines = append(lines, fmt.Sprintf("skipped: %s: %s", k.workload, k.reason))
		} else {
			lines = append(lines, fmt.Sprintf("skipped: %s under %s: %s", k.workload, strings.Join(modes[k], ", "), k.reason))
		}
	}
	return lines
}

// modeColors are the bar colours of the modes, in hv.Modes order.
var modeColors = map[string]string{
	"full": "#4e79a7", "full-interp": "#9c755f", "pv": "#59a14f", "hw": "#edc948", "qemu-tcg": "#e15759", "qemu-kvm": "#b07aa1",
}

// writeSVG draws the figures (not the counters) as horizontal bar charts:
// one group per workload and metric, each on its own scale, one bar per
// mode with its value and its ratio to the base mode.
func writeSVG(w io.Writer, rep *benchReport) error {
	const (
		width    = 820
		left     = 110 // mode labels
		barMax   = 480
		barH     = 18
		rowH     = 24
		titleH   = 26
		groupGap = 14
		top      = 64
	)
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var groups []benchMedian
	for _, m := range rep.Medians {
		if m.Better != 0 && len(m.Values) > 0 {
			groups = append(groups, m)
		}
	}
	height := top
	for range groups {
		height += titleH + rowH*len(rep.Modes) + groupGap
	}
	height += 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, "<title>gemu bench, %s</title>\n", esc(rep.Date))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="16" font-weight="bold">gemu bench: medians of %d run(s) per mode</text>`+"\n", rep.Options.Runs)
	// The legend.
	x := 10
	for _, mode := range rep.Modes {
		fmt.Fprintf(&b, `<rect x="%d" y="34" width="14" height="14" fill="%s"/><text x="%d" y="46">%s</text>`+"\n", x, modeColors[mode], x+18, esc(mode))
		x += 28 + 8*len(mode)
	}
	y := top
	for _, g := range groups {
		dir := "higher is better"
		if g.Better < 0 {
			dir = "lower is better"
		}
		fmt.Fprintf(&b, `<g><text x="10" y="%d" font-weight="bold">%s — %s (%s, %s)</text>`+"\n", y+16, esc(g.Workload), esc(g.Metric), esc(g.Unit), dir)
		y += titleH
		peak := 0.0
		for _, v := range g.Values {
			peak = math.Max(peak, v)
		}
		for _, mode := range rep.Modes {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-8, y+barH-4, esc(mode))
			v, ok := g.Values[mode]
			if !ok {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#888">no value</text>`+"\n", left, y+barH-4)
				y += rowH
				continue
			}
			n := 0.0
			if peak > 0 {
				n = v / peak * barMax
			}
			label := fmtValue(v, g.Unit) + " " + g.Unit
			if r, ok := g.Ratios[mode]; ok {
				label += fmt.Sprintf(" (%.2fx %s)", r, rep.Modes[0])
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y, n, barH, modeColors[mode])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(left)+n+6, y+barH-4, esc(label))
			y += rowH
		}
		b.WriteString("</g>\n")
		y += groupGap
	}
	if len(groups) == 0 {
		fmt.Fprintf(&b, `<text x="10" y="%d">no figures</text>`+"\n", top+16)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
