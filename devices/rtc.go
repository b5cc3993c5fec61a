package devices

import "time"

// The Motorola MC146818 real-time clock and its CMOS RAM, at 0x70 (index)
// and 0x71 (data), interrupting on IRQ 8.
//
// The time of day is not ticked: it is the host time given at construction
// plus the Clock, plus the offset the guest sets through the SET bit. The
// clock is kept in UTC. Flags in register C are accumulated lazily, from the
// period and second boundaries crossed since the last look.
//
// Reference: Motorola MC146818A datasheet ("Address Map", "Register A" to
// "Register D", "Update Cycle", "Interrupts"); the CMOS layout follows the
// IBM PC/AT BIOS and what SeaBIOS reads (src/hw/rtc.h, src/fw/paravirt.c).

// RTCBase is the RTC's index port; the data port follows.
const RTCBase = 0x70

// RTC register indices (MC146818 datasheet, "Address Map").
const (
	rtcSeconds      = 0x00
	rtcSecondsAlarm = 0x01
	rtcMinutes      = 0x02
	rtcMinutesAlarm = 0x03
	rtcHours        = 0x04
	rtcHoursAlarm   = 0x05
	rtcDayOfWeek    = 0x06
	rtcDayOfMonth   = 0x07
	rtcMonth        = 0x08
	rtcYear         = 0x09
	rtcRegA         = 0x0A
	rtcRegB         = 0x0B
	rtcRegC         = 0x0C
	rtcRegD         = 0x0D
	rtcCentury      = 0x32 // IBM PC/AT convention
)

// Register bits (MC146818 datasheet, registers A–D).
const (
	rtcAUIP = 0x80 // update in progress

	rtcBSET   = 0x80 // inhibit updates; the guest sets the time
	rtcBPIE   = 0x40 // periodic interrupt enable
	rtcBAIE   = 0x20 // alarm interrupt enable
	rtcBUIE   = 0x10 // update-ended interrupt enable
	rtcBDM    = 0x04 // data mode: 1 binary, 0 BCD
	rtcB24h   = 0x02 // 1: 24-hour mode
	rtcCIRQF  = 0x80
	rtcCPF    = 0x40
	rtcCAF    = 0x20
	rtcCUF    = 0x10
	rtcDVRT   = 0x80 // valid RAM and time
	rtcIRQ    = 8
	rtcOscHz  = 32768                  // time base
	rtcUIPLen = 244 * time.Microsecond // UIP is set this long before an update
)

// CMOSLowMemLimit is where NewRTC assumes the PCI hole starts: RAM beyond it
// is reported above 4 GiB (QEMU's i440FX layout). Call SetMemory for another.
const CMOSLowMemLimit = 0xE0000000

// RTC is the MC146818 with 128 bytes of CMOS.
type RTC struct {
	clock Clock
	irq   IRQSink
	cmos  [128]byte
	index uint8

	// base is the wall-clock time at virtual time zero.
	base     time.Time
	lastSync time.Duration
	irqLine  bool

	// due caches Advance's answer until a register access makes it stale:
	// Advance runs between guest blocks and must be cheap when nothing is due.
	due   time.Duration
	stale bool
}

// NewRTC returns an RTC that shows start (in UTC) now and runs with clock, with the
// CMOS memory bytes filled for memSize bytes of RAM and one CPU.
func NewRTC(clock Clock, irq IRQSink, start time.Time, memSize uint64) *RTC {
	r := &RTC{clock: clock, irq: irq, base: start.UTC(), stale: true}
	r.lastSync = clock.Now()
	r.base = r.base.Add(-r.lastSync)
	r.cmos[rtcRegA] = 0x26 // 32.768 kHz time base, 1024 Hz periodic rate
	r.cmos[rtcRegB] = rtcB24h
	r.cmos[rtcRegD] = rtcDVRT
	r.cmos[0x10] = 0x00 // no floppy drives
	r.cmos[0x14] = 0x02 // equipment: no floppy, x87 present, EGA/VGA display
	r.cmos[0x3D] = 0x02 // QEMU boot order: hard disk first …
	r.cmos[0x38] = 0x01 // … and no floppy boot-signature check
	below, above := memSize, uint64(0)
	if below > CMOSLowMemLimit {
		below, above = CMOSLowMemLimit, memSize-CMOSLowMemLimit
	}
	r.SetMemory(below, above)
	r.SetCPUs(1)
	r.encodeTime(r.now())
	return r
}

// SetMemory fills the CMOS memory-size bytes for RAM of below4G bytes from
// address 0 and above4G bytes from 4 GiB, in the units a PC BIOS reads.
func (r *RTC) SetMemory(below4G, above4G uint64) {
	const kib, mib = 1 << 10, 1 << 20
	put16 := func(lo int, v uint64) { r.cmos[lo], r.cmos[lo+1] = byte(v), byte(v>>8) }
	put16(0x15, 640) // base memory, KiB
	var ext uint64   // memory from 1 MiB, KiB (at most 64 MiB worth)
	if below4G > mib {
		ext = min((below4G-mib)/kib, 0xFFFF)
	}
	put16(0x17, ext)
	put16(0x30, ext)
	var ext16 uint64 // memory from 16 MiB below 4 GiB, 64 KiB units
	if below4G > 16*mib {
		ext16 = min((below4G-16*mib)/(64*kib), 0xFFFF)
	}
	put16(0x34, ext16)
	high := min(above4G/(64*kib), 0xFFFFFF) // from 4 GiB, 64 KiB units
	r.cmos[0x5B], r.cmos[0x5C], r.cmos[0x5D] = byte(high), byte(high>>8), byte(high>>16)
	r.updateChecksum()
}

// SetCPUs records the number of CPUs (CMOS 0x5F holds it minus one, as
// SeaBIOS reads it).
func (r *RTC) SetCPUs(n int) {
	r.cmos[0x5F] = byte(max(n, 1) - 1)
}

// updateChecksum stores the PC/AT checksum of bytes 0x10–0x2D at 0x2E/0x2F.
func (r *RTC) updateChecksum() {
	var sum uint16
	for _, b := range r.cmos[0x10:0x2E] {
		sum += uint16(b)
	}
	r.cmos[0x2E], r.cmos[0x2F] = byte(sum>>8), byte(sum)
}

// CMOS returns CMOS byte i as stored (time registers hold their last
// snapshot), for the machine and tests.
func (r *RTC) CMOS(i uint8) uint8 { return r.cmos[i&0x7F] }

// SetCMOS stores CMOS byte i.
func (r *RTC) SetCMOS(i, v uint8) { r.cmos[i&0x7F], r.stale = v, true }

func (r *RTC) now() time.Time { return r.base.Add(r.clock.Now()) }

// running reports whether the divider lets the clock update (register A
// DV2–DV0 names a time base; 11x holds the divider in reset). A held
// divider stops the interrupt flags and UIP; the time itself keeps running.
func (r *RTC) running() bool { return r.cmos[rtcRegA]>>4&7 <= 2 }

// periodTicks returns the periodic interrupt period in 32.768 kHz ticks, or
// 0 when RS3–RS0 select none (MC146818 datasheet, Table 5).
func (r *RTC) periodTicks() uint64 {
	rs := r.cmos[rtcRegA] & 0x0F
	switch rs {
	case 0:
		return 0
	case 1, 2:
		return 1 << (rs + 6)
	}
	return 1 << (rs - 1)
}

func (r *RTC) encode(v int) byte {
	if r.cmos[rtcRegB]&rtcBDM != 0 {
		return byte(v)
	}
	return toBCD(byte(v % 100))
}

func (r *RTC) decode(v byte) int {
	if r.cmos[rtcRegB]&rtcBDM != 0 {
		return int(v)
	}
	return int(fromBCD(v))
}

// encodeHour formats an hour 0–23 per register B (12-hour mode sets bit 7
// for PM).
func (r *RTC) encodeHour(h int) byte {
	if r.cmos[rtcRegB]&rtcB24h != 0 {
		return r.encode(h)
	}
	v := r.encode((h+11)%12 + 1)
	if h >= 12 {
		v |= 0x80
	}
	return v
}

// encodeTime snapshots t into the time registers.
func (r *RTC) encodeTime(t time.Time) {
	r.cmos[rtcSeconds] = r.encode(t.Second())
	r.cmos[rtcMinutes] = r.encode(t.Minute())
	r.cmos[rtcHours] = r.encodeHour(t.Hour())
	r.cmos[rtcDayOfWeek] = r.encode(int(t.Weekday()) + 1)
	r.cmos[rtcDayOfMonth] = r.encode(t.Day())
	r.cmos[rtcMonth] = r.encode(int(t.Month()))
	r.cmos[rtcYear] = r.encode(t.Year() % 100)
	r.cmos[rtcCentury] = r.encode(t.Year() / 100 % 100)
}

// decodeTime reads the time registers. Out-of-range values are normalized
// by time.Date rather than rejected.
func (r *RTC) decodeTime() time.Time {
	hv := r.cmos[rtcHours]
	hour := r.decode(hv & 0x7F)
	if r.cmos[rtcRegB]&rtcB24h == 0 {
		hour %= 12
		if hv&0x80 != 0 {
			hour += 12
		}
	}
	year := r.decode(r.cmos[rtcCentury])*100 + r.decode(r.cmos[rtcYear])
	return time.Date(year, time.Month(r.decode(r.cmos[rtcMonth])), r.decode(r.cmos[rtcDayOfMonth]),
		hour, r.decode(r.cmos[rtcMinutes]), r.decode(r.cmos[rtcSeconds]), 0, time.UTC)
}

// setTimeFromRegisters makes the clock show the time registers now; the
// next update comes one second later.
func (r *RTC) setTimeFromRegisters(now time.Duration) {
	r.base = r.decodeTime().Add(-now)
	r.lastSync = now
}

// alarmMatches compares t with the alarm registers; 11xxxxxx is "don't
// care" (MC146818 datasheet, "Alarm").
func (r *RTC) alarmMatches(t time.Time) bool {
	match := func(alarm, v byte) bool { return alarm&0xC0 == 0xC0 || alarm == v }
	return match(r.cmos[rtcSecondsAlarm], r.encode(t.Second())) &&
		match(r.cmos[rtcMinutesAlarm], r.encode(t.Minute())) &&
		match(r.cmos[rtcHoursAlarm], r.encodeHour(t.Hour()))
}

// sync sets the register C flags for the periodic and update boundaries
// crossed since the last sync (at most one of each: flags do not count), and
// raises IRQ 8 when a flag meets its enable (MC146818 datasheet,
// "Interrupts": IRQF = PF·PIE + AF·AIE + UF·UIE).
func (r *RTC) sync(now time.Duration) {
	if now > r.lastSync && r.running() {
		if p := r.periodTicks(); p != 0 && ticksAt(now, rtcOscHz)/p > ticksAt(r.lastSync, rtcOscHz)/p {
			r.cmos[rtcRegC] |= rtcCPF
		}
		if r.cmos[rtcRegB]&rtcBSET == 0 {
			t := r.base.Add(now)
			if t.Unix() > r.base.Add(r.lastSync).Unix() {
				r.cmos[rtcRegC] |= rtcCUF
				if r.alarmMatches(t) {
					r.cmos[rtcRegC] |= rtcCAF
				}
			}
		}
	}
	if now > r.lastSync {
		r.lastSync = now
	}
	r.updateIRQ()
}

func (r *RTC) updateIRQ() {
	c := r.cmos[rtcRegC]
	if c&r.cmos[rtcRegB]&(rtcCPF|rtcCAF|rtcCUF) != 0 {
		c |= rtcCIRQF
	}
	r.cmos[rtcRegC] = c
	r.setLine(c&rtcCIRQF != 0)
}

func (r *RTC) setLine(level bool) {
	if level != r.irqLine {
		r.irqLine = level
		if r.irq != nil {
			r.irq.SetIRQ(rtcIRQ, level)
		}
	}
}

// Advance sets the flags due by now, raises IRQ 8 if enabled, and returns
// when the next enabled interrupt is due. While IRQF is set the line stays
// high until the guest reads register C, so no deadline is returned.
func (r *RTC) Advance(now time.Duration) time.Duration {
	if !r.stale && now < r.due {
		return r.due
	}
	r.due, r.stale = r.nextDeadline(now), false
	return r.due
}

func (r *RTC) nextDeadline(now time.Duration) time.Duration {
	r.sync(now)
	b := r.cmos[rtcRegB]
	if r.irqLine || !r.running() {
		return NoDeadline
	}
	next := NoDeadline
	if p := r.periodTicks(); b&rtcBPIE != 0 && p != 0 {
		next = timeOfTick((ticksAt(now, rtcOscHz)/p+1)*p, rtcOscHz)
	}
	if b&(rtcBUIE|rtcBAIE) != 0 && b&rtcBSET == 0 {
		t := r.base.Add(now)
		next = min(next, now+time.Unix(t.Unix()+1, 0).Sub(t))
	}
	return max(next, now+1)
}

// Read reads the index port (offset 0, write-only: 0xFF) or the data port.
func (r *RTC) Read(offset uint64, data []byte) {
	readBytes(2, offset, data, func(off uint64) byte {
		if off == 0 {
			return 0xFF
		}
		return r.readReg(r.index)
	})
}

// Write selects a register (offset 0; bit 7, NMI disable, is ignored) or
// writes the selected one.
func (r *RTC) Write(offset uint64, data []byte) {
	writeBytes(2, offset, data, func(off uint64, v byte) {
		if off == 0 {
			r.index = v & 0x7F
			return
		}
		r.writeReg(r.index, v)
	})
}

func isTimeRegister(i uint8) bool {
	return i <= rtcYear && i != rtcSecondsAlarm && i != rtcMinutesAlarm && i != rtcHoursAlarm || i == rtcCentury
}

func (r *RTC) readReg(i uint8) byte {
	r.stale = true
	now := r.clock.Now()
	switch {
	case isTimeRegister(i):
		if r.cmos[rtcRegB]&rtcBSET == 0 {
			r.encodeTime(r.base.Add(now))
		}
	case i == rtcRegA:
		v := r.cmos[rtcRegA] &^ rtcAUIP
		t := r.base.Add(now)
		if r.running() && r.cmos[rtcRegB]&rtcBSET == 0 && t.Nanosecond() >= int(time.Second-rtcUIPLen) {
			v |= rtcAUIP
		}
		return v
	case i == rtcRegC: // reading clears the flags and the interrupt
		r.sync(now)
		v := r.cmos[rtcRegC]
		r.cmos[rtcRegC] = 0
		r.setLine(false)
		return v
	case i == rtcRegD:
		return rtcDVRT
	}
	return r.cmos[i]
}

func (r *RTC) writeReg(i uint8, v byte) {
	r.stale = true
	now := r.clock.Now()
	switch {
	case isTimeRegister(i):
		if r.cmos[rtcRegB]&rtcBSET != 0 {
			r.cmos[i] = v
			return
		}
		r.sync(now)
		r.encodeTime(r.base.Add(now))
		r.cmos[i] = v
		r.setTimeFromRegisters(now)
	case i == rtcRegA:
		r.sync(now)
		r.cmos[rtcRegA] = v &^ rtcAUIP
	case i == rtcRegB:
		r.sync(now)
		old := r.cmos[rtcRegB]
		if v&rtcBSET != 0 {
			v &^= rtcBUIE // SET clears UIE (MC146818 datasheet, register B)
			if old&rtcBSET == 0 {
				r.encodeTime(r.base.Add(now))
			}
		}
		r.cmos[rtcRegB] = v
		if old&rtcBSET != 0 && v&rtcBSET == 0 {
			r.setTimeFromRegisters(now)
		}
		r.updateIRQ()
	case i == rtcRegC, i == rtcRegD: // read-only
	default:
		r.cmos[i] = v
	}
}

// Time returns the time the RTC shows now.
func (r *RTC) Time() time.Time { return r.now() }
