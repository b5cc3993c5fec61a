package firmware

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gemu-project/gemu/cpu"
)

const testMem = 32 << 20

// aoutKernel is a 0x1000-byte a.out-kludge kernel with its header at file
// offset 0x10, loaded at 0x100000 to the end of the file, bss to 0x103000.
func aoutKernel() []byte {
	img := pattern(0x1000, 1)
	h := mbHeaderBytes(mbFlagPageAlign|mbFlagMemInfo|mbFlagAout,
		0x100010, 0x100000, 0, 0x103000, 0x100020)
	copy(img[0x10:], h)
	return img
}

// mbInfo is the multiboot information structure read back from guest memory.
type mbInfo struct {
	Flags, MemLower, MemUpper, BootDevice, Cmdline, ModsCount, ModsAddr uint32
	MmapLength, MmapAddr, LoaderName                                    uint32
}

func readInfo(t *testing.T, b []byte) mbInfo {
	t.Helper()
	return mbInfo{
		Flags: le.Uint32(b[0:]), MemLower: le.Uint32(b[4:]), MemUpper: le.Uint32(b[8:]),
		BootDevice: le.Uint32(b[12:]), Cmdline: le.Uint32(b[16:]),
		ModsCount: le.Uint32(b[20:]), ModsAddr: le.Uint32(b[24:]),
		MmapLength: le.Uint32(b[44:]), MmapAddr: le.Uint32(b[48:]), LoaderName: le.Uint32(b[64:]),
	}
}

func TestMultibootAout(t *testing.T) {
	mem := newMemory(t, testMem)
	fill(t, mem, 0x100000, 0x10000, 0xEE)
	img := aoutKernel()
	initrd := pattern(5000, 9)
	opts := Options{
		Name:    "kernel.bin",
		Cmdline: "console=ttyS0 quiet",
		Modules: []Module{
			{Name: "initrd.img", Data: initrd, Cmdline: "initrd.img rw"},
			{Name: "second", Data: []byte("0123456789")},
		},
	}
	st, bi, err := Load(mem, img, opts)
	if err != nil {
		t.Fatal(err)
	}

	// Multiboot 0.6.96 §3.2 machine state, with our GDT.
	want := cpu.FlatProtectedState(0x100020)
	want.GPR[cpu.EAX] = 0x2BADB002
	want.GPR[cpu.EBX] = bi.InfoAddr
	want.GDTR = cpu.DTR{Base: 0x9000, Limit: 31}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
	if st.EFLAGS != 2 || st.CR0&cpu.CR0PG != 0 || st.CR0&cpu.CR0PE == 0 {
		t.Errorf("EFLAGS %#x CR0 %#x: want IF=0, bit 1, PE on, paging off", st.EFLAGS, st.CR0)
	}
	if bi.Kind != KindMultiboot || bi.Format != "multiboot (a.out kludge)" || bi.Entry != 0x100020 || bi.KernelEnd != 0x103000 {
		t.Errorf("BootInfo %+v", bi)
	}
	if bi.InfoAddr != 0x9020 || bi.GDTAddr != 0x9000 {
		t.Errorf("info at %#x, GDT at %#x; want 0x9020, 0x9000", bi.InfoAddr, bi.GDTAddr)
	}

	// Kernel text from the file, then zeroed bss, and nothing past it.
	if got := readMem(t, mem, 0x100000, 0x1000); string(got) != string(img) {
		t.Error("kernel image not at load_addr")
	}
	if !allBytes(readMem(t, mem, 0x101000, 0x2000), 0) {
		t.Error("bss 0x101000-0x103000 not zeroed")
	}

	// GDT: 0x10 flat code, 0x18 flat data (SDM Vol. 3A §3.4.5).
	gdt := readMem(t, mem, 0x9000, 32)
	if le.Uint64(gdt[0x10:]) != 0x00CF9B000000FFFF || le.Uint64(gdt[0x18:]) != 0x00CF93000000FFFF || le.Uint64(gdt[0:]) != 0 {
		t.Errorf("GDT % x", gdt)
	}

	// Boot information (§3.3).
	info := readInfo(t, readMem(t, mem, bi.InfoAddr, mbInfoSize))
	if info.Flags != 1|4|8|64|512 {
		t.Errorf("flags %#x, want mem, cmdline, mods, mmap, loader name", info.Flags)
	}
	if info.MemLower != 639 || info.MemUpper != (testMem-1<<20)/1024 || info.BootDevice != 0xFFFFFFFF {
		t.Errorf("mem_lower %d mem_upper %d boot_device %#x", info.MemLower, info.MemUpper, info.BootDevice)
	}
	if s := readCString(t, mem, info.Cmdline); s != opts.Cmdline {
		t.Errorf("cmdline %q", s)
	}
	if s := readCString(t, mem, info.LoaderName); s != "gemu" {
		t.Errorf("boot_loader_name %q", s)
	}
	for _, a := range []uint32{info.Cmdline, info.LoaderName, info.ModsAddr, info.MmapAddr} {
		if a < 0x9000 || a >= 0x80000 {
			t.Errorf("loader data at %#x, want in 0x9000-0x80000", a)
		}
	}

	// Modules: page-aligned above the kernel's bss, in order.
	if info.ModsCount != 2 {
		t.Fatalf("mods_count %d", info.ModsCount)
	}
	mods := readMem(t, mem, uint64(info.ModsAddr), 32)
	type mod struct{ Start, End uint32 }
	gotMods := []mod{{le.Uint32(mods[0:]), le.Uint32(mods[4:])}, {le.Uint32(mods[16:]), le.Uint32(mods[20:])}}
	wantMods := []mod{{0x103000, 0x103000 + 5000}, {0x105000, 0x105000 + 10}}
	if d := cmp.Diff(wantMods, gotMods); d != "" {
		t.Errorf("modules (-want +got):\n%s", d)
	}
	if s := readCString(t, mem, le.Uint32(mods[8:])); s != "initrd.img rw" {
		t.Errorf("module 0 string %q", s)
	}
	if s := readCString(t, mem, le.Uint32(mods[24:])); s != "second" {
		t.Errorf("module 1 string %q (want its name when Cmdline is empty)", s)
	}
	if string(readMem(t, mem, 0x103000, 5000)) != string(initrd) || string(readMem(t, mem, 0x105000, 10)) != "0123456789" {
		t.Error("module contents")
	}
	wantLoaded := []LoadedModule{
		{Name: "initrd.img", Start: 0x103000, End: 0x103000 + 5000, String: "initrd.img rw"},
		{Name: "second", Start: 0x105000, End: 0x10500A, String: "second"},
	}
	if d := cmp.Diff(wantLoaded, bi.Modules); d != "" {
		t.Errorf("BootInfo.Modules (-want +got):\n%s", d)
	}

	// Memory map: the E820 table, as 24-byte entries with size = 20.
	e := E820(testMem)
	if info.MmapLength != uint32(24*len(e)) {
		t.Fatalf("mmap_length %d", info.MmapLength)
	}
	mm := readMem(t, mem, uint64(info.MmapAddr), uint64(info.MmapLength))
	var got []E820Entry
	for p := mm; len(p) > 0; p = p[24:] {
		if le.Uint32(p) != 20 {
			t.Errorf("mmap entry size %d", le.Uint32(p))
		}
		got = append(got, E820Entry{Base: le.Uint64(p[4:]), Length: le.Uint64(p[12:]), Type: E820Type(le.Uint32(p[20:]))})
	}
	if d := cmp.Diff(e, got); d != "" {
		t.Errorf("mmap (-want +got):\n%s", d)
	}
	if !strings.Contains(bi.String(), "multiboot (a.out kludge), entry 0x100020") {
		t.Errorf("BootInfo.String() = %q", bi.String())
	}
}

// The a.out kludge file offset is header_offset − (header_addr − load_addr);
// load_end_addr limits the load and bss_end_addr 0 means no bss.
func TestMultibootAoutOffsets(t *testing.T) {
	mem := newMemory(t, testMem)
	fill(t, mem, 0x200000, 0x2000, 0xEE)
	img := pattern(0x800, 3)
	// Header at file offset 0x200, load from file offset 0x100 (load_addr =
	// header_addr − 0x100), 0x300 bytes.
	copy(img[0x200:], mbHeaderBytes(mbFlagAout, 0x200100, 0x200000, 0x200300, 0, 0x200000))
	_, bi, err := Load(mem, img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readMem(t, mem, 0x200000, 0x300); string(got) != string(img[0x100:0x400]) {
		t.Error("wrong bytes loaded")
	}
	if !allBytes(readMem(t, mem, 0x200300, 0x100), 0xEE) {
		t.Error("bytes past load_end_addr touched")
	}
	if bi.KernelEnd != 0x200300 {
		t.Errorf("kernel end %#x", bi.KernelEnd)
	}
}

// A higher-half multiboot ELF: segments at their physical addresses, the
// virtual entry moved to the physical one, bss zeroed.
func TestMultibootELF(t *testing.T) {
	mem := newMemory(t, testMem)
	fill(t, mem, 0x100000, 0x10000, 0xEE)
	text := pattern(0x300, 5)
	data := pattern(0x80, 6)
	img := telf{
		entry:    0xC0100010,
		mbHeader: mbHeaderBytes(mbFlagPageAlign | mbFlagMemInfo | mbFlagVideo),
		segs: []tseg{
			{paddr: 0x100000, vaddr: 0xC0100000, data: text},
			{paddr: 0x101000, vaddr: 0xC0101000, data: data, memsz: 0x1800},
			{typ: 4, data: []byte("note")}, // PT_NOTE: skipped
		},
	}.build()
	st, bi, err := Load(mem, img, Options{Name: "hh.elf"})
	if err != nil {
		t.Fatal(err)
	}
	if st.EIP != 0x100010 || bi.Entry != 0x100010 || st.GPR[cpu.EAX] != mbBootMagic {
		t.Errorf("EIP %#x entry %#x EAX %#x", st.EIP, bi.Entry, st.GPR[cpu.EAX])
	}
	if bi.Format != "multiboot (ELF)" || bi.KernelEnd != 0x102800 {
		t.Errorf("format %q, kernel end %#x", bi.Format, bi.KernelEnd)
	}
	if string(readMem(t, mem, 0x100000, 0x300)) != string(text) || string(readMem(t, mem, 0x101000, 0x80)) != string(data) {
		t.Error("segment contents")
	}
	if !allBytes(readMem(t, mem, 0x101080, 0x1800-0x80), 0) {
		t.Error("bss not zeroed")
	}
	if !allBytes(readMem(t, mem, 0x102800, 0x100), 0xEE) {
		t.Error("memory past the bss touched")
	}
	// No modules: mods_count 0, flag still set.
	info := readInfo(t, readMem(t, mem, bi.InfoAddr, mbInfoSize))
	if info.ModsCount != 0 || info.Flags&mbInfoMods == 0 {
		t.Errorf("mods_count %d flags %#x", info.ModsCount, info.Flags)
	}
	if s := readCString(t, mem, info.Cmdline); s != "" {
		t.Errorf("cmdline %q", s)
	}
}

// A kernel over 0x9000 moves the loader's data out of its way.
func TestMultibootLoaderAreaMoves(t *testing.T) {
	mem := newMemory(t, testMem)
	img := pattern(0x18000, 2)
	copy(img[0x10:], mbHeaderBytes(mbFlagAout, 0x8010, 0x8000, 0, 0, 0x8000))
	_, bi, err := Load(mem, img, Options{Cmdline: "x", Modules: []Module{{Name: "m", Data: []byte{1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if bi.GDTAddr != 0x1000 || bi.InfoAddr != 0x1020 {
		t.Errorf("GDT at %#x, info at %#x; want 0x1000, 0x1020", bi.GDTAddr, bi.InfoAddr)
	}
	if string(readMem(t, mem, 0x8000, 0x18000)) != string(img) {
		t.Error("the loader's data overwrote the kernel")
	}
	if bi.Modules[0].Start != 0x20000 {
		t.Errorf("module at %#x, want 0x20000", bi.Modules[0].Start)
	}
}

// Modules that would run into the EBDA go above 1 MiB.
func TestMultibootModuleSkipsBIOSArea(t *testing.T) {
	mem := newMemory(t, testMem)
	img := pattern(0x1000, 2)
	copy(img[0x10:], mbHeaderBytes(mbFlagAout, 0x10010, 0x10000, 0, 0, 0x10000))
	_, bi, err := Load(mem, img, Options{Modules: []Module{
		{Name: "small", Data: make([]byte, 0x1000)},
		{Name: "big", Data: make([]byte, 0x90000)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if bi.Modules[0].Start != 0x11000 || bi.Modules[1].Start != 0x100000 {
		t.Errorf("modules at %#x and %#x, want 0x11000 and 0x100000", bi.Modules[0].Start, bi.Modules[1].Start)
	}
}

func TestFindMultiboot(t *testing.T) {
	good := mbHeaderBytes(0)
	bad := mbHeaderBytes(0)
	bad[8]++
	place := func(size int, parts map[int][]byte) []byte {
		img := make([]byte, size)
		for off, p := range parts {
			copy(img[off:], p)
		}
		return img
	}
	tests := []struct {
		name   string
		img    []byte
		found  bool
		offset uint64
	}{
		{"at 0", place(64, map[int][]byte{0: good}), true, 0},
		{"aligned", place(8192, map[int][]byte{0x1000: good}), true, 0x1000},
		{"last slot", place(8192, map[int][]byte{8192 - 12: good}), true, 8192 - 12},
		{"unaligned", place(64, map[int][]byte{2: good}), false, 0},
		{"past 8192", place(9000, map[int][]byte{8192: good}), false, 0},
		{"bad checksum skipped", place(64, map[int][]byte{0: bad, 16: good}), true, 16},
		{"only bad checksum", place(64, map[int][]byte{0: bad}), false, 0},
		{"too short", good[:8], false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := findMultiboot(tc.img)
			if ok != tc.found || (ok && h.offset != tc.offset) {
				t.Errorf("found %v at %#x, want %v at %#x", ok, h.offset, tc.found, tc.offset)
			}
		})
	}
}

// Every multiboot error names the file and the problem, on one line.
func TestMultibootErrors(t *testing.T) {
	aout := func(mut func(img []byte)) []byte {
		img := aoutKernel()
		if mut != nil {
			mut(img)
		}
		return img
	}
	withHeader := func(flags uint32, fields ...uint32) []byte {
		img := pattern(0x1000, 1)
		copy(img[0x10:], mbHeaderBytes(flags, fields...))
		return img
	}
	tests := []struct {
		name string
		img  []byte
		opts Options
		want string
	}{
		{"unknown required flag", withHeader(mbFlagMemInfo | 1<<3), Options{},
			"kernel: multiboot header at offset 0x10 requires unsupported features (flags 0x8)"},
		{"a.out header truncated", append(pattern(0x20, 1), mbHeaderBytes(mbFlagAout)...), Options{},
			"kernel: truncated multiboot header at offset 0x20: flag 16 needs 32 bytes, the file has 12"},
		{"header_addr below load_addr", withHeader(mbFlagAout, 0x100000, 0x100010, 0, 0, 0x100000), Options{},
			"kernel: multiboot header_addr 0x100000 is below load_addr 0x100010"},
		{"load before the file", withHeader(mbFlagAout, 0x100100, 0x100000, 0, 0, 0x100100), Options{},
			"kernel: multiboot load_addr 0x100000 would start 0xf0 bytes before the file"},
		{"load_end below load_addr", withHeader(mbFlagAout, 0x100010, 0x100000, 0xFF000, 0, 0x100000), Options{},
			"kernel: multiboot load_end_addr 0xff000 is below load_addr 0x100000"},
		{"load_end past the file", withHeader(mbFlagAout, 0x100010, 0x100000, 0x102000, 0, 0x100000), Options{},
			"kernel: truncated multiboot kernel: load_end_addr asks for 0x2000 bytes from offset 0x0, the file has 4096"},
		{"bss_end below load_end", withHeader(mbFlagAout, 0x100010, 0x100000, 0, 0x100800, 0x100000), Options{},
			"kernel: multiboot bss_end_addr 0x100800 is below the end of the load 0x101000"},
		{"past 4 GiB", withHeader(mbFlagAout, 0xFFFFF810, 0xFFFFF800, 0, 0, 0xFFFFF800), Options{},
			"kernel: multiboot kernel 0xfffff800+0x1000 passes 4 GiB"},
		{"bss_end at 4 GiB", withHeader(mbFlagAout, 0xFFFFF010, 0xFFFFF000, 0, 0xFFFFFFFF, 0xFFFFF000), Options{},
			"kernel: multiboot bss_end_addr 0xffffffff is below the end of the load 0x100000000"},
		{"outside RAM", withHeader(mbFlagAout, 0x2000010, 0x2000000, 0, 0, 0x2000000), Options{},
			"kernel: multiboot kernel at 0x2000000-0x2001000 is outside RAM (0x2000000 bytes)"},
		{"over the BIOS", withHeader(mbFlagAout, 0xF0010, 0xF0000, 0, 0, 0xF0000), Options{},
			"kernel: multiboot kernel at 0xf0000-0xf1000 overlaps the BIOS area 0x9fc00-0x100000"},
		{"over the EBDA", withHeader(mbFlagAout, 0x9F010, 0x9F000, 0, 0, 0x9F000), Options{},
			"kernel: multiboot kernel at 0x9f000-0xa0000 overlaps the BIOS area 0x9fc00-0x100000"},
		{"entry outside RAM", withHeader(mbFlagAout, 0x100010, 0x100000, 0, 0, 0x4000000), Options{},
			"kernel: entry point 0x4000000 is outside RAM (0x2000000 bytes)"},
		{"neither a.out nor ELF", withHeader(mbFlagMemInfo), Options{},
			"kernel: multiboot header at offset 0x10 has no address fields (flag 16) and the file is not ELF"},
		{"ELF64", telf{class: elfClass64, mbHeader: mbHeaderBytes(0)}.build(), Options{},
			"kernel: 64-bit ELF not supported yet"},
		{"module too big", aout(nil), Options{Modules: []Module{{Name: "huge", Data: make([]byte, testMem)}}},
			`kernel: module "huge" (33554432 bytes) does not fit at 0x103000 in RAM (0x2000000 bytes)`},
		{"command line too long", aout(nil), Options{Cmdline: strings.Repeat("x", 0x80000)},
			"kernel: no room below 0x80000 beside the kernel for the loader's 524542 bytes (GDT, boot information, command line, module strings)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory(t, testMem)
			tc.opts.Name = "kernel"
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

// Options.MemSize below the RAM size is what the guest is told.
func TestMultibootMemSize(t *testing.T) {
	mem := newMemory(t, testMem)
	_, bi, err := Load(mem, aoutKernel(), Options{MemSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	info := readInfo(t, readMem(t, mem, bi.InfoAddr, mbInfoSize))
	if info.MemUpper != 7*1024 {
		t.Errorf("mem_upper %d KiB, want %d", info.MemUpper, 7*1024)
	}
	last := readMem(t, mem, uint64(info.MmapAddr)+uint64(info.MmapLength)-24, 24)
	if end := le.Uint64(last[4:]) + le.Uint64(last[12:]); end != 8<<20 {
		t.Errorf("mmap ends at %#x", end)
	}
}
