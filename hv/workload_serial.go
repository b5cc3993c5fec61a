package hv

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/devices"
)

// markerPrefix starts the lines by which a workload's guest tells the host
// where a measured phase begins and ends: "@bench:NAME[ TEXT]" alone on a
// line.
const markerPrefix = "@bench:"

// marker is one marker line as the host saw it.
type marker struct {
	at       time.Time
	text     string   // what follows the name on the line
	counters []Metric // the machine's counters at that moment (gemu only)
}

// serialTail is how much of the guest's output is kept for error messages.
const serialTail = 2048

// serialWatch is a guest's serial console for the workloads: it timestamps
// the marker lines and the busybox shell's first prompt. Under gemu, Write
// runs on the machine's own goroutine (the UART calls it when the guest
// writes a byte), so snap may read the machine's statistics there.
type serialWatch struct {
	snap     func() []Metric // the machine's counters, or nil (QEMU)
	onPrompt func()          // called once, at the first prompt

	mu       sync.Mutex
	tail     []byte
	line     []byte
	markers  map[string]marker
	banner   bool // DefaultInit's "… powers off" line was seen: the prompt follows
	promptAt time.Time
}

func newSerialWatch() *serialWatch { return &serialWatch{markers: map[string]marker{}} }

func (w *serialWatch) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tail = append(w.tail, p...)
	if len(w.tail) > 2*serialTail {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-serialTail:]...)
	}
	for _, c := range p {
		if c == '\n' {
			w.endLine(now)
			continue
		}
		if len(w.line) < 4096 {
			w.line = append(w.line, c)
		}
		// busybox's prompt ("~ # ") has no newline after it.
		if w.banner && w.promptAt.IsZero() && strings.Contains(string(w.line), "# ") {
			w.promptAt = now
			if w.onPrompt != nil {
				w.onPrompt()
			}
		}
	}
	return len(p), nil
}

func (w *serialWatch) endLine(now time.Time) {
	s := strings.TrimRight(string(w.line), "\r")
	w.line = w.line[:0]
	if strings.Contains(s, "powers off") {
		w.banner = true
	}
	rest, ok := strings.CutPrefix(s, markerPrefix)
	if !ok {
		return
	}
	name, text, _ := strings.Cut(rest, " ")
	mk := marker{at: now, text: text}
	if w.snap != nil {
		mk.counters = w.snap()
	}
	w.markers[name] = mk // a retried phase keeps its last begin
}

// prompt returns when the first prompt appeared, or the zero time.
func (w *serialWatch) prompt() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.promptAt
}

// marker returns the last marker line of that name.
func (w *serialWatch) marker(name string) (marker, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	mk, ok := w.markers[name]
	return mk, ok
}

// phase returns the host time between NAME-begin and NAME-end and, under
// gemu, the counters of the machine over that time.
func (w *serialWatch) phase(name string) (time.Duration, []Metric, error) {
	begin, ok1 := w.marker(name + "-begin")
	end, ok2 := w.marker(name + "-end")
	if !ok1 || !ok2 || end.at.Before(begin.at) {
		return 0, nil, fmt.Errorf("the guest did not finish %s%s", name, w.tailText())
	}
	var c []Metric
	if begin.counters != nil && end.counters != nil {
		c = diffCounters(begin.counters, end.counters)
	}
	return end.at.Sub(begin.at), c, nil
}

// tailContains reports whether the end of the guest's output holds s.
func (w *serialWatch) tailContains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.tail, []byte(s))
}

// tailText is the end of the guest's output, to show with an error.
func (w *serialWatch) tailText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tail
	if len(t) > serialTail {
		t = t[len(t)-serialTail:]
	}
	s := strings.TrimSpace(strings.ReplaceAll(string(t), "\r", ""))
	if s == "" {
		return " (no serial output)"
	}
	return "; the guest's last output:\n" + s
}

// statCounters flattens a machine's statistics into counters. The totals
// that say what a mode costs — instructions, interrupts, exceptions, TLB
// flushes, traps (sensitive instructions emulated), port I/O and MMIO
// exits, hypercalls — are shown in gemu bench's table; their breakdowns
// (traps by instruction, exits by device, ports, hypercalls by number,
// flushes by cause) are Detail. Fields added to Stats later reach the
// report through reflection, as details, until they are named here.
func statCounters(s Stats) []Metric {
	var out []Metric
	add := func(name string, v uint64, detail bool) {
		out = append(out, Metric{Name: name, Value: float64(v), Detail: detail})
	}
	v := reflect.ValueOf(s)
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		switch x := fv.Interface().(type) {
		case time.Duration:
		case uint64:
			add(statName(f.Name), x, !keyStats[f.Name])
		case TLBFlushes:
			add("TLB flushes by CR3 write", x.CR3, true)
			add("TLB flushes by INVLPG", x.INVLPG, true)
			add("TLB flushes by CR0/CR4 write", x.CR0CR4, true)
			add("TLB flushes of everything", x.All, true)
		case []devices.PortCount:
			var total uint64
			for _, p := range x {
				total += p.Count
			}
			add("port I/O", total, false)
			for _, p := range x {
				add(fmt.Sprintf("port I/O %#x %s", p.Port, p.Name), p.Count, true)
			}
		case []cpu.SensitiveCount:
			for _, c := range x {
				add("traps by "+c.Name, c.Count, true)
			}
		case []DeviceExits:
			var mmio uint64
			for _, d := range x {
				mmio += d.MMIO
			}
			add("MMIO exits", mmio, false)
			for _, d := range x {
				if d.PortIO != 0 {
					add("port I/O exits to "+d.Device, d.PortIO, true)
				}
				if d.MMIO != 0 {
					add("MMIO exits to "+d.Device, d.MMIO, true)
				}
			}
		case map[uint64]uint64:
			nrs := make([]uint64, 0, len(x))
			var total uint64
			for nr, n := range x {
				nrs = append(nrs, nr)
				total += n
			}
			sort.Slice(nrs, func(a, b int) bool { return nrs[a] < nrs[b] })
			name := statName(f.Name)
			add(name, total, !keyStats[f.Name])
			for _, nr := range nrs {
				add(fmt.Sprintf("%s[%d]", name, nr), x[nr], true)
			}
		default:
			if n, ok := number(fv); ok {
				out = append(out, Metric{Name: statName(f.Name), Value: n, Detail: true})
			}
		}
	}
	return out
}

// keyStats are the integer fields of Stats that the table shows.
var keyStats = map[string]bool{
	"Instructions": true, "Interrupts": true, "Exceptions": true,
	"TLBFlushes": true, "Traps": true, "Hypercalls": true,
}

// number reads an integer or floating-point value.
func number(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return 0, false
}

// statName turns a Stats field name into words: "TLBFlushes" → "TLB
// flushes", "BlocksTranslated" → "blocks translated", "PortIO" → "port I/O".
func statName(field string) string {
	if field == "PortIO" {
		return "port I/O"
	}
	var words []string
	r := []rune(field)
	start := 0
	for i := 1; i <= len(r); i++ {
		boundary := i == len(r) ||
			(isUpper(r[i]) && !isUpper(r[i-1])) || // fooBar
			(isUpper(r[i]) && i+1 < len(r) && !isUpper(r[i+1]) && isUpper(r[i-1])) // TLBFlushes
		if boundary {
			words = append(words, string(r[start:i]))
			start = i
		}
	}
	for i, w := range words {
		if len(w) > 1 && isUpper([]rune(w)[1]) {
			continue // an acronym keeps its case
		}
		words[i] = strings.ToLower(w)
	}
	return strings.Join(words, " ")
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }

// diffCounters returns the counters of end minus those of begin, by name.
func diffCounters(begin, end []Metric) []Metric {
	was := make(map[string]float64, len(begin))
	for _, m := range begin {
		was[m.Name] = m.Value
	}
	out := make([]Metric, 0, len(end))
	for _, m := range end {
		m.Value -= was[m.Name]
		if m.Detail && m.Value == 0 {
			continue // a port the phase did not touch
		}
		out = append(out, m)
	}
	return out
}

// prefixed names each metric after the phase it belongs to.
func prefixed(prefix string, ms []Metric) []Metric {
	out := make([]Metric, len(ms))
	for i, m := range ms {
		m.Name = prefix + m.Name
		out[i] = m
	}
	return out
}
