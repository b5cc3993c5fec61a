package devices

import "testing"

// picStep is one action or check of a PIC scenario.
type picStep func(t *testing.T, p *PIC)

func raise(irq int) picStep { return func(_ *testing.T, p *PIC) { p.SetIRQ(irq, true) } }
func lower(irq int) picStep { return func(_ *testing.T, p *PIC) { p.SetIRQ(irq, false) } }
func pulse(irq int) picStep {
	return func(_ *testing.T, p *PIC) { p.SetIRQ(irq, true); p.SetIRQ(irq, false) }
}

func ack(want uint8) picStep {
	return func(t *testing.T, p *PIC) {
		t.Helper()
		equal(t, want, p.Acknowledge(), "vector")
	}
}

func pending(want bool) picStep {
	return func(t *testing.T, p *PIC) {
		t.Helper()
		equal(t, want, p.Pending(), "Pending")
	}
}

func isr(master, slave uint8) picStep {
	return func(t *testing.T, p *PIC) {
		t.Helper()
		m, s := p.ISR()
		equal(t, [2]uint8{master, slave}, [2]uint8{m, s}, "ISR")
	}
}

// picOut writes an absolute port (0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1).
func picOut(port uint16, v byte) picStep {
	return func(_ *testing.T, p *PIC) { picDevice(p, port).Write(uint64(port&1), []byte{v}) }
}

func picIn(port uint16, want byte) picStep {
	return func(t *testing.T, p *PIC) {
		t.Helper()
		equal(t, want, in8(picDevice(p, port), uint64(port&1)), "in %#x", port)
	}
}

func picDevice(p *PIC, port uint16) Device {
	switch port &^ 1 {
	case PICMasterBase:
		return p.Master()
	case PICSlaveBase:
		return p.Slave()
	}
	return p.ELCR()
}

var (
	eoiMaster = picOut(0x20, 0x20)
	eoiSlave  = picOut(0xA0, 0x20)
)

// initPIC programs the pair as Linux does: vectors 0x20 and 0x28, slave on
// IR2, 8086 mode, nothing masked.
func initPIC(icw4 byte) []picStep {
	return []picStep{
		picOut(0x20, 0x11), picOut(0x21, 0x20), picOut(0x21, 0x04), picOut(0x21, icw4),
		picOut(0xA0, 0x11), picOut(0xA1, 0x28), picOut(0xA1, 0x02), picOut(0xA1, icw4),
		picOut(0x21, 0x00), picOut(0xA1, 0x00),
	}
}

func TestPIC(t *testing.T) {
	tests := []struct {
		name  string
		icw4  byte
		steps []picStep
	}{
		{"timer tick", 0x01, []picStep{
			pending(false), pulse(0), pending(true), ack(0x20), pending(false), isr(0x01, 0),
			eoiMaster, isr(0, 0), pending(false),
		}},
		{"priority: lower IR number first", 0x01, []picStep{
			pulse(3), pulse(1), ack(0x21), pending(false), eoiMaster, pending(true), ack(0x23), eoiMaster, isr(0, 0),
		}},
		{"higher priority nests", 0x01, []picStep{
			pulse(3), ack(0x23), pulse(1), pending(true), ack(0x21), isr(0x0A, 0),
			eoiMaster, isr(0x08, 0), eoiMaster, isr(0, 0),
		}},
		{"masking holds the request", 0x01, []picStep{
			picOut(0x21, 0x01), pulse(0), pending(false), picIn(0x20, 0x01), picOut(0x21, 0x00), pending(true), ack(0x20),
		}},
		{"slave through cascade", 0x01, []picStep{
			pulse(8), pending(true), ack(0x28), isr(0x04, 0x01), pending(false), eoiSlave, eoiMaster, isr(0, 0),
		}},
		{"slave: IRQ 14 and IRQ 2 wired to 9", 0x01, []picStep{
			pulse(14), ack(0x2E), eoiSlave, eoiMaster, pulse(2), ack(0x29),
		}},
		{"spurious IRQ 7: level request gone before INTA", 0x01, []picStep{
			picOut(0x4D0, 0x20), raise(5), pending(true), lower(5), pending(false), ack(0x27), isr(0, 0),
		}},
		{"spurious IRQ 15: slave request gone before INTA", 0x01, []picStep{
			picOut(0x4D1, 0x04), raise(10), pending(true), lower(10), pending(true), ack(0x2F), isr(0x04, 0),
		}},
		{"edge-triggered needs a new edge", 0x01, []picStep{
			raise(4), ack(0x24), eoiMaster, pending(false), raise(4), pending(false), lower(4), raise(4), pending(true),
		}},
		{"level-triggered re-requests after EOI", 0x01, []picStep{
			picOut(0x4D1, 0x08), raise(11), ack(0x2B), eoiSlave, eoiMaster, pending(true), ack(0x2B),
			eoiSlave, eoiMaster, lower(11),
			// The master latched the slave's re-request: it ends as spurious IRQ 15.
			pending(true), ack(0x2F), eoiMaster, pending(false),
		}},
		{"ELCR reserved bits stay edge", 0x01, []picStep{
			picOut(0x4D0, 0xFF), picIn(0x4D0, 0xF8), picOut(0x4D1, 0xFF), picIn(0x4D1, 0xDE),
		}},
		{"auto-EOI leaves ISR clear", 0x03, []picStep{
			pulse(1), ack(0x21), isr(0, 0), pulse(8), ack(0x28), isr(0, 0),
		}},
		{"specific EOI", 0x01, []picStep{
			pulse(1), pulse(6), ack(0x21), picOut(0x20, 0x66), isr(0x02, 0), picOut(0x20, 0x61), isr(0, 0), ack(0x26),
		}},
		{"set priority: IR2 lowest makes IR3 highest", 0x01, []picStep{
			picOut(0x20, 0xC2), pulse(1), pulse(4), ack(0x24), eoiMaster, ack(0x21),
		}},
		{"rotate on non-specific EOI", 0x01, []picStep{
			pulse(0), ack(0x20), picOut(0x20, 0xA0), pulse(0), pulse(5), ack(0x25),
		}},
		{"OCW3 reads IRR then ISR", 0x01, []picStep{
			picOut(0x21, 0xFF), pulse(3), picOut(0x20, 0x0A), picIn(0x20, 0x08), picOut(0x20, 0x0B), picIn(0x20, 0x00),
			picOut(0x21, 0x00), ack(0x23), picIn(0x20, 0x08), picIn(0x21, 0x00),
		}},
		{"poll command", 0x01, []picStep{
			picOut(0x20, 0x0C), picIn(0x20, 0x00), pulse(6), picOut(0x20, 0x0C), picIn(0x20, 0x86), isr(0x40, 0), pending(false),
		}},
		{"ICW1 clears mask and in-service", 0x01, []picStep{
			pulse(1), ack(0x21), picOut(0x21, 0xFF), picOut(0x20, 0x11), picOut(0x21, 0x30), picOut(0x21, 0x04), picOut(0x21, 0x01),
			isr(0, 0), picIn(0x21, 0x00), pulse(2 + 1), ack(0x33),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPIC()
			for _, s := range initPIC(tc.icw4) {
				s(t, p)
			}
			for _, s := range tc.steps {
				s(t, p)
			}
		})
	}
}

func TestPICIgnoresBadInput(t *testing.T) {
	p := NewPIC()
	p.SetIRQ(-1, true)
	p.SetIRQ(16, true)
	p.SetIRQ(1000, true)
	equal(t, false, p.Pending(), "Pending after out-of-range IRQs")
	// An uninitialized PIC still answers (vector base 0), and wide or
	// out-of-window accesses do not panic.
	p.SetIRQ(0, true)
	equal(t, uint8(0), p.Acknowledge(), "vector of an uninitialized PIC")
	p.Master().Write(1, []byte{1, 2, 3, 4})
	b := []byte{0, 0, 0, 0}
	p.Slave().Read(1, b)
	equal(t, []byte{0, 0xFF, 0xFF, 0xFF}, b, "read past the window")
	equal(t, uint8(7), p.Acknowledge(), "spurious with nothing pending")
}
