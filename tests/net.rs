//! Networking attach points on the real kernel, each inside a pair of
//! network namespaces this test creates (veth `va` in ns A, 192.0.2.1, and
//! `vb` in ns B, 192.0.2.2), deleted again by a drop guard. Traffic: a few
//! `ping -c 3` from A to B, nothing else.

mod common;
#[path = "common/netns.rs"]
mod netns;

use netns::{NetnsPair, TestCgroup, PINGS};
use std::process::Command;
use tinybpf::net::{self, TcDirection, TcOptions, TcxAnchor, TcxRef, XdpMode};
use tinybpf::Object;

fn load() -> Object {
    common::load("net.bpf.o")
}

fn count(obj: &Object, slot: u32) -> u64 {
    common::counter(obj, "counts", slot)
}

fn reset(obj: &Object) {
    let m = obj.map("counts").unwrap();
    for slot in 0..8u32 {
        m.set(&slot, &0u64, 0).unwrap();
    }
}

fn xdp_case(pair: &NetnsPair, obj: &Object, mode: XdpMode, netlink: bool) {
    reset(obj);
    let prog = obj.program("xdp_drop_icmp").unwrap();
    let id = prog.id().unwrap();
    assert!(pair.ping(), "baseline ping failed ({mode:?})");
    let link = if netlink {
        prog.attach_xdp_netlink(pair.vb(), mode).unwrap()
    } else {
        prog.attach_xdp(pair.vb(), mode).unwrap()
    };
    // A BPF link, or (netlink) an attachment without one that cannot be pinned.
    assert_eq!(link.info().unwrap().is_some(), !netlink, "{mode:?}");
    if netlink {
        let e = link.pin("/sys/fs/bpf/tinybpf-net-never").unwrap_err();
        assert!(e.to_string().contains("cannot be pinned"), "{e}");
    }
    let q = net::xdp_query(pair.vb()).unwrap();
    assert!(q.has(id), "{mode:?}: query {q:?} lacks program {id}");
    match mode {
        XdpMode::Generic => assert_eq!(q.skb_prog_id, id, "{q:?}"),
        XdpMode::Native => assert_eq!(q.drv_prog_id, id, "{q:?}"),
        _ => {}
    }
    assert!(!pair.ping(), "ping got through the XDP drop ({mode:?})");
    assert_eq!(count(obj, 0), PINGS, "{mode:?}: ICMP packets counted");
    // Dropping detaches (once no other process holds the link).
    common::drop_link(link);
    common::wait_for(&format!("{mode:?}: detached after drop"), 5, || {
        !net::xdp_query(pair.vb()).unwrap().has(id)
    });
    assert!(
        pair.ping(),
        "ping fails after the XDP link was dropped ({mode:?})"
    );
    assert_eq!(count(obj, 0), PINGS, "{mode:?}: counted after detach");
}

#[test]
fn xdp_drops_icmp_in_generic_and_native_mode() {
    if !common::root_or_skip("xdp_drops_icmp_in_generic_and_native_mode") {
        return;
    }
    let obj = load();
    let pair = NetnsPair::new("xdp");
    xdp_case(&pair, &obj, XdpMode::Generic, false);
    xdp_case(&pair, &obj, XdpMode::Native, false);
    // The rtnetlink path (what kernels before 5.9 get).
    xdp_case(&pair, &obj, XdpMode::Generic, true);
    xdp_case(&pair, &obj, XdpMode::Native, true);
}

#[test]
fn xdp_link_is_refused_for_a_missing_interface() {
    if !common::root_or_skip("xdp_link_is_refused_for_a_missing_interface") {
        return;
    }
    let obj = load();
    let pair = NetnsPair::new("xdpbad");
    let prog = obj.program("xdp_drop_icmp").unwrap();
    let e = prog.attach_xdp(999_999, XdpMode::Generic).unwrap_err();
    assert!(e.to_string().contains("999999"), "{e}");
    let e = net::ifindex("no-such-if").unwrap_err();
    assert!(e.to_string().contains("no-such-if"), "{e}");
    drop(pair);
}

#[test]
fn tcx_counts_both_directions_and_orders_programs() {
    if !common::root_or_skip("tcx_counts_both_directions_and_orders_programs") {
        return;
    }
    let obj = load();
    let pair = NetnsPair::new("tcx");
    let ing = obj.program("tc_ingress").unwrap();
    let eg = obj.program("tc_egress").unwrap();
    let first = obj.program("tcx_first").unwrap();
    let second = obj.program("tcx_second").unwrap();
    let l_in = ing
        .attach_tcx(pair.vb(), TcDirection::Ingress, TcxAnchor::None)
        .unwrap();
    let l_eg = eg
        .attach_tcx(pair.vb(), TcDirection::Egress, TcxAnchor::None)
        .unwrap();
    // `second` goes on first; `first` is then put before it, at the
    // revision the query reported (a stale one is refused).
    let l2 = second
        .attach_tcx(pair.vb(), TcDirection::Ingress, TcxAnchor::None)
        .unwrap();
    let q = net::tcx_query(pair.vb(), TcDirection::Ingress).unwrap();
    let ids = |p: &tinybpf::Program| p.id().unwrap();
    assert_eq!(q.prog_ids, vec![ids(ing), ids(second)], "{q:?}");
    let e = first
        .attach_tcx_at_revision(
            pair.vb(),
            TcDirection::Ingress,
            TcxAnchor::Before(TcxRef::Link(&l2)),
            q.revision + 7,
        )
        .unwrap_err();
    assert!(e.to_string().contains("ESTALE"), "{e}");
    let l1 = first
        .attach_tcx_at_revision(
            pair.vb(),
            TcDirection::Ingress,
            TcxAnchor::Before(TcxRef::Link(&l2)),
            q.revision,
        )
        .unwrap();
    let q2 = net::tcx_query(pair.vb(), TcDirection::Ingress).unwrap();
    assert_eq!(
        q2.prog_ids,
        vec![ids(ing), ids(first), ids(second)],
        "{q2:?}"
    );
    assert_eq!(q2.link_ids[1], l1.info().unwrap().unwrap().id);
    assert!(q2.revision > q.revision);
    assert!(pair.ping(), "tcx programs return TCX_NEXT: ping must work");
    assert_eq!(count(&obj, 1), PINGS, "ingress ICMP (echo requests)");
    assert_eq!(count(&obj, 2), PINGS, "egress ICMP (echo replies)");
    assert_eq!(count(&obj, 5), PINGS);
    assert_eq!(count(&obj, 6), PINGS);
    let order = obj.map("order").unwrap();
    let step = |slot: u32| order.get::<u32, u32>(&slot).unwrap().unwrap();
    assert_eq!(
        (step(1), step(2)),
        (1, 2),
        "tcx_first must run before tcx_second"
    );
    // An anchor on a program that is not attached is refused.
    let e = ing
        .attach_tcx(
            pair.vb(),
            TcDirection::Egress,
            TcxAnchor::After(TcxRef::Program(first)),
        )
        .unwrap_err();
    assert!(e.to_string().contains("tcx"), "{e}");
    for l in [l_in, l_eg, l1, l2] {
        common::drop_link(l);
    }
    // Dropping detaches (once no other process holds the links).
    common::wait_for("tcx programs detached after drop", 5, || {
        [TcDirection::Ingress, TcDirection::Egress]
            .iter()
            .all(|&d| net::tcx_query(pair.vb(), d).unwrap().prog_ids.is_empty())
    });
    reset(&obj);
    assert!(pair.ping());
    assert_eq!(count(&obj, 1) + count(&obj, 2) + count(&obj, 5), 0);
}

#[test]
fn legacy_tc_filter_counts_and_is_removed_on_drop() {
    if !common::root_or_skip("legacy_tc_filter_counts_and_is_removed_on_drop") {
        return;
    }
    let obj = load();
    let pair = NetnsPair::new("tc");
    let prog = obj.program("tc_legacy").unwrap();
    let id = prog.id().unwrap();
    let link = prog
        .attach_tc(pair.vb(), TcDirection::Ingress, TcOptions::default())
        .unwrap();
    let filters = net::tc_filters(pair.vb(), TcDirection::Ingress).unwrap();
    assert_eq!(filters.len(), 1, "{filters:?}");
    assert_eq!(filters[0].prog_id, id);
    assert_eq!((filters[0].priority, filters[0].handle), (1, 1));
    assert!(pair
        .in_b(&["tc", "qdisc", "show", "dev", "vb"])
        .contains("clsact"));
    // The same priority/handle again is refused with the kernel's reason.
    let e = prog
        .attach_tc(pair.vb(), TcDirection::Ingress, TcOptions::default())
        .unwrap_err();
    // The kernel's extended ack is part of the message.
    let msg = e.to_string();
    assert!(msg.contains("cls_bpf") && msg.contains("errno 17"), "{msg}");
    assert!(msg.contains("Filter already exists"), "{msg}");
    assert!(pair.ping());
    assert_eq!(count(&obj, 3), PINGS);
    common::detach_link(link);
    assert!(net::tc_filters(pair.vb(), TcDirection::Ingress)
        .unwrap()
        .is_empty());
    let q = pair.in_b(&["tc", "qdisc", "show", "dev", "vb"]);
    assert!(!q.contains("clsact"), "clsact left behind: {q}");
}

/// `ping -c 3` from B to A by a child in `cg` (the test thread is in B,
/// and children inherit it).
fn ping_from_cgroup(cg: &TestCgroup) -> (bool, String) {
    cg.run(
        Command::new("ping")
            .args(["-n", "-q", "-c"])
            .arg(PINGS.to_string())
            .args(["-i", "0.2", "-W", "1", "192.0.2.1"]),
    )
}

#[test]
fn cgroup_sock_create_denies_sockets_in_the_cgroup_only() {
    if !common::root_or_skip("cgroup_sock_create_denies_sockets_in_the_cgroup_only") {
        return;
    }
    let obj = load();
    let pair = NetnsPair::new("cgsock");
    let cg = TestCgroup::new("sock");
    let prog = obj.program("cg_sock_deny").unwrap();
    assert!(ping_from_cgroup(&cg).0, "baseline ping from the cgroup");
    for legacy in [false, true] {
        let link = if legacy {
            prog.attach_cgroup_legacy(&cg.dir).unwrap()
        } else {
            prog.attach_cgroup(&cg.dir).unwrap()
        };
        assert_eq!(link.info().unwrap().is_some(), !legacy);
        let (ok, err) = ping_from_cgroup(&cg);
        assert!(
            !ok,
            "ping made a socket in the denying cgroup (legacy {legacy})"
        );
        assert!(err.contains("not permitted"), "legacy {legacy}: {err}");
        // Outside the cgroup sockets still work.
        assert!(pair.ping(), "ping outside the cgroup (legacy {legacy})");
        common::detach_link(link);
        assert!(
            ping_from_cgroup(&cg).0,
            "ping after detach (legacy {legacy})"
        );
    }
}

#[test]
fn cgroup_skb_egress_drops_the_cgroups_packets() {
    if !common::root_or_skip("cgroup_skb_egress_drops_the_cgroups_packets") {
        return;
    }
    let obj = load();
    let _pair = NetnsPair::new("cgskb");
    let cg = TestCgroup::new("skb");
    let prog = obj.program("cg_skb_drop").unwrap();
    let link = prog.attach_cgroup(&cg.dir).unwrap();
    let (ok, err) = ping_from_cgroup(&cg);
    assert!(!ok, "ping got through the cgroup_skb drop: {err}");
    assert_eq!(count(&obj, 4), PINGS, "{err}");
    common::detach_link(link);
    assert!(ping_from_cgroup(&cg).0, "ping after detach");
    assert_eq!(count(&obj, 4), PINGS);
}

#[test]
fn socket_filter_drops_what_the_socket_would_receive() {
    if !common::root_or_skip("socket_filter_drops_what_the_socket_would_receive") {
        return;
    }
    let obj = load();
    // Loopback of netns B only.
    let _pair = NetnsPair::new("sock");
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_nonblocking(true).unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    let mut buf = [0u8; 16];
    let deliver = |buf: &mut [u8]| {
        tx.send_to(b"ping", to).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        rx.recv(buf).is_ok()
    };
    assert!(deliver(&mut buf), "baseline datagram");
    let prog = obj.program("sock_drop").unwrap();
    prog.attach_socket(&rx).unwrap();
    for _ in 0..PINGS {
        assert!(!deliver(&mut buf), "datagram passed the dropping filter");
    }
    assert_eq!(count(&obj, 7), PINGS);
    net::socket::detach_socket(&rx).unwrap();
    assert!(deliver(&mut buf), "datagram after detach");
    assert_eq!(count(&obj, 7), PINGS);
    // A program of another type is refused.
    let e = obj
        .program("xdp_drop_icmp")
        .unwrap()
        .attach_socket(&rx)
        .unwrap_err();
    assert!(e.to_string().contains("socket filter"), "{e}");
}
