package hv

import (
	"fmt"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/virtio"
)

// nic is a network card as the machine drives it: polled for received
// frames on the vCPU goroutine, closed with the machine (which closes its
// host link and capture file).
type nic interface {
	Poll() error
	Close() error
}

// virtioNIC is a virtio-net on either transport.
type virtioNIC struct {
	net  *virtio.Net
	link devices.NetBackend
	core *virtio.Core
}

func (v virtioNIC) Poll() error {
	if err := v.net.Poll(); err != nil {
		v.core.Fail(err)
	}
	return nil
}

func (v virtioNIC) Close() error { return v.link.Close() }

// ne2kNIC adapts the NE2000, whose Poll cannot fail.
type ne2kNIC struct{ *devices.NE2000 }

func (n ne2kNIC) Poll() error { n.NE2000.Poll(); return nil }

// addNICs opens each card's host link and puts the card on its bus: the
// NE2000 and virtio-net on PCI (before the bus assigns resources), or
// virtio-net on a virtio-mmio window after the disks' windows.
func (m *Machine) addNICs(specs []devices.NetSpec, dump string, defaultModel devices.NICModel) error {
	for i, spec := range specs {
		link, err := devices.OpenNetBackend(spec, m.logf)
		if err != nil {
			return fmt.Errorf("net %d: %w", i, err)
		}
		if dump != "" {
			path := dump
			if i > 0 {
				path = fmt.Sprintf("%s.%d", dump, i)
			}
			d, err := devices.NewNetDump(link, path)
			if err != nil {
				link.Close()
				return fmt.Errorf("net %d: %w", i, err)
			}
			link = d
		}
		link = wakingLink{NetBackend: link, wake: m.wake}
		model := spec.Model
		if model == "" {
			model = defaultModel
		}
		switch model {
		case devices.NICNE2000:
			card, err := devices.NewNE2000(devices.NE2000Config{MAC: spec.MAC, Backend: link, Logf: m.logf})
			if err != nil {
				link.Close()
				return fmt.Errorf("net %d: %w", i, err)
			}
			m.nics = append(m.nics, ne2kNIC{card})
			if _, err := m.PCI.AddDevice(card); err != nil {
				return fmt.Errorf("net %d: %w", i, err)
			}
		case devices.NICVirtio:
			n := virtio.NewNet(link, spec.MAC)
			dev, err := virtio.NewPCI(n, virtio.PCIConfig{Mem: m.Mem, Logf: m.logf})
			if err != nil {
				link.Close()
				return fmt.Errorf("net %d: %w", i, err)
			}
			m.nics = append(m.nics, virtioNIC{net: n, link: link, core: dev.Core()})
			if _, err := m.PCI.AddDevice(dev); err != nil {
				return fmt.Errorf("net %d: %w", i, err)
			}
		case devices.NICVirtioMMIO:
			n := virtio.NewNet(link, spec.MAC)
			w, err := m.addVirtioMMIODevice(n, "virtio-net")
			if err != nil {
				link.Close()
				return fmt.Errorf("net %d: %w", i, err)
			}
			m.nics = append(m.nics, virtioNIC{net: n, link: link, core: w.Core()})
		default:
			link.Close()
			return fmt.Errorf("net %d: unknown model %q", i, model)
		}
	}
	return nil
}

// pollNICs takes the frames the host links received.
func (m *Machine) pollNICs() {
	for _, n := range m.nics {
		n.Poll()
	}
}

// wakingLink wakes the halted vCPU when a frame arrives, so that the card
// sees it now rather than at the end of the vCPU's idle sleep.
type wakingLink struct {
	devices.NetBackend
	wake func()
}

func (l wakingLink) SetReceiver(fn func(frame []byte)) {
	if fn == nil {
		l.NetBackend.SetReceiver(nil)
		return
	}
	l.NetBackend.SetReceiver(func(frame []byte) {
		fn(frame)
		l.wake()
	})
}
