//! CO-RE at load time: relocate an object's code sections against a target
//! BTF (the kernel's, or one given by the user). Pure: also what `check` runs.

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::obj::ObjectSpec;
use crate::reloc_core::{relocate_object, RelocOutcome, Target};

/// Relocate every code section of `spec` in place; returns one outcome per
/// relocation (unresolved ones poisoned their instruction).
pub fn relocate(spec: &mut ObjectSpec, target: &Btf) -> Result<Vec<RelocOutcome>> {
    relocate_multi(spec, &[target])
}

/// Relocate against the running kernel: vmlinux first; kernel modules' BTF
/// (split on vmlinux) is read and searched only when some relocation found
/// no candidate in vmlinux.
pub fn relocate_kernel(
    spec: &mut ObjectSpec,
    vmlinux: &std::sync::Arc<Btf>,
) -> Result<Vec<RelocOutcome>> {
    let pristine: Vec<Vec<crate::insn::Insn>> = spec.code.iter().map(|c| c.insns.clone()).collect();
    let out = relocate_multi(spec, &[vmlinux])?;
    if out.iter().all(|r| r.target_value.is_some()) {
        return Ok(out);
    }
    let modules = module_btfs(vmlinux);
    if modules.is_empty() {
        return Ok(out);
    }
    log::debug!(
        "{} unresolved in vmlinux; searching {} module BTFs",
        spec.name,
        modules.len()
    );
    for (c, orig) in spec.code.iter_mut().zip(pristine) {
        c.insns = orig;
    }
    let mut targets: Vec<&Btf> = vec![vmlinux];
    targets.extend(modules.iter());
    relocate_multi(spec, &targets)
}

/// Every kernel module's BTF under /sys/kernel/btf.
fn module_btfs(vmlinux: &std::sync::Arc<Btf>) -> Vec<Btf> {
    let Ok(dir) = std::fs::read_dir("/sys/kernel/btf") else {
        return Vec::new();
    };
    let mut names: Vec<std::path::PathBuf> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with("vmlinux"))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            Btf::parse_split(Box::new(bytes), vmlinux.clone())
                .map_err(|e| log::debug!("module BTF {}: {e}", p.display()))
                .ok()
        })
        .collect()
}

fn relocate_multi(spec: &mut ObjectSpec, targets: &[&Btf]) -> Result<Vec<RelocOutcome>> {
    let (Some(local), Some(ext)) = (&spec.btf, &spec.btf_ext) else {
        return Ok(Vec::new());
    };
    let mut sections: Vec<(&str, &mut [crate::insn::Insn])> = spec
        .code
        .iter_mut()
        .map(|c| (c.name.as_str(), c.insns.as_mut_slice()))
        .collect();
    let out = relocate_object(
        local,
        ext,
        &Target {
            btfs: targets.to_vec(),
        },
        &mut sections,
    )
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
