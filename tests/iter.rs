//! BPF iterators on the real kernel (bpf/iter.bpf.o): a task iterator that
//! sees this very process, a bpf_map iterator that lists the object's own
//! map by id, pinned iterators read
//! with std::fs, and the typed errors.

mod common;

use common::HeldIds;
use std::path::PathBuf;
use tinybpf::{Error, IterOpts, Object, OpenObject};

fn load() -> Object {
    OpenObject::open(common::obj("iter.bpf.o"))
        .unwrap()
        .load()
        .unwrap()
}

/// `(tgid, pid, comm)` of each task line (the header skipped).
fn tasks(text: &str) -> Vec<(u32, u32, String)> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("TGID PID COMM"), "{text}");
    lines
        .map(|l| {
            let mut f = l.splitn(3, ' ');
            let tgid = f
                .next()
                .unwrap()
                .parse()
                .unwrap_or_else(|_| panic!("bad line {l:?} in {text}"));
            let pid = f.next().unwrap().parse().unwrap();
            (tgid, pid, f.next().unwrap_or("").to_string())
        })
        .collect()
}

fn gettid() -> u32 {
    nix::unistd::gettid().as_raw() as u32
}

fn comm(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn task_iterator_sees_this_process() {
    if !common::root_or_skip("task_iterator_sees_this_process") {
        return;
    }
    let _g = common::kernel_lock();
    let held_before = HeldIds::of("self");
    let fds_before = common::fd_count();
    {
        let obj = load();
        let prog = obj.program("dump_task").unwrap();
        assert!(prog.is_iter());
        let link = prog.attach_iter(&IterOpts::All).unwrap();
        let out = link.iter_read_string().unwrap();
        let t = tasks(&out);
        let me = std::process::id();
        let leader = comm("/proc/self/comm");
        assert!(
            t.contains(&(me, me, leader.clone())),
            "no line `{me} {me} {leader}` among {} tasks",
            t.len()
        );
        let tid = gettid();
        let mine = comm("/proc/thread-self/comm");
        assert!(
            t.contains(&(me, tid, mine.clone())),
            "no `{me} {tid} {mine}`"
        );
        // Other processes too: our parent (cargo, or whoever ran us).
        let ppid = nix::unistd::getppid().as_raw() as u32;
        assert!(t.iter().any(|x| x.0 == ppid && x.1 == ppid), "no {ppid}");

        // One thread only.
        let link = prog.attach_iter(&IterOpts::Thread(tid)).unwrap();
        let t = tasks(&link.iter_read_string().unwrap());
        assert_eq!(t, vec![(me, tid, mine.clone())]);

        // One process: every thread of ours, nothing else.
        let link = prog.attach_iter(&IterOpts::Process(me)).unwrap();
        let t = tasks(&link.iter_read_string().unwrap());
        let threads = std::fs::read_dir("/proc/self/task").unwrap().count();
        assert!(t.iter().all(|x| x.0 == me), "{t:?}");
        assert!(t.contains(&(me, tid, mine)));
        assert!(t.len() >= 2 && t.len() <= threads + 4, "{t:?}");

        // Each pass is new: a reader can be consumed with std::io::Read too.
        let mut r = link.iter_open().unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut r, &mut s).unwrap();
        assert!(s.starts_with("TGID PID COMM\n"));
        assert!(s.contains(&format!("{me} {tid} ")));

        // auto-attach (section iter/task) does the same.
        let link = prog.attach().unwrap();
        assert!(link
            .iter_read_string()
            .unwrap()
            .contains(&format!("{me} {me} ")));
    }
    assert_eq!(common::fd_count(), fds_before, "fds leaked");
    HeldIds::of("self")
        .minus(&held_before)
        .assert_all_gone("task iterator", 5);
}

#[test]
fn map_iterator_lists_our_map() {
    if !common::root_or_skip("map_iterator_lists_our_map") {
        return;
    }
    let _g = common::kernel_lock();
    let obj = load();
    let pairs = obj.map("pairs").unwrap();
    let id = pairs.id().unwrap();

    let link = obj
        .program("dump_bpf_map")
        .unwrap()
        .attach_iter(&IterOpts::All)
        .unwrap();
    let out = link.iter_read_string().unwrap();
    assert!(out.starts_with("ID NAME\n"), "{out}");
    assert!(
        out.lines().any(|l| l == format!("{id} pairs")),
        "map {id} (pairs) not listed:\n{out}"
    );
}

/// A fresh directory on bpffs, removed on drop.
struct PinDir(PathBuf);

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn pinned_iterator_reads_like_a_file() {
    if !common::root_or_skip("pinned_iterator_reads_like_a_file") {
        return;
    }
    let _g = common::kernel_lock();
    let dir = PinDir(PathBuf::from(format!(
        "/sys/fs/bpf/tinybpf-test-{}-iter",
        std::process::id()
    )));
    tinybpf::kernel::ensure_bpffs(&dir.0).unwrap();
    let obj = load();
    let link = obj.program("dump_task").unwrap().attach().unwrap();
    let pin = dir.0.join("tasks");
    link.pin(&pin).unwrap();
    drop(link);
    drop(obj);
    let me = std::process::id();
    // Every open of the pin is a new pass, also after the loader is gone.
    for _ in 0..2 {
        let text = std::fs::read_to_string(&pin).unwrap();
        assert!(text.starts_with("TGID PID COMM\n"), "{text}");
        assert!(text.contains(&format!("\n{me} {me} ")), "{me} missing");
    }
    // A pinned iterator opened again as a Link reads the same way.
    let link = tinybpf::Link::from_pin(&pin).unwrap();
    assert!(link
        .iter_read_string()
        .unwrap()
        .contains(&format!("\n{me} {me} ")));
}

#[test]
fn iterator_errors_are_typed() {
    if !common::root_or_skip("iterator_errors_are_typed") {
        return;
    }
    let _g = common::kernel_lock();
    let hello = OpenObject::open(common::obj("hello.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    let prog = hello.program("handle_tp").unwrap();
    assert!(!prog.is_iter());
    let e = prog.attach_iter(&IterOpts::All).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Attach {
                reason: tinybpf::error::AttachError::WrongSection { section, .. },
                ..
            } if section == "tp/syscalls/sys_enter_execve"
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("not an iterator"), "{e}");
    // A link that is not an iterator cannot be read.
    let link = prog.attach().unwrap();
    let e = link.iter_read().unwrap_err();
    assert!(e.to_string().contains("BPF_ITER_CREATE"), "{e}");
    assert!(e.errno().is_some());
}

#[test]
fn ps_example_lists_this_process() {
    if !common::root_or_skip("ps_example_lists_this_process") {
        return;
    }
    // Serialised with the other tests here: one of them counts this process's fds.
    let _g = common::kernel_lock();
    let out = std::process::Command::new(common::example("ps"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let me = std::process::id();
    let leader = comm("/proc/self/comm");
    let line = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.first() == Some(&me.to_string().as_str()))
        .unwrap_or_else(|| panic!("pid {me} not listed:\n{text}"));
    assert_eq!(line[1], me.to_string());
    assert_eq!(line[2..].join(" "), leader);
    // Only leaders without --threads: our test thread (when it is not the
    // main thread) is not listed.
    if gettid() != me {
        let tid = gettid().to_string();
        assert!(!text
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(&tid)));
    }
}
