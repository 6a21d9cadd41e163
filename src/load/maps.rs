//! Map creation: BTF key/value ids where the map type takes them (retried
//! without), inner-map templates of map-in-maps, initial data of global
//! data maps (written, then `.rodata`/`.kconfig` frozen, then mmap'd), and
//! pinning by name (an existing pin is reused when its definition matches).
//! A new map type with special creation rules gets its rule here.

use super::LoadOptions;
use crate::abi::map_type;
use crate::error::{Error, Result};
use crate::map::Map;
use crate::obj::maps::{DataKind, Pinning, BPF_F_MMAPABLE};
use crate::obj::{MapSpec, ObjectSpec};
use crate::sys::{self, MapCreateAttr, Mmap};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

/// Pins made by this load, removed again if the load fails.
#[derive(Debug, Default)]
pub(super) struct PinGuard(pub(super) Vec<PathBuf>);

impl Drop for PinGuard {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Whether the kernel refuses BTF key/value type ids for this map type.
fn btf_ids_unsupported(t: u32) -> bool {
    use map_type::*;
    matches!(
        t,
        PROG_ARRAY
            | PERF_EVENT_ARRAY
            | ARRAY_OF_MAPS
            | HASH_OF_MAPS
            | CGROUP_ARRAY
            | STACK_TRACE
            | DEVMAP
            | SOCKMAP
            | CPUMAP
            | XSKMAP
            | SOCKHASH
            | QUEUE
            | STACK
            | RINGBUF
            | USER_RINGBUF
    )
}

fn map_attr<'a>(
    m: &'a MapSpec,
    kernel_name: &'a str,
    btf_fd: Option<BorrowedFd<'a>>,
) -> MapCreateAttr<'a> {
    let use_btf = btf_fd.is_some() && !btf_ids_unsupported(m.map_type) && m.btf_value_type_id != 0;
    let mut max_entries = m.max_entries;
    if m.map_type == map_type::PERF_EVENT_ARRAY && max_entries == 0 {
        max_entries = sys::num_possible_cpus().unwrap_or(1);
    }
    MapCreateAttr {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries,
        map_flags: m.map_flags,
        numa_node: m.numa_node,
        name: kernel_name.as_bytes(),
        btf_fd: if use_btf { btf_fd } else { None },
        btf_key_type_id: if use_btf { m.btf_key_type_id } else { 0 },
        btf_value_type_id: if use_btf { m.btf_value_type_id } else { 0 },
        map_extra: m.map_extra,
        ..Default::default()
    }
}

fn create_raw(
    m: &MapSpec,
    btf_fd: Option<BorrowedFd<'_>>,
    inner: Option<BorrowedFd<'_>>,
    token: Option<BorrowedFd<'_>>,
) -> Result<sys::MapFd> {
    let kernel_name = m.kernel_name();
    let mut attr = map_attr(m, &kernel_name, btf_fd);
    attr.inner_map_fd = inner;
    attr.token_fd = token;
    match sys::MapFd::create(&attr) {
        Ok(fd) => Ok(fd),
        Err(e) if attr.btf_fd.is_some() => {
            log::debug!("map {}: {e}; retrying without BTF", m.name);
            attr.btf_fd = None;
            attr.btf_key_type_id = 0;
            attr.btf_value_type_id = 0;
            sys::MapFd::create(&attr).map_err(|source| Error::Map {
                map: m.name.clone(),
                source,
            })
        }
        Err(source) => Err(Error::Map {
            map: m.name.clone(),
            source,
        }),
    }
}

pub(super) fn create_map(
    spec: &ObjectSpec,
    i: usize,
    opts: &LoadOptions,
    btf_fd: Option<BorrowedFd<'_>>,
    token: Option<BorrowedFd<'_>>,
    pins: &mut PinGuard,
) -> Result<Map> {
    // Definitions libbpf and cilium/ebpf accept though the kernel would not.
    let normalized =
        super::map_compat::normalize(&spec.maps[i], sys::num_possible_cpus().unwrap_or(1));
    let m = normalized.as_ref().unwrap_or(&spec.maps[i]);
    // A map pinned by name is reused when present.
    let pin = pin_path(opts, m)?;
    if let Some(p) = &pin {
        if p.exists() {
            let fd = sys::obj_get(p)
                .map_err(|e| Error::sys(format!("map {}: open pin {}", m.name, p.display()), e))?;
            let info =
                sys::map_info(fd.as_fd()).map_err(|e| Error::sys(format!("map {}", m.name), e))?;
            if info.map_type != m.map_type
                || info.key_size != m.key_size
                || info.value_size != m.value_size
                || info.max_entries != m.max_entries
            {
                return Err(Error::PinMismatch {
                    map: m.name.clone(),
                    path: p.clone(),
                });
            }
            log::debug!("map {}: reusing pin {}", m.name, p.display());
            let fd = sys::MapFd::new(fd).map_err(|e| Error::sys(format!("map {}", m.name), e))?;
            return Ok(Map::new(m, fd));
        }
    }
    // Inner-map template for map-in-map.
    let inner_fd = match &m.inner {
        Some(inner) => Some(create_raw(inner, btf_fd, None, token)?),
        None => None,
    };
    let fd = create_raw(m, btf_fd, inner_fd.as_ref().map(|f| f.as_fd()), token)?;
    drop(inner_fd);
    log::debug!(
        "map {} created (type {}, {} entries)",
        m.name,
        map_type::name(m.map_type),
        m.max_entries
    );
    let mut map = Map::new(m, fd);
    if m.map_type == map_type::PERF_EVENT_ARRAY && m.max_entries == 0 {
        map.set_max_entries(sys::num_possible_cpus().unwrap_or(1));
    }
    if let Some(kind) = m.data {
        if !m.initial.is_empty() {
            let mut v = m.initial.clone();
            v.resize(m.value_size as usize, 0);
            map.map_fd()
                .update(&0u32.to_le_bytes(), &v, 0)
                .map_err(|source| Error::Map {
                    map: m.name.clone(),
                    source,
                })?;
        }
        if matches!(kind, DataKind::Rodata | DataKind::Kconfig) {
            sys::map_freeze(map.fd()).map_err(|source| Error::Map {
                map: m.name.clone(),
                source,
            })?;
        }
        mmap_data_map(&mut map, m)?;
    }
    if let (Some(p), Pinning::ByName) = (pin, m.pinning) {
        sys::bpffs_ensure(p.parent().unwrap_or(&opts.pin_root)).map_err(|source| Error::Bpffs {
            map: m.name.clone(),
            source,
        })?;
        sys::obj_pin(map.fd(), &p)
            .map_err(|e| Error::sys(format!("pin map {} at {}", m.name, p.display()), e))?;
        pins.0.push(p);
    }
    Ok(map)
}

fn mmap_data_map(m: &mut Map, spec: &MapSpec) -> Result<()> {
    if spec.map_flags & BPF_F_MMAPABLE == 0 {
        return Ok(());
    }
    let writable = spec.data != Some(DataKind::Rodata) && spec.data != Some(DataKind::Kconfig);
    let len = (spec.value_size as usize).max(1);
    let mm = Mmap::map_fd(m.fd(), len, writable, 0)
        .map_err(|e| Error::sys(format!("mmap map {}", spec.name), e))?;
    m.set_mmap(mm);
    Ok(())
}

/// Where a map pinned by name lives: `<pin root>/<full map name>` (as libbpf
/// does); `None` for maps not pinned. A name that is not a single path
/// component is an error rather than a path outside the pin root.
fn pin_path(opts: &LoadOptions, spec: &MapSpec) -> Result<Option<PathBuf>> {
    if spec.pinning != Pinning::ByName {
        return Ok(None);
    }
    let n = spec.name.as_str();
    if n.is_empty() || n == "." || n == ".." || n.contains('/') || n.contains('\0') {
        return Err(Error::Invalid(format!(
            "map {n:?}: pinned by name, but its name is not usable as a file name in {}",
            opts.pin_root.display()
        )));
    }
    Ok(Some(opts.pin_root.join(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_path_is_the_full_name_under_the_root_and_never_escapes_it() {
        let opts = LoadOptions::default().pin_root("/sys/fs/bpf/x");
        let spec = |name: &str| MapSpec {
            name: name.into(),
            pinning: Pinning::ByName,
            ..Default::default()
        };
        assert_eq!(
            pin_path(&opts, &spec("cilium_ratelimit_metrics")).unwrap(),
            Some(PathBuf::from("/sys/fs/bpf/x/cilium_ratelimit_metrics"))
        );
        let unpinned = MapSpec {
            name: "m".into(),
            ..Default::default()
        };
        assert_eq!(pin_path(&opts, &unpinned).unwrap(), None);
        for bad in ["", ".", "..", "../../etc/x", "a/b", "a\0b"] {
            let e = pin_path(&opts, &spec(bad)).unwrap_err().to_string();
            assert!(e.contains("not usable as a file name"), "{bad:?}: {e}");
        }
    }
}
