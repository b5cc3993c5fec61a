// Package hv is the hypervisor: it builds a Machine from a Config, runs its
// vCPU, handles what the engine stops for (halt, shutdown, debug exit,
// limits) and keeps the statistics that every mode reports.
package hv

import (
	"fmt"

	"github.com/gemu-project/gemu/devices"
	"io"
	"strconv"
	"strings"
	"time"
)

// Config describes a machine and how to run it.
type Config struct {
	Kernel string // kernel image: multiboot, ELF32 or flat binary
	Initrd string // multiboot modules, QEMU's syntax: "path args,path2" (",," is a comma)
	Append string // kernel command line
	Disk   string // raw disk image on the primary IDE channel (booted by the BIOS without Kernel)
	Drives []Drive
	// Nets are the network cards, each on its host link (--net); NetDump,
	// if set, records every frame of the first card in a pcap file (the
	// others in NetDump.1, .2…).
	Nets    []devices.NetSpec
	NetDump string
	MemSize uint64 // bytes of RAM

	// Demo is the image booted when neither Kernel nor Disk is given.
	Demo []byte

	SerialOut io.Writer // guest serial output; nil discards it
	SerialIn  io.Reader // guest serial input; nil means none
	DebugCon  io.Writer // QEMU's isa-debugcon at port 0xE9; nil: no device
	Trace     io.Writer // disassembled trace of every instruction, or nil
	// Log receives the machine's own messages, a line each (a device the
	// guest programmed wrongly, a network link that connected); nil:
	// standard error. Several goroutines may write to it.
	Log io.Writer
	// TraceUser delays the trace until the guest first runs at CPL 3 (user
	// space), so that a kernel's boot is not traced.
	TraceUser bool

	// Paravirt shows the guest that it runs on a hypervisor, with KVM's
	// paravirtual interface (pv.go): CPUID leaves, kvm-clock, PV EOI and
	// hypercalls (--mode pv). Without it the hypervisor stays hidden.
	Paravirt bool

	// ICount makes virtual time the instruction count: 2^ICountShift ns
	// per instruction, idle time skipped; runs are then reproducible.
	ICount      bool
	ICountShift uint

	// NoJIT keeps every block interpreted: no native code for hot blocks
	// (gemu run --jit=off; cpu/jit.go).
	NoJIT bool

	// HotBlocks > 0 profiles the translated blocks: Result.HotBlocks has
	// the HotBlocks that retired the most instructions (gemu run
	// --hotblocks, as QEMU's hotblocks plugin).
	HotBlocks int

	MaxInstructions uint64        // stop after this many instructions (0: no limit)
	Timeout         time.Duration // stop after this much host time (0: none)
}

// ParseMemSize parses QEMU-style sizes: "64M", "1G", "65536K", or bytes.
func ParseMemSize(s string) (uint64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	mult := uint64(1 << 20) // a bare number is MiB, as in QEMU's -m
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	case strings.HasSuffix(t, "B"):
		mult, t = 1, t[:len(t)-1]
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad memory size %q (want e.g. 64M or 1G)", s)
	}
	if n > (1<<40)/mult {
		return 0, fmt.Errorf("memory size %q is too large", s)
	}
	return n * mult, nil
}
