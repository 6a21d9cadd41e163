//! Pinning on bpffs, on the real kernel: a pinned map outlives the process
//! that created it and is shared with other processes; a pinned link keeps
//! its program attached after the object is dropped, until the pin goes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tinybpf::{Link, Map, OpenObject};

const SLOT_GETPID: u32 = 4;
const CHILD_ENV: &str = "TINYBPF_PIN_CHILD";

/// A fresh pin directory on bpffs (mounted if absent), removed on drop.
struct PinDir(PathBuf);

impl PinDir {
    fn new(test: &str) -> PinDir {
        let dir = PathBuf::from(format!(
            "/sys/fs/bpf/tinybpf-test-{}-{test}",
            std::process::id()
        ));
        tinybpf::kernel::ensure_bpffs(&dir).unwrap();
        assert!(tinybpf::kernel::is_bpffs(&dir).unwrap());
        PinDir(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn u64_at(map: &Map, key: u32) -> u64 {
    map.get::<u32, u64>(&key).unwrap().unwrap()
}

/// Wait up to 2 s for `cond` (kernel objects are freed asynchronously).
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(2) {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Run in a child process (re-executed test binary): open the pinned map,
/// print slot 3, and write slot 5 = slot 3 + 1.
#[test]
#[ignore = "helper run by pinned_map_outlives_the_process in a child process"]
fn pinned_map_child() {
    let path = std::env::var(CHILD_ENV).expect("run by pinned_map_outlives_the_process");
    let map = Map::from_pin(&path).unwrap();
    assert_eq!(map.key_size(), 4);
    assert_eq!(map.value_size(), 8);
    let v = u64_at(&map, 3);
    println!("CHILD-SAW={v:#x}");
    map.set(&5u32, &(v + 1), 0).unwrap();
}

#[test]
fn pinned_map_outlives_the_process() {
    if !common::root_or_skip("pinned_map_outlives_the_process") {
        return;
    }
    let dir = PinDir::new("map");
    let pin = dir.path("counts");
    let value = 0xdead_beef_1234_5678u64;
    let map_id;
    {
        let mut open = OpenObject::open(common::obj("tracepoints.bpf.o")).unwrap();
        open.load_only(&["count_getpid"]).unwrap();
        let obj = open.load().unwrap();
        let map = obj.map("counts").unwrap();
        map_id = map.id().unwrap();
        map.set(&3u32, &value, 0).unwrap();
        map.pin(&pin).unwrap();
        // Pinning twice at the same path fails (EEXIST), with the path named.
        let e = map.pin(&pin).unwrap_err();
        assert_eq!(e.errno(), Some(nix::errno::Errno::EEXIST), "{e}");
        assert!(e.to_string().contains("counts"), "{e}");
    } // object (and every fd of ours) dropped here
    assert!(
        common::map_ids().contains(&map_id),
        "pinned map freed with its object"
    );

    // Another process opens it by path, reads what we wrote, writes back.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "pinned_map_child", "--nocapture"])
        .env(CHILD_ENV, &pin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("CHILD-SAW={value:#x}")),
        "child output: {stdout}"
    );

    // bpftool (libbpf, not us) agrees about the contents.
    if let Ok(out) = Command::new("bpftool")
        .args(["map", "lookup", "pinned"])
        .arg(&pin)
        .args(["key", "3", "0", "0", "0"])
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "bpftool: {text}");
        let le: Vec<String> = value
            .to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            text.contains(&le.join(" ")) || text.contains(&value.to_string()),
            "bpftool shows {text}"
        );
    }

    // We see the child's write through a fresh open of the pin.
    let map = Map::from_pin(&pin).unwrap();
    assert_eq!(map.id().unwrap(), map_id);
    assert_eq!(u64_at(&map, 5), value + 1);

    // Unpin + close: the map is gone.
    std::fs::remove_file(&pin).unwrap();
    drop(map);
    assert!(
        eventually(|| !common::map_ids().contains(&map_id)),
        "map {map_id} still exists after unpin and close"
    );
    let e = Map::from_pin(&pin).unwrap_err();
    assert_eq!(e.errno(), Some(nix::errno::Errno::ENOENT), "{e}");
}

fn getpid_calls(n: usize) {
    for _ in 0..n {
        std::hint::black_box(nix::unistd::getpid());
    }
}

#[test]
fn pinned_link_keeps_program_attached() {
    if !common::root_or_skip("pinned_link_keeps_program_attached") {
        return;
    }
    let _g = common::kernel_lock();
    let dir = PinDir::new("link");
    let link_pin = dir.path("link");
    let map_pin = dir.path("counts");
    let prog_pin = dir.path("prog");
    let (prog_id, link_id);
    {
        let mut open = OpenObject::open(common::obj("tracepoints.bpf.o")).unwrap();
        open.load_only(&["count_getpid"]).unwrap();
        let mut obj = open.load().unwrap();
        let prog = obj.program("count_getpid").unwrap();
        prog_id = prog.id().unwrap();
        prog.pin(&prog_pin).unwrap();
        obj.map("counts").unwrap().pin(&map_pin).unwrap();
        let link = obj.attach("count_getpid").unwrap();
        link_id = link.info().unwrap().expect("a BPF link").id;
        link.pin(&link_pin).unwrap();
        let before = u64_at(obj.map("counts").unwrap(), SLOT_GETPID);
        getpid_calls(10);
        assert!(u64_at(obj.map("counts").unwrap(), SLOT_GETPID) >= before + 10);
    } // object, program fd, link fd dropped
    assert!(
        common::link_ids().contains(&link_id),
        "link gone with the object"
    );
    assert!(
        common::prog_ids().contains(&prog_id),
        "program gone with the object"
    );

    // Still attached: getpid still counts.
    let counts = Map::from_pin(&map_pin).unwrap();
    let before = u64_at(&counts, SLOT_GETPID);
    getpid_calls(10);
    assert!(
        u64_at(&counts, SLOT_GETPID) >= before + 10,
        "pinned link does not keep the program attached"
    );

    // The pin reopens as the same link, program unchanged.
    let link = Link::from_pin(&link_pin).unwrap();
    let info = link.info().unwrap().unwrap();
    assert_eq!((info.id, info.prog_id), (link_id, prog_id));

    // Remove the pins and drop the last fds: detached and freed.
    std::fs::remove_file(&link_pin).unwrap();
    std::fs::remove_file(&prog_pin).unwrap();
    drop(link);
    assert!(
        eventually(|| !common::link_ids().contains(&link_id)),
        "link {link_id} still exists after unpin and close"
    );
    assert!(
        eventually(|| !common::prog_ids().contains(&prog_id)),
        "program {prog_id} still loaded"
    );
    let after = u64_at(&counts, SLOT_GETPID);
    getpid_calls(10);
    assert_eq!(u64_at(&counts, SLOT_GETPID), after, "still counting");
    std::fs::remove_file(&map_pin).unwrap();
    assert!(!Path::new(&link_pin).exists());
}
