package firmware

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/arch/x86/x86asm"

	"github.com/gemu-project/gemu/cpu"
)

// decode16 decodes one real-mode instruction of the BIOS at offset off.
func decode16(t *testing.T, off int) x86asm.Inst {
	t.Helper()
	inst, err := x86asm.Decode(biosImage[off:], 16)
	if err != nil {
		t.Fatalf("decoding at F000:%04X: %v", off, err)
	}
	return inst
}

func TestBIOSImageLayout(t *testing.T) {
	if len(biosImage) != BIOSSize {
		t.Fatalf("embedded BIOS is %d bytes, want %d", len(biosImage), BIOSSize)
	}
	// F000:FFF0: JMP F000:post (SDM Vol. 3A §9.1.4: first instruction fetched).
	reset := decode16(t, 0xFFF0)
	seg, ok1 := reset.Args[0].(x86asm.Imm) // x86asm: segment, then offset
	far, ok2 := reset.Args[1].(x86asm.Imm)
	if reset.Op != x86asm.LJMP || !ok1 || !ok2 || reset.Len != 5 || seg != 0xF000 {
		t.Fatalf("reset vector is %v (% x), want a far JMP F000:xxxx", reset, biosImage[0xFFF0:0xFFF5])
	}
	post := int(far)
	if post < cfgE820+cfgE820Max*cfgE820Size || post >= 0xFFF0 {
		t.Fatalf("reset vector jumps to F000:%04X, inside the config block or past the code", post)
	}
	if first := decode16(t, post); first.Op != x86asm.CLI {
		t.Errorf("POST starts with %v, want CLI", first)
	}
	// F000:E05B, the PC/AT POST entry, jumps there too.
	e05b := decode16(t, 0xE05B)
	if rel, ok := e05b.Args[0].(x86asm.Rel); e05b.Op != x86asm.JMP || !ok || (0xE05B+e05b.Len+int(rel))&0xFFFF != post {
		t.Errorf("F000:E05B is %v, want JMP %04X", e05b, post)
	}
	if date := string(biosImage[0xFFF5:0xFFFD]); date != "11/25/25" || biosImage[0xFFFE] != 0xFC {
		t.Errorf("BIOS date %q, model %#x", date, biosImage[0xFFFE])
	}
	// The unpatched configuration block.
	if string(biosImage[:4]) != "GEMU" || le.Uint16(biosImage[cfgVersion:]) != 1 ||
		le.Uint16(biosImage[cfgFlags:]) != 0 || le.Uint64(biosImage[cfgMemSize:]) != 0 || le.Uint16(biosImage[cfgE820Count:]) != 0 {
		t.Errorf("config block % x", biosImage[:24])
	}
	if !allBytes(biosImage[cfgE820:cfgE820+cfgE820Max*cfgE820Size], 0) {
		t.Error("unpatched E820 table not empty")
	}
}

// BIOSImage patches exactly the configuration block.
func TestBIOSImagePatch(t *testing.T) {
	for _, bootDisk := range []bool{true, false} {
		img, err := BIOSImage(testMem, bootDisk)
		if err != nil {
			t.Fatal(err)
		}
		wantFlags := uint16(0)
		if !bootDisk {
			wantFlags = cfgFlagFlat
		}
		if f := le.Uint16(img[cfgFlags:]); f != wantFlags {
			t.Errorf("bootDisk %v: flags %#x", bootDisk, f)
		}
		if m := le.Uint64(img[cfgMemSize:]); m != testMem {
			t.Errorf("memory size %#x", m)
		}
		n := int(le.Uint16(img[cfgE820Count:]))
		var got []E820Entry
		for i := range n {
			p := img[cfgE820+i*cfgE820Size:]
			got = append(got, E820Entry{Base: le.Uint64(p), Length: le.Uint64(p[8:]), Type: E820Type(le.Uint32(p[16:]))})
		}
		if d := cmp.Diff(E820(testMem), got); d != "" {
			t.Errorf("E820 table (-want +got):\n%s", d)
		}
		end := cfgE820 + n*cfgE820Size
		if !bytes.Equal(img[end:], biosImage[end:]) || !bytes.Equal(img[:cfgFlags], biosImage[:cfgFlags]) {
			t.Error("bytes outside the configuration block changed")
		}
	}
	if _, err := BIOSImage(0x1000, true); err == nil || err.Error() != "BIOS: memory size 0x1000 is below 1 MiB" {
		t.Errorf("error %v", err)
	}
}

func TestInstallBIOS(t *testing.T) {
	mem := newMemory(t, testMem)
	st, err := InstallBIOS(mem, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(cpu.ResetState(0xF000, 0xFFF0), st); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
	want, _ := BIOSImage(testMem, true)
	if !bytes.Equal(readMem(t, mem, BIOSBase, BIOSSize), want) {
		t.Error("BIOS not at 0xF0000, or not configured for all of RAM")
	}
	if _, err := InstallBIOS(mem, 2*testMem, true); err == nil || err.Error() != "BIOS: memory size 0x4000000 is larger than guest RAM (0x2000000 bytes)" {
		t.Errorf("error %v", err)
	}
}

// The committed images are what build.sh makes of the sources.
func TestBIOSBuildUpToDate(t *testing.T) {
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm not installed")
	}
	for _, name := range []string{"bios", "testboot"} {
		out := filepath.Join(t.TempDir(), name+".bin")
		cmd := exec.Command(nasm, "-f", "bin", "-Wall", "-o", out, filepath.Join("bios", name+".asm"))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nasm %s.asm: %v\n%s", name, err, b)
		}
		built, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("bios", name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, committed) {
			t.Errorf("bios/%s.bin is not built from bios/%s.asm: run firmware/bios/build.sh", name, name)
		}
	}
}
