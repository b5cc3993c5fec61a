package devices

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"
	"sync/atomic"
)

// An NE2000-compatible network card on PCI, as a Realtek RTL8029 (10ec:8029),
// the card that Linux's ne2k-pci driver (over the lib8390 core) and QEMU's
// ne2k_pci present. The board is a National Semiconductor DP8390D network
// interface controller ("NIC") with its buffer RAM on the card: the host
// never shares memory with it, but moves packets in and out through the
// NIC's remote DMA channel and a data port. So the card needs no guest
// memory, only one I/O BAR of 32 ports:
//
//	0x00–0x0F  DP8390 registers, in four pages selected by CR.PS1–PS0
//	0x10–0x17  remote DMA data port (drivers use 0x10; 16- and 32-bit reads
//	           and writes move 2 or 4 bytes)
//	0x18–0x1F  reset port: a read resets the card (drivers use 0x1F)
//
// The card's 16-bit address space (QEMU hw/net/ne2000.c layout): the
// station address PROM at 0x0000–0x001F, each of its 16 bytes doubled so a
// word-wide read returns it in the low byte (MAC at 0–5, 0x57 0x57 "WW" at
// 14–15, as NE2000 clones have); buffer RAM from 0x4000, 16 or 32 KiB.
// Elsewhere reads are 0xFF and writes are lost.
//
// Reference: DP8390D/NS32490D datasheet (National Semiconductor, 1995): §7
// packet reception (receive buffer ring, buffer header, overflow), §8
// transmission, §9 remote DMA, §10 registers (§10.3 CR, ISR, IMR, DCR, TCR,
// TSR, RCR, RSR; then the DMA, address and tally registers), §11
// initialisation, §12 loopback; RTL8029AS datasheet for the ID registers.
//
// Emulation choices, where the hardware has timing or where the guest can
// program nonsense:
//   - Transmission is instant: TXP sends TBCR bytes from page TPSR at once,
//     sets PTX and TSR.PTX, and CR.TXP reads 0 again. A TBCR of 0 or a TPSR
//     outside the buffer RAM aborts (TXE, TSR.ABT); a frame running past the
//     end of RAM is cut there.
//   - Received frames wait in a host queue and enter the ring at Poll, on
//     the vCPU goroutine. A frame that does not fit between CURR and BNRY
//     waits for the guest to free the ring (flow control, as QEMU does).
//     At each Poll, once the guest has acknowledged PRX, PRX is raised
//     again as long as the ring holds frames: Linux's ei_receive takes at
//     most 9 frames per interrupt, and without a new frame arriving would
//     never look at the rest (nor free room for waiting ones). Only when
//     the host queue overflows too, or a frame is larger than the whole
//     ring, is a frame lost, and then the NIC reports the ring overflow the
//     datasheet describes (ISR.OVW and RST, the missed-packet tally CNTR2,
//     RSR.MPA). Frames shorter than 60 bytes are padded, as the sender's
//     card would have done on a real wire; the ring holds each frame with
//     its FCS (CRC-32), and the header's byte count includes it.
//   - Frames are received only while started, not in monitor mode (RCR.MON:
//     counted as missed) and not in loopback (TCR.LB ≠ 0, the card is off the
//     wire; a frame transmitted then comes back to the receiver instead).
//   - The address filter is the datasheet's: our PAR address, any unicast
//     with RCR.PRO, broadcast with RCR.AB, multicast with RCR.AM whose CRC
//     hash selects a set bit of MAR0–7.
//   - Remote DMA runs whether or not the NIC is started; its address wraps
//     from PSTOP to PSTART (which ne2k-pci relies on when a frame wraps the
//     ring). Reads past the byte count go on reading; writes past it are
//     lost. In word mode (DCR.WTS) every access of 1 or 2 bytes moves one
//     word (a byte read returns its low half: how drivers read the doubled
//     PROM), one of 4 bytes two words; DCR.BOS swaps the bytes of a word.
//   - Page 3 (RTL8029 configuration registers) reads 0 and ignores writes;
//     so do the unused registers of page 2. DCR.LS is not modelled.
//   - A ring (PSTART, PSTOP) reaching outside the RAM is clamped to it; one
//     that is empty then, or a BNRY outside it (but for PSTART-1, which
//     lib8390 writes), stores nothing: frames are dropped. A CURR outside it
//     restarts at PSTART.

// The PCI identity and the register window.
const (
	NE2000Vendor = 0x10EC
	NE2000Device = 0x8029
	NE2000IOSize = 0x20

	// Buffer RAM sizes: 16 KiB is what ne2k-pci uses (pages 0x40–0x7F).
	NE2000RAM16K = 16 << 10
	NE2000RAM32K = 32 << 10

	ne2kDataPort  = 0x10
	ne2kResetPort = 0x18
	ne2kPROMSize  = 32
	ne2kRAMStart  = 0x4000
	ne2kMinFrame  = 60  // Ethernet minimum without FCS (IEEE 802.3 §3.2.8)
	ne2kFCS       = 4   // frame check sequence stored after each frame
	ne2kHeader    = 4   // receive buffer header (§7: status, next page, count)
	ne2kQueue     = 128 // received frames waiting for room in the ring
	ne2kLogLimit  = 20  // reports of bad programming before going quiet
)

// Command register, CR (§10.3).
const (
	ne2kCRSTP     = 0x01 // stop
	ne2kCRSTA     = 0x02 // start
	ne2kCRTXP     = 0x04 // transmit packet
	ne2kCRRDShift = 3    // RD2–RD0: remote DMA command
	ne2kCRRDAbort = 0x20 // RD2: abort/complete remote DMA
	ne2kCRPSShift = 6    // PS1–PS0: register page

	ne2kRDRead  = 1
	ne2kRDWrite = 2
	ne2kRDSend  = 3
)

// Interrupt status and mask, ISR and IMR (§10.3).
const (
	ne2kISRPRX = 0x01 // packet received
	ne2kISRPTX = 0x02 // packet transmitted
	ne2kISRRXE = 0x04 // receive error
	ne2kISRTXE = 0x08 // transmit error
	ne2kISROVW = 0x10 // receive ring overwrite warning
	ne2kISRCNT = 0x20 // tally counter MSB set
	ne2kISRRDC = 0x40 // remote DMA complete
	ne2kISRRST = 0x80 // reset status: a state, not an interrupt; writes do not clear it
	ne2kISRIRQ = 0x7F // the bits that IMR can enable
)

// Configuration and status bits (§10.3).
const (
	ne2kDCRWTS = 0x01 // word transfer select
	ne2kDCRBOS = 0x02 // byte order select

	ne2kTCRLB = 0x06 // loopback control

	ne2kRCRAB  = 0x04 // accept broadcast
	ne2kRCRAM  = 0x08 // accept multicast (hashed)
	ne2kRCRPRO = 0x10 // promiscuous physical
	ne2kRCRMON = 0x20 // monitor: check, count, do not buffer

	ne2kTSRPTX = 0x01 // packet transmitted
	ne2kTSRABT = 0x08 // transmit aborted

	ne2kRSRPRX = 0x01 // packet received intact
	ne2kRSRMPA = 0x10 // missed packet
	ne2kRSRPHY = 0x20 // multicast or broadcast destination

	ne2kTallyMax = 192 // the tally counters stop here (§10 network tally counters)
)

// NE2000Config says how to build the card.
type NE2000Config struct {
	// MAC is the station address in the PROM (and preloaded in PAR0–5);
	// zero means DefaultMAC.
	MAC [6]byte
	// Backend is the host link; nil leaves the cable unplugged (frames sent
	// vanish, none arrive). The card owns it: Close closes it.
	Backend NetBackend
	// RAMSize is the buffer RAM, NE2000RAM16K or NE2000RAM32K; 0 means 32 KiB.
	RAMSize int
	// Logf receives reports of bad programming by the guest; nil is silent.
	Logf func(format string, args ...any)
}

// NICStats counts a NIC's traffic, for the machine's statistics.
type NICStats struct {
	TxFrames, TxBytes uint64 // handed to the backend
	TxErrors          uint64 // aborted transmissions and backend errors
	RxFrames, RxBytes uint64 // stored for the guest
	// RxDropped counts frames lost: the card stopped, in monitor mode or in
	// loopback, the ring and the host queue full, the ring misprogrammed.
	RxDropped uint64
	// RxFiltered counts frames not addressed to the card.
	RxFiltered uint64
}

// NE2000 is the card. Its registers belong to the vCPU goroutine; only
// Deliver may be called from elsewhere.
type NE2000 struct {
	cs      *PCIConfigSpace
	backend NetBackend
	logf    func(format string, args ...any)
	logged  int
	mac     [6]byte
	prom    [ne2kPROMSize]byte
	ram     []byte

	cr, isr, imr, dcr, tcr, rcr, rsr, tsr uint8
	pstart, pstop, bnry, curr, tpsr, rnpp uint8
	tbcr, rsar, rbcr, clda                uint16
	par                                   [6]byte
	mar                                   [8]byte
	tally                                 [3]uint8 // CNTR0–2: frame alignment, CRC, missed
	line                                  bool     // INTx level last driven
	unread                                bool     // frames stored that the guest may not have read

	mu      sync.Mutex
	queue   [][]byte // received frames, oldest first
	lost    uint64   // frames Deliver dropped, not yet reported to the guest
	pending atomic.Bool

	txFrames, txBytes, txErrors           atomic.Uint64
	rxFrames, rxBytes, rxDropped, rxNotUs atomic.Uint64
}

// NewNE2000 builds the card with its PCI configuration space (BAR 0: the
// 32 I/O ports; interrupt pin INTA#) and attaches it to the backend. Add it
// to the bus with PCIBus.AddDevice; the machine calls Poll between guest
// slices and Close at the end.
func NewNE2000(cfg NE2000Config) (*NE2000, error) {
	switch cfg.RAMSize {
	case 0:
		cfg.RAMSize = NE2000RAM32K
	case NE2000RAM16K, NE2000RAM32K:
	default:
		return nil, fmt.Errorf("ne2k: buffer RAM of %d bytes (want %d or %d)", cfg.RAMSize, NE2000RAM16K, NE2000RAM32K)
	}
	if cfg.MAC == [6]byte{} {
		cfg.MAC = DefaultMAC
	}
	if cfg.MAC[0]&1 != 0 {
		return nil, fmt.Errorf("ne2k: %s is a multicast address", FormatMAC(cfg.MAC))
	}
	n := &NE2000{backend: cfg.Backend, logf: cfg.Logf, mac: cfg.MAC, ram: make([]byte, cfg.RAMSize)}
	n.cs = NewPCIConfigSpace(PCIID{
		Vendor: NE2000Vendor, Device: NE2000Device,
		Class:           0x020000, // network controller, Ethernet (PCI 3.0 Appendix D)
		SubsystemVendor: 0x1AF4, Subsystem: 0x1100,
		Pin: 1,
	})
	if err := n.cs.SetBAR(0, PCIBAR{Kind: PCIBARIO, Size: NE2000IOSize, Dev: n}); err != nil {
		return nil, err
	}
	// The PROM: 16 bytes, each doubled (word-wide board).
	var p [16]byte
	copy(p[:], n.mac[:])
	p[14], p[15] = 0x57, 0x57
	for i, b := range p {
		n.prom[2*i], n.prom[2*i+1] = b, b
	}
	n.par = n.mac
	n.Reset()
	if n.backend != nil {
		n.backend.SetReceiver(n.Deliver)
	}
	return n, nil
}

// PCIConfig returns the configuration space.
func (n *NE2000) PCIConfig() *PCIConfigSpace { return n.cs }

// MAC returns the station address in the PROM.
func (n *NE2000) MAC() [6]byte { return n.mac }

// Stats returns the counters; safe from any goroutine.
func (n *NE2000) Stats() NICStats {
	return NICStats{
		TxFrames: n.txFrames.Load(), TxBytes: n.txBytes.Load(), TxErrors: n.txErrors.Load(),
		RxFrames: n.rxFrames.Load(), RxBytes: n.rxBytes.Load(),
		RxDropped: n.rxDropped.Load(), RxFiltered: n.rxNotUs.Load(),
	}
}

// Close detaches the card from its backend and closes the backend.
func (n *NE2000) Close() error {
	if n.backend == nil {
		return nil
	}
	n.backend.SetReceiver(nil)
	return n.backend.Close()
}

// Reset is the card's reset (a read of the reset port, or the machine's):
// the NIC stops, ISR.RST is set and all interrupts are masked (§11). The
// address, ring and configuration registers keep their values.
func (n *NE2000) Reset() {
	n.cr = ne2kCRSTP | ne2kCRRDAbort
	n.isr = ne2kISRRST
	n.imr = 0
	n.rbcr = 0
	n.updateIRQ()
}

// Deliver queues a frame received from the host; safe from any goroutine,
// and the backend's receiver. The card takes ownership of frame. It enters
// the ring at the next Poll; with the host queue full it is dropped.
func (n *NE2000) Deliver(frame []byte) {
	n.mu.Lock()
	if len(n.queue) >= ne2kQueue {
		n.lost++
		n.rxDropped.Add(1)
	} else {
		n.queue = append(n.queue, frame)
	}
	n.pending.Store(true)
	n.mu.Unlock()
}

// Poll moves queued frames into the receive ring while they fit, raises
// PRX again for frames the guest left in the ring, and updates the
// interrupt. It costs one atomic load when nothing waits.
func (n *NE2000) Poll() {
	if n.pending.Load() {
		n.drain()
	}
	if n.unread {
		n.rekick()
	}
}

// drain moves queued frames into the ring while they fit.
func (n *NE2000) drain() {
	n.mu.Lock()
	lost := n.lost
	n.lost = 0
	i := 0
	for ; i < len(n.queue); i++ {
		if !n.receiveFromWire(n.queue[i]) {
			break
		}
	}
	k := copy(n.queue, n.queue[i:])
	clear(n.queue[k:])
	n.queue = n.queue[:k]
	n.pending.Store(k > 0)
	n.mu.Unlock()
	if lost > 0 && n.cr&ne2kCRSTA != 0 {
		n.overflow(lost)
	}
	n.updateIRQ()
}

// rekick raises PRX again while the ring holds frames and the guest has
// acknowledged PRX: lib8390's ei_receive takes at most 9 frames per call
// and acknowledges PRX after them, so frames past those would wait for the
// next arrival (or forever, if frames wait in the queue for room). The
// unread flag is cleared once the guest has emptied the ring.
func (n *NE2000) rekick() {
	if n.isr&ne2kISRPRX != 0 {
		return
	}
	first, stop, _, free, ok := n.ring()
	if !ok || n.cr&ne2kCRSTA == 0 || free >= stop-first-1 {
		n.unread = false
		return
	}
	n.isr |= ne2kISRPRX
	n.updateIRQ()
}

// Read reads from the register window.
func (n *NE2000) Read(offset uint64, data []byte) {
	switch {
	case offset < ne2kDataPort:
		readBytes(ne2kDataPort, offset, data, n.readReg)
	case offset < ne2kResetPort:
		n.dataRead(data)
	default:
		n.Reset()
		clear(data)
	}
	n.updateIRQ()
}

// Write writes to the register window.
func (n *NE2000) Write(offset uint64, data []byte) {
	switch {
	case offset < ne2kDataPort:
		writeBytes(ne2kDataPort, offset, data, n.writeReg)
	case offset < ne2kResetPort:
		n.dataWrite(data)
	default:
		// The reset port: a write ends the reset pulse; nothing to do.
	}
	n.updateIRQ()
}

func (n *NE2000) log(format string, args ...any) {
	if n.logf == nil || n.logged > ne2kLogLimit {
		return
	}
	n.logged++
	if n.logged > ne2kLogLimit {
		n.logf("ne2k %s: further reports of bad programming suppressed", FormatMAC(n.mac))
		return
	}
	n.logf("ne2k %s: "+format, append([]any{FormatMAC(n.mac)}, args...)...)
}

// updateIRQ drives INTx: any ISR bit that IMR enables (§10.3).
func (n *NE2000) updateIRQ() {
	level := n.isr&n.imr&ne2kISRIRQ != 0
	if level != n.line {
		n.line = level
		n.cs.SetINTx(level)
	}
}

func (n *NE2000) page() uint8 { return n.cr >> ne2kCRPSShift }

// readReg reads register off (0–15) of the current page (§10.1 register
// address map).
func (n *NE2000) readReg(off uint64) byte {
	if off == 0 {
		return n.cr
	}
	switch n.page() {
	case 0:
		switch off {
		case 1:
			return byte(n.clda)
		case 2:
			return byte(n.clda >> 8)
		case 3:
			return n.bnry
		case 4:
			return n.tsr
		case 7:
			return n.isr
		case 8:
			return byte(n.rsar)
		case 9:
			return byte(n.rsar >> 8)
		case 0xA:
			return 0x50 // RTL8029 ID0 'P'
		case 0xB:
			return 0x43 // RTL8029 ID1 'C'
		case 0xC:
			return n.rsr
		case 0xD, 0xE, 0xF:
			// Tally counters clear when read (ne2k-pci's probe checks it).
			v := n.tally[off-0xD]
			n.tally[off-0xD] = 0
			return v
		}
		return 0 // NCR, FIFO
	case 1:
		switch {
		case off <= 6:
			return n.par[off-1]
		case off == 7:
			return n.curr
		}
		return n.mar[off-8]
	case 2:
		switch off {
		case 1:
			return n.pstart
		case 2:
			return n.pstop
		case 3:
			return n.rnpp
		case 4:
			return n.tpsr
		case 5:
			return n.curr // local next packet pointer
		case 6:
			return byte(n.clda >> 8)
		case 7:
			return byte(n.clda)
		case 0xC:
			return n.rcr
		case 0xD:
			return n.tcr
		case 0xE:
			return n.dcr
		case 0xF:
			return n.imr
		}
		return 0
	}
	return 0 // page 3
}

// writeReg writes register off (0–15) of the current page.
func (n *NE2000) writeReg(off uint64, v byte) {
	if off == 0 {
		n.writeCR(v)
		return
	}
	switch n.page() {
	case 0:
		switch off {
		case 1:
			n.pstart = v
		case 2:
			n.pstop = v
		case 3:
			n.bnry = v
			// Packets removed from the ring end the overflow state (§10.3 ISR.RST).
			if n.cr&ne2kCRSTA != 0 {
				n.isr &^= ne2kISRRST
			}
		case 4:
			n.tpsr = v
		case 5:
			n.tbcr = n.tbcr&0xFF00 | uint16(v)
		case 6:
			n.tbcr = n.tbcr&0x00FF | uint16(v)<<8
		case 7:
			n.isr &^= v & ne2kISRIRQ
		case 8:
			n.rsar = n.rsar&0xFF00 | uint16(v)
		case 9:
			n.rsar = n.rsar&0x00FF | uint16(v)<<8
		case 0xA:
			n.rbcr = n.rbcr&0xFF00 | uint16(v)
		case 0xB:
			n.rbcr = n.rbcr&0x00FF | uint16(v)<<8
		case 0xC:
			n.rcr = v & 0x3F
		case 0xD:
			n.tcr = v & 0x1F
		case 0xE:
			n.dcr = v & 0x7F
		case 0xF:
			n.imr = v & ne2kISRIRQ
		}
	case 1:
		switch {
		case off <= 6:
			n.par[off-1] = v
		case off == 7:
			n.curr = v
		default:
			n.mar[off-8] = v
		}
	case 2:
		if off == 3 {
			n.rnpp = v
		}
	}
}

// writeCR handles the command register (§10.3): STP stops (and wins over
// STA), STA starts, neither keeps the state; TXP transmits; RD2–RD0 start
// a remote DMA command.
func (n *NE2000) writeCR(v byte) {
	switch {
	case v&ne2kCRSTP != 0:
		n.cr = v &^ ne2kCRSTA
		n.isr |= ne2kISRRST
	case v&ne2kCRSTA != 0:
		n.cr = v
		n.isr &^= ne2kISRRST
	default:
		n.cr = v | n.cr&(ne2kCRSTA|ne2kCRSTP)
	}
	switch (v >> ne2kCRRDShift) & 7 {
	case ne2kRDSend:
		// Send Packet (§9): remote read of the packet at BNRY, with the
		// byte count from its buffer header.
		n.rsar = uint16(n.bnry) << 8
		n.rbcr = uint16(n.memRead(n.rsar+2)) | uint16(n.memRead(n.rsar+3))<<8
		fallthrough
	case ne2kRDRead, ne2kRDWrite:
		if n.rbcr == 0 {
			n.isr |= ne2kISRRDC // nothing to move: complete at once
		}
	}
	if n.cr&ne2kCRTXP != 0 {
		if n.cr&ne2kCRSTA != 0 {
			n.transmit()
		}
		n.cr &^= ne2kCRTXP
	}
}

// memRead reads the card's address space: PROM, RAM, or nothing (0xFF).
func (n *NE2000) memRead(addr uint16) byte {
	a := int(addr)
	switch {
	case a < ne2kPROMSize:
		return n.prom[a]
	case a >= ne2kRAMStart && a < ne2kRAMStart+len(n.ram):
		return n.ram[a-ne2kRAMStart]
	}
	return 0xFF
}

func (n *NE2000) memWrite(addr uint16, v byte) {
	if a := int(addr); a >= ne2kRAMStart && a < ne2kRAMStart+len(n.ram) {
		n.ram[a-ne2kRAMStart] = v
	}
}

// rsarStep advances the remote DMA address, wrapping from PSTOP to PSTART.
func (n *NE2000) rsarStep() {
	n.rsar++
	if n.pstop > n.pstart && n.rsar == uint16(n.pstop)<<8 {
		n.rsar = uint16(n.pstart) << 8
	}
}

// dmaCount counts k bytes moved; reaching zero completes the remote DMA.
func (n *NE2000) dmaCount(k uint16) {
	if n.rbcr == 0 {
		return
	}
	n.rbcr -= min(k, n.rbcr)
	if n.rbcr == 0 {
		n.isr |= ne2kISRRDC
	}
}

// dataRead is a read of the data port: remote DMA from the card.
func (n *NE2000) dataRead(data []byte) {
	if n.dcr&ne2kDCRWTS == 0 {
		for i := range data {
			data[i] = n.memRead(n.rsar)
			n.rsarStep()
			n.dmaCount(1)
		}
		return
	}
	for i := 0; i < len(data); i += 2 {
		lo := n.memRead(n.rsar)
		n.rsarStep()
		hi := n.memRead(n.rsar)
		n.rsarStep()
		n.dmaCount(2)
		if n.dcr&ne2kDCRBOS != 0 {
			lo, hi = hi, lo
		}
		data[i] = lo
		if i+1 < len(data) {
			data[i+1] = hi
		}
	}
}

// dataWrite is a write of the data port: remote DMA to the card. Nothing
// moves once the byte count is exhausted.
func (n *NE2000) dataWrite(data []byte) {
	if n.dcr&ne2kDCRWTS == 0 {
		for _, v := range data {
			if n.rbcr == 0 {
				return
			}
			n.memWrite(n.rsar, v)
			n.rsarStep()
			n.dmaCount(1)
		}
		return
	}
	for i := 0; i < len(data); i += 2 {
		if n.rbcr == 0 {
			return
		}
		lo, hi := data[i], byte(0)
		if i+1 < len(data) {
			hi = data[i+1]
		}
		if n.dcr&ne2kDCRBOS != 0 {
			lo, hi = hi, lo
		}
		n.memWrite(n.rsar, lo)
		n.rsarStep()
		n.memWrite(n.rsar, hi)
		n.rsarStep()
		n.dmaCount(2)
	}
}

// transmit sends the frame at page TPSR, TBCR bytes long (§8).
func (n *NE2000) transmit() {
	start, length := int(n.tpsr)<<8, int(n.tbcr)
	end := ne2kRAMStart + len(n.ram)
	if length == 0 || start < ne2kRAMStart || start >= end {
		n.log("transmit of %d bytes from page %#x, outside the buffer RAM; aborted", length, n.tpsr)
		n.tsr = ne2kTSRABT
		n.isr |= ne2kISRTXE
		n.txErrors.Add(1)
		return
	}
	frame := n.ram[start-ne2kRAMStart : min(start+length, end)-ne2kRAMStart]
	n.tsr = ne2kTSRPTX
	n.isr |= ne2kISRPTX
	if n.tcr&ne2kTCRLB != 0 {
		// Loopback (§12): the frame comes back to our own receiver. Copy it:
		// the receiver may overwrite the transmit buffer.
		if !n.receive(append([]byte(nil), frame...)) {
			n.overflow(1)
			n.rxDropped.Add(1)
		}
		return
	}
	n.txFrames.Add(1)
	n.txBytes.Add(uint64(len(frame)))
	if n.backend == nil {
		return
	}
	if err := n.backend.Send(frame); err != nil {
		n.txErrors.Add(1)
		n.log("transmit: %v", err)
	}
}

// receiveFromWire takes a frame from the host queue; it reports false if the
// frame must wait for room in the ring.
func (n *NE2000) receiveFromWire(frame []byte) bool {
	if n.tcr&ne2kTCRLB != 0 { // off the wire in loopback
		n.rxDropped.Add(1)
		return true
	}
	return n.receive(frame)
}

// receive stores a frame in the ring if the NIC takes it (§7); it reports
// false only if the frame is wanted but the ring has no room for it now.
func (n *NE2000) receive(frame []byte) bool {
	if n.cr&ne2kCRSTA == 0 || len(frame) < 6 {
		n.rxDropped.Add(1)
		return true
	}
	var phy uint8
	if frame[0]&1 != 0 {
		phy = ne2kRSRPHY
	}
	if !n.accepts(frame) {
		n.rxNotUs.Add(1)
		return true
	}
	if n.rcr&ne2kRCRMON != 0 {
		n.missed(1)
		n.rsr = ne2kRSRMPA | phy
		n.rxDropped.Add(1)
		return true
	}
	first, stop, curr, free, ok := n.ring()
	if !ok {
		n.log("receive ring PSTART %#x PSTOP %#x BNRY %#x is empty or outside the buffer RAM; frame dropped", n.pstart, n.pstop, n.bnry)
		n.rxDropped.Add(1)
		return true
	}
	pages := stop - first
	size := max(len(frame), ne2kMinFrame)
	need := (ne2kHeader + size + ne2kFCS + 255) >> 8
	if need > pages-1 { // larger than the whole ring
		n.overflow(1)
		n.rxDropped.Add(1)
		return true
	}
	if need > free {
		return false
	}
	next := first + (curr-first+need)%pages
	count := size + ne2kFCS
	n.rsr = ne2kRSRPRX | phy
	hdr := [ne2kHeader]byte{n.rsr, byte(next), byte(count), byte(count >> 8)}
	fcs := crc32.Update(0, crc32.IEEETable, frame)
	var tail [ne2kMinFrame + ne2kFCS]byte // padding, then the FCS
	pad := size - len(frame)
	fcs = crc32.Update(fcs, crc32.IEEETable, tail[:pad])
	binary.LittleEndian.PutUint32(tail[pad:], fcs)

	addr := curr << 8
	addr = n.ringWrite(addr, hdr[:], first, stop)
	addr = n.ringWrite(addr, frame, first, stop)
	addr = n.ringWrite(addr, tail[:pad+ne2kFCS], first, stop)
	n.clda = uint16(addr)
	n.curr = byte(next)
	n.isr |= ne2kISRPRX
	n.unread = true
	n.rxFrames.Add(1)
	n.rxBytes.Add(uint64(len(frame)))
	return true
}

// ring returns the receive ring [first, stop) in pages, clamped to the
// RAM; CURR, restarted at PSTART if outside the ring; and the free pages
// from CURR up to BNRY, which the NIC never writes (§7). A BNRY of PSTART-1
// stands for the last page: lib8390 writes "next frame - 1" there when the
// next frame is at PSTART. ok is false if the ring is empty or BNRY lies
// outside it otherwise.
func (n *NE2000) ring() (first, stop, curr, free int, ok bool) {
	first, stop = max(int(n.pstart), ne2kRAMStart>>8), min(int(n.pstop), (ne2kRAMStart+len(n.ram))>>8)
	b := int(n.bnry)
	if b == first-1 {
		b = stop - 1
	}
	if first >= stop || b < first || b >= stop {
		return 0, 0, 0, 0, false
	}
	pages := stop - first
	curr = int(n.curr)
	if curr < first || curr >= stop {
		curr = first
	}
	return first, stop, curr, (b - curr + pages) % pages, true
}

// ringWrite stores data at addr in the ring [first, stop) (pages), wrapping
// at its end, and returns the address after it.
func (n *NE2000) ringWrite(addr int, data []byte, first, stop int) int {
	for len(data) > 0 {
		if addr >= stop<<8 {
			addr = first << 8
		}
		k := copy(n.ram[addr-ne2kRAMStart:(stop<<8)-ne2kRAMStart], data)
		addr += k
		data = data[k:]
	}
	return addr
}

// accepts is the address filter (§10.3 RCR; §10 multicast address registers): the frame's
// destination is ours, or any unicast with PRO, broadcast with AB, or a
// multicast whose hash bit is set with AM.
func (n *NE2000) accepts(frame []byte) bool {
	dst := frame[:6]
	if dst[0]&1 == 0 {
		return n.rcr&ne2kRCRPRO != 0 || [6]byte(dst) == n.par
	}
	if [6]byte(dst) == [6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF} {
		return n.rcr&ne2kRCRAB != 0
	}
	h := ne2kHash(dst)
	return n.rcr&ne2kRCRAM != 0 && n.mar[h>>3]&(1<<(h&7)) != 0
}

// ne2kHash is the multicast filter index: the six most significant bits of
// the Ethernet CRC-32 of the address, computed MSB first without the final
// inversion (§10 multicast address registers; Linux ether_crc, which lib8390's make_mc_bits uses).
// Bits 5–3 select MAR0–7, bits 2–0 the bit in it.
func ne2kHash(addr []byte) uint8 {
	crc := uint32(0xFFFFFFFF)
	for _, b := range addr {
		for i := range 8 {
			fb := crc>>31 ^ uint32(b>>i)&1
			crc <<= 1
			if fb != 0 {
				crc ^= 0x04C11DB7
			}
		}
	}
	return uint8(crc >> 26)
}

// overflow reports lost frames: the ring overwrite warning, the reset
// status the datasheet sets with it, and the missed-packet tally (§7
// "Buffer Ring Overflow").
func (n *NE2000) overflow(frames uint64) {
	n.isr |= ne2kISROVW | ne2kISRRST
	n.rsr |= ne2kRSRMPA
	n.missed(frames)
}

// missed counts in CNTR2, which stops at 192; ISR.CNT rises with its MSB.
func (n *NE2000) missed(frames uint64) {
	n.tally[2] = uint8(min(uint64(n.tally[2])+frames, ne2kTallyMax))
	if n.tally[2]&0x80 != 0 {
		n.isr |= ne2kISRCNT
	}
}
