// Command gemu boots a guest on gemu's virtual PC.
//
//	gemu run [--kernel F] [--initrd F] [--append S] [--disk F] [--mem 64M]
//	         [--serial stdio|file:PATH|none] [--trace FILE]
//	         [--max-instructions N] [--timeout D] [--stats]
//	         [--icount shift=N] [--reboot] [--hotblocks N [--symbols MAP]]
//	         [--jit=false]
//
// With neither --kernel nor --disk, it boots the embedded demo guest.
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/hv"
)

//go:embed demo.bin
var demoGuest []byte

const usage = `usage: gemu run [flags]
       gemu initramfs -o FILE [flags]   (a busybox initramfs; gemu initramfs -h)
       gemu img create|info|commit ...  (disk images and overlays; gemu img -h)
       gemu bench [flags] WORKLOAD...   (gemu's modes beside QEMU on named workloads; gemu bench -h)

Boots a guest on gemu's virtual PC: a multiboot, ELF32 or flat kernel with
--kernel, a BIOS boot disk with --disk, or the embedded demo guest.
The exit status is the guest's: (v<<1)|1 for a write of v to the debug-exit
port 0xF4 (as QEMU's isa-debug-exit), 0 for a power-off (halt with
interrupts disabled) or a reset, 3 when a limit stops it, 2 for bad input.

flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		newRunFlags(stderr).PrintDefaults()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdin, stdout, stderr)
	case "initramfs":
		return cmdInitramfs(args[1:], stdout, stderr)
	case "img":
		return cmdImg(args[1:], stdout, stderr)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "gemu: unknown command %q (try: gemu run)\n", args[0])
		return 2
	}
}

type runFlags struct {
	*flag.FlagSet
	kernel, initrd, appendStr, mem, serial, debugcon, trace, mode string
	disks, nets                                                   addList
	netDump                                                       string
	maxInstr                                                      uint64
	timeout                                                       flagDuration
	icount, statsJSON, symbols                                    string
	stats, traceUser, linux, reboot, jit                          bool
	hotBlocks                                                     int
}

func newRunFlags(out io.Writer) *runFlags {
	f := &runFlags{FlagSet: flag.NewFlagSet("gemu run", flag.ContinueOnError)}
	f.SetOutput(out)
	f.StringVar(&f.kernel, "kernel", "", "kernel `image` to boot (multiboot, ELF32 or flat binary)")
	f.StringVar(&f.initrd, "initrd", "", "multiboot modules: `list` of \"path [args]\" separated by commas, as QEMU's -initrd")
	f.StringVar(&f.appendStr, "append", "", "kernel command `line`")
	f.Var(&f.disks, "disk", "disk `FILE[,if=ide|virtio|virtio-mmio][,ro][,overlay=COW]` (repeatable; default if=ide in full mode, virtio in pv mode): the IDE one is booted by the built-in BIOS without --kernel")
	f.Var(&f.nets, "net", "network card `socket,listen=|connect=HOST:PORT|tap[,ifname=N][,model=ne2k|virtio|virtio-mmio][,mac=M]` (repeatable; default model ne2k in full mode, virtio in pv mode)")
	f.StringVar(&f.netDump, "net-dump", "", "record every frame of the first card in pcap `FILE` (the others in FILE.1, …)")
	f.StringVar(&f.mem, "mem", "64M", "guest RAM `size` (K, M or G suffix)")
	f.StringVar(&f.serial, "serial", "stdio", "serial port: stdio, file:`PATH` or none")
	f.StringVar(&f.debugcon, "debugcon", "none", "QEMU's debug console at port 0xE9: stdio, file:`PATH` or none")
	f.StringVar(&f.trace, "trace", "", "write a disassembled trace of every instruction to `file`")
	f.StringVar(&f.mode, "mode", "full", "execution mode: full (binary-translating interpreter, hypervisor hidden) or pv (the same, with KVM's paravirtual interface)")
	f.Uint64Var(&f.maxInstr, "max-instructions", 0, "stop after `N` guest instructions (0: no limit)")
	f.Var(&f.timeout, "timeout", "stop after this host `duration` (e.g. 10s)")
	f.BoolVar(&f.stats, "stats", false, "print statistics at exit: traps by sensitive instruction, shadow TLB, I/O exits by device")
	f.StringVar(&f.statsJSON, "stats-json", "", "write the statistics to `FILE` as JSON at exit")
	f.IntVar(&f.hotBlocks, "hotblocks", 0, "print the `N` translated blocks that retired the most instructions, with their code, at exit (as QEMU's hotblocks plugin)")
	f.StringVar(&f.symbols, "symbols", "", "name --hotblocks' addresses from a symbol `MAP` (System.map or /proc/kallsyms lines: ADDRESS TYPE NAME)")
	f.BoolVar(&f.traceUser, "trace-user", false, "start --trace when the guest first runs user code (CPL 3)")
	f.StringVar(&f.icount, "icount", "", "deterministic time: `shift=N` (or N) makes each instruction take 2^N ns of virtual time, idle time skipped, as QEMU's -icount")
	f.BoolVar(&f.jit, "jit", true, "translate hot 64-bit blocks to host code (linux/amd64 hosts); false: interpret every instruction")
	f.BoolVar(&f.reboot, "reboot", false, "restart the machine when the guest resets it (default: a reset ends gemu, as QEMU's -no-reboot)")
	f.BoolVar(&f.linux, "linux", false, "boot the installed Debian kernel (/boot/vmlinuz-*) with a busybox initramfs made on the fly")
	return f
}

func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := newRunFlags(stderr)
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if f.NArg() > 0 {
		fmt.Fprintf(stderr, "gemu run: unexpected argument %q\n", f.Arg(0))
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gemu: %v\n", err)
		return 2
	}
	if f.mode == string(hv.ModeHW) {
		// Say what stands in the way: no KVM here, or no engine yet.
		if err := hv.ModeHW.Available(); err != nil {
			var skip *hv.SkipError
			if errors.As(err, &skip) {
				err = errors.New(skip.Reason)
			}
			return fail(fmt.Errorf("--mode hw: %v", err))
		}
	}
	if f.mode != "full" && f.mode != "pv" {
		return fail(fmt.Errorf("--mode %q: want full or pv", f.mode))
	}
	if f.linux {
		if err := f.setupLinux(); err != nil {
			return fail(fmt.Errorf("--linux: %v", err))
		}
		defer os.Remove(f.initrd)
	}
	memSize, err := hv.ParseMemSize(f.mem)
	if err != nil {
		return fail(fmt.Errorf("--mem: %v", err))
	}
	if f.hotBlocks < 0 {
		return fail(fmt.Errorf("--hotblocks %d: want a count of blocks", f.hotBlocks))
	}
	var syms symbolMap
	if f.symbols != "" {
		if syms, err = readSymbolMap(f.symbols); err != nil {
			return fail(fmt.Errorf("--symbols: %v", err))
		}
	}
	cfg := hv.Config{
		Kernel: f.kernel, Initrd: f.initrd, Append: f.appendStr,
		MemSize: memSize, Demo: demoGuest,
		MaxInstructions: f.maxInstr, Timeout: f.timeout.d, TraceUser: f.traceUser,
		Paravirt: f.mode == "pv", HotBlocks: f.hotBlocks, NoJIT: !f.jit,
	}
	for _, spec := range f.disks {
		d, err := hv.ParseDrive(spec)
		if err != nil {
			return fail(fmt.Errorf("--disk: %v", err))
		}
		cfg.Drives = append(cfg.Drives, d)
	}
	for i, spec := range f.nets {
		n, err := devices.ParseNetSpec(spec, i)
		if err != nil {
			return fail(fmt.Errorf("--net: %v", err))
		}
		cfg.Nets = append(cfg.Nets, n)
	}
	if f.netDump != "" && len(cfg.Nets) == 0 {
		return fail(errors.New("--net-dump needs a --net card"))
	}
	cfg.NetDump = f.netDump
	if f.icount != "" {
		shift, err := parseICount(f.icount)
		if err != nil {
			return fail(err)
		}
		cfg.ICount, cfg.ICountShift = true, shift
	}
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	// output opens the target of --serial or --debugcon.
	output := func(name, spec string) (io.Writer, error) {
		switch {
		case spec == "stdio":
			return stdout, nil
		case spec == "none":
			return nil, nil
		case strings.HasPrefix(spec, "file:"):
			out, err := os.Create(strings.TrimPrefix(spec, "file:"))
			if err != nil {
				return nil, fmt.Errorf("--%s: %v", name, err)
			}
			closers = append(closers, out)
			return out, nil
		}
		return nil, fmt.Errorf("--%s %q: want stdio, file:PATH or none", name, spec)
	}
	if cfg.SerialOut, err = output("serial", f.serial); err != nil {
		return fail(err)
	}
	var machine atomic.Pointer[hv.Machine] // read by the console and signal goroutines
	stop := func() {
		if m := machine.Load(); m != nil {
			m.Stop()
		}
	}
	var con *console
	var serialIn io.Reader
	if f.serial == "stdio" {
		serialIn = stdin
		// A terminal goes to raw mode with QEMU's Ctrl-A escapes; it is
		// restored on every way out (return, signal, Ctrl-A x).
		if tty, ok := stdin.(*os.File); ok {
			var err error
			con, err = openConsole(tty, stdout, stop)
			if err != nil {
				return fail(err)
			}
			if con != nil {
				defer con.Restore()
				serialIn = con
				sig := make(chan os.Signal, 1)
				signal.Notify(sig, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
				defer signal.Stop(sig)
				go func() {
					if _, ok := <-sig; ok {
						stop()
					}
				}()
			}
		}
	}
	if cfg.DebugCon, err = output("debugcon", f.debugcon); err != nil {
		return fail(err)
	}
	if f.trace != "" {
		tf, err := os.Create(f.trace)
		if err != nil {
			return fail(fmt.Errorf("--trace: %v", err))
		}
		defer tf.Close()
		bw := newBufferedWriter(tf)
		defer bw.Flush()
		cfg.Trace = bw
	}
	if serialIn != nil {
		// One reader for every boot (--reboot makes new machines).
		go pumpSerial(serialIn, &machine)
	}
	start := time.Now()
	var res hv.Result
	for {
		m, err := hv.New(cfg)
		if err != nil {
			if con != nil {
				con.Restore()
			}
			return fail(err)
		}
		machine.Store(m)
		res, err = m.Run()
		m.Close()
		if err != nil || res.Kind != hv.ExitReset || !f.reboot {
			break
		}
		if f.timeout.d > 0 {
			// --timeout counts from the first boot.
			if cfg.Timeout = f.timeout.d - time.Since(start); cfg.Timeout <= 0 {
				res = hv.Result{Kind: hv.ExitTimeout, Status: 3, Detail: fmt.Sprintf("timed out after %v", f.timeout.d), Stats: res.Stats}
				break
			}
		}
	}
	if con != nil {
		con.Restore() // before printing anything more
	}
	if err != nil {
		return fail(err)
	}
	if res.Kind != hv.ExitDebugPort && res.Kind != hv.ExitPowerOff {
		msg := res.Kind.String()
		if res.Detail != "" {
			msg += ": " + res.Detail
		}
		fmt.Fprintf(stderr, "gemu: %s\n", msg)
	}
	if f.stats {
		res.Stats.Write(stderr)
	}
	if f.hotBlocks > 0 {
		writeHotBlocks(stderr, res.HotBlocks, res.Stats.Instructions, syms)
	}
	if f.statsJSON != "" {
		out, err := os.Create(f.statsJSON)
		if err == nil {
			err = res.Stats.WriteJSON(out)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fail(fmt.Errorf("--stats-json: %v", err))
		}
	}
	return res.Status
}

// linuxModules are the kernel modules the guest needs for the --disk and
// --net devices given (Debian builds their drivers as modules).
func (f *runFlags) linuxModules() []string {
	var mods []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(mods, n) {
				mods = append(mods, n)
			}
		}
	}
	for _, spec := range f.disks {
		d, err := hv.ParseDrive(spec)
		if err != nil {
			continue // reported when the machine is built
		}
		if d.Interface == "" {
			d.Interface = hv.DefaultDriveInterface(f.mode == "pv")
		}
		add(hv.DriveModules(d.Interface)...)
	}
	for i, spec := range f.nets {
		n, err := devices.ParseNetSpec(spec, i)
		if err != nil {
			continue
		}
		if n.Model == "" && f.mode == "pv" {
			n.Model = devices.NICVirtio
		}
		switch n.Model {
		case devices.NICVirtio:
			add("virtio_pci", "virtio_net")
		case devices.NICVirtioMMIO:
			add("virtio_mmio", "virtio_net")
		default:
			add("ne2k-pci")
		}
	}
	return mods
}

// parseICount reads --icount: "shift=N" or "N", 0 ≤ N ≤ hv.MaxICountShift.
func parseICount(s string) (uint, error) {
	v := strings.TrimPrefix(s, "shift=")
	n, err := strconv.ParseUint(v, 10, 8)
	if err != nil || n > hv.MaxICountShift {
		return 0, fmt.Errorf("--icount %q: want shift=N with N from 0 to %d (2^N ns per instruction)", s, hv.MaxICountShift)
	}
	return uint(n), nil
}

// pumpSerial passes the guest's serial input to whichever machine runs now
// (the first one is being built when it starts).
func pumpSerial(r io.Reader, machine *atomic.Pointer[hv.Machine]) {
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m := machine.Load()
			for ; m == nil; m = machine.Load() {
				time.Sleep(time.Millisecond)
			}
			m.SerialInput(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// setupLinux fills --kernel, --initrd, --append and --mem for --linux: the
// newest /boot/vmlinuz-*, a busybox initramfs in a temporary file, and a
// serial console.
func (f *runFlags) setupLinux() error {
	if f.kernel != "" || f.initrd != "" {
		return fmt.Errorf("give either --linux or --kernel/--initrd")
	}
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(kernels) == 0 {
		return fmt.Errorf("no /boot/vmlinuz-* (apt-get install linux-image-amd64)")
	}
	sort.Strings(kernels)
	f.kernel = kernels[len(kernels)-1]
	a, _, err := buildInitramfs(&initramfsFlags{busybox: "/bin/busybox", modules: strings.Join(f.linuxModules(), ",")})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "gemu-initramfs-*.gz")
	if err != nil {
		return err
	}
	defer tmp.Close()
	if err := a.Write(tmp); err != nil {
		return err
	}
	f.initrd = tmp.Name()
	if !strings.Contains(f.appendStr, "console=") {
		f.appendStr = strings.TrimSpace("console=ttyS0 " + f.appendStr)
	}
	if f.mem == "64M" {
		f.mem = "256M" // the kernel needs about 80 MiB above 16 MiB to decompress
	}
	return nil
}
