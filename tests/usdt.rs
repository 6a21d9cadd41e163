//! USDT probes on the real kernel: a C program with `DTRACE_PROBE*`
//! (compiled with gcc at test time, -O2 and -O0 for register, constant and
//! stack-memory argument specs), the programs of bpf/usdt.bpf.o (written
//! with libbpf's <bpf/usdt.bpf.h>) attached to it, and every argument, the
//! cookie and the argument count read back exactly through a ring buffer.
//! A probe with a semaphore sees it raised while attached.

mod common;

use common::HeldIds;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tinybpf::usdt::{ArgLocation, UsdtOpts};
use tinybpf::{Error, OpenObject, RingBuffer};

const SOURCE: &str = r#"
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>

unsigned short tinybpf_test_hit_semaphore __attribute__((section(".probes")));
unsigned short tinybpf_test_konst_semaphore __attribute__((section(".probes")));
unsigned short tinybpf_test_guarded_semaphore __attribute__((section(".probes")));

int main(int argc, char **argv)
{
	int a = argc > 2 ? atoi(argv[1]) : 0;
	long b = argc > 2 ? atol(argv[2]) : 0;
	for (int i = 0; i < 3; i++)
		DTRACE_PROBE2(tinybpf_test, hit, a - i, b + i);
	DTRACE_PROBE1(tinybpf_test, konst, -9);
	if (tinybpf_test_guarded_semaphore)
		DTRACE_PROBE1(tinybpf_test, guarded, b * 2);
	printf("semaphore %u\n", (unsigned)tinybpf_test_guarded_semaphore);
	return 0;
}
"#;

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compile SOURCE with `opt` into the scratch directory; `None` (skip)
/// without gcc or <sys/sdt.h>, unless CI is set.
fn compile(dir: &Path, opt: &str) -> Option<PathBuf> {
    let sdt = [
        "/usr/include/sys/sdt.h",
        "/usr/include/x86_64-linux-gnu/sys/sdt.h",
    ];
    if !sdt.iter().any(|p| Path::new(p).exists()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "<sys/sdt.h> missing (apt-get install systemtap-sdt-dev) and CI is set"
        );
        eprintln!("skipped: <sys/sdt.h> missing (apt-get install systemtap-sdt-dev)");
        return None;
    }
    let src = dir.join("probes.c");
    std::fs::write(&src, SOURCE).unwrap();
    let bin = dir.join(format!("probes{opt}"));
    let out = Command::new("gcc")
        .arg(opt)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("run gcc");
    assert!(out.status.success(), "gcc: {out:?}");
    Some(bin)
}

fn scratch(tag: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("tinybpf-usdt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

#[test]
fn notes_are_parsed() {
    let dir = scratch("notes");
    let Some(bin) = compile(&dir.0, "-O0") else {
        return;
    };
    let probes = tinybpf::usdt::probes(&bin).unwrap();
    let hit = probes.iter().find(|p| p.name == "hit").unwrap();
    assert_eq!(hit.provider, "tinybpf_test");
    assert_eq!(hit.args.len(), 2, "{}", hit.args_text);
    assert!(hit.semaphore_offset != 0);
    // -O0 keeps the arguments on the stack or in registers; sizes are exact.
    assert_eq!((hit.args[0].size, hit.args[0].signed), (4, true));
    assert_eq!((hit.args[1].size, hit.args[1].signed), (8, true));
    let konst = probes.iter().find(|p| p.name == "konst").unwrap();
    assert_eq!(
        konst.args[0].location,
        ArgLocation::Const(-9),
        "{}",
        konst.args_text
    );
    // Offsets are file offsets inside the file.
    let len = std::fs::metadata(&bin).unwrap().len();
    assert!(probes
        .iter()
        .all(|p| p.offset < len && p.semaphore_offset < len));
    // A file without probes has none; a non-ELF file is a typed error.
    assert!(tinybpf::usdt::probes(Path::new("/proc/self/exe")).is_ok());
    let e = tinybpf::usdt::probes(&dir.0.join("probes.c")).unwrap_err();
    assert!(e.to_string().contains("ELF"), "{e}");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    a: i64,
    b: i64,
    cookie: u64,
    arg_cnt: i32,
    pid: u32,
}

fn decode(r: &[u8]) -> Hit {
    let q = |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().unwrap());
    Hit {
        a: q(0) as i64,
        b: q(8) as i64,
        cookie: q(16),
        arg_cnt: i32::from_le_bytes(r[24..28].try_into().unwrap()),
        pid: u32::from_le_bytes(r[28..32].try_into().unwrap()),
    }
}

fn run_and_collect(opt: &str) {
    let dir = scratch(&format!("run{opt}"));
    let Some(bin) = compile(&dir.0, opt) else {
        return;
    };
    let bin_s = bin.to_str().unwrap();
    // Before attaching: nobody raised the semaphore.
    let out = Command::new(&bin).args(["-5", "1"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "semaphore 0\n");

    let held_before = HeldIds::of("self");
    {
        let mut obj = OpenObject::open(common::obj("usdt.bpf.o"))
            .unwrap()
            .load()
            .unwrap();
        let opts = |cookie| UsdtOpts { pid: -1, cookie };
        let sites = obj
            .attach_usdt("on_hit", bin_s, "tinybpf_test", "hit", &opts(77))
            .unwrap();
        assert!(sites >= 1);
        assert_eq!(
            obj.attach_usdt("on_one", bin_s, "tinybpf_test", "konst", &opts(5))
                .unwrap(),
            1
        );
        assert_eq!(
            obj.attach_usdt("on_one", bin_s, "tinybpf_test", "guarded", &opts(6))
                .unwrap(),
            1
        );
        let b: i64 = 1_234_567_890_123;
        let child = Command::new(&bin)
            .args(["-5", &b.to_string()])
            .output()
            .unwrap();
        assert!(child.status.success());
        // The semaphore was raised by the kernel for the attached probe.
        assert_eq!(String::from_utf8_lossy(&child.stdout), "semaphore 1\n");
        let mut hits = Vec::new();
        {
            let mut rb = RingBuffer::new(obj.map("hits").unwrap(), |r: &[u8]| {
                hits.push(decode(r));
                0
            })
            .unwrap();
            let t0 = std::time::Instant::now();
            while t0.elapsed() < Duration::from_secs(5) {
                rb.poll(Duration::from_millis(100)).unwrap();
                if rb.consume().unwrap() == 0 && t0.elapsed() > Duration::from_millis(300) {
                    break;
                }
            }
        }
        // output() does not tell the child's pid: every hit must carry the same one.
        let child_pid = hits.first().map(|h| h.pid).expect("no USDT hit at all");
        assert_ne!(child_pid, std::process::id());
        let want: Vec<Hit> = (0..3)
            .map(|i| Hit {
                a: -5 - i,
                b: b + i,
                cookie: 77,
                arg_cnt: 2,
                pid: child_pid,
            })
            .chain([
                Hit {
                    a: -9,
                    b: 0,
                    cookie: 5,
                    arg_cnt: 1,
                    pid: child_pid,
                },
                Hit {
                    a: 2 * b,
                    b: 0,
                    cookie: 6,
                    arg_cnt: 1,
                    pid: child_pid,
                },
            ])
            .collect();
        assert_eq!(hits, want, "{opt}");
    }
    HeldIds::of("self")
        .minus(&held_before)
        .assert_all_gone("usdt", 5);
    // Detached: the semaphore is back to 0.
    let out = Command::new(&bin).args(["-5", "1"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "semaphore 0\n");
}

#[test]
fn usdt_arguments_read_back_exactly() {
    if !common::root_or_skip("usdt_arguments_read_back_exactly") {
        return;
    }
    let _g = common::kernel_lock();
    run_and_collect("-O2");
    run_and_collect("-O0");
}

#[test]
fn usdt_errors_are_typed() {
    if !common::root_or_skip("usdt_errors_are_typed") {
        return;
    }
    let _g = common::kernel_lock();
    let dir = scratch("errors");
    let Some(bin) = compile(&dir.0, "-O2") else {
        return;
    };
    let bin_s = bin.to_str().unwrap();
    let mut obj = OpenObject::open(common::obj("usdt.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    let e = obj
        .attach_usdt(
            "on_hit",
            bin_s,
            "tinybpf_test",
            "nope",
            &UsdtOpts::default(),
        )
        .unwrap_err();
    match &e {
        Error::Attach {
            reason: tinybpf::error::AttachError::Usdt(u),
            ..
        } => assert!(
            matches!(&**u, tinybpf::usdt::UsdtError::NoProbe { probe, .. } if probe == "tinybpf_test:nope"),
            "{u:?}"
        ),
        other => panic!("expected AttachError::Usdt, got {other:?}"),
    }
    assert!(
        e.to_string().contains("no USDT probe tinybpf_test:nope"),
        "{e}"
    );
    let e = obj
        .attach_usdt("on_hit", "/nonexistent/x", "p", "n", &UsdtOpts::default())
        .unwrap_err();
    assert!(matches!(e, Error::Attach { .. }), "{e:?}");
    assert!(obj.links().is_empty());
    // An object without <bpf/usdt.bpf.h>'s maps.
    let mut hello = OpenObject::open(common::obj("hello.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    let e = hello
        .attach_usdt(
            "handle_tp",
            bin_s,
            "tinybpf_test",
            "hit",
            &UsdtOpts::default(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("__bpf_usdt_specs"), "{e}");
}

#[test]
#[cfg(feature = "auto-uprobe")]
fn usdt_section_attaches_itself() {
    if !common::root_or_skip("usdt_section_attaches_itself") {
        return;
    }
    let _g = common::kernel_lock();
    // bpf/usdt_auto.bpf.c names this path in its section: one test at a time.
    let dir = Path::new("/var/tmp/tinybpf-usdt-auto");
    std::fs::create_dir_all(dir).unwrap();
    let lock = std::fs::File::create(dir.join("lock")).unwrap();
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    let tmp = scratch("auto");
    let Some(built) = compile(&tmp.0, "-O2") else {
        return;
    };
    let bin = dir.join("probes");
    let staged = dir.join(format!("probes.{}", std::process::id()));
    std::fs::copy(&built, &staged).unwrap();
    std::fs::rename(&staged, &bin).unwrap();

    let mut obj = OpenObject::open(common::obj("usdt_auto.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    let n = obj.attach_all().unwrap();
    assert!(n >= 1, "{n}");
    let out = Command::new(&bin).args(["-5", "100"]).output().unwrap();
    assert!(out.status.success());
    let sums = obj.map("sums").unwrap();
    assert_eq!(sums.get::<u32, i64>(&1).unwrap(), Some(3));
    assert_eq!(sums.get::<u32, i64>(&0).unwrap(), Some(95 + 95 + 95));
    obj.detach_all();
    // Object::attach by name does the same.
    let l = obj.attach("auto_hit").unwrap();
    assert!(
        l.description().contains("tinybpf_test:hit"),
        "{}",
        l.description()
    );
    drop(obj);
    let _ = std::fs::remove_file(&bin);
}

/// Without the `auto-uprobe` feature a usdt section does not auto-attach,
/// and the error names the feature and the explicit call.
#[test]
#[cfg(not(feature = "auto-uprobe"))]
fn usdt_section_without_auto_uprobe_says_why() {
    if !common::root_or_skip("usdt_section_without_auto_uprobe_says_why") {
        return;
    }
    let _g = common::kernel_lock();
    let mut obj = OpenObject::open(common::obj("usdt_auto.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    for e in [
        obj.attach_all().unwrap_err(),
        obj.attach("auto_hit").unwrap_err(),
    ] {
        let msg = e.to_string();
        assert!(msg.contains("`auto-uprobe` feature"), "{msg}");
        assert!(msg.contains("Object::attach_usdt"), "{msg}");
    }
}
