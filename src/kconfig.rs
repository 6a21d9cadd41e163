//! `.kconfig` externs and kernel-module BTF lookups.

use crate::btf::{Btf, Kind};
use crate::error::{Error, Result};
use crate::linker::{LinkedProgram, LoadRef};
use crate::obj::ObjectSpec;
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

/// Turn `.kconfig` references into BPF_PSEUDO_MAP_VALUE loads of the
/// `.kconfig` map.
pub(crate) fn patch_refs(l: &mut LinkedProgram, spec: &ObjectSpec) -> Result<()> {
    let Some(kmap) = spec
        .maps
        .iter()
        .position(|m| m.data == Some(crate::obj::DataKind::Kconfig))
    else {
        if let Some(LoadRef::Kconfig { name, .. }) =
            l.refs.iter().find(|r| matches!(r, LoadRef::Kconfig { .. }))
        {
            return Err(Error::Invalid(format!(
                "extern {name}: the object has no .kconfig section in its BTF"
            )));
        }
        return Ok(());
    };
    let mut refs = std::mem::take(&mut l.refs);
    for r in &mut refs {
        if let LoadRef::Kconfig { insn, name } = r {
            let off = spec
                .kconfig_offsets
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, o)| *o)
                .ok_or_else(|| Error::Invalid(format!("extern {name}: not in .kconfig")))?;
            let i = *insn;
            if i + 1 >= l.insns.len() {
                return Err(Error::Invalid(format!("extern {name}: truncated ld_imm64")));
            }
            l.insns[i].set_src(crate::insn::BPF_PSEUDO_MAP_VALUE);
            l.insns[i + 1].imm = off as i32;
            *r = LoadRef::Map { insn: i, map: kmap };
        }
    }
    l.refs = refs;
    Ok(())
}

/// Search kernel modules' BTF (split on vmlinux) for `name` of `kind`;
/// returns the type id and the module BTF's fd (attach_btf_obj_fd).
pub(crate) fn find_in_modules(
    vmlinux: &Arc<Btf>,
    name: &str,
    kind: Kind,
) -> Result<Option<(u32, OwnedFd)>> {
    let mut id = 0;
    while let Ok(Some(next)) = sys::btf_get_next_id(id) {
        id = next;
        let Ok(fd) = sys::btf_get_fd_by_id(id) else {
            continue;
        };
        let Ok(info) = sys::btf_info(fd.as_fd()) else {
            continue;
        };
        if !info.kernel_btf || info.name == "vmlinux" || info.name.is_empty() {
            continue;
        }
        let path = std::path::Path::new("/sys/kernel/btf").join(&info.name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(m) = Btf::parse_split(Box::new(bytes), vmlinux.clone()) else {
            continue;
        };
        if let Some(tid) = m.find_by_name_kind(name, kind) {
            log::debug!("{name} found in module {} BTF (id {tid})", info.name);
            return Ok(Some((tid, fd)));
        }
    }
    Ok(None)
}
