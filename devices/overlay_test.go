package devices

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baseSectors makes the base 3 clusters and 1 sector: its last cluster is
// partial.
const baseSectors = 3*OverlayClusterSize/SectorSize + 1

// newOverlayFiles writes a base image of baseSectors pattern sectors and
// creates an overlay over it, both in a new directory; it returns their
// paths and the base's content.
func newOverlayFiles(t *testing.T) (ovl, base string, content []byte) {
	t.Helper()
	dir := t.TempDir()
	base = filepath.Join(dir, "base.img")
	content = sectorsPattern(0, baseSectors)
	if err := os.WriteFile(base, content, 0o644); err != nil {
		t.Fatal(err)
	}
	ovl = filepath.Join(dir, "disk.cow")
	if err := CreateOverlay(ovl, base); err != nil {
		t.Fatal(err)
	}
	return ovl, base, content
}

func openOverlay(t *testing.T, path string) *Overlay {
	t.Helper()
	o, err := OpenOverlay(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func diskBytes(t *testing.T, b BlockBackend) []byte {
	t.Helper()
	p := make([]byte, b.Size())
	if n, err := b.ReadAt(p, 0); err != nil || n != len(p) {
		t.Fatalf("reading the whole disk: %d bytes, %v", n, err)
	}
	return p
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// overlayWrite writes p at off through o and applies it to want.
func overlayWrite(t *testing.T, o *Overlay, want, p []byte, off int) {
	t.Helper()
	if n, err := o.WriteAt(p, int64(off)); err != nil || n != len(p) {
		t.Fatalf("write of %d bytes at %d: %d, %v", len(p), off, n, err)
	}
	copy(want[off:], p)
}

func TestOverlayCreateWriteReadCommit(t *testing.T) {
	ovl, base, content := newOverlayFiles(t)
	info, err := ReadOverlayInfo(ovl)
	if err != nil {
		t.Fatal(err)
	}
	dataOff := int64(OverlayClusterSize) // header + 4-entry table, rounded up
	equal(t, OverlayInfo{VirtualSize: baseSectors * SectorSize, ClusterSize: OverlayClusterSize, Clusters: 4,
		BasePath: base, FileSize: dataOff}, info, "info of a new overlay (an absolute base path is kept)")

	o := openOverlay(t, ovl)
	equal(t, int64(baseSectors*SectorSize), o.Size(), "virtual size")
	equal(t, base, o.BasePath(), "base path, resolved")
	equal(t, content, diskBytes(t, o), "a new overlay reads as its base")

	want := bytes.Clone(content)
	fill := func(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }
	overlayWrite(t, o, want, fill(2*SectorSize, 0x11), OverlayClusterSize-SectorSize) // across clusters 0 and 1
	overlayWrite(t, o, want, fill(SectorSize, 0x22), 2*SectorSize)                    // cluster 0 again, in place
	overlayWrite(t, o, want, fill(SectorSize, 0x33), 3*OverlayClusterSize)            // the partial last cluster
	overlayWrite(t, o, want, fill(OverlayClusterSize, 0x44), 2*OverlayClusterSize)    // a whole cluster
	equal(t, want, diskBytes(t, o), "reads after writes")
	equal(t, content, mustReadFile(t, base), "the base is untouched")
	equal(t, int64(4), o.Info().Allocated, "allocated clusters")

	// Out of range accesses fail without touching anything.
	if _, err := o.WriteAt(fill(SectorSize, 0x55), int64(baseSectors*SectorSize)); err == nil {
		t.Fatal("a write past the end succeeded")
	}
	if _, err := o.ReadAt(make([]byte, 2*SectorSize), int64((baseSectors-1)*SectorSize)); err == nil {
		t.Fatal("a read past the end succeeded")
	}

	// Closed and reopened: everything is there.
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	o2 := openOverlay(t, ovl)
	equal(t, want, diskBytes(t, o2), "reads after reopening")
	info, err = ReadOverlayInfo(ovl)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, [2]int64{4, dataOff + 4*OverlayClusterSize}, [2]int64{info.Allocated, info.FileSize}, "allocated clusters and file size on disk")

	// Commit: the base gets the writes, the overlay is emptied and still
	// reads the same.
	if err := o2.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := CommitOverlay(ovl)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, int64(4), n, "clusters committed")
	equal(t, want, mustReadFile(t, base), "the base after commit")
	info, err = ReadOverlayInfo(ovl)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, [2]int64{0, dataOff}, [2]int64{info.Allocated, info.FileSize}, "the overlay after commit")
	o3 := openOverlay(t, ovl)
	equal(t, want, diskBytes(t, o3), "reads after commit")

	// An open overlay commits too, and keeps working.
	overlayWrite(t, o3, want, fill(SectorSize, 0x66), 5*SectorSize)
	if n, err := o3.Commit(); err != nil || n != 1 {
		t.Fatalf("Commit of an open overlay: %d, %v", n, err)
	}
	equal(t, want, mustReadFile(t, base), "the base after the second commit")
	overlayWrite(t, o3, want, fill(SectorSize, 0x77), 6*SectorSize)
	equal(t, want, diskBytes(t, o3), "writes after commit")
	equal(t, int64(1), o3.Info().Allocated, "allocated after commit and a write")
}

func TestOverlayCrashConsistency(t *testing.T) {
	ovl, _, content := newOverlayFiles(t)
	o := openOverlay(t, ovl)
	want := bytes.Clone(content)
	overlayWrite(t, o, want, bytes.Repeat([]byte{0xA1}, SectorSize), 7*SectorSize)
	overlayWrite(t, o, want, bytes.Repeat([]byte{0xA2}, SectorSize), OverlayClusterSize+SectorSize)
	if err := o.Sync(); err != nil {
		t.Fatal(err)
	}
	acked := bytes.Clone(want)

	// A write after the Sync, to a new cluster, and one in place: not
	// acknowledged yet.
	overlayWrite(t, o, want, bytes.Repeat([]byte{0xB1}, SectorSize), 2*OverlayClusterSize)
	overlayWrite(t, o, want, bytes.Repeat([]byte{0xB2}, SectorSize), 8*SectorSize)

	// The crash: the process dies without closing, and the file is opened
	// again as it stands (a copy of it, as the page cache holds it).
	// Acknowledged writes are there; the new cluster's table entry was never
	// written, so that cluster reads as the base; the in-place write may or
	// may not be there (it is, in the page cache).
	crashed := openOverlay(t, crashCopy(t, ovl, "crash1.cow"))
	got := diskBytes(t, crashed)
	equal(t, acked[:8*SectorSize], got[:8*SectorSize], "acknowledged writes after the crash")
	equal(t, acked[9*SectorSize:], got[9*SectorSize:], "the rest: the unacknowledged new cluster reads as the base")
	equal(t, int64(2), crashed.Info().Allocated, "allocated clusters after the crash")

	// The reopened overlay allocates past the leaked cluster, and a sync
	// makes its writes durable for the next opener.
	overlayWrite(t, crashed, got, bytes.Repeat([]byte{0xC1}, SectorSize), 3*OverlayClusterSize)
	if err := crashed.Sync(); err != nil {
		t.Fatal(err)
	}
	again := openOverlay(t, crashCopy(t, crashed.Path(), "crash2.cow"))
	equal(t, got, diskBytes(t, again), "after a second crash")
	info := again.Info()
	equal(t, [2]int64{3, OverlayClusterSize + 4*OverlayClusterSize}, [2]int64{info.Allocated, info.FileSize}, "allocated and file size (one cluster leaked)")
}

// crashCopy copies the overlay file at path, as it stands, to name in the
// same directory: what a crash of the process leaves.
func crashCopy(t *testing.T, path, name string) string {
	t.Helper()
	out := filepath.Join(filepath.Dir(path), name)
	if err := os.WriteFile(out, mustReadFile(t, path), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// corruptCopy copies the overlay at path to a new file with edit applied.
func corruptCopy(t *testing.T, path string, edit func(b []byte) []byte) string {
	t.Helper()
	b := edit(mustReadFile(t, path))
	out := filepath.Join(filepath.Dir(path), "corrupt.cow")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOverlayErrors(t *testing.T) {
	ovl, base, _ := newOverlayFiles(t)
	o := openOverlay(t, ovl)
	o.WriteAt(make([]byte, SectorSize), 0)
	o.WriteAt(make([]byte, SectorSize), OverlayClusterSize)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(ovl)
	reheader := func(b []byte) { // recompute the checksum after an edit
		binary.LittleEndian.PutUint32(b[overlayCRCOff:], crc32.Checksum(b[:overlayCRCOff], overlayCRC))
	}
	tests := []struct {
		name string
		path func() string
		want string
	}{
		{"missing overlay", func() string { return filepath.Join(dir, "nope.cow") }, "nope.cow does not exist"},
		{"not an overlay", func() string { return base }, "not a gemu overlay"},
		{"empty file", func() string { return corruptCopy(t, ovl, func([]byte) []byte { return nil }) }, "truncated"},
		{"truncated header", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte { return b[:100] })
		}, "truncated"},
		{"header bit flip", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte { b[20] ^= 1; return b })
		}, "corrupt header: checksum"},
		{"unknown version", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte { b[8] = 9; reheader(b); return b })
		}, "format version 9"},
		{"bad cluster size", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[12:], 1000)
				reheader(b)
				return b
			})
		}, "corrupt header: cluster size"},
		{"table truncated", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte { return b[:overlayHeaderSize+8] })
		}, "truncated"},
		{"data truncated", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte { return b[:len(b)-OverlayClusterSize/2] })
		}, "corrupt table: cluster 1"},
		{"entry not aligned", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte {
				binary.LittleEndian.PutUint64(b[overlayHeaderSize:], OverlayClusterSize+512)
				return b
			})
		}, "corrupt table: cluster 0"},
		{"entry inside the table", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte {
				binary.LittleEndian.PutUint64(b[overlayHeaderSize+8:], overlayHeaderSize)
				return b
			})
		}, "corrupt table: cluster 1"},
		{"two entries alike", func() string {
			return corruptCopy(t, ovl, func(b []byte) []byte {
				copy(b[overlayHeaderSize+16:], b[overlayHeaderSize:overlayHeaderSize+8])
				return b
			})
		}, "corrupt table: cluster 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path()
			if _, err := OpenOverlay(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenOverlay: error %v, want it to contain %q", err, tc.want)
			}
			if _, err := ReadOverlayInfo(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadOverlayInfo: error %v, want it to contain %q", err, tc.want)
			}
		})
	}

	// The base: changed size, missing.
	content := mustReadFile(t, base)
	os.WriteFile(base, append(bytes.Clone(content), make([]byte, SectorSize)...), 0o644)
	if _, err := OpenOverlay(ovl); err == nil || !strings.Contains(err.Error(), "no longer matches") {
		t.Fatalf("base grown: %v", err)
	}
	if _, err := CommitOverlay(ovl); err == nil || !strings.Contains(err.Error(), "no longer matches") {
		t.Fatalf("commit over a grown base: %v", err)
	}
	os.Remove(base)
	if _, err := OpenOverlay(ovl); err == nil || !strings.Contains(err.Error(), "base.img does not exist") {
		t.Fatalf("base missing: %v", err)
	}
	if info, err := ReadOverlayInfo(ovl); err != nil || info.Allocated != 2 {
		t.Fatalf("info without the base: %+v, %v", info, err)
	}
	os.WriteFile(base, content, 0o644)

	// Creation: over an existing file, over a missing base, over an overlay.
	for _, tc := range []struct {
		path, base, want string
	}{
		{ovl, base, "already exists"},
		{filepath.Join(dir, "b.cow"), filepath.Join(dir, "missing.img"), "missing.img does not exist"},
		{filepath.Join(dir, "c.cow"), ovl, "is itself an overlay"},
	} {
		if err := CreateOverlay(tc.path, tc.base); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CreateOverlay(%s, %s): error %v, want %q", tc.path, tc.base, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "b.cow")); err == nil {
		t.Error("a failed create left a file behind")
	}
	if ok, err := IsOverlay(ovl); !ok || err != nil {
		t.Errorf("IsOverlay(overlay) = %v, %v", ok, err)
	}
	if ok, err := IsOverlay(base); ok || err != nil {
		t.Errorf("IsOverlay(base) = %v, %v", ok, err)
	}
}

func TestOverlayRelativeBasePath(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "vm")
	os.Mkdir(sub, 0o755)
	base := filepath.Join(dir, "base.img")
	os.WriteFile(base, sectorsPattern(0, 8), 0o644)
	t.Chdir(dir)
	// Given relative to the working directory, stored relative to the
	// overlay's directory.
	if err := CreateOverlay(filepath.Join("vm", "d.cow"), "base.img"); err != nil {
		t.Fatal(err)
	}
	info, err := ReadOverlayInfo(filepath.Join(sub, "d.cow"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, filepath.Join("..", "base.img"), info.BasePath, "stored base path")
	t.Chdir(t.TempDir())
	o := openOverlay(t, filepath.Join(sub, "d.cow"))
	equal(t, sectorsPattern(0, 8), diskBytes(t, o), "read through a relative base path")
}

func TestATAOverOverlay(t *testing.T) {
	ovl, base, content := newOverlayFiles(t)
	o := openOverlay(t, ovl)
	r := newIDERig(t, o)
	want := bytes.Repeat([]byte{0x3C}, 4*SectorSize)
	r.mem.WriteAt(0x8000, want)
	r.writePRDs(t, 0x1000, []prdEntry{{0x8000, 4 * SectorSize, true}})
	r.dmaCommand(0x1000, 0x35, 126, 4, true) // across clusters 0 and 1
	_, st, _ := r.finish()
	equal(t, byte(0x50), st, "WRITE DMA EXT on an overlay")
	ataIssue48(r.ata, 0xEA, 0, 0)
	equal(t, byte(0x50), in8(r.ata, aStatus), "FLUSH CACHE EXT")
	equal(t, content, mustReadFile(t, base), "the base is untouched")
	again := openOverlay(t, crashCopy(t, ovl, "crash.cow")) // as after a crash right after the flush
	got := make([]byte, 6*SectorSize)
	again.ReadAt(got, 125*SectorSize)
	equal(t, append(append(sectorPattern(125), want...), sectorPattern(130)...), got, "flushed writes in the overlay")
}
