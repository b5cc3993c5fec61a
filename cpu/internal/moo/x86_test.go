package moo

import (
	"bytes"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		b      []byte
		seg    int
		lock   bool
		rep    byte
		op     byte
		modrm  byte
		disp   uint16
		imm    []byte
		length int
		trunc  bool
	}{
		{"add [bx+0Eh],bl", []byte{0x00, 0x5f, 0x0e, 0xf4}, -1, false, 0, 0x00, 0x5f, 0x000e, nil, 3, false},
		{"lock es add word [si+1DDFh],7693h", []byte{0x26, 0xf0, 0x81, 0x84, 0xdf, 0x1d, 0x93, 0x76, 0xf4}, SegES, true, 0, 0x81, 0x84, 0x1ddf, []byte{0x93, 0x76}, 8, false},
		{"add [0E805h],al (disp16)", []byte{0x00, 0x06, 0x05, 0xe8, 0xf4}, -1, false, 0, 0x00, 0x06, 0xe805, nil, 4, false},
		{"sub ax,[bp-2] (disp8 sign-extended)", []byte{0x2b, 0x46, 0xfe, 0xf4}, -1, false, 0, 0x2b, 0x46, 0xfffe, nil, 3, false},
		{"test byte [bx],5", []byte{0xf6, 0x07, 0x05, 0xf4}, -1, false, 0, 0xf6, 0x07, 0, []byte{5}, 3, false},
		{"test word [bx],1234h", []byte{0xf7, 0x07, 0x34, 0x12, 0xf4}, -1, false, 0, 0xf7, 0x07, 0, []byte{0x34, 0x12}, 4, false},
		{"not word [bx]", []byte{0xf7, 0x17, 0xf4}, -1, false, 0, 0xf7, 0x17, 0, nil, 2, false},
		{"rep movsw with overrides", []byte{0x2e, 0xf3, 0x36, 0xa5, 0xf4}, SegSS, false, 0xf3, 0xa5, 0, 0, nil, 4, false},
		{"call far", []byte{0x9a, 0x2c, 0x76, 0x54, 0x9b, 0xf4}, -1, false, 0, 0x9a, 0, 0, []byte{0x2c, 0x76, 0x54, 0x9b}, 5, false},
		{"mov ax,[moffs]", []byte{0xa1, 0x34, 0x12, 0xf4}, -1, false, 0, 0xa1, 0, 0, []byte{0x34, 0x12}, 3, false},
		{"enter", []byte{0xc8, 0x10, 0x00, 0x01, 0xf4}, -1, false, 0, 0xc8, 0, 0, []byte{0x10, 0, 1}, 4, false},
		{"cut short", []byte{0x2e, 0xc7, 0xb9, 0xf4}, SegCS, false, 0, 0xc7, 0xb9, 0x00f4, nil, 7, true},
	} {
		in := Decode(tc.b)
		if in.SegOvr != tc.seg || in.Lock != tc.lock || in.Rep != tc.rep || in.Op != tc.op || in.ModRM != tc.modrm ||
			in.Disp != tc.disp || !bytes.Equal(in.Imm, tc.imm) || in.Len != tc.length || in.Truncated != tc.trunc {
			t.Errorf("%s: Decode(% x) = %+v", tc.name, tc.b, in)
		}
	}
}

func regsWith(kv ...int) *[NumRegs]uint16 {
	var r [NumRegs]uint16
	for i := 0; i < len(kv); i += 2 {
		r[kv[i]] = uint16(kv[i+1])
	}
	return &r
}

func TestEA(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		regs *[NumRegs]uint16
		seg  int
		off  uint16
	}{
		{[]byte{0x01, 0x02}, regsWith(BP, 0x10, SI, 0xffff), SegSS, 0x000f},         // [bp+si]
		{[]byte{0x01, 0x04}, regsWith(SI, 0x1234), SegDS, 0x1234},                   // [si]
		{[]byte{0x01, 0x46, 0x10}, regsWith(BP, 0xfff8), SegSS, 0x0008},             // [bp+10h] wraps
		{[]byte{0x01, 0x06, 0x34, 0x12}, regsWith(BP, 0x5555), SegDS, 0x1234},       // [1234h]
		{[]byte{0x26, 0x01, 0x03}, regsWith(BP, 1, DI, 2), SegES, 3},                // es:[bp+di]
		{[]byte{0x01, 0x87, 0x00, 0x80}, regsWith(BX, 0x8001), SegDS, 0x0001},       // [bx+8000h]
		{[]byte{0x01, 0x41, 0xff}, regsWith(BX, 0x0010, DI, 0x0001), SegDS, 0x0010}, // [bx+di-1]
	} {
		in := Decode(tc.b)
		seg, off := in.EA(tc.regs)
		if seg != tc.seg || off != tc.off {
			t.Errorf("EA(% x) = %s:%04x, want %s:%04x", tc.b, SegNames[seg], off, SegNames[tc.seg], tc.off)
		}
	}
}

func TestFirstOverrun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     []byte
		regs  *[NumRegs]uint16
		ok    bool
		seg   int
		stack bool
	}{
		{"pop es at sp=ffff", []byte{0x07}, regsWith(SP, 0xffff), true, SegSS, true},
		{"pop es at sp=fffe", []byte{0x07}, regsWith(SP, 0xfffe), false, 0, false},
		{"push ax at sp=1", []byte{0x50}, regsWith(SP, 1), true, SegSS, true},
		{"popa at sp=fff1", []byte{0x61}, regsWith(SP, 0xfff1), true, SegSS, true},
		{"pusha at sp=8 wraps cleanly", []byte{0x60}, regsWith(SP, 8), false, 0, false},
		{"leave with bp=ffff", []byte{0xc9}, regsWith(BP, 0xffff, SP, 0x100), true, SegSS, true},
		{"word at ds:ffff", []byte{0x8b, 0x04}, regsWith(SI, 0xffff), true, SegDS, false},
		{"byte at ds:ffff", []byte{0x8a, 0x04}, regsWith(SI, 0xffff), false, 0, false},
		{"les at fffd", []byte{0xc4, 0x04}, regsWith(SI, 0xfffd), true, SegDS, false},
		{"lea does not access", []byte{0x8d, 0x04}, regsWith(SI, 0xffff), false, 0, false},
		{"pop [si]: stack first", []byte{0x8f, 0x04}, regsWith(SI, 0xffff, SP, 0xffff), true, SegSS, true},
		{"pop [si]: then memory", []byte{0x8f, 0x04}, regsWith(SI, 0xffff, SP, 0x10), true, SegDS, false},
		{"ss: movsw source", []byte{0x36, 0xa5}, regsWith(SI, 0xffff, DI, 0xffff), true, SegSS, false},
		{"movsw destination", []byte{0xa5}, regsWith(SI, 0x10, DI, 0xffff), true, SegES, false},
		{"rep movsw reaches ffff on the 3rd", []byte{0xf3, 0xa5}, regsWith(SI, 0xfffb, DI, 0, CX, 3), true, SegDS, false},
		{"rep movsw cx=0", []byte{0xf3, 0xa5}, regsWith(SI, 0xffff, CX, 0), false, 0, false},
		{"test ax,imm is not a string op", []byte{0xa9, 0x34, 0x12}, regsWith(SI, 0xffff, DI, 0xffff), false, 0, false},
		{"call [bx] reads then pushes", []byte{0xff, 0x17}, regsWith(BX, 0xffff, SP, 1), true, SegDS, false},
	} {
		in := Decode(tc.b)
		a, ok := in.FirstOverrun(tc.regs)
		if ok != tc.ok || ok && (a.Seg != tc.seg || a.Stack != tc.stack) {
			t.Errorf("%s: FirstOverrun = %+v, %v; want ok=%v seg=%s stack=%v", tc.name, a, ok, tc.ok, SegNames[tc.seg], tc.stack)
		}
	}
}

func TestLockAllowed(t *testing.T) {
	for _, tc := range []struct {
		b  []byte
		ok bool
	}{
		{[]byte{0xf0, 0x01, 0x07}, true},        // lock add [bx],ax
		{[]byte{0xf0, 0x01, 0xc0}, false},       // lock add ax,ax
		{[]byte{0xf0, 0x03, 0x07}, false},       // lock add ax,[bx]: destination is a register
		{[]byte{0xf0, 0x39, 0x07}, false},       // lock cmp [bx],ax
		{[]byte{0xf0, 0x80, 0x3f, 1}, false},    // lock cmp byte [bx],1
		{[]byte{0xf0, 0x80, 0x37, 1}, true},     // lock xor byte [bx],1
		{[]byte{0xf0, 0x87, 0x07}, true},        // lock xchg [bx],ax
		{[]byte{0xf0, 0xf7, 0x1f}, true},        // lock neg word [bx]
		{[]byte{0xf0, 0xf7, 0x27}, false},       // lock mul word [bx]
		{[]byte{0xf0, 0xfe, 0x07}, true},        // lock inc byte [bx]
		{[]byte{0xf0, 0xff, 0x37}, false},       // lock push word [bx]
		{[]byte{0xf0, 0x89, 0x07}, false},       // lock mov [bx],ax
		{[]byte{0xf0, 0xcd, 0x21}, false},       // lock int 21h
		{[]byte{0xf0, 0xc6, 0x07, 0x01}, false}, // lock mov byte [bx],1
	} {
		if got := Decode(tc.b); got.LockAllowed() != tc.ok {
			t.Errorf("LockAllowed(% x) = %v, want %v", tc.b, !tc.ok, tc.ok)
		}
	}
}
