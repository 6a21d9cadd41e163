//! Parallel program loading (`LoadOptions::jobs`): the same object with 1
//! and several threads, and the same error (the first failing program in
//! object order) with nothing left in the kernel.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tinybpf::{Error, Object, OpenObject, TestRunOpts};

fn load(name: &str, jobs: usize) -> tinybpf::Result<Object> {
    let mut o = OpenObject::open(common::obj(name)).unwrap();
    o.options_mut().jobs = jobs;
    o.load()
}

/// Name, section, tag, verified insns and test-run result of every program.
fn describe(obj: &Object) -> Vec<(String, String, [u8; 8], u32, u32)> {
    let mut pkt = [0u8; 64];
    pkt[12] = 0x08; // IPv4 ethertype, so the kernel takes the packet as is
    obj.programs()
        .iter()
        .map(|p| {
            let info = tinybpf::kernel::prog_info(p.fd()).unwrap();
            let run = p
                .test_run(&TestRunOpts::default().data_in(&pkt).repeat(1))
                .unwrap();
            (
                p.name().to_string(),
                p.section().to_string(),
                info.tag,
                info.verified_insns,
                run.retval,
            )
        })
        .collect()
}

#[test]
fn default_jobs_is_one_per_available_cpu() {
    // 0: one thread per available CPU, counted when helpers are started.
    assert_eq!(tinybpf::LoadOptions::default().jobs, 0);
}

#[test]
fn many_programs_load_identically_with_one_and_four_jobs() {
    if !common::root_or_skip("many_programs_load_identically_with_one_and_four_jobs") {
        return;
    }
    let _g = common::kernel_lock();
    let seq = describe(&load("bench_many.bpf.o", 1).unwrap());
    assert_eq!(seq.len(), 16);
    let names: Vec<String> = (0..16).map(|i| format!("heavy_{i}")).collect();
    let got: Vec<String> = seq.iter().map(|d| d.0.clone()).collect();
    assert_eq!(got, names, "object order");
    // The programs differ (seeds), so equal results below are not vacuous.
    let rets: BTreeSet<u32> = seq.iter().map(|d| d.4).collect();
    assert_eq!(rets.len(), 16, "test-run results: {rets:?}");
    for jobs in [4, 0] {
        let par = describe(&load("bench_many.bpf.o", jobs).unwrap());
        assert_eq!(par, seq, "jobs={jobs} differs from jobs=1");
    }
}

/// With more than one job the kernel's BTF is read on another thread while
/// the maps are made, and CO-RE runs after them: the relocated programs
/// (their tags hash the final instructions) are those of the plain order.
#[test]
fn co_re_with_the_btf_thread_matches_the_plain_order() {
    if !common::root_or_skip("co_re_with_the_btf_thread_matches_the_plain_order") {
        return;
    }
    let _g = common::kernel_lock();
    let tags = |jobs: usize| -> Vec<(String, [u8; 8], u32)> {
        let obj = load("execsnoop.bpf.o", jobs).unwrap();
        obj.programs()
            .iter()
            .map(|p| {
                let info = tinybpf::kernel::prog_info(p.fd()).unwrap();
                (p.name().to_string(), info.tag, info.verified_insns)
            })
            .collect()
    };
    let plain = tags(1);
    assert!(!plain.is_empty());
    for jobs in [2, 0] {
        assert_eq!(tags(jobs), plain, "jobs={jobs}");
    }
}

/// Program ids this process holds now.
fn held_progs() -> BTreeSet<u32> {
    common::HeldIds::of("self").progs
}

#[test]
fn first_failing_program_in_object_order_and_nothing_left() {
    if !common::root_or_skip("first_failing_program_in_object_order_and_nothing_left") {
        return;
    }
    // Alone in this binary while it watches the ids this process holds.
    let _g = common::kernel_lock();
    let mut seen = Vec::new();
    for jobs in [1, 4, 8] {
        let before = held_progs();
        // Watch the programs this process holds while the load runs: the
        // ones that loaded before the failure, closed again on error.
        let stop = AtomicBool::new(false);
        let (r, made) = std::thread::scope(|s| {
            let w = s.spawn(|| {
                let mut made = BTreeSet::new();
                while !stop.load(Ordering::Relaxed) {
                    made.extend(held_progs().difference(&before).copied());
                    std::thread::sleep(Duration::from_micros(200));
                }
                made
            });
            let r = load("parload_fail.bpf.o", jobs);
            stop.store(true, Ordering::Relaxed);
            (r, w.join().unwrap())
        });
        let Err(Error::Verifier {
            program,
            errno,
            log,
        }) = r
        else {
            panic!("jobs={jobs}: expected a verifier error, got {r:?}");
        };
        assert_eq!(program, "pf_bad_3", "jobs={jobs}");
        assert!(
            log.contains("invalid access to packet"),
            "jobs={jobs}: {log}"
        );
        assert!(!made.is_empty(), "jobs={jobs}: saw no program being loaded");
        let ids = common::HeldIds {
            progs: made,
            ..Default::default()
        };
        ids.assert_all_gone(&format!("parload_fail jobs={jobs}"), 5);
        seen.push((program, errno, log));
    }
    assert_eq!(seen[0], seen[1], "jobs=4 error differs from jobs=1");
    assert_eq!(seen[0], seen[2], "jobs=8 error differs from jobs=1");
}
