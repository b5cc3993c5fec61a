package devices

import (
	"encoding/binary"
	"io"
	"sort"
)

// Small port devices: the POST-code port, QEMU's isa-debug-exit and a
// fw_cfg-compatible configuration interface.

// Ports of the small devices.
const (
	POSTPort      = 0x80
	DebugExitPort = 0xF4
	FwCfgBase     = 0x510 // selector (16-bit); data at FwCfgBase+1 (8-bit)
)

// PostCode is the POST diagnostic port 0x80: it records the last byte
// written, and reads return it (as a POST card's latch would).
type PostCode struct {
	last   byte
	writes uint64
}

// NewPostCode returns the port.
func NewPostCode() *PostCode { return &PostCode{} }

// Last returns the last code written and how many writes there were.
func (p *PostCode) Last() (code byte, writes uint64) { return p.last, p.writes }

// Read returns the last code.
func (p *PostCode) Read(offset uint64, data []byte) {
	readBytes(1, offset, data, func(uint64) byte { return p.last })
}

// Write records a code (the low byte of a wider write).
func (p *PostCode) Write(offset uint64, data []byte) {
	if offset == 0 && len(data) > 0 {
		p.last = data[0]
		p.writes++
	}
}

// DebugExit is QEMU's isa-debug-exit: the guest writes v and the machine
// exits with status (v<<1)|1, so no guest value means plain success (0).
// Accesses of any width up to the device's size are accepted; the value is
// the access's little-endian value, whatever the offset.
type DebugExit struct {
	exit func(status int)
}

// NewDebugExit returns the device; exit is called with the status (nil:
// writes are ignored).
func NewDebugExit(exit func(status int)) *DebugExit { return &DebugExit{exit: exit} }

// Read returns all ones, as an absent port.
func (d *DebugExit) Read(offset uint64, data []byte) {
	for i := range data {
		data[i] = 0xFF
	}
}

// Write requests the exit.
func (d *DebugExit) Write(offset uint64, data []byte) {
	if d.exit != nil {
		d.exit(int(littleEndian(data)<<1 | 1))
	}
}

// DebugConPort is where QEMU's isa-debugcon sits by default.
const DebugConPort = 0xE9

// DebugCon is QEMU's isa-debugcon: bytes written to the port go to a host
// writer; a read returns 0xE9, which is how guests detect it (QEMU
// hw/char/debugcon.c behaviour, "readback").
type DebugCon struct {
	out io.Writer
}

// NewDebugCon returns the device writing to out.
func NewDebugCon(out io.Writer) *DebugCon { return &DebugCon{out: out} }

// Read returns the readback value 0xE9.
func (d *DebugCon) Read(offset uint64, data []byte) {
	for i := range data {
		data[i] = DebugConPort
	}
}

// Write sends the low byte of the access to the host.
func (d *DebugCon) Write(offset uint64, data []byte) {
	if len(data) > 0 {
		d.out.Write(data[:1])
	}
}

// fw_cfg selector keys (QEMU docs/specs/fw_cfg.rst, "Selector Register
// Behavior" and include/standard-headers/linux/qemu_fw_cfg.h).
const (
	FwCfgSignature = 0x0000
	FwCfgID        = 0x0001
	FwCfgRAMSize   = 0x0003
	FwCfgNbCPUs    = 0x0005
	FwCfgMaxCPUs   = 0x000F
	FwCfgFileDir   = 0x0019
	FwCfgFileFirst = 0x0020
	fwCfgNameLen   = 56
)

// FwCfg is QEMU's firmware configuration interface, traditional (port I/O)
// variant without DMA: a 16-bit selector at offset 0 picks an item, and
// each read of the 8-bit data port at offset 1 returns its next byte (0 past
// its end or for an unknown key). Items are byte strings; numbers are
// little-endian, the file directory big-endian, as QEMU stores them.
type FwCfg struct {
	items    map[uint16][]byte
	files    []fwCfgFile
	selected []byte
	offset   int
}

type fwCfgFile struct {
	name string
	key  uint16
}

// NewFwCfg returns the interface with the signature, the interface ID (1:
// traditional, no DMA), the RAM size, the CPU counts and an empty file
// directory.
func NewFwCfg(cpus int, ramSize uint64) *FwCfg {
	f := &FwCfg{items: map[uint16][]byte{}}
	f.AddItem(FwCfgSignature, []byte("QEMU"))
	f.AddItem(FwCfgID, binary.LittleEndian.AppendUint32(nil, 1))
	f.AddItem(FwCfgRAMSize, binary.LittleEndian.AppendUint64(nil, ramSize))
	f.AddItem(FwCfgNbCPUs, binary.LittleEndian.AppendUint16(nil, uint16(max(cpus, 1))))
	f.AddItem(FwCfgMaxCPUs, binary.LittleEndian.AppendUint16(nil, uint16(max(cpus, 1))))
	f.rebuildFileDir()
	f.Select(FwCfgSignature)
	return f
}

// AddItem sets the contents of a selector key.
func (f *FwCfg) AddItem(key uint16, data []byte) { f.items[key] = data }

// AddFile adds (or replaces) a named item ("etc/e820", "bootorder", …) and
// lists it in the file directory (fw_cfg.rst, "FW_CFG_FILE_DIR"). Names
// longer than 55 bytes are truncated.
func (f *FwCfg) AddFile(name string, data []byte) {
	if len(name) >= fwCfgNameLen {
		name = name[:fwCfgNameLen-1]
	}
	for _, file := range f.files {
		if file.name == name {
			f.items[file.key] = data
			f.rebuildFileDir()
			return
		}
	}
	key := uint16(FwCfgFileFirst + len(f.files))
	f.files = append(f.files, fwCfgFile{name, key})
	f.items[key] = data
	f.rebuildFileDir()
}

// rebuildFileDir encodes the directory: a big-endian count, then per file
// its size (BE32), key (BE16), two reserved bytes and a 56-byte name, sorted
// by name.
func (f *FwCfg) rebuildFileDir() {
	files := append([]fwCfgFile(nil), f.files...)
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	dir := binary.BigEndian.AppendUint32(nil, uint32(len(files)))
	for _, file := range files {
		dir = binary.BigEndian.AppendUint32(dir, uint32(len(f.items[file.key])))
		dir = binary.BigEndian.AppendUint16(dir, file.key)
		dir = append(dir, 0, 0)
		var name [fwCfgNameLen]byte
		copy(name[:], file.name)
		dir = append(dir, name[:]...)
	}
	f.items[FwCfgFileDir] = dir
}

// Select chooses the item that data reads return, from its first byte.
func (f *FwCfg) Select(key uint16) {
	f.selected = f.items[key]
	f.offset = 0
}

// Read reads the data port (offset 1), each byte the next of the item; the
// selector (offset 0) reads 0.
func (f *FwCfg) Read(offset uint64, data []byte) {
	for i := range data {
		data[i] = 0
		if offset != 1 {
			continue
		}
		if f.offset < len(f.selected) {
			data[i] = f.selected[f.offset]
			f.offset++
		}
	}
}

// Write sets the selector (offset 0); writes to the data port are ignored,
// as in QEMU since 2.4.
func (f *FwCfg) Write(offset uint64, data []byte) {
	if offset == 0 {
		f.Select(uint16(littleEndian(data)))
	}
}
