package devices

// The Intel 8042 keyboard controller at 0x60 (data) and 0x64 (status and
// command), reduced to what firmware and kernels use it for: the reset line,
// the A20 gate, the command byte and the self-tests. No keyboard or mouse is
// attached: bytes sent to them are answered 0xFE with the time-out bit set,
// so that drivers give up at once instead of waiting.
//
// Also here: system control port A (0x92, "fast A20 and reset").
//
// Reference: IBM PC/AT Technical Reference, "Keyboard Controller"
// (commands 20h–FFh, status register, output port); Intel 82371AB PIIX4
// datasheet §12.7.2 (port 92h).

// Ports of the keyboard controller and of port A.
const (
	I8042DataPort    = 0x60
	I8042CommandPort = 0x64
	PortABase        = 0x92
)

// Status register bits (PC/AT Technical Reference, "Status Register").
const (
	kbcStatusOBF     = 0x01 // output buffer full
	kbcStatusSystem  = 0x04 // system flag (command byte bit 2)
	kbcStatusCommand = 0x08 // the last write was to 0x64
	kbcStatusUnlock  = 0x10 // keyboard not inhibited
	kbcStatusAux     = 0x20 // the output buffer holds mouse data
	kbcStatusTimeout = 0x40
)

// Command byte bits.
const (
	kbcCmdKbdIRQ  = 0x01
	kbcCmdAuxIRQ  = 0x02
	kbcCmdSystem  = 0x04
	kbcCmdKbdOff  = 0x10
	kbcCmdAuxOff  = 0x20
	kbcOutReset   = 0x01 // output port bit 0: 0 resets the CPU
	kbcOutA20     = 0x02 // output port bit 1: A20 gate
	kbcQueueLimit = 16
)

type kbcByte struct {
	value byte
	aux   bool
}

// I8042 is the keyboard controller.
type I8042 struct {
	reset func()
	irq   IRQSink

	ram     [32]byte // internal RAM; byte 0 is the command byte
	outPort byte
	status  byte // bits other than OBF and AUX
	queue   []kbcByte
	last    byte
	expect  byte // the command waiting for its data byte, or 0
	kbdLine bool
	auxLine bool
}

// NewI8042 returns the controller. reset is called when the guest pulses
// the reset line (nil: ignored); irq receives IRQ 1 and IRQ 12 (may be nil).
func NewI8042(reset func(), irq IRQSink) *I8042 {
	k := &I8042{reset: reset, irq: irq}
	// Power-on state: both interrupts enabled, system flag clear until the
	// self-test (QEMU's reset state).
	k.ram[0] = kbcCmdKbdIRQ | kbcCmdAuxIRQ
	k.outPort = kbcOutReset | kbcOutA20
	k.status = kbcStatusCommand | kbcStatusUnlock
	return k
}

// A20 reports whether the A20 gate is open (output port bit 1).
func (k *I8042) A20() bool { return k.outPort&kbcOutA20 != 0 }

// Read reads the data port (offset 0) or the status register (offset 4).
func (k *I8042) Read(offset uint64, data []byte) {
	readBytes(5, offset, data, k.readPort)
}

// Write writes a data byte (offset 0) or a command (offset 4).
func (k *I8042) Write(offset uint64, data []byte) {
	writeBytes(5, offset, data, k.writePort)
}

func (k *I8042) readPort(off uint64) byte {
	switch off {
	case 0: // with nothing queued the last byte is read again
		if len(k.queue) > 0 {
			k.last = k.queue[0].value
			k.queue = k.queue[1:]
			if len(k.queue) == 0 {
				k.status &^= kbcStatusTimeout
			}
			k.updateIRQ()
		}
		return k.last
	case 4:
		s := k.status
		if len(k.queue) > 0 {
			s |= kbcStatusOBF
			if k.queue[0].aux {
				s |= kbcStatusAux
			}
		}
		return s
	}
	return 0xFF
}

func (k *I8042) writePort(off uint64, v byte) {
	switch off {
	case 0:
		k.status &^= kbcStatusCommand
		k.writeData(v)
	case 4:
		k.status |= kbcStatusCommand
		k.command(v)
	}
}

func (k *I8042) enqueue(v byte, aux bool) {
	if len(k.queue) < kbcQueueLimit {
		k.queue = append(k.queue, kbcByte{v, aux})
	}
	k.updateIRQ()
}

// updateIRQ drives IRQ 1 and IRQ 12 from OBF, as enabled in the command
// byte (the 8042's OBF outputs are the interrupt lines).
func (k *I8042) updateIRQ() {
	kbd, aux := false, false
	if len(k.queue) > 0 {
		if k.queue[0].aux {
			aux = k.ram[0]&kbcCmdAuxIRQ != 0
		} else {
			kbd = k.ram[0]&kbcCmdKbdIRQ != 0
		}
	}
	if k.irq != nil && kbd != k.kbdLine {
		k.irq.SetIRQ(1, kbd)
	}
	if k.irq != nil && aux != k.auxLine {
		k.irq.SetIRQ(12, aux)
	}
	k.kbdLine, k.auxLine = kbd, aux
}

// command executes a controller command (PC/AT Technical Reference,
// "Commands (I/O Address Hex 64)").
func (k *I8042) command(v byte) {
	k.expect = 0
	switch {
	case v >= 0x20 && v <= 0x3F: // read internal RAM (0x20: command byte)
		k.enqueue(k.ram[v&0x1F], false)
	case v >= 0x60 && v <= 0x7F, v == 0xD1, v == 0xD2, v == 0xD3, v == 0xD4:
		k.expect = v
	case v == 0xA7: // disable the mouse port
		k.ram[0] |= kbcCmdAuxOff
	case v == 0xA8: // enable the mouse port
		k.ram[0] &^= kbcCmdAuxOff
	case v == 0xA9, v == 0xAB: // mouse / keyboard interface test: no error
		k.enqueue(0x00, false)
	case v == 0xAA: // controller self-test: passed
		k.ram[0] |= kbcCmdSystem
		k.status |= kbcStatusSystem
		k.enqueue(0x55, false)
	case v == 0xAD:
		k.ram[0] |= kbcCmdKbdOff
	case v == 0xAE:
		k.ram[0] &^= kbcCmdKbdOff
	case v == 0xC0: // read input port: keyboard not inhibited
		k.enqueue(0x80, false)
	case v == 0xD0: // read output port
		k.enqueue(k.outPort, false)
	case v == 0xDD: // A20 off (some controllers)
		k.outPort &^= kbcOutA20
	case v == 0xDF: // A20 on
		k.outPort |= kbcOutA20
	case v >= 0xF0: // pulse output port bits whose command bit is 0
		if v&1 == 0 {
			k.pulseReset()
		}
	}
	k.updateIRQ()
}

// writeData takes a byte written to 0x60: the argument of the pending
// command, or a byte for the keyboard.
func (k *I8042) writeData(v byte) {
	cmd := k.expect
	k.expect = 0
	switch {
	case cmd >= 0x60 && cmd <= 0x7F:
		k.ram[cmd&0x1F] = v
		if cmd == 0x60 {
			if v&kbcCmdSystem != 0 {
				k.status |= kbcStatusSystem
			} else {
				k.status &^= kbcStatusSystem
			}
		}
		k.updateIRQ()
	case cmd == 0xD1: // write output port
		k.setOutPort(v)
	case cmd == 0xD2: // as if from the keyboard
		k.enqueue(v, false)
	case cmd == 0xD3: // as if from the mouse
		k.enqueue(v, true)
	case cmd == 0xD4: // to the mouse: none attached
		k.status |= kbcStatusTimeout
		k.enqueue(0xFE, true)
	default: // to the keyboard: none attached
		k.status |= kbcStatusTimeout
		k.enqueue(0xFE, false)
	}
}

func (k *I8042) setOutPort(v byte) {
	k.outPort = v
	if v&kbcOutReset == 0 {
		k.pulseReset()
		k.outPort |= kbcOutReset
	}
}

func (k *I8042) pulseReset() {
	if k.reset != nil {
		k.reset()
	}
}

// PortA is system control port A at 0x92 (PIIX4 §12.7.2): bit 0 is a reset
// request (a 0→1 transition resets the CPU), bit 1 the fast A20 gate.
type PortA struct {
	reset func()
	value byte
}

// NewPortA returns port 0x92; reset may be nil.
func NewPortA(reset func()) *PortA { return &PortA{reset: reset} }

// A20 reports whether the fast A20 gate is open.
func (p *PortA) A20() bool { return p.value&2 != 0 }

// Read returns the port.
func (p *PortA) Read(offset uint64, data []byte) {
	readBytes(1, offset, data, func(uint64) byte { return p.value })
}

// Write sets the port; setting bit 0 pulses the reset line.
func (p *PortA) Write(offset uint64, data []byte) {
	writeBytes(1, offset, data, func(_ uint64, v byte) {
		rising := v&1 != 0 && p.value&1 == 0
		p.value = v &^ 1
		if rising && p.reset != nil {
			p.reset()
		}
	})
}
