//! `execsnoop` through its generated skeleton (examples/skel/execsnoop.skel.rs,
//! made by `tinybpf gen skeleton bpf/execsnoop.bpf.o`): the same as
//! `examples/execsnoop.rs` with no program or map names as strings.
//! `cargo run --example execsnoop_skel [-- --perf]`.
//!
//! The ring buffer's record, `struct exec_event`, is not in the object's BTF
//! (no map or global has that type), so it is declared here, with `pod!`.

#[path = "common/report.rs"]
mod report;

/// The generated skeleton (`include!`, so that rustfmt leaves it as generated).
mod skel {
    include!("skel/execsnoop.skel.rs");
}

use skel::ExecsnoopSkel;
use std::cell::Cell;
use std::process::ExitCode;
use std::time::Duration;
use tinybpf::events::Interrupt;
use tinybpf::skeleton::c_str;
use tinybpf::{PerfBuffer, Pod, RingBuffer};

/// `struct exec_event` of bpf/execsnoop.bpf.c (96 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
struct ExecEvent {
    pid: u32,
    ppid: u32,
    uid: u32,
    pad: u32,
    comm: [u8; 16],
    filename: [u8; 64],
}
tinybpf::pod!(ExecEvent {
    pid,
    ppid,
    uid,
    pad,
    comm,
    filename
});

fn print_event(raw: &[u8]) {
    match ExecEvent::from_bytes(raw) {
        Some(e) => println!(
            "{:<8} {:<8} {:<6} {:<16} {}",
            e.pid,
            e.ppid,
            e.uid,
            c_str(&e.comm),
            c_str(&e.filename)
        ),
        None => eprintln!("short event of {} bytes", raw.len()),
    }
}

/// Load one of the two programs (`perf`: the perf-buffer one) and attach it.
fn load(perf: bool) -> tinybpf::Result<ExecsnoopSkel> {
    let mut open = ExecsnoopSkel::open()?;
    if perf {
        open.progs_mut().handle_exec().set_autoload(false)?;
    } else {
        open.progs_mut().handle_exec_perf().set_autoload(false)?;
    }
    let mut skel = open.load()?;
    skel.attach()?;
    Ok(skel)
}

/// Whether `e` says this kernel has no ring buffers (EINVAL creating one).
fn ringbuf_unsupported(e: &tinybpf::Error) -> bool {
    matches!(e, tinybpf::Error::Map { source, .. }
        if source.errno == nix::errno::Errno::EINVAL)
}

fn main() -> ExitCode {
    report::run(run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let perf_requested = std::env::args().skip(1).any(|a| a == "--perf");
    let interrupt = Interrupt::new()?;
    let (skel, use_perf) = if perf_requested {
        (load(true)?, true)
    } else {
        match load(false) {
            Ok(skel) => (skel, false),
            Err(e) if ringbuf_unsupported(&e) => {
                eprintln!("no ring buffers on this kernel ({e}); falling back to the perf buffer");
                (load(true)?, true)
            }
            Err(e) => return Err(e.into()),
        }
    };
    let header = || {
        println!(
            "{:<8} {:<8} {:<6} {:<16} FILENAME",
            "PID", "PPID", "UID", "COMM"
        )
    };
    let lost = Cell::new(0u64);
    if use_perf {
        let mut pb = PerfBuffer::builder(skel.maps().events_perf())
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
        let mut rb = RingBuffer::new(skel.maps().events(), |raw| {
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
