package devices

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pcapRecord is one parsed record of a capture file.
type pcapRecord struct {
	Sec, Usec, CapLen, Len uint32
	Data                   []byte
}

// parsePcap checks the global header and splits the records.
func parsePcap(t *testing.T, file []byte) []pcapRecord {
	t.Helper()
	if len(file) < 24 {
		t.Fatalf("capture of %d bytes has no header", len(file))
	}
	le := binary.LittleEndian
	type header struct {
		Magic        uint32
		Major, Minor uint16
		Zone, Sigfig uint32
		Snap, Link   uint32
	}
	got := header{le.Uint32(file), le.Uint16(file[4:]), le.Uint16(file[6:]), le.Uint32(file[8:]), le.Uint32(file[12:]), le.Uint32(file[16:]), le.Uint32(file[20:])}
	equal(t, header{0xa1b2c3d4, 2, 4, 0, 0, 65535, 1}, got, "pcap global header")
	var recs []pcapRecord
	for p := file[24:]; len(p) > 0; {
		if len(p) < 16 {
			t.Fatalf("record header cut short: %d bytes left", len(p))
		}
		r := pcapRecord{Sec: le.Uint32(p), Usec: le.Uint32(p[4:]), CapLen: le.Uint32(p[8:]), Len: le.Uint32(p[12:])}
		p = p[16:]
		if int(r.CapLen) > len(p) {
			t.Fatalf("record of %d bytes, %d left", r.CapLen, len(p))
		}
		r.Data, p = p[:r.CapLen], p[r.CapLen:]
		recs = append(recs, r)
	}
	return recs
}

func TestNetDump(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.pcap")
	inner := &fakeNet{}
	d, err := NewNetDump(inner, path)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1700000000, 123456789)
	d.now = func() time.Time { clock = clock.Add(time.Second); return clock }

	var got [][]byte
	d.SetReceiver(func(f []byte) { got = append(got, f) })

	out1, in1, huge := testFrame(60, 1), testFrame(1514, 2), testFrame(70000, 3)
	if err := d.Send(out1); err != nil {
		t.Fatal(err)
	}
	inner.inject(in1)
	d.Send(huge)

	// The file is complete before Close: each record is written at once.
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := parsePcap(t, file)
	want := []pcapRecord{
		{1700000001, 123456, 60, 60, out1},
		{1700000002, 123456, 1514, 1514, in1},
		{1700000003, 123456, 65535, 70000, huge[:65535]},
	}
	equal(t, want, recs, "capture records")

	// The wrapper passes frames on both ways.
	equal(t, [][]byte{out1, huge}, inner.frames(), "frames sent through the dump")
	equal(t, [][]byte{in1}, got, "frames received through the dump")

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if !inner.closed {
		t.Error("Close did not close the wrapped backend")
	}
	d.record(out1) // after Close: ignored, no panic
	if d.Err() != nil {
		t.Errorf("Err = %v", d.Err())
	}
	d.SetReceiver(nil)
	if inner.recv != nil {
		t.Error("SetReceiver(nil) left a receiver")
	}

	if _, err := NewNetDump(inner, filepath.Join(t.TempDir(), "no", "such", "dir", "x.pcap")); err == nil {
		t.Error("dump into a missing directory: no error")
	}
}

func TestNetDumpOverSocket(t *testing.T) {
	// The dump wraps a real backend: frames both ways end up in the file.
	path := filepath.Join(t.TempDir(), "sock.pcap")
	l, err := ListenNetSocket("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewNetDump(l, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := frameSink(d)
	peer, err := DialNetSocket(l.Addr(), 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	pin := frameSink(peer)
	waitFor(t, "the link", l.Connected)
	a, b := testFrame(80, 0x11), testFrame(90, 0x22)
	peer.Send(a)
	expectFrame(t, in, a, "peer → dump")
	d.Send(b)
	expectFrame(t, pin, b, "dump → peer")
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := parsePcap(t, file)
	if len(recs) != 2 || string(recs[0].Data) != string(a) || string(recs[1].Data) != string(b) {
		t.Errorf("capture holds %d records: %+v", len(recs), recs)
	}
}
