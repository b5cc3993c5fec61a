package hv_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/hv"
)

// keyAfter is a serial console: it records the guest's output and, once the
// output holds prompt, types key (the BIOS resets the UART at start, which
// would drop earlier input).
type keyAfter struct {
	mu     sync.Mutex
	out    bytes.Buffer
	prompt string
	key    string
	ready  chan struct{}
	once   sync.Once
}

func (k *keyAfter) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.out.Write(p)
	if strings.Contains(k.out.String(), k.prompt) {
		k.once.Do(func() { close(k.ready) })
	}
	return len(p), nil
}

func (k *keyAfter) Read(p []byte) (int, error) {
	<-k.ready
	if k.key == "" {
		select {} // no more input; the machine ends the run
	}
	n := copy(p, k.key)
	k.key = k.key[n:]
	return n, nil
}

func (k *keyAfter) String() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.out.String()
}

// TestBIOSServices boots firmware/bios/testboot.bin (the BIOS's own
// self-checking boot image, also run on QEMU by firmware/qemu_test.go) from
// a disk under gemu: INT 10h, 11h, 12h, 13h (CHS and LBA, reads and writes),
// 15h (E820, E801, 88h), 16h and 1Ah.
func TestBIOSServices(t *testing.T) {
	const sectors, dataLBA = 8192, 16
	boot, err := os.ReadFile(filepath.Join("..", "firmware", "bios", "testboot.bin"))
	require.NoError(t, err)
	disk := make([]byte, sectors*512)
	copy(disk, boot)
	for lba := dataLBA; lba < sectors; lba++ {
		s := disk[lba*512 : (lba+1)*512]
		for j := range s {
			s[j] = byte(lba + j)
		}
		binary.LittleEndian.PutUint32(s, uint32(lba))
	}
	path := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(path, disk, 0o644))

	con := &keyAfter{prompt: "\r\ndate ", key: "k", ready: make(chan struct{})}
	m, err := hv.New(hv.Config{Disk: path, MemSize: 32 << 20, SerialOut: con, SerialIn: io.Reader(con), Timeout: 60 * time.Second})
	require.NoError(t, err)
	defer m.Close()
	res, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, hv.ExitDebugPort, res.Kind, con.String())
	require.Equal(t, 0x10<<1|1, res.Status, con.String()) // testboot's pass verdict is 0x10
	require.Contains(t, con.String(), "testboot: PASS")
}
