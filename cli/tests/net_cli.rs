//! `tinybpf load --iface/--xdp-mode/--cgroup` inside a throwaway network
//! namespace pair and cgroup (see tests/common/netns.rs).

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/netns.rs"]
mod netns;

use netns::{NetnsPair, TestCgroup};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Start `tinybpf load ARGS --duration 5` (in the test thread's netns B),
/// wait for its link table, run `during`, then wait for it to exit; its
/// stdout and success.
fn load_and(args: &[&str], during: impl FnOnce()) -> (String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinybpf"))
        .arg("load")
        .arg(common::obj("net.bpf.o"))
        .args(args)
        .args(["--duration", "5"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tinybpf");
    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut attached = false;
    for l in lines.by_ref() {
        let l = l.unwrap();
        out.push_str(&l);
        out.push('\n');
        if l.starts_with("links:") {
            // The table follows; the links exist once it is printed.
            attached = true;
        }
        if attached && l.contains('→') {
            break;
        }
    }
    if attached {
        during();
    }
    for l in lines {
        out.push_str(&l.unwrap());
        out.push('\n');
    }
    let o = child.wait_with_output().unwrap();
    out.push_str(&String::from_utf8_lossy(&o.stderr));
    (out, o.status.success() && attached)
}

#[test]
fn load_attaches_xdp_to_the_named_interface() {
    if !common::root_or_skip("load_attaches_xdp_to_the_named_interface") {
        return;
    }
    let pair = NetnsPair::new("cli");
    let mut blocked = None;
    let (out, ok) = load_and(
        &[
            "--program",
            "xdp_drop_icmp",
            "--iface",
            "vb",
            "--xdp-mode",
            "generic",
        ],
        || blocked = Some(!pair.ping()),
    );
    assert!(ok, "{out}");
    assert!(out.contains("XDP (Generic mode)"), "{out}");
    assert_eq!(
        blocked,
        Some(true),
        "ping passed while XDP was attached:\n{out}"
    );
    assert!(pair.ping(), "ping fails after tinybpf exited:\n{out}");
}

#[test]
fn load_attaches_tc_and_cgroup_programs() {
    if !common::root_or_skip("load_attaches_tc_and_cgroup_programs") {
        return;
    }
    let pair = NetnsPair::new("clitc");
    let cg = TestCgroup::new("cli");
    let cgdir = cg.dir.to_str().unwrap().to_string();
    let mut during = None;
    let (out, ok) = load_and(
        &[
            "--program",
            "tc_ingress",
            "--program",
            "cg_sock_deny",
            "--iface",
            "vb",
            "--cgroup",
            &cgdir,
        ],
        || {
            let (sock_ok, err) =
                cg.run(Command::new("ping").args(["-c", "1", "-W", "1", "192.0.2.1"]));
            during = Some((pair.ping(), sock_ok, err));
        },
    );
    assert!(ok, "{out}");
    assert!(out.contains("tcx Ingress"), "{out}");
    let (ping_ok, sock_ok, err) = during.unwrap();
    assert!(ping_ok, "tc_ingress passes packets:\n{out}");
    assert!(!sock_ok && err.contains("not permitted"), "{err}\n{out}");
    // Without --iface/--cgroup the programs are listed, not attached.
    let o = Command::new(env!("CARGO_BIN_EXE_tinybpf"))
        .arg("load")
        .arg(common::obj("net.bpf.o"))
        .args(["--program", "tc_ingress", "--duration", "0"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("links: none"), "{out}");
    assert!(
        out.contains("with --iface IFNAME") && out.contains("tc_ingress"),
        "{out}"
    );
}

#[test]
fn bad_xdp_mode_and_interface_are_usage_errors() {
    let o = Command::new(env!("CARGO_BIN_EXE_tinybpf"))
        .arg("load")
        .arg(common::obj("net.bpf.o"))
        .args(["--xdp-mode", "turbo"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("generic, native or offload"), "{err}");
}
