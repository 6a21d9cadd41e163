//! Uprobes on a shared library named without a path (`libc.so.6:getpid`),
//! on the real kernel: by section name (`uprobe/libc.so.6:getpid`, plain and
//! versioned) and through `Program::attach_uprobe_symbol`, each counting
//! exactly the `getpid()` calls a child process makes through libc.
//!
//! The child is this test binary re-executed with `TINYBPF_UPROBE_CHILD`
//! set, selecting `child_entry_point`: it prints `READY <tid>`, waits for a
//! count on stdin, calls libc's `getpid` that many times, and exits.

mod common;

use std::io::Write;
use std::process::{Child, ChildStdin};
use tinybpf::{Error, Object, Pid, UprobeOpts};

const CHILD_ENV: &str = "TINYBPF_UPROBE_CHILD";
#[cfg(feature = "auto-uprobe")]
const SECTION: u32 = 0;
const API: u32 = 1;
#[cfg(feature = "auto-uprobe")]
const VERSIONED: u32 = 2;

fn load() -> Object {
    common::load("uprobe_lib.bpf.o")
}

fn hits(obj: &Object, slot: u32) -> u64 {
    common::counter(obj, "hits", slot)
}

/// A child waiting to call getpid: (process, its stdin, the calling tid).
fn spawn_child() -> (Child, ChildStdin, u32) {
    let (child, stdin, tid, _drain) = common::spawn_ready(CHILD_ENV, "1", "READY ");
    (child, stdin, tid.parse().unwrap())
}

/// Let the child make `n` getpid calls and exit.
fn run_child(mut child: Child, mut stdin: ChildStdin, n: u32) {
    writeln!(stdin, "{n}").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
#[cfg(feature = "auto-uprobe")]
fn uprobe_section_on_libc_by_name_counts_exactly() {
    if !common::root_or_skip("uprobe_section_on_libc_by_name_counts_exactly") {
        return;
    }
    let mut obj = load();
    let (child, stdin, _tid) = spawn_child();
    obj.map("target")
        .unwrap()
        .set(&0u32, &child.id(), 0)
        .unwrap();
    // Section attach: every process, filtered by tgid in the program.
    let link = obj.attach("on_getpid_section").unwrap();
    assert!(
        link.description().contains("libc.so.6"),
        "{}",
        link.description()
    );
    obj.attach("on_getpid_ver").unwrap();
    run_child(child, stdin, 7);
    assert_eq!(hits(&obj, SECTION), 7);
    assert_eq!(hits(&obj, VERSIONED), 7);
}

#[test]
fn uprobe_api_on_libc_by_name_for_one_thread() {
    if !common::root_or_skip("uprobe_api_on_libc_by_name_for_one_thread") {
        return;
    }
    let obj = load();
    let (child, stdin, tid) = spawn_child();
    let p = obj.program("on_getpid_api").unwrap();
    // No filter in the program: the perf event is the child thread's only.
    let _link = p
        .attach_uprobe_symbol(
            "libc.so.6",
            "getpid",
            0,
            UprobeOpts::default().pid(Pid::Of(tid)),
        )
        .unwrap();
    run_child(child, stdin, 11);
    assert_eq!(hits(&obj, API), 11);
}

#[test]
fn uprobe_on_unknown_library_or_symbol_says_what_was_searched() {
    if !common::root_or_skip("uprobe_on_unknown_library_or_symbol_says_what_was_searched") {
        return;
    }
    let obj = load();
    let p = obj.program("on_getpid_api").unwrap();
    match p.attach_uprobe_symbol("libtinybpf-nope.so.3", "f", 0, UprobeOpts::default()) {
        Err(Error::Attach { target, reason, .. }) => {
            assert_eq!(target, "libtinybpf-nope.so.3:f");
            assert!(reason.to_string().contains("/etc/ld.so.cache"), "{reason}");
            assert!(
                reason.to_string().contains("/usr/lib/x86_64-linux-gnu"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    match p.attach_uprobe_symbol("libc.so.6", "getpid@GLIBC_0.0", 0, UprobeOpts::default()) {
        Err(Error::Attach { reason, .. }) => {
            assert!(
                reason.to_string().contains("no symbol getpid@GLIBC_0.0"),
                "{reason}"
            );
            assert!(reason.to_string().contains("getpid@@GLIBC_"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// Entry point of the child process above; does nothing (and checks
/// nothing) unless `TINYBPF_UPROBE_CHILD` is set.
#[test]
fn child_entry_point() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    println!("READY {}", nix::unistd::gettid());
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let n: u32 = line.trim().parse().unwrap();
    for _ in 0..n {
        // nix's getpid is libc's getpid().
        std::hint::black_box(nix::unistd::getpid());
    }
}
