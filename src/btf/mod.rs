//! BTF: the BPF type format (pure parsing; no syscalls).
//!
//! [`Btf`] parses the raw `.BTF` blob (or `/sys/kernel/btf/vmlinux`, or a
//! split module BTF on top of a base) with one pass that records where each
//! type starts; everything else is decoded on demand from the bytes. A name
//! index is built lazily the first time a lookup by name is needed.

pub mod ext;
mod maps;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub use ext::{BtfExt, CoreRelo, FuncInfo, LineInfo};
pub use maps::BtfMapDef;

/// Magic number of a BTF header (as read little-endian).
pub const BTF_MAGIC: u16 = 0xeb9f;
const HDR_MIN: usize = 24;
const TYPE_HDR: usize = 12;
/// Pointer size on BPF.
pub const PTR_SIZE: u32 = 8;
/// Limit on chains of typedefs/modifiers/arrays we follow (cycles in bad input).
pub(crate) const MAX_CHAIN: usize = 64;

/// Errors from BTF and .BTF.ext parsing. Each names what was wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    #[error("BTF truncated: {what} needs {need} bytes at offset {offset}, only {len} available")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        len: usize,
    },
    #[error("bad BTF magic {0:#06x}")]
    BadMagic(u16),
    #[error("big-endian BTF is not supported")]
    BigEndian,
    #[error("unsupported BTF version {0}")]
    Version(u8),
    #[error("bad BTF header: {0}")]
    BadHeader(String),
    #[error("BTF type [{id}] at offset {offset}: {what}")]
    BadType {
        id: u32,
        offset: usize,
        what: String,
    },
    #[error("BTF type id {id} out of range (last id is {last})")]
    NoSuchType { id: u32, last: u32 },
    #[error("BTF string offset {offset} invalid: {what}")]
    BadString { offset: u32, what: &'static str },
    #[error("BTF type [{id}] '{name}' is {kind}, expected {expected}")]
    WrongKind {
        id: u32,
        name: String,
        kind: Kind,
        expected: &'static str,
    },
    #[error("BTF type [{id}]: chain of typedefs/modifiers too long or cyclic")]
    TooDeep { id: u32 },
    #[error("BTF type [{id}] '{name}': size cannot be determined ({what})")]
    NoSize {
        id: u32,
        name: String,
        what: &'static str,
    },
    #[error("map '{map}': {what}")]
    MapDef { map: String, what: String },
    #[error("ELF: {0}")]
    Elf(String),
    #[error(".BTF.ext: {what} (offset {offset})")]
    Ext { what: String, offset: usize },
    #[error("cannot patch type [{id}]: {what}")]
    Patch { id: u32, what: &'static str },
}

/// BTF kinds (`BTF_KIND_*`). `Void` is type id 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

impl Kind {
    pub fn from_u32(k: u32) -> Option<Kind> {
        use Kind::*;
        Some(match k {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }
    /// Lower-case name as `bpftool` prints it.
    pub fn as_str(self) -> &'static str {
        use Kind::*;
        match self {
            Void => "void",
            Int => "int",
            Ptr => "ptr",
            Array => "array",
            Struct => "struct",
            Union => "union",
            Enum => "enum",
            Fwd => "fwd",
            Typedef => "typedef",
            Volatile => "volatile",
            Const => "const",
            Restrict => "restrict",
            Func => "func",
            FuncProto => "func_proto",
            Var => "var",
            Datasec => "datasec",
            Float => "float",
            DeclTag => "decl_tag",
            TypeTag => "type_tag",
            Enum64 => "enum64",
        }
    }
    pub fn is_composite(self) -> bool {
        matches!(self, Kind::Struct | Kind::Union)
    }
    pub fn is_any_enum(self) -> bool {
        matches!(self, Kind::Enum | Kind::Enum64)
    }
    /// Modifiers and typedefs, skipped by [`Btf::skip_mods_and_typedefs`].
    pub fn is_mod_or_typedef(self) -> bool {
        matches!(
            self,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
        )
    }
    /// Kinds whose third word is a size.
    fn has_size(self) -> bool {
        matches!(
            self,
            Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `BTF_INT_SIGNED` etc.
pub const BTF_INT_SIGNED: u8 = 1;
pub const BTF_INT_CHAR: u8 = 2;
pub const BTF_INT_BOOL: u8 = 4;

/// Extra word of an INT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntInfo {
    pub encoding: u8,
    pub offset: u8,
    pub bits: u8,
}

/// Extra data of an ARRAY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayInfo {
    pub elem_type: u32,
    pub index_type: u32,
    pub nelems: u32,
}

/// A STRUCT/UNION member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    pub name: &'a str,
    pub type_id: u32,
    pub bit_offset: u32,
    /// 0 unless this is a bitfield (only with kind_flag set).
    pub bitfield_size: u32,
}

/// A FUNC_PROTO parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: &'a str,
    pub type_id: u32,
}

/// An ENUM or ENUM64 enumerator. `value` holds the raw bits: for 32-bit
/// enums it is sign-extended when the enum is signed, zero-extended otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enumerator<'a> {
    pub name: &'a str,
    pub value: u64,
}

/// A DATASEC entry (`struct btf_var_secinfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSecinfo {
    pub type_id: u32,
    pub offset: u32,
    pub size: u32,
}

/// A borrowed view of one BTF type.
#[derive(Clone, Copy)]
pub struct Type<'a> {
    pub id: u32,
    pub kind: Kind,
    pub name: &'a str,
    pub name_off: u32,
    pub kind_flag: bool,
    pub vlen: u16,
    /// The third word: size for INT/STRUCT/UNION/ENUM*/DATASEC/FLOAT, a type
    /// id for the others.
    pub size_or_type: u32,
    extra: &'a [u8],
    btf: &'a Btf,
}

impl fmt::Debug for Type<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} '{}'", self.id, self.kind, self.name)
    }
}

fn rd32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.saturating_add(4)) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

impl<'a> Type<'a> {
    /// Size in bytes for sized kinds.
    pub fn size(&self) -> Option<u32> {
        self.kind.has_size().then_some(self.size_or_type)
    }
    /// Referenced type for PTR, TYPEDEF, modifiers, FUNC, VAR, DECL_TAG,
    /// TYPE_TAG (and FUNC_PROTO's return type).
    pub fn ref_type(&self) -> Option<u32> {
        use Kind::*;
        match self.kind {
            Ptr | Typedef | Volatile | Const | Restrict | Func | FuncProto | Var | DeclTag
            | TypeTag => Some(self.size_or_type),
            _ => None,
        }
    }
    pub fn is_composite(&self) -> bool {
        self.kind.is_composite()
    }
    pub fn int(&self) -> Option<IntInfo> {
        if self.kind != Kind::Int {
            return None;
        }
        let v = rd32(self.extra, 0);
        Some(IntInfo {
            encoding: ((v >> 24) & 0x0f) as u8,
            offset: ((v >> 16) & 0xff) as u8,
            bits: (v & 0xff) as u8,
        })
    }
    pub fn array(&self) -> Option<ArrayInfo> {
        if self.kind != Kind::Array {
            return None;
        }
        Some(ArrayInfo {
            elem_type: rd32(self.extra, 0),
            index_type: rd32(self.extra, 4),
            nelems: rd32(self.extra, 8),
        })
    }
    /// Number of members/params/enumerators/vars.
    pub fn vlen(&self) -> usize {
        match self.kind {
            Kind::Struct
            | Kind::Union
            | Kind::Enum
            | Kind::Enum64
            | Kind::FuncProto
            | Kind::Datasec => self.vlen as usize,
            _ => 0,
        }
    }
    /// Member `i` of a STRUCT/UNION.
    pub fn member(&self, i: usize) -> Result<Member<'a>, BtfError> {
        if !self.is_composite() || i >= self.vlen as usize {
            return Err(self.bad(format!("no member #{i}")));
        }
        let o = i * 12;
        let name_off = rd32(self.extra, o);
        let type_id = rd32(self.extra, o + 4);
        let off = rd32(self.extra, o + 8);
        let (bit_offset, bitfield_size) = if self.kind_flag {
            (off & 0x00ff_ffff, off >> 24)
        } else {
            (off, 0)
        };
        Ok(Member {
            name: self.btf.str_at(name_off)?,
            type_id,
            bit_offset,
            bitfield_size,
        })
    }
    /// All members of a STRUCT/UNION (empty for other kinds).
    pub fn members(&self) -> impl Iterator<Item = Result<Member<'a>, BtfError>> + 'a {
        let t = *self;
        let n = if t.is_composite() { t.vlen as usize } else { 0 };
        (0..n).map(move |i| t.member(i))
    }
    /// Parameter `i` of a FUNC_PROTO.
    pub fn param(&self, i: usize) -> Result<Param<'a>, BtfError> {
        if self.kind != Kind::FuncProto || i >= self.vlen as usize {
            return Err(self.bad(format!("no parameter #{i}")));
        }
        Ok(Param {
            name: self.btf.str_at(rd32(self.extra, i * 8))?,
            type_id: rd32(self.extra, i * 8 + 4),
        })
    }
    pub fn params(&self) -> impl Iterator<Item = Result<Param<'a>, BtfError>> + 'a {
        let t = *self;
        let n = if t.kind == Kind::FuncProto {
            t.vlen as usize
        } else {
            0
        };
        (0..n).map(move |i| t.param(i))
    }
    /// Enumerator `i` of an ENUM or ENUM64.
    pub fn enumerator(&self, i: usize) -> Result<Enumerator<'a>, BtfError> {
        if i >= self.vlen as usize {
            return Err(self.bad(format!("no enumerator #{i}")));
        }
        match self.kind {
            Kind::Enum => {
                let v = rd32(self.extra, i * 8 + 4);
                let value = if self.kind_flag {
                    v as i32 as i64 as u64
                } else {
                    v as u64
                };
                Ok(Enumerator {
                    name: self.btf.str_at(rd32(self.extra, i * 8))?,
                    value,
                })
            }
            Kind::Enum64 => {
                let lo = rd32(self.extra, i * 12 + 4) as u64;
                let hi = rd32(self.extra, i * 12 + 8) as u64;
                Ok(Enumerator {
                    name: self.btf.str_at(rd32(self.extra, i * 12))?,
                    value: lo | (hi << 32),
                })
            }
            _ => Err(self.bad(format!("no enumerator #{i}"))),
        }
    }
    pub fn enumerators(&self) -> impl Iterator<Item = Result<Enumerator<'a>, BtfError>> + 'a {
        let t = *self;
        let n = if t.kind.is_any_enum() {
            t.vlen as usize
        } else {
            0
        };
        (0..n).map(move |i| t.enumerator(i))
    }
    /// Entry `i` of a DATASEC.
    pub fn var_secinfo(&self, i: usize) -> Result<VarSecinfo, BtfError> {
        if self.kind != Kind::Datasec || i >= self.vlen as usize {
            return Err(self.bad(format!("no datasec entry #{i}")));
        }
        Ok(VarSecinfo {
            type_id: rd32(self.extra, i * 12),
            offset: rd32(self.extra, i * 12 + 4),
            size: rd32(self.extra, i * 12 + 8),
        })
    }
    pub fn vars(&self) -> impl Iterator<Item = VarSecinfo> + 'a {
        let t = *self;
        let n = if t.kind == Kind::Datasec {
            t.vlen as usize
        } else {
            0
        };
        (0..n).filter_map(move |i| t.var_secinfo(i).ok())
    }
    /// Linkage of a VAR (0 static, 1 global, 2 extern) or FUNC (vlen).
    pub fn linkage(&self) -> Option<u32> {
        match self.kind {
            Kind::Var => Some(rd32(self.extra, 0)),
            Kind::Func => Some(self.vlen as u32),
            _ => None,
        }
    }
    /// `component_idx` of a DECL_TAG (-1 for the type itself).
    pub fn decl_tag_component(&self) -> Option<i32> {
        (self.kind == Kind::DeclTag).then(|| rd32(self.extra, 0) as i32)
    }
    /// For ENUM/ENUM64: signed (kind_flag). For FWD: union (kind_flag).
    pub fn is_signed_enum(&self) -> bool {
        self.kind.is_any_enum() && self.kind_flag
    }
    fn bad(&self, what: String) -> BtfError {
        BtfError::BadType {
            id: self.id,
            offset: 0,
            what: format!("{} '{}': {what}", self.kind, self.name),
        }
    }
}

/// Byte storage of a [`Btf`]: owned (patchable) or shared (e.g. an mmap).
enum Storage {
    Owned(Vec<u8>),
    Shared(Box<dyn AsRef<[u8]> + Send + Sync>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Owned(v) => v,
            Storage::Shared(b) => (**b).as_ref(),
        }
    }
}

/// Parsed BTF.
pub struct Btf {
    data: Storage,
    /// Start and length of the type section within `data`.
    types_start: usize,
    types_len: usize,
    /// Start and length of the string section within `data`.
    strs_start: usize,
    strs_len: usize,
    /// Offset (within the type section) of each own type; own type `i` has
    /// id `first_id + i`.
    offsets: Vec<u32>,
    first_id: u32,
    base: Option<Arc<Btf>>,
    /// Length of the base's string section (0 if not split).
    base_str_len: u32,
    /// Own named non-FUNC types (ids), collected by the parse pass: what the
    /// type index is built from without walking every type again.
    named_types: Vec<u32>,
    /// Number of own named FUNCs (sizes the func index).
    named_funcs: u32,
    /// Own named types by name, one index per class; each built on the
    /// first lookup that needs it.
    index: [OnceLock<NameIndex>; 2],
}

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.offsets.len())
            .field("first_id", &self.first_id)
            .field("strings", &self.strs_len)
            .field("split", &self.base.is_some())
            .finish()
    }
}

/// Length of the essential part of a name: `foo___bar` -> `foo` (the last
/// `X___Y` separator where X and Y are not underscores).
pub fn essential_name(name: &str) -> &str {
    let n = essential_len(name.as_bytes());
    name.get(..n).unwrap_or(name)
}

fn essential_len(b: &[u8]) -> usize {
    let n = b.len();
    if n >= 5 {
        let mut i = n - 5;
        loop {
            if b[i] != b'_'
                && b[i + 1] == b'_'
                && b[i + 2] == b'_'
                && b[i + 3] == b'_'
                && b[i + 4] != b'_'
            {
                return i + 1;
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
    }
    n
}

/// Name index classes. FUNCs are most of vmlinux's named types (56k of 71k)
/// but only attach targets and ksyms look them up, so they get an index of
/// their own, built only when a FUNC is looked up; CO-RE never needs it.
const CLASS_TYPES: usize = 0;
const CLASS_FUNCS: usize = 1;
const KIND_FUNC: u32 = Kind::Func as u32;

fn class_of(kind: Kind) -> usize {
    if kind == Kind::Func {
        CLASS_FUNCS
    } else {
        CLASS_TYPES
    }
}

/// Name index: an open-addressing table (linear probing, load <= 1/2) of
/// type ids (0 = empty slot), keyed by [`key_hash`] of the name. Types with
/// the same key sit in one probe run in increasing id order.
struct NameIndex {
    /// log2 of `slots.len()` (>= 1).
    bits: u32,
    slots: Vec<u32>,
}

impl NameIndex {
    fn slot(&self, h: u64) -> usize {
        (h >> (64 - self.bits)) as usize
    }
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }
}

/// Hash of a name up to its NUL, end, or first `___`, whichever comes first.
///
/// Cutting at the first `___` makes every flavor of an essential name
/// (`foo`, `foo___v1`, `foo___a___b` for essential `foo___a`) hash alike: an
/// essential name ends either at the end of the name or just before its last
/// `X___Y` separator, and either way the first `___` of the name and of its
/// essential part are the same (or both absent). Names are hashed in place
/// in the string section (no copy), eight bytes at a time.
fn key_hash(s: &[u8]) -> u64 {
    let cut = key_len(s);
    let mut h: u64 = 0;
    let mut i = 0;
    while i + 8 <= cut {
        h = (h.rotate_left(23) ^ word_at(s, i)).wrapping_mul(0x517c_c1b7_2722_0a95);
        i += 8;
    }
    if i < cut {
        let w = word_at(s, i) & (u64::MAX >> (64 - 8 * (cut - i)));
        h = (h.rotate_left(23) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    h = (h ^ cut as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 32)
}

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const UNDERSCORES: u64 = 0x5f5f_5f5f_5f5f_5f5f;

/// 0x80 in each byte of `x` that is zero, 0 elsewhere (exact: no carries
/// between bytes).
fn zero_bytes(x: u64) -> u64 {
    !(((x & LO7).wrapping_add(LO7)) | x | LO7)
}

/// Eight bytes of `s` from `i`, little-endian; bytes past the end read as 0.
fn word_at(s: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    match s.get(i..i.saturating_add(8)) {
        Some(b) => a.copy_from_slice(b),
        None => {
            let r = s.get(i..).unwrap_or(&[]);
            a[..r.len()].copy_from_slice(r);
        }
    }
    u64::from_le_bytes(a)
}

/// Length of the hashed part of a name: up to the first NUL, the end of
/// `s`, or the first `___`.
fn key_len(s: &[u8]) -> usize {
    let mut i = 0usize;
    let mut prev_u = 0u64;
    loop {
        let w = word_at(s, i);
        let z = zero_bytes(w);
        let u = zero_bytes(w ^ UNDERSCORES);
        // Bytes ending a run of three underscores (runs may start in the
        // previous word).
        let e = u & ((u << 8) | (prev_u >> 56)) & ((u << 16) | (prev_u >> 48));
        if z | e != 0 {
            let zpos = if z != 0 {
                i + (z.trailing_zeros() / 8) as usize
            } else {
                usize::MAX
            };
            // A run ending at byte j starts at j - 2 (j >= 2 overall, as
            // the word before the first reads as no underscores).
            let tpos = if e != 0 {
                (i + (e.trailing_zeros() / 8) as usize).saturating_sub(2)
            } else {
                usize::MAX
            };
            return zpos.min(tpos).min(s.len());
        }
        if i >= s.len() {
            return s.len();
        }
        i += 8;
        prev_u = u;
    }
}

/// Marks an invalid kind in [`EXTRA`].
const BAD_KIND: u8 = 0xff;

/// Bytes after the fixed 12-byte header of a type: (fixed part, per vlen
/// entry), by kind number (0 and > 19 are invalid).
const EXTRA: [(u8, u8); 32] = [
    (BAD_KIND, 0), // void (invalid in the type section)
    (4, 0),        // int
    (0, 0),        // ptr
    (12, 0),       // array
    (0, 12),       // struct
    (0, 12),       // union
    (0, 8),        // enum
    (0, 0),        // fwd
    (0, 0),        // typedef
    (0, 0),        // volatile
    (0, 0),        // const
    (0, 0),        // restrict
    (0, 0),        // func
    (0, 8),        // func_proto
    (4, 0),        // var
    (0, 12),       // datasec
    (0, 0),        // float
    (4, 0),        // decl_tag
    (0, 0),        // type_tag
    (0, 12),       // enum64
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
    (BAD_KIND, 0),
];

/// Record where each type of `types` starts (ids from `first_id`) and which
/// named non-FUNC types there are; returns the number of named FUNCs.
#[inline(never)]
fn walk_types(
    types: &[u8],
    total_str: u64,
    first_id: u32,
    offsets: &mut Vec<u32>,
    named_types: &mut Vec<u32>,
) -> Result<u32, BtfError> {
    let type_len = types.len();
    let max_types = (u32::MAX - first_id) as usize;
    let mut named_funcs = 0u32;
    let mut off = 0usize;
    let mut rest = types;
    while rest.len() >= TYPE_HDR {
        let n = offsets.len();
        let name_off = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let vlen = u16::from_le_bytes([rest[4], rest[5]]) as usize;
        let k = rest[7] & 0x1f;
        let (fixed, per) = EXTRA[k as usize];
        let need = TYPE_HDR + fixed as usize + per as usize * vlen;
        if (fixed == BAD_KIND)
            | (name_off as u64 >= total_str)
            | (rest.len() < need)
            | (n >= max_types)
        {
            let id = first_id.wrapping_add(n as u32);
            return Err(parse_error(types, off, id, total_str, n >= max_types));
        }
        offsets.push(off as u32);
        if name_off != 0 {
            if k as u32 == KIND_FUNC {
                named_funcs += 1;
            } else {
                named_types.push(first_id + n as u32);
            }
        }
        off += need;
        rest = &rest[need..];
    }
    if !rest.is_empty() {
        return Err(parse_error(
            types,
            off,
            first_id.wrapping_add(offsets.len() as u32),
            total_str,
            false,
        ));
    }
    debug_assert_eq!(off, type_len);
    Ok(named_funcs)
}

/// The error for the type at `off` of the type section (the parse loop's
/// cold path: works out which check failed).
#[cold]
fn parse_error(types: &[u8], off: usize, id: u32, total_str: u64, too_many: bool) -> BtfError {
    if too_many {
        return BtfError::BadHeader("too many types".into());
    }
    let len = types.len().saturating_sub(off);
    if len < TYPE_HDR {
        return BtfError::Truncated {
            what: "type header",
            offset: off,
            need: TYPE_HDR,
            len,
        };
    }
    let name_off = rd32(types, off);
    let info = rd32(types, off + 4);
    let k = (info >> 24) & 0x1f;
    let (fixed, per) = EXTRA[k as usize];
    if fixed == BAD_KIND {
        return BtfError::BadType {
            id,
            offset: off,
            what: format!("unknown kind {k}"),
        };
    }
    if name_off as u64 >= total_str {
        return BtfError::BadType {
            id,
            offset: off,
            what: format!("name offset {name_off} outside string section"),
        };
    }
    BtfError::Truncated {
        what: "type data",
        offset: off,
        need: TYPE_HDR + fixed as usize + per as usize * (info & 0xffff) as usize,
        len,
    }
}

/// Size of the data following the 12-byte header of a type.
fn extra_len(kind: Kind, vlen: usize) -> usize {
    use Kind::*;
    match kind {
        Int => 4,
        Array => 12,
        Struct | Union => 12 * vlen,
        Enum => 8 * vlen,
        FuncProto => 8 * vlen,
        Var => 4,
        Datasec => 12 * vlen,
        DeclTag => 4,
        Enum64 => 12 * vlen,
        _ => 0,
    }
}

impl Btf {
    /// Parse BTF from owned bytes (patchable in place).
    pub fn parse(bytes: Vec<u8>) -> Result<Btf, BtfError> {
        Btf::from_storage(Storage::Owned(bytes), None)
    }

    /// Parse BTF from any byte storage (e.g. an mmap of
    /// `/sys/kernel/btf/vmlinux`) without copying.
    pub fn parse_shared(bytes: Box<dyn AsRef<[u8]> + Send + Sync>) -> Result<Btf, BtfError> {
        Btf::from_storage(Storage::Shared(bytes), None)
    }

    /// Parse split BTF (a kernel module's) on top of `base`: type ids and
    /// string offsets continue after the base's.
    pub fn parse_split(
        bytes: Box<dyn AsRef<[u8]> + Send + Sync>,
        base: Arc<Btf>,
    ) -> Result<Btf, BtfError> {
        Btf::from_storage(Storage::Shared(bytes), Some(base))
    }

    /// Take the `.BTF` section of an ELF object file.
    pub fn from_elf(elf: &[u8]) -> Result<Btf, BtfError> {
        use object::{Object, ObjectSection};
        let file = object::File::parse(elf).map_err(|e| BtfError::Elf(e.to_string()))?;
        let sec = file
            .section_by_name(".BTF")
            .ok_or_else(|| BtfError::Elf("no .BTF section".into()))?;
        let data = sec
            .data()
            .map_err(|e| BtfError::Elf(format!(".BTF section: {e}")))?;
        Btf::parse(data.to_vec())
    }

    fn from_storage(data: Storage, base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        let b = data.bytes();
        let len = b.len();
        if len < HDR_MIN {
            return Err(BtfError::Truncated {
                what: "header",
                offset: 0,
                need: HDR_MIN,
                len,
            });
        }
        let magic = u16::from_le_bytes([b[0], b[1]]);
        if magic != BTF_MAGIC {
            if magic == BTF_MAGIC.swap_bytes() {
                return Err(BtfError::BigEndian);
            }
            return Err(BtfError::BadMagic(magic));
        }
        if b[2] != 1 {
            return Err(BtfError::Version(b[2]));
        }
        let hdr_len = rd32(b, 4) as usize;
        if hdr_len < HDR_MIN || hdr_len > len {
            return Err(BtfError::BadHeader(format!(
                "hdr_len {hdr_len} (buffer is {len} bytes)"
            )));
        }
        let type_off = rd32(b, 8) as usize;
        let type_len = rd32(b, 12) as usize;
        let str_off = rd32(b, 16) as usize;
        let str_len = rd32(b, 20) as usize;
        let body = len - hdr_len;
        let types_end = type_off.checked_add(type_len);
        let strs_end = str_off.checked_add(str_len);
        match (types_end, strs_end) {
            (Some(te), Some(se)) if te <= body && se <= body => {}
            _ => {
                return Err(BtfError::BadHeader(format!(
                    "type section {type_off}+{type_len} or string section {str_off}+{str_len} \
                     exceeds the {body} bytes after the header"
                )))
            }
        }
        if type_off % 4 != 0 {
            return Err(BtfError::BadHeader(format!(
                "type_off {type_off} not aligned"
            )));
        }
        let strs_start = hdr_len + str_off;
        let strs = &b[strs_start..strs_start + str_len];
        let (first_id, base_str_len) = match &base {
            None => {
                if str_len == 0 || strs[0] != 0 {
                    return Err(BtfError::BadHeader(
                        "string section must start with an empty string".into(),
                    ));
                }
                (1u32, 0u32)
            }
            Some(base) => (base.next_id(), base.total_str_len()),
        };
        if str_len > 0 && strs[str_len - 1] != 0 {
            return Err(BtfError::BadHeader(
                "string section is not NUL-terminated".into(),
            ));
        }
        let total_str = base_str_len as u64 + str_len as u64;
        let types_start = hdr_len + type_off;
        let types = &b[types_start..types_start + type_len];
        // One tight pass recording where each type starts (vmlinux: 127k
        // types; this loop is most of the cost of opening kernel BTF). All
        // checks share one cold error path.
        let mut offsets: Vec<u32> = Vec::with_capacity(type_len / 24);
        let mut named_types: Vec<u32> = Vec::with_capacity(type_len / 256);
        let named_funcs = walk_types(types, total_str, first_id, &mut offsets, &mut named_types)?;
        Ok(Btf {
            data,
            types_start,
            types_len: type_len,
            strs_start,
            strs_len: str_len,
            offsets,
            first_id,
            base,
            base_str_len,
            named_types,
            named_funcs,
            index: [OnceLock::new(), OnceLock::new()],
        })
    }

    fn bytes(&self) -> &[u8] {
        self.data.bytes()
    }
    fn types(&self) -> &[u8] {
        self.bytes()
            .get(self.types_start..self.types_start + self.types_len)
            .unwrap_or(&[])
    }
    fn strs(&self) -> &[u8] {
        self.bytes()
            .get(self.strs_start..self.strs_start + self.strs_len)
            .unwrap_or(&[])
    }
    fn total_str_len(&self) -> u32 {
        self.base_str_len.saturating_add(self.strs_len as u32)
    }
    /// The id the next type would get (= number of ids including void).
    fn next_id(&self) -> u32 {
        self.first_id + self.offsets.len() as u32
    }

    /// Number of type ids, including void (id 0) and, for split BTF, the
    /// base's types: valid ids are `0..len()`.
    pub fn len(&self) -> u32 {
        self.next_id()
    }
    pub fn is_empty(&self) -> bool {
        self.next_id() <= 1
    }
    /// First id defined by this BTF (1, or after the base for split BTF).
    pub fn first_own_id(&self) -> u32 {
        self.first_id
    }
    /// Ids defined by this BTF itself (not its base).
    pub fn own_ids(&self) -> std::ops::Range<u32> {
        self.first_id..self.next_id()
    }
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

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
        let idx = (id - self.first_id) as usize;
        let off = *self.offsets.get(idx).ok_or(BtfError::NoSuchType {
            id,
            last: self.next_id().saturating_sub(1),
        })? as usize;
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

    /// Name of type `id` ("" if anonymous).
    pub fn name(&self, id: u32) -> Result<&str, BtfError> {
        if id == 0 {
            return Ok("");
        }
        Ok(self.type_by_id(id)?.name)
    }

    /// Iterate over all types (own and base), skipping void.
    pub fn iter(&self) -> impl Iterator<Item = Type<'_>> + '_ {
        (1..self.next_id()).filter_map(move |id| self.type_by_id(id).ok())
    }

    /// Raw bytes of the string at `off` (no UTF-8 check); empty if invalid.
    fn raw_str(&self, off: u32) -> &[u8] {
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
    fn str_tail(&self, off: u32) -> &[u8] {
        if off < self.base_str_len {
            if let Some(base) = &self.base {
                return base.str_tail(off);
            }
        }
        self.strs()
            .get((off - self.base_str_len) as usize..)
            .unwrap_or(&[])
    }

    fn index(&self, class: usize) -> &NameIndex {
        let class = class.min(CLASS_FUNCS);
        self.index[class].get_or_init(|| {
            let types = self.types();
            let strs = self.strs();
            let base_str_len = self.base_str_len;
            // Name bytes (to the end of their string section) of own type `id`.
            let name_of = |off: usize| -> &[u8] {
                let name_off = rd32(types, off);
                if name_off < base_str_len {
                    return self.str_tail(name_off);
                }
                strs.get((name_off - base_str_len) as usize..)
                    .unwrap_or(&[])
            };
            let n = if class == CLASS_FUNCS {
                self.named_funcs as usize
            } else {
                self.named_types.len()
            };
            let cap = (n * 2).next_power_of_two().max(2);
            let mut idx = NameIndex {
                bits: cap.trailing_zeros(),
                slots: vec![0u32; cap],
            };
            let mask = idx.mask();
            let mut inserted = 0usize;
            let mut insert = |idx: &mut NameIndex, id: u32, name: &[u8]| {
                if name.first().is_none_or(|&c| c == 0) || inserted >= n {
                    return;
                }
                // Never full: at most n <= cap / 2 ids go in.
                let mut s = idx.slot(key_hash(name));
                while let Some(slot) = idx.slots.get_mut(s) {
                    if *slot == 0 {
                        *slot = id;
                        break;
                    }
                    s = (s + 1) & mask;
                }
                inserted += 1;
            };
            if class == CLASS_FUNCS {
                for (i, &off) in self.offsets.iter().enumerate() {
                    let off = off as usize;
                    if types
                        .get(off + 7)
                        .is_some_and(|&k| (k & 0x1f) as u32 == KIND_FUNC)
                        && rd32(types, off) != 0
                    {
                        insert(&mut idx, self.first_id + i as u32, name_of(off));
                    }
                }
            } else {
                for &id in &self.named_types {
                    let Some(&off) = self.offsets.get((id - self.first_id) as usize) else {
                        continue;
                    };
                    insert(&mut idx, id, name_of(off as usize));
                }
            }
            log::debug!(
                "btf: {} name index built: {inserted} types",
                if class == CLASS_FUNCS { "func" } else { "type" }
            );
            idx
        })
    }

    /// Own types of index class `class` whose essential name is `essential`,
    /// in increasing id order.
    fn class_ids<'s>(&'s self, class: usize, essential: &'s str) -> impl Iterator<Item = u32> + 's {
        let idx = self.index(class);
        let mask = idx.mask();
        let mut s = idx.slot(key_hash(essential.as_bytes()));
        let mut left = idx.slots.len();
        std::iter::from_fn(move || {
            while left > 0 {
                left -= 1;
                let id = *idx.slots.get(s)?;
                if id == 0 {
                    return None;
                }
                s = (s + 1) & mask;
                let name = self.raw_str(self.name_off(id));
                if &name[..essential_len(name)] == essential.as_bytes() {
                    return Some(id);
                }
            }
            None
        })
    }

    /// `name_off` of own type `id` (0 if out of range).
    fn name_off(&self, id: u32) -> u32 {
        id.checked_sub(self.first_id)
            .and_then(|i| self.offsets.get(i as usize))
            .map(|&off| rd32(self.types(), off as usize))
            .unwrap_or(0)
    }

    /// Own types (not the base's) whose essential name (flavor suffix
    /// `___x` stripped) equals `essential`: non-FUNC types in increasing id
    /// order, then FUNCs.
    pub fn own_ids_by_essential_name<'s>(
        &'s self,
        essential: &'s str,
    ) -> impl Iterator<Item = u32> + 's {
        self.class_ids(CLASS_TYPES, essential)
            .chain(self.class_ids(CLASS_FUNCS, essential))
    }

    /// Like [`Btf::own_ids_by_essential_name`], but may skip types that
    /// cannot be of a kind compatible with `kind` (FUNCs unless `kind` is
    /// FUNC, and the other way round): cheaper, as vmlinux's FUNCs are then
    /// never indexed. Callers still check each type's kind.
    pub fn own_ids_by_essential_name_for_kind<'s>(
        &'s self,
        essential: &'s str,
        kind: Kind,
    ) -> impl Iterator<Item = u32> + 's {
        self.class_ids(class_of(kind), essential)
    }

    /// Find a type by exact name and kind (base first for split BTF; lowest
    /// id first).
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<u32> {
        if let Some(base) = &self.base {
            if let Some(id) = base.find_by_name_kind(name, kind) {
                return Some(id);
            }
        }
        if name.is_empty() {
            return None;
        }
        self.class_ids(class_of(kind), essential_name(name))
            .find(|&id| {
                self.type_by_id(id)
                    .map(|t| t.kind == kind && t.name == name)
                    .unwrap_or(false)
            })
    }

    /// Find a type by exact name, any kind (base first for split BTF;
    /// non-FUNC types before FUNCs).
    pub fn find_by_name(&self, name: &str) -> Option<u32> {
        if let Some(base) = &self.base {
            if let Some(id) = base.find_by_name(name) {
                return Some(id);
            }
        }
        if name.is_empty() {
            return None;
        }
        self.own_ids_by_essential_name(essential_name(name))
            .find(|&id| self.name(id).map(|n| n == name).unwrap_or(false))
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
        self.own_ids()
            .filter_map(move |id| self.type_by_id(id).ok())
            .filter(|t| t.kind == Kind::Datasec)
    }

    fn own_type_offset(&self, id: u32, expect: Kind) -> Result<usize, BtfError> {
        let t = self.type_by_id(id)?;
        if id < self.first_id {
            return Err(BtfError::Patch {
                id,
                what: "type belongs to the base BTF",
            });
        }
        if t.kind != expect {
            return Err(BtfError::WrongKind {
                id,
                name: t.name.to_string(),
                kind: t.kind,
                expected: expect.as_str(),
            });
        }
        Ok(self.types_start + self.offsets[(id - self.first_id) as usize] as usize)
    }

    fn write32(&mut self, id: u32, at: usize, v: u32) -> Result<(), BtfError> {
        fn put(buf: &mut [u8], id: u32, at: usize, v: u32) -> Result<(), BtfError> {
            match buf.get_mut(at..at.saturating_add(4)) {
                Some(s) => {
                    s.copy_from_slice(&v.to_le_bytes());
                    Ok(())
                }
                None => Err(BtfError::Patch {
                    id,
                    what: "write outside buffer",
                }),
            }
        }
        match &mut self.data {
            Storage::Owned(buf) => put(buf, id, at, v),
            Storage::Shared(b) => {
                // Copy on first write.
                let mut buf = (**b).as_ref().to_vec();
                put(&mut buf, id, at, v)?;
                self.data = Storage::Owned(buf);
                Ok(())
            }
        }
    }

    /// Set the size of DATASEC `type_id`.
    pub fn set_datasec_size(&mut self, type_id: u32, size: u32) -> Result<(), BtfError> {
        let at = self.own_type_offset(type_id, Kind::Datasec)? + 8;
        self.write32(type_id, at, size)
    }

    /// Set the offset of entry `index` of DATASEC `type_id`.
    pub fn set_datasec_var_offset(
        &mut self,
        type_id: u32,
        index: usize,
        offset: u32,
    ) -> Result<(), BtfError> {
        let t = self.type_by_id(type_id)?;
        if index >= t.vlen() {
            return Err(BtfError::Patch {
                id: type_id,
                what: "datasec entry index out of range",
            });
        }
        let at = self.own_type_offset(type_id, Kind::Datasec)? + TYPE_HDR + index * 12 + 4;
        self.write32(type_id, at, offset)
    }

    /// Set the linkage of VAR `type_id` (0 static, 1 global, 2 extern). The
    /// kernel refuses extern VARs, so `.kconfig` externs become global.
    pub fn set_var_linkage(&mut self, type_id: u32, linkage: u32) -> Result<(), BtfError> {
        let at = self.own_type_offset(type_id, Kind::Var)? + TYPE_HDR;
        self.write32(type_id, at, linkage)
    }

    /// Serialize as the kernel takes it: a 24-byte header, the type section,
    /// the string section (for split BTF: own types and strings only).
    pub fn to_bytes(&self) -> Vec<u8> {
        let types = self.types();
        let strs = self.strs();
        let mut out = Vec::with_capacity(HDR_MIN + types.len() + strs.len());
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.push(1);
        out.push(0);
        out.extend_from_slice(&(HDR_MIN as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(types.len() as u32).to_le_bytes());
        out.extend_from_slice(&(types.len() as u32).to_le_bytes());
        out.extend_from_slice(&(strs.len() as u32).to_le_bytes());
        out.extend_from_slice(types);
        out.extend_from_slice(strs);
        out
    }

    /// Map definitions from the `.maps` DATASEC (BTF-defined maps).
    pub fn map_defs(&self) -> Result<Vec<BtfMapDef>, BtfError> {
        maps::map_defs(self)
    }
}

/// Where to look for kernel BTF, in order: sysfs, then the paths libbpf
/// tries for a vmlinux image with debug info. `release` is `uname -r`.
pub fn kernel_btf_paths(release: &str) -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from("/sys/kernel/btf/vmlinux")];
    for pat in [
        "/boot/vmlinux-%s",
        "/lib/modules/%s/vmlinux-%s",
        "/lib/modules/%s/build/vmlinux",
        "/usr/lib/modules/%s/kernel/vmlinux",
        "/usr/lib/debug/boot/vmlinux-%s",
        "/usr/lib/debug/boot/vmlinux-%s.debug",
        "/usr/lib/debug/lib/modules/%s/vmlinux",
    ] {
        v.push(PathBuf::from(pat.replace("%s", release)));
    }
    v
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// The byte-at-a-time definition `key_len` must agree with.
    fn key_len_slow(s: &[u8]) -> usize {
        let mut i = 0;
        while i < s.len() {
            if s[i] == 0 || s[i..].starts_with(b"___") {
                return i;
            }
            i += 1;
        }
        s.len()
    }

    #[test]
    fn key_len_matches_bytewise_definition() {
        let names: &[&[u8]] = &[
            b"",
            b"a",
            b"task_struct",
            b"task_struct\0junk",
            b"___",
            b"a___b",
            b"ab__",
            b"1234567___",
            b"12345678___x",
            b"1234567_",
            b"1234567__\0",
            b"__u64",
            b"trace_event_raw_sched_switch",
            b"x\0___",
            b"abcdefg_\x5f_z",
            b"\xff\x80___",
            b"\x5e\x00\x5f",
            b"________________",
            b"abcdefghijklmnopqrstuvwxyz0123456789",
        ];
        for n in names {
            assert_eq!(
                key_len(n),
                key_len_slow(n),
                "{:?}",
                String::from_utf8_lossy(n)
            );
        }
        // Every cut of a pseudo-random mix of '_', 0, letters.
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let mut v = Vec::new();
            for _ in 0..(x % 23) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                v.push([b'_', b'_', b'a', 0, b'Z', 0xff][(x >> 16) as usize % 6]);
            }
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            assert_eq!(key_len(&v), key_len_slow(&v), "{v:?}");
        }
    }

    #[test]
    fn flavors_hash_like_their_essential_name() {
        for (full, ess) in [
            ("foo___v1", "foo"),
            ("foo___a___b", "foo___a"),
            ("task_struct___old", "task_struct"),
            ("a_very_long_struct_name___x", "a_very_long_struct_name"),
            ("plain", "plain"),
        ] {
            assert_eq!(essential_name(full), ess);
            let mut stored = full.as_bytes().to_vec();
            stored.extend_from_slice(b"\0next\0");
            assert_eq!(key_hash(&stored), key_hash(ess.as_bytes()), "{full}");
        }
        assert_ne!(key_hash(b"sched_switch"), key_hash(b"sched_wakeup"));
    }
}
