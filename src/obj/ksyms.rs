//! The `.ksyms` externs at open time: kernel variables (`extern const struct
//! rq runqueues __ksym;`, typed, or `extern const void x __ksym;`, untyped)
//! and kfuncs (`extern struct task_struct *bpf_task_acquire(...) __ksym;`).
//!
//! Each extern's kind and its type in the object's BTF are recorded in
//! [`super::ExternSpec::ksym`]; the kernel resolves nothing here (that is
//! `reloc::ksyms`, given the kernel's BTF and `/proc/kallsyms`). The BTF is
//! fixed up the way the kernel's checker wants it, as libbpf does: VARs get
//! global linkage and a 4-byte int type, FUNCs global linkage and named
//! parameters, and every DATASEC entry a VAR (a kfunc's entry points at one
//! appended dummy VAR), 4 bytes each.

use super::error::ParseError;
use super::ObjectSpec;
use crate::btf::{raw_int, raw_var, Btf, Kind};

/// VAR and FUNC linkage the kernel accepts.
const LINKAGE_GLOBAL: u32 = 1;

/// What a `.ksyms` extern is, with its type in the object's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KsymType {
    /// A kernel variable. `type_id` is the object's type of it (modifiers
    /// and typedefs skipped), 0 when untyped (`void`): an untyped one is
    /// resolved to its address in `/proc/kallsyms`, a typed one to its BTF
    /// id (`BPF_PSEUDO_BTF_ID`).
    Var {
        /// The variable's type in the object's BTF.
        type_id: u32,
    },
    /// A kernel function (kfunc); `proto_id` is the object's FUNC_PROTO.
    Func {
        /// The kfunc's FUNC_PROTO in the object's BTF.
        proto_id: u32,
    },
}

/// The `.ksyms` entries of `btf`: (name, kind, BTF id of the VAR or FUNC).
pub fn entries(btf: &Btf) -> Result<Vec<(String, KsymType, u32)>, ParseError> {
    let Some(sec) = btf.datasec_named(".ksyms") else {
        return Ok(Vec::new());
    };
    let berr = |e: crate::btf::BtfError| ParseError::Btf(format!(".ksyms: {e}"));
    let mut out = Vec::new();
    for v in sec.vars() {
        let t = btf.type_by_id(v.type_id).map_err(berr)?;
        let ty = match t.kind {
            Kind::Var => {
                let target = btf.skip_mods_and_typedefs(t.size_or_type).map_err(berr)?;
                KsymType::Var {
                    type_id: if target.kind == Kind::Void {
                        0
                    } else {
                        target.id
                    },
                }
            }
            Kind::Func => {
                let proto = btf.type_by_id(t.size_or_type).map_err(berr)?;
                if proto.kind != Kind::FuncProto {
                    return Err(ParseError::Extern {
                        name: t.name.to_string(),
                        reason: format!(
                            "kfunc type {} is a {}, not a FUNC_PROTO",
                            proto.id, proto.kind
                        ),
                    });
                }
                KsymType::Func { proto_id: proto.id }
            }
            k => {
                return Err(ParseError::Btf(format!(
                    ".ksyms: entry type {} is a {k}, not a VAR or FUNC",
                    v.type_id
                )))
            }
        };
        out.push((t.name.to_string(), ty, v.type_id));
    }
    Ok(out)
}

/// Record each `.ksyms` extern's kind and fix up the BTF (see the module
/// docs). Called by [`ObjectSpec::parse`] once the object's BTF is parsed.
pub(crate) fn layout(spec: &mut ObjectSpec, btf: &mut Btf) -> Result<(), ParseError> {
    let Some(sec_id) = btf.datasec_named(".ksyms").map(|t| t.id) else {
        return Ok(());
    };
    let found = entries(btf)?;
    let berr = |e: crate::btf::BtfError| ParseError::Btf(format!(".ksyms: {e}"));
    // One int and one dummy VAR (kfunc entries point at it; its name also
    // names kfunc parameters that have none).
    let too_large = || ParseError::Btf(".ksyms: BTF too large".into());
    let so = btf.strings_len();
    let dummy_name = so.checked_add(4).ok_or_else(too_large)?;
    let int_id = btf.len();
    let var_id = int_id.checked_add(1).ok_or_else(too_large)?;
    let mut types = raw_int(so, 4, true);
    types.extend(raw_var(dummy_name, int_id, LINKAGE_GLOBAL));
    *btf = btf
        .with_appended(&types, b"int\0__ksym_dummy\0")
        .map_err(berr)?;
    let mut off: u32 = 0;
    for (i, (name, ty, tid)) in found.iter().enumerate() {
        match ty {
            KsymType::Var { .. } => {
                btf.set_var_type(*tid, int_id).map_err(berr)?;
                btf.set_var_linkage(*tid, LINKAGE_GLOBAL).map_err(berr)?;
                btf.set_datasec_entry(sec_id, i, *tid, off, 4)
                    .map_err(berr)?;
            }
            KsymType::Func { proto_id } => {
                btf.set_func_linkage(*tid, LINKAGE_GLOBAL as u16)
                    .map_err(berr)?;
                let unnamed: Vec<usize> = {
                    let p = btf.type_by_id(*proto_id).map_err(berr)?;
                    p.params()
                        .enumerate()
                        .filter_map(|(j, r)| {
                            r.ok()
                                .filter(|p| p.type_id != 0 && p.name.is_empty())
                                .map(|_| j)
                        })
                        .collect()
                };
                for j in unnamed {
                    btf.set_param_name(*proto_id, j, dummy_name).map_err(berr)?;
                }
                btf.set_datasec_entry(sec_id, i, var_id, off, 4)
                    .map_err(berr)?;
            }
        }
        log::trace!(".ksyms: {name} {ty:?}");
        off += 4;
    }
    btf.set_datasec_size(sec_id, off).map_err(berr)?;
    for e in &mut spec.externs {
        if let Some((_, ty, _)) = found.iter().find(|f| f.0 == e.name) {
            e.ksym = Some(*ty);
        }
    }
    log::debug!("object {}: {} .ksyms externs", spec.name, found.len());
    Ok(())
}
