//! The classic `hello`: a tracepoint program that calls `bpf_printk("Hello
//! world!")` on every execve. Start it with `cargo run --example hello` (the
//! cargo runner of this repository runs it as root through sudo) and start
//! any program. The object is embedded: the binary runs from any directory.

#[path = "common/report.rs"]
mod report;

use std::process::ExitCode;
use std::time::Duration;
use tinybpf::events::{Interrupt, TracePipe};
use tinybpf::OpenObject;

const OBJ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/hello.bpf.o"));

fn main() -> ExitCode {
    report::run(|| {
        tinybpf::events::log_to_stderr(log::LevelFilter::Info);
        let interrupt = Interrupt::new()?;
        let mut obj = OpenObject::from_bytes("hello", OBJ)?.load()?;
        // Lines left in trace_pipe by earlier runs (or other programs) are
        // not this session's: throw them away before attaching.
        let mut pipe = TracePipe::open()?;
        pipe.discard_pending()?;
        obj.attach_all()?;
        println!(
            "Successfully started! Run any program (e.g. /bin/true) to see output; Ctrl-C to stop."
        );
        while !interrupt.pending() {
            for line in pipe.read_lines(Duration::from_millis(500), Some(&interrupt))? {
                println!("{line}");
            }
        }
        println!("Exiting.");
        Ok(())
    })
}
