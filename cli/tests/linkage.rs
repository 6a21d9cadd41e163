//! The CLI binary is linked without `libgcc_s.so.1` where the C compiler
//! has the static unwinder and builds PIEs (cli/build.rs): one shared
//! library and its `cpuid`-running constructor fewer at every start.

use std::process::Command;

/// Whether cli/build.rs links the static unwinder with this toolchain (the
/// same checks it makes).
fn static_unwinder_expected() -> Result<(), String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let eh = Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !std::path::Path::new(&eh).is_absolute() {
        return Err(format!("{cc} has no libgcc_eh.a"));
    }
    let pie = Command::new(&cc)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).contains("--enable-default-pie"))
        .unwrap_or(false);
    if !pie {
        return Err(format!("{cc} does not build PIEs by default"));
    }
    Ok(())
}

#[test]
fn cli_binary_does_not_need_libgcc_s() {
    let exe = env!("CARGO_BIN_EXE_tinybpf");
    let out = Command::new("readelf")
        .args(["--dynamic", "--wide", exe])
        .output()
        .expect("readelf (binutils) is needed");
    assert!(out.status.success());
    let dynamic = String::from_utf8_lossy(&out.stdout);
    let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
    if !needed.iter().any(|l| l.contains("libc.so")) {
        eprintln!("skipped: {exe} is linked statically ({needed:?})");
        return;
    }
    if std::env::var_os("TINYBPF_CLI_SHARED_LIBGCC").is_some() {
        eprintln!("skipped: TINYBPF_CLI_SHARED_LIBGCC is set (the shared unwinder, asked for)");
        return;
    }
    if let Err(why) = static_unwinder_expected() {
        // In CI the toolchain is known to have it: a skip there would hide
        // a build.rs that stopped working.
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    assert!(
        !needed.iter().any(|l| l.contains("libgcc_s")),
        "{exe} needs libgcc_s: {needed:?}"
    );
    // And it runs.
    let v = Command::new(exe).arg("--version").output().unwrap();
    assert!(v.status.success());
}
