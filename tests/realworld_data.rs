//! Tests of the real-world test data helpers in `tests/common/realworld.rs`:
//! carving the BPF objects out of Debian's libbpf-tools binaries and fetching
//! a second kernel's BTF.
//!
//! Tests that need the libbpf-tools package or network access skip (with a
//! message) when it is unavailable, unless `CI` is set: then they install /
//! fetch what they need and fail if they cannot.

#[path = "common/realworld.rs"]
mod realworld;

use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};
use std::process::Command;

fn ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Skip (return true) when outside CI; panic under CI.
fn skip(why: &str) -> bool {
    if ci() {
        panic!("CI is set but {why}");
    }
    eprintln!("skipping: {why} (set CI=true or TINYBPF_FETCH=1 to fetch it)");
    true
}

fn repo_obj(name: &str) -> Vec<u8> {
    let p = realworld::repo_root().join("bpf").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

#[test]
fn carve_finds_embedded_object_exactly() {
    let obj = repo_obj("hello.bpf.o");
    assert_eq!(realworld::bpf_object_len(&obj), Some(obj.len()));

    // Garbage, a decoy x86-64 ELF header, a lone magic, the object, garbage.
    let mut bin = vec![0xAAu8; 1000];
    let mut decoy = obj[..64].to_vec();
    decoy[18] = 62; // EM_X86_64
    bin.extend_from_slice(&decoy);
    bin.extend_from_slice(b"\x7fELF\x02\x01\x01");
    bin.extend_from_slice(&[0u8; 13]);
    let at = bin.len();
    bin.extend_from_slice(&obj);
    bin.extend_from_slice(&[0x55u8; 333]);

    let found = realworld::carve_bpf_objects(&bin);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0], obj);
    assert_eq!(&bin[at..at + obj.len()], &found[0][..]);
}

#[test]
fn carve_finds_several_objects_in_order() {
    let a = repo_obj("hello.bpf.o");
    let b = repo_obj("maps.bpf.o");
    let mut bin = b"prefix".to_vec();
    bin.extend_from_slice(&a);
    bin.extend_from_slice(b"middle");
    bin.extend_from_slice(&b);
    let found = realworld::carve_bpf_objects(&bin);
    assert_eq!(found, vec![a, b]);
}

#[test]
fn carve_rejects_truncated_and_corrupt_objects_without_panicking() {
    let obj = repo_obj("globals.bpf.o");
    // Every truncation: never panics, never returns more bytes than given,
    // and a truncated object is never accepted.
    for len in 0..obj.len() {
        let got = realworld::carve_bpf_objects(&obj[..len]);
        assert!(got.is_empty(), "accepted object truncated to {len} bytes");
    }
    // Big-endian or 32-bit variants are not EM_BPF little-endian ELF64.
    for (idx, val) in [(4usize, 1u8), (5, 2)] {
        let mut bad = obj.clone();
        bad[idx] = val;
        assert!(realworld::carve_bpf_objects(&bad).is_empty());
    }
    // Corrupting single header bytes must not panic.
    for i in 16..64 {
        for v in [0u8, 0x7f, 0xff] {
            let mut bad = obj.clone();
            bad[i] = v;
            for o in realworld::carve_bpf_objects(&bad) {
                assert!(o.len() <= bad.len());
            }
        }
    }
    // Section header table pointing past the end.
    let mut bad = obj.clone();
    bad[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(realworld::carve_bpf_objects(&bad).is_empty());
}

#[test]
fn carve_finds_nothing_in_a_host_binary() {
    let p = Path::new("/bin/true");
    if let Ok(bytes) = std::fs::read(p) {
        assert!(realworld::carve_bpf_objects(&bytes).is_empty());
    }
    assert!(realworld::carve_bpf_objects(&[]).is_empty());
    assert!(realworld::carve_bpf_objects(b"\x7fELF").is_empty());
}

fn tools_objects() -> Option<Vec<(String, Vec<u8>)>> {
    if !realworld::ensure_libbpf_tools() {
        skip("the libbpf-tools package is not installed");
        return None;
    }
    Some(realworld::libbpf_tools_objects())
}

#[test]
fn libbpf_tools_objects_carve_and_parse() {
    let Some(objs) = tools_objects() else { return };
    let bins = realworld::libbpf_tools_binaries();
    let names: Vec<&str> = objs.iter().map(|(n, _)| n.as_str()).collect();
    eprintln!(
        "libbpf-tools: {} executables, {} BPF objects carved: {}",
        bins.len(),
        objs.len(),
        names.join(" ")
    );
    let without: Vec<String> = bins
        .iter()
        .filter_map(|b| b.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !names.contains(&n.as_str()))
        .collect();
    eprintln!("libbpf-tools without an embedded object: {without:?}");
    assert!(
        objs.len() >= 30,
        "only {} objects carved from libbpf-tools",
        objs.len()
    );
    for (name, bytes) in &objs {
        let file = object::File::parse(&bytes[..])
            .unwrap_or_else(|e| panic!("{name}: carved object does not parse: {e}"));
        assert_eq!(file.format(), object::BinaryFormat::Elf, "{name}");
        assert!(file.is_64(), "{name}");
        assert!(file.is_little_endian(), "{name}");
        match &file {
            object::File::Elf64(elf) => {
                assert_eq!(elf.elf_header().e_machine.get(elf.endian()), 247)
            }
            _ => panic!("{name}: not ELF64"),
        }
        // A skeleton object has programs, and libbpf-tools are all CO-RE
        // (they carry BTF).
        assert!(
            file.section_by_name(".BTF").is_some(),
            "{name}: no .BTF section"
        );
        let progs = file
            .sections()
            .filter(|s| s.kind() == object::SectionKind::Text && s.size() > 0)
            .count();
        assert!(progs > 0, "{name}: no program sections");
    }
    // Spot-check well-known tools.
    for t in ["execsnoop", "opensnoop", "runqlat", "biolatency"] {
        assert!(names.contains(&t), "no object carved from {t}");
    }
}

/// Writes every carved object to `$TINYBPF_DUMP_DIR` (default
/// `target/libbpf-tools-objs`) as `<tool>.bpf.o`, for scripts and manual work:
/// `cargo test --test realworld_data -- --ignored dump_libbpf_tools_objects`
#[test]
#[ignore]
fn dump_libbpf_tools_objects() {
    let Some(objs) = tools_objects() else { return };
    let dir = std::env::var_os("TINYBPF_DUMP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| realworld::repo_root().join("target/libbpf-tools-objs"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in &objs {
        let p = dir.join(format!("{name}.bpf.o"));
        std::fs::write(&p, bytes).unwrap();
        println!("{}", p.display());
    }
}

/// Minimal check of a raw BTF blob's header: magic, version, section bounds.
fn check_btf_header(what: &str, b: &[u8]) {
    assert!(b.len() >= 24, "{what}: too short for a BTF header");
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    assert_eq!(
        u16::from_le_bytes([b[0], b[1]]),
        0xeb9f,
        "{what}: BTF magic"
    );
    assert_eq!(b[2], 1, "{what}: BTF version");
    let hdr_len = u64::from(u32_at(4));
    let type_off = u64::from(u32_at(8));
    let type_len = u64::from(u32_at(12));
    let str_off = u64::from(u32_at(16));
    let str_len = u64::from(u32_at(20));
    let data_len = b.len() as u64 - hdr_len;
    assert!(type_len > 0 && str_len > 0, "{what}: empty BTF");
    assert!(type_off + type_len <= data_len, "{what}: type section OOB");
    assert!(str_off + str_len <= data_len, "{what}: string section OOB");
}

/// "STRUCT 'task_struct' size=N vlen=M" line of bpftool's dump of `path`.
fn task_struct_line(path: &Path) -> Option<String> {
    let out = Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(path)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "bpftool btf dump file {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("STRUCT 'task_struct' "))
        .map(|l| l.trim().to_string())
}

#[test]
fn second_kernel_btf_is_valid_and_differs_from_this_kernel() {
    let Some(path) = realworld::second_kernel_btf() else {
        skip(&format!(
            "no second kernel BTF in {}",
            realworld::btf_dir().display()
        ));
        return;
    };
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("vmlinux-6.1.0-"), "{name}");
    let other = std::fs::read(&path).unwrap();
    check_btf_header(&name, &other);

    let here_path = Path::new("/sys/kernel/btf/vmlinux");
    let Ok(here) = std::fs::read(here_path) else {
        skip("/sys/kernel/btf/vmlinux is not readable");
        return;
    };
    check_btf_header("this kernel", &here);
    assert_ne!(other, here, "second kernel's BTF equals this kernel's");

    if Command::new("bpftool").arg("version").output().is_err() {
        skip("bpftool is not installed");
        return;
    }
    let a = task_struct_line(&path).expect("no task_struct in the second kernel's BTF");
    let b = task_struct_line(here_path).expect("no task_struct in this kernel's BTF");
    eprintln!("{name}: {a}\nthis kernel: {b}");
    let shape = |l: &str| {
        l.split_once(' ')
            .map(|x| x.1.to_string())
            .unwrap_or_default()
    };
    assert_ne!(
        shape(&a),
        shape(&b),
        "task_struct has the same size and vlen"
    );
}

#[test]
fn btf_files_sort_by_version() {
    let k = |s: &str| realworld::version_key(Path::new(s));
    assert!(k("vmlinux-6.1.0-9-amd64.btf") < k("vmlinux-6.1.0-57-amd64.btf"));
    assert!(k("vmlinux-6.1.0-57-amd64.btf") < k("vmlinux-6.12.100+deb12-amd64.btf"));
    assert!(k("vmlinux-6.12.99+deb12-amd64.btf") < k("vmlinux-6.12.117+deb12-amd64.btf"));
    assert_eq!(k(""), Vec::new());
}

/// Every BTF blob already fetched into the BTF dir (no fetching here) is a
/// well-formed raw BTF file.
#[test]
fn fetched_btf_files_have_valid_headers() {
    let files = realworld::btf_files_in(&realworld::btf_dir());
    eprintln!(
        "{} BTF files in {}",
        files.len(),
        realworld::btf_dir().display()
    );
    for f in &files {
        let b = std::fs::read(f).unwrap();
        check_btf_header(&f.display().to_string(), &b);
    }
}
