//! The CLI binary is linked without `libgcc_s.so.1` where the C compiler
//! has the static unwinder and builds PIEs (cli/build.rs): one shared
//! library and its `cpuid`-running constructor fewer at every start.

use std::process::Command;

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
    // What cli/build.rs decided for this build.
    let unwinder = env!("TINYBPF_CLI_UNWINDER");
    if unwinder == "shared: TINYBPF_CLI_SHARED_LIBGCC is set" {
        eprintln!("skipped: the shared unwinder, asked for");
        return;
    }
    if unwinder != "static" {
        // In CI the toolchain is known to have it: a skip there would hide
        // a build.rs that stopped working.
        assert!(std::env::var_os("CI").is_none(), "cli/build.rs: {unwinder}");
        eprintln!("skipped: cli/build.rs: {unwinder}");
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
