package mmu

// The shadow TLB maps guest-virtual pages straight to host memory
// (VA → MA), so that a hit costs one compare and one slice index. It is
// direct-mapped, with separate tables for reads and writes (a write entry
// exists only once the guest PTE's dirty bit is set and the page holds no
// translated code) and for supervisor and user accesses.
const (
	TLBBits = 10
	TLBSize = 1 << TLBBits
)

// TLBEntry maps one guest-virtual page. Tag is the virtual page number plus
// one (0 marks an empty entry); Page is the guest-physical page address, which
// is also the offset of the page in Memory.RAM.
type TLBEntry struct {
	Tag  uint64
	Page uint64
}

// TLB is the shadow TLB with its counters.
type TLB struct {
	Read  [2][TLBSize]TLBEntry // [0] supervisor, [1] user
	Write [2][TLBSize]TLBEntry
	Exec  [2][TLBSize]TLBEntry // instruction fetches (execute-disable pages stay out)
	// global marks entries filled from global pages (CR4.PGE), kept across CR3 writes.
	globalPages map[uint64]struct{}

	Hits, Misses uint64
	// Flushes counts invalidations by cause.
	FlushCR3, FlushINVLPG, FlushCR0CR4, FlushAll uint64
}

// Index returns the table slot of a virtual address.
func Index(va uint64) uint64 { return (va >> 12) & (TLBSize - 1) }

// Tag returns the entry tag of a virtual address.
func Tag(va uint64) uint64 { return va>>12 + 1 }

// TLB tables for Fill.
const (
	TLBRead = iota
	TLBWrite
	TLBExec
)

// Fill installs a translation of the page holding va in one table.
func (t *TLB) Fill(table int, user int, va uint64, pa GPA, global bool) {
	e := TLBEntry{Tag: Tag(va), Page: uint64(pa) &^ (PageSize - 1)}
	switch table {
	case TLBWrite:
		t.Write[user][Index(va)] = e
	case TLBExec:
		t.Exec[user][Index(va)] = e
	default:
		t.Read[user][Index(va)] = e
	}
	if global {
		if t.globalPages == nil {
			t.globalPages = make(map[uint64]struct{})
		}
		t.globalPages[Tag(va)] = struct{}{}
	}
}

// Flush empties the TLB. keepGlobal keeps global pages (a CR3 write with
// CR4.PGE set, SDM Vol. 3A §4.10.4.1).
func (t *TLB) Flush(keepGlobal bool) {
	if !keepGlobal || len(t.globalPages) == 0 {
		t.Read = [2][TLBSize]TLBEntry{}
		t.Write = [2][TLBSize]TLBEntry{}
		t.Exec = [2][TLBSize]TLBEntry{}
		if !keepGlobal {
			t.globalPages = nil
		}
		return
	}
	for u := 0; u < 2; u++ {
		for i := range t.Read[u] {
			if _, g := t.globalPages[t.Read[u][i].Tag]; !g {
				t.Read[u][i] = TLBEntry{}
			}
			if _, g := t.globalPages[t.Write[u][i].Tag]; !g {
				t.Write[u][i] = TLBEntry{}
			}
			if _, g := t.globalPages[t.Exec[u][i].Tag]; !g {
				t.Exec[u][i] = TLBEntry{}
			}
		}
	}
}

// FlushPage drops every translation of the page holding va (INVLPG).
func (t *TLB) FlushPage(va uint64) {
	i, tag := Index(va), Tag(va)
	for u := 0; u < 2; u++ {
		if t.Read[u][i].Tag == tag {
			t.Read[u][i] = TLBEntry{}
		}
		if t.Write[u][i].Tag == tag {
			t.Write[u][i] = TLBEntry{}
		}
		if t.Exec[u][i].Tag == tag {
			t.Exec[u][i] = TLBEntry{}
		}
	}
	delete(t.globalPages, tag)
}

// DropWrites removes the write entries that point at the physical page pa,
// so that stores to it take the slow path (the page now holds code).
func (t *TLB) DropWrites(pa GPA) {
	page := uint64(pa) &^ (PageSize - 1)
	for u := 0; u < 2; u++ {
		for i := range t.Write[u] {
			if t.Write[u][i].Page == page && t.Write[u][i].Tag != 0 {
				t.Write[u][i] = TLBEntry{}
			}
		}
	}
}
