package firmware

import (
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary images (and options) to the format detection and
// the loaders: they must return a state or a one-line error, never panic,
// and never put anything outside RAM.
func FuzzLoad(f *testing.F) {
	elfSeg := []tseg{{paddr: 0x100000, data: pattern(0x40, 1), memsz: 0x100}}
	aout := pattern(0x200, 1)
	copy(aout[0x10:], mbHeaderBytes(mbFlagAout|mbFlagMemInfo, 0x100010, 0x100000, 0, 0x101000, 0x100000))
	bz := make([]byte, 0x400)
	bz[0x1FE], bz[0x1FF] = 0x55, 0xAA
	copy(bz[0x202:], "HdrS")
	seeds := [][]byte{
		aout,
		telf{entry: 0x100000, segs: elfSeg, mbHeader: mbHeaderBytes(mbFlagPageAlign)}.build(),
		telf{entry: 0x100000, segs: elfSeg}.build(),
		telf{entry: 0xC0100000, segs: []tseg{{paddr: 0x100000, vaddr: 0xC0100000, data: []byte{0xF4}}}}.build(),
		telf{class: elfClass64, segs: elfSeg}.build(),
		mbHeaderBytes(mbFlagAout, 0, 0, 0, 0, 0),
		mbHeaderBytes(0),
		[]byte{0xEB, 0xFE},
		bz,
		[]byte("\x7fELF"),
		nil,
	}
	for _, s := range seeds {
		f.Add(s, "", false)
		f.Add(s, "console=ttyS0", true)
	}
	mem := newMemory(f, 2<<20)
	f.Fuzz(func(t *testing.T, image []byte, cmdline string, withModule bool) {
		opts := Options{Name: "fuzz", Cmdline: cmdline}
		if withModule {
			opts.Modules = []Module{{Name: "mod", Data: image[:len(image)/2]}}
		}
		st, bi, err := Load(mem, image, opts)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "fuzz: ") || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error %q is not one line naming the file", msg)
			}
			return
		}
		if bi == nil {
			t.Fatal("no BootInfo and no error")
		}
		if bi.Entry >= mem.Size() || st.EIP != bi.Entry && bi.Kind != KindFlat {
			t.Errorf("entry %#x, EIP %#x", bi.Entry, st.EIP)
		}
		for _, r := range bi.Regions {
			if r.End > mem.Size() || r.Start > r.End {
				t.Errorf("region %#x-%#x %s outside RAM", r.Start, r.End, r.What)
			}
		}
	})
}
