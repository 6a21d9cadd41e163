//! Netfilter links, sk_lookup (netns link) and sk_msg (sockmap) on the real
//! kernel, inside a throwaway network namespace pair (tests/common/netns.rs).

mod common;
#[path = "common/netns.rs"]
mod netns;

use netns::{NetnsPair, PINGS};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;
use tinybpf::net::{NetfilterHook, NfHook, NfProto};
use tinybpf::Object;

fn load() -> Object {
    common::load("net.bpf.o")
}

fn count(obj: &Object, slot: u32) -> u64 {
    common::counter(obj, "counts", slot)
}

#[test]
fn netfilter_link_drops_local_in_of_its_namespace() {
    if !common::root_or_skip("netfilter_link_drops_local_in_of_its_namespace") {
        return;
    }
    let obj = load();
    let pair = NetnsPair::new("nf");
    assert!(pair.ping(), "baseline");
    let prog = obj.program("nf_drop").unwrap();
    let link = prog
        .attach_netfilter(NetfilterHook {
            pf: NfProto::Ipv4,
            hook: NfHook::LocalIn,
            priority: -128,
            defrag: false,
        })
        .unwrap();
    assert!(link.info().unwrap().is_some());
    assert!(!pair.ping(), "ping passed the netfilter drop");
    assert_eq!(count(&obj, 8), PINGS);
    common::detach_link(link);
    assert!(pair.ping(), "ping after detach");
    assert_eq!(count(&obj, 8), PINGS);
}

#[test]
fn sk_lookup_steers_datagrams_to_the_socket_in_the_map() {
    if !common::root_or_skip("sk_lookup_steers_datagrams_to_the_socket_in_the_map") {
        return;
    }
    let obj = load();
    let _pair = NetnsPair::new("skl");
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    obj.map("steer_to")
        .unwrap()
        .set(&0u32, &(rx.as_raw_fd() as u64), 0)
        .unwrap();
    let mut buf = [0u8; 8];
    tx.send_to(b"before", "127.0.0.1:7007").unwrap();
    assert!(rx.recv(&mut buf).is_err(), "steered without the program");
    let prog = obj.program("steer").unwrap();
    let link = prog.attach_netns_current().unwrap();
    for _ in 0..PINGS {
        tx.send_to(b"steered", "127.0.0.1:7007").unwrap();
        let n = rx.recv(&mut buf).expect("datagram for 7007 not steered");
        assert_eq!(&buf[..n], b"steered");
    }
    assert_eq!(count(&obj, 9), PINGS);
    common::detach_link(link);
    tx.send_to(b"after", "127.0.0.1:7007").unwrap();
    assert!(rx.recv(&mut buf).is_err(), "steered after detach");
    assert_eq!(count(&obj, 9), PINGS);
}

#[test]
fn sk_msg_runs_on_sends_of_sockets_in_the_map() {
    if !common::root_or_skip("sk_msg_runs_on_sends_of_sockets_in_the_map") {
        return;
    }
    let obj = load();
    let _pair = NetnsPair::new("skmsg");
    let prog = obj.program("msg_count").unwrap();
    let map = obj.map("msg_socks").unwrap();
    let link = prog.attach_sockmap(map).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    map.set(&0u32, &(client.as_raw_fd() as u64), 0).unwrap();
    for _ in 0..PINGS {
        client.write_all(b"abc").unwrap();
        let mut buf = [0u8; 3];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"abc");
    }
    assert_eq!(count(&obj, 10), PINGS);
    map.remove(&0u32).unwrap();
    common::detach_link(link);
    // A socket added after detach runs no program.
    map.set(&0u32, &(client.as_raw_fd() as u64), 0).unwrap();
    client.write_all(b"xyz").unwrap();
    let mut buf = [0u8; 3];
    server.read_exact(&mut buf).unwrap();
    assert_eq!(count(&obj, 10), PINGS);
}

#[test]
fn attach_net_says_what_is_missing() {
    if !common::root_or_skip("attach_net_says_what_is_missing") {
        return;
    }
    let obj = load();
    let none = tinybpf::net::NetTarget::default();
    let e = obj
        .program("xdp_drop_icmp")
        .unwrap()
        .attach_net(&none)
        .unwrap_err();
    assert!(
        e.to_string().contains("an interface (--iface) not given"),
        "{e}"
    );
    let e = obj
        .program("cg_sock_deny")
        .unwrap()
        .attach_net(&none)
        .unwrap_err();
    assert!(e.to_string().contains("cgroup directory"), "{e}");
    let e = obj.program("steer").unwrap().attach_net(&none).unwrap_err();
    assert!(
        e.to_string().contains("not an xdp, tc or cgroup program"),
        "{e}"
    );
    assert_eq!(
        obj.program("tc_legacy").unwrap().net_hook(),
        Some(tinybpf::net::NetHook::Tc)
    );
}
