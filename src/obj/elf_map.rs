//! The legacy `maps` section ([`legacy_maps`]) and iproute2's extension of
//! its map definition, `struct bpf_elf_map`: the five fields
//! of `bpf_map_def` followed by `id`, `pinning`, `inner_id` and `inner_idx`
//! (36 bytes), as tc/ip objects and cilium/ebpf understand them:
//!
//! - `pinning`: 0 none; 2 (`PIN_GLOBAL_NS`) pinned by name (at the pin
//!   root, `/sys/fs/bpf` by default; iproute2 used `/sys/fs/bpf/tc/globals`,
//!   so set `LoadOptions::pin_root` to that to share its pins); 1
//!   (`PIN_OBJECT_NS`, a per-object directory of iproute2) is not pinned;
//!   other values (iproute2's custom pin table) are refused.
//! - `id`: a number other maps of the section refer to; `inner_id` on an
//!   `ARRAY_OF_MAPS`/`HASH_OF_MAPS` names the map whose definition is the
//!   inner-map template; `inner_idx` on that inner map is the outer slot it
//!   is stored in after loading (`0xffffffff`, iproute2's -1: nowhere).

use super::error::{sec_err, ParseError};
use super::maps::{MapSpec, Pinning, SlotTarget};
use crate::abi::map_type;

/// Size of `struct bpf_map_def` (the first five fields).
pub(crate) const MAP_DEF_SIZE: usize = 20;

/// `inner_idx` meaning "do not insert into the outer map".
const NO_SLOT: u32 = u32::MAX;

/// The fields after `bpf_map_def`'s (all 0 when the definition is shorter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ElfMapExtra {
    pub id: u32,
    pub pinning: u32,
    pub inner_id: u32,
    pub inner_idx: u32,
}

fn map_err(map: &str, reason: String) -> ParseError {
    ParseError::Map {
        map: map.to_string(),
        reason,
    }
}

/// Read the extra fields of one definition (`raw` = the whole definition).
pub(crate) fn parse_extra(map: &str, raw: &[u8]) -> Result<ElfMapExtra, ParseError> {
    let word = |i: usize| -> u32 {
        let at = MAP_DEF_SIZE + i * 4;
        raw.get(at..at + 4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .unwrap_or(0)
    };
    if raw.len() > MAP_DEF_SIZE + 16 && raw[MAP_DEF_SIZE + 16..].iter().any(|&b| b != 0) {
        return Err(map_err(
            map,
            format!(
                "legacy definition of {} bytes has non-zero fields after the 36 of iproute2's struct bpf_elf_map (type, key/value size, max entries, flags, id, pinning, inner_id, inner_idx)",
                raw.len()
            ),
        ));
    }
    Ok(ElfMapExtra {
        id: word(0),
        pinning: word(1),
        inner_id: word(2),
        inner_idx: word(3),
    })
}

/// Apply the extra fields: pinning, inner-map templates, outer slots.
/// `maps[i]` was defined with `extras[i]`.
pub(crate) fn apply(maps: &mut [MapSpec], extras: &[ElfMapExtra]) -> Result<(), ParseError> {
    for (i, e) in extras.iter().enumerate() {
        if e.id != 0 {
            if let Some(j) = extras[..i].iter().position(|x| x.id == e.id) {
                return Err(map_err(
                    &maps[i].name,
                    format!("id {} is also the id of map {}", e.id, maps[j].name),
                ));
            }
        }
        maps[i].pinning = match e.pinning {
            0 => Pinning::None,
            1 => {
                log::debug!(
                    "map {}: iproute2 PIN_OBJECT_NS pinning: not pinned",
                    maps[i].name
                );
                Pinning::None
            }
            2 => Pinning::ByName,
            p => {
                return Err(map_err(
                    &maps[i].name,
                    format!("pinning {p}: only 0 (none), 1 (PIN_OBJECT_NS: not pinned) and 2 (PIN_GLOBAL_NS: pinned by name) are supported"),
                ))
            }
        };
    }
    for i in 0..maps.len() {
        let inner_id = extras[i].inner_id;
        if inner_id == 0 {
            continue;
        }
        let outer = &maps[i];
        if !matches!(
            outer.map_type,
            map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS
        ) {
            return Err(map_err(
                &outer.name,
                format!(
                    "inner_id {inner_id} on a {} map: only map-in-map types take an inner map",
                    map_type::name(outer.map_type)
                ),
            ));
        }
        let Some(j) = extras
            .iter()
            .enumerate()
            .position(|(j, x)| j != i && x.id == inner_id)
        else {
            return Err(map_err(
                &outer.name,
                format!("inner_id {inner_id}: no map of the section has that id"),
            ));
        };
        if extras[j].inner_id != 0 {
            return Err(map_err(
                &outer.name,
                format!(
                    "inner_id {inner_id}: map {} is itself a map-in-map (one level only)",
                    maps[j].name
                ),
            ));
        }
        let mut template = maps[j].clone();
        template.pinning = Pinning::None;
        template.init_slots.clear();
        let slot = extras[j].inner_idx;
        let max = maps[i].max_entries;
        if slot != NO_SLOT {
            if maps[i].map_type == map_type::ARRAY_OF_MAPS && slot >= max {
                return Err(map_err(
                    &maps[j].name,
                    format!(
                        "inner_idx {slot} is outside outer map {} ({max} entries)",
                        maps[i].name
                    ),
                ));
            }
            let target = SlotTarget::Map(maps[j].symbol.clone());
            maps[i].init_slots.push((slot, target));
        }
        maps[i].inner = Some(Box::new(template));
    }
    Ok(())
}

/// Maps of the legacy `maps` section: `struct bpf_map_def { type, key_size,
/// value_size, max_entries, map_flags }`, one per symbol, all the same size,
/// possibly extended to iproute2's `struct bpf_elf_map` (see `elf_map`).
pub(crate) fn legacy_maps(
    section: &str,
    bytes: &[u8],
    syms: &[(&str, u64)],
    elf_index: usize,
) -> Result<Vec<MapSpec>, ParseError> {
    if syms.is_empty() {
        return Ok(Vec::new());
    }
    let def_size = bytes.len() / syms.len();
    if def_size == 0 || def_size % 4 != 0 {
        return Err(sec_err(
            section,
            format!("map definition size {def_size} is not valid"),
        ));
    }
    let mut out = Vec::new();
    let mut extras = Vec::new();
    for (name, off) in syms {
        let off = *off as usize;
        let end = off
            .checked_add(def_size)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| ParseError::Map {
                map: name.to_string(),
                reason: "definition outside section".into(),
            })?;
        let raw = &bytes[off..end];
        let mut f = [0u32; 5];
        for (i, v) in f.iter_mut().enumerate() {
            if let Some(c) = raw.get(i * 4..i * 4 + 4) {
                *v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        // iproute2's struct bpf_elf_map extends the definition.
        extras.push(parse_extra(name, raw)?);
        out.push(MapSpec {
            name: name.to_string(),
            symbol: name.to_string(),
            section: section.to_string(),
            map_type: f[0],
            key_size: f[1],
            value_size: f[2],
            max_entries: f[3],
            map_flags: f[4],
            elf_section: Some(elf_index),
            sec_offset: off as u64,
            ..Default::default()
        });
    }
    apply(&mut out, &extras)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn spec(name: &str, t: u32) -> MapSpec {
        MapSpec {
            name: name.into(),
            symbol: name.into(),
            map_type: t,
            key_size: 4,
            value_size: 4,
            max_entries: 4,
            ..Default::default()
        }
    }

    #[test]
    fn extra_fields() {
        let e = parse_extra("m", &def(&[1, 4, 8, 2, 0, 7, 2, 0, 3])).unwrap();
        assert_eq!(
            e,
            ElfMapExtra {
                id: 7,
                pinning: 2,
                inner_id: 0,
                inner_idx: 3
            }
        );
        assert_eq!(
            parse_extra("m", &def(&[1, 4, 8, 2, 0])).unwrap(),
            ElfMapExtra::default()
        );
        // Padding after the 36 bytes must be zero.
        assert!(parse_extra("m", &def(&[1, 4, 8, 2, 0, 0, 0, 0, 0, 0])).is_ok());
        let e = parse_extra("m", &def(&[1, 4, 8, 2, 0, 0, 0, 0, 0, 9])).unwrap_err();
        assert!(e.to_string().contains("bpf_elf_map"), "{e}");
    }

    #[test]
    fn inner_maps_pins_and_errors() {
        let mut maps = vec![
            spec("inner", map_type::ARRAY),
            spec("outer", map_type::ARRAY_OF_MAPS),
            spec("pinned", map_type::HASH),
        ];
        let x = |id, pinning, inner_id, inner_idx| ElfMapExtra {
            id,
            pinning,
            inner_id,
            inner_idx,
        };
        let extras = [x(7, 0, 0, 3), x(0, 0, 7, 0), x(0, 2, 0, 0)];
        apply(&mut maps, &extras).unwrap();
        assert_eq!(maps[1].inner.as_ref().unwrap().name, "inner");
        assert_eq!(
            maps[1].init_slots,
            vec![(3, SlotTarget::Map("inner".into()))]
        );
        assert_eq!(maps[2].pinning, Pinning::ByName);
        assert_eq!(maps[0].pinning, Pinning::None);

        let err = |extras: &[ElfMapExtra]| {
            let mut m = vec![
                spec("inner", map_type::ARRAY),
                spec("outer", map_type::ARRAY_OF_MAPS),
                spec("pinned", map_type::HASH),
            ];
            apply(&mut m, extras).unwrap_err().to_string()
        };
        let z = ElfMapExtra::default();
        assert!(err(&[x(7, 0, 0, 9), x(0, 0, 7, 0), z]).contains("outside outer map"));
        assert!(err(&[x(7, 0, 0, 0), x(0, 0, 8, 0), z]).contains("no map of the section"));
        assert!(err(&[x(7, 0, 0, 0), x(7, 0, 0, 0), z]).contains("also the id"));
        assert!(err(&[z, z, x(0, 3, 0, 0)]).contains("pinning 3"));
        assert!(err(&[x(7, 0, 0, 0), z, x(0, 0, 7, 0)]).contains("only map-in-map"));
        // -1: a template only, not stored in the outer map.
        let mut m = vec![
            spec("inner", map_type::ARRAY),
            spec("outer", map_type::HASH_OF_MAPS),
        ];
        apply(&mut m, &[x(7, 0, 0, NO_SLOT), x(0, 0, 7, 0)]).unwrap();
        assert!(m[1].init_slots.is_empty() && m[1].inner.is_some());
    }
}
