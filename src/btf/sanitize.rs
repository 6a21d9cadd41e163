//! Rewrite an object's BTF for a kernel that lacks some BTF kinds or flags
//! (decided by feature probes, see `tinybpf::features`), keeping every type
//! id stable so `.BTF.ext` func_info/line_info and map key/value ids still
//! point at the right types. Each unsupported type is replaced in place by
//! an older kind the kernel accepts; types needed by the replacements are
//! appended after the last id.
//!
//! | missing feature | replacement |
//! |---|---|
//! | `func` (FUNC, FUNC_PROTO) | FUNC → TYPEDEF, FUNC_PROTO → ENUM (params become enumerators) |
//! | `func_global` | global FUNC → static FUNC |
//! | `datasec` (VAR, DATASEC) | VAR → 1-byte INT, DATASEC → STRUCT of those at the same offsets |
//! | `float` | FLOAT → anonymous STRUCT of the same size, no members |
//! | `decl_tag` | DECL_TAG → anonymous 1-byte INT |
//! | `type_tag` | TYPE_TAG → anonymous CONST of the same type |
//! | `enum64` | ENUM64 → UNION of same-size INT members named as the enumerators |
//! | `enum_kflag` (signed enums) | ENUM kind_flag cleared |

use super::build::BtfBuilder;
use super::{Btf, BtfError, Kind, Type};

/// BTF features of a kernel. `BtfFeatures::all()` is a modern kernel (6.0+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BtfFeatures {
    /// BTF_KIND_FUNC and FUNC_PROTO (5.0).
    pub func: bool,
    /// FUNC with global linkage (5.6).
    pub func_global: bool,
    /// BTF_KIND_VAR and DATASEC (5.2).
    pub datasec: bool,
    /// BTF_KIND_FLOAT (5.13).
    pub float: bool,
    /// BTF_KIND_DECL_TAG (5.16).
    pub decl_tag: bool,
    /// BTF_KIND_TYPE_TAG (5.17).
    pub type_tag: bool,
    /// BTF_KIND_ENUM64 (6.0).
    pub enum64: bool,
    /// kind_flag on ENUM marking a signed enum (6.0).
    pub enum_kflag: bool,
}

impl BtfFeatures {
    /// Every feature present (nothing to sanitize).
    pub const fn all() -> BtfFeatures {
        BtfFeatures {
            func: true,
            func_global: true,
            datasec: true,
            float: true,
            decl_tag: true,
            type_tag: true,
            enum64: true,
            enum_kflag: true,
        }
    }
    /// No feature beyond the BTF of 4.18 (structs, enums, ints, ...).
    pub const fn none() -> BtfFeatures {
        BtfFeatures {
            func: false,
            func_global: false,
            datasec: false,
            float: false,
            decl_tag: false,
            type_tag: false,
            enum64: false,
            enum_kflag: false,
        }
    }
    /// The features by name, in a fixed order (for tables and logs).
    pub fn list(&self) -> [(&'static str, bool); 8] {
        [
            ("func", self.func),
            ("func_global", self.func_global),
            ("datasec", self.datasec),
            ("float", self.float),
            ("decl_tag", self.decl_tag),
            ("type_tag", self.type_tag),
            ("enum64", self.enum64),
            ("enum_kflag", self.enum_kflag),
        ]
    }
}

impl Default for BtfFeatures {
    fn default() -> Self {
        BtfFeatures::all()
    }
}

/// One 8-bit INT word (`BTF_INT_ENC(0, 0, 8)`).
const INT8: [u8; 4] = 8u32.to_le_bytes();

fn needs_change(t: &Type<'_>, have: &BtfFeatures) -> bool {
    match t.kind {
        Kind::Func => !have.func || (!have.func_global && t.linkage() == Some(1)),
        Kind::FuncProto => !have.func,
        Kind::Var | Kind::Datasec => !have.datasec,
        Kind::Float => !have.float,
        Kind::DeclTag => !have.decl_tag,
        Kind::TypeTag => !have.type_tag,
        Kind::Enum64 => !have.enum64,
        Kind::Enum => t.kind_flag && !have.enum_kflag,
        _ => false,
    }
}

fn bad(t: &Type<'_>, what: &'static str) -> BtfError {
    BtfError::Patch { id: t.id, what }
}

/// Rewrite `btf` for a kernel with the features `have`. Returns `None` when
/// nothing needs to change, else the new raw BTF (same type ids; a few
/// types may be appended). Split BTF is not supported (object BTF never is).
pub fn sanitize(btf: &Btf, have: &BtfFeatures) -> Result<Option<Vec<u8>>, BtfError> {
    if btf.base().is_some() {
        return Err(BtfError::Patch {
            id: btf.first_own_id(),
            what: "cannot sanitize split BTF",
        });
    }
    let types: Vec<Type<'_>> = btf
        .own_ids()
        .map(|id| btf.type_by_id(id))
        .collect::<Result<_, _>>()?;
    if !types.iter().any(|t| needs_change(t, have)) {
        return Ok(None);
    }
    // INT placeholders for the members of ENUM64-turned-UNIONs, one per
    // size, appended after the last id.
    let mut placeholders: Vec<(u32, u32)> = Vec::new(); // (size, id)
    let mut next_new = btf.len();
    if !have.enum64 {
        for t in types.iter().filter(|t| t.kind == Kind::Enum64) {
            let size = t.size_or_type;
            if !matches!(size, 1 | 2 | 4 | 8) {
                return Err(bad(t, "ENUM64 size is not 1, 2, 4 or 8 bytes"));
            }
            if !placeholders.iter().any(|(s, _)| *s == size) {
                placeholders.push((size, next_new));
                next_new += 1;
            }
        }
    }
    let mut b = BtfBuilder::with_strings(btf.strs());
    let mut changed = 0usize;
    for t in &types {
        let (kind, kflag, vlen, sot) = (t.kind, t.kind_flag, t.vlen, t.size_or_type);
        if !needs_change(t, have) {
            b.add_record(t.name_off, kind, kflag, vlen, sot, t.extra);
            continue;
        }
        changed += 1;
        log::trace!("BTF sanitize: [{}] {} '{}'", t.id, t.kind, t.name);
        match kind {
            Kind::Func if !have.func => {
                b.add_record(t.name_off, Kind::Typedef, false, 0, sot, &[]);
            }
            Kind::Func => {
                // Global → static: the kernel verifies it with its caller.
                b.add_record(t.name_off, Kind::Func, false, 0, sot, &[]);
            }
            Kind::FuncProto => {
                // Params (name, type) become enumerators (name, value): same
                // record layout; the kernel insists on a 4-byte enum.
                b.add_record(0, Kind::Enum, false, vlen, 4, t.extra);
            }
            Kind::Var => {
                b.add_record(t.name_off, Kind::Int, false, 0, 1, &INT8);
            }
            Kind::Datasec => {
                let name = t.name.replace(['.', '?'], "_");
                let name_off = b.add_str(&name);
                let mut extra = Vec::with_capacity(12 * t.vars().count());
                for v in t.vars() {
                    let var_name = btf.type_by_id(v.type_id).map(|v| v.name_off)?;
                    let bit_off = v
                        .offset
                        .checked_mul(8)
                        .ok_or_else(|| bad(t, "DATASEC offset too large for a member"))?;
                    for w in [var_name, v.type_id, bit_off] {
                        extra.extend_from_slice(&w.to_le_bytes());
                    }
                }
                b.add_record(name_off, Kind::Struct, false, vlen, sot, &extra);
            }
            Kind::Float => {
                b.add_record(0, Kind::Struct, false, 0, sot, &[]);
            }
            Kind::DeclTag => {
                b.add_record(0, Kind::Int, false, 0, 1, &INT8);
            }
            Kind::TypeTag => {
                b.add_record(0, Kind::Const, false, 0, sot, &[]);
            }
            Kind::Enum64 => {
                let ph = placeholders
                    .iter()
                    .find(|(s, _)| *s == sot)
                    .map(|(_, id)| *id)
                    .ok_or_else(|| bad(t, "no placeholder for ENUM64 size"))?;
                let mut extra = Vec::with_capacity(12 * vlen as usize);
                for i in 0..vlen as usize {
                    let name_off = super::types::rd32(t.extra, i * 12);
                    for w in [name_off, ph, 0] {
                        extra.extend_from_slice(&w.to_le_bytes());
                    }
                }
                b.add_record(t.name_off, Kind::Union, false, vlen, sot, &extra);
            }
            Kind::Enum => {
                b.add_record(t.name_off, Kind::Enum, false, vlen, sot, t.extra);
            }
            _ => return Err(bad(t, "unexpected kind to sanitize")),
        }
    }
    for (size, id) in &placeholders {
        let name = b.add_str("enum64_placeholder");
        let bits = (size * 8).to_le_bytes();
        let got = b.add_record(name, Kind::Int, false, 0, *size, &bits);
        debug_assert_eq!(got, *id);
    }
    log::debug!(
        "BTF sanitized for the kernel: {changed} of {} types rewritten, {} appended",
        types.len(),
        placeholders.len()
    );
    Ok(Some(b.to_bytes()))
}

#[cfg(test)]
#[path = "sanitize_tests.rs"]
mod tests;
