package initramfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func moduleTree(t *testing.T) string {
	dir := t.TempDir()
	files := map[string]string{
		"modules.dep": "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n" +
			"kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n" +
			"kernel/drivers/virtio/virtio_ring.ko:\n" +
			"kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n" +
			"kernel/net/ne2k-pci.ko: kernel/net/8390.ko\n" +
			"kernel/net/8390.ko:\n" +
			"kernel/fs/packed.ko.xz:\n",
	}
	for _, f := range []string{"block/virtio_blk", "virtio/virtio", "virtio/virtio_ring", "virtio/virtio_mmio"} {
		files["kernel/drivers/"+f+".ko"] = f
	}
	files["kernel/net/ne2k-pci.ko"], files["kernel/net/8390.ko"] = "ne2k", "8390"
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	return dir
}

func TestAddModulesOrdersDependenciesFirst(t *testing.T) {
	tree := moduleTree(t)
	var a Archive
	require.NoError(t, AddModules(&a, tree, []string{"virtio_blk", "virtio-mmio", "ne2k_pci"}))
	list := a.entries[ModuleList[1:]]
	require.NotNil(t, list)
	require.Equal(t, "/lib/modules/virtio_ring.ko\n/lib/modules/virtio.ko\n/lib/modules/virtio_blk.ko\n"+
		"/lib/modules/virtio_mmio.ko\n/lib/modules/8390.ko\n/lib/modules/ne2k-pci.ko\n", string(list.data))
	require.Equal(t, "virtio/virtio_ring", string(a.entries["lib/modules/virtio_ring.ko"].data))
}

func TestAddModulesErrors(t *testing.T) {
	tree := moduleTree(t)
	for name, want := range map[string]string{
		"nosuch": `no module "nosuch"`,
		"packed": "compressed",
	} {
		var a Archive
		err := AddModules(&a, tree, []string{name})
		require.ErrorContains(t, err, want)
	}
	var a Archive
	require.ErrorContains(t, AddModules(&a, t.TempDir(), []string{"x"}), "modules.dep")
}
