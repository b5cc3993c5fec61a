package virtio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gemu-project/gemu/devices"
)

// virtio-blk (virtio 1.2 §5.2): one request queue, requests served
// synchronously in Notify, in order.

// Feature bits (virtio 1.2 §5.2.3).
const (
	blkFSegMax      uint64 = 1 << 2
	blkFRO          uint64 = 1 << 5
	blkFBlkSize     uint64 = 1 << 6
	blkFFlush       uint64 = 1 << 9
	blkFDiscard     uint64 = 1 << 13
	blkFWriteZeroes uint64 = 1 << 14
)

// Request types and status values (virtio 1.2 §5.2.6).
const (
	blkTIn          = 0
	blkTOut         = 1
	blkTFlush       = 4
	blkTGetID       = 8
	blkTDiscard     = 11
	blkTWriteZeroes = 13

	blkSOK     = 0
	blkSIOErr  = 1
	blkSUnsupp = 2

	blkHeaderSize  = 16 // type, reserved, sector
	blkIDBytes     = 20 // VIRTIO_BLK_ID_BYTES
	blkSegmentSize = 16 // struct virtio_blk_discard_write_zeroes
	blkFlagUnmap   = 1
)

// Limits the device advertises (virtio 1.2 §5.2.4).
const (
	blkMaxDiscardSectors     = 1 << 22 // 2 GiB per segment
	blkMaxDiscardSegments    = 16
	blkDiscardAlignment      = 8       // sectors: 4 KiB, the host's block
	blkMaxWriteZeroesSectors = 1 << 16 // 32 MiB of zeros written per request
	blkMaxWriteZeroesSegs    = 1
)

// Configuration space layout (virtio 1.2 §5.2.4, struct virtio_blk_config),
// up to write_zeroes_may_unmap and its padding.
const (
	blkCfgCapacity              = 0
	blkCfgSegMax                = 12
	blkCfgBlkSize               = 20
	blkCfgMaxDiscardSectors     = 36
	blkCfgMaxDiscardSeg         = 40
	blkCfgDiscardAlignment      = 44
	blkCfgMaxWriteZeroesSectors = 48
	blkCfgMaxWriteZeroesSeg     = 52
	blkCfgWriteZeroesMayUnmap   = 56
	blkConfigSize               = 60
)

// Discarder is an optional interface of a devices.BlockBackend: Discard
// deallocates [off, off+n) so that it reads back as zeros (a punched hole:
// fallocate PUNCH_HOLE|KEEP_SIZE). With it the device offers
// VIRTIO_BLK_F_DISCARD and unmaps for WRITE_ZEROES; without it, it offers
// no discard (writing zeros for a guest's whole-disk discard at mkfs time
// would be slow and would fill a sparse image) and writes zeros.
type Discarder interface {
	Discard(off, n int64) error
}

// BlockConfig describes a virtio-blk device beyond its backend.
type BlockConfig struct {
	// Serial is the GET_ID string, cut to 20 bytes.
	Serial string
	// QueueSize is the largest queue the driver may use, a power of two
	// from 4 to 32768; 0 means 256.
	QueueSize uint16
}

// BlockStats counts the device's work, for the machine's statistics.
type BlockStats struct {
	Requests, SectorsRead, SectorsWritten, Flushes, Discards, WriteZeroes, Errors uint64
}

// Block is a virtio-blk device over a devices.BlockBackend.
type Block struct {
	disk      devices.BlockBackend
	discarder Discarder
	readOnly  bool
	capacity  uint64 // sectors
	queueSize uint16
	serial    [blkIDBytes]byte
	features  uint64
	config    [blkConfigSize]byte

	// Set by Activate.
	negotiated uint64
	queue      *Queue
	intr       Interrupt

	stats BlockStats
}

// NewBlock makes a virtio-blk device. A read-only backend gives a
// read-only device (VIRTIO_BLK_F_RO).
func NewBlock(disk devices.BlockBackend, cfg BlockConfig) (*Block, error) {
	qs := cfg.QueueSize
	if qs == 0 {
		qs = 256
	}
	if qs < 4 || qs > MaxQueueSize || qs&(qs-1) != 0 {
		return nil, fmt.Errorf("virtio-blk: queue size %d is not a power of two from 4 to %d", qs, MaxQueueSize)
	}
	b := &Block{
		disk:      disk,
		readOnly:  disk.ReadOnly(),
		capacity:  uint64(disk.Size()) / devices.SectorSize,
		queueSize: qs,
	}
	copy(b.serial[:], cfg.Serial)
	// Requests carry a header and a status besides the data segments, and
	// a chain is at most a queue long (virtio 1.2 §2.7.5.3.1).
	b.features = RingFeatures | blkFSegMax | blkFBlkSize | blkFFlush
	le := binary.LittleEndian
	le.PutUint64(b.config[blkCfgCapacity:], b.capacity)
	le.PutUint32(b.config[blkCfgSegMax:], uint32(qs)-2)
	le.PutUint32(b.config[blkCfgBlkSize:], devices.SectorSize)
	if b.readOnly {
		b.features |= blkFRO
	} else {
		b.features |= blkFWriteZeroes
		le.PutUint32(b.config[blkCfgMaxWriteZeroesSectors:], blkMaxWriteZeroesSectors)
		le.PutUint32(b.config[blkCfgMaxWriteZeroesSeg:], blkMaxWriteZeroesSegs)
		if d, ok := disk.(Discarder); ok {
			b.discarder = d
			b.features |= blkFDiscard
			le.PutUint32(b.config[blkCfgMaxDiscardSectors:], blkMaxDiscardSectors)
			le.PutUint32(b.config[blkCfgMaxDiscardSeg:], blkMaxDiscardSegments)
			le.PutUint32(b.config[blkCfgDiscardAlignment:], blkDiscardAlignment)
			b.config[blkCfgWriteZeroesMayUnmap] = 1
		}
	}
	return b, nil
}

// ID is DeviceIDBlock.
func (b *Block) ID() DeviceID { return DeviceIDBlock }

// Features are the offered feature bits.
func (b *Block) Features() uint64 { return b.features }

// NumQueues is 1: VIRTIO_BLK_F_MQ is not offered.
func (b *Block) NumQueues() int { return 1 }

// MaxQueueSize is the configured queue size.
func (b *Block) MaxQueueSize() uint16 { return b.queueSize }

// ReadConfig reads struct virtio_blk_config.
func (b *Block) ReadConfig(offset uint64, data []byte) {
	clear(data)
	if offset < uint64(len(b.config)) {
		copy(data, b.config[offset:])
	}
}

// WriteConfig ignores writes: the only writable field, writeback, needs
// VIRTIO_BLK_F_CONFIG_WCE, which is not offered.
func (b *Block) WriteConfig(uint64, []byte) {}

// Activate takes the request queue.
func (b *Block) Activate(env Env) error {
	b.negotiated = env.Features
	b.queue = env.Queues[0]
	b.intr = env.Interrupt
	return nil
}

// Reset forgets the queue.
func (b *Block) Reset() {
	b.negotiated, b.queue, b.intr = 0, nil, nil
}

// Stats returns the counters.
func (b *Block) Stats() BlockStats { return b.stats }

// Notify serves every request the driver made available, then sends a
// used buffer notification if the driver wants one.
func (b *Block) Notify(queue int) error {
	q := b.queue
	if queue != 0 || q == nil {
		return nil
	}
	defer func() {
		if q.NeedsInterrupt() {
			b.intr.UsedBuffer(0)
		}
	}()
	for {
		c, err := q.Pop()
		if err != nil || c == nil {
			return err
		}
		written, err := b.serve(c)
		if err != nil {
			return err
		}
		q.Push(c.Head, written)
	}
}

// serve executes one request and writes its status byte, the last
// device-writable byte (virtio 1.2 §5.2.6). A chain without one cannot be
// answered: the device needs a reset. The used length is the whole
// writable part, as QEMU reports it; drivers ignore it for virtio-blk.
func (b *Block) serve(c *Chain) (uint32, error) {
	if c.WritableLen() == 0 {
		return 0, fmt.Errorf("%w (head %d)", ErrNoStatus, c.Head)
	}
	b.stats.Requests++
	status := b.execute(c)
	if status != blkSOK {
		b.stats.Errors++
	}
	c.Write([]byte{status}, c.WritableLen()-1)
	return uint32(min(c.WritableLen(), math.MaxUint32)), nil
}

// ErrNoStatus is the reason for a virtio-blk chain without a writable byte.
var ErrNoStatus = errors.New("virtio-blk request without a device-writable status byte")

func (b *Block) execute(c *Chain) uint8 {
	var hdr [blkHeaderSize]byte
	if c.Read(hdr[:], 0) < blkHeaderSize {
		return blkSIOErr
	}
	typ := binary.LittleEndian.Uint32(hdr[0:])
	sector := binary.LittleEndian.Uint64(hdr[8:])
	in := c.WritableLen() - 1              // data the device may write, before the status
	out := c.ReadableLen() - blkHeaderSize // data the driver sent, after the header
	switch typ {
	case blkTIn:
		return b.read(c, sector, in)
	case blkTOut:
		return b.write(c, sector, out)
	case blkTFlush:
		b.stats.Flushes++
		if b.disk.Sync() != nil {
			return blkSIOErr
		}
		return blkSOK
	case blkTGetID:
		c.Write(b.serial[:min(in, blkIDBytes)], 0)
		return blkSOK
	case blkTDiscard, blkTWriteZeroes:
		return b.zeroRanges(c, typ, out)
	}
	return blkSUnsupp
}

// inRange reports whether sectors sectors from sector lie on the disk,
// without overflow (virtio 1.2 §5.2.6.1: no access beyond capacity).
func (b *Block) inRange(sector, sectors uint64) bool {
	return sector <= b.capacity && sectors <= b.capacity-sector
}

// read is VIRTIO_BLK_T_IN: n bytes, whole sectors, into the writable buffers.
func (b *Block) read(c *Chain, sector, n uint64) uint8 {
	if n%devices.SectorSize != 0 || !b.inRange(sector, n/devices.SectorSize) {
		return blkSIOErr
	}
	if c.CopyIn(b.disk, int64(sector*devices.SectorSize), 0, n) != nil {
		return blkSIOErr
	}
	b.stats.SectorsRead += n / devices.SectorSize
	return blkSOK
}

// write is VIRTIO_BLK_T_OUT. A read-only device writes nothing (virtio 1.2
// §5.2.6.2). Without VIRTIO_BLK_F_FLUSH negotiated, a completed write must
// be stable, so it is synced.
func (b *Block) write(c *Chain, sector, n uint64) uint8 {
	if b.readOnly || n%devices.SectorSize != 0 || !b.inRange(sector, n/devices.SectorSize) {
		return blkSIOErr
	}
	if c.CopyOut(b.disk, int64(sector*devices.SectorSize), blkHeaderSize, n) != nil {
		return blkSIOErr
	}
	b.stats.SectorsWritten += n / devices.SectorSize
	return b.syncUnlessFlush()
}

func (b *Block) syncUnlessFlush() uint8 {
	if b.negotiated&blkFFlush == 0 && b.disk.Sync() != nil {
		return blkSIOErr
	}
	return blkSOK
}

type blkSegment struct {
	sector  uint64
	sectors uint32
	flags   uint32
}

// zeroRanges is VIRTIO_BLK_T_DISCARD or VIRTIO_BLK_T_WRITE_ZEROES over the
// n bytes of segments after the header. Every segment is checked before
// any is executed (virtio 1.2 §5.2.6.2).
func (b *Block) zeroRanges(c *Chain, typ uint32, n uint64) uint8 {
	feature, maxSegs, maxSectors := blkFWriteZeroes, uint64(blkMaxWriteZeroesSegs), uint32(blkMaxWriteZeroesSectors)
	allowedFlags := uint32(blkFlagUnmap)
	if typ == blkTDiscard {
		feature, maxSegs, maxSectors = blkFDiscard, blkMaxDiscardSegments, blkMaxDiscardSectors
		allowedFlags = 0 // unmap must be zero for discard
	}
	if b.negotiated&feature == 0 || (typ == blkTDiscard && b.discarder == nil) {
		return blkSUnsupp
	}
	if n == 0 || n%blkSegmentSize != 0 || n/blkSegmentSize > maxSegs {
		return blkSIOErr
	}
	var raw [blkSegmentSize * blkMaxDiscardSegments]byte
	c.Read(raw[:n], blkHeaderSize)
	segs := make([]blkSegment, n/blkSegmentSize)
	for i := range segs {
		r := raw[i*blkSegmentSize:]
		segs[i] = blkSegment{
			sector:  binary.LittleEndian.Uint64(r[0:]),
			sectors: binary.LittleEndian.Uint32(r[8:]),
			flags:   binary.LittleEndian.Uint32(r[12:]),
		}
		if segs[i].flags&^allowedFlags != 0 {
			return blkSUnsupp
		}
	}
	for _, s := range segs {
		if s.sectors > maxSectors || !b.inRange(s.sector, uint64(s.sectors)) {
			return blkSIOErr
		}
	}
	for _, s := range segs {
		off, length := int64(s.sector*devices.SectorSize), int64(s.sectors)*devices.SectorSize
		var err error
		if typ == blkTDiscard || (s.flags&blkFlagUnmap != 0 && b.discarder != nil) {
			err = b.discarder.Discard(off, length)
		} else {
			err = b.writeZeroes(off, length)
		}
		if err != nil {
			return blkSIOErr
		}
	}
	if typ == blkTDiscard {
		b.stats.Discards++
	} else {
		b.stats.WriteZeroes++
	}
	return b.syncUnlessFlush()
}

// zeroChunk is a source of zeros; it is only read.
var zeroChunk = make([]byte, 64<<10)

func (b *Block) writeZeroes(off, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeroChunk)))
		if _, err := b.disk.WriteAt(zeroChunk[:k], off); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}
