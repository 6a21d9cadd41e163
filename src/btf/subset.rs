//! Writing a subset of a BTF: chosen types, and of chosen structs, unions
//! and enums only some members or enumerators (what `tinybpf btf min`
//! writes; which types to keep is decided by `reloc::min_btf`).
//!
//! Kept types get new consecutive ids in their original order; a reference
//! to a type that is not kept becomes a reference to void (id 0). Members
//! keep their bit offsets and a struct keeps its size, so offsets and sizes
//! read from the subset are the original ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::types::rd32;
use super::{Btf, BtfBuilder, BtfError, Kind};

/// What is kept of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The whole type: every member, parameter or enumerator.
    Whole,
    /// For structs, unions and enums: only these members or enumerators (by
    /// index; may be empty: only the type's name, kind and size). Other kinds
    /// are always written whole.
    Parts(BTreeSet<u32>),
}

/// Which types of one BTF (and which of their parts) to write.
#[derive(Clone, Debug, Default)]
pub struct Subset {
    keep: BTreeMap<u32, Keep>,
}

impl Subset {
    /// Nothing kept.
    pub fn new() -> Subset {
        Subset::default()
    }
    /// Keep type `id` whole. Returns whether it was not kept whole before.
    pub fn keep_whole(&mut self, id: u32) -> bool {
        if id == 0 {
            return false;
        }
        !matches!(self.keep.insert(id, Keep::Whole), Some(Keep::Whole))
    }
    /// Keep type `id` (at least its header). Returns whether it is new.
    pub fn keep_type(&mut self, id: u32) -> bool {
        if id == 0 || self.keep.contains_key(&id) {
            return false;
        }
        self.keep.insert(id, Keep::Parts(BTreeSet::new()));
        true
    }
    /// Keep member or enumerator `idx` of type `id` (and the type).
    pub fn keep_part(&mut self, id: u32, idx: u32) {
        if id == 0 {
            return;
        }
        match self
            .keep
            .entry(id)
            .or_insert_with(|| Keep::Parts(BTreeSet::new()))
        {
            Keep::Whole => {}
            Keep::Parts(p) => {
                p.insert(idx);
            }
        }
    }
    /// Whether type `id` is kept.
    pub fn contains(&self, id: u32) -> bool {
        self.keep.contains_key(&id)
    }
    /// What is kept of type `id`.
    pub fn get(&self, id: u32) -> Option<&Keep> {
        self.keep.get(&id)
    }
    /// Number of kept types.
    pub fn len(&self) -> usize {
        self.keep.len()
    }
    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.keep.is_empty()
    }
}

/// Strings of the new BTF, each written once.
struct Strings<'a> {
    b: BtfBuilder,
    seen: HashMap<&'a str, u32>,
}

impl<'a> Strings<'a> {
    fn add(&mut self, s: &'a str) -> u32 {
        if let Some(&o) = self.seen.get(s) {
            return o;
        }
        let o = self.b.add_str(s);
        self.seen.insert(s, o);
        o
    }
}

impl Btf {
    /// Write the types of `subset` as a new, standalone raw BTF (see the
    /// module documentation for what changes).
    pub fn write_subset(&self, subset: &Subset) -> Result<Vec<u8>, BtfError> {
        let mut ids: HashMap<u32, u32> = HashMap::with_capacity(subset.len());
        for (n, id) in subset.keep.keys().enumerate() {
            if *id >= self.len() {
                return Err(BtfError::NoSuchType {
                    id: *id,
                    last: self.len().saturating_sub(1),
                });
            }
            ids.insert(*id, n as u32 + 1);
        }
        let new = |id: u32| ids.get(&id).copied().unwrap_or(0);
        let mut s = Strings {
            b: BtfBuilder::new(),
            seen: HashMap::new(),
        };
        let mut recs: Vec<(u32, Kind, bool, u16, u32, Vec<u8>)> = Vec::new();
        for (&id, keep) in &subset.keep {
            let t = self.type_by_id(id)?;
            let wanted = |i: usize| match keep {
                Keep::Whole => true,
                Keep::Parts(p) => p.contains(&(i as u32)),
            };
            let x = t.extra;
            let mut extra = Vec::new();
            let mut vlen = t.vlen;
            let mut sot = t.size_or_type;
            let push = |e: &mut Vec<u8>, w: u32| e.extend_from_slice(&w.to_le_bytes());
            match t.kind {
                Kind::Struct | Kind::Union => {
                    let mut n = 0u16;
                    for i in 0..t.vlen() {
                        if !wanted(i) {
                            continue;
                        }
                        let m = t.member(i)?;
                        push(&mut extra, s.add(m.name));
                        push(&mut extra, new(m.type_id));
                        push(&mut extra, rd32(x, i * 12 + 8));
                        n += 1;
                    }
                    vlen = n;
                }
                Kind::Enum | Kind::Enum64 => {
                    let w = if t.kind == Kind::Enum { 8 } else { 12 };
                    let mut n = 0u16;
                    for i in 0..t.vlen() {
                        if !wanted(i) {
                            continue;
                        }
                        let e = t.enumerator(i)?;
                        push(&mut extra, s.add(e.name));
                        extra.extend_from_slice(x.get(i * w + 4..i * w + w).unwrap_or(&[]));
                        n += 1;
                    }
                    vlen = n;
                }
                Kind::FuncProto => {
                    sot = new(sot);
                    for i in 0..t.vlen() {
                        let p = t.param(i)?;
                        push(&mut extra, s.add(p.name));
                        push(&mut extra, new(p.type_id));
                    }
                }
                Kind::Array => {
                    let Some(a) = t.array() else { continue };
                    push(&mut extra, new(a.elem_type));
                    push(&mut extra, new(a.index_type));
                    push(&mut extra, a.nelems);
                }
                Kind::Datasec => {
                    for v in t.vars() {
                        push(&mut extra, new(v.type_id));
                        push(&mut extra, v.offset);
                        push(&mut extra, v.size);
                    }
                }
                Kind::Int | Kind::Fwd | Kind::Float | Kind::Void => extra.extend_from_slice(x),
                Kind::Ptr
                | Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Func
                | Kind::TypeTag
                | Kind::Var
                | Kind::DeclTag => {
                    sot = new(sot);
                    extra.extend_from_slice(x);
                }
            }
            recs.push((s.add(t.name), t.kind, t.kind_flag, vlen, sot, extra));
        }
        let mut b = s.b;
        for (name, kind, kflag, vlen, sot, extra) in recs {
            b.add_record(name, kind, kflag, vlen, sot, &extra);
        }
        Ok(b.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_offsets_sizes_and_refs_to_dropped_types_become_void() {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, crate::btf::BTF_INT_SIGNED); // 1
        let other = b.add_composite(false, "other", 8, &[]); // 2
        let p = b.add_ptr(other); // 3
        let s = b.add_composite(
            false,
            "s",
            32,
            &[("a", int, 0), ("p", p, 64), ("c", int, 192)],
        ); // 4
        let e = b.add_enum("e", 4, false, &[("X", 1), ("Y", 2), ("Z", 3)]); // 5
        let btf = Btf::parse(b.to_bytes()).unwrap();
        let mut sub = Subset::new();
        sub.keep_part(s, 1);
        sub.keep_part(s, 2);
        sub.keep_type(p);
        sub.keep_type(int);
        sub.keep_part(e, 2);
        assert!(!sub.keep_type(int));
        let out = Btf::parse(btf.write_subset(&sub).unwrap()).unwrap();
        assert_eq!(out.len(), 5); // void + int, ptr, s, e
        let s2 = out
            .type_by_id(out.find_by_name_kind("s", Kind::Struct).unwrap())
            .unwrap();
        assert_eq!((s2.size(), s2.vlen()), (Some(32), 2));
        let (m0, m1) = (s2.member(0).unwrap(), s2.member(1).unwrap());
        assert_eq!((m0.name, m0.bit_offset), ("p", 64));
        assert_eq!((m1.name, m1.bit_offset), ("c", 192));
        let ptr = out.type_by_id(m0.type_id).unwrap();
        assert_eq!((ptr.kind, ptr.size_or_type), (Kind::Ptr, 0)); // `other` dropped
        assert_eq!(out.type_by_id(m1.type_id).unwrap().name, "int");
        let e2 = out
            .type_by_id(out.find_by_name_kind("e", Kind::Enum).unwrap())
            .unwrap();
        let z = e2.enumerator(0).unwrap();
        assert_eq!((e2.vlen(), z.name, z.value), (1, "Z", 3));
        // Whole wins over parts.
        sub.keep_whole(s);
        sub.keep_part(s, 0);
        assert_eq!(sub.get(s), Some(&Keep::Whole));
        // Out of range: an error, not a panic.
        sub.keep_type(99);
        assert!(btf.write_subset(&sub).is_err());
    }
}
