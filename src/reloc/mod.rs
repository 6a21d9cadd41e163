//! Everything that rewrites instructions, pure (no system calls, no files):
//! CO-RE ([`core`]), subprogram and map linking ([`link`]) and `.kconfig`
//! values ([`kconfig`]).
//!
//! This file holds the one CO-RE driver, shared by the loader and `tinybpf
//! check`: relocate the code of the selected programs (and the subprograms
//! they call) against a target — the running kernel (vmlinux, then module
//! BTF) or one BTF file standing in for it, as libbpf's `btf_custom_path`
//! does. The running kernel's target is built by
//! [`CoreTarget::kernel`](crate::kernel) (in the load layer, which reads
//! the files); the driver only calls the module reader it was given.
//!
//! Only the selected programs' relocations are parsed, narrowed and applied,
//! so a program that is not loaded cannot break the ones that are.
//!
//! Checking an object against many kernels is [`relocate_copy`] once per
//! [`CoreTarget::Custom`] (each independent: `tinybpf check --btf-dir` runs
//! them on scoped threads), then
//! [`classify_object`](core::reach::classify_object) for the unresolved
//! ones. [`min_btf`] turns the outcomes into the minimal BTF of one kernel.

pub mod core;
pub mod kconfig;
pub mod ksyms;
pub mod link;
pub mod min_btf;
pub mod struct_ops;

use crate::abi::insn::Insn;
use crate::btf::Btf;
use crate::obj::{ObjectSpec, Reloc};
use crate::reloc::core::{relocate_selected, CoreError, RelocOutcome, Target};
use std::sync::Arc;

/// Result of the CO-RE driver.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Reads the kernel modules' BTF (split on the given vmlinux) when a
/// relocation found no candidate in vmlinux. Supplied by whoever builds the
/// target (the load layer reads `/sys/kernel/btf`), so this layer stays pure.
pub type ModuleReader = fn(&Arc<Btf>) -> Vec<Btf>;

/// Where CO-RE relocations find their target types.
#[derive(Clone, Debug)]
pub enum CoreTarget {
    /// The running kernel: vmlinux first; kernel modules' BTF (split on
    /// vmlinux) is read (by the [`ModuleReader`]) and searched only when some
    /// relocation found no candidate in vmlinux.
    Kernel(Arc<Btf>, ModuleReader),
    /// Like [`Kernel`](Self::Kernel), with these BTFs searched as the
    /// kernel modules' instead of those under /sys/kernel/btf (offline
    /// checks, tests).
    KernelWithModules(Arc<Btf>, Vec<Arc<Btf>>),
    /// One BTF in place of the kernel's (no module search).
    Custom(Arc<Btf>),
}

impl CoreTarget {
    /// The main target BTF (vmlinux, or the custom one).
    pub fn btf(&self) -> &Arc<Btf> {
        match self {
            CoreTarget::Kernel(b, _)
            | CoreTarget::KernelWithModules(b, _)
            | CoreTarget::Custom(b) => b,
        }
    }
}

/// Which relocations the driver resolves.
#[derive(Clone, Copy, Debug)]
pub enum Selection<'a> {
    /// Every relocation of the object, whether or not code reaches it.
    All,
    /// The programs whose `autoload` is set, and the subprograms they call.
    Autoload,
    /// These programs (indices into [`ObjectSpec::programs`]) and the
    /// subprograms they call.
    Programs(&'a [usize]),
}

/// The functions (code section index, first insn, length) that load with
/// programs `progs`: the programs themselves and every subprogram they call,
/// transitively (the same calls the linker follows).
pub fn loaded_functions(spec: &ObjectSpec, progs: &[usize]) -> Vec<(usize, usize, usize)> {
    let mut out: Vec<(usize, usize, usize)> = Vec::new();
    let mut stack: Vec<(usize, usize, usize)> = progs
        .iter()
        .filter_map(|&i| spec.programs.get(i))
        .map(|p| (p.code, p.start, p.len))
        .collect();
    while let Some(f) = stack.pop() {
        if out.contains(&f) {
            continue;
        }
        out.push(f);
        let (sec, start, len) = f;
        let Some(cs) = spec.code.get(sec) else {
            continue;
        };
        let end = start.saturating_add(len).min(cs.insns.len());
        for i in start..end {
            let callee = match cs.relocs.get(&i) {
                Some(Reloc::Func { sec, insn }) => Some((*sec, *insn)),
                Some(_) => None,
                None if cs.insns[i].is_pseudo_call() => {
                    let t = i as i64 + cs.insns[i].imm as i64 + 1;
                    usize::try_from(t).ok().map(|t| (sec, t))
                }
                None => None,
            };
            let Some((ts, ti)) = callee else { continue };
            let Some(tcs) = spec.code.get(ts) else {
                continue;
            };
            if let Some((_, fs, fl)) = tcs.funcs.iter().find(|f| ti >= f.1 && ti < f.1 + f.2) {
                stack.push((ts, *fs, *fl));
            }
        }
    }
    out
}

/// Whether the relocation at (section name, instruction index) is selected.
type Selector<'s> = Box<dyn Fn(&str, usize) -> bool + 's>;

/// The selection as a predicate on (section name, instruction index).
fn selector<'s>(spec: &'s ObjectSpec, sel: Selection<'_>) -> Selector<'s> {
    let progs: Vec<usize> = match sel {
        Selection::All => return Box::new(|_, _| true),
        Selection::Autoload => (0..spec.programs.len())
            .filter(|&i| spec.programs[i].autoload)
            .collect(),
        Selection::Programs(p) => p.to_vec(),
    };
    let ranges: Vec<(&str, usize, usize)> = loaded_functions(spec, &progs)
        .into_iter()
        .map(|(s, st, len)| (spec.code[s].name.as_str(), st, st + len))
        .collect();
    Box::new(move |sec, i| {
        ranges
            .iter()
            .any(|(s, st, end)| *s == sec && i >= *st && i < *end)
    })
}

/// Whether any selected relocation needs a target BTF (any kind but
/// `local_type_id`): when none does, no target need be read.
pub fn needs_target(spec: &ObjectSpec, sel: Selection) -> bool {
    let Some(ext) = &spec.btf_ext else {
        return false;
    };
    let selected = selector(spec, sel);
    ext.core_relos.iter().any(|(sec, relos)| {
        relos.iter().any(|r| {
            r.kind != crate::reloc::core::RelocKind::TypeIdLocal as u32
                && selected(sec, (r.insn_off / 8) as usize)
        })
    })
}

/// Relocate the selected code of `spec` in place against `target`; returns
/// one outcome per selected relocation (unresolved ones poisoned their
/// instruction). Relocations outside the selection are not touched.
pub fn relocate_spec(
    spec: &mut ObjectSpec,
    sel: Selection,
    target: &CoreTarget,
) -> Result<Vec<RelocOutcome>> {
    let mut code = code_copy(spec);
    let out = relocate_code(spec, &mut code, sel, target)?;
    for (c, (_, insns)) in spec.code.iter_mut().zip(code) {
        c.insns = insns;
    }
    Ok(out)
}

fn code_copy(spec: &ObjectSpec) -> Vec<(String, Vec<Insn>)> {
    spec.code
        .iter()
        .map(|c| (c.name.clone(), c.insns.clone()))
        .collect()
}

/// Relocate a copy of the selected code of `spec` (what `check` reports):
/// the outcomes only, `spec` unchanged.
pub fn relocate_copy(
    spec: &ObjectSpec,
    sel: Selection,
    target: &CoreTarget,
) -> Result<Vec<RelocOutcome>> {
    relocate_code(spec, &mut code_copy(spec), sel, target)
}

/// Relocate every relocation of `spec` in place against one BTF.
pub fn relocate(spec: &mut ObjectSpec, target: &Btf) -> Result<Vec<RelocOutcome>> {
    let mut code = code_copy(spec);
    let out = run_once(spec, &mut code, &|_, _| true, &[target])?;
    for (c, (_, insns)) in spec.code.iter_mut().zip(code) {
        c.insns = insns;
    }
    Ok(out)
}

fn relocate_code(
    spec: &ObjectSpec,
    code: &mut [(String, Vec<Insn>)],
    sel: Selection,
    target: &CoreTarget,
) -> Result<Vec<RelocOutcome>> {
    let selected = selector(spec, sel);
    let (vmlinux, given) = match target {
        CoreTarget::Custom(b) => return run_once(spec, code, &*selected, &[b]),
        CoreTarget::Kernel(v, read) => (v, Err(*read)),
        CoreTarget::KernelWithModules(v, m) => (v, Ok(m)),
    };
    let pristine: Vec<Vec<Insn>> = code.iter().map(|(_, i)| i.clone()).collect();
    let out = run_once(spec, code, &*selected, &[vmlinux])?;
    if out.iter().all(|r| r.target_value.is_some()) {
        return Ok(out);
    }
    let read;
    let modules: Vec<&Btf> = match given {
        Ok(m) => m.iter().map(|b| &**b).collect(),
        Err(reader) => {
            read = reader(vmlinux);
            read.iter().collect()
        }
    };
    if modules.is_empty() {
        return Ok(out);
    }
    log::debug!(
        "{} unresolved in vmlinux; searching {} module BTFs",
        spec.name,
        modules.len()
    );
    for ((_, c), orig) in code.iter_mut().zip(pristine) {
        *c = orig;
    }
    let mut targets: Vec<&Btf> = vec![vmlinux];
    targets.extend(modules);
    run_once(spec, code, &*selected, &targets)
}

fn run_once(
    spec: &ObjectSpec,
    code: &mut [(String, Vec<Insn>)],
    selected: &dyn Fn(&str, usize) -> bool,
    targets: &[&Btf],
) -> Result<Vec<RelocOutcome>> {
    let (Some(local), Some(ext)) = (&spec.btf, &spec.btf_ext) else {
        return Ok(Vec::new());
    };
    let mut sections: Vec<(&str, &mut [Insn])> = code
        .iter_mut()
        .map(|(n, i)| (n.as_str(), i.as_mut_slice()))
        .collect();
    let out = relocate_selected(
        local,
        ext,
        &Target {
            btfs: targets.to_vec(),
        },
        &mut sections,
        selected,
    )?;
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
