//! struct_ops for real: bpf/tcp_cc.bpf.o (`.struct_ops.link`) and
//! bpf/tcp_cc_legacy.bpf.o (`.struct_ops`) register a BPF TCP congestion
//! control, a loopback connection in a private network namespace uses it,
//! its counters move, and dropping the link unregisters it. Needs root (CI
//! runs as root; nothing skips under CI=true).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use tinybpf::{Error, Object, OpenObject};

const AVAILABLE: &str = "/proc/sys/net/ipv4/tcp_available_congestion_control";

fn root() -> bool {
    let is_root = nix::unistd::geteuid().is_root();
    if !is_root && std::env::var_os("CI").is_none() {
        eprintln!("skipped: needs root");
    }
    assert!(
        is_root || std::env::var_os("CI").is_none(),
        "CI must run as root"
    );
    is_root
}

fn load(name: &str) -> Object {
    let path = format!("{}/bpf/{name}.bpf.o", env!("CARGO_MANIFEST_DIR"));
    OpenObject::open(&path).unwrap().load().unwrap()
}

fn registered(cc: &str) -> bool {
    std::fs::read_to_string(AVAILABLE)
        .unwrap()
        .split_whitespace()
        .any(|n| n == cc)
}

/// Move the calling thread into a new network namespace with lo up.
fn private_netns() {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
    // SAFETY: socket/ioctl on a zeroed ifreq we own.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        assert!(s >= 0);
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, c) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *c as libc::c_char;
        }
        assert_eq!(libc::ioctl(s, libc::SIOCGIFFLAGS, &mut ifr), 0);
        ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        assert_eq!(libc::ioctl(s, libc::SIOCSIFFLAGS, &ifr), 0);
        libc::close(s);
    }
}

/// A loopback connection using congestion control `cc`, 4 MiB sent;
/// returns the socket's congestion control as read back.
fn traffic(cc: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut v = Vec::new();
        s.read_to_end(&mut v).unwrap();
        v.len()
    });
    let mut c = TcpStream::connect(addr).unwrap();
    let fd = c.as_raw_fd();
    let mut buf = [0u8; 16];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: buffers of the lengths given.
    unsafe {
        let r = libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            cc.as_ptr().cast(),
            cc.len() as libc::socklen_t,
        );
        assert_eq!(r, 0, "setsockopt: {}", std::io::Error::last_os_error());
        let r = libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            buf.as_mut_ptr().cast(),
            &mut len,
        );
        assert_eq!(r, 0);
    }
    let chunk = vec![1u8; 64 << 10];
    for _ in 0..64 {
        c.write_all(&chunk).unwrap();
    }
    c.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(server.join().unwrap(), 64 * chunk.len());
    let n = buf.iter().position(|&b| b == 0).unwrap_or(len as usize);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn counter(obj: &Object, i: u32) -> u64 {
    obj.map("counters").unwrap().get(&i).unwrap().unwrap_or(0)
}

/// On a thread of its own (the network namespace is per thread).
fn in_netns(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(move || {
        private_netns();
        f()
    })
    .join()
    .unwrap();
}

#[test]
fn link_registers_is_used_and_unregisters_on_drop() {
    if !root() {
        return;
    }
    in_netns(|| {
        let mut obj = load("tcp_cc");
        let map = obj.map("tinybpf_cc").unwrap();
        assert_eq!(map.map_type(), tinybpf::MapType::StructOps);
        assert!(!registered("tinybpf_cc"), "registered before attach");
        let link = obj.attach_struct_ops("tinybpf_cc").unwrap();
        assert_eq!(
            link.description(),
            "tinybpf_cc → struct_ops tcp_congestion_ops (5 programs)"
        );
        assert!(link.info().unwrap().is_some(), "a real BPF link");
        assert!(registered("tinybpf_cc"));
        // Registering again is refused, and the first registration stays.
        let e = obj.attach_struct_ops("tinybpf_cc").unwrap_err();
        assert!(matches!(e, Error::Attach { .. }), "{e:?}");
        assert!(registered("tinybpf_cc"));
        assert_eq!(traffic("tinybpf_cc"), "tinybpf_cc");
        assert!(counter(&obj, 0) >= 1, "init ran");
        assert!(counter(&obj, 4) >= 1, "pkts_acked ran");
        drop(obj.take_links());
        assert!(!registered("tinybpf_cc"), "still registered after drop");
    });
}

#[test]
fn legacy_map_update_registers_and_unregisters() {
    if !root() {
        return;
    }
    in_netns(|| {
        let mut obj = load("tcp_cc_legacy");
        assert_eq!(obj.attach_all().unwrap(), 1, "the struct_ops map only");
        let link = &obj.links()[0];
        assert!(
            link.info().unwrap().is_none(),
            "no BPF link: the map update"
        );
        assert!(link.pin("/sys/fs/bpf/tinybpf-structops-nopin").is_err());
        assert!(registered("tinybpf_cc_old"));
        assert_eq!(traffic("tinybpf_cc_old"), "tinybpf_cc_old");
        assert!(counter(&obj, 4) >= 1, "pkts_acked ran");
        obj.links()[0].force_detach().unwrap();
        assert!(!registered("tinybpf_cc_old"));
        obj.detach_all(); // the element is gone already: nothing to do
                          // The kernel registers a `.struct_ops` map once.
        let e = obj.attach_struct_ops("tinybpf_cc").unwrap_err();
        assert!(matches!(e, Error::Attach { .. }), "{e:?}");
        assert!(!registered("tinybpf_cc_old"));
    });
    // Dropping the object unregisters too.
    in_netns(|| {
        let mut obj = load("tcp_cc_legacy");
        obj.attach_struct_ops("tinybpf_cc").unwrap();
        assert!(registered("tinybpf_cc_old"));
        drop(obj);
        assert!(!registered("tinybpf_cc_old"));
    });
}

#[test]
fn attach_struct_ops_names_what_is_wrong() {
    if !root() {
        return;
    }
    let mut obj = load("tcp_cc");
    let e = obj.attach_struct_ops("counters").unwrap_err().to_string();
    assert!(e.contains("counters is not a struct_ops map"), "{e}");
    let e = obj.attach_struct_ops("nope").unwrap_err();
    assert!(matches!(e, Error::NotFound { kind: "map", .. }), "{e:?}");
    assert!(obj.links().is_empty());
}
