//! `tinybpf iter` on the real kernel: one pass of a task iterator printed,
//! narrowed to one process, pinned and read with std::fs after exit.

#[path = "../../tests/common/mod.rs"]
mod common;

mod support;

use support::{obj, tinybpf};

#[test]
fn iter_prints_one_pass_and_pins() {
    if !common::root_or_skip("iter_prints_one_pass_and_pins") {
        return;
    }
    let o = obj("iter.bpf.o");
    let me = std::process::id().to_string();
    // The child is `tinybpf` itself: our pid is its parent, in the list.
    let r = tinybpf(&["iter", &o, "dump_task"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.starts_with("TGID PID COMM\n"), "{}", r.out);
    assert!(
        r.out.lines().any(|l| l.starts_with(&format!("{me} {me} "))),
        "{me} not listed"
    );
    let r = tinybpf(&["iter", &o, "dump_task", "--pid", &me]);
    assert_eq!(r.code, 0, "{}", r.err);
    let lines: Vec<&str> = r.out.lines().skip(1).collect();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l.starts_with(&format!("{me} "))),
        "{}",
        r.out
    );

    let dir = std::path::PathBuf::from(format!("/sys/fs/bpf/tinybpf-test-{me}-itercli"));
    let pin = dir.join("tasks");
    let r = tinybpf(&["iter", &o, "dump_task", "--pin", pin.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.err.contains("pinned at"), "{}", r.err);
    let text = std::fs::read_to_string(&pin);
    let _ = std::fs::remove_dir_all(&dir);
    let text = text.unwrap();
    assert!(text.contains(&format!("\n{me} {me} ")), "{text}");

    // Not an iterator: exit 1 with the section named.
    let r = tinybpf(&["iter", &obj("hello.bpf.o"), "handle_tp"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("is not an iterator"), "{}", r.err);
}
