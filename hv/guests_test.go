package hv_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/hv"
)

// The self-checking guests of testdata/ (see testdata/README.md): each exits
// through port 0xF4 with verdict 0, so QEMU's convention gives status 1.
// testGuest is a guest of testdata/ and the line of serial output that
// says it passed.
type testGuest struct {
	name   string
	kernel string
	disk   string
	args   string
	want   string
}

func TestGuests(t *testing.T) {
	guests := []testGuest{
		{name: "hello", kernel: "hello.bin", want: "hello, world"},
		{name: "pmode", kernel: "pmode.bin", want: "verdict: 0 (pass)"},
		{name: "pit", kernel: "pit.bin", want: "verdict: 0 (pass)"},
		{name: "exceptions", kernel: "exceptions.bin", want: "verdict: 0 (pass)"},
		{name: "smc", kernel: "smc.bin", want: "verdict: 0 (pass)"},
		{name: "alu", kernel: "alu.bin", want: "verdict: 0 (pass)"},
		{name: "rings", kernel: "rings.bin", want: "verdict: 0 (pass)"},
		{name: "intloop", kernel: "intloop.bin", args: "100000", want: "verdict: 0 (pass)"},
		{name: "bootsector", disk: "bootsector.img", want: "boot sector ok"},
		// A flat binary given as --kernel is entered like a boot sector, with the BIOS installed.
		{name: "flat-kernel", kernel: "bootsector.bin", disk: "bootsector.img", want: "boot sector ok"},
		{name: "intloop64", kernel: "intloop64.bin", args: "100000", want: "verdict: 0 (pass)"},
		{name: "x87", kernel: "x87.bin", want: "verdict: 0 (pass)"},
		{name: "sse", kernel: "sse.bin", want: "verdict: 0 (pass)"},
		{name: "long64", kernel: "long64.bin", want: "verdict: 0 (pass)"},
		{name: "long64pg", kernel: "long64pg.bin", want: "verdict: 0 (pass)"},
		{name: "longsyscall", kernel: "longsyscall.bin", want: "verdict: 0 (pass)"},
	}
	for _, g := range guests {
		// Each with native code for hot blocks and interpreted only.
		t.Run(g.name, func(t *testing.T) { runTestGuest(t, g, false) })
		t.Run(g.name+"/nojit", func(t *testing.T) { runTestGuest(t, g, true) })
	}
}

// runTestGuest boots g and checks its verdict.
func runTestGuest(t *testing.T, g testGuest, noJIT bool) {
	t.Parallel()
	var out bytes.Buffer
	cfg := hv.Config{MemSize: 64 << 20, SerialOut: &out, Append: g.args, Timeout: 60 * time.Second, NoJIT: noJIT}
	if g.kernel != "" {
		cfg.Kernel = filepath.Join("..", "testdata", g.kernel)
	}
	if g.disk != "" {
		// The BIOS boots a copy: the guest must not change the committed image.
		img, err := os.ReadFile(filepath.Join("..", "testdata", g.disk))
		require.NoError(t, err)
		cfg.Disk = filepath.Join(t.TempDir(), g.disk)
		require.NoError(t, os.WriteFile(cfg.Disk, img, 0o644))
	}
	m, err := hv.New(cfg)
	require.NoError(t, err)
	defer m.Close()
	res, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, hv.ExitDebugPort, res.Kind, "serial output:\n%s", out.String())
	require.Equal(t, 1, res.Status, "serial output:\n%s", out.String())
	require.Contains(t, out.String(), g.want)
}

func TestDemoGuestPowersOff(t *testing.T) {
	demo, err := os.ReadFile(filepath.Join("..", "cmd", "gemu", "demo.bin"))
	require.NoError(t, err)
	var out bytes.Buffer
	m, err := hv.New(hv.Config{Demo: demo, SerialOut: &out, Timeout: 30 * time.Second})
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, hv.ExitPowerOff, res.Kind)
	require.Equal(t, 0, res.Status)
	require.True(t, strings.HasPrefix(out.String(), "Hello from gemu!"), out.String())
}

func TestLimits(t *testing.T) {
	kernel := filepath.Join("..", "testdata", "intloop.bin")
	m, err := hv.New(hv.Config{Kernel: kernel, Append: "100000000", MaxInstructions: 1_000_000})
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, hv.ExitInstructions, res.Kind)
	require.Equal(t, 3, res.Status)
	require.GreaterOrEqual(t, res.Stats.Instructions, uint64(1_000_000))

	m, err = hv.New(hv.Config{Kernel: kernel, Append: "4000000000", Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	res, err = m.Run()
	require.NoError(t, err)
	require.Equal(t, hv.ExitTimeout, res.Kind)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	trunc := filepath.Join(dir, "trunc.elf")
	require.NoError(t, os.WriteFile(trunc, []byte("\x7fELF\x01\x01\x01"), 0o644))
	odd := filepath.Join(dir, "odd.img")
	require.NoError(t, os.WriteFile(odd, make([]byte, 700), 0o644))
	for _, tc := range []struct {
		cfg  hv.Config
		want string
	}{
		{hv.Config{Kernel: filepath.Join(dir, "missing")}, "missing"},
		{hv.Config{Kernel: trunc}, "trunc.elf"},
		{hv.Config{Disk: odd}, "odd.img"},
		{hv.Config{}, "nothing to boot"},
		{hv.Config{Kernel: filepath.Join("..", "testdata", "hello.bin"), MemSize: 4096}, "1 MiB"},
	} {
		_, err := hv.New(tc.cfg)
		require.Error(t, err)
		require.Contains(t, err.Error(), tc.want)
		require.NotContains(t, err.Error(), "\n")
	}
}

func TestParseMemSize(t *testing.T) {
	for in, want := range map[string]uint64{"64M": 64 << 20, "1G": 1 << 30, "512k": 512 << 10, "128": 128 << 20} {
		got, err := hv.ParseMemSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "x", "0", "-5M", "99999999999G"} {
		_, err := hv.ParseMemSize(bad)
		require.Error(t, err, bad)
	}
}

func TestSplitModules(t *testing.T) {
	require.Equal(t, []string{"a.bin x y", "b,c.bin"}, hv.SplitModules("a.bin x y,b,,c.bin"))
	require.Nil(t, hv.SplitModules(""))
}

// The machine's own messages go to Config.Log: here, a peer connecting to
// a listening network link.
func TestMachineLog(t *testing.T) {
	demo, err := os.ReadFile(filepath.Join("..", "cmd", "gemu", "demo.bin"))
	require.NoError(t, err)
	addr := freePort(t)
	spec, err := devices.ParseNetSpec("socket,listen="+addr, 0)
	require.NoError(t, err)
	var log hv.LockedBuffer
	m, err := hv.New(hv.Config{Demo: demo, Nets: []devices.NetSpec{spec}, Log: &log})
	require.NoError(t, err)
	defer m.Close()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool { return strings.Contains(log.String(), "connected") }, 10*time.Second, 10*time.Millisecond)
	require.True(t, strings.HasPrefix(log.String(), "gemu: net socket "+addr+": peer "), log.String())
}
