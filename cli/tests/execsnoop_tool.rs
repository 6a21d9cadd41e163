//! `tinybpf load` on libbpf-tools' own execsnoop object (built by others):
//! both programs attach, and while tinybpf holds them, exec events flow through
//! the object's perf buffer (read here through the pinned map).

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/realworld.rs"]
mod realworld;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tinybpf::{Map, PerfBuffer};

#[test]
fn libbpf_tools_execsnoop_events_flow_while_loaded() {
    if !common::root_or_skip("libbpf_tools_execsnoop_events_flow_while_loaded") {
        return;
    }
    if !realworld::ensure_libbpf_tools() {
        eprintln!("libbpf-tools not installed; skipped (CI installs it)");
        return;
    }
    let objs = realworld::libbpf_tools_objects();
    let (_, bytes) = objs
        .iter()
        .find(|(n, _)| n == "execsnoop")
        .expect("execsnoop object");
    let dir = std::env::temp_dir().join(format!("tinybpf-execsnoop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("execsnoop.bpf.o");
    std::fs::write(&obj, bytes).unwrap();
    let pin = format!("/sys/fs/bpf/tinybpf-execsnoop-{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinybpf"))
        .arg("load")
        .arg(&obj)
        .args(["--pin", &pin, "--duration", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let events = std::path::Path::new(&pin).join("maps/events");
    let start = Instant::now();
    while !events.exists() && start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(events.exists(), "{} never pinned", events.display());
    let map = Map::from_pin(&events).unwrap();
    let mut samples: Vec<Vec<u8>> = Vec::new();
    {
        let mut pb = PerfBuffer::builder(&map)
            .on_sample(|_cpu, raw: &[u8]| samples.push(raw.to_vec()))
            .build()
            .unwrap();
        for _ in 0..5 {
            Command::new("/bin/true").status().unwrap();
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(3) {
            pb.poll(Duration::from_millis(100)).unwrap();
        }
    }
    let (status, out, err) = common::interrupt_and_wait(&mut child);
    let _ = std::fs::remove_dir_all(&pin);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "tinybpf load exited {status:?}: {err}");
    // Both programs (sys_enter_execve and sys_exit_execve tracepoints) attached.
    let links = out
        .lines()
        .filter(|l| l.contains("→ tracepoint syscalls/sys_"))
        .count();
    assert_eq!(links, 2, "expected two tracepoint links:\n{out}");
    let trues = samples
        .iter()
        .filter(|s| s.windows(4).any(|w| w == b"true"))
        .count();
    assert!(
        trues >= 5,
        "{} events naming true out of {} samples",
        trues,
        samples.len()
    );
}
