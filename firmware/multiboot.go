package firmware

import (
	"encoding/binary"
	"fmt"
)

// Multiboot 1 constants (Multiboot Specification 0.6.96 §3.1, §3.2, §3.3).
const (
	mbHeaderMagic = 0x1BADB002 // §3.1.1 magic
	mbBootMagic   = 0x2BADB002 // §3.2: EAX at entry
	mbSearchLimit = 8192       // §3.1: the header lies in the first 8192 bytes

	mbFlagPageAlign = 1 << 0  // §3.1.2: modules page-aligned
	mbFlagMemInfo   = 1 << 1  // §3.1.2: mem_* fields required
	mbFlagVideo     = 1 << 2  // §3.1.2: video mode table (ignored)
	mbFlagAout      = 1 << 16 // §3.1.2: address fields valid (a.out kludge)

	// mbKnownRequired are the bits 0–15 this loader honours; others must fail (§3.1.2).
	mbKnownRequired = mbFlagPageAlign | mbFlagMemInfo | mbFlagVideo

	mbHeaderMin  = 12 // magic, flags, checksum
	mbHeaderAout = 32 // ... header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr

	// Boot information flags (§3.3).
	mbInfoMem        = 1 << 0
	mbInfoCmdline    = 1 << 2
	mbInfoMods       = 1 << 3
	mbInfoMmap       = 1 << 6
	mbInfoLoaderName = 1 << 9

	mbInfoSize     = 120 // through the framebuffer fields of §3.3
	mbModSize      = 16  // mod_start, mod_end, string, reserved
	mbMmapEntry    = 24  // size (= 20), base_addr, length, type
	mbNoBootDevice = 0xFFFFFFFF

	loaderName = "gemu"
)

// mbHeader is a multiboot header found in an image (§3.1.1).
type mbHeader struct {
	offset uint64 // file offset of the magic
	flags  uint32
	// a.out kludge fields (§3.1.3), valid if hasAddr.
	hasAddr                                              bool
	headerAddr, loadAddr, loadEndAddr, bssEndAddr, entry uint32
}

// findMultiboot looks for the first 4-byte aligned multiboot header with a
// good checksum in the first 8192 bytes of img (§3.1). A magic with a bad
// checksum is skipped, as QEMU and GRUB do.
func findMultiboot(img []byte) (mbHeader, bool) {
	le := binary.LittleEndian
	limit := min(len(img), mbSearchLimit)
	for off := 0; off+mbHeaderMin <= limit; off += 4 {
		if le.Uint32(img[off:]) != mbHeaderMagic {
			continue
		}
		flags := le.Uint32(img[off+4:])
		if mbHeaderMagic+flags+le.Uint32(img[off+8:]) != 0 {
			continue
		}
		h := mbHeader{offset: uint64(off), flags: flags}
		if off+mbHeaderAout <= len(img) {
			f := img[off+12:]
			h.hasAddr = true
			h.headerAddr = le.Uint32(f[0:])
			h.loadAddr = le.Uint32(f[4:])
			h.loadEndAddr = le.Uint32(f[8:])
			h.bssEndAddr = le.Uint32(f[12:])
			h.entry = le.Uint32(f[16:])
		}
		return h, true
	}
	return mbHeader{}, false
}

// aoutChunks is the kernel as the a.out kludge fields describe it (§3.1.3):
// the file from header_offset − (header_addr − load_addr) is loaded at
// load_addr up to load_end_addr (0: the end of the file), then zeroed up to
// bss_end_addr (0: no bss).
func aoutChunks(img []byte, h mbHeader) ([]chunk, uint64, error) {
	if !h.hasAddr {
		return nil, 0, fmt.Errorf("truncated multiboot header at offset %#x: flag 16 needs %d bytes, the file has %d",
			h.offset, mbHeaderAout, uint64(len(img))-h.offset)
	}
	if h.headerAddr < h.loadAddr {
		return nil, 0, fmt.Errorf("multiboot header_addr %#x is below load_addr %#x", h.headerAddr, h.loadAddr)
	}
	delta := uint64(h.headerAddr - h.loadAddr)
	if delta > h.offset {
		return nil, 0, fmt.Errorf("multiboot load_addr %#x would start %#x bytes before the file", h.loadAddr, delta-h.offset)
	}
	fileOff := h.offset - delta
	load := uint64(h.loadAddr)
	var size uint64
	if h.loadEndAddr == 0 {
		size = uint64(len(img)) - fileOff
	} else {
		if h.loadEndAddr < h.loadAddr {
			return nil, 0, fmt.Errorf("multiboot load_end_addr %#x is below load_addr %#x", h.loadEndAddr, h.loadAddr)
		}
		size = uint64(h.loadEndAddr - h.loadAddr)
		if fileOff+size > uint64(len(img)) {
			return nil, 0, fmt.Errorf("truncated multiboot kernel: load_end_addr asks for %#x bytes from offset %#x, the file has %d",
				size, fileOff, len(img))
		}
	}
	memSize := size
	if h.bssEndAddr != 0 {
		if uint64(h.bssEndAddr) < load+size {
			return nil, 0, fmt.Errorf("multiboot bss_end_addr %#x is below the end of the load %#x", h.bssEndAddr, load+size)
		}
		memSize = uint64(h.bssEndAddr) - load
	}
	if load+memSize > 1<<32 {
		return nil, 0, fmt.Errorf("multiboot kernel %#x+%#x passes 4 GiB", load, memSize)
	}
	c := chunk{what: "multiboot kernel", addr: load, data: img[fileOff : fileOff+size], size: memSize}
	return []chunk{c}, uint64(h.entry), nil
}

// placedModule is a boot module at its guest address.
type placedModule struct {
	start, end uint32
	str        string
}

// areaBuilder lays out the loader's data in one low-memory block.
type areaBuilder struct {
	base uint32
	buf  []byte
}

func (b *areaBuilder) alloc(n, align int) int {
	for len(b.buf)%align != 0 {
		b.buf = append(b.buf, 0)
	}
	off := len(b.buf)
	b.buf = append(b.buf, make([]byte, n)...)
	return off
}

func (b *areaBuilder) str(s string) uint32 {
	off := b.alloc(len(s)+1, 1)
	copy(b.buf[off:], s)
	return b.addr(off)
}

func (b *areaBuilder) addr(off int) uint32 { return b.base + uint32(off) }

// gdtSize is a flat GDT: null, unused, code at 0x10, data at 0x18.
const gdtSize = 4 * 8

// putGDT writes a GDT whose selectors 0x10 and 0x18 describe the flat 4 GiB
// code and data segments of cpu.FlatProtectedState (SDM Vol. 3A §3.4.5:
// base 0, limit FFFFFh, G=1, D/B=1; type 0Bh/03h, accessed, so the CPU has
// nothing to write back on a reload).
func putGDT(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[0x10:], 0x00CF9B000000FFFF)
	le.PutUint64(b[0x18:], 0x00CF93000000FFFF)
}

// multibootArea lays out, from base, the GDT and the boot information
// structure with its memory map, module list and strings (§3.3). It returns
// the block and the offsets of the GDT and the information structure.
func multibootArea(base uint32, memSize uint64, cmdline string, mods []placedModule) (area []byte, gdtOff, infoOff int) {
	le := binary.LittleEndian
	b := &areaBuilder{base: base}
	gdtOff = b.alloc(gdtSize, 8)
	infoOff = b.alloc(mbInfoSize, 8)
	mmap := E820(memSize)
	mmapOff := b.alloc(mbMmapEntry*len(mmap), 8)
	modsOff := b.alloc(mbModSize*len(mods), 8)
	cmdAddr := b.str(cmdline)
	nameAddr := b.str(loaderName)
	modStr := make([]uint32, len(mods))
	for i, m := range mods {
		modStr[i] = b.str(m.str)
	}
	buf := b.buf
	putGDT(buf[gdtOff:])

	for i, e := range mmap {
		p := buf[mmapOff+i*mbMmapEntry:]
		le.PutUint32(p[0:], mbMmapEntry-4) // size excludes itself
		le.PutUint64(p[4:], e.Base)
		le.PutUint64(p[12:], e.Length)
		le.PutUint32(p[20:], uint32(e.Type))
	}
	for i, m := range mods {
		p := buf[modsOff+i*mbModSize:]
		le.PutUint32(p[0:], m.start)
		le.PutUint32(p[4:], m.end)
		le.PutUint32(p[8:], modStr[i])
	}

	upper := uint64(0)
	if memSize > highStart {
		upper = min((memSize-highStart)/1024, 0xFFFFFFFF)
	}
	info := buf[infoOff:]
	le.PutUint32(info[0:], mbInfoMem|mbInfoCmdline|mbInfoMods|mbInfoMmap|mbInfoLoaderName)
	le.PutUint32(info[4:], uint32(min(memSize, ebdaBase)/1024)) // mem_lower
	le.PutUint32(info[8:], uint32(upper))                       // mem_upper
	le.PutUint32(info[12:], mbNoBootDevice)                     // flag 1 clear: not from a BIOS disk
	le.PutUint32(info[16:], cmdAddr)
	le.PutUint32(info[20:], uint32(len(mods)))
	le.PutUint32(info[24:], b.addr(modsOff))
	le.PutUint32(info[44:], uint32(mbMmapEntry*len(mmap)))
	le.PutUint32(info[48:], b.addr(mmapOff))
	le.PutUint32(info[64:], nameAddr)
	return buf, gdtOff, infoOff
}
