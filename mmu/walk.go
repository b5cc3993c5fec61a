package mmu

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
