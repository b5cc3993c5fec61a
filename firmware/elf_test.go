package firmware

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gemu-project/gemu/cpu"
)

func TestLoadELF(t *testing.T) {
	mem := newMemory(t, testMem)
	fill(t, mem, 0x200000, 0x10000, 0xEE)
	text := pattern(0x1234, 4)
	data := pattern(0x100, 8)
	img := telf{
		entry: 0x200040,
		segs: []tseg{
			{paddr: 0x200000, data: text},
			{paddr: 0x202000, data: data, memsz: 0x2000},
			{paddr: 0x205000, memsz: 0}, // empty: skipped
		},
	}.build()
	st, bi, err := Load(mem, img, Options{Name: "prog.elf"})
	if err != nil {
		t.Fatal(err)
	}
	want := cpu.FlatProtectedState(0x200040)
	want.GDTR = cpu.DTR{Base: 0x9000, Limit: 31}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
	if string(readMem(t, mem, 0x200000, 0x1234)) != string(text) || string(readMem(t, mem, 0x202000, 0x100)) != string(data) {
		t.Error("segment contents")
	}
	if !allBytes(readMem(t, mem, 0x202100, 0x1F00), 0) {
		t.Error("bss (p_memsz − p_filesz) not zeroed")
	}
	if !allBytes(readMem(t, mem, 0x201234, 0x2000-0x1234), 0xEE) || !allBytes(readMem(t, mem, 0x204000, 0x100), 0xEE) {
		t.Error("memory outside the segments touched")
	}
	gdt := readMem(t, mem, 0x9000, 32)
	if le.Uint64(gdt[0x10:]) != 0x00CF9B000000FFFF || le.Uint64(gdt[0x18:]) != 0x00CF93000000FFFF {
		t.Errorf("GDT % x", gdt)
	}
	wantBI := &BootInfo{
		Kind: KindELF, Format: "ELF32", Entry: 0x200040, MemSize: testMem, KernelEnd: 0x204000, GDTAddr: 0x9000,
		Regions: []Region{
			{Start: 0x200000, End: 0x201234, What: "ELF segment 0"},
			{Start: 0x202000, End: 0x204000, What: "ELF segment 1"},
			{Start: 0x9000, End: 0x9020, What: "GDT"},
		},
	}
	if d := cmp.Diff(wantBI, bi); d != "" {
		t.Errorf("BootInfo (-want +got):\n%s", d)
	}
}

func TestELFPhysEntry(t *testing.T) {
	e := &elfImage{segs: []elfSegment{{paddr: 0x100000, vaddr: 0xC0100000, memsz: 0x1000}}}
	for _, tc := range []struct{ entry, want uint64 }{
		{0xC0100010, 0x100010}, // virtual: moved
		{0x100010, 0x100010},   // physical already
		{0x500000, 0x500000},   // in no segment: as is
	} {
		e.entry = tc.entry
		if got := e.physEntry(); got != tc.want {
			t.Errorf("entry %#x → %#x, want %#x", tc.entry, got, tc.want)
		}
	}
}

// Every ELF error names the file and the problem, on one line.
func TestELFErrors(t *testing.T) {
	seg := []tseg{{paddr: 0x100000, data: pattern(0x100, 1)}}
	ok := telf{entry: 0x100000, segs: seg}
	mut := func(f func(img []byte)) []byte {
		img := ok.build()
		f(img)
		return img
	}
	tests := []struct {
		name string
		img  []byte
		opts Options
		want string
	}{
		{"ELF64", telf{class: elfClass64, segs: seg}.build(), Options{}, "64-bit ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); only a multiboot or PVH kernel boots from ELF64"},
		{"bad class", telf{class: 7, segs: seg}.build(), Options{}, "bad ELF class 7"},
		{"big-endian", telf{encoding: 2, segs: seg}.build(), Options{}, "ELF data encoding 2 is not little-endian"},
		{"truncated identification", []byte("\x7fELF\x01\x01"), Options{}, "truncated ELF identification (6 bytes, need 16)"},
		{"truncated header", ok.build()[:40], Options{}, "truncated ELF header (40 bytes, need 52)"},
		{"not an executable", telf{typ: 3, segs: seg}.build(), Options{}, "ELF type 3 is not an executable (ET_EXEC)"},
		{"x86-64 machine", telf{machine: 62, segs: seg}.build(), Options{}, "unsupported ELF machine 62 (want EM_386)"},
		{"no program headers", telf{}.build(), Options{}, "ELF file has no program headers"},
		{"small phentsize", telf{phentsize: 16, segs: seg}.build(), Options{}, "ELF program header size 16 is below 32"},
		{"phdrs past the file", telf{phoff: 0x10000, segs: seg}.build(), Options{},
			"truncated ELF program headers: 1 × 32 bytes at offset 0x10000 pass the end of the file (352 bytes)"},
		{"phnum past the file", telf{phnum: 100, segs: seg}.build(), Options{},
			"truncated ELF program headers: 100 × 32 bytes at offset 0x34 pass the end of the file (352 bytes)"},
		{"segment past the file", ok.build()[:0x60], Options{},
			"truncated ELF segment 0: 0x100 bytes at offset 0x60 pass the end of the file (96 bytes)"},
		{"filesz above memsz", mut(func(img []byte) { le.PutUint32(img[52+20:], 0x10) }), Options{},
			"ELF segment 0: file size 0x100 exceeds memory size 0x10"},
		{"no PT_LOAD", telf{segs: []tseg{{typ: 4, data: []byte("x")}}}.build(), Options{}, "ELF file has no loadable segments"},
		{"past 4 GiB", telf{segs: []tseg{{paddr: 0xFFFFFF00, data: pattern(0x200, 1)}}}.build(), Options{},
			"ELF segment 0: 0xffffff00+0x200 passes 4 GiB"},
		{"outside RAM", telf{segs: []tseg{{paddr: 0x1FFFF00, data: pattern(0x200, 1)}}}.build(), Options{},
			"ELF segment 0 at 0x1ffff00-0x2000100 is outside RAM (0x2000000 bytes)"},
		{"over the BIOS", telf{segs: []tseg{{paddr: 0xFFF00, data: pattern(0x200, 1)}}}.build(), Options{},
			"ELF segment 0 at 0xfff00-0x100100 overlaps the BIOS area 0x9fc00-0x100000"},
		{"entry outside RAM", telf{entry: 0x3000000, segs: seg}.build(), Options{}, "entry point 0x3000000 is outside RAM (0x2000000 bytes)"},
		{"command line", ok.build(), Options{Cmdline: "x"}, "a command line needs a multiboot kernel, and the image has no multiboot header"},
		{"modules", ok.build(), Options{Modules: []Module{{Name: "m"}}}, "boot modules need a multiboot kernel, and the image has no multiboot header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory(t, testMem)
			tc.opts.Name = "prog.elf"
			_, bi, err := Load(mem, tc.img, tc.opts)
			if err == nil {
				t.Fatalf("loaded: %v", bi)
			}
			if want := "prog.elf: " + tc.want; err.Error() != want {
				t.Errorf("error\n %q\nwant\n %q", err, want)
			}
		})
	}
}
