//! Maps, global data, bpf-to-bpf calls and the legacy `maps` section on the
//! real kernel.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;
use tinybpf::abi::map_type;
use tinybpf::error::MapUsageError;
use tinybpf::map_flags;
use tinybpf::{Object, OpenObject, TestRunOpts};

fn run(obj: &Object, prog: &str, len: usize) -> u32 {
    let data = vec![0u8; len];
    obj.program(prog)
        .unwrap_or_else(|| panic!("no program {prog}"))
        .test_run(&TestRunOpts::default().data_in(&data).repeat(1))
        .unwrap()
        .retval
}

fn pin_root(tag: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!(
        "/sys/fs/bpf/tinybpf-test-{tag}-{}",
        std::process::id()
    ))
}

#[test]
fn every_map_type_through_the_api() {
    if !common::root_or_skip("every_map_type_through_the_api") {
        return;
    }
    let root = pin_root("maptypes");
    let mut open = OpenObject::open(common::obj("maptypes.bpf.o")).unwrap();
    open.options_mut().pin_root = root.clone();
    let obj = open.load().unwrap();
    let ty = |n: &str| {
        obj.map(n)
            .unwrap_or_else(|| panic!("no map {n}"))
            .map_type()
            .raw()
    };
    for (n, t) in [
        ("arr", map_type::ARRAY),
        ("hash", map_type::HASH),
        ("pcpu_arr", map_type::PERCPU_ARRAY),
        ("pcpu_hash", map_type::PERCPU_HASH),
        ("lru_hash", map_type::LRU_HASH),
        ("lru_pcpu_hash", map_type::LRU_PERCPU_HASH),
        ("lpm", map_type::LPM_TRIE),
        ("queue", map_type::QUEUE),
        ("stack", map_type::STACK),
        ("ringbuf", map_type::RINGBUF),
        ("perf", map_type::PERF_EVENT_ARRAY),
        ("jmp_table", map_type::PROG_ARRAY),
        ("outer_arr", map_type::ARRAY_OF_MAPS),
        ("outer_hash", map_type::HASH_OF_MAPS),
        ("bloom", map_type::BLOOM_FILTER),
    ] {
        assert_eq!(ty(n), t, "map {n}");
    }
    // Tail call through the prog array's initial slot: tail_prog returns 42.
    assert_eq!(run(&obj, "xdp_maps", 64), 42);

    // Array: typed access.
    let arr = obj.map("arr").unwrap();
    assert_eq!(
        arr.get::<u32, u64>(&0).unwrap(),
        Some(1),
        "program bumped arr[0]"
    );
    arr.set(&1u32, &77u64, map_flags::ANY).unwrap();
    assert_eq!(arr.get::<u32, u64>(&1).unwrap(), Some(77));
    assert!(
        arr.set(&100u32, &1u64, map_flags::ANY).is_err(),
        "index past max_entries"
    );

    // Hash: update flags, delete, iterate.
    let hash = obj.map("hash").unwrap();
    assert_eq!(hash.get::<u32, u64>(&0).unwrap(), Some(1));
    hash.set(&5u32, &50u64, map_flags::NOEXIST).unwrap();
    assert!(
        hash.set(&5u32, &51u64, map_flags::NOEXIST).is_err(),
        "NOEXIST on an existing key"
    );
    hash.set(&5u32, &52u64, map_flags::EXIST).unwrap();
    assert!(
        hash.set(&6u32, &1u64, map_flags::EXIST).is_err(),
        "EXIST on a missing key"
    );
    let mut keys: Vec<Vec<u8>> = hash.keys().map(|k| k.unwrap()).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![0u32.to_le_bytes().to_vec(), 5u32.to_le_bytes().to_vec()]
    );
    assert_eq!(hash.iter().count(), 2);
    assert!(hash.remove(&5u32).unwrap());
    assert!(!hash.remove(&5u32).unwrap());
    assert_eq!(
        hash.lookup_and_delete(&0u32.to_le_bytes()).unwrap(),
        Some(1u64.to_le_bytes().to_vec())
    );

    // Per-CPU: one value per possible CPU; the program ran on one of them.
    let pcpu = obj.map("pcpu_arr").unwrap();
    let vals = pcpu.lookup_percpu(&0u32.to_le_bytes()).unwrap().unwrap();
    assert_eq!(
        vals.len(),
        tinybpf::kernel::possible_cpus().unwrap() as usize
    );
    let sum: u64 = vals
        .iter()
        .map(|v| u64::from_le_bytes(v[..8].try_into().unwrap()))
        .sum();
    assert_eq!(sum, 1);
    let mine: Vec<Vec<u8>> = (0..vals.len())
        .map(|i| (i as u64 * 10).to_le_bytes().to_vec())
        .collect();
    pcpu.update_percpu(&1u32.to_le_bytes(), &mine, map_flags::ANY)
        .unwrap();
    assert_eq!(
        pcpu.lookup_percpu(&1u32.to_le_bytes()).unwrap().unwrap(),
        mine
    );
    let ph = obj.map("pcpu_hash").unwrap();
    assert!(ph.lookup_percpu(&0u32.to_le_bytes()).unwrap().is_some());

    // LRU.
    assert_eq!(
        obj.map("lru_hash").unwrap().get::<u32, u64>(&0).unwrap(),
        Some(1)
    );

    // LPM trie: prefix match.
    let lpm = obj.map("lpm").unwrap();
    let key = |plen: u32, a: [u8; 4]| {
        let mut k = plen.to_le_bytes().to_vec();
        k.extend_from_slice(&a);
        k
    };
    lpm.update(&key(8, [10, 0, 0, 0]), &9u32.to_le_bytes(), map_flags::ANY)
        .unwrap();
    assert_eq!(
        lpm.lookup(&key(32, [10, 1, 2, 3]), 0).unwrap(),
        Some(9u32.to_le_bytes().to_vec())
    );
    assert_eq!(lpm.lookup(&key(32, [11, 1, 2, 3]), 0).unwrap(), None);

    // Queue (FIFO) and stack (LIFO).
    let q = obj.map("queue").unwrap();
    assert_eq!(
        q.pop().unwrap(),
        Some(7u32.to_le_bytes().to_vec()),
        "program pushed 7"
    );
    q.push(&1u32.to_le_bytes(), 0).unwrap();
    q.push(&2u32.to_le_bytes(), 0).unwrap();
    assert_eq!(q.peek().unwrap(), Some(1u32.to_le_bytes().to_vec()));
    assert_eq!(q.pop().unwrap(), Some(1u32.to_le_bytes().to_vec()));
    assert_eq!(q.pop().unwrap(), Some(2u32.to_le_bytes().to_vec()));
    assert_eq!(q.pop().unwrap(), None);
    let s = obj.map("stack").unwrap();
    assert_eq!(s.pop().unwrap(), Some(7u32.to_le_bytes().to_vec()));
    s.push(&1u32.to_le_bytes(), 0).unwrap();
    s.push(&2u32.to_le_bytes(), 0).unwrap();
    assert_eq!(s.pop().unwrap(), Some(2u32.to_le_bytes().to_vec()));

    // Map-in-map: the initial slot points at inner_a, which the program bumped.
    assert_eq!(
        obj.map("inner_a").unwrap().get::<u32, u32>(&0).unwrap(),
        Some(1)
    );
    let outer = obj.map("outer_hash").unwrap();
    let inner_b = obj.map("inner_b").unwrap();
    outer
        .update(
            &0u32.to_le_bytes(),
            &(inner_b.raw_fd() as u32).to_le_bytes(),
            map_flags::ANY,
        )
        .unwrap();
    assert_eq!(run(&obj, "xdp_maps", 64), 42);
    assert_eq!(
        inner_b.get::<u32, u32>(&0).unwrap(),
        Some(1),
        "program reached inner_b through outer_hash"
    );

    // Bloom filter: 7 was pushed by the program.
    let bloom = obj.map("bloom").unwrap();
    assert!(bloom.peek_value(&7u32.to_le_bytes()).unwrap());

    // Pinned by name, under our pin root; reused by a second load.
    let pinned = root.join("tinybpf_pinned");
    assert!(pinned.exists(), "{} not pinned", pinned.display());
    assert_eq!(
        obj.map("tinybpf_pinned")
            .unwrap()
            .get::<u32, u64>(&0)
            .unwrap(),
        Some(2)
    );
    let mut again = OpenObject::open(common::obj("maptypes.bpf.o")).unwrap();
    again.options_mut().pin_root = root.clone();
    let obj2 = again.load().unwrap();
    assert_eq!(
        obj2.map("tinybpf_pinned")
            .unwrap()
            .get::<u32, u64>(&0)
            .unwrap(),
        Some(2),
        "second load reuses the pinned map"
    );
    drop(obj2);
    drop(obj);
    std::fs::remove_file(&pinned).unwrap();
    std::fs::remove_dir(&root).unwrap();
}

#[test]
fn global_data_set_before_load_frozen_rodata_and_mmap() {
    if !common::root_or_skip("global_data_set_before_load_frozen_rodata_and_mmap") {
        return;
    }
    // Defaults.
    let obj = OpenObject::open(common::obj("globals.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(run(&obj, "xdp_count", 64), 1, "multiplier defaults to 1");
    drop(obj);

    let mut open = OpenObject::open(common::obj("globals.bpf.o")).unwrap();
    open.set_global_value("multiplier", &3u32).unwrap();
    open.set_global("greeting", b"yo\0\0\0\0\0\0").unwrap();
    open.set_global_value("counter", &100u64).unwrap();
    assert!(
        open.set_global_value("multiplier", &3u64).is_err(),
        "size mismatch refused"
    );
    assert!(open.set_global_value("nope", &3u32).is_err());
    let mut obj = open.load().unwrap();
    assert_eq!(
        run(&obj, "xdp_count", 60),
        2,
        "multiplier == 3 set before load"
    );
    assert_eq!(run(&obj, "xdp_count", 40), 2);
    assert_eq!(run(&obj, "xdp_loop", 64), 1045, "greeting[0] != 'h'");

    // .rodata is frozen: user space cannot write it.
    let rodata = obj.map("globals.rodata").unwrap();
    let cur = rodata.lookup(&0u32.to_le_bytes(), 0).unwrap().unwrap();
    assert!(
        rodata
            .update(&0u32.to_le_bytes(), &cur, map_flags::ANY)
            .is_err(),
        "frozen .rodata accepted a write"
    );

    // .data / .bss read back through the mmap after the program wrote them.
    let data = obj.map("globals.data").unwrap().data().unwrap().to_vec();
    assert_eq!(
        u64::from_le_bytes(data[..8].try_into().unwrap()),
        102,
        "counter 100 + 2 runs"
    );
    let bss = obj.map("globals.bss").unwrap().data().unwrap().to_vec();
    assert_eq!(
        u64::from_le_bytes(bss[..8].try_into().unwrap()),
        3 * 60 + 3 * 40,
        "total"
    );
    assert_eq!(
        u32::from_le_bytes(bss[8..12].try_into().unwrap()),
        40,
        "last_len"
    );
    // And written through it: the program sees it.
    obj.map_mut("globals.bss")
        .unwrap()
        .write_data(0, &0u64.to_le_bytes())
        .unwrap();
    run(&obj, "xdp_count", 20);
    let bss = obj.map("globals.bss").unwrap().data().unwrap().to_vec();
    assert_eq!(u64::from_le_bytes(bss[..8].try_into().unwrap()), 60);
}

#[test]
fn bpf_to_bpf_calls_and_callbacks() {
    if !common::root_or_skip("bpf_to_bpf_calls_and_callbacks") {
        return;
    }
    let obj = OpenObject::open(common::obj("globals.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(run(&obj, "xdp_calls", 64), 26, "add3(1,2,3) + twice(10)");
    assert_eq!(run(&obj, "xdp_loop", 64), 45, "bpf_loop callback sums 0..9");
}

#[test]
fn legacy_maps_section() {
    if !common::root_or_skip("legacy_maps_section") {
        return;
    }
    let obj = OpenObject::open(common::obj("legacy.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(
        obj.map("legacy_array").unwrap().map_type(),
        tinybpf::abi::MapType::Array
    );
    assert_eq!(
        obj.map("legacy_hash").unwrap().map_type(),
        tinybpf::abi::MapType::Hash
    );
    assert_eq!(run(&obj, "xdp_legacy", 64), 42);
    assert_eq!(
        obj.map("btf_hash").unwrap().get::<u32, u64>(&1).unwrap(),
        Some(42)
    );
}

#[test]
fn maps_example_prints_true_and_bpftool_sees_typed_values() {
    if !common::root_or_skip("maps_example_prints_true_and_bpftool_sees_typed_values") {
        return;
    }
    let _g = common::kernel_lock();
    let child = Command::new(common::example("maps"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    // Only this child's objects: its `execs` map, found through its fds
    // (another process may have a map of the same name).
    let pid = child.id().to_string();
    let mut held = common::HeldIds::default();
    let mut execs = None;
    for _ in 0..50 {
        held = common::HeldIds::of(&pid);
        execs = held
            .maps
            .iter()
            .copied()
            .find(|&id| tinybpf::kernel::map_info_by_id(id).is_ok_and(|m| m.name == "execs"));
        if execs.is_some() && !held.progs.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let execs = execs.expect("the maps example holds no map named execs");
    assert!(!held.progs.is_empty(), "the maps example holds no program");
    // Typed dump while running (bpftool comes from .ci/run's packages).
    let mut typed = None;
    for _ in 0..20 {
        let t = Command::new("/bin/true").status().unwrap();
        assert!(t.success());
        let out = Command::new("bpftool")
            .args(["map", "dump", "id", &execs.to_string()])
            .output();
        if let Ok(o) = out {
            let s = String::from_utf8_lossy(&o.stdout).to_string();
            if s.contains("\"comm\"") {
                typed = Some(s);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("Process Name = true, uid = 0, pid = ")),
        "no line for /bin/true: {stdout}"
    );
    let typed = typed.expect("bpftool never showed a typed value");
    assert!(
        typed.contains("\"pid\"") && typed.contains("\"uid\""),
        "{typed}"
    );
    // What the child made is gone with it (the kernel frees maps and
    // programs asynchronously after the last fd closes: allow it 5 s).
    let gone = || {
        held.progs
            .iter()
            .all(|id| tinybpf::kernel::prog_info_by_id(*id).is_err())
            && tinybpf::kernel::map_info_by_id(execs).is_err()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !gone() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        gone(),
        "programs {:?} or map execs ({execs}) of the maps example left",
        held.progs
    );
}

/// Load maptypes.bpf.o under a private pin root; the pin root is removed by
/// the returned guard.
fn load_maptypes(tag: &str) -> (Object, PinRootGuard) {
    let root = pin_root(tag);
    let mut open = OpenObject::open(common::obj("maptypes.bpf.o")).unwrap();
    open.options_mut().pin_root = root.clone();
    let obj = open.load().unwrap();
    (obj, PinRootGuard(root))
}

struct PinRootGuard(std::path::PathBuf);

impl Drop for PinRootGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn typed_ops_with_wrong_sizes_are_errors_naming_both_sizes() {
    if !common::root_or_skip("typed_ops_with_wrong_sizes_are_errors_naming_both_sizes") {
        return;
    }
    let (obj, _root) = load_maptypes("typedsizes");
    let arr = obj.map("arr").unwrap(); // u32 -> u64
    arr.set(&0u32, &5u64, map_flags::ANY).unwrap();

    // Value too small / too large: an error, not `Ok(None)` ("key absent").
    let e = arr.get::<u32, u32>(&0).unwrap_err().to_string();
    assert!(e.contains("4 bytes") && e.contains("8 bytes"), "{e}");
    assert!(e.contains("arr") && e.contains("get"), "{e}");
    let e = arr.get::<u32, [u8; 16]>(&0).unwrap_err();
    assert!(
        matches!(
            &e,
            tinybpf::Error::MapUsage {
                map,
                problem: MapUsageError::ValueType {
                    op: "get",
                    given: 16,
                    expected: 8,
                    ..
                },
            } if map == "arr"
        ),
        "{e:?}"
    );
    let e = e.to_string();
    assert!(e.contains("16 bytes") && e.contains("8 bytes"), "{e}");
    // Key of the wrong size.
    let e = arr.get::<u64, u64>(&0).unwrap_err().to_string();
    assert!(e.contains("8 bytes") && e.contains("4 bytes"), "{e}");
    assert!(e.contains("key"), "{e}");
    // set and remove check too, and write nothing.
    let e = arr
        .set(&0u32, &7u32, map_flags::ANY)
        .unwrap_err()
        .to_string();
    assert!(e.contains("4 bytes") && e.contains("8 bytes"), "{e}");
    let e = arr
        .set(&0u16, &7u64, map_flags::ANY)
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 bytes") && e.contains("4 bytes"), "{e}");
    assert_eq!(arr.get::<u32, u64>(&0).unwrap(), Some(5));
    let hash = obj.map("hash").unwrap();
    hash.set(&9u32, &1u64, map_flags::ANY).unwrap();
    let e = hash.remove(&9u64).unwrap_err().to_string();
    assert!(e.contains("8 bytes") && e.contains("4 bytes"), "{e}");
    assert_eq!(hash.get::<u32, u64>(&9).unwrap(), Some(1));
    // Right sizes, absent key: still `Ok(None)`.
    assert_eq!(hash.get::<u32, u64>(&10).unwrap(), None);
}

#[test]
fn get_on_a_per_cpu_map_points_to_the_per_cpu_api() {
    if !common::root_or_skip("get_on_a_per_cpu_map_points_to_the_per_cpu_api") {
        return;
    }
    let (obj, _root) = load_maptypes("percpuget");
    for name in ["pcpu_arr", "pcpu_hash", "lru_pcpu_hash"] {
        let m = obj.map(name).unwrap();
        assert!(m.is_per_cpu());
        let e = m.get::<u32, u64>(&0).unwrap_err().to_string();
        assert!(e.contains("get_percpu") && e.contains(name), "{e}");
        let e = m.set(&0u32, &1u64, map_flags::ANY).unwrap_err().to_string();
        assert!(e.contains("set_percpu"), "{e}");
    }
    // And the per-CPU API on a map that is not per-CPU.
    let arr = obj.map("arr").unwrap();
    assert!(!arr.is_per_cpu());
    let e = arr.get_percpu::<u32, u64>(&0).unwrap_err().to_string();
    assert!(e.contains("not per-CPU"), "{e}");
    assert!(arr.lookup_percpu(&0u32.to_le_bytes()).is_err());
}

#[test]
fn per_cpu_typed_round_trip() {
    if !common::root_or_skip("per_cpu_typed_round_trip") {
        return;
    }
    let (obj, _root) = load_maptypes("percpurt");
    let ncpu = tinybpf::kernel::possible_cpus().unwrap() as usize;
    let pcpu = obj.map("pcpu_arr").unwrap(); // u32 -> u64, 4 entries
    assert_eq!(pcpu.percpu_slot_size(), 8);
    assert_eq!(pcpu.user_value_size(), 8 * ncpu);

    let mine: Vec<u64> = (0..ncpu as u64).map(|i| 1000 + i * 7).collect();
    pcpu.set_percpu(&2u32, &mine, map_flags::ANY).unwrap();
    assert_eq!(pcpu.get_percpu::<u32, u64>(&2).unwrap(), Some(mine.clone()));
    // The raw per-CPU view agrees, slot by slot.
    let raw = pcpu.lookup_percpu(&2u32.to_le_bytes()).unwrap().unwrap();
    let raw: Vec<u64> = raw
        .iter()
        .map(|v| u64::from_le_bytes(v[..].try_into().unwrap()))
        .collect();
    assert_eq!(raw, mine);

    // Wrong number of values, wrong sizes: errors naming the numbers.
    let e = pcpu
        .set_percpu(&2u32, &mine[..ncpu - 1], map_flags::ANY)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("{} values", ncpu - 1)), "{e}");
    assert!(e.contains(&format!("({ncpu})")), "{e}");
    let e = pcpu.get_percpu::<u32, u32>(&2).unwrap_err().to_string();
    assert!(e.contains("4 bytes") && e.contains("8 bytes"), "{e}");
    let short: Vec<Vec<u8>> = vec![vec![1u8; 4]; ncpu];
    let e = pcpu
        .update_percpu(&2u32.to_le_bytes(), &short, map_flags::ANY)
        .unwrap_err()
        .to_string();
    assert!(e.contains("4 bytes") && e.contains("8 bytes"), "{e}");
    assert_eq!(pcpu.get_percpu::<u32, u64>(&2).unwrap(), Some(mine));

    // Per-CPU hash: absent key is `None`, a written one round-trips.
    let ph = obj.map("pcpu_hash").unwrap();
    assert_eq!(ph.get_percpu::<u32, u64>(&77).unwrap(), None);
    let vals = vec![3u64; ncpu];
    ph.set_percpu(&77u32, &vals, map_flags::NOEXIST).unwrap();
    assert_eq!(ph.get_percpu::<u32, u64>(&77).unwrap(), Some(vals));
    assert!(ph.remove(&77u32).unwrap());
}
