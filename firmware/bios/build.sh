#!/bin/sh
# Builds the gemu BIOS and its QEMU test boot image with nasm (flat binaries).
# The outputs are committed: bios.bin is embedded by firmware/bios.go.
set -eu
cd "$(dirname "$0")"
nasm -f bin -Wall -o bios.bin bios.asm
nasm -f bin -Wall -o testboot.bin testboot.asm
test "$(wc -c < bios.bin)" -eq 65536
