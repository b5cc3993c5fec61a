package mmu

import "encoding/binary"

// Page-fault error-code bits (SDM Vol. 3A §4.7, Figure 4-12).
const (
	PFPresent  = 1 << 0
	PFWrite    = 1 << 1
	PFUser     = 1 << 2
	PFReserved = 1 << 3
	PFFetch    = 1 << 4
)

// Paging-structure entry bits (SDM Vol. 3A §4.3, Tables 4-4 to 4-6).
const (
	pteP   = 1 << 0
	pteRW  = 1 << 1
	pteUS  = 1 << 2
	pteA   = 1 << 5
	pteD   = 1 << 6
	ptePS  = 1 << 7
	pteG   = 1 << 8
	pse36  = 0x3FE000 // bits 13–21 of a 4 MiB PDE: physical address bits 32–40
	page4M = 1 << 22
)

// Access describes the access that a walk checks.
type Access struct {
	Write bool
	User  bool // CPL 3 and not an implicit supervisor access
	Fetch bool
	WP    bool // CR0.WP
	PSE   bool // CR4.PSE
	PGE   bool // CR4.PGE
}

// Translation is the result of a successful walk.
type Translation struct {
	PA       GPA
	Writable bool // a write through this translation would not fault
	Global   bool
	NoExec   bool // execute-disable (XD) applies
}

// Walk32 translates va through 32-bit paging (SDM Vol. 3A §4.3) and sets the
// accessed and dirty bits as the SDM requires. On failure it returns the
// page-fault error code and ok=false.
func (m *Memory) Walk32(cr3 uint64, va uint32, acc Access) (t Translation, code uint32, ok bool) {
	code = 0
	if acc.Write {
		code |= PFWrite
	}
	if acc.User {
		code |= PFUser
	}
	pdeAddr := GPA(cr3&0xFFFFF000) + GPA(va>>22)*4
	pde := m.Read32(pdeAddr)
	if pde&pteP == 0 {
		return t, code, false
	}
	var pa GPA
	rw, us := pde&pteRW != 0, pde&pteUS != 0
	var global bool
	if pde&ptePS != 0 && acc.PSE {
		// 4 MiB page (SDM Vol. 3A §4.3, Table 4-4).
		if !permitted(rw, us, acc) {
			return t, code | PFPresent, false
		}
		pa = GPA(pde&0xFFC00000) | GPA(uint64(pde&pse36)<<19) | GPA(va&(page4M-1))
		upd := pde | pteA
		if acc.Write {
			upd |= pteD
		}
		if upd != pde {
			m.Write32(pdeAddr, upd)
		}
		global = pde&pteG != 0 && acc.PGE
		return Translation{PA: pa, Writable: writable(rw, us, acc) && upd&pteD != 0, Global: global}, 0, true
	}
	pteAddr := GPA(pde&0xFFFFF000) + GPA((va>>12)&0x3FF)*4
	pte := m.Read32(pteAddr)
	if pte&pteP == 0 {
		return t, code, false
	}
	rw = rw && pte&pteRW != 0
	us = us && pte&pteUS != 0
	if !permitted(rw, us, acc) {
		return t, code | PFPresent, false
	}
	if pde&pteA == 0 {
		m.Write32(pdeAddr, pde|pteA)
	}
	upd := pte | pteA
	if acc.Write {
		upd |= pteD
	}
	if upd != pte {
		m.Write32(pteAddr, upd)
	}
	pa = GPA(pte&0xFFFFF000) | GPA(va&0xFFF)
	global = pte&pteG != 0 && acc.PGE
	return Translation{PA: pa, Writable: writable(rw, us, acc) && upd&pteD != 0, Global: global}, 0, true
}

// permitted applies the U/S and R/W rules (SDM Vol. 3A §4.6.1).
func permitted(rw, us bool, acc Access) bool {
	if acc.User && !us {
		return false
	}
	if acc.Write {
		return writable(rw, us, acc)
	}
	return true
}

func writable(rw, us bool, acc Access) bool {
	if rw {
		return true
	}
	// Read-only page: user writes fault; supervisor writes fault only with CR0.WP.
	return !acc.User && !acc.WP
}

// 64-bit paging-structure entries (SDM Vol. 3A §4.4.2 PAE, §4.5 4-level).
const (
	pteXD      = 1 << 63
	addrMask52 = 0x000FFFFFFFFFF000
)

// Access bits for PAE and 4-level walks.
type Access64 struct {
	Access
	NXE     bool   // EFER.NXE: bit 63 is execute-disable, else reserved
	MaxPhys uint64 // bits of physical address (reserved bits above)
}

// reservedMask returns the bits that must be zero in a 64-bit entry: the
// physical address bits above MAXPHYADDR (up to bit 51), and bit 63 without NXE.
func (a Access64) reservedMask() uint64 {
	phys := a.MaxPhys
	if phys == 0 {
		phys = 40
	}
	m := (uint64(1)<<52 - 1) &^ (uint64(1)<<phys - 1)
	if !a.NXE {
		m |= pteXD
	}
	return m
}

// WalkPAE translates va through PAE paging (SDM Vol. 3A §4.4): pdpte are the
// four PDPTEs loaded from CR3 (§4.4.1).
func (m *Memory) WalkPAE(pdpte *[4]uint64, va uint32, acc Access64) (Translation, uint32, bool) {
	e := pdpte[va>>30]
	if e&pteP == 0 {
		return Translation{}, errCode(acc, false, false), false
	}
	return m.walkLevels(e&addrMask52, uint64(va), 2, acc, true, true)
}

// Walk4 translates va through 4-level paging (SDM Vol. 3A §4.5).
func (m *Memory) Walk4(cr3 uint64, va uint64, acc Access64) (Translation, uint32, bool) {
	return m.walkLevels(cr3&addrMask52, va, 4, acc, true, true)
}

func errCode(acc Access64, present, rsvd bool) uint32 {
	var c uint32
	if present {
		c |= PFPresent
	}
	if acc.Write {
		c |= PFWrite
	}
	if acc.User {
		c |= PFUser
	}
	if rsvd {
		c |= PFReserved | PFPresent
	}
	if acc.Fetch && acc.NXE {
		c |= PFFetch
	}
	return c
}

// walkLevels walks `levels` levels of 8-byte entries from table, setting the
// accessed bits on the way and the dirty bit of the leaf (SDM Vol. 3A §4.8).
func (m *Memory) walkLevels(table, va uint64, levels int, acc Access64, rw, us bool) (Translation, uint32, bool) {
	rsvd := acc.reservedMask()
	xd := false
	type step struct {
		addr GPA
		val  uint64
	}
	var path [4]step
	n := 0
	for level := levels; level >= 1; level-- {
		shift := uint(12 + 9*(level-1))
		addr := GPA(table + (va>>shift&0x1FF)*8)
		e := m.read64(addr)
		if e&pteP == 0 {
			return Translation{}, errCode(acc, false, false), false
		}
		leaf := level == 1 || e&ptePS != 0
		bad := e&rsvd != 0
		if leaf && level == 3 && e&0x3FFFE000 != 0 || leaf && level == 2 && e&0x1FE000 != 0 {
			bad = true // reserved bits of a 1 GiB or 2 MiB page
		}
		if level == 4 && e&ptePS != 0 {
			bad = true
		}
		if bad {
			return Translation{}, errCode(acc, true, true), false
		}
		rw = rw && e&pteRW != 0
		us = us && e&pteUS != 0
		xd = xd || acc.NXE && e&pteXD != 0
		path[n] = step{addr, e}
		n++
		if leaf {
			if !permitted(rw, us, acc.Access) || acc.Fetch && xd {
				return Translation{}, errCode(acc, true, false), false
			}
			for i := 0; i < n-1; i++ {
				if path[i].val&pteA == 0 {
					m.write64(path[i].addr, path[i].val|pteA)
				}
			}
			upd := e | pteA
			if acc.Write {
				upd |= pteD
			}
			if upd != e {
				m.write64(addr, upd)
			}
			pageMask := uint64(1)<<shift - 1
			pa := GPA(e&addrMask52&^pageMask | va&pageMask)
			return Translation{PA: pa, Writable: writable(rw, us, acc.Access) && upd&pteD != 0, Global: e&pteG != 0 && acc.PGE, NoExec: xd}, 0, true
		}
		table = e & addrMask52
	}
	return Translation{}, errCode(acc, false, false), false
}

func (m *Memory) read64(a GPA) uint64 {
	if m.IsRAM(a, 8) {
		return binary.LittleEndian.Uint64(m.RAM[a:])
	}
	return uint64(m.Read32(a)) | uint64(m.Read32(a+4))<<32
}

func (m *Memory) write64(a GPA, v uint64) {
	if m.IsRAM(a, 8) {
		binary.LittleEndian.PutUint64(m.RAM[a:], v)
		m.NoteWrite(a, 8)
		return
	}
	m.Write32(a, uint32(v))
	m.Write32(a+4, uint32(v>>32))
}
