//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// The repository root. The tests of the `cli/` package include this file
/// too; their manifest directory is `cli/`.
pub fn repo_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if dir.join("bpf").is_dir() {
        dir
    } else {
        dir.join("..")
    }
}

/// Path of a committed object under `bpf/`.
pub fn obj(name: &str) -> PathBuf {
    repo_root().join("bpf").join(name)
}

/// Whether root-only tests can run. Without root they are skipped (with a
/// message) only when `CI` is unset; under CI they must run.
pub fn root_or_skip(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: needs root, and CI is set: refusing to skip");
    }
    eprintln!("{test}: skipped (needs root; run as root or set CI to force)");
    false
}

/// Serialises tests that read trace_pipe or count kernel objects globally.
pub fn kernel_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ids of every program the kernel has loaded.
pub fn prog_ids() -> Vec<u32> {
    tinybpf::kernel::prog_ids().unwrap()
}

/// Ids of every link.
pub fn link_ids() -> Vec<u32> {
    tinybpf::kernel::link_ids().unwrap()
}

/// Ids of every map.
pub fn map_ids() -> Vec<u32> {
    tinybpf::kernel::map_ids().unwrap()
}

/// Open file descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A built example binary next to this test binary (`cargo test` builds
/// the examples first).
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/events-HASH → target/debug/examples/NAME
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let path = dir.join("examples").join(name);
    // `cargo test` builds the examples before running tests.
    assert!(
        path.exists(),
        "{} missing: run `cargo build --examples`",
        path.display()
    );
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    assert!(
        mtime(&path) >= mtime(&src),
        "{} is older than its source: run `cargo build --examples`",
        path.display()
    );
    path
}

/// The `tinybpf` CLI binary (package `tinybpf-cli`) next to this test
/// binary: the root's `cargo test` builds every workspace member first
/// (`cargo build -p tinybpf-cli` when only this package is tested).
pub fn cli_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/NAME-HASH → target/debug/tinybpf
    let path = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("tinybpf");
    assert!(
        path.exists(),
        "{} missing: run `cargo build -p tinybpf-cli`",
        path.display()
    );
    path
}

/// Ids of the BPF programs, maps and links a process holds fds of (read
/// from `/proc/PID/fdinfo`; a link's fd also holds its program). Unlike
/// the kernel-wide id lists, these are this process's own: other BPF users
/// of the machine do not show up in them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeldIds {
    pub progs: std::collections::BTreeSet<u32>,
    pub maps: std::collections::BTreeSet<u32>,
    pub links: std::collections::BTreeSet<u32>,
}

impl HeldIds {
    /// What process `pid` (a number, or `self`) holds now.
    pub fn of(pid: &str) -> HeldIds {
        let mut ids = HeldIds::default();
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
            return ids;
        };
        for e in dir.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            for line in text.lines() {
                let Some((k, v)) = line.split_once(':') else {
                    continue;
                };
                let Ok(v) = v.trim().parse::<u32>() else {
                    continue;
                };
                match k {
                    "prog_id" => ids.progs.insert(v),
                    "map_id" => ids.maps.insert(v),
                    "link_id" => ids.links.insert(v),
                    _ => false,
                };
            }
        }
        ids
    }

    pub fn is_empty(&self) -> bool {
        self.progs.is_empty() && self.maps.is_empty() && self.links.is_empty()
    }

    /// The ids of `self` that are not in `other`.
    pub fn minus(&self, other: &HeldIds) -> HeldIds {
        HeldIds {
            progs: self.progs.difference(&other.progs).copied().collect(),
            maps: self.maps.difference(&other.maps).copied().collect(),
            links: self.links.difference(&other.links).copied().collect(),
        }
    }

    /// Which of these ids still exist in the kernel.
    pub fn still_in_kernel(&self) -> HeldIds {
        let keep = |mine: &std::collections::BTreeSet<u32>, all: Vec<u32>| {
            all.into_iter().filter(|i| mine.contains(i)).collect()
        };
        HeldIds {
            progs: keep(&self.progs, prog_ids()),
            maps: keep(&self.maps, map_ids()),
            links: keep(&self.links, link_ids()),
        }
    }

    /// Wait (up to `secs`: the kernel frees maps after an RCU grace period
    /// and tears perf links down asynchronously) until none of these ids
    /// exists; panics naming those left.
    pub fn assert_all_gone(&self, what: &str, secs: u64) {
        let t0 = std::time::Instant::now();
        loop {
            let left = self.still_in_kernel();
            if left.is_empty() {
                return;
            }
            if t0.elapsed() > std::time::Duration::from_secs(secs) {
                panic!("{what}: left in the kernel: {left:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Wait (up to `secs`) until `done()` holds; panics with `what` if it never
/// does.
pub fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !done() {
        if std::time::Instant::now() > end {
            panic!("{what}: not so after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Drop `link` and wait (up to 5 s) until the kernel has freed it (proof
/// that the drop released it). A process that opened the link by id
/// meanwhile (bpftool, or another test listing every link) holds a
/// reference of its own, so the program can stay attached until that
/// reference is closed, and the kernel may finish detaching (under rtnl or
/// the cgroup mutex) a moment after the id is gone: a test that needs the
/// program detached by then uses [`detach_link`], or waits on what the
/// attach point reports.
pub fn drop_link(link: tinybpf::Link) {
    let id = link.info().unwrap().map(|i| i.id);
    drop(link);
    if let Some(id) = id {
        let mine = HeldIds {
            links: [id].into(),
            ..HeldIds::default()
        };
        mine.assert_all_gone("dropped link", 5);
    }
}

/// Detach `link` now (`Link::force_detach`, whoever else holds it), then
/// [`drop_link`] it: traffic right after this no longer meets the program.
pub fn detach_link(link: tinybpf::Link) {
    link.force_detach().unwrap();
    drop_link(link);
}

/// Send `child` SIGINT (Ctrl-C), wait for it, and read what is left on
/// its stdout and stderr (empty for a stream not piped or already taken).
pub fn interrupt_and_wait(
    child: &mut std::process::Child,
) -> (std::process::ExitStatus, String, String) {
    use std::io::Read;
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let status = child.wait().unwrap();
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut out).unwrap();
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).unwrap();
    }
    (status, out, err)
}

/// Every process's held ids together (for telling another process's
/// object from an orphan that nobody holds).
pub fn held_by_anyone() -> HeldIds {
    let mut all = HeldIds::default();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let h = HeldIds::of(pid);
        all.progs.extend(h.progs);
        all.maps.extend(h.maps);
        all.links.extend(h.links);
    }
    all
}

/// Name of the program with kernel id `id`, if it still exists.
pub fn prog_name(id: u32) -> Option<String> {
    tinybpf::kernel::prog_info_by_id(id).ok().map(|i| i.name)
}

/// Load the committed object `name` (under `bpf/`) with default options.
pub fn load(name: &str) -> tinybpf::Object {
    tinybpf::OpenObject::open(obj(name))
        .unwrap()
        .load()
        .unwrap()
}

/// The `u64` in slot `slot` of `obj`'s array map `map` (0 when unset).
pub fn counter(obj: &tinybpf::Object, map: &str, slot: u32) -> u64 {
    obj.map(map)
        .unwrap()
        .get::<u32, u64>(&slot)
        .unwrap()
        .unwrap_or(0)
}

/// This test binary re-executed into its `child_entry_point` test with
/// `env=value` set, stdin and stdout piped. Reads the child's stdout until a
/// line holding `marker` (libtest may print "test child_entry_point ... "
/// before it) and returns the child, its stdin, the rest of that line after
/// the marker, and a thread that keeps draining its stdout (so it never
/// blocks on it; it ends when the child exits). The caller waits for the
/// child.
#[allow(clippy::zombie_processes)]
pub fn spawn_ready(
    env: &str,
    value: &str,
    marker: &str,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    String,
    std::thread::JoinHandle<()>,
) {
    use std::io::BufRead;
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args([
            "child_entry_point",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env, value)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            let st = child.wait();
            panic!("child ({env}={value}) exited before {marker:?}: {st:?}");
        }
        if let Some(i) = line.find(marker) {
            let rest = line[i + marker.len()..].trim().to_string();
            let drain = std::thread::spawn(move || {
                let _ = std::io::copy(&mut out, &mut std::io::sink());
            });
            return (child, stdin, rest, drain);
        }
    }
}

/// Environment variable selecting [`noise_child`] in a re-executed test
/// binary.
pub const NOISE_ENV: &str = "TINYBPF_TEST_NOISE";

/// Another BPF user of the machine, for tests to prove they ignore it: a
/// child process (this test binary re-executed into its
/// `child_entry_point` test, which calls [`noise_child`]) that loads
/// `hello` (handle_tp) and `failures` (good_first), attaches hello when
/// `attach`, and holds them until dropped.
pub struct Noise {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    drain: Option<std::thread::JoinHandle<()>>,
    /// The ids the noise process holds.
    pub ids: HeldIds,
}

impl Noise {
    pub fn start(attach: bool) -> Noise {
        let mode = if attach { "attach" } else { "load" };
        let (child, stdin, _, drain) = spawn_ready(NOISE_ENV, mode, "NOISE READY");
        let ids = HeldIds::of(&child.id().to_string());
        assert!(!ids.progs.is_empty(), "the noise process holds no program");
        Noise {
            child,
            stdin: Some(stdin),
            drain: Some(drain),
            ids,
        }
    }
}

impl Drop for Noise {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
        // The reader of its stdout ends (closing that fd) at its exit:
        // wait for it, so that fd counts are back when this returns.
        if let Some(d) = self.drain.take() {
            let _ = d.join();
        }
    }
}

/// Body of the noise process: returns false (doing nothing) unless
/// [`NOISE_ENV`] is set.
pub fn noise_child() -> bool {
    let Ok(mode) = std::env::var(NOISE_ENV) else {
        return false;
    };
    let mut hello = tinybpf::OpenObject::open(obj("hello.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    if mode == "attach" {
        hello.attach_all().unwrap();
    }
    let mut open = tinybpf::OpenObject::open(obj("failures.bpf.o")).unwrap();
    open.load_only(&["good_first"]).unwrap();
    let failures = open.load().unwrap();
    println!("NOISE READY");
    let mut sink = String::new();
    let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut sink);
    drop((hello, failures));
    true
}

/// The kernel lets one reader at a time open trace_pipe (EBUSY for the
/// others), machine-wide: tests that read it (here or in another checkout's
/// test run) take this file lock first. Held until dropped.
pub fn trace_pipe_lock() -> nix::fcntl::Flock<std::fs::File> {
    let path = std::env::temp_dir().join("tinybpf-tests-trace_pipe.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("flock {}: {e}", path.display()))
}
