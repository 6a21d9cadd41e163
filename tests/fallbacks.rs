//! The loader's fallbacks for older kernels, forced on this one through the
//! feature overrides: perf events attached by `PERF_EVENT_IOC_SET_BPF`
//! (kernels before 5.15 have no perf links) work as well as perf links.

mod common;

use tinybpf::features::Features;
use tinybpf::{Object, OpenObject};

const SLOT_GETPID: u32 = 4;

fn getpid_hits(obj: &Object) -> u64 {
    obj.map("counts")
        .unwrap()
        .get::<u32, u64>(&SLOT_GETPID)
        .unwrap()
        .unwrap_or(0)
}

/// Attach `count_getpid`, call getpid 5 times, return the link's kind
/// (`true`: a bpf link the kernel describes) and the hits seen.
fn attach_and_count(obj: &Object) -> (bool, u64) {
    let before = getpid_hits(obj);
    let link = obj.program("count_getpid").unwrap().attach().unwrap();
    for _ in 0..5 {
        // SAFETY: getpid has no preconditions.
        std::hint::black_box(unsafe { libc::syscall(libc::SYS_getpid) });
    }
    let is_link = link.info().unwrap().is_some();
    let hits = getpid_hits(obj) - before;
    drop(link);
    (is_link, hits)
}

/// Both perf-event attach paths in one test: the override is process-wide.
#[test]
fn perf_event_attach_by_link_and_by_ioctl() {
    if !common::root_or_skip("perf_event_attach_by_link_and_by_ioctl") {
        return;
    }
    // This kernel (>= 5.15) has perf links.
    assert!(Features::perf_link());
    let mut open = OpenObject::open(common::obj("tracepoints.bpf.o")).unwrap();
    open.load_only(&["count_getpid"]).unwrap();
    let obj = open.load().unwrap();

    let (is_link, hits) = attach_and_count(&obj);
    assert!(is_link, "perf link expected on this kernel");
    assert!(hits >= 5, "perf link: {hits} getpid hits, expected >= 5");

    Features::set_perf_link_override(Some(false));
    assert!(!Features::perf_link());
    let (is_link, hits) = attach_and_count(&obj);
    Features::set_perf_link_override(None);
    assert!(
        !is_link,
        "ioctl attach expected with perf links overridden off"
    );
    assert!(hits >= 5, "ioctl attach: {hits} getpid hits, expected >= 5");
    assert!(Features::perf_link());
}
