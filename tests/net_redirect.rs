//! Redirection on the real kernel, inside network namespaces this test
//! creates (tests/common/netns.rs) and a throwaway cgroup: a
//! `cgroup/connect4` program rewriting the destination port (link and
//! `BPF_PROG_ATTACH`), and a tcx program `bpf_redirect()`ing pings to
//! another interface. Traffic: `ping -c 3` from A to B and a few TCP
//! connections inside B.

mod common;
#[path = "common/netns.rs"]
mod netns;

use netns::{NetnsPair, TestCgroup, PINGS};
use std::process::Command;
use tinybpf::net::{self, TcDirection, TcxAnchor};
use tinybpf::OpenObject;

const DST: &str = "10.201.0.1";
const PORT_A: u16 = 7070;
const PORT_B: u16 = 7171;

#[test]
fn cgroup_connect4_rewrites_the_destination_port() {
    if !common::root_or_skip("cgroup_connect4_rewrites_the_destination_port") {
        return;
    }
    let pair = NetnsPair::new("c4");
    pair.in_b(&["ip", "addr", "add", &format!("{DST}/32"), "dev", "lo"]);
    let cg = TestCgroup::new("c4");
    let mut open = OpenObject::open(common::obj("cgroup_connect.bpf.o")).unwrap();
    open.set_global_value("from_port", &PORT_A).unwrap();
    open.set_global_value("to_port", &PORT_B).unwrap();
    // A value of the wrong size is refused before load.
    let e = open.set_global_value("to_port", &1u32).unwrap_err();
    assert!(e.to_string().contains("to_port"), "{e}");
    let obj = open.load().unwrap();
    let prog = obj.program("redirect_port").unwrap();
    let server = netns::TcpServer::start(&format!("{DST}:{PORT_B}"));
    let mut expected = 0;
    for legacy in [false, true] {
        let link = if legacy {
            prog.attach_cgroup_legacy(&cg.dir).unwrap()
        } else {
            prog.attach_cgroup(&cg.dir).unwrap()
        };
        assert_eq!(link.info().unwrap().is_some(), !legacy);
        let msg = format!("legacy-{legacy}");
        let (ok, err) = cg.run(&mut netns::tcp_client(DST, PORT_A, &msg));
        assert!(ok, "client in the cgroup (legacy {legacy}): {err}");
        assert_eq!(server.next(), Some(format!("{msg}\n")), "legacy {legacy}");
        expected += 1;
        assert_eq!(common::counter(&obj, "redirected", 0), expected);
        // Other ports are left alone: PORT_B directly still works.
        let (ok, err) = cg.run(&mut netns::tcp_client(DST, PORT_B, "direct"));
        assert!(ok, "direct to {PORT_B}: {err}");
        assert_eq!(server.next().as_deref(), Some("direct\n"));
        assert_eq!(common::counter(&obj, "redirected", 0), expected);
        // Outside the cgroup PORT_A is not rewritten: refused.
        let o = netns::tcp_client(DST, PORT_A, "outside").output().unwrap();
        assert!(!o.status.success(), "PORT_A answered outside the cgroup");
        common::detach_link(link);
        let (ok, err) = cg.run(&mut netns::tcp_client(DST, PORT_A, "after"));
        assert!(!ok && err.contains("refused"), "after detach: {ok} {err}");
        assert_eq!(common::counter(&obj, "redirected", 0), expected);
    }
}

#[test]
fn tcx_redirect_moves_pings_to_another_interface() {
    if !common::root_or_skip("tcx_redirect_moves_pings_to_another_interface") {
        return;
    }
    let pair = NetnsPair::new("redir");
    // A second veth pair inside B: what vx sends arrives on vy.
    let o = Command::new("ip")
        .args(["link", "add", "vx", "type", "veth", "peer", "name", "vy"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    for dev in ["vx", "vy"] {
        assert!(Command::new("ip")
            .args(["link", "set", dev, "up"])
            .status()
            .unwrap()
            .success());
    }
    let vx = net::ifindex("vx").unwrap();
    let vy = net::ifindex("vy").unwrap();
    let mut open = OpenObject::open(common::obj("net_redirect.bpf.o")).unwrap();
    open.set_global_value("redirect_to", &vx).unwrap();
    let obj = open.load().unwrap();
    let arrive = obj
        .program("tcx_arrive")
        .unwrap()
        .attach_tcx(vy, TcDirection::Ingress, TcxAnchor::None)
        .unwrap();
    assert!(pair.ping(), "baseline ping");
    assert_eq!(
        common::counter(&obj, "counts", 1),
        0,
        "ICMP on vy before redirect"
    );
    let redirect = obj
        .program("tcx_redirect")
        .unwrap()
        .attach_tcx(pair.vb(), TcDirection::Ingress, TcxAnchor::None)
        .unwrap();
    assert!(!pair.ping(), "pings reached B despite the redirect");
    assert_eq!(common::counter(&obj, "counts", 0), PINGS, "redirected");
    assert_eq!(common::counter(&obj, "counts", 1), PINGS, "arrived on vy");
    common::detach_link(redirect);
    assert!(pair.ping(), "ping after the redirect was dropped");
    assert_eq!(common::counter(&obj, "counts", 0), PINGS);
    assert_eq!(
        common::counter(&obj, "counts", 1),
        PINGS,
        "vy got pings after drop"
    );
    common::detach_link(arrive);
    // vx/vy live in B, deleted with it.
}
