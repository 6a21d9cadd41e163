//! Names longer than the kernel's 15-byte obj names (bpf/longnames.bpf.o):
//! the spec, the API and pin paths keep them in full; only the copy given to
//! the kernel (`map_name`, `prog_name`) is cut to 15 bytes.

mod common;

use std::path::PathBuf;
use tinybpf::map_flags;
use tinybpf::{Map, OpenObject, TestRunOpts};

const MAPS: [&str; 4] = [
    "cilium_ratelimit",
    "cilium_ratelimit_metrics",
    "process_exec_counter_map",
    "process_exec_counter_other",
];
const PROGS: [&str; 2] = [
    "longnames_xdp_program_first",
    "longnames_xdp_program_second",
];

#[test]
fn spec_keeps_full_names_and_kernel_copies_are_15_bytes() {
    let open = OpenObject::open(common::obj("longnames.bpf.o")).unwrap();
    let spec = open.spec();
    let names: Vec<&str> = spec.maps.iter().map(|m| m.name.as_str()).collect();
    for n in MAPS {
        assert!(names.contains(&n), "map {n} in {names:?}");
        let m = spec.map(n).unwrap();
        assert_eq!(m.name, n);
        assert_eq!(m.kernel_name(), n[..15]);
    }
    // The custom data section keeps its full name too.
    let data = spec.map(".data.long_named_counters").unwrap();
    assert_eq!(data.name, ".data.long_named_counters");
    assert_eq!(data.kernel_name(), ".data.long_name");
    // No name is listed twice, no truncation is found as a map.
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "{names:?}");
    assert!(spec.map("cilium_ratelimi").is_none());
    for p in PROGS {
        assert_eq!(spec.program(p).unwrap().name, p);
    }
}

/// The private pin root, removed (with whatever is left in it) on drop.
struct PinRoot(PathBuf);

impl Drop for PinRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn long_names_sharing_15_bytes_load_pin_and_look_up_in_full() {
    if !common::root_or_skip("long_names_sharing_15_bytes_load_pin_and_look_up_in_full") {
        return;
    }
    let root = PinRoot(PathBuf::from(format!(
        "/sys/fs/bpf/tinybpf-test-longnames-{}",
        std::process::id()
    )));
    let load = || {
        let mut open = OpenObject::open(common::obj("longnames.bpf.o")).unwrap();
        open.options_mut().pin_root = root.0.clone();
        open.load().unwrap()
    };
    let obj = load();

    // Every map by its full name, each a different map.
    let mut ids = Vec::new();
    for n in MAPS {
        let m = obj.map(n).unwrap_or_else(|| panic!("Object::map({n:?})"));
        assert_eq!(m.name(), n);
        ids.push(m.id().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), MAPS.len(), "four distinct kernel maps");
    assert!(obj.map("cilium_ratelimi").is_none());

    // Programs by full name; the kernel holds the 15-byte copy.
    let data = [0u8; 64];
    let run = |p: &str| {
        let prog = obj.program(p).unwrap_or_else(|| panic!("program {p}"));
        assert_eq!(prog.name(), p);
        let info = tinybpf::kernel::prog_info(prog.fd()).unwrap();
        assert_eq!(info.name, p[..15]);
        prog.test_run(&TestRunOpts::default().data_in(&data).repeat(1))
            .unwrap()
            .retval
    };
    assert_eq!(run(PROGS[0]), 1);
    assert_eq!(run(PROGS[1]), 2);

    // Each map got its own value: lookups by full name reach the right map.
    assert_eq!(
        obj.map(MAPS[0]).unwrap().get::<u32, u64>(&0).unwrap(),
        Some(1)
    );
    assert_eq!(
        obj.map(MAPS[1]).unwrap().get::<u32, u32>(&0).unwrap(),
        Some(2)
    );
    assert_eq!(
        obj.map(MAPS[2]).unwrap().get::<u32, u64>(&0).unwrap(),
        Some(3)
    );
    assert_eq!(
        obj.map(MAPS[3]).unwrap().get::<u32, u32>(&0).unwrap(),
        Some(4)
    );

    // Pinned under the full names, nothing under the truncations.
    for (n, id) in MAPS
        .iter()
        .zip(MAPS.iter().map(|n| obj.map(n).unwrap().id().unwrap()))
    {
        let pin = root.0.join(n);
        let pinned = Map::from_pin(&pin).unwrap_or_else(|e| panic!("pin {}: {e}", pin.display()));
        assert_eq!(pinned.id().unwrap(), id, "{n}");
        assert_eq!(pinned.name(), &n[..15], "the kernel's copy of {n}");
    }
    assert!(!root.0.join("cilium_ratelimi").exists());
    assert!(!root.0.join("process_exec_co").exists());

    // A second load reuses the four pins (and their contents).
    obj.map(MAPS[1])
        .unwrap()
        .set(&3u32, &33u32, map_flags::ANY)
        .unwrap();
    let again = load();
    for n in MAPS {
        assert_eq!(
            again.map(n).unwrap().id().unwrap(),
            obj.map(n).unwrap().id().unwrap(),
            "{n} reused from its pin"
        );
    }
    assert_eq!(
        again.map(MAPS[1]).unwrap().get::<u32, u32>(&3).unwrap(),
        Some(33)
    );
    drop(again);
    drop(obj);

    // Clean up the pins: the maps go once the pins and fds are gone.
    for n in MAPS {
        std::fs::remove_file(root.0.join(n)).unwrap();
    }
    std::fs::remove_dir(&root.0).unwrap();
}
