package hv_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/hv"
)

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestDebianLinuxNetwork boots two Debian guests (PVH entry) joined by a
// socket link, once with virtio-net on PCI and once with the emulated
// NE2000: they ping each other and move a file with busybox nc; both sides
// print its checksum. The host records the frames in a pcap file.
func TestDebianLinuxNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("boots two real kernels")
	}
	vmlinux := debianVmlinux(t)
	initrd := busyboxInitramfs(t, "virtio_pci", "virtio_net", "ne2k-pci")
	up := "ip addr add 10.0.2.%d/24 dev eth0; ip link set eth0 up; "
	// The server waits for the client's file; the client first pings until
	// the server answers (both boot at their own pace).
	server := fmt.Sprintf(up, 1) + "nc -l -p 1234 > /tmp/got; echo server md5 $(md5sum < /tmp/got)"
	client := fmt.Sprintf(up, 2) + "head -c 200000 /bin/busybox > /tmp/f; " +
		"for i in $(seq 60); do ping -c 1 -W 1 10.0.2.1 > /dev/null && break; done; ping -c 2 10.0.2.1; " +
		"for i in $(seq 20); do nc 10.0.2.1 1234 < /tmp/f && break; sleep 1; done; echo client md5 $(md5sum < /tmp/f)"
	for _, model := range []devices.NICModel{devices.NICVirtio, devices.NICNE2000} {
		t.Run(string(model), func(t *testing.T) {
			addr := freePort(t)
			dump := t.TempDir() + "/frames.pcap"
			var wg sync.WaitGroup
			outs := make([]bytes.Buffer, 2)
			results := make([]hv.Result, 2)
			errs := make([]error, 2)
			for i, side := range []struct {
				backend, cmd, dump string
			}{{"socket,listen=" + addr, server, ""}, {"socket,connect=" + addr, client, dump}} {
				spec, err := devices.ParseNetSpec(side.backend+",model="+string(model), i)
				require.NoError(t, err)
				m, err := hv.New(hv.Config{
					Kernel: vmlinux, Initrd: initrd, MemSize: 256 << 20,
					Nets: []devices.NetSpec{spec}, NetDump: side.dump,
					Append:    `console=ttyS0 quiet gemu.cmd="` + side.cmd + `"`,
					SerialOut: &outs[i], Timeout: 10 * time.Minute,
				})
				require.NoError(t, err)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer m.Close()
					results[i], errs[i] = m.Run()
				}()
			}
			wg.Wait()
			for i := range 2 {
				require.NoError(t, errs[i])
				require.Equal(t, hv.ExitPowerOff, results[i].Kind, "%s\n%s", results[i].Detail, outs[i].String())
			}
			serverOut, clientOut := outs[0].String(), outs[1].String()
			require.Contains(t, clientOut, "2 packets transmitted, 2 packets received", clientOut)
			md5 := regexp.MustCompile(`(server|client) md5 ([0-9a-f]{32})`)
			s, c := md5.FindStringSubmatch(serverOut), md5.FindStringSubmatch(clientOut)
			require.NotNil(t, s, serverOut)
			require.NotNil(t, c, clientOut)
			require.Equal(t, c[2], s[2], "the file the server received")
			require.Greater(t, pcapRecords(t, dump), 150, "frames in the capture") // 200 kB in 1.5 kB frames, and ACKs
		})
	}
}

// pcapRecords counts the records of a pcap file (libpcap format: a 24-byte
// header, then a 16-byte header before each frame, its length at offset 8).
func pcapRecords(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), 24)
	require.Equal(t, uint32(0xa1b2c3d4), binary.LittleEndian.Uint32(b))
	n := 0
	for off := 24; off+16 <= len(b); n++ {
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return n
}
