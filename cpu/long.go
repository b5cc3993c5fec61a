package cpu

// Long mode (SDM Vol. 3A §2.2.1, §4.5, §6.14; Vol. 2 for the 64-bit forms).

// registerLong installs the rows that differ in 64-bit mode.
func registerLong() {}

// longMSRs are the MSRs of IA-32e mode and of the features that came with it.
type longMSRs struct {
	star, lstar, cstar, sfmask uint64
	kernelGSBase               uint64
	pat                        uint64
	tscAux                     uint64
}

// canonical reports whether a linear address is canonical: bits 63:47 all
// equal (SDM Vol. 1 §3.3.7.1, 48-bit linear addresses).
func canonical(la uint64) bool {
	return uint64(int64(la<<16)>>16) == la
}
