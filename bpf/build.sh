#!/usr/bin/env bash
# Rebuild every BPF object of the project from its C source.
#
#   bpf/NAME.bpf.c             -> bpf/NAME.bpf.o
#   bpf/tests/core/NAME.bpf.c  -> bpf/tests/core/NAME.bpf.o
#                                 bpf/tests/core/NAME.target.bpf.o  (-DCORE_TARGET)
#
# Objects keep .BTF/.BTF.ext (CO-RE relocations, line info) but lose DWARF.
# bpf/vmlinux.h is generated from the running kernel's BTF when absent (it
# is gitignored). Safe to run repeatedly; run from anywhere.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

pick() {
    local t
    for t in "$@"; do
        if command -v "$t" >/dev/null 2>&1; then
            command -v "$t"
            return 0
        fi
    done
    echo "build.sh: none of [$*] found in PATH" >&2
    return 1
}

CLANG="${CLANG:-$(pick clang-19 clang)}"
STRIP="${LLVM_STRIP:-$(pick llvm-strip-19 llvm-strip)}"

if [[ ! -s bpf/vmlinux.h ]]; then
    BPFTOOL="${BPFTOOL:-$(pick bpftool /usr/sbin/bpftool)}"
    echo "  GEN     bpf/vmlinux.h"
    "$BPFTOOL" btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h.tmp
    mv bpf/vmlinux.h.tmp bpf/vmlinux.h
fi

CFLAGS=(-g -O2 -target bpf -D__TARGET_ARCH_x86 -I bpf -I/usr/include/x86_64-linux-gnu -Wall -Werror)

# compile SRC OUT [extra clang flags...]
compile() {
    local src="$1" out="$2"
    shift 2
    echo "  CLANG   $out"
    "$CLANG" "${CFLAGS[@]}" "$@" -c "$src" -o "$out.tmp"
    "$STRIP" -g "$out.tmp"
    mv "$out.tmp" "$out"
}

shopt -s nullglob
built=0
for src in bpf/*.bpf.c; do
    compile "$src" "${src%.c}.o"
    built=$((built + 1))
done
for src in bpf/tests/core/*.bpf.c; do
    base="${src%.bpf.c}"
    compile "$src" "$base.bpf.o"
    compile "$src" "$base.target.bpf.o" -DCORE_TARGET
    built=$((built + 2))
done
echo "build.sh: built $built object(s) with $("$CLANG" --version | head -n1)"
