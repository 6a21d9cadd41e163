//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// The repository root. The tests of the `cli/` package include this file
/// too; their manifest directory is `cli/`.
pub fn repo_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if dir.join("bpf").is_dir() {
        dir
    } else {
        dir.join("..")
    }
}

/// Path of a committed object under `bpf/`.
pub fn obj(name: &str) -> PathBuf {
    repo_root().join("bpf").join(name)
}

/// Whether root-only tests can run. Without root they are skipped (with a
/// message) only when `CI` is unset; under CI they must run.
pub fn root_or_skip(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: needs root, and CI is set: refusing to skip");
    }
    eprintln!("{test}: skipped (needs root; run as root or set CI to force)");
    false
}

/// Serialises tests that read trace_pipe or count kernel objects globally.
pub fn kernel_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ids of every program the kernel has loaded.
pub fn prog_ids() -> Vec<u32> {
    let mut ids = Vec::new();
    let mut id = 0;
    while let Ok(Some(next)) = tinybpf::sys::prog_get_next_id(id) {
        ids.push(next);
        id = next;
    }
    ids
}

/// Ids of every link.
pub fn link_ids() -> Vec<u32> {
    let mut ids = Vec::new();
    let mut id = 0;
    while let Ok(Some(next)) = tinybpf::sys::link_get_next_id(id) {
        ids.push(next);
        id = next;
    }
    ids
}

/// Ids of every map.
pub fn map_ids() -> Vec<u32> {
    let mut ids = Vec::new();
    let mut id = 0;
    while let Ok(Some(next)) = tinybpf::sys::map_get_next_id(id) {
        ids.push(next);
        id = next;
    }
    ids
}

/// Names of the programs the kernel has loaded.
pub fn prog_names() -> Vec<String> {
    prog_ids()
        .into_iter()
        .filter_map(|id| tinybpf::sys::prog_get_fd_by_id(id).ok())
        .filter_map(|fd| tinybpf::sys::prog_info(std::os::fd::AsFd::as_fd(&fd)).ok())
        .map(|i| i.name)
        .collect()
}

/// Open file descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A built example binary next to this test binary (`cargo test` builds
/// the examples first).
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/events-HASH → target/debug/examples/NAME
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let path = dir.join("examples").join(name);
    // `cargo test` builds the examples before running tests.
    assert!(
        path.exists(),
        "{} missing: run `cargo build --examples`",
        path.display()
    );
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    assert!(
        mtime(&path) >= mtime(&src),
        "{} is older than its source: run `cargo build --examples`",
        path.display()
    );
    path
}

/// The `tinybpf` CLI binary (package `tinybpf-cli`) next to this test
/// binary: the root's `cargo test` builds every workspace member first
/// (`cargo build -p tinybpf-cli` when only this package is tested).
pub fn cli_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/NAME-HASH → target/debug/tinybpf
    let path = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("tinybpf");
    assert!(
        path.exists(),
        "{} missing: run `cargo build -p tinybpf-cli`",
        path.display()
    );
    path
}
