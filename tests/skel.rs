//! Typed skeletons (`tinybpf::skel`): the committed skeletons of the examples
//! are what the generator makes today; the skeleton examples run; every
//! object we have (bpf/*.bpf.o, libbpf-tools) gets a skeleton that compiles,
//! with every size and offset assertion holding.

mod common;
#[path = "common/realworld.rs"]
mod realworld;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tinybpf::skel::{self, SkelError, SkelOptions};

fn repo() -> PathBuf {
    common::repo_root()
}

/// The skeleton of `bpf/<name>.bpf.o` as the examples embed it.
fn example_skeleton(name: &str) -> String {
    let bytes = std::fs::read(common::obj(&format!("{name}.bpf.o"))).unwrap();
    let opts = SkelOptions::default().include_path(format!("$CARGO_MANIFEST_DIR/bpf/{name}.bpf.o"));
    skel::generate(&bytes, name, &opts).unwrap()
}

/// examples/skel/*.skel.rs never drift from the generator: regenerate with
/// `tinybpf gen skeleton bpf/NAME.bpf.o --include
/// '$CARGO_MANIFEST_DIR/bpf/NAME.bpf.o' -o examples/skel/NAME.skel.rs`.
#[test]
fn committed_skeletons_are_current() {
    for name in ["maps", "execsnoop"] {
        let path = repo().join(format!("examples/skel/{name}.skel.rs"));
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == example_skeleton(name),
            "{} is stale: regenerate it with `tinybpf gen skeleton bpf/{name}.bpf.o \
             --include '$CARGO_MANIFEST_DIR/bpf/{name}.bpf.o' -o examples/skel/{name}.skel.rs`",
            path.display()
        );
    }
}

#[test]
fn generated_api_of_maps() {
    let s = example_skeleton("maps");
    for want in [
        "pub struct Event {\n    pub comm: [u8; 16],\n    pub pid: i32,\n    pub uid: u32,\n}",
        "tinybpf::pod!(Event { comm, pid, uid });",
        "const _: () = assert!(core::mem::offset_of!(Event, uid) == 20);",
        "pub fn execs(&self) -> TypedMap<'a, i32, Event>",
        "pub fn handle_execve(&self) -> Option<&'a Program>",
        "pub fn comm_str(&self)",
    ] {
        assert!(s.contains(want), "no {want:?} in:\n{s}");
    }
}

/// Globals: `.rodata` settable before load (initial values read from the
/// object), `.data`/`.bss` structs with explicit padding.
#[test]
fn globals_sections() {
    let bytes = std::fs::read(common::obj("globals.bpf.o")).unwrap();
    let s = skel::generate(&bytes, "globals", &SkelOptions::default()).unwrap();
    assert!(s.contains("pub struct Rodata {"), "{s}");
    assert!(s.contains("pub fn rodata_mut(&mut self) -> &mut Rodata"), "{s}");
    assert!(s.contains("self.obj.set_global(\"multiplier\""), "{s}");
    assert!(s.contains("include_bytes!(\"globals.bpf.o\")"), "{s}");
}

#[test]
fn bad_input_is_an_error() {
    match skel::generate(b"not an ELF file", "x", &SkelOptions::default()) {
        Err(SkelError::Parse { name, .. }) => assert_eq!(name, "x"),
        other => panic!("{other:?}"),
    }
    // An object without BTF (legacy maps, no -g).
    let bytes = std::fs::read(common::obj("legacy.bpf.o")).unwrap();
    if let Err(e) = skel::generate(&bytes, "legacy", &SkelOptions::default()) {
        assert!(matches!(e, SkelError::NoBtf { .. }), "{e}");
        assert!(e.to_string().contains("clang -g"), "{e}");
    }
    assert_eq!(skel::name_from_path("src/bpf/maps.bpf.o"), "maps");
    assert_eq!(skel::name_from_path("x/my-tool.bpf.c"), "my_tool");
}

/// Every object we have: bpf/*.bpf.o and the libbpf-tools objects.
fn all_objects() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("bpf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    files.sort();
    for p in files {
        let name = skel::name_from_path(&p.to_string_lossy());
        out.push((name, std::fs::read(&p).unwrap()));
    }
    if realworld::ensure_libbpf_tools() {
        for (n, b) in realworld::libbpf_tools_objects() {
            out.push((format!("lt_{}", skel::name_from_path(&n)), b));
        }
    }
    out
}

/// Generation never fails on an object with BTF, and the skeletons all
/// compile (in one scratch crate depending on tinybpf by path): every
/// generated size and offset assertion holds, every name is valid Rust.
#[test]
fn every_object_compiles() {
    let dir = repo().join("target/skel-check");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut lib = String::from("#![allow(warnings)]\n");
    let mut n = 0;
    for (name, bytes) in all_objects() {
        let text = match skel::generate(&bytes, &name, &SkelOptions::default()) {
            Ok(t) => t,
            Err(SkelError::NoBtf { .. }) => continue,
            Err(e) => panic!("{name}: {e}"),
        };
        std::fs::write(src.join(format!("{name}.bpf.o")), &bytes).unwrap();
        std::fs::write(src.join(format!("{name}.skel.rs")), text).unwrap();
        lib.push_str(&format!("pub mod {name} {{ include!(\"{name}.skel.rs\"); }}\n"));
        n += 1;
    }
    assert!(n >= 20, "only {n} objects");
    std::fs::write(src.join("lib.rs"), lib).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"skel-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             [dependencies]\ntinybpf = {{ path = {:?} }}\n[workspace]\n",
            repo().display().to_string()
        ),
    )
    .unwrap();
    // The repository's lock file: the same dependency versions, offline.
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["check", "--offline", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the skeletons do not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
