package devices

import (
	"io"
	"sort"
	"time"
)

// PCConfig says how to build the legacy PC devices.
type PCConfig struct {
	MemSize   uint64       // guest RAM in bytes, for the CMOS and fw_cfg
	CPUs      int          // for the CMOS and fw_cfg; 0 means 1
	Clock     Clock        // virtual time; nil: the host's monotonic clock
	StartTime time.Time    // what the RTC shows at start; zero: now
	SerialOut io.Writer    // COM1's output; nil discards it
	Disk      BlockBackend // the primary master disk; nil: no ATA channel
	Reset     func()       // the reset line (i8042, port 0x92); may be nil
	Exit      func(int)    // isa-debug-exit; may be nil
	DebugCon  io.Writer    // isa-debugcon at 0xE9; nil: no device there
	IRQ       IRQSink      // the devices' IRQ sink instead of the PIC (an IOAPIC, tests); nil: the PIC
	PowerOff  func()       // ACPI S5 soft-off (SLP_EN at 0x604); may be nil
}

// PC is the legacy PC/AT platform on a port I/O bus. It implements the
// CPU's port I/O interface (In, Out); PC.PIC is its interrupt interface
// (Pending, Acknowledge). Like the devices, it belongs to one goroutine (the
// vCPU's, or whoever holds the machine's lock); only COM1.Input may be
// called from elsewhere.
type PC struct {
	PIO *Bus

	PIC       *PIC
	PIT       *PIT
	PortB     *PortB // 0x61
	PortA     *PortA // 0x92
	RTC       *RTC
	COM1      *UART
	I8042     *I8042
	POST      *PostCode
	DebugExit *DebugExit
	FwCfg     *FwCfg
	ATA       *ATA // nil without a disk
	ACPIPM    *ACPIPM

	clock    Clock
	scratch  [4]byte
	accesses *[1 << 16]uint64
}

// NewPC builds the devices and maps them on a port I/O bus named "pio".
func NewPC(cfg PCConfig) (*PC, error) {
	clock := cfg.Clock
	if clock == nil {
		clock = NewHostClock()
	}
	start := cfg.StartTime
	if start.IsZero() {
		start = time.Now()
	}
	cpus := max(cfg.CPUs, 1)

	pc := &PC{PIO: NewBus("pio"), PIC: NewPIC(), clock: clock, accesses: new([1 << 16]uint64)}
	var irq IRQSink = pc.PIC
	if cfg.IRQ != nil {
		irq = cfg.IRQ
	}
	pc.PIT = NewPIT(clock, irq)
	pc.PortB = NewPortB(pc.PIT)
	pc.PortA = NewPortA(cfg.Reset)
	pc.RTC = NewRTC(clock, irq, start, cfg.MemSize)
	pc.RTC.SetCPUs(cpus)
	pc.COM1 = NewUART(cfg.SerialOut, irq, COM1IRQ)
	pc.I8042 = NewI8042(cfg.Reset, irq)
	pc.POST = NewPostCode()
	pc.DebugExit = NewDebugExit(cfg.Exit)
	pc.FwCfg = NewFwCfg(cpus, cfg.MemSize)
	pc.ACPIPM = NewACPIPM(clock, irq, cfg.PowerOff)

	maps := []struct {
		base, size uint64
		name       string
		dev        Device
	}{
		{PICMasterBase, 2, "pic-master", pc.PIC.Master()},
		{PITBase, 4, "pit", pc.PIT},
		{I8042DataPort, 1, "i8042-data", pc.I8042},
		{PortBBase, 1, "port-b", pc.PortB},
		{I8042CommandPort, 1, "i8042-command", i8042CommandWindow{pc.I8042}},
		{RTCBase, 2, "rtc", pc.RTC},
		{POSTPort, 1, "post", pc.POST},
		{PortABase, 1, "port-a", pc.PortA},
		{PICSlaveBase, 2, "pic-slave", pc.PIC.Slave()},
		{DebugExitPort, 4, "debug-exit", pc.DebugExit},
		{COM1Base, 8, "com1", pc.COM1},
		{ELCRBase, 2, "elcr", pc.PIC.ELCR()},
		{FwCfgBase, 2, "fw-cfg", pc.FwCfg},
		{ACPIPMBase, ACPIPMSize, "acpi-pm", pc.ACPIPM},
	}
	for _, m := range maps {
		if err := pc.PIO.Register(m.base, m.size, m.name, m.dev); err != nil {
			return nil, err
		}
	}
	if cfg.DebugCon != nil {
		if err := pc.PIO.Register(DebugConPort, 1, "debugcon", NewDebugCon(cfg.DebugCon)); err != nil {
			return nil, err
		}
	}
	if cfg.Disk != nil {
		pc.ATA = NewATA(cfg.Disk, irq)
		if err := pc.PIO.Register(ATACommandBase, 8, "ata0", pc.ATA); err != nil {
			return nil, err
		}
		if err := pc.PIO.Register(ATAControlBase, 1, "ata0-control", pc.ATA.Control()); err != nil {
			return nil, err
		}
	}
	return pc, nil
}

// i8042CommandWindow maps port 0x64 alone onto the controller's offset 4,
// so that 0x61–0x63 stay free for port B.
type i8042CommandWindow struct{ k *I8042 }

func (w i8042CommandWindow) Read(offset uint64, data []byte)  { w.k.Read(offset+4, data) }
func (w i8042CommandWindow) Write(offset uint64, data []byte) { w.k.Write(offset+4, data) }

// In performs an IN of size 1, 2 or 4 bytes. Unclaimed ports read all ones,
// as an ISA bus with nothing answering.
func (pc *PC) In(port uint16, size int) uint32 {
	pc.accesses[port]++
	data := pc.access(size)
	if !pc.PIO.Read(uint64(port), data) {
		return 0xFFFFFFFF >> (32 - 8*len(data))
	}
	return uint32(littleEndian(data))
}

// Out performs an OUT of size 1, 2 or 4 bytes; unclaimed ports drop it.
func (pc *PC) Out(port uint16, size int, v uint32) {
	pc.accesses[port]++
	data := pc.access(size)
	putLittleEndian(data, uint64(v))
	pc.PIO.Write(uint64(port), data)
}

// access returns the scratch buffer for an access of size bytes (sizes
// other than 1, 2 and 4 are treated as 4).
func (pc *PC) access(size int) []byte {
	if size != 1 && size != 2 {
		size = 4
	}
	return pc.scratch[:size]
}

// Advance runs the timers up to now and returns the earliest next deadline
// (NoDeadline if none). The machine calls it between guest blocks and
// before sleeping on HLT; with nothing due it costs a few compares. The
// deadline can move earlier after guest port I/O (a reprogrammed timer), so
// a machine that skips calls until the deadline must call it after I/O too.
func (pc *PC) Advance(now time.Duration) time.Duration {
	return min(pc.PIT.Advance(now), pc.RTC.Advance(now), pc.ACPIPM.Advance(now))
}

// Poll moves host serial input into COM1; nearly free when there is none.
func (pc *PC) Poll() { pc.COM1.Poll() }

// PortCount is the number of accesses to one port.
type PortCount struct {
	Port  uint16
	Name  string // the device's name, "" if unclaimed
	Count uint64
}

// PortCounts returns the ports accessed so far, most accessed first.
func (pc *PC) PortCounts() []PortCount {
	var out []PortCount
	for port, n := range pc.accesses {
		if n != 0 {
			out = append(out, PortCount{uint16(port), pc.PIO.Name(uint64(port)), n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// Accesses returns the number of IN and OUT instructions on port.
func (pc *PC) Accesses(port uint16) uint64 { return pc.accesses[port] }
