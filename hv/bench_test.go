package hv_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// BenchmarkLinuxBoot times Debian's kernel from start to the busybox shell's
// first prompt, on the bzImage (64-bit entry, XZ decompression included) and
// on the uncompressed vmlinux through its PVH entry, for gemu's interpreter
// and for QEMU TCG on the same files in the same run. It reports seconds to
// the prompt ("s/boot") and, for gemu, guest MIPS.
func BenchmarkLinuxBoot(b *testing.B) {
	kernel := debianKernel(b)
	initrd := busyboxInitramfs(b)
	vmlinux := extractVmlinux(b, kernel)
	const cmdline = "console=ttyS0 quiet"
	for _, k := range []struct{ name, path string }{{"bzImage", kernel}, {"pvh", vmlinux}} {
		b.Run(k.name+"/gemu-full", func(b *testing.B) {
			if k.path == "" {
				b.Skip("no vmlinux: the xz command unpacks it")
			}
			var total time.Duration
			var insns uint64
			for i := 0; i < b.N; i++ {
				var m *hv.Machine
				prompt := &promptWatch{onPrompt: func() { m.Stop() }}
				var err error
				m, err = hv.New(hv.Config{Kernel: k.path, Initrd: initrd, Append: cmdline, MemSize: 256 << 20,
					SerialOut: prompt, Timeout: 10 * time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				res, err := m.Run()
				total += time.Since(start)
				m.Close()
				if err != nil || res.Kind != hv.ExitStopped {
					b.Fatalf("no prompt: %v %v %s\n%s", err, res.Kind, res.Detail, prompt.out.String())
				}
				insns += res.Stats.Instructions
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/boot")
			b.ReportMetric(float64(insns)/total.Seconds()/1e6, "MIPS")
			b.ReportMetric(0, "ns/op")
		})
		b.Run(k.name+"/qemu-tcg", func(b *testing.B) {
			qemu, err := exec.LookPath("qemu-system-x86_64")
			if err != nil {
				b.Skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
			}
			if k.path == "" {
				b.Skip("no vmlinux: the xz command unpacks it")
			}
			var total time.Duration
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(qemu, "-accel", "tcg", "-m", "256", "-kernel", k.path, "-initrd", initrd,
					"-append", cmdline, "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot")
				prompt := &promptWatch{}
				done := make(chan struct{})
				prompt.onPrompt = func() { close(done) }
				cmd.Stdout = prompt
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				select {
				case <-done:
				case <-time.After(5 * time.Minute):
					cmd.Process.Kill()
					cmd.Wait()
					b.Fatalf("QEMU: no prompt in 5 minutes\n%s", prompt.out.String())
				}
				total += time.Since(start)
				cmd.Process.Kill()
				cmd.Wait()
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/boot")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// promptWatch is a serial console that calls onPrompt once, when busybox's
// shell prints its first prompt ("# " after DefaultInit's banner).
type promptWatch struct {
	out      bytes.Buffer
	seen     bool
	onPrompt func()
}

func (p *promptWatch) Write(b []byte) (int, error) {
	p.out.Write(b)
	if !p.seen {
		s := p.out.String()
		if i := strings.Index(s, "powers off"); i >= 0 && strings.Contains(s[i:], "# ") {
			p.seen = true
			p.onPrompt()
		}
	}
	return len(b), nil
}
