package firmware

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// The Linux/x86 boot protocol (Documentation/x86/boot.rst, "The Linux/x86
// Boot Protocol"; struct boot_params in Documentation/x86/zero-page.rst and
// arch/x86/include/uapi/asm/bootparam.h). gemu skips the real-mode setup
// code and enters the protected-mode kernel directly, through the "32-bit
// BOOT PROTOCOL" or the "64-bit BOOT PROTOCOL".

// Setup header fields, at the same offsets in the image and in boot_params
// (boot.rst "THE REAL-MODE KERNEL HEADER"); the protocol version that
// introduced each is noted where it is above 2.00.
const (
	hdrStart           = 0x1F1 // setup_sects: the header starts here
	hdrSyssize         = 0x1F4 // 32 bits from 2.04
	hdrVidMode         = 0x1FA
	hdrBootFlag        = 0x1FE // 0xAA55
	hdrJump            = 0x200 // 2-byte jump; its offset byte at 0x201 gives the header's end
	hdrMagic           = 0x202 // "HdrS"
	hdrVersion         = 0x206
	hdrKernelVersion   = 0x20E // string at this value + 0x200
	hdrTypeOfLoader    = 0x210
	hdrLoadflags       = 0x211
	hdrCode32Start     = 0x214
	hdrRamdiskImage    = 0x218
	hdrRamdiskSize     = 0x21C
	hdrHeapEndPtr      = 0x224 // 2.01
	hdrCmdLinePtr      = 0x228 // 2.02
	hdrInitrdAddrMax   = 0x22C // 2.03
	hdrKernelAlignment = 0x230 // 2.05
	hdrRelocatable     = 0x234 // 2.05
	hdrMinAlignment    = 0x235 // 2.10
	hdrXloadflags      = 0x236 // 2.12
	hdrCmdlineSize     = 0x238 // 2.06
	hdrPayloadOffset   = 0x248 // 2.08
	hdrPayloadLength   = 0x24C // 2.08
	hdrPrefAddress     = 0x258 // 2.10
	hdrInitSize        = 0x260 // 2.10
	hdrLimit           = 0x290 // struct setup_header and its padding end here in boot_params

	loadedHigh   = 1 << 0 // loadflags LOADED_HIGH: protected-mode code at 0x100000
	canUseHeap   = 1 << 7 // loadflags CAN_USE_HEAP: heap_end_ptr is valid
	xlfKernel64  = 1 << 0 // xloadflags XLF_KERNEL_64: 64-bit entry at load address + 0x200
	linuxMinProt = 0x0206 // cmdline_size (2.06) is the newest field this loader relies on
	// loaderUndefined is type_of_loader 0xFF: "undefined" boot loader (boot.rst, type_of_loader).
	loaderUndefined = 0xFF
	heapEnd         = 0xFE00 - 0x200 // heap_end_ptr as boot.rst suggests for a full 64 KiB setup segment
	// startup64 is the 64-bit entry's offset in the protected-mode kernel (boot.rst "64-bit BOOT PROTOCOL").
	startup64 = 0x200
)

// struct boot_params fields outside the setup header (zero-page.rst).
const (
	bpExtMemK         = 0x002 // screen_info.ext_mem_k
	bpACPIRSDP        = 0x070 // acpi_rsdp_addr
	bpExtRamdiskImage = 0x0C0
	bpExtRamdiskSize  = 0x0C4
	bpExtCmdLinePtr   = 0x0C8
	bpAltMemK         = 0x1E0
	bpE820Entries     = 0x1E8
	bpE820Table       = 0x2D0 // struct boot_e820_entry {u64 addr, size; u32 type} packed, 20 bytes
	bpE820Max         = 128   // E820_MAX_ENTRIES_ZEROPAGE
	bpSize            = 4096
)

// Where LoadLinux and LoadPVH put their data below 1 MiB: above the IVT and
// BDA (page 0), below the EBDA and BIOS area (0x9FC00 and up).
const (
	bootStackTop  = 0x6000 // RSP/ESP at entry; the stack grows down into 0x1000-0x6000
	bootGDTAddr   = 0x6000 // GDT: null, null, __BOOT_CS 0x10, __BOOT_DS 0x18
	zeroPageAddr  = 0x7000 // struct boot_params, or PVH's hvm_start_info and tables
	pageTableAddr = 0x9000 // PML4, PDPT and four page directories: 0x9000-0xF000
	pageTableSize = 6 * mmu.PageSize
	cmdlineAddr   = 0x20000 // command line, up to the EBDA
	cmdlineMax    = ebdaBase - cmdlineAddr
	defaultAlign  = 2 << 20
	bzImageLoad   = 0x100000 // a bzImage's protected-mode code, if not relocated (boot.rst "LOADING THE REST OF THE KERNEL")
	relocFloor    = 16 << 20 // a relocated kernel goes at or above 16 MiB
)

// Platform is what the machine adds to a Linux or PVH boot.
type Platform struct {
	// Reserved ranges are marked reserved in the memory map the kernel gets
	// (ACPI tables, MP table, …) and are kept clear of the kernel and initrd.
	Reserved []Region
	// RSDP is the ACPI root pointer's address: boot_params.acpi_rsdp_addr or
	// hvm_start_info.rsdp_paddr. 0 lets the kernel scan the EBDA and BIOS area.
	RSDP uint64
	// Entry32 enters a 64-bit bzImage through its 32-bit entry anyway.
	Entry32 bool
}

// LinuxHeader is what LoadLinux reads from a bzImage's setup header.
type LinuxHeader struct {
	Protocol        uint16 // e.g. 0x020F for 2.15
	SetupSects      int    // 512-byte sectors of real-mode setup after the boot sector
	KernelVersion   string // from kernel_version, "" if none
	Loadflags       uint8
	Xloadflags      uint16 // 2.12
	Code32Start     uint32
	InitrdAddrMax   uint32 // 2.03
	KernelAlignment uint32 // 2.05
	Relocatable     bool   // 2.05
	CmdlineSize     uint32 // 2.06
	PrefAddress     uint64 // 2.10; 0x100000 before
	InitSize        uint32 // 2.10; the kernel's size before
	PayloadOffset   uint32 // 2.08: the compressed kernel, from the protected-mode code's start
	PayloadLength   uint32
	headerEnd       int    // 0x202 + the byte at 0x201, at most hdrLimit
	kernel          []byte // the protected-mode code
}

// ProtocolString is the protocol version as boot.rst writes it ("2.15").
func (h *LinuxHeader) ProtocolString() string {
	return fmt.Sprintf("%d.%02d", h.Protocol>>8, h.Protocol&0xFF)
}

// Kernel is the protected-mode part of the image.
func (h *LinuxHeader) Kernel() []byte { return h.kernel }

// Payload is the compressed kernel (2.08 payload_offset/payload_length), nil
// if the header has none or it lies outside the image.
func (h *LinuxHeader) Payload() []byte {
	off, n := uint64(h.PayloadOffset), uint64(h.PayloadLength)
	if h.Protocol < 0x0208 || n == 0 || off+n > uint64(len(h.kernel)) {
		return nil
	}
	return h.kernel[off : off+n]
}

// ParseLinuxHeader checks a bzImage's setup header (boot.rst "THE REAL-MODE
// KERNEL HEADER", protocol 2.06 and later) and returns its fields.
func ParseLinuxHeader(img []byte) (*LinuxHeader, error) {
	le := binary.LittleEndian
	if len(img) < hdrVersion+2 {
		return nil, fmt.Errorf("truncated bzImage: %d bytes, the setup header needs at least %d", len(img), hdrVersion+2)
	}
	if string(img[hdrMagic:hdrMagic+4]) != "HdrS" {
		return nil, fmt.Errorf("bad bzImage magic: %q at 0x202, want \"HdrS\"", img[hdrMagic:hdrMagic+4])
	}
	if f := le.Uint16(img[hdrBootFlag:]); f != 0xAA55 {
		return nil, fmt.Errorf("bad bzImage boot_flag %#04x at 0x1fe, want 0xaa55", f)
	}
	h := &LinuxHeader{Protocol: le.Uint16(img[hdrVersion:])}
	if h.Protocol < linuxMinProt {
		return nil, fmt.Errorf("Linux boot protocol %s is too old: need 2.06 or later", h.ProtocolString())
	}
	h.SetupSects = int(img[hdrStart])
	if h.SetupSects == 0 {
		h.SetupSects = 4 // boot.rst setup_sects: "if this field is 0, the real value is 4"
	}
	setupSize := (h.SetupSects + 1) * 512
	if len(img) < setupSize {
		return nil, fmt.Errorf("truncated bzImage: %d bytes, the boot sector and %d setup sectors need %d", len(img), h.SetupSects, setupSize)
	}
	h.kernel = img[setupSize:]
	if sys := uint64(le.Uint32(img[hdrSyssize:])) * 16; sys > uint64(len(h.kernel)) {
		return nil, fmt.Errorf("truncated bzImage: the protected-mode kernel is %d bytes, syssize says %d", len(h.kernel), sys)
	}
	if len(h.kernel) == 0 {
		return nil, fmt.Errorf("truncated bzImage: no protected-mode kernel after the %d setup sectors", h.SetupSects)
	}
	h.headerEnd = min(hdrMagic+int(img[hdrJump+1]), hdrLimit)
	h.Loadflags = img[hdrLoadflags]
	if h.Loadflags&loadedHigh == 0 {
		return nil, fmt.Errorf("zImage (loadflags LOADED_HIGH clear) is not supported, only bzImage")
	}
	h.Code32Start = le.Uint32(img[hdrCode32Start:])
	h.InitrdAddrMax = le.Uint32(img[hdrInitrdAddrMax:])
	h.KernelAlignment = le.Uint32(img[hdrKernelAlignment:])
	h.Relocatable = img[hdrRelocatable] != 0
	h.CmdlineSize = le.Uint32(img[hdrCmdlineSize:])
	h.PrefAddress = bzImageLoad
	h.InitSize = uint32(min(len(h.kernel), 0xFFFFFFFF))
	if h.Protocol >= 0x0208 {
		h.PayloadOffset = le.Uint32(img[hdrPayloadOffset:])
		h.PayloadLength = le.Uint32(img[hdrPayloadLength:])
	}
	if h.Protocol >= 0x020A {
		if p := le.Uint64(img[hdrPrefAddress:]); p != 0 {
			h.PrefAddress = p
		}
		if h.PrefAddress >= 1<<32 {
			return nil, fmt.Errorf("bzImage pref_address %#x is above 4 GiB", h.PrefAddress)
		}
		h.InitSize = max(h.InitSize, le.Uint32(img[hdrInitSize:]))
		if a := img[hdrMinAlignment]; h.KernelAlignment == 0 && a != 0 && a < 32 {
			h.KernelAlignment = 1 << a
		}
	}
	if h.Protocol >= 0x020C {
		h.Xloadflags = le.Uint16(img[hdrXloadflags:])
	}
	if v := int(le.Uint16(img[hdrKernelVersion:])); v != 0 && v+0x200 < setupSize {
		s := img[v+0x200 : setupSize]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			h.KernelVersion = string(s[:i])
		}
	}
	return h, nil
}

// LoadLinux loads a bzImage, its initrd and command line into mem and
// returns the CPU state of boot.rst's "64-bit BOOT PROTOCOL" (when
// XLF_KERNEL_64 says the kernel has that entry, unless plat.Entry32) or its
// "32-bit BOOT PROTOCOL". memSize 0 means all of mem. Errors are one line.
func LoadLinux(mem *mmu.Memory, image, initrd []byte, cmdline string, memSize uint64, plat Platform) (cpu.State, *BootInfo, error) {
	memSize, err := resolveMemSize(mem, memSize)
	if err != nil {
		return cpu.State{}, nil, err
	}
	h, err := ParseLinuxHeader(image)
	if err != nil {
		return cpu.State{}, nil, err
	}
	if uint64(len(cmdline)) > uint64(h.CmdlineSize) {
		return cpu.State{}, nil, fmt.Errorf("command line is %d bytes, the kernel takes at most %d (cmdline_size)", len(cmdline), h.CmdlineSize)
	}
	if err := checkCmdline(cmdline); err != nil {
		return cpu.State{}, nil, err
	}
	e820, err := platformE820(memSize, plat.Reserved)
	if err != nil {
		return cpu.State{}, nil, err
	}
	long := h.Xloadflags&xlfKernel64 != 0 && !plat.Entry32
	low := lowRegions(long, cmdline)
	if err := checkLowRegions(low, e820); err != nil {
		return cpu.State{}, nil, err
	}

	// The kernel: a relocatable one at pref_address (aligned) or, if that
	// range is not free RAM, at the first aligned free address above; a
	// fixed one at 0x100000, from where it moves itself to pref_address.
	// Either way it needs init_size bytes from its runtime start (boot.rst,
	// init_size).
	load, runtime, err := placeKernel(h, memSize, e820)
	if err != nil {
		return cpu.State{}, nil, err
	}
	kStart := min(load, runtime)
	kEnd := max(load+uint64(len(h.kernel)), runtime+uint64(h.InitSize))
	regs := []Region{{Start: load, End: load + uint64(len(h.kernel)), What: "Linux kernel"}}

	// The initrd: as high as it goes below initrd_addr_max (boot.rst,
	// initrd_addr_max: the highest address it may occupy), RAM's end and 4 GiB.
	var rdAddr uint64
	if len(initrd) > 0 {
		limit := min(uint64(h.InitrdAddrMax)+1, memSize, 1<<32)
		rdAddr, err = placeHigh(uint64(len(initrd)), limit, e820, Region{Start: kStart, End: kEnd})
		if err != nil {
			return cpu.State{}, nil, fmt.Errorf("initrd (%d bytes) does not fit below %#x (initrd_addr_max %#x, RAM %#x bytes) beside the kernel at %#x-%#x",
				len(initrd), limit, h.InitrdAddrMax, memSize, kStart, kEnd)
		}
		regs = append(regs, Region{Start: rdAddr, End: rdAddr + uint64(len(initrd)), What: "initrd"})
	}

	zp := buildZeroPage(h, image, e820, memSize, plat.RSDP, load, rdAddr, uint64(len(initrd)))
	if err := mem.WriteAt(mmu.GPA(load), h.kernel); err != nil {
		return cpu.State{}, nil, fmt.Errorf("Linux kernel: %w", err)
	}
	if err := mem.WriteAt(mmu.GPA(rdAddr), initrd); err != nil {
		return cpu.State{}, nil, fmt.Errorf("initrd: %w", err)
	}
	if err := writeLow(mem, long, zp, cmdline); err != nil {
		return cpu.State{}, nil, err
	}

	bi := &BootInfo{
		Kind: KindLinux, MemSize: memSize, KernelEnd: kEnd, InfoAddr: zeroPageAddr, GDTAddr: bootGDTAddr,
		Regions: append(regs, low...),
	}
	var st cpu.State
	if long {
		bi.Entry = load + startup64
		st = longModeState(bi.Entry)
		st.GPR[cpu.ESI] = zeroPageAddr
	} else {
		bi.Entry = load
		st = cpu.FlatProtectedState(uint32(load))
		st.GPR[cpu.ESI] = zeroPageAddr // %ebp, %edi and %ebx zero (boot.rst "32-bit BOOT PROTOCOL")
		st.GPR[cpu.ESP] = bootStackTop
		st.GDTR = cpu.DTR{Base: bootGDTAddr, Limit: gdtSize - 1}
		st.IDTR = cpu.DTR{}
	}
	entry := "32-bit"
	if long {
		entry = "64-bit"
	}
	bi.Format = fmt.Sprintf("Linux bzImage, boot protocol %s, %s entry", h.ProtocolString(), entry)
	if h.KernelVersion != "" {
		bi.Format += fmt.Sprintf(", %q", h.KernelVersion)
	}
	return st, bi, nil
}

// checkCmdline refuses a command line with a NUL, which would cut it short.
func checkCmdline(cmdline string) error {
	if i := bytes.IndexByte([]byte(cmdline), 0); i >= 0 {
		return fmt.Errorf("command line has a NUL byte at offset %d", i)
	}
	if len(cmdline) >= cmdlineMax {
		return fmt.Errorf("command line is %d bytes, at most %d fit below the EBDA", len(cmdline), cmdlineMax-1)
	}
	return nil
}

// lowRegions are the loader's data below 1 MiB.
func lowRegions(long bool, cmdline string) []Region {
	r := []Region{
		{Start: bootGDTAddr, End: bootGDTAddr + gdtSize, What: "GDT"},
		{Start: zeroPageAddr, End: zeroPageAddr + bpSize, What: "boot_params (zero page)"},
		{Start: cmdlineAddr, End: cmdlineAddr + uint64(len(cmdline)) + 1, What: "command line"},
	}
	if long {
		r = append(r, Region{Start: pageTableAddr, End: pageTableAddr + pageTableSize, What: "page tables"})
	}
	return r
}

// checkLowRegions refuses a memory map in which the loader's data would not
// be in usable RAM (a reserved range the machine put over it).
func checkLowRegions(low []Region, e820 []E820Entry) error {
	for _, r := range low {
		if !usableRAM(e820, r.Start, r.End) {
			return fmt.Errorf("the %s at %#x-%#x is not in usable RAM (a reserved range covers it)", r.What, r.Start, r.End)
		}
	}
	return nil
}

// placeKernel returns the load address and the runtime start (boot.rst,
// init_size: "if relocatable_kernel: runtime_start = align_up(max(load,
// pref_address), kernel_alignment), else pref_address").
func placeKernel(h *LinuxHeader, memSize uint64, e820 []E820Entry) (load, runtime uint64, err error) {
	size, init := uint64(len(h.kernel)), uint64(h.InitSize) // init_size ≥ size
	if !h.Relocatable {
		load, runtime = bzImageLoad, h.PrefAddress
		if !usableRAM(e820, load, load+size) || runtime < highStart || !usableRAM(e820, runtime, runtime+init) || runtime+init > 1<<32 {
			return 0, 0, fmt.Errorf("non-relocatable kernel (%d bytes at %#x, init_size %#x at %#x) does not fit in RAM (%#x bytes)",
				size, load, init, runtime, memSize)
		}
		return load, runtime, nil
	}
	align := uint64(h.KernelAlignment)
	if align == 0 || align&(align-1) != 0 {
		align = defaultAlign
	}
	limit := min(memSize, 1<<32)
	if a := alignUp(h.PrefAddress, align); a >= highStart && a+init <= limit && usableRAM(e820, a, a+init) {
		return a, a, nil
	}
	// Relocate: the first aligned address at or above 16 MiB (and above
	// pref_address) whose init_size range is free RAM. Usable RAM is merged
	// in the map, so the range must lie within one entry.
	floor := max(h.PrefAddress+1, relocFloor)
	for _, e := range e820 {
		if e.Type != E820RAM || e.End() <= floor {
			continue
		}
		if a := alignUp(max(e.Base, floor), align); a >= floor && a+init <= min(e.End(), limit) {
			return a, a, nil
		}
	}
	return 0, 0, fmt.Errorf("kernel does not fit: it needs %#x bytes (init_size) at %#x or above, aligned to %#x, in RAM of %#x bytes below 4 GiB",
		init, h.PrefAddress, align, memSize)
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// placeHigh returns the highest page-aligned address below limit where size
// bytes lie in usable RAM above 1 MiB and clear of avoid.
func placeHigh(size, limit uint64, e820 []E820Entry, avoid Region) (uint64, error) {
	var best uint64
	found := false
	try := func(lo, hi uint64) { // a free interval [lo, hi)
		hi = min(hi, limit)
		lo = max(lo, highStart)
		if hi < lo || hi-lo < size {
			return
		}
		a := (hi - size) &^ (mmu.PageSize - 1)
		if a >= lo && (!found || a > best) {
			best, found = a, true
		}
	}
	for _, e := range e820 {
		if e.Type != E820RAM {
			continue
		}
		lo, hi := e.Base, e.End()
		if avoid.Start < hi && lo < avoid.End {
			try(lo, avoid.Start)
			try(avoid.End, hi)
			continue
		}
		try(lo, hi)
	}
	if !found {
		return 0, fmt.Errorf("no room")
	}
	return best, nil
}

// buildZeroPage is struct boot_params (zero-page.rst): zeros, then the
// image's setup header at 0x1F1 (boot.rst "64-bit BOOT PROTOCOL": copy it up
// to 0x202 + the byte at 0x201), then what the loader must fill in.
func buildZeroPage(h *LinuxHeader, img []byte, e820 []E820Entry, memSize, rsdp, load, rdAddr, rdSize uint64) []byte {
	le := binary.LittleEndian
	bp := make([]byte, bpSize)
	copy(bp[hdrStart:h.headerEnd], img[hdrStart:h.headerEnd])

	le.PutUint16(bp[hdrVidMode:], 0xFFFF) // vid_mode "normal"
	bp[hdrTypeOfLoader] = loaderUndefined
	bp[hdrLoadflags] = h.Loadflags | canUseHeap
	le.PutUint16(bp[hdrHeapEndPtr:], heapEnd)
	le.PutUint32(bp[hdrCode32Start:], uint32(load)) // the 32-bit entry: the load address
	le.PutUint32(bp[hdrCmdLinePtr:], cmdlineAddr)
	le.PutUint32(bp[hdrRamdiskImage:], uint32(rdAddr))
	le.PutUint32(bp[hdrRamdiskSize:], uint32(rdSize))
	le.PutUint32(bp[bpExtRamdiskImage:], uint32(rdAddr>>32))
	le.PutUint32(bp[bpExtRamdiskSize:], uint32(rdSize>>32))
	le.PutUint32(bp[bpExtCmdLinePtr:], 0)
	le.PutUint64(bp[bpACPIRSDP:], rsdp)

	// Memory sizes for kernels that do not read the e820 table; screen_info
	// stays zero (no VGA text mode: orig_video_mode, _cols and _lines all 0).
	extK := uint64(0)
	if memSize > highStart {
		extK = (memSize - highStart) / 1024
	}
	le.PutUint16(bp[bpExtMemK:], uint16(min(extK, 0xFC00)))
	le.PutUint32(bp[bpAltMemK:], uint32(min(extK, 0xFFFFFFFF)))

	bp[bpE820Entries] = byte(len(e820))
	for i, e := range e820 {
		p := bp[bpE820Table+20*i:]
		le.PutUint64(p[0:], e.Base)
		le.PutUint64(p[8:], e.Length)
		le.PutUint32(p[16:], uint32(e.Type))
	}
	return bp
}

// writeLow writes the GDT, the zero page (or any block at zeroPageAddr),
// the command line and, for the 64-bit entry, the page tables.
func writeLow(mem *mmu.Memory, long bool, info []byte, cmdline string) error {
	gdt := make([]byte, gdtSize)
	putGDT(gdt)
	if long {
		// __BOOT_CS: 64-bit code (L=1, D=0), base 0, limit 4 GiB, execute/read.
		binary.LittleEndian.PutUint64(gdt[0x10:], 0x00AF9B000000FFFF)
	}
	if err := mem.WriteAt(bootGDTAddr, gdt); err != nil {
		return fmt.Errorf("GDT: %w", err)
	}
	if err := mem.WriteAt(zeroPageAddr, info); err != nil {
		return fmt.Errorf("boot information: %w", err)
	}
	if err := mem.WriteAt(cmdlineAddr, append([]byte(cmdline), 0)); err != nil {
		return fmt.Errorf("command line: %w", err)
	}
	if long {
		if err := mem.WriteAt(pageTableAddr, identityPageTables(pageTableAddr)); err != nil {
			return fmt.Errorf("page tables: %w", err)
		}
	}
	return nil
}

// identityPageTables maps [0, 4 GiB) 1:1 with 2 MiB pages, writable,
// supervisor (SDM Vol. 3A §4.5): a PML4 at base, a PDPT at base+4 KiB and
// four page directories after it. 1 GiB pages would be shorter, but not
// every CPU model has them (CPUID.80000001H:EDX.Page1GB).
func identityPageTables(base uint64) []byte {
	le := binary.LittleEndian
	const p, rw, ps = 1 << 0, 1 << 1, 1 << 7
	t := make([]byte, pageTableSize)
	le.PutUint64(t[0:], base+0x1000|p|rw)
	for i := range uint64(4) {
		le.PutUint64(t[0x1000+8*i:], base+0x2000+0x1000*i|p|rw)
		for j := range uint64(512) {
			le.PutUint64(t[0x2000+0x1000*i+8*j:], i<<30|j<<21|p|rw|ps)
		}
	}
	return t
}

// longModeState is boot.rst's "64-bit BOOT PROTOCOL" state: 64-bit mode,
// paging on with the identity map at pageTableAddr, CS = __BOOT_CS (0x10),
// DS = ES = SS = __BOOT_DS (0x18), interrupts off. The caller sets RSI.
func longModeState(entry uint64) cpu.State {
	st := cpu.FlatProtectedState(0)
	st.Seg[cpu.CS] = cpu.Segment{Selector: 0x10, Limit: 0xFFFFFFFF,
		Access: cpu.AccP | cpu.AccS | cpu.AccCode | cpu.AccWritable | cpu.AccAccessed | cpu.AccL | cpu.AccG}
	st.EIP = entry
	st.CR0 = cpu.CR0PE | cpu.CR0ET | cpu.CR0PG
	st.CR3 = pageTableAddr
	st.CR4 = cpu.CR4PAE
	st.EFER = cpu.EFERLME | cpu.EFERLMA
	st.GPR[cpu.ESP] = bootStackTop
	st.GDTR = cpu.DTR{Base: bootGDTAddr, Limit: gdtSize - 1}
	st.IDTR = cpu.DTR{} // a fault before the kernel loads its IDT shuts down
	return st
}

// platformE820 is E820(memSize) with the machine's reserved ranges painted
// over it: a range is reserved if any reserved entry or region covers it,
// else usable if RAM covers it; adjacent ranges of one type merge.
func platformE820(memSize uint64, reserved []Region) ([]E820Entry, error) {
	base := E820(memSize)
	if len(reserved) == 0 {
		return base, nil
	}
	type span struct {
		start, end uint64
		typ        E820Type
	}
	var spans []span
	for _, e := range base {
		spans = append(spans, span{e.Base, e.End(), e.Type})
	}
	for _, r := range reserved {
		if r.End <= r.Start {
			return nil, fmt.Errorf("reserved range %q %#x-%#x is empty or inverted", r.What, r.Start, r.End)
		}
		spans = append(spans, span{r.Start, r.End, E820Reserved})
	}
	var cuts []uint64
	for _, s := range spans {
		cuts = append(cuts, s.start, s.end)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var m []E820Entry
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]
		var typ E820Type
		for _, s := range spans {
			if s.start <= lo && hi <= s.end && (typ == 0 || s.typ == E820Reserved) {
				typ = s.typ
			}
		}
		if typ == 0 {
			continue
		}
		if n := len(m); n > 0 && m[n-1].Type == typ && m[n-1].End() == lo {
			m[n-1].Length += hi - lo
			continue
		}
		m = append(m, E820Entry{Base: lo, Length: hi - lo, Type: typ})
	}
	if len(m) > bpE820Max {
		return nil, fmt.Errorf("the memory map has %d entries, boot_params holds %d", len(m), bpE820Max)
	}
	return m, nil
}

// usableRAM reports whether [start, end) is all usable RAM in the sorted map.
func usableRAM(m []E820Entry, start, end uint64) bool {
	if end < start {
		return false
	}
	cur := start
	for _, e := range m {
		if cur >= end {
			break
		}
		if e.Type == E820RAM && e.Base <= cur && cur < e.End() {
			cur = e.End()
		}
	}
	return cur >= end
}
