package initramfs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ModuleList is where AddModules writes the modules to load, in order, one
// guest path a line; DefaultInit insmods them before anything else.
const ModuleList = "/etc/gemu-modules"

// AddModules adds kernel modules and everything they depend on to the
// archive, from a module tree such as /lib/modules/6.1.0-56-amd64 (its
// modules.dep, as depmod(8) writes it), and lists them in ModuleList in an
// order that loads each dependency first. Names are module names with '-'
// and '_' alike ("virtio_blk", "ne2k-pci"). Compressed modules (.ko.xz,
// .ko.zst) are refused: busybox's insmod could not load them.
func AddModules(a *Archive, tree string, names []string) error {
	dep, err := os.ReadFile(filepath.Join(tree, "modules.dep"))
	if err != nil {
		return fmt.Errorf("modules: %w (is the kernel's module tree installed?)", err)
	}
	deps := map[string][]string{} // module file → the files it needs
	byName := map[string]string{} // normalized name → module file
	for _, line := range strings.Split(string(dep), "\n") {
		file, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		deps[file] = strings.Fields(rest)
		byName[moduleName(file)] = file
	}
	var order []string
	state := map[string]int{} // 1: being visited, 2: done
	var visit func(file string) error
	visit = func(file string) error {
		switch state[file] {
		case 1:
			return fmt.Errorf("modules: dependency cycle through %s", file)
		case 2:
			return nil
		}
		if !strings.HasSuffix(file, ".ko") {
			return fmt.Errorf("modules: %s is compressed; busybox insmod needs a plain .ko", file)
		}
		state[file] = 1
		d, ok := deps[file]
		if !ok {
			return fmt.Errorf("modules: %s is not in modules.dep", file)
		}
		for _, f := range d {
			if err := visit(f); err != nil {
				return err
			}
		}
		state[file] = 2
		order = append(order, file)
		return nil
	}
	for _, n := range names {
		file, ok := byName[strings.ReplaceAll(n, "-", "_")]
		if !ok {
			return fmt.Errorf("modules: no module %q in %s", n, tree)
		}
		if err := visit(file); err != nil {
			return err
		}
	}
	var list strings.Builder
	for _, file := range order {
		data, err := os.ReadFile(filepath.Join(tree, file))
		if err != nil {
			return fmt.Errorf("modules: %w", err)
		}
		guest := path.Join("/lib/modules", path.Base(file))
		if err := a.AddFile(guest, 0o644, data); err != nil {
			return err
		}
		list.WriteString(guest + "\n")
	}
	return a.AddFile(ModuleList, 0o644, []byte(list.String()))
}

// moduleName is the name the kernel gives the module in file: its base name
// without .ko, with '-' read as '_' (kmod's rule).
func moduleName(file string) string {
	base := path.Base(file)
	base = base[:len(base)-len(path.Ext(base))]
	base = strings.TrimSuffix(base, ".ko")
	return strings.ReplaceAll(base, "-", "_")
}
