package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/gemu-project/gemu/devices"
	"github.com/gemu-project/gemu/hv"
)

const imgUsage = `usage: gemu img create FILE SIZE        a raw image of SIZE (K, M or G), sparse where the file system allows
       gemu img create -b BASE FILE     a copy-on-write overlay over the raw image BASE
       gemu img info FILE               what FILE is: raw or overlay, sizes, base
       gemu img commit FILE             write the overlay's clusters into its base, then empty it
`

func cmdImg(args []string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gemu img: %v\n", err)
		return 2
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, imgUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("gemu img create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		base := fs.String("b", "", "make a copy-on-write overlay over the raw image `BASE`")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if *base != "" {
			if fs.NArg() != 1 {
				return fail(errors.New("create -b BASE FILE: one FILE, no size (the base's is used)"))
			}
			if err := devices.CreateOverlay(fs.Arg(0), *base); err != nil {
				return fail(err)
			}
			return 0
		}
		if fs.NArg() != 2 {
			return fail(errors.New("create FILE SIZE"))
		}
		size, err := hv.ParseMemSize(fs.Arg(1))
		if err != nil || size%devices.SectorSize != 0 {
			return fail(fmt.Errorf("size %q: want a multiple of 512 bytes, e.g. 64M", fs.Arg(1)))
		}
		f, err := os.OpenFile(fs.Arg(0), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fail(err)
		}
		err = f.Truncate(int64(size)) // a hole: no blocks until written
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(fs.Arg(0))
			return fail(err)
		}
		return 0
	case "info":
		if len(args) != 2 {
			return fail(errors.New("info FILE"))
		}
		path := args[1]
		overlay, err := devices.IsOverlay(path)
		if err != nil {
			return fail(err)
		}
		if overlay {
			in, err := devices.ReadOverlayInfo(path)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(stdout, "image: %s\nformat: gemu overlay (GEMUCOW1)\nvirtual size: %d bytes\nbase: %s\ncluster size: %d bytes\nallocated: %d of %d clusters\nfile size: %d bytes\n",
				path, in.VirtualSize, in.BasePath, in.ClusterSize, in.Allocated, in.Clusters, in.FileSize)
			return 0
		}
		st, err := os.Stat(path)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "image: %s\nformat: raw\nvirtual size: %d bytes\n", path, st.Size())
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			fmt.Fprintf(stdout, "disk size: %d bytes\n", sys.Blocks*512)
		}
		return 0
	case "commit":
		if len(args) != 2 {
			return fail(errors.New("commit FILE"))
		}
		n, err := devices.CommitOverlay(args[1])
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "committed %d clusters\n", n)
		return 0
	}
	return fail(fmt.Errorf("unknown command %q (create, info, commit)", args[0]))
}
