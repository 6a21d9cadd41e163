//! Event draining benchmark, tinybpf side (the libbpf side is
//! bench/c/bench_events.c; bench/events.sh runs both, interleaved). One
//! measurement per process; prints one JSON line.
//!
//!   bench-events MODE N [OPTIONS]
//!
//! MODE (N records in all; N a multiple of 1000 for burst and drain):
//!   ringbuf, perfbuf             rb_emit / pb_emit, one record per run
//!                                (BPF_PROG_TEST_RUN repeat N), while the
//!                                main thread polls: the producer's speed
//!   ringbuf-burst, perfbuf-burst rb_burst / pb_burst, 1000 records per run
//!                                (bpf_loop), repeat N/1000, while the main
//!                                thread polls: the consumer is the bottleneck
//!   ringbuf-drain, perfbuf-drain fill first (a 64 MiB ring; perf: 64 MiB per
//!                                CPU), then time only draining it: pure
//!                                consumer speed
//! The consumer runs on CPU 0; the producer on CPU 1 (concurrent modes) or
//! on CPU 0 before the drain (libbpf's runner does the same).
//! OPTIONS:
//!   --inline                     ring buffer: RingBuffer::consume_with with
//!                                a closure (inlined) instead of the boxed
//!                                callback
//!   --wakeup-events N            perf buffer: PerfBufferBuilder::wakeup_events
//!   --watermark BYTES            perf buffer: PerfBufferBuilder::watermark
//!
//! Reported: records received, dropped (ring full: counted by the BPF
//! program) or lost (perf buffer), wall time (concurrent modes: from the
//! start of the test run to the last record; drain: the drain only),
//! records/s, the consumer thread's CPU time (CLOCK_THREAD_CPUTIME_ID, user
//! + sys) per million records, and the polls that returned records.

use std::os::fd::AsRawFd;
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tinybpf::{OpenObject, PerfBuffer, RingBuffer, TestRunOpts};
use tinybpf_bench::{thread_cpu_ns, Line};

const BURST: u32 = 1000;
const DRAIN_RING: u32 = 64 << 20;
const DRAIN_PAGES: usize = 16384;

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench-events: {what}: {e}");
    exit(1)
}

/// Pin the calling thread to `cpu` (taken modulo the online CPU count).
/// Not `available_parallelism`: that counts the CPUs of the caller's
/// affinity mask, 1 in a thread spawned by the pinned main thread (which
/// put the producer on the consumer's CPU until 2026-12-05).
fn pin_to_cpu(cpu: usize) {
    // SAFETY: sysconf has no preconditions.
    let ncpu = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET stays in bounds.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu % ncpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            die("sched_setaffinity", std::io::Error::last_os_error());
        }
    }
}

/// Wait up to `ms` for `fd` to be readable (for --inline, which consumes
/// with `consume_with` instead of `poll`).
fn wait_readable(fd: i32, ms: i32) {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) };
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let n: u32 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut inline = false;
    let mut wakeup_events = None;
    let mut watermark = None;
    let mut it = args.iter().skip(2);
    while let Some(a) = it.next() {
        let mut num = || -> u32 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| die(a, "needs a number"))
        };
        match a.as_str() {
            "--inline" => inline = true,
            "--wakeup-events" => wakeup_events = Some(num()),
            "--watermark" => watermark = Some(num()),
            _ => die(a, "unknown option"),
        }
    }
    let (kind, style) = mode.split_once('-').unwrap_or((mode, "one"));
    let ring = match kind {
        "ringbuf" => true,
        "perfbuf" => false,
        _ => die(mode, "mode is ringbuf|perfbuf[-burst|-drain]"),
    };
    if !matches!(style, "one" | "burst" | "drain") {
        die(mode, "mode is ringbuf|perfbuf[-burst|-drain]");
    }
    let per_run = if style == "one" { 1 } else { BURST };
    if !n.is_multiple_of(per_run) {
        die("N", format!("must be a multiple of {per_run}"));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bpf/bench_events.bpf.o");
    let mut open = OpenObject::open(path).unwrap_or_else(|e| die(path, e));
    if style == "drain" && ring {
        open.set_max_entries("rb", DRAIN_RING)
            .unwrap_or_else(|e| die("set_max_entries", e));
    }
    let obj = open.load().unwrap_or_else(|e| die(path, e));
    let prog_name = match (ring, style) {
        (true, "one") => "rb_emit",
        (false, "one") => "pb_emit",
        (true, _) => "rb_burst",
        (false, _) => "pb_burst",
    };
    let prog = obj
        .program(prog_name)
        .unwrap_or_else(|| die(prog_name, "missing"));
    let mut received = 0u64;
    let mut lost = 0u64;
    let done = AtomicBool::new(false);
    let pkt = [0u8; 64];
    let pages = if style == "drain" { DRAIN_PAGES } else { 1024 };
    let mut rb = None;
    let mut pb = None;
    if ring {
        rb = Some(
            RingBuffer::new(obj.map("rb").unwrap(), |rec: &[u8]| {
                received += rec.len() as u64 / 16;
                0
            })
            .unwrap_or_else(|e| die("ringbuf", e)),
        );
    } else {
        let mut b = PerfBuffer::builder(obj.map("pb").unwrap())
            .pages(pages)
            .on_sample(|_cpu, raw: &[u8]| received += (raw.len() >= 16) as u64)
            .on_lost(|_cpu, l| lost += l);
        if let Some(w) = wakeup_events {
            b = b.wakeup_events(w);
        }
        if let Some(w) = watermark {
            b = b.watermark(w);
        }
        pb = Some(b.build().unwrap_or_else(|e| die("perfbuf", e)));
    }
    // --inline counts here (the boxed callback's `received` stays 0).
    let mut inline_received = 0u64;
    let mut polls = 0u64;
    let run_opts = TestRunOpts::default().data_in(&pkt).repeat(n / per_run);
    let mut step = |wait: Option<Duration>| -> usize {
        let got = match (&mut rb, &mut pb) {
            (Some(r), _) if inline => {
                if let Some(d) = wait {
                    wait_readable(r.epoll_fd().as_raw_fd(), d.as_millis() as i32);
                }
                r.consume_with(0, |rec: &[u8]| {
                    inline_received += rec.len() as u64 / 16;
                    0
                })
            }
            (Some(r), _) => match wait {
                Some(d) => r.poll(d),
                None => r.consume(),
            },
            (_, Some(p)) => match wait {
                Some(d) => p.poll(d),
                None => p.consume(),
            },
            _ => Ok(0),
        }
        .unwrap_or_else(|e| die("poll", e));
        polls += (got > 0) as u64;
        got
    };
    let (t0, cpu0);
    // Consumer on CPU 0; the producer on CPU 1 (concurrent modes) or on
    // CPU 0 before the drain.
    pin_to_cpu(0);
    if style == "drain" {
        prog.test_run(&run_opts)
            .unwrap_or_else(|e| die("test run", e));
        t0 = Instant::now();
        cpu0 = thread_cpu_ns();
        while step(None) > 0 {}
    } else {
        t0 = Instant::now();
        cpu0 = thread_cpu_ns();
        std::thread::scope(|s| {
            s.spawn(|| {
                pin_to_cpu(1);
                let r = prog.test_run(&run_opts);
                done.store(true, Ordering::Release);
                r.unwrap_or_else(|e| die("test run", e));
            });
            while !done.load(Ordering::Acquire) {
                step(Some(Duration::from_millis(10)));
            }
            // Drain what is left (records below a wakeup threshold too).
            while step(None) > 0 {}
        });
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e9;
    drop(rb);
    drop(pb);
    let received = received + inline_received;
    let drops: Option<u64> = obj
        .map("drops")
        .and_then(|m| m.get::<u32, u64>(&(if ring { 0 } else { 1 })).ok())
        .flatten();
    let mut name = String::from("tinybpf");
    if inline {
        name.push_str("-inline");
    }
    if let Some(w) = wakeup_events {
        name.push_str(&format!("-wakeup{w}"));
    }
    if let Some(w) = watermark {
        name.push_str(&format!("-watermark{w}"));
    }
    Line::new(&name, mode, "bench_events")
        .int("n", n as i64)
        .int("received", received as i64)
        .int("dropped", drops.unwrap_or(0) as i64)
        .int("lost", lost as i64)
        .int("polls", polls as i64)
        .num("wall_ms", wall * 1e3)
        .num("records_per_s", received as f64 / wall)
        .num(
            "consumer_cpu_ms_per_m",
            cpu * 1e3 / (received.max(1) as f64 / 1e6),
        )
        .print();
}
