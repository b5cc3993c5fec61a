package hv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gemu-project/gemu/devices"
)

// The Linux guests of the workloads, the same under gemu and QEMU.
const (
	linuxCmdline = "console=ttyS0 quiet"
	linuxMemMB   = 256
)

// guest is one Linux guest of a workload: the files, the command its /init
// runs (gemu.cmd; none: the shell), its disks and network cards.
type guest struct {
	kernel, initrd, cmd string
	append              string // more kernel parameters
	drives              []guestDrive
	nics                []guestNIC
	watch               *serialWatch
	// stopAtPrompt ends the run at the shell's first prompt; otherwise the
	// guest runs cmd and powers off.
	stopAtPrompt bool
}

type guestDrive struct {
	path  string
	iface string // DriveVirtio or DriveIDE
}

type guestNIC struct {
	listen bool   // listen=, else connect=
	addr   string // HOST:PORT of the socket link
	model  devices.NICModel
	mac    string
}

// cmdline is the guest's kernel command line.
func (g *guest) cmdline() string {
	s := linuxCmdline
	if g.append != "" {
		s += " " + g.append
	}
	if g.cmd != "" {
		s += ` gemu.cmd="` + g.cmd + `"`
	}
	return s
}

// running is a guest that was started.
type running struct {
	done  chan struct{}
	err   error  // set before done closes
	stats *Stats // gemu: the machine's statistics at the end
	stop  func() // ends the run early
}

// wait waits for the end of the run.
func (r *running) wait() error {
	<-r.done
	return r.err
}

// start boots the guest under the mode, gemu's or QEMU's.
func (b *Bench) start(mode Mode, g *guest) (*running, error) {
	if mode.IsQEMU() {
		return b.startQEMU(mode, g)
	}
	// The machine's messages would break the progress line: they are kept
	// and shown with a failure.
	log := &lockedBuffer{}
	cfg := Config{
		Kernel: g.kernel, Initrd: g.initrd, Append: g.cmdline(),
		MemSize: linuxMemMB << 20, SerialOut: g.watch, Timeout: b.opts.Timeout, Log: log,
	}
	mode.configure(&cfg)
	for _, d := range g.drives {
		cfg.Drives = append(cfg.Drives, Drive{Path: d.path, Interface: d.iface})
	}
	for i, n := range g.nics {
		side := "connect"
		if n.listen {
			side = "listen"
		}
		spec, err := devices.ParseNetSpec(fmt.Sprintf("socket,%s=%s,model=%s,mac=%s", side, n.addr, n.model, n.mac), i)
		if err != nil {
			return nil, err
		}
		cfg.Nets = append(cfg.Nets, spec)
	}
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	g.watch.snap = func() []Metric { return statCounters(m.Stats()) }
	if g.stopAtPrompt {
		g.watch.onPrompt = m.Stop
	}
	r := &running{done: make(chan struct{}), stop: m.Stop}
	go func() {
		defer close(r.done)
		res, err := m.Run()
		m.Close()
		r.stats = &res.Stats
		want := ExitPowerOff
		if g.stopAtPrompt {
			want = ExitStopped
		}
		switch {
		case err != nil:
			r.err = err
		case res.Kind != want || (g.stopAtPrompt && g.watch.prompt().IsZero()):
			msg := res.Kind.String()
			if res.Detail != "" {
				msg += ": " + res.Detail
			}
			r.err = fmt.Errorf("gemu: %s%s", msg, g.watch.tailText())
		}
		if r.err != nil && log.Len() > 0 {
			r.err = fmt.Errorf("%w\ngemu's messages:\n%s", r.err, strings.TrimSpace(log.String()))
		}
	}()
	return r, nil
}

// lockedBuffer is a bytes.Buffer that several goroutines may write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// qemuAccel are QEMU's accelerator options for a mode.
func qemuAccel(mode Mode) []string {
	if mode == ModeQEMUKVM {
		return []string{"-accel", "kvm", "-cpu", "host"}
	}
	return []string{"-accel", "tcg"}
}

// qemuModels are QEMU's device names of gemu's NIC models.
var qemuModels = map[devices.NICModel]string{
	devices.NICVirtio:     "virtio-net-pci",
	devices.NICNE2000:     "ne2k_pci",
	devices.NICVirtioMMIO: "virtio-net-device",
}

// qemuEscape doubles the commas of a value in a QEMU option list.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// qemuArgs is the QEMU command line of the guest.
func qemuArgs(mode Mode, g *guest) []string {
	args := append(qemuAccel(mode),
		"-m", strconv.Itoa(linuxMemMB), "-kernel", g.kernel, "-initrd", g.initrd, "-append", g.cmdline(),
		"-nodefaults", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot")
	for _, d := range g.drives {
		args = append(args, "-drive", "file="+qemuEscape(d.path)+",if="+d.iface+",format=raw")
	}
	for i, n := range g.nics {
		side := "connect"
		if n.listen {
			side = "listen"
		}
		args = append(args,
			"-netdev", fmt.Sprintf("socket,id=n%d,%s=%s", i, side, n.addr),
			"-device", fmt.Sprintf("%s,netdev=n%d,mac=%s", qemuModels[n.model], i, n.mac))
	}
	return args
}

// startQEMU runs the guest under qemu-system-x86_64, its serial console on
// the process's standard output.
func (b *Bench) startQEMU(mode Mode, g *guest) (*running, error) {
	qemu, err := qemuBinary("qemu-system-x86_64")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(qemu, qemuArgs(mode, g)...)
	cmd.Stdout = g.watch
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var killed atomic.Bool
	kill := func() {
		killed.Store(true)
		cmd.Process.Kill()
	}
	if g.stopAtPrompt {
		g.watch.onPrompt = kill
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(b.opts.Timeout, func() { timedOut.Store(true); kill() })
	r := &running{done: make(chan struct{}), stop: kill}
	go func() {
		defer close(r.done)
		err := cmd.Wait()
		timer.Stop()
		switch {
		case timedOut.Load():
			r.err = fmt.Errorf("QEMU: timed out after %v%s", b.opts.Timeout, g.watch.tailText())
		case g.stopAtPrompt && !g.watch.prompt().IsZero():
		case killed.Load():
			r.err = fmt.Errorf("QEMU: stopped%s", g.watch.tailText())
		case err != nil:
			r.err = fmt.Errorf("QEMU: %v: %s%s", err, strings.TrimSpace(stderr.String()), g.watch.tailText())
		case g.stopAtPrompt:
			r.err = fmt.Errorf("QEMU: ended before the prompt%s", g.watch.tailText())
		}
	}()
	return r, nil
}

// freeLoopback returns a loopback address whose port was free a moment ago.
func freeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitListening waits until something listens on the TCP address, as
// /proc/net/tcp shows it (a test connection would be taken by QEMU's
// listen= as its peer), or until done closes or the timeout passes.
func waitListening(addr string, done <-chan struct{}, timeout time.Duration) {
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	suffix := fmt.Sprintf(":%04X", port)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		tab, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			time.Sleep(time.Second) // no /proc: give QEMU a second to listen
			return
		}
		for _, line := range strings.Split(string(tab), "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && strings.HasSuffix(f[1], suffix) && f[3] == "0A" { // TCP_LISTEN
				return
			}
		}
		select {
		case <-done:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitAll waits for the runs; when one ends, the others get grace to end
// too, then are stopped. It returns the first error.
func waitAll(grace time.Duration, rs ...*running) error {
	var once sync.Once
	first := make(chan struct{})
	for _, r := range rs {
		go func() {
			<-r.done
			once.Do(func() { close(first) })
		}()
	}
	<-first
	timer := time.NewTimer(grace)
	defer timer.Stop()
	var err error
	for _, r := range rs {
		select {
		case <-r.done:
		case <-timer.C:
			for _, r := range rs {
				r.stop()
			}
			<-r.done
		}
		if r.err != nil && err == nil {
			err = r.err
		}
	}
	return err
}
