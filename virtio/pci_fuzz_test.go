package virtio

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
	vt "github.com/gemu-project/gemu/virtio/virtiotest"
)

// opReader hands out the bytes of a fuzz input; past its end, zeros.
type opReader struct{ b []byte }

func (r *opReader) u8() uint8 {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *opReader) u16() uint16 { return uint16(r.u8()) | uint16(r.u8())<<8 }
func (r *opReader) u32() uint32 { return uint32(r.u16()) | uint32(r.u16())<<16 }
func (r *opReader) u64() uint64 { return uint64(r.u32()) | uint64(r.u32())<<32 }

// pciFuzzRing is where the fuzzed driver puts queue 0.
const pciFuzzRing = 0x8000

// runPCIOps plays ops as a guest's accesses to a virtio-blk function:
// configuration cycles, accesses to every part of both BARs, guest memory
// writes, and well-formed driver steps (setup, requests, MSI-X) so that
// random accesses also land on a live device. It checks that nothing
// panics and that the transport's state stays one the spec allows. It
// reports what the run reached.
func runPCIOps(t testing.TB, ops []byte) (reached pciReached) {
	m := newPCIMachine(t, newPCIBlock(t))
	d := probePCI(t, m)
	m.strict = false
	p := m.p
	bar1 := m.cfgRead(devices.PCIBAR0+4, 4)
	bar4lo, bar4hi := m.cfgRead(devices.PCIBAR0+16, 4), m.cfgRead(devices.PCIBAR0+20, 4)
	r := vt.NewRing(m.mem, pciFuzzRing, 16)
	sizes := [4]int{1, 2, 4, 8}

	in := &opReader{ops}
	for step := 0; len(in.b) > 0; step++ {
		switch op := in.u8() % 12; op {
		case 0, 1: // configuration write or read
			size := sizes[in.u8()%3]
			reg := int(in.u8()) &^ (size - 1)
			if op == 0 {
				m.cfgWrite(reg, size, in.u32())
			} else {
				m.cfgRead(reg, size)
			}
		case 2, 3: // modern BAR: mostly the registers, sometimes anywhere
			size := sizes[in.u8()%4]
			off := uint64(in.u8()%5)*pciRegionSize + uint64(in.u8()%0x48)
			if in.u8()%8 == 0 {
				off = uint64(in.u16())
			}
			data := make([]byte, size)
			if op == 2 {
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], in.u64())
				copy(data, b[:])
				p.Write(off, data)
			} else {
				p.Read(off, data)
			}
		case 4, 5: // MSI-X table and PBA
			size := sizes[in.u8()%4]
			off := uint64(in.u16() % 0x1008)
			data := make([]byte, size)
			if op == 4 {
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], in.u64())
				copy(data, b[:])
				p.MSIX().Write(off, data)
			} else {
				p.MSIX().Read(off, data)
			}
		case 6: // guest memory near the ring and the buffers
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], in.u64())
			m.mem.WriteAt(mmu.GPA(pciFuzzRing+uint64(in.u16())*2), b[:])
		case 7: // the firmware's and driver's setup, with queue 0 on r
			m.cfgWrite(devices.PCIBAR0+4, 4, bar1)
			m.cfgWrite(devices.PCIBAR0+16, 4, bar4lo)
			m.cfgWrite(devices.PCIBAR0+20, 4, bar4hi)
			m.cfgWrite(devices.PCICommand, 2, devices.PCICommandMemory|devices.PCICommandMaster)
			want := ^uint64(0)
			if b := in.u8(); b&1 != 0 {
				want = in.u64()
			}
			d.negotiate(want)
			r = vt.NewRing(m.mem, pciFuzzRing, 16)
			d.w16(pciQueueSelect, 0)
			d.w16(pciQueueSize, r.Size)
			m.write(d.common+pciQueueDesc, 8, uint64(r.Desc))
			m.write(d.common+pciQueueDriver, 8, uint64(r.Avail))
			m.write(d.common+pciQueueDevice, 8, uint64(r.Used))
			d.w16(pciQueueMSIXVector, uint16(in.u8()%4))
			d.w16(pciQueueEnable, 1)
			d.addStatus(StatusDriverOK)
		case 8: // a virtio-blk request, maybe beyond the disk, and a kick
			sector := uint64(in.u8() % (blkSectors + 8))
			var h [16]byte
			binary.LittleEndian.PutUint32(h[0:], uint32(in.u8()%2)) // IN or OUT
			binary.LittleEndian.PutUint64(h[8:], sector)
			m.mem.WriteAt(0x20000, h[:])
			r.AddChain(vt.Buf{Addr: 0x20000, Len: 16}, vt.Buf{Addr: 0x21000, Len: 512, Write: h[0] == blkTIn},
				vt.Buf{Addr: 0x22000, Len: 1, Write: true})
			p.Write(pciNotifyOffset, []byte{0, 0})
		case 9: // MSI-X on, vectors for configuration changes and queue 0
			d.enableMSIX()
			d.w16(pciConfigMSIXVector, uint16(in.u8()%4))
			d.w16(pciQueueSelect, 0)
			d.w16(pciQueueMSIXVector, uint16(in.u8()%4))
		case 10: // the ISR read of an INTx handler
			p.Read(pciISROffset, make([]byte, 1))
		case 11: // the PCI configuration access capability
			c := p.cfgCap
			m.cfgWrite(c+pciCapBar, 1, uint32(in.u8()%6))
			m.cfgWrite(c+pciCapOffset, 4, uint32(in.u16()%0x4010))
			m.cfgWrite(c+pciCapLength, 4, uint32(in.u8()%9))
			if in.u8()&1 == 0 {
				m.cfgRead(c+pciCapCfgData, 4)
			} else {
				m.cfgWrite(c+pciCapCfgData, 4, in.u32())
			}
		}
		checkPCIInvariants(t, m, step)
		reached.requests += int(r.UsedIdx())
		reached.msis += len(m.msis)
		m.msis = m.msis[:0]
		if m.intx() {
			reached.intx++
		}
		if p.Err() != nil {
			reached.needsReset++
		}
	}
	return reached
}

// pciReached counts, over the steps of a run, the used ring entries, the
// MSI-X messages, the steps with INTx asserted and with the device needing
// a reset.
type pciReached struct{ requests, msis, intx, needsReset int }

// checkPCIInvariants are what the spec and the PCI model promise whatever
// the driver did.
func checkPCIInvariants(t testing.TB, m *pciMachine, step int) {
	t.Helper()
	p := m.p
	n := uint16(p.MSIX().Vectors())
	if v := p.ConfigVector(); v != PCINoVector && v >= n {
		t.Fatalf("step %d: config vector %d of %d", step, v, n)
	}
	for i := range p.Core().NumQueues() {
		if v := p.QueueVector(i); v != PCINoVector && v >= n {
			t.Fatalf("step %d: queue %d vector %d of %d", step, i, v, n)
		}
	}
	if p.ISR()&^(pciISRQueue|pciISRConfig) != 0 {
		t.Fatalf("step %d: ISR %#x", step, p.ISR())
	}
	if m.intx() && p.ISR() == 0 {
		t.Fatalf("step %d: INTx asserted with the ISR clear", step)
	}
	if err := p.Err(); err != nil && p.Core().Status()&StatusNeedsReset == 0 {
		t.Fatalf("step %d: Err = %v without DEVICE_NEEDS_RESET", step, err)
	}
}

// TestPCIRandomAccesses runs random op strings: no panic, invariants kept.
func TestPCIRandomAccesses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	runs := 300
	if testing.Short() {
		runs = 30
	}
	var total pciReached
	for range runs {
		ops := make([]byte, 64+rng.IntN(2048))
		for i := range ops {
			ops[i] = byte(rng.Uint32())
		}
		r := runPCIOps(t, ops)
		total.requests += r.requests
		total.msis += r.msis
		total.intx += r.intx
		total.needsReset += r.needsReset
	}
	// Not vacuous: the random drivers got requests done, interrupts out
	// both ways, and broke the device.
	if total.requests == 0 || total.msis == 0 || total.intx == 0 || total.needsReset == 0 {
		t.Fatalf("random runs reached %+v", total)
	}
	t.Logf("reached %+v", total)
}

// FuzzPCI is TestPCIRandomAccesses under the fuzzer: go test -fuzz FuzzPCI
// ./virtio/.
func FuzzPCI(f *testing.F) {
	// A driver setup, a request, an ISR read; then MSI-X and a request.
	f.Add([]byte{7, 0, 1, 8, 1, 0, 10})
	f.Add([]byte{7, 0, 1, 9, 0, 1, 8, 2, 1, 8, 3, 0, 11, 4, 0x14, 0, 1, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) { runPCIOps(t, ops) })
}
