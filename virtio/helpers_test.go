package virtio

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/gemu-project/gemu/mmu"
	"github.com/gemu-project/gemu/virtio/virtiotest"
	"github.com/google/go-cmp/cmp"
)

// irqRecorder is an IRQSink that records every line change.
type irqRecorder struct {
	events []irqEvent
	level  map[int]bool
}

type irqEvent struct {
	IRQ   int
	Level bool
}

func (r *irqRecorder) SetIRQ(irq int, level bool) {
	r.events = append(r.events, irqEvent{irq, level})
	if r.level == nil {
		r.level = map[int]bool{}
	}
	r.level[irq] = level
}

// logRecorder collects log lines.
type logRecorder struct{ lines []string }

func (l *logRecorder) logf(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) contains(s string) bool {
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func newMemory(t testing.TB) *mmu.Memory {
	t.Helper()
	mem, err := mmu.NewMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	return mem
}

// equal fails the test with a go-cmp diff when got differs from want.
func equal(t testing.TB, want, got any, what string, args ...any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: mismatch (-want +got):\n%s", fmt.Sprintf(what, args...), diff)
	}
}

// driver plays the guest's virtio-mmio driver against an MMIO window with
// 32-bit register accesses, as Linux's virtio_mmio does.
type driver struct {
	t testing.TB
	m *MMIO
}

func (d driver) read(off uint64) uint32 {
	var b [4]byte
	d.m.Read(off, b[:])
	return binary.LittleEndian.Uint32(b[:])
}

func (d driver) write(off uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	d.m.Write(off, b[:])
}

func (d driver) status() uint8 { return uint8(d.read(mmioStatus)) }

// addStatus ORs bits into the status, as Linux's virtio_add_status.
func (d driver) addStatus(bits uint8) { d.write(mmioStatus, uint32(d.status()|bits)) }

func (d driver) deviceFeatures() uint64 {
	d.write(mmioDeviceFeaturesSel, 1)
	f := uint64(d.read(mmioDeviceFeatures)) << 32
	d.write(mmioDeviceFeaturesSel, 0)
	return f | uint64(d.read(mmioDeviceFeatures))
}

func (d driver) writeFeatures(f uint64) {
	d.write(mmioDriverFeaturesSel, 1)
	d.write(mmioDriverFeatures, uint32(f>>32))
	d.write(mmioDriverFeaturesSel, 0)
	d.write(mmioDriverFeatures, uint32(f))
}

// negotiate resets the device and runs virtio 1.2 §3.1.1 up to FEATURES_OK,
// accepting the offered features in want. It reports whether the device
// kept FEATURES_OK.
func (d driver) negotiate(want uint64) bool {
	d.write(mmioStatus, 0)
	d.addStatus(StatusAcknowledge)
	d.addStatus(StatusDriver)
	d.writeFeatures(d.deviceFeatures() & want)
	d.addStatus(StatusFeaturesOK)
	return d.status()&StatusFeaturesOK != 0
}

// setupQueue is Linux's vm_setup_vq for queue i on ring r.
func (d driver) setupQueue(i uint32, r *virtiotest.Ring) {
	d.t.Helper()
	d.write(mmioQueueSel, i)
	if d.read(mmioQueueReady) != 0 {
		d.t.Fatalf("queue %d already ready", i)
	}
	if max := d.read(mmioQueueNumMax); max < uint32(r.Size) {
		d.t.Fatalf("QueueNumMax %d < ring size %d", max, r.Size)
	}
	d.write(mmioQueueNum, uint32(r.Size))
	for _, a := range []struct {
		low  uint64
		addr mmu.GPA
	}{{mmioQueueDescLow, r.Desc}, {mmioQueueDriverLow, r.Avail}, {mmioQueueDeviceLow, r.Used}} {
		d.write(a.low, uint32(a.addr))
		d.write(a.low+4, uint32(a.addr>>32))
	}
	d.write(mmioQueueReady, 1)
}

// start negotiates want, sets up queue 0 on r and sets DRIVER_OK.
func (d driver) start(want uint64, r *virtiotest.Ring) {
	d.t.Helper()
	if !d.negotiate(want) {
		d.t.Fatalf("FEATURES_OK refused: %v", d.m.Err())
	}
	d.setupQueue(0, r)
	d.addStatus(StatusDriverOK)
	if s := d.status(); s != StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK {
		d.t.Fatalf("status %#x after DRIVER_OK (%v)", s, d.m.Err())
	}
}

// kick is an available buffer notification for queue i.
func (d driver) kick(i uint32) { d.write(mmioQueueNotify, i) }

// interrupt is Linux's vm_interrupt: read InterruptStatus, acknowledge it.
func (d driver) interrupt() uint32 {
	s := d.read(mmioInterruptStatus)
	d.write(mmioInterruptACK, s)
	return s
}
