#!/bin/sh
# Build each CO-RE test program twice (local and -DCORE_TARGET layouts).
# bpf/build.sh does the same for the whole tree; this is a stand-alone helper.
set -e
cd "$(dirname "$0")"
CFLAGS="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu"
for src in *.bpf.c; do
	name=${src%.bpf.c}
	clang-19 $CFLAGS -c "$src" -o "$name.bpf.o"
	llvm-strip-19 -g "$name.bpf.o"
	clang-19 $CFLAGS -DCORE_TARGET -c "$src" -o "$name.target.bpf.o"
	llvm-strip-19 -g "$name.target.bpf.o"
done
