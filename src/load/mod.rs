//! BPF_PROG_LOAD and friends: turn an [`ObjectSpec`] into kernel objects.
//!
//! Order: RLIMIT_MEMLOCK (only where the kernel needs it) → BTF → CO-RE →
//! maps (inner templates first, data written and `.rodata` frozen, pins) →
//! programs (linked, fds patched, log retry) → prog-array and map-in-map
//! slots. A failure anywhere drops what was created (every fd is owned) and
//! removes the pins this load made, so nothing is left in the kernel.

use crate::btf_load::ObjBtf;
use crate::error::{Error, Result};
use crate::linker::{ExtInfo, LinkedProgram};
use crate::map::Map;
use crate::obj::maps::{map_type, DataKind, Pinning};
use crate::obj::section::prog_type;
use crate::obj::{MapSpec, ObjectSpec};
use crate::object::{self, LoadOptions, Object};
use crate::program::Program;
use crate::sys::{self, MapCreateAttr, ProgLoadAttr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::PathBuf;

const BPF_F_SLEEPABLE: u32 = 1 << 4;
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// Pins made by this load, removed again if the load fails.
struct PinGuard(Vec<PathBuf>);

impl Drop for PinGuard {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub(crate) fn load(mut spec: ObjectSpec, opts: &LoadOptions) -> Result<Object> {
    log::debug!("loading object {}", spec.name);
    crate::memlock::ensure_memlock();
    let mut obj = object::new_object(spec.name.clone());
    let mut pins = PinGuard(Vec::new());

    // BTF and CO-RE (pure work on `spec`, then BPF_BTF_LOAD).
    let mut btf = crate::btf_load::prepare(&mut spec, opts)?;
    obj.btf_fd = btf.fd.take_fd();
    let ext = btf.ext_info.clone().unwrap_or_default();
    // `.kconfig` values, before the map is created (and frozen).
    crate::kconfig::fill(&mut spec)?;

    // Maps.
    for i in 0..spec.maps.len() {
        let m = create_map(
            &spec,
            i,
            opts,
            obj.btf_fd.as_ref().map(|f| f.as_fd()),
            &mut pins,
        )?;
        obj.maps.push(m);
    }

    // Programs.
    for i in 0..spec.programs.len() {
        if !spec.programs[i].autoload {
            continue;
        }
        let p = load_program(&spec, i, &obj, &btf, &ext, opts)?;
        obj.programs.push(p);
    }

    // Initial slots of prog arrays and map-in-maps.
    for (mi, m) in spec.maps.iter().enumerate() {
        for (slot, target) in &m.init_slots {
            let Some(fd) = object::slot_fd(&obj, &spec, target) else {
                if object::is_prog_array(m.map_type) {
                    log::debug!(
                        "map {}: slot {slot}: {target:?} not loaded; left empty",
                        m.name
                    );
                    continue;
                }
                return Err(Error::Invalid(format!(
                    "map {}: slot {slot}: {target:?} not found",
                    m.name
                )));
            };
            let key = slot.to_le_bytes();
            let val = (fd as u32).to_le_bytes();
            obj.maps[mi]
                .map_fd()
                .update(&key, &val, 0)
                .map_err(|e| Error::Map {
                    map: m.name.clone(),
                    source: e,
                })?;
        }
    }

    pins.0.clear();
    log::debug!(
        "object {} loaded: {} programs, {} maps",
        obj.name,
        obj.programs.len(),
        obj.maps.len()
    );
    Ok(obj)
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
) -> Result<sys::MapFd> {
    let kernel_name = m.kernel_name();
    let mut attr = map_attr(m, &kernel_name, btf_fd);
    attr.inner_map_fd = inner;
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

fn create_map(
    spec: &ObjectSpec,
    i: usize,
    opts: &LoadOptions,
    btf_fd: Option<BorrowedFd<'_>>,
    pins: &mut PinGuard,
) -> Result<Map> {
    let m = &spec.maps[i];
    // A map pinned by name is reused when present.
    let pin = object::pin_path(opts, m)?;
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
                return Err(Error::Invalid(format!(
                    "map {}: pinned map at {} has a different definition",
                    m.name,
                    p.display()
                )));
            }
            log::debug!("map {}: reusing pin {}", m.name, p.display());
            let fd = sys::MapFd::new(fd).map_err(|e| Error::sys(format!("map {}", m.name), e))?;
            return Ok(Map::new(m, fd));
        }
    }
    // Inner-map template for map-in-map.
    let inner_fd = match &m.inner {
        Some(inner) => Some(create_raw(inner, btf_fd, None)?),
        None => None,
    };
    let fd = create_raw(m, btf_fd, inner_fd.as_ref().map(|f| f.as_fd()))?;
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
        object::mmap_data_map(&mut map, m)?;
    }
    if let (Some(p), Pinning::ByName) = (pin, m.pinning) {
        sys::bpffs_ensure(p.parent().unwrap_or(&opts.pin_root))
            .map_err(|e| Error::Invalid(format!("map {}: {e}", m.name)))?;
        sys::obj_pin(map.fd(), &p)
            .map_err(|e| Error::sys(format!("pin map {} at {}", m.name, p.display()), e))?;
        pins.0.push(p);
    }
    Ok(map)
}

fn encode_ext(l: &LinkedProgram) -> (Vec<u8>, Vec<u8>) {
    let mut fi = Vec::with_capacity(l.func_info.len() * 8);
    for f in &l.func_info {
        fi.extend_from_slice(&f.insn_off.to_le_bytes());
        fi.extend_from_slice(&f.type_id.to_le_bytes());
    }
    let mut li = Vec::with_capacity(l.line_info.len() * 16);
    for r in &l.line_info {
        for v in [r.insn_off, r.file_name_off, r.line_off, r.line_col] {
            li.extend_from_slice(&v.to_le_bytes());
        }
    }
    (fi, li)
}

/// `LINUX_VERSION_CODE` of the running kernel.
pub(crate) fn kernel_version_code() -> u32 {
    let rel = sys::uname_release();
    let mut it = rel
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    let mut n = || it.next().and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    let (a, b, c) = (n(), n(), n());
    (a << 16) | (b << 8) | c.min(255)
}

fn load_program(
    spec: &ObjectSpec,
    i: usize,
    obj: &Object,
    btf: &ObjBtf,
    ext: &ExtInfo,
    opts: &LoadOptions,
) -> Result<Program> {
    let p = &spec.programs[i];
    let kind = p.kind.clone().ok_or_else(|| Error::UnknownSection {
        program: p.name.clone(),
        section: p.section.clone(),
    })?;
    let mut linked = object::link(spec, i, ext)?;
    btf.resolve_kconfig(&mut linked, spec)?;
    linked.patch_fds(|m| obj.maps[m].fd().as_raw_fd());
    if let Some(dir) = &opts.dump_insns {
        let path = dir.join(format!("{}.insns", p.name));
        std::fs::write(&path, crate::insn::Insn::encode_all(&linked.insns)).map_err(|source| {
            Error::Io {
                path: path.display().to_string(),
                source,
            }
        })?;
    }
    let (attach_btf_id, attach_btf_obj_fd) = btf.attach_target(&kind, &p.name)?;
    let (fi, li) = if obj.btf_fd.is_some() {
        encode_ext(&linked)
    } else {
        (Vec::new(), Vec::new())
    };
    let license = object::c_license(&spec.license);
    let mut prog_flags = 0;
    if kind.sleepable {
        prog_flags |= BPF_F_SLEEPABLE;
    }
    if kind.xdp_frags {
        prog_flags |= BPF_F_XDP_HAS_FRAGS;
    }
    let kern_version = if spec.kern_version != 0 && spec.kern_version != 0xFFFF_FFFE {
        spec.kern_version
    } else if kind.prog_type == prog_type::KPROBE {
        kernel_version_code()
    } else {
        0
    };
    let name = crate::obj::maps::kernel_name(&p.name);
    let attr = ProgLoadAttr {
        prog_type: kind.prog_type,
        insns: &linked.insns,
        license: &license,
        kern_version,
        prog_flags,
        name: name.as_bytes(),
        expected_attach_type: kind.expected_attach_type,
        prog_btf_fd: if fi.is_empty() {
            None
        } else {
            obj.btf_fd.as_ref().map(|f| f.as_fd())
        },
        func_info: &fi,
        func_info_rec_size: if fi.is_empty() { 0 } else { 8 },
        line_info: if fi.is_empty() { &[] } else { &li },
        line_info_rec_size: if fi.is_empty() || li.is_empty() {
            0
        } else {
            16
        },
        attach_btf_id,
        attach_btf_obj_fd: attach_btf_obj_fd.as_ref().map(|f| f.as_fd()),
        ..Default::default()
    };
    log::debug!(
        "loading program {} ({} insns, section {})",
        p.name,
        linked.insns.len(),
        p.section
    );
    match crate::verifier_log::prog_load_with_log_retry(&attr, opts.log_level.max(1)) {
        Ok(fd) => Ok(Program {
            name: p.name.clone(),
            section: p.section.clone(),
            kind,
            fd,
        }),
        Err((e, log)) => {
            let log = btf.explain_poison(&log, &p.name, &linked, spec);
            Err(Error::Verifier {
                program: p.name.clone(),
                errno: e.errno,
                log,
            })
        }
    }
}
