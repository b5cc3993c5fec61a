package hv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/firmware"
	"github.com/gemu-project/gemu/mmu"
)

// How the run ended.
type ExitKind int

const (
	ExitDebugPort    ExitKind = iota // the guest wrote to the debug-exit port
	ExitPowerOff                     // halted with interrupts disabled
	ExitReset                        // reset line or triple fault
	ExitInstructions                 // --max-instructions reached
	ExitTimeout                      // --timeout reached
	ExitStopped                      // Stop was called (Ctrl-A x)
)

func (k ExitKind) String() string {
	return [...]string{"debug-exit port", "power off (halted with interrupts disabled)", "reset", "instruction limit", "timeout", "stopped"}[k]
}

// Result is the outcome of Machine.Run.
type Result struct {
	Kind   ExitKind
	Status int    // the process exit status QEMU would give
	Detail string // e.g. the triple-fault location
	Stats  Stats
	// HotBlocks are the blocks that retired the most instructions, the
	// most first (Config.HotBlocks of them).
	HotBlocks []cpu.BlockProfile
}

// Stats are the figures every engine reports.
type Stats struct {
	Instructions      uint64        `json:"instructions"`
	Elapsed           time.Duration `json:"elapsed_ns"`
	BlocksTranslated  uint64        `json:"blocks_translated"`
	BlocksInvalidated uint64        `json:"blocks_invalidated"`
	// BlocksNative are the blocks translated to host code, and
	// NativeInstructions the instructions retired there (cpu/jit.go).
	BlocksNative       uint64              `json:"blocks_native"`
	NativeInstructions uint64              `json:"native_instructions"`
	TLBHits            uint64              `json:"tlb_hits"`
	TLBMisses          uint64              `json:"tlb_misses"` // = shadow-TLB fills
	TLBFlushes         uint64              `json:"tlb_flushes"`
	TLBFlushesBy       TLBFlushes          `json:"tlb_flushes_by_cause"`
	Exceptions         uint64              `json:"exceptions"`
	Interrupts         uint64              `json:"interrupts"`
	PortIO             []devices.PortCount `json:"port_io"`
	// Traps are the sensitive instructions executed, each emulated by the
	// hypervisor; Sensitive breaks them down by row of the table.
	Traps     uint64               `json:"traps"`
	Sensitive []cpu.SensitiveCount `json:"sensitive"`
	// Devices are the I/O exits by device: port and MMIO accesses.
	Devices    []DeviceExits     `json:"devices"`
	Hypercalls map[uint64]uint64 `json:"hypercalls,omitempty"` // pv mode: hypercalls by number (RAX)
}

// TLBFlushes are the shadow-TLB flushes by cause.
type TLBFlushes struct {
	CR3    uint64 `json:"cr3"`    // MOV to CR3 (global pages kept)
	INVLPG uint64 `json:"invlpg"` // one page
	CR0CR4 uint64 `json:"cr0_cr4"`
	All    uint64 `json:"all"` // everything, globals included (CR4.PGE toggles, mode switches)
}

// DeviceExits counts the guest's accesses to one device: each is an exit
// to the hypervisor's device model.
type DeviceExits struct {
	Device string `json:"device"`
	PortIO uint64 `json:"port_io"`
	MMIO   uint64 `json:"mmio"`
}

// MIPS is guest instructions per microsecond of host time.
func (s Stats) MIPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Instructions) / s.Elapsed.Seconds() / 1e6
}

// Machine is one virtual PC.
type Machine struct {
	cfg    Config
	Mem    *mmu.Memory
	PC     *devices.PC
	MMIO   *devices.Bus // physical addresses above RAM: the local APIC, IOAPIC…
	LAPIC  *devices.LAPIC
	IOAPIC *devices.IOAPIC
	clock  *machineClock
	CPU    *cpu.CPU
	Boot   *firmware.BootInfo
	PCI    *devices.PCIBus
	// backends are the open disk images; virtioMMIO the virtio-mmio
	// windows the DSDT announces.
	backends   []diskImage
	ide        []devices.BlockBackend // the IDE disks' images, primary master first (gemuhc.go's block hypercall)
	nics       []nic
	virtioMMIO []firmware.VirtioMMIODevice

	exit  *Result                                   // set by the debug-exit port or the reset line
	trace func(c *cpu.CPU, eip uint64, text string) // the --trace writer
	// stopRequested is set by Stop from another goroutine (the console).
	stopRequested atomic.Bool
	// wakeup ends a halted vCPU's sleep (wake); idleTimer times the sleep.
	wakeup    chan struct{}
	idleTimer *time.Timer
	start     time.Time
	pv        *kvmPV // pv mode: KVM's paravirtual interface (pv.go)
}

// sliceInstructions bounds how long the CPU runs between device polls: at
// 150 MIPS it is about 130 µs, well under a 1 kHz timer period.
const sliceInstructions = 20000

// New builds a machine: memory, devices, firmware and the vCPU.
func New(cfg Config) (*Machine, error) {
	if cfg.MemSize == 0 {
		cfg.MemSize = 64 << 20
	}
	if cfg.MemSize > devices.PCIMemBase {
		// RAM is one block from address 0: above 3 GiB it would cover
		// the PCI window, the IOAPIC and the local APIC.
		return nil, fmt.Errorf("guest memory %d MiB: at most %d MiB (the PCI hole starts at %#x)", cfg.MemSize>>20, devices.PCIMemBase>>20, devices.PCIMemBase)
	}
	mem, err := mmu.NewMemory(cfg.MemSize)
	if err != nil {
		return nil, err
	}
	if cfg.ICount && cfg.ICountShift > MaxICountShift {
		return nil, fmt.Errorf("icount shift %d: at most %d (2^shift ns per instruction)", cfg.ICountShift, MaxICountShift)
	}
	m := &Machine{cfg: cfg, Mem: mem, wakeup: make(chan struct{}, 1)}
	drives := cfg.Drives
	if cfg.Disk != "" {
		drives = append([]Drive{{Path: cfg.Disk, Interface: DriveIDE}}, drives...)
	}
	disks, err := m.openDrives(drives)
	if err != nil {
		m.Close()
		return nil, err
	}
	m.ide = disks.ide
	// ISA interrupts go to both the 8259s and the IOAPIC, as on a PC chipset.
	isa := &isaIRQs{}
	m.clock = &machineClock{host: devices.NewHostClock(), icount: cfg.ICount, shift: cfg.ICountShift, insns: new(uint64)}
	var startTime time.Time
	if cfg.ICount {
		startTime = icountEpoch
	}
	pc, err := devices.NewPC(devices.PCConfig{
		Clock:     m.clock,
		StartTime: startTime,
		IRQ:       isa,
		MemSize:   cfg.MemSize,
		SerialOut: cfg.SerialOut,
		DebugCon:  cfg.DebugCon,
		Disk:      disks.primaryIDE(),
		Reset:     m.onReset,
		Exit:      m.onDebugExit,
		PowerOff:  m.onPowerOff,
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	m.PC = pc
	m.MMIO = devices.NewBus("mmio")
	mem.MMIO = mmioBus{m.MMIO}
	// The local APIC starts in virtual-wire mode (LINT0 = ExtINT), as KVM
	// does, so that kernels loaded without a BIOS get the 8259's interrupts.
	// It offers the TSC-deadline timer (SDM Vol. 3A §11.5.4.1), as KVM's
	// does: Linux then needs no APIC timer calibration.
	var guestTSC func() uint64 // the CPU's TSC, with the offset the guest wrote
	m.LAPIC = devices.NewLAPIC(m.clock, devices.LAPICConfig{PIC: pc.PIC, VirtualWire: true,
		TSCDeadline: true, TSCHz: TSCHz, TSC: func() uint64 { return guestTSC() }})
	m.IOAPIC = devices.NewIOAPIC(m.LAPIC)
	m.LAPIC.SetEOIBroadcast(m.IOAPIC.EOI)
	isa.pic, isa.ioapic = pc.PIC, m.IOAPIC
	for _, r := range []struct {
		base, size uint64
		name       string
		dev        devices.Device
	}{
		{devices.LAPICBase, devices.LAPICSize, "lapic", m.LAPIC},
		{devices.IOAPICBase, devices.IOAPICSize, "ioapic", m.IOAPIC},
	} {
		if err := m.MMIO.Register(r.base, r.size, r.name, r.dev); err != nil {
			return nil, err
		}
	}
	m.PCI, err = devices.NewPCIBus(devices.PCIBusConfig{
		PIO: pc.PIO, MMIO: m.MMIO, IRQ: isa,
		MSI: devices.MSIToAPIC(m.LAPIC), Reset: m.onReset,
		Log: m.logf,
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	if err := m.addVirtioMMIO(disks.virtio); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.addIDE(disks, isa); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.addVirtioPCI(disks.virtioPCI); err != nil {
		m.Close()
		return nil, err
	}
	nicModel := devices.NICNE2000 // full mode: the emulated card; pv mode: virtio-net
	if cfg.Paravirt {
		nicModel = devices.NICVirtio
	}
	if err := m.addNICs(cfg.Nets, cfg.NetDump, nicModel); err != nil {
		m.Close()
		return nil, err
	}
	// Without a BIOS, gemu programs the PCI functions as SeaBIOS would.
	if err := m.PCI.AssignResources(); err != nil {
		m.Close()
		return nil, err
	}
	m.CPU = cpu.New(mem, pc, m.LAPIC)
	m.CPU.MachineMSRs = m.LAPIC
	m.CPU.ProfileBlocks(cfg.HotBlocks > 0)
	m.CPU.EnableJIT(!cfg.NoJIT)
	m.clock.insns = &m.CPU.Stats.Instructions
	m.CPU.TimeStampCounter = m.clock.tsc
	m.CPU.Frequencies = cpu.Frequencies{TSCHz: TSCHz, CrystalHz: CrystalHz}
	m.CPU.TSCDeadlineTimer = true
	guestTSC = func() uint64 { return m.clock.tsc() + m.CPU.TSCOffset() }
	if cfg.Paravirt {
		m.enablePV() // pv.go: KVM's CPUID leaves, MSRs, PV EOI and hypercalls
	}
	platform, err := m.writePlatformTables()
	if err != nil {
		m.Close()
		return nil, err
	}

	var st cpu.State
	switch {
	case cfg.Kernel != "":
		img, err := os.ReadFile(cfg.Kernel)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("kernel: %w", err)
		}
		// Like QEMU, the multiboot command line is the kernel's path, then --append.
		opts := firmware.Options{Name: cfg.Kernel, Path: cfg.Kernel, Cmdline: cfg.Append, Platform: platform}
		for _, spec := range splitModules(cfg.Initrd) {
			path, _, _ := strings.Cut(spec, " ")
			mod, err := os.ReadFile(path)
			if err != nil {
				m.Close()
				return nil, fmt.Errorf("initrd: %w", err)
			}
			opts.Modules = append(opts.Modules, firmware.Module{Name: path, Data: mod, Cmdline: spec})
		}
		st, m.Boot, err = firmware.Load(mem, img, opts)
		if err != nil {
			m.Close()
			return nil, err
		}
	case len(disks.ide) > 0:
		st, err = firmware.InstallBIOS(mem, cfg.MemSize, true)
		if err != nil {
			m.Close()
			return nil, err
		}
	default:
		if len(disks.virtioPCI)+len(disks.virtio) > 0 {
			m.Close()
			return nil, errors.New("nothing to boot: the built-in BIOS boots only an IDE disk (--disk FILE,if=ide), or give --kernel")
		}
		if len(cfg.Demo) == 0 {
			m.Close()
			return nil, errors.New("nothing to boot: give --kernel or --disk")
		}
		st, m.Boot, err = firmware.Load(mem, cfg.Demo, firmware.Options{Name: "demo guest", Cmdline: cfg.Append})
		if err != nil {
			m.Close()
			return nil, err
		}
	}
	// The $PIR table goes after the BIOS, in a hole of its image.
	pir, err := firmware.BuildPIR(firmware.PIRConfig{Slots: m.PCI.Slots()[1:]})
	if err == nil {
		err = m.Mem.WriteAt(firmware.PIRBase, pir)
	}
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("PCI IRQ routing table: %w", err)
	}
	m.CPU.SetState(&st)
	if cfg.SerialIn != nil {
		go m.readSerial(cfg.SerialIn)
	}
	if cfg.Trace != nil {
		w := cfg.Trace
		m.trace = func(c *cpu.CPU, eip uint64, text string) {
			s := c.State()
			if c.Mode() == 64 {
				fmt.Fprintf(w, "%04x:%016x  %-40s rax=%x rbx=%x rcx=%x rdx=%x rsi=%x rdi=%x rsp=%x r8=%x r9=%x fl=%x\n",
					s.Seg[cpu.CS].Selector, eip, text, s.GPR[cpu.EAX], s.GPR[cpu.EBX], s.GPR[cpu.ECX], s.GPR[cpu.EDX],
					s.GPR[cpu.ESI], s.GPR[cpu.EDI], s.GPR[cpu.ESP], s.GPR[8], s.GPR[9], s.EFLAGS)
				return
			}
			fmt.Fprintf(w, "%04x:%08x  %-40s eax=%08x ebx=%08x ecx=%08x edx=%08x esp=%08x fl=%08x\n",
				s.Seg[cpu.CS].Selector, eip, text, s.GPR[cpu.EAX], s.GPR[cpu.EBX], s.GPR[cpu.ECX], s.GPR[cpu.EDX], s.GPR[cpu.ESP], s.EFLAGS)
		}
		if !cfg.TraceUser {
			m.CPU.Trace = m.trace
		}
	}
	return m, nil
}

// writePlatformTables writes the ACPI tables (RSDP, XSDT, FADT, MADT, DSDT)
// and the MP table that describe this machine, and returns what a Linux or
// PVH loader must know of them.
func (m *Machine) writePlatformTables() (firmware.Platform, error) {
	var plat firmware.Platform
	tables, rsdp, err := firmware.BuildACPI(firmware.ACPIConfig{LevelIRQs: []uint8{10, 11}, PCI: &firmware.PCIHostBridge{}, VirtioMMIO: m.virtioMMIO})
	if err != nil {
		return plat, fmt.Errorf("ACPI tables: %w", err)
	}
	if err := m.Mem.WriteAt(firmware.ACPIBase, tables); err != nil {
		return plat, fmt.Errorf("ACPI tables: %w", err)
	}
	mp, err := firmware.BuildMPTable(firmware.MPTableBase, firmware.MPConfig{PCISlots: m.PCI.Slots()[1:]})
	if err != nil {
		return plat, fmt.Errorf("MP table: %w", err)
	}
	if err := m.Mem.WriteAt(firmware.MPTableBase, mp); err != nil {
		return plat, fmt.Errorf("MP table: %w", err)
	}
	plat.RSDP = rsdp
	plat.Reserved = []firmware.Region{{Start: firmware.ACPIBase, End: firmware.ACPIBase + firmware.ACPIAreaSize, What: "ACPI tables"}}
	return plat, nil
}

// Close releases the machine's files.
func (m *Machine) Close() error {
	var first error
	for _, n := range m.nics {
		if err := n.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.nics = nil
	for _, b := range m.backends {
		if err := b.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.backends = nil
	return first
}

// logf reports what the guest did wrong to a device (on stderr: the guest
// goes on, as on real hardware).
func (m *Machine) logf(format string, args ...any) {
	w := m.cfg.Log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "gemu: "+format+"\n", args...)
}

// SerialInput queues bytes for the guest's COM1; any goroutine may call it.
func (m *Machine) SerialInput(b []byte) {
	m.PC.COM1.Input(b)
	m.wake()
}

func (m *Machine) readSerial(r io.Reader) {
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m.SerialInput(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// onDebugExit is QEMU's isa-debug-exit: status (v<<1)|1.
func (m *Machine) onDebugExit(status int) {
	if m.exit == nil {
		m.exit = &Result{Kind: ExitDebugPort, Status: status}
	}
	m.CPU.RequestStop()
}

// Stop ends Run at the next slice boundary; other goroutines may call it.
func (m *Machine) Stop() {
	m.stopRequested.Store(true)
	m.wake()
}

// onPowerOff is the ACPI S5 soft-off: the run ends with status 0.
func (m *Machine) onPowerOff() {
	if m.exit == nil {
		m.exit = &Result{Kind: ExitPowerOff, Status: 0, Detail: "ACPI S5 soft-off"}
	}
	m.CPU.RequestStop()
}

// onReset ends the run: like QEMU with -no-reboot, a reset stops the machine.
func (m *Machine) onReset() {
	if m.exit == nil {
		m.exit = &Result{Kind: ExitReset, Status: 0, Detail: "the guest reset the machine"}
	}
	m.CPU.RequestStop()
}

// Run runs the guest until it exits, and returns how it ended.
func (m *Machine) Run() (Result, error) {
	m.start = time.Now()
	var deadline time.Time
	if m.cfg.Timeout > 0 {
		deadline = m.start.Add(m.cfg.Timeout)
	}
	c := m.CPU
	for {
		now := m.clockNow()
		next := m.advance(now)
		m.PC.Poll()
		m.pollNICs()
		budget := uint64(sliceInstructions)
		if m.clock.icount && next != devices.NoDeadline {
			budget = min(budget, m.clock.instructionsUntil(now, next))
		}
		if lim := m.cfg.MaxInstructions; lim > 0 {
			done := c.Stats.Instructions
			if done >= lim {
				return m.finish(Result{Kind: ExitInstructions, Status: 3, Detail: fmt.Sprintf("stopped after %d instructions", done)}), nil
			}
			budget = min(budget, lim-done)
		}
		if m.trace != nil && c.Trace == nil && c.CPL() == 3 {
			c.Trace = m.trace // --trace-user: from the first slice at CPL 3
			c.FlushTranslations()
		}
		reason, err := c.Run(budget)
		if m.exit != nil {
			return m.finish(*m.exit), nil
		}
		if m.stopRequested.Load() {
			return m.finish(Result{Kind: ExitStopped, Status: 0, Detail: "stopped by the user"}), nil
		}
		switch reason {
		case cpu.StopShutdown:
			return m.finish(Result{Kind: ExitReset, Status: 0, Detail: err.Error()}), nil
		case cpu.StopHalt:
			if !c.InterruptsEnabled() || m.virtualIFMasked() {
				return m.finish(Result{Kind: ExitPowerOff, Status: 0}), nil
			}
			m.waitForInterrupt(next)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return m.finish(Result{Kind: ExitTimeout, Status: 3, Detail: fmt.Sprintf("timed out after %v", m.cfg.Timeout)}), nil
		}
	}
}

func (m *Machine) clockNow() time.Duration { return m.clock.Now() }

// advance runs the timers of every device up to now and returns the
// earliest next deadline.
func (m *Machine) advance(now time.Duration) time.Duration {
	return min(m.PC.Advance(now), m.LAPIC.Advance(now))
}

// waitForInterrupt sleeps while the CPU is halted, until the next timer
// deadline or serial input, in small steps so that input is seen promptly.
// Under icount, time jumps to the deadline instead; only a halt with no
// timer armed waits, for input, without virtual time passing.
func (m *Machine) waitForInterrupt(next time.Duration) {
	// Back to Run now and then, for its timeout and limits.
	giveUp := time.Now().Add(10 * time.Millisecond)
	for m.CPU.Halted() && !m.stopRequested.Load() && time.Now().Before(giveUp) {
		now := m.clockNow()
		next = m.advance(now)
		m.PC.Poll()
		m.pollNICs()
		if m.LAPIC.Pending() {
			return
		}
		if m.clock.icount && next != devices.NoDeadline {
			m.clock.skipTo(now, next)
			continue
		}
		d := next - now
		if d > time.Millisecond {
			d = time.Millisecond
		}
		if d > 0 {
			m.sleep(d)
		}
	}
}

// sleep waits d, or less if wake is called meanwhile (a frame or serial
// input arrived, or Stop).
func (m *Machine) sleep(d time.Duration) {
	if m.idleTimer == nil {
		m.idleTimer = time.NewTimer(d)
	} else {
		m.idleTimer.Reset(d)
	}
	select {
	case <-m.wakeup:
		m.idleTimer.Stop()
	case <-m.idleTimer.C:
	}
}

// wake ends a halted vCPU's sleep early; any goroutine may call it.
func (m *Machine) wake() {
	select {
	case m.wakeup <- struct{}{}:
	default:
	}
}

func (m *Machine) finish(r Result) Result {
	r.Stats = m.Stats()
	if m.cfg.HotBlocks > 0 {
		r.HotBlocks = m.CPU.HotBlocks(m.cfg.HotBlocks)
	}
	return r
}

// Stats returns the machine's figures so far.
func (m *Machine) Stats() Stats {
	c := m.CPU
	t := c.TLBStats()
	s := Stats{
		Instructions:       c.Stats.Instructions,
		Elapsed:            time.Since(m.start),
		BlocksTranslated:   c.Stats.BlocksTranslated,
		BlocksInvalidated:  c.Stats.BlocksInvalidated,
		BlocksNative:       c.Stats.BlocksNative,
		NativeInstructions: c.Stats.NativeInstructions,
		TLBHits:            t.Hits,
		TLBMisses:          t.Misses,
		TLBFlushes:         t.FlushCR3 + t.FlushINVLPG + t.FlushCR0CR4 + t.FlushAll,
		TLBFlushesBy:       TLBFlushes{CR3: t.FlushCR3, INVLPG: t.FlushINVLPG, CR0CR4: t.FlushCR0CR4, All: t.FlushAll},
		Exceptions:         c.Stats.Exceptions,
		Interrupts:         c.Stats.Interrupts,
		PortIO:             m.PC.PortCounts(),
		Traps:              c.Traps(),
		Sensitive:          c.SensitiveCounts(),
		Hypercalls:         m.hypercallCounts(),
	}
	byName := map[string]*DeviceExits{}
	device := func(name string) *DeviceExits {
		if name == "" {
			name = "(none)" // an empty port: the access still traps
		}
		if byName[name] == nil {
			byName[name] = &DeviceExits{Device: name}
		}
		return byName[name]
	}
	for _, p := range s.PortIO {
		device(p.Name).PortIO += p.Count
	}
	for _, r := range m.MMIO.Counts() {
		device(r.Name).MMIO += r.Accesses
	}
	for _, name := range sortedKeys(byName) {
		s.Devices = append(s.Devices, *byName[name])
	}
	sort.SliceStable(s.Devices, func(i, j int) bool {
		return s.Devices[i].PortIO+s.Devices[i].MMIO > s.Devices[j].PortIO+s.Devices[j].MMIO
	})
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Write prints the statistics as text.
func (s Stats) Write(w io.Writer) {
	fmt.Fprintf(w, "instructions      %d\n", s.Instructions)
	fmt.Fprintf(w, "elapsed           %v\n", s.Elapsed.Round(time.Microsecond))
	fmt.Fprintf(w, "guest MIPS        %.1f\n", s.MIPS())
	fmt.Fprintf(w, "blocks translated %d (invalidated %d)\n", s.BlocksTranslated, s.BlocksInvalidated)
	if s.BlocksNative > 0 {
		fmt.Fprintf(w, "native code       %d blocks, %d instructions (%.1f%%)\n", s.BlocksNative, s.NativeInstructions, 100*float64(s.NativeInstructions)/float64(max(s.Instructions, 1)))
	}
	fmt.Fprintf(w, "shadow TLB        %d hits, %d fills, %d flushes (CR3 %d, INVLPG %d, CR0/CR4 %d, all %d)\n",
		s.TLBHits, s.TLBMisses, s.TLBFlushes, s.TLBFlushesBy.CR3, s.TLBFlushesBy.INVLPG, s.TLBFlushesBy.CR0CR4, s.TLBFlushesBy.All)
	fmt.Fprintf(w, "exceptions        %d, interrupts %d\n", s.Exceptions, s.Interrupts)
	fmt.Fprintf(w, "traps             %d sensitive instructions emulated\n", s.Traps)
	for _, r := range s.Sensitive {
		fmt.Fprintf(w, "  %-28s %12d  %s\n", r.Name, r.Count, r.Reason)
	}
	fmt.Fprintf(w, "I/O exits by device (port, MMIO)\n")
	for _, d := range s.Devices {
		fmt.Fprintf(w, "  %-16s %12d %12d\n", d.Device, d.PortIO, d.MMIO)
	}
	writeHypercalls(w, s.Hypercalls)
}

// WriteJSON writes the statistics as one JSON object (--stats-json).
func (s Stats) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// splitModules splits QEMU's -initrd list for multiboot: modules are
// separated by commas (",," is a literal comma) and each is a path, then
// optional arguments after a space that become the module's string.
func splitModules(list string) []string {
	if list == "" {
		return nil
	}
	var mods []string
	var cur strings.Builder
	for i := 0; i < len(list); i++ {
		if list[i] == ',' {
			if i+1 < len(list) && list[i+1] == ',' {
				cur.WriteByte(',')
				i++
				continue
			}
			mods = append(mods, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(list[i])
	}
	return append(mods, cur.String())
}

// mmioBus lets guest-physical accesses that no RAM backs reach the MMIO bus.
type mmioBus struct{ bus *devices.Bus }

func (b mmioBus) ReadMMIO(addr mmu.GPA, data []byte) bool  { return b.bus.Read(uint64(addr), data) }
func (b mmioBus) WriteMMIO(addr mmu.GPA, data []byte) bool { return b.bus.Write(uint64(addr), data) }

// isaIRQs fans the ISA interrupt lines out to the 8259s and the IOAPIC:
// IRQ 0 arrives on IOAPIC pin 2 (the ACPI MADT interrupt-source override),
// and the cascade line IRQ 2 is not wired to the IOAPIC.
type isaIRQs struct {
	pic    *devices.PIC
	ioapic *devices.IOAPIC
}

func (f *isaIRQs) SetIRQ(irq int, level bool) {
	if f.pic != nil {
		f.pic.SetIRQ(irq, level)
	}
	if f.ioapic == nil || irq == 2 {
		return
	}
	pin := irq
	if irq == 0 {
		pin = 2
	}
	f.ioapic.SetIRQ(pin, level)
}
