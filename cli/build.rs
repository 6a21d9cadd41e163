//! Link the `tinybpf` binary without `libgcc_s.so.1` on GNU/Linux.
//!
//! Rust's standard library asks for `-lgcc_s` (the unwinder) on
//! `*-linux-gnu` unless the whole binary is static. Loading that shared
//! library costs every process a file open and four mappings, and its
//! constructor `__cpu_indicator_init` runs a series of `cpuid`
//! instructions, each a VM exit under a hypervisor: ~0.13 ms of a
//! `tinybpf --version` here, about as much as the CLI's own start-up
//! (BENCHMARKS.md, "Whole processes"). The same unwinder exists as a static
//! archive, `libgcc_eh.a` (what `-static-libgcc` and `+crt-static` use), so
//! this script puts a one-line linker script named `libgcc_s.so` that
//! points at it first on the link search path. Nothing else changes: libc
//! stays shared. Skipped (the usual `libgcc_s.so.1`) when the C compiler
//! has no `libgcc_eh.a` or does not build PIEs by default, for static builds, for other targets (and when
//! cross-compiling: `cc` is the host's compiler), and when
//! `TINYBPF_CLI_SHARED_LIBGCC` is set.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TINYBPF_CLI_SHARED_LIBGCC");
    println!("cargo:rerun-if-env-changed=CC");
    // What was decided, for cli/tests/linkage.rs ("static", or why not).
    let unwinder = match static_unwinder() {
        Ok(()) => "static".to_string(),
        Err(why) => format!("shared: {why}"),
    };
    println!("cargo:rustc-env=TINYBPF_CLI_UNWINDER={unwinder}");
}

/// Put the linker script on the link search path, or say why not.
fn static_unwinder() -> Result<(), String> {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if std::env::var_os("TINYBPF_CLI_SHARED_LIBGCC").is_some() {
        return Err("TINYBPF_CLI_SHARED_LIBGCC is set".into());
    }
    let static_build = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || static_build
        || var("TARGET") != var("HOST")
    {
        return Err("not a dynamic, native linux-gnu build".into());
    }
    // The archive the C compiler would link for -static-libgcc (it prints
    // the bare name back when it has none).
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map_err(|e| format!("{cc}: {e}"))?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !out.status.success() || !path.is_absolute() || !path.is_file() {
        return Err(format!("{cc} has no libgcc_eh.a"));
    }
    // Rust links a PIE: the archive must be position-independent, which
    // it is when the compiler builds PIEs by default (Debian, Fedora, Arch,
    // Ubuntu, ...); otherwise keep the shared library.
    let pie = Command::new(&cc)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).contains("--enable-default-pie"))
        .unwrap_or(false);
    if !pie {
        return Err(format!("{cc} does not build PIEs by default"));
    }
    let out_dir = std::env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .ok_or("no OUT_DIR")?;
    // A compiler upgrade moves the archive: link again with the new path.
    println!("cargo:rerun-if-changed={}", path.display());
    let quoted = path
        .to_str()
        .filter(|p| !p.contains('"'))
        .ok_or_else(|| format!("{} cannot be quoted", path.display()))?;
    let script = format!("/* tinybpf-cli build.rs: the static unwinder */\nINPUT(\"{quoted}\")\n");
    std::fs::write(out_dir.join("libgcc_s.so"), script).map_err(|e| format!("OUT_DIR: {e}"))?;
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    Ok(())
}
