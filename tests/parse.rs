//! Pure parsing of the committed objects: no root, no kernel.

mod common;

use tinybpf::abi::insn::{BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE};
use tinybpf::abi::map_type;
use tinybpf::abi::prog_type;
use tinybpf::obj::{AttachTarget, DataKind, ObjectSpec, Reloc};
use tinybpf::obj::{BPF_F_MMAPABLE, BPF_F_RDONLY_PROG};
use tinybpf::reloc::link::{link_program, LoadRef};

fn parse(name: &str) -> ObjectSpec {
    let bytes = std::fs::read(common::obj(name)).unwrap();
    ObjectSpec::parse(&tinybpf::obj::object_name(name), &bytes).unwrap()
}

#[test]
fn hello_programs_license_data_maps_relocations() {
    let s = parse("hello.bpf.o");
    assert_eq!(s.name, "hello");
    assert_eq!(s.license, "Dual BSD/GPL");
    assert_eq!(s.programs.len(), 1);
    let p = &s.programs[0];
    assert_eq!(p.name, "handle_tp");
    assert_eq!(p.section, "tp/syscalls/sys_enter_execve");
    let k = p.kind.as_ref().unwrap();
    assert_eq!(k.prog_type, prog_type::TRACEPOINT);
    assert_eq!(
        k.target,
        AttachTarget::Tracepoint {
            category: "syscalls".into(),
            name: "sys_enter_execve".into()
        }
    );
    // bpf_printk's format string lives in .rodata: one data map.
    assert_eq!(s.maps.len(), 1);
    let m = &s.maps[0];
    assert_eq!(m.name, "hello.rodata");
    assert_eq!(m.map_type, map_type::ARRAY);
    assert_eq!(m.data, Some(DataKind::Rodata));
    assert_eq!(m.max_entries, 1);
    assert_eq!(m.map_flags, BPF_F_RDONLY_PROG | BPF_F_MMAPABLE);
    assert_eq!(&m.initial[..12], b"Hello world!");
    // The ld_imm64 of the format string is a data relocation.
    let cs = &s.code[p.code];
    assert!(cs
        .relocs
        .values()
        .any(|r| matches!(r, Reloc::MapValue { map: 0, offset: 0 })));
    let l = link_program(&s, 0, &Default::default()).unwrap();
    assert_eq!(l.refs, vec![LoadRef::Map { insn: 0, map: 0 }]);
    assert_eq!(l.insns[0].src(), BPF_PSEUDO_MAP_VALUE);
    // The BTF is there and its .rodata DATASEC was sized from the ELF section.
    let btf = s.btf.as_ref().unwrap();
    let ds = btf.datasecs().find(|t| t.name == ".rodata").unwrap();
    assert_eq!(ds.size_or_type, m.value_size);
}

#[test]
fn maps_object_has_a_typed_hash_map() {
    let s = parse("maps.bpf.o");
    let m = s.map("execs").unwrap();
    assert_eq!(m.map_type, map_type::HASH);
    assert_eq!((m.key_size, m.value_size, m.max_entries), (4, 24, 10240));
    assert_ne!(m.btf_key_type_id, 0);
    assert_ne!(m.btf_value_type_id, 0);
    let btf = s.btf.as_ref().unwrap();
    let v = btf.skip_mods_and_typedefs(m.btf_value_type_id).unwrap();
    let names: Vec<String> = v.members().map(|m| m.unwrap().name.to_string()).collect();
    assert_eq!(names, ["comm", "pid", "uid"]);
    let l = link_program(&s, 0, &Default::default()).unwrap();
    assert!(l
        .insns
        .iter()
        .any(|i| i.is_ld_imm64() && i.src() == BPF_PSEUDO_MAP_FD));
}

#[test]
fn subprograms_are_appended_and_calls_fixed() {
    let s = parse("globals.bpf.o");
    let names: Vec<&str> = s.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["xdp_count", "xdp_calls", "xdp_loop"]);
    for (i, p) in s.programs.iter().enumerate() {
        let l = link_program(&s, i, &Default::default()).unwrap();
        assert!(l.insns.len() >= p.len);
        // Every call/func reference lands inside the linked program.
        for (pos, insn) in l.insns.iter().enumerate() {
            if insn.is_pseudo_call() || (insn.is_ld_imm64() && insn.src() == BPF_PSEUDO_FUNC) {
                let t = pos as i64 + 1 + insn.imm as i64;
                assert!(
                    t >= 0 && (t as usize) < l.insns.len(),
                    "{}: insn {pos} → {t}",
                    p.name
                );
            }
        }
    }
    // xdp_loop passes a callback: BPF_PSEUDO_FUNC.
    let l = link_program(&s, 2, &Default::default()).unwrap();
    assert!(l
        .insns
        .iter()
        .any(|i| i.is_ld_imm64() && i.src() == BPF_PSEUDO_FUNC));
    // Globals are known by name with their section and offset.
    let g = s.globals.iter().find(|g| g.name == "last_len").unwrap();
    assert_eq!((g.section.as_str(), g.size), (".bss", 4));
}

#[test]
fn legacy_and_btf_maps_side_by_side() {
    let s = parse("legacy.bpf.o");
    let a = s.map("legacy_array").unwrap();
    assert_eq!((a.map_type, a.section.as_str()), (map_type::ARRAY, "maps"));
    let h = s.map("legacy_hash").unwrap();
    assert_eq!(h.map_type, map_type::HASH);
    assert_eq!(s.map("btf_hash").unwrap().section, ".maps");
}

#[test]
fn map_in_map_and_prog_array_initial_slots() {
    let s = parse("maptypes.bpf.o");
    let jt = s.map("jmp_table").unwrap();
    assert_eq!(
        jt.init_slots,
        vec![(0, tinybpf::obj::SlotTarget::Program("tail_prog".into()))]
    );
    let outer = s.map("outer_arr").unwrap();
    assert!(outer.inner.is_some());
    assert_eq!(
        outer.init_slots,
        vec![(0, tinybpf::obj::SlotTarget::Map("inner_a".into()))]
    );
    assert_eq!(s.map("bloom").unwrap().map_extra, 3);
    assert_eq!(
        s.map("tinybpf_pinned").unwrap().pinning,
        tinybpf::obj::Pinning::ByName
    );
}

#[test]
fn core_object_relocates_without_a_kernel() {
    // Pure CO-RE against the target's BTF, as `tinybpf check` does.
    let mut s = parse("tests/core/fields.bpf.o");
    let target = std::fs::read(common::obj("tests/core/fields.target.bpf.o")).unwrap();
    let target = tinybpf::btf::Btf::from_elf(&target).unwrap();
    let out = tinybpf::reloc::relocate(&mut s, &target).unwrap();
    assert!(out.len() > 20);
    assert!(
        out.iter().any(|r| r.target_value.is_none()),
        "the guarded missing field is unresolved"
    );
}
