#!/bin/bash
# Size of the stripped `hello` example, four ways (issue #18's size target):
#
#   stable  default features   cargo build --release --example hello
#   stable  minimum features   ... -p tinybpf --no-default-features
#   nightly default features   the min-size recipe below
#   nightly minimum features   the min-size recipe, --no-default-features
#
# The min-size recipe rebuilds std with the binary (-Z build-std) so that
# panics abort at once (no unwinder, no backtrace printer, no panic message
# formatting: ~260 KB of std that stable always links), drops unwind tables,
# `Debug` output and panic locations, links non-PIE, and lets the linker
# outline and fold identical code. It needs the nightly toolchain with
# rust-src (`rustup component add rust-src --toolchain nightly`); without it
# those two rows say so and the script still reports the stable ones.
#
# Usage: bash bench/size.sh        (from the repository; builds in
#        target/size-*, leaves the tree alone). Prints one line per build:
#        bytes, DT_NEEDED libraries, and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_SIZE_FLAGS="-Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no \
-Zlocation-detail=none -Zfmt-debug=none -Crelocation-model=static \
-Cllvm-args=-enable-machine-outliner=always -Clink-arg=-Wl,--icf=all"
TRIPLE=x86_64-unknown-linux-gnu

report() { # FILE LABEL
    local f=$1 label=$2 libs
    libs=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    printf '%9d  %-40s %s\n' "$(stat -c %s "$f")" "$libs" "$label"
}

stable() { # LABEL CARGO-ARGS...
    local label=$1; shift
    local dir=target/size-stable
    cargo build -q --release "$@" --example hello --target-dir "$dir"
    # The release profile strips already; strip again in case it is changed.
    strip -o "$dir/hello.stripped" "$dir/release/examples/hello"
    report "$dir/hello.stripped" "$label"
}

nightly() { # LABEL CARGO-ARGS...
    local label=$1; shift
    local dir=target/size-nightly
    RUSTFLAGS="$MIN_SIZE_FLAGS" cargo +nightly build -q --release "$@" --example hello \
        -Z build-std=std,panic_abort --target "$TRIPLE" --target-dir "$dir"
    strip -o "$dir/hello.stripped" "$dir/$TRIPLE/release/examples/hello"
    report "$dir/hello.stripped" "$label"
}

echo "    bytes  shared libraries                         build"
stable "stable, default features"
stable "stable, -p tinybpf --no-default-features" -p tinybpf --no-default-features
if rustup run nightly rustc --version >/dev/null 2>&1 &&
    [ -d "$(rustc +nightly --print sysroot)/lib/rustlib/src/rust/library" ]; then
    nightly "nightly min-size, default features"
    nightly "nightly min-size, --no-default-features" -p tinybpf --no-default-features
else
    echo "  (nightly min-size rows skipped: no nightly toolchain with rust-src;"
    echo "   rustup toolchain install nightly --component rust-src)"
fi
