//! CO-RE at load time: relocate an object's code sections against a target
//! BTF (the kernel's, or one given by the user). Pure: also what `check` runs.

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::obj::ObjectSpec;
use crate::reloc_core::{relocate_object, RelocOutcome, Target};

/// Relocate every code section of `spec` in place; returns one outcome per
/// relocation (unresolved ones poisoned their instruction).
pub fn relocate(spec: &mut ObjectSpec, target: &Btf) -> Result<Vec<RelocOutcome>> {
    let (Some(local), Some(ext)) = (&spec.btf, &spec.btf_ext) else {
        return Ok(Vec::new());
    };
    let mut sections: Vec<(&str, &mut [crate::insn::Insn])> = spec
        .code
        .iter_mut()
        .map(|c| (c.name.as_str(), c.insns.as_mut_slice()))
        .collect();
    let out = relocate_object(local, ext, &Target { btfs: vec![target] }, &mut sections)
        .map_err(|e| Error::Core(e.to_string()))?;
    for r in &out {
        match r.target_value {
            Some(v) => log::trace!(
                "CO-RE {}[{}] {} {} {}: {} -> {v}",
                r.section,
                r.insn_idx,
                r.kind,
                r.type_name,
                r.access,
                r.local_value
            ),
            None => log::debug!(
                "CO-RE {}[{}] {} {} {}: unresolved, instruction poisoned",
                r.section,
                r.insn_idx,
                r.kind,
                r.type_name,
                r.access
            ),
        }
    }
    log::debug!("object {}: {} CO-RE relocations", spec.name, out.len());
    Ok(out)
}
