#!/bin/sh
# Cargo runner (see .cargo/config.toml): `cargo run`/`cargo test` build as
# you and run the built binary as root.
#
# - Already root (uid 0, e.g. CI): exec the binary directly; arguments,
#   stdin/stdout and the exit status pass through untouched.
# - Otherwise: exec it through `sudo -E` (keeps RUST_LOG, CI, ...). sudo
#   keeps the working directory and the binary is named by its path, so
#   secure_path does not matter, and target/ stays owned by you.
# - TINYBPF_NO_SUDO=1, or no sudo installed: exec directly, unprivileged
#   (root-only tests then skip, or fail under CI, and say why).
if [ "$#" -eq 0 ]; then
    echo "run-as-root.sh: usage: run-as-root.sh BINARY [ARGS...]" >&2
    exit 2
fi
if [ "$(id -u)" = 0 ] || [ -n "${TINYBPF_NO_SUDO:-}" ]; then
    exec "$@"
fi
if ! command -v sudo >/dev/null 2>&1; then
    echo "run-as-root.sh: not root and no sudo: running $1 unprivileged" >&2
    exec "$@"
fi
exec sudo -E -- "$@"
