//! CO-RE relocation of the C test objects in bpf/tests/core (no root needed).

use std::collections::HashMap;

use object::{Object, ObjectSection};
use tinybpf::abi::insn::{Insn, BPF_DW, CALL};
use tinybpf::btf::{Btf, BtfExt};
use tinybpf::reloc::core::{relocate_object, CoreError, RelocKind, RelocOutcome, Target};

struct Obj {
    btf: Btf,
    ext: BtfExt,
    sections: Vec<(String, Vec<Insn>)>,
}

fn load(path: &str) -> Obj {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let file = object::File::parse(&*data).expect("ELF");
    let btf = Btf::from_elf(&data).expect(".BTF");
    let ext_data = file
        .section_by_name(".BTF.ext")
        .expect(".BTF.ext")
        .data()
        .expect("data");
    let ext = BtfExt::parse(ext_data, &btf).expect("parse .BTF.ext");
    let sections = ext
        .core_relos
        .iter()
        .map(|(name, _)| {
            let s = file.section_by_name(name).expect("prog section");
            (name.clone(), Insn::decode_all(s.data().expect("data")))
        })
        .collect();
    Obj { btf, ext, sections }
}

fn relocate(obj: &mut Obj, target: &[&Btf]) -> Result<Vec<RelocOutcome>, CoreError> {
    let mut secs: Vec<(&str, &mut [Insn])> = obj
        .sections
        .iter_mut()
        .map(|(n, v)| (n.as_str(), v.as_mut_slice()))
        .collect();
    relocate_object(
        &obj.btf,
        &obj.ext,
        &Target {
            btfs: target.to_vec(),
        },
        &mut secs,
    )
}

/// Key identifying a relocation independently of layout: kind + resolved path.
fn key(o: &RelocOutcome) -> String {
    let path = o.access.split_once(' ').map(|x| x.1).unwrap_or("");
    // strip flavors from the path so local/target flavors line up
    let path = path.replace("___local", "").replace("___v1", "");
    format!("{} {}", o.kind, path)
}

fn by_key(v: &[RelocOutcome]) -> HashMap<String, Vec<Option<u64>>> {
    let mut m: HashMap<String, Vec<Option<u64>>> = HashMap::new();
    for o in v {
        m.entry(key(o)).or_default().push(o.target_value);
    }
    m
}

#[test]
fn fields_relocate_to_target_layout() {
    let target = load("bpf/tests/core/fields.target.bpf.o");
    let mut local = load("bpf/tests/core/fields.bpf.o");
    let orig_insns = local.sections[0].1.clone();
    let out = relocate(&mut local, &[&target.btf]).expect("relocate");
    assert!(out.len() > 30, "{} relocations", out.len());
    let got = by_key(&out);
    let exp: &[(&str, u64)] = &[
        ("byte_off (cf.x)", 16),
        ("byte_off (cf.y)", 8),
        ("byte_sz (cf.y)", 8),
        ("byte_off (cf.arr)", 20),
        ("byte_sz (cf.arr)", 8),
        ("byte_off (cf.anon1)", 36),
        ("byte_off (cf.anon2)", 32),
        ("byte_off (cf.in.i1)", 52),
        ("byte_off (cf.ptr)", 64),
        ("byte_off (cf_flav.fa)", 8),
        ("byte_off (cf_flav.fb)", 0),
        ("byte_sz (cf.sgn)", 1),
        ("field_exists (cf.x)", 1),
        ("field_exists (cf.gone)", 0),
        ("signed (cf.sgn)", 0),
        ("signed (cf.x)", 1),
        ("signed (cf.bf3)", 1),
        ("signed (cf.bf1)", 0),
        ("byte_off (cf.bf1)", 56),
        ("byte_sz (cf.bf1)", 4),
        ("lshift_u64 (cf.bf1)", 51),
        ("rshift_u64 (cf.bf1)", 61),
        ("lshift_u64 (cf.bf2)", 54),
        ("rshift_u64 (cf.bf2)", 58),
        ("byte_off (cf.bf3)", 56),
        ("byte_sz (cf.bf3)", 8),
        ("lshift_u64 (cf.bf3)", 31),
        ("rshift_u64 (cf.bf3)", 44),
    ];
    for (k, v) in exp {
        let vals = got
            .get(*k)
            .unwrap_or_else(|| panic!("no relocation '{k}' in {got:#?}"));
        assert!(
            vals.iter().all(|x| *x == Some(*v)),
            "{k}: got {vals:?}, want {v}"
        );
    }
    // The access to the missing field is poisoned (unresolved), not an error.
    let gone: Vec<_> = out
        .iter()
        .filter(|o| o.access.contains("cf.gone") && o.kind == RelocKind::FieldByteOffset)
        .collect();
    assert!(!gone.is_empty());
    for o in &gone {
        assert_eq!(o.target_value, None);
        let i = local.sections[0].1[o.insn_idx];
        assert_eq!((i.code, i.imm), (CALL, 0xbad2310), "poisoned insn {i:?}");
    }
    // Every patched instruction carries the target value; the load of `y`
    // (u32 -> u64) was widened to a DW load at offset 8.
    for o in &out {
        let Some(v) = o.target_value else { continue };
        let before = orig_insns[o.insn_idx];
        let after = local.sections[0].1[o.insn_idx];
        match before.class() {
            0x04 | 0x07 => assert_eq!(after.imm as i64 as u64, v, "{o:?}"),
            0x01..=0x03 => assert_eq!(after.off as u64, v, "{o:?}"),
            _ => {}
        }
        if before.class() == 0x01 && o.access.contains("cf.y") {
            assert_eq!(before.code & 0x18, 0x00, "local load of y is 4 bytes");
            assert_eq!(after.code & 0x18, BPF_DW, "target load of y is 8 bytes");
            assert_eq!(after.off, 8);
        }
    }
    assert!(out
        .iter()
        .any(|o| o.access.contains("cf.y") && orig_insns[o.insn_idx].class() == 0x01));
}

/// Cross-check against the compiler: the target object, relocated against
/// its own BTF, holds clang's own values for the target layout (and the
/// engine validates each instruction against them). Every relocation the
/// two objects share must agree.
#[test]
fn fields_agree_with_compiler_layout() {
    let mut target = load("bpf/tests/core/fields.target.bpf.o");
    let tbtf = load("bpf/tests/core/fields.target.bpf.o").btf;
    let tout = relocate(&mut target, &[&tbtf]).expect("identity relocation");
    let mut local = load("bpf/tests/core/fields.bpf.o");
    let lout = relocate(&mut local, &[&tbtf]).expect("relocate");
    let t = by_key(&tout);
    let mut compared = 0;
    for o in &lout {
        if o.access.contains("gone") {
            continue;
        }
        let k = key(o);
        if let Some(tv) = t.get(&k) {
            assert!(
                tv.contains(&o.target_value),
                "{k}: local->target {:?}, compiler {tv:?}",
                o.target_value
            );
            compared += 1;
        }
    }
    assert!(compared >= 25, "only {compared} relocations compared");
    // Identity relocation changes nothing that clang computed.
    for o in &tout {
        if o.kind != RelocKind::FieldExists || !o.access.contains("gone") {
            assert_eq!(Some(o.local_value), o.target_value, "{o:?}");
        }
    }
}

#[test]
fn types_and_enums() {
    let target = load("bpf/tests/core/types.target.bpf.o");
    let mut local = load("bpf/tests/core/types.bpf.o");
    let out = relocate(&mut local, &[&target.btf]).expect("relocate");
    let ct_target = target
        .btf
        .find_by_name_kind("ct", tinybpf::btf::Kind::Struct)
        .unwrap();
    let ct_local = local
        .btf
        .find_by_name_kind("ct", tinybpf::btf::Kind::Struct)
        .unwrap();
    let find = |kind: RelocKind, path: &str| -> Vec<Option<u64>> {
        out.iter()
            .filter(|o| o.kind == kind && o.access.ends_with(&format!("({path})")))
            .map(|o| o.target_value)
            .collect()
    };
    assert_eq!(find(RelocKind::TypeExists, "ct"), [Some(1)]);
    assert_eq!(find(RelocKind::TypeExists, "ct_gone"), [Some(0)]);
    assert_eq!(find(RelocKind::TypeSize, "ct"), [Some(24)]);
    assert_eq!(find(RelocKind::TypeMatches, "ct_match"), [Some(1)]);
    assert_eq!(find(RelocKind::TypeMatches, "ct_nomatch"), [Some(0)]);
    assert_eq!(find(RelocKind::TypeIdLocal, "ct"), [Some(ct_local as u64)]);
    assert_eq!(
        find(RelocKind::TypeIdTarget, "ct"),
        [Some(ct_target as u64)]
    );
    assert_eq!(find(RelocKind::TypeIdTarget, "ct_gone"), [Some(0)]);
    assert_eq!(find(RelocKind::EnumvalExists, "ce::CE_A"), [Some(1)]);
    assert_eq!(find(RelocKind::EnumvalExists, "ce::CE_GONE"), [Some(0)]);
    assert_eq!(find(RelocKind::EnumvalValue, "ce::CE_A"), [Some(10)]);
    assert_eq!(find(RelocKind::EnumvalValue, "ce::CE_B"), [Some(20)]);
    assert_eq!(
        find(RelocKind::EnumvalValue, "ce64::CE64_BIG"),
        [Some(0x7fff_0000_0000)]
    );
    assert_eq!(
        find(RelocKind::EnumvalValue, "ce64::CE64_X"),
        [Some(0x2_0000_0000)]
    );
    assert_eq!(
        find(RelocKind::EnumvalValue, "cef___v1::CEF_ONE"),
        [Some(7)]
    );
    // The 64-bit enum value landed in both halves of ld_imm64.
    let o = out
        .iter()
        .find(|o| o.access.ends_with("(ce64::CE64_BIG)"))
        .unwrap();
    let insns = &local.sections[0].1;
    assert_eq!(insns[o.insn_idx].imm as u32, 0);
    assert_eq!(insns[o.insn_idx + 1].imm as u32, 0x7fff);
    assert_eq!(out.len(), 15);
    assert!(tinybpf::reloc::core::needs_kernel_btf(&local.ext));
}

#[test]
fn ambiguous_flavors_are_an_error() {
    let target = load("bpf/tests/core/ambig.target.bpf.o");
    let mut local = load("bpf/tests/core/ambig.bpf.o");
    match relocate(&mut local, &[&target.btf]) {
        Err(CoreError::Ambiguous {
            type_name,
            access,
            candidates,
            ..
        }) => {
            assert_eq!(type_name, "struct amb");
            assert!(access.contains("amb.b"), "{access}");
            assert_eq!(candidates.len(), 2, "{candidates:?}");
            assert!(candidates
                .iter()
                .any(|c| c.contains("amb___x") && c.ends_with(": 0")));
            assert!(candidates
                .iter()
                .any(|c| c.contains("amb___y") && c.ends_with(": 8")));
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
}

/// Relocate a real CO-RE object against the running kernel's BTF and compare
/// with `bpftool btf dump`.
#[test]
fn task_struct_against_vmlinux() {
    let Ok(vmlinux) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        if std::env::var_os("CI").is_some() {
            panic!("/sys/kernel/btf/vmlinux not readable under CI");
        }
        eprintln!("skipping: /sys/kernel/btf/vmlinux not readable");
        return;
    };
    let kbtf = Btf::parse(vmlinux).expect("vmlinux BTF");
    let mut obj = load("bpf/tests/core_kernel/task_tgid.bpf.o");
    let out = relocate(&mut obj, &[&kbtf]).expect("relocate");
    let dump = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        .output()
        .expect("bpftool");
    let text = String::from_utf8_lossy(&dump.stdout);
    let mut lines = text
        .lines()
        .skip_while(|l| !l.contains("STRUCT 'task_struct'"));
    lines.next();
    let mut offs = HashMap::new();
    for l in lines.take_while(|l| l.starts_with('\t')) {
        let name = l.split('\'').nth(1).unwrap_or("").to_string();
        if let Some(b) = l.split("bits_offset=").nth(1) {
            let bits: u64 = b.split_whitespace().next().unwrap().parse().unwrap();
            offs.insert(name, bits / 8);
        }
    }
    let real_parent = offs["real_parent"];
    let tgid = offs["tgid"];
    let rp = out
        .iter()
        .find(|o| o.access.contains("real_parent"))
        .expect("real_parent relo");
    let tg = out
        .iter()
        .find(|o| o.access.contains("tgid"))
        .expect("tgid relo");
    assert_eq!(rp.target_value, Some(real_parent));
    assert_eq!(tg.target_value, Some(tgid));
    assert_eq!(rp.target_btf_index, Some(0));
    let insns = &obj.sections[0].1;
    assert_eq!(insns[rp.insn_idx].imm as u64, real_parent);
    assert_eq!(insns[tg.insn_idx].imm as u64, tgid);
}

#[test]
fn unresolved_enum_value_poisons_both_ld_imm64_halves() {
    // fields' target BTF has no enums at all.
    let other = load("bpf/tests/core/fields.target.bpf.o");
    let mut local = load("bpf/tests/core/types.bpf.o");
    let out = relocate(&mut local, &[&other.btf]).expect("relocate");
    let insns = &local.sections[0].1;
    let mut n = 0;
    for o in &out {
        match o.kind {
            RelocKind::EnumvalValue => {
                assert_eq!(o.target_value, None);
                for i in [o.insn_idx, o.insn_idx + 1] {
                    assert_eq!((insns[i].code, insns[i].imm), (CALL, 0xbad2310), "{o:?}");
                }
                n += 1;
            }
            RelocKind::EnumvalExists | RelocKind::TypeExists | RelocKind::TypeMatches => {
                assert_eq!(o.target_value, Some(0), "{o:?}")
            }
            RelocKind::TypeIdLocal => assert!(o.target_value.unwrap() > 0),
            _ => {}
        }
    }
    assert_eq!(n, 5);
}

#[test]
fn instruction_not_matching_local_btf_is_an_error() {
    let target = load("bpf/tests/core/fields.target.bpf.o");
    let mut local = load("bpf/tests/core/fields.bpf.o");
    // insn 17 is `r3 = 0` carrying byte_off of cf.x; corrupt it.
    let first = local.ext.core_relos[0].1[0];
    let idx = (first.insn_off / 8) as usize;
    local.sections[0].1[idx].imm = 5;
    match relocate(&mut local, &[&target.btf]) {
        Err(CoreError::InsnMismatch {
            section,
            insn_idx,
            expected,
            found,
            ..
        }) => {
            assert_eq!(
                (section.as_str(), insn_idx, expected, found),
                ("xdp", idx, 0, 5)
            );
        }
        other => panic!("expected InsnMismatch, got {other:?}"),
    }
}
