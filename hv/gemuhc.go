package hv

import (
	"encoding/binary"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/mmu"
)

// gemu's own hypercalls, beside KVM's in pv mode: what a guest written for
// gemu (testdata/pvwork.asm) calls instead of executing the sensitive
// instructions that would each be an exit in full mode. They take KVM's
// calling convention (hypercalls.rst, as kvmPV.Hypercall decodes it):
// VMCALL or VMMCALL at CPL 0 with RAX = the number, RBX RCX RDX RSI the
// arguments (32 bits each outside 64-bit mode), the result in RAX, a
// negative errno on error; the other registers are kept. At CPL > 0 every
// call gives -KVM_EPERM, as KVM's do.
//
// The numbers are 0x47450000 ("GE") + n: KVM's own are below 0x100, so no
// guest that speaks KVM's ABI reaches these by accident. A number of the
// range that is not in the table gives -KVM_ENOSYS, like any unknown call;
// so does every number on a real KVM, which is how a guest finds out
// (GEMU_HC_VERSION).
//
//	RAX         name                   arguments                                     result
//	0x47450000  GEMU_HC_VERSION        -                                             the ABI version, 1
//	0x47450001  GEMU_HC_MMU_UPDATE     RBX = GPA of {u64 pte_gpa; u64 value}[n],     n
//	                                   RCX = n (<= 512), RDX = flags (bit 0
//	                                   FLUSH_TLB, bit 1 NEW_CR3), RSI = the new CR3
//	0x47450002  GEMU_HC_CONSOLE_WRITE  RBX = GPA of the bytes, RCX = length          length
//	                                   (<= 4096)
//	0x47450003  GEMU_HC_BLOCK_IO       RBX = GPA of the buffer, RCX = first          sectors moved
//	                                   sector (LBA), RDX = sectors (1-256),
//	                                   RSI = flags (bit 0 WRITE, bit 1 FLUSH,
//	                                   bits 15:8 the IDE disk)
//	0x47450004  GEMU_HC_VCPU_INFO      RBX = GPA of a gemu_vcpu_info | 1 to          0
//	                                   register it, 0 to unregister
//
// Errors: -EINVAL (22) a malformed argument (unknown flag bits, a count
// above the bound or of 0 sectors, a misaligned address, a value the
// page-table format cannot hold, a sector range past the end of the disk,
// a CR3 that MOV CR3 would refuse); -EFAULT (14) an address whose bytes are not all RAM;
// -ENODEV (19) no such disk; -EROFS (30) a write to a read-only disk; -EIO
// (5) the host could not read or write the image. A call that fails
// changes nothing, except GEMU_HC_BLOCK_IO's -EIO (the sectors before the
// failing one may have moved) and a NEW_CR3 refused after the updates were
// made (see mmuUpdate).
const (
	gemuHCBase         = 0x47450000
	gemuHCLast         = gemuHCBase + 0xFFFF
	gemuHCVersion      = gemuHCBase + 0
	gemuHCMMUUpdate    = gemuHCBase + 1
	gemuHCConsoleWrite = gemuHCBase + 2
	gemuHCBlockIO      = gemuHCBase + 3
	gemuHCVCPUInfo     = gemuHCBase + 4

	gemuABIVersion = 1
)

// Arguments of GEMU_HC_MMU_UPDATE.
const (
	// mmuFlushTLB: after the updates, drop every translation, global ones
	// too (as toggling CR4.PGE does; SDM Vol. 3A §4.10.4.1).
	mmuFlushTLB = 1 << 0
	// mmuNewCR3: after the updates, load CR3 from RSI, as MOV to CR3 does
	// (global translations kept with CR4.PGE).
	mmuNewCR3   = 1 << 1
	mmuFlags    = mmuFlushTLB | mmuNewCR3
	mmuMaxBatch = 512 // entries: an 8 KiB array
	mmuEntry    = 16  // bytes of one {pte_gpa, value}
)

// Arguments of GEMU_HC_CONSOLE_WRITE and GEMU_HC_BLOCK_IO.
const (
	consoleMax = 4096

	blockWrite     = 1 << 0 // write the buffer to the disk; else read into it
	blockFlush     = 1 << 1 // after a write, make it durable (ATA FLUSH CACHE)
	blockDiskShift = 8      // bits 15:8: the disk, 0 = IDE primary master, 1 = secondary master
	blockFlags     = blockWrite | blockFlush | 0xFF<<blockDiskShift
	blockMax       = 256 // sectors: 128 KiB
)

// gemu_vcpu_info, the 8 bytes GEMU_HC_VCPU_INFO registers (8-aligned, all
// in RAM): the virtual interrupt flag, in the spirit of Xen's
// evtchn_upcall_mask and evtchn_upcall_pending.
//
//	byte 0  mask     the guest's: nonzero = interrupts masked (its CLI), 0 =
//	                 taken (its STI). Written with plain stores, no exit.
//	byte 1  pending  gemu's: 1 while an interrupt waits because of the mask,
//	                 0 when it is taken. A guest need not look: gemu checks
//	                 before each block it runs with EFLAGS.IF set, so the
//	                 interrupt comes at the first block boundary after the
//	                 mask is cleared.
//	bytes 2-7        reserved, 0
//
// EFLAGS.IF still gates delivery too: a guest sets it once (STI) and then
// uses the mask. Registering writes pending = 0 and leaves mask alone.
const (
	vcpuInfoSize    = 8
	vcpuInfoMask    = 0
	vcpuInfoPending = 1
	vcpuInfoEnable  = 1
)

var gemuHCNames = map[uint64]string{
	gemuHCVersion:      "gemu_version",
	gemuHCMMUUpdate:    "gemu_mmu_update",
	gemuHCConsoleWrite: "gemu_console",
	gemuHCBlockIO:      "gemu_block_io",
	gemuHCVCPUInfo:     "gemu_vcpu_info",
}

func init() {
	for nr, name := range gemuHCNames {
		hypercallNames[nr] = name
	}
}

// gemuHC serves gemu's hypercalls on one vCPU; it is part of kvmPV.
type gemuHC struct {
	mem     *mmu.Memory
	disks   []devices.BlockBackend // the IDE disks: primary master, secondary master
	console devices.Device         // COM1, which the full build writes with OUT
	batch   [mmuMaxBatch * mmuEntry]byte

	// vcpuInfo is the registered gemu_vcpu_info in place (nil: none).
	vcpuInfo    []byte
	vcpuInfoGPA uint64
}

// newGemuHC gives gemu's hypercalls the machine's memory, IDE disks and COM1.
func (m *Machine) newGemuHC() *gemuHC {
	return &gemuHC{mem: m.Mem, disks: m.ide, console: m.PC.COM1}
}

// isGemuHC reports whether nr is in gemu's range.
func isGemuHC(nr uint64) bool { return nr >= gemuHCBase && nr <= gemuHCLast }

// call serves hypercall nr (in gemu's range) made at CPL 0.
func (g *gemuHC) call(c *cpu.CPU, nr, a0, a1, a2, a3 uint64) int64 {
	switch nr {
	case gemuHCVersion:
		return gemuABIVersion
	case gemuHCMMUUpdate:
		return g.mmuUpdate(c, a0, a1, a2, a3)
	case gemuHCConsoleWrite:
		return g.consoleWrite(a0, a1)
	case gemuHCBlockIO:
		return g.blockIO(a0, a1, a2, a3)
	case gemuHCVCPUInfo:
		return g.setVCPUInfo(a0)
	}
	return -kvmENOSYS
}

// pteSize is the size of a paging-structure entry in the vCPU's paging
// mode: 8 with PAE or 4-level paging, else 4 (SDM Vol. 3A §4.1.1).
func pteSize(c *cpu.CPU) uint64 {
	if c.CR4&cpu.CR4PAE != 0 || c.EFER&cpu.EFERLMA != 0 {
		return 8
	}
	return 4
}

// mmuUpdate is GEMU_HC_MMU_UPDATE, Xen's mmu_update batched with the TLB
// flush or the address-space switch that follows it: n entries
// {pte_gpa, value} written in order, each value to the paging-structure
// entry at pte_gpa, in the format of the vCPU's paging mode (4 bytes, value
// < 2^32, 4-aligned; or 8 bytes, 8-aligned), then the flags. Every entry is
// checked before any is written; the values themselves are not (a PTE may
// map MMIO, and the page walker reports reserved bits as it would for a
// PTE written by a store). Without a flag, translations the vCPU holds for
// the changed entries stay until the guest flushes them, as after plain
// stores. An empty batch (n = 0, RBX not looked at) is a flush or an
// address-space switch alone. With NEW_CR3 in PAE paging, the PDPTEs are read after the
// updates, so a batch may build them: a refused CR3 then leaves the updates
// made, the TLB flushed and CR3 as it was. Returns n.
func (g *gemuHC) mmuUpdate(c *cpu.CPU, list, n, flags, cr3 uint64) int64 {
	if flags&^mmuFlags != 0 || n > mmuMaxBatch {
		return -errEINVAL
	}
	if n > 0 && !g.mem.IsRAM(mmu.GPA(list), n*mmuEntry) {
		return -errEFAULT
	}
	batch := g.batch[:n*mmuEntry]
	_ = g.mem.ReadAt(mmu.GPA(list), batch) // a copy: an entry may point into the list
	size := pteSize(c)
	for i := uint64(0); i < n; i++ {
		e := batch[i*mmuEntry:]
		at, v := binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint64(e[8:])
		if at%size != 0 || size == 4 && v>>32 != 0 {
			return -errEINVAL
		}
		if !g.mem.IsRAM(mmu.GPA(at), size) {
			return -errEFAULT
		}
	}
	if flags&mmuNewCR3 != 0 {
		if errno := checkCR3(g.mem, c, cr3); errno != 0 {
			return -errno
		}
	}
	var b [8]byte
	for i := uint64(0); i < n; i++ {
		e := batch[i*mmuEntry:]
		binary.LittleEndian.PutUint64(b[:], binary.LittleEndian.Uint64(e[8:]))
		_ = g.mem.WriteAt(mmu.GPA(binary.LittleEndian.Uint64(e)), b[:size])
	}
	if flags&mmuNewCR3 != 0 {
		if !c.SetCR3(cr3) {
			c.FlushTLB()
			c.TLBStats().FlushAll++
			c.EndBlock()
			return -errEINVAL
		}
	}
	if flags&mmuFlushTLB != 0 {
		c.FlushTLB()
		c.TLBStats().FlushAll++
	}
	c.EndBlock()
	return int64(n)
}

// checkCR3 refuses a CR3 whose top-level table is not in RAM (-EFAULT), or
// that MOV to CR3 would not take for its width (-EINVAL; cpu.SetCR3 makes
// the rest of the checks).
func checkCR3(mem *mmu.Memory, c *cpu.CPU, cr3 uint64) int64 {
	long := c.EFER&cpu.EFERLMA != 0
	if !long && cr3>>32 != 0 {
		return errEINVAL
	}
	base, size := cr3&^0xFFF, uint64(4096)
	if !long && c.CR4&cpu.CR4PAE != 0 {
		base, size = cr3&^0x1F, 32 // the four PDPTEs (SDM Vol. 3A §4.4.1)
	}
	if !mem.IsRAM(mmu.GPA(base), size) {
		return errEFAULT
	}
	return 0
}

// consoleWrite is GEMU_HC_CONSOLE_WRITE: the bytes go to COM1's transmitter
// as the guest's OUTs to its THR would send them (to the host, or back to
// the receiver in loopback), with DLAB cleared for the while if the guest
// left it set. The UART is always ready, so nothing is polled.
func (g *gemuHC) consoleWrite(addr, n uint64) int64 {
	if n > consoleMax {
		return -errEINVAL
	}
	if n == 0 {
		return 0
	}
	buf, err := g.mem.Slice(mmu.GPA(addr), n)
	if err != nil {
		return -errEFAULT
	}
	const thr, lcr, dlab = 0, 3, 0x80 // PC16550D table 2
	var l [1]byte
	g.console.Read(lcr, l[:])
	if l[0]&dlab != 0 {
		g.console.Write(lcr, []byte{l[0] &^ dlab})
	}
	for i := range buf {
		g.console.Write(thr, buf[i:i+1])
	}
	if l[0]&dlab != 0 {
		g.console.Write(lcr, l[:])
	}
	return int64(n)
}

// blockIO is GEMU_HC_BLOCK_IO: n sectors of 512 bytes from sector lba of
// an IDE disk's image into guest memory at addr, or (flag WRITE) from guest
// memory to the image, with no ATA register or data-port access. It is the
// image the emulated ATA disk reads at ports 1F0H-1F7H: a guest should not
// mix the two while an ATA command is in progress. Flag FLUSH makes a write
// durable (the image's Sync) before the call returns. Returns n.
func (g *gemuHC) blockIO(addr, lba, n, flags uint64) int64 {
	if flags&^blockFlags != 0 || n == 0 || n > blockMax || flags&blockFlush != 0 && flags&blockWrite == 0 {
		return -errEINVAL
	}
	disk := flags >> blockDiskShift & 0xFF
	if disk >= uint64(len(g.disks)) {
		return -errENODEV
	}
	d := g.disks[disk]
	sectors := uint64(d.Size()) / devices.SectorSize
	if lba >= sectors || n > sectors-lba {
		return -errEINVAL
	}
	size := n * devices.SectorSize
	buf, err := g.mem.Slice(mmu.GPA(addr), size)
	if err != nil {
		return -errEFAULT
	}
	off := int64(lba * devices.SectorSize)
	if flags&blockWrite == 0 {
		got, _ := d.ReadAt(buf, off) // io.EOF with a full read at the end of the disk is no error
		g.mem.NoteWrite(mmu.GPA(addr), size)
		if uint64(got) < size {
			return -errEIO
		}
		return int64(n)
	}
	if d.ReadOnly() {
		return -errEROFS
	}
	if got, err := d.WriteAt(buf, off); err != nil || uint64(got) < size {
		return -errEIO
	}
	if flags&blockFlush != 0 && d.Sync() != nil {
		return -errEIO
	}
	return int64(n)
}

// setVCPUInfo is GEMU_HC_VCPU_INFO: addr|1 registers the gemu_vcpu_info at
// addr (8-aligned, in RAM), 0 unregisters it.
func (g *gemuHC) setVCPUInfo(v uint64) int64 {
	if v == 0 {
		g.vcpuInfo, g.vcpuInfoGPA = nil, 0
		return 0
	}
	addr := v &^ vcpuInfoEnable
	if v&vcpuInfoEnable == 0 || addr%vcpuInfoSize != 0 {
		return -errEINVAL
	}
	info, err := g.mem.Slice(mmu.GPA(addr), vcpuInfoSize)
	if err != nil {
		return -errEFAULT
	}
	g.vcpuInfo, g.vcpuInfoGPA = info, addr
	g.setPending(0)
	return 0
}

// deliverable filters the interrupt controller's Pending through the
// virtual interrupt flag: an interrupt waits while the guest's mask byte
// is set, and gemu says so in the pending byte. It is on the path the CPU
// takes before each block with EFLAGS.IF set: with no interrupt pending it
// costs one test.
func (g *gemuHC) deliverable(pending bool) bool {
	if !pending || g == nil || g.vcpuInfo == nil {
		return pending
	}
	if g.vcpuInfo[vcpuInfoMask] != 0 {
		g.setPending(1)
		return false
	}
	g.setPending(0)
	return true
}

// setPending writes the pending byte when it changes, through WriteAt so
// that a page of translated code stays coherent.
func (g *gemuHC) setPending(v byte) {
	if g.vcpuInfo[vcpuInfoPending] != v {
		_ = g.mem.WriteAt(mmu.GPA(g.vcpuInfoGPA+vcpuInfoPending), []byte{v})
	}
}

// masked reports whether the guest's virtual interrupt flag holds
// interrupts back: a halt then waits forever, like HLT with IF = 0.
func (g *gemuHC) masked() bool {
	return g != nil && g.vcpuInfo != nil && g.vcpuInfo[vcpuInfoMask] != 0
}

// virtualIFMasked is the pv guest's virtual interrupt flag, masked.
func (m *Machine) virtualIFMasked() bool { return m.pv != nil && m.pv.gemu.masked() }
