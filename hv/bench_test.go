package hv_test

import (
	"errors"
	"testing"

	"github.com/gemu-project/gemu/hv"
)

// BenchmarkWorkload runs gemu bench's workloads as Go benchmarks, one
// sub-benchmark per workload and mode (full, pv, QEMU TCG; the modes that
// cannot run here skip with the reason), and reports each workload's
// measures: guest MIPS for intloop, s/boot for the Linux boots, MB/s for
// disk and net. For example, the integer loop and Debian's boot beside
// QEMU TCG:
//
//	go test -run X -bench 'Workload/(intloop|linux-boot)/' ./hv/
func BenchmarkWorkload(b *testing.B) {
	bench, err := hv.NewBench(hv.BenchOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer bench.Close()
	for _, w := range hv.Workloads() {
		for _, mode := range []hv.Mode{hv.ModeFull, hv.ModeInterp, hv.ModePV, hv.ModeQEMUTCG} {
			b.Run(w.Name+"/"+string(mode), func(b *testing.B) {
				if err := mode.Available(); err != nil {
					b.Skip(err)
				}
				sums := map[string]float64{}
				var units []hv.Metric // the measures, in the workload's order
				for i := 0; i < b.N; i++ {
					ms, err := bench.Run(w.Name, mode)
					var skip *hv.SkipError
					if errors.As(err, &skip) {
						b.Skip(skip.Reason)
					}
					if err != nil {
						b.Fatal(err)
					}
					for _, m := range ms {
						if m.Unit == "" || m.Detail {
							continue // a counter, not a measure
						}
						if _, ok := sums[m.Name]; !ok {
							units = append(units, m)
						}
						sums[m.Name] += m.Value
					}
				}
				for _, m := range units {
					b.ReportMetric(sums[m.Name]/float64(b.N), benchUnit(m))
				}
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// benchUnit names a measure for ReportMetric: one word, as Go's benchmark
// format wants ("MIPS", "s/boot", "MB/s/virtio-write").
func benchUnit(m hv.Metric) string {
	switch {
	case m.Unit == "s" && m.Name == "boot to prompt":
		return "s/boot"
	case m.Name == "guest MIPS":
		return m.Unit
	}
	name := []byte(m.Name)
	for i, c := range name {
		if c == ' ' || c == ':' {
			name[i] = '-'
		}
	}
	return m.Unit + "/" + string(name)
}
