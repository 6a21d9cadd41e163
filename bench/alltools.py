#!/usr/bin/env python3
"""Whole-process measurements of issue #18, part two (run by bench/alltools.sh).

usage: python3 bench/alltools.py ROUNDS --load OBJ... --check OBJ... --btf BTF...

1. load-all: one process opens+loads every --load object in turn, keeps
   them, then closes all. tinybpf: `bench-tinybpf load-all` (library API,
   default LoadOptions); libbpf: bench/c/load_all_libbpf.c (Debian's
   libbpf). Fresh processes, the two alternating (order swapped each round).
2. check: per --check object, CO-RE relocation offline against every --btf
   kernel: `tinybpf check OBJ --btf F1 .. --btf F10` (one process, kernels in
   turn), `tinybpf check OBJ --btf-dir D` (one process, kernels in parallel;
   D holds symlinks to the same files), ten `tinybpf btf min` processes and
   ten `bpftool gen min_core_btf` processes (one per kernel; both also write
   a minimal BTF). For the ten-process commands, wall and CPU are the sums
   over the ten, peak RSS the largest.

Every process is spawned by bench/c/spawn.c (posix_spawn + wait4): wall is
spawn..reap, CPU the child's ru_utime + ru_stime, peak RSS its ru_maxrss.
Round 0 is a warm-up and not counted. Prints markdown tables: medians
(Q1-Q3), ratio of medians, and the median (Q1-Q3) of the per-round ratios.
"""
import json, os, shutil, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T = os.path.join(ROOT, "bench/target")
SPAWN = os.path.join(T, "spawn")
TB_BENCH = os.path.join(T, "release/bench-tinybpf")
LB_ALL = os.path.join(T, "load_all_libbpf")
CLI = os.path.join(ROOT, "target/release/tinybpf")
BPFTOOL = shutil.which("bpftool")


def spawn(argv, out=None):
    """Run argv in a fresh process; (wall ms, cpu ms, rss MiB, child stdout)."""
    fd, path = tempfile.mkstemp(prefix="alltools-")
    os.close(fd)
    try:
        r = subprocess.run([SPAWN, "-o", path] + argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"failed ({r.returncode}): {' '.join(argv)}\n{r.stderr}")
        with open(path) as f:
            child = f.read()
    finally:
        os.unlink(path)
    w, u, s, rss = r.stdout.split()
    return float(w) / 1e3, (int(u) + int(s)) / 1e3, int(rss) / 1024, child


def q(v):
    v = sorted(v)
    if len(v) < 2:
        return v[0], v[0], v[0]
    qs = statistics.quantiles(v, n=4)
    return qs[1], qs[0], qs[2]


def cell(v, fmt="{:.2f}"):
    m, a, b = q(v)
    return f"{fmt.format(m)} ({fmt.format(a)}–{fmt.format(b)})"


def parse(argv):
    rounds = int(argv[0])
    lists = {"--load": [], "--check": [], "--btf": []}
    cur = None
    for a in argv[1:]:
        if a in lists:
            cur = lists[a]
        elif cur is None:
            raise SystemExit(__doc__)
        else:
            cur.append(a)
    return rounds, lists["--load"], lists["--check"], lists["--btf"]


def load_all(rounds, objs):
    cmds = {"tinybpf": [TB_BENCH, "load-all"] + objs, "libbpf": [LB_ALL] + objs}
    res = {k: [] for k in cmds}
    for r in range(rounds + 1):
        order = list(cmds) if r % 2 == 0 else list(reversed(list(cmds)))
        for k in order:
            w, c, rss, out = spawn(cmds[k])
            j = json.loads(out.strip().splitlines()[-1])
            if r > 0:
                res[k].append((w, c, rss, j))
    return res


def report_load_all(res, objs):
    t, l = res["tinybpf"], res["libbpf"]
    j = t[0][3]
    print(f"{len(objs)} objects, {j['progs']} programs, {j['maps']} maps "
          f"(libbpf counts {l[0][3]['progs']} / {l[0][3]['maps']}).\n")
    cols = [
        ("whole process wall ms", lambda m: m[0]),
        ("whole process CPU ms", lambda m: m[1]),
        ("open+load+close wall ms", lambda m: m[3]["wall_us"] / 1e3),
        ("open+load+close CPU ms", lambda m: m[3]["cpu_us"] / 1e3),
        ("peak RSS MiB", lambda m: m[2]),
        ("peak heap MiB", lambda m: m[3]["heap_peak"] / 2**20),
    ]
    print("| measure | tinybpf | libbpf | tinybpf/libbpf (of medians) | tinybpf/libbpf per round |")
    print("|---|---|---|---|---|")
    for name, f in cols:
        tv, lv = [f(m) for m in t], [f(m) for m in l]
        pr = q([a / b for a, b in zip(tv, lv)])
        print(f"| {name} | {cell(tv)} | {cell(lv)} | {statistics.median(tv) / statistics.median(lv):.2f} "
              f"| {pr[0]:.2f} ({pr[1]:.2f}–{pr[2]:.2f}) |")
    print()


def check(rounds, objs, btfs):
    tmp = tempfile.mkdtemp(prefix="alltools-btf-")
    d = os.path.join(tmp, "dir")
    os.mkdir(d)
    for b in btfs:
        os.symlink(os.path.abspath(b), os.path.join(d, os.path.basename(b)))
    minout = os.path.join(tmp, "min.btf")
    impls = ["tinybpf check --btf×N", "tinybpf check --btf-dir", "tinybpf btf min ×N",
             "bpftool min_core_btf ×N"]

    def runs(impl, o):
        if impl == impls[0]:
            return [[CLI, "check", o] + [x for b in btfs for x in ("--btf", b)]]
        if impl == impls[1]:
            return [[CLI, "check", o, "--btf-dir", d]]
        if impl == impls[2]:
            return [[CLI, "btf", "min", "--btf", b, "-o", minout, o] for b in btfs]
        return [[BPFTOOL, "gen", "min_core_btf", b, minout, o] for b in btfs]

    res = {(o, i): [] for o in objs for i in impls}
    try:
        for r in range(rounds + 1):
            k = r % len(impls)
            order = impls[k:] + impls[:k]
            for o in objs:
                for i in order:
                    ms = [spawn(a) for a in runs(i, o)]
                    if r > 0:
                        res[(o, i)].append((sum(m[0] for m in ms), sum(m[1] for m in ms),
                                            max(m[2] for m in ms)))
    finally:
        shutil.rmtree(tmp)
    return impls, res


def report_check(impls, res, objs, n):
    print(f"{n} kernels per run. Cells: medians (Q1–Q3); for ×N rows, sums over the {n} processes "
          "(peak RSS: the largest). Ratios: bpftool's over tinybpf's wall (of medians; per round).\n")
    print("| object | command | wall ms | CPU ms | peak RSS MiB | bpftool/x wall | bpftool/x per round |")
    print("|---|---|---|---|---|---|---|")
    for o in objs:
        bp = res[(o, impls[-1])]
        for i in impls:
            ms = res[(o, i)]
            w = [m[0] for m in ms]
            if i == impls[-1]:
                ratio = " | "
            else:
                pr = q([b[0] / m[0] for b, m in zip(bp, ms)])
                ratio = (f"{statistics.median(m[0] for m in bp) / statistics.median(w):.1f} "
                         f"| {pr[0]:.1f} ({pr[1]:.1f}–{pr[2]:.1f})")
            name = os.path.basename(o).replace(".bpf.o", "")
            print(f"| {name} | {i} | {cell(w)} | {cell([m[1] for m in ms])} "
                  f"| {cell([m[2] for m in ms], '{:.1f}')} | {ratio} |")
    print()


def main():
    rounds, load, chk, btfs = parse(sys.argv[1:])
    la = lambda: open("/proc/loadavg").read().split()[0]
    print(f"<!-- {rounds} rounds; 1-min load average {la()} at start -->")
    if load:
        report_load_all(load_all(rounds, load), load)
        print(f"<!-- 1-min load average {la()} after load-all -->")
    if chk and btfs:
        impls, res = check(rounds, chk, btfs)
        report_check(impls, res, chk, len(btfs))
    print(f"<!-- 1-min load average {la()} at end -->")


main()
