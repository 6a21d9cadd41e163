#!/usr/bin/env bash
# Event draining benchmark (issue #18): tinybpf's RingBuffer/PerfBuffer vs
# libbpf's ring_buffer__poll/perf_buffer__poll on the same BPF object
# (bpf/bench_events.bpf.o), interleaved: every round runs each variant once,
# in a rotated order, each in a fresh process. Prints a Markdown table of
# medians (min–max) and writes the raw lines to bench/target/events.jsonl.
#
# usage: bash bench/events.sh [ROUNDS] [MODES...]    (default 7; all modes)
# MODES: ringbuf-drain perfbuf-drain ringbuf-burst perfbuf-burst ringbuf perfbuf
# Needs root. See bench/src/bin/bench-events.rs for what each mode does.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench
T=$B/target
ROUNDS=${1:-7}
shift || true
MODES=("$@")
[[ ${#MODES[@]} -gt 0 ]] || MODES=(ringbuf-drain perfbuf-drain ringbuf-burst perfbuf-burst ringbuf perfbuf)
N=1000000
[[ $(id -u) == 0 ]] || { echo "events.sh: needs root" >&2; exit 1; }

(cd "$B" && cargo build --release -q --bin bench-events)
mkdir -p "$T"
cc -O2 -Wall -DBENCH_OBJ="\"$ROOT/bpf/bench_events.bpf.o\"" -o "$T/bench_events" \
    "$B/c/bench_events.c" -lbpf -lelf -lz -lpthread
TB=$T/release/bench-events
LB=$T/bench_events

variants() { # the commands for one mode, one per line
    case $1 in
        ringbuf-drain | ringbuf-burst)
            echo "$TB $1 $N"; echo "$TB $1 $N --inline"; echo "$LB $1 $N" ;;
        perfbuf-burst)
            echo "$TB $1 $N"; echo "$LB $1 $N"
            echo "$TB $1 $N --wakeup-events 64"; echo "$LB $1 $N --wakeup-events 64"
            echo "$TB $1 $N --watermark 65536" ;;
        *) echo "$TB $1 $N"; echo "$LB $1 $N" ;;
    esac
}

RES=$T/events.jsonl
: >"$RES"
echo "events.sh: $ROUNDS rounds of ${MODES[*]}; load at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 0; r < ROUNDS; r++)); do
    for m in "${MODES[@]}"; do
        mapfile -t cmds < <(variants "$m")
        k=${#cmds[@]}
        for ((i = 0; i < k; i++)); do
            c=${cmds[(i + r) % k]}
            load=$(cut -d' ' -f1 /proc/loadavg)
            $c | sed "s/}\$/,\"round\":$r,\"load1\":$load}/" >>"$RES"
        done
    done
    echo "events.sh: round $((r + 1))/$ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
echo "events.sh: load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$RES" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
modes = []
for r in rows:
    if r["mode"] not in modes:
        modes.append(r["mode"])
print("| mode | impl | runs | records/s, median (min–max) | consumer CPU ms per 1M, median (min–max) | polls with records | dropped / lost (max) | 1-min load |")
print("|---|---|---|---|---|---|---|---|")
def fmt_rate(v):
    return f"{v/1e6:.2f} M" if v >= 1e6 else f"{v/1e3:.0f} k"
for m in modes:
    impls = []
    for r in rows:
        if r["mode"] == m and r["impl"] not in impls:
            impls.append(r["impl"])
    for i in impls:
        rs = [r for r in rows if r["mode"] == m and r["impl"] == i]
        rate = [r["records_per_s"] for r in rs]
        cpu = [r["consumer_cpu_ms_per_m"] for r in rs]
        polls = st.median(r["polls"] for r in rs)
        load = [r["load1"] for r in rs]
        # A perf sample that did not fit is counted twice: the BPF side's
        # failed output (dropped) and the kernel's LOST record (lost).
        bad = [r for r in rs if r["received"] + max(r["lost"], r["dropped"]) != r["n"]]
        note = f" ({len(bad)} runs miscounted)" if bad else ""
        print(f"| {m} | {i} | {len(rs)} | {fmt_rate(st.median(rate))} ({fmt_rate(min(rate))}–{fmt_rate(max(rate))}) "
              f"| {st.median(cpu):.1f} ({min(cpu):.1f}–{max(cpu):.1f}) | {polls:.0f} "
              f"| {max(r['dropped'] for r in rs)} / {max(r['lost'] for r in rs)}{note} | {min(load):.1f}–{max(load):.1f} |")
print()
print("Paired ratios (same round), median (min–max): tinybpf variant / libbpf")
print()
print("| mode | pair | records/s ratio | CPU ratio |")
print("|---|---|---|---|")
for m in modes:
    base = {r["round"]: r for r in rows if r["mode"] == m and r["impl"] == "libbpf"}
    for i in sorted({r["impl"] for r in rows if r["mode"] == m and r["impl"] != "libbpf"}):
        against = "libbpf"
        if i.startswith("libbpf"):
            continue
        if "wakeup64" in i:
            b2 = {r["round"]: r for r in rows if r["mode"] == m and r["impl"] == "libbpf-wakeup64"}
        else:
            b2 = base
        pr = [(r, b2[r["round"]]) for r in rows if r["mode"] == m and r["impl"] == i and r["round"] in b2]
        if not pr:
            continue
        rr = [a["records_per_s"] / b["records_per_s"] for a, b in pr]
        cr = [a["consumer_cpu_ms_per_m"] / b["consumer_cpu_ms_per_m"] for a, b in pr]
        bname = pr[0][1]["impl"]
        print(f"| {m} | {i} / {bname} | {st.median(rr):.2f} ({min(rr):.2f}–{max(rr):.2f}) | {st.median(cr):.2f} ({min(cr):.2f}–{max(cr):.2f}) |")
PY
