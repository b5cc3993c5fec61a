#!/usr/bin/env bash
# Installs what gemu's tests need (Debian packages) and runs every test.
#   nasm              rebuilds the test guests and the BIOS (tests check the committed images are fresh)
#   qemu-system-x86   the reference for side-by-side benchmarks and the guests' oracle
#   linux-image-amd64 Debian's kernel, booted by hv's Linux test
#   busybox-static    the userland of that test's initramfs
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v nasm >/dev/null || need+=(nasm)
command -v qemu-system-i386 >/dev/null || need+=(qemu-system-x86)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}; run as root or install them (apt-get install ${need[*]})" >&2
  fi
fi

gofmt_out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$gofmt_out" ]; then
  echo "gofmt: unformatted files:" >&2
  echo "$gofmt_out" >&2
  exit 1
fi
go vet ./...
go test -timeout 25m ./...
