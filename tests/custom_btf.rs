//! A custom target BTF (`LoadOptions::target_btf`, `--btf`) replaces the
//! kernel's BTF for CO-RE only, as libbpf's `btf_custom_path` does: BTF attach
//! targets (tp_btf, ...) still come from the running kernel. Checked on
//! libbpf-tools' biolatency (tp_btf and raw_tp programs) relocated against
//! another kernel's BTF: it loads, and every program's final instructions
//! equal libbpf's (tests/c/libbpf_insns.c, compiled here against the
//! system's libbpf) with map fds masked.

mod common;
#[path = "common/realworld.rs"]
mod realworld;

use std::path::{Path, PathBuf};
use std::process::Command;
use tinybpf::reloc::{relocate_copy, CoreTarget, Selection};
use tinybpf::OpenObject;

/// Skip (outside CI) or fail (under CI) when a prerequisite is missing.
fn missing(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must provide {what}; refusing to skip"
    );
    eprintln!("{what} not available; skipped");
}

fn biolatency() -> Option<Vec<u8>> {
    if !realworld::ensure_libbpf_tools() {
        return None;
    }
    let bin = realworld::libbpf_tools_binaries()
        .into_iter()
        .find(|b| b.file_name().is_some_and(|n| n == "biolatency"))?;
    realworld::carve_bpf_objects(&std::fs::read(bin).ok()?)
        .into_iter()
        .next()
}

/// Compile the libbpf reference program into `dir`.
fn build_reference(dir: &Path) -> Option<PathBuf> {
    let src = realworld::repo_root().join("tests/c/libbpf_insns.c");
    let exe = dir.join("libbpf_insns");
    let ok = Command::new("gcc")
        .args(["-Wall", "-Werror", "-O1"])
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-lbpf")
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(exe)
}

/// Instructions with the fds of map references (ld_imm64 src 1, 2, 5, 6) zeroed.
fn masked(bytes: &[u8]) -> Vec<[u8; 8]> {
    let mut out: Vec<[u8; 8]> = bytes
        .chunks_exact(8)
        .map(|c| c.try_into().unwrap())
        .collect();
    let mut i = 0;
    while i < out.len() {
        let is_ld_imm64 = out[i][0] == 0x18;
        if is_ld_imm64 && matches!(out[i][1] >> 4, 1 | 2 | 5 | 6) {
            out[i][4..8].fill(0);
        }
        i += if is_ld_imm64 { 2 } else { 1 };
    }
    out
}

fn insns_in(dir: &Path) -> Vec<(String, Vec<[u8; 8]>)> {
    let mut v: Vec<(String, Vec<[u8; 8]>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, masked(&std::fs::read(&p).unwrap()))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn custom_btf_is_for_core_only_and_matches_libbpf() {
    if !common::root_or_skip("custom_btf_is_for_core_only_and_matches_libbpf") {
        return;
    }
    let Some(btf) = realworld::second_kernel_btf() else {
        return missing("the second kernel's BTF (TINYBPF_FETCH=1)");
    };
    let Some(bytes) = biolatency() else {
        return missing("libbpf-tools' biolatency");
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("custom_btf-{}", std::process::id()));
    let (ours, theirs) = (dir.join("tinybpf"), dir.join("libbpf"));
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    let obj_path = dir.join("biolatency.bpf.o");
    std::fs::write(&obj_path, &bytes).unwrap();

    // The CO-RE offsets for the other kernel are not the running kernel's.
    let spec = tinybpf::obj::ObjectSpec::parse("biolatency", &bytes).unwrap();
    let other = relocate_copy(&spec, Selection::All, &CoreTarget::file(&btf).unwrap()).unwrap();
    let here = relocate_copy(&spec, Selection::All, &CoreTarget::kernel().unwrap()).unwrap();
    assert!(!other.is_empty());
    assert_ne!(
        other.iter().map(|r| r.target_value).collect::<Vec<_>>(),
        here.iter().map(|r| r.target_value).collect::<Vec<_>>(),
        "the two kernels should give different CO-RE values"
    );

    // tinybpf: tp_btf attach targets resolve in the running kernel.
    let mut open = OpenObject::open(&obj_path).unwrap();
    *open.options_mut() = tinybpf::LoadOptions::default()
        .target_btf(&btf)
        .dump_insns(&ours);
    let obj = open
        .load()
        .unwrap_or_else(|e| panic!("biolatency --btf: {e}"));
    assert!(obj.program("block_rq_insert_btf").is_some());
    drop(obj);

    // libbpf with btf_custom_path.
    let Some(exe) = build_reference(&dir) else {
        std::fs::remove_dir_all(&dir).unwrap();
        return missing("gcc and libbpf-dev");
    };
    let out = Command::new(&exe)
        .arg(&obj_path)
        .arg(&btf)
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "libbpf reference: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, b) = (insns_in(&ours), insns_in(&theirs));
    assert_eq!(
        a.iter().map(|p| &p.0).collect::<Vec<_>>(),
        b.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    assert_eq!(a.len(), 6, "biolatency has 6 programs");
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x.len(), y.len(), "{name}: instruction count");
        for (i, (p, q)) in x.iter().zip(y).enumerate() {
            assert_eq!(p, q, "{name}: insn {i} differs (tinybpf vs libbpf)");
        }
    }
    // And the other kernel's BTF did reach the final instructions.
    let host = dir.join("host");
    std::fs::create_dir_all(&host).unwrap();
    let mut open = OpenObject::open(&obj_path).unwrap();
    open.options_mut().dump_insns = Some(host.clone());
    drop(open.load().unwrap());
    assert_ne!(insns_in(&host), a, "--btf changed nothing");
    std::fs::remove_dir_all(&dir).unwrap();
}
