//! `tinybpf btf min` (minimal BTF for some objects) and `tinybpf check
//! --btf-dir` (every kernel BTF in a directory, with a matrix).

#[path = "../../tests/common/mod.rs"]
mod common;

mod support;

use std::path::Path;
use support::{obj, scratch, tinybpf};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// The per-relocation rows of `check` output (no target/summary lines, which
/// name the BTF file).
fn rows(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.starts_with("target ") && !l.starts_with("summary for "))
        .collect()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn btf_min_relocates_like_the_full_btf() {
    let dir = scratch("btfmin");
    std::fs::create_dir_all(&dir).unwrap();
    // (object, full target BTF): the running kernel's, and a hand-made
    // target layout given as an ELF file.
    let cases = [
        (obj("execsnoop.bpf.o"), VMLINUX.to_string()),
        (
            obj("tests/core/fields.bpf.o"),
            obj("tests/core/fields.target.bpf.o"),
        ),
        (
            obj("tests/core/types.bpf.o"),
            obj("tests/core/types.target.bpf.o"),
        ),
    ];
    for (i, (o, full)) in cases.iter().enumerate() {
        let out = dir.join(format!("min{i}.btf"));
        let r = tinybpf(&["btf", "min", o, "--btf", full, "-o", &s(&out)]);
        assert_eq!(r.code, 0, "{o}: {}{}", r.out, r.err);
        assert!(r.out.contains("wrote "), "{}", r.out);
        let size = std::fs::metadata(&out).unwrap().len();
        let full_size = std::fs::metadata(full).unwrap().len();
        assert!(size > 24 && size < full_size, "{o}: {size} vs {full_size}");
        let a = tinybpf(&["check", o, "--btf", full]);
        let b = tinybpf(&["check", o, "--btf", &s(&out)]);
        assert_eq!(a.code, b.code, "{o}: {}\n{}", a.out, b.out);
        // target_type_id values are ids in the minimal BTF: compare the rest.
        let strip = |v: Vec<&str>| -> Vec<String> {
            v.into_iter()
                .filter(|l| !l.contains("target_type_id"))
                .map(str::to_string)
                .collect()
        };
        let (ra, rb) = (strip(rows(&a.out)), strip(rows(&b.out)));
        assert!(ra.len() > 2, "{}", a.out);
        assert_eq!(ra, rb, "{o}: full:\n{}\nminimal:\n{}", a.out, b.out);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn btf_min_errors() {
    let dir = scratch("btfmin-err");
    std::fs::create_dir_all(&dir).unwrap();
    let out = s(&dir.join("out.btf"));
    let o = obj("execsnoop.bpf.o");
    let r = tinybpf(&["btf", "min", &o, "--btf", "/nonexistent.btf", "-o", &out]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("/nonexistent.btf"), "{}", r.err);
    let r = tinybpf(&["btf", "min", VMLINUX, "--btf", VMLINUX, "-o", &out]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains(VMLINUX), "{}", r.err);
    let r = tinybpf(&["btf", "min", &o, "--btf", VMLINUX]);
    assert_eq!(r.code, 2, "{}", r.err);
    let r = tinybpf(&[
        "btf",
        "min",
        &o,
        "--btf",
        VMLINUX,
        "-o",
        "/nonexistent/x.btf",
    ]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("/nonexistent/x.btf"), "{}", r.err);
    assert!(!dir.join("out.btf").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_btf_dir_prints_a_matrix() {
    let dir = scratch("btfdir");
    std::fs::create_dir_all(&dir).unwrap();
    let o = obj("execsnoop.bpf.o");
    // a: the running kernel's BTF; b: its minimal BTF for execsnoop (both
    // relocate); c: a foreign layout without task_struct (fails: the
    // accesses are reachable); a README (not BTF).
    std::fs::copy(VMLINUX, dir.join("a-vmlinux.btf")).unwrap();
    let b = dir.join("b-min.btf");
    let r = tinybpf(&["btf", "min", &o, "--btf", VMLINUX, "-o", &s(&b)]);
    assert_eq!(r.code, 0, "{}", r.err);
    std::fs::write(dir.join("README"), "kernel BTFs\n").unwrap();

    let r = tinybpf(&["check", &o, "--btf-dir", &s(&dir)]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("README: not BTF"), "{}", r.out);
    let k: Vec<&str> = r.out.lines().filter(|l| l.starts_with('K')).collect();
    assert_eq!(k.len(), 2, "{}", r.out);
    assert!(k[0].starts_with("K1 ") && k[0].contains("a-vmlinux.btf") && k[0].ends_with(": OK"));
    assert!(k[1].starts_with("K2 ") && k[1].contains("b-min.btf") && k[1].ends_with(": OK"));
    assert!(
        r.out.contains("matrix: 4 relocations x 2 kernels"),
        "{}",
        r.out
    );
    let m: Vec<&str> = r
        .out
        .lines()
        .filter(|l| l.contains("task_struct."))
        .collect();
    assert_eq!(m.len(), 4, "{}", r.out);
    assert!(m.iter().all(|l| l.ends_with("ok  ok")), "{}", r.out);
    assert!(r.out.contains("2 of 2 kernels relocate: OK"), "{}", r.out);

    std::fs::copy(
        obj("tests/core/fields.target.bpf.o"),
        dir.join("c-other.bpf.o"),
    )
    .unwrap();
    let r = tinybpf(&["check", &o, "--btf-dir", &s(&dir)]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("K3 ") && r.out.contains("c-other.bpf.o"),
        "{}",
        r.out
    );
    let m: Vec<&str> = r
        .out
        .lines()
        .filter(|l| l.contains("task_struct."))
        .collect();
    assert!(m.iter().all(|l| l.ends_with("ok  ok  FAILED")), "{}", r.out);
    assert!(
        r.out.contains("2 of 3 kernels relocate: FAILED"),
        "{}",
        r.out
    );

    // No BTF at all: an error.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "x").unwrap();
    let r = tinybpf(&["check", &o, "--btf-dir", &s(&empty)]);
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.err.contains("no BTF file"), "{}", r.err);
    let r = tinybpf(&["check", &o, "--btf-dir", "/nonexistent-dir"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("/nonexistent-dir"), "{}", r.err);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The point of a minimal BTF: loading with it as the target BTF works on
/// the real kernel (root).
#[test]
fn load_with_minimal_btf() {
    if !common::root_or_skip("load_with_minimal_btf") {
        return;
    }
    let dir = scratch("btfmin-load");
    std::fs::create_dir_all(&dir).unwrap();
    let o = obj("execsnoop.bpf.o");
    let b = s(&dir.join("min.btf"));
    let r = tinybpf(&["btf", "min", &o, "--btf", VMLINUX, "-o", &b]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(std::fs::metadata(&b).unwrap().len() < 1000);
    let r = tinybpf(&["load", &o, "--btf", &b, "--duration", "0"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("handle_exec → tracepoint"), "{}", r.out);
    assert!(r.out.contains("unloaded 2 programs"), "{}", r.out);
    let _ = std::fs::remove_dir_all(&dir);
}
