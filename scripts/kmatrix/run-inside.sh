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
    if timeout "$T" "$TINYBPF" load "$path" --no-attach --duration 0 >"$TMP/out" 2>&1; then
        # Loaded, but maybe with a fallback worth knowing (e.g. BTF rejected).
        mark obj "$name" tinybpf ok "$(grep -m1 -E '^\[WARN' "$TMP/out")"
    else
        rc=$?
        mark obj "$name" tinybpf fail "$( [ $rc -eq 124 ] && echo "timeout after ${T}s" || tinybpf_reason "$TMP/out")"
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

# Run example $1, trigger execs, stop it with SIGINT; pass if its output has
# a line matching $2 (an ERE).
example() {
    ex="$1" want="$2"
    [ -x "$EXDIR/$ex" ] || { mark ex "$ex" - fail "not built: $EXDIR/$ex"; return; }
    "$EXDIR/$ex" >"$TMP/ex.out" 2>"$TMP/ex.err" &
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
        mark ex "$ex" - ok "$line"
    else
        why=$(grep -v '^[[:space:]]*$' "$TMP/ex.err" | tail -n1)
        [ -n "$why" ] || why="no line matching '$want' in: $(tail -n2 "$TMP/ex.out" | tr '\n' ' ')"
        mark ex "$ex" - fail "$why"
    fi
}

example hello 'Hello world'
example maps 'Process Name = '
example execsnoop '/bin/(true|echo)'
sh "$(dirname "$0")/structops-check.sh" "$EXDIR" # @@KM|beh|tcp_cc*: see structops-check.sh

mark info end - - "$(date +%s)"
rm -rf "$TMP" "$PIN"
