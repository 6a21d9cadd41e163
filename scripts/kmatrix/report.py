#!/usr/bin/env python3
"""Kernel matrix report: parse the marker lines of scripts/kmatrix/run-inside.sh
(one log per kernel), print the object x kernel table, write docs/kernels.md.

usage: report.py [--doc FILE|-] [--seconds N] LABEL|VERSION|LOG...

Exit status 1 when, on any kernel, an object loads with libbpf but not with
tinybpf, an example printed nothing, an object of bpf/ lost its BTF, a
behaviour check failed where libbpf loads its object, or the run did not
finish; else 0.
"""
import datetime
import re
import sys

TOOLS = ("tinybpf", "libbpf", "check")
EXAMPLES = ("hello", "maps", "execsnoop", "execsnoop --perf")
# Behaviour checks of run-inside.sh and the object each one uses: a check
# whose object libbpf cannot load on that kernel either is not held against
# tinybpf.
BEHAVIOURS = {
    "test-run-globals": ("globals", "`test-run globals xdp_calls` returns 26 (subprograms, global data)"),
    "test-run-rodata": ("globals", "`test-run globals xdp_count --set multiplier=3` returns 2 (`const volatile` set before load)"),
    "kconfig": ("kconfig", "`test-run kconfig xdp_kconfig` returns 0: every `.kconfig` extern holds what the kernel's config and version say (11 before 5.15: no BPF cookie)"),
    "kconfig-negative": ("kconfig", "the same with a wrong `CONFIG_HZ` expectation returns 4 (the check can fail)"),
    "attach-tracepoint": ("tracepoints", "`load tracepoints --program count_getpid` attaches (perf link, or the ioctl without perf links)"),
    "attach-tp_btf": ("attach", "`load attach --program on_sched_exec` attaches a tp_btf program"),
    "attach-fentry": ("attach", "`load attach --program on_unlinkat_entry` attaches an fentry program (BPF trampolines)"),
    # libbpf cannot load freplace.bpf.o without a target anywhere: excused
    # where it cannot load attach.bpf.o's fentry program (no trampolines).
    "freplace": ("attach", "`load freplace --attach-prog ID` replaces `verdict()` of a loaded freplace_target: its test run (bpftool) returns 2, 1 while attached, 2 after (BPF trampolines)"),
    "tcp_cc": ("tcp_cc", "the tcp_cc example registers a BPF TCP congestion control through a `.struct_ops.link` (6.4+), a loopback transfer runs its callbacks, unregistered on drop"),
    "tcp_cc_legacy": ("tcp_cc_legacy", "the same with `.struct_ops` (map update, 5.13+: the tcp_reno kfuncs)"),
}
FEATURES = ("perf_link", "bpf_cookie", "ringbuf", "log_true_size", "memcg_account")
# BTF states of run-inside.sh: the first two mean the BTF went into the kernel.
BTF_KEPT = ("kept", "sanitized")
# Behaviour checks shown with the examples (not in the summary).
CHECKS = ("kprobe.multi",)
OK, FAIL, NONE = "✓", "✗", "·"


def parse(path):
    """Markers of one log: objects[name][tool], examples[name], info[key];
    btf, feat and beh (name -> (status, detail)) go into info too."""
    objs, exs, info = {}, {}, {"btf_state": {}, "feat": {}, "beh": {}}
    try:
        text = open(path, "rb").read().decode("utf-8", "replace")
    except OSError as e:
        info["error"] = str(e)
        text = ""
    for line in text.splitlines():
        i = line.find("@@KM|")
        if i < 0:
            continue
        f = line[i:].rstrip("\r").split("|", 5)
        if len(f) < 6:
            continue
        _, kind, name, tool, status, detail = f
        if kind == "obj" and tool in TOOLS:
            objs.setdefault(name, {})[tool] = (status, detail.strip())
        elif kind == "obj" and tool == "btf":
            info["btf_state"][name] = (status, detail.strip())
        elif kind == "feat":
            info["feat"][name] = (status, detail.strip())
        elif kind == "beh":
            info["beh"][name] = (status, detail.strip())
        elif kind == "ex":
            exs[name] = (status, detail.strip())
        elif kind == "info":
            info[name] = detail.strip()
    return objs, exs, info


def own_object(name):
    """An object of bpf/ (not a carved libbpf-tools one)."""
    return not name.startswith("lt/")


def excused(objs, beh):
    """libbpf cannot load the check's object on this kernel either."""
    lb = objs.get(BEHAVIOURS[beh][0], {}).get("libbpf")
    return bool(lb) and lb[0] != "ok"


def beh_cell(objs, info, beh):
    st = info["beh"].get(beh)
    if not st:
        return NONE
    if st[0] == "ok":
        return OK
    if st[0] == "na":
        return "n/a"
    return FAIL + (" (libbpf fails its object too)" if excused(objs, beh) else "")


def cell(r):
    return " ".join(NONE if t not in r else (OK if r[t][0] == "ok" else FAIL) for t in TOOLS)


def md_escape(s):
    return s.replace("|", "\\|").replace("`", "'")


def main(argv):
    doc, seconds, cols = "docs/kernels.md", None, []
    it = iter(argv)
    for a in it:
        if a == "--doc":
            doc = next(it)
        elif a == "--seconds":
            seconds = int(next(it))
        else:
            label, version, log = a.split("|", 2)
            cols.append((label, version, *parse(log)))
    if not cols:
        print("report.py: no columns", file=sys.stderr)
        return 2

    names = []
    for c in cols:
        for n in c[2]:
            if n not in names:
                names.append(n)
    short = [c[0].replace("-cloud-amd64", "").replace("+deb12", "") for c in cols]

    bad = []  # (column, message)
    regress, both, only_t, unfinished = [], [], [], []
    for (label, _, objs, exs, info), s in zip(cols, short):
        if "end" not in info:
            unfinished.append(label)
            bad.append((label, "run did not finish (boot failure, panic or timeout)"))
        for n, r in objs.items():
            t, lb = r.get("tinybpf"), r.get("libbpf")
            if lb and lb[0] == "ok" and t and t[0] != "ok":
                regress.append((s, n, t[1]))
                bad.append((label, f"{n}: libbpf loads, tinybpf does not: {t[1]}"))
            elif lb and t and lb[0] != "ok" and t[0] != "ok":
                both.append((s, n, t[1], lb[1]))
            elif lb and t and t[0] == "ok" and lb[0] != "ok":
                only_t.append((s, n, lb[1]))
        for e in EXAMPLES:
            st = exs.get(e)
            if not st or st[0] != "ok":
                bad.append((label, f"example {e}: {st[1] if st else 'did not run'}"))
        for n, (st, why) in info["btf_state"].items():
            if own_object(n) and st == "dropped":
                bad.append((label, f"{n}: lost its BTF: {why}"))
        for b in BEHAVIOURS:
            st, why = info["beh"].get(b, ("", "did not run"))
            if st != "ok" and st != "na" and not excused(objs, b):
                bad.append((label, f"behaviour {b}: {why}"))

    # Terminal table.
    w = max(len(n) for n in names) if names else 10
    cw = max(12, *(len(s) for s in short))
    print(f"{'object':<{w}}  " + "  ".join(f"{s:<{cw}}" for s in short))
    print(f"{'':<{w}}  " + "  ".join(f"{'T L C':<{cw}}" for _ in short))
    for n in names:
        print(f"{n:<{w}}  " + "  ".join(f"{cell(c[2].get(n, {})):<{cw}}" for c in cols))
    for e in EXAMPLES + CHECKS:
        row = []
        for c in cols:
            st = c[3].get(e)
            row.append(f"{NONE if not st else (OK if st[0] == 'ok' else FAIL):<{cw}}")
        print(f"{'example ' + e:<{w}}  " + "  ".join(row))
    for b in BEHAVIOURS:
        print(f"{b:<{w}}  " + "  ".join(f"{beh_cell(c[2], c[4], b):<{cw}}" for c in cols))
    print("T = tinybpf load --no-attach, L = libbpf (bpftool prog loadall), C = tinybpf check")
    for label, msg in bad:
        print(f"PROBLEM [{label}] {msg}")

    if doc != "-":
        write_doc(doc, cols, short, names, regress, both, only_t, unfinished, seconds)
        print(f"wrote {doc}")
    return 1 if bad else 0


def write_doc(doc, cols, short, names, regress, both, only_t, unfinished, seconds):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    o = []
    o.append("# Kernel matrix\n")
    o.append(
        "Generated by `scripts/kernel-matrix.sh` (do not edit by hand) on "
        f"{now}" + (f" in {seconds} s" if seconds is not None else "") + ".\n"
    )
    o.append(
        "Each kernel is a Debian `linux-image-*-cloud-amd64-unsigned` booted with "
        "`qemu-system-x86_64 -accel tcg -cpu max` and a busybox initramfs; the last "
        "column is the machine's own kernel. On every kernel, for every object: "
        "**T** = `tinybpf load OBJ --no-attach`, **L** = libbpf baseline "
        "(`bpftool prog loadall OBJ`, the host's bpftool and libbpf), **C** = "
        "`tinybpf check OBJ` against that kernel's `/sys/kernel/btf/vmlinux`. "
        "Then the behaviour checks (below) and the `hello`, `maps` and `execsnoop` "
        "examples (execsnoop also with `--perf`) run while execs happen and must "
        "print their lines. Objects: `bpf/*.bpf.o`, `bpf/tests/**` "
        "(except BTF-only `*.target.bpf.o`) and `lt/*`, the objects embedded in "
        "Debian's libbpf-tools (carved by `scripts/libbpf-tools-baseline.sh`). "
        "Some objects are meant to fail (`bad`, `failures`, `kconfig_missing`, "
        "the CO-RE negative tests); what matters is T versus L.\n"
    )
    o.append("## Compile once, run everywhere\n")
    o.append("| kernel | tinybpf loads every object libbpf loads | every example prints | every object of bpf/ keeps its BTF |")
    o.append("|---|---|---|---|")
    for (label, _, objs, exs, info), s in zip(cols, short):
        loads = not any(
            r.get("libbpf", ("",))[0] == "ok" and r.get("tinybpf", ("",))[0] != "ok" for r in objs.values()
        )
        prints = all(exs.get(e, ("",))[0] == "ok" for e in EXAMPLES)
        keeps = not any(own_object(n) and st == "dropped" for n, (st, _) in info["btf_state"].items())
        o.append(f"| {s} | " + " | ".join("yes" if v else "**no**" for v in (loads, prints, keeps)) + " |")
    o.append("")
    o.append("## Kernels\n")
    o.append("| column | kernel | package version | BTF | run (s) | finished |")
    o.append("|---|---|---|---|---|---|")
    for (label, version, objs, exs, info), s in zip(cols, short):
        try:
            dur = str(int(info["end"]) - int(info["start"]))
        except (KeyError, ValueError):
            dur = "?"
        o.append(
            f"| {s} | {info.get('kernel', label)} | {version} | {info.get('btf', '?')} "
            f"| {dur} | {'yes' if label not in unfinished else '**no**'} |"
        )
    o.append("")
    o.append("## Summary\n")
    o.append(
        "| kernel | objects | tinybpf loads | libbpf loads | libbpf only | tinybpf only | check OK "
        "| objects of bpf/ that lost their BTF | behaviour checks passed (of those that apply) | "
        + " | ".join(EXAMPLES) + " |"
    )
    o.append("|---|" + "---|" * (9 + len(EXAMPLES)))
    for (label, _, objs, exs, info), s in zip(cols, short):
        def n_ok(tool):
            return sum(1 for r in objs.values() if r.get(tool, ("",))[0] == "ok")
        lo = sum(1 for r in objs.values() if r.get("libbpf", ("",))[0] == "ok" and r.get("tinybpf", ("",))[0] != "ok")
        to = sum(1 for r in objs.values() if r.get("tinybpf", ("",))[0] == "ok" and r.get("libbpf", ("",))[0] != "ok")
        ex = [OK if exs.get(e, ("",))[0] == "ok" else FAIL for e in EXAMPLES]
        lost = [n for n, (st, _) in info["btf_state"].items() if own_object(n) and st == "dropped"]
        beh_ok = sum(1 for b in BEHAVIOURS if info["beh"].get(b, ("",))[0] == "ok")
        beh_na = sum(1 for b in BEHAVIOURS if info["beh"].get(b, ("",))[0] == "na")
        na_note = f" ({beh_na} n/a)" if beh_na else ""
        o.append(
            f"| {s} | {len(objs)} | {n_ok('tinybpf')} | {n_ok('libbpf')} | {lo} | {to} "
            f"| {n_ok('check')} | {', '.join(lost) if lost else 'none'} | {beh_ok}/{len(BEHAVIOURS) - beh_na}{na_note} | "
            + " | ".join(ex) + " |"
        )
    o.append("")
    o.append("## Examples\n")
    o.append("| example | " + " | ".join(short) + " |")
    o.append("|---|" + "---|" * len(short))
    for e in EXAMPLES + CHECKS:
        row = []
        for c in cols:
            st = c[3].get(e)
            if not st:
                row.append(NONE)
            else:
                row.append(f"{OK if st[0] == 'ok' else FAIL} `{md_escape(st[1][:70])}`")
        o.append(f"| {e} | " + " | ".join(row) + " |")
    o.append("")
    o.append("## Features\n")
    o.append(
        "What `tinybpf probe` found (feature probes, not version numbers); where a "
        "feature is missing the loader falls back: perf events attached with "
        "`PERF_EVENT_IOC_SET_BPF` instead of a perf link, the verifier log grown "
        "×4 instead of to the size the kernel reports, RLIMIT_MEMLOCK raised "
        "without memcg accounting; the execsnoop example uses its perf buffer "
        "without ring buffers.\n"
    )
    o.append("| feature | " + " | ".join(short) + " |")
    o.append("|---|" + "---|" * len(short))
    for f in FEATURES:
        o.append(f"| {f} | " + " | ".join(c[4]["feat"].get(f, (NONE,))[0] for c in cols) + " |")
    o.append("")
    o.append("## Behaviour\n")
    o.append(
        "Checks of what loaded programs do, run on each kernel after the objects "
        "(✓ pass, ✗ fail, n/a not run; reasons below the table).\n"
    )
    o.append("| check | what | " + " | ".join(short) + " |")
    o.append("|---|---|" + "---|" * len(short))
    for b, (_, what) in BEHAVIOURS.items():
        o.append(f"| {b} | {what} | " + " | ".join(beh_cell(c[2], c[4], b) for c in cols) + " |")
    o.append("")
    fails = [
        (s, b, c[4]["beh"][b][1])
        for c, s in zip(cols, short)
        for b in BEHAVIOURS
        if c[4]["beh"].get(b, ("ok",))[0] not in ("ok", "na")
    ]
    for s, b, why in fails:
        o.append(f"- {b} on {s}: `{md_escape(why[:200])}`")
    if fails:
        o.append("")
    o.append("## BTF kept\n")
    o.append(
        "Whether `tinybpf load` put each object's BTF into the kernel: **kept**, "
        "**sanitized** (kept after rewriting the BTF kinds or flags the kernel "
        "lacks), **dropped** (the kernel rejected it and the object loaded without "
        "it: a defect for the objects of bpf/), **none** (the object has no BTF), "
        "**unknown** (the load failed before the BTF upload).\n"
    )
    o.append("| object | " + " | ".join(short) + " |")
    o.append("|---|" + "---|" * len(short))
    for n in names:
        row = [c[4]["btf_state"].get(n, (NONE,))[0] for c in cols]
        o.append(f"| {n} | " + " | ".join(f"**{r}**" if r == "dropped" else r for r in row) + " |")
    o.append("")
    o.append("## Objects\n")
    o.append("Cell: T L C (✓ ok, ✗ failed, · not run).\n")
    o.append("| object | " + " | ".join(short) + " |")
    o.append("|---|" + "---|" * len(short))
    for n in names:
        o.append(f"| {n} | " + " | ".join(cell(c[2].get(n, {})) for c in cols) + " |")
    o.append("")
    o.append("## tinybpf fails where libbpf loads\n")
    if regress:
        for s, n, why in regress:
            o.append(f"- **{n}** on {s}: `{md_escape(why)}`")
    else:
        o.append("None.")
    o.append("")
    o.append("## Both fail\n")
    o.append("Expected for the negative test objects; for the others the kernel lacks something (program type, helper, attach target, BTF kind).\n")
    if both:
        o.append("| kernel | object | tinybpf | libbpf |")
        o.append("|---|---|---|---|")
        for s, n, t, lb in both:
            o.append(f"| {s} | {n} | `{md_escape(t[:160])}` | `{md_escape(lb[:160])}` |")
    else:
        o.append("None.")
    o.append("")
    o.append("## tinybpf loads with a warning\n")
    o.append("Loaded, but tinybpf logged a fallback (first warning shown).\n")
    warned = []
    for c, s in zip(cols, short):
        for n, r in c[2].items():
            t = r.get("tinybpf")
            if t and t[0] == "ok" and t[1]:
                warned.append((s, n, t[1]))
    if warned:
        o.append("| kernel | object | warning |")
        o.append("|---|---|---|")
        for s, n, w in warned:
            o.append(f"| {s} | {n} | `{md_escape(w[:200])}` |")
    else:
        o.append("None.")
    o.append("")
    o.append("## tinybpf loads where libbpf fails\n")
    if only_t:
        for s, n, why in only_t:
            o.append(f"- **{n}** on {s}: libbpf: `{md_escape(why)}`")
    else:
        o.append("None.")
    o.append("")
    with open(doc, "w") as f:
        f.write("\n".join(o))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
