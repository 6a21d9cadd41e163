//! `cgroup_connect CGROUP_DIR FROM_PORT TO_PORT`: for the processes in the
//! cgroup v2 directory CGROUP_DIR, IPv4 `connect()` to port FROM_PORT goes to
//! port TO_PORT instead (a `cgroup/connect4` program, bpf/cgroup_connect.bpf.c,
//! rewriting the destination port). Prints each second how many connections
//! were redirected; Ctrl-C detaches.
//!
//! Processes outside the cgroup are not affected. The object is embedded:
//! the binary runs from any directory.

#[path = "common/report.rs"]
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tinybpf::events::Interrupt;
use tinybpf::OpenObject;

const OBJ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/bpf/cgroup_connect.bpf.o"
));

const USAGE: &str = "usage: cgroup_connect CGROUP_DIR FROM_PORT TO_PORT";

fn port(s: Option<String>, what: &str) -> Result<u16, String> {
    let s = s.ok_or(USAGE)?;
    match s.parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(format!("{what} {s:?}: a port from 1 to 65535\n{USAGE}")),
    }
}

fn args() -> Result<(PathBuf, u16, u16), String> {
    let mut it = std::env::args().skip(1);
    let dir = it.next().filter(|a| !a.starts_with('-')).ok_or(USAGE)?;
    let from = port(it.next(), "FROM_PORT")?;
    let to = port(it.next(), "TO_PORT")?;
    if let Some(extra) = it.next() {
        return Err(format!("unexpected argument {extra:?}\n{USAGE}"));
    }
    Ok((dir.into(), from, to))
}

fn main() -> ExitCode {
    tinybpf::events::log_to_stderr(log::LevelFilter::Info);
    report::run(|| {
        let (dir, from, to) = args()?;
        let interrupt = Interrupt::new()?;
        let mut open = OpenObject::from_bytes("cgroup_connect", OBJ)?;
        open.set_global_value("from_port", &from)?;
        open.set_global_value("to_port", &to)?;
        let obj = open.load()?;
        let prog = obj
            .program("redirect_port")
            .ok_or("no program redirect_port")?;
        let redirected = obj.map("redirected").ok_or("no map redirected")?;
        // Dropping the link (at the end of this closure) detaches.
        let _link = prog.attach_cgroup(&dir)?;
        println!(
            "Redirecting connect() to port {from} → port {to} in cgroup {}; Ctrl-C to stop.",
            dir.display()
        );
        let mut last = 0u64;
        while !interrupt.wait(Duration::from_secs(1)) {
            let total = redirected.get::<u32, u64>(&0)?.unwrap_or(0);
            if total != last {
                println!("redirected {total} connections ({} new)", total - last);
                last = total;
            }
        }
        println!("Detached; {last} connections redirected in all.");
        Ok(())
    })
}
