//! Every common attach type on the real kernel: raw tracepoint, tp_btf,
//! uprobe/uretprobe (on a function of this test binary, exact hit counts),
//! perf_event (software clock), and kprobe (this kernel has none: says why).

mod common;

use std::process::Command;
use tinybpf::{Error, Object, OpenObject, Pid, ProbeKind, UprobeOpts};

const RAW_TP: u32 = 0;
const TP_BTF: u32 = 1;
const UPROBE: u32 = 3;
const URETPROBE: u32 = 4;
const PERF_EVENT: u32 = 6;

fn load() -> Object {
    let mut open = OpenObject::open(common::obj("attach.bpf.o")).unwrap();
    // fentry is refused by this kernel (EPERM, for libbpf too): tested apart.
    open.set_autoload("on_unlinkat_entry", false).unwrap();
    open.load().unwrap()
}

fn hits(obj: &Object, slot: u32) -> u64 {
    obj.map("hits")
        .unwrap()
        .get::<u32, u64>(&slot)
        .unwrap()
        .unwrap_or(0)
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn tinybpf_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(3))
}

#[test]
fn raw_tracepoint_and_tp_btf() {
    if !common::root_or_skip("raw_tracepoint_and_tp_btf") {
        return;
    }
    let obj = load();
    let raw = obj.program("on_raw_sys_enter").unwrap().attach().unwrap();
    let btf = obj.program("on_sched_exec").unwrap().attach().unwrap();
    assert!(raw.info().unwrap().is_some());
    for _ in 0..3 {
        Command::new("/bin/true").status().unwrap();
    }
    assert!(hits(&obj, RAW_TP) > 0, "raw_tp/sys_enter never ran");
    assert!(
        hits(&obj, TP_BTF) >= 3,
        "tp_btf/sched_process_exec: {}",
        hits(&obj, TP_BTF)
    );
    drop((raw, btf));
    let before = hits(&obj, TP_BTF);
    Command::new("/bin/true").status().unwrap();
    assert_eq!(
        hits(&obj, TP_BTF),
        before,
        "still attached after the link was dropped"
    );
}

#[test]
fn uprobe_and_uretprobe_count_exactly() {
    if !common::root_or_skip("uprobe_and_uretprobe_count_exactly") {
        return;
    }
    let obj = load();
    let exe = std::env::current_exe().unwrap();
    let off = tinybpf::uprobe::symbol_offset(&exe, "tinybpf_uprobe_target").unwrap();
    let only_us = UprobeOpts::default().pid(Pid::Of(std::process::id()));
    let up = obj
        .program("on_uprobe")
        .unwrap()
        .attach_uprobe(&exe, off, only_us)
        .unwrap();
    let ret = obj
        .program("on_uretprobe")
        .unwrap()
        .attach_uprobe(&exe, off, only_us.kind(ProbeKind::Return))
        .unwrap();
    for i in 0..7 {
        tinybpf_uprobe_target(i);
    }
    assert_eq!(hits(&obj, UPROBE), 7);
    assert_eq!(hits(&obj, URETPROBE), 7);
    drop((up, ret));
    tinybpf_uprobe_target(1);
    assert_eq!(hits(&obj, UPROBE), 7, "uprobe still attached after drop");
}

#[test]
fn perf_event_program_on_a_software_clock() {
    if !common::root_or_skip("perf_event_program_on_a_software_clock") {
        return;
    }
    let obj = load();
    // PERF_TYPE_SOFTWARE / PERF_COUNT_SW_CPU_CLOCK, sampled every 1 ms of CPU.
    let perf = tinybpf::kernel::cpu_clock_event(0, -1, 1_000_000).unwrap();
    let link = obj
        .program("on_perf_event")
        .unwrap()
        .attach_perf_event(perf)
        .unwrap();
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < std::time::Duration::from_millis(100) {
        x = std::hint::black_box(x.wrapping_add(1));
    }
    assert!(hits(&obj, PERF_EVENT) > 0, "perf_event program never ran");
    drop(link);
}

#[test]
fn kprobe_loads_but_says_why_it_cannot_attach() {
    if !common::root_or_skip("kprobe_loads_but_says_why_it_cannot_attach") {
        return;
    }
    let obj = load();
    let p = obj.program("on_kprobe_unlinkat").unwrap();
    if std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        eprintln!("this kernel has kprobes; attaching for real");
        p.attach().unwrap();
        return;
    }
    match p.attach() {
        Err(Error::Attach {
            program, reason, ..
        }) => {
            assert_eq!(program, "on_kprobe_unlinkat");
            assert!(reason.to_string().contains("CONFIG_KPROBES"), "{reason}");
        }
        other => panic!("expected an attach error, got {other:?}"),
    }
}

#[test]
fn targetless_sections_are_not_auto_attachable() {
    if !common::root_or_skip("targetless_sections_are_not_auto_attachable") {
        return;
    }
    let obj = load();
    let p = obj.program("on_uprobe").unwrap();
    assert!(!p.auto_attachable());
    match p.attach() {
        Err(Error::Attach { reason, .. }) => {
            assert!(
                reason.to_string().contains("not auto-attachable"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
}
