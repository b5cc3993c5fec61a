package hv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
)

// pvwork's parameters and patterns (testdata/pvwork.asm).
const (
	pvworkIters     = 200
	pvworkPages     = 16
	pvworkPool      = 64
	pvworkPatMul    = 0x9E3779B1
	pvworkLogLBA    = 32
	pvworkLogMagic  = 0x4B575650 // "PVWK"
	pvworkLogMul    = 0x01000193
	pvworkDataWords = 128 // dwords a sector
)

// pvworkReference does the guest's work in Go: the checksum it must print
// and the disk it must leave.
func pvworkReference() (uint32, []byte) {
	disk := pvworkDisk()
	var sum uint32
	fold := func(v uint32) { sum = bits.RotateLeft32(sum, 5) ^ v }
	foldSectors := func(lba, n int) {
		for j := 0; j < n*pvworkDataWords; j++ {
			fold(binary.LittleEndian.Uint32(disk[lba*devices.SectorSize+j*4:]))
		}
	}
	for i := 0; i < pvworkIters; i++ {
		// The current space's window, then the other's: frames
		// (a*i + b*p + c) mod 64, 4 words a page.
		for _, m := range [2][3]int{{7, 3, 0}, {11, 5, 17}} {
			for p := 0; p < pvworkPages; p++ {
				f := (m[0]*i + m[1]*p + m[2]) & (pvworkPool - 1)
				for k := 0; k < 4; k++ {
					w := (13*i + 29*p + 256*k) & 1023
					fold(uint32(f<<16|w) * pvworkPatMul)
				}
			}
		}
		foldSectors((5*i&15)*2, 2)
		log := disk[(pvworkLogLBA+i&31)*devices.SectorSize:]
		binary.LittleEndian.PutUint32(log, pvworkLogMagic)
		binary.LittleEndian.PutUint32(log[4:], uint32(i))
		binary.LittleEndian.PutUint32(log[8:], sum)
		for j := 3; j < pvworkDataWords; j++ {
			binary.LittleEndian.PutUint32(log[j*4:], sum^uint32(j)*pvworkLogMul)
		}
		if i > 0 {
			foldSectors(pvworkLogLBA+(i-1)&31, 1)
		}
	}
	return sum, disk
}

// pvworkRun runs one build of pvwork on a fresh copy of its disk and
// returns the serial output, the result and the disk afterwards.
func pvworkRun(t *testing.T, image string, paravirt bool) (string, Result, []byte) {
	t.Helper()
	disk := filepath.Join(t.TempDir(), "pvwork.img")
	require.NoError(t, os.WriteFile(disk, pvworkDisk(), 0o644))
	var out bytes.Buffer
	m, err := New(Config{
		Kernel: filepath.Join("..", "testdata", image), MemSize: 32 << 20,
		Drives:    []Drive{{Path: disk, Interface: DriveIDE}},
		SerialOut: &out, Paravirt: paravirt, Timeout: 120 * time.Second,
	})
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	require.NoError(t, m.Close())
	img, err := os.ReadFile(disk)
	require.NoError(t, err)
	return out.String(), res, img
}

var pvworkChecksum = regexp.MustCompile(`(?m)^checksum: ([0-9a-f]{8})$`)

// TestPVWork runs the same work as the full build in full mode (sensitive
// instructions: MOV CR3, INVLPG, CLI/STI, IN/OUT, ATA PIO) and as the pv
// build in pv mode (gemu's hypercalls): both must pass, print the checksum
// the Go reference computes and leave the same disk; the pv build must trap
// less than a fifth as often.
func TestPVWork(t *testing.T) {
	wantSum, wantDisk := pvworkReference()
	want := fmt.Sprintf("%08x", wantSum)
	type run struct {
		out  string
		res  Result
		disk []byte
	}
	runs := map[string]*run{}
	for _, b := range []struct {
		name, image string
		paravirt    bool
	}{
		{"full", "pvwork-full.bin", false},
		{"pv", "pvwork-pv.bin", true},
	} {
		out, res, disk := pvworkRun(t, b.image, b.paravirt)
		require.Equal(t, ExitDebugPort, res.Kind, "%s: %s\n%s", b.name, res.Detail, out)
		require.Equal(t, 1, res.Status, "%s build:\n%s", b.name, out)
		require.Contains(t, out, "verdict: 0 (pass)", out)
		got := pvworkChecksum.FindStringSubmatch(out)
		require.NotNil(t, got, out)
		require.Equal(t, want, got[1], "%s build: checksum", b.name)
		require.True(t, bytes.Equal(wantDisk, disk), "%s build: the disk after the run is not what the guest wrote", b.name)
		runs[b.name] = &run{out, res, disk}
	}
	t.Logf("checksum: %s in both builds, as the Go reference computes it", want)
	full, pv := runs["full"], runs["pv"]
	// The same output after the first line (which names the build): the
	// progress went to COM1 both ways.
	_, fullRest, _ := strings.Cut(full.out, "\n")
	_, pvRest, _ := strings.Cut(pv.out, "\n")
	require.Equal(t, fullRest, pvRest)

	fs, ps := full.res.Stats, pv.res.Stats
	for _, r := range []struct {
		name string
		s    Stats
	}{{"full", fs}, {"pv", ps}} {
		var b strings.Builder
		fmt.Fprintf(&b, "%s build: %d traps, %d instructions, TLB flushes %+v\n", r.name, r.s.Traps, r.s.Instructions, r.s.TLBFlushesBy)
		for _, row := range r.s.Sensitive {
			fmt.Fprintf(&b, "  %-28s %8d\n", row.Name, row.Count)
		}
		for _, d := range r.s.Devices {
			fmt.Fprintf(&b, "  I/O exits %-12s port %8d mmio %d\n", d.Device, d.PortIO, d.MMIO)
		}
		writeHypercalls(&b, r.s.Hypercalls)
		t.Log(b.String())
	}
	require.Less(t, ps.Traps*5, fs.Traps, "pv traps %d, full traps %d: want less than a fifth", ps.Traps, fs.Traps)
	t.Logf("traps: full %d, pv %d (%.1f%%)", fs.Traps, ps.Traps, 100*float64(ps.Traps)/float64(fs.Traps))

	row := func(s Stats, name string) uint64 {
		var n uint64
		for _, r := range s.Sensitive {
			if strings.Contains(r.Name, name) {
				n += r.Count
			}
		}
		return n
	}
	require.GreaterOrEqual(t, row(fs, "INVLPG"), uint64(pvworkIters*pvworkPages))
	require.Zero(t, row(ps, "INVLPG"))
	// CLI/STI: two critical sections an iteration in the full build; the
	// pv build has only the frame's (entry and exit) and its one STI.
	require.Equal(t, uint64(2*pvworkIters), row(fs, "CLI")-row(ps, "CLI"))
	require.Equal(t, uint64(2*pvworkIters-1), row(fs, "STI")-row(ps, "STI"))
	require.Equal(t, uint64(pvworkIters), row(fs, "MOV Cd,Rd")-row(ps, "MOV Cd,Rd"), "MOV CR3: one an iteration")
	require.Empty(t, fs.Hypercalls)
	require.Equal(t, map[uint64]uint64{
		gemuHCVersion:      1,
		gemuHCVCPUInfo:     1,
		gemuHCMMUUpdate:    2 * pvworkIters,
		gemuHCConsoleWrite: pvworkIters,
		gemuHCBlockIO:      3*pvworkIters - 1,
	}, ps.Hypercalls)
	for _, d := range ps.Devices {
		require.NotContains(t, d.Device, "ata", "the pv build touched the ATA ports: %+v", d)
	}
}

// TestPVWorkNeedsPV: the pv build in full mode, where there is no
// hypervisor and VMCALL is #UD, says so and stops with verdict 9.
func TestPVWorkNeedsPV(t *testing.T) {
	out, res, disk := pvworkRun(t, "pvwork-pv.bin", false)
	require.Equal(t, ExitDebugPort, res.Kind, out)
	require.Equal(t, 9<<1|1, res.Status, out)
	require.Contains(t, out, "FAIL pvwork-pv needs gemu's pv mode", out)
	require.Contains(t, out, "verdict: 9 (FAIL)", out)
	require.True(t, bytes.Equal(pvworkDisk(), disk))
}

// gemuHCMachine is a pv-mode machine, not run, with a CPU at CPL 0 in
// 32-bit protected mode (the multiboot entry state), an 8-sector IDE disk
// as primary master and a read-only one as secondary master.
type gemuHCMachine struct {
	*Machine
	disk, roDisk string
	serial       *bytes.Buffer
}

const gemuHCMem = 16 << 20

func newGemuHCMachine(t *testing.T) *gemuHCMachine {
	dir := t.TempDir()
	h := &gemuHCMachine{disk: filepath.Join(dir, "rw.img"), roDisk: filepath.Join(dir, "ro.img"), serial: &bytes.Buffer{}}
	img := make([]byte, 8*devices.SectorSize)
	for i := range img {
		img[i] = byte(i / devices.SectorSize * 16)
	}
	require.NoError(t, os.WriteFile(h.disk, img, 0o644))
	require.NoError(t, os.WriteFile(h.roDisk, img, 0o444))
	m, err := New(Config{
		Kernel: filepath.Join("..", "testdata", "pvwork-pv.bin"), MemSize: gemuHCMem,
		Drives: []Drive{
			{Path: h.disk, Interface: DriveIDE},
			{Path: h.roDisk, Interface: DriveIDE, ReadOnly: true},
		},
		SerialOut: h.serial, Paravirt: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.Equal(t, 0, m.CPU.CPL())
	require.Equal(t, 32, m.CPU.Mode())
	h.Machine = m
	return h
}

// call makes hypercall nr with RBX RCX RDX RSI = args and returns RAX as
// the signed 32-bit result; it checks that the other registers are kept.
func (h *gemuHCMachine) call(t *testing.T, nr uint32, args ...uint32) int32 {
	t.Helper()
	c := h.CPU
	regs := [4]int{cpu.EBX, cpu.ECX, cpu.EDX, cpu.ESI}
	var a [4]uint32
	copy(a[:], args)
	c.R[cpu.EAX] = uint64(nr)
	for i, r := range regs {
		c.R[r] = uint64(a[i])
	}
	c.R[cpu.EDI] = 0xD1D1D1D1
	h.pv.Hypercall(c)
	for i, r := range regs {
		require.Equal(t, uint64(a[i]), c.R[r], "register %d after the call", r)
	}
	require.Equal(t, uint64(0xD1D1D1D1), c.R[cpu.EDI])
	return int32(uint32(c.R[cpu.EAX]))
}

func (h *gemuHCMachine) read(t *testing.T, addr uint64, n int) []byte {
	b := make([]byte, n)
	require.NoError(t, h.Mem.ReadAt(mmu.GPA(addr), b))
	return b
}

func (h *gemuHCMachine) write(t *testing.T, addr uint64, b []byte) {
	require.NoError(t, h.Mem.WriteAt(mmu.GPA(addr), b))
}

// putBatch writes GEMU_HC_MMU_UPDATE entries at addr.
func (h *gemuHCMachine) putBatch(t *testing.T, addr uint64, entries ...[2]uint64) {
	b := make([]byte, 16*len(entries))
	for i, e := range entries {
		binary.LittleEndian.PutUint64(b[i*16:], e[0])
		binary.LittleEndian.PutUint64(b[i*16+8:], e[1])
	}
	h.write(t, addr, b)
}

func TestGemuHCVersionAndUnknown(t *testing.T) {
	h := newGemuHCMachine(t)
	require.EqualValues(t, gemuABIVersion, h.call(t, gemuHCVersion))
	for _, nr := range []uint32{gemuHCBase + 5, gemuHCBase + 0x100, gemuHCLast} {
		require.EqualValues(t, -kvmENOSYS, h.call(t, nr, 1, 2, 3, 4), "%#x", nr)
	}
	require.Equal(t, uint64(2), h.pv.hypercalls[gemuHCBase+5]+h.pv.hypercalls[gemuHCLast])
	var b strings.Builder
	writeHypercalls(&b, h.hypercallCounts())
	require.Contains(t, b.String(), "gemu_version")
}

// TestGemuHCPrivilege: at CPL 3 every gemu hypercall is -KVM_EPERM and does
// nothing.
func TestGemuHCPrivilege(t *testing.T) {
	h := newGemuHCMachine(t)
	st := h.CPU.State()
	st.Seg[cpu.CS].Selector |= 3
	st.Seg[cpu.CS].Access |= 3 << 5
	st.Seg[cpu.SS].Selector |= 3
	st.Seg[cpu.SS].Access |= 3 << 5
	h.CPU.SetState(&st)
	if h.CPU.CPL() != 3 {
		t.Skipf("could not put the CPU at CPL 3 (CPL %d)", h.CPU.CPL())
	}
	h.write(t, 0x10000, []byte("x"))
	require.EqualValues(t, -errEPERM, h.call(t, gemuHCConsoleWrite, 0x10000, 1))
	require.EqualValues(t, -errEPERM, h.call(t, gemuHCBlockIO, 0x10000, 0, 1, blockWrite))
	require.Empty(t, h.serial.String())
}

func TestGemuHCMMUUpdate(t *testing.T) {
	const list, table = 0x20000, 0x30000
	h := newGemuHCMachine(t)
	c := h.CPU
	fill := bytes.Repeat([]byte{0xEE}, 64)
	reset := func() { h.write(t, table, fill) }

	t.Run("errors", func(t *testing.T) {
		reset()
		h.putBatch(t, list, [2]uint64{table, 0x1003}, [2]uint64{table + 4, 0x2003})
		cr3 := c.CR3
		for _, tc := range []struct {
			name  string
			args  []uint32
			errno int32
		}{
			{"unknown flag", []uint32{list, 2, 1 << 2}, errEINVAL},
			{"count above 512", []uint32{list, 513, 0}, errEINVAL},
			{"count of 2^32-1", []uint32{list, 0xFFFFFFFF, 0}, errEINVAL},
			{"list outside RAM", []uint32{gemuHCMem, 1, 0}, errEFAULT},
			{"list across the end of RAM", []uint32{gemuHCMem - 16, 2, 0}, errEFAULT},
			{"list at 4 GiB - 16", []uint32{0xFFFFFFF0, 1, 0}, errEFAULT},
			{"new CR3 outside RAM", []uint32{list, 2, mmuNewCR3, gemuHCMem}, errEFAULT},
		} {
			require.EqualValues(t, -tc.errno, h.call(t, gemuHCMMUUpdate, tc.args...), tc.name)
			require.Equal(t, fill, h.read(t, table, 64), "%s: a table entry was written", tc.name)
			require.Equal(t, cr3, c.CR3, tc.name)
		}
		// A bad entry after a good one: nothing is written.
		for _, tc := range []struct {
			name  string
			bad   [2]uint64
			errno int32
		}{
			{"misaligned entry", [2]uint64{table + 2, 0x3003}, errEINVAL},
			{"value wider than a 32-bit PTE", [2]uint64{table + 8, 1 << 32}, errEINVAL},
			{"entry outside RAM", [2]uint64{gemuHCMem, 0x3003}, errEFAULT},
			{"misaligned entry at the end of RAM", [2]uint64{gemuHCMem - 2, 0x3003}, errEINVAL},
			{"last entry of RAM", [2]uint64{gemuHCMem - 4, 1 << 32}, errEINVAL},
			{"entry far outside RAM", [2]uint64{1 << 40, 0x3003}, errEFAULT},
		} {
			h.putBatch(t, list, [2]uint64{table, 0x1003}, tc.bad)
			require.EqualValues(t, -tc.errno, h.call(t, gemuHCMMUUpdate, list, 2, mmuFlushTLB), tc.name)
			require.Equal(t, fill, h.read(t, table, 64), "%s: a table entry was written", tc.name)
		}
	})

	t.Run("32-bit paging", func(t *testing.T) {
		reset()
		h.putBatch(t, list, [2]uint64{table, 0x1003}, [2]uint64{table + 8, 0xFFFFF007})
		flushes := c.TLBStats().FlushAll
		require.EqualValues(t, 2, h.call(t, gemuHCMMUUpdate, list, 2, mmuFlushTLB))
		got := h.read(t, table, 16)
		require.Equal(t, uint32(0x1003), binary.LittleEndian.Uint32(got))
		require.Equal(t, uint32(0xEEEEEEEE), binary.LittleEndian.Uint32(got[4:]), "4-byte entries: the next dword is kept")
		require.Equal(t, uint32(0xFFFFF007), binary.LittleEndian.Uint32(got[8:]))
		require.Equal(t, flushes+1, c.TLBStats().FlushAll)
		// An empty batch with a new CR3: the address-space switch alone.
		cr3s := c.TLBStats().FlushCR3
		require.EqualValues(t, 0, h.call(t, gemuHCMMUUpdate, list, 0, mmuNewCR3, table))
		require.Equal(t, uint64(table), c.CR3)
		require.Equal(t, cr3s+1, c.TLBStats().FlushCR3)
		// An empty batch does not look at the list address.
		require.EqualValues(t, 0, h.call(t, gemuHCMMUUpdate, 0xFFFFFFF0, 0, mmuFlushTLB))
		require.Equal(t, flushes+2, c.TLBStats().FlushAll)
		// A CR3 wider than 32 bits cannot be given outside 64-bit mode
		// (the registers are 32-bit); a 32-bit one in RAM is taken.
		require.EqualValues(t, 0, h.call(t, gemuHCMMUUpdate, list, 0, mmuNewCR3, 0x5000))
		require.Equal(t, uint64(0x5000), c.CR3)
	})

	t.Run("PAE", func(t *testing.T) {
		reset()
		saved := c.State()
		defer c.SetState(&saved)
		st := saved
		st.CR4 |= cpu.CR4PAE
		c.SetState(&st)
		h.putBatch(t, list, [2]uint64{table + 4, 0x1003})
		require.EqualValues(t, -errEINVAL, h.call(t, gemuHCMMUUpdate, list, 1, 0), "PAE entries are 8-aligned")
		h.putBatch(t, list, [2]uint64{table, 0x8000000000001003}, [2]uint64{table + 8, 0x123456789007})
		require.EqualValues(t, 2, h.call(t, gemuHCMMUUpdate, list, 2, 0))
		got := h.read(t, table, 24)
		require.Equal(t, uint64(0x8000000000001003), binary.LittleEndian.Uint64(got))
		require.Equal(t, uint64(0x123456789007), binary.LittleEndian.Uint64(got[8:]))
		require.Equal(t, bytes.Repeat([]byte{0xEE}, 8), got[16:])

		// With paging on, a new CR3 loads the PDPTEs: a reserved bit in a
		// present one refuses the CR3 after the updates (which built it).
		st.CR0 |= cpu.CR0PG
		st.CR3 = 0x40000
		h.write(t, 0x40000, make([]byte, 32))
		c.SetState(&st)
		const pdpt = 0x50000
		h.write(t, pdpt, make([]byte, 32))
		h.putBatch(t, list, [2]uint64{pdpt, 0x61001 | 1<<2}) // bit 2 is reserved in a PDPTE
		require.EqualValues(t, -errEINVAL, h.call(t, gemuHCMMUUpdate, list, 1, mmuNewCR3, pdpt))
		require.Equal(t, uint64(0x40000), c.CR3)
		require.Equal(t, uint64(0x61005), binary.LittleEndian.Uint64(h.read(t, pdpt, 8)), "the update is made")
		h.putBatch(t, list, [2]uint64{pdpt, 0x61001})
		require.EqualValues(t, 1, h.call(t, gemuHCMMUUpdate, list, 1, mmuNewCR3, pdpt))
		require.Equal(t, uint64(pdpt), c.CR3)
		require.EqualValues(t, -errEFAULT, h.call(t, gemuHCMMUUpdate, list, 0, mmuNewCR3, gemuHCMem))
		require.Equal(t, uint64(pdpt), c.CR3)
	})
}

func TestGemuHCConsole(t *testing.T) {
	h := newGemuHCMachine(t)
	const buf = 0x10000
	h.write(t, buf, []byte("hello\n"))
	require.EqualValues(t, -errEINVAL, h.call(t, gemuHCConsoleWrite, buf, consoleMax+1))
	require.EqualValues(t, -errEFAULT, h.call(t, gemuHCConsoleWrite, gemuHCMem-2, 4))
	require.EqualValues(t, -errEFAULT, h.call(t, gemuHCConsoleWrite, 0xFFFFFFFF, 2))
	require.Empty(t, h.serial.String())
	require.EqualValues(t, 6, h.call(t, gemuHCConsoleWrite, buf, 6))
	require.EqualValues(t, 0, h.call(t, gemuHCConsoleWrite, buf, 0))
	require.Equal(t, "hello\n", h.serial.String())

	// With DLAB set the bytes still go out, and the divisor and LCR stay.
	com := h.PC.COM1
	com.Write(3, []byte{0x83})
	com.Write(0, []byte{0x0C})
	require.EqualValues(t, 2, h.call(t, gemuHCConsoleWrite, buf, 2))
	require.Equal(t, "hello\nhe", h.serial.String())
	var b [1]byte
	com.Read(3, b[:])
	require.Equal(t, byte(0x83), b[0])
	com.Read(0, b[:])
	require.Equal(t, byte(0x0C), b[0], "DLL")
	require.Empty(t, h.Stats().PortIO, "no port I/O")
}

func TestGemuHCBlockIO(t *testing.T) {
	h := newGemuHCMachine(t)
	const buf = 0x10000
	orig, err := os.ReadFile(h.disk)
	require.NoError(t, err)
	h.write(t, buf, bytes.Repeat([]byte{0x5A}, 2*devices.SectorSize))

	for _, tc := range []struct {
		name  string
		args  []uint32
		errno int32
	}{
		{"unknown flag", []uint32{buf, 0, 1, 1<<2 | blockWrite}, errEINVAL},
		{"no sectors", []uint32{buf, 0, 0, blockWrite}, errEINVAL},
		{"257 sectors", []uint32{buf, 0, 257, 0}, errEINVAL},
		{"flush without write", []uint32{buf, 0, 1, blockFlush}, errEINVAL},
		{"no disk 2", []uint32{buf, 0, 1, 2<<blockDiskShift | blockWrite}, errENODEV},
		{"no disk 255", []uint32{buf, 0, 1, 255 << blockDiskShift}, errENODEV},
		{"first sector past the end", []uint32{buf, 8, 1, blockWrite}, errEINVAL},
		{"last sector past the end", []uint32{buf, 7, 2, blockWrite}, errEINVAL},
		{"sector 2^32-1", []uint32{buf, 0xFFFFFFFF, 2, blockWrite}, errEINVAL},
		{"buffer outside RAM", []uint32{gemuHCMem, 0, 1, blockWrite}, errEFAULT},
		{"buffer across the end of RAM", []uint32{gemuHCMem - 256, 0, 1, blockWrite}, errEFAULT},
		{"read into a buffer outside RAM", []uint32{0xFFFFFE00, 0, 1, 0}, errEFAULT},
		{"write to the read-only disk", []uint32{buf, 0, 1, 1<<blockDiskShift | blockWrite}, errEROFS},
	} {
		require.EqualValues(t, -tc.errno, h.call(t, gemuHCBlockIO, tc.args...), tc.name)
	}
	disk, err := os.ReadFile(h.disk)
	require.NoError(t, err)
	require.Equal(t, orig, disk, "a refused call wrote the disk")

	// Reads: two sectors from each disk.
	require.EqualValues(t, 2, h.call(t, gemuHCBlockIO, buf, 6, 2, 0))
	require.Equal(t, orig[6*512:8*512], h.read(t, buf, 1024))
	require.EqualValues(t, 1, h.call(t, gemuHCBlockIO, buf+1024, 3, 1, 1<<blockDiskShift))
	require.Equal(t, orig[3*512:4*512], h.read(t, buf+1024, 512))
	// Writes, with and without FLUSH, land in the image and nowhere else.
	data := bytes.Repeat([]byte("gemu"), 256)
	h.write(t, buf, data)
	require.EqualValues(t, 2, h.call(t, gemuHCBlockIO, buf, 1, 2, blockWrite))
	require.EqualValues(t, 1, h.call(t, gemuHCBlockIO, buf, 7, 1, blockWrite|blockFlush))
	disk, err = os.ReadFile(h.disk)
	require.NoError(t, err)
	want := append([]byte(nil), orig...)
	copy(want[512:], data)
	copy(want[7*512:], data[:512])
	require.Equal(t, want, disk)
	ro, err := os.ReadFile(h.roDisk)
	require.NoError(t, err)
	require.Equal(t, orig, ro)
}

// TestGemuHCVirtualIF: with a gemu_vcpu_info registered, an interrupt
// waits while the mask byte is set (the pending byte says so) and comes
// when it is cleared.
func TestGemuHCVirtualIF(t *testing.T) {
	h := newGemuHCMachine(t)
	const info = 0x10000
	for _, tc := range []struct {
		name  string
		arg   uint32
		errno int32
	}{
		{"misaligned", info + 4 | vcpuInfoEnable, errEINVAL},
		{"no enable bit", info, errEINVAL},
		{"outside RAM", gemuHCMem | vcpuInfoEnable, errEFAULT},
		{"misaligned at the end of RAM", gemuHCMem - 4 | vcpuInfoEnable, errEINVAL},
		{"at 4 GiB - 8", 0xFFFFFFF8 | vcpuInfoEnable, errEFAULT},
	} {
		require.EqualValues(t, -tc.errno, h.call(t, gemuHCVCPUInfo, tc.arg), tc.name)
		require.Nil(t, h.pv.gemu.vcpuInfo, tc.name)
	}

	h.write(t, info, []byte{1, 0xFF, 0, 0, 0, 0, 0, 0})
	require.EqualValues(t, 0, h.call(t, gemuHCVCPUInfo, info|vcpuInfoEnable))
	require.Equal(t, []byte{1, 0}, h.read(t, info, 2), "registering clears pending, keeps the mask")
	require.False(t, h.pv.Pending(), "nothing pending")
	require.Equal(t, byte(0), h.read(t, info, 2)[1])

	// An interrupt from the 8259 through the local APIC's virtual wire.
	h.PC.PIC.SetIRQ(3, true)
	require.True(t, h.LAPIC.Pending(), "the test needs a pending interrupt")
	require.False(t, h.pv.Pending(), "masked")
	require.Equal(t, []byte{1, 1}, h.read(t, info, 2), "pending set while masked")
	h.write(t, info, []byte{0})
	require.True(t, h.pv.Pending(), "unmasked")
	require.Equal(t, []byte{0, 0}, h.read(t, info, 2), "pending cleared when it is taken")
	h.write(t, info, []byte{1})
	require.False(t, h.pv.Pending())

	// Unregistered, the mask byte means nothing.
	require.EqualValues(t, 0, h.call(t, gemuHCVCPUInfo, 0))
	require.True(t, h.pv.Pending())
}

// gemu bench embeds copies of its guests (testdata/build.sh makes them).
func TestBenchGuestsEmbeddedCopies(t *testing.T) {
	for name, embedded := range map[string][]byte{"pvwork-full.bin": pvworkFullImage, "pvwork-pv.bin": pvworkPVImage,
		"intloop.bin": intloopImage, "intloop64.bin": intloop64Image} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", name))
		require.NoError(t, err)
		require.True(t, bytes.Equal(b, embedded), "hv/guests/%s differs from testdata/%s: run testdata/build.sh", name, name)
	}
}
