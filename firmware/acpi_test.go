package firmware

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// acpiTestConfig has two processors, a PCI-style level IRQ and two
// virtio-mmio devices, so that every kind of entry appears.
func acpiTestConfig() ACPIConfig {
	return ACPIConfig{
		CPUs:      2,
		IOAPICID:  0,
		LevelIRQs: []uint8{11, 5, 9},
		VirtioMMIO: []VirtioMMIODevice{
			{Base: 0xFEB00000, Size: 0x200, GSI: 16},
			{Base: 0xFEB00200, Size: 0x200, GSI: 17},
		},
	}
}

func buildTestACPI(t *testing.T, cfg ACPIConfig) ([]byte, uint64) {
	t.Helper()
	tables, rsdp, err := BuildACPI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tables, rsdp
}

// acpiTable returns the table at physical address addr of tables (placed at
// base), after checking its length and checksum.
func acpiTable(t *testing.T, tables []byte, base, addr uint64, sig string) []byte {
	t.Helper()
	if addr < base || addr+36 > base+uint64(len(tables)) {
		t.Fatalf("%s at %#x is outside the tables %#x+%#x", sig, addr, base, len(tables))
	}
	b := tables[addr-base:]
	if got := string(b[:4]); got != sig {
		t.Fatalf("table at %#x is %q, want %q", addr, got, sig)
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if n < 36 || uint64(n) > uint64(len(b)) {
		t.Fatalf("%s: length %d out of range", sig, n)
	}
	b = b[:n]
	if s := acpiTestSum(b); s != 0 {
		t.Errorf("%s: bytes sum to %#x, want 0", sig, s)
	}
	if string(b[10:16]) != "GEMU  " || string(b[16:24]) != "GEMU"+sig {
		t.Errorf("%s: OEM ID %q, table ID %q", sig, b[10:16], b[16:24])
	}
	return b
}

func acpiTestSum(b []byte) uint8 {
	var s uint8
	for _, v := range b {
		s += v
	}
	return s
}

// acpiTestTables follows RSDP → XSDT → the tables and returns them by
// signature, checking the RSDT lists the same ones.
func acpiTestTables(t *testing.T, tables []byte, base, rsdp uint64) map[string][]byte {
	t.Helper()
	r := tables[rsdp-base:]
	if string(r[:8]) != "RSD PTR " || r[15] != 2 {
		t.Fatalf("RSDP: signature %q revision %d", r[:8], r[15])
	}
	if s := acpiTestSum(r[:20]); s != 0 {
		t.Errorf("RSDP: first 20 bytes sum to %#x", s)
	}
	if n := binary.LittleEndian.Uint32(r[20:]); n != 36 {
		t.Errorf("RSDP: length %d, want 36", n)
	}
	if s := acpiTestSum(r[:36]); s != 0 {
		t.Errorf("RSDP: extended checksum: sum %#x", s)
	}
	xsdt := acpiTable(t, tables, base, binary.LittleEndian.Uint64(r[24:]), "XSDT")
	rsdt := acpiTable(t, tables, base, uint64(binary.LittleEndian.Uint32(r[16:])), "RSDT")
	got := map[string][]byte{"XSDT": xsdt, "RSDT": rsdt}
	if (len(xsdt)-36)%8 != 0 || (len(rsdt)-36)/4 != (len(xsdt)-36)/8 {
		t.Fatalf("XSDT length %d, RSDT length %d", len(xsdt), len(rsdt))
	}
	for i := 36; i < len(xsdt); i += 8 {
		addr := binary.LittleEndian.Uint64(xsdt[i:])
		if r := binary.LittleEndian.Uint32(rsdt[36+(i-36)/2:]); uint64(r) != addr {
			t.Errorf("RSDT entry %#x, XSDT entry %#x", r, addr)
		}
		sig := string(tables[addr-base:][:4])
		got[sig] = acpiTable(t, tables, base, addr, sig)
	}
	fadt := got["FACP"]
	if fadt == nil {
		t.Fatal("no FADT in the XSDT")
	}
	got["DSDT"] = acpiTable(t, tables, base, binary.LittleEndian.Uint64(fadt[140:]), "DSDT")
	facs := binary.LittleEndian.Uint64(fadt[132:])
	if facs%64 != 0 || facs < base || facs+64 > base+uint64(len(tables)) {
		t.Fatalf("FACS at %#x", facs)
	}
	f := tables[facs-base:][:64]
	if string(f[:4]) != "FACS" || binary.LittleEndian.Uint32(f[4:]) != 64 || f[32] != 2 {
		t.Errorf("FACS: %q length %d version %d", f[:4], binary.LittleEndian.Uint32(f[4:]), f[32])
	}
	got["FACS"] = f
	return got
}

func TestACPITables(t *testing.T) {
	cfg := acpiTestConfig()
	tables, rsdp := buildTestACPI(t, cfg)
	if rsdp != ACPIBase {
		t.Errorf("RSDP at %#x, want %#x", rsdp, ACPIBase)
	}
	if len(tables) > ACPIAreaSize {
		t.Errorf("tables are %#x bytes, the area %#x", len(tables), ACPIAreaSize)
	}
	got := acpiTestTables(t, tables, ACPIBase, rsdp)
	for _, sig := range []string{"RSDT", "XSDT", "FACP", "APIC", "DSDT", "FACS"} {
		if got[sig] == nil {
			t.Errorf("no %s", sig)
		}
	}
	if len(got) != 6 {
		t.Errorf("%d tables, want 6 (RSDT, XSDT, FACP, APIC, DSDT, FACS)", len(got))
	}
	if n := len(got["FACP"]); n != 276 || got["FACP"][8] != 6 {
		t.Errorf("FADT length %d revision %d, want 276 and 6", n, got["FACP"][8])
	}
	if got["DSDT"][8] != 2 {
		t.Errorf("DSDT revision %d, want 2 (64-bit integers)", got["DSDT"][8])
	}

	// A base elsewhere moves every pointer.
	cfg.Base = 0x7FFF0000
	t2, rsdp2 := buildTestACPI(t, cfg)
	if rsdp2 != 0x7FFF0000 {
		t.Errorf("RSDP at %#x", rsdp2)
	}
	acpiTestTables(t, t2, 0x7FFF0000, rsdp2)
}

// The kernel finds the RSDP by scanning 0xE0000–0xFFFFF on 16-byte
// boundaries (ACPI 6.4 §5.2.5.1), here with the BIOS ROM at 0xF0000 too.
func TestACPIRSDPScan(t *testing.T) {
	mem := make([]byte, 1<<20)
	tables, _ := buildTestACPI(t, ACPIConfig{})
	copy(mem[ACPIBase:], tables)
	rom, err := BIOSImage(64<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	copy(mem[BIOSBase:], rom)
	found := uint64(0)
	for a := uint64(0xE0000); a < 0x100000; a += 16 {
		if string(mem[a:a+8]) == "RSD PTR " && acpiTestSum(mem[a:a+20]) == 0 {
			found = a
			break
		}
	}
	if found != ACPIBase {
		t.Fatalf("scan found the RSDP at %#x, want %#x", found, ACPIBase)
	}
	acpiTestTables(t, mem[ACPIBase:ACPIBase+ACPIAreaSize], ACPIBase, found)
}

// Field offsets from ACPI 6.4 §5.2.9, Table 5.9.
func TestACPIFADTFields(t *testing.T) {
	tables, rsdp := buildTestACPI(t, ACPIConfig{})
	got := acpiTestTables(t, tables, ACPIBase, rsdp)
	f := got["FACP"]
	u8 := func(off int) uint64 { return uint64(f[off]) }
	u16 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint16(f[off:])) }
	u32 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint32(f[off:])) }
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(f[off:]) }
	dsdt := u64(140)
	facs := u64(132)
	for _, c := range []struct {
		name string
		got  uint64
		want uint64
	}{
		{"FIRMWARE_CTRL", u32(36), facs},
		{"DSDT", u32(40), dsdt},
		{"SCI_INT", u16(46), 9},
		{"SMI_CMD", u32(48), 0},
		{"ACPI_ENABLE", u8(52), 0},
		{"ACPI_DISABLE", u8(53), 0},
		{"PM1a_EVT_BLK", u32(56), 0x600},
		{"PM1b_EVT_BLK", u32(60), 0},
		{"PM1a_CNT_BLK", u32(64), 0x604},
		{"PM1b_CNT_BLK", u32(68), 0},
		{"PM2_CNT_BLK", u32(72), 0},
		{"PM_TMR_BLK", u32(76), 0x608},
		{"GPE0_BLK", u32(80), 0},
		{"PM1_EVT_LEN", u8(88), 4},
		{"PM1_CNT_LEN", u8(89), 2},
		{"PM2_CNT_LEN", u8(90), 0},
		{"PM_TMR_LEN", u8(91), 4},
		{"GPE0_BLK_LEN", u8(92), 0},
		{"P_LVL2_LAT", u16(96), 0xFFF},
		{"P_LVL3_LAT", u16(98), 0xFFF},
		{"CENTURY", u8(108), 0x32},
		{"IAPC_BOOT_ARCH", u16(109), 0x7}, // legacy devices, 8042, no VGA
		{"Flags", u32(112), 0x475},        // WBINVD, PROC_C1, PWR_BUTTON, SLP_BUTTON, FIX_RTC, RESET_REG_SUP
		{"RESET_REG space", u8(116), 1},   // system I/O
		{"RESET_REG width", u8(117), 8},
		{"RESET_REG access", u8(119), 1}, // byte
		{"RESET_REG address", u64(120), 0x64},
		{"RESET_VALUE", u8(128), 0xFE},
		{"FADT Minor Version", u8(131), 0},
		{"X_PM1a_EVT_BLK space", u8(148), 1},
		{"X_PM1a_EVT_BLK width", u8(149), 32},
		{"X_PM1a_EVT_BLK", u64(152), 0x600},
		{"X_PM1b_EVT_BLK", u64(164), 0},
		{"X_PM1a_CNT_BLK space", u8(172), 1},
		{"X_PM1a_CNT_BLK width", u8(173), 16},
		{"X_PM1a_CNT_BLK", u64(176), 0x604},
		{"X_PM_TMR_BLK space", u8(208), 1},
		{"X_PM_TMR_BLK width", u8(209), 32},
		{"X_PM_TMR_BLK", u64(212), 0x608},
		{"X_GPE0_BLK", u64(224), 0},
		{"SLEEP_CONTROL_REG", u64(248), 0},
		{"SLEEP_STATUS_REG", u64(260), 0},
		{"Hypervisor Vendor Identity", u64(268), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if f[112]&0x10 == 0 || u32(112)&(1<<20) != 0 {
		t.Error("FADT: want no fixed power button and not hardware-reduced")
	}
	if facs%64 != 0 || dsdt == 0 {
		t.Errorf("FACS %#x, DSDT %#x", facs, dsdt)
	}
}

type madtEntry struct {
	typ  uint8
	data []byte // after type and length
}

func parseMADT(t *testing.T, m []byte) []madtEntry {
	t.Helper()
	var es []madtEntry
	for off := 44; off < len(m); {
		if off+2 > len(m) || m[off+1] < 2 || off+int(m[off+1]) > len(m) {
			t.Fatalf("MADT: bad entry at offset %d", off)
		}
		es = append(es, madtEntry{m[off], m[off+2 : off+int(m[off+1])]})
		off += int(m[off+1])
	}
	return es
}

func TestACPIMADT(t *testing.T) {
	cfg := acpiTestConfig()
	cfg.IOAPICID = 2
	tables, rsdp := buildTestACPI(t, cfg)
	m := acpiTestTables(t, tables, ACPIBase, rsdp)["APIC"]
	if a := binary.LittleEndian.Uint32(m[36:]); a != 0xFEE00000 {
		t.Errorf("local APIC address %#x", a)
	}
	if f := binary.LittleEndian.Uint32(m[40:]); f != 1 {
		t.Errorf("MADT flags %#x, want PCAT_COMPAT", f)
	}
	var got []string
	for _, e := range parseMADT(t, m) {
		d := e.data
		switch e.typ {
		case 0:
			got = append(got, fmt.Sprintf("lapic uid=%d id=%d flags=%#x", d[0], d[1], binary.LittleEndian.Uint32(d[2:])))
		case 1:
			got = append(got, fmt.Sprintf("ioapic id=%d addr=%#x gsi=%d len=%d", d[0], binary.LittleEndian.Uint32(d[2:]), binary.LittleEndian.Uint32(d[6:]), len(d)+2))
		case 2:
			got = append(got, fmt.Sprintf("iso bus=%d irq=%d gsi=%d flags=%#x", d[0], d[1], binary.LittleEndian.Uint32(d[2:]), binary.LittleEndian.Uint16(d[6:])))
		case 4:
			got = append(got, fmt.Sprintf("nmi uid=%#x flags=%#x lint=%d", d[0], binary.LittleEndian.Uint16(d[1:]), d[3]))
		default:
			got = append(got, fmt.Sprintf("type %d", e.typ))
		}
	}
	want := []string{
		"lapic uid=0 id=0 flags=0x1",
		"lapic uid=1 id=1 flags=0x1",
		"ioapic id=2 addr=0xfec00000 gsi=0 len=12",
		"iso bus=0 irq=0 gsi=2 flags=0x0",
		"iso bus=0 irq=5 gsi=5 flags=0xd",
		"iso bus=0 irq=9 gsi=9 flags=0xd",
		"iso bus=0 irq=11 gsi=11 flags=0xd",
		"nmi uid=0xff flags=0x0 lint=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("MADT entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestACPIErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  ACPIConfig
		want string
	}{
		{"unaligned", ACPIConfig{Base: 0xE0008}, "aligned"},
		{"cpus", ACPIConfig{CPUs: 256}, "CPUs"},
		{"level irq 0", ACPIConfig{LevelIRQs: []uint8{0}}, "ISA IRQ"},
		{"level irq 16", ACPIConfig{LevelIRQs: []uint8{16}}, "ISA IRQ"},
		{"gsi", ACPIConfig{VirtioMMIO: []VirtioMMIODevice{{Base: 0xD0000000, Size: 0x200, GSI: 24}}}, "GSI"},
		{"empty", ACPIConfig{VirtioMMIO: []VirtioMMIODevice{{Base: 0xD0000000}}}, "range"},
		{"above 4G", ACPIConfig{VirtioMMIO: []VirtioMMIODevice{{Base: 0xFFFFFF00, Size: 0x200, GSI: 5}}}, "range"},
		{"tables above 4G", ACPIConfig{Base: 0xFFFFFF00}, "4 GiB"},
	} {
		_, _, err := BuildACPI(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
}

// A test decoder for the AML subset the DSDT uses (ACPI 6.4 §20.2),
// written from the grammar rather than from the encoder.

type amlNode struct {
	op   string // Scope, Device, Name, Package, Buffer, Integer, String
	name string
	num  uint64
	str  string
	data []byte
	kids []*amlNode
}

func decodePkgLength(t *testing.T, b []byte) (length, size int) {
	t.Helper()
	lead := b[0]
	k := int(lead >> 6)
	if k == 0 {
		return int(lead & 0x3F), 1
	}
	if lead&0x30 != 0 {
		t.Fatalf("PkgLength lead byte %#x: bits 5:4 must be 0", lead)
	}
	length = int(lead & 0x0F)
	for i := range k {
		length |= int(b[1+i]) << (4 + 8*i)
	}
	return length, 1 + k
}

func decodeNameString(t *testing.T, b []byte) (string, int) {
	t.Helper()
	var s strings.Builder
	i := 0
	if b[0] == '\\' {
		s.WriteByte('\\')
		i++
	}
	for b[i] == '^' {
		s.WriteByte('^')
		i++
	}
	n := 1
	switch b[i] {
	case 0:
		return s.String(), i + 1
	case 0x2E:
		n, i = 2, i+1
	case 0x2F:
		n, i = int(b[i+1]), i+2
	}
	for j := range n {
		seg := b[i : i+4]
		for k, c := range seg {
			if !(c == '_' || c >= 'A' && c <= 'Z' || k > 0 && c >= '0' && c <= '9') {
				t.Fatalf("bad NameSeg %q", seg)
			}
		}
		if j > 0 {
			s.WriteByte('.')
		}
		s.Write(seg)
		i += 4
	}
	return s.String(), i
}

// decodeData decodes a DataRefObject.
func decodeData(t *testing.T, b []byte) (*amlNode, int) {
	t.Helper()
	switch b[0] {
	case 0x00, 0x01:
		return &amlNode{op: "Integer", num: uint64(b[0])}, 1
	case 0xFF:
		return &amlNode{op: "Integer", num: ^uint64(0)}, 1
	case 0x0A:
		return &amlNode{op: "Integer", num: uint64(b[1])}, 2
	case 0x0B:
		return &amlNode{op: "Integer", num: uint64(binary.LittleEndian.Uint16(b[1:]))}, 3
	case 0x0C:
		return &amlNode{op: "Integer", num: uint64(binary.LittleEndian.Uint32(b[1:]))}, 5
	case 0x0E:
		return &amlNode{op: "Integer", num: binary.LittleEndian.Uint64(b[1:])}, 9
	case 0x0D:
		end := bytes.IndexByte(b[1:], 0)
		return &amlNode{op: "String", str: string(b[1 : 1+end])}, end + 2
	case 0x11:
		l, n := decodePkgLength(t, b[1:])
		body := b[1+n : 1+l]
		size, m := decodeData(t, body)
		if size.op != "Integer" || int(size.num) != len(body)-m {
			t.Fatalf("Buffer: size %v, %d bytes of data", size.num, len(body)-m)
		}
		return &amlNode{op: "Buffer", data: body[m:]}, 1 + l
	case 0x12:
		l, n := decodePkgLength(t, b[1:])
		body := b[1+n : 1+l]
		p := &amlNode{op: "Package"}
		count := int(body[0])
		for i := 1; i < len(body); {
			e, m := decodeData(t, body[i:])
			p.kids = append(p.kids, e)
			i += m
		}
		if len(p.kids) != count {
			t.Fatalf("Package: NumElements %d, %d elements", count, len(p.kids))
		}
		return p, 1 + l
	}
	t.Fatalf("unknown data object opcode %#x", b[0])
	return nil, 0
}

func decodeTermList(t *testing.T, b []byte) []*amlNode {
	t.Helper()
	var out []*amlNode
	for i := 0; i < len(b); {
		switch {
		case b[i] == 0x08: // NameOp
			name, n := decodeNameString(t, b[i+1:])
			obj, m := decodeData(t, b[i+1+n:])
			out = append(out, &amlNode{op: "Name", name: name, kids: []*amlNode{obj}})
			i += 1 + n + m
		case b[i] == 0x10, b[i] == 0x5B && b[i+1] == 0x82: // ScopeOp, DeviceOp
			op, oplen := "Scope", 1
			if b[i] == 0x5B {
				op, oplen = "Device", 2
			}
			l, n := decodePkgLength(t, b[i+oplen:])
			end := i + oplen + l
			if end > len(b) {
				t.Fatalf("%s at %d: PkgLength %d runs past the end", op, i, l)
			}
			name, m := decodeNameString(t, b[i+oplen+n:])
			kids := decodeTermList(t, b[i+oplen+n+m:end])
			out = append(out, &amlNode{op: op, name: name, kids: kids})
			i = end
		default:
			t.Fatalf("unknown term opcode %#x at %d", b[i], i)
		}
	}
	return out
}

// amlFind returns the Name object or Device/Scope called name among nodes.
func amlFind(nodes []*amlNode, name string) *amlNode {
	for _, n := range nodes {
		if n.name == name {
			if n.op == "Name" {
				return n.kids[0]
			}
			return n
		}
	}
	return nil
}

// decodeResources lists the descriptors of a resource template (§6.4),
// checking that it ends with the End Tag.
func decodeResources(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for i := 0; i < len(b); {
		if b[i]&0x80 == 0 { // small item
			name, l := b[i]>>3&0xF, int(b[i]&7)
			d := b[i+1 : i+1+l]
			switch {
			case name == 0x8 && l == 7:
				out = append(out, fmt.Sprintf("IO decode=%d min=%#x max=%#x align=%d len=%d", d[0], binary.LittleEndian.Uint16(d[1:]), binary.LittleEndian.Uint16(d[3:]), d[5], d[6]))
			case name == 0x4 && l == 2:
				out = append(out, fmt.Sprintf("IRQ mask=%#x", binary.LittleEndian.Uint16(d)))
			case name == 0xF && l == 1:
				if i+2 != len(b) {
					t.Fatalf("End Tag at %d of %d", i, len(b))
				}
				return out
			default:
				t.Fatalf("small resource %#x length %d", name, l)
			}
			i += 1 + l
			continue
		}
		l := int(binary.LittleEndian.Uint16(b[i+1:]))
		d := b[i+3 : i+3+l]
		switch b[i] {
		case 0x86:
			out = append(out, fmt.Sprintf("Memory32Fixed rw=%d base=%#x len=%#x", d[0], binary.LittleEndian.Uint32(d[1:]), binary.LittleEndian.Uint32(d[5:])))
		case 0x89:
			s := fmt.Sprintf("Interrupt flags=%#x", d[0])
			for j := range int(d[1]) {
				s += fmt.Sprintf(" %d", binary.LittleEndian.Uint32(d[2+4*j:]))
			}
			out = append(out, s)
		default:
			t.Fatalf("large resource %#x", b[i])
		}
		i += 3 + l
	}
	t.Fatal("resource template without End Tag")
	return nil
}

func TestACPIDSDT(t *testing.T) {
	cfg := acpiTestConfig()
	tables, rsdp := buildTestACPI(t, cfg)
	dsdt := acpiTestTables(t, tables, ACPIBase, rsdp)["DSDT"]
	root := decodeTermList(t, dsdt[36:])

	s5 := amlFind(root, `\_S5_`)
	if s5 == nil || s5.op != "Package" || len(s5.kids) != 4 || s5.kids[0].num != ACPIS5SleepType || s5.kids[1].num != ACPIS5SleepType {
		t.Fatalf(`\_S5_ = %+v`, s5)
	}
	sb := amlFind(root, `\_SB_`)
	if sb == nil || sb.op != "Scope" {
		t.Fatalf(`no \_SB_ scope`)
	}
	eisa := func(id uint32) string { // decoded independently of amlEISAID
		c := func(v uint32) byte { return byte(v&0x1F) + '@' }
		b0, b1 := id&0xFF, id>>8&0xFF
		return fmt.Sprintf("%c%c%c%02X%02X", c(b0>>2), c((b0&3)<<3|b1>>5), c(b1), id>>16&0xFF, id>>24)
	}
	var got []string
	for _, d := range sb.kids {
		if d.op != "Device" {
			t.Fatalf("%s in \\_SB_ is a %s", d.name, d.op)
		}
		hid := amlFind(d.kids, "_HID")
		var id string
		switch hid.op {
		case "Integer":
			id = eisa(uint32(hid.num))
		case "String":
			id = hid.str
		}
		line := fmt.Sprintf("%s %s uid=%d", d.name, id, amlFind(d.kids, "_UID").num)
		if crs := amlFind(d.kids, "_CRS"); crs != nil {
			line += ": " + strings.Join(decodeResources(t, crs.data), "; ")
		}
		got = append(got, line)
	}
	want := []string{
		"C000 ACPI0007 uid=0",
		"C001 ACPI0007 uid=1",
		"COM1 PNP0501 uid=1: IO decode=1 min=0x3f8 max=0x3f8 align=1 len=8; IRQ mask=0x10",
		"RTC_ PNP0B00 uid=0: IO decode=1 min=0x70 max=0x70 align=1 len=2; IRQ mask=0x100",
		"TMR_ PNP0100 uid=0: IO decode=1 min=0x40 max=0x40 align=1 len=4; IRQ mask=0x1",
		"PIC_ PNP0000 uid=0: IO decode=1 min=0x20 max=0x20 align=1 len=2; IO decode=1 min=0xa0 max=0xa0 align=1 len=2; IRQ mask=0x4",
		"KBD_ PNP0303 uid=0: IO decode=1 min=0x60 max=0x60 align=1 len=1; IO decode=1 min=0x64 max=0x64 align=1 len=1; IRQ mask=0x2",
		"VR00 LNRO0005 uid=0: Memory32Fixed rw=1 base=0xfeb00000 len=0x200; Interrupt flags=0x1 16",
		"VR01 LNRO0005 uid=1: Memory32Fixed rw=1 base=0xfeb00200 len=0x200; Interrupt flags=0x1 17",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("DSDT devices:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Many devices make \_SB_ longer than 4 KiB: a 3-byte PkgLength.
func TestACPIDSDTLarge(t *testing.T) {
	var cfg ACPIConfig
	for i := range 100 {
		cfg.VirtioMMIO = append(cfg.VirtioMMIO, VirtioMMIODevice{Base: 0xD0000000 + uint64(i)*0x200, Size: 0x200, GSI: 16 + uint32(i%8)})
	}
	tables, rsdp := buildTestACPI(t, cfg)
	dsdt := acpiTestTables(t, tables, ACPIBase, rsdp)["DSDT"]
	i := bytes.Index(dsdt, []byte(`\_SB_`))
	if len(dsdt) < 4096 || i < 4 || dsdt[i-4] != 0x10 || dsdt[i-3]>>6 != 2 {
		t.Fatalf("DSDT of %d bytes: want ScopeOp and a 3-byte PkgLength before \\_SB_ at %d", len(dsdt), i)
	}
	sb := amlFind(decodeTermList(t, dsdt[36:]), `\_SB_`)
	if n := len(sb.kids); n != 1+5+100 {
		t.Errorf("\\_SB_ has %d devices, want 106", n)
	}
}

func TestACPIAMLPkgLength(t *testing.T) {
	for _, c := range []struct{ n, size int }{
		{0, 1}, {62, 1}, {63, 2}, {4093, 2}, {4094, 3}, {1<<20 - 4, 3}, {1<<20 - 3, 4}, {1<<28 - 5, 4},
	} {
		b := amlPkgLength(c.n)
		if len(b) != c.size {
			t.Errorf("PkgLength(%d) is %d bytes, want %d", c.n, len(b), c.size)
		}
		l, size := decodePkgLength(t, b)
		if size != len(b) || l != c.n+len(b) {
			t.Errorf("PkgLength(%d) = % x decodes to %d (%d bytes)", c.n, b, l, size)
		}
	}
}

func TestACPIAMLEncoding(t *testing.T) {
	for _, c := range []struct {
		got, want []byte
	}{
		{amlInteger(0), []byte{0x00}},
		{amlInteger(1), []byte{0x01}},
		{amlInteger(2), []byte{0x0A, 2}},
		{amlInteger(0x3F8), []byte{0x0B, 0xF8, 0x03}},
		{amlInteger(0xFEB00000), []byte{0x0C, 0x00, 0x00, 0xB0, 0xFE}},
		{amlInteger(1 << 32), []byte{0x0E, 0, 0, 0, 0, 1, 0, 0, 0}},
		{amlNameString("_HID"), []byte("_HID")},
		{amlNameString(`\_SB_`), []byte(`\_SB_`)},
		{amlNameString(`\_SB_.COM1`), append([]byte{'\\', 0x2E}, "_SB_COM1"...)},
		{amlNameString(`\_SB_.PCI0.ISA_`), append([]byte{'\\', 0x2F, 3}, "_SB_PCI0ISA_"...)},
		{amlString("ab"), []byte{0x0D, 'a', 'b', 0}},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("% x, want % x", c.got, c.want)
		}
	}
	for id, want := range map[string]uint32{"PNP0501": 0x0105D041, "PNP0B00": 0x000BD041, "PNP0303": 0x0303D041, "PNP0000": 0x0000D041} {
		if got := amlEISAID(id); got != want {
			t.Errorf("EISAID(%s) = %#x, want %#x", id, got, want)
		}
	}
}

// iasl (Debian acpica-tools) disassembles every table but the RSDP (which
// it does not take from a file) and recompiles the DSDT; neither may report an error or a warning.
func TestACPIIasl(t *testing.T) {
	iasl, err := exec.LookPath("iasl")
	if err != nil {
		t.Skip("iasl not installed (Debian package acpica-tools)")
	}
	tables, rsdp := buildTestACPI(t, acpiTestConfig())
	dir := t.TempDir()
	files := map[string][]byte{}
	for sig, b := range acpiTestTables(t, tables, ACPIBase, rsdp) {
		files[strings.ToLower(sig)] = b
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(iasl, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("iasl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".dat"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		out := run("-d", name+".dat")
		if strings.Contains(out, "Error") || strings.Contains(out, "Warning") {
			t.Errorf("iasl -d %s.dat:\n%s", name, out)
		}
		dsl, err := os.ReadFile(filepath.Join(dir, name+".dsl"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(dsl), "**** ") || strings.Contains(string(dsl), "Unknown") {
			t.Errorf("%s.dsl has a complaint:\n%s", name, dsl)
		}
		if testing.Verbose() {
			t.Logf("%s.dsl:\n%s", name, dsl)
		}
		if name == "dsdt" {
			for _, s := range []string{
				`Name (\_S5, Package (0x04)`,
				`Device (COM1)`,
				`EisaId ("PNP0501")`,
				`IO (Decode16,`,
				`IRQNoFlags ()`,
				`Name (_HID, "LNRO0005")`,
				`Memory32Fixed (ReadWrite,`,
				`Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )`,
			} {
				if !strings.Contains(string(dsl), s) {
					t.Errorf("dsdt.dsl lacks %q", s)
				}
			}
		}
	}
	// Recompile the disassembled DSDT.
	out := run("-p", "re", "dsdt.dsl")
	if !strings.Contains(out, "0 Errors, 0 Warnings") {
		t.Errorf("iasl dsdt.dsl:\n%s", out)
	}
}
