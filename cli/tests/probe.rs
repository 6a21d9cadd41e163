//! `tinybpf probe` on the running kernel.

#[path = "../../tests/common/mod.rs"]
mod common;

mod support;

use support::tinybpf;

/// The SUPPORTED cell of the row `group feature`.
fn cell<'a>(out: &'a str, group: &str, feature: &str) -> &'a str {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.len() == 3 && c[0] == group && c[1] == feature)
        .map(|c| c[2])
        .unwrap_or_else(|| panic!("no row {group} {feature} in:\n{out}"))
}

#[test]
fn probe_lists_kernel_features() {
    if !common::root_or_skip("probe_lists_kernel_features") {
        return;
    }
    let r = tinybpf(&["probe"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.starts_with("GROUP"), "{}", r.out);
    for (g, f) in [
        ("btf", "btf"),
        ("btf", "enum64"),
        ("btf", "type_tag"),
        ("prog_type", "xdp"),
        ("prog_type", "kprobe"),
        ("map_type", "hash"),
        ("map_type", "ringbuf"),
        ("helper", "ringbuf_output"),
        ("other", "perf_link"),
        ("other", "bpf_cookie"),
        ("other", "log_true_size"),
        ("other", "memcg_account"),
    ] {
        assert_eq!(cell(&r.out, g, f), "yes", "{g} {f}");
    }
    // --missing: only the "no" rows.
    let m = tinybpf(&["probe", "--missing"]);
    assert_eq!(m.code, 0, "{}", m.err);
    let rows: Vec<&str> = m.out.lines().skip(1).collect();
    assert!(rows.iter().all(|l| l.ends_with(" no")), "{}", m.out);
    let no_rows = r.out.lines().filter(|l| l.ends_with(" no")).count();
    assert_eq!(rows.len(), no_rows, "{}\n{}", r.out, m.out);
}

#[test]
fn probe_has_help() {
    let r = tinybpf(&["probe", "--help"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("--missing"), "{}", r.out);
    let r = tinybpf(&["--help"]);
    assert!(
        r.out.lines().any(|l| l.trim_start().starts_with("probe")),
        "{}",
        r.out
    );
}
