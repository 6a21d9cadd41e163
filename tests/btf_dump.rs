//! `btf::dump::to_c_header` (BTF → vmlinux.h) against bpftool and clang:
//! the header equals bpftool's (up to the enum size attributes bpftool 7.1
//! leaves out), BPF programs built against it carry the same CO-RE
//! relocations and instructions as built against bpftool's, and clang
//! agrees with the BTF on the size and member offsets of every struct.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/realworld.rs"]
mod realworld;
use object::{Object, ObjectSection, SectionFlags};
use tinybpf::btf::dump::to_c_header;
use tinybpf::btf::{Btf, BtfExt, Kind};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
/// `enum` size attributes bpftool 7.1 (libbpf 1.1) does not print.
const MODE_BYTE: &str = " __attribute__((mode(byte)))";

/// `tool` on PATH; missing is a skip only when CI is unset.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .chain([PathBuf::from("/usr/sbin")])
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed, and CI is set: refusing to skip"
        );
        eprintln!("skipped: {name} not installed");
    }
    found
}

fn load(path: &Path) -> Btf {
    Btf::from_bytes_auto(std::fs::read(path).unwrap()).unwrap()
}

fn bpftool_header(bpftool: &Path, btf: &Path) -> String {
    let out = Command::new(bpftool)
        .args(["btf", "dump", "file"])
        .arg(btf)
        .args(["format", "c"])
        .output()
        .unwrap();
    assert!(out.status.success(), "bpftool failed on {}", btf.display());
    String::from_utf8(out.stdout).unwrap()
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tinybpf-btf-dump-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Our header equals bpftool's but for the `mode(byte)` attributes, which
/// we add and bpftool 7.1 drops (its 1-byte enums come out 4 bytes wide).
fn same_as_bpftool(btf_path: &Path) {
    let Some(bpftool) = tool("bpftool") else {
        return;
    };
    let ours = to_c_header(&load(btf_path)).unwrap();
    let theirs = bpftool_header(&bpftool, btf_path);
    let normalized = ours.replace(MODE_BYTE, "");
    if normalized != theirs {
        let (a, b): (Vec<_>, Vec<_>) = (normalized.lines().collect(), theirs.lines().collect());
        let i = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{}: header differs from bpftool's at line {}:\n ours:   {:?}\n theirs: {:?}",
            btf_path.display(),
            i + 1,
            a.get(i),
            b.get(i)
        );
    }
    assert!(theirs.lines().count() > 50_000, "implausibly small header");
}

#[test]
fn running_kernel_header_matches_bpftool() {
    same_as_bpftool(Path::new(VMLINUX));
}

#[test]
fn debian_6_1_header_matches_bpftool() {
    let Some(p) = realworld::second_kernel_btf() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no Debian 6.1 BTF under CI"
        );
        eprintln!("skipped: no Debian 6.1 BTF (scripts/fetch-kernel-btf.sh)");
        return;
    };
    same_as_bpftool(&p);
}

#[test]
fn object_btf_headers_match_bpftool() {
    let Some(bpftool) = tool("bpftool") else {
        return;
    };
    let mut n = 0;
    for e in std::fs::read_dir(common::repo_root().join("bpf")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".bpf.o") {
            let ours = to_c_header(&load(&p)).unwrap();
            assert_eq!(ours, bpftool_header(&bpftool, &p), "{}", p.display());
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} objects");
}

fn clang(args: &[&str], src: &Path, out: &Path, include: &Path) {
    let clang = tool("clang-19").expect("clang-19");
    let root = common::repo_root();
    let st = Command::new(clang)
        .args([
            "-g",
            "-O2",
            "-target",
            "bpf",
            "-D__TARGET_ARCH_x86",
            "-Wall",
            "-Werror",
        ])
        .arg("-I")
        .arg(include)
        .arg("-I")
        .arg(root.join("bpf"))
        .args(["-I/usr/include/x86_64-linux-gnu"])
        .args(args)
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "clang {}: {}",
        src.display(),
        String::from_utf8_lossy(&st.stderr)
    );
}

/// Code of every executable section and, per section, its CO-RE
/// relocations as (insn_off, kind, type name, access string).
type Relos = Vec<(String, Vec<(u32, u32, String, String)>)>;
fn code_and_relos(obj: &Path) -> (Vec<(String, Vec<u8>)>, Relos) {
    let bytes = std::fs::read(obj).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let mut code = Vec::new();
    for s in file.sections() {
        if let SectionFlags::Elf { sh_flags } = s.flags() {
            if sh_flags & 4 != 0 && s.size() > 0 {
                code.push((s.name().unwrap().to_string(), s.data().unwrap().to_vec()));
            }
        }
    }
    let btf = Btf::from_elf(&bytes).unwrap();
    let ext = file.section_by_name(".BTF.ext").unwrap().data().unwrap();
    let ext = BtfExt::parse(ext, &btf).unwrap();
    let relos = ext
        .core_relos
        .iter()
        .map(|(sec, v)| {
            let v = v
                .iter()
                .map(|r| {
                    let t = btf.type_by_id(r.type_id).unwrap();
                    let name = format!("{} {}", t.kind, t.name);
                    (
                        r.insn_off,
                        r.kind,
                        name,
                        btf.str_at(r.access_str_off).unwrap().to_string(),
                    )
                })
                .collect();
            (sec.clone(), v)
        })
        .collect();
    (code, relos)
}

/// A program reading fields of a few big kernel structs with CO-RE.
const CORE_PROG: &str = r#"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

__u64 out[16];

SEC("tp_btf/sched_switch")
int probe(u64 *ctx)
{
    struct task_struct *t = (void *)bpf_get_current_task();
    out[0] = BPF_CORE_READ(t, real_parent, tgid);
    out[1] = BPF_CORE_READ(t, mm, arg_start);
    out[2] = BPF_CORE_READ(t, files, fdt, max_fds);
    out[3] = BPF_CORE_READ(t, nsproxy, pid_ns_for_children, level);
    out[4] = bpf_core_field_exists(t->se.vruntime);
    out[5] = bpf_core_type_size(struct sk_buff);
    out[6] = BPF_CORE_READ(t, signal, rlim[1].rlim_cur);
    out[7] = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
    out[8] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
"#;

#[test]
fn programs_built_against_it_match_bpftools_header() {
    let Some(bpftool) = tool("bpftool") else {
        return;
    };
    if tool("clang-19").is_none() {
        return;
    }
    let dir = tempdir("core");
    let (ours, theirs) = (dir.join("ours"), dir.join("theirs"));
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    let btf = load(Path::new(VMLINUX));
    std::fs::write(ours.join("vmlinux.h"), to_c_header(&btf).unwrap()).unwrap();
    std::fs::write(
        theirs.join("vmlinux.h"),
        bpftool_header(&bpftool, Path::new(VMLINUX)),
    )
    .unwrap();
    std::fs::write(dir.join("core_prog.bpf.c"), CORE_PROG).unwrap();

    let mut sources = vec![dir.join("core_prog.bpf.c")];
    for e in std::fs::read_dir(common::repo_root().join("bpf")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".bpf.c")
            && std::fs::read_to_string(&p)
                .unwrap()
                .contains("#include \"vmlinux.h\"")
        {
            sources.push(p);
        }
    }
    assert!(sources.len() >= 2);
    let mut relos_seen = 0;
    for src in &sources {
        let stem = src.file_name().unwrap().to_string_lossy().to_string();
        let (a, b) = (
            dir.join(format!("{stem}.ours.o")),
            dir.join(format!("{stem}.theirs.o")),
        );
        clang(&[], src, &a, &ours);
        clang(&[], src, &b, &theirs);
        let (ca, ra) = code_and_relos(&a);
        let (cb, rb) = code_and_relos(&b);
        assert!(!ca.is_empty());
        assert_eq!(ca, cb, "{stem}: code differs");
        assert_eq!(ra, rb, "{stem}: CO-RE relocations differ");
        relos_seen += ra.iter().map(|(_, v)| v.len()).sum::<usize>();
    }
    assert!(
        relos_seen >= 10,
        "only {relos_seen} CO-RE relocations compared"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `_Static_assert`s on the size and the byte-aligned member offsets of
/// every uniquely named struct/union with named members, compiled against
/// our header: clang's layout is the BTF's.
fn layout_matches_btf(btf_path: &Path, tag: &str) {
    let Some(_) = tool("clang-19") else {
        return;
    };
    let btf = load(btf_path);
    let header = to_c_header(&btf).unwrap();
    // Names that occur once among struct/union/enum definitions (others
    // get a ___N suffix).
    let mut count: HashMap<&str, u32> = HashMap::new();
    for t in btf.iter() {
        let def = t.is_composite() || (t.kind.is_any_enum() && t.vlen() > 0);
        if def && !t.name.is_empty() {
            *count.entry(t.name).or_default() += 1;
        }
    }
    let mut c = String::from("#include \"vmlinux.h\"\n");
    let (mut structs, mut asserts) = (0, 0);
    for t in btf.iter() {
        if !t.is_composite() || t.name.is_empty() || t.size() == Some(0) || count[t.name] != 1 {
            continue;
        }
        let members: Vec<_> = t.members().map(|m| m.unwrap()).collect();
        if members.is_empty()
            || members.iter().any(|m| m.name.is_empty())
            || embeds_va_list(&btf, t.id, 0)
        {
            continue;
        }
        let kw = if t.kind == Kind::Struct {
            "struct"
        } else {
            "union"
        };
        let size = t.size().unwrap();
        c += &format!(
            "_Static_assert(sizeof({kw} {0}) == {size}, \"size of {0}\");\n",
            t.name
        );
        for m in &members {
            if m.bitfield_size == 0 && m.bit_offset % 8 == 0 {
                c += &format!(
                    "_Static_assert(__builtin_offsetof({kw} {0}, {1}) == {2}, \"{0}.{1}\");\n",
                    t.name,
                    m.name,
                    m.bit_offset / 8
                );
                asserts += 1;
            }
        }
        structs += 1;
    }
    assert!(
        structs > 300 && asserts > 3000,
        "{structs} structs, {asserts} offsets"
    );
    let dir = tempdir(tag);
    std::fs::write(dir.join("vmlinux.h"), header).unwrap();
    std::fs::write(dir.join("layout.c"), c).unwrap();
    clang(&[], &dir.join("layout.c"), &dir.join("layout.o"), &dir);
    eprintln!("{tag}: {structs} structs, {asserts} member offsets checked by clang");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Whether `id` holds a `__builtin_va_list` (not through a pointer). The
/// header leaves that compiler built-in to the compiler, like bpftool: it
/// is 24 bytes for the kernel (x86-64 GCC) but 8 for clang's BPF target,
/// so such structs come out smaller. Known limitation, skipped here.
fn embeds_va_list(btf: &Btf, id: u32, depth: u32) -> bool {
    let Ok(t) = btf.type_by_id(id) else {
        return false;
    };
    if depth > 32 {
        return false;
    }
    match t.kind {
        Kind::Typedef if t.name == "__builtin_va_list" => true,
        Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => {
            embeds_va_list(btf, t.size_or_type, depth + 1)
        }
        Kind::Array => embeds_va_list(btf, t.array().unwrap().elem_type, depth + 1),
        Kind::Struct | Kind::Union => t
            .members()
            .any(|m| embeds_va_list(btf, m.unwrap().type_id, depth + 1)),
        _ => false,
    }
}

#[test]
fn running_kernel_layout_matches_clang() {
    layout_matches_btf(Path::new(VMLINUX), "layout-running");
}

#[test]
fn debian_6_1_layout_matches_clang() {
    let Some(p) = realworld::second_kernel_btf() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no Debian 6.1 BTF under CI"
        );
        return;
    };
    layout_matches_btf(&p, "layout-6.1");
}
