//! The object's BTF at open time: DATASEC fix-ups (clang leaves sizes and
//! variable offsets 0; they come from ELF section sizes and symbol values),
//! BTF-defined maps from `.maps`, and data-map value types.

use super::error::ParseError;
use super::maps::{MapSpec, Pinning};
use super::ObjectSpec;
use crate::btf::{Btf, Kind};

/// Fill DATASEC sizes and variable offsets from the ELF file.
pub(crate) fn fixup_datasecs(spec: &ObjectSpec, btf: &mut Btf) -> Result<(), ParseError> {
    type Vars = Vec<(usize, String, u32)>;
    let secs: Vec<(u32, String, u32, Vars)> = btf
        .datasecs()
        .map(|t| {
            let vars = t
                .vars()
                .enumerate()
                .map(|(i, v)| {
                    let name = btf.name(v.type_id).unwrap_or("").to_string();
                    (i, name, v.offset)
                })
                .collect();
            (t.id, t.name.to_string(), t.size_or_type, vars)
        })
        .collect();
    let berr = |e: crate::btf::BtfError| ParseError::Btf(e.to_string());
    for (id, name, size, vars) in secs {
        if size == 0 {
            if let Some(&s) = spec.section_sizes.get(&name) {
                btf.set_datasec_size(id, s as u32).map_err(berr)?;
            }
        }
        for (i, var, off) in vars {
            if off != 0 {
                continue;
            }
            if let Some(&o) = spec.symbol_offsets.get(&var) {
                if o != 0 {
                    btf.set_datasec_var_offset(id, i, o as u32).map_err(berr)?;
                }
            }
        }
    }
    Ok(())
}

/// Maps of `.maps`.
pub(crate) fn btf_maps(btf: &Btf, elf_index: usize) -> Result<Vec<MapSpec>, ParseError> {
    let defs = btf.map_defs().map_err(|e| ParseError::Btf(e.to_string()))?;
    Ok(defs
        .into_iter()
        .map(|d| to_spec(btf, &d, elf_index))
        .collect())
}

fn to_spec(btf: &Btf, d: &crate::btf::BtfMapDef, elf_index: usize) -> MapSpec {
    let _ = btf;
    MapSpec {
        name: d.name.clone(),
        symbol: d.name.clone(),
        section: ".maps".into(),
        map_type: d.map_type,
        key_size: d.key_size,
        value_size: d.value_size,
        max_entries: d.max_entries,
        map_flags: d.map_flags,
        numa_node: d.numa_node,
        map_extra: d.map_extra,
        pinning: if d.pinning == 1 {
            Pinning::ByName
        } else {
            Pinning::None
        },
        btf_key_type_id: d.key_type_id.unwrap_or(0),
        btf_value_type_id: d.value_type_id.unwrap_or(0),
        inner: d
            .inner
            .as_ref()
            .map(|i| Box::new(to_spec(btf, i, elf_index))),
        elf_section: Some(elf_index),
        sec_offset: d.var_offset_in_section as u64,
        values_offset: d.values_member_offset.map(|v| v as u64),
        ..Default::default()
    }
}

/// Data maps show their variables in bpftool: value type = the DATASEC.
pub(crate) fn set_data_value_types(btf: &Btf, maps: &mut [MapSpec]) {
    for m in maps.iter_mut().filter(|m| m.data.is_some()) {
        if let Some(id) = btf.find_by_name_kind(&m.section, Kind::Datasec) {
            m.btf_value_type_id = id;
        }
    }
}
