package hv_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/hv"
)

// The local APIC and IOAPIC answer at their MMIO pages, and the CPU reaches
// IA32_APIC_BASE through the machine's MSRs.
func TestAPICWiring(t *testing.T) {
	// A flat kernel (entered in real mode like a boot sector): read
	// IA32_APIC_BASE, write EAX to port 0xF4 (status (v<<1)|1 of the low byte: 0x00 → 1).
	code := []byte{
		0x66, 0xB9, 0x1B, 0x00, 0x00, 0x00, // mov ecx, 0x1b
		0x0F, 0x32, // rdmsr
		0x66, 0xC1, 0xE8, 0x08, // shr eax, 8 (bits 8–15: BSP 0x01, enable 0x08 → 0x09)
		0xE6, 0xF4, // out 0xf4, al
		0xF4,
	}
	img := make([]byte, 512)
	copy(img, code)
	path := filepath.Join(t.TempDir(), "apicbase.bin")
	require.NoError(t, os.WriteFile(path, img, 0o644))
	m, err := hv.New(hv.Config{Kernel: path, Timeout: 10 * time.Second})
	require.NoError(t, err)
	// Version register through guest-physical memory: version 0x14, 6 LVT entries.
	require.Equal(t, uint32(0x50014), m.Mem.Read32(0xFEE00030))
	// IOAPIC version through IOREGSEL/IOWIN.
	m.Mem.Write32(0xFEC00000, 1)
	require.Equal(t, uint32(0x170011), m.Mem.Read32(0xFEC00010))
	res, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, 0x09<<1|1, res.Status) // 0xFEE00900 >> 8 & 0xFF
}
