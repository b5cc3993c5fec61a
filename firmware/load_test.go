package firmware

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gemu-project/gemu/cpu"
)

// A flat binary goes to 0000:7C00; the BIOS, told to skip the disk, runs
// from the reset vector and enters it.
func TestLoadFlat(t *testing.T) {
	mem := newMemory(t, testMem)
	img := pattern(1024, 3)
	st, bi, err := Load(mem, img, Options{Name: "boot.bin"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(cpu.ResetState(0xF000, 0xFFF0), st); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
	if string(readMem(t, mem, 0x7C00, 1024)) != string(img) {
		t.Error("image not at 0x7C00")
	}
	want, err := BIOSImage(testMem, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(readMem(t, mem, BIOSBase, BIOSSize)) != string(want) {
		t.Error("BIOS not installed with the skip-disk flag")
	}
	if le.Uint16(want[cfgFlags:]) != cfgFlagFlat {
		t.Errorf("BIOS flags %#x", le.Uint16(want[cfgFlags:]))
	}
	if bi.Kind != KindFlat || bi.Entry != 0x7C00 || bi.KernelEnd != 0x8000 {
		t.Errorf("BootInfo %v", bi)
	}
}

// An image with a stray ELF-less, multiboot-less start is flat; the largest
// one that fits below the EBDA loads.
func TestLoadFlatLargest(t *testing.T) {
	mem := newMemory(t, testMem)
	img := pattern(0x9FC00-0x7C00, 1)
	if _, _, err := Load(mem, img, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	bz := make([]byte, 0x400)
	bz[0x1FE], bz[0x1FF] = 0x55, 0xAA
	copy(bz[0x202:], "HdrS")
	tests := []struct {
		name string
		img  []byte
		opts Options
		want string
	}{
		{"empty", nil, Options{}, "boot.bin: empty image"},
		{"flat too large", make([]byte, 0x98001), Options{},
			"boot.bin: flat binary is 622593 bytes; at most 622592 fit between 0x7c00 and the EBDA at 0x9fc00"},
		{"flat with a command line", []byte{0xF4}, Options{Cmdline: "x"},
			"boot.bin: a command line needs a multiboot kernel, and the image has no multiboot header"},
		{"bzImage", bz, Options{}, "boot.bin: Linux boot protocol 0.00 is too old: need 2.06 or later"},
		{"memory size above RAM", []byte{0xF4}, Options{MemSize: testMem + 1},
			"boot.bin: memory size 0x2000001 is larger than guest RAM (0x2000000 bytes)"},
		{"memory size below 1 MiB", []byte{0xF4}, Options{MemSize: 0x80000},
			"boot.bin: memory size 0x80000 is below 1 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory(t, testMem)
			tc.opts.Name = "boot.bin"
			_, bi, err := Load(mem, tc.img, tc.opts)
			if err == nil {
				t.Fatalf("loaded: %v", bi)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n %q\nwant\n %q", err, tc.want)
			}
		})
	}
}

func TestLoadDefaultName(t *testing.T) {
	_, _, err := Load(newMemory(t, testMem), nil, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "image: ") {
		t.Errorf("error %v, want it to start with \"image: \"", err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindMultiboot: "multiboot", KindELF: "ELF32", KindFlat: "flat binary", 9: "Kind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", int(k), k.String())
		}
	}
}
