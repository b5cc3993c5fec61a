package hv

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gemu-project/gemu/devices"
)

// The guests gemu bench runs, copies of testdata/*.bin (testdata/build.sh
// makes them; a test checks they match), so that it runs from any
// directory: the paravirtual test kernel (testdata/pvwork.asm), both builds
// (the same work with the sensitive instructions, full, and with gemu's
// hypercalls, pv), and the integer loop (testdata/intloop.asm, a multiboot
// kernel: N from its command line, 11 instructions an iteration, verdict 0
// on the debug-exit port) in 32- and 64-bit mode (intloop64.asm).
var (
	//go:embed guests/pvwork-full.bin
	pvworkFullImage []byte
	//go:embed guests/pvwork-pv.bin
	pvworkPVImage []byte
	//go:embed guests/intloop.bin
	intloopImage []byte
	//go:embed guests/intloop64.bin
	intloop64Image []byte
)

// The disk pvwork reads and writes (testdata/pvwork.asm).
const (
	pvworkSectors = 64
	pvworkDPatMul = 0x85EBCA6B
	pvworkDPatXor = 0xC2B2AE35
	pvworkDataLBA = 32 // sectors 0-31 hold the pattern
)

// pvworkDisk is the disk the guest is given: sectors 0-31 hold dword j of
// sector s = ((s<<7)|j) * DPAT_MUL ^ DPAT_XOR, sectors 32-63 are zero.
func pvworkDisk() []byte {
	img := make([]byte, pvworkSectors*devices.SectorSize)
	for i := 0; i < pvworkDataLBA*devices.SectorSize/4; i++ {
		binary.LittleEndian.PutUint32(img[i*4:], uint32(i)*pvworkDPatMul^pvworkDPatXor)
	}
	return img
}

var pvworkChecksumLine = regexp.MustCompile(`(?m)^checksum: ([0-9a-f]{8})`)

// pvwork runs the paravirtual test kernel: the full build in full mode and
// under QEMU, the pv build in pv mode (it needs gemu's hypercalls). The
// figures are the run time and, under gemu, the traps and exits.
func (b *Bench) pvwork(mode Mode) ([]Metric, error) {
	image := pvworkFullImage
	if mode == ModePV {
		image = pvworkPVImage
	}
	kernel := filepath.Join(b.dir, fmt.Sprintf("pvwork-%s.bin", mode))
	disk := filepath.Join(b.dir, fmt.Sprintf("pvwork-%s.img", mode))
	if err := os.WriteFile(kernel, image, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(disk, pvworkDisk(), 0o644); err != nil {
		return nil, err
	}
	if mode.IsQEMU() {
		qemu, err := qemuBinary("qemu-system-i386")
		if err != nil {
			return nil, err
		}
		args := append(qemuAccel(mode), "-kernel", kernel, "-m", "32", "-display", "none", "-no-reboot",
			"-serial", "stdio", "-drive", "file="+disk+",if=ide,format=raw",
			"-device", "isa-debug-exit,iobase=0xf4,iosize=4")
		start := time.Now()
		out, err := exec.Command(qemu, args...).Output()
		d := time.Since(start)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			return nil, fmt.Errorf("QEMU pvwork: %v: %s", err, strings.TrimSpace(string(out)))
		}
		if pvworkChecksumLine.Find(out) == nil {
			return nil, fmt.Errorf("QEMU pvwork: no checksum in %q", out)
		}
		return []Metric{{Name: "run time", Unit: "s", Value: d.Seconds(), Better: -1}}, nil
	}
	var out strings.Builder
	res, err := runGemu(mode, Config{Kernel: kernel, MemSize: 32 << 20, Drives: []Drive{{Path: disk, Interface: DriveIDE}},
		SerialOut: &out, Timeout: b.opts.Timeout})
	if err != nil {
		return nil, err
	}
	if res.Kind != ExitDebugPort || res.Status != 1 || pvworkChecksumLine.FindString(out.String()) == "" {
		return nil, fmt.Errorf("pvwork: %v (status %d) %s\n%s", res.Kind, res.Status, res.Detail, out.String())
	}
	ms := []Metric{{Name: "run time", Unit: "s", Value: res.Stats.Elapsed.Seconds(), Better: -1}}
	return append(ms, statCounters(res.Stats)...), nil
}
