//go:build !(linux && amd64)

package hostexec

// Run is not available here; see the linux/amd64 version.
func Run(code []byte, in *Regs, mem []byte) (Regs, error) { return Regs{}, ErrUnsupported }
