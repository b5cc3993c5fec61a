package cpu

// Trap counting: in full mode every sensitive instruction ends its block and
// is emulated by the hypervisor on the virtual CPU; each execution is counted
// by its row of the sensitive-instruction table (table.go), as a
// trap-and-emulate hypervisor counts its exits by reason.

// sensitiveRows are the counted rows, numbered by countSensitive.
var sensitiveRows []SensitiveRow

// countSensitive wraps the handler of every sensitive row (one-byte,
// two-byte and 64-bit tables, and their ModRM groups) with its counter.
// The cost is on those instructions only; the others run as before.
func countSensitive() {
	seen := map[*opDesc]bool{}
	wrap := func(d *opDesc) {
		if d.flags&fSensitive == 0 || d.fn == nil || seen[d] {
			return
		}
		seen[d] = true
		row := len(sensitiveRows)
		sensitiveRows = append(sensitiveRows, SensitiveRow{Name: d.name, Reason: d.reason})
		fn := d.fn
		d.fn = func(c *CPU, in *inst) {
			if row < len(c.sensitive) { // a CPU made without New counts nothing
				c.sensitive[row]++
			}
			fn(c, in)
		}
	}
	for _, table := range []*[0x200]opDesc{&opTable, &opTable64} {
		for i := range table {
			d := &table[i]
			wrap(d)
			if d.group != nil {
				for j := range d.group {
					wrap(&d.group[j])
				}
			}
		}
	}
}

// SensitiveCount is how often the guest executed one row of the table.
type SensitiveCount struct {
	SensitiveRow
	Count uint64
}

// SensitiveCounts returns the rows executed so far, with their counts, in
// table order.
func (c *CPU) SensitiveCounts() []SensitiveCount {
	var out []SensitiveCount
	for i, n := range c.sensitive {
		if n != 0 {
			out = append(out, SensitiveCount{SensitiveRow: sensitiveRows[i], Count: n})
		}
	}
	return out
}

// Traps is the number of sensitive instructions executed: the exits a
// trap-and-emulate hypervisor would take for them.
func (c *CPU) Traps() uint64 {
	var n uint64
	for _, v := range c.sensitive {
		n += v
	}
	return n
}
