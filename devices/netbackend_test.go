package devices

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeNet is a NetBackend for tests: it records sent frames and lets the
// test inject received ones, as a backend goroutine would.
type fakeNet struct {
	mu     sync.Mutex
	sent   [][]byte
	recv   func([]byte)
	closed bool
	err    error // returned by Send
}

func (f *fakeNet) Send(frame []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, append([]byte(nil), frame...))
	return f.err
}

func (f *fakeNet) SetReceiver(r func([]byte)) {
	f.mu.Lock()
	f.recv = r
	f.mu.Unlock()
}

func (f *fakeNet) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

// inject delivers frame to the receiver from another goroutine, and waits
// for it.
func (f *fakeNet) inject(frame []byte) {
	f.mu.Lock()
	r := f.recv
	f.mu.Unlock()
	if r == nil {
		return
	}
	done := make(chan struct{})
	go func() { r(frame); close(done) }()
	<-done
}

func (f *fakeNet) frames() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.sent...)
}

// logRecorder collects log lines from any goroutine.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logRecorder) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestParseNetSpec(t *testing.T) {
	mac := func(last byte) [6]byte { return [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, last} }
	good := []struct {
		spec  string
		index int
		want  NetSpec
	}{
		{"socket,listen=127.0.0.1:5555,model=ne2k,mac=52:54:00:12:34:56", 0,
			NetSpec{Backend: NetKindSocketListen, Addr: "127.0.0.1:5555", Model: NICNE2000, MAC: mac(0x56)}},
		{"socket,connect=localhost:5555", 0,
			NetSpec{Backend: NetKindSocketConnect, Addr: "localhost:5555", MAC: mac(0x56)}},
		{"socket,listen=:0", 2, NetSpec{Backend: NetKindSocketListen, Addr: ":0", MAC: mac(0x58)}},
		{"stream,connect=[::1]:7,model=virtio", 1,
			NetSpec{Backend: NetKindSocketConnect, Addr: "[::1]:7", Model: NICVirtio, MAC: mac(0x57)}},
		{"tap,ifname=tap0,script=no,downscript=no", 0, NetSpec{Backend: NetKindTap, IfName: "tap0", MAC: mac(0x56)}},
		{"tap", 3, NetSpec{Backend: NetKindTap, MAC: mac(0x59)}},
		{"tap,model=ne2k_pci,mac=02-00-00-AA-bb-0c", 0,
			NetSpec{Backend: NetKindTap, Model: NICNE2000, MAC: [6]byte{2, 0, 0, 0xAA, 0xBB, 0x0C}}},
		{"tap,model=virtio-net-pci", 0, NetSpec{Backend: NetKindTap, Model: NICVirtio, MAC: mac(0x56)}},
	}
	for _, tc := range good {
		got, err := ParseNetSpec(tc.spec, tc.index)
		if err != nil {
			t.Errorf("ParseNetSpec(%q): %v", tc.spec, err)
			continue
		}
		equal(t, tc.want, got, "ParseNetSpec(%q)", tc.spec)
	}

	bad := []struct{ spec, want string }{
		{"", "missing backend type"},
		{"listen=1.2.3.4:5", "missing backend type"},
		{"user", "not supported"},
		{"none", "not supported"},
		{"vde,sock=/tmp/x", `unknown backend "vde"`},
		{"socket", "needs listen=HOST:PORT or connect=HOST:PORT"},
		{"socket,listen=1.2.3.4:5,connect=1.2.3.4:6", "not both"},
		{"socket,listen=1.2.3.4", "want HOST:PORT"},
		{"socket,listen=1.2.3.4:http", "not a number"},
		{"socket,listen=1.2.3.4:70000", "not a number"},
		{"socket,connect=1.2.3.4:0", "port 0"},
		{"socket,connect=:5555", "want a host"},
		{"socket,listen=:1,foo=bar", `unknown option "foo"`},
		{"socket,listen=:1,ifname=tap0", `unknown option "ifname"`},
		{"tap,listen=:1", `unknown option "listen"`},
		{"socket,listen=:1,listen=:2", "given twice"},
		{"socket,listen=:1,model", "not KEY=VALUE"},
		{"socket,listen=:1,model=e1000", "e1000 is not emulated"},
		{"socket,listen=:1,model=rtl8139", `unknown model "rtl8139"`},
		{"socket,listen=:1,mac=52:54:00:12:34", "six hexadecimal bytes"},
		{"socket,listen=:1,mac=52:54:00:12:34:5g", `"5g" is not a hexadecimal byte`},
		{"socket,listen=:1,mac=52:54:00:12:34:567", `"567" is not a hexadecimal byte`},
		{"socket,listen=:1,mac=52::54:00:12:34:56", "six hexadecimal bytes"},
		{"socket,listen=:1,mac=01:00:5e:00:00:01", "multicast"},
		{"tap,ifname=", "interface name"},
		{"tap,ifname=averyveryverylongname", "interface name"},
		{"tap,script=/etc/qemu-ifup", "scripts are not run"},
	}
	for _, tc := range bad {
		_, err := ParseNetSpec(tc.spec, 0)
		if err == nil {
			t.Errorf("ParseNetSpec(%q): no error, want one containing %q", tc.spec, tc.want)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.spec) {
			t.Errorf("ParseNetSpec(%q) = %q, want one line naming the spec and containing %q", tc.spec, msg, tc.want)
		}
	}
}

func TestNetKindString(t *testing.T) {
	for k, want := range map[NetBackendKind]string{
		NetKindNone: "none", NetKindSocketListen: "socket-listen", NetKindSocketConnect: "socket-connect", NetKindTap: "tap",
	} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
	}
}

func TestOpenNetBackendSocket(t *testing.T) {
	spec, err := ParseNetSpec("socket,listen=127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenNetBackend(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := b.(*NetSocket)
	if !ok || !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("OpenNetBackend gave %T %v", b, b)
	}
	// A second listener on the same address fails, and returns a nil
	// interface, not a typed nil.
	spec.Addr = s.Addr()
	b2, err := OpenNetBackend(spec, nil)
	if err == nil || b2 != nil {
		t.Errorf("second listener on %s: %v, %v; want an error and nil", spec.Addr, b2, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenNetBackend(NetSpec{}, nil); err == nil {
		t.Error("OpenNetBackend without a backend: no error")
	}
}
