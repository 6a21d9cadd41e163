//! BTF-defined maps: the `.maps` DATASEC.
//!
//! Each VAR in `.maps` is a map; its type is a struct whose members encode
//! the attributes: `__uint(name, N)` is a pointer to an array of N elements,
//! `__type(name, T)` a pointer to T, `__array(values, T)` a zero-length array
//! of pointers to T (inner map definition or program prototype).

use super::{Btf, BtfError, Kind, Type};

/// `BPF_MAP_TYPE_PROG_ARRAY`.
const PROG_ARRAY: u32 = 3;
const ARRAY_OF_MAPS: u32 = 12;
const HASH_OF_MAPS: u32 = 13;

/// One map definition from `.maps`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfMapDef {
    /// The map variable's name.
    pub name: String,
    /// `__uint(type, ...)`: the map type.
    pub map_type: u32,
    /// Key size in bytes (`__uint(key_size)` or from `__type(key)`).
    pub key_size: u32,
    /// Value size in bytes (`__uint(value_size)` or from `__type(value)`).
    pub value_size: u32,
    /// `__uint(max_entries, ...)`.
    pub max_entries: u32,
    /// `__uint(map_flags, ...)`.
    pub map_flags: u32,
    /// `__uint(numa_node, ...)`.
    pub numa_node: u32,
    /// `__uint(pinning, ...)`: 0 or `LIBBPF_PIN_BY_NAME` (1).
    pub pinning: u32,
    /// `__uint(map_extra, ...)` (bloom filter hashes, arena address).
    pub map_extra: u64,
    /// BTF type id of the key (from `__type(key, T)`).
    pub key_type_id: Option<u32>,
    /// BTF type id of the value (from `__type(value, T)`).
    pub value_type_id: Option<u32>,
    /// Inner map template of a map-in-map (`__array(values, struct {...})`).
    pub inner: Option<Box<BtfMapDef>>,
    /// Offset of the map's variable within the `.maps` section.
    pub var_offset_in_section: u32,
    /// Byte offset of the `values` member within the definition (for
    /// initial slots given in `.values = { ... }`), if present.
    pub values_member_offset: Option<u32>,
    /// BTF type id of the VAR.
    pub var_type_id: u32,
}

fn map_err(map: &str, what: impl Into<String>) -> BtfError {
    BtfError::MapDef {
        map: map.to_string(),
        what: what.into(),
    }
}

/// `__uint(name, N)`: PTR -> ARRAY with nelems N. Also accepts
/// `enum { x = N } name` (libbpf's `__ulong`).
fn uint_member(btf: &Btf, map: &str, member: &str, type_id: u32) -> Result<u64, BtfError> {
    let ctx = |e: BtfError| map_err(map, format!("member '{member}': {e}"));
    let t = btf.skip_mods_and_typedefs(type_id).map_err(ctx)?;
    match t.kind {
        Kind::Ptr => {
            let a = btf.skip_mods_and_typedefs(t.size_or_type).map_err(ctx)?;
            let info = a.array().ok_or_else(|| {
                map_err(
                    map,
                    format!("member '{member}': pointer to {} (expected array)", a.kind),
                )
            })?;
            Ok(info.nelems as u64)
        }
        Kind::Enum | Kind::Enum64 if t.vlen == 1 => Ok(t.enumerator(0).map_err(ctx)?.value),
        k => Err(map_err(
            map,
            format!("member '{member}' is {k}, expected __uint(): pointer to array"),
        )),
    }
}

fn u32_member(btf: &Btf, map: &str, member: &str, type_id: u32) -> Result<u32, BtfError> {
    let v = uint_member(btf, map, member, type_id)?;
    u32::try_from(v).map_err(|_| map_err(map, format!("member '{member}': {v} exceeds u32")))
}

/// `__type(name, T)`: PTR -> T. Returns (T's id, size).
fn type_member(btf: &Btf, map: &str, member: &str, type_id: u32) -> Result<(u32, u32), BtfError> {
    let t = btf
        .skip_mods_and_typedefs(type_id)
        .map_err(|e| map_err(map, format!("member '{member}': {e}")))?;
    if t.kind != Kind::Ptr {
        return Err(map_err(
            map,
            format!(
                "member '{member}' is {}, expected __type(): pointer",
                t.kind
            ),
        ));
    }
    let id = t.size_or_type;
    let size = btf
        .resolve_size(id)
        .map_err(|e| map_err(map, format!("member '{member}': {e}")))?;
    Ok((id, size))
}

fn parse_def(btf: &Btf, name: &str, def: Type<'_>, is_inner: bool) -> Result<BtfMapDef, BtfError> {
    if def.kind != Kind::Struct {
        return Err(map_err(
            name,
            format!("definition is {} (expected struct)", def.kind),
        ));
    }
    let mut m = BtfMapDef {
        name: name.to_string(),
        ..Default::default()
    };
    let (mut key_size, mut value_size) = (None, None);
    let mut values: Option<(u32, u32)> = None; // (member type, byte offset)
    for mem in def.members() {
        let mem = mem.map_err(|e| map_err(name, e.to_string()))?;
        let mname = mem.name;
        match mname {
            "type" => m.map_type = u32_member(btf, name, mname, mem.type_id)?,
            "max_entries" => m.max_entries = u32_member(btf, name, mname, mem.type_id)?,
            "map_flags" => m.map_flags = u32_member(btf, name, mname, mem.type_id)?,
            "numa_node" => m.numa_node = u32_member(btf, name, mname, mem.type_id)?,
            "pinning" => m.pinning = u32_member(btf, name, mname, mem.type_id)?,
            "map_extra" => m.map_extra = uint_member(btf, name, mname, mem.type_id)?,
            "key_size" | "value_size" => {
                let v = u32_member(btf, name, mname, mem.type_id)?;
                let slot = if mname == "key_size" {
                    &mut key_size
                } else {
                    &mut value_size
                };
                if matches!(*slot, Some(old) if old != v) {
                    return Err(map_err(
                        name,
                        format!("conflicting {mname}: {v} vs {slot:?}"),
                    ));
                }
                *slot = Some(v);
            }
            "key" | "value" => {
                let (id, sz) = type_member(btf, name, mname, mem.type_id)?;
                let slot = if mname == "key" {
                    m.key_type_id = Some(id);
                    &mut key_size
                } else {
                    m.value_type_id = Some(id);
                    &mut value_size
                };
                if matches!(*slot, Some(old) if old != sz) {
                    return Err(map_err(
                        name,
                        format!("conflicting {mname} size: {sz} vs {slot:?}"),
                    ));
                }
                *slot = Some(sz);
            }
            "values" => {
                if is_inner {
                    return Err(map_err(name, "inner map definition has 'values'"));
                }
                if mem.bit_offset % 8 != 0 {
                    return Err(map_err(name, "member 'values' not byte-aligned"));
                }
                values = Some((mem.type_id, mem.bit_offset / 8));
            }
            other => {
                return Err(map_err(
                    name,
                    format!("unknown member '{other}' in map definition"),
                ))
            }
        }
    }
    if let Some((vt, voff)) = values {
        m.values_member_offset = Some(voff);
        let arr = btf
            .skip_mods_and_typedefs(vt)
            .map_err(|e| map_err(name, format!("member 'values': {e}")))?;
        let a = arr.array().ok_or_else(|| {
            map_err(
                name,
                format!(
                    "member 'values' is {} (expected array of pointers)",
                    arr.kind
                ),
            )
        })?;
        let p = btf
            .skip_mods_and_typedefs(a.elem_type)
            .map_err(|e| map_err(name, format!("member 'values': {e}")))?;
        if p.kind != Kind::Ptr {
            return Err(map_err(
                name,
                format!(
                    "member 'values' elements are {} (expected pointers)",
                    p.kind
                ),
            ));
        }
        let target = btf
            .skip_mods_and_typedefs(p.size_or_type)
            .map_err(|e| map_err(name, format!("member 'values': {e}")))?;
        match target.kind {
            Kind::Struct => {
                if !matches!(m.map_type, ARRAY_OF_MAPS | HASH_OF_MAPS) {
                    return Err(map_err(
                        name,
                        format!("map type {} cannot hold inner maps", m.map_type),
                    ));
                }
                let inner = parse_def(btf, &format!("{name}.inner"), target, true)?;
                m.inner = Some(Box::new(inner));
            }
            Kind::FuncProto => {
                if m.map_type != PROG_ARRAY {
                    return Err(map_err(
                        name,
                        format!("map type {} cannot hold programs", m.map_type),
                    ));
                }
            }
            k => {
                return Err(map_err(
                    name,
                    format!("member 'values' points to {k} (expected struct or func proto)"),
                ))
            }
        }
        if matches!(value_size, Some(v) if v != 4) {
            return Err(map_err(name, "map-in-map/prog array value size must be 4"));
        }
        value_size = Some(4);
        if key_size.is_none() {
            key_size = Some(4);
        }
    }
    m.key_size = key_size.unwrap_or(0);
    m.value_size = value_size.unwrap_or(0);
    Ok(m)
}

pub(super) fn map_defs(btf: &Btf) -> Result<Vec<BtfMapDef>, BtfError> {
    let Some(sec) = btf.datasec_named(".maps") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for vs in sec.vars() {
        let var = btf.type_by_id(vs.type_id)?;
        if var.kind != Kind::Var {
            return Err(BtfError::MapDef {
                map: var.name.to_string(),
                what: format!("entry [{}] of .maps is {} (expected var)", var.id, var.kind),
            });
        }
        let name = var.name;
        let def = btf
            .skip_mods_and_typedefs(var.size_or_type)
            .map_err(|e| map_err(name, e.to_string()))?;
        let mut m = parse_def(btf, name, def, false)?;
        m.var_offset_in_section = vs.offset;
        m.var_type_id = var.id;
        log::debug!(
            "btf: map '{}' type {} key {} value {} max_entries {}",
            m.name,
            m.map_type,
            m.key_size,
            m.value_size,
            m.max_entries
        );
        out.push(m);
    }
    Ok(out)
}
