//! Failure paths on the real kernel (root): each test provokes one failure
//! and asserts the error's kind (the `tinybpf::Error` variant) and what its
//! message says. Failures that need a different process state (no
//! privileges, no tracefs) run in a child: this test binary re-executed with
//! `TINYBPF_FAILURES_CHILD=<mode>` selecting `child_entry_point`, which
//! prints one `RESULT ...` line for the parent to check.

mod common;

use common::HeldIds;
use nix::errno::Errno;
use std::collections::BTreeSet;
use std::process::Command;
use tinybpf::error::AttachError;
use tinybpf::tracefs::TracefsError;
use tinybpf::{Error, OpenObject};

const CHILD_ENV: &str = "TINYBPF_FAILURES_CHILD";

fn variant(e: &Error) -> &'static str {
    match e {
        Error::Io { .. } => "Io",
        Error::Parse(_) => "Parse",
        Error::Link(_) => "Link",
        Error::Btf { .. } => "Btf",
        Error::KernelBtf(_) => "KernelBtf",
        Error::Core(_) => "Core",
        Error::Kconfig { .. } => "Kconfig",
        Error::KernelVersion { .. } => "KernelVersion",
        Error::UnknownSection { .. } => "UnknownSection",
        Error::Verifier { .. } => "Verifier",
        Error::Map { .. } => "Map",
        Error::Sys { .. } => "Sys",
        Error::Permission { .. } => "Permission",
        Error::Attach { .. } => "Attach",
        Error::Tracefs(_) => "Tracefs",
        Error::NotFound { .. } => "NotFound",
        Error::Invalid(_) => "Invalid",
        Error::PinMismatch { .. } => "PinMismatch",
        Error::Bpffs { .. } => "Bpffs",
        Error::MapUsage { .. } => "MapUsage",
        _ => "(a variant this test does not know)",
    }
}

/// Names of the kernel's maps with these ids.
fn map_names(ids: &BTreeSet<u32>) -> Vec<String> {
    ids.iter()
        .filter_map(|&id| tinybpf::kernel::map_info_by_id(id).ok())
        .map(|i| i.name)
        .collect()
}

/// Names of the kernel's programs with these ids.
fn prog_names(ids: &BTreeSet<u32>) -> Vec<String> {
    ids.iter().filter_map(|&id| common::prog_name(id)).collect()
}

/// What this process holds before a failing load, to compare after it.
///
/// Only this process's own kernel objects are compared (the ids its fds
/// hold, from /proc/self/fdinfo), never the kernel-wide lists: other BPF
/// users of the machine (another checkout's tests, say) load and unload
/// objects of the same names meanwhile. An object a failed load left
/// behind is held by a leaked fd of ours (the fd count catches even fds
/// that are not BPF objects).
struct Snapshot {
    held: HeldIds,
    fds: usize,
}

impl Snapshot {
    fn take() -> Snapshot {
        Snapshot {
            held: HeldIds::of("self"),
            fds: common::fd_count(),
        }
    }

    /// No program, map or link is held now that was not before, and no fd
    /// leaked.
    fn assert_nothing_left(&self) {
        let new = HeldIds::of("self").minus(&self.held);
        assert!(
            new.is_empty(),
            "left loaded: programs {:?}, maps {:?}, links {:?}",
            prog_names(&new.progs),
            map_names(&new.maps),
            new.links
        );
        assert_eq!(
            common::fd_count(),
            self.fds,
            "fd count changed: an fd leaked"
        );
    }
}

/// The snapshot check itself: blind to other processes' objects (a noise
/// process loads objects with the names these tests use), but not to ours.
#[test]
fn snapshot_sees_our_objects_and_ignores_other_processes() {
    if !common::root_or_skip("snapshot_sees_our_objects_and_ignores_other_processes") {
        return;
    }
    let _g = common::kernel_lock();
    let before = Snapshot::take();
    let noise = common::Noise::start(true);
    assert!(!noise.ids.links.is_empty(), "{:?}", noise.ids);
    let fds_with_noise = common::fd_count();
    let before_noise_fds = Snapshot {
        held: before.held.clone(),
        fds: fds_with_noise,
    };
    before_noise_fds.assert_nothing_left();
    // One of ours, kept: seen, by name.
    let mut open = OpenObject::open(common::obj("failures.bpf.o")).unwrap();
    open.load_only(&["good_first"]).unwrap();
    let obj = open.load().unwrap();
    let r = std::panic::catch_unwind(|| before_noise_fds.assert_nothing_left());
    let msg = r.expect_err("a loaded object went unnoticed");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("good_first") && msg.contains("fail_counts"),
        "{msg}"
    );
    drop(obj);
    before_noise_fds.assert_nothing_left();
    drop(noise);
    before.assert_nothing_left();
}

#[test]
fn verifier_rejection_is_a_verifier_error_with_log() {
    if !common::root_or_skip("verifier_rejection_is_a_verifier_error_with_log") {
        return;
    }
    let _g = common::kernel_lock();
    let before = Snapshot::take();
    let err = OpenObject::open(common::obj("bad.bpf.o"))
        .unwrap()
        .load()
        .unwrap_err();
    let Error::Verifier {
        program,
        errno,
        log,
    } = &err
    else {
        panic!("expected Error::Verifier, got {}: {err}", variant(&err));
    };
    assert_eq!(program, "handle_bad");
    assert_eq!(*errno, Errno::EACCES, "{err}");
    assert!(log.contains("invalid mem access"), "log: {log}");
    assert_eq!(err.verifier_log(), Some(log.as_str()));
    let msg = err.to_string();
    assert!(
        msg.contains("handle_bad") && msg.contains("invalid mem access"),
        "{msg}"
    );
    before.assert_nothing_left();
}

#[test]
fn second_program_rejected_leaves_nothing_behind() {
    if !common::root_or_skip("second_program_rejected_leaves_nothing_behind") {
        return;
    }
    let _g = common::kernel_lock();
    let mut open = OpenObject::open(common::obj("failures.bpf.o")).unwrap();
    // The rejected program must come after one that loads (and after the
    // map), or this test proves nothing about clean-up.
    let names: Vec<&str> = open.program_names().collect();
    let good = names.iter().position(|n| *n == "good_first").unwrap();
    let bad = names.iter().position(|n| *n == "bad_second").unwrap();
    assert!(good < bad, "program order: {names:?}");
    open.load_only(&["good_first", "bad_second"]).unwrap();
    let before = Snapshot::take();
    let err = open.load().unwrap_err();
    match &err {
        Error::Verifier { program, log, .. } => {
            assert_eq!(program, "bad_second");
            assert!(log.contains("invalid mem access"), "log: {log}");
        }
        e => panic!("expected Error::Verifier, got {}: {e}", variant(e)),
    }
    assert!(err.to_string().contains("bad_second"), "{err}");
    before.assert_nothing_left();

    // The same object without the bad program loads, and its program and
    // map are then visible: the check above can see them.
    let mut open = OpenObject::open(common::obj("failures.bpf.o")).unwrap();
    open.load_only(&["good_first"]).unwrap();
    let obj = open.load().unwrap();
    let id = obj.program("good_first").unwrap().id().unwrap();
    assert!(common::prog_ids().contains(&id));
    assert_eq!(common::prog_name(id).as_deref(), Some("good_first"));
    drop(obj);
    before.assert_nothing_left();
}

#[test]
fn unknown_section_names_program_and_section() {
    if !common::root_or_skip("unknown_section_names_program_and_section") {
        return;
    }
    let _g = common::kernel_lock();
    let mut open = OpenObject::open(common::obj("failures.bpf.o")).unwrap();
    open.set_autoload("bad_second", false).unwrap();
    let before = Snapshot::take();
    let err = open.load().unwrap_err();
    match &err {
        Error::UnknownSection { program, section } => {
            assert_eq!(program, "bogus_prog");
            assert_eq!(section, "bogus/x");
        }
        e => panic!("expected Error::UnknownSection, got {}: {e}", variant(e)),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("bogus_prog") && msg.contains("bogus/x"),
        "{msg}"
    );
    before.assert_nothing_left();

    // With that program's autoload off, the rest of the object loads.
    let mut open = OpenObject::open(common::obj("failures.bpf.o")).unwrap();
    open.set_autoload("bad_second", false).unwrap();
    open.set_autoload("bogus_prog", false).unwrap();
    let obj = open.load().unwrap();
    assert!(obj.program("good_first").is_some());
    assert!(obj.program("nosuch_prog").is_some());
    assert!(obj.program("bogus_prog").is_none());
}

#[test]
fn gpl_only_helper_from_non_gpl_object_is_refused() {
    if !common::root_or_skip("gpl_only_helper_from_non_gpl_object_is_refused") {
        return;
    }
    let _g = common::kernel_lock();
    let open = OpenObject::open(common::obj("nongpl.bpf.o")).unwrap();
    assert_eq!(open.spec().license, "Proprietary");
    let before = Snapshot::take();
    let err = open.load().unwrap_err();
    match &err {
        Error::Verifier { program, log, .. } => {
            assert_eq!(program, "gpl_helper");
            assert!(log.contains("GPL"), "log: {log}");
        }
        e => panic!("expected Error::Verifier, got {}: {e}", variant(e)),
    }
    let msg = err.to_string();
    assert!(msg.contains("gpl_helper") && msg.contains("GPL"), "{msg}");
    before.assert_nothing_left();
}

#[test]
fn map_creation_rejected_names_the_map() {
    if !common::root_or_skip("map_creation_rejected_names_the_map") {
        return;
    }
    let _g = common::kernel_lock();
    // A hash map of 0 entries.
    let mut open = OpenObject::open(common::obj("maps.bpf.o")).unwrap();
    open.set_max_entries("execs", 0).unwrap();
    let before = Snapshot::take();
    let err = open.load().unwrap_err();
    match &err {
        Error::Map { map, source } => {
            assert_eq!(map, "execs");
            assert_eq!(source.errno, Errno::EINVAL);
        }
        e => panic!("expected Error::Map, got {}: {e}", variant(e)),
    }
    let msg = err.to_string();
    assert!(msg.contains("execs") && msg.contains("hint"), "{msg}");
    before.assert_nothing_left();

    // A ring buffer whose size is not a power-of-two multiple of the page.
    let mut open = OpenObject::open(common::obj("events.bpf.o")).unwrap();
    open.set_max_entries("rb", 12345).unwrap();
    let before = Snapshot::take();
    let err = open.load().unwrap_err();
    match &err {
        Error::Map { map, source } => {
            assert_eq!(map, "rb");
            assert_eq!(source.errno, Errno::EINVAL);
        }
        e => panic!("expected Error::Map, got {}: {e}", variant(e)),
    }
    assert!(err.to_string().contains("rb"), "{err}");
    before.assert_nothing_left();

    // Global data has a fixed size: refused before the kernel is asked.
    let mut open = OpenObject::open(common::obj("events.bpf.o")).unwrap();
    let data_map = open
        .spec()
        .maps
        .iter()
        .find(|m| m.data.is_some())
        .map(|m| m.name.clone())
        .expect("events.bpf.o has a global data map");
    match open.set_max_entries(&data_map, 2) {
        Err(Error::Invalid(msg)) => assert!(msg.contains(&data_map), "{msg}"),
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
    match open.set_max_entries("no_such_map", 2) {
        Err(Error::NotFound { kind, name }) => {
            assert_eq!(kind, "map");
            assert_eq!(name, "no_such_map");
        }
        other => panic!("expected Error::NotFound, got {other:?}"),
    }
}

#[test]
fn missing_tracepoint_is_an_attach_error_naming_it() {
    if !common::root_or_skip("missing_tracepoint_is_an_attach_error_naming_it") {
        return;
    }
    let _g = common::kernel_lock();
    let mut open = OpenObject::open(common::obj("failures.bpf.o")).unwrap();
    open.load_only(&["nosuch_prog"]).unwrap();
    let mut obj = open.load().unwrap();
    let held = HeldIds::of("self");
    let fds = common::fd_count();
    let err = obj.attach("nosuch_prog").unwrap_err();
    match &err {
        Error::Attach {
            program,
            target,
            reason,
        } => {
            assert_eq!(program, "nosuch_prog");
            assert!(target.contains("nosuch/event"), "{target}");
            assert!(
                matches!(reason, AttachError::Tracefs(e)
                    if matches!(**e, TracefsError::TracepointNotFound { .. })),
                "{reason:?}"
            );
            assert!(reason.to_string().contains("not found"), "{reason}");
        }
        e => panic!("expected Error::Attach, got {}: {e}", variant(e)),
    }
    assert!(err.to_string().contains("nosuch/event"), "{err}");
    // attach_all fails the same way, and nothing was attached.
    let err = obj.attach_all().unwrap_err();
    assert!(
        matches!(&err, Error::Attach { program, .. } if program == "nosuch_prog"),
        "{err}"
    );
    assert!(obj.links().is_empty());
    assert_eq!(common::fd_count(), fds, "fd leaked by failed attach");
    assert_eq!(HeldIds::of("self"), held, "a failed attach left something");
}

#[test]
fn custom_target_btf_missing_or_invalid() {
    if !common::root_or_skip("custom_target_btf_missing_or_invalid") {
        return;
    }
    let _g = common::kernel_lock();
    // Missing file: an I/O error naming the path, for a CO-RE object.
    let mut open = OpenObject::open(common::obj("execsnoop.bpf.o")).unwrap();
    open.set_autoload("handle_exec_perf", false).unwrap();
    open.options_mut().target_btf = Some("/nonexistent/vmlinux.btf".into());
    let before = Snapshot::take();
    let err = open.load().unwrap_err();
    match &err {
        Error::Io { path, source } => {
            assert_eq!(path, "/nonexistent/vmlinux.btf");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        e => panic!("expected Error::Io, got {}: {e}", variant(e)),
    }
    assert!(err.to_string().contains("/nonexistent/vmlinux.btf"));
    before.assert_nothing_left();

    // A file that is not BTF: a BTF error naming the path.
    let junk = std::env::temp_dir().join(format!("tinybpf-notbtf-{}", std::process::id()));
    std::fs::write(&junk, b"this is not BTF at all, just some text\n").unwrap();
    let mut open = OpenObject::open(common::obj("execsnoop.bpf.o")).unwrap();
    open.set_autoload("handle_exec_perf", false).unwrap();
    open.options_mut().target_btf = Some(junk.clone());
    let err = open.load().unwrap_err();
    let _ = std::fs::remove_file(&junk);
    match &err {
        Error::Btf { what, .. } => assert_eq!(what, &junk.display().to_string()),
        e => panic!("expected Error::Btf, got {}: {e}", variant(e)),
    }

    // hello has no CO-RE relocations: it loads without any target BTF.
    let mut open = OpenObject::open(common::obj("hello.bpf.o")).unwrap();
    open.options_mut().target_btf = Some("/nonexistent/vmlinux.btf".into());
    open.load().unwrap();
}

// ---------------------------------------------------------------------------
// Child-process failures.

/// Run this test binary again as a child in `mode` (optionally through a
/// wrapper command such as `unshare`); returns its `RESULT` line.
fn run_child(mode: &str, wrapper: &[&str]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut argv: Vec<String> = wrapper.iter().map(|s| s.to_string()).collect();
    argv.push(exe.display().to_string());
    argv.extend(
        [
            "child_entry_point",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ]
        .map(String::from),
    );
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .env(CHILD_ENV, mode)
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("running {argv:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child {mode} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
        .lines()
        .find_map(|l| l.find("RESULT ").map(|i| &l[i + 7..]))
        .unwrap_or_else(|| panic!("child {mode} printed no RESULT:\n{stdout}\n{stderr}"))
        .to_string()
}

/// `RESULT` line for an error: `kind=<variant> errno=<errno> msg=<message>`.
fn describe(e: &Error) -> String {
    format!(
        "kind={} errno={:?} msg={}",
        variant(e),
        e.errno(),
        e.to_string().replace('\n', " | ")
    )
}

#[test]
fn unprivileged_load_is_eperm_with_a_hint() {
    if !common::root_or_skip("unprivileged_load_is_eperm_with_a_hint") {
        return;
    }
    // (Held while the child runs: its pipes are fds of this process, which
    // the fd-leak checks of the other tests count.)
    let _g = common::kernel_lock();
    let r = run_child("unprivileged", &[]);
    // hello's first kernel object is its BTF: EPERM there stops the load.
    assert!(r.starts_with("kind=Permission "), "{r}");
    assert!(r.contains("errno=Some(EPERM)"), "{r}");
    assert!(r.contains("object hello: load its BTF"), "{r}");
    assert!(
        r.contains("loading BPF needs root, or CAP_BPF plus CAP_PERFMON"),
        "no privilege hint: {r}"
    );
}

#[test]
fn tracefs_absent_and_unmountable_is_an_attach_error_with_hint() {
    if !common::root_or_skip("tracefs_absent_and_unmountable_is_an_attach_error_with_hint") {
        return;
    }
    let _g = common::kernel_lock();
    let r = run_child(
        "no-tracefs",
        &["unshare", "--mount", "--propagation", "private"],
    );
    assert!(r.starts_with("kind=Attach "), "{r}");
    assert!(r.contains("handle_tp"), "{r}");
    assert!(r.contains("tracefs"), "{r}");
    assert!(
        r.contains("mounting it at /sys/kernel/tracing failed"),
        "{r}"
    );
    assert!(r.contains("hint: `mount -t tracefs"), "no hint: {r}");
}

/// Entry point of the child processes above; does nothing (and checks
/// nothing) unless `TINYBPF_FAILURES_CHILD` is set.
#[test]
fn child_entry_point() {
    if common::noise_child() {
        return;
    }
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    match mode.as_str() {
        "unprivileged" => child_unprivileged(),
        "no-tracefs" => child_no_tracefs(),
        m => panic!("unknown child mode {m}"),
    }
}

fn child_unprivileged() {
    use nix::unistd::{setgid, setgroups, setuid, Gid, Uid};
    // Read the object while still root (its directory may be private).
    let bytes = std::fs::read(common::obj("hello.bpf.o")).unwrap();
    setgroups(&[]).unwrap();
    setgid(Gid::from_raw(65534)).unwrap();
    setuid(Uid::from_raw(65534)).unwrap();
    assert!(!nix::unistd::geteuid().is_root());
    let err = OpenObject::from_bytes("hello", &bytes)
        .unwrap()
        .load()
        .expect_err("an unprivileged load succeeded");
    println!("RESULT {}", describe(&err));
}

fn child_no_tracefs() {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    // We run under `unshare --mount --propagation private`: what we
    // unmount here is gone for this process only.
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mut points: Vec<String> = mi
        .lines()
        .filter_map(|l| {
            let (head, tail) = l.split_once(" - ")?;
            let fstype = tail.split(' ').next()?;
            let mp = head.split(' ').nth(4)?;
            matches!(fstype, "tracefs" | "debugfs").then(|| mp.to_string())
        })
        .collect();
    // Deepest first (debugfs/tracing under debugfs, ...).
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in &points {
        umount2(p.as_str(), MntFlags::MNT_DETACH).unwrap_or_else(|e| panic!("umount {p}: {e}"));
    }
    // A read-only, empty tmpfs over /sys/kernel: /sys/kernel/tracing does
    // not exist and cannot be created, so tracefs cannot be mounted there.
    mount(
        Some("tmpfs"),
        "/sys/kernel",
        Some("tmpfs"),
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("size=16k"),
    )
    .expect("mount tmpfs over /sys/kernel");
    assert!(!std::path::Path::new("/sys/kernel/tracing").exists());
    let mut obj = OpenObject::open(common::obj("hello.bpf.o"))
        .unwrap()
        .load()
        .expect("hello loads without tracefs");
    let err = obj
        .attach_all()
        .expect_err("attach without tracefs succeeded");
    assert!(obj.links().is_empty());
    println!("RESULT {}", describe(&err));
}
