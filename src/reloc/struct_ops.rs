//! Lay a `.struct_ops*` variable out for a kernel (pure: the kernel's BTF
//! is handed in). The map value is the kernel's `bpf_struct_ops_<name>`
//! type; its `data` member is the kernel's `struct <name>`, filled from the
//! object's instance member by member, matched by name (the object's struct
//! comes from some vmlinux.h, the kernel's layout may differ):
//! function pointers set to programs get the program fd at attach (their
//! slot is recorded with the member's index, the program's
//! `expected_attach_type`); other members are copied when their size
//! matches; zero members the kernel lacks are ignored.

use crate::btf::{Btf, BtfError, Kind};
use crate::obj::{StructOpsLayout, StructOpsProg, StructOpsSpec};
use thiserror::Error;

/// Why a struct_ops variable does not fit the kernel.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StructOpsError {
    /// The kernel's BTF has no such struct.
    #[error(
        "struct_ops map {map}: the kernel has no struct {type_name} (not built in, or too old)"
    )]
    NoKernelType {
        /// The map (variable).
        map: String,
        /// The struct's name.
        type_name: String,
    },
    /// The kernel has the struct, but cannot take it from BPF.
    #[error("struct_ops map {map}: the kernel has no {value_type}: it does not let BPF implement struct {type_name} (kernel too old?)")]
    NoValueType {
        /// The map (variable).
        map: String,
        /// The struct's name.
        type_name: String,
        /// `bpf_struct_ops_<name>`.
        value_type: String,
    },
    /// A member set in the object is missing from, or differs in, the
    /// kernel's struct.
    #[error("struct_ops map {map}: member {member}: {reason}")]
    Member {
        /// The map (variable).
        map: String,
        /// The member's name.
        member: String,
        /// What does not fit.
        reason: String,
    },
    /// The object's or the kernel's BTF is malformed.
    #[error("struct_ops map {map}: BTF: {source}")]
    Btf {
        /// The map (variable).
        map: String,
        /// What is wrong.
        source: BtfError,
    },
}

fn is_func_ptr(btf: &Btf, id: u32) -> Result<bool, BtfError> {
    let t = btf.skip_mods_and_typedefs(id)?;
    if t.kind != Kind::Ptr {
        return Ok(false);
    }
    let to = btf.skip_mods_and_typedefs(t.ref_type().unwrap_or(0))?;
    Ok(to.kind == Kind::FuncProto)
}

/// Lay `so` (the variable `map`, with the object's BTF `obj`) out for the
/// kernel whose BTF is `kernel`.
pub fn layout(
    map: &str,
    so: &StructOpsSpec,
    obj: &Btf,
    kernel: &Btf,
) -> Result<StructOpsLayout, StructOpsError> {
    let btf_err = |source| StructOpsError::Btf {
        map: map.to_string(),
        source,
    };
    let member_err = |member: &str, reason: String| StructOpsError::Member {
        map: map.to_string(),
        member: member.to_string(),
        reason,
    };
    let type_id = kernel
        .find_by_name_kind(&so.type_name, Kind::Struct)
        .ok_or_else(|| StructOpsError::NoKernelType {
            map: map.to_string(),
            type_name: so.type_name.clone(),
        })?;
    let value_name = format!("bpf_struct_ops_{}", so.type_name);
    let no_value = || StructOpsError::NoValueType {
        map: map.to_string(),
        type_name: so.type_name.clone(),
        value_type: value_name.clone(),
    };
    let value_type_id = kernel
        .find_by_name_kind(&value_name, Kind::Struct)
        .ok_or_else(no_value)?;
    let vt = kernel.type_by_id(value_type_id).map_err(btf_err)?;
    let mut data_off = None;
    for m in vt.members() {
        let m = m.map_err(btf_err)?;
        if m.name == "data"
            && kernel
                .skip_mods_and_typedefs(m.type_id)
                .map_err(btf_err)?
                .id
                == type_id
        {
            data_off = Some((m.bit_offset / 8) as usize);
        }
    }
    let data_off = data_off.ok_or_else(no_value)?;
    let mut value = vec![0u8; vt.size().unwrap_or(0) as usize];
    let kt = kernel.type_by_id(type_id).map_err(btf_err)?;
    let kmembers: Vec<_> = kt.members().collect::<Result<_, _>>().map_err(btf_err)?;
    let ot = obj.type_by_id(so.type_id).map_err(btf_err)?;
    let mut progs = Vec::new();
    for om in ot.members() {
        let om = om.map_err(btf_err)?;
        let ooff = (om.bit_offset / 8) as usize;
        let osize = if om.bitfield_size != 0 {
            0
        } else {
            obj.resolve_size(om.type_id).map_err(btf_err)? as usize
        };
        let obytes = so.data.get(ooff..ooff + osize).unwrap_or(&[]);
        let prog = so
            .funcs
            .iter()
            .find(|f| f.offset as usize == ooff && !om.name.is_empty());
        let nonzero = obytes.iter().any(|&b| b != 0);
        if prog.is_none() && !nonzero {
            continue;
        }
        let name = om.name;
        if om.bitfield_size != 0 || name.is_empty() {
            return Err(member_err(
                name,
                "bitfield or anonymous member set to a value (not supported)".into(),
            ));
        }
        let Some((idx, km)) = kmembers.iter().enumerate().find(|(_, k)| k.name == name) else {
            return Err(member_err(
                name,
                format!(
                    "set in the object, but the kernel's struct {} has no such member",
                    so.type_name
                ),
            ));
        };
        if km.bitfield_size != 0 {
            return Err(member_err(
                name,
                "a bitfield in the kernel (not supported)".into(),
            ));
        }
        let koff = data_off + (km.bit_offset / 8) as usize;
        if let Some(f) = prog {
            if !is_func_ptr(kernel, km.type_id).map_err(btf_err)? {
                return Err(member_err(
                    name,
                    format!(
                        "set to program {}, but not a function pointer in the kernel",
                        f.program
                    ),
                ));
            }
            progs.push(StructOpsProg {
                program: f.program.clone(),
                member: name.to_string(),
                member_index: idx as u32,
                offset: koff as u32,
            });
            continue;
        }
        if is_func_ptr(obj, om.type_id).map_err(btf_err)? {
            return Err(member_err(
                name,
                "a function pointer set to something other than a program".into(),
            ));
        }
        let ksize = kernel.resolve_size(km.type_id).map_err(btf_err)? as usize;
        if ksize != osize {
            return Err(member_err(
                name,
                format!("{osize} bytes in the object, {ksize} in the kernel"),
            ));
        }
        let dst = value
            .get_mut(koff..koff + ksize)
            .ok_or_else(|| member_err(name, "past the end of the kernel's value type".into()))?;
        dst.copy_from_slice(obytes);
    }
    log::debug!(
        "struct_ops {map}: {value_name} (id {value_type_id}, {} bytes), struct {} id {type_id}, {} programs",
        value.len(),
        so.type_name,
        progs.len()
    );
    Ok(StructOpsLayout {
        type_name: so.type_name.clone(),
        type_id,
        value_type_id,
        value,
        progs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obj::ObjectSpec;

    fn object(name: &str) -> ObjectSpec {
        let path = format!("{}/bpf/{name}.bpf.o", env!("CARGO_MANIFEST_DIR"));
        ObjectSpec::parse(name, &std::fs::read(path).unwrap()).unwrap()
    }

    fn kernels() -> Vec<(String, Btf)> {
        let mut out = Vec::new();
        let mut paths = vec![std::path::PathBuf::from("/sys/kernel/btf/vmlinux")];
        if let Ok(d) = std::fs::read_dir("/var/tmp/tinybpf-btf") {
            paths.extend(d.flatten().map(|e| e.path()));
        }
        for p in paths {
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            if let Ok(b) = Btf::parse(bytes) {
                out.push((p.display().to_string(), b));
            }
        }
        out
    }

    fn member(kernel: &Btf, st: u32, name: &str) -> (usize, u32) {
        let t = kernel.type_by_id(st).unwrap();
        t.members()
            .map(|m| m.unwrap())
            .enumerate()
            .find(|(_, m)| m.name == name)
            .map(|(i, m)| (i, m.bit_offset / 8))
            .unwrap()
    }

    #[test]
    fn tcp_cc_fits_every_kernel_btf_here() {
        let spec = object("tcp_cc");
        let m = spec.map("tinybpf_cc").unwrap();
        let so = m.struct_ops.as_deref().unwrap();
        let obj = spec.btf.as_ref().unwrap();
        let ks = kernels();
        assert!(!ks.is_empty(), "no kernel BTF on this machine");
        for (path, kernel) in ks {
            if kernel
                .find_by_name_kind("tcp_congestion_ops", Kind::Struct)
                .is_none()
            {
                continue; // a module's BTF in the cache
            }
            let l = layout("tinybpf_cc", so, obj, &kernel).unwrap();
            let vt = kernel.type_by_id(l.value_type_id).unwrap();
            assert_eq!(vt.name, "bpf_struct_ops_tcp_congestion_ops", "{path}");
            assert_eq!(l.value.len(), vt.size().unwrap() as usize);
            let (_, data) = member(&kernel, l.value_type_id, "data");
            let (_, name) = member(&kernel, l.type_id, "name");
            let at = (data + name) as usize;
            assert_eq!(&l.value[at..at + 11], b"tinybpf_cc\0", "{path}");
            assert_eq!(l.progs.len(), 5, "{path}");
            for p in &l.progs {
                let (idx, off) = member(&kernel, l.type_id, &p.member);
                assert_eq!(p.member_index as usize, idx, "{path}: {p:?}");
                assert_eq!(p.offset, data + off, "{path}: {p:?}");
                assert_eq!(&l.value[p.offset as usize..p.offset as usize + 8], &[0; 8]);
            }
            // Everything else is zero: only `name` was set.
            let nonzero = l.value.iter().filter(|&&b| b != 0).count();
            assert_eq!(nonzero, "tinybpf_cc".len(), "{path}");
        }
    }

    #[test]
    fn mismatches_are_named() {
        let spec = object("tcp_cc");
        let m = spec.map("tinybpf_cc").unwrap();
        let obj = spec.btf.as_ref().unwrap();
        let kernel = obj; // the object's BTF has the struct, but no value type
        let mut so = m.struct_ops.as_deref().unwrap().clone();
        let e = layout("tinybpf_cc", &so, obj, kernel)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no bpf_struct_ops_tcp_congestion_ops"), "{e}");
        so.type_name = "no_such_ops".into();
        let e = layout("tinybpf_cc", &so, obj, kernel)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no struct no_such_ops"), "{e}");
    }

    /// The object's `struct ops_x { void (*a)(void); u32 flags; char name[4]; }`
    /// (sizes 8, 4, 4 at 0, 8, 12) and the kernel's struct in another order,
    /// with `flags` of `kflags_size` bytes and no `name` unless `kname`.
    fn hand_built(kflags_size: u32, kname: bool) -> (Btf, Btf, StructOpsSpec) {
        use crate::btf::BtfBuilder;
        let mut o = BtfBuilder::new();
        let u32_ = o.add_int("u32", 4, 0);
        let char_ = o.add_int("char", 1, 1);
        let proto = o.add_func_proto(0, &[]);
        let fptr = o.add_ptr(proto);
        let arr = o.add_array(char_, u32_, 4);
        let st = o.add_composite(
            false,
            "ops_x",
            16,
            &[("a", fptr, 0), ("flags", u32_, 64), ("name", arr, 96)],
        );
        let obj = Btf::parse(o.to_bytes()).unwrap();
        let mut k = BtfBuilder::new();
        let kint = k.add_int("kflags_t", kflags_size, 0);
        let kchar = k.add_int("char", 1, 1);
        let kproto = k.add_func_proto(0, &[]);
        let kfptr = k.add_ptr(kproto);
        let karr = k.add_array(kchar, kint, 4);
        let mut members = vec![("b", kfptr, 0), ("flags", kint, 64), ("a", kfptr, 128)];
        if kname {
            members.push(("name", karr, 192));
        }
        let kst = k.add_composite(false, "ops_x", 32, &members);
        let u64_ = k.add_int("u64", 8, 0);
        k.add_composite(
            false,
            "bpf_struct_ops_ops_x",
            40,
            &[("common", u64_, 0), ("data", kst, 64)],
        );
        let kernel = Btf::parse(k.to_bytes()).unwrap();
        let mut data = vec![0u8; 16];
        data[8..12].copy_from_slice(&7u32.to_le_bytes());
        data[12..15].copy_from_slice(b"xyz");
        let so = StructOpsSpec {
            type_name: "ops_x".into(),
            type_id: st,
            data,
            funcs: vec![crate::obj::StructOpsFunc {
                member: "a".into(),
                offset: 0,
                program: "prog_a".into(),
            }],
            link: true,
        };
        (obj, kernel, so)
    }

    #[test]
    fn members_are_matched_by_name_and_checked() {
        let (obj, kernel, so) = hand_built(4, true);
        let l = layout("m", &so, &obj, &kernel).unwrap();
        assert_eq!(l.value.len(), 40);
        // data at 8: flags at 8+8, name at 8+24, a (member index 2) at 8+16.
        assert_eq!(&l.value[16..20], &7u32.to_le_bytes());
        assert_eq!(&l.value[32..36], b"xyz\0");
        assert_eq!(
            l.progs,
            vec![StructOpsProg {
                program: "prog_a".into(),
                member: "a".into(),
                member_index: 2,
                offset: 24,
            }]
        );
        let nonzero = l.value.iter().filter(|&&b| b != 0).count();
        assert_eq!(nonzero, 4, "only flags and name");

        let (obj, kernel, so) = hand_built(8, true);
        let e = layout("m", &so, &obj, &kernel).unwrap_err().to_string();
        assert_eq!(
            e,
            "struct_ops map m: member flags: 4 bytes in the object, 8 in the kernel"
        );

        let (obj, kernel, mut so) = hand_built(4, false);
        let e = layout("m", &so, &obj, &kernel).unwrap_err().to_string();
        assert!(
            e.contains(
                "member name: set in the object, but the kernel's struct ops_x has no such member"
            ),
            "{e}"
        );
        // A zero member the kernel lacks is fine.
        so.data[12..16].fill(0);
        assert!(layout("m", &so, &obj, &kernel).is_ok());
    }
}
