package devices

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// frameSink collects received frames on a channel.
func frameSink(b NetBackend) chan []byte {
	ch := make(chan []byte, 64)
	b.SetReceiver(func(f []byte) { ch <- f })
	return ch
}

func expectFrame(t *testing.T, ch chan []byte, want []byte, what string) {
	t.Helper()
	select {
	case got := <-ch:
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: got frame %x, want %x", what, got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no frame", what)
	}
}

// testFrame returns a frame of n bytes tagged with tag.
func testFrame(n int, tag byte) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = tag + byte(i)
	}
	return f
}

func listenTest(t *testing.T, log *logRecorder) *NetSocket {
	t.Helper()
	l, err := ListenNetSocket("127.0.0.1:0", log.logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestNetSocketBothWaysAndReconnect(t *testing.T) {
	var llog, dlog logRecorder
	l := listenTest(t, &llog)
	lin := frameSink(l)

	// Nobody connected yet: sending drops and counts.
	if err := l.Send(testFrame(60, 1)); err != nil {
		t.Fatal(err)
	}
	if got := l.Stats().Dropped; got != 1 {
		t.Errorf("dropped with no peer = %d, want 1", got)
	}

	d, err := DialNetSocket(l.Addr(), 5*time.Second, dlog.logf)
	if err != nil {
		t.Fatal(err)
	}
	din := frameSink(d)
	waitFor(t, "the listener to take the peer", l.Connected)

	for i, n := range []int{1, 60, 1514, 9000, NetMaxFrame} {
		f := testFrame(n, byte(i))
		if err := d.Send(f); err != nil {
			t.Fatal(err)
		}
		expectFrame(t, lin, f, "connect→listen")
		g := testFrame(n, byte(0x80+i))
		if err := l.Send(g); err != nil {
			t.Fatal(err)
		}
		expectFrame(t, din, g, "listen→connect")
	}
	if err := d.Send(nil); err == nil {
		t.Error("sending an empty frame: no error")
	}
	if err := d.Send(make([]byte, NetMaxFrame+1)); err == nil {
		t.Error("sending an oversized frame: no error")
	}
	if st := l.Stats(); st.FramesIn != 5 || st.Connects != 1 || st.BadFrames != 0 {
		t.Errorf("listener stats %+v", st)
	}

	// A second peer is turned away while the first is linked.
	extra, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("second peer: read gave %v, want EOF", err)
	}
	extra.Close()
	waitFor(t, "the log of the second peer", func() bool { return llog.contains("turned away") })
	f := testFrame(100, 7)
	d.Send(f)
	expectFrame(t, lin, f, "first link after a peer was turned away")

	// The connecting side goes; the listener takes the next peer.
	d.Close()
	waitFor(t, "the listener to see the peer go", func() bool { return !l.Connected() })
	d2, err := DialNetSocket(l.Addr(), 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	d2in := frameSink(d2)
	waitFor(t, "the listener to take the new peer", l.Connected)
	f = testFrame(64, 0x40)
	d2.Send(f)
	expectFrame(t, lin, f, "second peer → listener")
	l.Send(f)
	expectFrame(t, d2in, f, "listener → second peer")

	// The listener goes and comes back on the same address: the connecting
	// side reconnects by itself.
	addr := l.Addr()
	l.Close()
	waitFor(t, "the connecting side to see the link go", func() bool { return !d2.Connected() })
	l2, err := ListenNetSocket(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	l2in := frameSink(l2)
	waitFor(t, "the reconnection", func() bool { return d2.Connected() && l2.Connected() })
	f = testFrame(200, 0x20)
	d2.Send(f)
	expectFrame(t, l2in, f, "after reconnecting")
	// At least one reconnection; more if a dial reached the closing
	// listener's backlog before it went (the kernel completes handshakes
	// that nobody accepts), which the link then drops and dials again.
	if n := d2.Stats().Connects; n < 2 {
		t.Errorf("connects = %d, want at least 2", n)
	}
	if err := d2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d2.Send(f); err == nil {
		t.Error("Send after Close: no error")
	}
	d2.Close() // twice is fine
}

func TestNetSocketBadFrames(t *testing.T) {
	var log logRecorder
	l := listenTest(t, &log)
	in := frameSink(l)

	send := func(raw []byte) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the peer to be linked", l.Connected)
		if _, err := c.Write(raw); err != nil {
			t.Fatal(err)
		}
		return c
	}
	expectCut := func(c net.Conn, what string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("%s: read gave %v, want EOF (connection closed)", what, err)
		}
		c.Close()
		waitFor(t, "the link to go", func() bool { return !l.Connected() })
	}
	be := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

	expectCut(send(be(0)), "length 0")
	expectCut(send(be(NetMaxFrame+1)), "length too large")
	expectCut(send(be(0xFFFFFFFF)), "length 4 GiB")
	if st := l.Stats(); st.BadFrames != 3 || st.FramesIn != 0 {
		t.Errorf("stats after bad lengths: %+v", st)
	}
	for _, want := range []string{"frame length of 0", "frame length of 69633", "frame length of 4294967295", "closing the connection"} {
		if !log.contains(want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}

	// A frame cut short by the peer is not delivered.
	c := send(append(be(100), testFrame(10, 0)...))
	c.Close()
	waitFor(t, "the link to go", func() bool { return !l.Connected() })

	// Good frames, several in one write, then a bad one: the good ones
	// arrive, and the connection is cut.
	f1, f2 := testFrame(3, 1), testFrame(70, 2)
	raw := append(append(be(3), f1...), append(be(70), f2...)...)
	raw = append(raw, be(0)...)
	c = send(raw)
	expectFrame(t, in, f1, "first good frame")
	expectFrame(t, in, f2, "second good frame")
	expectCut(c, "bad frame after good ones")
	select {
	case f := <-in:
		t.Errorf("unexpected frame %x", f)
	default:
	}
}

func TestNetSocketDialFails(t *testing.T) {
	// A port that was just free: nobody listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	if _, err := DialNetSocket(addr, 300*time.Millisecond, nil); err == nil {
		t.Fatal("dial with nobody listening: no error")
	} else if time.Since(start) < 300*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", time.Since(start))
	}
	if _, err := ListenNetSocket("256.0.0.1:1", nil); err == nil {
		t.Error("listening on a bad address: no error")
	}
}

func TestNetSocketDialRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// The listener starts after the connecting side.
	type result struct {
		s   *NetSocket
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := DialNetSocket(addr, 5*time.Second, nil)
		ch <- result{s, err}
	}()
	time.Sleep(300 * time.Millisecond)
	l, err := ListenNetSocket(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.s.Close()
	in := frameSink(l)
	waitFor(t, "the link", l.Connected)
	f := testFrame(42, 9)
	r.s.Send(f)
	expectFrame(t, in, f, "after retrying")
}
