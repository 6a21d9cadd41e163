//! Objects linked by `bpftool gen object` (libbpf's static linker) load:
//! a `__weak` function defined strong in the other object, an extern
//! function and an extern global resolved across the two inputs.
//! Built at test time from tests/c/linked_{a,b}.bpf.c with clang-19 and
//! bpftool (both installed by .ci/run).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use tinybpf::{OpenObject, TestRunOpts};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build_linked(dir: &Path) -> PathBuf {
    let src = common::repo_root().join("tests/c");
    let mut objs = Vec::new();
    for name in ["linked_a", "linked_b"] {
        let out = dir.join(format!("{name}.bpf.o"));
        run(Command::new("clang-19")
            .args(["-g", "-O2", "-target", "bpf"])
            .arg("-I/usr/include/x86_64-linux-gnu")
            .arg("-c")
            .arg(src.join(format!("{name}.bpf.c")))
            .arg("-o")
            .arg(&out));
        objs.push(out);
    }
    let linked = dir.join("linked.bpf.o");
    run(Command::new("bpftool")
        .args(["gen", "object"])
        .arg(&linked)
        .args(&objs));
    linked
}

#[test]
fn bpftool_linked_object_loads_and_runs() {
    if !common::root_or_skip("bpftool_linked_object_loads_and_runs") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tinybpf-linked-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let linked = build_linked(&dir);
    let obj = OpenObject::open(&linked).unwrap().load().unwrap();
    let packet = [0u8; 64];
    for prog in ["xdp_a", "xdp_b"] {
        let run = obj
            .program(prog)
            .unwrap_or_else(|| panic!("{prog} missing"))
            .test_run(&TestRunOpts::default().data_in(&packet))
            .unwrap();
        // XDP_PASS (2): the cross-object calls and the shared global gave
        // the expected values (XDP_DROP otherwise).
        assert_eq!(run.retval, 2, "{prog}");
    }
    drop(obj);
    let _ = std::fs::remove_dir_all(&dir);
}
