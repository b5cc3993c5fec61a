package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// console puts a terminal in raw mode for the guest's serial port and reads
// QEMU's escapes: Ctrl-A x quits, Ctrl-A h lists the escapes, Ctrl-A Ctrl-A
// sends a Ctrl-A to the guest.
type console struct {
	in   *os.File
	out  io.Writer
	old  *unix.Termios
	once sync.Once
	quit func()

	escaped bool
}

const escapeKey = 0x01 // Ctrl-A

// openConsole makes a raw-mode console of in if it is a terminal, else nil.
func openConsole(in *os.File, out io.Writer, quit func()) (*console, error) {
	fd := int(in.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, nil // not a terminal: input is read as it comes
	}
	raw := *old
	// cfmakeraw(3): no echo, no line editing, no signals, 8-bit input, and no
	// output processing (the guest writes its own CR LF).
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, fmt.Errorf("terminal raw mode: %v", err)
	}
	return &console{in: in, out: out, old: old, quit: quit}, nil
}

// Restore puts the terminal back as it was; it is safe to call more than once.
func (c *console) Restore() {
	c.once.Do(func() { unix.IoctlSetTermios(int(c.in.Fd()), unix.TCSETS, c.old) })
}

// Read passes the terminal's bytes to the guest, acting on the escapes.
func (c *console) Read(p []byte) (int, error) {
	buf := make([]byte, len(p))
	for {
		n, err := c.in.Read(buf)
		out := p[:0]
		for _, b := range buf[:n] {
			out = c.filter(out, b)
		}
		if len(out) > 0 || err != nil {
			return len(out), err
		}
	}
}

func (c *console) filter(out []byte, b byte) []byte {
	if !c.escaped {
		if b == escapeKey {
			c.escaped = true
			return out
		}
		return append(out, b)
	}
	c.escaped = false
	switch b {
	case 'x', 'X':
		fmt.Fprint(c.out, "\r\ngemu: terminating on Ctrl-A x\r\n")
		c.quit()
	case 'h', 'H', '?':
		fmt.Fprint(c.out, "\r\nC-a h    print this help\r\nC-a x    exit gemu\r\nC-a C-a  send C-a\r\n")
	case escapeKey:
		out = append(out, escapeKey)
	}
	return out
}
