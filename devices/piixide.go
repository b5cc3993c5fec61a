package devices

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gemu-project/gemu/mmu"
)

// The IDE function of the PIIX3, 00:01.1 (8086:7010), as QEMU's piix3-ide
// presents it and SeaBIOS leaves it: both channels in compatibility
// ("legacy") mode at their ISA ports and IRQs 14 and 15 (programming
// interface 80h: bus master capable, neither channel switchable to native
// mode), BARs 0–3 unused, and BAR4 (BMIBA) the 16 bytes of bus master IDE
// registers, 8 per channel. Linux's ata_piix drives it: it checks the IDE
// decode enable bit of each channel's IDETIM register (piix_pata_prereset,
// bit 7 of bytes 41h and 43h), which SeaBIOS sets and so do we, takes the
// legacy ports from the class code, enables bus mastering and uses BAR4 for
// DMA.
//
// The channels' command blocks are the ATA disks themselves (ata.go), mapped
// on the port bus by their owner; this function adds the bus master that
// moves their DMA data between the disk and guest memory.
//
// References: Intel 82371FB/SB PIIX/PIIX3 datasheet (order 290550), §2.5
// IDE configuration registers, §2.7 bus master IDE I/O registers; SFF-8038i
// rev 1.0, "Bus Master Programming Interface for IDE ATA Controllers"
// (register layout, PRD format, the status bit table of §3).

// PCI identity and registers of the function.
const (
	PCIDevicePIIX3IDE = 0x7010 // 82371SB PIIX3 function 1, IDE
	// PCIClassIDELegacyBM is class 01h (mass storage), subclass 01h (IDE),
	// programming interface 80h: bus master; both channels in compatibility
	// mode and not programmable (PCI 3.0 Appendix D).
	PCIClassIDELegacyBM = 0x010180

	piixIDETIMPrimary   = 0x40 // IDETIM, primary channel (16 bits)
	piixIDETIMSecondary = 0x42 // IDETIM, secondary channel
	piixIDEDecode       = 0x8000
	piixBMIBA           = 4 // the BAR that holds the bus master registers
	piixBMSize          = 16
	pciStatusFastBack   = 1 << 7
)

// Bus master IDE registers, per channel (SFF-8038i §2; PIIX3 §2.7).
const (
	bmCommandReg = 0 // BMICOM
	bmStatusReg  = 2 // BMISTA
	bmPRDReg     = 4 // BMIDTP, 4 bytes, dword aligned

	bmCommandStart = 0x01 // start/stop bus master
	bmCommandRead  = 0x08 // 1: the master writes memory (an ATA read)

	bmStatusActive    = 0x01 // bus master IDE active
	bmStatusError     = 0x02 // DMA error (RWC)
	bmStatusInterrupt = 0x04 // the device interrupted (RWC)
	bmStatusCapable   = 0x60 // drive 0/1 DMA capable: storage for the BIOS
	// bit 7, simplex only, reads 0: both channels may DMA at once.

	// prdEOT marks the last physical region descriptor (bit 31 of dword 2).
	prdEOT = 1 << 31
	// bmMaxPRDs bounds a PRD table walk: a table may not cross a 64 KiB
	// boundary (SFF-8038i §1.2), so it has at most 8192 entries.
	bmMaxPRDs = 65536 / 8
)

// PIIXIDEConfig says what the IDE function is wired to.
type PIIXIDEConfig struct {
	// Mem is the guest memory that bus master DMA reads and writes.
	Mem *mmu.Memory
	// Primary and Secondary are the disks of the two channels, nil when a
	// channel is empty. They must have been built for their channel
	// (NewATA / NewATAOn(ATASecondary, …)); their owner maps their ports.
	Primary, Secondary *ATA
}

// PIIXIDE is the IDE function, a PCIFunction. Like the other devices it
// belongs to one goroutine; DMA runs synchronously within the port access
// that starts it.
type PIIXIDE struct {
	cs  *PCIConfigSpace
	mem *mmu.Memory
	bm  [2]ideBusMaster
}

// ideBusMaster is the bus master of one channel.
type ideBusMaster struct {
	ide     *PIIXIDE
	channel int
	ata     *ATA // nil: no disk on the channel
	cmd     uint8
	status  uint8
	prd     uint32 // PRD table address

	regions []dmaRegion // the PRD table of the transfer running, validated
}

// dmaRegion is one checked stretch of guest RAM of a transfer.
type dmaRegion struct {
	addr mmu.GPA
	n    uint64
}

// NewPIIXIDE builds the IDE function over cfg's disks. Add it to the bus
// at slot 1, function 1 (PCIBus.Add(1, 1, ide)), before AssignResources.
func NewPIIXIDE(cfg PIIXIDEConfig) (*PIIXIDE, error) {
	if cfg.Mem == nil {
		return nil, errors.New("PIIX3 IDE: no guest memory for DMA")
	}
	cs := NewPCIConfigSpace(PCIID{
		Vendor: PCIVendorIntel, Device: PCIDevicePIIX3IDE,
		Class:           PCIClassIDELegacyBM,
		SubsystemVendor: PCIVendorRedHat, Subsystem: PCISubsystemQEMU,
	})
	p := &PIIXIDE{cs: cs, mem: cfg.Mem}
	// QEMU's piix_ide_reset: command 0, DEVSEL medium and fast back-to-back;
	// only I/O space and bus master enable are implemented (PIIX3 §2.5.2).
	cs.SetWritable(PCICommand, 2, PCICommandIO|PCICommandMaster)
	cs.Set16(PCIStatus, PCIStatusDevselMedium|pciStatusFastBack)
	cs.ReserveConfig(PCIConfigSize)
	// The device-specific area is writable storage, as QEMU's default wmask:
	// ata_piix programs its timings in IDETIM, SIDETIM (44h) and so on.
	for r := PCIHeaderSize; r < PCIConfigSize; r += 4 {
		cs.SetWritable(r, 4, 0xFFFFFFFF)
	}
	// IDE decode enabled on both channels, as SeaBIOS's piix_ide_setup.
	cs.Set16(piixIDETIMPrimary, piixIDEDecode)
	cs.Set16(piixIDETIMSecondary, piixIDEDecode)
	if err := cs.SetBAR(piixBMIBA, PCIBAR{Kind: PCIBARIO, Size: piixBMSize, Dev: piixBMWindow{p}, Name: "piix-bmdma"}); err != nil {
		return nil, err
	}
	for i, a := range []*ATA{cfg.Primary, cfg.Secondary} {
		bm := &p.bm[i]
		bm.ide, bm.channel = p, i
		if a == nil {
			continue
		}
		want := []ATAChannel{ATAPrimary, ATASecondary}[i]
		if a.Channel() != want {
			return nil, fmt.Errorf("PIIX3 IDE: the disk for channel %d is built for ports %#x, IRQ %d", i, a.Channel().CommandBase, a.Channel().IRQ)
		}
		if err := a.attachBusMaster(bm); err != nil {
			return nil, fmt.Errorf("PIIX3 IDE: %w", err)
		}
		bm.ata = a
	}
	return p, nil
}

// PCIConfig implements PCIFunction.
func (p *PIIXIDE) PCIConfig() *PCIConfigSpace { return p.cs }

// piixBMWindow is BAR4: the primary channel's registers at 0–7, the
// secondary's at 8–15.
type piixBMWindow struct{ p *PIIXIDE }

// Read reads bus master registers byte by byte; reserved bytes read all
// ones, as QEMU's.
func (w piixBMWindow) Read(offset uint64, data []byte) {
	readBytes(piixBMSize, offset, data, func(off uint64) byte {
		return w.p.bm[off/8].readReg(off % 8)
	})
}

// Write writes bus master registers byte by byte.
func (w piixBMWindow) Write(offset uint64, data []byte) {
	writeBytes(piixBMSize, offset, data, func(off uint64, v byte) {
		w.p.bm[off/8].writeReg(off%8, v)
	})
}

func (bm *ideBusMaster) readReg(off uint64) byte {
	switch off {
	case bmCommandReg:
		return bm.cmd
	case bmStatusReg:
		return bm.status
	case bmPRDReg, bmPRDReg + 1, bmPRDReg + 2, bmPRDReg + 3:
		return byte(bm.prd >> (8 * (off - bmPRDReg)))
	}
	return 0xFF
}

func (bm *ideBusMaster) writeReg(off uint64, v byte) {
	switch off {
	case bmCommandReg:
		bm.writeCommand(v)
	case bmStatusReg:
		// Interrupt and Error are cleared by writing 1; the capable bits are
		// storage; Active is read-only (SFF-8038i §2.2).
		bm.status = bm.status&bmStatusActive | bm.status&^v&(bmStatusError|bmStatusInterrupt) | v&bmStatusCapable
	case bmPRDReg, bmPRDReg + 1, bmPRDReg + 2, bmPRDReg + 3:
		shift := 8 * (off - bmPRDReg)
		bm.prd = (bm.prd&^(0xFF<<shift) | uint32(v)<<shift) &^ 3 // bits 1:0 reserved
	}
}

// writeCommand sets Start and the direction (SFF-8038i §2.1). Writing Start
// 0→1 makes the master active and runs a DMA command that waits for it;
// clearing Start stops it (a transfer in progress is abandoned: the device
// keeps waiting until reset, as on hardware).
func (bm *ideBusMaster) writeCommand(v byte) {
	old := bm.cmd
	bm.cmd = v & (bmCommandStart | bmCommandRead)
	switch {
	case v&bmCommandStart != 0 && old&bmCommandStart == 0:
		bm.status |= bmStatusActive
		bm.run()
	case v&bmCommandStart == 0:
		bm.status &^= bmStatusActive
	}
}

// dmaRequest implements ataBusMaster: the disk has a DMA command ready.
func (bm *ideBusMaster) dmaRequest() { bm.run() }

// interrupted implements ataBusMaster.
func (bm *ideBusMaster) interrupted() { bm.status |= bmStatusInterrupt }

// run moves the data of the disk's pending DMA command if the master is
// active. The PRD table is read and every region checked before any data
// moves, so that a bad table changes neither the disk nor guest memory; it
// then ends the command with ERR/ABRT and the Error bit. The direction is
// the command's (the Read/Write Control bit is not trusted).
//
// The status reports the outcomes of SFF-8038i §3 (Table 3): a table that
// ends (EOT) exactly with the transfer leaves Interrupt=1 Active=0; a table
// larger than the transfer, Interrupt=1 Active=1 (the data moved is right,
// and the OS stops the master); a table smaller than the transfer, which on
// hardware hangs the device waiting for the master, is an error here:
// Interrupt=1 Error=1 Active=0.
func (bm *ideBusMaster) run() {
	a := bm.ata
	if a == nil || bm.status&bmStatusActive == 0 {
		return
	}
	write, need, ok := a.dmaPending()
	if !ok {
		return
	}
	exact, err := bm.loadPRDs(need)
	if err != nil {
		bm.ide.cs.log("IDE channel %d: DMA %s of %d bytes with PRD table at %#x: %v", bm.channel, dmaDir(write), need, bm.prd, err)
		bm.status = bm.status&^bmStatusActive | bmStatusError
		a.dmaAbort()
		return
	}
	if exact {
		bm.status &^= bmStatusActive // the transfer ends at the EOT entry
	}
	var region int
	var within uint64
	a.dmaTransfer(func(p []byte) error {
		for len(p) > 0 {
			if region >= len(bm.regions) {
				return errors.New("PRD regions exhausted") // cannot happen: loadPRDs counted them
			}
			r := bm.regions[region]
			n := min(uint64(len(p)), r.n-within)
			mem, err := bm.ide.mem.Slice(r.addr+mmu.GPA(within), n)
			if err != nil {
				return err
			}
			if write {
				copy(p, mem)
			} else {
				copy(mem, p)
				bm.ide.mem.NoteWrite(r.addr+mmu.GPA(within), n)
			}
			p = p[n:]
			within += n
			if within == r.n {
				region, within = region+1, 0
			}
		}
		return nil
	})
}

func dmaDir(write bool) string {
	if write {
		return "write"
	}
	return "read"
}

// loadPRDs walks the PRD table for a transfer of need bytes into
// bm.regions, checking that bus mastering is enabled, that every entry and
// every region used lies in guest RAM below 4 GiB, and that the table holds
// need bytes before its EOT entry and within bmMaxPRDs entries. exact says
// whether the table ends (EOT) where the transfer does.
//
// A PRD (SFF-8038i §1.2) is two dwords: the region's physical address, and
// its byte count in bits 15:0 (bit 0 ignored; 0 means 64 KiB) with EOT in
// bit 31.
func (bm *ideBusMaster) loadPRDs(need uint64) (exact bool, err error) {
	bm.regions = bm.regions[:0]
	if bm.ide.cs.Get16(PCICommand)&PCICommandMaster == 0 {
		return false, errors.New("bus mastering is disabled in the PCI command register")
	}
	var total uint64
	var entry [8]byte
	for i := 0; i < bmMaxPRDs; i++ {
		at := uint64(bm.prd) + 8*uint64(i)
		if at+8 > 1<<32 {
			return false, fmt.Errorf("PRD %d at %#x is past 4 GiB", i, at)
		}
		if err := bm.ide.mem.ReadAt(mmu.GPA(at), entry[:]); err != nil {
			return false, fmt.Errorf("PRD %d: %w", i, err)
		}
		addr := uint64(binary.LittleEndian.Uint32(entry[0:]))
		ctl := binary.LittleEndian.Uint32(entry[4:])
		size := uint64(ctl & 0xFFFE)
		if size == 0 {
			size = 0x10000
		}
		used := min(size, need-total)
		if addr+used > 1<<32 || !bm.ide.mem.IsRAM(mmu.GPA(addr), used) {
			return false, fmt.Errorf("PRD %d: region %#x+%#x is outside guest RAM", i, addr, used)
		}
		bm.regions = append(bm.regions, dmaRegion{mmu.GPA(addr), used})
		total += used
		eot := ctl&prdEOT != 0
		if total == need {
			return eot && used == size, nil
		}
		if eot {
			return false, fmt.Errorf("the PRD table ends (EOT) after %d of %d bytes", total, need)
		}
	}
	return false, fmt.Errorf("no EOT in %d PRDs and only %d of %d bytes", bmMaxPRDs, total, need)
}
