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

// memDisk is an in-memory sparse backend: sectors never written read as
// sectorPattern(lba). It counts syncs and fails the test on any access
// that is not whole sectors inside the disk.
type memDisk struct {
	t        testing.TB
	size     int64
	written  map[int64][]byte // by LBA
	syncs    int
	writes   int
	readOnly bool
}

func newMemDisk(t testing.TB, sectors int64) *memDisk {
	return &memDisk{t: t, size: sectors * SectorSize, written: map[int64][]byte{}}
}

func (d *memDisk) checkAccess(what string, n int, off int64) {
	d.t.Helper()
	if off < 0 || off%SectorSize != 0 || n%SectorSize != 0 || off > d.size || int64(n) > d.size-off {
		d.t.Errorf("%s of %d bytes at %d: not whole sectors inside the %d-byte disk", what, n, off, d.size)
	}
}

func (d *memDisk) ReadAt(p []byte, off int64) (int, error) {
	d.checkAccess("read", len(p), off)
	for i := 0; i+SectorSize <= len(p); i += SectorSize {
		lba := (off + int64(i)) / SectorSize
		if s, ok := d.written[lba]; ok {
			copy(p[i:], s)
		} else {
			copy(p[i:], sectorPattern(int(lba)))
		}
	}
	return len(p), nil
}

func (d *memDisk) WriteAt(p []byte, off int64) (int, error) {
	d.checkAccess("write", len(p), off)
	if d.readOnly {
		return 0, ErrReadOnly
	}
	d.writes++
	for i := 0; i+SectorSize <= len(p); i += SectorSize {
		d.written[(off+int64(i))/SectorSize] = bytes.Clone(p[i : i+SectorSize])
	}
	return len(p), nil
}

func (d *memDisk) Sync() error    { d.syncs++; return nil }
func (d *memDisk) Size() int64    { return d.size }
func (d *memDisk) ReadOnly() bool { return d.readOnly }

// identifyWords issues IDENTIFY DEVICE and returns the 256 words.
func identifyWords(t *testing.T, a *ATA) [256]uint16 {
	t.Helper()
	ataIssue(a, 0xEC, 0, 0)
	id := ataReadBlocks(t, a, 1)
	var w [256]uint16
	for i := range w {
		w[i] = binary.LittleEndian.Uint16(id[2*i:])
	}
	return w
}

func TestATALBA48PIO(t *testing.T) {
	// A 2 TiB + 50 KiB disk: past both the 28-bit limit and 2^32 sectors.
	const sectors = 1<<32 + 100
	disk := newMemDisk(t, sectors)
	irq := &irqRecorder{}
	a := NewATA(disk, irq)

	w := identifyWords(t, a)
	equal(t, uint32(0x0FFFFFFF), uint32(w[60])|uint32(w[61])<<16, "words 60-61: capped at 28 bits")
	equal(t, uint64(sectors), uint64(w[100])|uint64(w[101])<<16|uint64(w[102])<<32|uint64(w[103])<<48, "words 100-103")
	equal(t, uint16(0x0400), w[83]&0x0400, "word 83 bit 10: 48-bit address feature set")
	equal(t, uint16(0x0400), w[86]&0x0400, "word 86 bit 10: enabled")

	// WRITE SECTORS EXT of 2 sectors above 2^32, then READ SECTORS EXT.
	const lba = 1<<32 + 7
	want := bytes.Repeat([]byte{0x5A, 0xA5, 0x01, 0xFE}, 2*SectorSize/4)
	ataIssue48(a, 0x34, lba, 2)
	equal(t, byte(0x58), in8(a.Control(), 0), "DRQ for WRITE SECTORS EXT")
	for i := 0; i < len(want); i += 4 {
		a.Write(aData, want[i:i+4])
	}
	equal(t, byte(0x50), in8(a, aStatus), "status after WRITE SECTORS EXT")
	equal(t, want[:SectorSize], disk.written[lba], "sector 2^32+7 on the disk")
	equal(t, want[SectorSize:], disk.written[lba+1], "sector 2^32+8 on the disk")
	ataIssue48(a, 0x24, lba-1, 3)
	got := ataReadBlocks(t, a, 3)
	equal(t, sectorPattern(lba-1), got[:SectorSize], "unwritten sector before")
	equal(t, want, got[SectorSize:], "written sectors read back")

	// The last sector, and one past it.
	ataIssue48(a, 0x24, sectors-1, 1)
	equal(t, sectorPattern(sectors-1), ataReadBlocks(t, a, 1), "last sector")
	ataIssue48(a, 0x24, sectors-1, 2)
	equal(t, [2]byte{0x51, 0x14}, [2]byte{in8(a, aStatus), in8(a, aError)}, "read past the end")

	// READ NATIVE MAX ADDRESS EXT: the last LBA, high bytes through HOB.
	ataIssue48(a, 0x27, 0, 0)
	equal(t, byte(0x50), in8(a, aStatus), "status after READ NATIVE MAX EXT")
	low := [3]byte{in8(a, aLBALow), in8(a, aLBAMid), in8(a, aLBAHigh)}
	out8(a.Control(), 0, 0x80)
	high := [3]byte{in8(a, aLBALow), in8(a, aLBAMid), in8(a, aLBAHigh)}
	out8(a.Control(), 0, 0x00)
	last := uint64(sectors - 1)
	equal(t, [3]byte{byte(last), byte(last >> 8), byte(last >> 16)}, low, "native max, bits 23:0")
	equal(t, [3]byte{byte(last >> 24), byte(last >> 32), byte(last >> 40)}, high, "native max, bits 47:24 (HOB)")

	// READ NATIVE MAX ADDRESS (28-bit) saturates.
	ataIssue(a, 0xF8, 0, 0)
	equal(t, [4]byte{0xFF, 0xFF, 0xFF, 0xEF}, [4]byte{in8(a, aLBALow), in8(a, aLBAMid), in8(a, aLBAHigh), in8(a, aDevice)}, "28-bit native max")
}

func TestATAMultiple(t *testing.T) {
	disk := newMemDisk(t, testDiskSectors)
	irq := &irqRecorder{}
	a := NewATA(disk, irq)

	w := identifyWords(t, a)
	equal(t, uint16(0x8010), w[47], "word 47: up to 16 sectors per block")
	equal(t, uint16(0), w[59], "word 59: multiple mode off")
	ataIssue(a, 0xC4, 0, 4)
	equal(t, [2]byte{0x51, 0x04}, [2]byte{in8(a, aStatus), in8(a, aError)}, "READ MULTIPLE before SET MULTIPLE MODE")
	for _, bad := range []byte{3, 32} {
		ataIssue(a, 0xC6, 0, bad)
		equal(t, [2]byte{0x51, 0x04}, [2]byte{in8(a, aStatus), in8(a, aError)}, "SET MULTIPLE MODE %d", bad)
	}
	ataIssue(a, 0xC6, 0, 4)
	equal(t, byte(0x50), in8(a, aStatus), "SET MULTIPLE MODE 4")
	equal(t, uint16(0x0104), identifyWords(t, a)[59], "word 59 after SET MULTIPLE MODE 4")

	// READ MULTIPLE of 10 sectors: blocks of 4, 4 and 2, an interrupt each.
	irq.events = nil
	ataIssue(a, 0xC4, 20, 10)
	var got []byte
	for i, n := range []int{4, 4, 2} {
		equal(t, byte(0x58), in8(a, aStatus), "DRQ for block %d", i)
		equal(t, i+1, irq.risingEdges(ATAIRQ), "interrupts by block %d", i)
		for j := 0; j < n*SectorSize/2; j++ {
			v := in16(a, aData)
			got = append(got, byte(v), byte(v>>8))
		}
	}
	equal(t, byte(0x50), in8(a, aStatus), "status after READ MULTIPLE")
	for i := 0; i < 10; i++ {
		equal(t, sectorPattern(20+i), got[i*SectorSize:(i+1)*SectorSize], "sector %d", 20+i)
	}

	// WRITE MULTIPLE EXT of 6 sectors: blocks of 4 and 2, each written whole.
	irq.events = nil
	ataIssue48(a, 0x39, 300, 6)
	want := make([]byte, 6*SectorSize)
	for i := range want {
		want[i] = byte(i / 7)
	}
	a.Write(aData, want[:3*SectorSize])
	equal(t, 0, disk.writes, "nothing written before the block is full")
	a.Write(aData, want[3*SectorSize:4*SectorSize])
	equal(t, 1, disk.writes, "the first block in one backend write")
	equal(t, 1, irq.risingEdges(ATAIRQ), "interrupt after the first block")
	a.Write(aData, want[4*SectorSize:])
	equal(t, byte(0x50), in8(a, aStatus), "status after WRITE MULTIPLE EXT")
	for i := 0; i < 6; i++ {
		equal(t, want[i*SectorSize:(i+1)*SectorSize], disk.written[int64(300+i)], "sector %d", 300+i)
	}
}

func TestATAFlushReachesSync(t *testing.T) {
	disk := newMemDisk(t, testDiskSectors)
	a := NewATA(disk, &irqRecorder{})
	w := identifyWords(t, a)
	equal(t, [2]uint16{0x0020, 0x0020}, [2]uint16{w[82] & 0x0020, w[85] & 0x0020}, "words 82/85: write cache supported, enabled")
	equal(t, uint16(0x3000), w[83]&0x3000, "word 83: FLUSH CACHE (EXT)")

	for i, cmd := range []byte{0xE7, 0xEA} {
		ataIssue(a, cmd, 0, 0)
		// The sync happened within the command, before Status shows completion.
		equal(t, i+1, disk.syncs, "syncs after command %#x", cmd)
		equal(t, byte(0x50), in8(a, aStatus), "status after %#x", cmd)
	}
	// Writes with the write cache on are not synced.
	ataIssue(a, 0x30, 1, 1)
	a.Write(aData, make([]byte, SectorSize))
	equal(t, 2, disk.syncs, "no sync for a cached write")

	// SET FEATURES 82h turns the cache off: what was cached is flushed, and
	// every write is durable when it completes.
	out8(a, aError, 0x82)
	ataIssue(a, 0xEF, 0, 0)
	equal(t, byte(0x50), in8(a, aStatus), "SET FEATURES: write cache off")
	equal(t, 3, disk.syncs, "flush when the cache is turned off")
	equal(t, uint16(0), identifyWords(t, a)[85]&0x0020, "word 85: write cache disabled")
	ataIssue(a, 0x30, 1, 2)
	a.Write(aData, make([]byte, SectorSize))
	equal(t, 3, disk.syncs, "no sync before the write command ends")
	a.Write(aData, make([]byte, SectorSize))
	equal(t, 4, disk.syncs, "sync before a write completes with the cache off")
	out8(a, aError, 0x02)
	ataIssue(a, 0xEF, 0, 0)
	equal(t, uint16(0x0020), identifyWords(t, a)[85]&0x0020, "word 85: write cache enabled again")
}

func TestATASetTransferMode(t *testing.T) {
	a := NewATA(newMemDisk(t, testDiskSectors), &irqRecorder{})
	for _, tc := range []struct {
		mode byte
		ok   bool
	}{
		{0x00, true}, {0x01, true}, {0x0C, true}, {0x0D, false},
		{0x22, false}, {0x45, false}, // no DMA without a bus master
		{0x80, false},
	} {
		out8(a, aError, 0x03)
		ataIssue(a, 0xEF, 0, tc.mode)
		want := byte(0x51)
		if tc.ok {
			want = 0x50
		}
		equal(t, want, in8(a, aStatus), "SET FEATURES transfer mode %#x", tc.mode)
	}
	ataIssue(a, 0xC8, 0, 1)
	equal(t, [2]byte{0x51, 0x04}, [2]byte{in8(a, aStatus), in8(a, aError)}, "READ DMA without a bus master")
}
