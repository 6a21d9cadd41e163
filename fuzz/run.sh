#!/usr/bin/env bash
# Run one fuzz target for a number of executions on the stable toolchain
# (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its nightly-only flags), with
# AddressSanitizer, debug assertions and overflow checks (`-a`: an
# arithmetic overflow is a crash), a 64 MiB per-allocation limit and a
# 2 GiB RSS limit.
#   fuzz/run.sh TARGET [RUNS] [extra libFuzzer flags...]
# Seeds come from fuzz/seed.sh; crashes land in fuzz/artifacts/TARGET/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
target="${1:?usage: run.sh TARGET [RUNS] [libFuzzer flags...]}"
runs="${2:-1000000}"
shift $(($# < 2 ? $# : 2))
[[ -d corpus/$target ]] || bash seed.sh
RUSTC_BOOTSTRAP=1 exec cargo fuzz run -s address -a "$target" "corpus/$target" -- \
    -runs="$runs" -malloc_limit_mb=64 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$@"
