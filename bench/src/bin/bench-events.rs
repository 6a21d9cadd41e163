//! Event draining benchmark, tinybpf side (the libbpf side is
//! bench/c/bench_events.c). One measurement per process; prints one JSON
//! line.
//!
//!   bench-events ringbuf N    rb_emit run N times (BPF_PROG_TEST_RUN repeat)
//!   bench-events perfbuf N    pb_emit likewise, into a perf buffer
//!
//! A producer thread runs the program N times in one BPF_PROG_TEST_RUN
//! (each run emits one 16-byte record) while the main thread polls and
//! counts records. Reported: records received, records dropped (the ring
//! was full: counted by the BPF program) or lost (perf buffer), wall time
//! from the start of the test run to the last record, records/s, and the
//! consumer thread's CPU time (CLOCK_THREAD_CPUTIME_ID) per million records.

use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tinybpf::{OpenObject, PerfBuffer, RingBuffer, TestRunOpts};
use tinybpf_bench::{thread_cpu_ns, Line};

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench-events: {what}: {e}");
    exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let n: u32 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bpf/bench_events.bpf.o");
    let obj = OpenObject::open(path)
        .and_then(|o| o.load())
        .unwrap_or_else(|e| die(path, e));
    let prog_name = match mode {
        "ringbuf" => "rb_emit",
        "perfbuf" => "pb_emit",
        _ => die(mode, "mode is ringbuf or perfbuf"),
    };
    let prog = obj
        .program(prog_name)
        .unwrap_or_else(|| die(prog_name, "missing"));
    let mut received = 0u64;
    let mut lost = 0u64;
    let done = AtomicBool::new(false);
    let pkt = [0u8; 64];
    let mut rb = None;
    let mut pb = None;
    match mode {
        "ringbuf" => {
            rb = Some(
                RingBuffer::new(obj.map("rb").unwrap(), |rec: &[u8]| {
                    received += rec.len() as u64 / 16;
                    0
                })
                .unwrap_or_else(|e| die("ringbuf", e)),
            )
        }
        _ => {
            pb = Some(
                PerfBuffer::builder(obj.map("pb").unwrap())
                    .pages(1024)
                    .on_sample(|_cpu, raw: &[u8]| received += (raw.len() >= 16) as u64)
                    .on_lost(|_cpu, l| lost += l)
                    .build()
                    .unwrap_or_else(|e| die("perfbuf", e)),
            )
        }
    }
    let t0 = Instant::now();
    let cpu0 = thread_cpu_ns();
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = prog.test_run(&TestRunOpts::default().data_in(&pkt).repeat(n));
            done.store(true, Ordering::Release);
            r.unwrap_or_else(|e| die("test run", e));
        });
        let poll = |d| match (&mut rb, &mut pb) {
            (Some(r), _) => r.poll(d).unwrap_or_else(|e| die("poll", e)),
            (_, Some(p)) => p.poll(d).unwrap_or_else(|e| die("poll", e)),
            _ => 0,
        };
        let mut poll = poll;
        while !done.load(Ordering::Acquire) {
            poll(Duration::from_millis(10));
        }
        // Drain what is left.
        while poll(Duration::ZERO) > 0 {}
    });
    let wall = t0.elapsed().as_secs_f64();
    let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e9;
    drop(rb);
    drop(pb);
    let drops: Option<u64> = obj
        .map("drops")
        .and_then(|m| {
            m.get::<u32, u64>(&(if mode == "ringbuf" { 0 } else { 1 }))
                .ok()
        })
        .flatten();
    Line::new("tinybpf", mode, "bench_events")
        .int("n", n as i64)
        .int("received", received as i64)
        .int("dropped", drops.unwrap_or(0) as i64)
        .int("lost", lost as i64)
        .num("wall_ms", wall * 1e3)
        .num("records_per_s", received as f64 / wall)
        .num(
            "consumer_cpu_ms_per_m",
            cpu * 1e3 / (received.max(1) as f64 / 1e6),
        )
        .print();
}
