package firmware

import (
	"encoding/binary"
	"testing"

	"github.com/gemu-project/gemu/mmu"
)

// Builders of test images as byte slices, and readers of guest memory.

var le = binary.LittleEndian

// tseg is an ELF program header for buildELF.
type tseg struct {
	typ          uint32 // 0: PT_LOAD
	paddr, vaddr uint32 // vaddr 0: = paddr
	data         []byte
	memsz        uint32 // 0: len(data)
}

// telf describes an ELF file for buildELF; zero fields take valid defaults.
type telf struct {
	class, encoding  byte
	typ, machine     uint16
	entry            uint32
	segs             []tseg
	mbHeader         []byte // placed right after the program headers
	phentsize, phnum uint16 // overrides, if not 0
	phoff            uint32 // override, if not 0
}

func (e telf) build() []byte {
	or8 := func(v, d byte) byte {
		if v == 0 {
			return d
		}
		return v
	}
	or16 := func(v, d uint16) uint16 {
		if v == 0 {
			return d
		}
		return v
	}
	phoff := uint32(elf32EhdrSize)
	off := phoff + uint32(len(e.segs))*elf32PhdrSize
	img := make([]byte, off)
	copy(img, elfMagic)
	img[4] = or8(e.class, elfClass32)
	img[5] = or8(e.encoding, elfDataLSB)
	img[6] = 1 // EV_CURRENT
	le.PutUint16(img[16:], or16(e.typ, elfTypeExec))
	le.PutUint16(img[18:], or16(e.machine, elfMachine386))
	le.PutUint32(img[20:], 1)
	le.PutUint32(img[24:], e.entry)
	if e.phoff != 0 {
		phoff = e.phoff
	}
	le.PutUint32(img[28:], phoff)
	le.PutUint16(img[40:], elf32EhdrSize)
	le.PutUint16(img[42:], or16(e.phentsize, elf32PhdrSize))
	le.PutUint16(img[44:], or16(e.phnum, uint16(len(e.segs))))
	img = append(img, e.mbHeader...)
	for i, s := range e.segs {
		for len(img)%16 != 0 {
			img = append(img, 0)
		}
		dataOff := uint32(len(img))
		img = append(img, s.data...)
		ph := img[elf32EhdrSize+i*elf32PhdrSize:]
		typ := s.typ
		if typ == 0 {
			typ = elfPTLoad
		}
		vaddr, memsz := s.vaddr, s.memsz
		if vaddr == 0 {
			vaddr = s.paddr
		}
		if memsz == 0 {
			memsz = uint32(len(s.data))
		}
		le.PutUint32(ph[0:], typ)
		le.PutUint32(ph[4:], dataOff)
		le.PutUint32(ph[8:], vaddr)
		le.PutUint32(ph[12:], s.paddr)
		le.PutUint32(ph[16:], uint32(len(s.data)))
		le.PutUint32(ph[20:], memsz)
		le.PutUint32(ph[24:], 7)
		le.PutUint32(ph[28:], 0x1000)
	}
	return img
}

// mbHeaderBytes is a multiboot header with a good checksum; with the a.out
// kludge fields if given (Multiboot 0.6.96 §3.1.1).
func mbHeaderBytes(flags uint32, aout ...uint32) []byte {
	h := make([]byte, 12+4*len(aout))
	le.PutUint32(h[0:], mbHeaderMagic)
	le.PutUint32(h[4:], flags)
	le.PutUint32(h[8:], -(mbHeaderMagic + flags))
	for i, v := range aout {
		le.PutUint32(h[12+4*i:], v)
	}
	return h
}

// pattern is n bytes of a recognisable sequence.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func newMemory(t testing.TB, size uint64) *mmu.Memory {
	t.Helper()
	m, err := mmu.NewMemory(size)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fill sets n bytes of guest memory at addr to v (to see what a load zeroes).
func fill(t testing.TB, m *mmu.Memory, addr, n uint64, v byte) {
	t.Helper()
	s, err := m.Slice(mmu.GPA(addr), n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s {
		s[i] = v
	}
}

func readMem(t testing.TB, m *mmu.Memory, addr, n uint64) []byte {
	t.Helper()
	b := make([]byte, n)
	if err := m.ReadAt(mmu.GPA(addr), b); err != nil {
		t.Fatal(err)
	}
	return b
}

func readCString(t testing.TB, m *mmu.Memory, addr uint32) string {
	t.Helper()
	var s []byte
	for a := uint64(addr); ; a++ {
		c := readMem(t, m, a, 1)[0]
		if c == 0 {
			return string(s)
		}
		s = append(s, c)
	}
}

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}
