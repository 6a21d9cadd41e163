#!/usr/bin/env bash
# Whole-process measurements of issue #18, part two (BENCHMARKS.md section
# "Whole processes, part two"): loading every loadable libbpf-tools object in
# one process (tinybpf library API vs libbpf), and `tinybpf check` against
# ten kernels vs `bpftool gen min_core_btf` once per kernel.
#
# usage: bash bench/alltools.sh [ROUNDS]     (as root; default 21)
#        ALLTOOLS_FIFO=1 bash bench/alltools.sh [ROUNDS]
#
# ALLTOOLS_FIFO=1 runs every measured process under SCHED_FIFO (chrt -f 10,
# inherited through spawn): on a shared machine that lets a run take the
# CPUs whenever it wants them, the closest this gets to an idle machine.
#
# Builds the runners, carves the BPF object out of every libbpf-tools
# executable, keeps the objects that load whole (every program) with both
# tinybpf and libbpf on this kernel, fetches ten Debian kernels' BTF if
# /var/tmp/tinybpf-btf has fewer (scripts/fetch-kernel-btf.sh), then runs
# bench/alltools.py, which prints the markdown tables (also written to
# bench/target/alltools/report.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench
T=$B/target
W=$T/alltools
ROUNDS=${1:-21}
BTF_DIR=${TINYBPF_BTF_DIR:-/var/tmp/tinybpf-btf}
log() { echo "alltools: $*" >&2; }

[[ $(id -u) == 0 ]] || { log "needs root"; exit 1; }

log "building"
(cd "$B" && cargo build --release -q)
(cd "$ROOT" && cargo build --release -q -p tinybpf-cli)
mkdir -p "$W/objs"
cc -O2 -Wall -o "$T/spawn" "$B/c/spawn.c"
cc -O2 -Wall -o "$T/load_libbpf" "$B/c/load_libbpf.c" -lbpf -lelf -lz
cc -O2 -Wall -o "$T/load_all_libbpf" "$B/c/load_all_libbpf.c" -lbpf -lelf -lz
TB=$T/release/bench-tinybpf

log "carving libbpf-tools objects"
dpkg-query -W -f='${Status}' libbpf-tools 2>/dev/null | grep -q "ok installed" ||
    { log "libbpf-tools is not installed"; exit 1; }
for bin in $(dpkg -L libbpf-tools | grep '^/usr/sbin/'); do
    [[ -f $bin && ! -L $bin ]] || continue # symlinks share their target's object
    "$TB" carve "$bin" "$W/objs/$(basename "$bin").bpf.o" 2>/dev/null || true
done

log "finding the objects every program of which loads with both"
LOADABLE=()
: >"$W/loadable.txt"
for o in "$W"/objs/*.bpf.o; do
    n=$(basename "$o" .bpf.o)
    t=no; l=no
    "$TB" load "$o" >/dev/null 2>&1 && t=yes
    "$T/load_libbpf" "$o" >/dev/null 2>&1 && l=yes
    echo "$n tinybpf=$t libbpf=$l" >>"$W/loadable.txt"
    [[ $t == yes && $l == yes ]] && LOADABLE+=("$o")
done
log "${#LOADABLE[@]} of $(ls "$W"/objs/*.bpf.o | wc -l) objects load with both (see $W/loadable.txt)"

mapfile -t BTFS < <(ls "$BTF_DIR"/vmlinux-*.btf 2>/dev/null | sort -V)
if [[ ${#BTFS[@]} -lt 10 ]]; then
    log "fetching kernel BTF into $BTF_DIR"
    bash "$ROOT/scripts/fetch-kernel-btf.sh" --all --max 10 "$BTF_DIR" >/dev/null
    mapfile -t BTFS < <(ls "$BTF_DIR"/vmlinux-*.btf 2>/dev/null | sort -V)
fi
BTFS=("${BTFS[@]:0:10}")
log "kernels: ${BTFS[*]##*/}"

CHECK=()
for t in tcptracer runqlat execsnoop; do CHECK+=("$W/objs/$t.bpf.o"); done

RUN=()
[[ ${ALLTOOLS_FIFO:-0} == 1 ]] && RUN=(chrt -f 10)
log "running $ROUNDS rounds ${RUN[*]}"
"${RUN[@]}" python3 "$B/alltools.py" "$ROUNDS" --load "${LOADABLE[@]}" --check "${CHECK[@]}" \
    --btf "${BTFS[@]}" | tee "$W/report.md"
