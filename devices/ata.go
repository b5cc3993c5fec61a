package devices

import (
	"encoding/binary"
	"fmt"
)

// An ATA hard disk, device 0 of an IDE channel: on the primary channel the
// command block is at 0x1F0–0x1F7, device control / alternate status at
// 0x3F6, IRQ 14; on the secondary, 0x170–0x177, 0x376, IRQ 15. Transfers
// are PIO, or DMA when the disk sits on a controller with a bus master (the
// PIIX3 IDE function, piixide.go); without one, IDENTIFY advertises no DMA
// and DMA commands abort. There is no device 1: with it selected, register
// reads return 0 as QEMU does for an absent device, and commands other than
// EXECUTE DEVICE DIAGNOSTIC are ignored. Commands complete at once, so BSY
// is seen only during SRST.
//
// Reference: ATA/ATAPI-6 (T13/1410D rev 3b): §6 (register model), §7.x
// (registers), §8 (commands, cited per command), §9.5–9.6 (PIO data-in and
// data-out protocols), §9.7 (DMA protocol), §9.12 (signature).

// Primary channel resources.
const (
	ATACommandBase = 0x1F0
	ATAControlBase = 0x3F6
	ATAIRQ         = 14
)

// Secondary channel resources.
const (
	ATASecondaryCommandBase = 0x170
	ATASecondaryControlBase = 0x376
	ATASecondaryIRQ         = 15
)

// ATAChannel says where a channel's registers and interrupt are: 8 command
// block ports at CommandBase, one control port at ControlBase, an ISA IRQ.
type ATAChannel struct {
	CommandBase, ControlBase uint64
	IRQ                      int
}

// The two legacy ("compatibility mode") channels of a PC.
var (
	ATAPrimary   = ATAChannel{ATACommandBase, ATAControlBase, ATAIRQ}
	ATASecondary = ATAChannel{ATASecondaryCommandBase, ATASecondaryControlBase, ATASecondaryIRQ}
)

// Status and error bits (ATA/ATAPI-6 §7.15, §7.9).
const (
	ataStatusBSY  = 0x80
	ataStatusDRDY = 0x40
	ataStatusDSC  = 0x10 // obsolete "seek complete", set as disks do
	ataStatusDRQ  = 0x08
	ataStatusERR  = 0x01
	ataReady      = ataStatusDRDY | ataStatusDSC

	ataErrorABRT = 0x04
	ataErrorIDNF = 0x10

	ataControlNIEN = 0x02
	ataControlSRST = 0x04
	ataControlHOB  = 0x80

	ataDeviceLBA = 0x40
	ataDeviceDEV = 0x10

	// ataChunkSectors bounds one backend access of a multi-sector command.
	ataChunkSectors = 128
	// ataMaxMultiple is the largest DRQ block of READ/WRITE MULTIPLE, in
	// sectors (IDENTIFY word 47), as QEMU's; it divides ataChunkSectors.
	ataMaxMultiple = 16
)

// SET FEATURES subcommands (ATA/ATAPI-6 §8.37, Table 29) and transfer mode
// values (Table 30).
const (
	ataFeatureWriteCacheOn  = 0x02
	ataFeatureTransferMode  = 0x03
	ataFeatureWriteCacheOff = 0x82

	ataModePIODefault = 0x00 // 0x01: PIO default, IORDY off
	ataModePIO        = 0x08 // | mode 0–4
	ataModeMWDMA      = 0x20 // | mode 0–2
	ataModeUDMA       = 0x40 // | mode 0–5
)

// ataRegister is a command block register with its "previous content" for
// 48-bit commands (ATA/ATAPI-6 §6.2, HOB).
type ataRegister struct{ cur, prev uint8 }

func (r *ataRegister) write(v uint8) { r.prev, r.cur = r.cur, v }

type ataTransfer uint8

const (
	ataNoTransfer ataTransfer = iota
	ataDataIn                 // device to host by PIO: READ SECTORS, IDENTIFY
	ataDataOut                // host to device by PIO: WRITE SECTORS
	ataDMAIn                  // READ DMA waiting for the bus master
	ataDMAOut                 // WRITE DMA waiting for the bus master
)

// ataBusMaster is the DMA engine of the controller a disk is attached to
// (SFF-8038i bus master IDE).
type ataBusMaster interface {
	// dmaRequest tells it that a DMA command waits for data (the device
	// asserts DMARQ); it may run the transfer at once (ATA.dmaTransfer).
	dmaRequest()
	// interrupted tells it that the device raised its interrupt line.
	interrupted()
}

// ATAStats counts the disk's work, for the machine's statistics.
type ATAStats struct {
	Commands, SectorsRead, SectorsWritten, Flushes, Errors uint64
}

// ATA is the disk and its channel registers.
type ATA struct {
	ch      ATAChannel
	disk    BlockBackend
	irq     IRQSink
	bm      ataBusMaster // nil: PIO only
	sectors uint64
	// Default and current CHS geometry (INITIALIZE DEVICE PARAMETERS).
	cylinders, heads, sectorsPerTrack uint16
	curHeads, curSectorsPerTrack      uint16

	feature, count, lbaLow, lbaMid, lbaHigh ataRegister
	device, status, errorReg, control       uint8

	intrq bool // the device's INTRQ, before nIEN and selection
	line  bool // level last driven on the channel's IRQ

	multiple     uint8 // READ/WRITE MULTIPLE block, sectors (SET MULTIPLE MODE); 0: off
	xferMode     uint8 // the mode SET FEATURES selected (Table 30 value)
	writeCacheOn bool  // volatile write cache enabled: writes are durable only after a flush

	// The PIO transfer in progress: buf[pos:blockEnd] is the rest of the
	// current DRQ data block; buf[:filled] was read from the disk. For DMA,
	// nextLBA and left describe the command waiting for the bus master.
	transfer     ataTransfer
	buf          []byte
	pos          int
	blockEnd     int
	filled       int
	blockSectors uint64 // sectors per DRQ block of the command
	nextLBA      uint64 // next sector to read into buf, or to write from it
	left         uint64 // sectors not yet read into buf (in) or not yet written (out)

	stats ATAStats
}

// NewATA returns the disk on the primary channel over backend, wired to
// IRQ 14 of irq (may be nil).
func NewATA(disk BlockBackend, irq IRQSink) *ATA { return NewATAOn(ATAPrimary, disk, irq) }

// NewATAOn returns the disk over backend on channel ch, wired to ch.IRQ of
// irq (may be nil). Map it with Register.
func NewATAOn(ch ATAChannel, disk BlockBackend, irq IRQSink) *ATA {
	a := &ATA{ch: ch, disk: disk, irq: irq, buf: make([]byte, ataChunkSectors*SectorSize)}
	a.sectors = uint64(max(disk.Size(), 0)) / SectorSize
	a.heads, a.sectorsPerTrack = 16, 63
	a.cylinders = uint16(min(max(a.sectors/(16*63), 1), 16383))
	a.curHeads, a.curSectorsPerTrack = a.heads, a.sectorsPerTrack
	a.writeCacheOn = true
	a.setSignature()
	a.status = ataReady
	a.errorReg = 0x01 // diagnostic code: device 0 passed
	return a
}

// Channel returns where the disk's registers and interrupt are.
func (a *ATA) Channel() ATAChannel { return a.ch }

// Register maps the command block and the control port on pio, named name
// and name+"-control".
func (a *ATA) Register(pio *Bus, name string) error {
	if err := pio.Register(a.ch.CommandBase, 8, name, a); err != nil {
		return err
	}
	return pio.Register(a.ch.ControlBase, 1, name+"-control", a.Control())
}

// Stats returns the counters.
func (a *ATA) Stats() ATAStats { return a.stats }

// setSignature loads the ATA device signature (ATA/ATAPI-6 §9.12).
func (a *ATA) setSignature() {
	a.count = ataRegister{cur: 1}
	a.lbaLow = ataRegister{cur: 1}
	a.lbaMid, a.lbaHigh = ataRegister{}, ataRegister{}
	a.device = 0xA0
}

func (a *ATA) slaveSelected() bool { return a.device&ataDeviceDEV != 0 }

// updateIRQ drives the channel's IRQ: INTRQ is asserted only by the
// selected device with nIEN clear (ATA/ATAPI-6 §7.10, nIEN).
func (a *ATA) updateIRQ() {
	level := a.intrq && a.control&ataControlNIEN == 0 && !a.slaveSelected()
	if level != a.line {
		a.line = level
		if a.irq != nil {
			a.irq.SetIRQ(a.ch.IRQ, level)
		}
	}
}

// interrupt asserts INTRQ; a bus master sees it when it reaches the line
// (SFF-8038i: the Interrupt bit follows the device's interrupt).
func (a *ATA) interrupt() {
	a.intrq = true
	a.updateIRQ()
	if a.line && a.bm != nil {
		a.bm.interrupted()
	}
}

// complete ends a command without data, successfully.
func (a *ATA) complete() {
	a.transfer = ataNoTransfer
	a.status = ataReady
	a.errorReg = 0
	a.interrupt()
}

// abort ends a command with ERR and the given error bits.
func (a *ATA) abort(errBits uint8) {
	a.transfer = ataNoTransfer
	a.status = ataReady | ataStatusERR
	a.errorReg = errBits
	a.stats.Errors++
	a.interrupt()
}

// Read reads a command block register (offset 0–7).
func (a *ATA) Read(offset uint64, data []byte) {
	if offset == 0 {
		a.readData(data)
		return
	}
	readBytes(8, offset, data, a.readRegister)
}

// Write writes a command block register (offset 0–7).
func (a *ATA) Write(offset uint64, data []byte) {
	if offset == 0 {
		a.writeData(data)
		return
	}
	writeBytes(8, offset, data, a.writeRegister)
}

func (a *ATA) readRegister(off uint64) byte {
	if off == 6 {
		return a.device
	}
	if a.slaveSelected() {
		return 0
	}
	hob := a.control&ataControlHOB != 0
	pick := func(r ataRegister) byte {
		if hob {
			return r.prev
		}
		return r.cur
	}
	switch off {
	case 1:
		return a.errorReg
	case 2:
		return pick(a.count)
	case 3:
		return pick(a.lbaLow)
	case 4:
		return pick(a.lbaMid)
	case 5:
		return pick(a.lbaHigh)
	default: // 7: reading Status acknowledges the interrupt (§7.15)
		a.intrq = false
		a.updateIRQ()
		return a.status
	}
}

func (a *ATA) writeRegister(off uint64, v byte) {
	if off != 7 {
		a.control &^= ataControlHOB // a register write clears HOB (§7.10)
	}
	switch off {
	case 1:
		a.feature.write(v)
	case 2:
		a.count.write(v)
	case 3:
		a.lbaLow.write(v)
	case 4:
		a.lbaMid.write(v)
	case 5:
		a.lbaHigh.write(v)
	case 6:
		a.device = v | 0xA0 // bits 7 and 5 are obsolete, read as one
		a.updateIRQ()
	case 7:
		a.command(v)
	}
}

// Control returns the device control / alternate status register window
// (one port at the channel's ControlBase).
func (a *ATA) Control() Device { return ataControl{a} }

type ataControl struct{ a *ATA }

// Read returns the alternate status: Status without acknowledging.
func (c ataControl) Read(offset uint64, data []byte) {
	readBytes(1, offset, data, func(uint64) byte {
		if c.a.slaveSelected() {
			return 0
		}
		return c.a.status
	})
}

// Write sets device control: nIEN, SRST, HOB (§7.10). A software reset
// runs while SRST is one and completes when it is cleared.
func (c ataControl) Write(offset uint64, data []byte) {
	writeBytes(1, offset, data, func(_ uint64, v byte) { c.a.writeControl(v) })
}

func (a *ATA) writeControl(v byte) {
	old := a.control
	a.control = v
	switch {
	case v&ataControlSRST != 0 && old&ataControlSRST == 0:
		a.transfer = ataNoTransfer
		a.status = ataStatusBSY
		a.intrq = false
	case v&ataControlSRST == 0 && old&ataControlSRST != 0:
		a.setSignature()
		a.curHeads, a.curSectorsPerTrack = a.heads, a.sectorsPerTrack
		a.status = ataReady
		a.errorReg = 0x01
	}
	a.updateIRQ()
}

// command starts a command (ATA/ATAPI-6 §8).
func (a *ATA) command(cmd byte) {
	if a.slaveSelected() && cmd != 0x90 || a.status&ataStatusBSY != 0 {
		return
	}
	a.stats.Commands++
	a.intrq = false // writing Command clears INTRQ (§7.4)
	a.updateIRQ()
	switch cmd {
	case 0xEC: // IDENTIFY DEVICE (§8.15)
		a.identify()
	case 0x20, 0x21: // READ SECTORS (§8.27)
		if lba, ok := a.address28(); ok {
			a.startRead(lba, a.count28(), 1)
		}
	case 0x24: // READ SECTORS EXT (§8.28)
		a.startRead(a.address48(), a.count48(), 1)
	case 0xC4: // READ MULTIPLE (§8.23)
		if lba, ok := a.address28(); ok && a.multipleOn() {
			a.startRead(lba, a.count28(), uint64(a.multiple))
		}
	case 0x29: // READ MULTIPLE EXT (§8.24)
		if a.multipleOn() {
			a.startRead(a.address48(), a.count48(), uint64(a.multiple))
		}
	case 0x30, 0x31: // WRITE SECTORS (§8.48)
		if lba, ok := a.address28(); ok {
			a.startWrite(lba, a.count28(), 1)
		}
	case 0x34: // WRITE SECTORS EXT (§8.49)
		a.startWrite(a.address48(), a.count48(), 1)
	case 0xC5: // WRITE MULTIPLE (§8.45)
		if lba, ok := a.address28(); ok && a.multipleOn() {
			a.startWrite(lba, a.count28(), uint64(a.multiple))
		}
	case 0x39: // WRITE MULTIPLE EXT (§8.46)
		if a.multipleOn() {
			a.startWrite(a.address48(), a.count48(), uint64(a.multiple))
		}
	case 0xC8, 0xC9: // READ DMA (§8.21; C9h is the obsolete "without retries")
		if lba, ok := a.address28(); ok {
			a.startDMA(lba, a.count28(), false)
		}
	case 0x25: // READ DMA EXT (§8.22)
		a.startDMA(a.address48(), a.count48(), false)
	case 0xCA, 0xCB: // WRITE DMA (§8.42)
		if lba, ok := a.address28(); ok {
			a.startDMA(lba, a.count28(), true)
		}
	case 0x35: // WRITE DMA EXT (§8.43)
		a.startDMA(a.address48(), a.count48(), true)
	case 0x40, 0x41: // READ VERIFY SECTORS (§8.29)
		if lba, ok := a.address28(); ok && a.inRange(lba, a.count28()) {
			a.complete()
		}
	case 0x42: // READ VERIFY SECTORS EXT (§8.30)
		if a.inRange(a.address48(), a.count48()) {
			a.complete()
		}
	case 0xE7, 0xEA: // FLUSH CACHE (EXT) (§8.11, §8.12): durable before completion
		a.stats.Flushes++
		if err := a.disk.Sync(); err != nil {
			a.abort(ataErrorABRT)
			return
		}
		a.complete()
	case 0xEF: // SET FEATURES (§8.37)
		a.setFeatures()
	case 0xC6: // SET MULTIPLE MODE (§8.39): a power of two up to word 47's; 0 turns it off, as QEMU
		n := a.count.cur
		if n > ataMaxMultiple || n&(n-1) != 0 {
			a.abort(ataErrorABRT)
			return
		}
		a.multiple = n
		a.complete()
	case 0xF8: // READ NATIVE MAX ADDRESS (§8.32)
		if a.sectors == 0 {
			a.abort(ataErrorABRT)
			return
		}
		last := min(a.sectors, 1<<28) - 1
		a.lbaLow, a.lbaMid, a.lbaHigh = ataRegister{cur: uint8(last)}, ataRegister{cur: uint8(last >> 8)}, ataRegister{cur: uint8(last >> 16)}
		a.device = a.device&0xF0 | uint8(last>>24)&0x0F
		a.complete()
	case 0x27: // READ NATIVE MAX ADDRESS EXT (§8.33): HOB holds bits 47:24
		if a.sectors == 0 {
			a.abort(ataErrorABRT)
			return
		}
		last := min(a.sectors, 1<<48) - 1
		a.lbaLow = ataRegister{cur: uint8(last), prev: uint8(last >> 24)}
		a.lbaMid = ataRegister{cur: uint8(last >> 8), prev: uint8(last >> 32)}
		a.lbaHigh = ataRegister{cur: uint8(last >> 16), prev: uint8(last >> 40)}
		a.complete()
	case 0x91: // INITIALIZE DEVICE PARAMETERS (§8.16)
		if a.count.cur == 0 {
			a.abort(ataErrorABRT)
			return
		}
		a.curHeads = uint16(a.device&0x0F) + 1
		a.curSectorsPerTrack = uint16(a.count.cur)
		a.complete()
	case 0x90: // EXECUTE DEVICE DIAGNOSTIC (§8.9): signature, code 01h
		a.setSignature()
		a.transfer = ataNoTransfer
		a.status = ataReady
		a.errorReg = 0x01
		a.interrupt()
	case 0xE5: // CHECK POWER MODE (§8.6): active
		a.complete()
		a.count.write(0xFF)
	case 0xE0, 0xE1, 0xE2, 0xE3: // STANDBY/IDLE (IMMEDIATE): nothing to spin
		a.complete()
	default:
		if cmd >= 0x10 && cmd <= 0x1F || cmd >= 0x70 && cmd <= 0x7F { // RECALIBRATE, SEEK (obsolete)
			a.complete()
			return
		}
		a.abort(ataErrorABRT)
	}
}

// multipleOn checks that SET MULTIPLE MODE enabled the READ/WRITE MULTIPLE
// commands; they abort otherwise (§8.23).
func (a *ATA) multipleOn() bool {
	if a.multiple == 0 {
		a.abort(ataErrorABRT)
		return false
	}
	return true
}

// setFeatures runs SET FEATURES (§8.37). A transfer mode must be one that
// IDENTIFY advertises; the write cache can be turned on and off; other
// subcommands are accepted and ignored.
func (a *ATA) setFeatures() {
	switch a.feature.cur {
	case ataFeatureTransferMode:
		if !a.modeSupported(a.count.cur) {
			a.abort(ataErrorABRT)
			return
		}
		a.xferMode = a.count.cur
	case ataFeatureWriteCacheOn:
		a.writeCacheOn = true
	case ataFeatureWriteCacheOff:
		// Writes become durable at completion (writeDurable); what is
		// cached so far is flushed now.
		if err := a.disk.Sync(); err != nil {
			a.abort(ataErrorABRT)
			return
		}
		a.writeCacheOn = false
	}
	a.complete()
}

// modeSupported says whether a SET FEATURES transfer mode value (Table 30)
// is one the disk offers: PIO 0–4, and with a bus master multiword DMA 0–2
// and Ultra DMA 0–5.
func (a *ATA) modeSupported(mode uint8) bool {
	switch {
	case mode == ataModePIODefault || mode == ataModePIODefault+1:
		return true
	case mode&0xF8 == ataModePIO:
		return mode&7 <= 4
	case mode&0xF8 == ataModeMWDMA:
		return a.bm != nil && mode&7 <= 2
	case mode&0xF8 == ataModeUDMA:
		return a.bm != nil && mode&7 <= 5
	}
	return false
}

// count28 returns the sector count of a 28-bit command: 0 means 256.
func (a *ATA) count28() uint64 {
	if a.count.cur == 0 {
		return 256
	}
	return uint64(a.count.cur)
}

// count48 returns the sector count of a 48-bit command: 0 means 65536.
func (a *ATA) count48() uint64 {
	n := uint64(a.count.prev)<<8 | uint64(a.count.cur)
	if n == 0 {
		return 65536
	}
	return n
}

// address28 returns the starting sector of a 28-bit command, from the LBA
// registers or, with the LBA bit clear, from CHS (§7.x, Device register).
// It aborts the command and reports false for an invalid CHS address.
func (a *ATA) address28() (uint64, bool) {
	if a.device&ataDeviceLBA != 0 {
		return uint64(a.device&0x0F)<<24 | uint64(a.lbaHigh.cur)<<16 | uint64(a.lbaMid.cur)<<8 | uint64(a.lbaLow.cur), true
	}
	cylinder := uint64(a.lbaHigh.cur)<<8 | uint64(a.lbaMid.cur)
	head := uint64(a.device & 0x0F)
	sector := uint64(a.lbaLow.cur)
	heads, spt := uint64(a.curHeads), uint64(a.curSectorsPerTrack)
	if sector == 0 || sector > spt || head >= heads {
		a.abort(ataErrorIDNF | ataErrorABRT)
		return 0, false
	}
	return (cylinder*heads+head)*spt + sector - 1, true
}

// address48 returns the starting sector of a 48-bit command.
func (a *ATA) address48() uint64 {
	return uint64(a.lbaHigh.prev)<<40 | uint64(a.lbaMid.prev)<<32 | uint64(a.lbaLow.prev)<<24 |
		uint64(a.lbaHigh.cur)<<16 | uint64(a.lbaMid.cur)<<8 | uint64(a.lbaLow.cur)
}

// inRange checks a request against the capacity; out of range it aborts
// with IDNF (sector not found) and ABRT.
func (a *ATA) inRange(lba, n uint64) bool {
	if lba >= a.sectors || n > a.sectors-lba {
		a.abort(ataErrorIDNF | ataErrorABRT)
		return false
	}
	return true
}

// startRead begins a PIO data-in command (§9.5) with DRQ blocks of block
// sectors.
func (a *ATA) startRead(lba, n, block uint64) {
	if !a.inRange(lba, n) {
		return
	}
	a.transfer = ataDataIn
	a.nextLBA, a.left = lba, n
	a.blockSectors = block
	a.loadChunk()
}

// loadChunk reads the next sectors into buf and offers the first block as
// a DRQ data block, with an interrupt.
func (a *ATA) loadChunk() {
	n := min(a.left, ataChunkSectors)
	size := int(n) * SectorSize
	// A short read is an error; a full one may come with io.EOF at the end
	// of the disk (io.ReaderAt), which is not.
	if got, _ := a.disk.ReadAt(a.buf[:size], int64(a.nextLBA*SectorSize)); got < size {
		a.abort(ataErrorABRT)
		return
	}
	a.stats.SectorsRead += n
	a.nextLBA += n
	a.left -= n
	a.filled, a.pos = size, 0
	a.blockEnd = min(int(a.blockSectors)*SectorSize, size)
	a.status = ataReady | ataStatusDRQ
	a.interrupt()
}

// startWrite begins a PIO data-out command (§9.6): DRQ for the first block,
// without an interrupt.
func (a *ATA) startWrite(lba, n, block uint64) {
	if a.disk.ReadOnly() {
		a.abort(ataErrorABRT)
		return
	}
	if !a.inRange(lba, n) {
		return
	}
	a.transfer = ataDataOut
	a.nextLBA, a.left = lba, n
	a.blockSectors = block
	a.pos, a.blockEnd = 0, int(min(block, n))*SectorSize
	a.status = ataReady | ataStatusDRQ
}

// identify offers the IDENTIFY DEVICE data as one data-in block.
func (a *ATA) identify() {
	id := a.identifyData()
	copy(a.buf, id[:])
	a.transfer = ataDataIn
	a.left = 0
	a.filled, a.pos, a.blockEnd = SectorSize, 0, SectorSize
	a.status = ataReady | ataStatusDRQ
	a.interrupt()
}

// readData reads the data port: the next bytes of the current block. Past
// the block, or with no PIO transfer, it reads all ones.
func (a *ATA) readData(data []byte) {
	for i := range data {
		if a.transfer != ataDataIn || a.slaveSelected() {
			data[i] = 0xFF
			continue
		}
		data[i] = a.buf[a.pos]
		a.pos++
		if a.pos == a.blockEnd {
			a.endDataInBlock()
		}
	}
}

// endDataInBlock moves to the next DRQ block, or ends the command after the
// last one (no interrupt then: §9.5).
func (a *ATA) endDataInBlock() {
	switch {
	case a.pos < a.filled:
		a.blockEnd = min(a.pos+int(a.blockSectors)*SectorSize, a.filled)
		a.interrupt()
	case a.left > 0:
		a.loadChunk()
	default:
		a.transfer = ataNoTransfer
		a.status = ataReady
	}
}

// writeData takes data port writes into the current block; a full block is
// written to the disk at once, before the device reports it done.
func (a *ATA) writeData(data []byte) {
	for _, v := range data {
		if a.transfer != ataDataOut || a.slaveSelected() {
			return
		}
		a.buf[a.pos] = v
		a.pos++
		if a.pos == a.blockEnd {
			a.endDataOutBlock()
		}
	}
}

func (a *ATA) endDataOutBlock() {
	n := uint64(a.blockEnd / SectorSize)
	if got, err := a.disk.WriteAt(a.buf[:a.blockEnd], int64(a.nextLBA*SectorSize)); err != nil || got < a.blockEnd {
		a.abort(ataErrorABRT)
		return
	}
	a.stats.SectorsWritten += n
	a.nextLBA += n
	a.left -= n
	if a.left == 0 {
		if a.writeDurable() {
			a.complete()
		}
		return
	}
	a.pos, a.blockEnd = 0, int(min(a.blockSectors, a.left))*SectorSize
	a.status = ataReady | ataStatusDRQ
	a.interrupt()
}

// writeDurable ends a write command's data phase: with the write cache
// turned off, the data must be durable before completion, so it syncs. It
// aborts the command and reports false if that fails.
func (a *ATA) writeDurable() bool {
	if a.writeCacheOn {
		return true
	}
	if err := a.disk.Sync(); err != nil {
		a.abort(ataErrorABRT)
		return false
	}
	return true
}

// startDMA begins a DMA command (§9.7): after the checks, the device asserts
// DMARQ (DRQ in Status, as QEMU shows it) and waits for the bus master.
func (a *ATA) startDMA(lba, n uint64, write bool) {
	if a.bm == nil || write && a.disk.ReadOnly() {
		a.abort(ataErrorABRT)
		return
	}
	if !a.inRange(lba, n) {
		return
	}
	a.transfer = ataDMAIn
	if write {
		a.transfer = ataDMAOut
	}
	a.nextLBA, a.left = lba, n
	a.status = ataReady | ataStatusDRQ
	a.bm.dmaRequest()
}

// dmaPending reports whether a DMA command waits for the bus master, its
// direction (write: memory to disk) and its length in bytes.
func (a *ATA) dmaPending() (write bool, bytes uint64, ok bool) {
	switch a.transfer {
	case ataDMAIn:
		return false, a.left * SectorSize, true
	case ataDMAOut:
		return true, a.left * SectorSize, true
	}
	return false, 0, false
}

// dmaTransfer runs the pending DMA command to its end. move carries each
// chunk between the bus master's memory and p: for a read it consumes p
// (disk data), for a write it fills p. The command completes, or aborts on
// an error of move or of the backend; the disk is written only within the
// command's sectors. Reports whether it completed.
func (a *ATA) dmaTransfer(move func(p []byte) error) bool {
	write, _, ok := a.dmaPending()
	if !ok {
		return false
	}
	for a.left > 0 {
		n := min(a.left, ataChunkSectors)
		size := int(n) * SectorSize
		p, off := a.buf[:size], int64(a.nextLBA*SectorSize)
		if write {
			if err := move(p); err != nil {
				a.abort(ataErrorABRT)
				return false
			}
			if got, err := a.disk.WriteAt(p, off); err != nil || got < size {
				a.abort(ataErrorABRT)
				return false
			}
			a.stats.SectorsWritten += n
		} else {
			if got, _ := a.disk.ReadAt(p, off); got < size {
				a.abort(ataErrorABRT)
				return false
			}
			if err := move(p); err != nil {
				a.abort(ataErrorABRT)
				return false
			}
			a.stats.SectorsRead += n
		}
		a.nextLBA += n
		a.left -= n
	}
	if write && !a.writeDurable() {
		return false
	}
	a.complete()
	return true
}

// dmaAbort ends the pending DMA command with an error: the bus master could
// not move its data.
func (a *ATA) dmaAbort() { a.abort(ataErrorABRT) }

// attachBusMaster puts the disk behind a controller's bus master.
func (a *ATA) attachBusMaster(bm ataBusMaster) error {
	if a.bm != nil {
		return fmt.Errorf("ATA disk at %#x already has a bus master", a.ch.CommandBase)
	}
	a.bm = bm
	return nil
}

// identifyData builds the IDENTIFY DEVICE block (ATA/ATAPI-6 §8.15,
// Table 16), little-endian words.
func (a *ATA) identifyData() [SectorSize]byte {
	var w [256]uint16
	lba28 := min(a.sectors, 0x0FFFFFFF)
	curCylinders := uint16(min(a.sectors/max(uint64(a.curHeads)*uint64(a.curSectorsPerTrack), 1), 65535))
	curCapacity := uint32(curCylinders) * uint32(a.curHeads) * uint32(a.curSectorsPerTrack)

	w[0] = 0x0040 // ATA device, fixed
	w[1] = a.cylinders
	w[3] = a.heads
	w[6] = a.sectorsPerTrack
	putATAString(w[10:20], "GEMU0000000000000001") // serial number
	putATAString(w[23:27], "1.0")                  // firmware revision
	putATAString(w[27:47], "GEMU HARDDISK")        // model number
	w[47] = 0x8000 | ataMaxMultiple                // READ/WRITE MULTIPLE: up to 16 sectors per block
	w[49] = 0x0A00                                 // LBA, IORDY supported
	w[50] = 0x4000
	w[51] = 0x0200 // PIO mode 2 timing (obsolete word)
	w[53] = 0x0003 // words 54–58 and 64–70 valid
	w[54] = curCylinders
	w[55] = a.curHeads
	w[56] = a.curSectorsPerTrack
	w[57], w[58] = uint16(curCapacity), uint16(curCapacity>>16)
	if a.multiple != 0 {
		w[59] = 0x0100 | uint16(a.multiple) // current multiple setting valid
	}
	w[60], w[61] = uint16(lba28), uint16(lba28>>16)
	if a.bm != nil {
		w[49] |= 0x0100 // DMA supported
		w[53] |= 0x0004 // word 88 valid
		w[63] = 0x0007  // multiword DMA 0–2 supported; bits 10:8 the one selected
		w[88] = 0x003F  // Ultra DMA 0–5 supported; bits 13:8 the one selected
		switch m := a.xferMode; m & 0xF8 {
		case ataModeMWDMA:
			w[63] |= 0x0100 << (m & 7)
		case ataModeUDMA:
			w[88] |= 0x0100 << (m & 7)
		}
	}
	w[64] = 0x0003                                  // PIO modes 3 and 4
	w[65], w[66], w[67], w[68] = 120, 120, 120, 120 // cycle times, ns
	w[80] = 0x007E                                  // ATA-1 to ATA-6
	w[82] = 0x0020                                  // volatile write cache
	w[83] = 0x4000 | 0x2000 | 0x1000 | 0x0400       // FLUSH CACHE EXT, FLUSH CACHE, 48-bit address
	w[84] = 0x4000
	w[85] = 0x0000
	if a.writeCacheOn {
		w[85] |= 0x0020 // write cache enabled: the OS sends FLUSH CACHE
	}
	w[86] = 0x2000 | 0x1000 | 0x0400 // the same, enabled
	w[87] = 0x4000
	w[93] = 0x4001 // device 0, hardware reset result valid
	for i := 0; i < 4; i++ {
		w[100+i] = uint16(a.sectors >> (16 * i))
	}
	var out [SectorSize]byte
	for i, v := range w {
		binary.LittleEndian.PutUint16(out[2*i:], v)
	}
	// Word 255: signature A5h and a checksum making the block sum to 0 (§8.15.63).
	out[510] = 0xA5
	var sum byte
	for _, b := range out[:511] {
		sum += b
	}
	out[511] = -sum
	return out
}

// putATAString stores s space-padded in ATA string order: the first
// character of each pair in the high byte of its word.
func putATAString(words []uint16, s string) {
	for i := range words {
		hi, lo := byte(' '), byte(' ')
		if 2*i < len(s) {
			hi = s[2*i]
		}
		if 2*i+1 < len(s) {
			lo = s[2*i+1]
		}
		words[i] = uint16(hi)<<8 | uint16(lo)
	}
}
