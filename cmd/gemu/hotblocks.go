package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/gemu-project/gemu/cpu"
)

// symbol is one line of a symbol map.
type symbol struct {
	addr uint64
	name string
}

// symbolMap is a sorted symbol table: System.map, or a guest's
// /proc/kallsyms (Debian ships no real System.map; `cat /proc/kallsyms` in
// the guest gives one for a kernel booted without KASLR, e.g. through PVH).
type symbolMap []symbol

// readSymbolMap reads "ADDRESS TYPE NAME [MODULE]" lines; other lines are
// skipped, and a file without any is an error.
func readSymbolMap(path string) (symbolMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m symbolMap
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 3 || len(fs[1]) != 1 {
			continue
		}
		a, err := strconv.ParseUint(fs[0], 16, 64)
		if err != nil || a == 0 {
			continue
		}
		m = append(m, symbol{a, fs[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: no \"ADDRESS TYPE NAME\" lines", path)
	}
	sort.Slice(m, func(i, j int) bool { return m[i].addr < m[j].addr })
	return m, nil
}

// name is "symbol+0xOFF" for an address, or "" if no symbol comes before
// it within 1 MiB.
func (m symbolMap) name(addr uint64) string {
	i := sort.Search(len(m), func(i int) bool { return m[i].addr > addr }) - 1
	if i < 0 || addr-m[i].addr >= 1<<20 {
		return ""
	}
	if addr == m[i].addr {
		return m[i].name
	}
	return fmt.Sprintf("%s+%#x", m[i].name, addr-m[i].addr)
}

// writeHotBlocks prints the block profile: each block's share of the run's
// instructions, its executions and its code.
func writeHotBlocks(w io.Writer, blocks []cpu.BlockProfile, total uint64, syms symbolMap) {
	fmt.Fprintf(w, "hot blocks: the %d that retired the most of %d instructions\n", len(blocks), total)
	fmt.Fprintf(w, "%7s %14s %12s %6s  %s\n", "share", "instructions", "executions", "length", "address")
	for _, b := range blocks {
		share := 0.0
		if total > 0 {
			share = 100 * float64(b.Retired()) / float64(total)
		}
		where := fmt.Sprintf("%#x", b.Addr)
		if s := syms.name(b.Addr); s != "" {
			where += " " + s
		}
		fmt.Fprintf(w, "%6.2f%% %14d %12d %6d  %s (%d-bit)\n", share, b.Retired(), b.Execs, b.Instructions, where, b.Mode)
		for _, line := range b.Code {
			fmt.Fprintf(w, "%44s%s\n", "", line)
		}
	}
}
