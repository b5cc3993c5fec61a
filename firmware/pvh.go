package firmware

import (
	"encoding/binary"
	"fmt"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// The PVH direct boot ABI (Xen docs/misc/pvh.pandoc; structures from
// xen/include/public/arch-x86/hvm/start_info.h): the loader puts an
// uncompressed kernel's ELF segments at their physical addresses and jumps
// to the address of its XEN_ELFNOTE_PHYS32_ENTRY note in 32-bit protected
// mode, paging off, with EBX pointing at an hvm_start_info.
const (
	elfMachineX8664 = 62 // e_machine: EM_X86_64
	elfPTNote       = 4  // p_type: PT_NOTE
	elf64EhdrSize   = 64
	elf64PhdrSize   = 56

	xenElfnotePhys32Entry = 18 // XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h)

	hvmStartMagic   = 0x336EC578 // XEN_HVM_START_MAGIC_VALUE
	hvmStartVersion = 1          // version 1 adds memmap_paddr and memmap_entries
	hvmStartSize    = 0x38       // struct hvm_start_info, version 1
	hvmModlistSize  = 32         // struct hvm_modlist_entry {paddr, size, cmdline_paddr, reserved}
	hvmMemmapSize   = 24         // struct hvm_memmap_table_entry {addr, size; u32 type, reserved}

	pvhModlistAddr = zeroPageAddr + 0x40
	pvhMemmapAddr  = zeroPageAddr + 0x80 // up to 128 entries (platformE820's limit): below 0x7C80
	// pvhInitrdMax is QEMU's limit for a PVH initrd (it has no setup header
	// to give initrd_addr_max): boot.rst's default 0x37FFFFFF, lowmem for a
	// 32-bit kernel.
	pvhInitrdMax = 0x38000000
)

// elfPhdr is a program header of an ELF32 or ELF64 file.
type elfPhdr struct {
	index                int
	typ                  uint32
	offset, vaddr, paddr uint64
	filesz, memsz        uint64
}

// elfHeaders reads the class, entry and program headers of a little-endian
// ELF file (gABI "ELF Header", "Program Header"), checking every bound.
func elfHeaders(img []byte) (class byte, entry uint64, phs []elfPhdr, err error) {
	le := binary.LittleEndian
	if len(img) < 16 || !isELF(img) {
		return 0, 0, nil, fmt.Errorf("truncated ELF identification (%d bytes, need 16)", len(img))
	}
	class = img[4]
	if img[5] != elfDataLSB {
		return 0, 0, nil, fmt.Errorf("ELF data encoding %d is not little-endian", img[5])
	}
	var phoff, phentsize, phnum, minPh uint64
	switch class {
	case elfClass32:
		if len(img) < elf32EhdrSize {
			return 0, 0, nil, fmt.Errorf("truncated ELF header (%d bytes, need %d)", len(img), elf32EhdrSize)
		}
		entry, phoff = uint64(le.Uint32(img[24:])), uint64(le.Uint32(img[28:]))
		phentsize, phnum, minPh = uint64(le.Uint16(img[42:])), uint64(le.Uint16(img[44:])), elf32PhdrSize
	case elfClass64:
		if len(img) < elf64EhdrSize {
			return 0, 0, nil, fmt.Errorf("truncated ELF64 header (%d bytes, need %d)", len(img), elf64EhdrSize)
		}
		entry, phoff = le.Uint64(img[24:]), le.Uint64(img[32:])
		phentsize, phnum, minPh = uint64(le.Uint16(img[54:])), uint64(le.Uint16(img[56:])), elf64PhdrSize
	default:
		return 0, 0, nil, fmt.Errorf("bad ELF class %d", class)
	}
	if phnum == 0 {
		return 0, 0, nil, fmt.Errorf("ELF file has no program headers")
	}
	if phentsize < minPh {
		return 0, 0, nil, fmt.Errorf("ELF program header size %d is below %d", phentsize, minPh)
	}
	if phoff > uint64(len(img)) || phnum*phentsize > uint64(len(img))-phoff {
		return 0, 0, nil, fmt.Errorf("truncated ELF program headers: %d × %d bytes at offset %#x pass the end of the file (%d bytes)",
			phnum, phentsize, phoff, len(img))
	}
	for i := range phnum {
		p := img[phoff+i*phentsize:]
		ph := elfPhdr{index: int(i), typ: le.Uint32(p)}
		if class == elfClass32 {
			ph.offset, ph.vaddr, ph.paddr = uint64(le.Uint32(p[4:])), uint64(le.Uint32(p[8:])), uint64(le.Uint32(p[12:]))
			ph.filesz, ph.memsz = uint64(le.Uint32(p[16:])), uint64(le.Uint32(p[20:]))
		} else {
			ph.offset, ph.vaddr, ph.paddr = le.Uint64(p[8:]), le.Uint64(p[16:]), le.Uint64(p[24:])
			ph.filesz, ph.memsz = le.Uint64(p[32:]), le.Uint64(p[40:])
		}
		phs = append(phs, ph)
	}
	return class, entry, phs, nil
}

// FindPVHEntry returns the physical entry point of an ELF kernel's
// XEN_ELFNOTE_PHYS32_ENTRY note (name "Xen", type 18, a 32- or 64-bit
// address) in its PT_NOTE segments; ok is false if it has none.
func FindPVHEntry(img []byte) (entry uint64, ok bool) {
	le := binary.LittleEndian
	_, _, phs, err := elfHeaders(img)
	if err != nil {
		return 0, false
	}
	for _, ph := range phs {
		if ph.typ != elfPTNote || ph.offset > uint64(len(img)) || ph.filesz > uint64(len(img))-ph.offset {
			continue
		}
		// Notes: namesz, descsz, type, then name and desc, each padded to 4 bytes.
		n := img[ph.offset : ph.offset+ph.filesz]
		for len(n) >= 12 {
			namesz, descsz, typ := uint64(le.Uint32(n)), uint64(le.Uint32(n[4:])), le.Uint32(n[8:])
			descOff := 12 + (namesz+3)&^3
			next := descOff + (descsz+3)&^3
			if descOff+descsz > uint64(len(n)) {
				break
			}
			name, desc := n[12:12+namesz], n[descOff:descOff+descsz]
			if typ == xenElfnotePhys32Entry && string(name) == "Xen\x00" {
				switch len(desc) {
				case 4:
					return uint64(le.Uint32(desc)), true
				case 8:
					return le.Uint64(desc), true
				}
			}
			if next > uint64(len(n)) {
				break
			}
			n = n[next:]
		}
	}
	return 0, false
}

// parseELF64 checks an ELF64 x86-64 executable and returns its PT_LOAD
// segments, as parseELF32 does for ELF32.
func parseELF64(img []byte) (*elfImage, error) {
	le := binary.LittleEndian
	class, entry, phs, err := elfHeaders(img)
	if err != nil {
		return nil, err
	}
	if class != elfClass64 {
		return nil, fmt.Errorf("ELF class %d is not ELFCLASS64", class)
	}
	if t := le.Uint16(img[16:]); t != elfTypeExec {
		return nil, fmt.Errorf("ELF type %d is not an executable (ET_EXEC)", t)
	}
	if m := le.Uint16(img[18:]); m != elfMachineX8664 {
		return nil, fmt.Errorf("unsupported ELF64 machine %d (want EM_X86_64)", m)
	}
	e := &elfImage{entry: entry}
	for _, ph := range phs {
		if ph.typ != elfPTLoad || ph.memsz == 0 {
			continue
		}
		if ph.filesz > ph.memsz {
			return nil, fmt.Errorf("ELF segment %d: file size %#x exceeds memory size %#x", ph.index, ph.filesz, ph.memsz)
		}
		if ph.offset > uint64(len(img)) || ph.filesz > uint64(len(img))-ph.offset {
			return nil, fmt.Errorf("truncated ELF segment %d: %#x bytes at offset %#x pass the end of the file (%d bytes)",
				ph.index, ph.filesz, ph.offset, len(img))
		}
		if ph.paddr >= 1<<32 || ph.memsz > 1<<32-ph.paddr {
			return nil, fmt.Errorf("ELF segment %d: %#x+%#x passes 4 GiB", ph.index, ph.paddr, ph.memsz)
		}
		e.segs = append(e.segs, elfSegment{index: ph.index, offset: ph.offset, filesz: ph.filesz, memsz: ph.memsz, paddr: ph.paddr, vaddr: ph.vaddr})
	}
	if len(e.segs) == 0 {
		return nil, fmt.Errorf("ELF file has no loadable segments")
	}
	return e, nil
}

// LoadPVH loads an uncompressed ELF kernel (ELF64 x86-64 or ELF32 i386, as
// Linux's vmlinux with CONFIG_PVH) by its PT_LOAD segments' physical
// addresses, with its initrd and command line, and returns the PVH entry
// state: 32-bit protected mode, paging off, flat CS (0x10) and DS/ES/SS
// (0x18), EFLAGS 2, EBX = the hvm_start_info. memSize 0 means all of mem.
func LoadPVH(mem *mmu.Memory, image, initrd []byte, cmdline string, memSize uint64, plat Platform) (cpu.State, *BootInfo, error) {
	memSize, err := resolveMemSize(mem, memSize)
	if err != nil {
		return cpu.State{}, nil, err
	}
	entry, ok := FindPVHEntry(image)
	var e *elfImage
	if len(image) > 4 && image[4] == elfClass64 {
		e, err = parseELF64(image)
	} else {
		e, err = parseELF32(image)
	}
	if err != nil {
		return cpu.State{}, nil, err
	}
	if !ok {
		return cpu.State{}, nil, fmt.Errorf("ELF file has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY: name \"Xen\", type 18)")
	}
	if err := checkCmdline(cmdline); err != nil {
		return cpu.State{}, nil, err
	}
	e820, err := platformE820(memSize, plat.Reserved)
	if err != nil {
		return cpu.State{}, nil, err
	}
	low := lowRegions(false, cmdline)
	low[1].What = "hvm_start_info and memory map"
	if err := checkLowRegions(low, e820); err != nil {
		return cpu.State{}, nil, err
	}

	chunks := e.chunks(image)
	regs, kEnd, err := checkChunks(chunks, memSize)
	if err != nil {
		return cpu.State{}, nil, err
	}
	kStart := uint64(1) << 63
	for _, c := range chunks {
		kStart = min(kStart, c.addr)
		if !usableRAM(e820, c.addr, c.addr+c.size) {
			return cpu.State{}, nil, fmt.Errorf("%s at %#x-%#x is not in usable RAM (a reserved range covers it)", c.what, c.addr, c.addr+c.size)
		}
		for _, r := range low {
			if c.addr < r.End && r.Start < c.addr+c.size {
				return cpu.State{}, nil, fmt.Errorf("%s at %#x-%#x overlaps the loader's %s at %#x-%#x", c.what, c.addr, c.addr+c.size, r.What, r.Start, r.End)
			}
		}
	}
	if entry >= memSize || entry >= 1<<32 {
		return cpu.State{}, nil, fmt.Errorf("PVH entry point %#x is outside RAM (%#x bytes)", entry, memSize)
	}

	var rdAddr uint64
	if len(initrd) > 0 {
		limit := min(memSize, pvhInitrdMax)
		rdAddr, err = placeHigh(uint64(len(initrd)), limit, e820, Region{Start: kStart, End: kEnd})
		if err != nil {
			return cpu.State{}, nil, fmt.Errorf("initrd (%d bytes) does not fit below %#x (RAM %#x bytes) beside the kernel at %#x-%#x",
				len(initrd), limit, memSize, kStart, kEnd)
		}
		regs = append(regs, Region{Start: rdAddr, End: rdAddr + uint64(len(initrd)), What: "initrd"})
	}

	if err := writeChunks(mem, chunks); err != nil {
		return cpu.State{}, nil, err
	}
	if err := mem.WriteAt(mmu.GPA(rdAddr), initrd); err != nil {
		return cpu.State{}, nil, fmt.Errorf("initrd: %w", err)
	}
	if err := writeLow(mem, false, startInfo(e820, plat.RSDP, rdAddr, uint64(len(initrd))), cmdline); err != nil {
		return cpu.State{}, nil, err
	}

	format := "PVH ELF32"
	if image[4] == elfClass64 {
		format = "PVH ELF64"
	}
	bi := &BootInfo{
		Kind: KindPVH, Format: format, Entry: entry, MemSize: memSize, KernelEnd: kEnd,
		InfoAddr: zeroPageAddr, GDTAddr: bootGDTAddr, Regions: append(regs, low...),
	}
	st := cpu.FlatProtectedState(uint32(entry))
	st.GPR[cpu.EBX] = zeroPageAddr
	st.GPR[cpu.ESP] = bootStackTop
	st.GDTR = cpu.DTR{Base: bootGDTAddr, Limit: gdtSize - 1}
	st.IDTR = cpu.DTR{}
	return st, bi, nil
}

// startInfo is the block at zeroPageAddr: struct hvm_start_info (version 1),
// then at +0x40 the module list (the initrd), then at +0x80 the memory map.
func startInfo(e820 []E820Entry, rsdp, rdAddr, rdSize uint64) []byte {
	le := binary.LittleEndian
	b := make([]byte, pvhMemmapAddr-zeroPageAddr+hvmMemmapSize*len(e820))
	le.PutUint32(b[0x00:], hvmStartMagic)
	le.PutUint32(b[0x04:], hvmStartVersion)
	le.PutUint64(b[0x18:], cmdlineAddr) // cmdline_paddr
	le.PutUint64(b[0x20:], rsdp)        // rsdp_paddr
	le.PutUint64(b[0x28:], pvhMemmapAddr)
	le.PutUint32(b[0x30:], uint32(len(e820)))
	if rdSize > 0 {
		le.PutUint32(b[0x0C:], 1) // nr_modules
		le.PutUint64(b[0x10:], pvhModlistAddr)
		m := b[pvhModlistAddr-zeroPageAddr:]
		le.PutUint64(m[0:], rdAddr)
		le.PutUint64(m[8:], rdSize)
	}
	for i, e := range e820 {
		p := b[pvhMemmapAddr-zeroPageAddr+hvmMemmapSize*i:]
		le.PutUint64(p[0:], e.Base)
		le.PutUint64(p[8:], e.Length)
		le.PutUint32(p[16:], uint32(e.Type)) // XEN_HVM_MEMMAP_TYPE_* are the e820 types
	}
	return b
}
