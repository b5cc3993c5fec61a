package main

import (
	"bufio"
	"io"
	"time"
)

// flagDuration is a time.Duration flag.
type flagDuration struct{ d time.Duration }

func (f *flagDuration) String() string { return f.d.String() }
func (f *flagDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

func newBufferedWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 1<<20) }
