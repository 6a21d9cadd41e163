//! Lookups by type id and string offset, and the questions answered by
//! following type chains (modifiers, sizes).

use super::parse::{extra_len, type_len_at};
use super::types::{rd32, KIND_DATASEC};
use super::{Btf, BtfError, Kind, Type, MAX_CHAIN, PTR_SIZE, RECENT, SPARSE, TYPE_HDR};
use std::sync::atomic::Ordering;

impl Btf {
    /// The NUL-terminated string at `off` (split BTF: offsets continue
    /// after the base's string section).
    pub fn str_at(&self, off: u32) -> Result<&str, BtfError> {
        if off < self.base_str_len {
            if let Some(base) = &self.base {
                return base.str_at(off);
            }
        }
        let o = (off - self.base_str_len) as usize;
        let s = self.strs();
        let rest = s.get(o..).ok_or(BtfError::BadString {
            offset: off,
            what: "outside string section",
        })?;
        let end = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or(BtfError::BadString {
                offset: off,
                what: "not NUL-terminated",
            })?;
        std::str::from_utf8(&rest[..end]).map_err(|_| BtfError::BadString {
            offset: off,
            what: "not UTF-8",
        })
    }

    /// The type with id `id` (0 is void).
    pub fn type_by_id(&self, id: u32) -> Result<Type<'_>, BtfError> {
        if id < self.first_id {
            if let Some(base) = &self.base {
                return base.type_by_id(id);
            }
            // id 0: void
            return Ok(Type {
                id: 0,
                kind: Kind::Void,
                name: "void",
                name_off: 0,
                kind_flag: false,
                vlen: 0,
                size_or_type: 0,
                extra: &[],
                btf: self,
            });
        }
        let off = self.own_offset(id).ok_or_else(|| BtfError::NoSuchType {
            id,
            last: self.next_id().saturating_sub(1),
        })?;
        let types = self.types();
        let name_off = rd32(types, off);
        let info = rd32(types, off + 4);
        let kind = Kind::from_u32((info >> 24) & 0x1f).unwrap_or(Kind::Void);
        let vlen = (info & 0xffff) as u16;
        let elen = extra_len(kind, vlen as usize);
        let extra = types
            .get(off + TYPE_HDR..off + TYPE_HDR + elen)
            .unwrap_or(&[]);
        let name = self.str_at(name_off).map_err(|e| BtfError::BadType {
            id,
            offset: off,
            what: e.to_string(),
        })?;
        Ok(Type {
            id,
            kind,
            name,
            name_off,
            kind_flag: info >> 31 == 1,
            vlen,
            size_or_type: rd32(types, off + 8),
            extra,
            btf: self,
        })
    }

    /// Offset in the type section of own type `id`: the nearest recorded
    /// offset at or before it in its segment, then a step over each type in
    /// between (at most `SPARSE - 1`).
    pub(super) fn own_offset(&self, id: u32) -> Option<usize> {
        let i = id.checked_sub(self.first_id)?;
        if i >= self.count {
            return None;
        }
        // The last segment starting at or before type i (unused: u32::MAX).
        let mut seg = (0u32, 0u32);
        for &s in &self.segs {
            if s.0 <= i {
                seg = s;
            }
        }
        let local = (i - seg.0) as usize;
        let mut off = *self.sparse.get(seg.1 as usize + local / SPARSE)? as usize;
        if local % SPARSE == 0 {
            return Some(off);
        }
        let slot = self.recent.get(i as usize % RECENT)?;
        let key = (u64::from(i) + 1) << 32;
        let v = slot.load(Ordering::Relaxed);
        if v & !0xffff_ffff == key {
            return Some((v & 0xffff_ffff) as usize);
        }
        let types = self.types();
        for _ in 0..local % SPARSE {
            off += type_len_at(types.get(off..)?);
        }
        // The type section is shorter than 4 GiB (its length is a u32).
        slot.store(key | off as u64, Ordering::Relaxed);
        Some(off)
    }

    /// Name of type `id` ("" if anonymous).
    pub fn name(&self, id: u32) -> Result<&str, BtfError> {
        if id == 0 {
            return Ok("");
        }
        Ok(self.type_by_id(id)?.name)
    }

    /// Iterate over all types (own and base), skipping void.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Type<'_>> + Send + '_> {
        let own = self
            .own_walk()
            .filter_map(move |(id, _)| self.type_by_id(id).ok());
        match &self.base {
            Some(base) => Box::new(base.iter().chain(own)),
            None => Box::new(own),
        }
    }

    /// (id, offset in the type section) of each own type, in id order: one
    /// sequential walk (the parse checked every header), not a sparse
    /// lookup per id.
    pub(super) fn own_walk(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        let types = self.types();
        let mut off = 0usize;
        self.own_ids().map_while(move |id| {
            let at = off;
            let len = type_len_at(types.get(at..)?);
            if len == 0 {
                return None;
            }
            off += len;
            Some((id, at))
        })
    }

    /// Raw bytes of the string at `off` (no UTF-8 check); empty if invalid.
    pub(super) fn raw_str(&self, off: u32) -> &[u8] {
        if off < self.base_str_len {
            if let Some(base) = &self.base {
                return base.raw_str(off);
            }
        }
        let rest = self
            .strs()
            .get((off - self.base_str_len) as usize..)
            .unwrap_or(&[]);
        let end = rest.iter().position(|&c| c == 0).unwrap_or(0);
        &rest[..end]
    }

    /// The string section from offset `off` to its end (the base's for
    /// offsets below its length); empty if out of range.
    #[inline]
    pub(super) fn str_tail(&self, off: u32) -> &[u8] {
        if off < self.base_str_len {
            if let Some(base) = &self.base {
                return base.str_tail(off);
            }
        }
        self.strs()
            .get((off - self.base_str_len) as usize..)
            .unwrap_or(&[])
    }

    /// Follow typedefs and modifiers (const, volatile, restrict, type tags).
    pub fn skip_mods_and_typedefs(&self, id: u32) -> Result<Type<'_>, BtfError> {
        let mut t = self.type_by_id(id)?;
        for _ in 0..MAX_CHAIN {
            if !t.kind.is_mod_or_typedef() {
                return Ok(t);
            }
            t = self.type_by_id(t.size_or_type)?;
        }
        Err(BtfError::TooDeep { id })
    }

    /// Size in bytes of a type, following typedefs, modifiers, VARs and arrays.
    pub fn resolve_size(&self, id: u32) -> Result<u32, BtfError> {
        let mut cur = id;
        let mut mult: u64 = 1;
        for _ in 0..MAX_CHAIN {
            let t = self.type_by_id(cur)?;
            let no_size = |what| BtfError::NoSize {
                id,
                name: t.name.to_string(),
                what,
            };
            match t.kind {
                k if k.has_size() => {
                    let total = mult * t.size_or_type as u64;
                    return u32::try_from(total).map_err(|_| no_size("size overflows u32"));
                }
                Kind::Ptr => {
                    let total = mult * PTR_SIZE as u64;
                    return u32::try_from(total).map_err(|_| no_size("size overflows u32"));
                }
                Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::TypeTag
                | Kind::Var
                | Kind::DeclTag => cur = t.size_or_type,
                Kind::Array => {
                    let a = t.array().ok_or_else(|| no_size("bad array"))?;
                    mult = mult
                        .checked_mul(a.nelems as u64)
                        .filter(|m| *m <= u32::MAX as u64)
                        .ok_or_else(|| no_size("size overflows u32"))?;
                    cur = a.elem_type;
                }
                _ => return Err(no_size("kind has no size")),
            }
        }
        Err(BtfError::TooDeep { id })
    }

    /// All DATASEC types (own types only).
    pub fn datasecs(&self) -> impl Iterator<Item = Type<'_>> + '_ {
        let types = self.types();
        self.own_walk()
            // Only DATASECs are decoded: the kind is in byte 7 of a header.
            .filter(move |&(_, off)| {
                types.get(off + 7).map(|k| (k & 0x1f) as u32) == Some(KIND_DATASEC)
            })
            .filter_map(move |(id, _)| self.type_by_id(id).ok())
    }
}
