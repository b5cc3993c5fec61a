package hv

// SplitModules is exported for tests.
var SplitModules = splitModules
