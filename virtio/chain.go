package virtio

import (
	"fmt"
	"io"

	"github.com/gemu-project/gemu/mmu"
)

// Buffer is one guest buffer of a chain (one descriptor of non-zero length).
type Buffer struct {
	Addr mmu.GPA
	Len  uint32
}

// Chain is a descriptor chain taken from a queue: its device-readable
// buffers, then its device-writable ones (virtio 1.2 §2.7.4). Every buffer
// lies in guest RAM. Devices address the bytes of each part by offset, as
// if the buffers were one: the driver may split a request anywhere
// (virtio 1.2 §2.7.4.1).
type Chain struct {
	Head     uint16
	Readable []Buffer
	Writable []Buffer

	readableLen, writableLen uint64
	mem                      *mmu.Memory
}

// ReadableLen is the total length of the device-readable buffers.
func (c *Chain) ReadableLen() uint64 { return c.readableLen }

// WritableLen is the total length of the device-writable buffers.
func (c *Chain) WritableLen() uint64 { return c.writableLen }

// span calls fn on the guest memory that holds bytes [off, off+n) of bufs,
// piece by piece, and returns the number of bytes it covered (less than n
// past the end of bufs).
func (c *Chain) span(bufs []Buffer, off, n uint64, fn func(addr mmu.GPA, b []byte) error) (uint64, error) {
	var done uint64
	for _, b := range bufs {
		if done == n {
			break
		}
		l := uint64(b.Len)
		if off >= l {
			off -= l
			continue
		}
		k := min(l-off, n-done)
		addr := b.Addr + mmu.GPA(off)
		m, err := c.mem.Slice(addr, k)
		if err != nil {
			return done, err // not reached: Pop checked every buffer
		}
		if err := fn(addr, m); err != nil {
			return done, err
		}
		done += k
		off = 0
	}
	return done, nil
}

// Read copies device-readable bytes from offset off into p and returns how
// many it copied (fewer than len(p) at the end of the readable part).
func (c *Chain) Read(p []byte, off uint64) int {
	n, _ := c.span(c.Readable, off, uint64(len(p)), func(_ mmu.GPA, b []byte) error {
		p = p[copy(p, b):]
		return nil
	})
	return int(n)
}

// Write copies p into the device-writable bytes at offset off and returns
// how many it copied. The translator hears of the write.
func (c *Chain) Write(p []byte, off uint64) int {
	n, _ := c.span(c.Writable, off, uint64(len(p)), func(addr mmu.GPA, b []byte) error {
		p = p[copy(b, p):]
		c.mem.NoteWrite(addr, uint64(len(b)))
		return nil
	})
	return int(n)
}

// CopyOut writes the n device-readable bytes at offset off (what the
// driver sends) to w at pos, straight from guest memory.
func (c *Chain) CopyOut(w io.WriterAt, pos int64, off, n uint64) error {
	done, err := c.span(c.Readable, off, n, func(_ mmu.GPA, b []byte) error {
		_, err := w.WriteAt(b, pos)
		pos += int64(len(b))
		return err
	})
	if err == nil && done < n {
		err = fmt.Errorf("chain has %d readable bytes from offset %d, %d asked", done, off, n)
	}
	return err
}

// CopyIn fills the n device-writable bytes at offset off (what the driver
// receives) from r at pos, straight into guest memory. The translator
// hears of every byte that may have changed, also on error.
func (c *Chain) CopyIn(r io.ReaderAt, pos int64, off, n uint64) error {
	done, err := c.span(c.Writable, off, n, func(addr mmu.GPA, b []byte) error {
		k, err := r.ReadAt(b, pos)
		c.mem.NoteWrite(addr, uint64(len(b)))
		pos += int64(k)
		if k == len(b) {
			return nil // io.ReaderAt may report io.EOF with a full read
		}
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	})
	if err == nil && done < n {
		err = fmt.Errorf("chain has %d writable bytes from offset %d, %d asked", done, off, n)
	}
	return err
}
