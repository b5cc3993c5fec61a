package hv

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"time"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
)

// pv mode: the same engine, but the guest is told that it runs on KVM and
// gets KVM's paravirtual interface, so that an unmodified Linux takes its
// paravirtual paths (kvm-clock, PV EOI, no I/O-port delays). The ABI is
// Linux's Documentation/virt/kvm/x86/{cpuid,msr,hypercalls}.rst; the guest's
// side is arch/x86/kernel/kvm.c and kvmclock.c.
//
// What is offered, and why not more: the features below are those that make
// a difference to a single-vCPU guest and that are implemented whole. Steal
// time, PV TLB flush, PV spinlocks (PV_UNHALT) and async page faults are not
// offered: Linux 6.1 uses PV TLB flush, PV IPIs, PV sched-yield and PV
// spinlocks only with more than one possible CPU, and there is no steal to
// report nor any host paging to hide.

// CPUID leaves of the hypervisor range (cpuid.rst).
const (
	kvmCPUIDSignature = 0x40000000 // EAX: highest leaf; EBX ECX EDX: "KVMKVMKVM\0\0\0"
	kvmCPUIDFeatures  = 0x40000001 // EAX: KVM_FEATURE_* bits; EDX: KVM_HINTS_* bits
	kvmCPUIDLast      = 0x400000FF // the end of the range a hypervisor owns
)

// KVM_FEATURE_* bits of leaf 40000001H EAX.
const (
	kvmFeatureNopIODelay        = 1 << 1  // port 0x80 delays may be skipped
	kvmFeatureClocksource2      = 1 << 3  // kvm-clock at MSRs 4B564D00H/4B564D01H
	kvmFeaturePVEOI             = 1 << 6  // EOI by clearing a bit in guest memory
	kvmFeaturePVSendIPI         = 1 << 11 // KVM_HC_SEND_IPI
	kvmFeaturePVSchedYield      = 1 << 13 // KVM_HC_SCHED_YIELD
	kvmFeatureClocksourceStable = 1 << 24 // PVCLOCK_TSC_STABLE_BIT may be trusted

	kvmFeatures = kvmFeatureNopIODelay | kvmFeatureClocksource2 | kvmFeaturePVEOI |
		kvmFeaturePVSendIPI | kvmFeaturePVSchedYield | kvmFeatureClocksourceStable
)

// kvmSignature is "KVMKVMKVM\0\0\0" as EBX, ECX, EDX.
var kvmSignature = [3]uint32{0x4B4D564B, 0x564B4D56, 0x0000004D}

// Paravirtual MSRs (msr.rst).
const (
	msrKVMWallClock  = 0x4B564D00 // MSR_KVM_WALL_CLOCK_NEW: GPA of a pvclock_wall_clock
	msrKVMSystemTime = 0x4B564D01 // MSR_KVM_SYSTEM_TIME_NEW: GPA of a pvclock_vcpu_time_info | enable
	msrKVMAsyncPF    = 0x4B564D02 // MSR_KVM_ASYNC_PF_EN: not offered; writes are kept and ignored
	msrKVMPVEOI      = 0x4B564D04 // MSR_KVM_PV_EOI_EN: GPA of the PV EOI word | enable

	kvmMSREnabled = 1 // bit 0 of the MSRs above: enable
	kvmPVEOIBit   = 1 // bit 0 of the PV EOI word: "the EOI is pending; clear me instead"
)

// Hypercall numbers (include/uapi/linux/kvm_para.h) and results.
const (
	kvmHCVAPICPollIRQ = 1
	kvmHCKickCPU      = 5
	kvmHCClockPairing = 9
	kvmHCSendIPI      = 10
	kvmHCSchedYield   = 11
)

// Hypercall errors, returned negated, for KVM's calls and gemu's alike:
// Linux's numbers (include/uapi/asm-generic/errno-base.h) and KVM_ENOSYS
// (include/uapi/linux/kvm_para.h).
const (
	errEPERM  = 1
	errEIO    = 5
	errEFAULT = 14
	errENODEV = 19
	errEINVAL = 22
	errEROFS  = 30
	kvmENOSYS = 1000
)

var hypercallNames = map[uint64]string{
	kvmHCVAPICPollIRQ: "vapic_poll_irq",
	2:                 "mmu_op",
	3:                 "features",
	kvmHCKickCPU:      "kick_cpu",
	kvmHCClockPairing: "clock_pairing",
	kvmHCSendIPI:      "send_ipi",
	kvmHCSchedYield:   "sched_yield",
	12:                "map_gpa_range",
}

// Local APIC register offsets and ICR bits used here (SDM Vol. 3A §11.4.1,
// Table 11-1; §11.6.1, Figure 11-12).
const (
	lapicRegID        = 0x20
	lapicRegEOI       = 0xB0
	lapicRegISR       = 0x100
	lapicRegTMR       = 0x180
	icrDestLogical    = 1 << 11
	icrShorthand      = 3 << 18
	icrLevelTriggered = 1 << 15
)

// kvmPV is KVM's paravirtual interface on one vCPU. It is the CPU's
// Hypervisor, its machine MSRs (ahead of the local APIC's) and its interrupt
// controller (around the local APIC, for PV EOI).
type kvmPV struct {
	mem   *mmu.Memory
	clock *machineClock
	lapic *devices.LAPIC
	cpu   *cpu.CPU
	next  cpu.MSRs // the machine's other MSRs

	// The paravirtual MSRs as last written.
	wallClock, systemTime, asyncPF, pvEOI uint64
	tscShift                              int8
	tscMul                                uint32

	// PV EOI (KVM's KVM_APIC_PV_EOI_PENDING): the word at pvEOI has its bit
	// set for eoiVector, the interrupt in service; the guest clears the bit
	// instead of writing the EOI register.
	eoiPending bool
	eoiVector  uint8
	eoiWord    []byte // the word's first byte, read in place

	hypercalls map[uint64]uint64 // calls by number
	notify     func()            // the CPU's interrupt hint (NotifyPending)

	gemu *gemuHC // gemu's own hypercalls and virtual interrupt flag (gemuhc.go)
}

// enablePV turns the machine's CPU into a KVM guest's (Config.Paravirt).
func (m *Machine) enablePV() {
	k := &kvmPV{mem: m.Mem, clock: m.clock, lapic: m.LAPIC, cpu: m.CPU, next: m.CPU.MachineMSRs, hypercalls: map[uint64]uint64{}}
	k.tscShift, k.tscMul = pvclockScale(TSCHz)
	k.gemu = m.newGemuHC()
	m.pv = k
	m.CPU.Hypervisor = k
	m.CPU.MachineMSRs = k
	m.CPU.SetInterrupts(k)
}

// hypercallCounts returns a copy of the hypercall counters (nil in full mode).
func (m *Machine) hypercallCounts() map[uint64]uint64 {
	if m.pv == nil {
		return nil
	}
	out := make(map[uint64]uint64, len(m.pv.hypercalls))
	for nr, n := range m.pv.hypercalls {
		out[nr] = n
	}
	return out
}

// CPUID answers the hypervisor range 40000000H–400000FFH (cpuid.rst): the
// signature, then the features; no hints (EDX 0: not KVM_HINTS_REALTIME).
func (k *kvmPV) CPUID(leaf, sub uint32) (a, b, c, d uint32, ok bool) {
	switch {
	case leaf == kvmCPUIDSignature:
		return kvmCPUIDFeatures, kvmSignature[0], kvmSignature[1], kvmSignature[2], true
	case leaf == kvmCPUIDFeatures:
		return kvmFeatures, 0, 0, 0, true
	case leaf > kvmCPUIDFeatures && leaf <= kvmCPUIDLast:
		return 0, 0, 0, 0, true
	}
	return 0, 0, 0, 0, false
}

// ReadMSR returns a paravirtual MSR as written, or asks the next MSRs.
func (k *kvmPV) ReadMSR(n uint32) (uint64, bool) {
	switch n {
	case msrKVMWallClock:
		return k.wallClock, true
	case msrKVMSystemTime:
		return k.systemTime, true
	case msrKVMAsyncPF:
		return k.asyncPF, true
	case msrKVMPVEOI:
		return k.pvEOI, true
	}
	if k.next == nil {
		return 0, false
	}
	return k.next.ReadMSR(n)
}

// WriteMSR serves the paravirtual MSRs; an address whose structure is not
// all in RAM is refused (#GP), and so is a misaligned PV EOI word (as KVM
// does).
func (k *kvmPV) WriteMSR(n uint32, v uint64) bool {
	switch n {
	case msrKVMWallClock:
		if !k.mem.IsRAM(mmu.GPA(v), pvclockWallClockSize) {
			return false
		}
		k.wallClock = v
		k.writeWallClock()
		return true
	case msrKVMSystemTime:
		if v&kvmMSREnabled != 0 && !k.mem.IsRAM(mmu.GPA(v&^kvmMSREnabled), pvclockTimeInfoSize) {
			return false
		}
		k.systemTime = v
		k.writeTimeInfo()
		return true
	case msrKVMAsyncPF:
		k.asyncPF = v
		return true
	case msrKVMPVEOI:
		return k.setPVEOI(v)
	}
	if k.next == nil {
		return false
	}
	return k.next.WriteMSR(n, v)
}

// TSCChanged refreshes kvm-clock after the guest wrote IA32_TSC.
func (k *kvmPV) TSCChanged(*cpu.CPU) { k.writeTimeInfo() }

// bootTime is the wall-clock time at which the machine clock read 0: what
// the RTC counts from.
func (k *kvmPV) bootTime() time.Time {
	if k.clock.icount {
		return icountEpoch
	}
	return time.Now().Add(-k.clock.Now())
}

// writeVersioned writes a pvclock structure whose first word is its version
// the way the guest expects to see it change: odd while the rest is being
// written, then even again (KVM's kvm_write_wall_clock and
// kvm_setup_guest_pvclock).
func (k *kvmPV) writeVersioned(addr mmu.GPA, b []byte) {
	var old [4]byte
	_ = k.mem.ReadAt(addr, old[:])
	v := binary.LittleEndian.Uint32(old[:])
	if v&1 != 0 {
		v++
	}
	v++
	binary.LittleEndian.PutUint32(b, v)
	_ = k.mem.WriteAt(addr, b[:4])
	_ = k.mem.WriteAt(addr+4, b[4:])
	binary.LittleEndian.PutUint32(b, v+1)
	_ = k.mem.WriteAt(addr, b[:4])
}

// writeWallClock fills the pvclock_wall_clock at MSR_KVM_WALL_CLOCK_NEW.
func (k *kvmPV) writeWallClock() {
	k.writeVersioned(mmu.GPA(k.wallClock), encodeWallClock(0, k.bootTime()))
}

// writeTimeInfo fills the pvclock_vcpu_time_info at MSR_KVM_SYSTEM_TIME_NEW,
// if enabled: the guest TSC and the machine clock of this instant. The TSC
// runs at TSCHz from the same clock, so the guest's formula gives the
// machine clock from then on without another update (exactly at 1 GHz).
func (k *kvmPV) writeTimeInfo() {
	if k.systemTime&kvmMSREnabled == 0 {
		return
	}
	now := k.clock.Now()
	ti := pvclockTimeInfo{
		TSCTimestamp: k.clock.tscAt(now) + k.cpu.TSCOffset(),
		SystemTime:   uint64(now),
		Mul:          k.tscMul,
		Shift:        k.tscShift,
		Flags:        pvclockTSCStable,
	}
	k.writeVersioned(mmu.GPA(k.systemTime&^kvmMSREnabled), ti.encode(0))
}

// PV EOI (msr.rst, MSR_KVM_PV_EOI_EN). When an edge-triggered interrupt is
// taken from the local APIC, the word's bit 0 is set; the guest's EOI then
// clears the bit (Linux kvm_guest_apic_eoi_write) instead of writing the
// EOI register, and the EOI is made here, when the word is next looked at.
// KVM looks at each VM exit and sets the bit only when no other interrupt
// waits in IRR, since it cannot see the guest's EOI before the next exit;
// here the CPU asks Pending before every block it runs with IF set, and
// Pending looks at the word, so an interrupt the EOI unblocks is taken as
// soon as it would be with a real EOI.

// setPVEOI writes MSR_KVM_PV_EOI_EN: bit 0 enables, bits 63:2 are the word's
// address (4-byte aligned, or #GP, as in KVM).
func (k *kvmPV) setPVEOI(v uint64) bool {
	addr := mmu.GPA(v &^ kvmMSREnabled)
	if addr&3 != 0 {
		return false
	}
	var word []byte
	if v&kvmMSREnabled != 0 {
		w, err := k.mem.Slice(addr, 1)
		if err != nil {
			return false
		}
		word = w
	}
	k.syncEOI()
	k.pvEOI, k.eoiWord = v, word
	return true
}

// syncEOI settles a pending PV EOI (KVM's apic_sync_pv_eoi_from_guest): if
// the guest cleared the bit, the EOI is made; if not, the bit is cleared and
// the guest will write the EOI register itself.
func (k *kvmPV) syncEOI() {
	if !k.eoiPending {
		return
	}
	k.eoiPending = false
	if k.eoiWord[0]&kvmPVEOIBit != 0 {
		k.writeEOIWord(0)
		return
	}
	k.apicEOI()
}

// pollEOI makes the EOI if the guest has cleared the bit, and otherwise
// leaves the bit for the guest.
func (k *kvmPV) pollEOI() {
	if k.eoiWord[0]&kvmPVEOIBit == 0 {
		k.eoiPending = false
		k.apicEOI()
	}
}

// apicEOI makes the guest's EOI on the local APIC, unless the vector is no
// longer the one in service (the APIC was reset in between).
func (k *kvmPV) apicEOI() {
	isr := k.apicBits(lapicRegISR)
	if highestBit(&isr) == int(k.eoiVector) {
		k.lapic.Write(lapicRegEOI, zeroWord[:])
	}
}

var zeroWord [4]byte // what an EOI write carries

func (k *kvmPV) writeEOIWord(v byte) {
	_ = k.mem.WriteAt(mmu.GPA(k.pvEOI&^kvmMSREnabled), []byte{v})
}

// apicBits reads one of the local APIC's 256-bit registers (ISR, TMR, IRR).
func (k *kvmPV) apicBits(reg uint64) [8]uint32 {
	var r [8]uint32
	var b [4]byte
	for i := range r {
		k.lapic.Read(reg+uint64(i)*16, b[:])
		r[i] = binary.LittleEndian.Uint32(b[:])
	}
	return r
}

func highestBit(r *[8]uint32) int {
	for i := 7; i >= 0; i-- {
		if r[i] != 0 {
			return i*32 + 31 - bits.LeadingZeros32(r[i])
		}
	}
	return -1
}

// NotifyPending passes the CPU's hint to the local APIC (and its 8259), and
// keeps it to ask for polling while a PV EOI or the virtual IF is in play
// (cpu.InterruptNotifier).
func (k *kvmPV) NotifyPending(f func()) {
	k.notify = f
	k.lapic.NotifyPending(f)
}

// Pending is the local APIC's, after a PV EOI the guest has made, held
// back while gemu's virtual interrupt flag masks it (gemuhc.go).
func (k *kvmPV) Pending() bool {
	if !k.eoiPending && (k.gemu == nil || k.gemu.vcpuInfo == nil) {
		return k.lapic.Pending()
	}
	// A PV EOI and the virtual interrupt flag are written to guest memory
	// without an exit: while either is in play, ask at every block.
	if k.notify != nil {
		k.notify()
	}
	if k.eoiPending {
		k.pollEOI()
	}
	return k.gemu.deliverable(k.lapic.Pending())
}

// Acknowledge is the local APIC's INTA; with PV EOI enabled, an
// edge-triggered vector that the APIC put in service gets the PV EOI bit
// (KVM's apic_sync_pv_eoi_to_guest). ExtINT vectors from the 8259 do not go
// through ISR and keep their EOI to the 8259.
func (k *kvmPV) Acknowledge() uint8 {
	if k.pvEOI&kvmMSREnabled == 0 {
		return k.lapic.Acknowledge()
	}
	k.syncEOI()
	before := k.apicBits(lapicRegISR)
	v := k.lapic.Acknowledge()
	after := k.apicBits(lapicRegISR)
	w, bit := v>>5, uint32(1)<<(v&31)
	if before[w]&bit != 0 || after[w]&bit == 0 || highestBit(&after) != int(v) {
		return v // not put in service by this acknowledge
	}
	if tmr := k.apicBits(lapicRegTMR); tmr[w]&bit != 0 {
		return v // level-triggered: the EOI must reach the IOAPIC
	}
	k.writeEOIWord(kvmPVEOIBit)
	k.eoiPending, k.eoiVector = true, v
	return v
}

// Hypercall is VMCALL/VMMCALL (hypercalls.rst): RAX the number, RBX RCX RDX
// RSI the arguments, the result in RAX; outside 64-bit mode all are 32-bit.
// At CPL > 0 the result is -KVM_EPERM, for an unknown number -KVM_ENOSYS.
// Numbers 47450000H-4745FFFFH are gemu's own (gemuhc.go).
func (k *kvmPV) Hypercall(c *cpu.CPU) {
	nr, a0, a1, a2, a3 := c.R[cpu.EAX], c.R[cpu.EBX], c.R[cpu.ECX], c.R[cpu.EDX], c.R[cpu.ESI]
	long := c.Mode() == 64
	if !long {
		nr, a0, a1, a2, a3 = nr&0xFFFFFFFF, a0&0xFFFFFFFF, a1&0xFFFFFFFF, a2&0xFFFFFFFF, a3&0xFFFFFFFF
	}
	k.hypercalls[nr]++
	var ret int64
	switch {
	case c.CPL() != 0:
		ret = -errEPERM
	case nr == kvmHCVAPICPollIRQ:
		ret = 0 // interrupts are checked before the next block anyway
	case nr == kvmHCKickCPU, nr == kvmHCSchedYield:
		ret = 0 // one vCPU: nobody to wake or yield to
	case nr == kvmHCSendIPI:
		ret = k.sendIPI(a0, a1, uint32(a2), a3, long)
	case isGemuHC(nr):
		ret = k.gemu.call(c, nr, a0, a1, a2, a3) // gemuhc.go
	default:
		ret = -kvmENOSYS
	}
	if long {
		c.R[cpu.EAX] = uint64(ret)
	} else {
		c.R[cpu.EAX] = uint64(uint32(ret))
	}
}

// sendIPI is KVM_HC_SEND_IPI: the interrupt the ICR value describes (fixed
// or NMI, physical destination, no shorthand) to the APIC IDs min+i for
// each bit i set in the bitmap low:high (64 bits each in 64-bit mode, 32
// otherwise). It returns how many APICs accepted it.
func (k *kvmPV) sendIPI(low, high uint64, min uint32, icr uint64, long bool) int64 {
	if icr&(icrDestLogical|icrShorthand) != 0 {
		return -errEINVAL
	}
	msg := devices.APICMessage{Vector: uint8(icr), Mode: uint8(icr>>8) & 7, Level: icr&icrLevelTriggered != 0}
	width := uint64(32)
	if long {
		width = 64
	}
	var idb [4]byte
	k.lapic.Read(lapicRegID, idb[:])
	id := uint64(idb[3]) // the only APIC
	var n int64
	for half, bitmap := range [2]uint64{low, high} {
		first := uint64(min + uint32(half)*uint32(width)) // 32-bit, wrapping, as in KVM
		if id < first || id >= first+width || bitmap>>(id-first)&1 == 0 {
			continue
		}
		msg.Dest = uint8(id)
		if k.lapic.Send(msg) {
			n++
		}
	}
	return n
}

// writeHypercalls prints the hypercall counters, by number.
func writeHypercalls(w io.Writer, counts map[uint64]uint64) {
	nrs := make([]uint64, 0, len(counts))
	for nr := range counts {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	for _, nr := range nrs {
		name := hypercallNames[nr]
		if name == "" {
			name = "unknown"
		}
		fmt.Fprintf(w, "hypercall %-6d %-14s %d\n", nr, name, counts[nr])
	}
}
