//! Networking failures on the real kernel keep their typed cause: the
//! rtnetlink error (errno, extended ack) of a legacy tc or netlink XDP
//! attach, of the XDP and tc queries, and of a detach. Everything happens
//! inside a pair of network namespaces this test creates (see
//! tests/common/netns.rs), deleted again by a drop guard.

mod common;
#[path = "common/netns.rs"]
mod netns;

use netns::NetnsPair;
use nix::errno::Errno;
use std::error::Error as _;
use tinybpf::error::{AttachError, RtnlError};
use tinybpf::net::{self, TcDirection, TcOptions, XdpMode};
use tinybpf::Error;

/// An index no interface of a fresh namespace has.
const NO_IF: u32 = 999_999;

/// The netlink step and kernel errno of an attach error, checking that
/// `source()` leads from the `Error` to the `AttachError` to the
/// `RtnlError`.
fn netlink_failure(e: &Error) -> (&'static str, i32) {
    let Error::Attach {
        reason: AttachError::Netlink { step, source },
        ..
    } = e
    else {
        panic!("expected AttachError::Netlink, got {e:?}");
    };
    let reason = e.source().expect("Error::Attach has a source");
    assert!(reason.is::<AttachError>(), "{reason:?}");
    let rtnl = reason.source().expect("AttachError::Netlink has a source");
    assert_eq!(rtnl.downcast_ref::<RtnlError>(), Some(source));
    let errno = source.errno().expect("the kernel's errno");
    assert_eq!(e.errno(), Some(Errno::from_raw(errno)), "{e}");
    (step, errno)
}

#[test]
fn netlink_failures_keep_the_kernels_error() {
    if !common::root_or_skip("netlink_failures_keep_the_kernels_error") {
        return;
    }
    let obj = common::load("net.bpf.o");
    let pair = NetnsPair::new("nlerr");

    // Legacy tc on an interface that does not exist: the qdisc request fails.
    let tc = obj.program("tc_legacy").unwrap();
    let e = tc
        .attach_tc(NO_IF, TcDirection::Ingress, TcOptions::default())
        .unwrap_err();
    assert_eq!(
        netlink_failure(&e),
        ("add clsact qdisc", libc::ENODEV),
        "{e}"
    );
    assert!(e.to_string().contains("add clsact qdisc: "), "{e}");

    // The same filter twice: the kernel's extended ack is kept.
    let link = tc
        .attach_tc(pair.vb(), TcDirection::Ingress, TcOptions::default())
        .unwrap();
    let e = tc
        .attach_tc(pair.vb(), TcDirection::Ingress, TcOptions::default())
        .unwrap_err();
    assert_eq!(
        netlink_failure(&e),
        ("add cls_bpf filter", libc::EEXIST),
        "{e}"
    );
    let Error::Attach {
        reason: AttachError::Netlink { source, .. },
        ..
    } = &e
    else {
        unreachable!()
    };
    assert!(
        matches!(source, RtnlError::Netlink(tinybpf::netlink::msg::NetlinkError::Kernel { message: Some(m), .. }) if m.contains("already exists")),
        "{source:?}"
    );

    // A detach whose filter is gone: Error::Detach with the netlink cause.
    let out = pair.in_b(&["tc", "filter", "del", "dev", "vb", "ingress"]);
    assert!(
        net::tc_filters(pair.vb(), TcDirection::Ingress)
            .unwrap()
            .is_empty(),
        "tc filter del left the filter: {out}"
    );
    let e = link.force_detach().unwrap_err();
    match &e {
        Error::Detach {
            reason: AttachError::Netlink { step, source },
            ..
        } => {
            assert_eq!(*step, "RTM_DELTFILTER");
            assert_eq!(source.errno(), Some(libc::ENOENT), "{e}");
            let reason = e.source().unwrap();
            assert_eq!(
                reason.source().unwrap().downcast_ref::<RtnlError>(),
                Some(source)
            );
        }
        other => panic!("expected Error::Detach, got {other:?}"),
    }
    assert!(e.to_string().starts_with("detach tc_legacy → "), "{e}");
    assert_eq!(e.errno(), Some(Errno::ENOENT));
    drop(link);

    // XDP over netlink twice on one interface: refused (EBUSY), typed.
    let xdp = obj.program("xdp_drop_icmp").unwrap();
    let first = xdp.attach_xdp_netlink(pair.vb(), XdpMode::Generic).unwrap();
    let e = xdp
        .attach_xdp_netlink(pair.vb(), XdpMode::Generic)
        .unwrap_err();
    assert_eq!(netlink_failure(&e), ("IFLA_XDP", libc::EBUSY), "{e}");
    common::detach_link(first);
    assert!(!net::xdp_query(pair.vb()).unwrap().has(xdp.id().unwrap()));
    let e = xdp.attach_xdp_netlink(NO_IF, XdpMode::Generic).unwrap_err();
    assert_eq!(netlink_failure(&e), ("IFLA_XDP", libc::ENODEV), "{e}");

    // The XDP query: Error::Netlink, with the RtnlError as source. (A tc
    // filter dump of a missing interface is empty, not an error: the
    // kernel answers it so.)
    let e = net::xdp_query(NO_IF).unwrap_err();
    let Error::Netlink { what, source } = &e else {
        panic!("expected Error::Netlink, got {e:?}");
    };
    assert!(what.contains("999999"), "{e}");
    assert_eq!(source.errno(), Some(libc::ENODEV), "{e}");
    assert_eq!(
        e.source().unwrap().downcast_ref::<RtnlError>(),
        Some(source)
    );
    assert_eq!(e.errno(), Some(Errno::ENODEV));
    drop(pair);
}

#[test]
fn missing_net_targets_are_typed() {
    if !common::root_or_skip("missing_net_targets_are_typed") {
        return;
    }
    let obj = common::load("net.bpf.o");
    let e = obj
        .program("xdp_drop_icmp")
        .unwrap()
        .attach_net(&net::NetTarget::default())
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Attach {
                reason: AttachError::NotGiven("an interface (--iface)"),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().ends_with("an interface (--iface) not given"),
        "{e}"
    );
    // A cgroup directory that does not exist: the io::Error and its step.
    let e = obj
        .program("cg_sock_deny")
        .unwrap()
        .attach_cgroup("/sys/fs/cgroup/tinybpf-no-such-cgroup")
        .unwrap_err();
    match &e {
        Error::Attach {
            reason:
                AttachError::Io {
                    step: Some(step),
                    source,
                },
            ..
        } => {
            assert_eq!(*step, "open the cgroup directory");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected AttachError::Io, got {other:?}"),
    }
    assert_eq!(e.errno(), Some(Errno::ENOENT));
}
