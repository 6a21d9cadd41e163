//! Helpers shared by the fuzz targets (included with `#[path]`).
#![allow(dead_code)]

use std::sync::OnceLock;
use tinybpf::btf::Btf;
use tinybpf::reloc::link::ExtInfo;
use tinybpf::obj::ObjectSpec;

/// Fixed target BTF for CO-RE: the CO-RE test suite's target object.
pub fn target_btf() -> &'static Btf {
    static T: OnceLock<Btf> = OnceLock::new();
    T.get_or_init(|| {
        let t = Btf::from_elf(include_bytes!("../../bpf/tests/core/fields.target.bpf.o"))
            .expect("fields.target.bpf.o has BTF");
        // Build the lazy name index now, outside the measured runs.
        let _ = t.find_by_name("task_struct");
        t
    })
}

/// Fixed BTF that `.BTF.ext` inputs name their sections in.
pub fn ext_btf() -> &'static Btf {
    static T: OnceLock<Btf> = OnceLock::new();
    T.get_or_init(|| {
        Btf::from_elf(include_bytes!("../../bpf/tests/core/fields.bpf.o"))
            .expect("fields.bpf.o has BTF")
    })
}

/// Touch every type through the public API.
pub fn walk_btf(btf: &Btf) -> usize {
    let mut n = 0usize;
    for t in btf.iter() {
        n += t.name.len();
        let _ = t.size();
        let _ = t.ref_type();
        let _ = t.int();
        let _ = t.array();
        let _ = t.linkage();
        let _ = t.decl_tag_component();
        let _ = t.is_signed_enum();
        n += t.members().filter(|m| m.is_ok()).count();
        n += t.params().filter(|m| m.is_ok()).count();
        n += t.enumerators().filter(|m| m.is_ok()).count();
        n += t.vars().count();
        let _ = btf.resolve_size(t.id);
        let _ = btf.skip_mods_and_typedefs(t.id);
        let _ = btf.name(t.id);
    }
    let _ = btf.find_by_name("task_struct");
    let _ = btf.type_by_id(btf.len());
    let _ = btf.to_bytes();
    n
}

/// func/line info per section in instructions, as the loader builds it.
pub fn ext_info(spec: &ObjectSpec) -> ExtInfo {
    spec.btf_ext.as_ref().map(ExtInfo::from_btf_ext).unwrap_or_default()
}

/// The pure part of the `OpenObject` API: every global set (whole and one
/// byte), every map resized, every program toggled (as tests/mutation.rs).
pub fn open_object_api(bytes: &[u8], spec: &ObjectSpec) {
    let Ok(mut open) = tinybpf::OpenObject::from_bytes("fuzz", bytes) else {
        return;
    };
    for g in &spec.globals {
        // Setting a global materialises its whole section (up to
        // MAX_DATA_SIZE by design): skip sections over 1 MiB, which a tiny
        // input with a huge NOBITS .bss would make.
        let small = spec
            .maps
            .iter()
            .filter(|m| m.section == g.section)
            .all(|m| m.value_size <= 1 << 20);
        if small && g.size <= 4096 {
            let _ = open.set_global(&g.name, &vec![0xa5; g.size as usize]);
        }
        let _ = open.set_global(&g.name, &[1]);
    }
    for m in &spec.maps {
        let _ = open.set_max_entries(&m.name, 0);
        let _ = open.set_max_entries(&m.name, u32::MAX);
    }
    for p in &spec.programs {
        let _ = open.set_autoload(&p.name, false);
    }
    let names: Vec<&str> = spec.programs.iter().map(|p| p.name.as_str()).collect();
    let _ = open.load_only(&names);
}
