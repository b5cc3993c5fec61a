package hv

import (
	"encoding/binary"
	"math/bits"
	"time"
)

// The pvclock ABI shared by KVM and Xen (Linux arch/x86/include/asm/
// pvclock-abi.h; Documentation/virt/kvm/x86/msr.rst, MSR_KVM_WALL_CLOCK_NEW
// and MSR_KVM_SYSTEM_TIME_NEW). The guest reads time from memory without
// calling the hypervisor:
//
//	ns = system_time + (((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32
//
// (a right shift when tsc_shift < 0), retrying while version is odd or
// changes under it.

// pvclockTSCStable is PVCLOCK_TSC_STABLE_BIT in flags: the TSC is the same
// on every vCPU and never goes back, so the guest need not keep its own
// maximum of the readings.
const pvclockTSCStable = 1 << 0

// Sizes of the two structures in guest memory (both packed).
const (
	pvclockTimeInfoSize  = 32 // struct pvclock_vcpu_time_info
	pvclockWallClockSize = 12 // struct pvclock_wall_clock
)

// pvclockTimeInfo is struct pvclock_vcpu_time_info without its version:
// the TSC and system time of one instant, and the scale from TSC ticks to
// nanoseconds.
type pvclockTimeInfo struct {
	TSCTimestamp uint64
	SystemTime   uint64 // nanoseconds of the machine clock
	Mul          uint32 // tsc_to_system_mul
	Shift        int8   // tsc_shift
	Flags        uint8
}

// encode lays the structure out with the given version:
// version u32, pad u32, tsc_timestamp u64, system_time u64,
// tsc_to_system_mul u32, tsc_shift s8, flags u8, pad[2].
func (ti pvclockTimeInfo) encode(version uint32) []byte {
	b := make([]byte, pvclockTimeInfoSize)
	binary.LittleEndian.PutUint32(b[0:], version)
	binary.LittleEndian.PutUint64(b[8:], ti.TSCTimestamp)
	binary.LittleEndian.PutUint64(b[16:], ti.SystemTime)
	binary.LittleEndian.PutUint32(b[24:], ti.Mul)
	b[28] = byte(ti.Shift)
	b[29] = ti.Flags
	return b
}

// decodePvclockTimeInfo is the inverse of encode; it returns the version too.
func decodePvclockTimeInfo(b []byte) (pvclockTimeInfo, uint32) {
	return pvclockTimeInfo{
		TSCTimestamp: binary.LittleEndian.Uint64(b[8:]),
		SystemTime:   binary.LittleEndian.Uint64(b[16:]),
		Mul:          binary.LittleEndian.Uint32(b[24:]),
		Shift:        int8(b[28]),
		Flags:        b[29],
	}, binary.LittleEndian.Uint32(b[0:])
}

// read is the guest's side (Linux pvclock_scale_delta and
// __pvclock_read_cycles): the time at TSC value tsc.
func (ti pvclockTimeInfo) read(tsc uint64) uint64 {
	delta := tsc - ti.TSCTimestamp
	if ti.Shift < 0 {
		delta >>= uint(-ti.Shift)
	} else {
		delta <<= uint(ti.Shift)
	}
	hi, lo := bits.Mul64(delta, uint64(ti.Mul))
	return ti.SystemTime + (hi<<32 | lo>>32)
}

// pvclockScale returns the tsc_shift and tsc_to_system_mul that turn ticks
// of an hz clock into nanoseconds: 1e9/hz = mul/2^32 × 2^shift, with mul in
// [2^31, 2^32) for the most precision (KVM's kvm_get_time_scale makes the
// same choice). For a 1 GHz TSC that is shift 1, mul 2^31: exact.
func pvclockScale(hz uint64) (shift int8, mul uint32) {
	const ns = uint64(time.Second)
	// below(s) reports whether ns/hz < 2^s, compared in 128 bits.
	below := func(s int) bool {
		var l, r uint64 = 1, 1
		if s < 0 {
			l <<= uint(-s)
		} else {
			r <<= uint(s)
		}
		lh, ll := bits.Mul64(ns, l)
		rh, rl := bits.Mul64(hz, r)
		return lh < rh || lh == rh && ll < rl
	}
	s := 0
	for !below(s) && s < 31 {
		s++
	}
	for below(s-1) && s > -31 {
		s--
	}
	// Now 2^(s-1) ≤ ns/hz < 2^s, and mul = ns × 2^(32-s) / hz < 2^32.
	hi, lo := bits.Mul64(ns, 1<<uint(32-s))
	q, _ := bits.Div64(hi, lo, hz)
	return int8(s), uint32(q)
}

// tscAt is the TSC at virtual time t, before the guest's offset: what tsc()
// reads when Now() is t.
func (k *machineClock) tscAt(t time.Duration) uint64 {
	hi, lo := bits.Mul64(uint64(t), TSCHz)
	q, _ := bits.Div64(hi%uint64(time.Second), lo, uint64(time.Second))
	return q
}

// encodeWallClock lays out struct pvclock_wall_clock: version, then the
// seconds and nanoseconds of the wall-clock time at which system_time was 0.
func encodeWallClock(version uint32, boot time.Time) []byte {
	b := make([]byte, pvclockWallClockSize)
	binary.LittleEndian.PutUint32(b[0:], version)
	binary.LittleEndian.PutUint32(b[4:], uint32(boot.Unix()))
	binary.LittleEndian.PutUint32(b[8:], uint32(boot.Nanosecond()))
	return b
}
