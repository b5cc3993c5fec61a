package firmware

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// mpScan looks for a valid floating pointer structure in [start, start+n)
// on 16-byte boundaries, as the OS does (MP spec 1.4 §4).
func mpScan(mem []byte, start, n uint64) (uint64, bool) {
	for a := start; a+16 <= start+n; a += 16 {
		if string(mem[a:a+4]) == "_MP_" && mem[a+8] == 1 && acpiTestSum(mem[a:a+16]) == 0 {
			return a, true
		}
	}
	return 0, false
}

// parseMPTable checks the floating pointer at fpAddr and the configuration
// table it points to, and lists the entries.
func parseMPTable(t *testing.T, mem []byte, fpAddr uint64) []string {
	t.Helper()
	fp := mem[fpAddr : fpAddr+16]
	if fp[9] != 4 || fp[11] != 0 || fp[12] != 0 {
		t.Errorf("floating pointer: spec rev %d, features %#x %#x", fp[9], fp[11], fp[12])
	}
	addr := uint64(binary.LittleEndian.Uint32(fp[4:]))
	c := mem[addr:]
	if string(c[:4]) != "PCMP" || c[6] != 4 {
		t.Fatalf("configuration table at %#x: %q rev %d", addr, c[:4], c[6])
	}
	n := int(binary.LittleEndian.Uint16(c[4:]))
	c = c[:n]
	if s := acpiTestSum(c); s != 0 {
		t.Errorf("configuration table sums to %#x", s)
	}
	if string(c[8:16]) != "GEMU\x00\x00\x00\x00" || !strings.HasPrefix(string(c[16:28]), "GEMU PC") {
		t.Errorf("OEM %q product %q", c[8:16], c[16:28])
	}
	if a := binary.LittleEndian.Uint32(c[36:]); a != 0xFEE00000 {
		t.Errorf("local APIC address %#x", a)
	}
	if binary.LittleEndian.Uint16(c[40:]) != 0 || binary.LittleEndian.Uint32(c[28:]) != 0 {
		t.Error("extended or OEM table present")
	}
	count := int(binary.LittleEndian.Uint16(c[34:]))
	var out []string
	lastType := -1
	off := 44
	for range count {
		typ := c[off]
		if int(typ) < lastType {
			t.Errorf("entry type %d after type %d (§4.3: in type order)", typ, lastType)
		}
		lastType = int(typ)
		e := c[off:]
		switch typ {
		case 0:
			out = append(out, fmt.Sprintf("cpu id=%d ver=%#x flags=%d sig=%#x feat=%#x", e[1], e[2], e[3], binary.LittleEndian.Uint32(e[4:]), binary.LittleEndian.Uint32(e[8:])))
			off += 20
		case 1:
			out = append(out, fmt.Sprintf("bus id=%d %q", e[1], e[2:8]))
			off += 8
		case 2:
			out = append(out, fmt.Sprintf("ioapic id=%d ver=%#x flags=%d addr=%#x", e[1], e[2], e[3], binary.LittleEndian.Uint32(e[4:])))
			off += 8
		case 3, 4:
			kind := map[uint8]string{3: "ioint", 4: "lint"}[typ]
			out = append(out, fmt.Sprintf("%s type=%d flags=%d bus=%d irq=%d dest=%#x pin=%d", kind, e[1], binary.LittleEndian.Uint16(e[2:]), e[4], e[5], e[6], e[7]))
			off += 8
		default:
			t.Fatalf("entry type %d at %d", typ, off)
		}
	}
	if off != n {
		t.Errorf("entries end at %d, base table length %d", off, n)
	}
	return out
}

func TestMPTable(t *testing.T) {
	mem := make([]byte, 1<<20)
	tab, err := BuildMPTable(MPTableBase, MPConfig{CPUSignature: 0x663, CPUFeatures: 0x0781ABFD, IOAPICID: 0})
	if err != nil {
		t.Fatal(err)
	}
	if MPTableBase+uint64(len(tab)) > 0xA0000 {
		t.Fatalf("MP table %#x+%#x runs past 640 KiB", MPTableBase, len(tab))
	}
	copy(mem[MPTableBase:], tab)
	// The last KiB of base memory is one of the places scanned (§4).
	a, ok := mpScan(mem, 0x9FC00, 0x400)
	if !ok || a != MPTableBase {
		t.Fatalf("scan of 0x9FC00-0xA0000 found %#x, %v", a, ok)
	}
	got := parseMPTable(t, mem, a)
	want := []string{
		"cpu id=0 ver=0x14 flags=3 sig=0x663 feat=0x781abfd",
		`bus id=0 "ISA   "`,
		"ioapic id=0 ver=0x11 flags=1 addr=0xfec00000",
		"ioint type=0 flags=0 bus=0 irq=0 dest=0x0 pin=2",
	}
	for irq := 1; irq < 16; irq++ {
		if irq != 2 {
			want = append(want, fmt.Sprintf("ioint type=0 flags=0 bus=0 irq=%d dest=0x0 pin=%d", irq, irq))
		}
	}
	want = append(want,
		"lint type=3 flags=0 bus=0 irq=0 dest=0x0 pin=0",
		"lint type=1 flags=0 bus=0 irq=0 dest=0xff pin=1",
	)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("MP entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMPTableCPUs(t *testing.T) {
	mem := make([]byte, 1<<20)
	tab, err := BuildMPTable(0xF0100, MPConfig{CPUs: 4, IOAPICID: 4})
	if err != nil {
		t.Fatal(err)
	}
	copy(mem[0xF0100:], tab)
	a, ok := mpScan(mem, 0xF0000, 0x10000)
	if !ok || a != 0xF0100 {
		t.Fatalf("scan of the BIOS area found %#x, %v", a, ok)
	}
	got := parseMPTable(t, mem, a)
	for i, want := range []string{
		"cpu id=0 ver=0x14 flags=3 sig=0x0 feat=0x0",
		"cpu id=1 ver=0x14 flags=1 sig=0x0 feat=0x0",
		"cpu id=2 ver=0x14 flags=1 sig=0x0 feat=0x0",
		"cpu id=3 ver=0x14 flags=1 sig=0x0 feat=0x0",
		`bus id=0 "ISA   "`,
		"ioapic id=4 ver=0x11 flags=1 addr=0xfec00000",
		"ioint type=0 flags=0 bus=0 irq=0 dest=0x4 pin=2",
	} {
		if got[i] != want {
			t.Errorf("entry %d: %s, want %s", i, got[i], want)
		}
	}
	// Up to 16 CPUs, the table fits above MPTableBase in base memory.
	tab, err = BuildMPTable(MPTableBase, MPConfig{CPUs: 16})
	if err != nil || MPTableBase+len(tab) > 0xA0000 {
		t.Errorf("16 CPUs: %#x bytes, %v", len(tab), err)
	}
}

func TestMPTableErrors(t *testing.T) {
	if _, err := BuildMPTable(0x9FD08, MPConfig{}); err == nil {
		t.Error("unaligned base accepted")
	}
	if _, err := BuildMPTable(MPTableBase, MPConfig{CPUs: 256}); err == nil {
		t.Error("256 CPUs accepted")
	}
	if _, err := BuildMPTable(0xFFFFFFF0, MPConfig{}); err == nil {
		t.Error("table across 4 GiB accepted")
	}
}
