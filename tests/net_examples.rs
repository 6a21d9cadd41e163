//! The networking examples run for real, each inside a pair of network
//! namespaces this test creates (tests/common/netns.rs: veth `va` in A,
//! 192.0.2.1, `vb` in B, 192.0.2.2; the example is started from the test
//! thread, which sits in B) and, for cgroup_connect, a throwaway cgroup.
//! Traffic: `ping -c 3` from A to B, and one TCP connection inside B.

mod common;
#[path = "common/netns.rs"]
mod netns;

use netns::{NetnsPair, TestCgroup, PINGS};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running example: its stdout lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    out: String,
}

impl Running {
    fn start(name: &str, args: &[&str]) -> Running {
        let mut child = Command::new(common::example(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            out: String::new(),
        }
    }

    /// Wait up to `secs` for a line containing `want`.
    fn wait_for(&mut self, want: &str, secs: u64) -> bool {
        let end = Instant::now() + Duration::from_secs(secs);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.out.push_str(&l);
                    self.out.push('\n');
                    if l.contains(want) {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }

    /// Ctrl-C, then the exit status, the rest of stdout and stderr.
    fn interrupt(mut self) -> (ExitStatus, String, String) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let end = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.out.push_str(&l);
            self.out.push('\n');
        }
        let mut err = String::new();
        let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
        (status, self.out, err)
    }
}

/// A run to completion without a Ctrl-C (the argument errors).
fn run_to_end(name: &str, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(common::example(name))
        .args(args)
        .output()
        .unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into())
}

#[test]
fn xdp_drop_example_drops_the_pings_and_counts_them() {
    if !common::root_or_skip("xdp_drop_example_drops_the_pings_and_counts_them") {
        return;
    }
    let pair = NetnsPair::new("exxdp");
    for mode in ["generic", "native"] {
        assert!(pair.ping(), "baseline ping ({mode})");
        let mut run = Running::start("xdp_drop", &["vb", "--mode", mode]);
        let started = run.wait_for("Dropping ICMP on vb", 20);
        let q = tinybpf::net::xdp_query(pair.vb()).unwrap();
        let pinged = started && pair.ping();
        // The counter line printed once a second shows the 3 echo requests.
        let want = format!("dropped {PINGS} ICMP packets");
        let counted = started && run.wait_for(&want, 5);
        let (status, out, err) = run.interrupt();
        assert!(started, "{mode}: did not start: {out}\n{err}");
        assert_ne!(q.attached, 0, "{mode}: nothing attached to vb: {q:?}");
        assert!(!pinged, "{mode}: ping got through xdp_drop: {out}");
        assert!(counted, "{mode}: no {want:?} line: {out}\n{err}");
        assert!(status.success(), "{mode}: exit {status:?}: {err}");
        assert!(
            out.contains(&format!("{PINGS} ICMP packets dropped in all")),
            "{mode}: {out}"
        );
        // Ctrl-C detached: nothing on vb, pings pass again.
        let q = tinybpf::net::xdp_query(pair.vb()).unwrap();
        assert_eq!(
            q,
            tinybpf::net::XdpQuery::default(),
            "{mode}: left attached"
        );
        assert!(pair.ping(), "ping after xdp_drop exited ({mode})");
    }
    // Bad arguments: usage, exit 1, nothing attached.
    let (code, err) = run_to_end("xdp_drop", &["vb", "--mode", "fast"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("generic or native") && err.contains("usage"),
        "{err}"
    );
    let (code, err) = run_to_end("xdp_drop", &["no-such-if0"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no-such-if0"), "{err}");
    assert_eq!(
        tinybpf::net::xdp_query(pair.vb()).unwrap().attached,
        0,
        "attached after a failed start"
    );
}

/// Address on B's loopback that the cgroup tests connect to.
const DST: &str = "10.200.0.1";
const PORT_A: u16 = 8080;
const PORT_B: u16 = 9090;

#[test]
fn cgroup_connect_example_redirects_the_cgroups_connections() {
    if !common::root_or_skip("cgroup_connect_example_redirects_the_cgroups_connections") {
        return;
    }
    let pair = NetnsPair::new("excg");
    let cg = TestCgroup::new("excg");
    pair.in_b(&["ip", "addr", "add", &format!("{DST}/32"), "dev", "lo"]);
    let dir = cg.dir.display().to_string();
    let mut run = Running::start(
        "cgroup_connect",
        &[&dir, &PORT_A.to_string(), &PORT_B.to_string()],
    );
    let started = run.wait_for("Redirecting connect() to port 8080 → port 9090", 20);
    let server = netns::TcpServer::start(&format!("{DST}:{PORT_B}"));
    // In the cgroup: port A reaches the server on port B.
    let (inside, inside_err) = cg.run(&mut netns::tcp_client(DST, PORT_A, "from-the-cgroup"));
    let got = server.next();
    // Outside the cgroup: port A stays port A, where nobody listens.
    let outside = netns::tcp_client(DST, PORT_A, "outside").output().unwrap();
    let counted = started && run.wait_for("redirected 1 connections", 5);
    let (status, out, err) = run.interrupt();
    assert!(started, "did not start: {out}\n{err}");
    assert!(inside, "client in the cgroup failed: {inside_err}\n{out}");
    assert_eq!(got.as_deref(), Some("from-the-cgroup\n"), "{out}");
    assert!(
        !outside.status.success(),
        "port {PORT_A} answered outside the cgroup"
    );
    assert!(
        String::from_utf8_lossy(&outside.stderr).contains("refused"),
        "{outside:?}"
    );
    assert!(counted, "no count line: {out}\n{err}");
    assert!(status.success(), "exit {status:?}: {err}");
    assert!(out.contains("1 connections redirected in all"), "{out}");
    // Detached once the kernel has freed the example's link (another
    // process, bpftool say, may hold it a moment longer than the example).
    common::wait_for("the example's program detached from the cgroup", 5, || {
        let o = Command::new("bpftool")
            .args(["cgroup", "show"])
            .arg(&cg.dir)
            .output()
            .unwrap();
        o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("redirect_port")
    });
    // Detached: in the cgroup, port A is refused too.
    let (after, after_err) = cg.run(&mut netns::tcp_client(DST, PORT_A, "after"));
    assert!(!after, "redirected after Ctrl-C");
    assert!(after_err.contains("refused"), "{after_err}");
    // Bad arguments.
    let (code, err) = run_to_end("cgroup_connect", &[&dir, "0", "9090"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("FROM_PORT \"0\""), "{err}");
    let (code, err) = run_to_end("cgroup_connect", &["/nonexistent-cg", "1", "2"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("/nonexistent-cg"), "{err}");
}
