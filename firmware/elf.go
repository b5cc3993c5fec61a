package firmware

import (
	"encoding/binary"
	"fmt"
)

// ELF constants (System V ABI gABI, "ELF Header" and "Program Header").
const (
	elfClass32    = 1 // EI_CLASS: ELFCLASS32
	elfClass64    = 2 // ELFCLASS64
	elfDataLSB    = 1 // EI_DATA: ELFDATA2LSB
	elfTypeExec   = 2 // e_type: ET_EXEC
	elfMachine386 = 3 // e_machine: EM_386
	elfPTLoad     = 1 // p_type: PT_LOAD

	elf32EhdrSize = 52
	elf32PhdrSize = 32
)

var elfMagic = []byte{0x7F, 'E', 'L', 'F'}

// isELF reports whether img starts with the ELF magic (gABI, e_ident[EI_MAG0..3]).
func isELF(img []byte) bool {
	return len(img) >= 4 && string(img[:4]) == string(elfMagic)
}

// elfSegment is a PT_LOAD program header of an ELF32 file.
type elfSegment struct {
	index                 int
	offset, filesz, memsz uint64
	paddr, vaddr          uint64
}

// elfImage is what the loader needs of an ELF32 executable.
type elfImage struct {
	entry uint64
	segs  []elfSegment
}

// parseELF32 checks an ELF32 EM_386 executable and returns its PT_LOAD
// segments (gABI "ELF Header", "Program Header"). Every offset and size is
// checked against the file: it never panics.
func parseELF32(img []byte) (*elfImage, error) {
	le := binary.LittleEndian
	if len(img) < 16 {
		return nil, fmt.Errorf("truncated ELF identification (%d bytes, need 16)", len(img))
	}
	switch img[4] {
	case elfClass32:
	case elfClass64:
		return nil, fmt.Errorf("64-bit ELF not supported yet")
	default:
		return nil, fmt.Errorf("bad ELF class %d", img[4])
	}
	if img[5] != elfDataLSB {
		return nil, fmt.Errorf("ELF data encoding %d is not little-endian", img[5])
	}
	if len(img) < elf32EhdrSize {
		return nil, fmt.Errorf("truncated ELF header (%d bytes, need %d)", len(img), elf32EhdrSize)
	}
	if t := le.Uint16(img[16:]); t != elfTypeExec {
		return nil, fmt.Errorf("ELF type %d is not an executable (ET_EXEC)", t)
	}
	if m := le.Uint16(img[18:]); m != elfMachine386 {
		return nil, fmt.Errorf("unsupported ELF machine %d (want EM_386)", m)
	}
	entry := uint64(le.Uint32(img[24:]))
	phoff := uint64(le.Uint32(img[28:]))
	phentsize := uint64(le.Uint16(img[42:]))
	phnum := uint64(le.Uint16(img[44:]))
	if phnum == 0 {
		return nil, fmt.Errorf("ELF file has no program headers")
	}
	if phentsize < elf32PhdrSize {
		return nil, fmt.Errorf("ELF program header size %d is below %d", phentsize, elf32PhdrSize)
	}
	if end := phoff + phnum*phentsize; end > uint64(len(img)) {
		return nil, fmt.Errorf("truncated ELF program headers: %d × %d bytes at offset %#x pass the end of the file (%d bytes)",
			phnum, phentsize, phoff, len(img))
	}
	e := &elfImage{entry: entry}
	for i := range phnum {
		ph := img[phoff+i*phentsize:]
		if le.Uint32(ph[0:]) != elfPTLoad {
			continue
		}
		s := elfSegment{
			index:  int(i),
			offset: uint64(le.Uint32(ph[4:])),
			vaddr:  uint64(le.Uint32(ph[8:])),
			paddr:  uint64(le.Uint32(ph[12:])),
			filesz: uint64(le.Uint32(ph[16:])),
			memsz:  uint64(le.Uint32(ph[20:])),
		}
		if s.memsz == 0 {
			continue
		}
		if s.filesz > s.memsz {
			return nil, fmt.Errorf("ELF segment %d: file size %#x exceeds memory size %#x", i, s.filesz, s.memsz)
		}
		if s.offset+s.filesz > uint64(len(img)) {
			return nil, fmt.Errorf("truncated ELF segment %d: %#x bytes at offset %#x pass the end of the file (%d bytes)",
				i, s.filesz, s.offset, len(img))
		}
		if s.paddr+s.memsz > 1<<32 {
			return nil, fmt.Errorf("ELF segment %d: %#x+%#x passes 4 GiB", i, s.paddr, s.memsz)
		}
		e.segs = append(e.segs, s)
	}
	if len(e.segs) == 0 {
		return nil, fmt.Errorf("ELF file has no loadable segments")
	}
	return e, nil
}

// physEntry is the entry point as a physical address: a kernel linked to run
// higher than it is loaded names a virtual entry, which is moved by the offset
// of the segment that holds it (as GRUB does); with paging off the CPU starts
// at the physical one.
func (e *elfImage) physEntry() uint64 {
	for _, s := range e.segs {
		if e.entry >= s.paddr && e.entry < s.paddr+s.memsz {
			return e.entry
		}
	}
	for _, s := range e.segs {
		if e.entry >= s.vaddr && e.entry < s.vaddr+s.memsz {
			return e.entry - s.vaddr + s.paddr
		}
	}
	return e.entry
}

// chunks returns the segments as pieces to copy into guest memory.
func (e *elfImage) chunks(img []byte) []chunk {
	var c []chunk
	for _, s := range e.segs {
		c = append(c, chunk{
			what: fmt.Sprintf("ELF segment %d", s.index),
			addr: s.paddr,
			data: img[s.offset : s.offset+s.filesz],
			size: s.memsz,
		})
	}
	return c
}
