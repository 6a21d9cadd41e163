//! A newcomer's first hour: the cargo runner, the examples run from anywhere
//! (objects embedded), errors printed with their hint, no BTF warning or
//! perf-buffer fallback when the real problem is privileges, tracefs that is
//! mounted but unreadable, trace_pipe leftovers, and Send event readers.

mod common;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const HINT: &str = "loading BPF needs root, or CAP_BPF plus CAP_PERFMON";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory under the temp dir that uid 65534 can read.
fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tinybpf-first-hour-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The runner and a fake `sudo` (prints its arguments, exits 42) in a
/// directory uid 65534 can use.
fn runner_setup(tag: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(tag);
    let runner = dir.join("run-as-root.sh");
    std::fs::copy(repo().join("scripts/run-as-root.sh"), &runner).unwrap();
    std::fs::set_permissions(&runner, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_exec(
        &dir.join("sudo"),
        "#!/bin/sh\nfor a in \"$@\"; do printf 'SUDO-ARG:%s\\n' \"$a\"; done\nexit 42\n",
    );
    (dir, runner)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn cargo_config_runs_binaries_through_the_runner() {
    let cfg = std::fs::read_to_string(repo().join(".cargo/config.toml")).unwrap();
    assert!(cfg.contains("runner = \"scripts/run-as-root.sh\""), "{cfg}");
    let mode = std::fs::metadata(repo().join("scripts/run-as-root.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert!(mode & 0o111 != 0, "run-as-root.sh is not executable");
}

/// As root (CI), the runner execs the binary itself: arguments, output and
/// exit status pass through, sudo is never called.
#[test]
fn runner_as_root_execs_directly() {
    if !common::root_or_skip("runner_as_root_execs_directly") {
        return;
    }
    let (dir, runner) = runner_setup("root");
    let out = Command::new(&runner)
        .args([
            "sh",
            "-c",
            "printf '%s|' \"$@\"; exit 7",
            "sh",
            "a",
            "b c",
            "",
        ])
        .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stdout}{stderr}");
    assert_eq!(stdout, "a|b c||");
    assert!(
        !stdout.contains("SUDO-ARG"),
        "sudo called as root: {stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Not root: the runner runs `sudo -E -- BINARY ARGS...` and returns sudo's
/// status; TINYBPF_NO_SUDO=1 runs the binary directly.
#[test]
fn runner_not_root_goes_through_sudo_e() {
    if !common::root_or_skip("runner_not_root_goes_through_sudo_e") {
        return;
    }
    let (dir, runner) = runner_setup("user");
    let path = format!("{}:/usr/bin:/bin", dir.display());
    let as_nobody = |no_sudo: bool| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&runner)
            .args(["/bin/echo", "a", "b c"])
            .env("PATH", &path)
            .current_dir(&dir);
        if no_sudo {
            c.env("TINYBPF_NO_SUDO", "1");
        }
        c.output().unwrap()
    };
    let out = as_nobody(false);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(42), "{stdout}{stderr}");
    let args: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("SUDO-ARG:"))
        .collect();
    assert_eq!(args, ["-E", "--", "/bin/echo", "a", "b c"], "{stdout}");

    let out = as_nobody(true);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout, "a b c\n");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Run an example binary as uid 65534 (optionally with some capabilities,
/// and a shell prelude run as root in a private mount namespace first).
fn example_as_nobody(name: &str, caps: &str, prelude: &str) -> Output {
    let bin = common::example(name);
    let caps = if caps.is_empty() {
        String::new()
    } else {
        format!(
            "--inh-caps=+{c} --ambient-caps=+{c}",
            c = caps.replace(',', ",+")
        )
    };
    let script = format!(
        "{prelude} exec setpriv --reuid=65534 --regid=65534 --clear-groups {caps} {}",
        bin.display()
    );
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .current_dir("/")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Without privileges, `hello` stops at once with the privilege error and
/// its hint (Display, not Debug), exit status 1, and no BTF warning.
#[test]
fn unprivileged_hello_says_what_to_do() {
    if !common::root_or_skip("unprivileged_hello_says_what_to_do") {
        return;
    }
    let out = example_as_nobody("hello", "", "");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("EPERM") && stderr.contains(HINT),
        "{stderr}"
    );
    assert!(!stderr.contains("BTF ("), "BTF warning: {stderr}");
    assert!(!stderr.contains("loading without it"), "{stderr}");
    assert!(!stderr.contains("SysError {"), "Debug output: {stderr}");
    assert!(!stdout.contains("Successfully started"), "{stdout}");
}

/// Without privileges, `execsnoop` does not "fall back" to the perf buffer.
#[test]
fn unprivileged_execsnoop_does_not_fall_back() {
    if !common::root_or_skip("unprivileged_execsnoop_does_not_fall_back") {
        return;
    }
    let out = example_as_nobody("execsnoop", "", "");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains(HINT), "{stderr}");
    assert!(!stderr.contains("perf buffer"), "{stderr}");
}

/// CAP_BPF + CAP_PERFMON load fine, but tracefs (mode 0700) is unreadable:
/// said as such, not as "not mounted".
#[test]
fn tracefs_unreadable_with_bpf_and_perfmon_only() {
    if !common::root_or_skip("tracefs_unreadable_with_bpf_and_perfmon_only") {
        return;
    }
    let prelude = "grep -q ' /sys/kernel/tracing .* - tracefs ' /proc/self/mountinfo || \
                   mount -t tracefs nodev /sys/kernel/tracing || exit 99; \
                   stat -c %a /sys/kernel/tracing | grep -qx 700 || { echo TRACEFS_NOT_0700 >&2; exit 98; };";
    let out = example_as_nobody("hello", "bpf,perfmon", prelude);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "tracefs at /sys/kernel/tracing is not readable: needs root or CAP_DAC_READ_SEARCH \
             (or attach with raw_tp / tp_btf, which need no tracefs)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("not mounted"), "{stderr}");
}

/// Spawn `script` in a private mount namespace where `bpf/` of this
/// repository is hidden (so an example that reads it cannot start), from
/// cwd `/`; returns the child and a channel of its accumulated stdout.
fn spawn_without_bpf_dir(script: &str) -> (Child, mpsc::Receiver<String>) {
    let script = format!(
        "mount -t tmpfs -o size=16k none {}/bpf || exit 99; exec {script}",
        repo().display()
    );
    let mut child = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .current_dir("/")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut acc = String::new();
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            acc.push_str(&String::from_utf8_lossy(&buf[..n]));
            if tx.send(acc.clone()).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Wait until the accumulated output contains `what` (running `poke`
/// between waits); returns the output so far.
fn wait_for(
    rx: &mpsc::Receiver<String>,
    last: &mut String,
    what: &str,
    secs: u64,
    poke: impl Fn(),
) -> bool {
    let start = Instant::now();
    while !last.contains(what) && start.elapsed() < Duration::from_secs(secs) {
        poke();
        if let Ok(t) = rx.recv_timeout(Duration::from_millis(100)) {
            *last = t;
        }
    }
    last.contains(what)
}

fn interrupt_and_wait(mut child: Child) -> (std::process::ExitStatus, String) {
    let (status, _, err) = common::interrupt_and_wait(&mut child);
    (status, err)
}

/// hello, maps and execsnoop start from `/` with the repository's `bpf/`
/// hidden (their objects are embedded), and exit 0 on Ctrl-C. hello prints
/// no trace_pipe line left from before it started.
#[test]
fn examples_run_from_anywhere() {
    if !common::root_or_skip("examples_run_from_anywhere") {
        return;
    }
    let _g = common::kernel_lock();
    // A stale line in trace_pipe, as an earlier run would leave.
    let marker = format!("tinybpf-stale-line-{}", std::process::id());
    let tracefs = tinybpf::tracefs::tracefs_dir().unwrap();
    std::fs::write(tracefs.join("trace_marker"), &marker).unwrap();
    let true_ = || {
        let _ = Command::new("/bin/true").status();
    };
    for (name, ready, event) in [
        ("hello", "Successfully started", "Hello world!"),
        ("maps", "Successfully started", "Process Name = true"),
        ("execsnoop", "FILENAME", "/bin/true"),
    ] {
        let bin = common::example(name);
        let (child, rx) = spawn_without_bpf_dir(&bin.display().to_string());
        let mut out = String::new();
        let started = wait_for(&rx, &mut out, ready, 20, || {});
        let seen = started && wait_for(&rx, &mut out, event, 5, true_);
        let (status, err) = interrupt_and_wait(child);
        assert!(started, "{name} did not start: {out}\n{err}");
        assert!(seen, "{name}: no {event:?} within 5 s: {out}\n{err}");
        assert!(status.success(), "{name}: exit {status:?}: {err}");
        assert!(!out.contains(&marker), "{name} printed a stale line: {out}");
    }
}

/// The std-only reader-thread example: a SendRingBuffer polled on its own
/// thread feeds a channel; `ringbuf_thread 1` exits 0 after one exec.
#[test]
fn ringbuf_thread_example() {
    if !common::root_or_skip("ringbuf_thread_example") {
        return;
    }
    let bin = common::example("ringbuf_thread");
    let (mut child, rx) = spawn_without_bpf_dir(&format!("{} 1", bin.display()));
    let mut out = String::new();
    assert!(
        wait_for(&rx, &mut out, "Successfully started", 20, || {}),
        "{out}"
    );
    let done = wait_for(&rx, &mut out, "Exiting after 1 events", 5, || {
        let _ = Command::new("/bin/true").status();
    });
    if !done {
        let (_, err) = interrupt_and_wait(child);
        panic!("no event within 5 s: {out}\n{err}");
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(out.contains("exec pid="), "{out}");
}

/// Readers built from `Send` callbacks are `Send` (moved into a thread);
/// the object handles are Send + Sync.
#[test]
fn send_readers() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<tinybpf::SendRingBuffer<'static>>();
    send::<tinybpf::SendPerfBuffer<'static>>();
    send_sync::<tinybpf::Object>();
    send_sync::<tinybpf::Map>();
    send_sync::<tinybpf::Program>();
    send_sync::<tinybpf::Link>();
}

/// `include_bytes!` data has no alignment guarantee: parsing must not care.
#[test]
fn from_bytes_accepts_unaligned_data() {
    let bytes = std::fs::read(common::obj("hello.bpf.o")).unwrap();
    let mut shifted = vec![0u8; bytes.len() + 8];
    let off = (1..8)
        .find(|o| shifted[*o..].as_ptr().align_offset(8) != 0)
        .unwrap();
    shifted[off..off + bytes.len()].copy_from_slice(&bytes);
    let open = tinybpf::OpenObject::from_bytes("hello", &shifted[off..off + bytes.len()]).unwrap();
    assert!(open.program_names().any(|p| p == "handle_tp"));
}
