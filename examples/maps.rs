//! The classic `maps`: the BPF side records every execve in the hash map
//! `execs` (pid → comm, pid, uid); user space walks the map once a second,
//! prints each entry and deletes it. `cargo run --example maps` (the cargo
//! runner uses sudo when you are not root); start any program. The object
//! is embedded: the binary runs from any directory.

#[path = "common/report.rs"]
mod report;

use std::process::ExitCode;
use std::time::Duration;
use tinybpf::events::Interrupt;
use tinybpf::OpenObject;

/// `struct event` of bpf/maps.bpf.c.
#[repr(C)]
#[derive(Clone, Copy)]
struct Event {
    comm: [u8; 16],
    pid: u32,
    uid: u32,
}
// Pod (readable from map bytes), checked at compile time to have no padding.
tinybpf::pod!(Event { comm, pid, uid });

const OBJ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/maps.bpf.o"));

fn main() -> ExitCode {
    env_logger::init();
    report::run(run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let interrupt = Interrupt::new()?;
    let mut obj = OpenObject::from_bytes("maps", OBJ)?.load()?;
    obj.attach_all()?;
    let execs = obj.map("execs").ok_or("no map execs")?;
    println!("Successfully started! Run any program (e.g. /bin/true); Ctrl-C to stop.");
    loop {
        let keys: Vec<u32> = execs
            .keys()
            .filter_map(|k| k.ok())
            .filter_map(|k| u32::from_bytes_le(&k))
            .collect();
        for pid in keys {
            if let Some(e) = execs.get::<u32, Event>(&pid)? {
                let end = e.comm.iter().position(|&b| b == 0).unwrap_or(16);
                println!(
                    "Process Name = {}, uid = {}, pid = {}",
                    String::from_utf8_lossy(&e.comm[..end]),
                    e.uid,
                    e.pid
                );
            }
            execs.remove(&pid)?;
        }
        if interrupt.wait(Duration::from_secs(1)) {
            break;
        }
    }
    println!("Exiting.");
    Ok(())
}

trait FromLe: Sized {
    fn from_bytes_le(b: &[u8]) -> Option<Self>;
}
impl FromLe for u32 {
    fn from_bytes_le(b: &[u8]) -> Option<u32> {
        Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?))
    }
}
