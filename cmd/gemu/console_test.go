package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConsoleEscapes(t *testing.T) {
	var out bytes.Buffer
	quit := 0
	c := &console{out: &out, quit: func() { quit++ }}
	var got []byte
	for _, b := range []byte("ab\x01hc\x01\x01d\x01zq\x01x") {
		got = c.filter(got, b)
	}
	require.Equal(t, "abc\x01dq", string(got)) // C-a h and C-a z are consumed, C-a C-a sends one C-a
	require.Contains(t, out.String(), "C-a x    exit gemu")
	require.Equal(t, 1, quit)
}
