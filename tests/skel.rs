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
    for name in ["maps", "execsnoop", "globals"] {
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

/// The skeleton of bpf/globals.bpf.o, compiled into this test.
mod globals_skel {
    include!("../examples/skel/globals.skel.rs");
}

/// Globals through the skeleton: `.rodata` set before load, `.data`/`.bss`
/// read and written through the mmap after load (`Map::data_as`), a
/// program run with typed access to its program.
#[test]
fn globals_through_the_skeleton() {
    if !common::root_or_skip("globals_through_the_skeleton") {
        return;
    }
    use globals_skel::GlobalsSkel;
    let mut open = GlobalsSkel::open().unwrap();
    // Initial values come from the object.
    assert_eq!({ open.rodata().multiplier }, 1);
    assert_eq!(tinybpf::skeleton::c_str(&open.rodata().greeting), "hi");
    assert_eq!({ open.data().counter }, 7);
    open.rodata_mut().multiplier = 3;
    open.data_mut().counter = 100;
    let mut skel = open.load().unwrap();
    assert_eq!({ skel.rodata().multiplier }, 3);
    assert_eq!({ skel.data().counter }, 100);
    assert_eq!({ skel.bss().total }, 0);
    let data = [0u8; 64];
    let prog = skel.progs().xdp_count().unwrap();
    let run = prog
        .test_run(&tinybpf::TestRunOpts::default().data_in(&data))
        .unwrap();
    assert_eq!(run.retval, 2, "XDP_PASS: the program saw multiplier == 3");
    assert_eq!({ skel.bss().total }, 3 * 64);
    assert_eq!({ skel.bss().last_len }, 64);
    assert_eq!({ skel.data().counter }, 101, "bump() ran once");
    skel.data_mut().counter = 5;
    skel.progs()
        .xdp_count()
        .unwrap()
        .test_run(&tinybpf::TestRunOpts::default().data_in(&data))
        .unwrap();
    assert_eq!({ skel.data().counter }, 6);
    // The hook under the skeleton: Map::data_as / data_as_mut.
    let obj = skel.object_mut();
    let bss = obj.map(".bss").unwrap();
    assert_eq!(bss.data_as::<[u8; 12]>().map(|b| b[8]), Some(64));
    assert!(
        bss.data_as::<[u8; 13]>().is_none(),
        "larger than the section"
    );
    assert!(
        obj.map_mut(".rodata")
            .unwrap()
            .data_as_mut::<u32>()
            .is_none(),
        "frozen"
    );
    assert!(obj.map_mut(".bss").unwrap().data_as_mut::<u32>().is_some());
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
    assert!(
        s.contains("pub fn rodata_mut(&mut self) -> &mut Rodata"),
        "{s}"
    );
    assert!(s.contains("self.obj.set_global(\"multiplier\""), "{s}");
    assert!(s.contains("include_bytes!(\"globals.bpf.o\")"), "{s}");
}

#[test]
fn bad_input_is_an_error() {
    match skel::generate(b"not an ELF file", "x", &SkelOptions::default()) {
        Err(SkelError::Parse { name, .. }) => assert_eq!(name, "x"),
        other => panic!("{other:?}"),
    }
    // An object without BTF (no -g): hello.bpf.o with .BTF removed.
    let out = std::env::temp_dir().join(format!("tinybpf-skel-nobtf-{}.o", std::process::id()));
    let st = Command::new("llvm-objcopy-19")
        .args(["--remove-section", ".BTF", "--remove-section", ".BTF.ext"])
        .arg(common::obj("hello.bpf.o"))
        .arg(&out)
        .status()
        .expect("llvm-objcopy-19 (llvm-19) is needed");
    assert!(st.success());
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    match skel::generate(&bytes, "hello", &SkelOptions::default()) {
        Err(e @ SkelError::NoBtf { .. }) => assert!(e.to_string().contains("clang -g"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(skel::name_from_path("src/bpf/maps.bpf.o"), "maps");
    assert_eq!(skel::name_from_path("x/my-tool.bpf.c"), "my_tool");
}

/// tests/c/skel_types.bpf.c, compiled (by `skel::Builder`, with clang).
fn skel_types_object() -> Vec<u8> {
    // One directory per call: tests run in parallel threads of one process
    // and each removes its directory when done.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tinybpf-skel-types-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    skel::Builder::new(repo().join("tests/c/skel_types.bpf.c"))
        .build_and_generate(&dir)
        .unwrap();
    let bytes = std::fs::read(dir.join("skel_types.bpf.o")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

/// Bitfields, unions, anonymous members, packed structs, enums, keywords.
#[test]
fn type_mapping() {
    let s = skel::generate(&skel_types_object(), "skel_types", &SkelOptions::default()).unwrap();
    for want in [
        // Bitfields: their storage bytes, then explicit padding.
        "/// bitfield `flags` (3 bits); bitfield `kind` (5 bits)\n    pub _bitfield_flags: [u8; 1],",
        "/// bitfield `rest` (24 bits)\n    pub _bitfield_rest: [u8; 3],\n    pub name: [u8; 12],",
        // Keywords as field names; char arrays with a text accessor.
        "pub in_: Inner,",
        "pub type_: u32,",
        "pub fn match_str(&self)",
        // Packed C structs: packed Rust structs, sizes checked by type.
        "#[repr(C, packed(1))]\n#[derive(Clone, Copy, Debug, PartialEq, Eq)]\npub struct Packed {",
        "tinybpf::pod!(Packed: u8, u64, u16);",
        "const _: () = assert!(core::mem::offset_of!(Packed, b) == 1);",
        // Unions: bytes with an accessor per member; anonymous ones named.
        "pub struct Number {\n    pub bytes: [u8; 8],\n}",
        "pub fn as_u64(&self) -> u64 {",
        "pub fn set_as_u32(&mut self, v: u32) {",
        "pub _anon1: ValueAnon1,",
        "pub point: ValuePoint,",
        // Enums: newtypes with constants; pointers: u64.
        "pub struct Color(pub u32);",
        "pub const BLUE: Color = Color(255);",
        "pub ptr: u64,",
        // Explicit padding, asserted.
        "pub _pad0: [u8; 7],\n    pub value: u64,",
        "const _: () = assert!(core::mem::size_of::<Value>() == 88);",
        // Maps: typed, per-CPU.
        "pub fn values(&self) -> TypedMap<'a, Inner, Value>",
        "pub fn percpu(&self) -> PerCpuMap<'a, u32, Number>",
        // A 9-byte .bss with a u64: packed(1).
        "#[repr(C, packed(1))]\n#[derive(Clone, Copy, Debug, PartialEq, Eq)]\npub struct Bss {",
        "pub fn rodata_mut(&mut self) -> &mut Rodata",
        "pub fn data_mut(&mut self) -> &mut Data",
    ] {
        assert!(s.contains(want), "no {want:?} in:\n{s}");
    }
}

/// Every object we have: bpf/*.bpf.o, tests/c/skel_types.bpf.c and the
/// libbpf-tools objects.
fn all_objects() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("skel_types".to_string(), skel_types_object())];
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
        lib.push_str(&format!(
            "pub mod {name} {{ include!(\"{name}.skel.rs\"); }}\n"
        ));
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

/// Spawn an example; returns it and a channel of its accumulated stdout.
fn spawn(bin: &Path, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(bin)
        .args(args)
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

fn wait_for(rx: &mpsc::Receiver<String>, last: &mut String, what: &str, secs: u64) -> bool {
    let start = Instant::now();
    while !last.contains(what) && start.elapsed() < Duration::from_secs(secs) {
        let _ = Command::new("/bin/true").status();
        if let Ok(t) = rx.recv_timeout(Duration::from_millis(100)) {
            *last = t;
        }
    }
    last.contains(what)
}

/// The skeleton examples do what maps and execsnoop do: an execve of
/// /bin/true shows up; Ctrl-C ends them with status 0.
#[test]
fn skeleton_examples_run() {
    if !common::root_or_skip("skeleton_examples_run") {
        return;
    }
    for (name, args, ready, event) in [
        (
            "maps_skel",
            &[][..],
            "Successfully started",
            "Process Name = true",
        ),
        ("execsnoop_skel", &[][..], "FILENAME", "/bin/true"),
        ("execsnoop_skel", &["--perf"][..], "FILENAME", "/bin/true"),
    ] {
        let (mut child, rx) = spawn(&common::example(name), args);
        let mut out = String::new();
        let started = wait_for(&rx, &mut out, ready, 20);
        let seen = started && wait_for(&rx, &mut out, event, 5);
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(started, "{name} {args:?} did not start: {out}\n{err}");
        assert!(
            seen,
            "{name} {args:?}: no {event:?} within 5 s: {out}\n{err}"
        );
        assert!(status.success(), "{name} {args:?}: exit {status:?}: {err}");
    }
}

/// The build.rs API: a C source compiled with clang, or a built object
/// copied; a compiler that fails or is missing is a typed error.
#[test]
fn builder_compiles_and_generates() {
    let out = std::env::temp_dir().join(format!("tinybpf-skel-builder-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let path = skel::Builder::new(repo().join("bpf/maps.bpf.c"))
        .build_and_generate(&out)
        .unwrap();
    assert_eq!(path, out.join("maps.skel.rs"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("pub struct MapsSkel {"), "{text}");
    assert!(text.contains("include_bytes!(\"maps.bpf.o\")"), "{text}");
    assert!(text.contains("TypedMap<'a, i32, Event>"), "{text}");
    assert!(out.join("maps.bpf.o").exists());

    let path = skel::Builder::new(common::obj("globals.bpf.o"))
        .name("g")
        .build_and_generate(&out)
        .unwrap();
    assert!(std::fs::read_to_string(path)
        .unwrap()
        .contains("pub struct GSkel {"));

    let bad = out.join("bad.bpf.c");
    std::fs::write(&bad, "int f(void) { return undeclared; }\n").unwrap();
    match skel::Builder::new(&bad).build_and_generate(&out) {
        Err(SkelError::Compile(msg)) => assert!(msg.contains("undeclared"), "{msg}"),
        other => panic!("{other:?}"),
    }
    match skel::Builder::new(&bad)
        .clang("/nonexistent/clang")
        .build_and_generate(&out)
    {
        Err(SkelError::Compile(msg)) => assert!(msg.contains("install clang"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Corrupted objects (bytes of maps, globals and skel_types flipped, the
/// BTF above all) give a skeleton or a typed error, never a panic.
#[test]
fn corrupted_objects_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut objects: Vec<(String, Vec<u8>)> = ["maps", "globals", "btfkinds"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read(common::obj(&format!("{n}.bpf.o"))).unwrap(),
            )
        })
        .collect();
    objects.push(("skel_types".into(), skel_types_object()));
    let (mut ok, mut err) = (0, 0);
    for (name, bytes) in &objects {
        for _ in 0..400 {
            let mut b = bytes.clone();
            for _ in 0..(1 + next() % 4) {
                let i = (next() % b.len() as u64) as usize;
                b[i] = match next() % 3 {
                    0 => b[i] ^ (1 << (next() % 8)),
                    1 => 0xff,
                    _ => next() as u8,
                };
            }
            match skel::generate(&b, name, &SkelOptions::default()) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    err += 1;
                }
            }
        }
    }
    assert!(ok > 0 && err > 0, "ok {ok}, errors {err}");
}
