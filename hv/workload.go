package hv

// Workloads for gemu bench (issue 5 item 8, issue 7 item 4): named guest
// programs that run under one engine configuration — one of gemu's modes,
// or QEMU on the very same files — and return what they measured.
//
//	intloop         testdata/intloop.bin, the 32-bit integer loop: guest MIPS
//	intloop64       testdata/intloop64.bin, the same loop in 64-bit mode
//	linux-boot      Debian's bzImage + a busybox initramfs to the first shell prompt: seconds
//	linux-boot-pvh  the same kernel's vmlinux through its PVH entry: seconds
//	linux-boot-disk the PVH boot with a root disk on the mode's own interface
//	                (IDE in full mode, virtio-blk in pv mode) and its
//	                driver's modules, to the prompt with the disk ready: seconds
//	disk            a PVH guest writes then reads its disks with busybox dd and
//	                direct I/O, one disk per kind (virtio-blk on PCI, IDE on
//	                the PIIX): MB/s per kind and direction
//	net             two PVH guests on a socket link, one link per card
//	                (virtio-net on PCI, NE2000 on PCI): one streams to the
//	                other with busybox dd | nc: MB/s per card
//	pvwork          testdata/pvwork.asm: the full build (sensitive
//	                instructions) in full mode and under QEMU, the hypercall
//	                build in pv mode: seconds and traps
//
// Every phase of the disk and net workloads is timed by the host's clock
// between two lines the guest prints on its serial console ("@bench:NAME-begin",
// "@bench:NAME-end", see serialWatch), so that gemu and QEMU are timed the
// same way. Under gemu a workload also reports the machine's counters
// (statCounters), over the whole run for intloop and linux-boot and over
// each measured phase for disk and net.
//
// The QEMU command lines follow gemu's (same kernel, initramfs, command
// line, 256 MiB, same disks and links). The differences, kept on purpose:
//   - QEMU gets -nodefaults (no VGA, no default NIC, floppy or CD-ROM), so
//     that its machine is close to gemu's, which has none of them. Its CPU
//     model is its default (qemu64 under TCG) or -cpu host under KVM; gemu's
//     CPUID describes what gemu implements.
//   - Disk images are raw files through the host's page cache in both:
//     QEMU's default cache=writeback, gemu's plain file I/O.
//   - intloop, intloop64: gemu counts the instructions it retires over
//     Machine.Run; QEMU cannot count them, so two loop lengths are timed
//     and the difference divided, which cancels QEMU's start-up. The
//     32-bit loop runs on qemu-system-i386 where installed.
//   - linux-boot is timed from just before hv.New (gemu) or the start of
//     the QEMU process to the prompt: both include loading the files.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gemu-project/gemu/firmware"
	"github.com/gemu-project/gemu/firmware/initramfs"
)

// Mode is one engine configuration that gemu bench compares: gemu's own
// modes (DESIGN.md) and QEMU on the same guest files.
type Mode string

const (
	ModeFull    Mode = "full"        // gemu: translator + interpreter, the hypervisor hidden
	ModeInterp  Mode = "full-interp" // full with every block interpreted (Config.NoJIT), as QEMU's TCI
	ModePV      Mode = "pv"          // gemu: the same engine with KVM's paravirtual interface (Config.Paravirt)
	ModeHW      Mode = "hw"          // gemu on the host CPU through /dev/kvm (no engine yet)
	ModeQEMUTCG Mode = "qemu-tcg"    // QEMU, -accel tcg
	ModeQEMUKVM Mode = "qemu-kvm"    // QEMU, -accel kvm
)

// Modes are all the modes, in the order gemu bench shows them;
// DefaultModes are those it compares unless told otherwise (the
// interpreter alone is there to measure what native code gives).
var (
	Modes        = []Mode{ModeFull, ModeInterp, ModePV, ModeHW, ModeQEMUTCG, ModeQEMUKVM}
	DefaultModes = []Mode{ModeFull, ModePV, ModeHW, ModeQEMUTCG, ModeQEMUKVM}
)

// IsQEMU says whether the mode runs QEMU rather than gemu.
func (m Mode) IsQEMU() bool { return m == ModeQEMUTCG || m == ModeQEMUKVM }

// Available returns nil if the mode can run on this host, or a *SkipError
// that says why not.
func (m Mode) Available() error {
	switch m {
	case ModeFull, ModeInterp, ModePV:
		return nil
	case ModeHW:
		if err := kvmUsable(); err != nil {
			return err
		}
		return skipf("gemu has no hw (KVM) engine yet")
	case ModeQEMUTCG:
		_, err := qemuBinary("qemu-system-x86_64")
		return err
	case ModeQEMUKVM:
		if _, err := qemuBinary("qemu-system-x86_64"); err != nil {
			return err
		}
		return kvmUsable()
	}
	return fmt.Errorf("unknown mode %q", string(m))
}

// configure sets on cfg the switches of a gemu mode (DESIGN.md: the modes
// are presets over orthogonal switches). The hw engine is wired here when
// it exists.
func (m Mode) configure(cfg *Config) {
	cfg.Paravirt = m == ModePV
	cfg.NoJIT = m == ModeInterp
}

// kvmUsable returns nil if /dev/kvm opens for reading and writing.
func kvmUsable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return skipf("no /dev/kvm (KVM is not available on this host)")
		}
		return skipf("/dev/kvm: %v", errors.Unwrap(err))
	}
	f.Close()
	return nil
}

// qemuBinary finds a QEMU system emulator.
func qemuBinary(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", skipf("%s is not installed (apt-get install qemu-system-x86)", name)
	}
	return p, nil
}

// SkipError says that a workload or a mode cannot run on this host, and
// why: gemu bench lists it once as skipped rather than as a failure.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

func skipf(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// Metric is one figure a workload measured.
type Metric struct {
	Name  string  `json:"name"`           // "guest MIPS", "virtio write", "virtio write: interrupts"
	Unit  string  `json:"unit,omitempty"` // "MIPS", "s", "MB/s"; "" for a count
	Value float64 `json:"value"`
	// Better is +1 where higher is better, -1 where lower is better, 0 for
	// a count that is neither (a counter of the machine).
	Better int `json:"better,omitempty"`
	// Detail marks a fine-grained counter (one port, one hypercall): kept
	// in the JSON, left out of the table.
	Detail bool `json:"detail,omitempty"`
}

// Workload is one named benchmark.
type Workload struct {
	Name string
	Doc  string
	run  func(b *Bench, m Mode) ([]Metric, error)
}

var workloads = []Workload{
	{"intloop", "testdata/intloop.bin, the 32-bit integer loop: guest MIPS",
		func(b *Bench, m Mode) ([]Metric, error) { return b.intloop(m, false) }},
	{"intloop64", "testdata/intloop64.bin, the same loop in 64-bit mode: guest MIPS",
		func(b *Bench, m Mode) ([]Metric, error) { return b.intloop(m, true) }},
	{"linux-boot", "Debian's bzImage and a busybox initramfs to the first shell prompt: seconds",
		func(b *Bench, m Mode) ([]Metric, error) { return b.linuxBoot(m, false) }},
	{"linux-boot-pvh", "the same kernel's vmlinux through its PVH entry to the prompt: seconds",
		func(b *Bench, m Mode) ([]Metric, error) { return b.linuxBoot(m, true) }},
	{"linux-boot-disk", "the PVH boot with a root disk on the mode's own interface (IDE in full mode and QEMU TCG, virtio-blk in pv mode and QEMU KVM), to the prompt with the disk ready: seconds", (*Bench).linuxBootDisk},
	{"disk", "sequential dd write and read with direct I/O on virtio-blk and IDE disks: MB/s", (*Bench).disk},
	{"net", "busybox dd | nc between two guests over virtio-net and NE2000 links: MB/s", (*Bench).net},
	{"pvwork", "testdata/pvwork.asm, page tables, CR3, IF, port and disk I/O: the full build in full mode and under QEMU, the hypercall build in pv mode: seconds, traps", (*Bench).pvwork},
}

// Workloads lists the workloads in their canonical order.
func Workloads() []Workload { return append([]Workload(nil), workloads...) }

// LookupWorkload finds a workload by name.
func LookupWorkload(name string) (Workload, bool) {
	for _, w := range workloads {
		if w.Name == name {
			return w, true
		}
	}
	return Workload{}, false
}

// Defaults of BenchOptions.
const (
	DefaultIntloopIterations = 20_000_000
	DefaultDiskMB            = 128
	DefaultNetMB             = 16
	DefaultWorkloadTimeout   = 10 * time.Minute
)

// BenchOptions size the workloads; zero fields take the defaults.
type BenchOptions struct {
	IntloopIterations int           // iterations of intloop's loop under gemu (11 instructions each)
	DiskMB            int           // MiB written then read on each disk, in 1 MiB blocks
	NetMB             int           // MiB sent over each link, in 64 KiB blocks
	Timeout           time.Duration // per guest run
}

// Bench runs workloads. It makes the guest files once (the PVH vmlinux,
// the initramfs images, intloop's kernel) in a scratch directory that Close
// removes.
type Bench struct {
	opts BenchOptions
	dir  string

	mu    sync.Mutex
	files map[string]benchFile
}

type benchFile struct {
	path string
	err  error
}

// NewBench makes a Bench.
func NewBench(opts BenchOptions) (*Bench, error) {
	if opts.IntloopIterations <= 0 {
		opts.IntloopIterations = DefaultIntloopIterations
	}
	if opts.DiskMB <= 0 {
		opts.DiskMB = DefaultDiskMB
	}
	if opts.NetMB <= 0 {
		opts.NetMB = DefaultNetMB
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultWorkloadTimeout
	}
	dir, err := os.MkdirTemp("", "gemu-bench-")
	if err != nil {
		return nil, err
	}
	return &Bench{opts: opts, dir: dir, files: map[string]benchFile{}}, nil
}

// Options returns the options in effect, defaults filled in.
func (b *Bench) Options() BenchOptions { return b.opts }

// Close removes the scratch directory.
func (b *Bench) Close() error { return os.RemoveAll(b.dir) }

// Run runs one workload once under one mode. An error that is a
// *SkipError means that it cannot run here (no kernel, no QEMU, …).
func (b *Bench) Run(workload string, mode Mode) ([]Metric, error) {
	w, ok := LookupWorkload(workload)
	if !ok {
		return nil, fmt.Errorf("unknown workload %q", workload)
	}
	if err := mode.Available(); err != nil {
		return nil, err
	}
	return w.run(b, mode)
}

// file returns the guest file named key, making it with mk the first time.
// mk must not call file.
func (b *Bench) file(key string, mk func() (string, error)) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.files[key]; ok {
		return f.path, f.err
	}
	p, err := mk()
	b.files[key] = benchFile{p, err}
	return p, err
}

// bzImage is the newest installed Debian kernel.
func (b *Bench) bzImage() (string, error) {
	return b.file("bzImage", func() (string, error) {
		k, _ := filepath.Glob("/boot/vmlinuz-*")
		if len(k) == 0 {
			return "", skipf("no /boot/vmlinuz-* (apt-get install linux-image-amd64)")
		}
		sort.Strings(k)
		return k[len(k)-1], nil
	})
}

// vmlinux unpacks the uncompressed kernel (an ELF with the PVH note) from
// the bzImage's XZ payload with the xz command.
func (b *Bench) vmlinux() (string, error) {
	kernel, err := b.bzImage()
	if err != nil {
		return "", err
	}
	return b.file("vmlinux", func() (string, error) {
		img, err := os.ReadFile(kernel)
		if err != nil {
			return "", err
		}
		elf, err := firmware.UnpackVmlinux(img)
		if errors.Is(err, firmware.ErrNoXZ) {
			return "", skipf("%v", err)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", kernel, err)
		}
		path := filepath.Join(b.dir, "vmlinux")
		return path, os.WriteFile(path, elf, 0o644)
	})
}

// pvhFiles returns the PVH vmlinux and an initramfs with the given
// kernel modules: what the Linux workloads with devices boot.
func (b *Bench) pvhFiles(modules ...string) (kernel, initrd string, err error) {
	if kernel, err = b.vmlinux(); err != nil {
		return "", "", err
	}
	initrd, err = b.initramfs(modules...)
	return kernel, initrd, err
}

// initramfs makes a busybox initramfs whose /init (initramfs.DefaultInit)
// loads the given modules of the installed kernel, then runs gemu.cmd or
// a shell.
func (b *Bench) initramfs(modules ...string) (string, error) {
	kernel, err := b.bzImage()
	if err != nil {
		return "", err
	}
	key := "initramfs:" + strings.Join(modules, ",")
	return b.file(key, func() (string, error) {
		bb, err := os.ReadFile("/bin/busybox")
		if err != nil {
			return "", skipf("no /bin/busybox (apt-get install busybox-static)")
		}
		applets := initramfs.FallbackApplets
		if out, err := exec.Command("/bin/busybox", "--list-full").Output(); err == nil {
			applets = initramfs.ParseApplets(string(out))
		}
		a, err := initramfs.NewBusybox(bb, applets, []byte(initramfs.DefaultInit))
		if err != nil {
			return "", err
		}
		if len(modules) > 0 {
			// The modules of the kernel that boots, else the newest tree.
			tree := filepath.Join("/lib/modules", strings.TrimPrefix(filepath.Base(kernel), "vmlinuz-"))
			if _, err := os.Stat(tree); err != nil {
				trees, _ := filepath.Glob("/lib/modules/*")
				if len(trees) == 0 {
					return "", skipf("no /lib/modules/* for the drivers %s (apt-get install linux-image-amd64)", strings.Join(modules, ", "))
				}
				sort.Strings(trees)
				tree = trees[len(trees)-1]
			}
			if err := initramfs.AddModules(a, tree, modules); err != nil {
				return "", err
			}
		}
		var buf bytes.Buffer
		if err := a.Write(&buf); err != nil {
			return "", err
		}
		path := filepath.Join(b.dir, fmt.Sprintf("initramfs-%d.gz", len(b.files)))
		return path, os.WriteFile(path, buf.Bytes(), 0o644)
	})
}

// intloopKernel writes intloop's kernel, the 32- or the 64-bit one, where
// QEMU and gemu can read it.
func (b *Bench) intloopKernel(is64 bool) (string, error) {
	name, image := "intloop", intloopImage
	if is64 {
		name, image = "intloop64", intloop64Image
	}
	return b.file(name, func() (string, error) {
		path := filepath.Join(b.dir, name+".bin")
		return path, os.WriteFile(path, image, 0o644)
	})
}
