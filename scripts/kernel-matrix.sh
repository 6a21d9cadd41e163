#!/usr/bin/env bash
# Kernel matrix: does tinybpf load, on real older kernels, what libbpf loads?
#
# usage: scripts/kernel-matrix.sh [OPTIONS]
#
#   --kernels "S..."   kernel series to boot (default "5.10 6.1 6.12"):
#                      5.10 = bullseye, 6.1 = bookworm, 6.12 = bookworm-backports
#                      (Debian linux-image-*-cloud-amd64-unsigned, newest of each)
#   --no-host          skip the host-kernel column
#   --no-libbpf-tools  only the project's own objects (bpf/, bpf/tests/)
#   --timeout SECS     bound of one guest boot (default 360)
#   --doc FILE         report to write (default docs/kernels.md; "-" for none)
#   --cache DIR        default /var/tmp/tinybpf-kmatrix (never commit it)
#
# Steps: fetch and cache the kernels and their config (scripts/kmatrix/
# fetch-kernels.sh, private apt configuration); cargo build --release the
# tinybpf CLI and the hello, maps and execsnoop examples; carve the
# libbpf-tools objects (scripts/libbpf-tools-baseline.sh --keep-objs); build
# an initramfs (static busybox, the binaries and their shared libraries via
# ldd, the host's bpftool as the libbpf baseline, the objects, each at its
# host path; /boot/config-<release> per kernel); boot each kernel with
#   qemu-system-x86_64 -accel tcg -cpu max -m 1024 -nographic -no-reboot
# whose /init runs scripts/kmatrix/run-inside.sh: per object `tinybpf load
# --no-attach` (noting whether the object's BTF was kept), `bpftool prog
# loadall` and `tinybpf check`; then `tinybpf probe`, behaviour checks
# (test-run of globals and kconfig objects, tracepoint/tp_btf/fentry attach)
# and the three examples (execsnoop also with --perf) with execs to report;
# results come back as marker lines on the serial console. The same runner runs on the host as the last column.
# scripts/kmatrix/report.py prints the object x kernel table and writes the
# report. Exit status: 0 clean; 1 an object libbpf loads and tinybpf does
# not, an example that printed nothing, an object of bpf/ that lost its BTF,
# a behaviour check failed, or a kernel whose run did not finish;
# 2 setup failed. Needs root (host column, apt-get install of qemu-system-x86,
# busybox-static, cpio when missing), python3, bpftool.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KERNELS="5.10 6.1 6.12"
HOST=1
LIBBPF_TOOLS=1
BOOT_TIMEOUT=360
DOC="$ROOT/docs/kernels.md"
CACHE=/var/tmp/tinybpf-kmatrix
while [[ $# -gt 0 ]]; do
    case "$1" in
        --kernels) KERNELS="${2:?--kernels needs a list}"; shift ;;
        --no-host) HOST=0 ;;
        --no-libbpf-tools) LIBBPF_TOOLS=0 ;;
        --timeout) BOOT_TIMEOUT="${2:?--timeout needs seconds}"; shift ;;
        --doc) DOC="${2:?--doc needs a file}"; shift ;;
        --cache) CACHE="${2:?--cache needs a dir}"; shift ;;
        -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
        *) echo "kernel-matrix: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ "$BOOT_TIMEOUT" =~ ^[0-9]+$ ]] || { echo "kernel-matrix: --timeout wants seconds" >&2; exit 2; }

T0=$SECONDS
log() { echo "kernel-matrix: [$((SECONDS - T0))s] $*" >&2; }
die() { log "$*"; exit 2; }

# --- tools -----------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[[ -x /bin/busybox ]] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
if [[ ${#need[@]} -gt 0 ]]; then
    [[ $(id -u) -eq 0 ]] || die "missing ${need[*]}; install them (or run as root)"
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -q install -y \
        --no-install-recommends "${need[@]}" </dev/null >&2 || die "apt-get install ${need[*]} failed"
fi
BUSYBOX=/bin/busybox
BPFTOOL=$(command -v bpftool || true)
[[ -n "$BPFTOOL" ]] || die "bpftool not found (apt-get install bpftool)"
BPFTOOL=$(readlink -f "$BPFTOOL")
command -v python3 >/dev/null || die "python3 not found"
mkdir -p "$CACHE"

# --- kernels ---------------------------------------------------------------
log "kernels: $KERNELS"
# shellcheck disable=SC2086
mapfile -t KLINES < <("$ROOT/scripts/kmatrix/fetch-kernels.sh" "$CACHE" $KERNELS) || true
[[ ${#KLINES[@]} -gt 0 ]] || die "no kernel could be fetched"
for k in "${KLINES[@]}"; do log "kernel: $k"; done

# --- build -----------------------------------------------------------------
log "cargo build --release"
(cd "$ROOT" && cargo build --release --bins --examples) >&2 || die "cargo build failed"
if (cd "$ROOT" && cargo metadata --no-deps --format-version 1 2>/dev/null | grep -q '"name":"tinybpf-cli"'); then
    (cd "$ROOT" && cargo build --release -p tinybpf-cli) >&2 || die "cargo build -p tinybpf-cli failed"
fi
TARGET_DIR=$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' || echo "$ROOT/target")
TINYBPF="$TARGET_DIR/release/tinybpf"
EXDIR="$TARGET_DIR/release/examples"
[[ -x "$TINYBPF" ]] || die "no tinybpf binary at $TINYBPF"
for e in hello maps execsnoop; do [[ -x "$EXDIR/$e" ]] || die "no example binary $EXDIR/$e"; done

# --- objects ---------------------------------------------------------------
LIST="$CACHE/objects.list"
: >"$LIST"
for f in "$ROOT"/bpf/*.bpf.o; do
    echo "$(basename "$f" .bpf.o) $f" >>"$LIST"
done
# Test objects meant to load (core/*.target.bpf.o are BTF-only relocation targets).
while read -r f; do
    rel=${f#"$ROOT"/bpf/}
    echo "${rel%.bpf.o} $f" >>"$LIST"
done < <(find "$ROOT/bpf/tests" -name '*.bpf.o' ! -name '*.target.bpf.o' | sort)
if [[ $LIBBPF_TOOLS -eq 1 ]]; then
    LT="$CACHE/libbpf-tools-objs"
    if ! ls "$LT"/*.bpf.o >/dev/null 2>&1; then
        log "carving libbpf-tools objects into $LT"
        mkdir -p "$LT"
        "$ROOT/scripts/libbpf-tools-baseline.sh" --keep-objs "$LT" >/dev/null ||
            log "libbpf-tools-baseline.sh failed; continuing with what was carved"
    fi
    for f in "$LT"/*.bpf.o; do
        [[ -e "$f" ]] && echo "lt/$(basename "$f" .bpf.o) $f" >>"$LIST"
    done
fi
log "$(wc -l <"$LIST") objects"

# --- initramfs -------------------------------------------------------------
STAGE="$CACHE/stage"
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,boot,etc,root}
cp "$BUSYBOX" "$STAGE/bin/busybox"
# A file at its own absolute path inside the guest, and (for ELF executables)
# every shared library ldd names, plus the dynamic loader.
put() {
    local f="$1"
    mkdir -p "$STAGE$(dirname "$f")"
    cp -L "$f" "$STAGE$f"
    if file -L "$f" | grep -q 'dynamically linked'; then
        local lib
        for lib in $(ldd "$f" | grep -oE '/[^ ]+' | sort -u); do
            [[ -e "$STAGE$lib" ]] && continue
            mkdir -p "$STAGE$(dirname "$lib")"
            cp -L "$lib" "$STAGE$lib"
        done
    fi
}
put "$TINYBPF"
for e in hello maps execsnoop; do put "$EXDIR/$e"; done
put "$BPFTOOL"
put "$ROOT/scripts/kmatrix/run-inside.sh"
put "$ROOT/scripts/kmatrix/structops-check.sh"
[[ -x "$EXDIR/tcp_cc" ]] && put "$EXDIR/tcp_cc"
put "$LIST"
while read -r _ f; do put "$f"; done <"$LIST"
# /bin/sh for scripts before /init installs the other applet links.
ln -s busybox "$STAGE/bin/sh"
cat >"$STAGE/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /sys/fs/bpf /dev/pts
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmpfs /tmp
echo 1 >/proc/sys/kernel/printk
ifconfig lo 127.0.0.1 up 2>/dev/null
echo "@@KM|info|boot|-|-|\$(cut -d' ' -f1 /proc/uptime)"
# tracefs is deliberately not mounted: the loader mounts it when missing.
sh $ROOT/scripts/kmatrix/run-inside.sh $LIST $TINYBPF $BPFTOOL $EXDIR /sys/fs/bpf/km 2>&1
echo "@@KM|info|done|-|-|\$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
EOF
chmod +x "$STAGE/init"
BASE="$CACHE/initramfs-base.cpio.gz"
(cd "$STAGE" && find . | cpio -o -H newc --quiet | gzip -1) >"$BASE"
log "initramfs: $(du -h "$BASE" | cut -f1)"

# --- runs ------------------------------------------------------------------
RUNS="$CACHE/runs"
rm -rf "$RUNS"
mkdir -p "$RUNS"
COLS=()
for k in "${KLINES[@]}"; do
    read -r series rel dir <<<"$k"
    extra="$CACHE/extra-$rel"
    rm -rf "$extra"
    mkdir -p "$extra/boot"
    cp "$dir/config" "$extra/boot/config-$rel"
    (cd "$extra" && find . | cpio -o -H newc --quiet | gzip -1) >"$extra.cpio.gz"
    cat "$BASE" "$extra.cpio.gz" >"$RUNS/initrd-$rel"
    rm -rf "$extra" "$extra.cpio.gz"
    logf="$RUNS/$rel.log"
    log "boot $rel (bounded by ${BOOT_TIMEOUT}s)"
    t=$SECONDS
    timeout --kill-after=10 "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 1024 \
        -nographic -no-reboot -kernel "$dir/vmlinuz" -initrd "$RUNS/initrd-$rel" \
        -append 'console=ttyS0 panic=-1 quiet' </dev/null >"$logf" 2>&1 || true
    rm -f "$RUNS/initrd-$rel"
    log "$rel: $((SECONDS - t))s, $(grep -ac '@@KM|obj' "$logf" || true) results"
    COLS+=("$rel|$(cat "$dir/version")|$logf")
done
if [[ $HOST -eq 1 ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        log "host $(uname -r)"
        t=$SECONDS
        mount -t bpf | grep -q ' on /sys/fs/bpf ' || mount -t bpf bpf /sys/fs/bpf
        sh "$ROOT/scripts/kmatrix/run-inside.sh" "$LIST" "$TINYBPF" "$BPFTOOL" "$EXDIR" \
            "/sys/fs/bpf/tinybpf-kmatrix-$$" >"$RUNS/host.log" 2>&1 </dev/null || true
        log "host: $((SECONDS - t))s"
        COLS+=("host $(uname -r)|running kernel|$RUNS/host.log")
    else
        log "not root: no host column"
    fi
fi

# --- report ----------------------------------------------------------------
log "report (total $((SECONDS - T0))s)"
python3 "$ROOT/scripts/kmatrix/report.py" --doc "$DOC" --seconds $((SECONDS - T0)) "${COLS[@]}"
