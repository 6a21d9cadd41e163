//! A small BTF writer: types are appended one record at a time and get
//! consecutive ids from 1. Used for feature probes (tiny BTF blobs), for the
//! sanitized copy of an object's BTF, and by tests that need hand-made BTF.

use super::{Kind, BTF_MAGIC, HDR_MIN};

/// Builds a raw BTF blob (header, type section, string section).
#[derive(Debug, Clone)]
pub struct BtfBuilder {
    types: Vec<u8>,
    strs: Vec<u8>,
    next_id: u32,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        BtfBuilder::new()
    }
}

fn int_word(encoding: u8, bits: u32) -> [u8; 4] {
    (((encoding as u32) << 24) | (bits & 0xff)).to_le_bytes()
}

impl BtfBuilder {
    /// An empty BTF (only the empty string).
    pub fn new() -> BtfBuilder {
        BtfBuilder {
            types: Vec::new(),
            strs: vec![0],
            next_id: 1,
        }
    }

    /// Start from an existing string section (kept as is, so existing
    /// string offsets stay valid); new strings are appended after it.
    pub fn with_strings(strs: &[u8]) -> BtfBuilder {
        let mut s = strs.to_vec();
        if s.is_empty() {
            s.push(0);
        }
        BtfBuilder {
            types: Vec::new(),
            strs: s,
            next_id: 1,
        }
    }

    /// The id the next added type gets.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// Append a string; returns its offset ("" is offset 0).
    pub fn add_str(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.strs.len() as u32;
        self.strs.extend_from_slice(s.as_bytes());
        self.strs.push(0);
        off
    }

    /// Append one raw type record; returns its id.
    pub fn add_record(
        &mut self,
        name_off: u32,
        kind: Kind,
        kind_flag: bool,
        vlen: u16,
        size_or_type: u32,
        extra: &[u8],
    ) -> u32 {
        let info = ((kind_flag as u32) << 31) | ((kind as u32) << 24) | vlen as u32;
        for w in [name_off, info, size_or_type] {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.types.extend_from_slice(extra);
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn add_named(
        &mut self,
        name: &str,
        kind: Kind,
        kflag: bool,
        vlen: u16,
        sot: u32,
        extra: &[u8],
    ) -> u32 {
        let n = self.add_str(name);
        self.add_record(n, kind, kflag, vlen, sot, extra)
    }

    /// INT of `size` bytes (`encoding`: [`super::BTF_INT_SIGNED`] etc.).
    pub fn add_int(&mut self, name: &str, size: u32, encoding: u8) -> u32 {
        self.add_named(
            name,
            Kind::Int,
            false,
            0,
            size,
            &int_word(encoding, size * 8),
        )
    }
    /// FLOAT of `size` bytes.
    pub fn add_float(&mut self, name: &str, size: u32) -> u32 {
        self.add_named(name, Kind::Float, false, 0, size, &[])
    }
    /// PTR to `target`.
    pub fn add_ptr(&mut self, target: u32) -> u32 {
        self.add_record(0, Kind::Ptr, false, 0, target, &[])
    }
    /// TYPEDEF, CONST, VOLATILE, RESTRICT (a kind that only refers to `target`).
    pub fn add_ref(&mut self, kind: Kind, name: &str, target: u32) -> u32 {
        self.add_named(name, kind, false, 0, target, &[])
    }
    /// TYPE_TAG `tag` on `target`.
    pub fn add_type_tag(&mut self, tag: &str, target: u32) -> u32 {
        self.add_named(tag, Kind::TypeTag, false, 0, target, &[])
    }
    /// DECL_TAG `tag` on `target` (`component` -1: the type itself).
    pub fn add_decl_tag(&mut self, tag: &str, target: u32, component: i32) -> u32 {
        self.add_named(
            tag,
            Kind::DeclTag,
            false,
            0,
            target,
            &component.to_le_bytes(),
        )
    }
    /// ARRAY of `nelems` `elem`s indexed by `index`.
    pub fn add_array(&mut self, elem: u32, index: u32, nelems: u32) -> u32 {
        let mut e = Vec::with_capacity(12);
        for w in [elem, index, nelems] {
            e.extend_from_slice(&w.to_le_bytes());
        }
        self.add_record(0, Kind::Array, false, 0, 0, &e)
    }
    /// STRUCT or UNION with `(name, type, bit offset)` members.
    pub fn add_composite(
        &mut self,
        union: bool,
        name: &str,
        size: u32,
        members: &[(&str, u32, u32)],
    ) -> u32 {
        let mut e = Vec::with_capacity(12 * members.len());
        for (n, ty, off) in members {
            let n = self.add_str(n);
            for w in [n, *ty, *off] {
                e.extend_from_slice(&w.to_le_bytes());
            }
        }
        let kind = if union { Kind::Union } else { Kind::Struct };
        self.add_named(name, kind, false, members.len() as u16, size, &e)
    }
    /// ENUM (32-bit values; `signed` sets kind_flag).
    pub fn add_enum(&mut self, name: &str, size: u32, signed: bool, vals: &[(&str, i32)]) -> u32 {
        let mut e = Vec::with_capacity(8 * vals.len());
        for (n, v) in vals {
            let n = self.add_str(n);
            e.extend_from_slice(&n.to_le_bytes());
            e.extend_from_slice(&v.to_le_bytes());
        }
        self.add_named(name, Kind::Enum, signed, vals.len() as u16, size, &e)
    }
    /// ENUM64 (`signed` sets kind_flag).
    pub fn add_enum64(&mut self, name: &str, size: u32, signed: bool, vals: &[(&str, u64)]) -> u32 {
        let mut e = Vec::with_capacity(12 * vals.len());
        for (n, v) in vals {
            let n = self.add_str(n);
            e.extend_from_slice(&n.to_le_bytes());
            e.extend_from_slice(&(*v as u32).to_le_bytes());
            e.extend_from_slice(&((*v >> 32) as u32).to_le_bytes());
        }
        self.add_named(name, Kind::Enum64, signed, vals.len() as u16, size, &e)
    }
    /// FUNC_PROTO returning `ret` with `(name, type)` parameters.
    pub fn add_func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut e = Vec::with_capacity(8 * params.len());
        for (n, ty) in params {
            let n = self.add_str(n);
            e.extend_from_slice(&n.to_le_bytes());
            e.extend_from_slice(&ty.to_le_bytes());
        }
        self.add_record(0, Kind::FuncProto, false, params.len() as u16, ret, &e)
    }
    /// FUNC `name` of prototype `proto` (`linkage` 0 static, 1 global).
    pub fn add_func(&mut self, name: &str, proto: u32, linkage: u16) -> u32 {
        self.add_named(name, Kind::Func, false, linkage, proto, &[])
    }
    /// VAR `name` of type `ty` (`linkage` 0 static, 1 global).
    pub fn add_var(&mut self, name: &str, ty: u32, linkage: u32) -> u32 {
        self.add_named(name, Kind::Var, false, 0, ty, &linkage.to_le_bytes())
    }
    /// DATASEC with `(var, offset, size)` entries.
    pub fn add_datasec(&mut self, name: &str, size: u32, vars: &[(u32, u32, u32)]) -> u32 {
        let mut e = Vec::with_capacity(12 * vars.len());
        for (ty, off, sz) in vars {
            for w in [*ty, *off, *sz] {
                e.extend_from_slice(&w.to_le_bytes());
            }
        }
        self.add_named(name, Kind::Datasec, false, vars.len() as u16, size, &e)
    }

    /// The raw blob, as `BPF_BTF_LOAD` and [`super::Btf::parse`] take it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HDR_MIN + self.types.len() + self.strs.len());
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.push(1);
        out.push(0);
        out.extend_from_slice(&(HDR_MIN as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(self.types.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.types.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.strs.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strs);
        out
    }
}
