//! `maps` through its generated skeleton (examples/skel/maps.skel.rs, made
//! by `tinybpf gen skeleton bpf/maps.bpf.o`): the same as `examples/maps.rs`
//! with no names as strings and no hand-written types. `cargo run --example
//! maps_skel`; start any program.

#[path = "common/report.rs"]
mod report;

/// The generated skeleton (`include!`, so that rustfmt leaves it as generated).
mod skel {
    include!("skel/maps.skel.rs");
}

use skel::MapsSkel;
use std::process::ExitCode;
use std::time::Duration;
use tinybpf::events::Interrupt;

fn main() -> ExitCode {
    env_logger::init();
    report::run(run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let interrupt = Interrupt::new()?;
    let mut open = MapsSkel::open()?;
    open.maps_mut().execs().set_max_entries(1024)?;
    let mut skel = open.load()?;
    skel.attach()?;
    println!("Successfully started! Run any program (e.g. /bin/true); Ctrl-C to stop.");
    loop {
        let execs = skel.maps().execs(); // key: pid (i32), value: skel::Event
        let pids: Vec<i32> = execs.keys().filter_map(|k| k.ok()).collect();
        for pid in pids {
            if let Some(e) = execs.get(&pid)? {
                println!(
                    "Process Name = {}, uid = {}, pid = {}",
                    e.comm_str(),
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
