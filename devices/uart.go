package devices

import (
	"io"
	"sync"
	"sync/atomic"
)

// The National Semiconductor PC16550D UART (the "16550A" Linux detects),
// eight registers from its base (COM1: 0x3F8, IRQ 4).
//
// Transmission is instantaneous: a byte written to THR goes to the host
// writer at once and THR is empty again. Reception is fed by the host through
// Input, from any goroutine; the machine calls Poll between guest blocks to
// move the queued bytes into the receive FIFO. The host queue is flow
// control: it only fills the FIFO as the guest drains it, so pasted input is
// never overrun.
//
// Reference: PC16550D datasheet (National Semiconductor, 1995), §8
// "Registers": Table II (register summary), §8.4 FCR, §8.5 IIR (Table IV),
// §8.6 IER, §8.7 MCR, §8.8 MSR; §8.1 LSR; §8.3 loopback in MCR.

// COM1 defaults.
const (
	COM1Base = 0x3F8
	COM1IRQ  = 4
)

// Register bits (PC16550D datasheet, Table II).
const (
	uartIERRDI  = 0x01 // received data available
	uartIERTHRI = 0x02 // THR empty
	uartIERRLSI = 0x04 // receiver line status
	uartIERMSI  = 0x08 // modem status

	uartIIRNoInt   = 0x01
	uartIIRModem   = 0x00
	uartIIRTHRE    = 0x02
	uartIIRRxData  = 0x04
	uartIIRLine    = 0x06
	uartIIRTimeout = 0x0C
	uartIIRFIFOs   = 0xC0

	uartFCREnable  = 0x01
	uartFCRClearRx = 0x02

	uartLCRDLAB = 0x80

	uartMCRDTR  = 0x01
	uartMCRRTS  = 0x02
	uartMCROUT1 = 0x04
	uartMCROUT2 = 0x08
	uartMCRLoop = 0x10

	uartLSRDR     = 0x01
	uartLSROE     = 0x02
	uartLSRErrors = 0x1E // OE, PE, FE, BI
	uartLSRTHRE   = 0x20
	uartLSRTEMT   = 0x40

	uartMSRCTS    = 0x10
	uartMSRDSR    = 0x20
	uartMSRRI     = 0x40
	uartMSRDCD    = 0x80
	uartMSRDeltas = 0x0F

	uartFIFOSize = 16
	// uartQueueLimit bounds the host-side input queue; input past it is dropped.
	uartQueueLimit = 1 << 20
)

// UART is one 16550A. Its registers are for the vCPU goroutine; only Input
// may be called from elsewhere.
type UART struct {
	out    io.Writer
	irq    IRQSink
	irqNum int

	ier, lcr, mcr, lsr, msr, scr, fcr uint8
	dll, dlm                          uint8
	thrInterrupt                      bool // THR-empty interrupt pending (cleared by reading IIR)
	line                              bool // level last driven on the IRQ line

	rx      [uartFIFOSize]byte
	rxHead  int
	rxCount int
	txByte  [1]byte

	mu      sync.Mutex
	queue   []byte
	pending atomic.Bool // queue is not empty
}

// NewUART returns a UART whose transmitter writes to out (nil discards) and
// whose interrupt is line irqNum of irq (nil: none).
func NewUART(out io.Writer, irq IRQSink, irqNum int) *UART {
	if out == nil {
		out = io.Discard
	}
	u := &UART{out: out, irq: irq, irqNum: irqNum}
	u.lsr = uartLSRTHRE | uartLSRTEMT
	u.msr = u.modemInputs()
	u.dll = 12 // 9600 baud
	return u
}

// Input queues bytes received from the host. It is safe from any goroutine.
// The bytes reach the receive FIFO when the guest shows it listens: at a
// Poll with the received-data interrupt enabled, or when it reads the line
// status or receive buffer. Input sent before the guest's driver starts is
// so not lost to its FIFO reset (QEMU's serial holds it back the same way).
func (u *UART) Input(p []byte) {
	if len(p) == 0 {
		return
	}
	u.mu.Lock()
	room := uartQueueLimit - len(u.queue)
	u.queue = append(u.queue, p[:min(len(p), max(room, 0))]...)
	u.pending.Store(len(u.queue) > 0)
	u.mu.Unlock()
}

// Poll moves queued input into the receive FIFO and updates the interrupt
// if the guest takes received-data interrupts. It costs one atomic load when
// no input is waiting.
func (u *UART) Poll() {
	if !u.pending.Load() || u.ier&uartIERRDI == 0 {
		return
	}
	u.refill()
	u.updateIRQ()
}

// refill moves queued input into the FIFO while it has room; not in
// loopback, where the receiver is disconnected from the line (§8.7).
func (u *UART) refill() {
	if u.mcr&uartMCRLoop != 0 || !u.pending.Load() {
		return
	}
	u.mu.Lock()
	n := min(u.fifoCapacity()-u.rxCount, len(u.queue))
	for _, b := range u.queue[:n] {
		u.push(b)
	}
	u.queue = u.queue[n:]
	if len(u.queue) == 0 {
		u.queue = nil
		u.pending.Store(false)
	}
	u.mu.Unlock()
}

func (u *UART) fifoEnabled() bool { return u.fcr&uartFCREnable != 0 }

func (u *UART) fifoCapacity() int {
	if u.fifoEnabled() {
		return uartFIFOSize
	}
	return 1
}

// triggerLevel is the receive FIFO interrupt threshold (§8.4, FCR bits 7–6).
func (u *UART) triggerLevel() int {
	return [4]int{1, 4, 8, 14}[u.fcr>>6]
}

// push receives one byte; a full FIFO is an overrun and the byte is lost.
func (u *UART) push(b byte) {
	if u.rxCount >= u.fifoCapacity() {
		u.lsr |= uartLSROE
		return
	}
	u.rx[(u.rxHead+u.rxCount)%uartFIFOSize] = b
	u.rxCount++
	u.lsr |= uartLSRDR
}

func (u *UART) pop() byte {
	if u.rxCount == 0 {
		return 0
	}
	b := u.rx[u.rxHead]
	u.rxHead = (u.rxHead + 1) % uartFIFOSize
	u.rxCount--
	if u.rxCount == 0 {
		u.lsr &^= uartLSRDR
	}
	return b
}

func (u *UART) clearRx() {
	u.rxHead, u.rxCount = 0, 0
	u.lsr &^= uartLSRDR
}

// interruptID returns the IIR bits 3–0 by priority (§8.5, Table IV): line
// status, received data (FIFO at its trigger level), character time-out,
// THR empty, modem status. The time-out is reported as soon as data waits
// below the trigger level: host input arrives in chunks, not at line speed.
func (u *UART) interruptID() uint8 {
	switch {
	case u.ier&uartIERRLSI != 0 && u.lsr&uartLSRErrors != 0:
		return uartIIRLine
	case u.ier&uartIERRDI != 0 && u.rxCount > 0:
		if !u.fifoEnabled() || u.rxCount >= u.triggerLevel() {
			return uartIIRRxData
		}
		return uartIIRTimeout
	case u.ier&uartIERTHRI != 0 && u.thrInterrupt:
		return uartIIRTHRE
	case u.ier&uartIERMSI != 0 && u.msr&uartMSRDeltas != 0:
		return uartIIRModem
	}
	return uartIIRNoInt
}

// updateIRQ drives the IRQ line: the UART's INTR gated by OUT2, as the PC
// wires it; in loopback OUT2 is forced inactive (§8.7).
func (u *UART) updateIRQ() {
	level := u.interruptID()&uartIIRNoInt == 0 && u.mcr&(uartMCROUT2|uartMCRLoop) == uartMCROUT2
	if level != u.line {
		u.line = level
		if u.irq != nil {
			u.irq.SetIRQ(u.irqNum, level)
		}
	}
}

// modemInputs returns MSR bits 7–4: in loopback the outputs looped back
// (§8.7: RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD); otherwise a connected
// terminal (DCD, DSR, CTS asserted).
func (u *UART) modemInputs() uint8 {
	if u.mcr&uartMCRLoop == 0 {
		return uartMSRDCD | uartMSRDSR | uartMSRCTS
	}
	var v uint8
	if u.mcr&uartMCRRTS != 0 {
		v |= uartMSRCTS
	}
	if u.mcr&uartMCRDTR != 0 {
		v |= uartMSRDSR
	}
	if u.mcr&uartMCROUT1 != 0 {
		v |= uartMSRRI
	}
	if u.mcr&uartMCROUT2 != 0 {
		v |= uartMSRDCD
	}
	return v
}

// setModemInputs updates MSR and its delta bits (§8.8: TERI is set on the
// trailing edge of RI).
func (u *UART) setModemInputs(in uint8) {
	old := u.msr & 0xF0
	changed := old ^ in
	deltas := u.msr & uartMSRDeltas
	if changed&uartMSRCTS != 0 {
		deltas |= 0x01
	}
	if changed&uartMSRDSR != 0 {
		deltas |= 0x02
	}
	if old&uartMSRRI != 0 && in&uartMSRRI == 0 {
		deltas |= 0x04
	}
	if changed&uartMSRDCD != 0 {
		deltas |= 0x08
	}
	u.msr = in | deltas
}

// Read reads register offset (0–7).
func (u *UART) Read(offset uint64, data []byte) {
	readBytes(8, offset, data, u.readReg)
	u.updateIRQ()
}

// Write writes register offset (0–7).
func (u *UART) Write(offset uint64, data []byte) {
	writeBytes(8, offset, data, u.writeReg)
	u.updateIRQ()
}

func (u *UART) readReg(off uint64) byte {
	dlab := u.lcr&uartLCRDLAB != 0
	switch off {
	case 0:
		if dlab {
			return u.dll
		}
		u.refill()
		b := u.pop()
		u.refill()
		return b
	case 1:
		if dlab {
			return u.dlm
		}
		return u.ier
	case 2:
		id := u.interruptID()
		if id == uartIIRTHRE { // reading IIR clears the THRE source (§8.5)
			u.thrInterrupt = false
		}
		if u.fifoEnabled() {
			id |= uartIIRFIFOs
		}
		return id
	case 3:
		return u.lcr
	case 4:
		return u.mcr
	case 5:
		u.refill()
		v := u.lsr
		u.lsr &^= uartLSRErrors // reading LSR clears OE, PE, FE, BI
		return v
	case 6:
		v := u.msr
		u.msr &^= uartMSRDeltas
		return v
	default:
		return u.scr
	}
}

func (u *UART) writeReg(off uint64, v byte) {
	dlab := u.lcr&uartLCRDLAB != 0
	switch off {
	case 0:
		if dlab {
			u.dll = v
			return
		}
		u.transmit(v)
	case 1:
		if dlab {
			u.dlm = v
			return
		}
		old := u.ier
		u.ier = v & 0x0F
		// Enabling the THRE interrupt with THR empty raises it (§8.6).
		if (old^u.ier)&uartIERTHRI != 0 {
			u.thrInterrupt = u.ier&uartIERTHRI != 0 && u.lsr&uartLSRTHRE != 0
		}
	case 2:
		u.writeFCR(v)
	case 3:
		u.lcr = v
	case 4:
		u.mcr = v & 0x1F
		u.setModemInputs(u.modemInputs())
		u.refill()
	case 5, 6: // LSR and MSR are read-only here (factory test writes ignored)
	default:
		u.scr = v
	}
}

// transmit sends one byte: to the host, or back to the receiver in
// loopback. THR is empty again at once.
func (u *UART) transmit(v byte) {
	if u.mcr&uartMCRLoop != 0 {
		u.push(v)
	} else {
		u.txByte[0] = v
		_, _ = u.out.Write(u.txByte[:]) // a serial line cannot report errors
	}
	u.lsr |= uartLSRTHRE | uartLSRTEMT
	u.thrInterrupt = true
}

// writeFCR handles the FIFO control register (§8.4): bit 0 enables the
// FIFOs, and changing it clears them; bit 1 clears the receive FIFO; the
// other bits take effect only with bit 0 set.
func (u *UART) writeFCR(v byte) {
	if (u.fcr^v)&uartFCREnable != 0 {
		u.clearRx()
	}
	if v&uartFCREnable == 0 {
		u.fcr = 0
		u.refill()
		return
	}
	if v&uartFCRClearRx != 0 {
		u.clearRx()
	}
	u.fcr = v & 0xC9
	u.refill()
}
