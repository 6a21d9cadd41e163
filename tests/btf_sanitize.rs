//! BTF sanitization against the running kernel: objects whose BTF is
//! rewritten as for an older kernel (FLOAT, DECL_TAG, TYPE_TAG, ENUM64,
//! signed enums, global funcs, and VAR/DATASEC turned into older kinds) still
//! load, with the rewritten BTF (read back from the kernel) and func_info.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;

use tinybpf::btf::{sanitize, Btf, BtfFeatures, Kind};
use tinybpf::features::Features;
use tinybpf::{kernel, Object};

/// The override is process-wide: one load at a time.
static OVERRIDE: Mutex<()> = Mutex::new(());

/// Everything off that can be represented while keeping func_info.
fn oldest_with_func() -> BtfFeatures {
    BtfFeatures {
        func: true,
        ..BtfFeatures::none()
    }
}

/// 5.10-like: FUNC, global funcs and DATASEC, nothing newer.
fn like_5_10() -> BtfFeatures {
    BtfFeatures {
        func: true,
        func_global: true,
        datasec: true,
        ..BtfFeatures::none()
    }
}

fn forbidden(have: &BtfFeatures, t: &tinybpf::btf::Type<'_>) -> bool {
    match t.kind {
        Kind::Float => !have.float,
        Kind::DeclTag => !have.decl_tag,
        Kind::TypeTag => !have.type_tag,
        Kind::Enum64 => !have.enum64,
        Kind::Enum => t.kind_flag && !have.enum_kflag,
        Kind::Var | Kind::Datasec => !have.datasec,
        Kind::Func => !have.func_global && t.linkage() == Some(1),
        _ => false,
    }
}

/// Load `rel` (under bpf/) as if the kernel had only `have`; check the
/// kernel holds the rewritten BTF for every program.
fn load_as(rel: &str, have: BtfFeatures) {
    let path = common::obj(rel);
    let original = Btf::from_elf(&std::fs::read(&path).unwrap()).unwrap();
    let changes = sanitize(&original, &have).unwrap();
    assert!(changes.is_some(), "{rel}: expected something to sanitize");
    let obj = {
        let _g = OVERRIDE.lock().unwrap_or_else(|e| e.into_inner());
        Features::set_btf_override(Some(have));
        let obj = Object::load_file(&path);
        Features::set_btf_override(None);
        obj.unwrap_or_else(|e| panic!("{rel} with {have:?}: {e}"))
    };
    assert!(!obj.programs().is_empty(), "{rel}: no programs loaded");
    let mut seen = HashSet::new();
    for p in obj.programs() {
        let info = kernel::prog_info(p.fd()).unwrap();
        assert_ne!(
            info.btf_id,
            0,
            "{rel}: program {} loaded without BTF",
            p.name()
        );
        if !seen.insert(info.btf_id) {
            continue;
        }
        let bytes = kernel::btf_by_id(info.btf_id).unwrap();
        let kernel = Btf::parse(bytes).unwrap();
        assert!(kernel.len() >= original.len(), "{rel}: types lost");
        for t in kernel.iter() {
            assert!(
                !forbidden(&have, &t),
                "{rel}: kernel holds {t:?} with {have:?}"
            );
        }
        // Same ids: the named structs and funcs keep their ids and names.
        for t in original.iter() {
            if matches!(t.kind, Kind::Struct | Kind::Typedef) && !t.name.is_empty() {
                let k = kernel.type_by_id(t.id).unwrap();
                assert_eq!(
                    (k.kind, k.name),
                    (t.kind, t.name),
                    "{rel}: id {} moved",
                    t.id
                );
            }
        }
    }
}

#[test]
fn btfkinds_loads_sanitized() {
    if !common::root_or_skip("btfkinds_loads_sanitized") {
        return;
    }
    load_as("btfkinds.bpf.o", oldest_with_func());
    load_as("btfkinds.bpf.o", like_5_10());
}

#[test]
fn execsnoop_loads_sanitized() {
    if !common::root_or_skip("execsnoop_loads_sanitized") {
        return;
    }
    load_as("execsnoop.bpf.o", oldest_with_func());
    load_as("execsnoop.bpf.o", like_5_10());
}

#[test]
fn core_objects_load_sanitized() {
    if !common::root_or_skip("core_objects_load_sanitized") {
        return;
    }
    for rel in [
        "tests/core/types.bpf.o",
        "tests/core_kernel/task_tgid.bpf.o",
    ] {
        load_as(rel, oldest_with_func());
        load_as(rel, like_5_10());
    }
}

/// Raw BTF, without the loader: every kind the sanitizer rewrites is
/// accepted by this kernel after rewriting (DATASEC sizes come from the
/// object, so only objects whose DATASECs the compiler sized are used).
#[test]
fn sanitized_btf_loads_raw() {
    if !common::root_or_skip("sanitized_btf_loads_raw") {
        return;
    }
    let mut b = tinybpf::btf::BtfBuilder::new();
    let int = b.add_int("int", 4, tinybpf::btf::BTF_INT_SIGNED);
    let float = b.add_float("double", 8);
    let tag = b.add_type_tag("tt", int);
    b.add_ptr(tag);
    let proto = b.add_func_proto(int, &[("x", int)]);
    let f = b.add_func("f", proto, 1);
    b.add_decl_tag("dt", f, -1);
    b.add_enum64("e64", 8, false, &[("A", 1 << 40)]);
    b.add_enum("es", 4, true, &[("N", -1)]);
    let v = b.add_var("v", float, 1);
    b.add_datasec(".data", 8, &[(v, 0, 8)]);
    let btf = Btf::parse(b.to_bytes()).unwrap();
    for have in [oldest_with_func(), like_5_10(), BtfFeatures::none()] {
        let out = sanitize(&btf, &have).unwrap().unwrap();
        if let Err(e) = kernel::load_btf(&out) {
            panic!("sanitized BTF for {have:?} rejected: {e}");
        }
    }
}

/// Without an override the BTF goes in as it is (before any feature probe):
/// on this kernel every kind of btfkinds.bpf.o is kept, ids and names too,
/// and every program is loaded with it.
#[test]
fn btf_goes_in_as_is_without_override() {
    if !common::root_or_skip("btf_goes_in_as_is_without_override") {
        return;
    }
    let path = common::obj("btfkinds.bpf.o");
    let original = Btf::from_elf(&std::fs::read(&path).unwrap()).unwrap();
    let obj = {
        let _g = OVERRIDE.lock().unwrap_or_else(|e| e.into_inner());
        Object::load_file(&path).unwrap()
    };
    assert!(!obj.programs().is_empty(), "no programs loaded");
    for p in obj.programs() {
        let info = kernel::prog_info(p.fd()).unwrap();
        assert_ne!(info.btf_id, 0, "program {} loaded without BTF", p.name());
        let kernel = Btf::parse(kernel::btf_by_id(info.btf_id).unwrap()).unwrap();
        assert_eq!(kernel.len(), original.len(), "type count changed");
        for t in original.iter() {
            let k = kernel.type_by_id(t.id).unwrap();
            assert_eq!((k.kind, k.name), (t.kind, t.name), "id {} changed", t.id);
        }
    }
}
