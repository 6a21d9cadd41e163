//! `xdp_drop IFACE [--mode generic|native]`: drop every IPv4 ICMP packet
//! that interface IFACE receives, with an XDP program (bpf/xdp_drop.bpf.c),
//! and print once a second how many were dropped. Ctrl-C detaches.
//!
//! Try it on a throwaway veth pair, e.g. inside a network namespace (see
//! the README's "Networking" section); on a real NIC it drops your pings.
//! The object is embedded: the binary runs from any directory.

#[path = "common/report.rs"]
mod report;

use std::process::ExitCode;
use std::time::Duration;
use tinybpf::events::Interrupt;
use tinybpf::net::{self, XdpMode};
use tinybpf::OpenObject;

const OBJ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/xdp_drop.bpf.o"));

const USAGE: &str = "usage: xdp_drop IFACE [--mode generic|native]";

/// The interface and mode from the command line.
fn args() -> Result<(String, XdpMode), String> {
    let mut iface = None;
    let mut mode = XdpMode::Default;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mode" => {
                mode = match it.next().as_deref() {
                    Some("generic") => XdpMode::Generic,
                    Some("native") => XdpMode::Native,
                    other => return Err(format!("--mode {other:?}: generic or native\n{USAGE}")),
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ if iface.is_none() && !a.starts_with('-') => iface = Some(a),
            _ => return Err(format!("unexpected argument {a:?}\n{USAGE}")),
        }
    }
    Ok((iface.ok_or(USAGE)?, mode))
}

fn main() -> ExitCode {
    tinybpf::events::log_to_stderr(log::LevelFilter::Info);
    report::run(|| {
        let (iface, mode) = args()?;
        let interrupt = Interrupt::new()?;
        let ifindex = net::ifindex(&iface)?;
        let obj = OpenObject::from_bytes("xdp_drop", OBJ)?.load()?;
        let prog = obj
            .program("xdp_drop_icmp")
            .ok_or("no program xdp_drop_icmp")?;
        let dropped = obj.map("dropped").ok_or("no map dropped")?;
        // Dropping the link (at the end of this closure) detaches.
        let _link = prog.attach_xdp(ifindex, mode)?;
        println!("Dropping ICMP on {iface} (ifindex {ifindex}, {mode:?} mode); Ctrl-C to stop.");
        let mut last = 0u64;
        let mut secs = 0u64;
        while !interrupt.wait(Duration::from_secs(1)) {
            secs += 1;
            let total = dropped.get::<u32, u64>(&0)?.unwrap_or(0);
            println!(
                "{secs:>4}s  dropped {total} ICMP packets ({} in the last second)",
                total - last
            );
            last = total;
        }
        println!("Detached from {iface}; {last} ICMP packets dropped in all.");
        Ok(())
    })
}
