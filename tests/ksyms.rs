//! `.ksyms` externs: the BTF fix-ups at open (no kernel), resolution and
//! instruction patching on hand-made inputs (pure: a fake kallsyms, the
//! object's own BTF standing in for a module), then a real load on the
//! running kernel (typed per-CPU variables, an untyped symbol checked
//! against /proc/kallsyms read here, kfuncs, weak missing ones) and the
//! load errors of a strong missing kfunc and a mismatched prototype.

mod common;

use std::collections::HashMap;
use tinybpf::abi::insn::{BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, CALL};
use tinybpf::btf::{Btf, Kind};
use tinybpf::obj::KsymType;
use tinybpf::obj::{ObjectSpec, Reloc};
use tinybpf::reloc::ksyms::{patch, resolve, Kallsyms, KernelSyms, KsymValue, POISON_KFUNC_BASE};
use tinybpf::reloc::link::{link_program, ExtInfo, LoadRef};
use tinybpf::{OpenObject, TestRunOpts};

fn spec(name: &str) -> ObjectSpec {
    let bytes = std::fs::read(common::obj(name)).unwrap();
    ObjectSpec::parse(&tinybpf::obj::object_name(name), &bytes).unwrap()
}

/// BTF with no types at all (a kernel that has nothing).
fn empty_btf() -> Btf {
    let mut b = Vec::new();
    b.extend_from_slice(&0xeb9fu16.to_le_bytes());
    b.extend_from_slice(&[1, 0]);
    for w in [24u32, 0, 0, 0, 1] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.push(0);
    Btf::parse(b).unwrap()
}

const FUNCS: &[&str] = &[
    "bpf_task_from_pid",
    "bpf_task_release",
    "bpf_rcu_read_lock",
    "bpf_rcu_read_unlock",
    "bpf_cpumask_create",
    "bpf_cpumask_release",
    "tinybpf_no_such_kfunc",
];

#[test]
fn layout_at_open() {
    let s = spec("ksyms.bpf.o");
    let kind = |n: &str| s.externs.iter().find(|e| e.name == n).unwrap().ksym;
    for f in FUNCS {
        assert!(matches!(kind(f), Some(KsymType::Func { .. })), "{f}");
    }
    assert!(matches!(kind("tinybpf_no_such_var"), Some(KsymType::Var { type_id }) if type_id != 0));
    assert_eq!(kind("schedule"), Some(KsymType::Var { type_id: 0 }));
    assert_eq!(
        kind("tinybpf_no_such_symbol"),
        Some(KsymType::Var { type_id: 0 })
    );
    let weak = |n: &str| s.externs.iter().find(|e| e.name == n).unwrap().weak;
    assert!(weak("tinybpf_no_such_kfunc") && weak("tinybpf_no_such_var"));
    assert!(!weak("bpf_task_from_pid") && !weak("schedule"));
    let p = spec("ksyms_percpu.bpf.o");
    for n in ["runqueues", "bpf_prog_active"] {
        let e = p.externs.iter().find(|e| e.name == n).unwrap();
        assert!(matches!(e.ksym, Some(KsymType::Var { type_id }) if type_id != 0));
        assert!(!e.weak);
    }
    // The BTF as the kernel takes it: entries all VARs, 4 bytes each, no
    // extern linkage, kfunc parameters named.
    let btf = s.btf.as_ref().unwrap();
    let sec = btf.datasecs().find(|t| t.name == ".ksyms").unwrap();
    assert_eq!(sec.size(), Some(4 * 10));
    for (i, v) in sec.vars().enumerate() {
        let t = btf.type_by_id(v.type_id).unwrap();
        assert_eq!(t.kind, Kind::Var, "entry {i}");
        assert_eq!(t.linkage(), Some(1));
        assert_eq!((v.offset, v.size), (4 * i as u32, 4));
    }
    for f in FUNCS {
        let id = btf.find_by_name_kind(f, Kind::Func).unwrap();
        let t = btf.type_by_id(id).unwrap();
        assert_eq!(t.linkage(), Some(1), "{f}");
        let proto = btf.type_by_id(t.size_or_type).unwrap();
        for p in proto.params() {
            assert!(!p.unwrap().name.is_empty(), "{f}: unnamed parameter");
        }
    }
    // Calls and ld_imm64s of externs became .ksyms references.
    let refs = s
        .code
        .iter()
        .flat_map(|c| c.relocs.values())
        .filter(|r| matches!(r, Reloc::Ksym { .. }))
        .count();
    assert_eq!(
        refs,
        7 + 2 + 3,
        "7 kfunc calls + 2 bpf_ksym_exists + 3 variables"
    );
}

#[test]
fn kallsyms_index() {
    let k = Kallsyms::parse(
        "ffffffff81000000 T _stext\n\
         ffffffff81001000 t dup\n\
         ffffffff81002000 t dup\n\
         ffffffff81003000 t same\n\
         ffffffff81003000 t same\n\
         ffffffffc0001000 t modfn\t[some_mod]\n\
         garbage\n",
    );
    assert_eq!(k.get("_stext"), Some(Some(0xffffffff81000000)));
    assert_eq!(k.get("dup"), Some(None), "two addresses: ambiguous");
    assert_eq!(k.get("same"), Some(Some(0xffffffff81003000)));
    assert_eq!(k.get("modfn"), Some(Some(0xffffffffc0001000)));
    assert_eq!(k.get("nothing"), None);
}

/// Resolution and patching without a kernel: kfuncs found in a "module"
/// (the object's own BTF), untyped symbols in a fake kallsyms.
#[test]
fn resolve_and_patch_pure() {
    let s = spec("ksyms.bpf.o");
    let vmlinux = empty_btf();
    let module = Btf::parse(s.btf.as_ref().unwrap().to_bytes()).unwrap();
    let modules = vec![("fake_mod".to_string(), module)];
    let ks = Kallsyms::parse("ffffffff81234567 T schedule\n");
    let k = KernelSyms {
        vmlinux: &vmlinux,
        modules: &modules,
        kallsyms: Some(&ks),
    };
    let v = resolve(&s, &k).unwrap();
    let mbtf = &modules[0].1;
    assert_eq!(
        v["bpf_task_from_pid"],
        KsymValue::Btf {
            id: mbtf
                .find_by_name_kind("bpf_task_from_pid", Kind::Func)
                .unwrap(),
            module: Some(0)
        }
    );
    assert_eq!(v["schedule"], KsymValue::Addr(0xffffffff81234567));
    assert_eq!(v["tinybpf_no_such_symbol"], KsymValue::Missing);
    // The weak ones are in this "module" (the object's own BTF).
    assert!(matches!(
        v["tinybpf_no_such_var"],
        KsymValue::Btf {
            module: Some(0),
            ..
        }
    ));
    assert!(matches!(v["tinybpf_no_such_kfunc"], KsymValue::Btf { .. }));

    // Without them, reads are 0 and calls poisoned.
    let mut v = v;
    v.insert("tinybpf_no_such_kfunc".into(), KsymValue::Missing);
    v.insert("tinybpf_no_such_var".into(), KsymValue::Missing);
    let mut l = link_program(&s, 0, &ExtInfo::default()).unwrap();
    let ksym_refs: Vec<(usize, String, bool)> = l
        .refs
        .iter()
        .filter_map(|r| match r {
            LoadRef::Ksym { insn, name, call } => Some((*insn, name.clone(), *call)),
            _ => None,
        })
        .collect();
    patch(&mut l, &s, &v, &|m| {
        assert_eq!(m, 0);
        (77, 1)
    })
    .unwrap();
    let idx = s
        .externs
        .iter()
        .position(|e| e.name == "tinybpf_no_such_kfunc")
        .unwrap() as i32;
    let mut seen = HashMap::new();
    for (i, name, call) in ksym_refs {
        let insn = l.insns[i];
        *seen.entry(name.clone()).or_insert(0) += 1;
        match (name.as_str(), call) {
            ("tinybpf_no_such_kfunc", true) => {
                assert_eq!((insn.code, insn.src(), insn.off), (CALL, 0, 0));
                assert_eq!(insn.imm, POISON_KFUNC_BASE + idx);
            }
            ("tinybpf_no_such_kfunc", false) => {
                assert_eq!((insn.src(), insn.imm, l.insns[i + 1].imm), (0, 0, 0));
            }
            (_, true) => {
                assert_eq!(insn.src(), BPF_PSEUDO_KFUNC_CALL, "{name}");
                assert_eq!(insn.off, 1, "{name}: fd_array index of the module");
                let KsymValue::Btf { id, .. } = v[&name] else {
                    panic!("{name}")
                };
                assert_eq!(insn.imm, id as i32);
            }
            ("bpf_rcu_read_lock", false) => {
                assert_eq!(insn.src(), BPF_PSEUDO_BTF_ID);
                assert_eq!(l.insns[i + 1].imm, 77, "module BTF fd");
            }
            ("schedule", false) => {
                assert_eq!(insn.src(), 0);
                assert_eq!(insn.imm as u32, 0x81234567);
                assert_eq!(l.insns[i + 1].imm as u32, 0xffffffff);
            }
            (_, false) => {
                assert_eq!(
                    (insn.src(), insn.imm, l.insns[i + 1].imm),
                    (0, 0, 0),
                    "{name}"
                );
            }
        }
    }
    assert_eq!(seen["tinybpf_no_such_kfunc"], 2);
    assert_eq!(seen["bpf_task_from_pid"], 1);
}

/// Strong externs the kernel lacks, and typed variables of another type,
/// fail with the symbol's name and where it was looked for.
#[test]
fn missing_and_mismatched_pure() {
    let s = spec("ksyms_percpu.bpf.o");
    let vmlinux = empty_btf();
    let k = KernelSyms {
        vmlinux: &vmlinux,
        modules: &[],
        kallsyms: None,
    };
    let e = resolve(&s, &k).unwrap_err().to_string();
    assert!(e.contains("runqueues") && e.contains("VAR"), "{e}");
    assert!(
        e.contains("vmlinux and 0 module BTFs") && e.contains("__weak"),
        "{e}"
    );
    // The object's own BTF as a module: runqueues there is an int now.
    let module = Btf::parse(s.btf.as_ref().unwrap().to_bytes()).unwrap();
    let modules = vec![("m".to_string(), module)];
    let k = KernelSyms {
        vmlinux: &vmlinux,
        modules: &modules,
        kallsyms: None,
    };
    let e = resolve(&s, &k).unwrap_err().to_string();
    assert!(
        e.contains("runqueues") && e.contains("does not match"),
        "{e}"
    );
    assert!(e.contains("struct 'rq'") && e.contains("int"), "{e}");
    // Untyped ones need kallsyms, and name it when absent there.
    let u = spec("ksyms.bpf.o");
    let empty = Kallsyms::parse("");
    let module = Btf::parse(u.btf.as_ref().unwrap().to_bytes()).unwrap();
    let modules = vec![("m".to_string(), module)];
    let k = KernelSyms {
        vmlinux: &vmlinux,
        modules: &modules,
        kallsyms: Some(&empty),
    };
    let e = resolve(&u, &k).unwrap_err().to_string();
    assert!(
        e.contains("schedule") && e.contains("/proc/kallsyms"),
        "{e}"
    );
}

/// A kfunc declared with another prototype is refused, naming both.
#[test]
fn prototype_mismatch_is_named() {
    let good = spec("ksyms.bpf.o");
    let bad = spec("ksyms_badproto.bpf.o");
    // The "kernel" is the good object's BTF: bpf_task_from_pid(s32).
    let module = Btf::parse(good.btf.as_ref().unwrap().to_bytes()).unwrap();
    let modules = vec![("m".to_string(), module)];
    let vmlinux = empty_btf();
    let k = KernelSyms {
        vmlinux: &vmlinux,
        modules: &modules,
        kallsyms: None,
    };
    let e = resolve(&bad, &k).unwrap_err().to_string();
    assert!(e.contains("bpf_task_from_pid"), "{e}");
    assert!(e.contains("prototype") && e.contains("2 arguments"), "{e}");
}

/// Verifier logs that a `.ksyms` extern explains get a note naming it.
#[test]
fn verifier_log_notes() {
    let s = spec("ksyms.bpf.o");
    let idx = s
        .externs
        .iter()
        .position(|e| e.name == "tinybpf_no_such_kfunc")
        .unwrap() as i32;
    let log = format!(
        "12: (85) call unknown#{}\ninvalid func unknown#{}\n",
        POISON_KFUNC_BASE + idx,
        POISON_KFUNC_BASE + idx
    );
    let note = tinybpf::reloc::ksyms::explain_log(&log, &s).expect("a note");
    assert!(
        note.contains("tinybpf_no_such_kfunc") && note.contains("bpf_ksym_exists"),
        "{note}"
    );
    let log = "ldimm64 failed to find the address for kernel symbol 'runqueues'.\n";
    let note = tinybpf::reloc::ksyms::explain_log(log, &s).expect("a note");
    assert!(
        note.contains("runqueues") && note.contains("CONFIG_KALLSYMS_ALL"),
        "{note}"
    );
    assert_eq!(
        tinybpf::reloc::ksyms::explain_log("R1 invalid mem access", &s),
        None
    );
    assert_eq!(
        tinybpf::reloc::ksyms::explain_log("call unknown#12345", &s),
        None
    );
}

/// `schedule`'s address in /proc/kallsyms, read here, not by tinybpf.
fn kallsyms_addr(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/kallsyms").unwrap();
    let line = text
        .lines()
        .find(|l| l.split_whitespace().nth(2) == Some(name))
        .unwrap_or_else(|| panic!("{name} not in /proc/kallsyms"));
    u64::from_str_radix(line.split_whitespace().next().unwrap(), 16).unwrap()
}

/// Run `prog` once (`BPF_PROG_TEST_RUN`, expecting 0) and read `obj`'s
/// `.bss` as u64s.
fn run_and_read_bss(obj: &tinybpf::Object, prog: &str) -> Vec<u64> {
    let run = obj
        .program(prog)
        .unwrap()
        .test_run(&TestRunOpts::default())
        .unwrap();
    assert_eq!(run.retval, 0, "{prog}");
    let bss = obj
        .maps()
        .iter()
        .find(|m| m.name().ends_with(".bss"))
        .expect(".bss map");
    let v = bss.lookup(&0u32.to_le_bytes(), 0).unwrap().unwrap();
    v.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn loads_and_runs_on_the_running_kernel() {
    if !common::root_or_skip("loads_and_runs_on_the_running_kernel") {
        return;
    }
    let pid = std::process::id() as i32;
    let mut open = OpenObject::open(common::obj("ksyms.bpf.o")).unwrap();
    open.set_global("target_pid", &pid.to_le_bytes()).unwrap();
    let obj = open.load().unwrap();
    assert!(obj.btf_fd().is_some(), "kernel refused the fixed-up BTF");
    let v = run_and_read_bss(&obj, "ksyms_run");
    let f = |i: usize| v[i];
    assert_eq!(f(7), 1, "program did not run to the end");
    assert_eq!(f(0), kallsyms_addr("schedule"), "&schedule");
    assert_eq!((f(1), f(2)), (0, 0), "weak missing variables");
    assert_eq!(f(3), pid as u64, "bpf_task_from_pid(self)->pid");
    assert_eq!(f(4), 1, "bpf_cpumask_create");
    assert_eq!(f(5), 0, "bpf_ksym_exists(missing weak kfunc)");
    assert_eq!(f(6), 1, "bpf_ksym_exists(bpf_rcu_read_lock)");
}

/// Typed per-CPU variables. The kernel looks their address up in its own
/// kallsyms: where that lists data symbols (CONFIG_KALLSYMS_ALL) the
/// program runs; elsewhere (this CI host) the verifier's refusal names the
/// symbol. Either way tinybpf resolved the BTF VAR.
#[test]
fn typed_percpu_variables() {
    if !common::root_or_skip("typed_percpu_variables") {
        return;
    }
    let kallsyms_all = std::fs::read_to_string("/proc/kallsyms")
        .unwrap()
        .lines()
        .any(|l| l.split_whitespace().nth(2) == Some("runqueues"));
    let r = OpenObject::open(common::obj("ksyms_percpu.bpf.o"))
        .unwrap()
        .load();
    if !kallsyms_all {
        let e = r.expect_err("the kernel cannot find runqueues").to_string();
        assert!(e.contains("runqueues"), "{e}");
        assert!(e.contains("CONFIG_KALLSYMS_ALL"), "no hint in: {e}");
        return;
    }
    let obj = r.unwrap();
    let v = run_and_read_bss(&obj, "ksyms_percpu");
    let f = |i: usize| v[i];
    assert_eq!(f(3), 1, "program did not run to the end");
    assert_ne!(f(0), 0, "&runqueues");
    assert_eq!(f(1), 100, "bpf_per_cpu_ptr(&runqueues, 0)->cpu");
    assert_eq!(f(2), 1, "bpf_this_cpu_ptr(&bpf_prog_active)");
}

#[test]
fn strong_missing_kfunc_is_named() {
    if !common::root_or_skip("strong_missing_kfunc_is_named") {
        return;
    }
    let e = OpenObject::open(common::obj("ksyms_missing.bpf.o"))
        .unwrap()
        .load()
        .expect_err("a missing strong kfunc must fail the load")
        .to_string();
    assert!(e.contains("tinybpf_missing_kfunc"), "{e}");
    assert!(e.contains("vmlinux") && e.contains("__weak"), "{e}");
}

#[test]
fn mismatched_prototype_fails_the_load() {
    if !common::root_or_skip("mismatched_prototype_fails_the_load") {
        return;
    }
    let e = OpenObject::open(common::obj("ksyms_badproto.bpf.o"))
        .unwrap()
        .load()
        .expect_err("a wrong kfunc prototype must fail the load")
        .to_string();
    assert!(
        e.contains("bpf_task_from_pid") && e.contains("prototype"),
        "{e}"
    );
}
