package hv

// SplitModules is exported for tests.
var SplitModules = splitModules

// LockedBuffer is exported for tests: a buffer for writers on other
// goroutines.
type LockedBuffer = lockedBuffer
