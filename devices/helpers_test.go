package devices

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// irqRecorder is an IRQSink that records every line change.
type irqRecorder struct {
	events []irqEvent
	level  [16]bool
}

type irqEvent struct {
	IRQ   int
	Level bool
}

func (r *irqRecorder) SetIRQ(irq int, level bool) {
	r.events = append(r.events, irqEvent{irq, level})
	if irq >= 0 && irq < 16 {
		r.level[irq] = level
	}
}

// risingEdges counts the raises of irq recorded so far.
func (r *irqRecorder) risingEdges(irq int) int {
	n := 0
	for _, e := range r.events {
		if e.IRQ == irq && e.Level {
			n++
		}
	}
	return n
}

func out8(d Device, off uint64, v byte) { d.Write(off, []byte{v}) }

func in8(d Device, off uint64) byte {
	b := []byte{0}
	d.Read(off, b)
	return b[0]
}

func in16(d Device, off uint64) uint16 {
	b := []byte{0, 0}
	d.Read(off, b)
	return uint16(b[0]) | uint16(b[1])<<8
}

func out16(d Device, off uint64, v uint16) { d.Write(off, []byte{byte(v), byte(v >> 8)}) }

// equal fails the test with a go-cmp diff when got differs from want.
func equal(t *testing.T, want, got any, what string, args ...any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: mismatch (-want +got):\n%s", fmt.Sprintf(what, args...), diff)
	}
}
