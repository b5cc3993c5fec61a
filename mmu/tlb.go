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
	// global marks the entries filled from global pages (CR4.PGE), kept
	// across CR3 writes; nGlobal counts such fills since the last full flush.
	global  [3][2][TLBSize]bool
	nGlobal int

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

func (t *TLB) table(table int) *[2][TLBSize]TLBEntry {
	switch table {
	case TLBWrite:
		return &t.Write
	case TLBExec:
		return &t.Exec
	}
	return &t.Read
}

// Fill installs a translation of the page holding va in one table.
func (t *TLB) Fill(table int, user int, va uint64, pa GPA, global bool) {
	i := Index(va)
	t.table(table)[user][i] = TLBEntry{Tag: Tag(va), Page: uint64(pa) &^ (PageSize - 1)}
	t.global[table][user][i] = global
	if global {
		t.nGlobal++
	}
}

// Flush empties the TLB. keepGlobal keeps global pages (a CR3 write with
// CR4.PGE set, SDM Vol. 3A §4.10.4.1).
func (t *TLB) Flush(keepGlobal bool) {
	if !keepGlobal || t.nGlobal == 0 {
		t.Read = [2][TLBSize]TLBEntry{}
		t.Write = [2][TLBSize]TLBEntry{}
		t.Exec = [2][TLBSize]TLBEntry{}
		if t.nGlobal != 0 {
			t.global = [3][2][TLBSize]bool{}
			t.nGlobal = 0
		}
		return
	}
	for tab := range t.global {
		tbl := t.table(tab)
		for u := range tbl {
			g := &t.global[tab][u]
			for i := range tbl[u] {
				if !g[i] {
					tbl[u][i] = TLBEntry{}
				}
			}
		}
	}
}

// FlushPage drops every translation of the page holding va (INVLPG).
func (t *TLB) FlushPage(va uint64) {
	i, tag := Index(va), Tag(va)
	for tab := range t.global {
		tbl := t.table(tab)
		for u := range tbl {
			if tbl[u][i].Tag == tag {
				tbl[u][i] = TLBEntry{}
				t.global[tab][u][i] = false
			}
		}
	}
}

// DropWrites removes the write entries that point at the physical page pa,
// so that stores to it take the slow path (the page now holds code).
func (t *TLB) DropWrites(pa GPA) {
	page := uint64(pa) &^ (PageSize - 1)
	for u := 0; u < 2; u++ {
		for i := range t.Write[u] {
			if t.Write[u][i].Page == page && t.Write[u][i].Tag != 0 {
				t.Write[u][i] = TLBEntry{}
				t.global[TLBWrite][u][i] = false
			}
		}
	}
}
