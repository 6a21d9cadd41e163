//! Access specs: a parsed access string against one BTF.

use crate::btf::{ArrayInfo, Btf};

use super::RelocKind;

/// Longest access string we accept.
pub(crate) const MAX_SPEC_LEN: usize = 64;

/// One step of an access: a named member (`name` set; `type_id` is the
/// containing struct/union, `idx` the member index) or an array element
/// (`name` unset; `type_id` is the element type, `idx` the element index).
/// For enumerators, `type_id` is the enum and `idx` the enumerator index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Acc<'b> {
    pub type_id: u32,
    pub idx: u32,
    pub name: Option<&'b str>,
}

#[derive(Clone, Debug)]
pub(crate) struct Spec<'b> {
    pub btf: &'b Btf,
    pub root_id: u32,
    /// Every index, including anonymous members.
    pub raw: Vec<u32>,
    /// Named members and array accesses only.
    pub acc: Vec<Acc<'b>>,
    pub bit_offset: u64,
}

fn e<T: ToString>(x: T) -> String {
    x.to_string()
}

/// An array is flexible if it has no elements and is the last member of the
/// struct it was reached through.
pub(crate) fn is_flex_arr(btf: &Btf, prev: Option<&Acc>, a: &ArrayInfo) -> bool {
    let Some(prev) = prev else { return false };
    if prev.name.is_none() || a.nelems > 0 {
        return false;
    }
    match btf.type_by_id(prev.type_id) {
        Ok(t) => t.vlen() > 0 && prev.idx as usize == t.vlen() - 1,
        Err(_) => false,
    }
}

pub(crate) fn elem_bits(idx: u32, size: u32) -> Result<u64, String> {
    (idx as u64)
        .checked_mul(size as u64)
        .and_then(|b| b.checked_mul(8))
        .ok_or_else(|| "offset overflows".to_string())
}

impl<'b> Spec<'b> {
    pub(crate) fn empty(btf: &'b Btf, root_id: u32) -> Spec<'b> {
        Spec {
            btf,
            root_id,
            raw: Vec::new(),
            acc: Vec::new(),
            bit_offset: 0,
        }
    }

    /// Parse a local access string.
    pub(crate) fn parse(
        btf: &'b Btf,
        root: u32,
        kind: RelocKind,
        access: &str,
    ) -> Result<Spec<'b>, String> {
        let mut raw = Vec::new();
        for part in access.split(':') {
            if raw.len() >= MAX_SPEC_LEN {
                return Err(format!("access string longer than {MAX_SPEC_LEN} steps"));
            }
            let v: u32 = part
                .parse()
                .map_err(|_| format!("bad access string '{access}'"))?;
            raw.push(v);
        }
        let mut spec = Spec::empty(btf, root);
        spec.raw = raw.clone();
        if kind.is_type_based() {
            if raw != [0] {
                return Err(format!(
                    "type-based relocation needs access string \"0\", got '{access}'"
                ));
            }
            // The root must exist.
            btf.type_by_id(root).map_err(e)?;
            return Ok(spec);
        }
        let t = btf.skip_mods_and_typedefs(root).map_err(e)?;
        if kind.is_enumval_based() {
            if !t.kind.is_any_enum() || raw.len() != 1 {
                return Err(format!(
                    "enum value relocation on {} with access '{access}'",
                    t.kind
                ));
            }
            let en = t.enumerator(raw[0] as usize).map_err(e)?;
            spec.acc.push(Acc {
                type_id: t.id,
                idx: raw[0],
                name: Some(en.name),
            });
            return Ok(spec);
        }
        // Field-based: the first index is an array index on the root.
        let sz = btf.resolve_size(t.id).map_err(e)?;
        spec.bit_offset = elem_bits(raw[0], sz)?;
        spec.acc.push(Acc {
            type_id: t.id,
            idx: raw[0],
            name: None,
        });
        let mut id = t.id;
        for &idx in &raw[1..] {
            let t = btf.skip_mods_and_typedefs(id).map_err(e)?;
            id = t.id;
            if t.is_composite() {
                let m = t.member(idx as usize).map_err(e)?;
                spec.bit_offset = spec
                    .bit_offset
                    .checked_add(m.bit_offset as u64)
                    .ok_or("offset overflows")?;
                if !m.name.is_empty() {
                    spec.acc.push(Acc {
                        type_id: id,
                        idx,
                        name: Some(m.name),
                    });
                }
                id = m.type_id;
            } else if let Some(a) = t.array() {
                let et = btf.skip_mods_and_typedefs(a.elem_type).map_err(e)?;
                let flex = is_flex_arr(btf, spec.acc.last(), &a);
                if !flex && idx >= a.nelems {
                    return Err(format!(
                        "array index {idx} out of bounds (array [{}] has {} elements)",
                        t.id, a.nelems
                    ));
                }
                let sz = btf.resolve_size(et.id).map_err(e)?;
                spec.bit_offset = spec
                    .bit_offset
                    .checked_add(elem_bits(idx, sz)?)
                    .ok_or("offset overflows")?;
                spec.acc.push(Acc {
                    type_id: et.id,
                    idx,
                    name: None,
                });
                id = et.id;
            } else {
                return Err(format!(
                    "access index {idx} into [{}] of kind {} (not struct, union or array)",
                    t.id, t.kind
                ));
            }
        }
        Ok(spec)
    }

    /// Human-readable path, e.g. `task_struct.real_parent.tgid` or
    /// `enum foo::BAR`.
    pub(crate) fn describe(&self) -> String {
        let root = self
            .btf
            .skip_mods_and_typedefs(self.root_id)
            .map(|t| {
                if t.name.is_empty() {
                    format!("<anon {}>", t.kind)
                } else {
                    t.name.to_string()
                }
            })
            .unwrap_or_else(|_| format!("[{}]", self.root_id));
        if self.acc.is_empty() {
            return root;
        }
        let mut s = root;
        for (i, a) in self.acc.iter().enumerate() {
            match a.name {
                Some(n) if self.raw.len() == 1 && i == 0 => {
                    // enumerator
                    s.push_str("::");
                    s.push_str(n);
                }
                Some(n) => {
                    s.push('.');
                    s.push_str(n);
                }
                None if i == 0 && a.idx == 0 => {}
                None => s.push_str(&format!("[{}]", a.idx)),
            }
        }
        s
    }
}
