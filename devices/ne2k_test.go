package devices

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// portWindow reaches a BAR through the port bus, as the CPU's IN and OUT do.
type portWindow struct {
	t    testing.TB
	bus  *Bus
	base uint64
}

func (w portWindow) Read(offset uint64, data []byte) {
	if !w.bus.Read(w.base+offset, data) {
		w.t.Fatalf("port %#x: no device", w.base+offset)
	}
}

func (w portWindow) Write(offset uint64, data []byte) {
	if !w.bus.Write(w.base+offset, data) {
		w.t.Fatalf("port %#x: no device", w.base+offset)
	}
}

func out32(d Device, off uint64, v uint32) { d.Write(off, binary.LittleEndian.AppendUint32(nil, v)) }

// Port offsets and values as Linux's 8390.h names them.
const (
	tCMD    = 0x00
	tSTART  = 0x01 // EN0_STARTPG
	tSTOP   = 0x02
	tBNRY   = 0x03
	tTSR    = 0x04 // read; TPSR on write
	tTCNTLO = 0x05
	tTCNTHI = 0x06
	tISR    = 0x07
	tRSARLO = 0x08
	tRSARHI = 0x09
	tRCNTLO = 0x0A
	tRCNTHI = 0x0B
	tRXCR   = 0x0C
	tTXCR   = 0x0D
	tDCFG   = 0x0E
	tIMR    = 0x0F
	tCURPAG = 0x07 // page 1
	tMULT   = 0x08 // page 1
	tCNTR0  = 0x0D
	tData   = 0x10
	tReset  = 0x1F

	cmdStop   = 0x01
	cmdStart  = 0x02
	cmdTrans  = 0x04
	cmdRRead  = 0x08
	cmdRWrite = 0x10
	cmdNoDMA  = 0x20
	cmdPage1  = 0x40

	isrRX    = 0x01
	isrTX    = 0x02
	isrRXErr = 0x04
	isrTXErr = 0x08
	isrOver  = 0x10
	isrCount = 0x20
	isrRDC   = 0x40
	isrReset = 0x80
	isrAll   = 0x3F // ENISR_ALL: what lib8390 enables
)

// ne2kDriver does what Linux's ne2k-pci (probe, block input and output)
// and lib8390 (NS8390_init, ei_start_xmit, ei_interrupt, ei_receive,
// ei_rx_overrun) do with the ports, step by step.
type ne2kDriver struct {
	t                      *testing.T
	io                     Device
	mac                    [6]byte
	txStart, rxStart, stop byte
	current                byte
	mcfilter               [8]byte
	rxConfig               byte

	rx        [][]byte
	rxErrors  int
	txDone    int
	overruns  int
	missed    int
	serviced  int
	txPending bool
}

func newNE2kDriver(t *testing.T, io Device) *ne2kDriver {
	return &ne2kDriver{t: t, io: io, txStart: 0x40, rxStart: 0x40 + 12, stop: 0x80, rxConfig: 0x04}
}

func (d *ne2kDriver) out(off uint64, v byte) { out8(d.io, off, v) }
func (d *ne2kDriver) in(off uint64) byte     { return in8(d.io, off) }

// probe is ne2k_pci_init_one.
func (d *ne2kDriver) probe() {
	t := d.t
	reg0 := d.in(tCMD)
	if reg0 == 0xFF {
		t.Fatal("probe: CR reads 0xFF")
	}
	// "Do a preliminary verification that we have a 8390."
	d.out(tCMD, cmdNoDMA|cmdPage1|cmdStop)
	regd := d.in(0x0D)
	d.out(0x0D, 0xFF)
	d.out(tCMD, cmdNoDMA)
	d.in(tCNTR0)
	if d.in(tCNTR0) != 0 {
		d.out(tCMD, reg0)
		d.out(0x0D, regd)
		t.Fatal("probe: the tally counter does not clear when read")
	}
	// Reset.
	d.out(tReset, d.in(tReset))
	if d.in(tISR)&isrReset == 0 {
		t.Fatal("probe: card failure (no reset ack)")
	}
	d.out(tISR, 0xFF)
	// Read the station address PROM, word-wide, byte by byte.
	for _, s := range [][2]byte{
		{cmdNoDMA | cmdStop, tCMD}, {0x49, tDCFG}, {0, tRCNTLO}, {0, tRCNTHI}, {0, tIMR}, {0xFF, tISR},
		{0x20, tRXCR}, {0x02, tTXCR}, {32, tRCNTLO}, {0, tRCNTHI}, {0, tRSARLO}, {0, tRSARHI},
		{cmdRRead | cmdStart, tCMD},
	} {
		d.out(uint64(s[1]), s[0])
	}
	var prom [32]byte
	for i := range prom {
		prom[i] = d.in(tData)
	}
	d.out(tDCFG, 0x49)
	copy(d.mac[:], prom[:6])
	d.init(false)
}

// init is NS8390_init.
func (d *ne2kDriver) init(startp bool) {
	d.out(tCMD, cmdNoDMA|cmdStop)
	d.out(tDCFG, 0x49)
	d.out(tRCNTLO, 0)
	d.out(tRCNTHI, 0)
	d.out(tRXCR, 0x20)
	d.out(tTXCR, 0x02)
	d.out(tTSR, d.txStart) // TPSR
	d.out(tSTART, d.rxStart)
	d.out(tBNRY, d.stop-1)
	d.current = d.rxStart
	d.out(tSTOP, d.stop)
	d.out(tISR, 0xFF)
	d.out(tIMR, 0)
	d.out(tCMD, cmdNoDMA|cmdPage1|cmdStop)
	for i, b := range d.mac {
		d.out(uint64(1+i), b)
		if d.in(uint64(1+i)) != b {
			d.t.Fatalf("PAR%d reads %#x after writing %#x", i, d.in(uint64(1+i)), b)
		}
	}
	d.out(tCURPAG, d.rxStart)
	d.out(tCMD, cmdNoDMA|cmdStop)
	d.txPending = false
	if startp {
		d.out(tISR, 0xFF)
		d.out(tIMR, isrAll)
		d.out(tCMD, cmdNoDMA|cmdStart)
		d.out(tTXCR, 0)
		d.out(tRXCR, 0x04)
		d.setMulticast()
	}
}

// setMulticast is do_set_multicast_list.
func (d *ne2kDriver) setMulticast() {
	d.out(tRXCR, 0x04)
	d.out(tCMD, cmdNoDMA|cmdPage1)
	for i, b := range d.mcfilter {
		d.out(uint64(tMULT+i), b)
		if got := d.in(uint64(tMULT + i)); got != b {
			d.t.Fatalf("MAR%d reads %#x after writing %#x", i, got, b)
		}
	}
	d.out(tCMD, cmdNoDMA)
	d.out(tRXCR, d.rxConfig)
}

// xmit is ei_start_xmit with ne2k_pci_block_output and NS8390_trigger_send
// (one transmit buffer in use at a time).
func (d *ne2kDriver) xmit(frame []byte) {
	if len(frame) < 60 {
		frame = append(append([]byte(nil), frame...), make([]byte, 60-len(frame))...)
	}
	d.out(tIMR, 0)
	d.blockOutput(frame, d.txStart)
	// trigger_send
	d.out(tCMD, cmdNoDMA)
	if d.in(tCMD)&cmdTrans != 0 {
		d.t.Fatal("trigger_send called with the transmitter busy")
	}
	d.out(tTCNTLO, byte(len(frame)))
	d.out(tTCNTHI, byte(len(frame)>>8))
	d.out(tTSR, d.txStart)
	d.out(tCMD, cmdNoDMA|cmdTrans|cmdStart)
	d.txPending = true
	d.out(tIMR, isrAll)
}

// blockOutput is ne2k_pci_block_output: 32-bit writes, then a 16-bit one.
func (d *ne2kDriver) blockOutput(buf []byte, page byte) {
	count := len(buf)
	if count&1 != 0 {
		count++
		buf = append(buf, 0)
	}
	d.out(tCMD, cmdNoDMA|cmdStart)
	d.out(tISR, isrRDC)
	d.out(tRCNTLO, byte(count))
	d.out(tRCNTHI, byte(count>>8))
	d.out(tRSARLO, 0)
	d.out(tRSARHI, page)
	d.out(tCMD, cmdRWrite|cmdStart)
	for i := 0; i+4 <= count; i += 4 {
		out32(d.io, tData, binary.LittleEndian.Uint32(buf[i:]))
	}
	if count&3 != 0 {
		out16(d.io, tData, binary.LittleEndian.Uint16(buf[count&^3:]))
	}
	if d.in(tISR)&isrRDC == 0 {
		d.t.Fatal("timeout waiting for Tx RDC")
	}
	d.out(tISR, isrRDC)
}

// header is ne2k_pci_get_8390_hdr: one 32-bit read.
func (d *ne2kDriver) header(page byte) (status, next byte, count int) {
	d.out(tCMD, cmdNoDMA|cmdStart)
	d.out(tRCNTLO, 4)
	d.out(tRCNTHI, 0)
	d.out(tRSARLO, 0)
	d.out(tRSARHI, page)
	d.out(tCMD, cmdRRead|cmdStart)
	h := in32(d.io, tData)
	d.out(tISR, isrRDC)
	return byte(h), byte(h >> 8), int(h >> 16)
}

// blockInput is ne2k_pci_block_input: 32-bit reads, then 16 and 8.
func (d *ne2kDriver) blockInput(count int, offset int) []byte {
	buf := make([]byte, 0, count)
	d.out(tCMD, cmdNoDMA|cmdStart)
	d.out(tRCNTLO, byte(count))
	d.out(tRCNTHI, byte(count>>8))
	d.out(tRSARLO, byte(offset))
	d.out(tRSARHI, byte(offset>>8))
	d.out(tCMD, cmdRRead|cmdStart)
	for range count >> 2 {
		buf = binary.LittleEndian.AppendUint32(buf, in32(d.io, tData))
	}
	if count&2 != 0 {
		buf = binary.LittleEndian.AppendUint16(buf, in16(d.io, tData))
	}
	if count&1 != 0 {
		buf = append(buf, d.in(tData))
	}
	d.out(tISR, isrRDC)
	return buf
}

// service is ei_interrupt.
func (d *ne2kDriver) service() {
	d.out(tCMD, cmdNoDMA)
	n := 0
	for {
		isr := d.in(tISR)
		if isr == 0 {
			break
		}
		if n++; n >= 12 {
			d.t.Fatalf("too much work at interrupt, status %#x", isr)
		}
		if isr&isrOver != 0 {
			d.rxOverrun()
		} else if isr&(isrRX|isrRXErr) != 0 {
			d.receive()
		}
		if isr&isrTX != 0 {
			d.in(tTSR)
			d.out(tISR, isrTX)
			d.txDone++
			d.txPending = false
		} else if isr&isrTXErr != 0 {
			d.out(tISR, isrTXErr)
		}
		if isr&isrCount != 0 {
			d.in(tCNTR0)
			d.in(tCNTR0 + 1)
			d.missed += int(d.in(tCNTR0 + 2))
			d.out(tISR, isrCount)
		}
		if isr&isrRDC != 0 {
			d.out(tISR, isrRDC)
		}
		d.out(tCMD, cmdNoDMA|cmdStart)
	}
	d.serviced++
}

// receive is ei_receive.
func (d *ne2kDriver) receive() {
	numPages := int(d.stop - d.rxStart)
	for range 9 {
		d.out(tCMD, cmdNoDMA|cmdPage1)
		rxing := d.in(tCURPAG)
		d.out(tCMD, cmdNoDMA)
		this := d.in(tBNRY) + 1
		if this >= d.stop {
			this = d.rxStart
		}
		if this != d.current {
			d.t.Errorf("mismatched read page pointers %#x vs %#x", this, d.current)
		}
		if this == rxing {
			break
		}
		status, next, count := d.header(this)
		pktLen := count - 4
		nextFrame := int(this) + 1 + (pktLen+4)>>8
		if n := int(next); n != nextFrame && n != nextFrame+1 && n != nextFrame-numPages && n != nextFrame+1-numPages {
			d.t.Errorf("bogus next page %#x for a frame of %d bytes at %#x", next, pktLen, this)
			d.current = rxing
			d.out(tBNRY, d.current-1)
			d.rxErrors++
			continue
		}
		switch {
		case pktLen < 60 || pktLen > 1518:
			d.t.Errorf("bogus packet size %d", pktLen)
			d.rxErrors++
		case status&0x0F == 0x01:
			d.rx = append(d.rx, d.blockInput(pktLen, int(this)<<8+4))
		default:
			d.t.Errorf("bogus packet status %#x", status)
			d.rxErrors++
		}
		if next >= d.stop {
			d.t.Errorf("next frame inconsistency %#x", next)
			next = d.rxStart
		}
		d.current = next
		d.out(tBNRY, next-1)
	}
	d.out(tISR, isrRX|isrRXErr)
}

// rxOverrun is ei_rx_overrun (without its 10 ms wait).
func (d *ne2kDriver) rxOverrun() {
	wasTxing := d.in(tCMD)&cmdTrans != 0
	d.out(tCMD, cmdNoDMA|cmdStop)
	d.overruns++
	d.out(tRCNTLO, 0)
	d.out(tRCNTHI, 0)
	mustResend := wasTxing && d.in(tISR)&(isrTX|isrTXErr) == 0
	d.out(tTXCR, 0x02)
	d.out(tCMD, cmdNoDMA|cmdStart)
	d.receive()
	d.out(tISR, isrOver)
	d.out(tTXCR, 0)
	if mustResend {
		d.out(tCMD, cmdNoDMA|cmdStart|cmdTrans)
	}
}

// ethFrame builds a frame to dst of n bytes in all.
func ethFrame(dst [6]byte, n int, tag byte) []byte {
	f := make([]byte, n)
	copy(f, dst[:])
	copy(f[6:], []byte{0x02, 0, 0, 0, 0, 0x99})
	if n >= 14 {
		f[12], f[13] = 0x08, 0x00
	}
	for i := 14; i < n; i++ {
		f[i] = tag ^ byte(i)
	}
	return f
}

// sameFrames compares frame lists (go-cmp is slow on many large slices).
func sameFrames(t *testing.T, want, got [][]byte, what string, args ...any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", fmt.Sprintf(what, args...), len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: frame %d differs:\n got %x\nwant %x", fmt.Sprintf(what, args...), i, got[i], want[i])
		}
	}
}

var broadcast = [6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

// padded is what the guest reads for a received frame: at least 60 bytes.
func padded(f []byte) []byte {
	if len(f) >= 60 {
		return f
	}
	return append(append([]byte(nil), f...), make([]byte, 60-len(f))...)
}

func newTestNE2000(t *testing.T, cfg NE2000Config) (*NE2000, *fakeNet) {
	t.Helper()
	fn := &fakeNet{}
	if cfg.Backend == nil {
		cfg.Backend = fn
	}
	n, err := NewNE2000(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n, fn
}

// TestNE2000LinuxDriver runs the ne2k-pci probe, open, transmit and
// receive paths through the PCI bus and the port bus, with the interrupt
// routed to the PIC.
func TestNE2000LinuxDriver(t *testing.T) {
	tb := newPCITestBus(t)
	mac := [6]byte{0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF}
	var log logRecorder
	nic, fn := newTestNE2000(t, NE2000Config{MAC: mac, RAMSize: NE2000RAM16K, Logf: log.logf})
	slot, err := tb.AddDevice(nic)
	if err != nil {
		t.Fatal(err)
	}

	// The configuration space as lspci sees it.
	equal(t, uint32(0x802910EC), tb.cfgRead(slot, 0, PCIVendorID, 4), "vendor and device")
	equal(t, uint32(0x020000), tb.cfgRead(slot, 0, PCIRevisionID, 4)>>8, "class code")
	equal(t, uint32(1), tb.cfgRead(slot, 0, PCIInterruptPin, 1), "interrupt pin")
	tb.cfgWrite(slot, 0, PCIBAR0, 4, 0xFFFFFFFF)
	equal(t, uint32(0xFFE1), tb.cfgRead(slot, 0, PCIBAR0, 4), "BAR 0 sizing: 32 I/O ports (16-bit decode)")
	if err := tb.AssignResources(); err != nil {
		t.Fatal(err)
	}
	base, ok := tb.BARMapped(slot, 0, 0)
	if !ok {
		t.Fatal("BAR 0 not mapped")
	}
	irq := tb.IRQ(slot, 1)
	if irq < 0 {
		t.Fatal("INTA# not routed")
	}
	io := portWindow{t, tb.pio, base}

	d := newNE2kDriver(t, io)
	d.probe()
	equal(t, mac, d.mac, "MAC read from the PROM")
	if tb.irq.level[irq] {
		t.Fatal("IRQ raised by the probe")
	}

	// ne2k_pci_open → ei_open → NS8390_init(dev, 1).
	d.init(true)

	// Transmit an ARP request (42 bytes, padded to 60 by the driver).
	arp := ethFrame(broadcast, 42, 0x11)
	d.xmit(arp)
	equal(t, [][]byte{padded(arp)}, fn.frames(), "frames on the wire")
	if !tb.irq.level[irq] {
		t.Fatal("no interrupt after the transmission")
	}
	d.service()
	if d.txDone != 1 || tb.irq.level[irq] {
		t.Fatalf("transmit not completed (%d) or IRQ still raised (%v)", d.txDone, tb.irq.level[irq])
	}
	// An odd-length frame and a full-sized one.
	for _, n := range []int{61, 1514} {
		f := ethFrame([6]byte{0x02, 1, 2, 3, 4, 5}, n, byte(n))
		d.xmit(f)
		d.service()
		// block_output rounds an odd upload up; TBCR is exact.
		got := fn.frames()
		equal(t, f, got[len(got)-1], "frame of %d bytes on the wire", n)
	}

	// Receive: ours, broadcast, a short one (padded), not ours, an
	// unsubscribed multicast.
	ours := ethFrame(mac, 100, 1)
	bcast := ethFrame(broadcast, 300, 2)
	short := ethFrame(mac, 42, 3)
	other := ethFrame([6]byte{0x52, 0x54, 0, 0, 0, 1}, 80, 4)
	mcast := ethFrame([6]byte{0x01, 0x00, 0x5E, 0, 0, 1}, 80, 5)
	for _, f := range [][]byte{ours, bcast, other, mcast, short} {
		fn.inject(f)
	}
	if tb.irq.level[irq] {
		t.Fatal("IRQ raised before Poll")
	}
	nic.Poll()
	if !tb.irq.level[irq] {
		t.Fatal("no interrupt after receiving")
	}
	d.service()
	if tb.irq.level[irq] {
		t.Fatal("IRQ still raised after servicing")
	}
	equal(t, [][]byte{ours, bcast, padded(short)}, d.rx, "frames received by the driver")

	st := nic.Stats()
	equal(t, NICStats{TxFrames: 3, TxBytes: 60 + 61 + 1514, RxFrames: 3, RxBytes: 100 + 300 + 42, RxFiltered: 2}, st, "statistics")
	if log.String() != "" {
		t.Errorf("unexpected reports:\n%s", log.String())
	}

	// ne2k_pci_close → ei_close → NS8390_init(dev, 0): stopped, nothing
	// more is received.
	d.init(false)
	fn.inject(ours)
	nic.Poll()
	if nic.Stats().RxDropped != 1 || tb.irq.level[irq] {
		t.Errorf("frame to a stopped card: stats %+v, IRQ %v", nic.Stats(), tb.irq.level[irq])
	}
	if err := nic.Close(); err != nil || !fn.closed {
		t.Errorf("Close: %v, backend closed %v", err, fn.closed)
	}
}

// TestNE2000RingWrap receives frames of many sizes, so that they wrap
// around the end of the ring, and checks what the driver reads back.
func TestNE2000RingWrap(t *testing.T) {
	for _, ramSize := range []int{NE2000RAM16K, NE2000RAM32K} {
		nic, fn := newTestNE2000(t, NE2000Config{RAMSize: ramSize})
		d := newNE2kDriver(t, nic)
		if ramSize == NE2000RAM32K {
			d.stop = 0xC0
		}
		d.probe()
		d.init(true)
		rng := rand.New(rand.NewPCG(1, uint64(ramSize)))
		var want [][]byte
		wraps := 0
		for i := range 200 {
			f := ethFrame(d.mac, 60+rng.IntN(1455), byte(i))
			fn.inject(f)
			want = append(want, f)
			before := nic.curr
			nic.Poll()
			if nic.curr < before {
				wraps++
			}
			if rng.IntN(3) == 0 {
				d.service()
			}
		}
		d.service()
		sameFrames(t, want, d.rx, "RAM %d", ramSize)
		if wraps < 5 || d.rxErrors != 0 || d.overruns != 0 {
			t.Errorf("RAM %d: %d wraps, %d errors, %d overruns", ramSize, wraps, d.rxErrors, d.overruns)
		}
	}
}

// TestNE2000RingLayout checks the bytes in the ring for one frame that
// wraps: the buffer header, the frame, the padding and the FCS.
func TestNE2000RingLayout(t *testing.T) {
	nic, fn := newTestNE2000(t, NE2000Config{RAMSize: NE2000RAM16K})
	d := newNE2kDriver(t, nic)
	d.probe()
	d.init(true)
	// Put CURR and BNRY on the last page but one: the next frame wraps.
	d.out(tCMD, cmdNoDMA|cmdPage1|cmdStart)
	d.out(tCURPAG, 0x7E)
	d.out(tCMD, cmdNoDMA|cmdStart)
	d.out(tBNRY, 0x7D)
	d.current = 0x7E
	f := ethFrame(d.mac, 700, 9)
	fn.inject(f)
	nic.Poll()

	ring := func(addr int) byte { return nic.ram[addr-ne2kRAMStart] }
	equal(t, []byte{0x01, 0x4D, 0xC0, 0x02}, []byte{ring(0x7E00), ring(0x7E01), ring(0x7E02), ring(0x7E03)},
		"buffer header: status PRX, next page 0x4D (wrapped), count 700+4")
	var stored []byte
	addr := 0x7E04
	for range 704 {
		stored = append(stored, ring(addr))
		if addr++; addr == 0x8000 {
			addr = 0x4C00
		}
	}
	equal(t, f, stored[:700], "frame in the ring")
	equal(t, crc32.ChecksumIEEE(f), binary.LittleEndian.Uint32(stored[700:]), "FCS after the frame")
	equal(t, byte(0x4D), nic.curr, "CURR")
	d.service()
	equal(t, [][]byte{f}, d.rx, "frame read through remote DMA across the wrap")

	// A short frame: padded with zeros, FCS over the padded frame.
	short := ethFrame(d.mac, 20, 1)
	fn.inject(short)
	nic.Poll()
	start := 0x4D00
	equal(t, []byte{0x01, 0x4E, 64, 0}, nic.ram[start-ne2kRAMStart:start-ne2kRAMStart+4], "header of a padded frame")
	body := nic.ram[start-ne2kRAMStart+4 : start-ne2kRAMStart+68]
	equal(t, padded(short), body[:60], "padded frame")
	equal(t, crc32.ChecksumIEEE(padded(short)), binary.LittleEndian.Uint32(body[60:]), "FCS of a padded frame")
}

// TestNE2000RingFull checks the flow control and the overflow: frames wait
// while the ring is full, and only a full host queue loses frames, which
// the card reports as a ring overflow that Linux's ei_rx_overrun recovers
// from.
func TestNE2000RingFull(t *testing.T) {
	nic, fn := newTestNE2000(t, NE2000Config{RAMSize: NE2000RAM16K})
	d := newNE2kDriver(t, nic)
	d.probe()
	d.init(true)

	// 1000-byte frames take 4 pages; the ring has 52, one of them BNRY's:
	// 12 fit.
	var sent [][]byte
	for i := range 20 {
		f := ethFrame(d.mac, 1000, byte(i))
		sent = append(sent, f)
		fn.inject(f)
	}
	nic.Poll()
	if nic.Stats().RxFrames != 12 {
		t.Fatalf("stored %d frames in a ring of 52 pages, want 12", nic.Stats().RxFrames)
	}
	if nic.isr&ne2kISROVW != 0 {
		t.Fatal("OVW while frames wait in the queue")
	}
	nic.Poll() // still no room: nothing changes
	d.service()
	// ei_receive takes at most 9 frames a call; the rest wait for the next
	// interrupt, which the frames let in by the freed room raise.
	equal(t, 9, len(d.rx), "frames read")
	for range 5 {
		nic.Poll()
		d.service()
	}
	sameFrames(t, sent, d.rx, "all frames, in order")
	if d.overruns != 0 || nic.Stats().RxDropped != 0 {
		t.Fatalf("overruns %d, stats %+v", d.overruns, nic.Stats())
	}

	// The guest stops reading: the ring fills, then the host queue, and
	// what comes next is lost.
	d.rx = nil
	sent = sent[:0]
	for i := range 12 + ne2kQueue + 5 {
		f := ethFrame(d.mac, 1000, byte(i))
		sent = append(sent, f)
		fn.inject(f)
		nic.Poll()
	}
	if got := nic.Stats().RxDropped; got != 5 {
		t.Fatalf("dropped %d frames, want 5", got)
	}
	if nic.isr&(ne2kISROVW|ne2kISRRST) != ne2kISROVW|ne2kISRRST || nic.rsr&ne2kRSRMPA == 0 {
		t.Fatalf("after the overflow ISR = %#x, RSR = %#x; want OVW, RST and MPA", nic.isr, nic.rsr)
	}
	// ei_interrupt → ei_rx_overrun drains the ring; then the queued frames
	// flow in.
	for i := 0; len(d.rx) < 12+ne2kQueue && i < 100; i++ {
		d.service()
		nic.Poll()
	}
	if d.overruns != 1 {
		t.Errorf("overruns = %d, want 1", d.overruns)
	}
	sameFrames(t, sent[:12+ne2kQueue], d.rx, "frames received around the overflow")
	d.out(tCMD, cmdNoDMA|cmdStart)
	equal(t, byte(5), d.in(tCNTR0+2), "missed packet tally")
	equal(t, byte(0), d.in(tCNTR0+2), "missed packet tally after reading")
	if nic.isr&ne2kISRRST != 0 {
		t.Error("RST still set after the recovery")
	}

	// A frame larger than the whole ring can never be stored: it is lost
	// at once, as an overflow.
	d.out(tISR, 0xFF)
	fn.inject(ethFrame(d.mac, 52*256, 0))
	nic.Poll()
	if nic.isr&ne2kISROVW == 0 || nic.Stats().RxDropped != 6 {
		t.Errorf("oversized frame: ISR %#x, stats %+v", nic.isr, nic.Stats())
	}
}

// TestNE2000Filter checks the address filter: multicast hashing against an
// independent computation of the hash, promiscuous mode, broadcast off,
// monitor mode.
func TestNE2000Filter(t *testing.T) {
	nic, fn := newTestNE2000(t, NE2000Config{})
	d := newNE2kDriver(t, nic)
	d.probe()
	d.init(true)

	// Linux's ether_crc is the bit-reversed complement of the IEEE CRC-32.
	hash := func(a [6]byte) int { return int(bits.Reverse32(^crc32.ChecksumIEEE(a[:])) >> 26) }
	group := [6]byte{0x01, 0x00, 0x5E, 0x00, 0x00, 0x01}
	other := [6]byte{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}
	if hash(group) == hash(other) {
		t.Fatal("test addresses share a hash bit")
	}
	equal(t, hash(group), int(ne2kHash(group[:])), "hash of %x", group)
	h := hash(group)
	d.mcfilter[h>>3] |= 1 << (h & 7)
	d.rxConfig = 0x04 | 0x08 // AB, AM
	d.setMulticast()
	recv := func(dst [6]byte) bool {
		t.Helper()
		before := nic.Stats().RxFrames
		fn.inject(ethFrame(dst, 64, 0))
		nic.Poll()
		d.service()
		return nic.Stats().RxFrames > before
	}
	stranger := [6]byte{0x02, 0, 0, 0, 0, 7}
	equal(t, true, recv(group), "subscribed multicast")
	equal(t, false, recv(other), "other multicast")
	equal(t, true, recv(broadcast), "broadcast")
	equal(t, false, recv(stranger), "another station")
	equal(t, true, recv(d.mac), "our address")

	d.rxConfig = 0x00 // no broadcast, no multicast
	d.setMulticast()
	equal(t, false, recv(broadcast), "broadcast with AB off")
	equal(t, false, recv(group), "multicast with AM off")

	d.rxConfig = 0x04 | 0x08 | 0x10 // promiscuous, as Linux sets it
	d.mcfilter = [8]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	d.setMulticast()
	for _, a := range [][6]byte{group, other, broadcast, stranger, d.mac} {
		equal(t, true, recv(a), "promiscuous: %x", a)
	}
	// The PHY bit of the status tells multicast from physical.
	equal(t, byte(0x01), nic.rsr, "RSR for our address")
	recv(group)
	equal(t, byte(0x21), nic.rsr, "RSR for a multicast address")

	// Monitor mode: checked and counted as missed, not stored.
	d.out(tRXCR, 0x20|0x04)
	fn.inject(ethFrame(broadcast, 64, 0))
	nic.Poll()
	equal(t, byte(1), d.in(tCNTR0+2), "missed tally in monitor mode")
	equal(t, byte(0x30), nic.rsr, "RSR in monitor mode: MPA, PHY")
}

// TestNE2000Loopback: in loopback the card is off the wire, and what it
// transmits comes back to its receiver.
func TestNE2000Loopback(t *testing.T) {
	nic, fn := newTestNE2000(t, NE2000Config{})
	d := newNE2kDriver(t, nic)
	d.probe()
	d.init(true)
	d.out(tTXCR, 0x02)
	fn.inject(ethFrame(d.mac, 64, 1))
	nic.Poll()
	if nic.Stats().RxFrames != 0 {
		t.Fatal("received from the wire in loopback")
	}
	f := ethFrame(d.mac, 128, 2)
	d.xmit(f)
	if len(fn.frames()) != 0 {
		t.Fatal("transmitted to the wire in loopback")
	}
	d.service()
	equal(t, [][]byte{f}, d.rx, "frame looped back")
	equal(t, 1, d.txDone, "transmit completions")
}

// TestNE2000RemoteDMA checks byte mode, the byte order swap, and the
// completion of zero-length and counted transfers.
func TestNE2000RemoteDMA(t *testing.T) {
	mac := [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	nic, _ := newTestNE2000(t, NE2000Config{MAC: mac})
	io := Device(nic)
	setup := func(dcr byte, addr, count uint16, cmd byte) {
		out8(io, tCMD, cmdNoDMA|cmdStart)
		out8(io, tDCFG, dcr)
		out8(io, tISR, 0xFF)
		out8(io, tRSARLO, byte(addr))
		out8(io, tRSARHI, byte(addr>>8))
		out8(io, tRCNTLO, byte(count))
		out8(io, tRCNTHI, byte(count>>8))
		out8(io, tCMD, cmd|cmdStart)
	}
	// Byte mode: the PROM reads doubled, the way ne.c detects word cards.
	setup(0x48, 0, 32, cmdRRead)
	var prom []byte
	for range 32 {
		prom = append(prom, in8(io, tData))
	}
	equal(t, []byte{2, 2, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55}, prom[:12], "PROM in byte mode")
	equal(t, []byte{0x57, 0x57, 0x57, 0x57}, prom[28:], "PROM signature")
	equal(t, byte(isrRDC), in8(io, tISR)&isrRDC, "RDC after the count")

	// Word mode: 16-bit writes and reads; BOS swaps the bytes.
	setup(0x49, 0x4000, 4, cmdRWrite)
	out16(io, tData, 0x1234)
	out16(io, tData, 0x5678)
	out16(io, tData, 0x9ABC) // past the count: lost
	equal(t, []byte{0x34, 0x12, 0x78, 0x56, 0}, nic.ram[:5], "RAM after word writes")
	setup(0x4B, 0x4000, 4, cmdRRead)
	equal(t, uint16(0x3412), in16(io, tData), "word read with BOS")
	setup(0x49, 0x4000, 4, cmdRRead)
	equal(t, uint32(0x56781234), in32(io, tData), "dword read")

	// A command with a zero count completes at once.
	setup(0x49, 0x4000, 0, cmdRRead)
	equal(t, byte(isrRDC), in8(io, tISR)&isrRDC, "RDC for a zero-length transfer")

	// Send Packet: the DMA is set up from BNRY and the buffer header.
	copy(nic.ram[0x1000:], []byte{0x01, 0x51, 0x40, 0x00})
	out8(io, tBNRY, 0x50)
	out8(io, tCMD, 0x18|cmdStart)
	equal(t, [2]uint16{0x5000, 0x40}, [2]uint16{nic.rsar, nic.rbcr}, "RSAR and RBCR after Send Packet")

	// Page 2 reads back the configuration; page 0 has the RTL8029 ID.
	out8(io, tCMD, 0x80|cmdNoDMA|cmdStart)
	equal(t, byte(0x49), in8(io, tDCFG), "DCR on page 2")
	out8(io, tCMD, cmdNoDMA|cmdStart)
	equal(t, [2]byte{0x50, 0x43}, [2]byte{in8(io, 0x0A), in8(io, 0x0B)}, "RTL8029 ID")
}

// TestNE2000BadProgramming: nonsense from the guest is clamped or ignored.
func TestNE2000BadProgramming(t *testing.T) {
	var log logRecorder
	nic, fn := newTestNE2000(t, NE2000Config{RAMSize: NE2000RAM16K, Logf: log.logf})
	io := Device(nic)
	out8(io, tCMD, cmdNoDMA|cmdStart)
	out8(io, tIMR, isrAll)
	xmit := func(page byte, count uint16) {
		out8(io, tISR, 0xFF)
		out8(io, tTCNTLO, byte(count))
		out8(io, tTCNTHI, byte(count>>8))
		out8(io, tTSR, page)
		out8(io, tCMD, cmdNoDMA|cmdStart|cmdTrans)
	}
	xmit(0x40, 0)
	equal(t, byte(isrTXErr), in8(io, tISR), "ISR after TBCR 0")
	equal(t, byte(ne2kTSRABT), in8(io, tTSR), "TSR after TBCR 0")
	xmit(0x20, 100) // below the RAM
	equal(t, byte(isrTXErr), in8(io, tISR), "ISR after a TPSR below the RAM")
	xmit(0x80, 100) // past the 16 KiB RAM
	equal(t, byte(isrTXErr), in8(io, tISR), "ISR after a TPSR past the RAM")
	xmit(0x7F, 0xFFFF) // runs past the end: cut there
	equal(t, byte(isrTX), in8(io, tISR), "ISR after a huge TBCR")
	if fr := fn.frames(); len(fr) != 1 || len(fr[0]) != 256 {
		t.Fatalf("huge TBCR sent %d frames", len(fr))
	}
	if !log.contains("outside the buffer RAM") {
		t.Errorf("no report of the bad transmissions:\n%s", log.String())
	}

	// Remote DMA beyond the RAM: reads 0xFF, writes vanish, the address
	// wraps at 64 KiB.
	out8(io, tRSARLO, 0xFC)
	out8(io, tRSARHI, 0xFF)
	out8(io, tRCNTLO, 0xFF)
	out8(io, tRCNTHI, 0xFF)
	out8(io, tCMD, cmdRWrite|cmdStart)
	for range 8 {
		out32(io, tData, 0xDEADBEEF)
	}
	out8(io, tRSARLO, 0xFC)
	out8(io, tRSARHI, 0xFF)
	out8(io, tCMD, cmdRRead|cmdStart)
	equal(t, uint32(0xFFFFFFFF), in32(io, tData), "read past the RAM")
	equal(t, uint32(0x54545252), in32(io, tData), "read wrapped at 64 KiB to the PROM (52 52 54 54)")

	// A ring with PSTART ≥ PSTOP, or outside the RAM, stores nothing.
	out8(io, tCMD, cmdNoDMA|cmdStart)
	out8(io, tRXCR, 0x04)
	out8(io, tTXCR, 0)
	for _, r := range [][3]byte{{0x60, 0x50, 0x55}, {0x60, 0x60, 0x60}, {0xC0, 0xFF, 0xC0}, {0x00, 0x20, 0x10}} {
		out8(io, tSTART, r[0])
		out8(io, tSTOP, r[1])
		out8(io, tBNRY, r[2])
		fn.inject(ethFrame(broadcast, 64, 0))
		nic.Poll()
	}
	// BNRY outside the ring: dropped. CURR outside the ring restarts at
	// PSTART.
	out8(io, tSTART, 0x4C)
	out8(io, tSTOP, 0xF0) // clamped to the 16 KiB RAM: 0x80
	out8(io, tBNRY, 0x10)
	out8(io, tCMD, cmdNoDMA|cmdPage1|cmdStart)
	out8(io, tCURPAG, 0x20)
	out8(io, tCMD, cmdNoDMA|cmdStart)
	fn.inject(ethFrame(broadcast, 64, 1))
	nic.Poll()
	if st := nic.Stats(); st.RxFrames != 0 || st.RxDropped != 5 || nic.pending.Load() {
		t.Fatalf("frame with BNRY outside the ring: %+v", st)
	}
	out8(io, tBNRY, 0x7F)
	fn.inject(ethFrame(broadcast, 64, 1))
	nic.Poll()
	if nic.Stats().RxFrames != 1 || nic.curr != 0x4D {
		t.Fatalf("frame with BNRY back in the ring: %+v, CURR %#x", nic.Stats(), nic.curr)
	}

	// Page 3 and unknown registers.
	out8(io, tCMD, 0xC0|cmdNoDMA|cmdStart)
	for off := uint64(1); off < 16; off++ {
		out8(io, off, 0xFF)
		in8(io, off)
	}
	// Wide accesses to the registers split into bytes; past the window
	// nothing happens.
	out8(io, tCMD, cmdNoDMA|cmdStart)
	nic.Read(0x0E, make([]byte, 8))
	nic.Write(0x0C, make([]byte, 8))
	nic.Read(0x1F, make([]byte, 4))

	if _, err := NewNE2000(NE2000Config{RAMSize: 12345}); err == nil {
		t.Error("RAM of 12345 bytes: no error")
	}
	if _, err := NewNE2000(NE2000Config{MAC: [6]byte{1, 2, 3, 4, 5, 6}}); err == nil {
		t.Error("multicast MAC: no error")
	}
	n, err := NewNE2000(NE2000Config{})
	if err != nil {
		t.Fatal(err)
	}
	if n.MAC() != DefaultMAC || n.Close() != nil {
		t.Errorf("default card: MAC %x", n.MAC())
	}
}

// ne2kFuzzOps drives the card with a byte string: each op is an access at
// a random offset of the window, of 1, 2 or 4 bytes, a frame from the host,
// or a Poll.
func ne2kFuzzOps(nic *NE2000, ops []byte) {
	for len(ops) >= 3 {
		op, off, v := ops[0], uint64(ops[1]&0x1F), ops[2]
		ops = ops[3:]
		size := []int{1, 1, 2, 4}[op>>6]
		data := make([]byte, size)
		for i := range data {
			data[i] = v + byte(i)*0x11
		}
		switch op & 7 {
		case 0, 1, 2:
			nic.Write(off, data)
		case 3, 4:
			nic.Read(off, data)
		case 5:
			f := make([]byte, int(v)*8)
			if len(f) >= 6 && v&1 == 0 {
				copy(f, nic.par[:])
			}
			nic.Deliver(f)
		case 6:
			nic.Poll()
		case 7:
			nic.Write(0, []byte{v&^0xC0 | 0x02}) // start, page 0
		}
	}
	nic.Poll()
}

// TestNE2000RandomRegisters writes random values to random registers, with
// frames arriving, and must not panic.
func TestNE2000RandomRegisters(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		nic, _ := newTestNE2000(t, NE2000Config{RAMSize: []int{NE2000RAM16K, NE2000RAM32K}[seed&1]})
		ops := make([]byte, 30000)
		for i := range ops {
			ops[i] = byte(rng.Uint32())
		}
		ne2kFuzzOps(nic, ops)
	}
}

func FuzzNE2000(f *testing.F) {
	f.Add([]byte{0x02, 0x00, 0x22, 0x00, 0x0C, 0x1F, 0x05, 0x00, 0x40, 0x06, 0, 0})
	f.Add([]byte{0x07, 0, 0x02, 0x00, 0x01, 0x40, 0x00, 0x02, 0x50, 0x05, 0, 0x10, 0x06, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		nic, err := NewNE2000(NE2000Config{RAMSize: NE2000RAM16K, Backend: &fakeNet{}})
		if err != nil {
			t.Fatal(err)
		}
		ne2kFuzzOps(nic, ops)
	})
}

// BenchmarkNE2000PollIdle is the cost of Poll with nothing received: the
// machine pays it every slice.
func BenchmarkNE2000PollIdle(b *testing.B) {
	nic, err := NewNE2000(NE2000Config{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		nic.Poll()
	}
}
