package devices

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// A copy-on-write overlay: a BlockBackend over a read-only base image (a raw
// image, as FileBackend opens) and an overlay file that holds every cluster
// the guest has written, so that the base is never modified. `gemu img
// create|info|commit` make, describe and fold back overlays.
//
// # The GEMUCOW1 format
//
// All numbers little-endian. The file is a header, an allocation table and
// clusters of data:
//
//	offset  size  field
//	0       8     magic "GEMUCOW1"
//	8       4     format version, 1
//	12      4     cluster size in bytes (a power of two, 4 KiB–2 MiB; 64 KiB by default)
//	16      8     virtual size in bytes (the base's size, a multiple of 512)
//	24      8     the base image's size in bytes when the overlay was made
//	32      8     table offset: 4096
//	40      8     table entries: virtual size / cluster size, rounded up
//	48      8     data offset: the end of the table rounded up to a cluster
//	56      2     length of the base path
//	58      n     the base path: absolute, or relative to the overlay's directory
//	4092    4     CRC-32C of bytes 0–4091
//
// Table entry i (8 bytes at table offset + 8i) is 0 when cluster i of the
// virtual disk is the base's, or the file offset of the overlay's copy of
// it: cluster aligned, at or past the data offset, inside the file, and no
// two entries alike. A write to a cluster the overlay does not hold copies
// the whole cluster: base data merged with the new bytes.
//
// # Crash consistency
//
// New clusters are always written to fresh space at the end of the file,
// never over a cluster the table references, and their table entries are
// kept in memory until Sync: Sync first fsyncs the data, then writes the
// new entries and fsyncs again. So after a crash at any point, the table on
// disk references only clusters whose data is durable, and each entry (an
// aligned 8-byte write) is either its old value or its new one, both
// consistent. Writes acknowledged by Sync (the guest's FLUSH CACHE) are
// present after a crash; writes to new clusters since the last Sync are
// lost and their space is leaked at the end of the file until Commit, as a
// disk with a volatile write cache allows. A write to a cluster the overlay
// already holds goes in place, as on a raw image: durable after the next
// Sync. The header is written once, at creation.
//
// Commit copies the overlay's clusters into the base, fsyncs the base, then
// zeroes the table, fsyncs, and truncates the file to its data offset. A
// crash during it leaves the overlay showing the same disk as before (the
// base holds the overlay's data wherever the table still points), and
// committing again finishes the job.

// OverlayClusterSize is the cluster size CreateOverlay uses.
const OverlayClusterSize = 64 << 10

// Format constants.
const (
	overlayMagic      = "GEMUCOW1"
	overlayVersion    = 1
	overlayHeaderSize = 4096
	overlayPathOff    = 58
	overlayCRCOff     = overlayHeaderSize - 4
	overlayMaxPath    = overlayCRCOff - overlayPathOff
	overlayMinCluster = 4 << 10
	overlayMaxCluster = 2 << 20
	// overlayMaxSize bounds the virtual size: the table is held in memory
	// (8 bytes per cluster: 128 MiB for 1 TiB with 64 KiB clusters).
	overlayMaxSize = 1 << 40
)

var overlayCRC = crc32.MakeTable(crc32.Castagnoli)

// overlayHeader is the decoded header.
type overlayHeader struct {
	clusterSize uint64
	virtualSize uint64
	baseSize    uint64
	tableOff    uint64
	entries     uint64
	dataOff     uint64
	basePath    string
}

// newOverlayHeader lays out an overlay of a base of size bytes.
func newOverlayHeader(size, cluster uint64, basePath string) overlayHeader {
	h := overlayHeader{clusterSize: cluster, virtualSize: size, baseSize: size, tableOff: overlayHeaderSize, basePath: basePath}
	h.entries = (size + cluster - 1) / cluster
	h.dataOff = alignUp(h.tableOff+8*h.entries, cluster)
	return h
}

func alignUp(v, align uint64) uint64 { return (v + align - 1) &^ (align - 1) }

func (h *overlayHeader) marshal() []byte {
	b := make([]byte, overlayHeaderSize)
	copy(b, overlayMagic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], overlayVersion)
	le.PutUint32(b[12:], uint32(h.clusterSize))
	le.PutUint64(b[16:], h.virtualSize)
	le.PutUint64(b[24:], h.baseSize)
	le.PutUint64(b[32:], h.tableOff)
	le.PutUint64(b[40:], h.entries)
	le.PutUint64(b[48:], h.dataOff)
	le.PutUint16(b[56:], uint16(len(h.basePath)))
	copy(b[overlayPathOff:], h.basePath)
	le.PutUint32(b[overlayCRCOff:], crc32.Checksum(b[:overlayCRCOff], overlayCRC))
	return b
}

// parseOverlayHeader decodes and checks a header; fileSize is the overlay
// file's size.
func parseOverlayHeader(b []byte, fileSize int64) (overlayHeader, error) {
	if len(b) < overlayHeaderSize || fileSize < overlayHeaderSize {
		if len(b) >= len(overlayMagic) && string(b[:len(overlayMagic)]) != overlayMagic {
			return overlayHeader{}, errors.New("not a gemu overlay (no GEMUCOW1 magic)")
		}
		return overlayHeader{}, fmt.Errorf("truncated: %d bytes, shorter than the %d-byte header", fileSize, overlayHeaderSize)
	}
	if string(b[:len(overlayMagic)]) != overlayMagic {
		return overlayHeader{}, errors.New("not a gemu overlay (no GEMUCOW1 magic)")
	}
	le := binary.LittleEndian
	if got, want := le.Uint32(b[overlayCRCOff:]), crc32.Checksum(b[:overlayCRCOff], overlayCRC); got != want {
		return overlayHeader{}, fmt.Errorf("corrupt header: checksum %#08x, want %#08x", got, want)
	}
	if v := le.Uint32(b[8:]); v != overlayVersion {
		return overlayHeader{}, fmt.Errorf("format version %d, this gemu reads version %d", v, overlayVersion)
	}
	h := overlayHeader{
		clusterSize: uint64(le.Uint32(b[12:])),
		virtualSize: le.Uint64(b[16:]),
		baseSize:    le.Uint64(b[24:]),
		tableOff:    le.Uint64(b[32:]),
		entries:     le.Uint64(b[40:]),
		dataOff:     le.Uint64(b[48:]),
	}
	n := int(le.Uint16(b[56:]))
	c := h.clusterSize
	switch {
	case c < overlayMinCluster || c > overlayMaxCluster || c&(c-1) != 0:
		return overlayHeader{}, fmt.Errorf("corrupt header: cluster size %d", c)
	case h.virtualSize == 0 || h.virtualSize%SectorSize != 0 || h.virtualSize > overlayMaxSize:
		return overlayHeader{}, fmt.Errorf("corrupt header: virtual size %d", h.virtualSize)
	case h.baseSize != h.virtualSize:
		return overlayHeader{}, fmt.Errorf("corrupt header: base size %d differs from the virtual size %d", h.baseSize, h.virtualSize)
	case n == 0 || n > overlayMaxPath:
		return overlayHeader{}, fmt.Errorf("corrupt header: base path length %d", n)
	}
	h.basePath = string(b[overlayPathOff : overlayPathOff+n])
	if want := newOverlayHeader(h.virtualSize, c, h.basePath); h.tableOff != want.tableOff || h.entries != want.entries || h.dataOff != want.dataOff {
		return overlayHeader{}, fmt.Errorf("corrupt header: table at %d with %d entries, data at %d; want %d, %d, %d",
			h.tableOff, h.entries, h.dataOff, want.tableOff, want.entries, want.dataOff)
	}
	if uint64(fileSize) < h.dataOff {
		return overlayHeader{}, fmt.Errorf("truncated: %d bytes, shorter than its header and table (%d bytes)", fileSize, h.dataOff)
	}
	return h, nil
}

// OverlayInfo describes an overlay.
type OverlayInfo struct {
	VirtualSize int64  // bytes of the virtual disk
	ClusterSize int64  // bytes per cluster
	Clusters    int64  // clusters of the virtual disk
	Allocated   int64  // clusters the overlay holds (written since creation or the last commit)
	BasePath    string // as stored in the header
	FileSize    int64  // bytes of the overlay file
}

// Overlay is an open overlay: a BlockBackend. Its methods may be called
// from several goroutines.
type Overlay struct {
	mu       sync.Mutex
	f        *os.File
	base     *os.File // read-only
	path     string
	basePath string // resolved
	h        overlayHeader
	table    []uint64
	dirty    map[uint64]bool // table pages (of overlayTablePage entries) changed since Sync
	next     uint64          // file offset of the next cluster to allocate
	scratch  []byte          // one cluster
	closed   bool
}

// overlayTablePage is how many entries Sync writes at once: 4 KiB of table.
const overlayTablePage = 512

// CreateOverlay makes a new overlay at path over the raw image basePath,
// which must exist and stays untouched. path must not exist. A relative
// basePath is taken from the current directory and stored relative to the
// overlay's directory, so that the two files can move together.
func CreateOverlay(path, basePath string) (err error) {
	base, err := OpenFileBackend(basePath, true)
	if err != nil {
		return fmt.Errorf("overlay %s: base: %w", path, err)
	}
	size := base.Size()
	var magic [len(overlayMagic)]byte
	_, rerr := base.ReadAt(magic[:], 0)
	base.Close()
	if rerr == nil && string(magic[:]) == overlayMagic {
		return fmt.Errorf("overlay %s: base %s is itself an overlay; chains are not supported (commit it first)", path, basePath)
	}
	if size > overlayMaxSize {
		return fmt.Errorf("overlay %s: base %s is %d bytes; overlays hold at most %d", path, basePath, size, int64(overlayMaxSize))
	}
	stored := basePath
	if !filepath.IsAbs(basePath) {
		absBase, err := filepath.Abs(basePath)
		if err != nil {
			return fmt.Errorf("overlay %s: %w", path, err)
		}
		absPath, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("overlay %s: %w", path, err)
		}
		if stored, err = filepath.Rel(filepath.Dir(absPath), absBase); err != nil {
			stored = absBase
		}
	}
	if len(stored) > overlayMaxPath {
		return fmt.Errorf("overlay %s: base path is %d bytes long; at most %d fit in the header", path, len(stored), overlayMaxPath)
	}
	h := newOverlayHeader(uint64(size), OverlayClusterSize, stored)

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("overlay %s already exists", path)
		}
		return fmt.Errorf("overlay: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("overlay %s: %w", path, cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err := f.WriteAt(h.marshal(), 0); err != nil {
		return fmt.Errorf("overlay %s: %w", path, err)
	}
	// The table starts all zero: extend the file (sparsely) past it.
	if err := f.Truncate(int64(h.dataOff)); err != nil {
		return fmt.Errorf("overlay %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("overlay %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a new directory entry durable, where the OS allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// readOverlay opens path (read-write or not), checks its header and table,
// and returns them with the open file.
func readOverlay(path string, write bool) (*os.File, overlayHeader, []uint64, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, overlayHeader{}, nil, fmt.Errorf("overlay %s does not exist", path)
		}
		return nil, overlayHeader{}, nil, fmt.Errorf("overlay: %w", err)
	}
	if write {
		if err := lockImage(f, true); err != nil {
			f.Close()
			return nil, overlayHeader{}, nil, lockError("overlay "+path, true, err)
		}
	}
	h, table, err := loadOverlay(f)
	if err != nil {
		f.Close()
		return nil, overlayHeader{}, nil, fmt.Errorf("overlay %s: %w", path, err)
	}
	return f, h, table, nil
}

func loadOverlay(f *os.File) (overlayHeader, []uint64, error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return overlayHeader{}, nil, err
	}
	hb := make([]byte, overlayHeaderSize)
	n, err := f.ReadAt(hb, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return overlayHeader{}, nil, err
	}
	h, err := parseOverlayHeader(hb[:n], size)
	if err != nil {
		return overlayHeader{}, nil, err
	}
	table := make([]uint64, h.entries)
	// used marks the data clusters referenced, to catch two entries alike.
	used := make([]bool, (uint64(size)-h.dataOff)/h.clusterSize)
	chunk := make([]byte, 64<<10)
	for i := uint64(0); i < h.entries; {
		m := min(h.entries-i, uint64(len(chunk)/8))
		if _, err := f.ReadAt(chunk[:8*m], int64(h.tableOff+8*i)); err != nil {
			return overlayHeader{}, nil, fmt.Errorf("reading the table: %w", err)
		}
		for j := uint64(0); j < m; j++ {
			off := binary.LittleEndian.Uint64(chunk[8*j:])
			if off != 0 {
				k := (off - h.dataOff) / h.clusterSize
				if off%h.clusterSize != 0 || off < h.dataOff || off > uint64(size) || uint64(size)-off < h.clusterSize || used[k] {
					return overlayHeader{}, nil, fmt.Errorf("corrupt table: cluster %d at offset %d (data from %d, file %d bytes)", i+j, off, h.dataOff, size)
				}
				used[k] = true
			}
			table[i+j] = off
		}
		i += m
	}
	return h, table, nil
}

// resolveBase returns the base path of the overlay at path, resolved.
func resolveBase(path, stored string) string {
	if filepath.IsAbs(stored) {
		return stored
	}
	return filepath.Join(filepath.Dir(path), stored)
}

// OpenOverlay opens the overlay at path for reading and writing, and its
// base read-only. It fails, naming the file, if either is missing, if the
// overlay is truncated or corrupt, or if the base's size is not what it
// was when the overlay was made.
func OpenOverlay(path string) (*Overlay, error) {
	f, h, table, err := readOverlay(path, true)
	if err != nil {
		return nil, err
	}
	basePath := resolveBase(path, h.basePath)
	base, err := openOverlayBase(path, basePath, h, false)
	if err != nil {
		f.Close()
		return nil, err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		base.Close()
		return nil, fmt.Errorf("overlay %s: %w", path, err)
	}
	return &Overlay{
		f: f, base: base, path: path, basePath: basePath, h: h, table: table,
		dirty:   map[uint64]bool{},
		next:    max(alignUp(uint64(size), h.clusterSize), h.dataOff),
		scratch: make([]byte, h.clusterSize),
	}, nil
}

// openOverlayBase opens the base of an overlay and checks its size.
func openOverlayBase(path, basePath string, h overlayHeader, write bool) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	base, err := os.OpenFile(basePath, flag, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("overlay %s: base image %s does not exist", path, basePath)
		}
		return nil, fmt.Errorf("overlay %s: base image: %w", path, err)
	}
	// The base is only read while the overlay is in use: a shared lock.
	// A commit writes it through a second file under the overlay's own
	// lock, made exclusive for the while (Commit).
	if !write {
		if err := lockImage(base, false); err != nil {
			base.Close()
			return nil, lockError(fmt.Sprintf("overlay %s: base image %s", path, basePath), false, err)
		}
	}
	size, err := base.Seek(0, io.SeekEnd)
	if err != nil {
		base.Close()
		return nil, fmt.Errorf("overlay %s: base image %s: %w", path, basePath, err)
	}
	if uint64(size) != h.baseSize {
		base.Close()
		return nil, fmt.Errorf("overlay %s: base image %s is %d bytes, but was %d when the overlay was made: it no longer matches", path, basePath, size, h.baseSize)
	}
	return base, nil
}

// ReadOverlayInfo describes the overlay at path without opening its base.
func ReadOverlayInfo(path string) (OverlayInfo, error) {
	f, h, table, err := readOverlay(path, false)
	if err != nil {
		return OverlayInfo{}, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return OverlayInfo{}, fmt.Errorf("overlay %s: %w", path, err)
	}
	return overlayInfo(h, table, size), nil
}

func overlayInfo(h overlayHeader, table []uint64, fileSize int64) OverlayInfo {
	info := OverlayInfo{
		VirtualSize: int64(h.virtualSize), ClusterSize: int64(h.clusterSize),
		Clusters: int64(h.entries), BasePath: h.basePath, FileSize: fileSize,
	}
	for _, off := range table {
		if off != 0 {
			info.Allocated++
		}
	}
	return info
}

// CommitOverlay folds the overlay at path into its base (Overlay.Commit)
// and returns the number of clusters copied.
func CommitOverlay(path string) (int64, error) {
	o, err := OpenOverlay(path)
	if err != nil {
		return 0, err
	}
	n, err := o.Commit()
	if cerr := o.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// Info describes the open overlay.
func (o *Overlay) Info() OverlayInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	size := int64(o.next)
	if fi, err := o.f.Stat(); err == nil {
		size = fi.Size()
	}
	return overlayInfo(o.h, o.table, size)
}

// Path returns the overlay's path.
func (o *Overlay) Path() string { return o.path }

// BasePath returns the path of the base image, resolved.
func (o *Overlay) BasePath() string { return o.basePath }

// Size returns the virtual disk's size in bytes.
func (o *Overlay) Size() int64 { return int64(o.h.virtualSize) }

// ReadOnly reports false: an overlay takes writes (the base never does).
func (o *Overlay) ReadOnly() bool { return false }

var errOverlayClosed = errors.New("overlay is closed")

// check validates a request of n bytes at off against the virtual size.
func (o *Overlay) check(n int, off int64) error {
	if o.closed {
		return errOverlayClosed
	}
	if off < 0 || uint64(off) > o.h.virtualSize || uint64(n) > o.h.virtualSize-uint64(off) {
		return fmt.Errorf("overlay %s: access %d+%d is outside the %d-byte disk", o.path, off, n, o.h.virtualSize)
	}
	return nil
}

// ReadAt reads the virtual disk: clusters the overlay holds from it, the
// others from the base.
func (o *Overlay) ReadAt(p []byte, off int64) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.check(len(p), off); err != nil {
		return 0, err
	}
	return o.eachCluster(p, off, func(c, within, pos uint64, chunk []byte) error {
		if at := o.table[c]; at != 0 {
			_, err := o.f.ReadAt(chunk, int64(at+within))
			return err
		}
		_, err := o.base.ReadAt(chunk, int64(pos))
		return err
	})
}

// eachCluster calls fn on the piece of p that falls in each cluster of
// [off, off+len(p)): the cluster, the offset in it, the disk offset and the
// piece. It returns the bytes done before an error.
func (o *Overlay) eachCluster(p []byte, off int64, fn func(c, within, pos uint64, chunk []byte) error) (int, error) {
	done := 0
	for done < len(p) {
		pos := uint64(off) + uint64(done)
		c, within := pos/o.h.clusterSize, pos%o.h.clusterSize
		n := int(min(uint64(len(p)-done), o.h.clusterSize-within))
		if err := fn(c, within, pos, p[done:done+n]); err != nil {
			return done, fmt.Errorf("overlay %s: %w", o.path, err)
		}
		done += n
	}
	return done, nil
}

// WriteAt writes the virtual disk: in place in clusters the overlay holds,
// else into a new cluster copied from the base (see the crash consistency
// notes above).
func (o *Overlay) WriteAt(p []byte, off int64) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.check(len(p), off); err != nil {
		return 0, err
	}
	return o.eachCluster(p, off, func(c, within, _ uint64, chunk []byte) error {
		return o.writeCluster(c, within, chunk)
	})
}

// writeCluster writes p at within in cluster c.
func (o *Overlay) writeCluster(c, within uint64, p []byte) error {
	if at := o.table[c]; at != 0 {
		_, err := o.f.WriteAt(p, int64(at+within))
		return err
	}
	// Copy on write: the base's cluster (zeros past its end), the new bytes
	// over it, all at fresh space; the table entry waits for Sync.
	buf := o.scratch
	start := c * o.h.clusterSize
	inBase := min(o.h.clusterSize, o.h.virtualSize-start)
	if full := within == 0 && uint64(len(p)) == o.h.clusterSize; !full {
		if _, err := o.base.ReadAt(buf[:inBase], int64(start)); err != nil {
			return fmt.Errorf("reading the base: %w", err)
		}
	}
	clear(buf[inBase:])
	copy(buf[within:], p)
	at := o.next
	if _, err := o.f.WriteAt(buf, int64(at)); err != nil {
		return err
	}
	o.next += o.h.clusterSize
	o.table[c] = at
	o.dirty[c/overlayTablePage] = true
	return nil
}

// Sync makes the writes so far durable: the data, then the table entries
// that point to it.
func (o *Overlay) Sync() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errOverlayClosed
	}
	return o.syncLocked()
}

func (o *Overlay) syncLocked() error {
	if len(o.dirty) > 0 {
		if err := o.f.Sync(); err != nil {
			return fmt.Errorf("overlay %s: %w", o.path, err)
		}
		buf := make([]byte, 8*overlayTablePage)
		for page := range o.dirty {
			first := page * overlayTablePage
			last := min(first+overlayTablePage, o.h.entries)
			for i := first; i < last; i++ {
				binary.LittleEndian.PutUint64(buf[8*(i-first):], o.table[i])
			}
			if _, err := o.f.WriteAt(buf[:8*(last-first)], int64(o.h.tableOff+8*first)); err != nil {
				return fmt.Errorf("overlay %s: writing the table: %w", o.path, err)
			}
		}
		clear(o.dirty)
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("overlay %s: %w", o.path, err)
	}
	return nil
}

// Commit copies the clusters the overlay holds into the base image, which
// it opens for writing for the purpose (nothing else may use the base
// meanwhile), then empties the overlay. It returns the number of clusters
// copied. The overlay stays open and usable, now over the updated base.
func (o *Overlay) Commit() (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return 0, errOverlayClosed
	}
	if err := o.syncLocked(); err != nil {
		return 0, err
	}
	// Nobody else may read the base while it changes.
	if err := lockImage(o.base, true); err != nil {
		return 0, lockError(fmt.Sprintf("overlay %s: base image %s", o.path, o.basePath), true, err)
	}
	defer lockImage(o.base, false)
	base, err := openOverlayBase(o.path, o.basePath, o.h, true)
	if err != nil {
		return 0, err
	}
	var copied int64
	for c, at := range o.table {
		if at == 0 {
			continue
		}
		start := uint64(c) * o.h.clusterSize
		buf := o.scratch[:min(o.h.clusterSize, o.h.virtualSize-start)]
		if _, err := o.f.ReadAt(buf, int64(at)); err != nil {
			base.Close()
			return copied, fmt.Errorf("overlay %s: commit: reading cluster %d: %w", o.path, c, err)
		}
		if _, err := base.WriteAt(buf, int64(start)); err != nil {
			base.Close()
			return copied, fmt.Errorf("overlay %s: commit: writing the base %s: %w", o.path, o.basePath, err)
		}
		copied++
	}
	err = base.Sync()
	if cerr := base.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return copied, fmt.Errorf("overlay %s: commit: the base %s: %w", o.path, o.basePath, err)
	}
	// The base now holds everything: empty the table, then free the data.
	zero := make([]byte, 64<<10)
	for off := o.h.tableOff; off < o.h.dataOff; off += uint64(len(zero)) {
		n := min(uint64(len(zero)), o.h.dataOff-off)
		if _, err := o.f.WriteAt(zero[:n], int64(off)); err != nil {
			return copied, fmt.Errorf("overlay %s: commit: clearing the table: %w", o.path, err)
		}
	}
	clear(o.table)
	clear(o.dirty)
	if err := o.f.Sync(); err != nil {
		return copied, fmt.Errorf("overlay %s: commit: %w", o.path, err)
	}
	if err := o.f.Truncate(int64(o.h.dataOff)); err != nil {
		return copied, fmt.Errorf("overlay %s: commit: %w", o.path, err)
	}
	o.next = o.h.dataOff
	if err := o.f.Sync(); err != nil {
		return copied, fmt.Errorf("overlay %s: commit: %w", o.path, err)
	}
	return copied, nil
}

// Close syncs the overlay and closes both files.
func (o *Overlay) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	err := o.syncLocked()
	o.closed = true
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if cerr := o.base.Close(); err == nil {
		err = cerr
	}
	return err
}

// IsOverlay reports whether the file at path is a gemu overlay (it starts
// with the GEMUCOW1 magic), so that a command can take either a raw image
// or an overlay. A missing or unreadable file is an error.
func IsOverlay(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [len(overlayMagic)]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return string(magic[:n]) == overlayMagic, nil
}

var _ BlockBackend = (*Overlay)(nil)
