//go:build !linux

package devices

import "errors"

// NetTap is a Linux tap interface; elsewhere OpenNetTap fails.
type NetTap struct{}

// OpenNetTap fails: tap devices are opened through Linux's /dev/net/tun.
func OpenNetTap(ifname string, logf func(format string, args ...any)) (*NetTap, error) {
	return nil, errors.New("tap: tap interfaces need Linux (/dev/net/tun)")
}

// Name returns "".
func (t *NetTap) Name() string { return "" }

// Stats returns zeros.
func (t *NetTap) Stats() NetLinkStats { return NetLinkStats{} }

// SetReceiver does nothing.
func (t *NetTap) SetReceiver(func(frame []byte)) {}

// Send fails.
func (t *NetTap) Send(frame []byte) error { return errNetClosed }

// Close does nothing.
func (t *NetTap) Close() error { return nil }
