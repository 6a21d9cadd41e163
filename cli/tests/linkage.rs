//! The CLI binary is linked without `libgcc_s.so.1` where the C compiler
//! has the static unwinder (cli/build.rs): one shared library and its
//! `cpuid`-running constructor fewer at every start.

use std::process::Command;

#[test]
fn cli_binary_does_not_need_libgcc_s() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let eh = Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let have_eh = std::path::Path::new(&eh).is_absolute();
    if !have_eh && std::env::var_os("CI").is_none() {
        eprintln!("skipped: {cc} has no libgcc_eh.a");
        return;
    }
    assert!(have_eh, "{cc} -print-file-name=libgcc_eh.a: {eh:?}");
    let exe = env!("CARGO_BIN_EXE_tinybpf");
    let out = Command::new("readelf")
        .args(["--dynamic", "--wide", exe])
        .output()
        .expect("readelf (binutils) is needed");
    assert!(out.status.success());
    let dynamic = String::from_utf8_lossy(&out.stdout);
    let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
    assert!(
        needed.iter().any(|l| l.contains("libc.so")),
        "no libc among {needed:?}: not the dynamic build this test is about"
    );
    assert!(
        !needed.iter().any(|l| l.contains("libgcc_s")),
        "{exe} needs libgcc_s: {needed:?}"
    );
    // And it runs.
    let v = Command::new(exe).arg("--version").output().unwrap();
    assert!(v.status.success());
}
