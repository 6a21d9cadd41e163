#!/bin/sh
# The kernel matrix's work on one kernel: run inside a qemu guest (from the
# initramfs's /init, under busybox sh) or on the host, with the same paths.
#
# usage: run-inside.sh LIST TINYBPF BPFTOOL EXAMPLES_DIR PIN_DIR
#
#   LIST          lines "NAME PATH": the BPF objects to try
#   TINYBPF       the tinybpf CLI
#   BPFTOOL       bpftool (libbpf baseline: bpftool prog loadall)
#   EXAMPLES_DIR  directory with the hello, maps and execsnoop examples
#   PIN_DIR       scratch directory on bpffs (created, removed at the end)
#
# Prints one marker line per result on stdout, fields separated by '|':
#   @@KM|obj|NAME|tinybpf|ok or fail|reason     tinybpf load --no-attach (ok: first warning)
#   @@KM|obj|NAME|libbpf|ok or fail|reason      bpftool prog loadall
#   @@KM|obj|NAME|check|ok or fail|summary      tinybpf check (running kernel's BTF)
#   @@KM|obj|NAME|btf|STATE|detail              the object's BTF in tinybpf's load:
#       kept, sanitized (kept after rewriting kinds the kernel lacks), dropped
#       (kernel rejected it: loaded without), none (object has no BTF),
#       unknown (the load failed before the BTF upload)
#   @@KM|feat|NAME|-|yes or no|-                 tinybpf probe's "other" features
#   @@KM|beh|NAME|-|ok, fail or na|detail        behaviour checks (below)
#   @@KM|ex|NAME|-|ok or fail|first matching line or why not
#   @@KM|info|KEY|-|-|VALUE
# Every command is bounded by `timeout`. POSIX sh + busybox/coreutils only.

LIST="$1"
TINYBPF="$2"
BPFTOOL="$3"
EXDIR="$4"
PIN="$5"
T=${KM_TIMEOUT:-90}
TMP=${TMPDIR:-/tmp}/km.$$
mkdir -p "$TMP" "$PIN"

# One line, no '|' or CR, at most 220 characters.
clean() { tr -d '\r' | tr '|\n' '/ ' | cut -c1-220; }
mark() { printf '\n@@KM|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$(printf '%s' "$5" | clean)"; }

# Why tinybpf failed: its own last message (the summary after the verifier
# log, not a log line), else the first error line, else the last line.
tinybpf_reason() {
    r=$(grep -E '^tinybpf' "$1" | tail -n1)
    [ -n "$r" ] || r=$(grep -m1 -E 'error' "$1")
    [ -n "$r" ] || r=$(grep -v '^[[:space:]]*$' "$1" | tail -n1)
    printf '%s' "$r" | sed 's/^tinybpf: error: //'
}

# Why libbpf failed: the most specific libbpf message found, with the
# verifier's last line when a program was rejected.
libbpf_reason() {
    for p in "failed to resolve CO-RE relocation" "failed to find kernel BTF type ID" \
        "legacy map definitions" "map '[^']+': failed to create" "extern" "Error loading BTF" \
        "failed to load BTF|BTF is required" "is not supported" "failed to guess program type"; do
        r=$(grep -m1 -E "$p" "$1")
        [ -n "$r" ] && { printf '%s' "$r" | sed 's/^libbpf: //'; return; }
    done
    r=$(grep -m1 -E "BPF program load failed" "$1" | sed 's/^libbpf: //')
    v=$(sed -n '/BEGIN PROG LOAD LOG/,/END PROG LOAD LOG/p' "$1" |
        grep -v -E 'PROG LOAD LOG|^verification time|^stack depth|^processed [0-9]+ insns|^mark_precise|^[[:space:]]*$' |
        tail -n1)
    [ -n "$v" ] && r="$r: $v"
    [ -n "$r" ] || r=$(grep -v -E '^[[:space:]]*$|^Warning: bpftool|^If it used to work|^Error: failed to (load|open) object file|failed to load object|supported section' "$1" | tail -n1)
    [ -n "$r" ] || r=$(grep -v '^[[:space:]]*$' "$1" | tail -n1)
    printf '%s' "$r" | sed 's/^libbpf: //'
}

mark info kernel - - "$(uname -r)"
if [ -r /sys/kernel/btf/vmlinux ]; then mark info btf - - yes; else mark info btf - - no; fi
mark info start - - "$(date +%s)"

while read -r name path; do
    [ -n "$name" ] || continue
    if RUST_LOG=tinybpf::load::btf=debug timeout "$T" "$TINYBPF" load "$path" --no-attach --duration 0 >"$TMP/out" 2>&1; then
        # Loaded, but maybe with a fallback worth knowing (e.g. BTF rejected).
        mark obj "$name" tinybpf ok "$(grep -m1 -E '^\[WARN' "$TMP/out")"
    else
        rc=$?
        mark obj "$name" tinybpf fail "$( [ $rc -eq 124 ] && echo "timeout after ${T}s" || tinybpf_reason "$TMP/out")"
    fi
    if w=$(grep -m1 'rejected its BTF' "$TMP/out"); then
        mark obj "$name" btf dropped "$w"
    elif grep -q 'BTF loaded (sanitized)' "$TMP/out"; then
        mark obj "$name" btf sanitized ""
    elif grep -q 'BTF loaded' "$TMP/out"; then
        mark obj "$name" btf kept ""
    elif ! grep -q '\.BTF' "$path"; then
        mark obj "$name" btf none ""
    else
        mark obj "$name" btf unknown "$(tinybpf_reason "$TMP/out")"
    fi
    rm -rf "$PIN/o"
    if timeout "$T" "$BPFTOOL" prog loadall "$path" "$PIN/o" >"$TMP/out" 2>&1; then
        mark obj "$name" libbpf ok ""
    else
        rc=$?
        if [ $rc -eq 124 ]; then
            r="timeout after ${T}s"
        else
            r=$(libbpf_reason "$TMP/out")
            # Nothing specific: ask again with libbpf's debug messages (the
            # status stays the one of the plain run).
            case "$r" in "" | *"failed to load object"* | *"Error: failed"*)
                rm -rf "$PIN/o"
                timeout "$T" "$BPFTOOL" -d prog loadall "$path" "$PIN/o" >"$TMP/out" 2>&1
                r=$(libbpf_reason "$TMP/out") ;;
            esac
        fi
        mark obj "$name" libbpf fail "$r"
    fi
    rm -rf "$PIN/o"
    if timeout "$T" "$TINYBPF" check "$path" >"$TMP/out" 2>&1; then
        mark obj "$name" check ok "$(grep -m1 -E '^summary|nothing to check' "$TMP/out")"
    else
        rc=$?
        r=$(grep -m1 -E '^summary|error' "$TMP/out")
        [ $rc -eq 124 ] && r="timeout after ${T}s"
        [ -n "$r" ] || r=$(tail -n1 "$TMP/out")
        mark obj "$name" check fail "$r"
    fi
done <"$LIST"
mark info objs-done - - "$(date +%s)"

# --- behaviour checks ------------------------------------------------------
# Path of object NAME from the list (empty when not in it).
obj_path() { awk -v n="$1" '$1 == n { print $2; exit }' "$LIST"; }

# beh NAME OBJ WANT CMD...: run CMD (bounded); ok when it exits 0 and its
# output matches the ERE WANT; na when OBJ is not in the list.
beh() {
    bname="$1" bobj="$2" want="$3"
    shift 3
    if [ -z "$bobj" ]; then mark beh "$bname" - na "object not in the list"; return; fi
    if timeout "$T" "$@" >"$TMP/beh" 2>&1 && grep -q -E "$want" "$TMP/beh"; then
        mark beh "$bname" - ok "$(grep -m1 -E "$want" "$TMP/beh")"
    elif r=$(grep -m1 '^retval:' "$TMP/beh"); then
        mark beh "$bname" - fail "$r, wanted $want"
    else
        mark beh "$bname" - fail "$(tinybpf_reason "$TMP/beh")"
    fi
}

# Feature probes: which fallbacks the loader takes on this kernel.
if timeout "$T" "$TINYBPF" probe >"$TMP/probe" 2>&1; then
    awk '$1 == "other" { print $2, $3 }' "$TMP/probe" | while read -r f v; do
        mark feat "$f" - "$v" ""
    done
else
    mark beh probe - fail "$(tinybpf_reason "$TMP/probe")"
fi

GLOBALS=$(obj_path globals)
KCONFIG=$(obj_path kconfig)
ATTACH=$(obj_path attach)
TPS=$(obj_path tracepoints)
# BPF_PROG_TEST_RUN of a program calling subprograms with global data.
beh test-run-globals "$GLOBALS" '^retval: 26$' "$TINYBPF" test-run "$GLOBALS" xdp_calls
# A `const volatile` set before load changes what the program returns.
beh test-run-rodata "$GLOBALS" '^retval: 2$' "$TINYBPF" test-run "$GLOBALS" xdp_count --set multiplier=3

# .kconfig externs: xdp_kconfig returns 0 when every extern holds what this
# kernel's config (read here with awk, not by tinybpf) says, and the number
# of the first wrong check otherwise (4 for CONFIG_HZ: the negative control;
# 11 for LINUX_HAS_BPF_COOKIE, false before 5.15: what these kernels should
# answer there).
rel=$(uname -r)
cfg=/boot/config-$rel
[ -r "$cfg" ] || { [ -r /proc/config.gz ] && gzip -dc /proc/config.gz >"$TMP/config" 2>/dev/null && cfg="$TMP/config"; }
if [ -r "$cfg" ]; then
    kv() { awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); gsub(/"/, ""); print; exit }' "$cfg"; }
    ver=$(echo "$rel" | awk -F'[^0-9]+' '{ c = $3 + 0; if (c > 255) c = 255; print $1 * 65536 + $2 * 256 + c }')
    hz=$(kv CONFIG_HZ)
    phys=$(kv CONFIG_PHYSICAL_START)
    x86=$(kv CONFIG_X86_64)
    lv=$(kv CONFIG_LOCALVERSION)
    set -- --set "expect_version=$ver" --set "expect_hz=$hz" --set "expect_phys_start=${phys:-0}"
    [ "$x86" = y ] && set -- "$@" --set expect_x86_64=121
    [ -n "$lv" ] && set -- "$@" --set "expect_localversion=$lv"
    if [ "$ver" -ge $((0x050f00)) ]; then kwant='^retval: 0$'; else kwant='^retval: 11$'; fi
    beh kconfig "$KCONFIG" "$kwant" "$TINYBPF" test-run "$KCONFIG" xdp_kconfig "$@"
    beh kconfig-negative "$KCONFIG" '^retval: 4$' "$TINYBPF" test-run "$KCONFIG" xdp_kconfig "$@" \
        --set "expect_hz=$((hz + 1))"
    set --
else
    mark beh kconfig - na "no kernel config at /boot/config-$rel or /proc/config.gz"
fi

# Attach kinds: tracepoints through perf events (a perf link, or the ioctl
# before 5.15), tp_btf and fentry (BPF trampolines: not on every host).
beh attach-tracepoint "$TPS" 'count_getpid → tracepoint' \
    "$TINYBPF" load "$TPS" --program count_getpid --duration 1
beh attach-tp_btf "$ATTACH" 'on_sched_exec → ' \
    "$TINYBPF" load "$ATTACH" --program on_sched_exec --duration 1
beh attach-fentry "$ATTACH" 'on_unlinkat_entry → ' \
    "$TINYBPF" load "$ATTACH" --program on_unlinkat_entry --duration 1
mark info beh-done - - "$(date +%s)"

# Run example $1 (with argument $3 if given, reported as "$1 $3"), trigger
# execs, stop it with SIGINT; pass if its output has a line matching $2.
example() {
    ex="$1" want="$2" arg="$3"
    label="$ex${arg:+ $arg}"
    [ -x "$EXDIR/$ex" ] || { mark ex "$label" - fail "not built: $EXDIR/$ex"; return; }
    "$EXDIR/$ex" $arg >"$TMP/ex.out" 2>"$TMP/ex.err" &
    pid=$!
    # Ready when it says so (or prints its header); loading is slow under TCG.
    i=0
    while [ $i -lt $((T * 2)) ]; do
        grep -q -E 'Successfully started|^PID ' "$TMP/ex.out" && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.5
        i=$((i + 1))
    done
    for n in 1 2 3 4 5 6; do
        /bin/true
        /bin/echo trigger >/dev/null
        sleep 0.5
    done
    sleep 3
    kill -INT $pid 2>/dev/null
    i=0
    while kill -0 $pid 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    line=$(grep -m1 -E "$want" "$TMP/ex.out")
    if [ -n "$line" ]; then
        mark ex "$label" - ok "$line"
    else
        why=$(grep -v '^[[:space:]]*$' "$TMP/ex.err" | tail -n1)
        [ -n "$why" ] || why="no line matching '$want' in: $(tail -n2 "$TMP/ex.out" | tr '\n' ' ')"
        mark ex "$label" - fail "$why"
    fi
}

example hello 'Hello world'
example maps 'Process Name = '
example execsnoop '/bin/(true|echo)'
# The perf buffer path (what kernels before 5.8, without ring buffers, use).
example execsnoop '/bin/(true|echo)' --perf

# Behaviour: a kprobe.multi link (5.18+ with CONFIG_FPROBE) held for a second.
mobj=$(grep '^multi ' "$LIST" | cut -d' ' -f2)
if [ -n "$mobj" ]; then
    if timeout "$T" "$TINYBPF" load "$mobj" --program on_vfs_kmulti --duration 1 >"$TMP/out" 2>&1; then
        mark ex kprobe.multi - ok "$(grep -m1 '→ kprobe.multi' "$TMP/out")"
    else
        mark ex kprobe.multi - fail "$(tinybpf_reason "$TMP/out")"
    fi
fi

# Behaviour: freplace (BPF trampolines). freplace_target's xdp_main returns
# verdict() = XDP_PASS (2); while freplace's new_verdict (XDP_DROP, 1) is
# attached to it by id the same program returns 1, and 2 again afterwards.
# The target is pinned and run by bpftool (not by tinybpf).
FT=$(obj_path freplace_target)
FR=$(obj_path freplace)
if [ -z "$FT" ] || [ -z "$FR" ]; then
    mark beh freplace - na "object not in the list"
else
    head -c 64 /dev/zero >"$TMP/pkt"
    verdict() { timeout "$T" "$BPFTOOL" prog run pinned "$PIN/ft/progs/xdp_main" data_in "$TMP/pkt" 2>&1 |
        sed -n 's/.*Return value: \([0-9]*\).*/\1/p'; }
    rm -rf "$PIN/ft"
    if ! timeout "$T" "$TINYBPF" load "$FT" --no-attach --pin "$PIN/ft" --duration 0 >"$TMP/beh" 2>&1; then
        mark beh freplace - fail "target: $(tinybpf_reason "$TMP/beh")"
    else
        tid=$("$BPFTOOL" prog show pinned "$PIN/ft/progs/xdp_main" | sed -n '1s/^\([0-9]*\):.*/\1/p')
        v0=$(verdict)
        timeout "$T" "$TINYBPF" load "$FR" --attach-prog "$tid" --duration 8 >"$TMP/beh" 2>&1 &
        fpid=$!
        i=0
        while [ $i -lt $((T * 2)) ] && kill -0 $fpid 2>/dev/null && ! grep -q holding "$TMP/beh"; do
            sleep 0.5
            i=$((i + 1))
        done
        v1=$(verdict)
        wait $fpid
        frc=$?
        v2=$(verdict)
        if [ "$v0" = 2 ] && [ "$v1" = 1 ] && [ "$v2" = 2 ] && [ $frc -eq 0 ]; then
            mark beh freplace - ok "verdict of target id $tid: $v0, $v1 with new_verdict attached, $v2 after"
        else
            mark beh freplace - fail "verdicts $v0/$v1/$v2 (want 2/1/2), load exit $frc: $(tinybpf_reason "$TMP/beh")"
        fi
    fi
    rm -rf "$PIN/ft"
fi

sh "$(dirname "$0")/structops-check.sh" "$EXDIR" # @@KM|beh|tcp_cc*: see structops-check.sh

mark info end - - "$(date +%s)"
rm -rf "$TMP" "$PIN"
