package devices

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ATA command block offsets.
const (
	aData, aError, aCount, aLBALow, aLBAMid, aLBAHigh, aDevice, aStatus = 0, 1, 2, 3, 4, 5, 6, 7
)

const testDiskSectors = 2048

// sectorPattern is the content a test disk starts with: each sector filled
// with bytes derived from its LBA.
func sectorPattern(lba int) []byte {
	s := make([]byte, SectorSize)
	for i := range s {
		s[i] = byte(lba*7 + i)
	}
	return s
}

func newTestDisk(t *testing.T, readOnly bool) (*FileBackend, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.img")
	var img []byte
	for lba := 0; lba < testDiskSectors; lba++ {
		img = append(img, sectorPattern(lba)...)
	}
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := OpenFileBackend(path, readOnly)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, path
}

// ataIssue selects device 0 in LBA mode and issues a 28-bit command.
func ataIssue(a *ATA, cmd byte, lba uint32, count byte) {
	out8(a, aDevice, 0xE0|byte(lba>>24&0x0F))
	out8(a, aCount, count)
	out8(a, aLBALow, byte(lba))
	out8(a, aLBAMid, byte(lba>>8))
	out8(a, aLBAHigh, byte(lba>>16))
	out8(a, aStatus, cmd)
}

// ataIssue48 issues a 48-bit command: high-order bytes first.
func ataIssue48(a *ATA, cmd byte, lba uint64, count uint16) {
	out8(a, aDevice, 0x40)
	for _, shift := range []uint{8, 0} {
		out8(a, aCount, byte(count>>shift))
		out8(a, aLBALow, byte(lba>>(shift*3)))
		out8(a, aLBAMid, byte(lba>>(shift*3+8)))
		out8(a, aLBAHigh, byte(lba>>(shift*3+16)))
	}
	out8(a, aStatus, cmd)
}

// ataReadBlocks reads n DRQ blocks as a driver does: wait for DRQ through
// the status register (acknowledging the interrupt), then 256 words.
func ataReadBlocks(t *testing.T, a *ATA, n int) []byte {
	t.Helper()
	var data []byte
	for i := 0; i < n; i++ {
		if st := in8(a, aStatus); st != 0x58 {
			t.Fatalf("block %d: status %#x, want DRQ", i, st)
		}
		for w := 0; w < 256; w++ {
			v := in16(a, aData)
			data = append(data, byte(v), byte(v>>8))
		}
	}
	return data
}

func TestATAIdentify(t *testing.T) {
	disk, _ := newTestDisk(t, false)
	irq := &irqRecorder{}
	a := NewATA(disk, irq)
	ataIssue(a, 0xEC, 0, 0)
	equal(t, true, irq.level[ATAIRQ], "IRQ 14 after IDENTIFY")
	equal(t, byte(0x58), in8(a.Control(), 0), "alternate status")
	equal(t, true, irq.level[ATAIRQ], "alternate status does not acknowledge")
	id := ataReadBlocks(t, a, 1)
	equal(t, false, irq.level[ATAIRQ], "IRQ after reading Status")
	equal(t, byte(0x50), in8(a, aStatus), "status after the block")

	word := func(i int) uint16 { return binary.LittleEndian.Uint16(id[2*i:]) }
	str := func(from, to int) string {
		var b []byte
		for i := from; i < to; i++ {
			b = append(b, byte(word(i)>>8), byte(word(i)))
		}
		return strings.TrimRight(string(b), " ")
	}
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"word 0: ATA fixed disk", word(0), uint16(0x0040)},
		{"model", str(27, 47), "GEMU HARDDISK"},
		{"firmware", str(23, 27), "1.0"},
		{"word 49: LBA", word(49) & 0x0200, uint16(0x0200)},
		{"word 49: no DMA", word(49) & 0x0100, uint16(0)},
		{"words 60-61: LBA28 sectors", uint32(word(60)) | uint32(word(61))<<16, uint32(testDiskSectors)},
		{"word 83: LBA48 supported", word(83) & 0xC400, uint16(0x4400)},
		{"word 86: LBA48 enabled", word(86) & 0x0400, uint16(0x0400)},
		{"words 100-103: LBA48 sectors", binary.LittleEndian.Uint64(id[200:]), uint64(testDiskSectors)},
		{"word 1,3,6: geometry", [3]uint16{word(1), word(3), word(6)}, [3]uint16{2, 16, 63}},
		{"word 255 signature", id[510], byte(0xA5)},
	}
	for _, c := range checks {
		equal(t, c.want, c.got, "%s", c.what)
	}
	var sum byte
	for _, b := range id {
		sum += b
	}
	equal(t, byte(0), sum, "IDENTIFY checksum")
}

func TestATAReadWrite(t *testing.T) {
	disk, path := newTestDisk(t, false)
	irq := &irqRecorder{}
	a := NewATA(disk, irq)

	// READ SECTORS, 3 sectors from LBA 5: one interrupt per block.
	ataIssue(a, 0x20, 5, 3)
	got := ataReadBlocks(t, a, 3)
	equal(t, bytes.Join([][]byte{sectorPattern(5), sectorPattern(6), sectorPattern(7)}, nil), got, "sectors 5-7")
	equal(t, 3, irq.risingEdges(ATAIRQ), "interrupts for 3 blocks")
	equal(t, byte(0x50), in8(a, aStatus), "status after the last block")

	// WRITE SECTORS, 2 sectors at LBA 10: DRQ at once without an interrupt,
	// then an interrupt per block written.
	irq.events = nil
	ataIssue(a, 0x30, 10, 2)
	equal(t, byte(0x58), in8(a.Control(), 0), "DRQ for the first block")
	equal(t, 0, irq.risingEdges(ATAIRQ), "no interrupt before the first block")
	want := bytes.Repeat([]byte{0xAB, 0xCD}, SectorSize)
	for i := 0; i < len(want); i += 2 {
		out16(a, aData, uint16(want[i])|uint16(want[i+1])<<8)
		if i == SectorSize-2 {
			equal(t, 1, irq.risingEdges(ATAIRQ), "interrupt after the first block")
			equal(t, byte(0x58), in8(a, aStatus), "DRQ for the second block")
		}
	}
	equal(t, 2, irq.risingEdges(ATAIRQ), "interrupt after the last block")
	equal(t, byte(0x50), in8(a, aStatus), "status after the write")
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, want, img[10*SectorSize:12*SectorSize], "written sectors on disk, without a flush")
	equal(t, sectorPattern(12), img[12*SectorSize:13*SectorSize], "next sector untouched")

	// READ SECTORS EXT of the last sector, with 32-bit data reads.
	ataIssue48(a, 0x24, testDiskSectors-1, 1)
	equal(t, byte(0x58), in8(a, aStatus), "DRQ for READ EXT")
	var got32 []byte
	for i := 0; i < SectorSize/4; i++ {
		b := make([]byte, 4)
		a.Read(aData, b)
		got32 = append(got32, b...)
	}
	equal(t, sectorPattern(testDiskSectors-1), got32, "last sector through 32-bit reads")

	// WRITE SECTORS EXT then read it back.
	ataIssue48(a, 0x34, 1000, 1)
	a.Write(aData, bytes.Repeat([]byte{0x11, 0x22, 0x33, 0x44}, SectorSize/4)[:SectorSize])
	equal(t, byte(0x50), in8(a, aStatus), "status after WRITE EXT")
	ataIssue(a, 0x20, 1000, 1)
	equal(t, bytes.Repeat([]byte{0x11, 0x22, 0x33, 0x44}, SectorSize/4), ataReadBlocks(t, a, 1), "sector 1000")

	// CHS: cylinder 0, head 1, sector 2 is LBA 64 with 16 heads, 63 sectors.
	out8(a, aDevice, 0xA1)
	out8(a, aCount, 1)
	out8(a, aLBALow, 2)
	out8(a, aLBAMid, 0)
	out8(a, aLBAHigh, 0)
	out8(a, aStatus, 0x20)
	equal(t, sectorPattern(64), ataReadBlocks(t, a, 1), "CHS 0/1/2")

	// A transfer longer than one backend chunk.
	ataIssue(a, 0x20, 1500, 0) // 256 sectors
	all := ataReadBlocks(t, a, 256)
	equal(t, sectorPattern(1500+200), all[200*SectorSize:201*SectorSize], "sector 1700 of a 256-sector read")

	// FLUSH CACHE and FLUSH CACHE EXT.
	for _, cmd := range []byte{0xE7, 0xEA} {
		ataIssue(a, cmd, 0, 0)
		equal(t, byte(0x50), in8(a, aStatus), "status after flush %#x", cmd)
	}
	equal(t, ATAStats{Commands: 9, SectorsRead: 3 + 1 + 1 + 1 + 256, SectorsWritten: 3, Flushes: 2}, a.Stats(), "stats")
}

// faultyDisk is a backend whose I/O fails.
type faultyDisk struct{ syncs int }

var errFaulty = errors.New("I/O error")

func (d *faultyDisk) ReadAt(p []byte, off int64) (int, error)  { return 0, errFaulty }
func (d *faultyDisk) WriteAt(p []byte, off int64) (int, error) { return 0, errFaulty }
func (d *faultyDisk) Sync() error                              { d.syncs++; return errFaulty }
func (d *faultyDisk) Size() int64                              { return 100 * SectorSize }
func (d *faultyDisk) ReadOnly() bool                           { return false }

func TestATAErrors(t *testing.T) {
	tests := []struct {
		name       string
		readOnly   bool
		faulty     bool
		issue      func(a *ATA)
		wantStatus byte
		wantError  byte
	}{
		{"unknown command", false, false, func(a *ATA) { ataIssue(a, 0x00, 0, 1) }, 0x51, 0x04},
		{"IDENTIFY PACKET on a disk", false, false, func(a *ATA) { ataIssue(a, 0xA1, 0, 1) }, 0x51, 0x04},
		{"read past the end", false, false, func(a *ATA) { ataIssue(a, 0x20, testDiskSectors, 1) }, 0x51, 0x14},
		{"read straddling the end", false, false, func(a *ATA) { ataIssue(a, 0x20, testDiskSectors-1, 2) }, 0x51, 0x14},
		{"48-bit read past the end", false, false, func(a *ATA) { ataIssue48(a, 0x24, 1<<40, 1) }, 0x51, 0x14},
		{"verify past the end", false, false, func(a *ATA) { ataIssue(a, 0x40, testDiskSectors, 1) }, 0x51, 0x14},
		{"CHS sector 0", false, false, func(a *ATA) {
			out8(a, aDevice, 0xA0)
			out8(a, aLBALow, 0)
			out8(a, aStatus, 0x20)
		}, 0x51, 0x14},
		{"write to a read-only disk", true, false, func(a *ATA) { ataIssue(a, 0x30, 0, 1) }, 0x51, 0x04},
		{"INITIALIZE DEVICE PARAMETERS with 0 sectors", false, false, func(a *ATA) { ataIssue(a, 0x91, 0, 0) }, 0x51, 0x04},
		{"read I/O error", false, true, func(a *ATA) { ataIssue(a, 0x20, 0, 1) }, 0x51, 0x04},
		{"write I/O error", false, true, func(a *ATA) {
			ataIssue(a, 0x30, 0, 2)
			a.Write(aData, make([]byte, 4))
			for i := 0; i < 2*SectorSize; i++ { // the rest of the data is dropped
				out8(a, aData, 0)
			}
		}, 0x51, 0x04},
		{"flush I/O error", false, true, func(a *ATA) { ataIssue(a, 0xE7, 0, 0) }, 0x51, 0x04},
		{"verify in range", false, false, func(a *ATA) { ataIssue(a, 0x40, 5, 10) }, 0x50, 0x00},
		{"SET FEATURES accepted", false, false, func(a *ATA) { ataIssue(a, 0xEF, 0, 0x0C) }, 0x50, 0x00},
		{"EXECUTE DEVICE DIAGNOSTIC", false, false, func(a *ATA) { ataIssue(a, 0x90, 0, 0) }, 0x50, 0x01},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var disk BlockBackend
			if tc.faulty {
				disk = &faultyDisk{}
			} else {
				disk, _ = newTestDisk(t, tc.readOnly)
			}
			irq := &irqRecorder{}
			a := NewATA(disk, irq)
			tc.issue(a)
			equal(t, true, irq.level[ATAIRQ], "completion interrupt")
			equal(t, tc.wantError, in8(a, aError), "error register")
			equal(t, tc.wantStatus, in8(a, aStatus), "status")
			equal(t, byte(0xFF), in8(a, aData), "data port without a transfer")
		})
	}
}

func TestATASignatureResetAndSlave(t *testing.T) {
	disk, _ := newTestDisk(t, false)
	irq := &irqRecorder{}
	a := NewATA(disk, irq)
	sig := func() [4]byte {
		return [4]byte{in8(a, aCount), in8(a, aLBALow), in8(a, aLBAMid), in8(a, aLBAHigh)}
	}
	equal(t, [4]byte{1, 1, 0, 0}, sig(), "power-on signature")
	equal(t, byte(0x01), in8(a, aError), "power-on diagnostic code")

	// Registers read back (drivers probe presence this way).
	out8(a, aCount, 0x55)
	out8(a, aLBALow, 0xAA)
	equal(t, [2]byte{0x55, 0xAA}, [2]byte{in8(a, aCount), in8(a, aLBALow)}, "register read-back")

	// The absent slave: status and registers read 0, commands ignored.
	out8(a, aDevice, 0xB0)
	equal(t, [3]byte{0, 0, 0}, [3]byte{in8(a, aStatus), in8(a.Control(), 0), in8(a, aCount)}, "slave reads")
	equal(t, byte(0xB0), in8(a, aDevice), "device register")
	out8(a, aStatus, 0xEC)
	equal(t, false, irq.level[ATAIRQ], "no interrupt from the absent slave")
	out8(a, aDevice, 0xA0)
	equal(t, byte(0x50), in8(a, aStatus), "master status: the slave's IDENTIFY did not run")

	// nIEN masks the interrupt line.
	out8(a.Control(), 0, 0x02)
	ataIssue(a, 0xEC, 0, 0)
	equal(t, false, irq.level[ATAIRQ], "interrupt with nIEN")
	out8(a.Control(), 0, 0x00)
	equal(t, true, irq.level[ATAIRQ], "pending interrupt after clearing nIEN")

	// SRST aborts the transfer and restores the signature.
	out8(a.Control(), 0, 0x04)
	equal(t, byte(0x80), in8(a, aStatus), "BSY during SRST")
	out8(a, aStatus, 0xEC) // ignored while busy
	out8(a.Control(), 0, 0x00)
	equal(t, byte(0x50), in8(a, aStatus), "status after SRST")
	equal(t, [4]byte{1, 1, 0, 0}, sig(), "signature after SRST")
	equal(t, byte(0xFF), in8(a, aData), "no transfer after SRST")

	// HOB reads the previous register contents.
	out8(a, aLBALow, 0x12)
	out8(a, aLBALow, 0x34)
	out8(a.Control(), 0, 0x80)
	equal(t, byte(0x12), in8(a, aLBALow), "LBA low with HOB")
	out8(a, aCount, 0)
	equal(t, byte(0x34), in8(a, aLBALow), "HOB cleared by a register write")
}

func TestOpenFileBackendErrors(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "odd.img")
	empty := filepath.Join(dir, "empty.img")
	good := filepath.Join(dir, "good.img")
	os.WriteFile(odd, make([]byte, 1000), 0o644)
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(good, make([]byte, 4096), 0o644)
	tests := []struct {
		path    string
		wantErr string // "" for success
	}{
		{filepath.Join(dir, "missing.img"), "missing.img does not exist"},
		{odd, "odd.img: size 1000 bytes is not a multiple of 512"},
		{empty, "empty.img is empty"},
		{good, ""},
	}
	for _, tc := range tests {
		b, err := OpenFileBackend(tc.path, false)
		if tc.wantErr == "" {
			if err != nil {
				t.Fatalf("%s: %v", tc.path, err)
			}
			equal(t, int64(4096), b.Size(), "size")
			b.Close()
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("OpenFileBackend(%s) error = %v, want it to contain %q", tc.path, err, tc.wantErr)
		}
	}
	ro, err := OpenFileBackend(good, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.WriteAt(make([]byte, 512), 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write to a read-only backend: %v", err)
	}
}
