#!/bin/bash
# long-verify.sh: build the 64-bit test guests (long64, long64pg, longsyscall)
# and run them on qemu-system-x86_64 (TCG), the oracle for the guests. Each
# runs under two CPU models: qemu64 (no RDTSCP, FSGSBASE, 1 GiB pages: those
# parts print "skip") and max (everything). QEMU's -kernel takes only 32-bit
# multiboot kernels: the guests start in protected mode and enter long mode
# themselves. Status 1 = verdict 0 = pass.
#   ./long-verify.sh            build, then run
#   ./long-verify.sh --no-build run the committed images
# Exits non-zero if any run does not pass.
set -u
cd "$(dirname "$0")"

QEMU=${QEMU:-qemu-system-x86_64}
COMMON=(-accel tcg -display none -no-reboot -m 128 -serial stdio
	-device isa-debug-exit,iobase=0xf4,iosize=4)
TIMEOUT=60
GUESTS=(long64 long64pg longsyscall)
fails=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ "${1:-}" != "--no-build" ]; then
	for g in "${GUESTS[@]}"; do
		nasm -f bin -o "$g.bin" "$g.asm" || exit 1
	done
fi

# run NAME CPU TEXT...: run NAME.bin with -cpu CPU; want status 1, the pass
# line, and every TEXT in the output.
run() {
	local name=$1 cpu=$2
	shift 2
	local t0=$SECONDS
	timeout "$TIMEOUT" "$QEMU" "${COMMON[@]}" -cpu "$cpu" -kernel "$name.bin" \
		>"$out" 2>&1 </dev/null
	local st=$? missing=""
	for text in "verdict: 0 (pass)" "$@"; do
		grep -qF -- "$text" "$out" || missing="$text"
	done
	if [ "$st" != 1 ] || [ -n "$missing" ]; then
		echo "FAIL $name -cpu $cpu: status $st (want 1)${missing:+, output lacks \"$missing\"}"
		sed 's/^/    /' "$out" | tail -n 20
		fails=$((fails + 1))
	else
		local notes
		notes=$(grep -c '^note:' "$out")
		echo "ok   $name -cpu $cpu (status 1, $((SECONDS - t0))s, $notes QEMU-vs-SDM notes)"
	fi
}

run long64 qemu64 "ok 14c 64-bit call gate" "skip RDTSCP"
run long64 max "ok 15b RDFSBASE" "ok 16 RDTSCP"
run long64pg qemu64 "ok 10 IST1" "skip 1 GiB pages"
run long64pg max "ok 3 1 GiB page" "ok 7 U/S from ring 3"
run longsyscall qemu64 "ok 1 SYSENTER/SYSEXIT" "ok 8 #GP at CPL 3"
run longsyscall max "ok 6 32-bit SYSRET" "ok 7 INT 80h"

if [ "$fails" -ne 0 ]; then
	echo "$fails run(s) failed on QEMU"
	exit 1
fi
echo "all 64-bit guests pass on QEMU"
