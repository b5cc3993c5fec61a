package hv

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gemu-project/gemu/devices"
)

// intloopInsns is the instruction count of one iteration of intloop's loop
// (testdata/intloop.asm and intloop64.asm).
const intloopInsns = 11

// intloop runs the integer loop, in 32- or 64-bit mode: guest MIPS. gemu
// counts every instruction of its run; QEMU times a long and a short loop
// and divides the difference, which cancels its start-up.
func (b *Bench) intloop(mode Mode, is64 bool) ([]Metric, error) {
	kernel, err := b.intloopKernel(is64)
	if err != nil {
		return nil, err
	}
	n := b.opts.IntloopIterations
	if mode.IsQEMU() {
		return b.intloopQEMU(mode, kernel, n, is64)
	}
	res, err := runGemu(mode, Config{Kernel: kernel, Append: strconv.Itoa(n), Timeout: b.opts.Timeout})
	if err != nil {
		return nil, err
	}
	if res.Kind != ExitDebugPort || res.Status != 1 {
		return nil, fmt.Errorf("intloop: %v (status %d) %s", res.Kind, res.Status, res.Detail)
	}
	ms := []Metric{{Name: "guest MIPS", Unit: "MIPS", Value: res.Stats.MIPS(), Better: +1}}
	return append(ms, statCounters(res.Stats)...), nil
}

// intloopQEMU is intloop's QEMU measurement. The long loop is at least
// 10^8 iterations (about 0.3 s under TCG), so that the difference stands
// well above QEMU's start-up jitter even when n is small. The 32-bit loop
// runs on qemu-system-i386 where installed, as a 32-bit guest would.
func (b *Bench) intloopQEMU(mode Mode, kernel string, n int, is64 bool) ([]Metric, error) {
	qemu, err := qemuBinary("qemu-system-x86_64")
	if !is64 {
		if q, err32 := qemuBinary("qemu-system-i386"); err32 == nil {
			qemu, err = q, nil
		}
	}
	if err != nil {
		return nil, err
	}
	run := func(iterations int) (time.Duration, error) {
		args := append(qemuAccel(mode), "-kernel", kernel, "-append", strconv.Itoa(iterations),
			"-display", "none", "-serial", "none", "-m", "64", "-no-reboot",
			"-device", "isa-debug-exit,iobase=0xf4,iosize=4")
		cmd := exec.Command(qemu, args...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			return 0, fmt.Errorf("QEMU intloop: %v: %s", err, strings.TrimSpace(string(out)))
		}
		return d, nil
	}
	// The least disturbed of three runs of each length: on a loaded host a
	// single short run can take longer than the long one.
	long, short := max(5*n, 100_000_000), n/10
	tl, ts := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range 3 {
		l, err := run(long)
		if err != nil {
			return nil, err
		}
		s, err := run(short)
		if err != nil {
			return nil, err
		}
		tl, ts = min(tl, l), min(ts, s)
	}
	if tl <= ts {
		return nil, errors.New("QEMU intloop: the long loop took no longer than the short one")
	}
	mips := float64(long-short) * intloopInsns / (tl - ts).Seconds() / 1e6
	return []Metric{{Name: "guest MIPS", Unit: "MIPS", Value: mips, Better: +1}}, nil
}

// linuxBoot boots Debian's kernel to the busybox shell's first prompt.
func (b *Bench) linuxBoot(mode Mode, pvh bool) ([]Metric, error) {
	kernel, err := b.bzImage()
	if pvh {
		kernel, err = b.vmlinux()
	}
	if err != nil {
		return nil, err
	}
	initrd, err := b.initramfs()
	if err != nil {
		return nil, err
	}
	return b.bootToPrompt(mode, &guest{kernel: kernel, initrd: initrd, watch: newSerialWatch(), stopAtPrompt: true})
}

// bootToPrompt runs g to its first shell prompt.
func (b *Bench) bootToPrompt(mode Mode, g *guest) ([]Metric, error) {
	start := time.Now()
	r, err := b.start(mode, g)
	if err != nil {
		return nil, err
	}
	if err := r.wait(); err != nil {
		return nil, err
	}
	ms := []Metric{{Name: "boot to prompt", Unit: "s", Value: g.watch.prompt().Sub(start).Seconds(), Better: -1}}
	if r.stats != nil {
		ms = append(ms, Metric{Name: "guest MIPS", Unit: "MIPS", Value: r.stats.MIPS(), Better: +1})
		ms = append(ms, statCounters(*r.stats)...)
	}
	return ms, nil
}

// linuxBootDisk boots the PVH kernel, as linuxBoot, with a root disk on the
// mode's default interface and an initramfs with just its driver's
// modules, as a distribution's initramfs would hold; /init waits for the
// disk (gemu.root) before the prompt.
func (b *Bench) linuxBootDisk(mode Mode) ([]Metric, error) {
	iface, dev := DriveIDE, "sda"
	if mode == ModePV || mode == ModeQEMUKVM {
		iface, dev = DriveVirtio, "vda"
	}
	kernel, initrd, err := b.pvhFiles(DriveModules(iface)...)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(b.dir, "root-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "root.img")
	if err := makeImage(img, 64<<20); err != nil {
		return nil, err
	}
	g := &guest{kernel: kernel, initrd: initrd, append: "gemu.root=" + dev,
		drives: []guestDrive{{img, iface}}, watch: newSerialWatch(), stopAtPrompt: true}
	ms, err := b.bootToPrompt(mode, g)
	if err == nil && g.watch.tailContains("gemu initramfs: no disk") {
		return nil, fmt.Errorf("the guest found no %s disk (%s)%s", iface, dev, g.watch.tailText())
	}
	return ms, err
}

// diskKinds are the disks of the disk workload: the guest names each
// after its driver's probe order (virtio-blk before the ATA disk).
var diskKinds = []struct{ name, iface, dev string }{
	{"virtio", DriveVirtio, "vda"},
	{"ide", DriveIDE, "sda"},
}

// disk boots a PVH guest with one raw disk per kind; on each it writes
// DiskMB MiB then reads them back with busybox dd, 1 MiB blocks, O_DIRECT
// (oflag=direct, iflag=direct: no guest page cache), each phase between
// two markers.
func (b *Bench) disk(mode Mode) ([]Metric, error) {
	kernel, initrd, err := b.pvhFiles(append(DriveModules(DriveVirtio), DriveModules(DriveIDE)...)...)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(b.dir, "disk-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	mb := b.opts.DiskMB
	g := &guest{kernel: kernel, initrd: initrd, watch: newSerialWatch()}
	var script strings.Builder
	for _, k := range diskKinds {
		path := filepath.Join(dir, k.name+".img")
		if err := makeImage(path, int64(mb)<<20); err != nil {
			return nil, err
		}
		g.drives = append(g.drives, guestDrive{path, k.iface})
		// dd's own report goes to a file, so that only the markers cross
		// the serial line while a phase is timed; it is shown on failure.
		fmt.Fprintf(&script, "echo %[1]s%[2]s-write-begin; dd if=/dev/zero of=/dev/%[3]s bs=1M count=%[4]d oflag=direct 2>/tmp/dd && echo %[1]s%[2]s-write-end || cat /tmp/dd; ", markerPrefix, k.name, k.dev, mb)
		fmt.Fprintf(&script, "echo %[1]s%[2]s-read-begin; dd if=/dev/%[3]s of=/dev/null bs=1M count=%[4]d iflag=direct 2>/tmp/dd && echo %[1]s%[2]s-read-end || cat /tmp/dd; ", markerPrefix, k.name, k.dev, mb)
	}
	g.cmd = script.String()
	r, err := b.start(mode, g)
	if err != nil {
		return nil, err
	}
	if err := r.wait(); err != nil {
		return nil, err
	}
	var ms, counters []Metric
	for _, k := range diskKinds {
		for _, dir := range []string{"write", "read"} {
			d, c, err := g.watch.phase(k.name + "-" + dir)
			if err != nil {
				return nil, err
			}
			name := k.name + " " + dir
			ms = append(ms, Metric{Name: name, Unit: "MB/s", Value: float64(mb<<20) / 1e6 / d.Seconds(), Better: +1})
			counters = append(counters, prefixed(name+": ", c)...)
		}
	}
	return append(ms, counters...), nil
}

// makeImage makes a sparse raw image of the size.
func makeImage(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// netLinks are the links of the net workload, one per card model. The
// guest finds which interface is which by the last byte of its MAC
// (1x: virtio, 2x: ne2k; x is 0 on the receiver, 1 on the sender).
var netLinks = []struct {
	name   string
	model  devices.NICModel
	subnet int // 10.0.SUBNET.0/24
	port   int // the receiver's nc port
}{
	{"virtio", devices.NICVirtio, 1, 1234},
	{"ne2k", devices.NICNE2000, 2, 1235},
}

// net boots two PVH guests joined by one socket link per card model. The
// sender waits until it can ping the receiver on every link, then, link
// after link, pipes NetMB MiB of zeros from dd (64 KiB blocks) into nc;
// the receiver's nc -l pipes them into dd (iflag=fullblock), whose record
// count it reports: busybox's dd prints no byte count. Each transfer is
// timed between the sender's markers; the sender's nc ends when the
// receiver has read everything and closed. A refused connection (the
// receiver not listening yet on the next port) is retried, and only the
// last try is timed. The receiver's nc runs in the foreground: in the
// background its standard input would be /dev/null, and busybox's nc
// answers the end of its input by closing its half of the connection,
// which makes the sender's nc quit early. Under gemu the counters are the
// sender's.
func (b *Bench) net(mode Mode) ([]Metric, error) {
	kernel, initrd, err := b.pvhFiles("virtio_pci", "virtio_net", "ne2k-pci")
	if err != nil {
		return nil, err
	}
	count := b.opts.NetMB * 16 // 64 KiB blocks
	// setup gives each interface its address, found by its MAC.
	setup := func(host int) string {
		return fmt.Sprintf("for n in /sys/class/net/eth*; do i=${n##*/}; case $(cat $n/address) in "+
			"*:1?) ip addr add 10.0.1.%[1]d/24 dev $i;; *:2?) ip addr add 10.0.2.%[1]d/24 dev $i;; esac; "+
			"ip link set $i up; done; ", host)
	}
	receiver, sender := setup(1), setup(2)
	sender += "for i in $(seq 60); do ping -c 1 -W 1 10.0.1.1 >/dev/null && ping -c 1 -W 1 10.0.2.1 >/dev/null && break; done; " +
		fmt.Sprintf("send() { for i in $(seq 20); do echo %[1]s$3-send-begin; dd if=/dev/zero bs=64k count=%[2]d 2>/dev/null | nc $1 $2 && break; sleep 1; done; echo %[1]s$3-send-end; }; ", markerPrefix, count)
	var report string
	guests := []*guest{
		{kernel: kernel, initrd: initrd, watch: newSerialWatch()},
		{kernel: kernel, initrd: initrd, watch: newSerialWatch()},
	}
	for i, l := range netLinks {
		addr, err := freeLoopback()
		if err != nil {
			return nil, err
		}
		for side, g := range guests {
			g.nics = append(g.nics, guestNIC{listen: side == 0, addr: addr, model: l.model,
				mac: fmt.Sprintf("52:54:00:12:34:%d%d", i+1, side)})
		}
		receiver += fmt.Sprintf("nc -l -p %d | dd of=/dev/null bs=64k iflag=fullblock 2>/tmp/%s; ", l.port, l.name)
		report += fmt.Sprintf("echo %s%s-recv $(cat /tmp/%s); ", markerPrefix, l.name, l.name)
		sender += fmt.Sprintf("send 10.0.%d.1 %d %s; ", l.subnet, l.port, l.name)
	}
	guests[0].cmd = receiver + report
	guests[1].cmd = sender
	rs := make([]*running, 0, 2)
	defer func() {
		for _, r := range rs {
			r.stop()
			<-r.done
		}
	}()
	for side, g := range guests {
		if side == 1 && mode.IsQEMU() {
			// QEMU's connect= fails at once if nobody listens yet.
			for _, n := range guests[0].nics {
				waitListening(n.addr, rs[0].done, 30*time.Second)
			}
		}
		r, err := b.start(mode, g)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	if err := waitAll(time.Minute, rs...); err != nil {
		return nil, err
	}
	var ms, counters []Metric
	want := int64(b.opts.NetMB) << 20
	for _, l := range netLinks {
		d, c, err := guests[1].watch.phase(l.name + "-send")
		if err != nil {
			return nil, err
		}
		if mk, _ := guests[0].watch.marker(l.name + "-recv"); !strings.HasPrefix(mk.text, fmt.Sprintf("%d+0 records in", count)) {
			return nil, fmt.Errorf("%s: the receiver's dd says %q, want %d full 64 KiB records%s", l.name, mk.text, count, guests[0].watch.tailText())
		}
		ms = append(ms, Metric{Name: l.name, Unit: "MB/s", Value: float64(want) / 1e6 / d.Seconds(), Better: +1})
		counters = append(counters, prefixed(l.name+" send: ", c)...)
	}
	return append(ms, counters...), nil
}

// runGemu runs one machine of cfg under mode's configuration to its end.
func runGemu(mode Mode, cfg Config) (Result, error) {
	mode.configure(&cfg)
	m, err := New(cfg)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	return m.Run()
}
