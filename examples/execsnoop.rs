//! execsnoop: print every execve on the system (PID, parent PID, UID, the
//! caller's command name and the file being executed) until Ctrl-C.
//!
//! Uses bpf/execsnoop.bpf.o: `handle_exec` sends events through a ring
//! buffer; with `--perf` (or on kernels without ring buffers) `handle_exec_perf`
//! sends them through a perf event array instead. The parent PID comes from
//! `task->real_parent->tgid`, read with CO-RE against the running kernel's BTF.
//!
//! `cargo run --example execsnoop [-- --perf]` (the cargo runner uses sudo
//! when you are not root). The object is embedded: the binary runs from any
//! directory.

#[path = "common/report.rs"]
mod report;

use std::cell::Cell;
use std::process::ExitCode;
use std::time::Duration;
use tinybpf::events::Interrupt;
use tinybpf::features::Features;
use tinybpf::{Object, OpenObject, PerfBuffer, RingBuffer};

const OBJ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/execsnoop.bpf.o"));
const EVENT_SIZE: usize = 96;

/// `struct exec_event` of execsnoop.bpf.c.
struct ExecEvent {
    pid: u32,
    ppid: u32,
    uid: u32,
    comm: String,
    filename: String,
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl ExecEvent {
    fn parse(b: &[u8]) -> Option<ExecEvent> {
        let b = b.get(..EVENT_SIZE)?;
        let u32_at = |o: usize| Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?));
        Some(ExecEvent {
            pid: u32_at(0)?,
            ppid: u32_at(4)?,
            uid: u32_at(8)?,
            comm: cstr(&b[16..32]),
            filename: cstr(&b[32..96]),
        })
    }
}

fn print_event(raw: &[u8]) {
    match ExecEvent::parse(raw) {
        Some(e) => println!(
            "{:<8} {:<8} {:<6} {:<16} {}",
            e.pid, e.ppid, e.uid, e.comm, e.filename
        ),
        None => eprintln!("short event of {} bytes", raw.len()),
    }
}

fn load(program: &str) -> tinybpf::Result<Object> {
    let mut open = OpenObject::from_bytes("execsnoop", OBJ)?;
    open.load_only(&[program])?;
    let mut obj = open.load()?;
    obj.attach(program)?;
    Ok(obj)
}

fn main() -> ExitCode {
    report::run(run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let perf_requested = std::env::args().skip(1).any(|a| a == "--perf");
    // Before anything else: blocks SIGINT/SIGTERM and receives them on a fd.
    let interrupt = Interrupt::new()?;

    // Ring buffers came with 5.8: probe for them, not for a version. Without
    // privileges the probe cannot tell; loading then says what to do.
    let use_perf = perf_requested || (Features::privileged() && !Features::ringbuf());
    if use_perf && !perf_requested {
        eprintln!("no ring buffers on this kernel; using the perf buffer");
    }
    let obj = load(if use_perf {
        "handle_exec_perf"
    } else {
        "handle_exec"
    })?;

    // The header goes out once the reader is ready: no exec after it is missed.
    let header = || {
        println!(
            "{:<8} {:<8} {:<6} {:<16} FILENAME",
            "PID", "PPID", "UID", "COMM"
        )
    };
    let lost = Cell::new(0u64);
    if use_perf {
        let map = obj.map("events_perf").ok_or("no map events_perf")?;
        let mut pb = PerfBuffer::builder(map)
            .on_sample(|_, raw| print_event(raw))
            .on_lost(|cpu, n| {
                lost.set(lost.get() + n);
                eprintln!("CPU {cpu}: lost {n} events");
            })
            .build()?;
        header();
        while !interrupt.pending() {
            pb.poll(Duration::from_millis(100))?;
        }
    } else {
        let map = obj.map("events").ok_or("no map events")?;
        let mut rb = RingBuffer::new(map, |raw| {
            print_event(raw);
            0
        })?;
        header();
        while !interrupt.pending() {
            rb.poll(Duration::from_millis(100))?;
        }
    }
    if lost.get() > 0 {
        eprintln!("{} events lost", lost.get());
    }
    Ok(())
}
