//! Matching a local spec against a target candidate, and computing the
//! relocated values.

use crate::btf::{essential_name, Btf, Kind, Member, BTF_INT_SIGNED, MAX_CHAIN};

use super::spec::{elem_bits, is_flex_arr, Acc, Spec, MAX_SPEC_LEN};
use super::{kinds_core_compat, Calc, RelocKind};

fn e<T: ToString>(x: T) -> String {
    x.to_string()
}

/// Match `local` against target type `targ_id` in `tbtf`; on success the
/// target spec.
pub(crate) fn spec_match<'t>(
    local: &Spec<'_>,
    tbtf: &'t Btf,
    targ_id: u32,
    kind: RelocKind,
) -> Result<Option<Spec<'t>>, String> {
    let mut ts = Spec::empty(tbtf, targ_id);
    if kind.is_type_based() {
        let ok = if kind == RelocKind::TypeMatches {
            types_match(local.btf, local.root_id, tbtf, targ_id, false, MAX_CHAIN)?
        } else {
            types_compat(local.btf, local.root_id, tbtf, targ_id, MAX_CHAIN)?
        };
        return Ok(ok.then_some(ts));
    }
    if kind.is_enumval_based() {
        let t = tbtf.skip_mods_and_typedefs(targ_id).map_err(e)?;
        if !t.kind.is_any_enum() {
            return Ok(None);
        }
        let Some(lname) = local.acc.first().and_then(|a| a.name) else {
            return Err("enum value relocation without enumerator".into());
        };
        let lname = essential_name(lname);
        for (i, en) in t.enumerators().enumerate() {
            let en = en.map_err(e)?;
            if essential_name(en.name) == lname {
                ts.acc.push(Acc {
                    type_id: t.id,
                    idx: i as u32,
                    name: Some(en.name),
                });
                ts.raw.push(i as u32);
                return Ok(Some(ts));
            }
        }
        return Ok(None);
    }
    let mut tid = targ_id;
    for (i, lacc) in local.acc.iter().enumerate() {
        if let Some(name) = lacc.name {
            let lt = local.btf.type_by_id(lacc.type_id).map_err(e)?;
            let lm = lt.member(lacc.idx as usize).map_err(e)?;
            match match_member(local.btf, &lm, name, tbtf, tid, &mut ts, 0)? {
                Some(next) => tid = next,
                None => return Ok(None),
            }
        } else {
            if i > 0 {
                let a = tbtf.skip_mods_and_typedefs(tid).map_err(e)?;
                let Some(ai) = a.array() else { return Ok(None) };
                let flex = is_flex_arr(tbtf, ts.acc.last(), &ai);
                if !flex && lacc.idx >= ai.nelems {
                    return Ok(None);
                }
                tid = tbtf.skip_mods_and_typedefs(ai.elem_type).map_err(e)?.id;
            } else {
                tid = tbtf.skip_mods_and_typedefs(tid).map_err(e)?.id;
            }
            if ts.raw.len() >= MAX_SPEC_LEN {
                return Err("target access too deep".into());
            }
            ts.acc.push(Acc {
                type_id: tid,
                idx: lacc.idx,
                name: None,
            });
            ts.raw.push(lacc.idx);
            let sz = tbtf.resolve_size(tid).map_err(e)?;
            ts.bit_offset = ts
                .bit_offset
                .checked_add(elem_bits(lacc.idx, sz)?)
                .ok_or("offset overflows")?;
        }
    }
    Ok(Some(ts))
}

/// Find member `lname` in target composite `tid`, descending into anonymous
/// members. Returns the member's type id.
fn match_member<'t>(
    lbtf: &Btf,
    lm: &Member<'_>,
    lname: &str,
    tbtf: &'t Btf,
    tid: u32,
    ts: &mut Spec<'t>,
    depth: usize,
) -> Result<Option<u32>, String> {
    if depth > MAX_CHAIN {
        return Err("anonymous members nested too deep".into());
    }
    let t = tbtf.skip_mods_and_typedefs(tid).map_err(e)?;
    if !t.is_composite() {
        return Ok(None);
    }
    for i in 0..t.vlen() {
        if ts.raw.len() >= MAX_SPEC_LEN {
            return Err("target access too deep".into());
        }
        // Named members but `lname` are skipped without decoding them.
        let raw = t.member_name_bytes(i);
        if !raw.is_empty() && raw != lname.as_bytes() {
            continue;
        }
        let m = t.member(i).map_err(e)?;
        ts.bit_offset = ts
            .bit_offset
            .checked_add(m.bit_offset as u64)
            .ok_or("offset overflows")?;
        ts.raw.push(i as u32);
        if m.name.is_empty() {
            if let Some(found) = match_member(lbtf, lm, lname, tbtf, m.type_id, ts, depth + 1)? {
                return Ok(Some(found));
            }
        } else if m.name == lname {
            if !fields_compat(lbtf, lm.type_id, tbtf, m.type_id)? {
                return Ok(None);
            }
            ts.acc.push(Acc {
                type_id: t.id,
                idx: i as u32,
                name: Some(m.name),
            });
            return Ok(Some(m.type_id));
        }
        ts.bit_offset -= m.bit_offset as u64;
        ts.raw.pop();
    }
    Ok(None)
}

/// Are a local field type and a target field type compatible?
fn fields_compat(lbtf: &Btf, mut lid: u32, tbtf: &Btf, mut tid: u32) -> Result<bool, String> {
    for _ in 0..MAX_CHAIN {
        let l = lbtf.skip_mods_and_typedefs(lid).map_err(e)?;
        let t = tbtf.skip_mods_and_typedefs(tid).map_err(e)?;
        if l.is_composite() && t.is_composite() {
            return Ok(true);
        }
        if !kinds_core_compat(l.kind, t.kind) {
            return Ok(false);
        }
        match l.kind {
            Kind::Ptr | Kind::Float => return Ok(true),
            Kind::Fwd | Kind::Enum | Kind::Enum64 => {
                let a = essential_name(l.name);
                let b = essential_name(t.name);
                return Ok(a.is_empty() || b.is_empty() || a == b);
            }
            Kind::Int => {
                let lo = l.int().map(|i| i.offset).unwrap_or(1);
                let to = t.int().map(|i| i.offset).unwrap_or(1);
                return Ok(lo == 0 && to == 0);
            }
            Kind::Array => {
                lid = l.array().map(|a| a.elem_type).unwrap_or(0);
                tid = t.array().map(|a| a.elem_type).unwrap_or(0);
            }
            _ => return Ok(false),
        }
    }
    Err("type chain too deep".into())
}

/// Loose compatibility used by TYPE_EXISTS / TYPE_SIZE / TYPE_ID_TARGET
/// (and by `.ksyms` externs against the kernel's types).
pub(crate) fn types_compat(
    lbtf: &Btf,
    mut lid: u32,
    tbtf: &Btf,
    mut tid: u32,
    level: usize,
) -> Result<bool, String> {
    if level == 0 {
        return Err("types nested too deep".into());
    }
    for _ in 0..MAX_CHAIN {
        let l = lbtf.skip_mods_and_typedefs(lid).map_err(e)?;
        let t = tbtf.skip_mods_and_typedefs(tid).map_err(e)?;
        if !kinds_core_compat(l.kind, t.kind) {
            return Ok(false);
        }
        match l.kind {
            Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                return Ok(true)
            }
            Kind::Float => return Ok(true),
            Kind::Int => {
                let lo = l.int().map(|i| i.offset).unwrap_or(1);
                let to = t.int().map(|i| i.offset).unwrap_or(1);
                return Ok(lo == 0 && to == 0);
            }
            Kind::Ptr => {
                lid = l.size_or_type;
                tid = t.size_or_type;
            }
            Kind::Array => {
                lid = l.array().map(|a| a.elem_type).unwrap_or(0);
                tid = t.array().map(|a| a.elem_type).unwrap_or(0);
            }
            Kind::FuncProto => {
                if l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for i in 0..l.vlen() {
                    let lp = l.param(i).map_err(e)?;
                    let tp = t.param(i).map_err(e)?;
                    if !types_compat(lbtf, lp.type_id, tbtf, tp.type_id, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = l.size_or_type;
                tid = t.size_or_type;
            }
            _ => return Ok(false),
        }
    }
    Err("type chain too deep".into())
}

fn names_match(a: &str, b: &str) -> bool {
    essential_name(a) == essential_name(b)
}

/// Strict structural match used by TYPE_MATCHES.
fn types_match(
    lbtf: &Btf,
    mut lid: u32,
    tbtf: &Btf,
    mut tid: u32,
    mut behind_ptr: bool,
    level: usize,
) -> Result<bool, String> {
    if level == 0 {
        return Err("types nested too deep".into());
    }
    let l0 = lbtf.type_by_id(lid).map_err(e)?;
    let t0 = tbtf.type_by_id(tid).map_err(e)?;
    if !names_match(l0.name, t0.name) {
        return Ok(false);
    }
    for _ in 0..MAX_CHAIN {
        let l = lbtf.skip_mods_and_typedefs(lid).map_err(e)?;
        let t = tbtf.skip_mods_and_typedefs(tid).map_err(e)?;
        if !names_match(l.name, t.name) {
            return Ok(false);
        }
        match l.kind {
            Kind::Void => return Ok(t.kind == Kind::Void),
            Kind::Fwd => {
                let lf = l.kind_flag;
                return Ok(if behind_ptr {
                    if t.kind == Kind::Fwd {
                        lf == t.kind_flag
                    } else {
                        (t.kind == Kind::Struct && !lf) || (t.kind == Kind::Union && lf)
                    }
                } else {
                    t.kind == Kind::Fwd && lf == t.kind_flag
                });
            }
            Kind::Enum | Kind::Enum64 => {
                if !t.kind.is_any_enum() || l.size_or_type != t.size_or_type || l.vlen() > t.vlen()
                {
                    return Ok(false);
                }
                for le in l.enumerators() {
                    let le = le.map_err(e)?;
                    let mut found = false;
                    for te in t.enumerators() {
                        if names_match(le.name, te.map_err(e)?.name) {
                            found = true;
                            break;
                        }
                    }
                    if !found {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            Kind::Struct | Kind::Union => {
                if behind_ptr {
                    return Ok(if l.kind == t.kind {
                        true
                    } else if t.kind != Kind::Fwd {
                        false
                    } else {
                        (l.kind == Kind::Union) == t.kind_flag
                    });
                }
                if l.kind != t.kind || l.vlen() > t.vlen() {
                    return Ok(false);
                }
                for lm in l.members() {
                    let lm = lm.map_err(e)?;
                    let mut found = false;
                    for tm in t.members() {
                        let tm = tm.map_err(e)?;
                        if !names_match(lm.name, tm.name) {
                            continue;
                        }
                        if types_match(lbtf, lm.type_id, tbtf, tm.type_id, behind_ptr, level - 1)? {
                            found = true;
                            break;
                        }
                    }
                    if !found {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            Kind::Int => {
                if t.kind != Kind::Int {
                    return Ok(false);
                }
                let ls = l.int().map(|i| i.encoding & BTF_INT_SIGNED).unwrap_or(0);
                let tsg = t.int().map(|i| i.encoding & BTF_INT_SIGNED).unwrap_or(0);
                return Ok(l.size_or_type == t.size_or_type && ls == tsg);
            }
            Kind::Float => return Ok(t.kind == Kind::Float && l.size_or_type == t.size_or_type),
            Kind::Ptr => {
                if t.kind != Kind::Ptr {
                    return Ok(false);
                }
                behind_ptr = true;
                lid = l.size_or_type;
                tid = t.size_or_type;
            }
            Kind::Array => {
                let (Some(la), Some(ta)) = (l.array(), t.array()) else {
                    return Ok(false);
                };
                if la.nelems != ta.nelems {
                    return Ok(false);
                }
                lid = la.elem_type;
                tid = ta.elem_type;
            }
            Kind::FuncProto => {
                if t.kind != Kind::FuncProto || l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for i in 0..l.vlen() {
                    let lp = l.param(i).map_err(e)?;
                    let tp = t.param(i).map_err(e)?;
                    if !types_match(lbtf, lp.type_id, tbtf, tp.type_id, behind_ptr, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = l.size_or_type;
                tid = t.size_or_type;
            }
            _ => return Ok(false),
        }
    }
    Err("type chain too deep".into())
}

/// Compute a relocation value from a spec (`None`: no target found).
pub(crate) fn calc(kind: RelocKind, spec: Option<&Spec<'_>>) -> Result<Calc, String> {
    let mut c = Calc {
        val: None,
        validate: true,
        sz: 0,
        type_id: 0,
    };
    if kind.is_type_based() {
        let Some(spec) = spec else {
            c.val = Some(0);
            return Ok(c);
        };
        c.val = Some(match kind {
            RelocKind::TypeIdLocal | RelocKind::TypeIdTarget => {
                c.validate = false;
                spec.root_id as u64
            }
            RelocKind::TypeSize => spec.btf.resolve_size(spec.root_id).map_err(e)? as u64,
            _ => 1,
        });
        return Ok(c);
    }
    if kind.is_enumval_based() {
        if kind == RelocKind::EnumvalExists {
            c.val = Some(spec.is_some() as u64);
            return Ok(c);
        }
        let Some(spec) = spec else { return Ok(c) };
        let acc = spec.acc.first().ok_or("empty enum spec")?;
        let t = spec.btf.type_by_id(acc.type_id).map_err(e)?;
        c.val = Some(t.enumerator(acc.idx as usize).map_err(e)?.value);
        return Ok(c);
    }
    if kind == RelocKind::FieldExists {
        c.val = Some(spec.is_some() as u64);
        return Ok(c);
    }
    let Some(spec) = spec else { return Ok(c) };
    let btf = spec.btf;
    let acc = spec.acc.last().ok_or("empty field spec")?;
    if acc.name.is_none() {
        let sz = btf.resolve_size(acc.type_id).map_err(e)?;
        match kind {
            RelocKind::FieldByteOffset => {
                c.val = Some(spec.bit_offset / 8);
                c.sz = sz;
                c.type_id = acc.type_id;
            }
            RelocKind::FieldByteSize => c.val = Some(sz as u64),
            _ => {
                return Err(format!(
                    "{kind} relocation cannot be applied to an array element"
                ))
            }
        }
        return Ok(c);
    }
    let t = btf.type_by_id(acc.type_id).map_err(e)?;
    let m = t.member(acc.idx as usize).map_err(e)?;
    let mt = btf.skip_mods_and_typedefs(m.type_id).map_err(e)?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = m.bitfield_size as u64;
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz);
    if bitfield {
        let mut sz = mt.size().unwrap_or(0) as u64;
        if sz == 0 {
            return Err(format!("bitfield '{}' of unsized type {}", m.name, mt.kind));
        }
        let bit_end = bit_off
            .checked_add(bit_sz)
            .ok_or_else(|| format!("bitfield '{}': offset overflows", m.name))?;
        let mut off = bit_off / 8 / sz * sz;
        while bit_end - off * 8 > sz * 8 {
            if sz >= 8 {
                return Err(format!(
                    "bitfield '{}' cannot be read with a 64-bit load",
                    m.name
                ));
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        byte_off = off;
        byte_sz = sz;
    } else {
        byte_sz = btf.resolve_size(mt.id).map_err(e)? as u64;
        byte_off = bit_off / 8;
        bit_sz = byte_sz * 8;
    }
    c.validate = !bitfield;
    c.val = Some(match kind {
        RelocKind::FieldByteOffset => {
            if !bitfield {
                c.sz = byte_sz as u32;
                c.type_id = mt.id;
            }
            byte_off
        }
        RelocKind::FieldByteSize => byte_sz,
        RelocKind::FieldSigned => {
            c.validate = true;
            let signed = (mt.kind.is_any_enum() && mt.kind_flag)
                || mt.int().is_some_and(|i| i.encoding & BTF_INT_SIGNED != 0);
            signed as u64
        }
        RelocKind::FieldLshiftU64 => (64u32)
            .wrapping_sub(bit_off.wrapping_add(bit_sz).wrapping_sub(byte_off * 8) as u32)
            as u64,
        RelocKind::FieldRshiftU64 => {
            c.validate = true;
            (64u32).wrapping_sub(bit_sz as u32) as u64
        }
        _ => return Err(format!("unexpected kind {kind}")),
    });
    Ok(c)
}

/// Whether a load/store of a field whose size changed can simply be
/// resized: both pointers, or both unsigned integers.
pub(crate) fn memsz_adjustable(lbtf: &Btf, lid: u32, tbtf: &Btf, tid: u32) -> bool {
    let (Ok(l), Ok(t)) = (
        lbtf.skip_mods_and_typedefs(lid),
        tbtf.skip_mods_and_typedefs(tid),
    ) else {
        return false;
    };
    if l.kind == Kind::Ptr && t.kind == Kind::Ptr {
        return true;
    }
    match (l.int(), t.int()) {
        (Some(a), Some(b)) => a.encoding & BTF_INT_SIGNED == 0 && b.encoding & BTF_INT_SIGNED == 0,
        _ => false,
    }
}
