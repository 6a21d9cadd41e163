#!/usr/bin/env bash
# Fetch other kernels' BTF from Debian's linux-image packages.
#
# usage: scripts/fetch-kernel-btf.sh [--all] [--max N] [--release R]... [--list] [OUTDIR]
#
#   (default)  newest 6.1 kernel (linux-image-6.1.0-<abi>-amd64) apt can see
#   --all      every distinct linux-image-<release>-amd64 apt can see, up to
#              --max (default 10), newest first, alternating between series
#              (6.12, 6.1, ...) so the set spans them
#   --release R  this kernel release (e.g. 6.1.0-48-amd64); repeatable
#   --list     only print the kernel releases that would be fetched
#   OUTDIR     default /var/tmp/tinybpf-btf (never commit what lands there)
#
# For each kernel: `apt-get download` the -unsigned package (or the signed one)
# into a temp dir, `dpkg-deb -x` it, locate the compressed payload inside the
# bzImage (boot protocol header fields setup_sects/payload_offset/
# payload_length; falls back to scanning for xz/zstd/gzip/lz4/bzip2 magic),
# decompress it with the command-line tool, and dump the ELF section .BTF
# with llvm-objcopy into OUTDIR/vmlinux-<release>.btf (raw BTF, magic 0xeb9f).
# Prints one path per line on stdout (progress goes to stderr). Idempotent:
# files already present are not fetched again. Also maintains
# OUTDIR/index.tsv: release, package, package version.
#
# Needs: apt-get, dpkg-deb, od, xz (and zstd/gzip/lz4/bzip2 as the kernel
# needs), llvm-objcopy(-19). Root only for `apt-get update`.
set -euo pipefail

MODE=one
MAX=10
LIST_ONLY=0
RELEASES=()
OUTDIR=/var/tmp/tinybpf-btf
while [[ $# -gt 0 ]]; do
    case "$1" in
        --all) MODE=all ;;
        --max) MAX="${2:?--max needs a number}"; shift ;;
        --list) LIST_ONLY=1 ;;
        --release) MODE=given; RELEASES+=("${2:?--release needs a kernel release}"); shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        -*) echo "fetch-kernel-btf: unknown option $1" >&2; exit 2 ;;
        *) OUTDIR="$1" ;;
    esac
    shift
done
[[ "$MAX" =~ ^[0-9]+$ ]] || { echo "fetch-kernel-btf: --max wants a number" >&2; exit 2; }

log() { echo "fetch-kernel-btf: $*" >&2; }

OBJCOPY=""
for c in llvm-objcopy-19 llvm-objcopy objcopy; do
    if command -v "$c" >/dev/null 2>&1; then OBJCOPY="$c"; break; fi
done
[[ -n "$OBJCOPY" ]] || { log "no llvm-objcopy/objcopy found"; exit 1; }

# Kernel releases (e.g. 6.1.0-57-amd64, 6.12.117+deb12-amd64) of the plain
# amd64 flavour for which apt knows a downloadable linux-image package.
list_releases() {
    apt-cache search --names-only '^linux-image-[0-9].*-amd64(-unsigned)?$' 2>/dev/null |
        awk '{print $1}' |
        sed -E 's/^linux-image-//; s/-unsigned$//' |
        grep -Ev -- '-(cloud|rt)-amd64$' |
        grep -E -- '-amd64$' |
        grep -Ev '^[0-9]+\.[0-9]+-amd64$' |
        sort -uV
}

# Is there a candidate version for this package?
has_candidate() {
    local v
    v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
    [[ -n "$v" && "$v" != "(none)" ]]
}

# Series (major.minor) of a release.
series_of() { sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$1"; }

# Pick the releases to fetch, one per line.
pick_releases() {
    if [[ "$MODE" == given ]]; then
        printf '%s\n' "${RELEASES[@]}"
        return 0
    fi
    local all
    all=$(list_releases)
    [[ -n "$all" ]] || return 0
    if [[ "$MODE" == one ]]; then
        grep -E '^6\.1\.0-[0-9]+-amd64$' <<<"$all" | sort -V | tail -n1
        return 0
    fi
    # Round-robin across series, newest series first, newest release first.
    local series
    series=$(while read -r r; do series_of "$r"; done <<<"$all" | sort -uVr)
    local -A queue=()
    local s
    for s in $series; do
        queue[$s]=$(grep -E "^${s//./\\.}[.-]" <<<"$all" | sort -Vr | tr '\n' ' ')
    done
    local n=0 progress=1
    while [[ $n -lt $MAX && $progress -eq 1 ]]; do
        progress=0
        for s in $series; do
            [[ $n -lt $MAX ]] || break
            local q=(${queue[$s]})
            [[ ${#q[@]} -gt 0 ]] || continue
            echo "${q[0]}"
            queue[$s]="${q[*]:1}"
            n=$((n + 1))
            progress=1
        done
    done
}

# Decompress the kernel payload of bzImage $1 into ELF file $2.
extract_vmlinux() {
    local img="$1" out="$2" tmp="$2.payload"
    local setup_sects payload_off payload_len base
    # Boot protocol: "HdrS" at 0x202, setup_sects at 0x1f1, payload_offset at
    # 0x248 and payload_length at 0x24c (relative to the protected-mode code,
    # which starts after (setup_sects + 1) * 512 bytes).
    if [[ "$(dd if="$img" bs=1 skip=$((0x202)) count=4 status=none)" == HdrS ]]; then
        setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$img" | tr -d ' ')
        [[ "$setup_sects" -eq 0 ]] && setup_sects=4
        payload_off=$(od -An -tu4 -j $((0x248)) -N4 "$img" | tr -d ' ')
        payload_len=$(od -An -tu4 -j $((0x24c)) -N4 "$img" | tr -d ' ')
        base=$(( (setup_sects + 1) * 512 + payload_off ))
        if [[ "$payload_len" -gt 0 ]]; then
            tail -c +"$((base + 1))" "$img" | head -c "$payload_len" >"$tmp"
            if decompress_any "$tmp" "$out"; then
                rm -f "$tmp"
                return 0
            fi
        fi
    fi
    rm -f "$tmp"
    # Fallback: try every compression magic found in the image.
    local magic tool off
    for spec in 'fd377a585a00:xz' '28b52ffd:zstd' '1f8b08:gzip' '02214c18:lz4' '425a68:bzip2'; do
        magic=${spec%%:*}
        tool=${spec##*:}
        command -v "$tool" >/dev/null 2>&1 || continue
        for off in $(od -An -v -tx1 "$img" | tr -d ' \n' | grep -ob "$magic" | cut -d: -f1); do
            ((off % 2 == 0)) || continue
            tail -c +"$((off / 2 + 1))" "$img" >"$tmp"
            if decompress_as "$tool" "$tmp" "$out"; then
                rm -f "$tmp"
                return 0
            fi
        done
    done
    rm -f "$tmp"
    return 1
}

# Decompress $2 with $1 into $3; succeed if the result is an ELF file.
# (Trailing data after the stream, e.g. the appended size, makes some tools
# exit non-zero after writing everything; the ELF check decides.)
decompress_as() {
    local tool="$1" in="$2" out="$3"
    case "$tool" in
        xz) xz -dc --single-stream <"$in" >"$out" 2>/dev/null || true ;;
        zstd) zstd -dcq <"$in" >"$out" 2>/dev/null || true ;;
        gzip) gzip -dc <"$in" >"$out" 2>/dev/null || true ;;
        lz4) lz4 -dc <"$in" >"$out" 2>/dev/null || true ;;
        bzip2) bzip2 -dc <"$in" >"$out" 2>/dev/null || true ;;
        *) return 1 ;;
    esac
    [[ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]]
}

# Decompress payload $1 (format from its magic) into $2.
decompress_any() {
    local head
    head=$(head -c 6 "$1" | od -An -tx1 | tr -d ' \n')
    case "$head" in
        fd377a585a00*) decompress_as xz "$1" "$2" ;;
        28b52ffd*) need_tool zstd && decompress_as zstd "$1" "$2" ;;
        1f8b*) decompress_as gzip "$1" "$2" ;;
        02214c18*) need_tool lz4 && decompress_as lz4 "$1" "$2" ;;
        425a68*) need_tool bzip2 && decompress_as bzip2 "$1" "$2" ;;
        *) log "unknown payload compression (magic $head)"; return 1 ;;
    esac
}

# Install the decompressor if it is missing (Debian package = tool name).
need_tool() {
    command -v "$1" >/dev/null 2>&1 && return 0
    log "installing $1"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -q install -y \
        --no-install-recommends "$1" </dev/null >&2
}

WORK=""
cleanup() { [[ -n "$WORK" && -d "$WORK" ]] && rm -rf "$WORK"; return 0; }
trap cleanup EXIT

fetch_one() {
    local rel="$1" dest="$OUTDIR/vmlinux-$1.btf"
    if [[ -s "$dest" ]]; then
        log "$rel: have $dest"
        echo "$dest"
        return 0
    fi
    local t0=$SECONDS
    WORK=$(mktemp -d /var/tmp/tinybpf-kernel.XXXXXX)
    # Let apt's unprivileged _apt user write there (avoids the sandbox warning).
    chown _apt "$WORK" 2>/dev/null || true
    local pkg="" p
    for p in "linux-image-$rel-unsigned" "linux-image-$rel"; do
        has_candidate "$p" || continue
        log "$rel: apt-get download $p"
        if (cd "$WORK" && apt-get -q download "$p" </dev/null >&2); then
            pkg="$p"
            break
        fi
    done
    if [[ -z "$pkg" ]]; then
        log "$rel: no downloadable package"
        cleanup; WORK=""
        return 1
    fi
    local deb
    deb=$(ls "$WORK"/*.deb | head -n1)
    local ver
    ver=$(dpkg-deb -f "$deb" Version)
    dpkg-deb -x "$deb" "$WORK/root"
    rm -f "$deb"
    local img="$WORK/root/boot/vmlinuz-$rel"
    if [[ ! -f "$img" ]]; then
        img=$(ls "$WORK"/root/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
    fi
    if [[ -z "$img" || ! -f "$img" ]]; then
        log "$rel: no /boot/vmlinuz in $pkg"
        cleanup; WORK=""
        return 1
    fi
    if ! extract_vmlinux "$img" "$WORK/vmlinux"; then
        log "$rel: could not decompress $img"
        cleanup; WORK=""
        return 1
    fi
    mkdir -p "$OUTDIR"
    if ! "$OBJCOPY" --dump-section ".BTF=$WORK/btf" "$WORK/vmlinux" "$WORK/vmlinux.out" >&2; then
        log "$rel: vmlinux has no .BTF section"
        cleanup; WORK=""
        return 1
    fi
    if [[ "$(head -c 2 "$WORK/btf" | od -An -tx1 | tr -d ' ')" != 9feb ]]; then
        log "$rel: .BTF does not start with the BTF magic"
        cleanup; WORK=""
        return 1
    fi
    mv "$WORK/btf" "$dest.tmp"
    mv "$dest.tmp" "$dest"
    touch "$OUTDIR/index.tsv"
    grep -v "^$rel	" "$OUTDIR/index.tsv" >"$OUTDIR/index.tsv.tmp" || true
    printf '%s\t%s\t%s\n' "$rel" "$pkg" "$ver" >>"$OUTDIR/index.tsv.tmp"
    sort -V "$OUTDIR/index.tsv.tmp" >"$OUTDIR/index.tsv"
    rm -f "$OUTDIR/index.tsv.tmp"
    cleanup; WORK=""
    log "$rel: $pkg $ver -> $dest ($(stat -c %s "$dest") bytes, $((SECONDS - t0))s)"
    echo "$dest"
}

releases=$(pick_releases)
# If everything wanted is already here, do not touch the network.
need_update=1
if [[ -n "$releases" && $LIST_ONLY -eq 0 ]]; then
    need_update=0
    for r in $releases; do
        [[ -s "$OUTDIR/vmlinux-$r.btf" ]] || need_update=1
    done
fi
if [[ $need_update -eq 1 && $(id -u) -eq 0 ]]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=120 -q update </dev/null >&2 || log "apt-get update failed (continuing)"
    releases=$(pick_releases)
fi
if [[ -z "$releases" ]]; then
    log "apt knows no linux-image-*-amd64 package"
    exit 1
fi
if [[ $LIST_ONLY -eq 1 ]]; then
    echo "$releases"
    exit 0
fi

fails=0
for r in $releases; do
    fetch_one "$r" || fails=$((fails + 1))
done
if [[ $fails -gt 0 ]]; then
    log "$fails kernel(s) failed"
    [[ "$MODE" != all ]] && exit 1
fi
exit 0
