package devices

import (
	"bytes"
	"sync"
	"testing"
)

// UART register offsets.
const (
	uRBR, uIER, uIIR, uLCR, uMCR, uLSR, uMSR, uSCR = 0, 1, 2, 3, 4, 5, 6, 7
)

func TestUARTTransmit(t *testing.T) {
	var out bytes.Buffer
	u := NewUART(&out, nil, 4)
	for _, c := range []byte("hello\n") {
		out8(u, uRBR, c)
	}
	equal(t, "hello\n", out.String(), "transmitted bytes")
	equal(t, byte(0x60), in8(u, uLSR), "LSR: THRE and TEMT stay set")
	NewUART(nil, nil, 4).Write(0, []byte{'x'}) // nil writer discards
}

func TestUARTDivisorAndScratch(t *testing.T) {
	var out bytes.Buffer
	u := NewUART(&out, nil, 4)
	out8(u, uIER, 0x05)
	out8(u, uLCR, 0x83)
	out8(u, uRBR, 0x01) // DLL, not transmitted
	out8(u, uIER, 0x00) // DLM
	equal(t, [2]byte{0x01, 0x00}, [2]byte{in8(u, uRBR), in8(u, uIER)}, "divisor latch")
	out8(u, uLCR, 0x03)
	equal(t, byte(0x05), in8(u, uIER), "IER kept behind DLAB")
	equal(t, 0, out.Len(), "divisor writes are not transmitted")
	out8(u, uSCR, 0xA5)
	equal(t, byte(0xA5), in8(u, uSCR), "scratch")
	out8(u, uIER, 0xFF)
	equal(t, byte(0x0F), in8(u, uIER), "IER keeps 4 bits")
}

// TestUARTLoopback follows Linux's 8250 autoconfig probe.
func TestUARTLoopback(t *testing.T) {
	var out bytes.Buffer
	u := NewUART(&out, nil, 4)
	out8(u, uMCR, 0x10|0x0A) // loop, OUT2, RTS
	equal(t, byte(0x90), in8(u, uMSR)&0xF0, "MSR inputs in loopback: CTS and DCD")
	out8(u, uRBR, 'A')
	equal(t, 0, out.Len(), "loopback bytes are not sent")
	equal(t, byte(0x61), in8(u, uLSR), "LSR: data ready")
	equal(t, byte('A'), in8(u, uRBR), "looped byte")
	equal(t, byte(0x60), in8(u, uLSR), "LSR after the read")
	out8(u, uMCR, 0x10|0x05) // loop, OUT1, DTR
	equal(t, byte(0x60|0x0B), in8(u, uMSR), "MSR: DSR, RI; deltas of CTS, DSR and DCD")
	equal(t, byte(0x60), in8(u, uMSR), "MSR deltas cleared by the read")
	out8(u, uMCR, 0x10)
	equal(t, byte(0x06), in8(u, uMSR), "MSR: DDSR and TERI on the trailing edge of RI")
	out8(u, uMCR, 0x00)
	equal(t, byte(0xB0), in8(u, uMSR)&0xF0, "MSR out of loopback: a connected terminal")
}

func TestUARTReceiveFIFO(t *testing.T) {
	u := NewUART(nil, nil, 4)
	out8(u, uIIR, 0xC7) // FIFO on, clear both, trigger 14
	equal(t, byte(0xC1), in8(u, uIIR), "IIR with FIFOs, nothing pending")
	input := []byte("0123456789abcdefghij") // 20 bytes: more than the FIFO holds
	u.Input(input)
	u.Poll()
	out8(u, uIIR, 0xC7) // a driver's FIFO reset does not lose host input not yet seen
	var got []byte
	for in8(u, uLSR)&0x01 != 0 {
		got = append(got, in8(u, uRBR))
	}
	equal(t, string(input), string(got), "received bytes, in order, without overrun")
	equal(t, byte(0x60), in8(u, uLSR), "LSR after draining")

	// Without FIFOs the holding register takes one byte at a time.
	out8(u, uIIR, 0x00)
	u.Input([]byte("xy"))
	u.Poll()
	equal(t, byte('x'), in8(u, uRBR), "first byte")
	equal(t, byte('y'), in8(u, uRBR), "second byte, refilled on read")

	// FCR bit 1 clears the receive FIFO: bytes the guest has seen are gone.
	out8(u, uIIR, 0x01)
	u.Input([]byte("zz"))
	equal(t, byte(0x61), in8(u, uLSR), "data ready once the guest looks")
	out8(u, uIIR, 0x03)
	equal(t, byte(0x60), in8(u, uLSR), "LSR after clearing the FIFO")

	// With the received-data interrupt on, Poll delivers and interrupts.
	out8(u, uIER, 0x01)
	u.Input([]byte("i"))
	u.Poll()
	equal(t, byte(0xC4), in8(u, uIIR), "IIR: received data available")
}

func TestUARTInterruptPriorities(t *testing.T) {
	tests := []struct {
		name  string
		setup func(u *UART)
		want  []byte // IIR read repeatedly
	}{
		{"none", func(u *UART) {}, []byte{0x01}},
		{"THRE on enable, cleared by reading IIR", func(u *UART) { out8(u, uIER, 0x02) }, []byte{0x02, 0x01}},
		{"THRE again after a transmit", func(u *UART) {
			out8(u, uIER, 0x02)
			in8(u, uIIR)
			out8(u, uRBR, 'x')
		}, []byte{0x02, 0x01}},
		{"received data outranks THRE", func(u *UART) {
			out8(u, uIER, 0x03)
			u.Input([]byte{'a'})
			u.Poll()
		}, []byte{0x04, 0x04}},
		{"line status outranks received data", func(u *UART) {
			out8(u, uIER, 0x07)
			out8(u, uMCR, 0x10)
			out8(u, uRBR, 'a')
			out8(u, uRBR, 'b') // overrun: no FIFO
		}, []byte{0x06, 0x06}},
		{"character time-out below the trigger level", func(u *UART) {
			out8(u, uIIR, 0x81) // trigger 8
			out8(u, uIER, 0x01)
			u.Input([]byte("abc"))
			u.Poll()
		}, []byte{0xCC}},
		{"received data at the trigger level", func(u *UART) {
			out8(u, uIIR, 0x41) // trigger 4
			out8(u, uIER, 0x01)
			u.Input([]byte("abcd"))
			u.Poll()
		}, []byte{0xC4}},
		{"modem status", func(u *UART) {
			out8(u, uIER, 0x08)
			out8(u, uMCR, 0x12)
		}, []byte{0x00, 0x00}},
		{"disabled sources do not show", func(u *UART) {
			out8(u, uIER, 0x00)
			u.Input([]byte("abc"))
			u.Poll()
		}, []byte{0x01}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := NewUART(nil, nil, 4)
			tc.setup(u)
			var got []byte
			for range tc.want {
				got = append(got, in8(u, uIIR))
			}
			equal(t, tc.want, got, "IIR reads")
		})
	}
	// Reading LSR clears the overrun, uncovering the data interrupt.
	u := NewUART(nil, nil, 4)
	out8(u, uIER, 0x05)
	out8(u, uMCR, 0x10)
	out8(u, uRBR, 'a')
	out8(u, uRBR, 'b')
	equal(t, byte(0x63), in8(u, uLSR), "LSR with overrun")
	equal(t, byte(0x04), in8(u, uIIR), "IIR after the LSR read")
	equal(t, byte('a'), in8(u, uRBR), "the first byte survived the overrun")
}

func TestUARTIRQLine(t *testing.T) {
	irq := &irqRecorder{}
	u := NewUART(nil, irq, 3)
	out8(u, uIER, 0x01)
	u.Input([]byte("k"))
	u.Poll()
	equal(t, false, irq.level[3], "IRQ gated by OUT2")
	out8(u, uMCR, 0x08)
	equal(t, true, irq.level[3], "IRQ with OUT2")
	in8(u, uRBR)
	equal(t, false, irq.level[3], "IRQ after the read")
	u.Input([]byte("k"))
	u.Poll()
	equal(t, true, irq.level[3], "IRQ on new input")
	out8(u, uMCR, 0x18)
	equal(t, false, irq.level[3], "IRQ in loopback")
	equal(t, []irqEvent{{3, true}, {3, false}, {3, true}, {3, false}}, irq.events, "line changes")
}

func TestUARTConcurrentInput(t *testing.T) {
	u := NewUART(nil, nil, 4)
	out8(u, uIIR, 0x07)
	var wg sync.WaitGroup
	const writers, each = 4, 1000
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				u.Input([]byte{'.'})
			}
		}()
	}
	got := 0
	drain := func() {
		u.Poll()
		for in8(u, uLSR)&0x01 != 0 {
			in8(u, uRBR)
			got++
		}
	}
	for got < writers*each/2 {
		drain()
	}
	wg.Wait()
	drain()
	equal(t, writers*each, got, "bytes received")
	u.Poll() // nothing waiting: a no-op
}
