//! Throwaway network namespaces and cgroups for the networking tests
//! (tests/net.rs, cli/tests/net_cli.rs): everything made here is deleted by
//! a drop guard, also when the test fails.
#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::process::{Command, Output};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Echo requests per ping.
pub const PINGS: u64 = 3;

/// Two network namespaces joined by a veth pair; the test thread is moved
/// into B (where the programs attach). Dropping moves the thread back and
/// deletes both namespaces.
pub struct NetnsPair {
    pub a: String,
    pub b: String,
    home: File,
}

fn ip(args: &[&str]) -> Output {
    Command::new("ip").args(args).output().expect("run ip")
}

fn ip_ok(args: &[&str]) {
    let o = ip(args);
    assert!(
        o.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

impl NetnsPair {
    pub fn new(tag: &str) -> NetnsPair {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let base = format!("tbpf-{}-{tag}-{n}", std::process::id());
        let home = File::open("/proc/thread-self/ns/net").expect("own netns");
        let pair = NetnsPair {
            a: format!("{base}-a"),
            b: format!("{base}-b"),
            home,
        };
        ip_ok(&["netns", "add", &pair.a]);
        ip_ok(&["netns", "add", &pair.b]);
        ip_ok(&[
            "-n", &pair.a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns",
            &pair.b,
        ]);
        ip_ok(&["-n", &pair.a, "addr", "add", "192.0.2.1/24", "dev", "va"]);
        ip_ok(&["-n", &pair.b, "addr", "add", "192.0.2.2/24", "dev", "vb"]);
        for (ns, dev) in [(&pair.a, "va"), (&pair.b, "vb")] {
            ip_ok(&["-n", ns, "link", "set", dev, "up"]);
            ip_ok(&["-n", ns, "link", "set", "lo", "up"]);
        }
        let f = File::open(format!("/run/netns/{}", pair.b)).expect("open netns B");
        nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("enter netns B");
        pair
    }

    /// Index of `vb` (the thread is in B).
    pub fn vb(&self) -> u32 {
        tinybpf::net::ifindex("vb").unwrap()
    }

    /// `ping -c 3` from A to B: whether every echo got its reply.
    pub fn ping(&self) -> bool {
        let o = Command::new("ip")
            .args(["netns", "exec", &self.a, "ping", "-n", "-q", "-c"])
            .arg(PINGS.to_string())
            .args(["-i", "0.2", "-W", "1", "192.0.2.2"])
            .output()
            .expect("run ping");
        o.status.success()
    }

    /// A command run in B.
    pub fn in_b(&self, args: &[&str]) -> String {
        let o = Command::new("ip")
            .args(["netns", "exec", &self.b])
            .args(args)
            .output()
            .expect("run in netns");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        let _ = nix::sched::setns(self.home.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET);
        for ns in [&self.a, &self.b] {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// A cgroup v2 directory made for one test, removed on drop.
pub struct TestCgroup {
    pub dir: std::path::PathBuf,
}

impl TestCgroup {
    pub fn new(tag: &str) -> TestCgroup {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        // Fields: id parent dev root mountpoint opts ... - fstype source opts.
        let mount = info
            .lines()
            .find(|l| l.split(" - ").nth(1).is_some_and(|t| t.starts_with("cgroup2 ")))
            .and_then(|l| l.split(' ').nth(4))
            .expect("no cgroup2 mount in /proc/self/mountinfo (mount one: mount -t cgroup2 none /sys/fs/cgroup/unified)")
            .to_string();
        let dir =
            std::path::Path::new(&mount).join(format!("tinybpf-net-{}-{tag}", std::process::id()));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TestCgroup { dir }
    }

    /// Run `cmd` in a child placed in this cgroup (before exec); its exit
    /// status and stderr.
    pub fn run(&self, cmd: &mut Command) -> (bool, String) {
        use std::os::unix::process::CommandExt;
        let procs = std::ffi::CString::new(
            self.dir
                .join("cgroup.procs")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .unwrap();
        // SAFETY: the hook only calls open/write/close (async-signal-safe;
        // the path is a CStr made before the fork: no allocation).
        unsafe {
            cmd.pre_exec(move || {
                use nix::fcntl::{open, OFlag};
                let fd = open(
                    procs.as_c_str(),
                    OFlag::O_WRONLY,
                    nix::sys::stat::Mode::empty(),
                )?;
                let r = nix::unistd::write(std::os::fd::BorrowedFd::borrow_raw(fd), b"0");
                let _ = nix::unistd::close(fd);
                r?;
                Ok(())
            });
        }
        let o = cmd.output().expect("run child in cgroup");
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // The children have exited: the cgroup is empty and can go.
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!("rmdir {}: {e}", self.dir.display());
        }
    }
}

/// A TCP listener on `addr` (in the calling thread's netns) that reports
/// what each connection sends, until dropped. One listener serves a whole
/// test: binding the port again could race a child forked meanwhile by
/// another test thread, which holds the old listening socket until it execs.
pub struct TcpServer {
    texts: mpsc::Receiver<String>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TcpServer {
    pub fn start(addr: &str) -> TcpServer {
        let l = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        l.set_nonblocking(true).unwrap();
        let (tx, texts) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let halt = stop.clone();
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut got = String::new();
                let _ = s.read_to_string(&mut got);
                let _ = tx.send(got);
            }
        });
        TcpServer {
            texts,
            stop,
            thread: Some(thread),
        }
    }

    /// What the next connection sent; None if none came within 6 s.
    pub fn next(&self) -> Option<String> {
        self.texts.recv_timeout(Duration::from_secs(6)).ok()
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `bash -c 'echo MSG > /dev/tcp/ADDR/PORT'`: one TCP connect + send.
pub fn tcp_client(addr: &str, port: u16, msg: &str) -> Command {
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(format!("echo {msg} > /dev/tcp/{addr}/{port}"));
    c
}
