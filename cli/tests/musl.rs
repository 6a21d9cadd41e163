//! The static musl build of the CLI (`cargo build-cli-musl`, see
//! .cargo/config.toml): built here into its own target directory, then
//! checked to be one static binary that parses, checks and loads objects
//! against the running kernel. Skipped when the musl target is not
//! installed, except in CI (.ci/run installs it).

#[path = "../../tests/common/mod.rs"]
mod common;

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{id_of, obj, prog_gone};

const TARGET: &str = "x86_64-unknown-linux-musl";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether rustc has the standard library for `TARGET`.
fn musl_installed() -> bool {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc");
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}

#[test]
fn musl_build_is_static_and_loads() {
    if !cfg!(target_arch = "x86_64") {
        eprintln!("skipped: not x86_64");
        return;
    }
    if !musl_installed() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the {TARGET} target is not installed (rustup target add {TARGET})"
        );
        eprintln!("skipped: the {TARGET} target is not installed");
        return;
    }
    let dir = repo().join("target/musl-check");
    let out = Command::new(env!("CARGO"))
        .args(["build-cli-musl", "--quiet"])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo build-cli-musl failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = dir.join(TARGET).join("release/tinybpf");

    // One static binary: no program interpreter, no shared libraries.
    let headers = Command::new("readelf")
        .args(["--program-headers", "--dynamic", "--wide"])
        .arg(&exe)
        .output()
        .expect("readelf (binutils) is needed");
    let text = String::from_utf8_lossy(&headers.stdout);
    assert!(
        !text.contains("INTERP"),
        "{} has an interpreter",
        exe.display()
    );
    assert!(
        !text.contains("(NEEDED)"),
        "{} needs shared libraries",
        exe.display()
    );

    let run = |args: &[&str]| {
        let o = Command::new(&exe).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("tinybpf "), "{stdout}");

    let (code, stdout, stderr) = run(&["info", &obj("hello.bpf.o")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("handle_tp"), "{stdout}");
    // CO-RE against the running kernel's BTF.
    let (code, stdout, stderr) = run(&["check", &obj("execsnoop.bpf.o")]);
    assert_eq!(code, Some(0), "check: {stdout}{stderr}");
    assert!(
        stdout.contains("4 relocations, 4 resolved"),
        "{stdout}{stderr}"
    );

    if !common::root_or_skip("musl_build_is_static_and_loads") {
        return;
    }
    // A whole load, attach (tracefs, perf_event_open) and unload.
    let (code, stdout, stderr) = run(&["load", &obj("hello.bpf.o"), "--duration", "0"]);
    assert_eq!(code, Some(0), "load: {stdout}{stderr}");
    let prog = id_of(&stdout, "handle_tp");
    assert!(
        stdout.contains("detached 1 link, unloaded 1 program and 1 map"),
        "{stdout}"
    );
    assert!(prog_gone(prog), "program {prog} still loaded after exit");
}
