package firmware

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"fmt"

	"github.com/gemu-project/gemu/cpu"
	"github.com/gemu-project/gemu/mmu"
)

// biosImage is the built-in BIOS, built from bios/bios.asm by bios/build.sh.
//
//go:embed bios/bios.bin
var biosImage []byte

// The BIOS ROM: 64 KiB at 0xF0000–0xFFFFF, entered at F000:FFF0.
const (
	BIOSBase = biosBase
	BIOSSize = 0x10000

	// BIOSConfigAddr is the physical address of the BIOS configuration block
	// (F000:0000, the first bytes of the image) that InstallBIOS fills in:
	//
	//	+0  "GEMU"  signature
	//	+4  u16     layout version (1)
	//	+6  u16     flags: bit 0 = skip the disk, enter the image at 0000:7C00
	//	+8  u64     RAM size in bytes (INT 15h E801h and 88h)
	//	+16 u16     number of E820 entries (at most 16)
	//	+20 [16]    E820 entries of 20 bytes: base u64, length u64, type u32
	//
	// The BIOS only reads it; bios.asm defines the same layout at cfg_sig.
	BIOSConfigAddr = BIOSBase
)

// Offsets in the configuration block (bios.asm, cfg_*).
const (
	cfgSignature  = 0
	cfgVersion    = 4
	cfgFlags      = 6
	cfgMemSize    = 8
	cfgE820Count  = 16
	cfgE820       = 20
	cfgE820Max    = 16
	cfgE820Size   = 20
	cfgFlagFlat   = 1 << 0
	cfgVersionNow = 1
)

// BIOSImage returns a copy of the built-in BIOS with its configuration block
// filled for memSize bytes of RAM. bootDisk selects the boot path after the
// initialisation: true reads LBA 0 of the primary ATA disk to 0000:7C00 (the
// PC way, INT 19h); false enters an image the caller has already put at
// 0000:7C00 (the flat-binary route of Load). Either way DL=80h.
func BIOSImage(memSize uint64, bootDisk bool) ([]byte, error) {
	img := bytes.Clone(biosImage)
	if len(img) != BIOSSize {
		return nil, fmt.Errorf("built-in BIOS is %d bytes, want %d (rebuild firmware/bios/bios.bin)", len(img), BIOSSize)
	}
	le := binary.LittleEndian
	if string(img[cfgSignature:cfgSignature+4]) != "GEMU" || le.Uint16(img[cfgVersion:]) != cfgVersionNow {
		return nil, fmt.Errorf("built-in BIOS has no version %d configuration block at offset 0", cfgVersionNow)
	}
	if memSize < minMemorySize {
		return nil, fmt.Errorf("BIOS: memory size %#x is below 1 MiB", memSize)
	}
	var flags uint16
	if !bootDisk {
		flags |= cfgFlagFlat
	}
	le.PutUint16(img[cfgFlags:], flags)
	le.PutUint64(img[cfgMemSize:], memSize)
	m := E820(memSize)
	if len(m) > cfgE820Max {
		return nil, fmt.Errorf("BIOS: %d E820 entries, the BIOS holds %d", len(m), cfgE820Max)
	}
	le.PutUint16(img[cfgE820Count:], uint16(len(m)))
	for i, e := range m {
		p := img[cfgE820+i*cfgE820Size:]
		le.PutUint64(p[0:], e.Base)
		le.PutUint64(p[8:], e.Length)
		le.PutUint32(p[16:], uint32(e.Type))
	}
	return img, nil
}

// InstallBIOS copies the built-in BIOS, configured for memSize bytes of RAM
// (0: all of mem), to 0xF0000–0xFFFFF and returns the reset state at
// F000:FFF0. The BIOS then sets up the IVT, BDA and EBDA, the PICs, the PIT
// and COM1 (and, if CPUID reports a local APIC, puts it in virtual-wire mode
// so that the 8259 reaches the CPU), detects the ATA disk and boots: from the
// disk if bootDisk, else by entering the image already at 0000:7C00 (see
// BIOSImage).
func InstallBIOS(mem *mmu.Memory, memSize uint64, bootDisk bool) (cpu.State, error) {
	memSize, err := resolveMemSize(mem, memSize)
	if err != nil {
		return cpu.State{}, fmt.Errorf("BIOS: %w", err)
	}
	img, err := BIOSImage(memSize, bootDisk)
	if err != nil {
		return cpu.State{}, err
	}
	if err := mem.WriteAt(BIOSBase, img); err != nil {
		return cpu.State{}, fmt.Errorf("BIOS: %w", err)
	}
	return cpu.ResetState(0xF000, 0xFFF0), nil
}
