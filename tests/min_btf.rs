//! Minimal target BTF (`tinybpf::reloc::min_btf`, `tinybpf btf min`):
//! relocating every object against the minimal BTF written for all of them
//! gives exactly the instructions it gets against the kernel's whole BTF.
//!
//! Objects: the CO-RE objects in bpf/ and the libbpf-tools objects (carved
//! from Debian's binaries). Kernels: the running one and Debian 6.1 (when
//! present; fetched under CI). `target_type_id` values are ids, renumbered in
//! the minimal BTF: for those the test checks that the id names the same
//! type instead.

#[path = "common/realworld.rs"]
mod realworld;

use std::sync::Arc;
use tinybpf::abi::insn::Insn;
use tinybpf::btf::Btf;
use tinybpf::obj::ObjectSpec;
use tinybpf::reloc::core::{RelocKind, RelocOutcome};
use tinybpf::reloc::min_btf::MinBtf;
use tinybpf::reloc::{relocate_spec, CoreTarget, Selection};

/// An object: name and ELF bytes (`ObjectSpec` is parsed anew per use).
struct Obj {
    name: String,
    bytes: Vec<u8>,
}

impl Obj {
    fn spec(&self) -> ObjectSpec {
        ObjectSpec::parse(&self.name, &self.bytes).unwrap()
    }
}

fn objects() -> Vec<Obj> {
    let mut out = Vec::new();
    let root = realworld::repo_root().join("bpf");
    let mut paths: Vec<_> = [root.clone(), root.join("tests/core_kernel")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    paths.sort();
    for p in paths {
        let bytes = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if ObjectSpec::parse(&name, &bytes).is_ok() {
            out.push(Obj { name, bytes });
        }
    }
    if std::env::var_os("CI").is_some() {
        assert!(realworld::ensure_libbpf_tools(), "CI: libbpf-tools needed");
    }
    for (name, bytes) in realworld::libbpf_tools_objects() {
        out.push(Obj { name, bytes });
    }
    out.retain(|o| {
        o.spec()
            .btf_ext
            .as_ref()
            .is_some_and(|e| e.core_relos.iter().any(|(_, r)| !r.is_empty()))
    });
    out
}

/// The relocated code and outcomes of `spec` against `btf`.
fn relocate(spec: &Obj, btf: &Arc<Btf>) -> (Vec<Vec<Insn>>, Vec<RelocOutcome>) {
    let mut s = spec.spec();
    let out = relocate_spec(&mut s, Selection::All, &CoreTarget::Custom(btf.clone()))
        .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    let code = s.code.iter().map(|c| c.insns.clone()).collect();
    (code, out)
}

fn type_label(btf: &Btf, id: u64) -> String {
    let t = btf.type_by_id(id as u32).unwrap();
    format!("{} {}", t.kind, t.name)
}

/// Relocation results of each object against the full BTF.
type Before = Vec<(Vec<Vec<Insn>>, Vec<RelocOutcome>)>;

/// The first difference between relocating `objs` against `small` and
/// `before` (against `full`), if any.
fn compare(full: &Btf, small: &Arc<Btf>, objs: &[Obj], before: &Before) -> Result<(), String> {
    for (spec, (code, out)) in objs.iter().zip(before) {
        let (code2, out2) = relocate(spec, small);
        if out.len() != out2.len() {
            return Err(format!(
                "{}: {} vs {} outcomes",
                spec.name,
                out.len(),
                out2.len()
            ));
        }
        let mut id_insns = Vec::new();
        for (a, b) in out.iter().zip(&out2) {
            let what = format!(
                "{} {}[{}] {} {}",
                spec.name, a.section, a.insn_idx, a.kind, a.access
            );
            if (&a.section, a.insn_idx, a.kind) != (&b.section, b.insn_idx, b.kind) {
                return Err(format!("{what}: outcome order differs"));
            }
            let same = if a.kind == RelocKind::TypeIdTarget {
                id_insns.push((a.section.clone(), a.insn_idx));
                match (a.target_value, b.target_value) {
                    (Some(x), Some(y)) => type_label(full, x) == type_label(small, y),
                    (x, y) => x.is_some() == y.is_some(),
                }
            } else {
                a.target_value == b.target_value
            };
            if !same {
                return Err(format!(
                    "{what}: {:?} vs {:?}",
                    a.target_value, b.target_value
                ));
            }
        }
        let names: Vec<String> = spec.spec().code.iter().map(|c| c.name.clone()).collect();
        for (ci, (c1, c2)) in code.iter().zip(&code2).enumerate() {
            for (i, (x, y)) in c1.iter().zip(c2).enumerate() {
                let sec = &names[ci];
                let is_id = id_insns
                    .iter()
                    .any(|(s, j)| s == sec && (*j == i || *j + 1 == i));
                if !is_id && x != y {
                    return Err(format!("{} {sec} insn {i} differs", spec.name));
                }
            }
        }
    }
    Ok(())
}

/// Minimal BTF of `full` for `objs`; checks every object; returns its size.
fn check_kernel(label: &str, full: Arc<Btf>, objs: &[Obj]) -> usize {
    let mut min = MinBtf::new(&full);
    let mut part = MinBtf::new(&full);
    let mut before = Vec::new();
    let (mut relocs, mut poisoned, mut type_ids) = (0, 0, 0);
    for (i, spec) in objs.iter().enumerate() {
        let (code, out) = relocate(spec, &full);
        min.add_outcomes(&out).unwrap();
        if i % 2 == 0 {
            part.add_outcomes(&out).unwrap();
        }
        relocs += out.len();
        poisoned += out.iter().filter(|o| o.target_value.is_none()).count();
        type_ids += out
            .iter()
            .filter(|o| o.kind == RelocKind::TypeIdTarget)
            .count();
        before.push((code, out));
    }
    let bytes = min.to_bytes().unwrap();
    let small = Arc::new(Btf::parse(bytes.clone()).expect("minimal BTF parses"));
    if let Err(e) = compare(&full, &small, objs, &before) {
        panic!("{label}: relocating against the minimal BTF differs: {e}");
    }
    // The comparison can fail: the minimal BTF of every other object
    // does not serve them all.
    let half = Arc::new(Btf::parse(part.to_bytes().unwrap()).unwrap());
    let e = compare(&full, &half, objs, &before).expect_err("half the objects' BTF differs");
    eprintln!("{label}: (BTF of half the objects: as expected, {e})");
    eprintln!(
        "{label}: {} objects, {relocs} relocations ({poisoned} poisoned, {type_ids} target_type_id): \
         minimal BTF {} bytes, {} types (full BTF {} types)",
        objs.len(),
        bytes.len(),
        min.subset().len(),
        full.len() - 1
    );
    assert!(relocs > 0 && !min.subset().is_empty());
    bytes.len()
}

#[test]
fn minimal_btf_relocates_like_the_full_btf() {
    let objs = objects();
    assert!(objs.len() >= 3, "CO-RE objects in bpf/: {}", objs.len());
    let running = tinybpf::kernel::kernel_btf().expect("running kernel's BTF");
    let n = check_kernel("running kernel", running, &objs);
    assert!(n < 2_000_000, "minimal BTF of {n} bytes");
    match realworld::second_kernel_btf() {
        Some(p) => {
            let b = Btf::from_bytes_auto(std::fs::read(&p).unwrap()).unwrap();
            check_kernel(&p.display().to_string(), Arc::new(b), &objs);
        }
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI: Debian 6.1 BTF needed"
            );
            eprintln!("skipping Debian 6.1: no BTF (TINYBPF_FETCH=1 fetches it)");
        }
    }
}

/// Every other kernel BTF already fetched (`scripts/fetch-kernel-btf.sh
/// --all`; nothing is downloaded here): up to eight, spread over the
/// version-sorted list so that 6.1 and 6.12 kernels are both tried.
#[test]
fn minimal_btf_on_many_kernels() {
    let objs = objects();
    let all = realworld::btf_files_in(&realworld::btf_dir());
    let n = all.len().min(8);
    let picked: Vec<_> = (0..n).map(|i| all[i * all.len() / n].clone()).collect();
    for p in picked {
        let b = Btf::from_bytes_auto(std::fs::read(&p).unwrap()).unwrap();
        check_kernel(&p.display().to_string(), Arc::new(b), &objs);
    }
}

/// The hand-written CO-RE test objects against their target-layout BTF:
/// every relocation kind (type_matches, enumerators, bitfields, flexible
/// arrays, ...).
#[test]
fn minimal_btf_of_core_test_objects() {
    let dir = realworld::repo_root().join("bpf/tests/core");
    let mut n = 0;
    for name in ["fields", "poison", "reach_bad", "reach_ok", "types"] {
        let obj = Obj {
            name: name.into(),
            bytes: std::fs::read(dir.join(format!("{name}.bpf.o"))).unwrap(),
        };
        let tbytes = std::fs::read(dir.join(format!("{name}.target.bpf.o"))).unwrap();
        let full = Arc::new(Btf::from_elf(&tbytes).unwrap());
        let objs = [obj];
        let (code, out) = relocate(&objs[0], &full);
        let mut min = MinBtf::new(&full);
        min.add_outcomes(&out).unwrap();
        let small = Arc::new(Btf::parse(min.to_bytes().unwrap()).unwrap());
        if let Err(e) = compare(&full, &small, &objs, &vec![(code, out)]) {
            panic!("{name}: {e}");
        }
        eprintln!(
            "{name}: {} of {} types kept",
            min.subset().len(),
            full.len() - 1
        );
        n += 1;
    }
    assert_eq!(n, 5);
}
