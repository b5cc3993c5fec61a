package cpu_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gemu-project/gemu/cpu/internal/moo"
)

// TestMOOParse parses every vector of the 80286 suite without running it:
// it checks the README's totals, that every instruction decodes to the
// length the vector gives (except forms the 286 rejects with #UD, whose
// recorded bytes are random or cut short), and reports how many vectors each known
// difference matches.
func TestMOOParse(t *testing.T) {
	dir, names := suiteFiles(t)
	meta, _ := loadSuiteInfo(t, dir)
	total := 0
	exceptedBy := map[string]int{}
	var table strings.Builder
	for _, name := range names {
		if meta.Lookup(name) == nil {
			t.Errorf("%s: no entry in metadata.json", name)
		}
		n, excp := 0, 0
		by := map[string]int{}
		v := vector{file: name}
		op, reg, err := moo.FileOpcode(name)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := moo.ForEach(filepath.Join(dir, name+".MOO.gz"), func(tt *moo.Test) error {
			n++
			if tt.HasExcp {
				excp++
			}
			v.t, v.in = tt, moo.Decode(tt.Bytes)
			if v.in.Op != op || (reg >= 0 && v.in.Reg() != reg) {
				t.Errorf("%s test %d %q: decoded opcode %02x /%d", name, tt.Index, tt.Name, v.in.Op, v.in.Reg())
			}
			if v.in.Len != len(tt.Bytes)-1 && !v.excp(6) && !(v.in.Truncated && v.t.HasExcp) {
				t.Errorf("%s test %d %q [% x]: decoded length %d, vector has %d bytes before the HLT", name, tt.Index, tt.Name, tt.Bytes, v.in.Len, len(tt.Bytes)-1)
			}
			for _, d := range knownDifferences {
				if d.applies(&v) {
					by[d.id]++
					exceptedBy[d.id]++
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != int(rd.Header.TestCount) {
			t.Errorf("%s: %d TEST chunks, header says %d", name, n, rd.Header.TestCount)
		}
		total += n
		mn := ""
		if rd.Meta != nil {
			mn = rd.Meta.Mnemonic
		}
		fmt.Fprintf(&table, "  %-6s %-8s %5d tests, %4d with an exception%s\n", name, mn, n, excp, mapSummary(by))
	}
	t.Logf("%d files, %d tests\n%s", len(names), total, table.String())
	for _, d := range knownDifferences {
		t.Logf("known difference %-12s matches %d vectors", d.id, exceptedBy[d.id])
	}
	if len(names) != 325 || total != 758000 {
		t.Errorf("%d files with %d tests; the README says 325 files and 758,000 tests", len(names), total)
	}
}

func mapSummary(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return "; excepted: " + strings.Join(parts, ", ")
}
