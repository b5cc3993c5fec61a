package hv_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gemu-project/gemu/hv"
)

// intloopInsns is the exact instruction count of one iteration of the loop
// in testdata/intloop.asm (see testdata/README.md).
const intloopInsns = 11

// BenchmarkIntLoop reports guest MIPS on the integer loop for gemu's
// interpreter and, where qemu-system-i386 is installed, for QEMU TCG on the
// same kernel in the same run, so that the ratio is visible.
func BenchmarkIntLoop(b *testing.B) {
	kernel := filepath.Join("..", "testdata", "intloop.bin")
	const iterations = 20_000_000
	b.Run("gemu-full", func(b *testing.B) {
		var insns uint64
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			m, err := hv.New(hv.Config{Kernel: kernel, Append: strconv.Itoa(iterations)})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			res, err := m.Run()
			elapsed += time.Since(start)
			if err != nil || res.Status != 1 {
				b.Fatalf("intloop: status %d, %v", res.Status, err)
			}
			insns += res.Stats.Instructions
		}
		b.ReportMetric(float64(insns)/elapsed.Seconds()/1e6, "MIPS")
		b.ReportMetric(0, "ns/op")
	})
	b.Run("qemu-tcg", func(b *testing.B) {
		qemu, err := exec.LookPath("qemu-system-i386")
		if err != nil {
			b.Skip("qemu-system-i386 is not installed (apt-get install qemu-system-x86)")
		}
		// QEMU's start-up time is cancelled by timing two loop lengths and
		// dividing the difference in instructions by the difference in time.
		runQEMU := func(n int) time.Duration {
			cmd := exec.Command(qemu, "-accel", "tcg", "-kernel", kernel, "-append", strconv.Itoa(n),
				"-display", "none", "-serial", "none", "-m", "64", "-no-reboot",
				"-device", "isa-debug-exit,iobase=0xf4,iosize=4")
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				b.Fatalf("qemu: %v", err)
			}
			return d
		}
		var dt time.Duration
		for i := 0; i < b.N; i++ {
			dt += runQEMU(iterations*5) - runQEMU(iterations/10)
		}
		insns := float64(b.N) * float64(iterations*5-iterations/10) * intloopInsns
		b.ReportMetric(insns/dt.Seconds()/1e6, "MIPS")
		b.ReportMetric(0, "ns/op")
	})
}
