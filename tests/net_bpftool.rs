//! bpftool sees what tinybpf attached while it is attached, and nothing
//! after the link is dropped: `bpftool net list dev vb` (run in the test's
//! network namespace with `ip netns exec`) for XDP, tcx (bpftool 7.3+;
//! `bpftool link show id` on every version) and clsact, and
//! `bpftool cgroup tree DIR` for a cgroup program (link and
//! `BPF_PROG_ATTACH`). Only ids of programs this test loaded are looked for.

mod common;
#[path = "common/netns.rs"]
mod netns;

use netns::{NetnsPair, TestCgroup};
use std::process::Command;
use tinybpf::net::{TcDirection, TcOptions, TcxAnchor, XdpMode};
use tinybpf::{Link, Object};

fn load() -> Object {
    common::load("net.bpf.o")
}

/// Program ids bpftool prints (after `id` or `prog_id`) on lines that
/// start with `dev(`.
fn ids_on(text: &str, dev: &str) -> Vec<u32> {
    let mut ids = Vec::new();
    for line in text.lines().filter(|l| l.starts_with(&format!("{dev}("))) {
        let toks: Vec<&str> = line.split_whitespace().collect();
        for w in toks.windows(2) {
            if w[0] == "id" || w[0] == "prog_id" {
                if let Ok(id) = w[1].parse() {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

fn bpftool_net(pair: &NetnsPair) -> String {
    let out = pair.in_b(&["bpftool", "net", "list", "dev", "vb"]);
    // A bpftool that printed nothing (missing, failed) must not pass as "absent".
    assert!(
        out.contains("xdp:") && out.contains("tc:"),
        "bpftool net list: {out:?}"
    );
    out
}

fn net_case(pair: &NetnsPair, what: &str, id: u32, name: Option<&str>, link: Link) {
    let out = bpftool_net(pair);
    assert!(
        ids_on(&out, "vb").contains(&id),
        "{what}: program {id} not in bpftool net list:\n{out}"
    );
    if let Some(name) = name {
        assert!(out.contains(name), "{what}: {name} not listed:\n{out}");
    }
    common::detach_link(link);
    let out = bpftool_net(pair);
    assert!(
        !ids_on(&out, "vb").contains(&id),
        "{what}: program {id} still listed after drop:\n{out}"
    );
}

#[test]
fn bpftool_net_list_shows_xdp_tcx_and_tc_while_attached() {
    if !common::root_or_skip("bpftool_net_list_shows_xdp_tcx_and_tc_while_attached") {
        return;
    }
    let obj = load();
    let pair = NetnsPair::new("bpftool");
    let xdp = obj.program("xdp_drop_icmp").unwrap();
    let id = xdp.id().unwrap();
    for (mode, netlink) in [(XdpMode::Generic, false), (XdpMode::Native, true)] {
        let link = if netlink {
            xdp.attach_xdp_netlink(pair.vb(), mode).unwrap()
        } else {
            xdp.attach_xdp(pair.vb(), mode).unwrap()
        };
        let out = bpftool_net(&pair);
        let want = if mode == XdpMode::Generic {
            "generic"
        } else {
            "driver"
        };
        assert!(out.contains(&format!("{want} id {id}")), "{mode:?}:\n{out}");
        net_case(&pair, &format!("xdp {mode:?}"), id, None, link);
    }
    let tcx = obj.program("tc_ingress").unwrap();
    let link = tcx
        .attach_tcx(pair.vb(), TcDirection::Ingress, TcxAnchor::None)
        .unwrap();
    // bpftool lists tcx in `net list` from v7.3 (Linux 6.6) on; every
    // version shows the link (7.1: "ID: type 11  prog PROG_ID").
    let prog_id = tcx.id().unwrap();
    let link_id = link.info().unwrap().unwrap().id;
    let show = bpftool_link_show(link_id);
    assert!(
        show.starts_with(&format!("{link_id}: ")) && show.contains(&format!("prog {prog_id}")),
        "tcx link {link_id}: {show}"
    );
    if bpftool_lists_tcx() {
        net_case(&pair, "tcx", prog_id, Some("tc_ingress"), link);
    } else {
        common::detach_link(link);
    }
    let show = bpftool_link_show(link_id);
    assert!(
        !show.contains(&format!("prog {prog_id}")),
        "tcx link {link_id} still there after drop: {show}"
    );
    let tc = obj.program("tc_legacy").unwrap();
    let link = tc
        .attach_tc(pair.vb(), TcDirection::Ingress, TcOptions::default())
        .unwrap();
    net_case(&pair, "clsact", tc.id().unwrap(), Some("tc_legacy"), link);
}

fn bpftool_link_show(id: u32) -> String {
    let o = Command::new("bpftool")
        .args(["link", "show", "id", &id.to_string()])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Whether `bpftool net list` knows tcx (bpftool 7.3 and later).
fn bpftool_lists_tcx() -> bool {
    let o = Command::new("bpftool").arg("version").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let v = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix('v'))
        .unwrap_or_else(|| panic!("bpftool version: {text}"));
    let mut n = v.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
    (n.next().unwrap_or(0), n.next().unwrap_or(0)) >= (7, 3)
}

/// `bpftool cgroup tree DIR`: lines of `ID ATTACH_TYPE [FLAGS] NAME`; the
/// (id, name) pairs.
fn cgroup_tree(dir: &std::path::Path) -> (Vec<(u32, String)>, String) {
    let o = Command::new("bpftool")
        .args(["cgroup", "tree"])
        .arg(dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success() && out.contains("AttachType"), "{o:?}");
    let progs = out
        .lines()
        .filter_map(|l| {
            let toks: Vec<&str> = l.split_whitespace().collect();
            Some((toks.first()?.parse().ok()?, toks.last()?.to_string()))
        })
        .collect();
    (progs, out)
}

#[test]
fn bpftool_cgroup_tree_shows_the_cgroup_program_while_attached() {
    if !common::root_or_skip("bpftool_cgroup_tree_shows_the_cgroup_program_while_attached") {
        return;
    }
    let obj = load();
    let cg = TestCgroup::new("bpftool");
    let prog = obj.program("cg_skb_drop").unwrap();
    let id = prog.id().unwrap();
    let entry = (id, "cg_skb_drop".to_string());
    for legacy in [false, true] {
        let (before, out) = cgroup_tree(&cg.dir);
        assert!(
            before.is_empty(),
            "legacy {legacy}: not empty before:\n{out}"
        );
        let link = if legacy {
            prog.attach_cgroup_legacy(&cg.dir).unwrap()
        } else {
            prog.attach_cgroup(&cg.dir).unwrap()
        };
        let (progs, out) = cgroup_tree(&cg.dir);
        assert_eq!(progs, vec![entry.clone()], "legacy {legacy}:\n{out}");
        assert!(out.contains("cgroup_inet_egress"), "{out}");
        common::detach_link(link);
        let (after, out) = cgroup_tree(&cg.dir);
        assert!(after.is_empty(), "legacy {legacy}: left attached:\n{out}");
    }
}
