package devices

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// NetSocket links two emulators over a TCP stream, with QEMU's framing for
// -netdev socket and -netdev stream (net/stream.c, net/socket.c): each frame
// is preceded by its length as a 4-byte big-endian number. One side
// listens, the other connects; each has at most one peer at a time.
//
// The listening side accepts a peer and, when that peer goes, the next one;
// a peer that connects while another is linked is turned away (closed at
// once, and logged), so that the link in place is never disturbed. A peer
// process that dies is seen at once (its kernel closes the connection). The
// connecting side retries its first connection for a while, and reconnects
// whenever the link breaks, until closed.
// Frames sent while no peer is connected are dropped and counted, as on an
// unplugged cable. A peer that announces a frame of length 0 or longer than
// NetMaxFrame is cut off with a logged reason: the stream cannot be
// resynchronised after that.
//
// Send never blocks the vCPU: frames go through a bounded queue to a writer
// goroutine, and a full queue drops the frame.
type NetSocket struct {
	logf func(format string, args ...any)
	ln   net.Listener // listening side
	addr string       // our listening address, or the address we connect to

	netLink
	out  chan []byte // length-prefixed frames for the writer
	done chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	conn      net.Conn // the peer now, nil if none
	connected atomic.Bool

	badFrames, connects atomic.Uint64
}

const (
	netSocketQueue        = 256             // frames waiting for the writer
	netSocketWriteTimeout = 5 * time.Second // a peer that does not read for this long is cut off
	netSocketRetry        = 200 * time.Millisecond
	netSocketDialTimeout  = 2 * time.Second
)

func newNetSocket(addr string, logf func(format string, args ...any)) *NetSocket {
	return &NetSocket{logf: logf, addr: addr, out: make(chan []byte, netSocketQueue), done: make(chan struct{})}
}

// ListenNetSocket listens on addr (HOST:PORT; port 0 picks one, see Addr)
// and links with the first peer that connects. It fails at once if the
// address cannot be bound. logf receives connection reports; nil is silent.
func ListenNetSocket(addr string, logf func(format string, args ...any)) (*NetSocket, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("net socket: listen on %s: %w", addr, err)
	}
	s := newNetSocket(ln.Addr().String(), logf)
	s.ln = ln
	s.wg.Add(2)
	go s.writer()
	go s.acceptLoop()
	return s, nil
}

// DialNetSocket connects to a listening peer at addr, retrying for up to
// timeout (the peer may start a little later); it fails if no connection
// was made by then. Once linked, it reconnects on its own whenever the link
// breaks.
func DialNetSocket(addr string, timeout time.Duration, logf func(format string, args ...any)) (*NetSocket, error) {
	s := newNetSocket(addr, logf)
	c, err := s.dial(time.Now().Add(timeout))
	if err != nil {
		return nil, fmt.Errorf("net socket: connect to %s: %w (gave up after %v)", addr, err, timeout)
	}
	s.attach(c)
	s.wg.Add(2)
	go s.writer()
	go s.dialLoop(c)
	return s, nil
}

// Addr returns the listening address (with the port chosen for port 0), or
// the address the socket connects to.
func (s *NetSocket) Addr() string { return s.addr }

// Connected reports whether a peer is linked now.
func (s *NetSocket) Connected() bool { return s.connected.Load() }

// Stats returns the counters.
func (s *NetSocket) Stats() NetLinkStats {
	st := s.counts()
	st.BadFrames, st.Connects = s.badFrames.Load(), s.connects.Load()
	return st
}

// Send queues frame for the peer; without a peer, or with the queue full,
// the frame is dropped and counted. It fails only on a closed socket or a
// frame of a length no peer would accept.
func (s *NetSocket) Send(frame []byte) error {
	if err := s.checkSend("net socket", frame); err != nil {
		return err
	}
	if !s.connected.Load() {
		s.dropped.Add(1)
		return nil
	}
	buf := make([]byte, 4+len(frame))
	binary.BigEndian.PutUint32(buf, uint32(len(frame)))
	copy(buf[4:], frame)
	select {
	case s.out <- buf:
	default:
		s.dropped.Add(1)
	}
	return nil
}

// Close closes the link and the listener and waits for the goroutines.
func (s *NetSocket) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closed.Store(true)
	close(s.done)
	c := s.conn
	s.conn = nil
	s.connected.Store(false)
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
	if s.ln != nil {
		s.ln.Close()
	}
	s.wg.Wait()
	return nil
}

func (s *NetSocket) log(format string, args ...any) {
	if s.logf != nil {
		s.logf("net socket %s: "+format, append([]any{s.addr}, args...)...)
	}
}

// attach makes c the peer. It reports false, closing c, if the socket is
// closed or already has a peer.
func (s *NetSocket) attach(c net.Conn) bool {
	s.mu.Lock()
	cur, closed := s.conn, s.closed.Load()
	if closed || cur != nil {
		s.mu.Unlock()
		if !closed {
			s.log("turned away %s: linked with %s", c.RemoteAddr(), cur.RemoteAddr())
		}
		c.Close()
		return false
	}
	s.conn = c
	s.connected.Store(true)
	s.mu.Unlock()
	s.connects.Add(1)
	s.log("peer %s connected", c.RemoteAddr())
	return true
}

// detach forgets c (if it is still the peer) and closes it.
func (s *NetSocket) detach(c net.Conn) {
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
		s.connected.Store(false)
	}
	s.mu.Unlock()
	c.Close()
}

// sleep waits for d; it reports false if the socket was closed meanwhile.
func (s *NetSocket) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.done:
		return false
	case <-t.C:
		return true
	}
}

// dial connects to s.addr, retrying until deadline (zero: until closed).
func (s *NetSocket) dial(deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Timeout: netSocketDialTimeout}
	for {
		c, err := d.Dial("tcp", s.addr)
		if err == nil {
			return c, nil
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return nil, err
		}
		if !s.sleep(netSocketRetry) {
			return nil, errNetClosed
		}
	}
}

// acceptLoop takes peers on the listening side.
func (s *NetSocket) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() {
				return
			}
			s.log("accept: %v", err)
			if !s.sleep(netSocketRetry) {
				return
			}
			continue
		}
		if !s.attach(c) {
			continue // closed (Accept fails next) or turned away
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.readLoop(c)
			s.detach(c)
		}()
	}
}

// dialLoop reads from the peer on the connecting side, and reconnects when
// the link breaks.
func (s *NetSocket) dialLoop(c net.Conn) {
	defer s.wg.Done()
	for {
		s.readLoop(c)
		s.detach(c)
		if s.closed.Load() {
			return
		}
		s.log("link lost; reconnecting")
		var err error
		if c, err = s.dial(time.Time{}); err != nil || !s.attach(c) {
			return
		}
	}
}

// readLoop receives frames from c until it fails or sends a bad length.
func (s *NetSocket) readLoop(c net.Conn) {
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			if !s.closed.Load() && !errors.Is(err, net.ErrClosed) {
				if errors.Is(err, io.EOF) {
					s.log("peer %s disconnected", c.RemoteAddr())
				} else {
					s.log("peer %s: %v", c.RemoteAddr(), err)
				}
			}
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 || n > NetMaxFrame {
			s.badFrames.Add(1)
			s.log("peer %s sent a frame length of %d (want 1 to %d); closing the connection", c.RemoteAddr(), n, NetMaxFrame)
			return
		}
		frame := make([]byte, n)
		if _, err := io.ReadFull(c, frame); err != nil {
			if !s.closed.Load() && !errors.Is(err, net.ErrClosed) {
				s.log("peer %s: frame cut short: %v", c.RemoteAddr(), err)
			}
			return
		}
		s.deliver(frame)
	}
}

// writer sends queued frames to the peer of the moment.
func (s *NetSocket) writer() {
	defer s.wg.Done()
	for {
		var buf []byte
		select {
		case <-s.done:
			return
		case buf = <-s.out:
		}
		s.mu.Lock()
		c := s.conn
		s.mu.Unlock()
		if c == nil {
			s.dropped.Add(1)
			continue
		}
		_ = c.SetWriteDeadline(time.Now().Add(netSocketWriteTimeout))
		if _, err := c.Write(buf); err != nil {
			s.dropped.Add(1)
			if !s.closed.Load() && !errors.Is(err, net.ErrClosed) {
				s.log("send to %s: %v; closing the connection", c.RemoteAddr(), err)
			}
			c.Close() // its reader ends and detaches it
			continue
		}
		s.sent(len(buf) - 4)
	}
}
