package firmware

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gemu-project/gemu/cpu"
)

// tseg64 is a PT_LOAD segment for pvhELF64.
type tseg64 struct {
	paddr, vaddr uint64
	data         []byte
	memsz        uint64 // 0: len(data)
}

// t64 describes an ELF64 kernel; zero fields take the values of a small
// vmlinux with a PVH note (8-byte address, as Linux 6.1 writes it).
type t64 struct {
	machine  uint16
	entry    uint64 // PHYS32_ENTRY note's address
	descSize int    // 4 or 8; -1: no PVH note
	segs     []tseg64
}

const pvhEntry = 0x1000850

func pvhSegs() []tseg64 {
	return []tseg64{
		{paddr: 0x1000000, vaddr: 0xFFFFFFFF81000000, data: pattern(0x3000, 1), memsz: 0x5000},
		{paddr: 0x1200000, vaddr: 0, data: pattern(0x100, 2)}, // .data..percpu is linked at 0
	}
}

// elfNote is one ELF note (gABI "Note Section"), padded to 4 bytes.
func elfNote(name string, typ uint32, desc []byte) []byte {
	n := make([]byte, 12)
	le.PutUint32(n, uint32(len(name)+1))
	le.PutUint32(n[4:], uint32(len(desc)))
	le.PutUint32(n[8:], typ)
	n = append(n, name...)
	n = append(n, 0)
	for len(n)%4 != 0 {
		n = append(n, 0)
	}
	n = append(n, desc...)
	for len(n)%4 != 0 {
		n = append(n, 0)
	}
	return n
}

func pvhELF64(e t64) []byte {
	if e.machine == 0 {
		e.machine = elfMachineX8664
	}
	if e.entry == 0 {
		e.entry = pvhEntry
	}
	if e.descSize == 0 {
		e.descSize = 8
	}
	if e.segs == nil {
		e.segs = pvhSegs()
	}
	// Notes as Linux has them: others first, the PVH one among them.
	notes := elfNote("Xen", 6, []byte("linux\x00"))
	notes = append(notes, elfNote("GNU", 3, pattern(20, 3))...)
	if e.descSize > 0 {
		desc := make([]byte, 8)
		le.PutUint64(desc, e.entry)
		notes = append(notes, elfNote("Xen", xenElfnotePhys32Entry, desc[:e.descSize])...)
	}
	notes = append(notes, elfNote("Linux", 0x100, []byte("6.1.0\x00"))...)

	nph := len(e.segs) + 1
	img := make([]byte, elf64EhdrSize+nph*elf64PhdrSize)
	copy(img, elfMagic)
	img[4], img[5], img[6] = elfClass64, elfDataLSB, 1
	le.PutUint16(img[16:], elfTypeExec)
	le.PutUint16(img[18:], e.machine)
	le.PutUint32(img[20:], 1)
	le.PutUint64(img[24:], 0x1000000) // e_entry: startup_64, not the PVH entry
	le.PutUint64(img[32:], elf64EhdrSize)
	le.PutUint16(img[52:], elf64EhdrSize)
	le.PutUint16(img[54:], elf64PhdrSize)
	le.PutUint16(img[56:], uint16(nph))
	ph := func(i int, typ uint32, off, vaddr, paddr, filesz, memsz uint64) {
		p := img[elf64EhdrSize+i*elf64PhdrSize:]
		le.PutUint32(p, typ)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], vaddr)
		le.PutUint64(p[24:], paddr)
		le.PutUint64(p[32:], filesz)
		le.PutUint64(p[40:], memsz)
	}
	for i, s := range e.segs {
		for len(img)%16 != 0 {
			img = append(img, 0)
		}
		memsz := s.memsz
		if memsz == 0 {
			memsz = uint64(len(s.data))
		}
		ph(i, elfPTLoad, uint64(len(img)), s.vaddr, s.paddr, uint64(len(s.data)), memsz)
		img = append(img, s.data...)
	}
	ph(len(e.segs), elfPTNote, uint64(len(img)), 0xFFFFFFFF824C1990, 0x24C1990, uint64(len(notes)), uint64(len(notes)))
	return append(img, notes...)
}

// The PVH entry: segments at their physical addresses, hvm_start_info with
// the initrd, command line and memory map, 32-bit flat protected mode.
func TestLoadPVH64(t *testing.T) {
	mem := newMemory(t, linuxMem)
	fill(t, mem, 0x1000000, 0x300000, 0xEE)
	img := pvhELF64(t64{})
	initrd := pattern(0x4567, 4)
	res := []Region{{Start: 0xE0000, End: 0xF0000, What: "ACPI"}}
	st, bi, err := LoadPVH(mem, img, initrd, "console=ttyS0", 0, Platform{Reserved: res, RSDP: 0xE0000})
	if err != nil {
		t.Fatal(err)
	}
	want := cpu.FlatProtectedState(pvhEntry)
	want.GPR[cpu.EBX], want.GPR[cpu.ESP] = 0x7000, 0x6000
	want.GDTR = cpu.DTR{Base: 0x6000, Limit: 31}
	want.IDTR = cpu.DTR{}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
	if st.EFLAGS != 2 || st.CR0 != cpu.CR0PE|cpu.CR0ET || st.CR4 != 0 || st.EFER != 0 {
		t.Errorf("EFLAGS %#x CR0 %#x CR4 %#x EFER %#x", st.EFLAGS, st.CR0, st.CR4, st.EFER)
	}
	segs := pvhSegs()
	if string(readMem(t, mem, 0x1000000, 0x3000)) != string(segs[0].data) || !allBytes(readMem(t, mem, 0x1003000, 0x2000), 0) {
		t.Error("segment 0 or its bss wrong")
	}
	if string(readMem(t, mem, 0x1200000, 0x100)) != string(segs[1].data) {
		t.Error("segment 1 not at its physical address")
	}
	if !allBytes(readMem(t, mem, 0x1005000, 0x1000), 0xEE) {
		t.Error("wrote past segment 0")
	}

	si := readMem(t, mem, 0x7000, hvmStartSize)
	rd := uint64(linuxMem-0x4567) &^ 0xFFF
	e820, _ := platformE820(linuxMem, res)
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"magic", uint64(le.Uint32(si[0x00:])), 0x336EC578},
		{"version", uint64(le.Uint32(si[0x04:])), 1},
		{"flags", uint64(le.Uint32(si[0x08:])), 0},
		{"nr_modules", uint64(le.Uint32(si[0x0C:])), 1},
		{"modlist_paddr", le.Uint64(si[0x10:]), 0x7040},
		{"cmdline_paddr", le.Uint64(si[0x18:]), cmdlineAddr},
		{"rsdp_paddr", le.Uint64(si[0x20:]), 0xE0000},
		{"memmap_paddr", le.Uint64(si[0x28:]), 0x7080},
		{"memmap_entries", uint64(le.Uint32(si[0x30:])), uint64(len(e820))},
		{"reserved", uint64(le.Uint32(si[0x34:])), 0},
	}
	mod := readMem(t, mem, le.Uint64(si[0x10:]), hvmModlistSize)
	checks = append(checks, []struct {
		name      string
		got, want uint64
	}{
		{"module paddr", le.Uint64(mod[0:]), rd},
		{"module size", le.Uint64(mod[8:]), 0x4567},
		{"module cmdline_paddr", le.Uint64(mod[16:]), 0},
		{"module reserved", le.Uint64(mod[24:]), 0},
	}...)
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if string(readMem(t, mem, rd, 0x4567)) != string(initrd) {
		t.Error("initrd not where the module list says")
	}
	if got := readCString(t, mem, cmdlineAddr); got != "console=ttyS0" {
		t.Errorf("command line %q", got)
	}
	var mm []E820Entry
	raw := readMem(t, mem, le.Uint64(si[0x28:]), uint64(hvmMemmapSize*len(e820)))
	for i := range e820 {
		p := raw[hvmMemmapSize*i:]
		if le.Uint32(p[20:]) != 0 {
			t.Errorf("memmap %d reserved field %#x", i, le.Uint32(p[20:]))
		}
		mm = append(mm, E820Entry{Base: le.Uint64(p), Length: le.Uint64(p[8:]), Type: E820Type(le.Uint32(p[16:]))})
	}
	if d := cmp.Diff(e820, mm); d != "" {
		t.Errorf("memory map (-want +got):\n%s", d)
	}
	if e820[2] != (E820Entry{Base: 0xE0000, Length: 0x20000, Type: E820Reserved}) {
		t.Errorf("reserved ACPI range not in the map: %v", e820)
	}
	if bi.Kind != KindPVH || bi.Format != "PVH ELF64" || bi.Entry != pvhEntry || bi.InfoAddr != 0x7000 || bi.KernelEnd != 0x1200100 {
		t.Errorf("BootInfo %v", bi)
	}
}

// Load routes an ELF with the note to LoadPVH (ELF64, or ELF32 with a
// 4-byte address); without an initrd, nr_modules is 0.
func TestLoadDetectsPVH(t *testing.T) {
	note := elfNote("Xen", xenElfnotePhys32Entry, []byte{0x40, 0x00, 0x20, 0x00})
	elf32 := telf{entry: 0xC0200000, segs: []tseg{
		{paddr: 0x200000, vaddr: 0xC0200000, data: pattern(0x100, 1)},
		{typ: elfPTNote, data: note},
	}}.build()
	for _, tc := range []struct {
		name   string
		img    []byte
		entry  uint64
		format string
	}{
		{"ELF64", pvhELF64(t64{}), pvhEntry, "PVH ELF64"},
		{"ELF64, 4-byte note", pvhELF64(t64{descSize: 4, entry: 0x1000010}), 0x1000010, "PVH ELF64"},
		{"ELF32", elf32, 0x200040, "PVH ELF32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory(t, linuxMem)
			st, bi, err := Load(mem, tc.img, Options{Name: "vmlinux", Cmdline: "quiet"})
			if err != nil {
				t.Fatal(err)
			}
			if st.EIP != tc.entry || bi.Entry != tc.entry || bi.Format != tc.format || bi.Kind.String() != "PVH ELF" {
				t.Errorf("EIP %#x, BootInfo %v", st.EIP, bi)
			}
			si := readMem(t, mem, 0x7000, hvmStartSize)
			if le.Uint32(si[0x0C:]) != 0 || le.Uint64(si[0x10:]) != 0 || readCString(t, mem, uint32(le.Uint64(si[0x18:]))) != "quiet" {
				t.Errorf("start_info % x", si)
			}
		})
	}
}

func TestFindPVHEntry(t *testing.T) {
	img := pvhELF64(t64{})
	if e, ok := FindPVHEntry(img); !ok || e != pvhEntry {
		t.Errorf("entry %#x, %v", e, ok)
	}
	if _, ok := FindPVHEntry(pvhELF64(t64{descSize: -1})); ok {
		t.Error("found a note in a kernel without one")
	}
	// A note whose descsz runs past its segment ends the walk.
	bad := append([]byte(nil), img...)
	i := bytes.Index(bad, []byte("Xen\x00linux"))
	le.PutUint32(bad[i-8:], 0xFFFFFFF0)
	if _, ok := FindPVHEntry(bad); ok {
		t.Error("walked past a bad note")
	}
	for n := range len(img) {
		FindPVHEntry(img[:n]) // never panics
	}
}

func TestPVHErrors(t *testing.T) {
	tests := []struct {
		name   string
		img    []byte
		initrd int
		mem    uint64
		plat   Platform
		want   string
	}{
		{"no note", pvhELF64(t64{descSize: -1}), 0, 0, Platform{},
			`ELF file has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY: name "Xen", type 18)`},
		{"wrong machine", pvhELF64(t64{machine: 3}), 0, 0, Platform{},
			"unsupported ELF64 machine 3 (want EM_X86_64)"},
		{"truncated program headers", pvhELF64(t64{})[:100], 0, 0, Platform{},
			"truncated ELF program headers: 3 × 56 bytes at offset 0x40 pass the end of the file (100 bytes)"},
		{"segment past 4 GiB", pvhELF64(t64{segs: []tseg64{{paddr: 0xFFFFF000, data: pattern(0x2000, 1)}}}), 0, 0, Platform{},
			"ELF segment 0: 0xfffff000+0x2000 passes 4 GiB"},
		{"segment outside RAM", pvhELF64(t64{segs: []tseg64{{paddr: 0x4000000, data: pattern(0x10, 1)}}}), 0, 0, Platform{},
			"ELF segment 0 at 0x4000000-0x4000010 is outside RAM (0x4000000 bytes)"},
		{"segment over the start info", pvhELF64(t64{segs: []tseg64{{paddr: 0x7F00, data: pattern(0x200, 1)}}}), 0, 0, Platform{},
			"ELF segment 0 at 0x7f00-0x8100 overlaps the loader's hvm_start_info and memory map at 0x7000-0x8000"},
		{"segment over a reserved range", pvhELF64(t64{}), 0, 0, Platform{Reserved: []Region{{Start: 0x1004000, End: 0x1005000}}},
			"ELF segment 0 at 0x1000000-0x1005000 is not in usable RAM (a reserved range covers it)"},
		{"entry outside RAM", pvhELF64(t64{entry: 0x8000000}), 0, 0, Platform{},
			"PVH entry point 0x8000000 is outside RAM (0x4000000 bytes)"},
		{"initrd too large", pvhELF64(t64{}), 48 << 20, 0, Platform{},
			"initrd (50331648 bytes) does not fit below 0x4000000 (RAM 0x4000000 bytes) beside the kernel at 0x1000000-0x1200100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory(t, linuxMem)
			_, bi, err := LoadPVH(mem, tc.img, make([]byte, tc.initrd), "", tc.mem, tc.plat)
			if err == nil {
				t.Fatalf("loaded: %v", bi)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n %q\nwant\n %q", err, tc.want)
			}
		})
	}
	_, _, err := Load(newMemory(t, linuxMem), pvhELF64(t64{descSize: -1}), Options{Name: "vmlinux"})
	if want := "vmlinux: 64-bit ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); only a multiboot or PVH kernel boots from ELF64"; err == nil || err.Error() != want {
		t.Errorf("error %v", err)
	}
}

// Debian's vmlinux, unpacked from the bzImage's XZ payload, boots through
// its PVH note.
func TestLoadPVHDebian(t *testing.T) {
	_, img := debianKernel(t)
	h, err := ParseLinuxHeader(img)
	if err != nil {
		t.Fatal(err)
	}
	payload := h.Payload()
	if !bytes.HasPrefix(payload, []byte("\xFD7zXZ\x00")) {
		t.Skipf("the kernel's payload is not XZ (% x)", payload[:min(len(payload), 6)])
	}
	xz, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("no xz command to unpack the kernel")
	}
	// The payload ends with the decompressed size (4 bytes), which is not XZ.
	cmd := exec.Command(xz, "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(payload)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xz: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	vmlinux := out.Bytes()
	entry, ok := FindPVHEntry(vmlinux)
	if !ok {
		t.Fatal("Debian's vmlinux has no PVH note")
	}
	t.Logf("vmlinux %d bytes (%q): PVH entry %#x (LINUX-GUEST.md measured 0x1000850)", len(vmlinux), h.KernelVersion, entry)
	mem := newMemory(t, 256<<20)
	st, bi, err := LoadPVH(mem, vmlinux, pattern(1<<20, 3), "console=ttyS0", 0, Platform{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", bi)
	if st.EIP != entry || st.GPR[cpu.EBX] != 0x7000 {
		t.Errorf("EIP %#x EBX %#x", st.EIP, st.GPR[cpu.EBX])
	}
	e, err := parseELF64(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	s := e.segs[0]
	if entry < s.paddr || entry >= s.paddr+s.filesz {
		t.Errorf("entry %#x is not in the text segment %#x-%#x", entry, s.paddr, s.paddr+s.filesz)
	}
	// pvh_start_xen (arch/x86/platform/pvh/head.S) starts with cld.
	if c := readMem(t, mem, entry, 1)[0]; c != 0xFC {
		t.Errorf("code at the PVH entry: %#x, want fc (cld)", c)
	}
}
