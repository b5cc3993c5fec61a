package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gemu-project/gemu/devices"
)

func TestImgCreateInfoCommit(t *testing.T) {
	dir := t.TempDir()
	base, cow := filepath.Join(dir, "base.img"), filepath.Join(dir, "cow")
	status, _, errOut := gemu("img", "create", base, "1M")
	require.Equal(t, 0, status, errOut)
	st, err := os.Stat(base)
	require.NoError(t, err)
	require.Equal(t, int64(1<<20), st.Size())

	status, _, errOut = gemu("img", "create", "-b", base, cow)
	require.Equal(t, 0, status, errOut)
	status, out, errOut := gemu("img", "info", cow)
	require.Equal(t, 0, status, errOut)
	require.Contains(t, out, "format: gemu overlay")
	require.Contains(t, out, "virtual size: 1048576 bytes")
	require.Contains(t, out, "allocated: 0 of")

	// A guest-like write through the overlay reaches the base only on commit.
	m, err := openOverlayForTest(cow)
	require.NoError(t, err)
	_, err = m.WriteAt([]byte("committed data"), 4096)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	b, _ := os.ReadFile(base)
	require.NotContains(t, string(b), "committed data")
	status, out, errOut = gemu("img", "commit", cow)
	require.Equal(t, 0, status, errOut)
	require.Contains(t, out, "committed 1 clusters")
	b, _ = os.ReadFile(base)
	require.Equal(t, "committed data", string(b[4096:4096+14]))

	status, out, _ = gemu("img", "info", base)
	require.Equal(t, 0, status)
	require.Contains(t, out, "format: raw")

	for _, bad := range [][]string{
		{"img", "create", base, "1M"},                           // exists
		{"img", "create", filepath.Join(dir, "x.img"), "1000B"}, // not whole sectors
		{"img", "info", filepath.Join(dir, "none")},
		{"img", "commit", base}, // not an overlay
		{"img", "frobnicate"},
	} {
		status, _, errOut := gemu(bad...)
		require.Equal(t, 2, status, bad)
		require.Contains(t, errOut, "gemu img:", bad)
	}
}

func openOverlayForTest(path string) (interface {
	WriteAt([]byte, int64) (int, error)
	Close() error
}, error) {
	return devices.OpenOverlay(path)
}
