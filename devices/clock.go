package devices

import (
	"math"
	"math/bits"
	"time"
)

// Clock is the machine's virtual time: the time elapsed since the machine
// started. The machine supplies it, from host time or from the instruction
// count; timers derive every counter value the guest reads from it.
type Clock interface {
	Now() time.Duration
}

// NoDeadline is what Advance returns when a timer has nothing scheduled.
const NoDeadline = time.Duration(math.MaxInt64)

// MinTimerPeriod is the shortest interval between two interrupts of a
// periodic timer. A guest that programs a shorter period gets its interrupts
// at this rate instead, so that it cannot starve itself (KVM caps its PIT and
// LAPIC timers the same way).
const MinTimerPeriod = 50 * time.Microsecond

// HostClock is a Clock that follows the host's monotonic clock.
type HostClock struct{ start time.Time }

// NewHostClock returns a Clock that reads zero now.
func NewHostClock() *HostClock { return &HostClock{start: time.Now()} }

// Now returns the host time elapsed since NewHostClock.
func (c *HostClock) Now() time.Duration { return time.Since(c.start) }

// ManualClock is a Clock that moves only when told to: for tests and for
// machines that derive time from the instruction count.
type ManualClock struct{ T time.Duration }

// Now returns the clock's current value.
func (c *ManualClock) Now() time.Duration { return c.T }

// ticksAt returns how many whole periods of a hz-frequency clock have elapsed
// at d (d < 0 counts as 0). 128-bit arithmetic keeps it exact for any d.
func ticksAt(d time.Duration, hz uint64) uint64 {
	if d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(d), hz)
	if hi >= uint64(time.Second) {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, uint64(time.Second))
	return q
}

// timeOfTick returns the first instant at which ticksAt reaches n, saturating
// at NoDeadline.
func timeOfTick(n, hz uint64) time.Duration {
	hi, lo := bits.Mul64(n, uint64(time.Second))
	if hi >= hz {
		return NoDeadline
	}
	q, r := bits.Div64(hi, lo, hz)
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return NoDeadline
	}
	return time.Duration(q)
}

// readBytes helps devices whose registers are one byte wide: a wider access
// becomes successive byte accesses at successive offsets, as an ISA bus
// splits it. Bytes past the device's window (size) read as 0xFF and are
// dropped on writes.
func readBytes(size, offset uint64, data []byte, read func(off uint64) byte) {
	for i := range data {
		if off := offset + uint64(i); off < size {
			data[i] = read(off)
		} else {
			data[i] = 0xFF
		}
	}
}

// writeBytes is the write half of readBytes.
func writeBytes(size, offset uint64, data []byte, write func(off uint64, v byte)) {
	for i, v := range data {
		if off := offset + uint64(i); off < size {
			write(off, v)
		}
	}
}

// littleEndian returns data as a little-endian number (up to 8 bytes).
func littleEndian(data []byte) uint64 {
	var v uint64
	for i := len(data) - 1; i >= 0; i-- {
		v = v<<8 | uint64(data[i])
	}
	return v
}

// putLittleEndian stores v into data, little-endian, truncated to len(data).
func putLittleEndian(data []byte, v uint64) {
	for i := range data {
		data[i] = byte(v)
		v >>= 8
	}
}
