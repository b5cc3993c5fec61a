package devices

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// NetTap is a Linux tap interface: frames the guest sends come out of the
// host's tapN interface, and frames the host routes or bridges to it reach
// the guest. It opens /dev/net/tun and attaches with TUNSETIFF, IFF_TAP |
// IFF_NO_PI: each read or write is one bare Ethernet frame (Linux
// Documentation/networking/tuntap.rst). Creating an interface needs
// CAP_NET_ADMIN; attaching to one made beforehand with
// `ip tuntap add dev NAME mode tap user USER` does not.
type NetTap struct {
	f    *os.File
	name string
	logf func(format string, args ...any)

	netLink
	wg sync.WaitGroup
}

const tunDevice = "/dev/net/tun"

// OpenNetTap attaches to tap interface ifname ("" lets the kernel choose
// the name, see Name). Where it cannot (no TUN/TAP support, no permission,
// the interface busy), the error says why in one line.
func OpenNetTap(ifname string, logf func(format string, args ...any)) (*NetTap, error) {
	fd, err := unix.Open(tunDevice, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
			return nil, fmt.Errorf("tap: %s is missing (no TUN/TAP support here: load the tun module, or give the container the device)", tunDevice)
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("tap: no permission to open %s", tunDevice)
		}
		return nil, fmt.Errorf("tap: open %s: %w", tunDevice, err)
	}
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap: interface name %q: %w", ifname, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		what := "tap"
		if ifname != "" {
			what = "tap " + ifname
		}
		switch {
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			return nil, fmt.Errorf("%s: not permitted (create it first with `ip tuntap add dev NAME mode tap user $USER`, or run with CAP_NET_ADMIN)", what)
		case errors.Is(err, unix.EBUSY):
			return nil, fmt.Errorf("%s: busy (another process holds it)", what)
		case errors.Is(err, unix.EINVAL):
			return nil, fmt.Errorf("%s: exists but is not a tap interface (or TUNSETIFF is refused): %w", what, err)
		}
		return nil, fmt.Errorf("%s: TUNSETIFF: %w", what, err)
	}
	// The descriptor is non-blocking, so os.File reads go through the
	// runtime poller and Close interrupts the reader.
	t := &NetTap{f: os.NewFile(uintptr(fd), tunDevice), name: ifr.Name(), logf: logf}
	t.wg.Add(1)
	go t.reader()
	return t, nil
}

// Name returns the interface name.
func (t *NetTap) Name() string { return t.name }

// Stats returns the counters.
func (t *NetTap) Stats() NetLinkStats { return t.counts() }

// Send writes one frame to the interface. A frame the kernel refuses (the
// interface is down: EIO) is dropped and counted, not an error.
func (t *NetTap) Send(frame []byte) error {
	if err := t.checkSend("tap "+t.name, frame); err != nil {
		return err
	}
	if _, err := t.f.Write(frame); err != nil {
		t.dropped.Add(1)
		if errors.Is(err, unix.EIO) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINVAL) {
			return nil
		}
		return fmt.Errorf("tap %s: %w", t.name, err)
	}
	t.sent(len(frame))
	return nil
}

// Close detaches from the interface (a non-persistent one disappears).
func (t *NetTap) Close() error {
	if t.closed.Swap(true) {
		return nil
	}
	err := t.f.Close()
	t.wg.Wait()
	return err
}

func (t *NetTap) reader() {
	defer t.wg.Done()
	buf := make([]byte, NetMaxFrame)
	for {
		n, err := t.f.Read(buf)
		if err != nil {
			if !t.closed.Load() && t.logf != nil {
				t.logf("tap %s: read: %v", t.name, err)
			}
			return
		}
		if n == 0 {
			continue
		}
		t.deliver(append([]byte(nil), buf[:n]...))
	}
}
