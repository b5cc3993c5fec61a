package cpu

import "unsafe"

// funcID returns the code pointer of a handler, so that the translator can
// recognise which generic handler the table chose. This is the only use of
// unsafe in the package.
func funcID(h handler) uintptr {
	if h == nil {
		return 0
	}
	return **(**uintptr)(unsafe.Pointer(&h))
}
