package devices

import "time"

// The ACPI power-management register block, laid out like QEMU's PIIX4 PM
// at I/O base 0x600: the fixed hardware registers of ACPI 6.x §4.8 that the
// FADT points at (PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK; no PM1b, no GPE0,
// no SMI_CMD: ACPI mode is always on).
//
//	0x600  PM1_STS  16-bit, write 1 to clear (§4.8.3.1.1)
//	0x602  PM1_EN   16-bit (§4.8.3.1.2)
//	0x604  PM1_CNT  16-bit (§4.8.3.2.1)
//	0x606  reserved
//	0x608  PM_TMR   32-bit read-only, 24 bits of count (§4.8.3.3)
//
// The timer is not ticked: its value is computed from the Clock. TMR_STS is
// set lazily, on the register accesses and in Advance, for each toggle of
// the counter's bit 23 since the last look. SCI is IRQ 9, level: high while
// PM1_STS & PM1_EN != 0.

// Port layout and constants for the FADT.
const (
	ACPIPMBase    = 0x600
	ACPIPMSize    = 12
	ACPIPM1aEvt   = ACPIPMBase     // PM1a_EVT_BLK, PM1_EVT_LEN = 4
	ACPIPM1aCnt   = ACPIPMBase + 4 // PM1a_CNT_BLK, PM1_CNT_LEN = 2
	ACPIPMTimer   = ACPIPMBase + 8 // PM_TMR_BLK, PM_TMR_LEN = 4
	ACPISCIIRQ    = 9              // FADT SCI_INT
	ACPIPMTimerHz = 3579545        // ACPI 6.x §4.8.3.3

	// ACPISlpTypS5 is the SLP_TYP of soft-off that the DSDT's _S5 gives
	// (QEMU's PIIX4 uses 0: Package{0, 0, 0, 0}). The conventional value
	// ACPISlpTypS5Alt (5) is accepted as S5 too.
	ACPISlpTypS5    = 0
	ACPISlpTypS5Alt = 5
)

// PM1 register bits (ACPI 6.x §4.8.3.1, §4.8.3.2).
const (
	pm1TmrSts    = 1 << 0
	pm1PwrBtnSts = 1 << 8
	pm1WakSts    = 1 << 15
	pm1StsMask   = pm1TmrSts | pm1PwrBtnSts | pm1WakSts

	pm1TmrEn    = 1 << 0
	pm1GblEn    = 1 << 5 // no firmware shares the global lock: never raised
	pm1PwrBtnEn = 1 << 8
	pm1RTCEn    = 1 << 10 // the RTC alarm does not wake a sleeping machine: never raised
	pm1EnMask   = pm1TmrEn | pm1GblEn | pm1PwrBtnEn | pm1RTCEn

	pm1SCIEn      = 1 << 0
	pm1SlpTypMask = 7 << 10
	pm1SlpEn      = 1 << 13

	pmTimerBits = 24
)

// ACPIPM is the PM register block. Like the other devices it belongs to one
// goroutine.
type ACPIPM struct {
	clock    Clock
	irq      IRQSink
	powerOff func()

	sts, en uint16
	slpTyp  uint16 // PM1_CNT's SLP_TYP field, in place (bits 10–12)
	sciLine bool

	// flips is how many times the timer's bit 23 has toggled (ticks >> 23)
	// as of the last look; a larger count sets TMR_STS.
	flips uint64

	// due caches Advance's answer until a register write makes it stale.
	due   time.Duration
	stale bool
}

// NewACPIPM returns the PM block, its timer at 0 when clock reads 0, its SCI
// on IRQ 9 of irq (which may be nil). powerOff (may be nil) is called when
// the guest enters S5.
func NewACPIPM(clock Clock, irq IRQSink, powerOff func()) *ACPIPM {
	p := &ACPIPM{clock: clock, irq: irq, powerOff: powerOff, stale: true}
	p.flips = p.ticks(clock.Now()) >> (pmTimerBits - 1)
	return p
}

func (p *ACPIPM) ticks(now time.Duration) uint64 { return ticksAt(now, ACPIPMTimerHz) }

// Timer returns PM_TMR now: floor(t × 3.579545 MHz) mod 2^24.
func (p *ACPIPM) Timer() uint32 {
	return uint32(p.ticks(p.clock.Now()) & (1<<pmTimerBits - 1))
}

// sync sets TMR_STS if bit 23 has toggled since the last look.
func (p *ACPIPM) sync(now time.Duration) {
	if f := p.ticks(now) >> (pmTimerBits - 1); f > p.flips {
		p.flips = f
		p.sts |= pm1TmrSts
	}
}

// updateSCI drives IRQ 9 from the enabled status bits.
func (p *ACPIPM) updateSCI() {
	level := p.sts&p.en != 0
	if level != p.sciLine {
		p.sciLine = level
		if p.irq != nil {
			p.irq.SetIRQ(ACPISCIIRQ, level)
		}
	}
}

// PowerButton presses the fixed-hardware power button: PWRBTN_STS is set
// and, if PWRBTN_EN, SCI is raised (ACPI 6.x §4.8.2.2.1.1).
func (p *ACPIPM) PowerButton() {
	p.sync(p.clock.Now())
	p.sts |= pm1PwrBtnSts
	p.updateSCI()
	p.stale = true
}

// SCI reports the level of the SCI line.
func (p *ACPIPM) SCI() bool { return p.sciLine }

// image returns the 12 bytes of the block as they read now.
func (p *ACPIPM) image(now time.Duration) [ACPIPMSize]byte {
	var b [ACPIPMSize]byte
	putLittleEndian(b[0:2], uint64(p.sts))
	putLittleEndian(b[2:4], uint64(p.en))
	putLittleEndian(b[4:6], uint64(pm1SCIEn|p.slpTyp)) // SLP_EN reads 0
	putLittleEndian(b[8:12], p.ticks(now)&(1<<pmTimerBits-1))
	return b
}

// Read reads any bytes of the block at once, so a wide timer read is one
// sample. Bytes past the block read 0xFF, as unclaimed ports.
func (p *ACPIPM) Read(offset uint64, data []byte) {
	now := p.clock.Now()
	p.sync(now)
	p.updateSCI()
	img := p.image(now)
	for i := range data {
		if off := offset + uint64(i); off < ACPIPMSize {
			data[i] = img[off]
		} else {
			data[i] = 0xFF
		}
	}
}

// Write writes the bytes of PM1_STS (1 clears), PM1_EN and PM1_CNT; the
// timer and reserved bytes ignore writes. Setting SLP_EN enters the sleep
// state SLP_TYP names (ACPI 6.x §4.8.3.2.1, §7.4.2): S5 powers off; other
// states are not supported, and the "sleep" ends at once with WAK_STS set,
// so a guest that waits for wake-up does not hang.
func (p *ACPIPM) Write(offset uint64, data []byte) {
	p.sync(p.clock.Now())
	sleep := false
	writeBytes(ACPIPMSize, offset, data, func(off uint64, v byte) {
		sh := 8 * (off & 1)
		w := uint16(v) << sh
		switch off {
		case 0, 1:
			p.sts &^= w & pm1StsMask
		case 2, 3:
			p.en = p.en&^(0xFF<<sh) | w&pm1EnMask
		case 4, 5:
			p.slpTyp = p.slpTyp&^(0xFF<<sh) | w&pm1SlpTypMask
			sleep = sleep || w&pm1SlpEn != 0
		}
	})
	p.stale = true
	if sleep {
		switch p.slpTyp >> 10 {
		case ACPISlpTypS5, ACPISlpTypS5Alt:
			if p.powerOff != nil {
				p.powerOff()
			}
		default:
			p.sts |= pm1WakSts
		}
	}
	p.updateSCI()
}

// Advance sets TMR_STS if bit 23 has toggled by now, drives SCI, and returns
// the next toggle while TMR_EN is set and TMR_STS clear (NoDeadline
// otherwise: a raised SCI stays up until the guest clears the status).
func (p *ACPIPM) Advance(now time.Duration) time.Duration {
	if !p.stale && now < p.due {
		return p.due
	}
	p.sync(now)
	p.updateSCI()
	p.due, p.stale = NoDeadline, false
	if p.en&pm1TmrEn != 0 && p.sts&pm1TmrSts == 0 {
		p.due = max(timeOfTick((p.flips+1)<<(pmTimerBits-1), ACPIPMTimerHz), now+1)
	}
	return p.due
}
