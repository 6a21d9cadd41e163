#!/bin/sh
# struct_ops behaviour check of the kernel matrix (called by run-inside.sh):
# the tcp_cc example registers a BPF TCP congestion control, selects it on
# a loopback connection inside a private network namespace, sends 8 MiB,
# reads its counters and checks that dropping the object unregisters it.
#
# usage: structops-check.sh EXAMPLES_DIR
#
# Prints, like run-inside.sh, one marker line per variant:
#   @@KM|beh|tcp_cc|-|ok, fail or na|detail          .struct_ops.link (BPF link; kernels >= 6.4)
#   @@KM|beh|tcp_cc_legacy|-|ok, fail or na|detail   .struct_ops (map update; kernels >= 5.13,
#                                                    the first with the tcp_reno_* kfuncs)
# ok: the example's "tcp_cc: OK ..." line (counters init, pkts_acked,
# cong_avoid); na: the kernel is older than the variant needs; fail: the
# example's last error line. POSIX sh + busybox; bounded by `timeout`.

EXDIR="$1"
T=${KM_TIMEOUT:-90}
OUT=${TMPDIR:-/tmp}/structops.$$

clean() { tr -d '\r' | tr '|\n' '/ ' | cut -c1-220; }
mark() { printf '\n@@KM|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$(printf '%s' "$5" | clean)"; }

# Kernel version as one number: 6.12 -> 612.
rel=$(uname -r)
major=${rel%%.*}
rest=${rel#*.}
minor=${rest%%[!0-9]*}
kv=$((major * 100 + minor))

variant() {
    name="$1" need="$2" arg="$3"
    if [ ! -x "$EXDIR/tcp_cc" ]; then
        mark beh "$name" - fail "not built: $EXDIR/tcp_cc"
        return
    fi
    if [ "$kv" -lt "$need" ]; then
        mark beh "$name" - na "kernel $rel < $((need / 100)).$((need % 100))"
        return
    fi
    # shellcheck disable=SC2086
    timeout "$T" "$EXDIR/tcp_cc" $arg >"$OUT" 2>&1
    rc=$?
    line=$(grep -m1 -E '^tcp_cc: OK' "$OUT")
    if [ $rc -eq 0 ] && [ -n "$line" ]; then
        mark beh "$name" - ok "$line"
    elif [ $rc -eq 124 ]; then
        mark beh "$name" - fail "timeout after ${T}s"
    else
        why=$(grep -E '^error|caused by' "$OUT" | tr '\n' ' ')
        [ -n "$why" ] || why=$(grep -v '^[[:space:]]*$' "$OUT" | tail -n1)
        mark beh "$name" - fail "$why"
    fi
}

variant tcp_cc 604 ""
variant tcp_cc_legacy 513 --legacy
rm -f "$OUT"
