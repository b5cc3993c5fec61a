// Package mmu holds the guest's physical memory map (RAM and MMIO holes, GPA →
// host memory), the page walkers and the shadow TLB (guest VA → host memory).
// It imports no device: MMIO accesses leave through the MMIO interface.
package mmu

import (
	"encoding/binary"
	"fmt"
)

// GPA is a guest-physical address.
type GPA uint64

// GVA is a guest-virtual (linear) address, after segmentation.
type GVA uint64

// PageSize is the size of the smallest guest page (SDM Vol. 3A §4.3).
const PageSize = 4096

// MMIO receives the physical accesses that no RAM page backs.
type MMIO interface {
	// ReadMMIO reads len(data) bytes at addr; it reports false if no device claims addr.
	ReadMMIO(addr GPA, data []byte) bool
	// WriteMMIO writes data at addr; it reports false if no device claims addr.
	WriteMMIO(addr GPA, data []byte) bool
}

// Memory is the guest-physical address space: RAM from address 0, and MMIO
// for every address above RAM. The legacy VGA hole is not emulated: the BIOS
// area below 1 MiB is plain RAM that firmware fills.
type Memory struct {
	RAM  []byte
	MMIO MMIO

	// codePages marks the RAM pages that hold translated code, so that writes
	// to them reach the translator (self-modifying code).
	codePages []uint8
	// OnCodeWrite is called when a write lands on a page marked as code.
	OnCodeWrite func(page GPA)
}

// NewMemory allocates size bytes of guest RAM (rounded up to a page).
func NewMemory(size uint64) (*Memory, error) {
	if size < 1<<20 {
		return nil, fmt.Errorf("guest memory %d bytes is below the 1 MiB minimum", size)
	}
	if size > 1<<40 {
		return nil, fmt.Errorf("guest memory %d bytes is above the 1 TiB maximum", size)
	}
	size = (size + PageSize - 1) &^ (PageSize - 1)
	ram, err := allocRAM(size)
	if err != nil {
		return nil, fmt.Errorf("allocating %d bytes of guest memory: %w", size, err)
	}
	return &Memory{RAM: ram, codePages: make([]uint8, size/PageSize)}, nil
}

// Size is the number of bytes of RAM.
func (m *Memory) Size() uint64 { return uint64(len(m.RAM)) }

// IsRAM reports whether the n bytes at addr are all RAM.
func (m *Memory) IsRAM(addr GPA, n uint64) bool {
	return uint64(addr) < uint64(len(m.RAM)) && n <= uint64(len(m.RAM))-uint64(addr)
}

// Slice returns the host memory behind n bytes of RAM at addr, or an error
// naming the range if it is not all RAM. Loaders and DMA use it.
func (m *Memory) Slice(addr GPA, n uint64) ([]byte, error) {
	if !m.IsRAM(addr, n) {
		return nil, fmt.Errorf("guest range %#x+%#x is outside RAM (%#x bytes)", uint64(addr), n, len(m.RAM))
	}
	return m.RAM[addr : uint64(addr)+n : uint64(addr)+n], nil
}

// WriteAt copies data into guest memory at addr (RAM only), keeping the
// translated-code bookkeeping right.
func (m *Memory) WriteAt(addr GPA, data []byte) error {
	dst, err := m.Slice(addr, uint64(len(data)))
	if err != nil {
		return err
	}
	copy(dst, data)
	m.NoteWrite(addr, uint64(len(data)))
	return nil
}

// ReadAt copies guest memory at addr (RAM only) into data.
func (m *Memory) ReadAt(addr GPA, data []byte) error {
	src, err := m.Slice(addr, uint64(len(data)))
	if err != nil {
		return err
	}
	copy(data, src)
	return nil
}

// MarkCode records that the RAM page holding addr has translated code.
func (m *Memory) MarkCode(addr GPA) {
	if p := uint64(addr) / PageSize; p < uint64(len(m.codePages)) {
		m.codePages[p] = 1
	}
}

// IsCode reports whether the RAM page holding addr has translated code.
func (m *Memory) IsCode(addr GPA) bool {
	p := uint64(addr) / PageSize
	return p < uint64(len(m.codePages)) && m.codePages[p] != 0
}

// NoteWrite tells the translator about a write of n bytes at addr that did
// not go through the CPU's fast path (device DMA, loaders, slow-path stores).
func (m *Memory) NoteWrite(addr GPA, n uint64) {
	if n == 0 {
		return
	}
	first, last := uint64(addr)/PageSize, (uint64(addr)+n-1)/PageSize
	for p := first; p <= last && p < uint64(len(m.codePages)); p++ {
		if m.codePages[p] != 0 {
			m.codePages[p] = 0
			if m.OnCodeWrite != nil {
				m.OnCodeWrite(GPA(p * PageSize))
			}
		}
	}
}

// Read reads len(data) ≤ 8 bytes of guest-physical memory: RAM, else MMIO,
// else all ones (an open bus, as on a PC).
func (m *Memory) Read(addr GPA, data []byte) {
	if m.IsRAM(addr, uint64(len(data))) {
		copy(data, m.RAM[addr:])
		return
	}
	if m.MMIO == nil || !m.MMIO.ReadMMIO(addr, data) {
		for i := range data {
			data[i] = 0xFF
		}
	}
}

// Write writes len(data) ≤ 8 bytes of guest-physical memory; writes that no
// RAM or device claims are dropped.
func (m *Memory) Write(addr GPA, data []byte) {
	if m.IsRAM(addr, uint64(len(data))) {
		copy(m.RAM[addr:], data)
		m.NoteWrite(addr, uint64(len(data)))
		return
	}
	if m.MMIO != nil {
		m.MMIO.WriteMMIO(addr, data)
	}
}

// Read32 and friends access RAM directly and go through Read and Write
// (MMIO, open bus) otherwise. The page walkers read and update entries
// with them, so the RAM path must not allocate.
func (m *Memory) Read32(addr GPA) uint32 {
	if m.IsRAM(addr, 4) {
		return binary.LittleEndian.Uint32(m.RAM[addr:])
	}
	var b [4]byte
	m.Read(addr, b[:])
	return binary.LittleEndian.Uint32(b[:])
}

// Write32 writes a little-endian 32-bit value.
func (m *Memory) Write32(addr GPA, v uint32) {
	if m.IsRAM(addr, 4) {
		binary.LittleEndian.PutUint32(m.RAM[addr:], v)
		m.NoteWrite(addr, 4)
		return
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	m.Write(addr, b[:])
}

// Write16 writes a little-endian 16-bit value.
func (m *Memory) Write16(addr GPA, v uint16) {
	if m.IsRAM(addr, 2) {
		binary.LittleEndian.PutUint16(m.RAM[addr:], v)
		m.NoteWrite(addr, 2)
		return
	}
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], v)
	m.Write(addr, b[:])
}

// Read16 reads a little-endian 16-bit value.
func (m *Memory) Read16(addr GPA) uint16 {
	if m.IsRAM(addr, 2) {
		return binary.LittleEndian.Uint16(m.RAM[addr:])
	}
	var b [2]byte
	m.Read(addr, b[:])
	return binary.LittleEndian.Uint16(b[:])
}
