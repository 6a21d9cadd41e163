//! Multi-target probe links on the real kernel: `uprobe.multi` by section
//! (a glob over libc's symbols, and a uretprobe on one name) and through
//! `Program::attach_uprobe_multi` with explicit offsets and cookies, each
//! counting exactly the calls of one child thread; `kprobe.multi` attaches
//! where the kernel has fprobes and says clearly why not elsewhere.
//!
//! The child is this test binary re-executed with `TINYBPF_MULTI_CHILD`
//! set, selecting `child_entry_point`: it prints `READY <tid>`, reads
//! `A B` on stdin, calls libc's `getpid` A times and `getppid` B times.

mod common;

use std::io::Write;
use std::process::{Child, ChildStdin, Command};
use tinybpf::{Error, KprobeMultiOpts, Object, UprobeMultiOpts};

const CHILD_ENV: &str = "TINYBPF_MULTI_CHILD";

fn load() -> Object {
    common::load("multi.bpf.o")
}

fn hits(obj: &Object, slot: u32) -> u64 {
    common::counter(obj, "hits", slot)
}

/// A child waiting to call getpid/getppid: (process, its stdin, its tid).
fn spawn_child() -> (Child, ChildStdin, u32) {
    let (child, stdin, tid, _drain) = common::spawn_ready(CHILD_ENV, "1", "READY ");
    (child, stdin, tid.parse().unwrap())
}

fn run_child(mut child: Child, mut stdin: ChildStdin, getpid: u32, getppid: u32) {
    writeln!(stdin, "{getpid} {getppid}").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
#[cfg(feature = "auto-uprobe")]
fn uprobe_multi_sections_count_exactly() {
    if !common::root_or_skip("uprobe_multi_sections_count_exactly") {
        return;
    }
    let obj = load();
    let (child, stdin, tid) = spawn_child();
    obj.map("target").unwrap().set(&0u32, &tid, 0).unwrap();
    let glob = obj.program("on_getp_glob").unwrap().attach().unwrap();
    assert!(
        glob.description()
            .contains("uprobe.multi libc.so.6:getp*id"),
        "{}",
        glob.description()
    );
    let _ret = obj.program("on_getppid_ret").unwrap().attach().unwrap();
    run_child(child, stdin, 5, 3);
    // getp*id covers getpid and getppid (and getpgid, not called).
    assert_eq!(hits(&obj, 0), 8);
    assert_eq!(hits(&obj, 1), 3);
}

#[test]
fn uprobe_multi_api_offsets_and_cookies() {
    if !common::root_or_skip("uprobe_multi_api_offsets_and_cookies") {
        return;
    }
    let obj = load();
    let (child, stdin, tid) = spawn_child();
    obj.map("target").unwrap().set(&0u32, &tid, 0).unwrap();
    let libc = tinybpf::uprobe::resolve_binary("libc.so.6", None).unwrap();
    let offsets = ["getpid", "getppid"]
        .map(|s| tinybpf::uprobe::symbol_offset(&libc, s).unwrap())
        .to_vec();
    let p = obj.program("on_api").unwrap();
    let _link = p
        .attach_uprobe_multi(&UprobeMultiOpts {
            binary: libc.display().to_string(),
            offsets,
            cookies: vec![1, 1000],
            pid: child.id(),
            ..Default::default()
        })
        .unwrap();
    run_child(child, stdin, 4, 2);
    assert_eq!(hits(&obj, 2), 4 + 2000);
}

#[test]
fn uprobe_multi_bad_input_is_a_clear_error() {
    if !common::root_or_skip("uprobe_multi_bad_input_is_a_clear_error") {
        return;
    }
    let obj = load();
    let p = obj.program("on_api").unwrap();
    let opts = UprobeMultiOpts {
        binary: "libc.so.6".into(),
        pattern: "tinybpf_no_such_fn_*".into(),
        ..Default::default()
    };
    match p.attach_uprobe_multi(&opts) {
        Err(Error::Attach { reason, .. }) => {
            assert!(
                matches!(&reason, tinybpf::error::AttachError::NoMatch { pattern, .. } if pattern == "tinybpf_no_such_fn_*"),
                "{reason:?}"
            );
            let reason = reason.to_string();
            assert!(reason.contains("no function of"), "{reason}");
            assert!(reason.contains("tinybpf_no_such_fn_*"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let cookies = UprobeMultiOpts {
        pattern: "getp*id".into(),
        cookies: vec![1],
        ..opts.clone()
    };
    match p.attach_uprobe_multi(&cookies) {
        Err(Error::Attach { reason, .. }) => {
            let reason = reason.to_string();
            assert!(reason.contains("cookies"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // A program loaded for another attach type.
    let k = obj.program("on_vfs_kmulti").unwrap();
    match k.attach_uprobe_multi(&UprobeMultiOpts {
        pattern: "getpid".into(),
        ..opts
    }) {
        Err(Error::Attach { reason, .. }) => {
            let reason = reason.to_string();
            assert!(reason.contains("not loaded for uprobe.multi"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

/// Whether the running kernel was built with fprobes (kprobe.multi).
fn kernel_has_fprobe() -> Option<bool> {
    let out = Command::new("sh")
        .args([
            "-c",
            "zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r)",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.is_empty() {
        return None;
    }
    Some(text.lines().any(|l| l == "CONFIG_FPROBE=y"))
}

#[test]
fn kprobe_multi_attaches_or_says_why_not() {
    if !common::root_or_skip("kprobe_multi_attaches_or_says_why_not") {
        return;
    }
    let obj = load();
    let p = obj.program("on_vfs_kmulti").unwrap();
    match (p.attach(), kernel_has_fprobe()) {
        (Ok(link), fprobe) => {
            assert_ne!(fprobe, Some(false), "attached without CONFIG_FPROBE?");
            for _ in 0..3 {
                std::fs::read("/proc/self/stat").unwrap();
            }
            assert!(hits(&obj, 3) >= 3, "{}", hits(&obj, 3));
            drop(link);
        }
        (Err(Error::Attach { target, reason, .. }), fprobe) => {
            let reason = reason.to_string();
            assert_ne!(fprobe, Some(true), "{reason}");
            assert_eq!(target, "kprobe.multi vfs_read");
            assert!(
                reason.contains("kprobes are not available in this kernel (CONFIG_KPROBES"),
                "{reason}"
            );
        }
        (other, _) => panic!("{other:?}"),
    }
    // A glob that matches nothing is refused before the kernel is asked
    // (where tracefs is readable).
    match p.attach_kprobe_multi(&KprobeMultiOpts {
        pattern: "tinybpf_no_such_kfn_*".into(),
        ..Default::default()
    }) {
        Err(Error::Attach { reason, .. }) => assert!(
            reason
                .to_string()
                .contains("no traceable kernel function matches")
                || reason.to_string().contains("tracefs"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}

/// Entry point of the child process above; does nothing unless
/// `TINYBPF_MULTI_CHILD` is set.
#[test]
fn child_entry_point() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    println!("READY {}", nix::unistd::gettid());
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let mut it = line.split_whitespace().map(|n| n.parse::<u32>().unwrap());
    let (a, b) = (it.next().unwrap(), it.next().unwrap());
    for _ in 0..a {
        std::hint::black_box(nix::unistd::getpid());
    }
    for _ in 0..b {
        std::hint::black_box(nix::unistd::getppid());
    }
}
