//! Map definitions libbpf and cilium/ebpf accept though the kernel would
//! not take them as written (bpf/mapcompat.bpf.o), on the real kernel:
//! iproute2's `struct bpf_elf_map` (inner map by id, outer slot, pinning)
//! and a PERF_EVENT_ARRAY declared with a u64 value and 1024 entries.

mod common;

use common::HeldIds;
use tinybpf::abi::map_type;
use tinybpf::obj::Pinning;
use tinybpf::obj::{ObjectSpec, SlotTarget};
use tinybpf::{OpenObject, TestRunOpts};

fn bytes() -> Vec<u8> {
    std::fs::read(common::obj("mapcompat.bpf.o")).unwrap()
}

#[test]
fn elf_map_fields_are_understood() {
    let spec = ObjectSpec::parse("mapcompat", &bytes()).unwrap();
    let outer = spec.map("outer").unwrap();
    assert_eq!(outer.map_type, map_type::ARRAY_OF_MAPS);
    let inner = outer.inner.as_ref().expect("inner template from inner_id");
    assert_eq!(
        (inner.name.as_str(), inner.key_size, inner.value_size),
        ("inner_arr", 4, 8)
    );
    assert_eq!(
        outer.init_slots,
        vec![(3, SlotTarget::Map("inner_arr".into()))]
    );
    assert_eq!(spec.map("pinned_cnt").unwrap().pinning, Pinning::ByName);
    assert_eq!(spec.map("inner_arr").unwrap().pinning, Pinning::None);
}

#[test]
fn loads_and_runs_with_kernel_sizes() {
    if !common::root_or_skip("loads_and_runs_with_kernel_sizes") {
        return;
    }
    let _g = common::kernel_lock();
    let root = std::path::PathBuf::from(format!(
        "/sys/fs/bpf/tinybpf-test-mapcompat-{}",
        std::process::id()
    ));
    tinybpf::kernel::ensure_bpffs(&root).unwrap();
    let held_before = HeldIds::of("self");
    {
        let mut open = OpenObject::from_bytes("mapcompat", &bytes()).unwrap();
        open.options_mut().pin_root = root.clone();
        let obj = open.load().unwrap();
        let cpus = tinybpf::kernel::possible_cpus().unwrap();

        let events = obj.map("events").unwrap();
        let info = tinybpf::kernel::map_info(events.fd()).unwrap();
        assert_eq!(
            (info.key_size, info.value_size, info.max_entries),
            (4, 4, cpus.min(1024))
        );
        assert_eq!(events.max_entries(), info.max_entries);
        assert_eq!(events.value_size(), 4);

        let outer = obj.map("outer").unwrap();
        assert_eq!(tinybpf::kernel::map_info(outer.fd()).unwrap().value_size, 4);
        // outer[3] holds inner_arr (by id, as iproute2 fills it).
        let inner_id = obj.map("inner_arr").unwrap().id().unwrap();
        assert_eq!(outer.get::<u32, u32>(&3).unwrap(), Some(inner_id));
        assert_eq!(outer.get::<u32, u32>(&0).unwrap(), None);

        let prog = obj.program("xdp_compat").unwrap();
        let run = || {
            prog.test_run(&TestRunOpts::default().data_in(&[0u8; 64]).repeat(1))
                .unwrap()
                .retval
        };
        assert_eq!(run(), 105);
        assert_eq!(run(), 110);
        let inner = obj.map("inner_arr").unwrap();
        assert_eq!(inner.get::<u32, u64>(&1).unwrap(), Some(10));

        // pinning 2 (PIN_GLOBAL_NS): pinned by name under the pin root.
        let pinned = tinybpf::Map::from_pin(root.join("pinned_cnt")).unwrap();
        assert_eq!(pinned.get::<u32, u64>(&0).unwrap(), Some(2));
        assert!(!root.join("inner_arr").exists());
    }
    let _ = std::fs::remove_dir_all(&root);
    HeldIds::of("self")
        .minus(&held_before)
        .assert_all_gone("mapcompat", 5);
}
