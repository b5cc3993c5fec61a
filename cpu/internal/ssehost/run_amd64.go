package ssehost

//go:noescape
func run(code []byte, s *State, mem []byte)
