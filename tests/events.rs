//! Getting data out of BPF programs on the real kernel: ring buffers, perf
//! buffers and BPF_PROG_TEST_RUN, driven by bpf/events.bpf.o and
//! bpf/globals.bpf.o.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tinybpf::{Map, Object, OpenObject, PerfBuffer, RingBuffer, TestRunOpts};

const REC_LEN: usize = 64;
const REC_PAD: u32 = 0xfeed_f00d;
const PACKET: [u8; 64] = [0u8; 64];

/// Offsets of the global variables of `section` (e.g. `.bss`).
fn globals(obj: &OpenObject, section: &str) -> HashMap<String, usize> {
    obj.spec()
        .globals
        .iter()
        .filter(|g| g.section == section)
        .map(|g| (g.name.clone(), g.offset as usize))
        .collect()
}

/// The object's map for `section` (`<obj>.bss` and the like).
fn data_map<'a>(obj: &'a Object, section: &str) -> &'a Map {
    obj.maps()
        .iter()
        .find(|m| m.name().ends_with(section))
        .unwrap_or_else(|| panic!("no {section} map among {:?}", names(obj)))
}

fn names(obj: &Object) -> Vec<&str> {
    obj.maps().iter().map(|m| m.name()).collect()
}

/// Write a u32 into a global-data array map (single value at key 0).
fn write_u32(map: &Map, off: usize, v: u32) {
    let key = 0u32.to_ne_bytes();
    let mut val = map.lookup(&key, 0).unwrap().unwrap();
    val[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    map.update(&key, &val, 0).unwrap();
}

fn read_u64(map: &Map, off: usize) -> u64 {
    let val = map.lookup(&0u32.to_ne_bytes(), 0).unwrap().unwrap();
    u64::from_ne_bytes(val[off..off + 8].try_into().unwrap())
}

struct Events {
    obj: Object,
    vars: HashMap<String, usize>,
}

impl Events {
    fn load(perf_max_entries: Option<u32>) -> Events {
        let mut open = OpenObject::open(common::obj("events.bpf.o")).unwrap();
        if let Some(n) = perf_max_entries {
            open.set_max_entries("pb", n).unwrap();
        }
        let vars = globals(&open, ".bss");
        for v in [
            "count",
            "discard_every",
            "rb_dropped",
            "pb_sent",
            "pb_failed",
        ] {
            assert!(vars.contains_key(v), "no {v} in .bss: {vars:?}");
        }
        let obj = open.load().unwrap();
        Events { obj, vars }
    }
    fn bss(&self) -> &Map {
        data_map(&self.obj, ".bss")
    }
    fn set(&self, var: &str, v: u32) {
        write_u32(self.bss(), self.vars[var], v);
    }
    fn stat(&self, var: &str) -> u64 {
        read_u64(self.bss(), self.vars[var])
    }
    /// Run `prog` once producing `count` records; returns its return value.
    fn run(&self, prog: &str, count: u32) -> u32 {
        self.set("count", count);
        self.obj
            .program(prog)
            .unwrap()
            .test_run(&TestRunOpts::default().data_in(&PACKET).repeat(1))
            .unwrap()
            .retval
    }
}

/// A decoded `struct event_rec`, checked for its fixed fields.
fn decode(rec: &[u8]) -> (u64, u32) {
    assert!(rec.len() >= REC_LEN, "record of {} bytes", rec.len());
    let seq = u64::from_ne_bytes(rec[0..8].try_into().unwrap());
    let cpu = u32::from_ne_bytes(rec[8..12].try_into().unwrap());
    let pad = u32::from_ne_bytes(rec[12..16].try_into().unwrap());
    assert_eq!(pad, REC_PAD, "seq {seq}: bad pad");
    assert!(
        rec[16..REC_LEN].iter().all(|&b| b == seq as u8),
        "seq {seq}: bad payload"
    );
    (seq, cpu)
}

#[test]
fn ringbuf_exactly_once_in_order_across_wraparound_with_discards() {
    if !common::root_or_skip("ringbuf_exactly_once_in_order_across_wraparound_with_discards") {
        return;
    }
    let ev = Events::load(None);
    let rb_map = ev.obj.map("rb").unwrap();
    let ring_size = rb_map.max_entries() as u64;
    let got = RefCell::new(Vec::<u64>::new());
    let mut rb = RingBuffer::new(rb_map, |rec: &[u8]| {
        assert_eq!(rec.len(), REC_LEN);
        got.borrow_mut().push(decode(rec).0);
        0
    })
    .unwrap();
    assert_eq!(rb.consume().unwrap(), 0, "ring not empty at start");

    // 1. No discards: 25 runs of 400 records = 10000 records, 720000 bytes
    //    through a 256 KiB ring (wraps around ~2.7 times).
    // 2. discard_every = 3: seqs 2, 5, 8, ... are reserved then discarded.
    for (discard_every, runs, count) in [(0u32, 25u32, 400u32), (3, 25, 400)] {
        ev.set("discard_every", discard_every);
        let mut bytes = 0u64;
        for run in 0..runs {
            let delivered = ev.run("xdp_ringbuf", count);
            let expected: Vec<u64> = (0..count as u64)
                .filter(|s| discard_every == 0 || (s + 1) % discard_every as u64 != 0)
                .collect();
            assert_eq!(
                delivered as usize,
                expected.len(),
                "run {run}: return value"
            );
            got.borrow_mut().clear();
            // Ready data: poll must not wait for the timeout.
            let t = Instant::now();
            let n = rb.poll(Duration::from_secs(5)).unwrap();
            assert!(
                t.elapsed() < Duration::from_secs(4),
                "poll waited with data ready"
            );
            assert_eq!(n, expected.len(), "run {run}: records consumed");
            assert_eq!(
                *got.borrow(),
                expected,
                "run {run} (discard_every {discard_every})"
            );
            assert_eq!(rb.pending_bytes(0), 0);
            bytes += count as u64 * 72;
        }
        assert!(
            bytes > 2 * ring_size,
            "{bytes} bytes through a {ring_size}-byte ring"
        );
    }
    assert_eq!(ev.stat("rb_dropped"), 0, "reservations failed");
    assert_eq!(rb.consume().unwrap(), 0);
}

#[test]
fn ringbuf_callback_stop_resumes_and_poll_times_out() {
    if !common::root_or_skip("ringbuf_callback_stop_resumes_and_poll_times_out") {
        return;
    }
    let ev = Events::load(None);
    let got = RefCell::new(Vec::<u64>::new());
    let mut rb = RingBuffer::new(ev.obj.map("rb").unwrap(), |rec: &[u8]| {
        let (seq, _) = decode(rec);
        got.borrow_mut().push(seq);
        // Stop after seq 9 (that record counts as consumed).
        if seq == 9 {
            -7
        } else {
            0
        }
    })
    .unwrap();
    // Nothing produced: poll times out with 0 records.
    let t = Instant::now();
    assert_eq!(rb.poll(Duration::from_millis(200)).unwrap(), 0);
    assert!(t.elapsed() >= Duration::from_millis(150));

    assert_eq!(ev.run("xdp_ringbuf", 30), 30);
    assert_eq!(rb.consume().unwrap(), 10);
    assert_eq!(rb.stopped(), Some(-7));
    assert_eq!(*got.borrow(), (0..10).collect::<Vec<_>>());
    assert_eq!(rb.consume().unwrap(), 20);
    assert_eq!(rb.stopped(), None);
    assert_eq!(*got.borrow(), (0..30).collect::<Vec<_>>());
}

#[test]
fn ringbuf_consume_with_a_closure_instead_of_the_callback() {
    if !common::root_or_skip("ringbuf_consume_with_a_closure_instead_of_the_callback") {
        return;
    }
    let ev = Events::load(None);
    let boxed = RefCell::new(0usize);
    let mut rb = RingBuffer::new(ev.obj.map("rb").unwrap(), |_: &[u8]| {
        *boxed.borrow_mut() += 1;
        0
    })
    .unwrap();
    assert_eq!(ev.run("xdp_ringbuf", 30), 30);
    let mut got = Vec::new();
    let n = rb
        .consume_with(0, |rec: &[u8]| {
            let (seq, _) = decode(rec);
            got.push(seq);
            if seq == 9 {
                5
            } else {
                0
            }
        })
        .unwrap();
    assert_eq!((n, rb.stopped()), (10, Some(5)));
    let n = rb
        .consume_with(0, |rec: &[u8]| {
            got.push(decode(rec).0);
            0
        })
        .unwrap();
    assert_eq!((n, rb.stopped()), (20, None));
    assert_eq!(got, (0..30).collect::<Vec<_>>());
    assert_eq!(*boxed.borrow(), 0, "the ring's own callback was not called");
    assert_eq!(rb.pending_bytes(0), 0);
    let e = rb.consume_with(1, |_: &[u8]| 0).unwrap_err();
    assert!(e.to_string().contains("index 1 out of range"), "{e}");
}

#[test]
fn ringbuf_several_maps_polled_together_and_wakeup() {
    if !common::root_or_skip("ringbuf_several_maps_polled_together_and_wakeup") {
        return;
    }
    let a = Events::load(None);
    let b = Events::load(None);
    let from_a = RefCell::new(Vec::<u64>::new());
    let from_b = RefCell::new(Vec::<u64>::new());
    let mut rb = RingBuffer::new(a.obj.map("rb").unwrap(), |rec: &[u8]| {
        from_a.borrow_mut().push(decode(rec).0);
        0
    })
    .unwrap()
    .with(b.obj.map("rb").unwrap(), |rec: &[u8]| {
        from_b.borrow_mut().push(decode(rec).0);
        0
    })
    .unwrap();
    assert_eq!(rb.len(), 2);
    assert_eq!(a.run("xdp_ringbuf", 5), 5);
    assert_eq!(b.run("xdp_ringbuf", 7), 7);
    assert_eq!(rb.poll(Duration::from_secs(5)).unwrap(), 12);
    assert_eq!(*from_a.borrow(), (0..5).collect::<Vec<_>>());
    assert_eq!(*from_b.borrow(), (0..7).collect::<Vec<_>>());

    // A producer in another thread wakes a blocked poll.
    from_b.borrow_mut().clear();
    std::thread::scope(|s| {
        let b = &b;
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            assert_eq!(b.run("xdp_ringbuf", 3), 3);
        });
        let t = Instant::now();
        let mut n = 0;
        while n < 3 && t.elapsed() < Duration::from_secs(10) {
            n += rb.poll(Duration::from_secs(10)).unwrap();
        }
        assert_eq!(n, 3);
        assert!(t.elapsed() < Duration::from_secs(5), "poll was not woken");
    });
    assert_eq!(*from_b.borrow(), vec![0, 1, 2]);
    assert!(from_a.borrow().len() == 5);

    // The reader keeps the maps alive after their objects are gone.
    drop(a);
    drop(b);
    assert_eq!(rb.consume().unwrap(), 0);
}

#[test]
fn ringbuf_rejects_other_maps() {
    if !common::root_or_skip("ringbuf_rejects_other_maps") {
        return;
    }
    let ev = Events::load(None);
    let e = RingBuffer::new(ev.obj.map("pb").unwrap(), |_: &[u8]| 0).unwrap_err();
    assert!(e.to_string().contains("not a ring buffer"), "{e}");
    let e = PerfBuffer::builder(ev.obj.map("rb").unwrap())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("not a perf event array"), "{e}");
    let e = PerfBuffer::builder(ev.obj.map("pb").unwrap())
        .pages(3)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("power of two"), "{e}");
}

/// Run the current thread on one CPU only (so that consecutive test runs
/// write into the same per-CPU perf ring).
fn pin_to_one_cpu() -> u32 {
    use nix::sched::{sched_setaffinity, CpuSet};
    let cpu = tinybpf::kernel::online_cpus().unwrap()[0];
    let mut set = CpuSet::new();
    set.set(cpu as usize).unwrap();
    sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).unwrap();
    cpu
}

#[test]
fn perfbuf_exactly_once_then_lost_samples_counted() {
    if !common::root_or_skip("perfbuf_exactly_once_then_lost_samples_counted") {
        return;
    }
    let cpu = pin_to_one_cpu();
    let ev = Events::load(None);
    let pb_map = ev.obj.map("pb").unwrap();
    let got = RefCell::new(Vec::<(u32, u64)>::new());
    let lost = RefCell::new(0u64);

    // Part 1: 16 pages per CPU (64 KiB: 819 samples of 80 bytes); 12 runs of
    // 300 samples, read between runs: all arrive, once, in order.
    {
        let mut pb = PerfBuffer::builder(pb_map)
            .pages(16)
            .on_sample(|c, raw: &[u8]| {
                // 4-byte size + 64 bytes, padded to 8: 68 raw bytes.
                assert_eq!(raw.len(), 68);
                let (seq, rec_cpu) = decode(raw);
                assert_eq!(rec_cpu, c, "sample in the wrong CPU's ring");
                got.borrow_mut().push((c, seq));
            })
            .on_lost(|_, n| *lost.borrow_mut() += n)
            .build()
            .unwrap();
        assert!(pb.cpus().contains(&cpu));
        for run in 0..12 {
            assert_eq!(ev.run("xdp_perfbuf", 300), 300, "run {run}");
            got.borrow_mut().clear();
            let n = pb.poll(Duration::from_secs(5)).unwrap();
            assert_eq!(n, 300, "run {run}");
            let want: Vec<(u32, u64)> = (0..300).map(|s| (cpu, s)).collect();
            assert_eq!(*got.borrow(), want, "run {run}");
        }
        assert_eq!(*lost.borrow(), 0);
        assert_eq!(pb.consume().unwrap(), 0);
    }
    // Dropping the reader took the perf events out of the map: outputs fail.
    assert_eq!(ev.run("xdp_perfbuf", 3), 0);
    let failed_before = ev.stat("pb_failed");
    assert_eq!(failed_before, 3);

    // Part 2: a slow reader with 1 page per CPU (51 samples of 80 bytes):
    // 500 samples without reading, then 10 more after reading (the kernel
    // writes the LOST record before the next sample that fits).
    let received = RefCell::new(0u64);
    let mut pb = PerfBuffer::builder(pb_map)
        .pages(1)
        .on_sample(|_, raw: &[u8]| {
            decode(raw);
            *received.borrow_mut() += 1;
        })
        .on_lost(|_, n| *lost.borrow_mut() += n)
        .build()
        .unwrap();
    let sent1 = ev.run("xdp_perfbuf", 500);
    assert!(
        sent1 < 500,
        "a one-page ring took {sent1} samples of 80 bytes"
    );
    assert!(sent1 > 0);
    assert_eq!(pb.consume().unwrap(), sent1 as usize);
    let sent2 = ev.run("xdp_perfbuf", 10);
    assert_eq!(sent2, 10, "ring drained, yet samples failed");
    assert_eq!(pb.poll(Duration::from_secs(5)).unwrap(), 10);
    let produced = 510u64;
    assert_eq!(*received.borrow(), (sent1 + sent2) as u64);
    assert_eq!(*lost.borrow(), produced - *received.borrow(), "lost count");
    assert_eq!(ev.stat("pb_failed") - failed_before, *lost.borrow());
}

/// Poll once with `timeout`; returns (samples, how long it took).
fn timed_poll(pb: &mut PerfBuffer, timeout: Duration) -> (usize, Duration) {
    let t = Instant::now();
    let n = pb.poll(timeout).unwrap();
    (n, t.elapsed())
}

#[test]
fn perfbuf_fewer_wakeups_keep_every_sample() {
    if !common::root_or_skip("perfbuf_fewer_wakeups_keep_every_sample") {
        return;
    }
    let cpu = pin_to_one_cpu();
    let ev = Events::load(None);
    let pb_map = ev.obj.map("pb").unwrap();
    let got = RefCell::new(Vec::<u64>::new());
    let lost = RefCell::new(0u64);
    let on_sample = |c: u32, raw: &[u8]| {
        let (seq, rec_cpu) = decode(raw);
        assert_eq!((c, rec_cpu), (cpu, cpu), "sample in the wrong ring");
        got.borrow_mut().push(seq);
    };
    let slow = Duration::from_millis(300);
    let seqs = |r: std::ops::Range<u64>| r.collect::<Vec<_>>();

    // wakeup_events(8): 5 samples wake nobody (poll waits out its timeout,
    // then still reads them); 20 more wake it at once.
    {
        let mut pb = PerfBuffer::builder(pb_map)
            .pages(16)
            .wakeup_events(8)
            .on_sample(on_sample)
            .on_lost(|_, n| *lost.borrow_mut() += n)
            .build()
            .unwrap();
        assert_eq!(ev.run("xdp_perfbuf", 5), 5);
        let (n, took) = timed_poll(&mut pb, slow);
        assert_eq!(n, 5, "samples below the threshold read at the timeout");
        assert!(
            took >= slow - Duration::from_millis(50),
            "woken after 5 of 8: {took:?}"
        );
        assert_eq!(*got.borrow(), seqs(0..5));
        got.borrow_mut().clear();
        assert_eq!(ev.run("xdp_perfbuf", 20), 20);
        let (n, took) = timed_poll(&mut pb, Duration::from_secs(10));
        assert_eq!(n, 20);
        assert!(
            took < Duration::from_secs(5),
            "not woken after 20 of 8: {took:?}"
        );
        assert_eq!(*got.borrow(), seqs(0..20));
        // Below the threshold again: consume() flushes without waiting.
        got.borrow_mut().clear();
        assert_eq!(ev.run("xdp_perfbuf", 3), 3);
        assert_eq!(pb.consume().unwrap(), 3);
        assert_eq!(*got.borrow(), seqs(0..3));
        assert_eq!(pb.consume().unwrap(), 0);
    }

    // watermark(4096) on a 4-page ring: 10 samples of 80 bytes (800 bytes)
    // wake nobody; 60 more (4800 bytes) do.
    got.borrow_mut().clear();
    {
        let mut pb = PerfBuffer::builder(pb_map)
            .pages(4)
            .watermark(4096)
            .on_sample(on_sample)
            .on_lost(|_, n| *lost.borrow_mut() += n)
            .build()
            .unwrap();
        assert_eq!(ev.run("xdp_perfbuf", 10), 10);
        let (n, took) = timed_poll(&mut pb, slow);
        assert_eq!(n, 10);
        assert!(
            took >= slow - Duration::from_millis(50),
            "woken below the watermark: {took:?}"
        );
        assert_eq!(ev.run("xdp_perfbuf", 60), 60);
        let (n, took) = timed_poll(&mut pb, Duration::from_secs(10));
        assert_eq!(n, 60);
        assert!(
            took < Duration::from_secs(5),
            "not woken past the watermark: {took:?}"
        );
        assert_eq!(*got.borrow(), [seqs(0..10), seqs(0..60)].concat());
    }
    assert_eq!(*lost.borrow(), 0);

    // A full one-page ring with wakeup_events(16): lost samples are counted
    // exactly, and the rest arrive once.
    let received = RefCell::new(0u64);
    let mut pb = PerfBuffer::builder(pb_map)
        .pages(1)
        .wakeup_events(16)
        .on_sample(|_, raw: &[u8]| {
            decode(raw);
            *received.borrow_mut() += 1;
        })
        .on_lost(|_, n| *lost.borrow_mut() += n)
        .build()
        .unwrap();
    let failed_before = ev.stat("pb_failed");
    let sent1 = ev.run("xdp_perfbuf", 500);
    assert!(sent1 > 0 && sent1 < 500, "{sent1} of 500 fit in one page");
    assert_eq!(pb.consume().unwrap(), sent1 as usize);
    assert_eq!(ev.run("xdp_perfbuf", 10), 10);
    assert_eq!(
        pb.consume().unwrap(),
        10,
        "samples below the threshold, flushed"
    );
    assert_eq!(*received.borrow(), sent1 as u64 + 10);
    assert_eq!(*lost.borrow(), 500 - sent1 as u64, "lost count");
    assert_eq!(ev.stat("pb_failed") - failed_before, *lost.borrow());
    drop(pb);

    // Thresholds that cannot work are refused, naming the fix.
    let e = PerfBuffer::builder(pb_map)
        .wakeup_events(0)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("wakeup_events(0)"), "{e}");
    for bytes in [0, u32::MAX] {
        let e = PerfBuffer::builder(pb_map)
            .pages(4)
            .watermark(bytes)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("watermark of"), "{e}");
    }
}

/// Run the current thread on `cpu` only.
fn pin_to(cpu: u32) {
    use nix::sched::{sched_setaffinity, CpuSet};
    let mut set = CpuSet::new();
    set.set(cpu as usize).unwrap();
    sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).unwrap();
}

#[test]
fn perfbuf_poll_reads_only_ready_rings_and_every_cpu_arrives() {
    if !common::root_or_skip("perfbuf_poll_reads_only_ready_rings_and_every_cpu_arrives") {
        return;
    }
    let cpus = tinybpf::kernel::online_cpus().unwrap();
    let ev = Events::load(None);
    let got = RefCell::new(Vec::<(u32, u64)>::new());
    let lost = RefCell::new(0u64);
    // watermark(4096) on 4-page rings: 10 samples of 80 bytes wake nobody,
    // 60 do.
    let mut pb = PerfBuffer::builder(ev.obj.map("pb").unwrap())
        .pages(4)
        .watermark(4096)
        .on_sample(|c, raw: &[u8]| {
            let (seq, rec_cpu) = decode(raw);
            assert_eq!(rec_cpu, c, "sample in the wrong CPU's ring");
            got.borrow_mut().push((c, seq));
        })
        .on_lost(|_, n| *lost.borrow_mut() += n)
        .build()
        .unwrap();
    assert_eq!(pb.ring_count(), pb.cpus().len());
    assert!(pb.ring_fd(pb.ring_count()).is_none());
    assert!(pb.consume_ring(pb.ring_count()).is_err());
    let ring_cpus = pb.cpus();
    let index = |cpu: u32| ring_cpus.iter().position(|&c| c == cpu).unwrap();
    let seqs = |cpu: u32, n: u64| (0..n).map(|s| (cpu, s)).collect::<Vec<_>>();

    // Every CPU in turn, each waking the reader: each poll delivers that
    // CPU's samples, whichever ring it is.
    for &cpu in &cpus {
        pin_to(cpu);
        assert_eq!(ev.run("xdp_perfbuf", 60), 60, "CPU {cpu}");
        got.borrow_mut().clear();
        assert_eq!(pb.poll(Duration::from_secs(5)).unwrap(), 60, "CPU {cpu}");
        assert_eq!(*got.borrow(), seqs(cpu, 60), "CPU {cpu}");
        assert!(pb.ring_fd(index(cpu)).is_some());
    }
    if let [a, b, ..] = cpus[..] {
        // 10 samples on CPU a (below the watermark), 60 on CPU b: a poll
        // woken by b reads b's ring only; a's samples wait for a timeout
        // (which reads every ring) or an explicit consume.
        pin_to(a);
        assert_eq!(ev.run("xdp_perfbuf", 10), 10);
        pin_to(b);
        assert_eq!(ev.run("xdp_perfbuf", 60), 60);
        got.borrow_mut().clear();
        assert_eq!(pb.poll(Duration::from_secs(5)).unwrap(), 60);
        assert_eq!(*got.borrow(), seqs(b, 60), "only the ready ring read");
        got.borrow_mut().clear();
        let (n, took) = timed_poll(&mut pb, Duration::from_millis(200));
        assert_eq!(n, 10, "the timeout reads every ring");
        assert!(took >= Duration::from_millis(150), "woken: {took:?}");
        assert_eq!(*got.borrow(), seqs(a, 10));
        // consume_ring reads one CPU's ring only.
        pin_to(a);
        assert_eq!(ev.run("xdp_perfbuf", 5), 5);
        pin_to(b);
        assert_eq!(ev.run("xdp_perfbuf", 7), 7);
        got.borrow_mut().clear();
        let (ia, ib) = (index(a), index(b));
        assert_eq!(pb.consume_ring(ib).unwrap(), 7);
        assert_eq!(pb.consume_ring(ia).unwrap(), 5);
        assert_eq!(*got.borrow(), [seqs(b, 7), seqs(a, 5)].concat());
        assert_eq!(pb.consume().unwrap(), 0);
        // A quiet ring is not starved by a busy one: 10 samples on CPU a
        // (below the watermark, never ready), while CPU b keeps waking
        // every poll; a's arrive once `timeout` has passed since every
        // ring was last read.
        pin_to(a);
        assert_eq!(ev.run("xdp_perfbuf", 10), 10);
        got.borrow_mut().clear();
        let start = std::time::Instant::now();
        let timeout = Duration::from_millis(50);
        let mut polls = 0;
        while !got.borrow().iter().any(|&(c, _)| c == a) && start.elapsed() < Duration::from_secs(2)
        {
            pin_to(b);
            assert_eq!(ev.run("xdp_perfbuf", 60), 60);
            pb.poll(timeout).unwrap();
            polls += 1;
        }
        let from_a: Vec<(u32, u64)> = got
            .borrow()
            .iter()
            .copied()
            .filter(|&(c, _)| c == a)
            .collect();
        assert_eq!(
            from_a,
            seqs(a, 10),
            "after {polls} polls in {:?}",
            start.elapsed()
        );
        assert_eq!(pb.consume().unwrap(), 0);
    }
    assert_eq!(*lost.borrow(), 0);
}

#[test]
fn test_run_returns_value_and_data() {
    if !common::root_or_skip("test_run_returns_value_and_data") {
        return;
    }
    let open = OpenObject::open(common::obj("globals.bpf.o")).unwrap();
    let vars = globals(&open, ".bss");
    let obj = open.load().unwrap();
    let calls = obj.program("xdp_calls").unwrap();
    let r = calls
        .test_run(&TestRunOpts::default().data_in(&PACKET).repeat(1))
        .unwrap();
    assert_eq!(r.retval, 26);
    assert_eq!(r.data_out, PACKET);

    let count = obj.program("xdp_count").unwrap();
    let bss = data_map(&obj, ".bss");
    let last_len = vars["last_len"];
    let total = vars["total"];
    let mut sum = 0u64;
    for len in [14usize, 60, 100, 1500] {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let r = count
            .test_run(&TestRunOpts::default().data_in(&data).repeat(1))
            .unwrap();
        assert_eq!(r.retval, 1, "XDP_DROP with multiplier 1");
        assert_eq!(r.data_out, data, "packet data comes back unchanged");
        sum += len as u64;
        // .bss through its memory mapping, and through a lookup.
        let mem = bss.data().expect(".bss is memory-mapped");
        let seen = u32::from_ne_bytes(mem[last_len..last_len + 4].try_into().unwrap());
        assert_eq!(seen as usize, len);
        assert_eq!(read_u64(bss, total), sum);
    }
    // repeat runs the program that many times.
    let r = count
        .test_run(&TestRunOpts::default().data_in(&PACKET).repeat(5))
        .unwrap();
    assert_eq!(r.retval, 1);
    assert_eq!(read_u64(bss, total), sum + 5 * PACKET.len() as u64);
    // Too short a packet for XDP: the kernel refuses, with a typed error.
    let e = count
        .test_run(&TestRunOpts::default().data_in(&[0u8; 4]).repeat(1))
        .unwrap_err();
    assert_eq!(e.errno(), Some(nix::errno::Errno::EINVAL), "{e}");
    assert!(e.to_string().contains("xdp_count"), "{e}");
}

fn execsnoop_sees_true(args: &[&str]) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    let mut child = Command::new(common::example("execsnoop"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let err_text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let err_sink = err_text.clone();
    let err_thread = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let mut e = err_sink.lock().unwrap();
            e.push_str(&line);
            e.push('\n');
        }
    });
    let wait_line = |pred: &dyn Fn(&str) -> bool, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(l) if pred(&l) => return l,
                Ok(l) => seen.push(l),
                Err(_) => break,
            }
        }
        let err = err_text.lock().unwrap().clone();
        let tail = &seen[seen.len().saturating_sub(20)..];
        panic!(
            "execsnoop {args:?}: no {what}; {} other lines, last: {tail:?}; stderr: {err}",
            seen.len()
        );
    };
    wait_line(
        &|l| l.starts_with("PID") && l.contains("FILENAME"),
        "header",
    );
    let me = std::process::id();
    let mut pids = Vec::new();
    for _ in 0..3 {
        let mut t = Command::new("/bin/true").spawn().unwrap();
        pids.push(t.id());
        assert!(t.wait().unwrap().success());
    }
    // Other tests may run /bin/true too: look for our three children.
    let ours = |l: &str| {
        let pid = l
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        l.ends_with("/bin/true") && pid.is_some_and(|p| pids.contains(&p))
    };
    let mut seen = Vec::new();
    for _ in 0..3 {
        let line = wait_line(&ours, "line for our /bin/true");
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 5, "{line}");
        let (pid, ppid): (u32, u32) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        assert_eq!(ppid, me, "{line}: parent pid (CO-RE read)");
        assert_eq!(f[2], "0", "{line}: uid");
        seen.push(pid);
    }
    seen.sort_unstable();
    assert_eq!(seen, pids, "each exec reported once");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("execsnoop did not exit on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = err_thread.join();
    let err = err_text.lock().unwrap().clone();
    assert_eq!(
        status.code(),
        Some(0),
        "execsnoop exit: {status:?}; stderr: {err}"
    );
    if args.is_empty() {
        assert!(
            !err.contains("falling back"),
            "ring buffer variant failed: {err}"
        );
    }
}

#[test]
fn execsnoop_example_ringbuf() {
    if !common::root_or_skip("execsnoop_example_ringbuf") {
        return;
    }
    execsnoop_sees_true(&[]);
}

#[test]
fn execsnoop_example_perf() {
    if !common::root_or_skip("execsnoop_example_perf") {
        return;
    }
    execsnoop_sees_true(&["--perf"]);
}
