package hv

import (
	"math/bits"
	"time"

	"github.com/gemu-project/gemu/devices"
)

// TSCHz is the rate of the guest's time-stamp counter, and CrystalHz the
// local APIC timer's input clock; CPUID leaves 15H/16H report both, so the
// kernel's TSC and APIC timer calibrations agree with the PIT and PM timer.
const (
	TSCHz     = 1_000_000_000
	CrystalHz = devices.LAPICBusFrequency
)

// MaxICountShift bounds --icount: 2^10 ns (about 1 µs) per instruction.
const MaxICountShift = 10

// icountEpoch is what the RTC shows at start under --icount, so that a run
// does not depend on the host's date either.
var icountEpoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// machineClock is the virtual time of every timer (PIT, RTC, PM timer,
// local APIC) and of the TSC. By default it follows the host's monotonic
// clock. With icount it is the instruction count: each instruction retired
// takes 2^shift ns, and while the CPU is halted time jumps to the next timer
// deadline (QEMU's -icount shift=N,sleep=off), so a run is reproducible
// instruction for instruction.
type machineClock struct {
	host   *devices.HostClock
	icount bool
	shift  uint
	insns  *uint64       // the CPU's instructions retired
	idle   time.Duration // icount: time skipped while halted
}

func (k *machineClock) Now() time.Duration {
	if k.icount {
		return time.Duration(*k.insns<<k.shift) + k.idle
	}
	return k.host.Now()
}

// tsc is the time-stamp counter: virtual time at TSCHz.
func (k *machineClock) tsc() uint64 {
	hi, lo := bits.Mul64(uint64(k.Now()), TSCHz)
	q, _ := bits.Div64(hi%uint64(time.Second), lo, uint64(time.Second))
	return q
}

// instructionsUntil is how many instructions run before virtual time reaches
// the deadline (icount only; at least 1).
func (k *machineClock) instructionsUntil(now, deadline time.Duration) uint64 {
	if deadline <= now {
		return 1
	}
	step := time.Duration(1) << k.shift
	return uint64((deadline - now + step - 1) / step)
}

// skipTo moves icount time forward to t while the CPU is idle.
func (k *machineClock) skipTo(now, t time.Duration) {
	if t > now {
		k.idle += t - now
	}
}
