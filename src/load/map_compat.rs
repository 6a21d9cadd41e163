//! Map definitions the kernel would refuse as written but libbpf and
//! cilium/ebpf accept, made acceptable before creation:
//!
//! - `PERF_EVENT_ARRAY`: key and value are always 4 bytes (a cpu index and
//!   a perf event fd), whatever value type the object declared; no
//!   `max_entries` (0) or more than the possible CPUs becomes the number of
//!   possible CPUs;
//! - `ARRAY_OF_MAPS` / `HASH_OF_MAPS` (and their inner templates): the value
//!   is a 4-byte map fd, whatever the declaration says (a BTF
//!   `__array(values, ...)` declares none).
//!
//! Each change is logged at debug level, naming the map.

use crate::abi::map_type;
use crate::obj::MapSpec;

/// `m` as the kernel must see it on a machine with `possible_cpus` CPUs.
/// `None` when nothing changes.
pub(super) fn normalize(m: &MapSpec, possible_cpus: u32) -> Option<MapSpec> {
    let mut out = m.clone();
    let mut changed = fix(&mut out, possible_cpus);
    if let Some(inner) = out.inner.as_mut() {
        changed |= fix(inner, possible_cpus);
    }
    changed.then_some(out)
}

fn fix(m: &mut MapSpec, cpus: u32) -> bool {
    let before = (m.key_size, m.value_size, m.max_entries);
    match m.map_type {
        map_type::PERF_EVENT_ARRAY => {
            m.key_size = 4;
            m.value_size = 4;
            if m.max_entries == 0 || m.max_entries > cpus {
                m.max_entries = cpus.max(1);
            }
            // A declared value type describes something else (the events).
            m.btf_key_type_id = 0;
            m.btf_value_type_id = 0;
        }
        map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS => {
            m.value_size = 4;
        }
        _ => return false,
    }
    let after = (m.key_size, m.value_size, m.max_entries);
    if before != after {
        log::debug!(
            "map {}: {} key/value/max_entries {before:?} → {after:?} (as libbpf and cilium/ebpf create it)",
            m.name,
            map_type::name(m.map_type)
        );
    }
    before != after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(t: u32, k: u32, v: u32, n: u32) -> MapSpec {
        MapSpec {
            name: "m".into(),
            map_type: t,
            key_size: k,
            value_size: v,
            max_entries: n,
            ..Default::default()
        }
    }

    #[test]
    fn perf_event_array() {
        let m = normalize(&spec(map_type::PERF_EVENT_ARRAY, 4, 16, 128), 2).unwrap();
        assert_eq!((m.key_size, m.value_size, m.max_entries), (4, 4, 2));
        let m = normalize(&spec(map_type::PERF_EVENT_ARRAY, 0, 0, 0), 8).unwrap();
        assert_eq!((m.key_size, m.value_size, m.max_entries), (4, 4, 8));
        // Fewer entries than CPUs: kept (the object wants only those).
        assert!(normalize(&spec(map_type::PERF_EVENT_ARRAY, 4, 4, 1), 8).is_none());
    }

    #[test]
    fn map_of_maps_and_others() {
        let mut outer = spec(map_type::HASH_OF_MAPS, 4, 0, 4);
        outer.inner = Some(Box::new(spec(map_type::ARRAY_OF_MAPS, 4, 8, 2)));
        let m = normalize(&outer, 2).unwrap();
        assert_eq!(m.value_size, 4);
        assert_eq!(m.inner.unwrap().value_size, 4);
        assert!(normalize(&spec(map_type::ARRAY_OF_MAPS, 4, 4, 2), 2).is_none());
        assert!(normalize(&spec(map_type::HASH, 4, 8, 2), 2).is_none());
    }
}
