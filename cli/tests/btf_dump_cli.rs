//! `tinybpf btf dump`: the header on stdout, errors and exit codes.

#[path = "../../tests/common/mod.rs"]
mod common;

mod support;

use support::{obj, tinybpf};

#[test]
fn dumps_kernel_btf_as_a_header() {
    let r = tinybpf(&["btf", "dump", "/sys/kernel/btf/vmlinux", "--format", "c"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r
        .out
        .starts_with("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n"));
    assert!(r.out.ends_with("#endif /* __VMLINUX_H__ */\n"));
    assert!(r.out.contains("\nstruct task_struct {\n"));
    // The default format is c.
    let d = tinybpf(&["btf", "dump", "/sys/kernel/btf/vmlinux"]);
    assert_eq!(d.out, r.out);
}

#[test]
fn raw_lists_one_line_per_type() {
    let r = tinybpf(&[
        "btf",
        "dump",
        &obj("tests/core/fields.bpf.o"),
        "--format",
        "raw",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let first = r.out.lines().next().unwrap();
    assert!(first.starts_with("[1] "), "{first}");
    assert!(r.out.lines().all(|l| l.starts_with('[')));
}

#[test]
fn errors_name_the_file() {
    let r = tinybpf(&["btf", "dump", "/nonexistent/btf"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("/nonexistent/btf"), "{}", r.err);
    let readme = common::repo_root().join("README.md");
    let r = tinybpf(&["btf", "dump", readme.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.err.contains("README.md") && r.err.contains("magic"),
        "{}",
        r.err
    );
    assert!(r.out.is_empty());
    let r = tinybpf(&["btf", "dump", "/sys/kernel/btf/vmlinux", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.err);
}
