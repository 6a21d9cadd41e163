//! `tinybpf gen skeleton`: writes what `tinybpf::skel::generate` makes (the
//! committed examples/skel/ files), to a file or stdout; errors exit 1.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::process::{Command, Output};

fn tinybpf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinybpf"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run tinybpf")
}

#[test]
fn writes_the_committed_skeletons() {
    let dir = std::env::temp_dir().join(format!("tinybpf-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["maps", "execsnoop", "globals"] {
        let obj = common::obj(&format!("{name}.bpf.o"));
        let out = dir.join(format!("{name}.skel.rs"));
        let include = format!("$CARGO_MANIFEST_DIR/bpf/{name}.bpf.o");
        let o = tinybpf(&[
            "gen",
            "skeleton",
            &obj.display().to_string(),
            "--include",
            &include,
            "-o",
            &out.display().to_string(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let committed = common::repo_root().join(format!("examples/skel/{name}.skel.rs"));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            std::fs::read_to_string(&committed).unwrap(),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);

    // stdout, a --name, and the object's absolute path in include_bytes!.
    let obj = common::obj("maps.bpf.o");
    let o = tinybpf(&[
        "gen",
        "skeleton",
        &obj.display().to_string(),
        "--name",
        "execs",
    ]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("pub struct ExecsSkel {"), "{text}");
    let abs = std::path::absolute(&obj).unwrap();
    assert!(
        text.contains(&format!("include_bytes!({:?})", abs.display().to_string())),
        "{text}"
    );
}

#[test]
fn errors_exit_1() {
    let o = tinybpf(&["gen", "skeleton", "/nonexistent.bpf.o"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent.bpf.o"), "{err}");
    assert!(o.stdout.is_empty());
    let o = tinybpf(&[
        "gen",
        "skeleton",
        &common::obj("hello.bpf.c").display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hello"));
    let o = tinybpf(&["gen"]);
    assert_eq!(o.status.code(), Some(2));
}
