//go:build !amd64

package ssehost

func run(code []byte, s *State, mem []byte) { panic("ssehost: not an amd64 host") }
