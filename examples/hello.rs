//! The classic `hello`: a tracepoint program that calls `bpf_printk("Hello
//! world!")` on every execve. Run it (as root) and start any program.

use std::time::Duration;
use tinybpf::events::{Interrupt, TracePipe};
use tinybpf::OpenObject;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tinybpf::events::log_to_stderr(log::LevelFilter::Info);
    let interrupt = Interrupt::new()?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/hello.bpf.o");
    let mut obj = OpenObject::open(path)?.load()?;
    obj.attach_all()?;
    let mut pipe = TracePipe::open()?;
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
}
