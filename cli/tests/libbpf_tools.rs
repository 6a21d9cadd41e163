//! Real-world objects built by others: every BPF object embedded in Debian's
//! libbpf-tools, loaded with `tinybpf load --no-attach`, compared with what
//! libbpf (bpftool prog loadall) loads on this same kernel.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/realworld.rs"]
mod realworld;

use std::collections::BTreeMap;
use std::process::Command;

fn tinybpf() -> &'static str {
    env!("CARGO_BIN_EXE_tinybpf")
}

fn ensure_bpffs() {
    let _ = std::fs::create_dir_all("/sys/fs/bpf");
    let mounted = std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .contains(" /sys/fs/bpf bpf ");
    if !mounted {
        let _ = Command::new("mount")
            .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
            .status();
    }
}

/// libbpf's verdict: `bpftool prog loadall` (everything pinned is removed).
fn libbpf_loads(path: &std::path::Path, name: &str) -> bool {
    let dir = format!("/sys/fs/bpf/tinybpf-baseline-{}-{name}", std::process::id());
    let ok = Command::new("bpftool")
        .args(["prog", "loadall"])
        .arg(path)
        .arg(&dir)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let _ = std::fs::remove_dir_all(&dir);
    ok
}

#[test]
fn tinybpf_loads_at_least_what_libbpf_loads() {
    if !common::root_or_skip("tinybpf_loads_at_least_what_libbpf_loads") {
        return;
    }
    if !realworld::ensure_libbpf_tools() {
        eprintln!("libbpf-tools not installed; skipped (CI installs it)");
        return;
    }
    ensure_bpffs();
    let objs = realworld::libbpf_tools_objects();
    assert!(objs.len() >= 30, "only {} objects carved", objs.len());
    let dir = std::env::temp_dir().join(format!("tinybpf-tools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut table = BTreeMap::new();
    for (name, bytes) in &objs {
        let path = dir.join(format!("{name}.bpf.o"));
        std::fs::write(&path, bytes).unwrap();
        let libbpf = libbpf_loads(&path, name);
        let out = Command::new(tinybpf())
            .arg("load")
            .arg(&path)
            .args(["--no-attach", "--duration", "0"])
            .output()
            .unwrap();
        let ours = out.status.success();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        // Never a parse error, never a crash: failures are the kernel's word.
        assert!(
            out.status.code().is_some(),
            "{name}: tinybpf killed by a signal: {stderr}"
        );
        assert!(
            !stderr.contains("not a valid ELF") && !stderr.contains("panicked"),
            "{name}: {stderr}"
        );
        let progs = tinybpf::obj::ObjectSpec::parse(name, bytes)
            .map(|s| s.programs.len())
            .unwrap_or(0);
        let why = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_string();
        // `check` is a CI gate: OK for whatever loads here, FAILED only for
        // what cannot load (an unresolved relocation on a reachable path).
        let check = Command::new(tinybpf())
            .arg("check")
            .arg(&path)
            .output()
            .unwrap();
        let check_out = String::from_utf8_lossy(&check.stdout).to_string();
        assert!(
            matches!(check.status.code(), Some(0 | 1)),
            "{name}: check: {check_out}{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let check_ok = check.status.success();
        if libbpf && ours {
            assert!(check_ok, "{name} loads, but check says:\n{check_out}");
        }
        if !check_ok {
            assert!(
                !libbpf && !ours && check_out.contains("REACHABLE"),
                "{name}: check FAILED, yet it loads (libbpf {libbpf}, tinybpf {ours}):\n{check_out}"
            );
        }
        table.insert(name.clone(), (progs, libbpf, ours, check_ok, why));
    }
    println!(
        "{:<16} {:>5}  {:<7} {:<7} {:<7} reason",
        "object", "progs", "libbpf", "tinybpf", "check"
    );
    for (name, (progs, libbpf, ours, check_ok, why)) in &table {
        println!(
            "{name:<16} {progs:>5}  {:<7} {:<7} {:<7} {}",
            if *libbpf { "ok" } else { "fail" },
            if *ours { "ok" } else { "fail" },
            if *check_ok { "OK" } else { "FAILED" },
            if *ours { "" } else { why.as_str() }
        );
    }
    let missing: Vec<&String> = table
        .iter()
        .filter(|(_, v)| v.1 && !v.2)
        .map(|(k, _)| k)
        .collect();
    let n_lib = table.values().filter(|v| v.1).count();
    let n_ours = table.values().filter(|v| v.2).count();
    let n_check = table.values().filter(|v| v.3).count();
    println!(
        "libbpf loads {n_lib}/{}, tinybpf loads {n_ours}/{}, check OK for {n_check}/{}",
        table.len(),
        table.len(),
        table.len()
    );
    assert!(
        missing.is_empty(),
        "libbpf loads these but tinybpf does not: {missing:?}"
    );
    assert!(n_ours >= n_lib);
    let _ = std::fs::remove_dir_all(&dir);
}
