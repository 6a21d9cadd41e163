//! The CLI says what happened: non-UTF-8 paths, empty and truncated files,
//! --pin off bpffs, pins by name that outlive the run, --log-level, RUST_LOG.

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use support::{id_of, obj, prog_gone, scratch, tinybpf, tinybpf_with};

#[test]
fn non_utf8_paths_pass_through_unmangled() {
    let dir = scratch("nonutf8");
    std::fs::create_dir_all(&dir).unwrap();
    let mut name = b"hello-".to_vec();
    name.push(0xff);
    name.extend_from_slice(b".bpf.o");
    let path = dir.join(OsString::from_vec(name));
    std::fs::copy(common::obj("hello.bpf.o"), &path).unwrap();
    let r = tinybpf_with(
        &[OsString::from("info"), path.clone().into_os_string()],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("handle_tp"), "{}", r.out);
    // --btf too: the object and the target BTF are read from their real
    // names (a lossy conversion would name files that do not exist).
    let odd = |stem: &str| {
        let mut n = stem.as_bytes().to_vec();
        n.push(0xfe);
        n.extend_from_slice(b".bpf.o");
        dir.join(OsString::from_vec(n))
    };
    let (types, target) = (odd("types"), odd("target"));
    std::fs::copy(common::obj("tests/core/types.bpf.o"), &types).unwrap();
    std::fs::copy(common::obj("tests/core/types.target.bpf.o"), &target).unwrap();
    let r = tinybpf_with(
        &[
            OsString::from("check"),
            types.into_os_string(),
            OsString::from("--btf"),
            target.into_os_string(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("0 unresolved: OK"), "{}", r.out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_and_truncated_files_say_so() {
    let dir = scratch("truncated-say");
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.bpf.o");
    std::fs::write(&empty, b"").unwrap();
    let bytes = std::fs::read(common::obj("hello.bpf.o")).unwrap();
    let cut = dir.join("cut.bpf.o");
    std::fs::write(&cut, &bytes[..bytes.len() - 1]).unwrap();
    let short = dir.join("short.bpf.o");
    std::fs::write(&short, &bytes[..40]).unwrap();
    let (empty, cut, short) = (
        empty.display().to_string(),
        cut.display().to_string(),
        short.display().to_string(),
    );
    for cmd in [&["info"][..], &["check"], &["load"], &["test-run"]] {
        let with = |p: &str| {
            let mut a: Vec<&str> = cmd.to_vec();
            a.push(p);
            if cmd[0] == "test-run" {
                a.push("handle_tp");
            }
            tinybpf(&a)
        };
        let r = with(&empty);
        assert_eq!(r.code, 1, "{cmd:?}: {}", r.err);
        assert!(
            r.err.contains(&format!("{empty}: empty file (0 bytes)")),
            "{cmd:?}: {}",
            r.err
        );
        let r = with(&cut);
        assert_eq!(r.code, 1, "{cmd:?}: {}", r.err);
        let want = format!("needs {} bytes, file has {}", bytes.len(), bytes.len() - 1);
        assert!(
            r.err.contains(&format!("{cut}: truncated: ")) && r.err.contains(&want),
            "{cmd:?}: {}",
            r.err
        );
        let r = with(&short);
        assert!(
            r.err
                .contains("truncated: the ELF header needs 64 bytes, file has 40"),
            "{cmd:?}: {}",
            r.err
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_fails_when_a_program_cannot_attach() {
    if !common::root_or_skip("load_fails_when_a_program_cannot_attach") {
        return;
    }
    // on_execve attaches; on_missing is a uprobe on a binary that does not
    // exist. An error: the reason is given, and the program that did attach
    // is torn down with the rest.
    let noattach = obj("noattach.bpf.o");
    let r = tinybpf(&["load", &noattach, "--duration", "0"]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(
        r.err
            .contains("attach on_missing to /nonexistent/tinybpf-no-such-binary:main"),
        "{}",
        r.err
    );
    assert!(
        r.err
            .contains("noattach.bpf.o: 1 program of 2 could not be attached"),
        "{}",
        r.err
    );
    assert!(r.err.contains("--no-attach"), "{}", r.err);
    assert!(!r.out.contains("holding"), "{}", r.out);
    for p in ["on_execve", "on_missing"] {
        assert!(prog_gone(id_of(&r.out, p)), "{p} still loaded");
    }
    // With --no-attach the same load is fine.
    let r = tinybpf(&["load", &noattach, "--no-attach", "--duration", "0"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(!r.out.contains("links:"), "{}", r.out);
    // Programs whose section does not say where are listed, not an error.
    let r = tinybpf(&["load", &obj("globals.bpf.o"), "--duration", "0"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out
            .contains("not attached (the section does not say where): xdp_count"),
        "{}",
        r.out
    );
}

#[test]
fn pin_off_bpffs_is_refused_before_loading() {
    if !common::root_or_skip("pin_off_bpffs_is_refused_before_loading") {
        return;
    }
    let dir = scratch("pin-off-bpffs");
    let dump = scratch("pin-off-bpffs-dump");
    let pin = dir.join("not/yet/there");
    let r = tinybpf(&[
        "load",
        &obj("hello.bpf.o"),
        "--pin",
        pin.to_str().unwrap(),
        "--dump-insns",
        dump.to_str().unwrap(),
        "--duration",
        "0",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.err.contains("--pin: "), "{}", r.err);
    assert!(r.err.contains("not on a bpf filesystem"), "{}", r.err);
    // Nothing was loaded: no output, and the instructions that are written
    // just before BPF_PROG_LOAD were never written.
    assert!(r.out.is_empty(), "{}", r.out);
    assert!(!dump.join("handle_tp.insns").exists());
    assert!(!pin.exists());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dump);
    // The same check for the root of pins by name.
    let r = tinybpf(&[
        "load",
        &obj("maptypes.bpf.o"),
        "--pin-root",
        "/tmp",
        "--duration",
        "0",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.err.contains("--pin-root: "), "{}", r.err);
    assert!(r.out.is_empty(), "{}", r.out);
}

#[test]
fn pins_by_name_are_reported_as_staying() {
    if !common::root_or_skip("pins_by_name_are_reported_as_staying") {
        return;
    }
    let root = PathBuf::from(format!(
        "/sys/fs/bpf/tinybpf-cli-byname-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let r = tinybpf(&[
        "load",
        &obj("maptypes.bpf.o"),
        "--pin-root",
        root.to_str().unwrap(),
        "--duration",
        "0",
    ]);
    let pin = root.join("tinybpf_pinned");
    let stays = pin.exists();
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(stays, "{} not pinned:\n{}", pin.display(), r.out);
    let pin = pin.display().to_string();
    // The map table says where, and the end says it stays (and the count of
    // unloaded maps leaves it out).
    let line = r
        .out
        .lines()
        .find(|l| l.trim_start().starts_with("tinybpf_pinned"))
        .unwrap();
    assert!(line.trim_end().ends_with(&pin), "{line}");
    assert!(
        r.out.contains(&format!(
            "1 map pinned by name (LIBBPF_PIN_BY_NAME) stays loaded: {pin} (remove with rm {pin})"
        )),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("unloaded 2 programs and 17 maps"),
        "{}",
        r.out
    );
    for p in ["xdp_maps", "tail_prog"] {
        assert!(prog_gone(id_of(&r.out, p)), "{p} still loaded");
    }
}

#[test]
fn log_level_accepts_what_the_help_says() {
    let help = tinybpf(&["load", "--help"]).out;
    assert!(help.contains("(so 1 to 7)"), "{help}");
    for bad in ["0", "8", "x"] {
        let r = tinybpf(&["load", &obj("hello.bpf.o"), "--log-level", bad]);
        assert_eq!(r.code, 2, "{bad}: {}", r.err);
    }
    if !common::root_or_skip("log_level_accepts_what_the_help_says") {
        return;
    }
    // Level 2 logs every instruction's state, so the log is longer; 4 adds
    // statistics. Both are accepted; the rejection still exits 3.
    let bad = obj("bad.bpf.o");
    let l1 = tinybpf(&["load", &bad, "--log-level", "1"]);
    let l2 = tinybpf(&["load", &bad, "--log-level", "2"]);
    let l5 = tinybpf(&["load", &bad, "--log-level", "5"]);
    for r in [&l1, &l2, &l5] {
        assert_eq!(r.code, 3, "{}", r.err);
        assert!(r.err.contains("BAD_DEREF_MARKER"), "{}", r.err);
    }
    assert!(l2.err.len() > l1.err.len(), "{}\n---\n{}", l1.err, l2.err);
    assert!(l5.err.contains("verification time"), "{}", l5.err);
}

#[test]
fn rust_log_shows_what_the_library_does() {
    let hello = obj("hello.bpf.o");
    let quiet = tinybpf(&["info", &hello]);
    assert_eq!(quiet.code, 0);
    assert!(quiet.err.is_empty(), "{}", quiet.err);
    let r = tinybpf_with(&["info", &hello], &[("RUST_LOG", "debug")]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.err.contains("parsing object hello"), "{}", r.err);
    // A module filter: only tinybpf's obj module at debug.
    let r = tinybpf_with(&["info", &hello], &[("RUST_LOG", "tinybpf::btf=debug")]);
    assert!(!r.err.contains("parsing object hello"), "{}", r.err);
    // The old variable does nothing any more.
    let r = tinybpf_with(&["info", &hello], &[("TINYBPF_LOG", "debug")]);
    assert!(r.err.is_empty(), "{}", r.err);
}

/// Offset of section `name` in an ELF64 little-endian file.
fn section_offset(d: &[u8], name: &str) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(d[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shnum, shstrndx) = (u64_at(0x28), u16_at(0x3c), u16_at(0x3e));
    let strtab = u64_at(shoff + shstrndx * 64 + 0x18);
    (0..shnum)
        .map(|i| shoff + i * 64)
        .find(|&h| {
            let n = strtab + u32_at(h);
            d[n..].starts_with(name.as_bytes()) && d[n + name.len()] == 0
        })
        .map(|h| u64_at(h + 0x18))
        .unwrap_or_else(|| panic!("no section {name}"))
}

#[test]
fn errors_carry_each_prefix_once() {
    let dir = scratch("prefix-once");
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = std::fs::read(common::obj("hello.bpf.o")).unwrap();
    // .BTF.ext's func_info offset (header bytes 8..12) far past its data.
    let ext = section_offset(&bytes, ".BTF.ext");
    bytes[ext + 8..ext + 12].copy_from_slice(&0xff_fff0u32.to_le_bytes());
    let p = dir.join("badext.bpf.o");
    std::fs::write(&p, &bytes).unwrap();
    let p = p.display().to_string();
    for cmd in ["info", "load"] {
        let r = tinybpf(&[cmd, &p]);
        assert_eq!(r.code, 1, "{cmd}: {}", r.err);
        assert!(
            r.err.contains(&format!("{p}: .BTF.ext: func_info")),
            "{}",
            r.err
        );
        assert_eq!(r.err.matches(".BTF.ext:").count(), 1, "{}", r.err);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
