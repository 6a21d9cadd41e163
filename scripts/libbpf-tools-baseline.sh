#!/usr/bin/env bash
# Baseline: which of the BPF objects embedded in Debian's libbpf-tools does
# libbpf (through bpftool) load on this machine?
#
# usage: scripts/libbpf-tools-baseline.sh [--keep-objs DIR] [--verbose] [TOOL...]
#
# Carves each tool's embedded .bpf.o (same rules as carve_bpf_objects in
# tests/common/realworld.rs: little-endian ELF64, e_machine 247, length from
# the section header table and the sections' extents) into a temp dir (or
# DIR with --keep-objs), then for each object runs
#   bpftool prog loadall OBJ /sys/fs/bpf/tinybpf-baseline/NAME
# and removes the pin dir again, printing "NAME ok" or "NAME fail: reason".
# Needs root, bpftool, python3; installs libbpf-tools if missing. Mounts
# bpffs on /sys/fs/bpf if it is not mounted. Nothing stays pinned or loaded:
# the script checks that the number of loaded programs is back to where it
# started. Exit status: 0 when the run completed (whatever loaded or not).
set -euo pipefail

KEEP=""
VERBOSE=0
TOOLS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep-objs) KEEP="${2:?--keep-objs needs a dir}"; shift ;;
        --verbose|-v) VERBOSE=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "libbpf-tools-baseline: unknown option $1" >&2; exit 2 ;;
        *) TOOLS+=("$1") ;;
    esac
    shift
done

log() { echo "libbpf-tools-baseline: $*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "must run as root"; exit 1; }
command -v bpftool >/dev/null || { log "bpftool not installed"; exit 1; }
command -v python3 >/dev/null || { log "python3 not installed"; exit 1; }

if ! dpkg-query -W -f='${Status}' libbpf-tools 2>/dev/null | grep -q 'ok installed'; then
    log "installing libbpf-tools"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -q install -y \
        --no-install-recommends libbpf-tools </dev/null >&2
fi

if ! mount -t bpf | grep -q ' on /sys/fs/bpf '; then
    log "mounting bpffs on /sys/fs/bpf"
    mount -t bpf bpf /sys/fs/bpf
fi
PIN_ROOT=/sys/fs/bpf/tinybpf-baseline

WORK=$(mktemp -d /var/tmp/tinybpf-baseline.XXXXXX)
cleanup() {
    rm -rf "$PIN_ROOT" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

OBJDIR="${KEEP:-$WORK/objs}"
mkdir -p "$OBJDIR"

# Executables of the package (symlinks such as ext4dist -> fsdist skipped).
mapfile -t BINS < <(dpkg -L libbpf-tools | while read -r f; do
    [[ -f "$f" && ! -L "$f" && -x "$f" ]] && echo "$f"
done | sort)
if [[ ${#TOOLS[@]} -gt 0 ]]; then
    sel=()
    for b in "${BINS[@]}"; do
        for t in "${TOOLS[@]}"; do [[ "$(basename "$b")" == "$t" ]] && sel+=("$b"); done
    done
    BINS=("${sel[@]}")
fi

python3 - "$OBJDIR" "${BINS[@]}" <<'PY'
import os, struct, sys

def obj_len(d, s):
    """Length of the LE ELF64 EM_BPF ET_REL object at d[s:], or None."""
    if len(d) - s < 64 or d[s + 4] != 2 or d[s + 5] != 1 or d[s + 6] != 1:
        return None
    e_type, e_machine, e_version = struct.unpack_from("<HHI", d, s + 16)
    if e_type != 1 or e_machine != 247 or e_version != 1:
        return None
    shoff, = struct.unpack_from("<Q", d, s + 40)
    ehsize, _, _, shentsize, shnum, shstrndx = struct.unpack_from("<6H", d, s + 52)
    if ehsize != 64 or shentsize != 64 or shoff < 64 or s + shoff + 64 > len(d):
        return None
    if shnum == 0:
        shnum, = struct.unpack_from("<Q", d, s + shoff + 32)
    if shstrndx == 0xFFFF:
        shstrndx, = struct.unpack_from("<I", d, s + shoff + 40)
    if not (2 <= shnum <= 65536) or not (0 < shstrndx < shnum):
        return None
    end = shoff + shnum * 64
    if s + end > len(d):
        return None
    for i in range(1, shnum):
        sh_type, = struct.unpack_from("<I", d, s + shoff + i * 64 + 4)
        off, size = struct.unpack_from("<QQ", d, s + shoff + i * 64 + 24)
        if sh_type != 8:  # SHT_NOBITS
            end = max(end, off + size)
    if s + end > len(d):
        return None
    off, size = struct.unpack_from("<QQ", d, s + shoff + shstrndx * 64 + 24)
    if size == 0 or s + off + size > len(d) or d[s + off] != 0 or d[s + off + size - 1] != 0:
        return None
    return end

outdir = sys.argv[1]
for path in sys.argv[2:]:
    d = open(path, "rb").read()
    name = os.path.basename(path)
    n, pos = 0, 0
    while True:
        s = d.find(b"\x7fELF", pos)
        if s < 0:
            break
        ln = obj_len(d, s)
        if ln is None:
            pos = s + 1
            continue
        n += 1
        out = name if n == 1 else f"{name}.{n}"
        open(os.path.join(outdir, out + ".bpf.o"), "wb").write(d[s:s + ln])
        pos = s + ln
PY

# IDs of the programs pinned under $1 and of the maps they use, "prog N" /
# "map N" per line; checked at the end to be gone.
loaded_ids() {
    local f
    for f in "$1"/*; do
        [[ -e "$f" ]] || continue
        bpftool prog show pinned "$f" 2>/dev/null |
            awk '/^[0-9]+:/ {sub(":", "", $1); print "prog " $1}
                 /map_ids/ {for (i = 1; i <= NF; i++) if ($i == "map_ids") {
                     n = split($(i + 1), a, ","); for (j = 1; j <= n; j++) print "map " a[j]}}'
    done
}
: >"$WORK/ids"

# A short reason from libbpf's/bpftool's messages: the failing program, then
# the first specific cause found (CO-RE relocation, missing attach target, map
# creation, program load errno, verifier message).
reason() {
    local f="$1" prog cause
    prog=$(grep -oE "prog '[^']+': failed to load" "$f" | head -n1 | cut -d"'" -f2 || true)
    cause=$(grep -oE "failed to resolve CO-RE relocation .*" "$f" | head -n1 || true)
    [[ -n "$cause" ]] || cause=$(grep -oE "failed to find kernel BTF type ID of '[^']+'" "$f" | head -n1 |
        sed -E "s/.*of '([^']+)'/attach target \1 not in kernel BTF/" || true)
    [[ -n "$cause" ]] || cause=$(grep -oE "map '[^']+': failed to create: .*" "$f" | head -n1 || true)
    [[ -n "$cause" ]] || cause=$(grep -oE "BPF program load failed: .*" "$f" | head -n1 || true)
    if grep -q 'BEGIN PROG LOAD LOG' "$f"; then
        # Last verifier line before its statistics, if the load log has one.
        local v
        v=$(sed -n '/BEGIN PROG LOAD LOG/,/END PROG LOAD LOG/p' "$f" |
            grep -vE 'PROG LOAD LOG|^verification time|^stack depth|^processed [0-9]+ insns|^mark_precise' |
            tail -n1)
        [[ -z "$cause" && -n "$v" ]] && cause="verifier: $v"
    fi
    [[ -n "$cause" ]] || cause=$(grep -v '^Warning\|^If it used' "$f" | tail -n1)
    cause="${prog:+prog $prog: }$cause"
    echo "${cause:0:220}"
}

mkdir -p "$PIN_ROOT"
ok=0
fail=0
total=0
for obj in "$OBJDIR"/*.bpf.o; do
    [[ -e "$obj" ]] || continue
    name=$(basename "$obj" .bpf.o)
    total=$((total + 1))
    pin="$PIN_ROOT/$name"
    if bpftool -d prog loadall "$obj" "$pin" >"$WORK/out" 2>&1; then
        echo "$name ok"
        ok=$((ok + 1))
    else
        echo "$name fail: $(reason "$WORK/out")"
        fail=$((fail + 1))
        if [[ $VERBOSE -eq 1 ]]; then
            sed 's/^/    /' "$WORK/out" | grep -v 'libbpf: prog .*: -- ' | tail -n 25
        fi
    fi
    loaded_ids "$pin" >>"$WORK/ids"
    rm -rf "$pin"
done
rmdir "$PIN_ROOT" 2>/dev/null || rm -rf "$PIN_ROOT"

echo "total $total: ok $ok, fail $fail"

# Unpinned programs/maps are freed asynchronously; give them a moment.
sort -u "$WORK/ids" -o "$WORK/ids"
left=""
for _ in $(seq 1 20); do
    left=$(while read -r kind id; do
        if bpftool "$kind" show id "$id" >/dev/null 2>&1; then echo "$kind $id"; fi
    done <"$WORK/ids" | tr '\n' ' ')
    [[ -z "$left" ]] && break
    sleep 0.5
done
if [[ -n "$left" || -e "$PIN_ROOT" ]]; then
    log "LEAK: still loaded: ${left:-none}; pin root present: $([[ -e $PIN_ROOT ]] && echo yes || echo no)"
    exit 1
fi
log "nothing left loaded or pinned ($(wc -l <"$WORK/ids") program/map ids checked)"
[[ -n "$KEEP" ]] && log "objects kept in $KEEP"
exit 0
