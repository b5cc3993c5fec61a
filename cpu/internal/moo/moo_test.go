package moo

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// dataDir is the 80286 suite, relative to this package's directory.
const dataDir = "../../../../shared/conformance/singlesteptests-80286/v1_real_mode"

// chunk encodes one chunk.
func chunk(tag string, parts ...[]byte) []byte {
	var p []byte
	for _, x := range parts {
		p = append(p, x...)
	}
	b := append([]byte(tag), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(p)))
	return append(b, p...)
}

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func lp(b []byte) []byte { return append(u32(uint32(len(b))), b...) }

func regs(mask uint16, vals ...uint16) []byte {
	b := u16(mask)
	for _, v := range vals {
		b = append(b, u16(v)...)
	}
	return b
}

func ram(pairs ...RAMByte) []byte {
	b := u32(uint32(len(pairs)))
	for _, p := range pairs {
		b = append(b, u32(p.Addr)...)
		b = append(b, p.Val)
	}
	return b
}

func synthetic() []byte {
	var s []byte
	s = append(s, chunk("MOO ", []byte{1, 0, 0, 0}, u32(2), []byte("C286"))...)
	meta := []byte{1, 6, 0}
	meta = append(meta, u32(0x80)...)
	meta = append(meta, []byte("add     ")...)
	meta = append(meta, u32(5000)...)
	meta = append(meta, binary.LittleEndian.AppendUint64(nil, 0xdeadbeef)...)
	meta = append(meta, 0, 0, 0, 0)
	s = append(s, chunk("META", meta)...)
	s = append(s, chunk("JUNK", []byte("unknown top-level chunks are skipped"))...)
	all := make([]uint16, 14)
	for i := range all {
		all[i] = uint16(0x100 + i)
	}
	hash := bytes.Repeat([]byte{0xab}, 20)
	s = append(s, chunk("TEST", u32(0),
		chunk("GMET", make([]byte, 10)),
		chunk("NAME", lp([]byte("add [bx+0Eh],bl"))),
		chunk("BYTS", lp([]byte{0x00, 0x5f, 0x0e, 0xf4})),
		chunk("INIT", chunk("REGS", regs(0x3fff, all...)), chunk("RAM ", ram(RAMByte{0x1094a8, 0}, RAMByte{0x1094a9, 0x5f})), chunk("QUEU", u32(0))),
		chunk("FINA", chunk("REGS", regs(1<<IP|1<<AX, 0x1234, 0x5678)), chunk("RAM ", ram(RAMByte{0x16821, 1})), chunk("XTRA", []byte{1, 2, 3})),
		chunk("EXCP", []byte{6}, u32(0x12345)),
		chunk("HASH", hash),
	)...)
	s = append(s, chunk("TEST", u32(1),
		chunk("NAME", lp([]byte("nop"))),
		chunk("BYTS", lp([]byte{0x90, 0xf4})),
		chunk("INIT", chunk("REGS", regs(0x3fff, all...))),
		chunk("FINA", chunk("REGS", regs(1<<IP, 0x102))),
	)...)
	return s
}

func TestReaderSynthetic(t *testing.T) {
	rd, err := NewReader(bytes.NewReader(synthetic()))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Header{Major: 1, TestCount: 2, CPU: "C286"}); rd.Header != want {
		t.Errorf("header = %+v, want %+v", rd.Header, want)
	}
	var tt Test
	if err := rd.Next(&tt); err != nil {
		t.Fatal(err)
	}
	wantMeta := &Meta{SetMajor: 1, SetMinor: 6, Opcode: 0x80, Mnemonic: "add", TestCount: 5000, Seed: 0xdeadbeef}
	if diff := cmp.Diff(wantMeta, rd.Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	want := &Test{
		Index: 0,
		Name:  []byte("add [bx+0Eh],bl"),
		Bytes: []byte{0x00, 0x5f, 0x0e, 0xf4},
		Init: State{
			Regs: Regs{Mask: 0x3fff, V: [NumRegs]uint16{0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107, 0x108, 0x109, 0x10a, 0x10b, 0x10c, 0x10d}},
			RAM:  []RAMByte{{0x1094a8, 0}, {0x1094a9, 0x5f}},
		},
		Final: State{
			Regs: Regs{Mask: 1<<IP | 1<<AX, V: [NumRegs]uint16{AX: 0x1234, IP: 0x5678}},
			RAM:  []RAMByte{{0x16821, 1}},
		},
		HasExcp: true, ExcpVector: 6, ExcpFlagAddr: 0x12345,
		HasHash: true,
	}
	copy(want.Hash[:], bytes.Repeat([]byte{0xab}, 20))
	opts := cmpopts.EquateEmpty()
	if diff := cmp.Diff(want, &tt, opts); diff != "" {
		t.Errorf("test 0 (-want +got):\n%s", diff)
	}
	if got := tt.HashString(); got != strings.Repeat("ab", 20) {
		t.Errorf("HashString = %q", got)
	}
	keep := tt.Clone()
	if err := rd.Next(&tt); err != nil {
		t.Fatal(err)
	}
	// The reused Test must be fully reset: no leftovers from test 0.
	want1 := &Test{
		Index: 1, Name: []byte("nop"), Bytes: []byte{0x90, 0xf4},
		Init:  State{Regs: want.Init.Regs},
		Final: State{Regs: Regs{Mask: 1 << IP, V: [NumRegs]uint16{IP: 0x102}}},
	}
	if diff := cmp.Diff(want1, &tt, opts); diff != "" {
		t.Errorf("test 1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, keep, opts); diff != "" {
		t.Errorf("Clone was overwritten by Next (-want +got):\n%s", diff)
	}
	if err := rd.Next(&tt); err != io.EOF {
		t.Errorf("Next after the last test = %v, want io.EOF", err)
	}
}

func TestReaderErrors(t *testing.T) {
	good := synthetic()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"wrong magic", append([]byte("MOOX"), good[4:]...)},
		{"truncated payload", good[:len(good)-3]},
		{"truncated chunk header", good[:bytes.LastIndex(good, []byte("TEST"))+5]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReader(bytes.NewReader(tc.data))
			for err == nil {
				var tt Test
				err = rd.Next(&tt)
			}
			if err == io.EOF {
				t.Errorf("malformed stream read to a clean io.EOF")
			}
		})
	}
	// A sub-chunk whose length runs past its parent.
	bad := append([]byte(nil), good[:bytes.Index(good, []byte("TEST"))]...)
	bad = append(bad, chunk("TEST", u32(0), []byte("NAME"), u32(1000), []byte("abc"))...)
	rd, err := NewReader(bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	var tt Test
	if err := rd.Next(&tt); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("overlong sub-chunk: err = %v, want a format error", err)
	}
}

func TestFileOpcode(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   byte
		reg  int
	}{{"00", 0, -1}, {"80.4", 0x80, 4}, {"FF.6", 0xff, 6}, {"d4", 0xd4, -1}} {
		op, reg, err := FileOpcode(tc.name)
		if err != nil || op != tc.op || reg != tc.reg {
			t.Errorf("FileOpcode(%q) = %#x, %d, %v; want %#x, %d", tc.name, op, reg, err, tc.op, tc.reg)
		}
	}
	for _, bad := range []string{"", "XYZ", "80.8", "100"} {
		if _, _, err := FileOpcode(bad); err == nil {
			t.Errorf("FileOpcode(%q) succeeded", bad)
		}
	}
}

func needData(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("80286 test vectors not found at %s (%v); they live in the shared conformance directory", dataDir, err)
	}
}

// TestRealFile checks the first test of 00.MOO.gz against a hex dump of it.
func TestRealFile(t *testing.T) {
	needData(t)
	f, err := Open(filepath.Join(dataDir, "00.MOO.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Header.CPU != "C286" || f.Header.TestCount != 2500 {
		t.Errorf("header = %+v", f.Header)
	}
	var tt Test
	if err := f.Next(&tt); err != nil {
		t.Fatal(err)
	}
	if f.Meta == nil || f.Meta.Mnemonic != "add" || f.Meta.Opcode != 0 || f.Meta.CPUMode != 0 {
		t.Errorf("meta = %+v", f.Meta)
	}
	if string(tt.Name) != "add [bx+0Eh],bl" || !bytes.Equal(tt.Bytes, []byte{0x00, 0x5f, 0x0e, 0xf4}) {
		t.Errorf("test 0: name %q bytes % x", tt.Name, tt.Bytes)
	}
	if tt.Init.Regs.Mask != 0x3fff || tt.Init.Regs.V[AX] != 0x02cb || tt.Init.Regs.V[FLAGS] != 0x1893 {
		t.Errorf("test 0 INIT regs = %+v", tt.Init.Regs)
	}
	if len(tt.Init.RAM) != 11 || tt.Init.RAM[0] != (RAMByte{0x1094a8, 0x00}) {
		t.Errorf("test 0 INIT RAM = %v", tt.Init.RAM)
	}
	if tt.Final.Regs.Mask != 0x3000 || tt.Final.Regs.V[IP] != 0x94bc || tt.Final.Regs.V[FLAGS] != 0x13 || len(tt.Final.RAM) != 1 || tt.Final.RAM[0] != (RAMByte{0x106821, 0x01}) {
		t.Errorf("test 0 FINA = %+v", tt.Final)
	}
	if tt.HashString() != "626be5084b331080eb08256c12a62d24afdf2a03" {
		t.Errorf("hash = %s", tt.HashString())
	}
}

// TestParseAllocs checks that streaming a file does not allocate per test.
func TestParseAllocs(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	s := synthetic()
	zw.Write(s)
	test := s[bytes.Index(s, []byte("TEST")):]
	for range 1000 {
		zw.Write(test)
	}
	zw.Close()
	gz, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	var tt Test
	for range 10 { // warm the buffers up
		if err := rd.Next(&tt); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := rd.Next(&tt); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0.5 {
		t.Errorf("Next allocates %.1f times per test", allocs)
	}
}

// TestParseAll parses every file of the suite and checks the README's totals.
func TestParseAll(t *testing.T) {
	needData(t)
	if testing.Short() {
		t.Skip("parses 88 MiB of vectors")
	}
	files, err := filepath.Glob(filepath.Join(dataDir, "*.MOO.gz"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := LoadMetadata(filepath.Join(dataDir, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".MOO.gz")
		if meta.Lookup(name) == nil {
			t.Errorf("%s: no metadata.json entry", name)
		}
		n := 0
		rd, err := ForEach(path, func(tt *Test) error {
			if tt.Init.Regs.Mask != 0x3fff {
				t.Errorf("%s test %d: INIT register mask %#x", name, tt.Index, tt.Init.Regs.Mask)
			}
			if len(tt.Bytes) == 0 || tt.Bytes[len(tt.Bytes)-1] != 0xf4 {
				t.Errorf("%s test %d: bytes % x do not end in HLT", name, tt.Index, tt.Bytes)
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != int(rd.Header.TestCount) {
			t.Errorf("%s: %d tests, header says %d", name, n, rd.Header.TestCount)
		}
		total += n
	}
	t.Logf("%d files, %d tests", len(files), total)
	if len(files) != 325 || total != 758000 {
		t.Errorf("%d files with %d tests, README says 325 and 758,000", len(files), total)
	}
}
