//! `tinybpf check` classifies unresolved CO-RE relocations: guarded or dead
//! ones are fine (exit 0), reachable ones fail (exit 1); and the kernel's
//! verifier agrees when the same objects are loaded against the same BTF.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::process::Command;

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn tinybpf(args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_tinybpf"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run tinybpf");
    Run {
        code: o.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// (object, its target-layout BTF).
fn pair(name: &str) -> (String, String) {
    let p = |f: String| common::obj(&f).display().to_string();
    (
        p(format!("tests/core/{name}.bpf.o")),
        p(format!("tests/core/{name}.target.bpf.o")),
    )
}

#[test]
fn guarded_unresolved_accesses_are_ok() {
    let (o, t) = pair("reach_ok");
    let r = tinybpf(&["check", &o, "--btf", &t]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let poisoned: Vec<&str> = r
        .out
        .lines()
        .filter(|l| l.contains("poisoned; fine if unreachable"))
        .collect();
    // One guarded in the program, one in a subprogram called under a guard.
    assert_eq!(poisoned.len(), 2, "{}", r.out);
    assert!(
        poisoned.iter().any(|l| l.contains("rch.old_a")),
        "{}",
        r.out
    );
    assert!(
        poisoned
            .iter()
            .any(|l| l.contains("read_old_b") && l.contains("rch.old_b")),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("2 unresolved (2 unreachable, 0 reachability unknown, 0 reachable): OK"),
        "{}",
        r.out
    );
    assert!(!r.out.contains("REACHABLE"), "{}", r.out);
}

#[test]
fn unguarded_reachable_unresolved_access_fails() {
    let (o, t) = pair("reach_bad");
    let r = tinybpf(&["check", &o, "--btf", &t]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    let line = r
        .out
        .lines()
        .find(|l| l.contains("rch.old_a"))
        .unwrap_or_else(|| panic!("{}", r.out));
    assert!(
        line.contains("unresolved, REACHABLE from reach_unguarded"),
        "{line}"
    );
    assert!(
        r.out
            .contains("(0 unreachable, 0 reachability unknown, 1 reachable): FAILED"),
        "{}",
        r.out
    );
    // Against its own layout everything resolves.
    let r = tinybpf(&["check", &o, "--btf", &o]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("0 unresolved: OK"), "{}", r.out);
}

#[test]
fn the_verifier_agrees_with_check() {
    if !common::root_or_skip("the_verifier_agrees_with_check") {
        return;
    }
    for (name, loads) in [("reach_ok", true), ("reach_bad", false)] {
        let (o, t) = pair(name);
        let r = tinybpf(&["load", &o, "--btf", &t, "--no-attach", "--duration", "0"]);
        assert_eq!(r.code == 0, loads, "{name}: {}{}", r.out, r.err);
        if !loads {
            assert!(r.err.contains("rch.old_a"), "{name}: {}", r.err);
        }
    }
}
