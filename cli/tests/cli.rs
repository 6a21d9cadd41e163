//! The `tinybpf` command line: every subcommand, its help, its errors, and
//! (as root) loading, attaching, pinning and test runs on the real kernel.

#[path = "../../tests/common/mod.rs"]
mod common;

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{id_of, obj, prog_gone, row, scratch, tinybpf, BIN};

// ---------------------------------------------------------------- help, usage

#[test]
fn main_help_lists_every_command() {
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let r = tinybpf(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.err);
        for cmd in ["info", "check", "load", "test-run"] {
            assert!(
                r.out.lines().any(|l| l.trim_start().starts_with(cmd)),
                "{args:?}: {cmd} not listed:\n{}",
                r.out
            );
        }
    }
    let r = tinybpf(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.out.starts_with("tinybpf "), "{}", r.out);
}

#[test]
fn every_command_has_help() {
    for cmd in ["info", "check", "load", "test-run"] {
        for flag in ["--help", "-h"] {
            let r = tinybpf(&[cmd, flag]);
            assert_eq!(r.code, 0, "{cmd} {flag}: {}", r.err);
            assert!(
                r.out.contains(&format!("Usage: tinybpf {cmd}")),
                "{cmd} {flag}:\n{}",
                r.out
            );
        }
        let r = tinybpf(&["help", cmd]);
        assert_eq!(r.code, 0);
        assert!(r.out.contains(&format!("Usage: tinybpf {cmd}")));
    }
    // Options are documented.
    let load = tinybpf(&["load", "--help"]).out;
    for opt in [
        "--btf",
        "--program",
        "--no-attach",
        "--set",
        "--dump-insns",
        "--log-level",
        "--pin",
        "--duration",
    ] {
        assert!(load.contains(opt), "load --help lacks {opt}");
    }
    let tr = tinybpf(&["test-run", "--help"]).out;
    for opt in ["--btf", "--data-size", "--repeat", "--set"] {
        assert!(tr.contains(opt), "test-run --help lacks {opt}");
    }
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let hello = obj("hello.bpf.o");
    let cases: &[(&[&str], &str)] = &[
        (&[], "Usage: tinybpf"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (
            &["help", "frobnicate"],
            "unrecognized subcommand 'frobnicate'",
        ),
        (&["info"], "<OBJ>"),
        (&["info", &hello, "extra"], "unexpected argument 'extra'"),
        (
            &["info", &hello, "--bogus"],
            "unexpected argument '--bogus'",
        ),
        (&["check"], "<OBJ>"),
        (
            &["check", &hello, "--btf"],
            "a value is required for '--btf <FILE>'",
        ),
        (
            &["load", &hello, "--duration", "soon"],
            "'soon' for '--duration <SECS>'",
        ),
        (
            &["load", &hello, "--no-attach=yes"],
            "unexpected value 'yes' for '--no-attach'",
        ),
        (&["load", &hello, "--set", "novalue"], "expected NAME=VALUE"),
        (
            &["load", &hello, "--log-level", "9"],
            "'9' for '--log-level <N>'",
        ),
        (
            &["load", &hello, "--log-level", "0"],
            "'0' for '--log-level <N>'",
        ),
        (&["test-run", &hello], "<PROGRAM>"),
        (
            &["test-run", &hello, "p", "--repeat", "-1"],
            "'-1' for '--repeat <N>'",
        ),
        (
            &["test-run", &hello, "p", "--data-size", "0x1000001"],
            "at most 16 MiB",
        ),
        (&["test-run", &hello, "p", "-x"], "unexpected argument '-x'"),
    ];
    for (args, msg) in cases {
        let r = tinybpf(args);
        assert_eq!(r.code, 2, "{args:?}: exit {}\n{}", r.code, r.err);
        assert!(r.err.contains(msg), "{args:?}: {msg:?} not in:\n{}", r.err);
        assert!(r.out.is_empty(), "{args:?}: stdout not empty:\n{}", r.out);
    }
}

// ----------------------------------------------------------------------- info

#[test]
fn info_hello() {
    let r = tinybpf(&["info", &obj("hello.bpf.o")]);
    assert_eq!(r.code, 0, "{}", r.err);
    let p = row(&r.out, "handle_tp");
    assert_eq!(
        p[1..4],
        ["tp/syscalls/sys_enter_execve", "tracepoint", "6"],
        "{}",
        r.out
    );
    assert!(r.out.contains("tracepoint syscalls/sys_enter_execve"));
    let m = row(&r.out, "hello.rodata");
    assert_eq!(m[1..5], ["array", "4", "13", "1"]);
    assert!(r.out.contains("license:  Dual BSD/GPL"), "{}", r.out);
    assert_eq!(row(&r.out, "data")[1], "1");
    assert_eq!(row(&r.out, "map")[1], "0");
}

#[test]
fn info_maps() {
    let r = tinybpf(&["info", &obj("maps.bpf.o")]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(row(&r.out, "handle_execve")[2], "tracepoint");
    assert_eq!(row(&r.out, "execs")[1..5], ["hash", "4", "24", "10240"]);
    assert!(r.out.contains("maps (1):"));
    assert_eq!(row(&r.out, "map")[1], "2");
}

#[test]
fn info_globals() {
    let r = tinybpf(&["info", &obj("globals.bpf.o")]);
    assert_eq!(r.code, 0, "{}", r.err);
    for p in ["xdp_count", "xdp_calls", "xdp_loop"] {
        assert_eq!(row(&r.out, p)[1..3], ["xdp", "xdp"], "{p}");
    }
    assert!(r.out.contains("programs (3):"));
    assert_eq!(row(&r.out, "globals.rodata")[1], "array");
    assert_eq!(row(&r.out, "globals.data")[1], "array");
    assert_eq!(row(&r.out, "globals.bss")[1], "array");
    assert_eq!(row(&r.out, "multiplier")[1..4], [".rodata", "0", "4"]);
    assert_eq!(row(&r.out, "greeting")[1..4], [".rodata", "4", "8"]);
    assert_eq!(row(&r.out, "counter")[1..4], [".data", "0", "8"]);
    assert_eq!(row(&r.out, "total")[1..4], [".bss", "0", "8"]);
    assert_eq!(row(&r.out, "last_len")[1..4], [".bss", "8", "4"]);
    assert_eq!(row(&r.out, "call/func")[1], "5");
    assert_eq!(row(&r.out, "data")[1], "5");
    assert!(r.out.contains("0x480 (rdonly_prog,mmapable)"), "{}", r.out);
}

#[test]
fn info_legacy() {
    let r = tinybpf(&["info", &obj("legacy.bpf.o")]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(row(&r.out, "xdp_legacy")[1], "xdp");
    assert_eq!(row(&r.out, "legacy_array")[1..5], ["array", "4", "8", "4"]);
    assert_eq!(row(&r.out, "legacy_hash")[1..5], ["hash", "4", "8", "8"]);
    assert_eq!(row(&r.out, "btf_hash")[1..5], ["hash", "4", "8", "16"]);
}

#[test]
fn info_maptypes() {
    let r = tinybpf(&["info", &obj("maptypes.bpf.o")]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("programs (2):"));
    row(&r.out, "xdp_maps");
    row(&r.out, "tail_prog");
    for (name, ty) in [
        ("jmp_table", "prog_array"),
        ("outer_arr", "array_of_maps"),
        ("outer_hash", "hash_of_maps"),
        ("pcpu_arr", "percpu_array"),
        ("lru_pcpu_hash", "lru_percpu_hash"),
        ("lpm", "lpm_trie"),
        ("queue", "queue"),
        ("stack", "stack"),
        ("bloom", "bloom_filter"),
        ("ringbuf", "ringbuf"),
        ("perf", "perf_event_array"),
    ] {
        assert_eq!(row(&r.out, name)[1], ty, "{name}");
    }
    assert!(row(&r.out, "tinybpf_pinned")
        .join(" ")
        .contains("pinned by name"));
    assert!(row(&r.out, "lpm").join(" ").contains("no_prealloc"));
}

#[test]
fn info_counts_core_relocations() {
    let r = tinybpf(&["info", &obj("execsnoop.bpf.o")]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(row(&r.out, "core")[1..], ["(all", "kinds)", "4"]);
    let line = r.out.lines().find(|l| l.contains("core byte_off")).unwrap();
    assert!(line.trim_end().ends_with(" 4"), "{line}");
    assert!(row(&r.out, "events_perf").join(" ").contains("one per CPU"));
}

#[test]
fn info_bad_input_exits_1() {
    let r = tinybpf(&["info", "/nonexistent/x.bpf.o"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("/nonexistent/x.bpf.o"), "{}", r.err);
    let cargo = format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let r = tinybpf(&["info", &cargo]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("Cargo.toml"), "{}", r.err);
    // A truncated object: an error, never a panic.
    let bytes = std::fs::read(common::obj("globals.bpf.o")).unwrap();
    let dir = scratch("truncated");
    std::fs::create_dir_all(&dir).unwrap();
    for cut in [64, bytes.len() / 2, bytes.len() - 1] {
        let p = dir.join("cut.bpf.o");
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let r = tinybpf(&["info", p.to_str().unwrap()]);
        assert_eq!(r.code, 1, "cut at {cut}: {}{}", r.out, r.err);
        assert!(!r.err.contains("panicked"), "{}", r.err);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------- check

#[test]
fn check_execsnoop_against_the_running_kernel() {
    let r = tinybpf(&["check", &obj("execsnoop.bpf.o")]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("target /sys/kernel/btf/vmlinux"),
        "{}",
        r.out
    );
    let lines: Vec<&str> = r
        .out
        .lines()
        .filter(|l| l.contains("byte_off") && l.contains("struct task_struct"))
        .collect();
    assert_eq!(lines.len(), 4, "{}", r.out);
    assert!(lines.iter().any(|l| l.contains("task_struct.real_parent")));
    assert!(lines.iter().any(|l| l.contains("task_struct.tgid")));
    assert!(lines
        .iter()
        .all(|l| l.contains(" -> ") && !l.contains("unresolved")));
    assert!(r.out.contains("handle_exec "), "{}", r.out);
    assert!(r.out.contains("handle_exec_perf"), "{}", r.out);
    assert!(
        r.out.contains("4 relocations, 4 resolved") && r.out.contains("0 unresolved: OK"),
        "{}",
        r.out
    );
}

#[test]
fn check_guarded_unresolved_exits_0() {
    // fields.bpf.o's `gone` member does not exist in the target: its byte
    // offset cannot be resolved, but the program guards it with
    // field_exists, so it is poisoned and unreachable: fine.
    let r = tinybpf(&[
        "check",
        &obj("tests/core/fields.bpf.o"),
        "--btf",
        &obj("tests/core/fields.target.bpf.o"),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let line = r
        .out
        .lines()
        .find(|l| l.contains("poisoned; fine if unreachable") && l.contains("cf.gone"))
        .unwrap_or_else(|| panic!("{}", r.out));
    assert!(line.contains("byte_off"), "{line}");
    assert!(
        r.out
            .contains("1 unresolved (1 unreachable, 0 reachability unknown, 0 reachable): OK"),
        "{}",
        r.out
    );
}

#[test]
fn check_several_btfs_each_summarised() {
    let types = obj("tests/core/types.bpf.o");
    let target = obj("tests/core/types.target.bpf.o");
    let r = tinybpf(&["check", &types, "--btf", &target]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("0 unresolved: OK"), "{}", r.out);
    // Against vmlinux its local types do not exist: some relocations are
    // unresolved, but only behind failed checks (unreachable), so exit 0;
    // both BTFs get a summary.
    let r = tinybpf(&[
        "check",
        &types,
        "--btf",
        &target,
        "--btf",
        "/sys/kernel/btf/vmlinux",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert_eq!(r.out.matches("summary for ").count(), 2, "{}", r.out);
    assert!(r.out.contains(&format!("summary for {target}: ")));
    assert!(r.out.contains("0 reachable): OK"), "{}", r.out);
}

#[test]
fn check_ambiguous_and_missing_btf() {
    let r = tinybpf(&[
        "check",
        &obj("tests/core/ambig.bpf.o"),
        "--btf",
        &obj("tests/core/ambig.target.bpf.o"),
    ]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.out.contains("ambiguous"), "{}", r.out);
    let r = tinybpf(&[
        "check",
        &obj("execsnoop.bpf.o"),
        "--btf",
        "/nonexistent.btf",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.out.contains("/nonexistent.btf: cannot read"), "{}", r.out);
    // Not BTF at all.
    let cargo = format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let r = tinybpf(&["check", &obj("execsnoop.bpf.o"), "--btf", &cargo]);
    assert_eq!(r.code, 1, "{}", r.out);
}

#[test]
fn check_without_core_relocations() {
    let r = tinybpf(&["check", &obj("hello.bpf.o")]);
    assert_eq!(r.code, 0);
    assert!(r.out.contains("no CO-RE relocations"), "{}", r.out);
}

// ------------------------------------------------------------- load (as root)

#[test]
fn load_hello_duration_0_leaves_nothing() {
    if !common::root_or_skip("load_hello_duration_0_leaves_nothing") {
        return;
    }
    let r = tinybpf(&["load", &obj("hello.bpf.o"), "--duration", "0"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("loaded hello"), "{}", r.out);
    let prog = id_of(&r.out, "handle_tp");
    assert!(prog > 0);
    let link_line = r
        .out
        .lines()
        .find(|l| l.contains("handle_tp → tracepoint syscalls/sys_enter_execve"))
        .unwrap_or_else(|| panic!("no link in:\n{}", r.out));
    let link: u32 = link_line
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(r
        .out
        .contains("detached 1 link, unloaded 1 program and 1 map"));
    assert!(prog_gone(prog), "program {prog} still loaded after exit");
    assert!(!common::link_ids().contains(&link), "link {link} left");
}

#[test]
fn load_no_attach_and_program_selection() {
    if !common::root_or_skip("load_no_attach_and_program_selection") {
        return;
    }
    let r = tinybpf(&[
        "load",
        &obj("execsnoop.bpf.o"),
        "--program",
        "handle_exec",
        "--no-attach",
        "--duration",
        "0",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("1 program, 2 maps"), "{}", r.out);
    row(&r.out, "handle_exec");
    assert!(!r.out.contains("handle_exec_perf"), "{}", r.out);
    assert!(!r.out.contains("links:"), "{}", r.out);
    assert!(r.out.contains("detached 0 links"), "{}", r.out);
    let r = tinybpf(&["load", &obj("execsnoop.bpf.o"), "--program", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("no program named \"nope\""), "{}", r.err);
    assert!(r.err.contains("handle_exec_perf"), "{}", r.err);
}

#[test]
fn load_bad_prints_the_verifier_log_and_exits_3() {
    if !common::root_or_skip("load_bad_prints_the_verifier_log_and_exits_3") {
        return;
    }
    let dir = scratch("bad");
    let before: std::collections::BTreeSet<u32> = common::prog_ids().into_iter().collect();
    let r = tinybpf(&[
        "load",
        &obj("bad.bpf.o"),
        "--duration",
        "0",
        "--dump-insns",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    assert!(r.err.contains("program handle_bad"), "{}", r.err);
    assert!(r.err.contains("bad.bpf.o: program handle_bad"), "{}", r.err);
    assert!(r.err.contains("tp/syscalls/sys_enter_execve"), "{}", r.err);
    assert!(r.err.contains("EACCES"), "{}", r.err);
    assert!(r.err.contains("BAD_DEREF_MARKER"), "{}", r.err);
    assert!(r.err.contains("invalid mem access"), "{}", r.err);
    // The whole log: it starts at instruction 0.
    assert!(r.err.lines().any(|l| l.starts_with("0: ")), "{}", r.err);
    // Instructions were written before BPF_PROG_LOAD, even though it failed.
    let insns = std::fs::read(dir.join("handle_bad.insns")).unwrap();
    assert!(!insns.is_empty() && insns.len() % 8 == 0, "{}", insns.len());
    std::fs::remove_dir_all(&dir).unwrap();
    // Nothing it loaded outlives it: no handle_bad that appeared during the
    // run is left that no process holds (pinned, say). Other BPF users'
    // programs of that name are held by them, or are older.
    let held = common::held_by_anyone();
    let orphans: Vec<u32> = common::prog_ids()
        .into_iter()
        .filter(|id| !before.contains(id) && !held.progs.contains(id))
        .filter(|&id| common::prog_name(id).as_deref() == Some("handle_bad"))
        .collect();
    assert!(orphans.is_empty(), "programs left by nobody: {orphans:?}");
}

#[test]
fn load_dump_insns() {
    if !common::root_or_skip("load_dump_insns") {
        return;
    }
    let dir = scratch("dump").join("nested");
    let r = tinybpf(&[
        "load",
        &obj("hello.bpf.o"),
        "--no-attach",
        "--duration",
        "0",
        "--dump-insns",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let insns = std::fs::read(dir.join("handle_tp.insns")).unwrap();
    assert!(insns.len() >= 8 && insns.len() % 8 == 0, "{}", insns.len());
    // The map reference was rewritten into BPF_PSEUDO_MAP_VALUE (src reg 2).
    assert!(
        insns.chunks(8).any(|i| i[0] == 0x18 && i[1] >> 4 == 2),
        "no ld_imm64 of a map value"
    );
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn load_pin_keeps_objects_after_exit() {
    if !common::root_or_skip("load_pin_keeps_objects_after_exit") {
        return;
    }
    let dir = PathBuf::from(format!(
        "/sys/fs/bpf/tinybpf-cli-test-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let r = tinybpf(&[
        "load",
        &obj("hello.bpf.o"),
        "--pin",
        dir.to_str().unwrap(),
        "--duration",
        "0",
    ]);
    let pinned = |p: &str| dir.join(p);
    let cleanup = || {
        let _ = std::fs::remove_dir_all(&dir);
    };
    if r.code != 0 {
        cleanup();
        panic!("{}{}", r.out, r.err);
    }
    assert!(r.out.contains("pinned 3 objects"), "{}", r.out);
    assert!(r.out.contains("keep them loaded"), "{}", r.out);
    let prog = id_of(&r.out, "handle_tp");
    // Still there after the process exited, and the pins name them.
    let fd = tinybpf::kernel::open_pinned(pinned("progs/handle_tp")).unwrap();
    let info = tinybpf::kernel::prog_info(std::os::fd::AsFd::as_fd(&fd)).unwrap();
    assert_eq!(info.id, prog);
    drop(fd);
    let link = tinybpf::Link::from_pin(pinned("links/handle_tp")).unwrap();
    assert_eq!(link.info().unwrap().unwrap().prog_id, prog);
    drop(link);
    let map = tinybpf::Map::from_pin(pinned("maps/hello_rodata")).unwrap();
    assert_eq!(map.value_size(), 13);
    drop(map);
    cleanup();
    assert!(
        prog_gone(prog),
        "program {prog} still loaded after unpinning"
    );
    // A second load onto existing pins fails and leaves nothing behind.
    let dir2 = PathBuf::from(format!(
        "/sys/fs/bpf/tinybpf-cli-test2-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(dir2.join("progs/handle_tp")).unwrap();
    let r = tinybpf(&[
        "load",
        &obj("hello.bpf.o"),
        "--pin",
        dir2.to_str().unwrap(),
        "--duration",
        "0",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.err.contains("pin program handle_tp"), "{}", r.err);
    assert!(
        !dir2.join("maps/hello_rodata").exists(),
        "map pin left behind"
    );
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn load_holds_until_ctrl_c() {
    if !common::root_or_skip("load_holds_until_ctrl_c") {
        return;
    }
    let mut child = Command::new(BIN)
        .args(["load", &obj("hello.bpf.o"), "--duration", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.starts_with("holding for 60 s") {
            break;
        }
        line.clear();
    }
    assert!(seen.contains("holding for 60 s"), "{seen}");
    let prog = id_of(&seen, "handle_tp");
    assert!(common::prog_ids().contains(&prog));
    let start = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("detached 1 link"), "{rest}");
    assert!(prog_gone(prog));
}

// -------------------------------------------------------- test-run (as root)

#[test]
fn test_run_globals() {
    if !common::root_or_skip("test_run_globals") {
        return;
    }
    let globals = obj("globals.bpf.o");
    let r = tinybpf(&["test-run", &globals, "xdp_calls"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.lines().any(|l| l == "retval: 26"), "{}", r.out);
    let d = r
        .out
        .lines()
        .find_map(|l| l.strip_prefix("duration: "))
        .unwrap();
    assert!(d.ends_with(" ns") && d.trim_end_matches(" ns").parse::<u64>().is_ok());

    let r = tinybpf(&["test-run", &globals, "xdp_count"]);
    assert!(
        r.out.lines().any(|l| l == "retval: 1"),
        "{}{}",
        r.out,
        r.err
    );
    let r = tinybpf(&[
        "test-run",
        &globals,
        "xdp_count",
        "--set",
        "multiplier=3",
        "--repeat",
        "10",
    ]);
    assert!(
        r.out.lines().any(|l| l == "retval: 2"),
        "{}{}",
        r.out,
        r.err
    );
    let r = tinybpf(&["test-run", &globals, "xdp_count", "--set=multiplier=0x3"]);
    assert!(
        r.out.lines().any(|l| l == "retval: 2"),
        "{}{}",
        r.out,
        r.err
    );

    let r = tinybpf(&["test-run", &globals, "xdp_loop"]);
    assert!(
        r.out.lines().any(|l| l == "retval: 45"),
        "{}{}",
        r.out,
        r.err
    );
    let r = tinybpf(&["test-run", &globals, "xdp_loop", "--set", "greeting=yo"]);
    assert!(
        r.out.lines().any(|l| l == "retval: 1045"),
        "{}{}",
        r.out,
        r.err
    );

    let r = tinybpf(&[
        "test-run",
        &obj("legacy.bpf.o"),
        "xdp_legacy",
        "--data-size",
        "14",
    ]);
    assert!(
        r.out.lines().any(|l| l == "retval: 42"),
        "{}{}",
        r.out,
        r.err
    );
}

#[test]
fn test_run_errors() {
    if !common::root_or_skip("test_run_errors") {
        return;
    }
    let globals = obj("globals.bpf.o");
    let r = tinybpf(&["test-run", &globals, "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("xdp_calls"), "{}", r.err);
    let r = tinybpf(&["test-run", &globals, "xdp_count", "--set", "nope=1"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("no global variable \"nope\""), "{}", r.err);
    let r = tinybpf(&[
        "test-run",
        &globals,
        "xdp_count",
        "--set",
        "multiplier=4294967296",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("does not fit in 4 bytes"), "{}", r.err);
    let r = tinybpf(&[
        "test-run",
        &globals,
        "xdp_loop",
        "--set",
        "greeting=toolong!",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("char[8]"), "{}", r.err);
    // XDP needs an Ethernet header: the kernel refuses fewer bytes, and the
    // message says so (not a map-type hint), naming the file, once.
    for size in ["0", "1", "13"] {
        let r = tinybpf(&["test-run", &globals, "xdp_calls", "--data-size", size]);
        assert_eq!(r.code, 1, "{}{}", r.out, r.err);
        assert!(
            r.err
                .contains("XDP and skb programs need at least 14 bytes of input"),
            "{}",
            r.err
        );
        assert!(
            r.err.contains(&format!(
                "got {size}: BPF_PROG_TEST_RUN: Invalid argument (EINVAL)"
            )),
            "{}",
            r.err
        );
        assert!(
            r.err.contains("globals.bpf.o: program xdp_calls"),
            "{}",
            r.err
        );
        assert_eq!(r.err.matches("BPF_PROG_TEST_RUN").count(), 1, "{}", r.err);
        assert!(!r.err.contains("map type"), "{}", r.err);
    }
    // A program type the kernel cannot test-run: said in words, with the
    // kernel-internal errno named.
    let r = tinybpf(&["test-run", &obj("hello.bpf.o"), "handle_tp"]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(
        r.err
            .contains("this program type cannot be test-run by the kernel"),
        "{}",
        r.err
    );
    assert!(
        r.err.contains("(ENOTSUPP, kernel-internal errno 524)"),
        "{}",
        r.err
    );
    assert!(!r.err.to_lowercase().contains("unknown"), "{}", r.err);
    assert_eq!(r.err.matches("BPF_PROG_TEST_RUN").count(), 1, "{}", r.err);
    // A program the verifier rejects: exit 3 with its log.
    let r = tinybpf(&["test-run", &obj("bad.bpf.o"), "handle_bad"]);
    assert_eq!(r.code, 3);
    assert!(r.err.contains("BAD_DEREF_MARKER"), "{}", r.err);
}

#[path = "../../tests/common/realworld.rs"]
mod realworld;

#[test]
fn check_against_a_second_kernel_shows_differing_offsets() {
    let Some(other) = realworld::second_kernel_btf() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must fetch the second kernel's BTF"
        );
        eprintln!("second kernel BTF unavailable (TINYBPF_FETCH=1 fetches it); skipped");
        return;
    };
    let other = other.display().to_string();
    let r = tinybpf(&[
        "check",
        &obj("execsnoop.bpf.o"),
        "--btf",
        &other,
        "--btf",
        "/sys/kernel/btf/vmlinux",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    // Lines of the two targets for the same relocation: `old -> new` differs.
    let values = |target: &str| -> Vec<String> {
        let sect = r
            .out
            .split("target ")
            .find(|s| s.starts_with(target))
            .unwrap();
        sect.lines()
            .filter(|l| l.contains("task_struct.real_parent"))
            .map(|l| l.split_whitespace().last().unwrap().to_string())
            .collect()
    };
    let a = values(&other);
    let b = values("/sys/kernel/btf/vmlinux");
    assert!(!a.is_empty() && !b.is_empty(), "{}", r.out);
    assert_ne!(
        a, b,
        "real_parent offsets should differ between the kernels:\n{}",
        r.out
    );
}
