// Command perfboot boots a Linux bzImage in full mode under icount and
// writes a CPU profile, to find the interpreter's hot spots on a real
// workload (package cpu cannot import hv, so this lives apart).
//
//	go build -o /tmp/perfboot ./cpu/internal/perfboot
//	/tmp/perfboot -n 1500000000 -cpuprofile /tmp/cpu.pprof
//	go tool pprof -top -lines /tmp/perfboot /tmp/cpu.pprof
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/gemu-project/gemu/hv"
)

func main() {
	kernel := flag.String("kernel", "/boot/vmlinuz-6.1.0-56-amd64", "bzImage")
	initrd := flag.String("initrd", "/tmp/ir.gz", "initramfs")
	appendStr := flag.String("append", `console=ttyS0 quiet gemu.cmd="true"`, "kernel command line")
	n := flag.Uint64("n", 1500000000, "stop after N instructions (0: run to the end)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to `file`")
	memprofile := flag.String("memprofile", "", "write an allocation profile to `file`")
	pv := flag.Bool("pv", false, "boot in pv mode (KVM's paravirtual interface)")
	nojit := flag.Bool("nojit", false, "interpret only")
	hot := flag.Int("hotblocks", 0, "print the N blocks that retired the most instructions")
	flag.Parse()

	cfg := hv.Config{
		Kernel: *kernel, Initrd: *initrd, Append: *appendStr, MemSize: 256 << 20,
		ICount: true, ICountShift: 3, MaxInstructions: *n, Paravirt: *pv, HotBlocks: *hot, NoJIT: *nojit,
	}
	m, err := hv.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	res, err := m.Run()
	el := time.Since(start)
	m.Close()
	if err != nil {
		log.Fatal(err)
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	for _, b := range res.HotBlocks {
		fmt.Printf("%5.2f%% %10d× %#x\n", 100*float64(b.Retired())/float64(res.Stats.Instructions), b.Execs, b.Addr)
		for _, l := range b.Code {
			fmt.Println("\t" + l)
		}
	}
	fmt.Printf("%s: %d instructions in %v: %.1f MIPS (%.1f%% native, %d blocks)\n", res.Kind, res.Stats.Instructions, el.Round(time.Millisecond), float64(res.Stats.Instructions)/el.Seconds()/1e6,
		100*float64(res.Stats.NativeInstructions)/float64(res.Stats.Instructions), res.Stats.BlocksNative)
}
