package devices

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// NetDump wraps a backend and records every frame, sent and received, in a
// libpcap capture file (--net-dump FILE), readable by tcpdump and Wireshark.
//
// File format (libpcap, "Libpcap File Format", and pcap-savefile(5)): a
// 24-byte global header — magic 0xa1b2c3d4, version 2.4, time zone 0,
// sigfigs 0, snaplen 65535, link type 1 (LINKTYPE_ETHERNET) — then per
// frame a 16-byte record header (seconds, microseconds, captured length,
// original length) and the captured bytes. Everything is little-endian (the
// magic tells readers the byte order). Each record is written with one
// unbuffered write, so the file is whole after every frame even if the
// process is killed.
type NetDump struct {
	inner NetBackend
	mu    sync.Mutex
	w     io.WriteCloser
	err   error // the first write error; recording stops there
	now   func() time.Time
	buf   []byte
}

// pcap constants (pcap-savefile(5)).
const (
	pcapMagic        = 0xa1b2c3d4
	pcapVersionMajor = 2
	pcapVersionMinor = 4
	pcapSnapLen      = 65535
	pcapLinkEthernet = 1
	pcapHeaderSize   = 24
)

// NewNetDump creates (or truncates) path, writes the capture header and
// returns inner wrapped. Closing the dump closes inner and the file.
func NewNetDump(inner NetBackend, path string) (*NetDump, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("net dump: %w", err)
	}
	d, err := newNetDump(inner, f, time.Now)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("net dump %s: %w", path, err)
	}
	return d, nil
}

func newNetDump(inner NetBackend, w io.WriteCloser, now func() time.Time) (*NetDump, error) {
	var h [pcapHeaderSize]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], pcapMagic)
	le.PutUint16(h[4:], pcapVersionMajor)
	le.PutUint16(h[6:], pcapVersionMinor)
	// h[8:16]: time zone offset and timestamp accuracy, both 0.
	le.PutUint32(h[16:], pcapSnapLen)
	le.PutUint32(h[20:], pcapLinkEthernet)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &NetDump{inner: inner, w: w, now: now}, nil
}

// Err returns the write error that stopped the recording, if any.
func (d *NetDump) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// record appends one frame to the file; it is called from the vCPU
// goroutine (sent frames) and the backend's (received frames).
func (d *NetDump) record(frame []byte) {
	t := d.now()
	capLen := min(len(frame), pcapSnapLen)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil || d.w == nil {
		return
	}
	le := binary.LittleEndian
	d.buf = le.AppendUint32(d.buf[:0], uint32(t.Unix()))
	d.buf = le.AppendUint32(d.buf, uint32(t.Nanosecond()/1000))
	d.buf = le.AppendUint32(d.buf, uint32(capLen))
	d.buf = le.AppendUint32(d.buf, uint32(len(frame)))
	d.buf = append(d.buf, frame[:capLen]...)
	if _, err := d.w.Write(d.buf); err != nil {
		d.err = err
	}
}

// Send records frame and passes it on.
func (d *NetDump) Send(frame []byte) error {
	d.record(frame)
	return d.inner.Send(frame)
}

// SetReceiver records each received frame before handing it to f.
func (d *NetDump) SetReceiver(f func(frame []byte)) {
	if f == nil {
		d.inner.SetReceiver(nil)
		return
	}
	d.inner.SetReceiver(func(frame []byte) {
		d.record(frame)
		f(frame)
	})
}

// Close closes the backend, then the file.
func (d *NetDump) Close() error {
	err := d.inner.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w != nil {
		if cerr := d.w.Close(); err == nil {
			err = cerr
		}
		d.w = nil
	}
	return err
}
