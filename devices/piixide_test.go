package devices

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/gemu-project/gemu/mmu"
)

const ideTestRAM = 4 << 20

// ideRig is a PCI bus with the PIIX3 IDE function at 00:01.1 and a disk on
// the primary channel, resources assigned as SeaBIOS would, and bus
// mastering enabled as ata_piix does (pci_set_master).
type ideRig struct {
	*pciTestBus
	mem *mmu.Memory
	ata *ATA
	ide *PIIXIDE
	bm  uint16 // BAR4 base
}

func newIDERig(t *testing.T, disk BlockBackend) *ideRig {
	t.Helper()
	tb := newPCITestBus(t)
	mem, err := mmu.NewMemory(ideTestRAM)
	if err != nil {
		t.Fatal(err)
	}
	r := &ideRig{pciTestBus: tb, mem: mem}
	if disk != nil {
		r.ata = NewATA(disk, tb.irq)
		if err := r.ata.Register(tb.pio, "ata0"); err != nil {
			t.Fatal(err)
		}
	}
	r.ide, err = NewPIIXIDE(PIIXIDEConfig{Mem: mem, Primary: r.ata})
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Add(1, 1, r.ide); err != nil {
		t.Fatal(err)
	}
	if err := tb.AssignResources(); err != nil {
		t.Fatal(err)
	}
	tb.cfgWrite(1, 1, PCICommand, 2, tb.cfgRead(1, 1, PCICommand, 2)|PCICommandMaster)
	base, ok := tb.BARMapped(1, 1, 4)
	if !ok {
		t.Fatal("BAR4 is not mapped")
	}
	r.bm = uint16(base)
	return r
}

// prdEntry is one physical region descriptor to write into guest memory.
type prdEntry struct {
	addr  uint32
	count uint32 // bytes; 0x10000 is stored as 0
	eot   bool
}

// writePRDs writes a PRD table at addr.
func (r *ideRig) writePRDs(t *testing.T, addr uint64, prds []prdEntry) {
	t.Helper()
	for i, p := range prds {
		var e [8]byte
		binary.LittleEndian.PutUint32(e[0:], p.addr)
		ctl := p.count & 0xFFFF
		if p.eot {
			ctl |= prdEOT
		}
		binary.LittleEndian.PutUint32(e[4:], ctl)
		if err := r.mem.WriteAt(mmu.GPA(addr+8*uint64(i)), e[:]); err != nil {
			t.Fatal(err)
		}
	}
}

// dmaCommand does what libata does for a DMA command (ata_bmdma_setup,
// ata_bmdma_start): stop the engine, load the PRD table address, set the
// direction, issue the ATA command through the taskfile, then start.
func (r *ideRig) dmaCommand(table uint32, cmd byte, lba uint64, count uint16, write bool) {
	bm := r.bm
	r.out(bm+bmCommandReg, 1, 0)
	r.out(bm+bmPRDReg, 4, table)
	dir := uint32(bmCommandRead)
	if write {
		dir = 0
	}
	r.out(bm+bmCommandReg, 1, dir)
	r.out(0x1F6, 1, 0x40) // LBA, device 0
	if cmd == 0x25 || cmd == 0x35 {
		r.out(0x1F2, 1, uint32(count>>8))
		r.out(0x1F3, 1, uint32(lba>>24&0xFF))
		r.out(0x1F4, 1, uint32(lba>>32&0xFF))
		r.out(0x1F5, 1, uint32(lba>>40&0xFF))
	} else {
		r.out(0x1F6, 1, 0x40|uint32(lba>>24&0x0F))
	}
	r.out(0x1F2, 1, uint32(count&0xFF))
	r.out(0x1F3, 1, uint32(lba&0xFF))
	r.out(0x1F4, 1, uint32(lba>>8&0xFF))
	r.out(0x1F5, 1, uint32(lba>>16&0xFF))
	r.out(0x1F7, 1, uint32(cmd))
	r.out(bm+bmCommandReg, 1, dir|bmCommandStart)
}

// finish does what libata's interrupt handler does after a DMA command
// (ata_bmdma_port_intr, ata_bmdma_stop, ata_bmdma_irq_clear) and returns
// the bus master status it saw, the ATA status and error.
func (r *ideRig) finish() (bmStatus, status, errReg byte) {
	bmStatus = byte(r.in(r.bm+bmStatusReg, 1))
	r.out(r.bm+bmCommandReg, 1, r.in(r.bm+bmCommandReg, 1)&^bmCommandStart)
	r.in(0x3F6, 1) // ata_sff_dma_pause
	status = byte(r.in(0x1F7, 1))
	errReg = byte(r.in(0x1F1, 1))
	r.out(r.bm+bmStatusReg, 1, r.in(r.bm+bmStatusReg, 1))
	return
}

func (r *ideRig) guest(t *testing.T, addr uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if err := r.mem.ReadAt(mmu.GPA(addr), b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sectorsPattern(from, n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, sectorPattern(from+i)...)
	}
	return b
}

func TestPIIXIDEConfigSpace(t *testing.T) {
	r := newIDERig(t, nil)
	checks := []struct {
		what      string
		reg, size int
		want      uint32
	}{
		{"vendor and device", 0x00, 4, 0x70108086},
		{"class 01h/01h, prog-if 80h, revision 0", 0x08, 4, 0x01018000},
		{"header type: single function", PCIHeaderType, 1, 0},
		{"status: DEVSEL medium, fast back-to-back", PCIStatus, 2, PCIStatusDevselMedium | pciStatusFastBack},
		{"command: I/O (AssignResources) and bus master (ata_piix)", PCICommand, 2, PCICommandIO | PCICommandMaster},
		{"interrupt pin: none (legacy IRQs)", PCIInterruptPin, 1, 0},
		{"IDETIM primary: IDE decode enable (byte 41h bit 7)", 0x41, 1, 0x80},
		{"IDETIM secondary: IDE decode enable (byte 43h bit 7)", 0x43, 1, 0x80},
		{"subsystem", PCISubsystemVendorID, 4, 0x11001AF4},
	}
	for _, c := range checks {
		equal(t, c.want, r.cfgRead(1, 1, c.reg, c.size), "%s", c.what)
	}
	// BARs 0–3 are unused (the legacy ports come from the class code);
	// BAR4 sizes as 16 bytes of I/O.
	for bar := 0; bar < 4; bar++ {
		r.cfgWrite(1, 1, PCIBAR0+4*bar, 4, 0xFFFFFFFF)
		equal(t, uint32(0), r.cfgRead(1, 1, PCIBAR0+4*bar, 4), "BAR %d sizing", bar)
	}
	equal(t, uint32(r.bm)|1, r.cfgRead(1, 1, PCIBAR0+16, 4), "BAR4 address")
	equal(t, uint16(PCIIOBase), r.bm&0xF000, "BAR4 in the PCI I/O window")
	// The timing registers are storage, as ata_piix's set_piomode expects.
	r.cfgWrite(1, 1, 0x40, 2, 0xE307)
	r.cfgWrite(1, 1, 0x44, 1, 0x0B)
	equal(t, [2]uint32{0xE307, 0x0B}, [2]uint32{r.cfgRead(1, 1, 0x40, 2), r.cfgRead(1, 1, 0x44, 1)}, "IDETIM and SIDETIM written")
	// The function needs 00:01.0 to be multi-function, which the PIIX3 is.
	equal(t, uint32(0x80), r.cfgRead(1, 0, PCIHeaderType, 1)&0x80, "00:01.0 multi-function")

	// Bus master registers at reset: idle, not simplex; the PRD address
	// keeps bits 31:2.
	for ch := uint16(0); ch < 2; ch++ {
		equal(t, uint32(0), r.in(r.bm+8*ch+bmStatusReg, 1), "channel %d status", ch)
		r.out(r.bm+8*ch+bmPRDReg, 4, 0x12345677)
		equal(t, uint32(0x12345674), r.in(r.bm+8*ch+bmPRDReg, 4), "channel %d PRD address", ch)
		r.out(r.bm+8*ch+bmStatusReg, 1, 0x66)
		equal(t, uint32(0x60), r.in(r.bm+8*ch+bmStatusReg, 1), "channel %d: DMA capable bits are storage, the rest RWC/RO", ch)
		equal(t, uint32(0xFF), r.in(r.bm+8*ch+1, 1), "channel %d reserved byte", ch)
	}

	// With no disk on either channel, their ports float (nothing decodes
	// them) and libata finds them empty at once.
	for _, port := range []uint16{0x1F7, 0x3F6, 0x177, 0x376} {
		equal(t, uint32(0xFF), r.in(port, 1), "port %#x of an empty channel", port)
	}
	// Starting a bus master with no disk only sets Active.
	r.out(r.bm+8+bmCommandReg, 1, bmCommandStart)
	equal(t, uint32(bmStatusActive|0x60), r.in(r.bm+8+bmStatusReg, 1), "secondary active")
	r.out(r.bm+8+bmCommandReg, 1, 0)
	equal(t, uint32(0x60), r.in(r.bm+8+bmStatusReg, 1), "stopped")
}

func TestPIIXIDEIdentifyAdvertisesDMA(t *testing.T) {
	r := newIDERig(t, newMemDisk(t, testDiskSectors))
	w := identifyWords(t, r.ata)
	equal(t, uint16(0x0100), w[49]&0x0100, "word 49: DMA supported")
	equal(t, uint16(0x0006), w[53]&0x0006, "word 53: words 64-70 and 88 valid")
	equal(t, uint16(0x0007), w[63], "word 63: MWDMA 0-2, none selected")
	equal(t, uint16(0x003F), w[88], "word 88: UDMA 0-5, none selected")
	// ata_piix on a PIIX3 picks multiword DMA 2 (SET FEATURES 03h, 22h).
	out8(r.ata, aError, 0x03)
	ataIssue(r.ata, 0xEF, 0, 0x22)
	equal(t, byte(0x50), in8(r.ata, aStatus), "SET FEATURES MWDMA2")
	w = identifyWords(t, r.ata)
	equal(t, [2]uint16{0x0407, 0x003F}, [2]uint16{w[63], w[88]}, "MWDMA2 selected")
	out8(r.ata, aError, 0x03)
	ataIssue(r.ata, 0xEF, 0, 0x45)
	w = identifyWords(t, r.ata)
	equal(t, [2]uint16{0x0007, 0x203F}, [2]uint16{w[63], w[88]}, "UDMA5 selected")
	out8(r.ata, aError, 0x03)
	ataIssue(r.ata, 0xEF, 0, 0x46)
	equal(t, byte(0x51), in8(r.ata, aStatus), "UDMA6 is not offered")
}

func TestPIIXIDEDMAReadWrite(t *testing.T) {
	disk, path := newTestDisk(t, false)
	r := newIDERig(t, disk)
	code := 0
	r.mem.MarkCode(0x21000)
	r.mem.OnCodeWrite = func(mmu.GPA) { code++ }

	// READ DMA EXT of 8 sectors from LBA 100 into two regions.
	r.writePRDs(t, 0x1000, []prdEntry{{0x10000, 3 * SectorSize, false}, {0x20000 + 0x0E00, 5 * SectorSize, true}})
	r.irq.events = nil
	r.dmaCommand(0x1000, 0x25, 100, 8, false)
	equal(t, true, r.irq.level[ATAIRQ], "IRQ 14 at completion")
	bmSt, st, er := r.finish()
	equal(t, byte(bmStatusInterrupt), bmSt, "BM status: interrupt, not active, no error")
	equal(t, [2]byte{0x50, 0x00}, [2]byte{st, er}, "ATA status and error")
	equal(t, false, r.irq.level[ATAIRQ], "IRQ acknowledged by reading Status")
	equal(t, uint32(0), r.in(r.bm+bmStatusReg, 1), "BM status cleared by writing it back")
	equal(t, sectorsPattern(100, 3), r.guest(t, 0x10000, 3*SectorSize), "first region")
	equal(t, sectorsPattern(103, 5), r.guest(t, 0x20E00, 5*SectorSize), "second region")
	equal(t, byte(0), r.guest(t, 0x10000+3*SectorSize, 1)[0], "nothing past the first region")
	equal(t, 1, code, "the DMA write to a code page reached the translator")

	// WRITE DMA EXT of 8 sectors at LBA 500 from the same regions.
	want := make([]byte, 8*SectorSize)
	for i := range want {
		want[i] = byte(i*13 + 1)
	}
	r.mem.WriteAt(0x10000, want[:3*SectorSize])
	r.mem.WriteAt(0x20E00, want[3*SectorSize:])
	r.dmaCommand(0x1000, 0x35, 500, 8, true)
	bmSt, st, _ = r.finish()
	equal(t, [2]byte{bmStatusInterrupt, 0x50}, [2]byte{bmSt, st}, "WRITE DMA EXT: BM and ATA status")
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, want, img[500*SectorSize:508*SectorSize], "written sectors")
	equal(t, sectorPattern(499), img[499*SectorSize:500*SectorSize], "sector before")
	equal(t, sectorPattern(508), img[508*SectorSize:509*SectorSize], "sector after")

	// READ DMA (28-bit), count 0 = 256 sectors, in two 64 KiB regions given
	// as byte count 0; and the engine started before the command.
	r.writePRDs(t, 0x2000, []prdEntry{{0x100000, 0x10000, false}, {0x200000, 0x10000, true}})
	r.out(r.bm+bmPRDReg, 4, 0x2000)
	r.out(r.bm+bmCommandReg, 1, bmCommandRead|bmCommandStart)
	equal(t, uint32(bmStatusActive), r.in(r.bm+bmStatusReg, 1), "active before the command")
	ataIssue(r.ata, 0xC8, 1000, 0)
	bmSt, st, _ = r.finish()
	equal(t, [2]byte{bmStatusInterrupt, 0x50}, [2]byte{bmSt, st}, "READ DMA: BM and ATA status")
	equal(t, sectorsPattern(1000, 128), r.guest(t, 0x100000, 0x10000), "first 64 KiB")
	equal(t, sectorsPattern(1128, 128), r.guest(t, 0x200000, 0x10000), "second 64 KiB")

	// A PRD table larger than the transfer: the data is right, and the
	// master stays active with its interrupt bit set (SFF-8038i §3).
	r.writePRDs(t, 0x3000, []prdEntry{{0x30000, 0x2000, false}, {0x40000, 0x2000, true}})
	r.dmaCommand(0x3000, 0xC8, 7, 2, false)
	bmSt, st, _ = r.finish()
	equal(t, [2]byte{bmStatusInterrupt | bmStatusActive, 0x50}, [2]byte{bmSt, st}, "larger table: BM and ATA status")
	equal(t, sectorsPattern(7, 2), r.guest(t, 0x30000, 2*SectorSize), "larger table: data")

	// PIO still works alongside, and sets the interrupt bit as QEMU's.
	ataIssue(r.ata, 0x20, 5, 1)
	equal(t, sectorPattern(5), ataReadBlocks(t, r.ata, 1), "PIO read")
	equal(t, uint32(bmStatusInterrupt), r.in(r.bm+bmStatusReg, 1), "BM interrupt bit after a PIO interrupt")
	equal(t, ATAStats{Commands: 5, SectorsRead: 8 + 256 + 2 + 1, SectorsWritten: 8}, r.ata.Stats(), "stats")
}

func TestPIIXIDESecondaryChannel(t *testing.T) {
	tb := newPCITestBus(t)
	mem, err := mmu.NewMemory(ideTestRAM)
	if err != nil {
		t.Fatal(err)
	}
	disk := newMemDisk(t, testDiskSectors)
	sec := NewATAOn(ATASecondary, disk, tb.irq)
	if err := sec.Register(tb.pio, "ata1"); err != nil {
		t.Fatal(err)
	}
	ide, err := NewPIIXIDE(PIIXIDEConfig{Mem: mem, Secondary: sec})
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Add(1, 1, ide); err != nil {
		t.Fatal(err)
	}
	if err := tb.AssignResources(); err != nil {
		t.Fatal(err)
	}
	tb.cfgWrite(1, 1, PCICommand, 2, PCICommandIO|PCICommandMaster)
	base, _ := tb.BARMapped(1, 1, 4)
	bm := uint16(base) + 8

	equal(t, uint32(0xFF), tb.in(0x1F7, 1), "empty primary channel floats")
	equal(t, uint32(0x50), tb.in(0x177, 1), "secondary disk status")
	var e [8]byte
	binary.LittleEndian.PutUint32(e[0:], 0x8000)
	binary.LittleEndian.PutUint32(e[4:], prdEOT|2*SectorSize)
	mem.WriteAt(0x800, e[:])
	tb.out(bm+bmPRDReg, 4, 0x800)
	tb.out(bm+bmCommandReg, 1, bmCommandRead)
	tb.out(0x176, 1, 0x40)
	tb.out(0x172, 1, 2)
	tb.out(0x173, 1, 9)
	tb.out(0x174, 1, 0)
	tb.out(0x175, 1, 0)
	tb.out(0x177, 1, 0xC8)
	tb.out(bm+bmCommandReg, 1, bmCommandRead|bmCommandStart)
	equal(t, true, tb.irq.level[ATASecondaryIRQ], "IRQ 15")
	equal(t, false, tb.irq.level[ATAIRQ], "not IRQ 14")
	equal(t, uint32(bmStatusInterrupt), tb.in(bm+bmStatusReg, 1), "secondary BM status")
	equal(t, uint32(0), tb.in(bm-8+bmStatusReg, 1), "primary BM status untouched")
	got := make([]byte, 2*SectorSize)
	mem.ReadAt(0x8000, got)
	equal(t, sectorsPattern(9, 2), got, "data read on the secondary channel")
}

func TestPIIXIDEWiringErrors(t *testing.T) {
	mem, err := mmu.NewMemory(ideTestRAM)
	if err != nil {
		t.Fatal(err)
	}
	disk := newMemDisk(t, 16)
	primary := NewATA(disk, nil)
	for _, tc := range []struct {
		name string
		cfg  PIIXIDEConfig
		want string
	}{
		{"no memory", PIIXIDEConfig{Primary: primary}, "no guest memory"},
		{"primary disk on the secondary channel", PIIXIDEConfig{Mem: mem, Secondary: primary}, "channel 1"},
	} {
		if _, err := NewPIIXIDE(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewPIIXIDE(PIIXIDEConfig{Mem: mem, Primary: primary}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPIIXIDE(PIIXIDEConfig{Mem: mem, Primary: primary}); err == nil || !strings.Contains(err.Error(), "already has a bus master") {
		t.Errorf("a disk on two controllers: error %v", err)
	}
}

// TestPIIXIDEDMABadInput checks that bad programming ends the command with
// an error and touches neither the disk file nor guest memory.
func TestPIIXIDEDMABadInput(t *testing.T) {
	const ramEnd = ideTestRAM
	tests := []struct {
		name     string
		readOnly bool
		setup    func(t *testing.T, r *ideRig) // may write PRDs and change the rig
		table    uint32
		cmd      byte
		lba      uint64
		count    uint16
		wantBM   byte // BM status seen by the interrupt handler
		wantErr  byte // ATA error register
	}{
		{name: "PRD table outside RAM", table: 0xFFFF0000, cmd: 0x35, lba: 10, count: 1,
			wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "PRD region outside RAM", cmd: 0x35, lba: 10, count: 2, table: 0x1000,
			setup: func(t *testing.T, r *ideRig) {
				r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, false}, {0xF0000000, 512, true}})
			}, wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "PRD region straddling the end of RAM", cmd: 0xCA, lba: 10, count: 2, table: 0x1000,
			setup:  func(t *testing.T, r *ideRig) { r.writePRDs(t, 0x1000, []prdEntry{{ramEnd - 512, 1024, true}}) },
			wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "read into a region straddling the end of RAM", cmd: 0xC8, lba: 10, count: 2, table: 0x1000,
			setup: func(t *testing.T, r *ideRig) {
				r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, false}, {ramEnd - 256, 512, true}})
			}, wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "PRD table too short (EOT early)", cmd: 0x35, lba: 10, count: 5, table: 0x1000,
			setup: func(t *testing.T, r *ideRig) {
				r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 1024, false}, {0x9000, 1024, true}})
			},
			wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "no EOT within 8192 entries", cmd: 0x35, lba: 10, count: 64, table: 0x100000,
			setup: func(t *testing.T, r *ideRig) {
				prds := make([]prdEntry, bmMaxPRDs+10)
				for i := range prds {
					prds[i] = prdEntry{0x8000, 2, false}
				}
				r.writePRDs(t, 0x100000, prds)
			}, wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "no EOT before the end of RAM", cmd: 0x35, lba: 10, count: 8, table: ramEnd - 16,
			setup: func(t *testing.T, r *ideRig) {
				r.writePRDs(t, ramEnd-16, []prdEntry{{0x8000, 512, false}, {0x9000, 512, false}})
			},
			wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "bus mastering disabled", cmd: 0x35, lba: 10, count: 1, table: 0x1000,
			setup: func(t *testing.T, r *ideRig) {
				r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, true}})
				r.cfgWrite(1, 1, PCICommand, 2, PCICommandIO)
			}, wantBM: bmStatusError | bmStatusInterrupt, wantErr: ataErrorABRT},
		{name: "sectors past the end", cmd: 0x35, lba: testDiskSectors - 1, count: 2, table: 0x1000,
			setup:  func(t *testing.T, r *ideRig) { r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 1024, true}}) },
			wantBM: bmStatusInterrupt | bmStatusActive, wantErr: ataErrorABRT | ataErrorIDNF},
		{name: "48-bit address and count overflowing", cmd: 0x35, lba: 1<<48 - 1, count: 0xFFFF, table: 0x1000,
			setup:  func(t *testing.T, r *ideRig) { r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, true}}) },
			wantBM: bmStatusInterrupt | bmStatusActive, wantErr: ataErrorABRT | ataErrorIDNF},
		{name: "28-bit write past the end", cmd: 0xCA, lba: testDiskSectors, count: 1, table: 0x1000,
			setup:  func(t *testing.T, r *ideRig) { r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, true}}) },
			wantBM: bmStatusInterrupt | bmStatusActive, wantErr: ataErrorABRT | ataErrorIDNF},
		{name: "write to a read-only disk", readOnly: true, cmd: 0x35, lba: 10, count: 1, table: 0x1000,
			setup:  func(t *testing.T, r *ideRig) { r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, true}}) },
			wantBM: bmStatusInterrupt | bmStatusActive, wantErr: ataErrorABRT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			disk, path := newTestDisk(t, tc.readOnly)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := newIDERig(t, disk)
			// Guest data that a write would carry.
			junk := bytes.Repeat([]byte{0xEE}, 0x10000)
			r.mem.WriteAt(0x8000, junk[:0x4000])
			if tc.setup != nil {
				tc.setup(t, r)
			}
			ram := bytes.Clone(r.mem.RAM)
			r.dmaCommand(tc.table, tc.cmd, tc.lba, tc.count, tc.cmd == 0x35 || tc.cmd == 0xCA)
			equal(t, true, r.irq.level[ATAIRQ], "completion interrupt")
			bmSt, st, er := r.finish()
			equal(t, tc.wantBM, bmSt, "BM status")
			equal(t, [2]byte{0x51, tc.wantErr}, [2]byte{st, er}, "ATA status and error")
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("the disk file changed")
			}
			if !bytes.Equal(ram, r.mem.RAM) {
				t.Fatal("guest memory changed")
			}
			equal(t, uint64(0), r.ata.Stats().SectorsWritten+r.ata.Stats().SectorsRead, "sectors moved")
		})
	}
}

// faultyWriteDisk reads like memDisk but fails writes.
type faultyWriteDisk struct{ *memDisk }

func (d faultyWriteDisk) WriteAt(p []byte, off int64) (int, error) { return 0, errFaulty }

func TestPIIXIDEDMABackendErrors(t *testing.T) {
	r := newIDERig(t, faultyWriteDisk{newMemDisk(t, testDiskSectors)})
	r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 1024, true}})
	r.dmaCommand(0x1000, 0x35, 3, 2, true)
	bmSt, st, er := r.finish()
	equal(t, [3]byte{bmStatusInterrupt, 0x51, ataErrorABRT}, [3]byte{bmSt, st, er}, "backend write error: BM, ATA status, error")
	equal(t, uint64(1), r.ata.Stats().Errors, "errors counted")

	// A read error from the backend.
	r2 := newIDERig(t, &faultyDisk{})
	r2.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, true}})
	r2.dmaCommand(0x1000, 0x25, 3, 1, false)
	bmSt, st, er = r2.finish()
	equal(t, [3]byte{bmStatusInterrupt, 0x51, ataErrorABRT}, [3]byte{bmSt, st, er}, "backend read error")
}

// TestPIIXIDERandomCommands throws random register writes, PRD tables and
// commands at the controller: it must never panic, never access the disk
// outside whole sectors within it (memDisk checks), and keep its registers
// readable.
func TestPIIXIDERandomCommands(t *testing.T) {
	disk := newMemDisk(t, 4096)
	r := newIDERig(t, disk)
	rng := rand.New(rand.NewPCG(1, 2))
	cmds := []byte{0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0xC4, 0xC5, 0xC6, 0xC8, 0xCA,
		0xE7, 0xEA, 0xEC, 0xEF, 0xF8, 0x27, 0x40, 0x42, 0x90, 0x91, 0x00, 0xFF}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		switch rng.IntN(10) {
		case 0: // a random PRD table somewhere, possibly past RAM
			at := uint64(rng.IntN(ideTestRAM+0x1000)) &^ 3
			prds := make([]prdEntry, 1+rng.IntN(4))
			for j := range prds {
				prds[j] = prdEntry{uint32(rng.IntN(ideTestRAM + 0x10000)), uint32(rng.IntN(0x10001)), rng.IntN(3) == 0}
			}
			for j, p := range prds {
				if at+8*uint64(j)+8 <= ideTestRAM {
					r.writePRDs(t, at+8*uint64(j), []prdEntry{p})
				}
			}
			r.out(r.bm+bmPRDReg, 4, uint32(at))
		case 1, 2: // taskfile registers
			r.out(0x1F1+uint16(rng.IntN(6)), 1, uint32(rng.IntN(256)))
		case 3: // a command
			r.out(0x1F7, 1, uint32(cmds[rng.IntN(len(cmds))]))
		case 4: // bus master command and status, any width
			sizes := []int{1, 2, 4}
			r.out(r.bm+uint16(rng.IntN(16)), sizes[rng.IntN(3)], rng.Uint32())
		case 5: // device control: nIEN, SRST, HOB
			r.out(0x3F6, 1, uint32(rng.IntN(256))&0x86)
		case 6: // PIO data
			if rng.IntN(2) == 0 {
				r.in(0x1F0, 1+rng.IntN(2)*3)
			} else {
				r.out(0x1F0, 2, rng.Uint32())
			}
		case 7: // configuration space, sometimes the command register
			reg := 0x40 + rng.IntN(0xC0)
			if rng.IntN(4) == 0 {
				reg = PCICommand
			}
			r.cfgWrite(1, 1, reg, 1, uint32(rng.IntN(256)))
		default: // reads of everything
			r.in(0x1F1+uint16(rng.IntN(7)), 1)
			r.in(r.bm+uint16(rng.IntN(16)), 1)
			r.in(0x3F6, 1)
		}
	}
	// Whatever happened, a reset brings the disk back to a usable state.
	r.out(0x3F6, 1, 0x04)
	r.out(0x3F6, 1, 0x00)
	r.cfgWrite(1, 1, PCICommand, 2, PCICommandIO|PCICommandMaster)
	r.out(r.bm+bmStatusReg, 1, 0xFF)
	r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 512, true}})
	r.dmaCommand(0x1000, 0x25, 4095, 1, false)
	bmSt, st, _ := r.finish()
	equal(t, [2]byte{bmStatusInterrupt, 0x50}, [2]byte{bmSt &^ 0x60, st}, "a DMA read after the storm")
	want := sectorPattern(4095)
	if s, ok := disk.written[4095]; ok {
		want = s
	}
	equal(t, want, r.guest(t, 0x8000, SectorSize), "the last sector")
}
