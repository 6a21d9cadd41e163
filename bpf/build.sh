#!/usr/bin/env bash
# Rebuild every BPF object of the project from its C source.
#
#   bpf/NAME.bpf.c             -> bpf/NAME.bpf.o
#   bpf/tests/core/NAME.bpf.c  -> bpf/tests/core/NAME.bpf.o
#                                 bpf/tests/core/NAME.target.bpf.o  (-DCORE_TARGET)
#
# Objects keep .BTF/.BTF.ext (CO-RE relocations, line info) but lose DWARF.
# bpf/vmlinux.h is generated from the running kernel's BTF when absent (it
# is gitignored) by `tinybpf btf dump`. Safe to run repeatedly; run from anywhere.
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

shopt -s nullglob
sources=(bpf/*.bpf.c)
core_sources=(bpf/tests/core/*.bpf.c)

# vmlinux.h only when some source includes it and it is not there yet. It
# comes from tinybpf's own BTF dumper (`tinybpf btf dump`, the same header
# bpftool writes); no bpftool needed. TINYBPF=/path/to/tinybpf skips cargo.
if [[ ! -s bpf/vmlinux.h ]] &&
    grep -lq '#include "vmlinux.h"' "${sources[@]}" "${core_sources[@]}" /dev/null; then
    echo "  GEN     bpf/vmlinux.h"
    if [[ -n "${TINYBPF:-}" ]]; then
        dump=("$TINYBPF")
    else
        dump=(cargo run -q -p tinybpf-cli --)
    fi
    if ! "${dump[@]}" btf dump /sys/kernel/btf/vmlinux --format c > bpf/vmlinux.h.tmp; then
        rm -f bpf/vmlinux.h.tmp
        exit 1
    fi
    mv bpf/vmlinux.h.tmp bpf/vmlinux.h
fi

CFLAGS=(-g -O2 -target bpf -D__TARGET_ARCH_x86 -I bpf -I/usr/include/x86_64-linux-gnu -Wall -Werror
        -fdebug-prefix-map="$PWD"=. -ffile-prefix-map="$PWD"=.)

# compile SRC OUT [extra clang flags...]
compile() {
    local src="$1" out="$2"
    shift 2
    echo "  CLANG   $out"
    if ! "$CLANG" "${CFLAGS[@]}" "$@" -c "$src" -o "$out.tmp"; then
        rm -f "$out.tmp"
        return 1
    fi
    if ! "$STRIP" -g "$out.tmp"; then
        rm -f "$out.tmp"
        return 1
    fi
    mv "$out.tmp" "$out"
}

built=0
for src in "${sources[@]}"; do
    compile "$src" "${src%.c}.o"
    built=$((built + 1))
done
for src in "${core_sources[@]}"; do
    base="${src%.bpf.c}"
    compile "$src" "$base.bpf.o"
    compile "$src" "$base.target.bpf.o" -DCORE_TARGET
    built=$((built + 2))
done
echo "build.sh: built $built object(s) with $("$CLANG" --version | head -n1)"
