package devices

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFileBackendDiscard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "disk.img")
	data := bytes.Repeat([]byte{0xA5}, 1<<20)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	b, err := OpenFileBackend(path, false)
	require.NoError(t, err)
	defer b.Close()
	blocks := func() int64 {
		st, err := os.Stat(path)
		require.NoError(t, err)
		return st.Sys().(*syscall.Stat_t).Blocks
	}
	before := blocks()
	require.NoError(t, b.Discard(64<<10, 512<<10))
	got := make([]byte, len(data))
	_, err = b.ReadAt(got, 0)
	require.NoError(t, err)
	want := bytes.Clone(data)
	clear(want[64<<10 : 576<<10])
	require.True(t, bytes.Equal(want, got), "the discarded range reads as zeros, the rest is kept")
	t.Logf("allocated blocks: %d before, %d after", before, blocks())

	require.ErrorContains(t, b.Discard(1<<20-512, 1024), "outside")
	require.ErrorContains(t, b.Discard(-1, 10), "outside")
	b.Close() // a reader cannot open an image that a writer holds
	ro, err := OpenFileBackend(path, true)
	require.NoError(t, err)
	defer ro.Close()
	require.ErrorIs(t, ro.Discard(0, 512), ErrReadOnly)
}
