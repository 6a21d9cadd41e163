//! A ring buffer read on its own thread, with std only: the reader thread
//! polls a [`SendRingBuffer`] and sends each exec event through a channel;
//! the main thread prints them. `cargo run --example ringbuf_thread [-- N]`
//! prints N events (default: until Ctrl-C), e.g. while you run /bin/true.
//!
//! (With an async runtime instead of a thread: register the reader's fd
//! (`AsFd`) with the runtime's readiness API and call `consume` when it is
//! readable; see the `RingBuffer` docs.)

#[path = "common/report.rs"]
mod report;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tinybpf::events::Interrupt;
use tinybpf::{OpenObject, SendRingBuffer};

const OBJ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/execsnoop.bpf.o"));

/// PID and file name of `struct exec_event` (bpf/execsnoop.bpf.c).
fn parse(raw: &[u8]) -> Option<(u32, String)> {
    let pid = u32::from_ne_bytes(raw.get(0..4)?.try_into().ok()?);
    let name = raw.get(32..96)?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    Some((pid, String::from_utf8_lossy(&name[..end]).into_owned()))
}

fn main() -> ExitCode {
    report::run(run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let limit: Option<usize> = match std::env::args().nth(1) {
        Some(n) => Some(n.parse().map_err(|_| format!("not a count: {n:?}"))?),
        None => None,
    };
    // Before any thread starts: SIGINT/SIGTERM arrive on this fd.
    let interrupt = Interrupt::new()?;
    let mut open = OpenObject::from_bytes("execsnoop", OBJ)?;
    open.load_only(&["handle_exec"])?;
    let mut obj = open.load()?;

    let (tx, rx) = mpsc::channel::<(u32, String)>();
    // The callback is `Send` (it owns a Sender), so the reader is too.
    let mut rb = SendRingBuffer::new_send(obj.map("events").ok_or("no map events")?, move |raw| {
        match parse(raw) {
            // The receiver is gone: stop this round.
            Some(ev) => i32::from(tx.send(ev).is_err()),
            None => 0,
        }
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || -> tinybpf::Result<()> {
            while !stop.load(Ordering::Relaxed) && rb.stopped().is_none() {
                rb.poll(Duration::from_millis(100))?;
            }
            Ok(())
        })
    };
    obj.attach("handle_exec")?;
    println!("Successfully started! Run any program (e.g. /bin/true); Ctrl-C to stop.");

    let mut seen = 0;
    while limit.is_none_or(|l| seen < l) && !interrupt.pending() {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok((pid, file)) => {
                println!("exec pid={pid} file={file}");
                seen += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // The reader thread ended: its result says why.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    reader.join().map_err(|_| "reader thread panicked")??;
    println!("Exiting after {seen} events.");
    Ok(())
}
