//! Minimal target BTF for a set of objects (what `bpftool gen min_core_btf`
//! calls BTFGen): only the types, members and enumerators that the objects'
//! CO-RE relocations use on one kernel, so that relocating against the
//! small BTF gives the same instructions as against the kernel's whole BTF.
//!
//! Feed it the outcomes of [`relocate_copy`](super::relocate_copy) with
//! [`CoreTarget::Custom`](super::CoreTarget::Custom) (every
//! [`TargetUse`] names a candidate type and the target access path), then
//! write it with [`MinBtf::to_bytes`]. What is kept:
//!
//! - field relocations: every type along the access path (typedefs and
//!   modifiers included), of each struct or union only the accessed members
//!   (at their original offsets; the struct keeps its size), of each member
//!   type what sizes, signedness and compatibility checks read (a pointer is
//!   kept, its pointee only if something else keeps it: otherwise it points
//!   to void); for a zero-length array member, the struct's last member too
//!   (flexible-array detection);
//! - enumerator relocations: the enum with the used enumerators;
//! - `type_exists`/`type_size`/`target_type_id`: the type and what
//!   compatibility follows (pointers, arrays, function prototypes);
//!   structs, unions and enums only by name and size;
//! - `type_matches`: the type whole, recursively (behind a pointer, structs
//!   and unions only by name).
//!
//! Type ids are renumbered, so a `target_type_id` relocation yields the id
//! of the same type in the minimal BTF, not the kernel's.

use std::collections::HashSet;

use crate::btf::{Btf, BtfError, Kind, Subset, MAX_CHAIN};
use crate::reloc::core::{RelocKind, RelocOutcome, TargetUse};

/// Collects what the relocations use of one target BTF.
#[derive(Debug)]
pub struct MinBtf<'b> {
    btf: &'b Btf,
    keep: Subset,
    matched: HashSet<(u32, bool)>,
}

fn too_deep(id: u32) -> BtfError {
    BtfError::TooDeep { id }
}

impl<'b> MinBtf<'b> {
    /// Nothing kept yet of `btf`.
    pub fn new(btf: &'b Btf) -> MinBtf<'b> {
        MinBtf {
            btf,
            keep: Subset::new(),
            matched: HashSet::new(),
        }
    }

    /// Keep what these outcomes (of relocating against this BTF as the
    /// only target) used.
    pub fn add_outcomes(&mut self, outcomes: &[RelocOutcome]) -> Result<(), BtfError> {
        for o in outcomes {
            for u in o.target_uses.iter().filter(|u| u.btf_index == 0) {
                self.add_use(o.kind, u)?;
            }
        }
        Ok(())
    }

    /// What is kept so far.
    pub fn subset(&self) -> &Subset {
        &self.keep
    }

    /// The minimal BTF (raw).
    pub fn to_bytes(&self) -> Result<Vec<u8>, BtfError> {
        self.btf.write_subset(&self.keep)
    }

    fn add_use(&mut self, kind: RelocKind, u: &TargetUse) -> Result<(), BtfError> {
        use RelocKind::*;
        match kind {
            TypeIdLocal => Ok(()),
            TypeMatches => self.matches(u.type_id, false, MAX_CHAIN),
            TypeIdTarget | TypeExists | TypeSize => self.compat(u.type_id, MAX_CHAIN),
            EnumvalExists | EnumvalValue => {
                let t = self.chain(u.type_id)?;
                if let Some(&i) = u.raw.first() {
                    self.keep.keep_part(t, i);
                }
                Ok(())
            }
            _ => self.field(u),
        }
    }

    /// Keep `id` and the typedefs/modifiers under it; returns the first
    /// type that is neither.
    fn chain(&mut self, mut id: u32) -> Result<u32, BtfError> {
        for _ in 0..MAX_CHAIN {
            let t = self.btf.type_by_id(id)?;
            self.keep.keep_type(id);
            if !t.kind.is_mod_or_typedef() {
                return Ok(id);
            }
            id = t.size_or_type;
        }
        Err(too_deep(id))
    }

    /// Keep what reading a value of type `id` needs: its size, kind,
    /// signedness, names (arrays down to their element type; pointers
    /// without their pointee; structs, unions and enums without members).
    fn shallow(&mut self, mut id: u32) -> Result<(), BtfError> {
        for _ in 0..MAX_CHAIN {
            let t = self.chain(id)?;
            let Some(a) = self.btf.type_by_id(t)?.array() else {
                return Ok(());
            };
            self.chain(a.index_type)?;
            id = a.elem_type;
        }
        Err(too_deep(id))
    }

    fn field(&mut self, u: &TargetUse) -> Result<(), BtfError> {
        let mut id = u.type_id;
        self.shallow(id)?;
        for &idx in u.raw.iter().skip(1) {
            let t = self.chain(id)?;
            let t = self.btf.type_by_id(t)?;
            if t.is_composite() {
                let m = t.member(idx as usize)?;
                self.keep.keep_part(t.id, idx);
                self.shallow(m.type_id)?;
                let mt = self.btf.skip_mods_and_typedefs(m.type_id)?;
                if mt.array().is_some_and(|a| a.nelems == 0) && t.vlen() > 0 {
                    let last = t.vlen() - 1;
                    self.keep.keep_part(t.id, last as u32);
                    self.shallow(t.member(last)?.type_id)?;
                }
                id = m.type_id;
            } else if let Some(a) = t.array() {
                id = a.elem_type;
            } else {
                break;
            }
        }
        self.shallow(id)
    }

    /// What `types_compat` reads.
    fn compat(&mut self, id: u32, level: usize) -> Result<(), BtfError> {
        if level == 0 {
            return Err(too_deep(id));
        }
        let t = self.chain(id)?;
        let t = self.btf.type_by_id(t)?;
        match t.kind {
            Kind::Ptr => self.compat(t.size_or_type, level - 1),
            Kind::Array => {
                let a = t.array().unwrap_or(crate::btf::ArrayInfo {
                    elem_type: 0,
                    index_type: 0,
                    nelems: 0,
                });
                self.chain(a.index_type)?;
                self.compat(a.elem_type, level - 1)
            }
            Kind::FuncProto => {
                for i in 0..t.vlen() {
                    self.compat(t.param(i)?.type_id, level - 1)?;
                }
                self.compat(t.size_or_type, level - 1)
            }
            _ => Ok(()),
        }
    }

    /// What `types_match` reads.
    fn matches(&mut self, id: u32, behind_ptr: bool, level: usize) -> Result<(), BtfError> {
        if level == 0 {
            return Err(too_deep(id));
        }
        if !self.matched.insert((id, behind_ptr)) {
            return Ok(());
        }
        let t = self.chain(id)?;
        let t = self.btf.type_by_id(t)?;
        match t.kind {
            Kind::Enum | Kind::Enum64 => {
                self.keep.keep_whole(t.id);
                Ok(())
            }
            Kind::Struct | Kind::Union if !behind_ptr => {
                self.keep.keep_whole(t.id);
                for m in t.members() {
                    self.matches(m?.type_id, false, level - 1)?;
                }
                Ok(())
            }
            Kind::Ptr => self.matches(t.size_or_type, true, level - 1),
            Kind::Array => {
                if let Some(a) = t.array() {
                    self.chain(a.index_type)?;
                    self.matches(a.elem_type, behind_ptr, level - 1)?;
                }
                Ok(())
            }
            Kind::FuncProto => {
                for i in 0..t.vlen() {
                    self.matches(t.param(i)?.type_id, behind_ptr, level - 1)?;
                }
                self.matches(t.size_or_type, behind_ptr, level - 1)
            }
            _ => Ok(()),
        }
    }
}
