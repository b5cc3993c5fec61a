package firmware

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pciTestDSDT is a DSDT whose \_SB_ holds only PCI0.
func pciTestDSDT(t *testing.T, cfg PCIHostBridge) []byte {
	t.Helper()
	dev, err := pciHostBridgeAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var w acpiWriter
	w.header("DSDT", 2)
	w.b = append(w.b, amlScope(`\_SB_`, dev)...)
	return acpiSeal(w.b)
}

// decodeAddressResources lists the descriptors of PCI0's _CRS, decoded
// from the formats of ACPI 6.4 §6.4.2.5 and §6.4.3.5.
func decodeAddressResources(t *testing.T, b []byte) []string {
	t.Helper()
	le := binary.LittleEndian
	var out []string
	for i := 0; i < len(b); {
		switch b[i] {
		case 0x47: // I/O port, small
			out = append(out, fmt.Sprintf("IO min=%#x max=%#x len=%d", le.Uint16(b[i+2:]), le.Uint16(b[i+4:]), b[i+7]))
			i += 8
		case 0x79:
			if i+2 != len(b) {
				t.Fatalf("End Tag at %d of %d", i, len(b))
			}
			return out
		case 0x88, 0x87:
			l := int(le.Uint16(b[i+1:]))
			d := b[i+3 : i+3+l]
			typ := map[byte]string{0: "Memory", 1: "IO", 2: "Bus"}[d[0]]
			if b[i] == 0x88 {
				out = append(out, fmt.Sprintf("Word%s flags=%#x/%#x min=%#x max=%#x len=%#x", typ, d[1], d[2],
					le.Uint16(d[5:]), le.Uint16(d[7:]), le.Uint16(d[11:])))
			} else {
				out = append(out, fmt.Sprintf("DWord%s flags=%#x/%#x min=%#x max=%#x len=%#x", typ, d[1], d[2],
					le.Uint32(d[7:]), le.Uint32(d[11:]), le.Uint32(d[19:])))
			}
			i += 3 + l
		default:
			t.Fatalf("resource %#x at %d", b[i], i)
		}
	}
	t.Fatal("no End Tag")
	return nil
}

func TestPCIHostBridgeAML(t *testing.T) {
	dsdt := pciTestDSDT(t, PCIHostBridge{})
	if acpiTestSum(dsdt) != 0 {
		t.Fatal("DSDT checksum")
	}
	sb := amlFind(decodeTermList(t, dsdt[36:]), `\_SB_`)
	pci := amlFind(sb.kids, "PCI0")
	if pci == nil || pci.op != "Device" {
		t.Fatalf("no Device PCI0 in %+v", sb)
	}
	for name, want := range map[string]uint64{"_HID": uint64(amlEISAID("PNP0A03")), "_UID": 0, "_BBN": 0} {
		if n := amlFind(pci.kids, name); n == nil || n.op != "Integer" || n.num != want {
			t.Errorf("%s = %+v, want %#x", name, n, want)
		}
	}
	equal := func(got, want []string, what string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	equal(decodeAddressResources(t, amlFind(pci.kids, "_CRS").data), []string{
		"WordBus flags=0xc/0x0 min=0x0 max=0xff len=0x100",
		"IO min=0xcf8 max=0xcf8 len=8",
		"WordIO flags=0xc/0x3 min=0x0 max=0xcf7 len=0xcf8",
		"WordIO flags=0xc/0x3 min=0xd00 max=0xffff len=0xf300",
		"DWordMemory flags=0xc/0x3 min=0xa0000 max=0xbffff len=0x20000",
		"DWordMemory flags=0xc/0x1 min=0xc0000000 max=0xfeafffff len=0x3eb00000",
	}, "_CRS")

	prt := amlFind(pci.kids, "_PRT")
	if prt == nil || prt.op != "Package" || len(prt.kids) != 128 {
		t.Fatalf("_PRT: %+v", prt)
	}
	// QEMU's rotation: INTA# of slot 1 is PIRQA (10), of slot 2 PIRQB (10),
	// of slot 3 PIRQC (11); slot 0 INTA# is PIRQD.
	var got []string
	for _, e := range prt.kids {
		if e.op != "Package" || len(e.kids) != 4 {
			t.Fatalf("_PRT entry %+v", e)
		}
		addr, pin, src, gsi := e.kids[0].num, e.kids[1].num, e.kids[2].num, e.kids[3].num
		if src != 0 || addr&0xFFFF != 0xFFFF {
			t.Errorf("_PRT entry %#x pin %d: source %d", addr, pin, src)
		}
		if slot := addr >> 16; slot <= 3 {
			got = append(got, fmt.Sprintf("%d.%d=%d", slot, pin, gsi))
		}
	}
	equal(got, []string{
		"0.0=11", "0.1=10", "0.2=10", "0.3=11",
		"1.0=10", "1.1=10", "1.2=11", "1.3=11",
		"2.0=10", "2.1=11", "2.2=11", "2.3=10",
		"3.0=11", "3.1=11", "3.2=10", "3.3=10",
	}, "_PRT slots 0–3")

	// Other routes and windows.
	dsdt = pciTestDSDT(t, PCIHostBridge{PIRQs: [4]uint8{5, 9, 10, 11}, MemBase: 0x80000000, MemLimit: 0xFEAFFFFF})
	pci = amlFind(amlFind(decodeTermList(t, dsdt[36:]), `\_SB_`).kids, "PCI0")
	if e := amlFind(pci.kids, "_PRT").kids[4*4+2]; e.kids[0].num != 0x4FFFF || e.kids[3].num != 9 {
		t.Errorf("slot 4 INTC# (PIRQ (4 - 1 + 2) mod 4 = B): %#x → GSI %d, want 9", e.kids[0].num, e.kids[3].num)
	}
	crs := decodeAddressResources(t, amlFind(pci.kids, "_CRS").data)
	if crs[5] != "DWordMemory flags=0xc/0x1 min=0x80000000 max=0xfeafffff len=0x7eb00000" {
		t.Errorf("window: %s", crs[5])
	}

	for _, bad := range []PCIHostBridge{
		{PIRQs: [4]uint8{10, 10, 11, 24}},
		{PIRQs: [4]uint8{2, 10, 11, 11}},
		{MemBase: 0xC0000000, MemLimit: 0xFEC00000},
		{MemBase: 0xD0000000, MemLimit: 0xC0000000},
	} {
		if _, err := pciHostBridgeAML(bad); err == nil {
			t.Errorf("pciHostBridgeAML(%+v) succeeded", bad)
		}
	}
}

// iasl disassembles and recompiles the PCI0 device without a complaint.
func TestPCIHostBridgeIasl(t *testing.T) {
	iasl, err := exec.LookPath("iasl")
	if err != nil {
		t.Skip("iasl not installed (Debian package acpica-tools)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsdt.dat"), pciTestDSDT(t, PCIHostBridge{}), 0o644); err != nil {
		t.Fatal(err)
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
	if out := run("-d", "dsdt.dat"); strings.Contains(out, "Error") || strings.Contains(out, "Warning") {
		t.Errorf("iasl -d:\n%s", out)
	}
	dsl, err := os.ReadFile(filepath.Join(dir, "dsdt.dsl"))
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Logf("dsdt.dsl:\n%s", dsl)
	}
	for _, s := range []string{
		`Device (PCI0)`,
		`EisaId ("PNP0A03")`,
		`Name (_BBN, Zero)`,
		`WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,`,
		`IO (Decode16,`,
		`WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,`,
		`DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,`,
		`DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,`,
		`Name (_PRT, Package (0x80)`,
		`0x0003FFFF,`,
	} {
		if !strings.Contains(string(dsl), s) {
			t.Errorf("dsdt.dsl lacks %q", s)
		}
	}
	if out := run("-p", "re", "dsdt.dsl"); !strings.Contains(out, "0 Errors, 0 Warnings") {
		t.Errorf("iasl dsdt.dsl:\n%s", out)
	}
}
