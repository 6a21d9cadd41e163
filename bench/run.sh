#!/usr/bin/env bash
# Benchmark tinybpf against libbpf and aya; writes BENCHMARKS.md.
#
# usage: bash bench/run.sh [ROUNDS]        (default 21; env BENCH_ROUNDS too)
#
# Builds the Rust runners (bench/, aya from crates.io) and the C runner
# (bench/c/, Debian's libbpf-dev), carves objects out of Debian's
# libbpf-tools executables, then runs every measurement in a fresh process,
# interleaving the three implementations, and summarises medians, IQRs and
# ratios into BENCHMARKS.md. Needs root (CAP_BPF, CAP_PERFMON), clang-built
# objects in bpf/ and kernel BTF files for `check` in /var/tmp/tinybpf-btf
# (scripts/fetch-kernel-btf.sh on branch data fetches them).
# Takes about 3-5 minutes with 21 rounds.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench
T=$B/target
ROUNDS=${1:-${BENCH_ROUNDS:-21}}
BTF_DIR=${TINYBPF_BTF_DIR:-/var/tmp/tinybpf-btf}
log() { echo "bench: $*" >&2; }

[[ $(id -u) == 0 ]] || { log "needs root (bpf, perf events)"; exit 1; }

log "building"
(cd "$B" && cargo build --release -q)
mkdir -p "$T/objs"
cc -O2 -Wall -o "$T/bench_libbpf" "$B/c/bench_libbpf.c" -lbpf -lelf -lz
(cd "$ROOT" && cargo build --release -q --example hello)
[[ -f $ROOT/bpf/hello.bpf.o ]] || (cd "$ROOT" && bash bpf/build.sh)

TB=$T/release/bench-tinybpf
AY=$T/release/bench-aya
LB=$T/bench_libbpf

# Objects from Debian's libbpf-tools (skeletons embed the whole .bpf.o).
if ! dpkg-query -W -f='${Status}' libbpf-tools 2>/dev/null | grep -q "ok installed"; then
    log "installing libbpf-tools"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libbpf-tools >&2
fi
for t in execsnoop runqlat tcptracer; do
    "$TB" carve "/usr/sbin/$t" "$T/objs/tools-$t.bpf.o"
done

# tracefs: aya and libbpf need it mounted to attach tracepoints (tinybpf
# mounts it itself when absent).
if ! grep -q " tracefs " /proc/mounts; then
    mount -t tracefs tracefs /sys/kernel/tracing
fi

# (label path programs) for open+load.
LOADS=(
    "$ROOT/bpf/hello.bpf.o -"
    "$ROOT/bpf/maps.bpf.o -"
    "$ROOT/bpf/execsnoop.bpf.o handle_exec"
    "$ROOT/bpf/tracepoints.bpf.o -"
    "$T/objs/tools-execsnoop.bpf.o -"
    "$T/objs/tools-runqlat.bpf.o -"
    "$T/objs/tools-tcptracer.bpf.o -"
)

# Ten kernel BTFs for check (repeat what there is if fewer than ten).
mapfile -t BTFS < <(ls "$BTF_DIR"/vmlinux-*.btf 2>/dev/null | sort -V)
CHECK_NOTE="${#BTFS[@]} distinct kernels' BTF from Debian linux-image packages"
if [[ ${#BTFS[@]} -eq 0 ]]; then
    BTFS=(/sys/kernel/btf/vmlinux)
    CHECK_NOTE="no fetched BTF found in $BTF_DIR: the running kernel's BTF, repeated"
fi
CHECK=()
while [[ ${#CHECK[@]} -lt 10 ]]; do CHECK+=("${BTFS[@]}"); done
CHECK=("${CHECK[@]:0:10}")
if [[ ${#BTFS[@]} -lt 10 ]]; then
    CHECK_NOTE="only ${#BTFS[@]} distinct kernels available, repeated to ten"
fi

RES=$T/results.jsonl
ERR=$T/errors.log
: >"$RES"
: >"$ERR"
META=$T/meta.txt
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    echo "ncpu=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "load_start=$(cut -d' ' -f1 /proc/loadavg)"
    echo "rounds=$ROUNDS"
    echo "git=$(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- src || echo '+dirty')"
    echo "tinybpf_version=$(grep -m1 '^version' "$ROOT/Cargo.toml" | cut -d'"' -f2)"
    echo "libbpf_version=$(dpkg-query -W -f='${Version}' libbpf-dev)"
    echo "tools_version=$(dpkg-query -W -f='${Version}' libbpf-tools)"
    echo "aya_version=$(grep -A1 '^name = "aya"$' "$B/Cargo.lock" | grep version | cut -d'"' -f2)"
    echo "rustc=$(rustc --version | cut -d' ' -f1-2)"
    echo "check_btfs=10"
    echo "check_files=$(for f in "${BTFS[@]}"; do basename "$f" .btf; done | sed 's/^vmlinux-//' | paste -sd, | sed 's/,/, /g')"
    echo "check_note=$CHECK_NOTE"
    echo "notes_file=$B/notes.md"
} >"$META"

run() { # append one result line; failures go to errors.log
    if ! "$@" >>"$RES" 2>>"$ERR"; then
        echo "FAILED: $*" >>"$ERR"
    fi
}

log "$ROUNDS rounds (load: $(cut -d' ' -f1 /proc/loadavg))"
IMPLS=(tinybpf libbpf aya)
for ((r = 0; r < ROUNDS; r++)); do
    # Rotate the order of implementations every round.
    order=("${IMPLS[@]:r%3}" "${IMPLS[@]:0:r%3}")
    for l in "${LOADS[@]}"; do
        read -r obj progs <<<"$l"
        for i in "${order[@]}"; do
            case $i in
                tinybpf) run "$TB" load "$obj" "$progs" ;;
                libbpf) run "$LB" load "$obj" "$progs" ;;
                aya) run "$AY" load "$obj" "$progs" ;;
            esac
        done
    done
    for i in "${order[@]}"; do
        case $i in
            tinybpf) run "$TB" btf; run "$TB" check "$T/objs/tools-tcptracer.bpf.o" "${CHECK[@]}" ;;
            libbpf) run "$LB" btf ;;
            aya) run "$AY" btf ;;
        esac
    done
    run "$TB" check "$T/objs/tools-runqlat.bpf.o" "${CHECK[@]}"
    # Teardown runs are slow (RCU grace periods): every other round.
    if ((r % 2 == 0)); then
        for i in "${order[@]}"; do
            case $i in
                tinybpf) run "$TB" attach-par "$ROOT/bpf/tracepoints.bpf.o"
                         run "$TB" attach-seq "$ROOT/bpf/tracepoints.bpf.o" ;;
                libbpf) run "$LB" attach-seq "$ROOT/bpf/tracepoints.bpf.o" ;;
                aya) run "$AY" attach-seq "$ROOT/bpf/tracepoints.bpf.o" ;;
            esac
        done
    fi
    log "round $((r + 1))/$ROUNDS done"
done
echo "load_end=$(cut -d' ' -f1 /proc/loadavg)" >>"$META"

# Size of the hello example (stripped) and its shared libraries.
HELLO=$ROOT/target/release/examples/hello
strip -o "$T/hello.stripped" "$HELLO"
LIBS=$(ldd "$HELLO" | awk '/=>/ {print $1} /ld-linux/ && !/=>/ {print $1}' | xargs -n1 basename | paste -sd' ')
ONLY_GLIBC=yes
for lib in $LIBS; do
    case $lib in
        linux-vdso.so.*|libc.so.*|libm.so.*|libgcc_s.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) ;;
        *) ONLY_GLIBC=no ;;
    esac
done
strip -o "$T/bench-aya.stripped" "$AY"
{
    echo "hello_size=$(stat -c %s "$T/hello.stripped")"
    echo "hello_ldd=$LIBS"
    echo "hello_only_glibc=$ONLY_GLIBC"
    echo "libbpf_so_size=$(stat -L -c %s "$(ldconfig -p | awk '/libbpf.so.1 .*x86-64/ {print $NF; exit}')")"
    echo "aya_size=$(stat -c %s "$T/bench-aya.stripped")"
} >>"$META"

if [[ -s $ERR ]]; then
    log "some runs failed or warned (see $ERR):"
    grep -c FAILED "$ERR" >&2 || true
fi
"$T/release/bench-report" "$RES" "$META" "$ROOT/BENCHMARKS.md"
log "wrote $ROOT/BENCHMARKS.md"
