//! CO-RE relocation engine (pure: instructions + local BTF + target BTF in,
//! patched instructions out).
//!
//! Semantics follow the kernel/libbpf CO-RE rules: a relocation names a local
//! root type and an access string (`0:1:2`: array index on the root, then
//! member/array indices). Candidates are target types with the same
//! essential name (flavor suffix `___x` ignored) and a compatible kind. The
//! set of candidates of each local root type is narrowed across every
//! relocation of that type among the selected relocations (those of the
//! programs being loaded, see [`relocate_selected`]), so that one layout wins; if
//! several remain and disagree on a relocated value, that is an error.

mod matching;
pub(crate) use matching::types_compat;
pub mod reach;
mod spec;

use std::collections::HashMap;
use std::fmt;

use crate::abi::insn::{
    Insn, BPF_ALU, BPF_ALU64, BPF_B, BPF_DW, BPF_H, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_W, CALL,
};
use crate::btf::{essential_name, Btf, BtfExt, CoreRelo, Kind};

use spec::Spec;

/// Helper id used to poison instructions whose relocation cannot be
/// resolved (`0xbad2310`, as libbpf does).
pub const POISON_HELPER_ID: i32 = 0xbad2310;

/// The 13 CO-RE relocation kinds (`enum bpf_core_relo_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum RelocKind {
    /// `bpf_core_field_offset`: a field's byte offset.
    FieldByteOffset = 0,
    /// `bpf_core_field_size`: a field's size.
    FieldByteSize = 1,
    /// `bpf_core_field_exists`.
    FieldExists = 2,
    /// Whether a field is signed.
    FieldSigned = 3,
    /// Left shift to extract a bitfield.
    FieldLshiftU64 = 4,
    /// Right shift to extract a bitfield.
    FieldRshiftU64 = 5,
    /// `bpf_core_type_id_local`.
    TypeIdLocal = 6,
    /// `bpf_core_type_id_kernel`.
    TypeIdTarget = 7,
    /// `bpf_core_type_exists`.
    TypeExists = 8,
    /// `bpf_core_type_size`.
    TypeSize = 9,
    /// `bpf_core_enum_value_exists`.
    EnumvalExists = 10,
    /// `bpf_core_enum_value`.
    EnumvalValue = 11,
    /// `bpf_core_type_matches`.
    TypeMatches = 12,
}

impl RelocKind {
    /// The kind with this number, if known.
    pub fn from_u32(v: u32) -> Option<RelocKind> {
        use RelocKind::*;
        Some(match v {
            0 => FieldByteOffset,
            1 => FieldByteSize,
            2 => FieldExists,
            3 => FieldSigned,
            4 => FieldLshiftU64,
            5 => FieldRshiftU64,
            6 => TypeIdLocal,
            7 => TypeIdTarget,
            8 => TypeExists,
            9 => TypeSize,
            10 => EnumvalExists,
            11 => EnumvalValue,
            12 => TypeMatches,
            _ => return None,
        })
    }
    /// A field relocation (kinds 0 to 5).
    pub fn is_field_based(self) -> bool {
        (self as u32) <= 5
    }
    /// A type relocation (kinds 6 to 9 and 12).
    pub fn is_type_based(self) -> bool {
        matches!(self as u32, 6..=9 | 12)
    }
    /// An enumerator relocation (kinds 10 and 11).
    pub fn is_enumval_based(self) -> bool {
        matches!(self as u32, 10 | 11)
    }
    /// libbpf's short name.
    pub fn as_str(self) -> &'static str {
        use RelocKind::*;
        match self {
            FieldByteOffset => "byte_off",
            FieldByteSize => "byte_sz",
            FieldExists => "field_exists",
            FieldSigned => "signed",
            FieldLshiftU64 => "lshift_u64",
            FieldRshiftU64 => "rshift_u64",
            TypeIdLocal => "local_type_id",
            TypeIdTarget => "target_type_id",
            TypeExists => "type_exists",
            TypeSize => "type_size",
            EnumvalExists => "enumval_exists",
            EnumvalValue => "enumval_value",
            TypeMatches => "type_matches",
        }
    }
}

impl fmt::Display for RelocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of CO-RE relocation; each names the ELF section, the instruction
/// index within it, and (when known) the type and access string.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("section '{section}' insn #{insn_idx}: bad CO-RE relocation record: {what}")]
    /// A `.BTF.ext` CO-RE record is malformed.
    BadRecord {
        /// The ELF section.
        section: String,
        /// Instruction index within the section.
        insn_idx: usize,
        /// What is wrong.
        what: String,
    },
    #[error("section '{section}' insn #{insn_idx}: CO-RE relocation targets an instruction outside the section ({len} instructions given)")]
    /// The record points past the section's instructions.
    NoInsn {
        /// The ELF section.
        section: String,
        /// Instruction index within the section.
        insn_idx: usize,
        /// Number of instructions in the section.
        len: usize,
    },
    #[error("section '{section}' insn #{insn_idx}: {kind} relocation of {type_name} (access {access}): {what}")]
    /// The access string does not fit the local type.
    Spec {
        /// The ELF section.
        section: String,
        /// Instruction index within the section.
        insn_idx: usize,
        /// The relocation kind.
        kind: RelocKind,
        /// The local root type (e.g. `struct task_struct`).
        type_name: String,
        /// The access string, with resolved names.
        access: String,
        /// What is wrong.
        what: String,
    },
    #[error("section '{section}' insn #{insn_idx}: {kind} relocation of {type_name} (access {access}) is ambiguous, candidates disagree: {}", candidates.join("; "))]
    /// Target candidates give different values.
    Ambiguous {
        /// The ELF section.
        section: String,
        /// Instruction index within the section.
        insn_idx: usize,
        /// The relocation kind.
        kind: RelocKind,
        /// The local root type (e.g. `struct task_struct`).
        type_name: String,
        /// The access string, with resolved names.
        access: String,
        /// One entry per candidate: `"[btf#i] [id] struct name: value"`.
        candidates: Vec<String>,
    },
    #[error("section '{section}' insn #{insn_idx}: {kind} relocation of {type_name} (access {access}): instruction holds {found}, local BTF implies {expected}")]
    /// The instruction does not hold what the local BTF implies.
    InsnMismatch {
        /// The ELF section.
        section: String,
        /// Instruction index within the section.
        insn_idx: usize,
        /// The relocation kind.
        kind: RelocKind,
        /// The local root type (e.g. `struct task_struct`).
        type_name: String,
        /// The access string, with resolved names.
        access: String,
        /// The value the local BTF implies.
        expected: u64,
        /// The value in the instruction.
        found: i64,
    },
    #[error("section '{section}' insn #{insn_idx}: {kind} relocation of {type_name} (access {access}): cannot patch {insn:?}: {what}")]
    /// The instruction cannot be patched.
    BadInsn {
        /// The ELF section.
        section: String,
        /// Instruction index within the section.
        insn_idx: usize,
        /// The relocation kind.
        kind: RelocKind,
        /// The local root type (e.g. `struct task_struct`).
        type_name: String,
        /// The access string, with resolved names.
        access: String,
        /// The instruction.
        insn: Insn,
        /// What is wrong.
        what: String,
    },
}

/// Target BTFs: vmlinux first, then modules. Modules are searched only when
/// vmlinux has no candidate for a type.
pub struct Target<'a> {
    /// The BTFs, vmlinux first.
    pub btfs: Vec<&'a Btf>,
}

/// What happened to one relocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelocOutcome {
    /// The ELF section.
    pub section: String,
    /// Instruction index within the section.
    pub insn_idx: usize,
    /// The relocation kind.
    pub kind: RelocKind,
    /// Local root type, e.g. "struct task_struct".
    pub type_name: String,
    /// Raw access string plus resolved names, e.g. "0:57:0 (task_struct.real_parent.tgid)".
    pub access: String,
    /// The value as compiled (from the local BTF).
    pub local_value: u64,
    /// `None`: unresolved, instruction poisoned.
    pub target_value: Option<u64>,
    /// Index into `Target::btfs` of the BTF the winning candidate came from.
    pub target_btf_index: Option<usize>,
    /// Every target candidate that matched (they all agree on the value;
    /// the first one won), with the target access path: what a minimal
    /// BTF must keep for this relocation (`tinybpf btf min`).
    pub target_uses: Vec<TargetUse>,
}

/// One target type a relocation matched, and how it was accessed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUse {
    /// Index into `Target::btfs`.
    pub btf_index: usize,
    /// The candidate root type's id in that BTF.
    pub type_id: u32,
    /// The target access path: for field relocations, every index
    /// (array index on the root, then member indices including anonymous
    /// members, array indices); for enumerator relocations, the
    /// enumerator's index; empty for type relocations.
    pub raw: Vec<u32>,
}

/// True if any relocation needs target (kernel) BTF, i.e. any kind other
/// than TYPE_ID_LOCAL.
pub fn needs_kernel_btf(ext: &BtfExt) -> bool {
    ext.core_relos
        .iter()
        .flat_map(|(_, v)| v.iter())
        .any(|r| r.kind != RelocKind::TypeIdLocal as u32)
}

/// One computed relocation value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Calc {
    /// `None` = poison.
    pub val: Option<u64>,
    pub validate: bool,
    /// Memory size of the accessed field (BYTE_OFFSET of a non-bitfield).
    pub sz: u32,
    pub type_id: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cand {
    btf_idx: usize,
    id: u32,
}

struct Item<'l> {
    section: &'l str,
    insn_idx: usize,
    kind: RelocKind,
    spec: Spec<'l>,
    type_name: String,
    access: String,
}

fn type_label(btf: &Btf, id: u32) -> String {
    match btf.type_by_id(id) {
        Ok(t) if t.name.is_empty() => format!("[{id}] anonymous {}", t.kind),
        Ok(t) => format!("{} {}", t.kind, t.name),
        Err(_) => format!("[{id}] <bad type>"),
    }
}

/// Candidate target types for a local root type.
fn find_cands(local: &Btf, root: u32, target: &Target) -> Result<Vec<Cand>, String> {
    let lt = local.type_by_id(root).map_err(|e| e.to_string())?;
    let ess = essential_name(lt.name);
    if ess.is_empty() {
        return Err("local type is anonymous; cannot look it up in the target".into());
    }
    let mut out = Vec::new();
    for (i, btf) in target.btfs.iter().enumerate() {
        if i == 1 && !out.is_empty() {
            break; // vmlinux had candidates: modules are not searched
        }
        for id in btf.own_ids_by_essential_name_for_kind(ess, lt.kind) {
            if let Ok(t) = btf.type_by_id(id) {
                if kinds_core_compat(lt.kind, t.kind) {
                    out.push(Cand { btf_idx: i, id });
                }
            }
        }
    }
    log::trace!(
        "core: {} candidates for {}: {:?}",
        out.len(),
        type_label(local, root),
        out
    );
    Ok(out)
}

pub(crate) fn kinds_core_compat(a: Kind, b: Kind) -> bool {
    a == b || (a.is_any_enum() && b.is_any_enum())
}

/// Relocate every CO-RE relocation of `ext` in `sections` (ELF section name,
/// its instructions). Returns one outcome per relocation.
pub fn relocate_object(
    local: &Btf,
    ext: &BtfExt,
    target: &Target,
    sections: &mut [(&str, &mut [Insn])],
) -> Result<Vec<RelocOutcome>, CoreError> {
    relocate_selected(local, ext, target, sections, &|_, _| true)
}

/// Like [`relocate_object`], but only the relocations for which
/// `selected(section, insn_idx)` is true are parsed, take part in candidate
/// narrowing, and are applied; the others are left alone (their
/// instructions unchanged, no outcome). A loader passes the instructions of
/// the programs it loads and the subprograms they call.
pub fn relocate_selected(
    local: &Btf,
    ext: &BtfExt,
    target: &Target,
    sections: &mut [(&str, &mut [Insn])],
    selected: &dyn Fn(&str, usize) -> bool,
) -> Result<Vec<RelocOutcome>, CoreError> {
    // 1. Parse every selected local spec.
    let mut items = Vec::new();
    let mut skipped = 0usize;
    for (sec, relos) in &ext.core_relos {
        for r in relos {
            if !selected(sec, (r.insn_off / 8) as usize) {
                skipped += 1;
                continue;
            }
            items.push(parse_item(local, sec, r)?);
        }
    }
    if skipped > 0 {
        log::debug!("core: {skipped} relocations outside the selected programs skipped");
    }
    log::debug!(
        "core: {} relocations in {} sections, {} target BTFs",
        items.len(),
        ext.core_relos.len(),
        target.btfs.len()
    );

    // 2. Candidates per local root type.
    let mut cands: HashMap<u32, Vec<Cand>> = HashMap::new();
    for it in &items {
        if it.kind == RelocKind::TypeIdLocal || cands.contains_key(&it.spec.root_id) {
            continue;
        }
        let c = find_cands(local, it.spec.root_id, target).map_err(|what| it.err(what))?;
        cands.insert(it.spec.root_id, c);
    }

    // 3. Narrow the candidates of each root type across all its relocations.
    for it in &items {
        if it.kind == RelocKind::TypeIdLocal {
            continue;
        }
        let Some(list) = cands.get_mut(&it.spec.root_id) else {
            continue;
        };
        let mut keep = Vec::with_capacity(list.len());
        for c in list.iter() {
            let btf = target.btfs[c.btf_idx];
            if matching::spec_match(&it.spec, btf, c.id, it.kind)
                .map_err(|what| it.err(what))?
                .is_some()
            {
                keep.push(*c);
            }
        }
        if !keep.is_empty() {
            *list = keep;
        }
    }

    // 4. Resolve and patch.
    let mut out = Vec::with_capacity(items.len());
    for it in &items {
        let local_calc = matching::calc(it.kind, Some(&it.spec)).map_err(|w| it.err(w))?;
        let mut chosen: Option<(Calc, Option<Cand>, Option<u64>)> = None;
        let mut seen: Vec<(Cand, Calc, Option<u64>)> = Vec::new();
        let mut uses: Vec<TargetUse> = Vec::new();
        if it.kind == RelocKind::TypeIdLocal {
            let c = Calc {
                val: Some(it.spec.root_id as u64),
                validate: false,
                sz: 0,
                type_id: 0,
            };
            chosen = Some((c, None, None));
        } else if let Some(list) = cands.get(&it.spec.root_id) {
            for c in list {
                let btf = target.btfs[c.btf_idx];
                let Some(ts) =
                    matching::spec_match(&it.spec, btf, c.id, it.kind).map_err(|w| it.err(w))?
                else {
                    continue;
                };
                let calc = matching::calc(it.kind, Some(&ts)).map_err(|w| it.err(w))?;
                let bit_off = it.kind.is_field_based().then_some(ts.bit_offset);
                seen.push((*c, calc, bit_off));
                uses.push(TargetUse {
                    btf_index: c.btf_idx,
                    type_id: c.id,
                    raw: ts.raw.clone(),
                });
            }
        }
        if let Some((first, rest)) = seen.split_first() {
            if rest
                .iter()
                .any(|(_, c, b)| c.val != first.1.val || *b != first.2)
            {
                let candidates = seen
                    .iter()
                    .map(|(c, calc, _)| {
                        let v = match calc.val {
                            Some(v) => v.to_string(),
                            None => "unresolvable".into(),
                        };
                        format!(
                            "btf#{} [{}] {}: {}",
                            c.btf_idx,
                            c.id,
                            type_label(target.btfs[c.btf_idx], c.id),
                            v
                        )
                    })
                    .collect();
                return Err(CoreError::Ambiguous {
                    section: it.section.to_string(),
                    insn_idx: it.insn_idx,
                    kind: it.kind,
                    type_name: it.type_name.clone(),
                    access: it.access.clone(),
                    candidates,
                });
            }
            chosen = Some((first.1, Some(first.0), first.2));
        }
        let (targ_calc, cand) = match chosen {
            Some((c, cand, _)) => (c, cand),
            None => (matching::calc(it.kind, None).map_err(|w| it.err(w))?, None),
        };
        // Can a load/store of a different size be adjusted safely?
        let mut fail_memsz = false;
        if it.kind == RelocKind::FieldByteOffset && local_calc.sz != targ_calc.sz {
            if let Some(c) = cand {
                fail_memsz = !matching::memsz_adjustable(
                    local,
                    local_calc.type_id,
                    target.btfs[c.btf_idx],
                    targ_calc.type_id,
                );
            }
        }
        let orig = local_calc.val.unwrap_or(0);
        let validate = if it.kind == RelocKind::TypeIdLocal {
            false
        } else {
            local_calc.validate
        };
        let sec_name = it.section;
        let (_, insns) = sections
            .iter_mut()
            .find(|(n, _)| *n == sec_name)
            .ok_or_else(|| CoreError::NoInsn {
                section: sec_name.to_string(),
                insn_idx: it.insn_idx,
                len: 0,
            })?;
        let new_val = patch_insn(
            insns,
            it,
            orig,
            validate,
            targ_calc.val,
            fail_memsz,
            local_calc.sz,
            targ_calc.sz,
        )?;
        log::trace!(
            "core: {} insn #{}: {} {} {}: {} -> {:?}",
            it.section,
            it.insn_idx,
            it.kind,
            it.type_name,
            it.access,
            orig,
            new_val
        );
        out.push(RelocOutcome {
            section: it.section.to_string(),
            insn_idx: it.insn_idx,
            kind: it.kind,
            type_name: it.type_name.clone(),
            access: it.access.clone(),
            local_value: orig,
            target_value: new_val,
            target_btf_index: if new_val.is_some() {
                cand.map(|c| c.btf_idx)
            } else {
                None
            },
            target_uses: uses,
        });
    }
    let poisoned = out.iter().filter(|o| o.target_value.is_none()).count();
    log::debug!(
        "core: applied {} relocations ({} unresolved, poisoned)",
        out.len(),
        poisoned
    );
    Ok(out)
}

impl Item<'_> {
    fn err(&self, what: String) -> CoreError {
        CoreError::Spec {
            section: self.section.to_string(),
            insn_idx: self.insn_idx,
            kind: self.kind,
            type_name: self.type_name.clone(),
            access: self.access.clone(),
            what,
        }
    }
    fn insn_err(&self, insn: Insn, what: String) -> CoreError {
        CoreError::BadInsn {
            section: self.section.to_string(),
            insn_idx: self.insn_idx,
            kind: self.kind,
            type_name: self.type_name.clone(),
            access: self.access.clone(),
            insn,
            what,
        }
    }
}

fn parse_item<'l>(local: &'l Btf, sec: &'l str, r: &CoreRelo) -> Result<Item<'l>, CoreError> {
    let insn_idx = (r.insn_off / 8) as usize;
    let bad = |what: String| CoreError::BadRecord {
        section: sec.to_string(),
        insn_idx,
        what,
    };
    if r.insn_off % 8 != 0 {
        return Err(bad(format!("insn_off {} not a multiple of 8", r.insn_off)));
    }
    let kind =
        RelocKind::from_u32(r.kind).ok_or_else(|| bad(format!("unknown kind {}", r.kind)))?;
    let access_str = local
        .str_at(r.access_str_off)
        .map_err(|e| bad(format!("access string: {e}")))?;
    let type_name = type_label(local, r.type_id);
    let spec = Spec::parse(local, r.type_id, kind, access_str).map_err(|what| CoreError::Spec {
        section: sec.to_string(),
        insn_idx,
        kind,
        type_name: type_name.clone(),
        access: access_str.to_string(),
        what,
    })?;
    let access = format!("{access_str} ({})", spec.describe());
    Ok(Item {
        section: sec,
        insn_idx,
        kind,
        spec,
        type_name,
        access,
    })
}

fn size_bytes(code: u8) -> u32 {
    match code & 0x18 {
        BPF_W => 4,
        BPF_H => 2,
        BPF_B => 1,
        _ => 8,
    }
}

fn size_code(bytes: u32) -> Option<u8> {
    Some(match bytes {
        1 => BPF_B,
        2 => BPF_H,
        4 => BPF_W,
        8 => BPF_DW,
        _ => return None,
    })
}

fn poison(insn: &mut Insn) {
    *insn = Insn::new(CALL, 0, 0, 0, POISON_HELPER_ID);
}

/// Patch the instruction; returns the new value (None = poisoned).
#[allow(clippy::too_many_arguments)]
fn patch_insn(
    insns: &mut [Insn],
    it: &Item,
    orig: u64,
    validate: bool,
    new: Option<u64>,
    fail_memsz: bool,
    orig_sz: u32,
    new_sz: u32,
) -> Result<Option<u64>, CoreError> {
    let idx = it.insn_idx;
    let len = insns.len();
    let Some(insn) = insns.get(idx).copied() else {
        return Err(CoreError::NoInsn {
            section: it.section.to_string(),
            insn_idx: idx,
            len,
        });
    };
    let mismatch = |found: i64| CoreError::InsnMismatch {
        section: it.section.to_string(),
        insn_idx: idx,
        kind: it.kind,
        type_name: it.type_name.clone(),
        access: it.access.clone(),
        expected: orig,
        found,
    };
    let do_poison = |insns: &mut [Insn]| {
        if insns[idx].is_ld_imm64() {
            if let Some(next) = insns.get_mut(idx + 1) {
                poison(next);
            }
        }
        poison(&mut insns[idx]);
    };
    let Some(new) = new else {
        do_poison(insns);
        return Ok(None);
    };
    match insn.class() {
        BPF_ALU | BPF_ALU64 => {
            if insn.code & 0x08 != 0 {
                return Err(it.insn_err(insn, "ALU instruction does not use an immediate".into()));
            }
            if validate && insn.imm as i64 as u64 != orig {
                return Err(mismatch(insn.imm as i64));
            }
            insns[idx].imm = new as i32;
        }
        BPF_LDX | BPF_ST | BPF_STX => {
            if validate && insn.off as i64 as u64 != orig {
                return Err(mismatch(insn.off as i64));
            }
            if new > i16::MAX as u64 {
                return Err(it.insn_err(insn, format!("offset {new} does not fit in 16 bits")));
            }
            if fail_memsz {
                log::debug!(
                    "core: {} insn #{}: field size changed {} -> {} and cannot be adjusted; poisoning",
                    it.section,
                    idx,
                    orig_sz,
                    new_sz
                );
                do_poison(insns);
                return Ok(None);
            }
            insns[idx].off = new as i16;
            if orig_sz != new_sz {
                let have = size_bytes(insn.code);
                if have != orig_sz {
                    return Err(it.insn_err(
                        insn,
                        format!("memory access size {have} differs from field size {orig_sz}"),
                    ));
                }
                let code = size_code(new_sz).ok_or_else(|| {
                    it.insn_err(insn, format!("new field size {new_sz} is not a load size"))
                })?;
                insns[idx].code = (insn.code & !0x18) | code;
            }
        }
        BPF_LD => {
            let next = insns.get(idx + 1).copied();
            let ok = insn.is_ld_imm64()
                && insn.src() == 0
                && insn.off == 0
                && matches!(next, Some(n) if n.code == 0 && n.regs == 0 && n.off == 0);
            let Some(next) = next.filter(|_| ok) else {
                return Err(it.insn_err(insn, "not a plain ld_imm64".into()));
            };
            let imm = (insn.imm as u32 as u64) | ((next.imm as u32 as u64) << 32);
            if validate && imm != orig {
                return Err(mismatch(imm as i64));
            }
            insns[idx].imm = new as u32 as i32;
            insns[idx + 1].imm = (new >> 32) as u32 as i32;
        }
        _ => return Err(it.insn_err(insn, "instruction cannot carry a CO-RE relocation".into())),
    }
    Ok(Some(new))
}
