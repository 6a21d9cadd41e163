//! Fix-ups for `.ksyms` externs (kernel variables and kfuncs), which the
//! kernel's BTF checker refuses as clang writes them: a DATASEC entry must be
//! a VAR (kfunc entries are FUNCs), no VAR or FUNC may have extern linkage,
//! and a FUNC's parameters need names. The patches here rewrite fields in
//! place; [`Btf::with_appended`] adds whole types (a fresh parse, new ids
//! after the last one, so no existing id moves).

use super::{Btf, BtfError, Kind, HDR_MIN, TYPE_HDR};

/// Kind numbers as encoded in a type's info word.
const KIND_INT: u32 = 1;
const KIND_VAR: u32 = 14;

impl Btf {
    /// Point VAR `type_id` at type `target`.
    pub fn set_var_type(&mut self, type_id: u32, target: u32) -> Result<(), BtfError> {
        let at = self.own_type_offset(type_id, Kind::Var)? + 8;
        self.write32(type_id, at, target)
    }

    /// Set the linkage of FUNC `type_id` (0 static, 1 global, 2 extern),
    /// keeping its kind_flag: a global function with hidden visibility
    /// becomes static, as libbpf does, so the verifier checks it in its
    /// callers' context.
    pub fn set_func_linkage(&mut self, type_id: u32, linkage: u16) -> Result<(), BtfError> {
        let at = self.own_type_offset(type_id, Kind::Func)? + 4;
        let t = self.type_by_id(type_id)?;
        let info = (u32::from(t.kind_flag) << 31) | (12 << 24) | u32::from(linkage);
        self.write32(type_id, at, info)
    }

    /// Set the type, offset and size of entry `index` of DATASEC `type_id`.
    pub fn set_datasec_entry(
        &mut self,
        type_id: u32,
        index: usize,
        entry_type: u32,
        offset: u32,
        size: u32,
    ) -> Result<(), BtfError> {
        if index >= self.type_by_id(type_id)?.vlen() {
            return Err(BtfError::Patch {
                id: type_id,
                what: "datasec entry index out of range",
            });
        }
        let at = self.own_type_offset(type_id, Kind::Datasec)? + TYPE_HDR + index * 12;
        self.write32(type_id, at, entry_type)?;
        self.write32(type_id, at + 4, offset)?;
        self.write32(type_id, at + 8, size)
    }

    /// Set the name (a string offset) of parameter `index` of FUNC_PROTO
    /// `type_id`.
    pub fn set_param_name(
        &mut self,
        type_id: u32,
        index: usize,
        name_off: u32,
    ) -> Result<(), BtfError> {
        if index >= self.type_by_id(type_id)?.vlen() {
            return Err(BtfError::Patch {
                id: type_id,
                what: "parameter index out of range",
            });
        }
        let at = self.own_type_offset(type_id, Kind::FuncProto)? + TYPE_HDR + index * 8;
        self.write32(type_id, at, name_off)
    }

    /// This BTF with raw `types` appended to its type section and `strs` to
    /// its string section (string offsets in `types` must already count from
    /// the start of the whole string section: see [`Btf::strings_len`]).
    /// Only for BTF without a base (an object's).
    pub fn with_appended(&self, types: &[u8], strs: &[u8]) -> Result<Btf, BtfError> {
        if self.base.is_some() {
            return Err(BtfError::Patch {
                id: self.first_id,
                what: "cannot append types to split BTF",
            });
        }
        let mut out = self.to_bytes();
        let old_types = self.types().len();
        let old_strs = self.strs().len();
        let bad = || BtfError::BadHeader("appended BTF too large".into());
        let tl = u32::try_from(old_types + types.len()).map_err(|_| bad())?;
        let sl = u32::try_from(old_strs + strs.len()).map_err(|_| bad())?;
        // Header: type_off 0, type_len, str_off, str_len (all after HDR_MIN).
        out[12..16].copy_from_slice(&tl.to_le_bytes());
        out[16..20].copy_from_slice(&tl.to_le_bytes());
        out[20..24].copy_from_slice(&sl.to_le_bytes());
        let at = HDR_MIN + old_types;
        out.splice(at..at, types.iter().copied());
        out.extend_from_slice(strs);
        Btf::parse(out)
    }

    /// Length of the own string section (the offset the next appended string
    /// gets, for BTF without a base).
    pub fn strings_len(&self) -> u32 {
        self.strs().len() as u32
    }
}

/// Raw bytes of an INT type: `name_off`, `size` bytes, signed or not.
pub fn raw_int(name_off: u32, size: u32, signed: bool) -> Vec<u8> {
    let mut v = Vec::with_capacity(16);
    v.extend_from_slice(&name_off.to_le_bytes());
    v.extend_from_slice(&(KIND_INT << 24).to_le_bytes());
    v.extend_from_slice(&size.to_le_bytes());
    let enc: u32 = if signed { 1 } else { 0 };
    v.extend_from_slice(&((enc << 24) | (size * 8)).to_le_bytes());
    v
}

/// Raw bytes of a VAR type: `name_off`, of type `type_id`, with `linkage`.
pub fn raw_var(name_off: u32, type_id: u32, linkage: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(16);
    v.extend_from_slice(&name_off.to_le_bytes());
    v.extend_from_slice(&(KIND_VAR << 24).to_le_bytes());
    v.extend_from_slice(&type_id.to_le_bytes());
    v.extend_from_slice(&linkage.to_le_bytes());
    v
}
