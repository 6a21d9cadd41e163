//! A TCP congestion control written in BPF (bpf/tcp_cc.bpf.c): a
//! `struct tcp_congestion_ops` named `tinybpf_cc` whose callbacks are BPF
//! programs (Reno, through the kernel's `tcp_reno_*` kfuncs) counting how
//! often they run. The example registers it (a struct_ops map), opens a TCP
//! connection over loopback inside a private network namespace, selects
//! `tinybpf_cc` on it with `setsockopt(TCP_CONGESTION)`, sends 8 MiB,
//! prints the counters, and checks that dropping the object unregisters it.
//!
//! `cargo run --example tcp_cc [-- --legacy]`: `--legacy` uses the
//! `.struct_ops` variant (`tinybpf_cc_old`, registered by the map update;
//! kernels before 6.4 have no struct_ops links). Needs root and a kernel
//! with BPF trampolines (x86-64, arm64, ...).

#[path = "common/report.rs"]
mod report;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use tinybpf::OpenObject;

const OBJ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/tcp_cc.bpf.o"));
const OBJ_LEGACY: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/bpf/tcp_cc_legacy.bpf.o"
));
const COUNTERS: [&str; 5] = ["init", "ssthresh", "cong_avoid", "undo_cwnd", "pkts_acked"];
const AVAILABLE: &str = "/proc/sys/net/ipv4/tcp_available_congestion_control";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A private network namespace for this thread, its loopback up (the
/// connection stays out of the machine's own network).
fn private_netns() -> Res<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("unshare(CLONE_NEWNET): {e}"))?;
    // SAFETY: plain socket/ioctl calls on a zeroed ifreq we own.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()).into());
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *s as libc::c_char;
        }
        let mut r = libc::ioctl(s, libc::SIOCGIFFLAGS, &mut ifr);
        if r == 0 {
            ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            r = libc::ioctl(s, libc::SIOCSIFFLAGS, &ifr);
        }
        let err = std::io::Error::last_os_error();
        libc::close(s);
        if r != 0 {
            return Err(format!("bringing lo up: {err}").into());
        }
    }
    Ok(())
}

/// Set (and read back) the congestion control of a TCP socket.
fn set_congestion(s: &TcpStream, name: &str) -> Res<String> {
    let fd = s.as_raw_fd();
    // SAFETY: setsockopt/getsockopt with buffers of the lengths given.
    unsafe {
        if libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        ) != 0
        {
            let e = std::io::Error::last_os_error();
            return Err(format!("setsockopt(TCP_CONGESTION, {name}): {e}").into());
        }
        let mut buf = [0u8; 16];
        let mut len = buf.len() as libc::socklen_t;
        if libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            buf.as_mut_ptr().cast(),
            &mut len,
        ) != 0
        {
            return Err(format!(
                "getsockopt(TCP_CONGESTION): {}",
                std::io::Error::last_os_error()
            )
            .into());
        }
        let n = buf[..len as usize]
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(len as usize);
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    }
}

fn available() -> Res<String> {
    Ok(std::fs::read_to_string(AVAILABLE).map_err(|e| format!("{AVAILABLE}: {e}"))?)
}

fn main() -> ExitCode {
    report::run(|| {
        tinybpf::events::log_to_stderr(log::LevelFilter::Warn);
        let args: Vec<String> = std::env::args().skip(1).collect();
        let legacy = args.iter().any(|a| a == "--legacy");
        let (obj_name, bytes, cc) = if legacy {
            ("tcp_cc_legacy", OBJ_LEGACY, "tinybpf_cc_old")
        } else {
            ("tcp_cc", OBJ, "tinybpf_cc")
        };
        private_netns()?;
        let mut obj = OpenObject::from_bytes(obj_name, bytes)?.load()?;
        obj.attach_struct_ops("tinybpf_cc")?;
        if !available()?.split_whitespace().any(|n| n == cc) {
            return Err(format!("{cc} registered, but not in {AVAILABLE}").into());
        }
        println!("registered {cc} ({})", obj.links()[0].description());

        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = std::thread::spawn(move || -> std::io::Result<u64> {
            let (mut s, _) = listener.accept()?;
            let mut buf = vec![0u8; 64 << 10];
            let mut total = 0u64;
            loop {
                match s.read(&mut buf)? {
                    0 => return Ok(total),
                    n => total += n as u64,
                }
            }
        });
        let mut client = TcpStream::connect(addr)?;
        let now = set_congestion(&client, cc)?;
        println!("client socket congestion control: {now}");
        if now != cc {
            return Err(format!("the socket's congestion control is {now}, not {cc}").into());
        }
        let chunk = vec![0x5au8; 64 << 10];
        for _ in 0..128 {
            client.write_all(&chunk)?;
        }
        client.shutdown(std::net::Shutdown::Write)?;
        let got = server.join().map_err(|_| "server thread panicked")??;
        drop(client);
        println!("sent and received {got} bytes over 127.0.0.1");

        let counters = obj.map("counters").ok_or("no counters map")?;
        let mut values = Vec::new();
        for (i, name) in COUNTERS.iter().enumerate() {
            let v: u64 = counters.get(&(i as u32))?.unwrap_or(0);
            values.push(v);
            println!("  {name:<11} {v}");
        }
        drop(obj);
        let gone = !available()?.split_whitespace().any(|n| n == cc);
        println!(
            "after drop: {cc} {} {AVAILABLE}",
            if gone { "no longer in" } else { "STILL in" }
        );
        if values[0] == 0 || values[4] == 0 || !gone {
            return Err(format!(
                "tcp_cc: FAILED (init {}, pkts_acked {}, unregistered {gone})",
                values[0], values[4]
            )
            .into());
        }
        println!(
            "tcp_cc: OK {cc} init={} pkts_acked={} cong_avoid={} unregistered",
            values[0], values[4], values[2]
        );
        Ok(())
    })
}
