//! A tiny `ps`: a BPF task iterator (bpf/iter.bpf.c, `dump_task`) prints
//! one line per task into a seq_file; user space runs one pass and shows
//! the processes (thread-group leaders), or every thread with `--threads`.
//! `cargo run --example ps [-- --threads]` (the cargo runner uses sudo when
//! you are not root). The object is embedded: the binary runs from any
//! directory.

#[path = "common/report.rs"]
mod report;

use std::process::ExitCode;
use tinybpf::{IterOpts, OpenObject};

const OBJ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/iter.bpf.o"));

fn main() -> ExitCode {
    env_logger::init();
    report::run(run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let threads = std::env::args().skip(1).any(|a| a == "--threads");
    let mut open = OpenObject::from_bytes("ps", OBJ)?;
    open.load_only(&["dump_task"])?;
    let obj = open.load()?;
    let prog = obj.program("dump_task").ok_or("no program dump_task")?;
    let link = prog.attach_iter(&IterOpts::All)?;
    let text = link.iter_read_string()?;
    println!("{:>7} {:>7} COMMAND", "PID", "TID");
    // "TGID PID COMM" lines after a header line.
    for line in text.lines().skip(1) {
        let mut f = line.splitn(3, ' ');
        let (Some(tgid), Some(pid), comm) = (f.next(), f.next(), f.next().unwrap_or("")) else {
            continue;
        };
        if threads || tgid == pid {
            println!("{tgid:>7} {pid:>7} {comm}");
        }
    }
    Ok(())
}
