//! The `.kconfig` map at open time: which externs live in BTF DATASEC
//! `.kconfig`, what kind of value each takes, and where it sits in the map.
//!
//! clang leaves the DATASEC's size and every variable offset 0 and gives
//! the VARs extern linkage, which BPF_BTF_LOAD refuses; here the variables
//! get offsets in declaration order (each aligned to its type), the DATASEC
//! its size, the VARs global linkage, and the object a `.kconfig` data map
//! (zero-filled; the loader writes the values before creating it).

use super::error::ParseError;
use super::maps::{DataKind, MapSpec};
use super::ObjectSpec;
use crate::btf::{Btf, Kind, BTF_INT_BOOL, BTF_INT_SIGNED};

/// VAR linkage: global allocated (what the kernel accepts).
const LINKAGE_GLOBAL: u32 = 1;

/// What kind of value a `.kconfig` extern holds, from its BTF type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KconfigType {
    /// `bool`: y → 1, n → 0.
    Bool,
    /// `enum libbpf_tristate` (4 bytes, or 8 as ENUM64): n → 0, y → 1, m → 2.
    Tristate {
        /// Size in bytes: the integer or enum size, the array length.
        size: u32,
    },
    /// `char`: the config letter itself ('y', 'n', 'm') or a small number.
    Char,
    /// An integer of 2, 4 or 8 bytes: decimal, hex (0x) or octal numbers.
    Int {
        /// Size in bytes: the integer or enum size, the array length.
        size: u32,
        /// Whether the integer is signed.
        signed: bool,
    },
    /// `char NAME[len]`: a quoted string, NUL-terminated, truncated to fit.
    CharArray {
        /// Array length in bytes.
        len: u32,
    },
}

impl KconfigType {
    /// Size in bytes: the integer or enum size, the array length.
    pub fn size(&self) -> u32 {
        match *self {
            KconfigType::Bool | KconfigType::Char => 1,
            KconfigType::Tristate { size } | KconfigType::Int { size, .. } => size,
            KconfigType::CharArray { len } => len,
        }
    }
    /// Required alignment in the `.kconfig` map.
    pub fn align(&self) -> u32 {
        match *self {
            KconfigType::Tristate { size } | KconfigType::Int { size, .. } => size,
            _ => 1,
        }
    }
}

/// Classify the type of a `.kconfig` extern (following typedefs and
/// modifiers), the way libbpf does: a 1-byte `_Bool` is a bool, any other
/// 1-byte integer a char, 2/4/8-byte integers numbers, `enum
/// libbpf_tristate` a tristate, arrays of chars strings. `None` for types
/// tinybpf cannot fill.
pub fn classify(btf: &Btf, type_id: u32) -> Option<KconfigType> {
    let t = btf.skip_mods_and_typedefs(type_id).ok()?;
    match t.kind {
        Kind::Int => {
            let i = t.int()?;
            let size = t.size()?;
            if i.encoding & BTF_INT_BOOL != 0 {
                return (size == 1).then_some(KconfigType::Bool);
            }
            match size {
                1 => Some(KconfigType::Char),
                2 | 4 | 8 => Some(KconfigType::Int {
                    size,
                    signed: i.encoding & BTF_INT_SIGNED != 0,
                }),
                _ => None,
            }
        }
        Kind::Enum | Kind::Enum64 if t.name == "libbpf_tristate" => match t.size()? {
            size @ (1 | 2 | 4 | 8) => Some(KconfigType::Tristate { size }),
            _ => None,
        },
        Kind::Array => {
            let a = t.array()?;
            if a.nelems == 0 || classify(btf, a.elem_type) != Some(KconfigType::Char) {
                return None;
            }
            Some(KconfigType::CharArray { len: a.nelems })
        }
        _ => None,
    }
}

/// One `.kconfig` extern as laid out: name, VAR type id, kind, map offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KconfigVar {
    /// The extern's name (`CONFIG_...` or `LINUX_KERNEL_VERSION`).
    pub name: String,
    /// BTF id of its VAR.
    pub var_id: u32,
    /// What kind of value it holds.
    pub ty: KconfigType,
    /// Its offset in the `.kconfig` map value.
    pub offset: u32,
}

/// The `.kconfig` DATASEC's variables, with their types and offsets as they
/// stand in `btf` (after `layout`, the final ones). Empty without one.
pub fn vars(btf: &Btf) -> Result<(Option<u32>, Vec<KconfigVar>), ParseError> {
    let Some(sec) = btf.datasec_named(".kconfig") else {
        return Ok((None, Vec::new()));
    };
    let mut out = Vec::new();
    for v in sec.vars() {
        let var = btf
            .type_by_id(v.type_id)
            .map_err(|e| ParseError::Btf(format!(".kconfig: {e}")))?;
        if var.kind != Kind::Var {
            return Err(ParseError::Btf(format!(
                ".kconfig: entry type {} is a {}, not a VAR",
                v.type_id, var.kind
            )));
        }
        let name = var.name.to_string();
        let ty = classify(btf, var.size_or_type).ok_or_else(|| ParseError::Extern {
            name: name.clone(),
            reason: "unsupported type for a .kconfig extern (bool, char, \
                     enum libbpf_tristate, 1/2/4/8-byte integers or char arrays)"
                .into(),
        })?;
        out.push(KconfigVar {
            name,
            var_id: v.type_id,
            ty,
            offset: v.offset,
        });
    }
    Ok((Some(sec.id), out))
}

/// Lay out `.kconfig`: fix the BTF, record offsets, mark externs, add the map.
/// Called by [`ObjectSpec::parse`] once the object's BTF is parsed.
pub(crate) fn layout(spec: &mut ObjectSpec, btf: &mut Btf) -> Result<(), ParseError> {
    let (Some(sec_id), vars) = vars(btf)? else {
        return Ok(());
    };
    let berr = |e: crate::btf::BtfError| ParseError::Btf(format!(".kconfig: {e}"));
    let mut off: u32 = 0;
    for (i, v) in vars.iter().enumerate() {
        let a = v.ty.align();
        off = off
            .checked_next_multiple_of(a)
            .ok_or_else(|| ParseError::Btf(".kconfig: too large".into()))?;
        btf.set_datasec_var_offset(sec_id, i, off).map_err(berr)?;
        btf.set_var_linkage(v.var_id, LINKAGE_GLOBAL)
            .map_err(berr)?;
        log::trace!(".kconfig: {} ({:?}) at offset {off}", v.name, v.ty);
        spec.kconfig_offsets.push((v.name.clone(), off));
        off = off
            .checked_add(v.ty.size())
            .filter(|&e| u64::from(e) <= super::maps::MAX_DATA_SIZE)
            .ok_or_else(|| ParseError::Btf(".kconfig: too large".into()))?;
    }
    btf.set_datasec_size(sec_id, off).map_err(berr)?;
    for e in &mut spec.externs {
        e.kconfig = vars.iter().any(|v| v.name == e.name);
    }
    if off == 0 {
        return Ok(());
    }
    let mut m = MapSpec::data(
        &spec.name,
        ".kconfig",
        DataKind::Kconfig,
        off,
        vec![0; off as usize],
        usize::MAX,
    );
    m.btf_value_type_id = sec_id;
    log::debug!(
        "object {}: .kconfig map {} with {} externs, {off} bytes",
        spec.name,
        m.name,
        vars.len()
    );
    spec.maps.push(m);
    Ok(())
}
