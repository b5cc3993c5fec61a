package devices

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Host-side network links for the emulated NICs (the NE2000 here, virtio-net
// in package virtio). A backend moves whole Ethernet frames (destination
// address through payload, no preamble and no FCS) between the NIC and the
// host: a stream socket to another gemu (QEMU's -netdev socket/stream
// framing), a Linux tap device, and a pcap recorder that wraps either.
//
// Threading: Send is called by the NIC on the vCPU goroutine; received
// frames arrive on a goroutine of the backend, through the function given to
// SetReceiver. A NIC therefore queues them (goroutine-safe) and moves them
// into the guest-visible state at its Poll, on the vCPU goroutine, as the
// UART does with host input.

// NetMaxFrame is the longest frame a backend carries: 64 KiB of payload
// plus room for headers, QEMU's NET_BUFSIZE (net/net.h). Longer frames are
// refused; a stream peer that announces one is cut off.
const NetMaxFrame = 65536 + 4096

// NetBackend is the host end of a NIC's cable.
type NetBackend interface {
	// Send transmits one frame. It does not keep frame after it returns and
	// does not block for long: a backend that cannot send now drops the
	// frame and counts it (a cable has no flow control either). The error
	// reports a broken backend, not a dropped frame.
	Send(frame []byte) error
	// SetReceiver sets the function that gets each received frame, on the
	// backend's goroutine; the frame belongs to the receiver. nil drops
	// received frames.
	SetReceiver(func(frame []byte))
	// Close stops the backend and its goroutines; the receiver is not
	// called after it returns.
	Close() error
}

// NetLinkStats counts a backend's traffic.
type NetLinkStats struct {
	FramesOut, BytesOut uint64 // sent to the host side
	FramesIn, BytesIn   uint64 // received from the host side
	// Dropped counts frames lost in the backend: sent with no peer
	// connected or with the send queue full, or received with no receiver.
	Dropped uint64
	// BadFrames counts framing errors from a stream peer (each one cut the
	// connection); Connects counts the peers connected so far.
	BadFrames, Connects uint64
}

// errNetClosed is returned by Send on a closed backend.
var errNetClosed = errors.New("network backend is closed")

// netLink is what every host link keeps: the receiver, the closed flag and
// the counters common to all.
type netLink struct {
	recv   atomic.Pointer[func([]byte)]
	closed atomic.Bool

	framesOut, bytesOut, framesIn, bytesIn, dropped atomic.Uint64
}

// SetReceiver sets the function that gets received frames.
func (l *netLink) SetReceiver(f func(frame []byte)) {
	if f == nil {
		l.recv.Store(nil)
		return
	}
	l.recv.Store(&f)
}

// counts returns the common counters.
func (l *netLink) counts() NetLinkStats {
	return NetLinkStats{
		FramesOut: l.framesOut.Load(), BytesOut: l.bytesOut.Load(),
		FramesIn: l.framesIn.Load(), BytesIn: l.bytesIn.Load(), Dropped: l.dropped.Load(),
	}
}

// checkSend refuses a frame on a closed link, and one of a length no peer
// would accept (counted as dropped; the error names the link).
func (l *netLink) checkSend(link string, frame []byte) error {
	if l.closed.Load() {
		return errNetClosed
	}
	if len(frame) == 0 || len(frame) > NetMaxFrame {
		l.dropped.Add(1)
		return fmt.Errorf("%s: frame of %d bytes not sent (1 to %d)", link, len(frame), NetMaxFrame)
	}
	return nil
}

// sent counts a frame handed to the host side.
func (l *netLink) sent(n int) {
	l.framesOut.Add(1)
	l.bytesOut.Add(uint64(n))
}

// deliver counts a received frame and gives it to the receiver (which may
// keep it), or drops it without one.
func (l *netLink) deliver(frame []byte) {
	l.framesIn.Add(1)
	l.bytesIn.Add(uint64(len(frame)))
	if f := l.recv.Load(); f != nil {
		(*f)(frame)
	} else {
		l.dropped.Add(1)
	}
}

// NetBackendKind says which host link a NetSpec asks for.
type NetBackendKind uint8

// Backend kinds.
const (
	NetKindNone          NetBackendKind = iota
	NetKindSocketListen                 // socket,listen=HOST:PORT: wait for one peer
	NetKindSocketConnect                // socket,connect=HOST:PORT: connect to a peer
	NetKindTap                          // tap[,ifname=NAME]
)

func (k NetBackendKind) String() string {
	switch k {
	case NetKindSocketListen:
		return "socket-listen"
	case NetKindSocketConnect:
		return "socket-connect"
	case NetKindTap:
		return "tap"
	}
	return "none"
}

// NICModel names an emulated network card.
type NICModel string

// NIC models. The empty model lets the machine choose (the NE2000 with
// emulated legacy devices, virtio-net with virtio devices).
const (
	NICVirtio     NICModel = "virtio"      // virtio-net on PCI
	NICVirtioMMIO NICModel = "virtio-mmio" // virtio-net on a virtio-mmio window
	NICNE2000     NICModel = "ne2k"
)

// DefaultMAC is the address of the first NIC when none is given, QEMU's
// (52:54:00 is the locally administered prefix QEMU uses); the NIC with
// index i gets the last byte plus i.
var DefaultMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

// NetSpec is one parsed -net option: which backend, which card, which
// address.
type NetSpec struct {
	Backend NetBackendKind
	Addr    string // HOST:PORT of a socket backend
	IfName  string // tap interface; "" lets the kernel name it (tapN)
	Model   NICModel
	MAC     [6]byte
}

// netSocketConnectTimeout is how long a connect= socket retries the
// first connection.
const netSocketConnectTimeout = 10 * time.Second

// ParseNetSpec parses a QEMU-like option string: a backend type followed by
// KEY=VALUE options, separated by commas:
//
//	socket,listen=127.0.0.1:5555,model=ne2k,mac=52:54:00:12:34:56
//	socket,connect=127.0.0.1:5555
//	tap,ifname=tap0,script=no,downscript=no
//
// Models: virtio (alias virtio-net, virtio-net-pci) and ne2k (alias
// ne2k_pci); e1000 is not emulated. index is the NIC's position on the
// command line: without mac=, the NIC gets DefaultMAC with index added to
// its last byte. Errors are one line and name the bad part.
func ParseNetSpec(spec string, index int) (NetSpec, error) {
	fail := func(format string, args ...any) (NetSpec, error) {
		return NetSpec{}, fmt.Errorf("net %q: %s", spec, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(spec, ",")
	kind := strings.TrimSpace(parts[0])
	ns := NetSpec{MAC: DefaultMAC}
	ns.MAC[5] += byte(index)

	var keys string
	switch kind {
	case "socket", "stream":
		keys = "listen=, connect=, model=, mac="
	case "tap":
		ns.Backend = NetKindTap
		keys = "ifname=, script=no, downscript=no, model=, mac="
	case "user":
		return fail("user-mode networking (slirp) is not supported; use tap or socket")
	case "none":
		return fail("backend none is not supported; leave out the NIC, or use tap or socket")
	case "":
		return fail("missing backend type (socket or tap)")
	default:
		if strings.Contains(kind, "=") {
			return fail("missing backend type before %q (socket or tap)", kind)
		}
		return fail("unknown backend %q (want socket or tap)", kind)
	}

	seen := map[string]bool{}
	for _, p := range parts[1:] {
		key, val, ok := strings.Cut(p, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return fail("option %q is not KEY=VALUE", p)
		}
		if seen[key] {
			return fail("option %s given twice", key)
		}
		seen[key] = true
		switch {
		case key == "model":
			m, err := parseNICModel(val)
			if err != nil {
				return fail("%v", err)
			}
			ns.Model = m
		case key == "mac":
			mac, err := parseMAC(val)
			if err != nil {
				return fail("mac=%s: %v", val, err)
			}
			ns.MAC = mac
		case (key == "listen" || key == "connect") && kind != "tap":
			if ns.Backend != NetKindNone {
				return fail("give one of listen= and connect=, not both")
			}
			if err := checkHostPort(val, key == "connect"); err != nil {
				return fail("%s=%s: %v", key, val, err)
			}
			ns.Backend, ns.Addr = NetKindSocketListen, val
			if key == "connect" {
				ns.Backend = NetKindSocketConnect
			}
		case key == "ifname" && kind == "tap":
			if val == "" || len(val) >= 16 || strings.ContainsAny(val, "/ \t") {
				return fail("ifname=%s: want an interface name of 1 to 15 characters", val)
			}
			ns.IfName = val
		case (key == "script" || key == "downscript") && kind == "tap":
			if val != "no" {
				return fail("%s=%s: scripts are not run; configure the tap beforehand and give %s=no", key, val, key)
			}
		default:
			return fail("unknown option %q for %s (want %s)", key, kind, keys)
		}
	}
	if kind != "tap" && ns.Backend == NetKindNone {
		return fail("socket needs listen=HOST:PORT or connect=HOST:PORT")
	}
	return ns, nil
}

func parseNICModel(v string) (NICModel, error) {
	switch v {
	case "virtio", "virtio-net", "virtio-net-pci":
		return NICVirtio, nil
	case "virtio-mmio", "virtio-net-device":
		return NICVirtioMMIO, nil
	case "ne2k", "ne2k_pci", "ne2k-pci", "ne2000":
		return NICNE2000, nil
	case "e1000":
		return "", errors.New("model e1000 is not emulated (want virtio, virtio-mmio or ne2k)")
	}
	return "", fmt.Errorf("unknown model %q (want virtio, virtio-mmio or ne2k)", v)
}

// parseMAC parses six hexadecimal bytes separated by colons (or dashes).
// It refuses multicast addresses, which no card may own (IEEE 802.3
// §3.2.3: bit 0 of the first byte is the group bit).
func parseMAC(s string) ([6]byte, error) {
	var mac [6]byte
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '-' })
	if len(f) != 6 || strings.Count(s, ":")+strings.Count(s, "-") != 5 {
		return mac, errors.New("want six hexadecimal bytes, like 52:54:00:12:34:56")
	}
	for i, b := range f {
		v, err := strconv.ParseUint(b, 16, 8)
		if err != nil || len(b) > 2 {
			return mac, fmt.Errorf("%q is not a hexadecimal byte", b)
		}
		mac[i] = byte(v)
	}
	if mac[0]&1 != 0 {
		return mac, errors.New("a multicast address (bit 0 of the first byte set) cannot be a card's")
	}
	return mac, nil
}

// checkHostPort checks HOST:PORT; connecting needs a host and a non-zero
// port, listening takes an empty host (all addresses) and port 0 (any).
func checkHostPort(addr string, connect bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want HOST:PORT")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	switch {
	case err != nil:
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	case connect && p == 0:
		return errors.New("cannot connect to port 0")
	case connect && host == "":
		return errors.New("want a host to connect to")
	}
	return nil
}

// FormatMAC formats a MAC address as Linux prints it.
func FormatMAC(mac [6]byte) string { return net.HardwareAddr(mac[:]).String() }

// OpenNetBackend opens the backend that spec asks for. logf receives the
// backend's reports (peer connected, bad frames); nil is silent.
func OpenNetBackend(spec NetSpec, logf func(format string, args ...any)) (NetBackend, error) {
	var (
		b   NetBackend
		err error
	)
	switch spec.Backend {
	case NetKindSocketListen:
		var s *NetSocket
		s, err = ListenNetSocket(spec.Addr, logf)
		b = s
	case NetKindSocketConnect:
		var s *NetSocket
		s, err = DialNetSocket(spec.Addr, netSocketConnectTimeout, logf)
		b = s
	case NetKindTap:
		var t *NetTap
		t, err = OpenNetTap(spec.IfName, logf)
		b = t
	default:
		return nil, fmt.Errorf("net: no backend given")
	}
	if err != nil { // not a typed nil in the interface
		return nil, err
	}
	return b, nil
}
