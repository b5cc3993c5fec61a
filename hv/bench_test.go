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
// in testdata/intloop.asm and in its 64-bit counterpart
// testdata/intloop64.asm (see testdata/README.md).
const intloopInsns = 11

// BenchmarkIntLoop reports guest MIPS on the integer loop for gemu's
// interpreter and, where QEMU is installed, for QEMU TCG on the same kernel
// in the same run, so that the ratio is visible: the 32-bit loop
// (testdata/intloop.bin; gemu-full, qemu-tcg on qemu-system-i386) and the
// 64-bit one (testdata/intloop64.bin, which enters long mode itself;
// gemu-full-64, qemu-tcg-64 on qemu-system-x86_64).
func BenchmarkIntLoop(b *testing.B) {
	kernel32 := filepath.Join("..", "testdata", "intloop.bin")
	kernel64 := filepath.Join("..", "testdata", "intloop64.bin")
	b.Run("gemu-full", func(b *testing.B) { benchGemu(b, kernel32) })
	b.Run("qemu-tcg", func(b *testing.B) { benchQEMU(b, "qemu-system-i386", kernel32) })
	b.Run("gemu-full-64", func(b *testing.B) { benchGemu(b, kernel64) })
	b.Run("qemu-tcg-64", func(b *testing.B) { benchQEMU(b, "qemu-system-x86_64", kernel64) })
}

const intloopIterations = 20_000_000

// benchGemu runs the kernel b.N times and reports every guest instruction
// of the runs (start-up included) over their run time.
func benchGemu(b *testing.B, kernel string) {
	var insns uint64
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		m, err := hv.New(hv.Config{Kernel: kernel, Append: strconv.Itoa(intloopIterations)})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := m.Run()
		elapsed += time.Since(start)
		if err != nil || res.Status != 1 {
			b.Fatalf("%s: status %d, %v", kernel, res.Status, err)
		}
		insns += res.Stats.Instructions
	}
	b.ReportMetric(float64(insns)/elapsed.Seconds()/1e6, "MIPS")
	b.ReportMetric(0, "ns/op")
}

// benchQEMU times QEMU TCG on the kernel. QEMU's start-up time is cancelled
// by timing two loop lengths and dividing the difference in instructions by
// the difference in time.
func benchQEMU(b *testing.B, name, kernel string) {
	qemu, err := exec.LookPath(name)
	if err != nil {
		b.Skip(name + " is not installed (apt-get install qemu-system-x86)")
	}
	runQEMU := func(n int) time.Duration {
		cmd := exec.Command(qemu, "-accel", "tcg", "-kernel", kernel, "-append", strconv.Itoa(n),
			"-display", "none", "-serial", "none", "-m", "64", "-no-reboot",
			"-device", "isa-debug-exit,iobase=0xf4,iosize=4")
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			b.Fatalf("%s %s: %v", name, kernel, err)
		}
		return d
	}
	var dt time.Duration
	for i := 0; i < b.N; i++ {
		dt += runQEMU(intloopIterations*5) - runQEMU(intloopIterations/10)
	}
	insns := float64(b.N) * float64(intloopIterations*5-intloopIterations/10) * intloopInsns
	b.ReportMetric(insns/dt.Seconds()/1e6, "MIPS")
	b.ReportMetric(0, "ns/op")
}
