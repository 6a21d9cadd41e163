//! `.struct_ops` and `.struct_ops.link` sections: each variable is a kernel
//! "ops" struct (e.g. `struct tcp_congestion_ops`) whose function-pointer
//! members are relocated to programs. Each becomes a
//! `BPF_MAP_TYPE_STRUCT_OPS` map with a [`StructOpsSpec`]; the kernel value
//! layout (`bpf_struct_ops_<name>`) is computed at load against the running
//! kernel's BTF (`crate::reloc::struct_ops`).

use super::error::{sec_err, ParseError};
use super::maps::{MapSpec, StructOpsFunc, StructOpsSpec};
use super::{ObjectSpec, Sym};
use crate::abi::map_type;
use crate::btf::{Btf, Kind};
use object::{Object, ObjectSection};

/// `BPF_F_LINK`: the struct_ops map is registered through a BPF link.
pub const BPF_F_LINK: u32 = 1 << 13;

/// A struct_ops variable laid out for the running kernel: the value written
/// to the map (program fds go in at [`StructOpsProg::offset`] at attach).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StructOpsLayout {
    /// The struct's name (`tcp_congestion_ops`).
    pub type_name: String,
    /// The kernel's struct (`tcp_congestion_ops`) type id: programs'
    /// `attach_btf_id`.
    pub type_id: u32,
    /// The kernel's `bpf_struct_ops_<name>` type id: the map's
    /// `btf_vmlinux_value_type_id`.
    pub value_type_id: u32,
    /// The map value: `bpf_struct_ops_<name>` with its `data` member filled.
    pub value: Vec<u8>,
    /// Where each program's fd goes.
    pub progs: Vec<StructOpsProg>,
}

/// A program of a struct_ops map, placed in the kernel's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructOpsProg {
    /// The program's name.
    pub program: String,
    /// The member it implements.
    pub member: String,
    /// The member's index in the kernel struct: the program's
    /// `expected_attach_type`.
    pub member_index: u32,
    /// Byte offset of the 8-byte slot in the map value.
    pub offset: u32,
}

/// Whether a section holds struct_ops variables (and whether it is `.link`).
pub(super) fn section_kind(name: &str) -> Option<bool> {
    match name {
        ".struct_ops" => Some(false),
        ".struct_ops.link" => Some(true),
        _ => None,
    }
}

/// Add one map per variable of every struct_ops section, with its
/// function-pointer relocations resolved to programs.
pub(super) fn collect<'a>(
    spec: &mut ObjectSpec,
    elf: &object::read::elf::ElfFile64<
        'a,
        object::Endianness,
        crate::util::elf_bytes::ElfBytes<'a>,
    >,
    syms: &[Option<Sym>],
) -> Result<(), ParseError> {
    for sec in elf.sections() {
        let sname = sec.name().unwrap_or("");
        let Some(link) = section_kind(sname) else {
            continue;
        };
        let sname = sname.to_string();
        let bytes = sec.data().map_err(|e| sec_err(&sname, e.to_string()))?;
        let Some(btf) = &spec.btf else {
            return Err(sec_err(&sname, "struct_ops variables need a .BTF section"));
        };
        let mut maps = variables(btf, &sname, bytes, link)?;
        for (off, rel) in sec.relocations() {
            let object::RelocationTarget::Symbol(si) = rel.target() else {
                return Err(sec_err(&sname, "relocation without a symbol"));
            };
            let Some(sym) = syms.get(si.0).and_then(|s| s.as_ref()) else {
                return Err(sec_err(&sname, "relocation symbol index out of range"));
            };
            let is_prog = spec.programs.iter().any(|p| p.name == sym.name);
            if !is_prog {
                return Err(sec_err(
                    &sname,
                    format!(
                        "relocation at {off:#x} points at {}, which is not a program (struct_ops members are set to SEC(\"struct_ops/...\") programs)",
                        sym.name
                    ),
                ));
            }
            set_func(btf, &sname, &mut maps, off, &sym.name)?;
        }
        for (m, _) in &maps {
            if spec.maps.iter().any(|o| o.name == m.name) {
                return Err(sec_err(&sname, format!("map {} is defined twice", m.name)));
            }
        }
        spec.maps.extend(maps.into_iter().map(|(m, _)| m));
    }
    Ok(())
}

/// The maps of a struct_ops section's variables (from its BTF DATASEC),
/// with each variable's offset in the section.
fn variables(
    btf: &Btf,
    sname: &str,
    bytes: &[u8],
    link: bool,
) -> Result<Vec<(MapSpec, u32)>, ParseError> {
    let bad = |r: String| sec_err(sname, r);
    let ds = btf
        .find_by_name_kind(sname, Kind::Datasec)
        .ok_or_else(|| bad("no BTF DATASEC describes its variables".into()))?;
    let ds = btf.type_by_id(ds).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for v in ds.vars() {
        let var = btf.type_by_id(v.type_id).map_err(|e| bad(e.to_string()))?;
        let vname = var.name.to_string();
        let st = var
            .ref_type()
            .ok_or_else(|| bad(format!("{vname}: not a variable")))
            .and_then(|t| {
                btf.skip_mods_and_typedefs(t)
                    .map_err(|e| bad(e.to_string()))
            })?;
        if st.kind != Kind::Struct || st.name.is_empty() {
            return Err(bad(format!("{vname}: not a named struct")));
        }
        let size = st.size().unwrap_or(0);
        let data = (v.offset as usize)
            .checked_add(size as usize)
            .and_then(|end| bytes.get(v.offset as usize..end))
            .ok_or_else(|| {
                bad(format!(
                    "{vname}: {size} bytes at {} do not fit the section ({} bytes)",
                    v.offset,
                    bytes.len()
                ))
            })?;
        let m = MapSpec {
            name: vname.clone(),
            symbol: vname,
            section: sname.to_string(),
            map_type: map_type::STRUCT_OPS,
            key_size: 4,
            value_size: size,
            max_entries: 1,
            map_flags: if link { BPF_F_LINK } else { 0 },
            struct_ops: Some(Box::new(StructOpsSpec {
                type_name: st.name.to_string(),
                type_id: st.id,
                data: data.to_vec(),
                funcs: Vec::new(),
                link,
            })),
            ..Default::default()
        };
        out.push((m, v.offset));
    }
    Ok(out)
}

/// Record that the member at section offset `off` points at `program`.
fn set_func(
    btf: &Btf,
    sname: &str,
    maps: &mut [(MapSpec, u32)],
    off: u64,
    program: &str,
) -> Result<(), ParseError> {
    let bad = |r: String| sec_err(sname, r);
    let Some((m, start)) = maps.iter_mut().find(|(m, start)| {
        let size = m.value_size as u64;
        off >= *start as u64 && off < *start as u64 + size
    }) else {
        return Err(bad(format!("relocation at {off:#x} is in no variable")));
    };
    let rel = (off - *start as u64) as u32;
    let Some(so) = m.struct_ops.as_deref_mut() else {
        return Err(bad(format!("map {} is not struct_ops", m.name)));
    };
    let st = btf.type_by_id(so.type_id).map_err(|e| bad(e.to_string()))?;
    let mut found = None;
    for mem in st.members() {
        let mem = mem.map_err(|e| bad(e.to_string()))?;
        if u64::from(mem.bit_offset) == u64::from(rel) * 8 {
            let t = btf
                .skip_mods_and_typedefs(mem.type_id)
                .map_err(|e| bad(e.to_string()))?;
            if t.kind != Kind::Ptr {
                return Err(bad(format!(
                    "{}.{} is set to program {program} but is not a function pointer",
                    m.name, mem.name
                )));
            }
            found = Some(mem.name.to_string());
            break;
        }
    }
    let member = found.ok_or_else(|| {
        bad(format!(
            "{}: relocation at offset {rel} is not at a member of struct {}",
            m.name, so.type_name
        ))
    })?;
    log::trace!("struct_ops {}.{member} = {program}", m.name);
    so.funcs.push(StructOpsFunc {
        member,
        offset: rel,
        program: program.to_string(),
    });
    crate::util::sort::sort_by_key(&mut so.funcs, |f| f.offset);
    Ok(())
}

/// The struct_ops map and member that use program `name`, if any.
pub fn program_use<'a>(
    spec: &'a ObjectSpec,
    name: &str,
) -> Option<(&'a MapSpec, &'a StructOpsFunc)> {
    spec.maps.iter().find_map(|m| {
        let so = m.struct_ops.as_deref()?;
        so.funcs.iter().find(|f| f.program == name).map(|f| (m, f))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> ObjectSpec {
        let path = format!("{}/bpf/{name}.bpf.o", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        ObjectSpec::parse(name, &bytes).unwrap()
    }

    #[test]
    fn tcp_cc_variables_and_members() {
        for (obj, link, map) in [
            ("tcp_cc", true, "tinybpf_cc"),
            ("tcp_cc_legacy", false, "tinybpf_cc"),
        ] {
            let s = spec(obj);
            let m = s.map(map).unwrap();
            assert_eq!(m.map_type, map_type::STRUCT_OPS);
            assert_eq!((m.key_size, m.max_entries), (4, 1));
            assert_eq!(m.map_flags & BPF_F_LINK != 0, link);
            let so = m.struct_ops.as_deref().unwrap();
            assert_eq!(so.type_name, "tcp_congestion_ops");
            assert_eq!(so.link, link);
            assert_eq!(so.data.len(), m.value_size as usize);
            let members: Vec<(&str, &str)> = so
                .funcs
                .iter()
                .map(|f| (f.member.as_str(), f.program.as_str()))
                .collect();
            for want in [
                ("ssthresh", "tinybpf_ssthresh"),
                ("cong_avoid", "tinybpf_cong_avoid"),
                ("undo_cwnd", "tinybpf_undo_cwnd"),
                ("pkts_acked", "tinybpf_pkts_acked"),
                ("init", "tinybpf_init"),
            ] {
                assert!(members.contains(&want), "{obj}: {want:?} in {members:?}");
            }
            let (pm, f) = program_use(&s, "tinybpf_init").unwrap();
            assert_eq!(
                (pm.name.as_str(), f.member.as_str()),
                ("tinybpf_cc", "init")
            );
            assert!(program_use(&s, "nope").is_none());
        }
    }
}
