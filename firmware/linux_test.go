package firmware

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// tbz describes a synthetic bzImage; zero fields take the values of a
// modern 64-bit relocatable kernel (protocol 2.15).
type tbz struct {
	protocol    uint16
	setupSects  byte
	loadflags   byte
	xloadflags  uint16
	fixed       bool // relocatable_kernel = 0
	align       uint32
	pref        uint64
	initSize    uint32
	cmdlineSize uint32
	initrdMax   uint32
	version     string
	kernel      []byte
	syssize     uint32 // override if not 0
}

const (
	tbzKernelSize = 0x10000
	tbzInitSize   = 0x800000
	tbzHeaderEnd  = 0x26C // 0x202 + 0x6A, as Debian's 6.1
)

func (b tbz) build() []byte {
	if b.protocol == 0 {
		b.protocol = 0x020F
	}
	if b.setupSects == 0 {
		b.setupSects = 4
	}
	if b.loadflags == 0 {
		b.loadflags = loadedHigh
	}
	if b.xloadflags == 0 {
		b.xloadflags = 0x7F
	}
	if b.align == 0 {
		b.align = 0x200000
	}
	if b.pref == 0 {
		b.pref = 0x1000000
	}
	if b.initSize == 0 {
		b.initSize = tbzInitSize
	}
	if b.cmdlineSize == 0 {
		b.cmdlineSize = 2047
	}
	if b.initrdMax == 0 {
		b.initrdMax = 0x7FFFFFFF
	}
	if b.kernel == nil {
		b.kernel = pattern(tbzKernelSize, 5)
	}
	if b.version == "" {
		b.version = "6.1.0-test (gemu) #1"
	}
	img := make([]byte, (int(b.setupSects)+1)*512)
	for i := range img[:hdrStart] {
		img[i] = 0xCC // a recognisable boot sector, and a nonzero sentinel at 0x1EF as real images have
	}
	img[hdrStart] = b.setupSects
	sys := b.syssize
	if sys == 0 {
		sys = uint32(len(b.kernel) / 16)
	}
	le.PutUint32(img[hdrSyssize:], sys)
	le.PutUint16(img[hdrVidMode:], 0xFFFF)
	le.PutUint16(img[hdrBootFlag:], 0xAA55)
	img[hdrJump], img[hdrJump+1] = 0xEB, tbzHeaderEnd-hdrMagic
	copy(img[hdrMagic:], "HdrS")
	le.PutUint16(img[hdrVersion:], b.protocol)
	le.PutUint16(img[hdrKernelVersion:], 0x400-0x200)
	copy(img[0x400:], b.version+"\x00")
	img[hdrLoadflags] = b.loadflags
	le.PutUint32(img[hdrCode32Start:], 0x100000)
	le.PutUint32(img[hdrInitrdAddrMax:], b.initrdMax)
	le.PutUint32(img[hdrKernelAlignment:], b.align)
	if !b.fixed {
		img[hdrRelocatable] = 1
	}
	img[hdrMinAlignment] = 21
	le.PutUint16(img[hdrXloadflags:], b.xloadflags)
	le.PutUint32(img[hdrCmdlineSize:], b.cmdlineSize)
	le.PutUint32(img[hdrPayloadOffset:], 0x100)
	le.PutUint32(img[hdrPayloadLength:], 0x200)
	le.PutUint64(img[hdrPrefAddress:], b.pref)
	le.PutUint32(img[hdrInitSize:], b.initSize)
	le.PutUint32(img[0x268:], 0x1234) // kernel_info_offset (2.15), only copied
	return append(img, b.kernel...)
}

const linuxMem = 64 << 20

// zeroPage reads struct boot_params back from guest memory.
func zeroPage(t *testing.T, mem *mmu.Memory) []byte {
	t.Helper()
	return readMem(t, mem, zeroPageAddr, bpSize)
}

func readE820(bp []byte) []E820Entry {
	var m []E820Entry
	for i := range int(bp[bpE820Entries]) {
		p := bp[bpE820Table+20*i:]
		m = append(m, E820Entry{Base: le.Uint64(p), Length: le.Uint64(p[8:]), Type: E820Type(le.Uint32(p[16:]))})
	}
	return m
}

// The 64-bit boot protocol: kernel at pref_address, initrd at the top of
// RAM, the zero page with the header and the loader's fields, long mode
// with an identity map, RIP at startup_64.
func TestLoadLinux64(t *testing.T) {
	mem := newMemory(t, linuxMem)
	fill(t, mem, 0, 0x100000, 0xEE) // what the loader leaves alone stays 0xEE
	img := tbz{}.build()
	initrd := pattern(0x123456, 9)
	st, bi, err := LoadLinux(mem, img, initrd, "console=ttyS0 acpi=off", 0, Platform{RSDP: 0xF5A00})
	if err != nil {
		t.Fatal(err)
	}

	want := cpu.FlatProtectedState(0)
	want.Seg[cpu.CS] = cpu.Segment{Selector: 0x10, Limit: 0xFFFFFFFF,
		Access: cpu.AccP | cpu.AccS | cpu.AccCode | cpu.AccWritable | cpu.AccAccessed | cpu.AccL | cpu.AccG}
	want.EIP = 0x1000200
	want.CR0 = cpu.CR0PE | cpu.CR0ET | cpu.CR0PG
	want.CR3, want.CR4 = 0x9000, cpu.CR4PAE
	want.EFER = cpu.EFERLME | cpu.EFERLMA
	want.GPR[cpu.ESI], want.GPR[cpu.ESP] = 0x7000, 0x6000
	want.GDTR = cpu.DTR{Base: 0x6000, Limit: 31}
	want.IDTR = cpu.DTR{}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
	for i := range st.Seg {
		if i != cpu.CS && (st.Seg[i].Selector != 0x18 || st.Seg[i].Access&cpu.AccCode != 0) {
			t.Errorf("segment %d: %+v, want __BOOT_DS", i, st.Seg[i])
		}
	}

	if string(readMem(t, mem, 0x1000000, tbzKernelSize)) != string(img[5*512:]) {
		t.Error("protected-mode kernel not at 0x1000000")
	}
	rd := uint64(linuxMem-0x123456) &^ 0xFFF
	if string(readMem(t, mem, rd, uint64(len(initrd)))) != string(initrd) {
		t.Errorf("initrd not at %#x", rd)
	}
	if got := readCString(t, mem, cmdlineAddr); got != "console=ttyS0 acpi=off" {
		t.Errorf("command line %q", got)
	}

	bp := zeroPage(t, mem)
	// The header as in the image, but for the fields a loader writes.
	hdr := append([]byte(nil), img[hdrStart:tbzHeaderEnd]...)
	gotHdr := append([]byte(nil), bp[hdrStart:tbzHeaderEnd]...)
	for _, f := range []struct{ off, n int }{
		{hdrTypeOfLoader, 2}, {hdrCode32Start, 12}, {hdrHeapEndPtr, 2}, {hdrCmdLinePtr, 4},
	} {
		clear(hdr[f.off-hdrStart : f.off-hdrStart+f.n])
		clear(gotHdr[f.off-hdrStart : f.off-hdrStart+f.n])
	}
	if string(hdr) != string(gotHdr) {
		t.Error("setup header not copied to boot_params at 0x1F1")
	}
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"type_of_loader", uint64(bp[hdrTypeOfLoader]), 0xFF},
		{"loadflags", uint64(bp[hdrLoadflags]), loadedHigh | canUseHeap},
		{"heap_end_ptr", uint64(le.Uint16(bp[hdrHeapEndPtr:])), 0xFE00 - 0x200},
		{"code32_start", uint64(le.Uint32(bp[hdrCode32Start:])), 0x1000000},
		{"cmd_line_ptr", uint64(le.Uint32(bp[hdrCmdLinePtr:])), cmdlineAddr},
		{"ramdisk_image", uint64(le.Uint32(bp[hdrRamdiskImage:])), rd},
		{"ramdisk_size", uint64(le.Uint32(bp[hdrRamdiskSize:])), 0x123456},
		{"ext_ramdisk_image", uint64(le.Uint32(bp[bpExtRamdiskImage:])), 0},
		{"ext_ramdisk_size", uint64(le.Uint32(bp[bpExtRamdiskSize:])), 0},
		{"ext_cmd_line_ptr", uint64(le.Uint32(bp[bpExtCmdLinePtr:])), 0},
		{"acpi_rsdp_addr", le.Uint64(bp[bpACPIRSDP:]), 0xF5A00},
		{"alt_mem_k", uint64(le.Uint32(bp[bpAltMemK:])), (linuxMem - 0x100000) / 1024},
		{"ext_mem_k", uint64(le.Uint16(bp[bpExtMemK:])), 0xFC00},
		{"vid_mode", uint64(le.Uint16(bp[hdrVidMode:])), 0xFFFF},
		{"sentinel", uint64(bp[0x1EF]), 0},
		{"screen_info.orig_video_isVGA", uint64(bp[0x0F]), 0},
		{"screen_info.orig_video_cols", uint64(bp[0x07]), 0},
		{"kernel_info_offset", uint64(le.Uint32(bp[0x268:])), 0x1234},
		{"past the header", uint64(le.Uint32(bp[tbzHeaderEnd:])), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if d := cmp.Diff(E820(linuxMem), readE820(bp)); d != "" {
		t.Errorf("e820 table (-want +got):\n%s", d)
	}

	gdt := readMem(t, mem, 0x6000, 32)
	if le.Uint64(gdt[0x10:]) != 0x00AF9B000000FFFF || le.Uint64(gdt[0x18:]) != 0x00CF93000000FFFF || le.Uint64(gdt) != 0 {
		t.Errorf("GDT % x", gdt)
	}
	checkIdentityMap(t, mem, st.CR3)

	if bi.Kind != KindLinux || bi.Entry != 0x1000200 || bi.InfoAddr != 0x7000 || bi.KernelEnd != 0x1000000+tbzInitSize {
		t.Errorf("BootInfo %v", bi)
	}
	if !strings.Contains(bi.Format, "boot protocol 2.15, 64-bit entry") || !strings.Contains(bi.Format, "6.1.0-test") {
		t.Errorf("format %q", bi.Format)
	}
	for _, r := range bi.Regions {
		if r.Start >= r.End || r.End > linuxMem {
			t.Errorf("region %+v", r)
		}
	}
	// Below 1 MiB, only the loader's data changed.
	low := readMem(t, mem, 0, 0x100000)
	for a := range low {
		busy := a >= 0x6000 && a < 0x6020 || a >= 0x7000 && a < 0x8000 || a >= 0x9000 && a < 0xF000 ||
			a >= cmdlineAddr && a < cmdlineAddr+len("console=ttyS0 acpi=off")+1
		if !busy && low[a] != 0xEE {
			t.Fatalf("byte at %#x changed to %#x", a, low[a])
		}
	}
}

// checkIdentityMap walks the 4-level tables at cr3 (SDM Vol. 3A §4.5) for
// every 2 MiB page below 4 GiB and checks that nothing above is mapped.
func checkIdentityMap(t *testing.T, mem *mmu.Memory, cr3 uint64) {
	t.Helper()
	rd := func(a uint64) uint64 { return le.Uint64(readMem(t, mem, a, 8)) }
	const addr = 0x000FFFFFFFFFF000
	pml4e := rd(cr3)
	if pml4e&3 != 3 {
		t.Fatalf("PML4E 0 = %#x", pml4e)
	}
	for i := uint64(1); i < 512; i++ {
		if rd(cr3+8*i) != 0 {
			t.Errorf("PML4E %d present", i)
		}
	}
	pdpt := pml4e & addr
	for i := range uint64(512) {
		e := rd(pdpt + 8*i)
		if i >= 4 {
			if e != 0 {
				t.Errorf("PDPTE %d = %#x maps above 4 GiB", i, e)
			}
			continue
		}
		if e&3 != 3 || e&0x80 != 0 {
			t.Fatalf("PDPTE %d = %#x", i, e)
		}
		pd := e & addr
		if pd < 0x9000 || pd >= 0xF000 {
			t.Errorf("page directory %d at %#x, outside 0x9000-0xF000", i, pd)
		}
		for j := range uint64(512) {
			pde := rd(pd + 8*j)
			va := i<<30 | j<<21
			if pde&0x83 != 0x83 || pde&addr != va || pde&^(addr|0x83) != 0 {
				t.Fatalf("PDE for %#x = %#x", va, pde)
			}
		}
	}
	// And the MMU's own walker agrees.
	for _, va := range []uint64{0, 0x7000, 0x1000200, 0x3FFFFFFF, 0x40000000, 0xFEE00000, 0xFFFFFFFF} {
		tr, _, ok := mem.Walk4(cr3, va, mmu.Access64{Access: mmu.Access{Fetch: true}})
		if !ok || uint64(tr.PA) != va {
			t.Errorf("Walk4(%#x) = %#x, %v", va, tr.PA, ok)
		}
	}
	if _, _, ok := mem.Walk4(cr3, 1<<32, mmu.Access64{}); ok {
		t.Error("4 GiB is mapped")
	}
}

// Without XLF_KERNEL_64 (or with Entry32), the 32-bit boot protocol:
// paging off, EIP at the load address, ESI the zero page.
func TestLoadLinux32(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  tbz
		plat Platform
	}{
		{"32-bit kernel", tbz{xloadflags: 0x7E}, Platform{}},
		{"Entry32", tbz{}, Platform{Entry32: true}},
		{"protocol 2.06", tbz{protocol: 0x0206}, Platform{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory(t, linuxMem)
			fill(t, mem, 0x9000, 0x6000, 0xEE)
			img := tc.img.build()
			st, bi, err := LoadLinux(mem, img, nil, "", 0, tc.plat)
			if err != nil {
				t.Fatal(err)
			}
			load := uint64(0x1000000)
			if tc.img.protocol == 0x0206 { // no pref_address before 2.10: 0x100000, aligned
				load = 0x200000
			}
			want := cpu.FlatProtectedState(uint32(load))
			want.GPR[cpu.ESI], want.GPR[cpu.ESP] = 0x7000, 0x6000
			want.GDTR = cpu.DTR{Base: 0x6000, Limit: 31}
			want.IDTR = cpu.DTR{}
			if d := cmp.Diff(want, st); d != "" {
				t.Errorf("state (-want +got):\n%s", d)
			}
			if bi.Entry != load || !strings.Contains(bi.Format, "32-bit entry") {
				t.Errorf("BootInfo %v", bi)
			}
			bp := zeroPage(t, mem)
			if got := le.Uint32(bp[hdrCode32Start:]); uint64(got) != load {
				t.Errorf("code32_start %#x", got)
			}
			if le.Uint32(bp[hdrRamdiskImage:]) != 0 || le.Uint32(bp[hdrRamdiskSize:]) != 0 {
				t.Error("ramdisk fields set without an initrd")
			}
			if !allBytes(readMem(t, mem, 0x9000, 0x6000), 0xEE) {
				t.Error("page tables written for the 32-bit entry")
			}
			gdt := readMem(t, mem, 0x6000, 32)
			if le.Uint64(gdt[0x10:]) != 0x00CF9B000000FFFF {
				t.Errorf("__BOOT_CS %#x, want 32-bit flat code", le.Uint64(gdt[0x10:]))
			}
			if string(readMem(t, mem, load, tbzKernelSize)) != string(img[5*512:]) {
				t.Errorf("kernel not at %#x", load)
			}
		})
	}
}

// A kernel that is not relocatable goes to 0x100000 and moves itself to
// pref_address: both ranges are kept clear of the initrd.
func TestLoadLinuxFixed(t *testing.T) {
	mem := newMemory(t, linuxMem)
	img := tbz{fixed: true, xloadflags: 0x7E}.build()
	initrd := pattern(0x2000, 1)
	st, bi, err := LoadLinux(mem, img, initrd, "", 0, Platform{})
	if err != nil {
		t.Fatal(err)
	}
	if st.EIP != 0x100000 || bi.KernelEnd != 0x1000000+tbzInitSize {
		t.Errorf("EIP %#x, kernel end %#x", st.EIP, bi.KernelEnd)
	}
	if string(readMem(t, mem, 0x100000, tbzKernelSize)) != string(img[5*512:]) {
		t.Error("kernel not at 0x100000")
	}
	bp := zeroPage(t, mem)
	if le.Uint32(bp[hdrCode32Start:]) != 0x100000 || le.Uint32(bp[hdrRamdiskImage:]) != linuxMem-0x2000 {
		t.Errorf("code32_start %#x, ramdisk_image %#x", le.Uint32(bp[hdrCode32Start:]), le.Uint32(bp[hdrRamdiskImage:]))
	}
}

// A reserved range at pref_address moves a relocatable kernel to the next
// aligned free address; the memory map shows the range, and the initrd
// avoids it and initrd_addr_max.
func TestLoadLinuxRelocated(t *testing.T) {
	mem := newMemory(t, linuxMem)
	res := []Region{
		{Start: 0x1000000, End: 0x1100000, What: "ACPI tables"},
		{Start: linuxMem - 0x10000, End: linuxMem, What: "MP table"},
		{Start: 0xFEC00000, End: 0xFEC01000, What: "IOAPIC"},
	}
	img := tbz{initrdMax: 0x2FFFFFF}.build()
	initrd := pattern(0x3000, 2)
	st, bi, err := LoadLinux(mem, img, initrd, "", 0, Platform{Reserved: res})
	if err != nil {
		t.Fatal(err)
	}
	if st.EIP != 0x1200200 || bi.KernelEnd != 0x1200000+tbzInitSize {
		t.Errorf("RIP %#x, kernel end %#x", st.EIP, bi.KernelEnd)
	}
	bp := zeroPage(t, mem)
	if got := le.Uint32(bp[hdrRamdiskImage:]); got != 0x3000000-0x3000 {
		t.Errorf("ramdisk_image %#x, want below initrd_addr_max", got)
	}
	want := []E820Entry{
		{Base: 0, Length: 0x9FC00, Type: E820RAM},
		{Base: 0x9FC00, Length: 0x400, Type: E820Reserved},
		{Base: 0xF0000, Length: 0x10000, Type: E820Reserved},
		{Base: 0x100000, Length: 0xF00000, Type: E820RAM},
		{Base: 0x1000000, Length: 0x100000, Type: E820Reserved},
		{Base: 0x1100000, Length: linuxMem - 0x10000 - 0x1100000, Type: E820RAM},
		{Base: linuxMem - 0x10000, Length: 0x10000, Type: E820Reserved},
		{Base: 0xFEC00000, Length: 0x1000, Type: E820Reserved},
	}
	if d := cmp.Diff(want, readE820(bp)); d != "" {
		t.Errorf("e820 table (-want +got):\n%s", d)
	}
}

// The initrd goes below the kernel when it does not fit above it.
func TestLoadLinuxInitrdBelowKernel(t *testing.T) {
	mem := newMemory(t, 32<<20)
	img := tbz{initSize: 0xF00000}.build() // 16 MiB + 15 MiB: 1 MiB left above
	initrd := pattern(0x180000, 3)
	if _, _, err := LoadLinux(mem, img, initrd, "", 0, Platform{}); err != nil {
		t.Fatal(err)
	}
	if got := le.Uint32(zeroPage(t, mem)[hdrRamdiskImage:]); got != 0x1000000-0x180000 {
		t.Errorf("ramdisk_image %#x", got)
	}
}

func TestPlatformE820(t *testing.T) {
	m, err := platformE820(testMem, []Region{
		{Start: 0xE0000, End: 0xF8000, What: "tables in the BIOS area"}, // merges with the BIOS
		{Start: 0x200000, End: 0x201000, What: "a"},
		{Start: 0x200800, End: 0x202000, What: "b overlaps a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []E820Entry{
		{Base: 0, Length: 0x9FC00, Type: E820RAM},
		{Base: 0x9FC00, Length: 0x400, Type: E820Reserved},
		{Base: 0xE0000, Length: 0x20000, Type: E820Reserved},
		{Base: 0x100000, Length: 0x100000, Type: E820RAM},
		{Base: 0x200000, Length: 0x2000, Type: E820Reserved},
		{Base: 0x202000, Length: testMem - 0x202000, Type: E820RAM},
	}
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("map (-want +got):\n%s", d)
	}
	if m, _ := platformE820(testMem, nil); !cmp.Equal(m, E820(testMem)) {
		t.Errorf("no reserved ranges: %v", m)
	}
	var many []Region
	for i := range uint64(70) {
		many = append(many, Region{Start: 0x200000 + 0x2000*i, End: 0x201000 + 0x2000*i})
	}
	if _, err := platformE820(testMem, many); err == nil || err.Error() != "the memory map has 144 entries, boot_params holds 128" {
		t.Errorf("error %v", err)
	}
}

func TestLinuxErrors(t *testing.T) {
	good := tbz{}.build()
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name    string
		img     []byte
		initrd  int
		cmdline string
		mem     uint64
		plat    Platform
		want    string
	}{
		{"bad magic", mod(func(b []byte) []byte { b[0x205] = 'Z'; return b }), 0, "", 0, Platform{},
			`bad bzImage magic: "HdrZ" at 0x202, want "HdrS"`},
		{"bad boot flag", mod(func(b []byte) []byte { b[0x1FE] = 0; return b }), 0, "", 0, Platform{},
			"bad bzImage boot_flag 0xaa00 at 0x1fe, want 0xaa55"},
		{"too short for the header", good[:0x203], 0, "", 0, Platform{},
			"truncated bzImage: 515 bytes, the setup header needs at least 520"},
		{"protocol 2.05", tbz{protocol: 0x0205}.build(), 0, "", 0, Platform{},
			"Linux boot protocol 2.05 is too old: need 2.06 or later"},
		{"truncated setup", good[:0x800], 0, "", 0, Platform{},
			"truncated bzImage: 2048 bytes, the boot sector and 4 setup sectors need 2560"},
		{"truncated kernel", good[:len(good)-16], 0, "", 0, Platform{},
			"truncated bzImage: the protected-mode kernel is 65520 bytes, syssize says 65536"},
		{"no kernel", tbz{kernel: []byte{}}.build(), 0, "", 0, Platform{},
			"truncated bzImage: no protected-mode kernel after the 4 setup sectors"},
		{"zImage", tbz{loadflags: 0x80}.build(), 0, "", 0, Platform{},
			"zImage (loadflags LOADED_HIGH clear) is not supported, only bzImage"},
		{"pref_address above 4 GiB", tbz{pref: 1 << 32}.build(), 0, "", 0, Platform{},
			"bzImage pref_address 0x100000000 is above 4 GiB"},
		{"command line too long", tbz{cmdlineSize: 10}.build(), 0, "console=ttyS0", 0, Platform{},
			"command line is 13 bytes, the kernel takes at most 10 (cmdline_size)"},
		{"command line with NUL", good, 0, "a\x00b", 0, Platform{},
			"command line has a NUL byte at offset 1"},
		{"command line beyond the EBDA", tbz{cmdlineSize: 1 << 20}.build(), 0, strings.Repeat("x", cmdlineMax), 0, Platform{},
			"command line is 523264 bytes, at most 523263 fit below the EBDA"},
		{"kernel does not fit", good, 0, "", 20 << 20, Platform{},
			"kernel does not fit: it needs 0x800000 bytes (init_size) at 0x1000000 or above, aligned to 0x200000, in RAM of 0x1400000 bytes below 4 GiB"},
		{"fixed kernel does not fit", tbz{fixed: true}.build(), 0, "", 20 << 20, Platform{},
			"non-relocatable kernel (65536 bytes at 0x100000, init_size 0x800000 at 0x1000000) does not fit in RAM (0x1400000 bytes)"},
		{"initrd too large", good, 41 << 20, "", 0, Platform{},
			"initrd (42991616 bytes) does not fit below 0x4000000 (initrd_addr_max 0x7fffffff, RAM 0x4000000 bytes) beside the kernel at 0x1000000-0x1800000"},
		{"initrd above initrd_addr_max", tbz{initrdMax: 0x17FFFFF}.build(), 16 << 20, "", 0, Platform{},
			"initrd (16777216 bytes) does not fit below 0x1800000 (initrd_addr_max 0x17fffff, RAM 0x4000000 bytes) beside the kernel at 0x1000000-0x1800000"},
		{"reserved over the zero page", good, 0, "", 0, Platform{Reserved: []Region{{Start: 0x7800, End: 0x7900, What: "x"}}},
			"the boot_params (zero page) at 0x7000-0x8000 is not in usable RAM (a reserved range covers it)"},
		{"inverted reserved range", good, 0, "", 0, Platform{Reserved: []Region{{Start: 0x2000000, End: 0x1000000, What: "MP table"}}},
			`reserved range "MP table" 0x2000000-0x1000000 is empty or inverted`},
		{"memory size above RAM", good, 0, "", linuxMem + 1, Platform{},
			"memory size 0x4000001 is larger than guest RAM (0x4000000 bytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory(t, linuxMem)
			_, bi, err := LoadLinux(mem, tc.img, make([]byte, tc.initrd), tc.cmdline, tc.mem, tc.plat)
			if err == nil {
				t.Fatalf("loaded: %v", bi)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n %q\nwant\n %q", err, tc.want)
			}
		})
	}
}

// Load finds a bzImage, takes opts.Initrd and appends the modules (as hv
// passes --initrd), each 4-byte aligned; errors name the file.
func TestLoadDetectsBzImage(t *testing.T) {
	mem := newMemory(t, linuxMem)
	img := tbz{}.build()
	opts := Options{Name: "bzImage", Path: "/boot/bzImage", Cmdline: "console=ttyS0", Initrd: []byte("abcde"),
		Modules: []Module{{Name: "m1", Data: []byte("xyz")}, {Name: "m2", Data: []byte("12345678")}}}
	st, bi, err := Load(mem, img, opts)
	if err != nil {
		t.Fatal(err)
	}
	if bi.Kind != KindLinux || st.EIP != 0x1000200 || bi.Kind.String() != "Linux bzImage" {
		t.Errorf("BootInfo %v", bi)
	}
	bp := zeroPage(t, mem)
	want := "abcde\x00\x00\x00xyz\x0012345678"
	if got := readMem(t, mem, uint64(le.Uint32(bp[hdrRamdiskImage:])), uint64(le.Uint32(bp[hdrRamdiskSize:]))); string(got) != want {
		t.Errorf("initrd %q, want %q", got, want)
	}
	if got := readCString(t, mem, cmdlineAddr); got != "console=ttyS0" {
		t.Errorf("command line %q (the path is for multiboot only)", got)
	}
	if string(opts.Initrd) != "abcde" {
		t.Error("Load changed opts.Initrd")
	}

	_, _, err = Load(mem, tbz{protocol: 0x0204}.build(), Options{Name: "old"})
	if err == nil || err.Error() != "old: Linux boot protocol 2.04 is too old: need 2.06 or later" {
		t.Errorf("error %v", err)
	}
	_, _, err = Load(mem, []byte{0xF4}, Options{Name: "flat", Initrd: []byte{1}})
	if err == nil || err.Error() != "flat: an initrd needs a Linux kernel (bzImage or PVH ELF)" {
		t.Errorf("error %v", err)
	}
	_, _, err = Load(mem, aoutKernel(), Options{Name: "mb", Initrd: []byte{1}})
	if err == nil || err.Error() != "mb: an initrd needs a Linux kernel; a multiboot kernel takes modules" {
		t.Errorf("error %v", err)
	}
}

// FuzzLoadLinux mutates bzImages and PVH ELFs: one-line errors, no panic,
// nothing outside RAM.
func FuzzLoadLinux(f *testing.F) {
	small := pattern(0x100, 1) // small seeds keep the fuzzer fast
	f.Add(tbz{kernel: small, setupSects: 1}.build(), 100, "console=ttyS0")
	f.Add(tbz{kernel: small, setupSects: 1, xloadflags: 0x7E, fixed: true}.build(), 0, "")
	f.Add(tbz{kernel: small, protocol: 0x0206, setupSects: 1}.build(), 5000, "x")
	f.Add(pvhELF64(t64{segs: []tseg64{{paddr: 0x1000000, data: small, memsz: 0x1000}}}), 100, "console=ttyS0")
	mem := newMemory(f, 32<<20)
	f.Fuzz(func(t *testing.T, image []byte, initrd int, cmdline string) {
		if initrd < 0 || initrd > 40<<20 {
			return
		}
		st, bi, err := Load(mem, image, Options{Name: "fuzz", Cmdline: cmdline, Initrd: make([]byte, initrd)})
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "fuzz: ") || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error %q is not one line naming the file", msg)
			}
			return
		}
		if bi.Entry != st.EIP && bi.Kind != KindFlat {
			t.Errorf("entry %#x, EIP %#x", bi.Entry, st.EIP)
		}
		for _, r := range bi.Regions {
			if r.End > mem.Size() || r.Start > r.End {
				t.Errorf("region %#x-%#x %s outside RAM", r.Start, r.End, r.What)
			}
		}
	})
}

// debianKernel is Debian's installed kernel, or a skip.
func debianKernel(t *testing.T) (string, []byte) {
	t.Helper()
	paths, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(paths) == 0 {
		t.Skip("no /boot/vmlinuz-*: install linux-image-amd64 to test on Debian's kernel")
	}
	img, err := os.ReadFile(paths[len(paths)-1])
	if err != nil {
		t.Skipf("cannot read the kernel: %v", err)
	}
	return paths[len(paths)-1], img
}

// Debian's kernel loads through the 64-bit entry at pref_address.
func TestLoadLinuxDebian(t *testing.T) {
	path, img := debianKernel(t)
	h, err := ParseLinuxHeader(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: protocol %s, version %q, xloadflags %#x, pref_address %#x, init_size %#x, kernel_alignment %#x, cmdline_size %d, initrd_addr_max %#x",
		path, h.ProtocolString(), h.KernelVersion, h.Xloadflags, h.PrefAddress, h.InitSize, h.KernelAlignment, h.CmdlineSize, h.InitrdAddrMax)
	if h.KernelVersion == "" || !strings.HasPrefix(filepath.Base(path), "vmlinuz-"+strings.Fields(h.KernelVersion)[0]) {
		t.Errorf("kernel version %q does not match %s", h.KernelVersion, path)
	}
	mem := newMemory(t, 256<<20)
	initrd := pattern(3<<20, 7)
	st, bi, err := LoadLinux(mem, img, initrd, "console=ttyS0 acpi=off", 0, Platform{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", bi)
	if st.EIP != h.PrefAddress+0x200 || st.EFER&cpu.EFERLMA == 0 {
		t.Errorf("RIP %#x, EFER %#x", st.EIP, st.EFER)
	}
	if string(readMem(t, mem, h.PrefAddress, uint64(len(h.Kernel())))) != string(h.Kernel()) {
		t.Error("kernel not at pref_address")
	}
	// startup_64 (arch/x86/boot/compressed/head_64.S) starts with cld; cli.
	if code := readMem(t, mem, st.EIP, 2); code[0] != 0xFC || code[1] != 0xFA {
		t.Errorf("code at startup_64: % x, want fc fa (cld; cli)", code)
	}
}
