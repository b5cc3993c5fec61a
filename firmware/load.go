// Package firmware puts a guest's boot image into memory and sets the CPU
// state it starts in: multiboot 1 kernels, Linux bzImages (LoadLinux), PVH
// ELF kernels (LoadPVH), ELF32 executables and flat boot sectors (Load); the
// built-in BIOS for real-mode guests (InstallBIOS); and the machine's memory
// map (E820), so that every path reports the same one.
package firmware

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// Kind is the format Load found.
type Kind int

// Image formats, in the order Load tries them (QEMU's order).
const (
	KindMultiboot Kind = iota + 1 // multiboot 1 kernel (ELF or a.out kludge)
	KindELF                       // plain ELF32 executable
	KindFlat                      // flat binary entered like a boot sector
	KindLinux                     // Linux bzImage (boot protocol 2.06+)
	KindPVH                       // ELF kernel with a PVH entry note
)

func (k Kind) String() string {
	switch k {
	case KindMultiboot:
		return "multiboot"
	case KindELF:
		return "ELF32"
	case KindFlat:
		return "flat binary"
	case KindLinux:
		return "Linux bzImage"
	case KindPVH:
		return "PVH ELF"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Module is a multiboot boot module (Multiboot 0.6.96 §3.3, mods).
type Module struct {
	Name    string // for messages and BootInfo
	Data    []byte
	Cmdline string // the module's string; Name if empty
}

// Options are what Load needs besides the image.
type Options struct {
	Name    string // the image's file name, for messages; "image" if empty
	Cmdline string // multiboot command line
	// Path, if set, is put before Cmdline in the multiboot command line, as
	// QEMU's -kernel does (the kernel's file name, then -append).
	Path    string
	Modules []Module
	// MemSize is the RAM size the guest is told; 0 means all of mem.
	MemSize uint64
	// Initrd is a Linux (bzImage or PVH) kernel's initial ramdisk. For such
	// a kernel, Modules' data are appended to it, each padded to 4 bytes
	// (Linux unpacks concatenated cpio archives).
	Initrd []byte
	// Platform is what the machine adds to a Linux or PVH boot (reserved
	// ranges for the memory map, the ACPI RSDP).
	Platform Platform
}

// Region is a range of guest memory Load filled.
type Region struct {
	Start, End uint64 // [Start, End)
	What       string
}

// LoadedModule is a boot module as placed in guest memory.
type LoadedModule struct {
	Name       string
	Start, End uint32 // mod_start, mod_end (exclusive)
	String     string
}

// BootInfo describes what Load put where.
type BootInfo struct {
	Kind    Kind
	Format  string // e.g. "multiboot (ELF)", "multiboot (a.out kludge)"
	Entry   uint64 // physical entry point
	MemSize uint64
	// KernelEnd is the first address past the kernel (its bss included).
	KernelEnd uint64
	// InfoAddr is the multiboot information structure (EBX at entry), 0 if none.
	InfoAddr uint64
	// GDTAddr is the flat GDT that GDTR points at, 0 if none.
	GDTAddr uint64
	Modules []LoadedModule
	Regions []Region
}

func (b *BootInfo) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s, entry %#x", b.Format, b.Entry)
	if b.InfoAddr != 0 {
		fmt.Fprintf(&s, ", boot information at %#x", b.InfoAddr)
	}
	if len(b.Modules) > 0 {
		fmt.Fprintf(&s, ", %d modules", len(b.Modules))
	}
	for _, r := range b.Regions {
		fmt.Fprintf(&s, "; %#x-%#x %s", r.Start, r.End, r.What)
	}
	return s.String()
}

// Memory below 1 MiB that Load uses or avoids.
const (
	flatBase      = 0x7C00 // boot sector address
	flatMax       = ebdaBase - flatBase
	loaderPrefer  = 0x9000  // preferred base of the loader's data
	loaderMin     = 0x1000  // the loader's data stays above the IVT and BDA page
	loaderLimit   = 0x80000 // ... and below 512 KiB
	bootDrive     = 0x80
	minMemorySize = highStart
)

// chunk is a piece of the image bound for guest memory: data, then zeros up
// to size.
type chunk struct {
	what string
	addr uint64
	data []byte
	size uint64
}

// Load detects the format of image, loads it into mem and returns the CPU
// state to start in. The detection follows QEMU: a multiboot 1 header in
// the first 8192 bytes wins; else a Linux bzImage (LoadLinux) or an ELF
// kernel with a PVH entry note (LoadPVH) gets opts.Initrd and opts.Cmdline;
// else an ELF32 file is loaded by its program headers; else the image is a
// flat binary loaded at 0000:7C00 and entered in real mode with DL=80h after
// the built-in BIOS initialises the machine (see InstallBIOS). Errors name the file and the problem, on one line.
func Load(mem *mmu.Memory, image []byte, opts Options) (cpu.State, *BootInfo, error) {
	name := opts.Name
	if name == "" {
		name = "image"
	}
	st, bi, err := load(mem, image, opts)
	if err != nil {
		return cpu.State{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	return st, bi, nil
}

func load(mem *mmu.Memory, image []byte, opts Options) (cpu.State, *BootInfo, error) {
	memSize, err := resolveMemSize(mem, opts.MemSize)
	if err != nil {
		return cpu.State{}, nil, err
	}
	if h, ok := findMultiboot(image); ok {
		if len(opts.Initrd) > 0 {
			return cpu.State{}, nil, fmt.Errorf("an initrd needs a Linux kernel; a multiboot kernel takes modules")
		}
		return loadMultiboot(mem, image, h, opts, memSize)
	}
	// Linux: a bzImage (setup header magic), or an ELF kernel with a PVH
	// entry note, as QEMU tries them after multiboot.
	pvh := false
	if isELF(image) {
		_, pvh = FindPVHEntry(image)
	}
	if isBzImage(image) || pvh {
		initrd := opts.Initrd
		for _, m := range opts.Modules {
			initrd = append(initrd[:len(initrd):len(initrd)], make([]byte, -len(initrd)&3)...)
			initrd = append(initrd, m.Data...)
		}
		if pvh {
			return LoadPVH(mem, image, initrd, opts.Cmdline, memSize, opts.Platform)
		}
		return LoadLinux(mem, image, initrd, opts.Cmdline, memSize, opts.Platform)
	}
	if isELF(image) && len(image) > 4 && image[4] == elfClass64 {
		return cpu.State{}, nil, fmt.Errorf("64-bit ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); only a multiboot or PVH kernel boots from ELF64")
	}
	if len(opts.Modules) > 0 {
		return cpu.State{}, nil, fmt.Errorf("boot modules need a multiboot kernel, and the image has no multiboot header")
	}
	if opts.Cmdline != "" {
		return cpu.State{}, nil, fmt.Errorf("a command line needs a multiboot kernel, and the image has no multiboot header")
	}
	if len(opts.Initrd) > 0 {
		return cpu.State{}, nil, fmt.Errorf("an initrd needs a Linux kernel (bzImage or PVH ELF)")
	}
	if isELF(image) {
		return loadELF(mem, image, memSize)
	}
	return loadFlat(mem, image, memSize)
}

// resolveMemSize checks the RAM size the guest will be told.
func resolveMemSize(mem *mmu.Memory, memSize uint64) (uint64, error) {
	if memSize == 0 {
		memSize = mem.Size()
	}
	if memSize > mem.Size() {
		return 0, fmt.Errorf("memory size %#x is larger than guest RAM (%#x bytes)", memSize, mem.Size())
	}
	if memSize < minMemorySize {
		return 0, fmt.Errorf("memory size %#x is below 1 MiB", memSize)
	}
	return memSize, nil
}

// isBzImage recognises a Linux kernel by its setup header (Linux boot
// protocol: boot_flag AA55h at 01FEh, "HdrS" at 0202h).
func isBzImage(img []byte) bool {
	return len(img) >= 0x206 && img[0x1FE] == 0x55 && img[0x1FF] == 0xAA && string(img[0x202:0x206]) == "HdrS"
}

// checkKernelRange refuses a kernel range outside RAM or over the EBDA,
// video and BIOS area (0x9FC00–0x100000, reserved in the memory map).
func checkKernelRange(what string, start, end, memSize uint64) error {
	if end > memSize {
		return fmt.Errorf("%s at %#x-%#x is outside RAM (%#x bytes)", what, start, end, memSize)
	}
	if start < highStart && end > ebdaBase {
		return fmt.Errorf("%s at %#x-%#x overlaps the BIOS area %#x-%#x", what, start, end, ebdaBase, highStart)
	}
	return nil
}

// checkChunks checks every chunk and returns the kernel's regions and end.
func checkChunks(chunks []chunk, memSize uint64) ([]Region, uint64, error) {
	var regs []Region
	var end uint64
	for _, c := range chunks {
		if c.size == 0 {
			continue
		}
		if err := checkKernelRange(c.what, c.addr, c.addr+c.size, memSize); err != nil {
			return nil, 0, err
		}
		regs = append(regs, Region{Start: c.addr, End: c.addr + c.size, What: c.what})
		end = max(end, c.addr+c.size)
	}
	return regs, end, nil
}

// writeChunks copies the chunks into guest memory, zero-filling each past its data.
func writeChunks(mem *mmu.Memory, chunks []chunk) error {
	for _, c := range chunks {
		dst, err := mem.Slice(mmu.GPA(c.addr), c.size)
		if err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
		n := copy(dst, c.data)
		clear(dst[n:])
		mem.NoteWrite(mmu.GPA(c.addr), c.size)
	}
	return nil
}

// placeLoaderArea finds room for size bytes of loader data below 0x80000
// that no kernel region overlaps, preferring 0x9000.
func placeLoaderArea(size uint64, busy []Region) (uint64, error) {
	cands := []uint64{loaderPrefer, loaderMin}
	for _, r := range busy {
		cands = append(cands, (r.End+15)&^15)
	}
	slices.Sort(cands[1:])
	for _, c := range cands {
		if c < loaderMin || c+size > loaderLimit {
			continue
		}
		free := true
		for _, r := range busy {
			if c < r.End && r.Start < c+size {
				free = false
				break
			}
		}
		if free {
			return c, nil
		}
	}
	return 0, fmt.Errorf("no room below %#x beside the kernel for the loader's %d bytes (GDT, boot information, command line, module strings)",
		loaderLimit, size)
}

// checkEntry refuses an entry point outside RAM.
func checkEntry(entry, memSize uint64) error {
	if entry >= memSize {
		return fmt.Errorf("entry point %#x is outside RAM (%#x bytes)", entry, memSize)
	}
	return nil
}

// loadMultiboot loads a multiboot 1 kernel (Multiboot 0.6.96 §3) and its
// modules, writes the boot information, and returns the §3.2 machine state.
func loadMultiboot(mem *mmu.Memory, img []byte, h mbHeader, opts Options, memSize uint64) (cpu.State, *BootInfo, error) {
	if unk := h.flags & 0xFFFF &^ mbKnownRequired; unk != 0 {
		return cpu.State{}, nil, fmt.Errorf("multiboot header at offset %#x requires unsupported features (flags %#x)", h.offset, unk)
	}
	var (
		chunks []chunk
		entry  uint64
		format string
	)
	switch {
	case h.flags&mbFlagAout != 0:
		var err error
		chunks, entry, err = aoutChunks(img, h)
		if err != nil {
			return cpu.State{}, nil, err
		}
		format = "multiboot (a.out kludge)"
	case isELF(img):
		e, err := parseELF32(img)
		if err != nil {
			return cpu.State{}, nil, err
		}
		chunks, entry = e.chunks(img), e.physEntry()
		format = "multiboot (ELF)"
	default:
		return cpu.State{}, nil, fmt.Errorf("multiboot header at offset %#x has no address fields (flag 16) and the file is not ELF", h.offset)
	}
	regs, kernelEnd, err := checkChunks(chunks, memSize)
	if err != nil {
		return cpu.State{}, nil, err
	}
	if err := checkEntry(entry, memSize); err != nil {
		return cpu.State{}, nil, err
	}

	// The loader's data: its size depends on the strings, not on addresses.
	mods := make([]placedModule, len(opts.Modules))
	for i, m := range opts.Modules {
		mods[i].str = m.Cmdline
		if mods[i].str == "" {
			mods[i].str = m.Name
		}
	}
	cmdline := opts.Cmdline
	if opts.Path != "" {
		cmdline = strings.TrimSpace(opts.Path + " " + cmdline)
	}
	probe, _, _ := multibootArea(0, memSize, cmdline, mods)
	base, err := placeLoaderArea(uint64(len(probe)), regs)
	if err != nil {
		return cpu.State{}, nil, err
	}
	areaEnd := base + uint64(len(probe))

	// Modules: page-aligned (§3.1.2 bit 0) above the kernel and the loader data.
	bi := &BootInfo{Kind: KindMultiboot, Format: format, Entry: entry, MemSize: memSize, KernelEnd: kernelEnd}
	next := max(kernelEnd, areaEnd)
	modChunks := make([]chunk, len(opts.Modules))
	for i, m := range opts.Modules {
		start := (next + mmu.PageSize - 1) &^ (mmu.PageSize - 1)
		n := uint64(len(m.Data))
		if start < highStart && start+n > ebdaBase&^(mmu.PageSize-1) {
			start = highStart
		}
		end := start + n
		if end > memSize || end >= 1<<32 { // mod_end is 32 bits
			return cpu.State{}, nil, fmt.Errorf("module %q (%d bytes) does not fit at %#x in RAM (%#x bytes)", m.Name, n, start, memSize)
		}
		mods[i].start, mods[i].end = uint32(start), uint32(end)
		modChunks[i] = chunk{what: fmt.Sprintf("module %q", m.Name), addr: start, data: m.Data, size: n}
		bi.Modules = append(bi.Modules, LoadedModule{Name: m.Name, Start: uint32(start), End: uint32(end), String: mods[i].str})
		next = end
	}
	area, gdtOff, infoOff := multibootArea(uint32(base), memSize, cmdline, mods)

	if err := writeChunks(mem, chunks); err != nil {
		return cpu.State{}, nil, err
	}
	if err := writeChunks(mem, modChunks); err != nil {
		return cpu.State{}, nil, err
	}
	if err := mem.WriteAt(mmu.GPA(base), area); err != nil {
		return cpu.State{}, nil, fmt.Errorf("boot information: %w", err)
	}

	bi.InfoAddr = base + uint64(infoOff)
	bi.GDTAddr = base + uint64(gdtOff)
	bi.Regions = append(regs, Region{Start: base, End: areaEnd, What: "GDT and boot information"})
	for _, c := range modChunks {
		bi.Regions = append(bi.Regions, Region{Start: c.addr, End: c.addr + c.size, What: c.what})
	}

	// Machine state at entry (§3.2): EAX magic, EBX the information, flat
	// protected mode, paging and interrupts off.
	st := cpu.FlatProtectedState(uint32(entry))
	st.GPR[cpu.EAX] = mbBootMagic
	st.GPR[cpu.EBX] = bi.InfoAddr
	st.GDTR = cpu.DTR{Base: bi.GDTAddr, Limit: gdtSize - 1}
	return st, bi, nil
}

// loadELF loads an ELF32 executable by its program headers and enters it in
// flat protected mode, with GDTR on a flat GDT.
func loadELF(mem *mmu.Memory, img []byte, memSize uint64) (cpu.State, *BootInfo, error) {
	e, err := parseELF32(img)
	if err != nil {
		return cpu.State{}, nil, err
	}
	chunks := e.chunks(img)
	regs, kernelEnd, err := checkChunks(chunks, memSize)
	if err != nil {
		return cpu.State{}, nil, err
	}
	entry := e.physEntry()
	if err := checkEntry(entry, memSize); err != nil {
		return cpu.State{}, nil, err
	}
	base, err := placeLoaderArea(gdtSize, regs)
	if err != nil {
		return cpu.State{}, nil, err
	}
	if err := writeChunks(mem, chunks); err != nil {
		return cpu.State{}, nil, err
	}
	gdt := make([]byte, gdtSize)
	putGDT(gdt)
	if err := mem.WriteAt(mmu.GPA(base), gdt); err != nil {
		return cpu.State{}, nil, fmt.Errorf("GDT: %w", err)
	}
	bi := &BootInfo{
		Kind: KindELF, Format: "ELF32", Entry: entry, MemSize: memSize, KernelEnd: kernelEnd, GDTAddr: base,
		Regions: append(regs, Region{Start: base, End: base + gdtSize, What: "GDT"}),
	}
	st := cpu.FlatProtectedState(uint32(entry))
	st.GDTR = cpu.DTR{Base: base, Limit: gdtSize - 1}
	return st, bi, nil
}

// loadFlat loads a flat binary at 0000:7C00 and installs the BIOS so that it
// initialises the machine and then enters the image like a boot sector.
func loadFlat(mem *mmu.Memory, img []byte, memSize uint64) (cpu.State, *BootInfo, error) {
	if len(img) == 0 {
		return cpu.State{}, nil, fmt.Errorf("empty image")
	}
	if len(img) > flatMax {
		return cpu.State{}, nil, fmt.Errorf("flat binary is %d bytes; at most %d fit between %#x and the EBDA at %#x",
			len(img), flatMax, flatBase, ebdaBase)
	}
	st, err := InstallBIOS(mem, memSize, false)
	if err != nil {
		return cpu.State{}, nil, err
	}
	if err := mem.WriteAt(flatBase, img); err != nil {
		return cpu.State{}, nil, err
	}
	bi := &BootInfo{
		Kind: KindFlat, Format: "flat binary", Entry: flatBase, MemSize: memSize,
		KernelEnd: flatBase + uint64(len(img)),
		Regions: []Region{
			{Start: flatBase, End: flatBase + uint64(len(img)), What: "flat binary"},
			{Start: BIOSBase, End: BIOSBase + BIOSSize, What: "BIOS"},
		},
	}
	return st, bi, nil
}
