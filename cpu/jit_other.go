//go:build !(linux && amd64)

package cpu

// Native code is translated for linux/amd64 hosts only (jit_amd64.go).

type codeBuffer struct{}

func newCodeBuffer() *codeBuffer                { return nil }
func (b *codeBuffer) reset()                    {}
func (c *CPU) compileBlock(*block) *nativeBlock { return nil }
func jitEnter(uintptr, *CPU) uint64             { panic("jit: no native code on this host") }

func (b *codeBuffer) patchJump(site, target uintptr) {}
