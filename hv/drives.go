package hv

import (
	"fmt"
	"strings"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/firmware"
	"github.com/gemu-project/gemu/virtio"
)

// Drive is one disk of the machine: gemu run --disk FILE[,if=...][,ro].
type Drive struct {
	Path string
	// Interface is how the guest sees the disk: "ide" (the emulated ATA
	// disk on the primary channel, the default), "virtio" (virtio-blk on
	// PCI), "virtio-mmio" (virtio-blk on a virtio-mmio window that the
	// DSDT announces).
	Interface string
	ReadOnly  bool
}

// Drive interfaces.
const (
	DriveIDE        = "ide"
	DriveVirtio     = "virtio"
	DriveVirtioMMIO = "virtio-mmio"
)

// ParseDrive reads QEMU-like drive options: "FILE" or "file=FILE", then
// "if=ide|virtio|virtio-mmio", "ro" (or "readonly=on|off"), "format=raw".
func ParseDrive(spec string) (Drive, error) {
	d := Drive{Interface: DriveIDE}
	for i, opt := range strings.Split(spec, ",") {
		key, val, hasVal := strings.Cut(opt, "=")
		switch {
		case i == 0 && !hasVal:
			d.Path = opt
		case key == "file":
			d.Path = val
		case key == "if":
			switch val {
			case DriveIDE, DriveVirtio, DriveVirtioMMIO:
				d.Interface = val
			default:
				return d, fmt.Errorf("disk %q: if=%s: want ide, virtio or virtio-mmio", spec, val)
			}
		case key == "ro" && !hasVal:
			d.ReadOnly = true
		case key == "readonly":
			switch val {
			case "on":
				d.ReadOnly = true
			case "off":
				d.ReadOnly = false
			default:
				return d, fmt.Errorf("disk %q: readonly=%s: want on or off", spec, val)
			}
		case key == "format":
			if val != "raw" {
				return d, fmt.Errorf("disk %q: format=%s: only raw images are read (overlays come from gemu img)", spec, val)
			}
		default:
			return d, fmt.Errorf("disk %q: unknown option %q", spec, opt)
		}
	}
	if d.Path == "" {
		return d, fmt.Errorf("disk %q: no file", spec)
	}
	return d, nil
}

// virtio-mmio windows: from VirtioMMIOBase, one every VirtioMMIOStride, on
// IOAPIC inputs from virtioMMIOFirstGSI (above the ISA and PCI lines).
const (
	VirtioMMIOBase     = 0xFEB00000
	VirtioMMIOStride   = 0x1000
	virtioMMIOFirstGSI = 16
	maxVirtioMMIO      = 8
)

// openDisks are the machine's open images, by interface.
type openDisks struct {
	ide               devices.BlockBackend // the primary master, or nil
	virtioPCI, virtio []devices.BlockBackend
}

// openDrives opens the drives' images.
func (m *Machine) openDrives(drives []Drive) (openDisks, error) {
	var o openDisks
	for _, d := range drives {
		fb, err := devices.OpenFileBackend(d.Path, d.ReadOnly)
		if err != nil {
			return o, err
		}
		m.backends = append(m.backends, fb)
		switch d.Interface {
		case DriveIDE, "":
			if o.ide != nil {
				return o, fmt.Errorf("disk %s: only one IDE disk (the primary master) is emulated", d.Path)
			}
			o.ide = fb
		case DriveVirtio:
			o.virtioPCI = append(o.virtioPCI, fb)
		case DriveVirtioMMIO:
			if len(o.virtio) == maxVirtioMMIO {
				return o, fmt.Errorf("disk %s: at most %d virtio-mmio devices", d.Path, maxVirtioMMIO)
			}
			o.virtio = append(o.virtio, fb)
		default:
			return o, fmt.Errorf("disk %s: unknown interface %q", d.Path, d.Interface)
		}
	}
	return o, nil
}

// addVirtioPCI puts a virtio-blk on the PCI bus for each disk (before the
// bus assigns resources).
func (m *Machine) addVirtioPCI(disks []devices.BlockBackend) error {
	for n, disk := range disks {
		blk, err := virtio.NewBlock(disk, virtio.BlockConfig{Serial: fmt.Sprintf("gemu-pci-vd%c", 'a'+n)})
		if err != nil {
			return err
		}
		dev, err := virtio.NewPCI(blk, virtio.PCIConfig{Mem: m.Mem, Logf: m.logf})
		if err != nil {
			return err
		}
		if _, err := m.PCI.AddDevice(dev); err != nil {
			return fmt.Errorf("virtio-blk: %w", err)
		}
	}
	return nil
}

// addVirtioMMIO puts a virtio-blk on a virtio-mmio window for each disk, on
// the MMIO bus and (m.virtioMMIO) in the DSDT.
func (m *Machine) addVirtioMMIO(disks []devices.BlockBackend) error {
	for n, disk := range disks {
		blk, err := virtio.NewBlock(disk, virtio.BlockConfig{Serial: fmt.Sprintf("gemu-vd%c", 'a'+n)})
		if err != nil {
			return err
		}
		base, gsi := uint64(VirtioMMIOBase+n*VirtioMMIOStride), virtioMMIOFirstGSI+n
		dev := virtio.NewMMIO(blk, virtio.MMIOConfig{Mem: m.Mem, IRQ: m.IOAPIC, GSI: gsi, Logf: m.logf})
		if err := m.MMIO.Register(base, virtio.MMIOSize, "virtio-blk", dev); err != nil {
			return err
		}
		m.virtioMMIO = append(m.virtioMMIO, firmware.VirtioMMIODevice{Base: base, Size: virtio.MMIOSize, GSI: uint32(gsi)})
	}
	return nil
}
