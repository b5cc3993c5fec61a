// Package moo reads the MOO test-vector format of the SingleStepTests CPU
// suites (https://github.com/SingleStepTests): a gzip-compressed sequence of
// tagged chunks, each a 4-byte ASCII tag and a little-endian uint32 payload
// length. See shared/conformance/singlesteptests-80286/README.md.
//
// The reader streams: it keeps one payload buffer and fills a caller-owned
// Test in place, so a file of thousands of tests is parsed without a
// per-test allocation.
package moo

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Register indexes of a REGS chunk, in mask-bit order.
const (
	AX = iota
	BX
	CX
	DX
	CS
	SS
	DS
	ES
	SP
	BP
	SI
	DI
	IP
	FLAGS
	NumRegs
)

// RegNames are the register names in mask-bit order.
var RegNames = [NumRegs]string{"ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags"}

// Regs is a REGS chunk: V[i] is meaningful when Mask bit i is set.
type Regs struct {
	Mask uint16
	V    [NumRegs]uint16
}

// Has reports whether register i is present.
func (r *Regs) Has(i int) bool { return r.Mask&(1<<i) != 0 }

// RAMByte is one (physical address, value) pair of a RAM chunk.
type RAMByte struct {
	Addr uint32
	Val  uint8
}

// State is an INIT or FINA chunk.
type State struct {
	Regs  Regs
	RAM   []RAMByte
	Queue []byte
}

func (s *State) reset() {
	s.Regs = Regs{}
	s.RAM = s.RAM[:0]
	s.Queue = s.Queue[:0]
}

// Test is one TEST chunk. Its slices are reused by the next Reader.Next call
// that fills the same Test: copy what must outlive it (see Clone).
type Test struct {
	Index uint32
	Name  []byte // disassembly, e.g. "add [bx-5409h],dx"
	Bytes []byte // instruction bytes with prefixes, plus the trailing F4
	Init  State
	Final State
	// Exception, if HasExcp: the vector taken and the physical address of
	// the FLAGS word it pushed.
	HasExcp      bool
	ExcpVector   uint8
	ExcpFlagAddr uint32
	HasHash      bool
	Hash         [20]byte
}

// HashString is the test's hash in lower-case hex, as in the revocation list.
func (t *Test) HashString() string { return hex.EncodeToString(t.Hash[:]) }

// Clone returns a deep copy of t that does not share buffers with it.
func (t *Test) Clone() *Test {
	c := *t
	c.Name = append([]byte(nil), t.Name...)
	c.Bytes = append([]byte(nil), t.Bytes...)
	c.Init.RAM = append([]RAMByte(nil), t.Init.RAM...)
	c.Init.Queue = append([]byte(nil), t.Init.Queue...)
	c.Final.RAM = append([]RAMByte(nil), t.Final.RAM...)
	c.Final.Queue = append([]byte(nil), t.Final.Queue...)
	return &c
}

// Header is the "MOO " chunk.
type Header struct {
	Major, Minor uint8
	TestCount    uint32
	CPU          string // "C286"
}

// Meta is the "META" chunk.
type Meta struct {
	SetMajor, SetMinor uint8
	CPUType            uint8
	Opcode             uint32
	Mnemonic           string
	TestCount          uint32
	Seed               uint64
	CPUMode            uint8 // 0 = real mode
}

// Reader reads the tests of one MOO stream.
type Reader struct {
	r      *bufio.Reader
	Header Header
	Meta   *Meta // nil until a META chunk has been read
	buf    []byte
	hdr    [8]byte
}

// NewReader reads the "MOO " header chunk from r, which must already be
// decompressed (see Open).
func NewReader(r io.Reader) (*Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	rd := &Reader{r: br}
	tag, p, err := rd.chunk()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("moo: reading header: %w", err)
	}
	if tag != "MOO " {
		return nil, fmt.Errorf("moo: first chunk is %q, want \"MOO \"", tag)
	}
	if len(p) < 12 {
		return nil, fmt.Errorf("moo: header chunk is %d bytes, want 12", len(p))
	}
	rd.Header = Header{Major: p[0], Minor: p[1], TestCount: le32(p[4:]), CPU: string(p[8:12])}
	if rd.Header.Major != 1 {
		return nil, fmt.Errorf("moo: format version %d.%d, want 1.x", p[0], p[1])
	}
	return rd, nil
}

// chunk reads the next top-level chunk into the reader's buffer.
func (rd *Reader) chunk() (string, []byte, error) {
	if _, err := io.ReadFull(rd.r, rd.hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return "", nil, fmt.Errorf("truncated chunk header: %w", err)
		}
		return "", nil, err // io.EOF at a chunk boundary is the clean end
	}
	n := int(le32(rd.hdr[4:]))
	if n > 64<<20 {
		return "", nil, fmt.Errorf("chunk %q length %d is implausible", rd.hdr[:4], n)
	}
	if cap(rd.buf) < n {
		rd.buf = make([]byte, n, n+n/2)
	}
	rd.buf = rd.buf[:n]
	if _, err := io.ReadFull(rd.r, rd.buf); err != nil {
		return "", nil, fmt.Errorf("chunk %q: payload of %d bytes: %w", rd.hdr[:4], n, noEOF(err))
	}
	return tagString(rd.hdr[:4]), rd.buf, nil
}

// tagString avoids an allocation for the known tags.
func tagString(b []byte) string {
	switch string(b) { // the compiler does not allocate for a switch on string(b)
	case "MOO ":
		return "MOO "
	case "META":
		return "META"
	case "TEST":
		return "TEST"
	case "GMET":
		return "GMET"
	case "NAME":
		return "NAME"
	case "BYTS":
		return "BYTS"
	case "INIT":
		return "INIT"
	case "FINA":
		return "FINA"
	case "EXCP":
		return "EXCP"
	case "HASH":
		return "HASH"
	case "REGS":
		return "REGS"
	case "RAM ":
		return "RAM "
	case "QUEU":
		return "QUEU"
	}
	return string(b)
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Next fills t with the next test. It returns io.EOF after the last one.
// Chunks other than META and TEST are skipped.
func (rd *Reader) Next(t *Test) error {
	for {
		tag, p, err := rd.chunk()
		if err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return fmt.Errorf("moo: %w", err)
		}
		switch tag {
		case "META":
			m, err := parseMeta(p)
			if err != nil {
				return err
			}
			rd.Meta = m
		case "TEST":
			if err := parseTest(p, t); err != nil {
				return fmt.Errorf("moo: test chunk: %w", err)
			}
			return nil
		}
	}
}

func parseMeta(p []byte) (*Meta, error) {
	if len(p) < 27 {
		return nil, fmt.Errorf("moo: META chunk is %d bytes, want at least 27", len(p))
	}
	m := &Meta{
		SetMajor: p[0], SetMinor: p[1], CPUType: p[2],
		Opcode:    le32(p[3:]),
		Mnemonic:  strings.TrimRight(string(p[7:15]), " \x00"),
		TestCount: le32(p[15:]),
		Seed:      binary.LittleEndian.Uint64(p[19:]),
	}
	if len(p) > 27 {
		m.CPUMode = p[27]
	}
	return m, nil
}

var errShort = errors.New("sub-chunk runs past its parent")

// chunks iterates over the sub-chunks of a payload without allocating.
type chunks struct {
	p   []byte
	tag string
	q   []byte
	err error
}

// next advances to the next sub-chunk; it returns false at the end or on
// a malformed chunk (then err is set).
func (c *chunks) next() bool {
	if len(c.p) == 0 || c.err != nil {
		return false
	}
	if len(c.p) < 8 {
		c.err = errShort
		return false
	}
	n := le32(c.p[4:])
	if uint64(n) > uint64(len(c.p)-8) {
		c.err = fmt.Errorf("%q: %w", c.p[:4], errShort)
		return false
	}
	c.tag, c.q = tagString(c.p[:4]), c.p[8:8+n]
	c.p = c.p[8+n:]
	return true
}

// lenPrefixed returns the u32-length-prefixed bytes at the start of q.
func lenPrefixed(q []byte) ([]byte, error) {
	if len(q) < 4 {
		return nil, errShort
	}
	n := le32(q)
	if uint64(n) > uint64(len(q)-4) {
		return nil, errShort
	}
	return q[4 : 4+n], nil
}

func parseTest(p []byte, t *Test) error {
	if len(p) < 4 {
		return errShort
	}
	t.Index = le32(p)
	t.Name = t.Name[:0]
	t.Bytes = t.Bytes[:0]
	t.Init.reset()
	t.Final.reset()
	t.HasExcp, t.ExcpVector, t.ExcpFlagAddr = false, 0, 0
	t.HasHash, t.Hash = false, [20]byte{}
	var sawInit, sawFinal bool
	c := chunks{p: p[4:]}
	for c.next() {
		if err := t.sub(c.tag, c.q, &sawInit, &sawFinal); err != nil {
			return fmt.Errorf("test %d: %q: %w", t.Index, c.tag, err)
		}
	}
	if c.err != nil {
		return fmt.Errorf("test %d: %w", t.Index, c.err)
	}
	if !sawInit || !sawFinal {
		return fmt.Errorf("test %d: missing INIT or FINA", t.Index)
	}
	return nil
}

func (t *Test) sub(tag string, q []byte, sawInit, sawFinal *bool) error {
	switch tag {
	case "NAME":
		b, err := lenPrefixed(q)
		if err != nil {
			return err
		}
		t.Name = append(t.Name, b...)
	case "BYTS":
		b, err := lenPrefixed(q)
		if err != nil {
			return err
		}
		t.Bytes = append(t.Bytes, b...)
	case "INIT":
		*sawInit = true
		return parseState(q, &t.Init)
	case "FINA":
		*sawFinal = true
		return parseState(q, &t.Final)
	case "EXCP":
		if len(q) < 5 {
			return errShort
		}
		t.HasExcp, t.ExcpVector, t.ExcpFlagAddr = true, q[0], le32(q[1:])
	case "HASH":
		if len(q) < 20 {
			return errShort
		}
		t.HasHash = true
		copy(t.Hash[:], q)
	}
	return nil
}

func parseState(p []byte, s *State) error {
	c := chunks{p: p}
	for c.next() {
		if err := s.sub(c.tag, c.q); err != nil {
			return fmt.Errorf("%q: %w", c.tag, err)
		}
	}
	return c.err
}

func (s *State) sub(tag string, q []byte) error {
	switch tag {
	case "REGS":
		if len(q) < 2 {
			return errShort
		}
		s.Regs.Mask = le16(q)
		if s.Regs.Mask>>NumRegs != 0 {
			return fmt.Errorf("register mask %#x has unknown bits", s.Regs.Mask)
		}
		q = q[2:]
		for i := 0; i < NumRegs; i++ {
			if s.Regs.Mask&(1<<i) == 0 {
				continue
			}
			if len(q) < 2 {
				return errShort
			}
			s.Regs.V[i] = le16(q)
			q = q[2:]
		}
	case "RAM ":
		if len(q) < 4 {
			return errShort
		}
		n := le32(q)
		q = q[4:]
		if uint64(n)*5 > uint64(len(q)) {
			return errShort
		}
		for i := uint32(0); i < n; i++ {
			s.RAM = append(s.RAM, RAMByte{Addr: le32(q), Val: q[4]})
			q = q[5:]
		}
	case "QUEU":
		if len(q) == 0 {
			return nil
		}
		b, err := lenPrefixed(q)
		if err != nil {
			return err
		}
		s.Queue = append(s.Queue, b...)
	}
	return nil
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// File is an open, gzip-compressed MOO file.
type File struct {
	*Reader
	f  *os.File
	gz *gzip.Reader
}

// Open opens a .MOO.gz file and reads its header.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	gz.Multistream(true)
	rd, err := NewReader(gz)
	if err != nil {
		gz.Close()
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Reader: rd, f: f, gz: gz}, nil
}

// Close closes the file.
func (f *File) Close() error {
	err := f.gz.Close()
	if err2 := f.f.Close(); err == nil {
		err = err2
	}
	return err
}

// ForEach opens path and calls fn for every test in it; t is reused between
// calls. It stops at fn's first error and returns it.
func ForEach(path string, fn func(t *Test) error) (*Reader, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var t Test
	for {
		err := f.Next(&t)
		if err == io.EOF {
			return f.Reader, nil
		}
		if err != nil {
			return f.Reader, fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(&t); err != nil {
			return f.Reader, err
		}
	}
}

// Metadata is a suite's metadata.json, reduced to what a runner needs.
type Metadata struct {
	Version string             `json:"version"`
	CPU     string             `json:"cpu"`
	Opcodes map[string]*Opcode `json:"opcodes"`
}

// Opcode is one entry of metadata.json's "opcodes" (or of an opcode's "reg").
type Opcode struct {
	Status    string             `json:"status"`
	Arch      string             `json:"arch"`
	Flags     string             `json:"flags"`
	FlagsMask *uint32            `json:"flags-mask"`
	Reg       map[string]*Opcode `json:"reg"`
}

// LoadMetadata reads a metadata.json file.
func LoadMetadata(path string) (*Metadata, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// Lookup returns the entry for a file name such as "80.4" or "D4" (opcode in
// hex, then "."+reg for group opcodes), or nil.
func (m *Metadata) Lookup(name string) *Opcode {
	op, reg, group := strings.Cut(name, ".")
	e := m.Opcodes[strings.ToUpper(op)]
	if e == nil || !group {
		return e
	}
	if e.Reg == nil {
		return nil
	}
	return e.Reg[reg]
}

// FlagsMask is the mask to AND into FLAGS before comparing, for a file
// name like Lookup's: 0xFFFF when every flag is defined.
func (m *Metadata) FlagsMask(name string) uint16 {
	if e := m.Lookup(name); e != nil && e.FlagsMask != nil {
		return uint16(*e.FlagsMask)
	}
	return 0xFFFF
}

// LoadRevocations reads a revocation list: one hex SHA-1 per line, with
// '#' comments and blank lines ignored.
func LoadRevocations(path string) (map[[20]byte]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[[20]byte]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		h, err := hex.DecodeString(line)
		if err != nil || len(h) != 20 {
			return nil, fmt.Errorf("%s:%d: %q is not a SHA-1 in hex", path, i+1, line)
		}
		var k [20]byte
		copy(k[:], h)
		out[k] = true
	}
	return out, nil
}

// FileOpcode returns the opcode byte and ModR/M reg (or -1) of a file name
// like "80.4" or "D4".
func FileOpcode(name string) (op byte, reg int, err error) {
	o, r, group := strings.Cut(name, ".")
	v, err := strconv.ParseUint(o, 16, 8)
	if err != nil {
		return 0, -1, fmt.Errorf("file name %q: bad opcode: %w", name, err)
	}
	if !group {
		return byte(v), -1, nil
	}
	g, err := strconv.ParseUint(r, 10, 3)
	if err != nil {
		return 0, -1, fmt.Errorf("file name %q: bad reg: %w", name, err)
	}
	return byte(v), int(g), nil
}
