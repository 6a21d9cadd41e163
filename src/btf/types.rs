//! BTF kinds and borrowed views of one type and its trailing data
//! (members, parameters, enumerators, DATASEC entries).

use std::fmt;

use super::{Btf, BtfError};

/// BTF kinds (`BTF_KIND_*`). `Void` is type id 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// `BTF_KIND_UNKN`.
    Void = 0,
    /// `BTF_KIND_INT`.
    Int = 1,
    /// `BTF_KIND_PTR`.
    Ptr = 2,
    /// `BTF_KIND_ARRAY`.
    Array = 3,
    /// `BTF_KIND_STRUCT`.
    Struct = 4,
    /// `BTF_KIND_UNION`.
    Union = 5,
    /// `BTF_KIND_ENUM`.
    Enum = 6,
    /// `BTF_KIND_FWD`.
    Fwd = 7,
    /// `BTF_KIND_TYPEDEF`.
    Typedef = 8,
    /// `BTF_KIND_VOLATILE`.
    Volatile = 9,
    /// `BTF_KIND_CONST`.
    Const = 10,
    /// `BTF_KIND_RESTRICT`.
    Restrict = 11,
    /// `BTF_KIND_FUNC`.
    Func = 12,
    /// `BTF_KIND_FUNC_PROTO`.
    FuncProto = 13,
    /// `BTF_KIND_VAR`.
    Var = 14,
    /// `BTF_KIND_DATASEC`.
    Datasec = 15,
    /// `BTF_KIND_FLOAT`.
    Float = 16,
    /// `BTF_KIND_DECL_TAG`.
    DeclTag = 17,
    /// `BTF_KIND_TYPE_TAG`.
    TypeTag = 18,
    /// `BTF_KIND_ENUM64`.
    Enum64 = 19,
}

impl Kind {
    /// The kind with this number, if known.
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
    /// STRUCT or UNION.
    pub fn is_composite(self) -> bool {
        matches!(self, Kind::Struct | Kind::Union)
    }
    /// ENUM or ENUM64.
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
    pub(super) fn has_size(self) -> bool {
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
/// `BTF_INT_CHAR`.
pub const BTF_INT_CHAR: u8 = 2;
/// `BTF_INT_BOOL`.
pub const BTF_INT_BOOL: u8 = 4;

/// Extra word of an INT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntInfo {
    /// `BTF_INT_SIGNED`, `BTF_INT_CHAR`, `BTF_INT_BOOL` bits.
    pub encoding: u8,
    /// Bit offset of the value (legacy; 0 in practice).
    pub offset: u8,
    /// Width in bits.
    pub bits: u8,
}

/// Extra data of an ARRAY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayInfo {
    /// Element type id.
    pub elem_type: u32,
    /// Index type id.
    pub index_type: u32,
    /// Number of elements.
    pub nelems: u32,
}

/// A STRUCT/UNION member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    /// Member name (empty for anonymous members).
    pub name: &'a str,
    /// Member type id.
    pub type_id: u32,
    /// Offset from the start of the struct, in bits.
    pub bit_offset: u32,
    /// 0 unless this is a bitfield (only with kind_flag set).
    pub bitfield_size: u32,
}

/// A FUNC_PROTO parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter name (may be empty).
    pub name: &'a str,
    /// Parameter type id (0 for `...`).
    pub type_id: u32,
}

/// An ENUM or ENUM64 enumerator. `value` holds the raw bits: for 32-bit
/// enums it is sign-extended when the enum is signed, zero-extended otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enumerator<'a> {
    /// Enumerator name.
    pub name: &'a str,
    /// Its value, raw bits (see the struct docs).
    pub value: u64,
}

/// A DATASEC entry (`struct btf_var_secinfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSecinfo {
    /// The VAR or FUNC type id.
    pub type_id: u32,
    /// Byte offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A borrowed view of one BTF type.
#[derive(Clone, Copy)]
pub struct Type<'a> {
    /// Type id.
    pub id: u32,
    /// Kind.
    pub kind: Kind,
    /// Name (empty for anonymous types).
    pub name: &'a str,
    /// Offset of the name in the string section.
    pub name_off: u32,
    /// The `kind_flag` bit (bitfield members, union fwd, signed enum, ...).
    pub kind_flag: bool,
    /// Number of members, parameters, enumerators or entries.
    pub vlen: u16,
    /// The third word: size for INT/STRUCT/UNION/ENUM*/DATASEC/FLOAT, a type
    /// id for the others.
    pub size_or_type: u32,
    pub(super) extra: &'a [u8],
    pub(super) btf: &'a Btf,
}

impl fmt::Debug for Type<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} '{}'", self.id, self.kind, self.name)
    }
}

/// Little-endian u32 at `off` of `b` (0 if out of range).
#[inline(always)]
pub(super) fn rd32(b: &[u8], off: usize) -> u32 {
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
    /// STRUCT or UNION.
    pub fn is_composite(&self) -> bool {
        self.kind.is_composite()
    }
    /// Encoding, offset and width of an INT.
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
    /// Element type, index type and length of an ARRAY.
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
    /// The name of member `i` of a STRUCT/UNION as bytes, not checked to be
    /// UTF-8 (empty when anonymous, or when there is no member `i`): for
    /// comparing names without decoding each one.
    pub(crate) fn member_name_bytes(&self, i: usize) -> &'a [u8] {
        if !self.is_composite() || i >= self.vlen as usize {
            return &[];
        }
        self.btf.raw_str(rd32(self.extra, i * 12))
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
    /// Parameters of a FUNC_PROTO.
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
    /// Enumerators of an ENUM or ENUM64.
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
    /// Entries of a DATASEC.
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

/// `BTF_KIND_FUNC` as the number in a type's info word (for the walks).
pub(super) const KIND_FUNC: u32 = Kind::Func as u32;
/// Kind number of DATASEC (in the header's info word).
pub(super) const KIND_DATASEC: u32 = Kind::Datasec as u32;
