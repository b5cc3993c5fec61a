package hv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/firmware"
	"github.com/gemu-project/gemu/virtio"
)

// Drive is one disk of the machine: gemu run --disk FILE[,if=...][,ro][,overlay=FILE].
type Drive struct {
	// Path is a raw image or a gemu overlay (gemu img create).
	Path string
	// Interface is how the guest sees the disk: "ide" (the emulated ATA
	// disk), "virtio" (virtio-blk on PCI), "virtio-mmio" (virtio-blk on a
	// virtio-mmio window that the DSDT announces); "" lets the mode choose:
	// emulated devices in full mode, virtio in pv mode.
	Interface string
	ReadOnly  bool
	// Overlay, if set, is a copy-on-write overlay over Path (made on first
	// use): the guest's writes go there and Path is only read.
	Overlay string
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
	var d Drive
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
		case key == "overlay" && val != "":
			d.Overlay = val
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
	if d.Overlay != "" && d.ReadOnly {
		return d, fmt.Errorf("disk %q: ro and overlay= together: the overlay exists to take writes", spec)
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

// diskImage is an open image: a raw file or an overlay.
type diskImage interface {
	devices.BlockBackend
	Close() error
}

// openDisks are the machine's open images, by interface.
type openDisks struct {
	ide               []devices.BlockBackend // primary master, then secondary master
	virtioPCI, virtio []devices.BlockBackend
}

// maxIDE is the number of emulated IDE disks: the master of each channel.
const maxIDE = 2

// openImage opens a drive's image: an overlay (created over Path if asked
// and missing), a gemu overlay given as Path, or a raw image.
func openImage(d Drive) (diskImage, error) {
	path := d.Path
	if d.Overlay != "" {
		if _, err := os.Stat(d.Overlay); errors.Is(err, fs.ErrNotExist) {
			if err := devices.CreateOverlay(d.Overlay, d.Path); err != nil {
				return nil, err
			}
		}
		path = d.Overlay
	}
	isOverlay, err := devices.IsOverlay(path)
	if err != nil {
		return nil, err
	}
	if !isOverlay {
		return devices.OpenFileBackend(path, d.ReadOnly)
	}
	if d.ReadOnly {
		return nil, fmt.Errorf("disk %s: an overlay cannot be opened read-only; use its base image", path)
	}
	return devices.OpenOverlay(path)
}

// openDrives opens the drives' images.
func (m *Machine) openDrives(drives []Drive) (openDisks, error) {
	var o openDisks
	for _, d := range drives {
		if d.Interface == "" {
			d.Interface = m.defaultDrive()
		}
		img, err := openImage(d)
		if err != nil {
			return o, err
		}
		m.backends = append(m.backends, img)
		switch d.Interface {
		case DriveIDE:
			if len(o.ide) == maxIDE {
				return o, fmt.Errorf("disk %s: only %d IDE disks (the masters of the two channels) are emulated", d.Path, maxIDE)
			}
			o.ide = append(o.ide, img)
		case DriveVirtio:
			o.virtioPCI = append(o.virtioPCI, img)
		case DriveVirtioMMIO:
			o.virtio = append(o.virtio, img)
		default:
			return o, fmt.Errorf("disk %s: unknown interface %q", d.Path, d.Interface)
		}
	}
	return o, nil
}

// defaultDrive is the disk interface of the mode: emulated in full mode,
// paravirtual in pv mode.
func (m *Machine) defaultDrive() string { return DefaultDriveInterface(m.cfg.Paravirt) }

// DefaultDriveInterface is the disk interface a drive without if= gets:
// the emulated IDE disk in full mode, virtio-blk in pv mode.
func DefaultDriveInterface(paravirt bool) string {
	if paravirt {
		return DriveVirtio
	}
	return DriveIDE
}

// DriveModules are the modules of Debian's kernel that drive a disk
// interface, in load order (their dependencies are added from modules.dep).
func DriveModules(iface string) []string {
	switch iface {
	case DriveVirtio:
		return []string{"virtio_pci", "virtio_blk"}
	case DriveVirtioMMIO:
		return []string{"virtio_mmio", "virtio_blk"}
	default:
		return []string{"ata_piix", "sd_mod"}
	}
}

// primaryIDE is the disk on the primary channel, or nil.
func (o openDisks) primaryIDE() devices.BlockBackend {
	if len(o.ide) == 0 {
		return nil
	}
	return o.ide[0]
}

// addIDE puts the PIIX3 IDE function (00:01.1, bus-master DMA for Linux's
// ata_piix) on the PCI bus in front of the ATA channels, with the secondary
// disk if there is one.
func (m *Machine) addIDE(o openDisks, irq devices.IRQSink) error {
	var secondary *devices.ATA
	if len(o.ide) > 1 {
		secondary = devices.NewATAOn(devices.ATASecondary, o.ide[1], irq)
		if err := secondary.Register(m.PC.PIO, "ata1"); err != nil {
			return err
		}
	}
	ide, err := devices.NewPIIXIDE(devices.PIIXIDEConfig{Mem: m.Mem, Primary: m.PC.ATA, Secondary: secondary})
	if err != nil {
		return err
	}
	return m.PCI.Add(1, 1, ide)
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
		if _, err := m.addVirtioMMIODevice(blk, "virtio-blk"); err != nil {
			return err
		}
	}
	return nil
}

// addVirtioMMIODevice puts dev on the next virtio-mmio window.
func (m *Machine) addVirtioMMIODevice(dev virtio.Device, name string) (*virtio.MMIO, error) {
	slot := len(m.virtioMMIO)
	if slot == maxVirtioMMIO {
		return nil, fmt.Errorf("%s: at most %d virtio-mmio devices", name, maxVirtioMMIO)
	}
	base, gsi := uint64(VirtioMMIOBase+slot*VirtioMMIOStride), virtioMMIOFirstGSI+slot
	w := virtio.NewMMIO(dev, virtio.MMIOConfig{Mem: m.Mem, IRQ: m.IOAPIC, GSI: gsi, Logf: m.logf})
	if err := m.MMIO.Register(base, virtio.MMIOSize, name, w); err != nil {
		return nil, err
	}
	m.virtioMMIO = append(m.virtioMMIO, firmware.VirtioMMIODevice{Base: base, Size: virtio.MMIOSize, GSI: uint32(gsi)})
	return w, nil
}
