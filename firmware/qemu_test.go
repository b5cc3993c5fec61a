package firmware

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The BIOS runs on QEMU's PC (real 8259, 8254, 8250, CMOS and PIIX IDE) with
// bios/testboot.bin, which checks the services and prints what is compared
// here. QEMU exits through isa-debug-exit: status (v << 1) | 1.
const (
	qemuMemSize   = 32 << 20
	qemuPass      = 0x10<<1 | 1
	testDiskSects = 8192
	testDataLBA   = 16
)

func qemuPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("QEMU run skipped in -short mode")
	}
	p, err := exec.LookPath("qemu-system-i386")
	if err != nil {
		t.Skip("qemu-system-i386 not installed")
	}
	return p
}

// writeBIOS writes the configured BIOS to a file for -bios.
func writeBIOS(t *testing.T, bootDisk bool) string {
	t.Helper()
	img, err := BIOSImage(qemuMemSize, bootDisk)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bios.bin")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testDisk is testboot.bin in LBA 0–7, then the pattern testboot checks.
func testDisk(t *testing.T, boot []byte) []byte {
	t.Helper()
	disk := make([]byte, testDiskSects*512)
	copy(disk, boot)
	for lba := testDataLBA; lba < testDiskSects; lba++ {
		s := disk[lba*512 : (lba+1)*512]
		for j := range s {
			s[j] = byte(lba + j)
		}
		binary.LittleEndian.PutUint32(s, uint32(lba))
	}
	return disk
}

// runQEMU runs QEMU until it exits or, if until is not empty, until the
// serial output contains until (then it is killed). Once the output has a
// line starting "date ", it sends key on the serial line (earlier, the BIOS's
// UART reset would drop it). It returns the serial output and the exit status.
func runQEMU(t *testing.T, qemu, bios string, key, until string, extra ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{
		"-nodefaults", "-machine", "pc", "-m", fmt.Sprint(qemuMemSize >> 20),
		"-bios", bios, "-display", "none", "-monitor", "none", "-serial", "stdio",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-no-reboot",
	}
	cmd := exec.CommandContext(ctx, qemu, append(args, extra...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := pipe.Read(buf)
		out.Write(buf[:n])
		if key != "" && strings.Contains(out.String(), "\r\ndate ") {
			if _, err := io.WriteString(stdin, key); err != nil {
				t.Errorf("sending %q: %v", key, err)
			}
			key = ""
		}
		if until != "" && strings.Contains(out.String(), until) {
			_ = cmd.Process.Kill()
			break
		}
		if err != nil {
			break
		}
	}
	_ = cmd.Wait()
	if ctx.Err() != nil {
		t.Errorf("QEMU timed out; serial output:\n%s\nstderr:\n%s", out.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("QEMU stderr: %s", stderr.String())
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

// checkTestbootOutput compares what testboot printed with E820 and memSize.
func checkTestbootOutput(t *testing.T, out string) {
	t.Helper()
	if !strings.HasPrefix(out, "gemu BIOS\r\ntestboot: start\r\n") {
		t.Errorf("output does not start with the banner and testboot:\n%q", out)
	}
	var e820 []string
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\r\n") {
		key, rest, _ := strings.Cut(strings.TrimLeft(l, "\r"), " ")
		if key == "e820" {
			e820 = append(e820, rest)
		} else {
			lines[key] = rest
		}
	}
	var want []string
	for _, e := range E820(qemuMemSize) {
		want = append(want, fmt.Sprintf("%016x %016x %x", e.Base, e.Length, uint32(e.Type)))
	}
	if strings.Join(e820, "\n") != strings.Join(want, "\n") {
		t.Errorf("INT 15h E820h map:\n%s\nwant:\n%s", strings.Join(e820, "\n"), strings.Join(want, "\n"))
	}
	kb1to16 := (min(qemuMemSize, 16<<20) - 1<<20) >> 10
	blocks := (max(qemuMemSize, 16<<20) - 16<<20) >> 16
	if got, w := lines["e801"], fmt.Sprintf("%04x %04x %04x %04x", kb1to16, blocks, kb1to16, blocks); got != w {
		t.Errorf("INT 15h E801h: %q, want %q", got, w)
	}
	if got, w := lines["e88"], fmt.Sprintf("%04x", (qemuMemSize-1<<20)>>10); got != w {
		t.Errorf("INT 15h AH=88h: %q, want %q", got, w)
	}
	// QEMU's RTC runs on UTC; allow for a run across midnight.
	date := lines["date"]
	now := time.Now().UTC()
	if date != now.Format("2006-01-02") && date != now.Add(-time.Hour).Format("2006-01-02") {
		t.Errorf("INT 1Ah AH=04h date %q, want %s", date, now.Format("2006-01-02"))
	}
	if len(lines["rtc"]) != 8 {
		t.Errorf("INT 1Ah AH=02h time %q", lines["rtc"])
	}
}

func TestBIOSOnQEMU(t *testing.T) {
	qemu := qemuPath(t)
	boot, err := os.ReadFile("bios/testboot.bin")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("disk", func(t *testing.T) {
		diskPath := filepath.Join(t.TempDir(), "disk.img")
		if err := os.WriteFile(diskPath, testDisk(t, boot), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := runQEMU(t, qemu, writeBIOS(t, true), "k", "",
			"-drive", "file="+diskPath+",format=raw,if=ide,index=0")
		if code != qemuPass || !strings.Contains(out, "testboot: PASS") {
			t.Fatalf("exit status %d, serial output:\n%s", code, out)
		}
		checkTestbootOutput(t, out)
		// The writes of INT 13h AH=43h and AH=03h reached the disk.
		disk, err := os.ReadFile(diskPath)
		if err != nil {
			t.Fatal(err)
		}
		for lba, sig := range map[int]string{5000: "GEMU", 5001: "CHS!"} {
			s := disk[lba*512 : (lba+1)*512]
			want := make([]byte, 512)
			for j := range want {
				want[j] = byte(j) ^ 0xA5
			}
			copy(want, sig)
			if !bytes.Equal(s, want) {
				t.Errorf("LBA %d after the write: % x...", lba, s[:16])
			}
		}
	})

	t.Run("flat", func(t *testing.T) {
		img := filepath.Join(t.TempDir(), "flat.bin")
		if err := os.WriteFile(img, boot, 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := runQEMU(t, qemu, writeBIOS(t, false), "k", "",
			"-device", "loader,file="+img+",addr=0x7c00,force-raw=on")
		if code != qemuPass || !strings.Contains(out, "testboot: PASS") {
			t.Fatalf("exit status %d, serial output:\n%s", code, out)
		}
		checkTestbootOutput(t, out)
	})

	t.Run("no disk", func(t *testing.T) {
		const msg = "gemu BIOS: no boot disk\r\n"
		out, _ := runQEMU(t, qemu, writeBIOS(t, true), "", msg)
		if out != "gemu BIOS\r\n"+msg {
			t.Errorf("serial output %q, want the banner and %q", out, msg)
		}
	})

	t.Run("not bootable", func(t *testing.T) {
		diskPath := filepath.Join(t.TempDir(), "zero.img")
		if err := os.WriteFile(diskPath, make([]byte, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		const msg = "gemu BIOS: disk is not bootable\r\n"
		out, _ := runQEMU(t, qemu, writeBIOS(t, true), "", msg,
			"-drive", "file="+diskPath+",format=raw,if=ide,index=0")
		if out != "gemu BIOS\r\n"+msg {
			t.Errorf("serial output %q, want the banner and %q", out, msg)
		}
	})
}
