#!/usr/bin/env python3
"""Whole-process open+load: tinybpf CLI vs bpftool vs a minimal libbpf
loader (bench/c/load_libbpf.c), interleaved, one fresh process per run.

usage: python3 bench/whole.py [--before BIN] [--as LABEL BIN]... ROUNDS OBJ...
(as root)

--before BIN adds a fourth command, BIN (another build of the tinybpf CLI,
e.g. the tree before a change) run exactly like tinybpf, for an A/B in
the same interleaved run. --as LABEL BIN (repeatable) adds BIN the same
way under LABEL (e.g. `--as musl target/x86_64-unknown-linux-musl/release/tinybpf`
for the static build of `cargo build-cli-musl`); below the table, each
such build's wall time is also compared with libbpf's and bpftool's,
round by round.

Each run is spawned by bench/c/spawn.c (posix_spawn + wait4): wall is the
monotonic clock around spawn..reap (process start-up, dynamic linking and
exit included), CPU and peak RSS are the kernel's accounting of the child
(ru_utime + ru_stime, ru_maxrss). bpftool needs a pin path: it pins
under /sys/fs/bpf/tinybpf-whole, removed after each run (outside the
timing). Prints a markdown table of medians (Q1-Q3), ratios of medians,
and the median (Q1-Q3) of the per-round ratios tinybpf/x of wall time
(each pair run in the same round, minutes apart at most).
"""
import os, shutil, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINYBPF = os.path.join(ROOT, "target/release/tinybpf")
LIBBPF = os.path.join(ROOT, "bench/target/load_libbpf")
SPAWN = os.path.join(ROOT, "bench/target/spawn")
PIN = "/sys/fs/bpf/tinybpf-whole"


# Other builds of the CLI, by label ("before" for --before).
BUILDS = {}


def cmd(impl, obj):
    if impl == "tinybpf" or impl in BUILDS:
        exe = TINYBPF if impl == "tinybpf" else BUILDS[impl]
        return [exe, "load", obj, "--no-attach", "--duration", "0"]
    if impl == "bpftool":
        return [shutil.which("bpftool"), "prog", "loadall", obj, PIN]
    return [LIBBPF, obj]


def run(argv):
    out = subprocess.run([SPAWN] + argv, capture_output=True, text=True)
    if os.path.exists(PIN):
        shutil.rmtree(PIN)
    if out.returncode != 0:
        raise SystemExit(f"failed ({out.returncode}): {' '.join(argv)}")
    wall_us, user_us, sys_us, rss_kib = out.stdout.split()
    return float(wall_us) / 1e3, (int(user_us) + int(sys_us)) / 1e3, int(rss_kib) / 1024


def q(v):
    v = sorted(v)
    qs = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0]] * 3
    return qs[1], qs[0], qs[2]


def main():
    args = sys.argv[1:]
    impls = ["tinybpf", "bpftool", "libbpf"]
    while args[:1] in (["--before"], ["--as"]):
        if args[0] == "--before":
            label, exe, args = "before", args[1], args[2:]
        else:
            label, exe, args = args[1], args[2], args[3:]
        BUILDS[label] = os.path.abspath(exe)
        impls.append(label)
    rounds = int(args[0])
    objs = args[1:]
    res = {(o, i): [] for o in objs for i in impls}
    load0 = open("/proc/loadavg").read().split()[0]
    for r in range(rounds + 1):  # round 0: warm-up, not counted
        k = r % len(impls)
        order = impls[k:] + impls[:k]
        for o in objs:
            for i in order:
                m = run(cmd(i, o))
                if r > 0:
                    res[(o, i)].append(m)
    load1 = open("/proc/loadavg").read().split()[0]
    print(f"<!-- {rounds} rounds; 1-min load average {load0} at start, {load1} at end -->")
    print("| object | impl | wall ms | CPU ms (user+sys) | peak RSS MiB | tinybpf/x wall | tinybpf/x CPU "
          "| tinybpf/x wall, per round |")
    print("|---|---|---|---|---|---|---|---|")
    for o in objs:
        tw = statistics.median(m[0] for m in res[(o, "tinybpf")])
        tc = statistics.median(m[1] for m in res[(o, "tinybpf")])
        for i in impls:
            ms = res[(o, i)]
            w, c, p = (q([m[k] for m in ms]) for k in range(3))
            ratio = f"{tw / w[0]:.2f} | {tc / c[0]:.2f}" if c[0] else f"{tw / w[0]:.2f} | –"
            paired = [t[0] / m[0] for t, m in zip(res[(o, "tinybpf")], ms)]
            pr = q(paired)
            ratio += f" | {pr[0]:.2f} ({pr[1]:.2f}–{pr[2]:.2f})"
            if i == "tinybpf":
                ratio = " | | "
            name = os.path.basename(o).replace(".bpf.o", "")
            print(f"| {name} | {i} | {w[0]:.2f} ({w[1]:.2f}–{w[2]:.2f}) | {c[0]:.2f} ({c[1]:.2f}–{c[2]:.2f}) "
                  f"| {p[0]:.1f} ({p[1]:.1f}–{p[2]:.1f}) | {ratio} |")

    for b in BUILDS:
        for o in objs:
            name = os.path.basename(o).replace(".bpf.o", "")
            cells = []
            for x in ("libbpf", "bpftool"):
                pr = q([t[0] / m[0] for t, m in zip(res[(o, b)], res[(o, x)])])
                cells.append(f"{b}/{x} {pr[0]:.2f} ({pr[1]:.2f}–{pr[2]:.2f})")
            print(f"<!-- {name}: wall per round, " + ", ".join(cells) + " -->")


main()
