//! Feature probes against the running kernel (6.18 here, or any kernel with
//! the features asserted; the CI kernel is at least that new): everything
//! this kernel has is found, made-up types are not.

mod common;

use tinybpf::btf::BtfFeatures;
use tinybpf::features::{map_type_name, prog_type_name, Features};

const PROG_SOCKET_FILTER: u32 = 1;
const PROG_KPROBE: u32 = 2;
const PROG_TRACEPOINT: u32 = 5;
const PROG_XDP: u32 = 6;
const PROG_CGROUP_SOCK_ADDR: u32 = 18;
const PROG_TRACING: u32 = 26;
const PROG_SK_LOOKUP: u32 = 30;

const HELPER_MAP_LOOKUP_ELEM: u32 = 1;
const HELPER_TRACE_PRINTK: u32 = 6;
const HELPER_RINGBUF_OUTPUT: u32 = 130;
const HELPER_GET_CURRENT_TASK_BTF: u32 = 158;
/// bpf_override_return: kprobe-only; socket filters may not call it.
const HELPER_OVERRIDE_RETURN: u32 = 58;

#[test]
fn btf_features_all_present() {
    if !common::root_or_skip("btf_features_all_present") {
        return;
    }
    assert!(Features::btf_supported());
    assert_eq!(Features::btf_probed(), BtfFeatures::all());
    // The override answers instead of the probes, and goes away again.
    Features::set_btf_override(Some(BtfFeatures::none()));
    assert_eq!(Features::btf(), BtfFeatures::none());
    Features::set_btf_override(None);
    assert_eq!(Features::btf(), BtfFeatures::all());
}

#[test]
fn prog_types() {
    if !common::root_or_skip("prog_types") {
        return;
    }
    for t in [
        PROG_SOCKET_FILTER,
        PROG_KPROBE,
        PROG_TRACEPOINT,
        PROG_XDP,
        PROG_CGROUP_SOCK_ADDR,
        PROG_TRACING,
        PROG_SK_LOOKUP,
    ] {
        assert!(Features::prog_type(t), "{:?} not found", prog_type_name(t));
    }
    assert!(!Features::prog_type(999));
    assert!(!Features::prog_type(0), "unspec is no program type");
    // Cached: same answer again.
    assert!(Features::prog_type(PROG_XDP));
}

#[test]
fn map_types() {
    if !common::root_or_skip("map_types") {
        return;
    }
    // hash, array, prog_array, perf_event_array, percpu_*, stack_trace,
    // lru_*, lpm_trie, maps of maps, queue, stack, sk_storage, ringbuf,
    // task_storage, bloom_filter, user_ringbuf.
    for t in [
        1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 22, 23, 24, 27, 29, 30, 31,
    ] {
        assert!(Features::map_type(t), "{:?} not found", map_type_name(t));
    }
    assert!(Features::ringbuf());
    assert!(!Features::map_type(999));
    assert!(!Features::map_type(0));
}

#[test]
fn helpers() {
    if !common::root_or_skip("helpers") {
        return;
    }
    assert!(Features::helper(PROG_SOCKET_FILTER, HELPER_MAP_LOOKUP_ELEM));
    assert!(Features::helper(PROG_KPROBE, HELPER_TRACE_PRINTK));
    assert!(Features::helper(PROG_KPROBE, HELPER_RINGBUF_OUTPUT));
    assert!(Features::helper(
        PROG_TRACEPOINT,
        HELPER_GET_CURRENT_TASK_BTF
    ));
    assert!(!Features::helper(
        PROG_SOCKET_FILTER,
        HELPER_OVERRIDE_RETURN
    ));
    assert!(!Features::helper(PROG_KPROBE, 100_000), "made-up helper");
    assert!(
        !Features::helper(999, HELPER_MAP_LOOKUP_ELEM),
        "made-up type"
    );
}

#[test]
fn misc_probes() {
    if !common::root_or_skip("misc_probes") {
        return;
    }
    assert!(Features::perf_link(), "perf links exist since 5.15");
    assert!(Features::log_true_size(), "log_true_size exists since 6.4");
    assert!(
        Features::memcg_account(),
        "memcg accounting exists since 5.11"
    );
}

#[test]
fn names() {
    assert_eq!(prog_type_name(6), Some("xdp"));
    assert_eq!(prog_type_name(32), Some("netfilter"));
    assert_eq!(prog_type_name(999), None);
    assert_eq!(map_type_name(27), Some("ringbuf"));
    assert_eq!(map_type_name(33), Some("arena"));
    assert_eq!(map_type_name(34), None);
}
