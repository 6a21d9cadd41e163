//! The classic `hello`, end to end on the real kernel, through the API and
//! through the example binary.

mod common;

use common::HeldIds;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tinybpf::events::TracePipe;
use tinybpf::{Error, OpenObject};

/// Run /bin/true until a `Hello world!` line from one of those runs (its
/// pid in the line's task field) comes out of `read`, within 10 s. Other
/// writers of the shared trace buffer (other BPF programs, other execs) are
/// ignored, and another reader of trace_pipe stealing a line only costs a
/// retry.
fn hello_from_our_exec(mut read: impl FnMut(Duration) -> Vec<String>) -> Result<(), String> {
    let t0 = Instant::now();
    let mut pids = Vec::new();
    let mut others = 0;
    while t0.elapsed() < Duration::from_secs(10) {
        let mut c = Command::new("/bin/true").spawn().unwrap();
        pids.push(c.id());
        c.wait().unwrap();
        let t1 = Instant::now();
        while t1.elapsed() < Duration::from_secs(1) {
            for l in read(Duration::from_millis(100)) {
                if !l.contains("Hello world!") {
                    continue;
                }
                // "<comm>-<pid> [cpu] ...": the task that called execve.
                if pids.iter().any(|p| l.contains(&format!("-{p} "))) {
                    return Ok(());
                }
                others += 1;
            }
        }
    }
    Err(format!(
        "no Hello world! from /bin/true pids {pids:?} within 10 s ({others} from other tasks)"
    ))
}

#[test]
fn hello_prints_on_exec_and_leaves_nothing() {
    if !common::root_or_skip("hello_prints_on_exec_and_leaves_nothing") {
        return;
    }
    let _g = common::kernel_lock();
    let _t = common::trace_pipe_lock();
    // Another user of the machine has a handle_tp loaded too.
    let noise = common::Noise::start(false);
    let held_before = HeldIds::of("self");
    let mut obj = OpenObject::open(common::obj("hello.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(obj.attach_all().unwrap(), 1);
    let id = obj.program("handle_tp").unwrap().id().unwrap();
    let link = obj.links()[0].info().unwrap().expect("a BPF link").id;
    // What this object made, as it reports it and as this process holds it.
    let mine = HeldIds {
        progs: [id].into(),
        maps: obj.maps().iter().map(|m| m.id().unwrap()).collect(),
        links: [link].into(),
    };
    assert!(!mine.maps.is_empty());
    assert_eq!(HeldIds::of("self").minus(&held_before), mine);
    assert!(common::prog_ids().contains(&id));
    // (A reader outside these tests may hold trace_pipe for a while.)
    let t0 = Instant::now();
    let mut pipe = loop {
        match TracePipe::open() {
            Ok(p) => break p,
            Err(e)
                if e.errno() == Some(nix::errno::Errno::EBUSY) && t0.elapsed().as_secs() < 10 =>
            {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("trace_pipe: {e}"),
        }
    };
    // Drain what is already there.
    let _ = pipe.read_lines(Duration::from_millis(10), None).unwrap();
    hello_from_our_exec(|t| pipe.read_lines(t, None).unwrap()).unwrap();
    drop(obj);
    mine.assert_all_gone("hello after drop", 10);
    assert_eq!(HeldIds::of("self"), held_before, "an fd of hello is left");
    // The other user's objects were not ours to check, and are untouched.
    assert!(noise.ids.still_in_kernel() == noise.ids);
}

#[test]
fn verifier_rejection_carries_the_log() {
    if !common::root_or_skip("verifier_rejection_carries_the_log") {
        return;
    }
    // (Its map is held by this process for a while: the other tests
    // compare what this process holds.)
    let _g = common::kernel_lock();
    let err = OpenObject::open(common::obj("bad.bpf.o"))
        .unwrap()
        .load()
        .unwrap_err();
    match &err {
        Error::Verifier { program, log, .. } => {
            assert_eq!(program, "handle_bad");
            assert!(log.contains("invalid mem access"), "log: {log}");
            // line_info puts the C source line into the log.
            assert!(
                log.contains("BAD_DEREF_MARKER"),
                "no source line in log: {log}"
            );
        }
        e => panic!("expected a verifier error, got {e}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("handle_bad") && msg.contains("invalid mem access"),
        "{msg}"
    );
}

#[test]
fn garbage_and_truncated_objects_are_parse_errors() {
    let good = std::fs::read(common::obj("hello.bpf.o")).unwrap();
    for len in [0, 4, 16, 63, 64, 200, good.len() / 2, good.len() - 1] {
        match OpenObject::from_bytes("t", &good[..len]) {
            Err(Error::Parse(_)) => {}
            Err(e) => panic!("truncated to {len}: unexpected error kind {e}"),
            Ok(_) => panic!("truncated to {len}: parsed"),
        }
    }
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(matches!(
        OpenObject::from_bytes("g", &garbage),
        Err(Error::Parse(_))
    ));
    // A non-BPF ELF file.
    let me = std::fs::read("/bin/true").unwrap();
    match OpenObject::from_bytes("true", &me) {
        Err(Error::Parse(e)) => assert!(e.to_string().contains("not a BPF object"), "{e}"),
        other => panic!("expected not-BPF error, got {other:?}"),
    }
}

/// Start the hello example through `sh -c script` in a new mount namespace
/// (unshare and sh exec: the child's pid is the example's), and wait for
/// its start line; then its stdout lines come through the receiver. On a
/// failed start, what it printed.
fn start_example(
    script: &str,
) -> Result<(std::process::Child, std::sync::mpsc::Receiver<String>), String> {
    let mut child = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut text = String::new();
    let start = Instant::now();
    while !text.contains("Successfully started") && start.elapsed() < Duration::from_secs(20) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => {
                text.push_str(&l);
                text.push('\n');
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if text.contains("Successfully started") {
        return Ok((child, rx));
    }
    let _ = child.kill();
    let status = child.wait();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    Err(format!(
        "example did not start ({status:?}): {text}\nstderr: {err}"
    ))
}

/// `cargo run --example hello` as a newcomer runs it: tracefs unmounted at
/// start (a private mount namespace), /bin/true prints Hello world! within
/// 2 s, SIGINT exits 0, nothing left in the kernel.
#[test]
fn hello_example_with_tracefs_unmounted() {
    if !common::root_or_skip("hello_example_with_tracefs_unmounted") {
        return;
    }
    let _g = common::kernel_lock();
    let _t = common::trace_pipe_lock();
    // Another user of the machine has a handle_tp loaded meanwhile: only
    // the example's own objects are looked for afterwards.
    let noise = common::Noise::start(false);
    let bin = common::example("hello");
    assert!(bin.exists(), "{} not built", bin.display());
    let script = format!(
        "mount --make-rprivate / ; umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null; \
         if grep -q ' tracefs ' /proc/self/mountinfo; then echo TRACEFS_STILL_MOUNTED >&2; fi; exec {}",
        bin.display()
    );
    // trace_pipe has one reader at a time: a reader outside these tests
    // makes the example fail to start (EBUSY) until it lets go.
    let t0 = Instant::now();
    let (mut child, rx) = loop {
        match start_example(&script) {
            Ok(started) => break started,
            Err(e) if e.contains("Device or resource busy") && t0.elapsed().as_secs() < 15 => {
                std::thread::sleep(Duration::from_millis(200))
            }
            Err(e) => panic!("{e}"),
        }
    };
    // The kernel objects the example holds: these must be gone after it.
    let held = HeldIds::of(&child.id().to_string());
    assert!(
        held.progs
            .iter()
            .any(|&p| common::prog_name(p).as_deref() == Some("handle_tp")),
        "the example holds no handle_tp: {held:?}"
    );
    assert!(
        !held.links.is_empty(),
        "the example holds no link: {held:?}"
    );
    let seen = hello_from_our_exec(|t| {
        let mut lines = Vec::new();
        let t0 = Instant::now();
        while let Ok(l) = rx.recv_timeout(t.saturating_sub(t0.elapsed())) {
            lines.push(l);
        }
        lines
    });
    let (status, _, err) = common::interrupt_and_wait(&mut child);
    seen.unwrap();
    assert!(!err.contains("TRACEFS_STILL_MOUNTED"), "{err}");
    assert!(status.success(), "exit status {status:?}; stderr: {err}");
    held.assert_all_gone("the hello example after it exited", 10);
    assert!(noise.ids.still_in_kernel() == noise.ids);
}

/// Entry point of the noise process (`common::Noise`); does nothing (and
/// checks nothing) unless `TINYBPF_TEST_NOISE` is set.
#[test]
fn child_entry_point() {
    common::noise_child();
}
