//! The classic `hello`, end to end on the real kernel, through the API and
//! through the example binary.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tinybpf::events::TracePipe;
use tinybpf::{Error, OpenObject};

#[test]
fn hello_prints_on_exec_and_leaves_nothing() {
    if !common::root_or_skip("hello_prints_on_exec_and_leaves_nothing") {
        return;
    }
    let _g = common::kernel_lock();
    let links_before = common::link_ids().len();
    let mut obj = OpenObject::open(common::obj("hello.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(obj.attach_all().unwrap(), 1);
    let id = obj.program("handle_tp").unwrap().id().unwrap();
    assert!(common::prog_ids().contains(&id));
    let mut pipe = TracePipe::open().unwrap();
    // Drain what is already there.
    let _ = pipe.read_lines(Duration::from_millis(10), None).unwrap();
    Command::new("/bin/true").status().unwrap();
    let start = Instant::now();
    let mut seen = false;
    while start.elapsed() < Duration::from_secs(2) && !seen {
        seen = pipe
            .read_lines(Duration::from_millis(100), None)
            .unwrap()
            .iter()
            .any(|l| l.contains("Hello world!"));
    }
    assert!(seen, "no 'Hello world!' within 2 s of running /bin/true");
    drop(obj);
    assert!(
        !common::prog_ids().contains(&id),
        "program still loaded after drop"
    );
    assert!(
        common::link_ids().len() <= links_before,
        "a link is left after drop"
    );
}

#[test]
fn verifier_rejection_carries_the_log() {
    if !common::root_or_skip("verifier_rejection_carries_the_log") {
        return;
    }
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

/// `cargo run --example hello` as a newcomer runs it: tracefs unmounted at
/// start (a private mount namespace), /bin/true prints Hello world! within
/// 2 s, SIGINT exits 0, nothing left in the kernel.
#[test]
fn hello_example_with_tracefs_unmounted() {
    if !common::root_or_skip("hello_example_with_tracefs_unmounted") {
        return;
    }
    let _g = common::kernel_lock();
    let bin = common::example("hello");
    assert!(bin.exists(), "{} not built", bin.display());
    let script = format!(
        "mount --make-rprivate / ; umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null; \
         if grep -q ' tracefs ' /proc/self/mountinfo; then echo TRACEFS_STILL_MOUNTED >&2; fi; exec {}",
        bin.display()
    );
    let mut child = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut acc = String::new();
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            acc.push_str(&String::from_utf8_lossy(&buf[..n]));
            let _ = tx.send(acc.clone());
        }
    });
    // Wait for the start line, then exec /bin/true.
    let mut text = String::new();
    let start = Instant::now();
    while !text.contains("Successfully started") && start.elapsed() < Duration::from_secs(20) {
        if let Ok(t) = rx.recv_timeout(Duration::from_millis(100)) {
            text = t;
        }
    }
    assert!(
        text.contains("Successfully started"),
        "example did not start: {text}"
    );
    Command::new("/bin/true").status().unwrap();
    let t0 = Instant::now();
    while !text.contains("Hello world!") && t0.elapsed() < Duration::from_secs(2) {
        if let Ok(t) = rx.recv_timeout(Duration::from_millis(50)) {
            text = t;
        }
    }
    assert!(
        text.contains("Hello world!"),
        "no Hello world! within 2 s: {text}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("TRACEFS_STILL_MOUNTED"), "{err}");
    assert!(status.success(), "exit status {status:?}; stderr: {err}");
    assert!(
        !common::prog_names().iter().any(|n| n == "handle_tp"),
        "handle_tp still loaded"
    );
}
