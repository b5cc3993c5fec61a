package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gemu-project/gemu/hv"
)

// gemu bench (issue 5 item 8, issue 7 item 4): the workloads of
// hv/workload.go under each mode, runs alternated, medians compared.

const benchUsage = `usage: gemu bench [flags] WORKLOAD...

Runs each workload under each available mode, --runs times, alternating the
modes (full, pv, …, full, pv, …) so that a slow spell of the host hits them
all alike, and prints the medians with their ratios to the first mode.
Modes that cannot run here (no /dev/kvm, no QEMU) are listed as skipped.

workloads (or "all"):
`

type benchFlags struct {
	*flag.FlagSet
	runs                   int
	modes, json, svg       string
	intloop, diskMB, netMB int
	timeout                flagDuration
	detail                 bool
}

func newBenchFlags(out io.Writer) *benchFlags {
	f := &benchFlags{FlagSet: flag.NewFlagSet("gemu bench", flag.ContinueOnError)}
	f.SetOutput(out)
	f.timeout.d = hv.DefaultWorkloadTimeout
	f.IntVar(&f.runs, "runs", 3, "`N` runs of each workload under each mode")
	modes := make([]string, len(hv.DefaultModes))
	for i, m := range hv.DefaultModes {
		modes[i] = string(m)
	}
	f.StringVar(&f.modes, "modes", strings.Join(modes, ","), "comma-separated `list` of the modes to compare (also full-interp: full mode interpreted only); the first is the base of the ratios")
	f.StringVar(&f.json, "json", "", "write every run and the medians as JSON to `FILE`")
	f.StringVar(&f.svg, "svg", "", "write a bar chart of the medians as SVG to `FILE`")
	f.IntVar(&f.intloop, "intloop-iterations", hv.DefaultIntloopIterations, "intloop: `N` iterations of the loop (11 instructions each) under gemu")
	f.IntVar(&f.diskMB, "disk-mb", hv.DefaultDiskMB, "disk: `MiB` written and read on each disk")
	f.IntVar(&f.netMB, "net-mb", hv.DefaultNetMB, "net: `MiB` sent over each link")
	f.Var(&f.timeout, "timeout", "stop a guest run after this host `duration`")
	f.BoolVar(&f.detail, "detail", false, "also show the counters by kind: traps by instruction, exits by device and port, hypercalls by number, TLB flushes by cause")
	f.Usage = func() {
		fmt.Fprint(out, benchUsage)
		for _, w := range hv.Workloads() {
			fmt.Fprintf(out, "  %-15s %s\n", w.Name, w.Doc)
		}
		fmt.Fprint(out, "\nflags:\n")
		f.PrintDefaults()
	}
	return f
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(f *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, err
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	f := newBenchFlags(stderr)
	names, err := parseInterleaved(f.FlagSet, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "gemu bench: "+format+"\n", args...)
		return 2
	}
	if f.runs < 1 {
		return fail("--runs %d: want at least 1", f.runs)
	}
	if f.intloop < 1 || f.diskMB < 1 || f.netMB < 1 || f.timeout.d <= 0 {
		return fail("--intloop-iterations, --disk-mb, --net-mb and --timeout must be positive")
	}
	workloads, err := benchWorkloads(names)
	if err != nil {
		return fail("%v", err)
	}
	modes, err := benchModes(f.modes)
	if err != nil {
		return fail("%v", err)
	}
	b, err := hv.NewBench(hv.BenchOptions{IntloopIterations: f.intloop, DiskMB: f.diskMB, NetMB: f.netMB, Timeout: f.timeout.d})
	if err != nil {
		return fail("%v", err)
	}
	defer b.Close()
	// Interrupted, gemu bench still removes its scratch files (QEMU gets
	// the terminal's SIGINT too).
	sig, finished := make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer func() { signal.Stop(sig); close(finished) }()
	go func() {
		select {
		case s := <-sig:
			b.Close()
			fmt.Fprintf(stderr, "gemu bench: %v\n", s)
			os.Exit(130)
		case <-finished:
		}
	}()
	rep := runBench(b, workloads, modes, f.runs, stderr)
	opts := b.Options()
	rep.Options = benchOptions{Runs: f.runs, IntloopIterations: opts.IntloopIterations, DiskMB: opts.DiskMB, NetMB: opts.NetMB}
	rep.Host = hostInfo(rep.Modes)
	rep.Medians = medians(rep.Runs, rep.Workloads, rep.Modes)
	writeTable(stdout, rep, f.detail)
	status := 0
	for _, r := range rep.Runs {
		if r.Error != "" {
			status = 1
		}
	}
	if f.json != "" {
		if err := writeFile(f.json, func(w io.Writer) error {
			e := json.NewEncoder(w)
			e.SetIndent("", "  ")
			return e.Encode(rep)
		}); err != nil {
			return fail("--json: %v", err)
		}
	}
	if f.svg != "" {
		if err := writeFile(f.svg, func(w io.Writer) error { return writeSVG(w, rep) }); err != nil {
			return fail("--svg: %v", err)
		}
	}
	return status
}

// benchWorkloads checks the workload names; "all" is every workload.
func benchWorkloads(names []string) ([]string, error) {
	var all []string
	for _, w := range hv.Workloads() {
		all = append(all, w.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no workload (want one or more of %s, or all)", strings.Join(all, ", "))
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		list := []string{n}
		if n == "all" {
			list = all
		} else if _, ok := hv.LookupWorkload(n); !ok {
			return nil, fmt.Errorf("unknown workload %q (want %s, or all)", n, strings.Join(all, ", "))
		}
		for _, w := range list {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out, nil
}

// benchModes parses --modes.
func benchModes(list string) ([]hv.Mode, error) {
	var out []hv.Mode
	seen := map[hv.Mode]bool{}
	for _, s := range strings.Split(list, ",") {
		m := hv.Mode(strings.TrimSpace(s))
		known := false
		for _, k := range hv.Modes {
			known = known || k == m
		}
		if !known {
			var names []string
			for _, k := range hv.Modes {
				names = append(names, string(k))
			}
			return nil, fmt.Errorf("--modes: unknown mode %q (want %s)", s, strings.Join(names, ","))
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// runBench runs every workload under every available mode, runs times,
// the modes alternating within each round, and reports progress on
// stderr.
func runBench(b *hv.Bench, workloads []string, modes []hv.Mode, runs int, stderr io.Writer) *benchReport {
	rep := &benchReport{Date: time.Now().UTC().Format(time.RFC3339), Workloads: workloads}
	var active []hv.Mode
	for _, m := range modes {
		if err := m.Available(); err != nil {
			rep.Skipped = append(rep.Skipped, benchSkip{Mode: string(m), Reason: skipReason(err)})
			continue
		}
		active = append(active, m)
		rep.Modes = append(rep.Modes, string(m))
	}
	total := len(workloads) * len(active) * runs
	done := 0
	for _, w := range workloads {
		skipped := map[hv.Mode]bool{}
		for run := 1; run <= runs; run++ {
			for _, m := range active {
				if skipped[m] {
					continue
				}
				done++
				fmt.Fprintf(stderr, "[%d/%d] %s under %s, run %d/%d\n", done, total, w, m, run, runs)
				start := time.Now()
				metrics, err := b.Run(w, m)
				r := benchRun{Workload: w, Mode: string(m), Run: run, Seconds: time.Since(start).Seconds(), Metrics: metrics}
				var skip *hv.SkipError
				switch {
				case errors.As(err, &skip):
					skipped[m] = true
					total -= runs - run // its later runs are not made
					rep.Skipped = append(rep.Skipped, benchSkip{Workload: w, Mode: string(m), Reason: skip.Reason})
					continue
				case err != nil:
					r.Error = err.Error()
					fmt.Fprintf(stderr, "gemu bench: %s under %s, run %d: %v\n", w, m, run, err)
				}
				rep.Runs = append(rep.Runs, r)
			}
		}
	}
	return rep
}

// skipReason is the reason of a *hv.SkipError, or the error's text.
func skipReason(err error) string {
	var skip *hv.SkipError
	if errors.As(err, &skip) {
		return skip.Reason
	}
	return err.Error()
}

// hostInfo describes the host for the JSON report.
func hostInfo(modes []string) benchHost {
	h := benchHost{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	for _, m := range modes {
		if hv.Mode(m).IsQEMU() {
			if out, err := exec.Command("qemu-system-x86_64", "--version").Output(); err == nil {
				h.QEMU, _, _ = strings.Cut(string(out), "\n")
			}
			break
		}
	}
	return h
}

// writeFile writes a file through fill.
func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := fill(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
