package firmware

import (
	"encoding/binary"
	"testing"
)

// pirFind scans a copy of 0xF0000–0xFFFFF the way Linux does
// (pirq_find_routing_table, pirq_check_routing_table): 16-byte steps,
// signature, version 1.0, a size that is a multiple of 16 and at least the
// header, inside the area, bytes summing to 0. It returns the offset.
func pirFind(area []byte) int {
	for off := 0; off+pirHeaderLen <= len(area); off += 16 {
		t := area[off:]
		size := int(binary.LittleEndian.Uint16(t[6:]))
		if string(t[:4]) != "$PIR" || binary.LittleEndian.Uint16(t[4:]) != 0x0100 ||
			size%16 != 0 || size < pirHeaderLen || size > len(t) {
			continue
		}
		var sum byte
		for _, b := range t[:size] {
			sum += b
		}
		if sum == 0 {
			return off
		}
	}
	return -1
}

func TestPIRLayout(t *testing.T) {
	tbl, err := BuildPIR(PIRConfig{Slots: []int{1, 2, 3, 5}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl) != 32+4*16 {
		t.Fatalf("table of %d bytes, want %d", len(tbl), 32+4*16)
	}
	area := make([]byte, 0x10000)
	for i := range area {
		area[i] = 0xFF
	}
	copy(area[PIRBase-0xF0000:], tbl)
	if off := pirFind(area); off != PIRBase-0xF0000 {
		t.Fatalf("Linux's scan finds the table at %#x, want %#x", 0xF0000+off, PIRBase)
	}
	le := binary.LittleEndian
	if tbl[8] != 0 || tbl[9] != 0x08 || le.Uint16(tbl[10:]) != 0 || le.Uint32(tbl[12:]) != 0x70008086 || le.Uint32(tbl[16:]) != 0 {
		t.Errorf("header: router %02x:%02x, exclusive %#x, compatible %#x, miniport %#x",
			tbl[8], tbl[9], le.Uint16(tbl[10:]), le.Uint32(tbl[12:]), le.Uint32(tbl[16:]))
	}
	// The entries of SeaBIOS's table for QEMU's i440FX (pirtable.c).
	want := map[int][]byte{
		1: {0, 0x08, 0x60, 0xF8, 0xDE, 0x61, 0xF8, 0xDE, 0x62, 0xF8, 0xDE, 0x63, 0xF8, 0xDE, 0, 0},
		2: {0, 0x10, 0x61, 0xF8, 0xDE, 0x62, 0xF8, 0xDE, 0x63, 0xF8, 0xDE, 0x60, 0xF8, 0xDE, 2, 0},
		3: {0, 0x18, 0x62, 0xF8, 0xDE, 0x63, 0xF8, 0xDE, 0x60, 0xF8, 0xDE, 0x61, 0xF8, 0xDE, 3, 0},
		5: {0, 0x28, 0x60, 0xF8, 0xDE, 0x61, 0xF8, 0xDE, 0x62, 0xF8, 0xDE, 0x63, 0xF8, 0xDE, 5, 0},
	}
	for i, slot := range []int{1, 2, 3, 5} {
		got := tbl[32+16*i : 32+16*(i+1)]
		if string(got) != string(want[slot]) {
			t.Errorf("slot %d entry:\n% x\nwant\n% x", slot, got, want[slot])
		}
	}

	all, err := BuildPIR(PIRConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != PIRMaxSize-16 || pirFind(all) != 0 {
		t.Errorf("default table: %d bytes, found at %d", len(all), pirFind(all))
	}
	if all[32+16*30+1] != 31<<3 || all[32+16*30+2] != 0x62 {
		t.Errorf("slot 31 entry: % x", all[32+16*30:32+16*31])
	}
}

func TestPIRErrors(t *testing.T) {
	for _, cfg := range []PIRConfig{
		{Slots: []int{0}},
		{Slots: []int{32}},
		{Slots: []int{2, 2}},
		{IRQMap: 0x0C21},                       // IRQ 0
		{IRQMap: 0x0C20, ExclusiveIRQs: 0x200}, // exclusive IRQ 9 not in the map
	} {
		if _, err := BuildPIR(cfg); err == nil {
			t.Errorf("BuildPIR(%+v) succeeded", cfg)
		}
	}
}
