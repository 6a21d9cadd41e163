//! `.ksyms` externs, the pure half: resolve each kernel variable and kfunc
//! of an object against the kernel's BTF (vmlinux, then modules) and the
//! `/proc/kallsyms` index the caller hands in, then patch the linked
//! instructions:
//!
//! - typed variables and kfunc addresses (`ld_imm64`): `src_reg =
//!   BPF_PSEUDO_BTF_ID`, `imm` = the kernel's BTF id of the VAR or FUNC,
//!   `insn[1].imm` = the module BTF's fd (0 for vmlinux);
//! - untyped variables (`ld_imm64`): the address from `/proc/kallsyms`;
//! - kfunc calls: `src_reg = BPF_PSEUDO_KFUNC_CALL`, `imm` = the FUNC's id,
//!   `off` = the module BTF's index in the program's `fd_array` (0: vmlinux);
//! - a missing `__weak` extern reads as 0, and a call of a missing weak
//!   kfunc becomes a call of helper `POISON_KFUNC_BASE + extern index`: the
//!   verifier never sees it when it sits behind `if (bpf_ksym_exists(f))`
//!   (dead code), and refuses it by name otherwise.
//!
//! A kfunc's prototype in the object must be compatible with the kernel's
//! (argument count, and each argument and the return value by kind, as a
//! CO-RE type match); a typed variable's type likewise.

use super::link::{LinkError, LinkedProgram, LoadRef};
use crate::abi::insn::{BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, CALL};
use crate::btf::{Btf, Kind, MAX_CHAIN};
use crate::obj::ksyms::KsymType;
use crate::obj::ObjectSpec;
use std::collections::HashMap;

/// Helper id base of a poisoned call of a missing weak kfunc (libbpf's).
pub const POISON_KFUNC_BASE: i32 = 2_002_000_000;

/// `/proc/kallsyms`, indexed by name. A name listed at two different
/// addresses (static symbols of different files) is ambiguous.
#[derive(Debug, Default, Clone)]
pub struct Kallsyms {
    syms: HashMap<String, Option<u64>>,
}

impl Kallsyms {
    /// Parse `/proc/kallsyms` text: `ADDRESS TYPE NAME [\[MODULE\]]` lines.
    /// Lines that do not parse are skipped.
    pub fn parse(text: &str) -> Kallsyms {
        let mut syms: HashMap<String, Option<u64>> = HashMap::new();
        for line in text.lines() {
            let mut w = line.split_whitespace();
            let (Some(addr), Some(_ty), Some(name)) = (w.next(), w.next(), w.next()) else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            syms.entry(name.to_string())
                .and_modify(|a| {
                    if *a != Some(addr) {
                        *a = None
                    }
                })
                .or_insert(Some(addr));
        }
        Kallsyms { syms }
    }

    /// The address of `name`: `None` when absent, `Some(None)` when listed
    /// at several addresses.
    pub fn get(&self, name: &str) -> Option<Option<u64>> {
        self.syms.get(name).copied()
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// Whether no symbol was read.
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }
}

/// What the kernel offers to resolve against.
pub struct KernelSyms<'a> {
    /// vmlinux BTF.
    pub vmlinux: &'a Btf,
    /// Module BTFs (split on vmlinux), by module name.
    pub modules: &'a [(String, Btf)],
    /// `/proc/kallsyms`, when read (only untyped variables need it).
    pub kallsyms: Option<&'a Kallsyms>,
}

/// Where one `.ksyms` extern resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KsymValue {
    /// A BTF id in vmlinux (`module: None`) or in `KernelSyms::modules[m]`.
    Btf {
        /// The type id in that BTF.
        id: u32,
        /// `None`: vmlinux; `Some(m)`: `KernelSyms::modules[m]`.
        module: Option<usize>,
    },
    /// An address from `/proc/kallsyms`.
    Addr(u64),
    /// `__weak` and not found: reads as 0, calls are poisoned.
    Missing,
}

/// Whether resolving `spec` needs module BTF (some typed extern is not in
/// vmlinux) and whether it needs `/proc/kallsyms` (some untyped one).
pub fn needs(spec: &ObjectSpec, vmlinux: &Btf) -> (bool, bool) {
    let (mut modules, mut kallsyms) = (false, false);
    for e in spec.externs.iter().filter(|e| !e.kconfig) {
        match e.ksym {
            Some(KsymType::Var { type_id: 0 }) | None => kallsyms = true,
            Some(KsymType::Var { .. }) => {
                modules |= vmlinux.find_by_name_kind(&e.name, Kind::Var).is_none()
            }
            Some(KsymType::Func { .. }) => {
                modules |= vmlinux.find_by_name_kind(&e.name, Kind::Func).is_none()
            }
        }
    }
    (modules, kallsyms)
}

/// Resolve every `.ksyms` extern of `spec` (libbpf resolves them all, used
/// by a loaded program or not). Errors name the extern and where it was
/// looked for.
pub fn resolve(
    spec: &ObjectSpec,
    k: &KernelSyms<'_>,
) -> Result<HashMap<String, KsymValue>, LinkError> {
    let mut out = HashMap::new();
    let local = spec.btf.as_ref();
    for e in spec.externs.iter().filter(|e| !e.kconfig) {
        let fail = |reason: String| LinkError::Ksym {
            name: e.name.clone(),
            reason,
        };
        let v = match e.ksym {
            Some(KsymType::Var { type_id: 0 }) | None => {
                let Some(ks) = k.kallsyms else {
                    return Err(fail("/proc/kallsyms could not be read".into()));
                };
                match ks.get(&e.name) {
                    Some(Some(a)) => KsymValue::Addr(a),
                    Some(None) => {
                        return Err(fail(
                            "/proc/kallsyms lists it at several addresses (ambiguous)".into(),
                        ))
                    }
                    None if e.weak => KsymValue::Missing,
                    None => {
                        return Err(fail(format!(
                        "not in /proc/kallsyms ({} symbols); declare it __weak to load without it",
                        ks.len()
                    )))
                    }
                }
            }
            Some(KsymType::Var { type_id }) => match find(k, &e.name, Kind::Var) {
                Some((tbtf, id, module)) => {
                    let targ = tbtf.type_by_id(id).map_err(|x| fail(x.to_string()))?;
                    check_compat(local, type_id, tbtf, targ.size_or_type)
                        .map_err(|why| fail(format!("type does not match the kernel's: {why}")))?;
                    KsymValue::Btf { id, module }
                }
                None if e.weak => KsymValue::Missing,
                None => return Err(fail(not_found(k, "VAR"))),
            },
            Some(KsymType::Func { proto_id }) => match find(k, &e.name, Kind::Func) {
                Some((tbtf, id, module)) => {
                    let targ = tbtf.type_by_id(id).map_err(|x| fail(x.to_string()))?;
                    check_compat(local, proto_id, tbtf, targ.size_or_type).map_err(|why| {
                        fail(format!(
                            "kfunc prototype does not match the kernel's: {why}"
                        ))
                    })?;
                    KsymValue::Btf { id, module }
                }
                None if e.weak => KsymValue::Missing,
                None => return Err(fail(not_found(k, "FUNC (kfunc)"))),
            },
        };
        log::debug!("extern {} (.ksyms) → {v:?}", e.name);
        out.insert(e.name.clone(), v);
    }
    Ok(out)
}

fn not_found(k: &KernelSyms<'_>, what: &str) -> String {
    format!(
        "no {what} of this name in the kernel's BTF (looked in vmlinux and {} module BTFs); \
         declare it __weak to load without it",
        k.modules.len()
    )
}

/// `name` of `kind` in vmlinux, then in the modules.
fn find<'k>(k: &KernelSyms<'k>, name: &str, kind: Kind) -> Option<(&'k Btf, u32, Option<usize>)> {
    if let Some(id) = k.vmlinux.find_by_name_kind(name, kind) {
        return Some((k.vmlinux, id, None));
    }
    k.modules
        .iter()
        .enumerate()
        .find_map(|(i, (_, b))| b.find_by_name_kind(name, kind).map(|id| (b, id, Some(i))))
}

/// The object's type `lid` against the kernel's `tid`, as a CO-RE
/// compatibility check; the reason when they differ.
fn check_compat(local: Option<&Btf>, lid: u32, tbtf: &Btf, tid: u32) -> Result<(), String> {
    let Some(lbtf) = local else {
        return Ok(());
    };
    let ok = crate::reloc::core::types_compat(lbtf, lid, tbtf, tid, MAX_CHAIN)?;
    if ok {
        return Ok(());
    }
    let desc = |b: &Btf, id: u32| match b.type_by_id(id) {
        Ok(t) if t.kind == Kind::FuncProto => {
            let n = t.vlen();
            format!(
                "{} with {n} argument{}",
                t.kind,
                if n == 1 { "" } else { "s" }
            )
        }
        Ok(t) => format!("{} '{}'", t.kind, t.name),
        Err(e) => e.to_string(),
    };
    Err(format!(
        "the object has {}, the kernel {}",
        desc(lbtf, lid),
        desc(tbtf, tid)
    ))
}

/// Patch the `.ksyms` references of `linked` with `values` (from
/// [`resolve`]). `module` gives, for a module index, its BTF fd (for
/// `ld_imm64`) and its `fd_array` index (for calls, never 0).
pub fn patch(
    linked: &mut LinkedProgram,
    spec: &ObjectSpec,
    values: &HashMap<String, KsymValue>,
    module: &dyn Fn(usize) -> (i32, i16),
) -> Result<(), LinkError> {
    for r in &linked.refs {
        let LoadRef::Ksym { insn, name, call } = r else {
            continue;
        };
        let fail = |reason: String| LinkError::Ksym {
            name: name.clone(),
            reason,
        };
        let v = values
            .get(name)
            .ok_or_else(|| fail("not resolved (not a .ksyms extern of this object)".into()))?;
        let is_func = spec
            .externs
            .iter()
            .any(|e| e.name == *name && matches!(e.ksym, Some(KsymType::Func { .. })));
        let i = *insn;
        if i + usize::from(!*call) >= linked.insns.len() {
            return Err(fail(format!("instruction {i} is past the program's end")));
        }
        if *call {
            if !is_func {
                return Err(fail(
                    "called, but it is not a kfunc in the object's BTF".into(),
                ));
            }
            let o = &mut linked.insns[i];
            match *v {
                KsymValue::Btf { id, module: m } => {
                    o.set_src(BPF_PSEUDO_KFUNC_CALL);
                    o.imm = id as i32;
                    o.off = m.map_or(0, |m| module(m).1);
                }
                KsymValue::Missing => {
                    let idx = spec
                        .externs
                        .iter()
                        .position(|e| e.name == *name)
                        .unwrap_or(0);
                    o.code = CALL;
                    o.set_src(0);
                    o.set_dst(0);
                    o.off = 0;
                    o.imm = POISON_KFUNC_BASE.saturating_add(idx as i32);
                }
                KsymValue::Addr(_) => return Err(fail("called, but it is not a kfunc".into())),
            }
            log::trace!("insn {i}: kfunc call {name} → {v:?}");
            continue;
        }
        let (src, lo, hi) = match *v {
            KsymValue::Btf { id, module: m } => {
                (BPF_PSEUDO_BTF_ID, id as i32, m.map_or(0, |m| module(m).0))
            }
            KsymValue::Addr(a) => (0, a as u32 as i32, (a >> 32) as u32 as i32),
            KsymValue::Missing => (0, 0, 0),
        };
        linked.insns[i].set_src(src);
        linked.insns[i].imm = lo;
        linked.insns[i + 1].imm = hi;
        log::trace!("insn {i}: ld_imm64 of {name} → {v:?}");
    }
    Ok(())
}

/// A note for a verifier log that failed because of a `.ksyms` extern:
/// a reached call of a missing weak kfunc (poisoned), or a typed variable
/// the kernel cannot find in its own kallsyms. `None` when neither.
pub fn explain_log(log: &str, spec: &ObjectSpec) -> Option<String> {
    if let Some(at) = log.find("unknown#") {
        let digits: String = log[at + 8..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let idx = digits
            .parse::<i64>()
            .ok()
            .and_then(|n| usize::try_from(n - i64::from(POISON_KFUNC_BASE)).ok());
        if let Some(e) = idx.and_then(|i| spec.externs.get(i)) {
            return Some(format!(
                "the program calls __weak kfunc {}, which this kernel does not have; \
                 guard the call with `if (bpf_ksym_exists({}))`",
                e.name, e.name
            ));
        }
    }
    if let Some(at) = log.find("failed to find the address for kernel symbol") {
        let name = log[at..].split('\'').nth(1).unwrap_or("?");
        return Some(format!(
            "the kernel has BTF for {name} but its kallsyms does not list it (data symbols \
             need CONFIG_KALLSYMS_ALL); declare it __weak and check its address for 0 to load \
             without it"
        ));
    }
    None
}
