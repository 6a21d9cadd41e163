//! Soak test (root): many open → load → (attach → trigger →) drop cycles of
//! `hello` and `maps`, then the process and the kernel must be back where
//! they started: same fd count, none of the programs, maps or links the
//! cycles created still exist, and RSS within a small slack of its value
//! after warm-up.
//!
//! Default: 1,000 open→load→drop cycles and 50 full attach cycles (detaching
//! a tracepoint perf link costs the kernel ~30–100 ms here).
//! `TINYBPF_SOAK_CYCLES=N` sets the number of attach cycles (e.g. 1000) and
//! `TINYBPF_SOAK_LOADS=N` the number of load-only cycles.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};
use tinybpf::{Object, OpenObject};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Resident set size in bytes (/proc/self/statm, field 2, in pages).
fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages
        * nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .unwrap()
            .unwrap() as usize
}

/// Every kernel id an object's programs, maps and links have.
#[derive(Default)]
struct Ids {
    progs: BTreeSet<u32>,
    maps: BTreeSet<u32>,
    links: BTreeSet<u32>,
}

impl Ids {
    fn record(&mut self, obj: &Object) {
        for p in obj.programs() {
            self.progs.insert(p.id().unwrap());
        }
        for m in obj.maps() {
            self.maps.insert(m.id().unwrap());
        }
        for l in obj.links() {
            if let Ok(Some(i)) = l.info() {
                self.links.insert(i.id);
            }
        }
    }

    /// Which of the recorded ids still exist in the kernel. Programs free
    /// their maps after an RCU grace period and perf links are torn down
    /// asynchronously, so this polls for up to 10 s.
    fn assert_all_gone(&self) {
        let t0 = Instant::now();
        loop {
            let progs: BTreeSet<u32> = common::prog_ids().into_iter().collect();
            let maps: BTreeSet<u32> = common::map_ids().into_iter().collect();
            let links: BTreeSet<u32> = common::link_ids().into_iter().collect();
            let lp: Vec<_> = self.progs.intersection(&progs).collect();
            let lm: Vec<_> = self.maps.intersection(&maps).collect();
            let ll: Vec<_> = self.links.intersection(&links).collect();
            if lp.is_empty() && lm.is_empty() && ll.is_empty() {
                return;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                panic!(
                    "left in the kernel after the soak: programs {lp:?}, maps {lm:?}, links {ll:?}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn load(name: &str) -> Object {
    OpenObject::open(common::obj(name))
        .unwrap()
        .load()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Run /bin/true (fork + execve), returning its pid.
fn trigger() -> u32 {
    let mut c = Command::new("/bin/true").spawn().unwrap();
    let pid = c.id();
    assert!(c.wait().unwrap().success());
    pid
}

fn check_baseline(what: &str, fds: usize, rss0: usize, slack: usize) {
    assert_eq!(common::fd_count(), fds, "{what}: fd count changed (leak)");
    let now = rss();
    assert!(
        now <= rss0 + slack,
        "{what}: RSS grew from {rss0} to {now} bytes (slack {slack})"
    );
}

#[test]
fn soak_load_and_attach_cycles_return_to_baseline() {
    if !common::root_or_skip("soak_load_and_attach_cycles_return_to_baseline") {
        return;
    }
    let _g = common::kernel_lock();
    let loads = env_usize("TINYBPF_SOAK_LOADS", 1000);
    let attaches = env_usize("TINYBPF_SOAK_CYCLES", 50);
    let objs = ["hello.bpf.o", "maps.bpf.o"];

    // Warm-up: allocator arenas, tracefs discovery, lazy statics.
    for name in objs {
        let mut o = load(name);
        o.attach_all().unwrap();
        trigger();
    }
    let fds = common::fd_count();
    let rss0 = rss();
    let mut ids = Ids::default();
    let t0 = Instant::now();

    // Load-only cycles.
    for i in 0..loads {
        let obj = load(objs[i % objs.len()]);
        assert!(!obj.programs().is_empty());
        ids.record(&obj);
        drop(obj);
        if i % 100 == 99 {
            check_baseline(&format!("after {} load cycles", i + 1), fds, rss0, 8 << 20);
        }
    }
    let t_loads = t0.elapsed();

    // Full cycles: load, attach, trigger (and see the trigger counted by
    // `maps`), drop.
    let t1 = Instant::now();
    for i in 0..attaches {
        let name = objs[i % objs.len()];
        let mut obj = load(name);
        assert_eq!(obj.attach_all().unwrap(), 1, "{name}");
        ids.record(&obj);
        let pid = trigger();
        if name == "maps.bpf.o" {
            let execs = obj.map("execs").unwrap();
            let found = execs.lookup(&pid.to_ne_bytes(), 0).unwrap();
            assert!(found.is_some(), "cycle {i}: exec of pid {pid} not recorded");
        }
        drop(obj);
        if i % 10 == 9 {
            check_baseline(
                &format!("after {} attach cycles", i + 1),
                fds,
                rss0,
                8 << 20,
            );
        }
    }
    let t_attach = t1.elapsed();
    eprintln!(
        "soak: {loads} load cycles in {t_loads:.2?}, {attaches} attach cycles in {t_attach:.2?}; \
         {} programs, {} maps, {} links created; RSS {} -> {} bytes",
        ids.progs.len(),
        ids.maps.len(),
        ids.links.len(),
        rss0,
        rss()
    );
    assert_eq!(
        ids.progs.len(),
        loads + attaches,
        "program ids not distinct"
    );
    check_baseline("at the end", fds, rss0, 8 << 20);
    ids.assert_all_gone();
}
