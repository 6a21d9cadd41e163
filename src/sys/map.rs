//! Maps: `BPF_MAP_CREATE`, element and batch operations, `BPF_MAP_FREEZE`,
//! and [`MapFd`], a map fd with its key/value sizes cached.

use std::os::fd::{BorrowedFd, OwnedFd};

use nix::errno::Errno;

use super::bpf::*;
use super::bpf_attr as raw;
use super::{map_info, obj_name, SysError, SysResult};

/// Arguments of `BPF_MAP_CREATE`. `name` is truncated to 15 bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct MapCreateAttr<'a> {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: Option<BorrowedFd<'a>>,
    pub numa_node: u32,
    pub name: &'a [u8],
    pub btf_fd: Option<BorrowedFd<'a>>,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
    pub map_ifindex: u32,
    /// A BPF token (6.9+): sets `map_token_fd` and `BPF_F_TOKEN_FD`.
    pub token_fd: Option<BorrowedFd<'a>>,
}

pub fn map_create(a: &MapCreateAttr<'_>) -> SysResult<OwnedFd> {
    let mut attr = raw::MapCreate {
        map_type: a.map_type,
        key_size: a.key_size,
        value_size: a.value_size,
        max_entries: a.max_entries,
        map_flags: a.map_flags | a.token_fd.map_or(0, |_| super::BPF_F_TOKEN_FD),
        inner_map_fd: opt_fd(a.inner_map_fd),
        numa_node: a.numa_node,
        map_name: obj_name(a.name),
        map_ifindex: a.map_ifindex,
        btf_fd: opt_fd(a.btf_fd),
        btf_key_type_id: a.btf_key_type_id,
        btf_value_type_id: a.btf_value_type_id,
        btf_vmlinux_value_type_id: a.btf_vmlinux_value_type_id,
        map_extra: a.map_extra,
        map_token_fd: a.token_fd.map_or(0, |f| fd_u32(f) as i32),
        ..Default::default()
    };
    bpf_fd("BPF_MAP_CREATE", BPF_MAP_CREATE, &mut attr)
}

/// Key and user-space value sizes of a map, in bytes (per-CPU maps: one
/// 8-byte-aligned slot per possible CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapSizes {
    pub key: usize,
    pub value: usize,
}

/// The buffer sizes the kernel reads/writes for `fd`'s keys and values.
pub fn map_sizes(fd: BorrowedFd<'_>) -> SysResult<MapSizes> {
    let info = map_info(fd)?;
    Ok(MapSizes {
        key: info.key_size as usize,
        value: user_value_size(info.map_type, info.value_size)?,
    })
}

/// Bytes one CPU's value takes in a per-CPU map's user-space buffer: the
/// value size rounded up to 8, as the kernel lays the slots out.
pub fn percpu_slot_size(value_size: u32) -> usize {
    (value_size as usize).div_ceil(8).saturating_mul(8)
}

/// Size of the value buffer user space passes for one element: `value_size`,
/// or for per-CPU maps one [`percpu_slot_size`] slot per possible CPU.
pub fn user_value_size(map_type: u32, value_size: u32) -> SysResult<usize> {
    if crate::abi::map_type::is_per_cpu(map_type) {
        Ok(percpu_slot_size(value_size).saturating_mul(super::num_possible_cpus()? as usize))
    } else {
        Ok(value_size as usize)
    }
}

fn check_len(call: &'static str, have: usize, need: usize) -> SysResult<()> {
    if have < need {
        log::debug!("{call}: buffer of {have} bytes, the map needs {need}");
        Err(SysError::new(call, Errno::EINVAL))
    } else {
        Ok(())
    }
}

fn elem_op(cmd: u32, call: &'static str, attr: &mut raw::MapElem) -> SysResult<bool> {
    match sys_bpf(cmd, attr) {
        Ok(_) => Ok(true),
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(SysError::new(call, e)),
    }
}

/// Look `key` up; the value goes to `value`. `Ok(false)` when absent.
fn map_lookup_elem_sized(
    fd: BorrowedFd<'_>,
    s: MapSizes,
    key: &[u8],
    value: &mut [u8],
    flags: u64,
) -> SysResult<bool> {
    check_len(
        "BPF_MAP_LOOKUP_ELEM: key buffer too small",
        key.len(),
        s.key,
    )?;
    check_len(
        "BPF_MAP_LOOKUP_ELEM: value buffer too small",
        value.len(),
        s.value,
    )?;
    let mut attr = raw::MapElem {
        map_fd: fd_u32(fd),
        key: ptr(key),
        value: mut_ptr(value),
        flags,
        ..Default::default()
    };
    elem_op(BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", &mut attr)
}

/// Insert or replace (`flags`: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`).
fn map_update_elem_sized(
    fd: BorrowedFd<'_>,
    s: MapSizes,
    key: &[u8],
    value: &[u8],
    flags: u64,
) -> SysResult<()> {
    check_len(
        "BPF_MAP_UPDATE_ELEM: key buffer too small",
        key.len(),
        s.key,
    )?;
    check_len(
        "BPF_MAP_UPDATE_ELEM: value buffer too small",
        value.len(),
        s.value,
    )?;
    let mut attr = raw::MapElem {
        map_fd: fd_u32(fd),
        key: ptr(key),
        value: ptr(value),
        flags,
        ..Default::default()
    };
    sys_bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map_err(|e| SysError::new("BPF_MAP_UPDATE_ELEM", e))?;
    Ok(())
}

/// Delete `key`; `Ok(false)` when it was absent.
fn map_delete_elem_sized(fd: BorrowedFd<'_>, s: MapSizes, key: &[u8]) -> SysResult<bool> {
    check_len(
        "BPF_MAP_DELETE_ELEM: key buffer too small",
        key.len(),
        s.key,
    )?;
    let mut attr = raw::MapElem {
        map_fd: fd_u32(fd),
        key: ptr(key),
        ..Default::default()
    };
    elem_op(BPF_MAP_DELETE_ELEM, "BPF_MAP_DELETE_ELEM", &mut attr)
}

/// The key after `key` (the first key when `None`) into `next`; `Ok(false)` at the end.
fn map_get_next_key_sized(
    fd: BorrowedFd<'_>,
    s: MapSizes,
    key: Option<&[u8]>,
    next: &mut [u8],
) -> SysResult<bool> {
    if let Some(k) = key {
        check_len("BPF_MAP_GET_NEXT_KEY: key buffer too small", k.len(), s.key)?;
    }
    check_len(
        "BPF_MAP_GET_NEXT_KEY: next-key buffer too small",
        next.len(),
        s.key,
    )?;
    let mut attr = raw::MapElem {
        map_fd: fd_u32(fd),
        key: key.map(ptr).unwrap_or(0),
        value: mut_ptr(next),
        ..Default::default()
    };
    elem_op(BPF_MAP_GET_NEXT_KEY, "BPF_MAP_GET_NEXT_KEY", &mut attr)
}

/// Pop an element (queue/stack: `key` is `None`) or look up and delete `key`.
/// `Ok(false)` when empty/absent.
fn map_lookup_and_delete_elem_sized(
    fd: BorrowedFd<'_>,
    s: MapSizes,
    key: Option<&[u8]>,
    value: &mut [u8],
) -> SysResult<bool> {
    let call = "BPF_MAP_LOOKUP_AND_DELETE_ELEM";
    if let Some(k) = key {
        check_len(
            "BPF_MAP_LOOKUP_AND_DELETE_ELEM: key buffer too small",
            k.len(),
            s.key,
        )?;
    } else if s.key != 0 {
        return Err(SysError::new(
            "BPF_MAP_LOOKUP_AND_DELETE_ELEM: key required for this map",
            Errno::EINVAL,
        ));
    }
    check_len(
        "BPF_MAP_LOOKUP_AND_DELETE_ELEM: value buffer too small",
        value.len(),
        s.value,
    )?;
    let mut attr = raw::MapElem {
        map_fd: fd_u32(fd),
        key: key.map(ptr).unwrap_or(0),
        value: mut_ptr(value),
        ..Default::default()
    };
    elem_op(BPF_MAP_LOOKUP_AND_DELETE_ELEM, call, &mut attr)
}

/// A map fd that knows its key and value sizes, asked of the kernel once:
/// its element operations check buffers against them without a
/// BPF_OBJ_GET_INFO_BY_FD per call. It is the only way to do element
/// operations, so buffers are always checked against the map's real sizes.
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    sizes: MapSizes,
}

impl MapFd {
    /// Wrap a map fd; its sizes come from BPF_OBJ_GET_INFO_BY_FD.
    pub fn new(fd: OwnedFd) -> SysResult<MapFd> {
        let sizes = map_sizes(std::os::fd::AsFd::as_fd(&fd))?;
        Ok(MapFd { fd, sizes })
    }

    /// Create a map (BPF_MAP_CREATE); the sizes are the ones the kernel
    /// accepted.
    pub fn create(a: &MapCreateAttr<'_>) -> SysResult<MapFd> {
        let value = user_value_size(a.map_type, a.value_size)?;
        let fd = map_create(a)?;
        Ok(MapFd {
            fd,
            sizes: MapSizes {
                key: a.key_size as usize,
                value,
            },
        })
    }

    /// The map's fd.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.fd)
    }

    /// The key and user-space value sizes buffers are checked against.
    pub fn sizes(&self) -> MapSizes {
        self.sizes
    }

    /// Look `key` up; the value goes to `value`. `Ok(false)` when absent.
    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> SysResult<bool> {
        map_lookup_elem_sized(self.as_fd(), self.sizes, key, value, flags)
    }

    /// Insert or replace (`flags`: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`,
    /// `BPF_F_LOCK`). Queues and stacks take an empty `key`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> SysResult<()> {
        map_update_elem_sized(self.as_fd(), self.sizes, key, value, flags)
    }

    /// Delete `key`; `Ok(false)` when it was absent.
    pub fn delete(&self, key: &[u8]) -> SysResult<bool> {
        map_delete_elem_sized(self.as_fd(), self.sizes, key)
    }

    /// The key after `key` (the first key when `None`) into `next`;
    /// `Ok(false)` at the end.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> SysResult<bool> {
        map_get_next_key_sized(self.as_fd(), self.sizes, key, next)
    }

    /// Pop an element (queue/stack: `key` is `None`) or look up and delete
    /// `key`. `Ok(false)` when empty/absent.
    pub fn lookup_and_delete(&self, key: Option<&[u8]>, value: &mut [u8]) -> SysResult<bool> {
        map_lookup_and_delete_elem_sized(self.as_fd(), self.sizes, key, value)
    }
}

/// Make the map read-only for user space (`.rodata`).
pub fn map_freeze(fd: BorrowedFd<'_>) -> SysResult<()> {
    let mut attr = raw::MapFd { map_fd: fd_u32(fd) };
    sys_bpf(BPF_MAP_FREEZE, &mut attr).map_err(|e| SysError::new("BPF_MAP_FREEZE", e))?;
    Ok(())
}

/// Result of a batch lookup: how many elements were copied, and whether the
/// map has been walked to the end (the kernel's `ENOENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOut {
    pub count: u32,
    pub done: bool,
}

#[allow(clippy::too_many_arguments)]
fn lookup_batch(
    cmd: u32,
    call: &'static str,
    fd: BorrowedFd<'_>,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    count: u32,
    elem_flags: u64,
) -> SysResult<BatchOut> {
    let s = map_sizes(fd)?;
    // Hash maps use a 4-byte bucket index as the token, arrays a key.
    let token = s.key.max(4);
    if let Some(b) = in_batch {
        check_len(
            "BPF_MAP_LOOKUP_BATCH: in_batch token too small",
            b.len(),
            token,
        )?;
    }
    check_len(
        "BPF_MAP_LOOKUP_BATCH: out_batch token too small",
        out_batch.len(),
        token,
    )?;
    let n = count as usize;
    check_len(
        "BPF_MAP_LOOKUP_BATCH: keys buffer too small",
        keys.len(),
        s.key.saturating_mul(n),
    )?;
    check_len(
        "BPF_MAP_LOOKUP_BATCH: values buffer too small",
        values.len(),
        s.value.saturating_mul(n),
    )?;
    let mut attr = raw::MapBatch {
        in_batch: in_batch.map(ptr).unwrap_or(0),
        out_batch: mut_ptr(out_batch),
        keys: mut_ptr(keys),
        values: mut_ptr(values),
        count,
        map_fd: fd_u32(fd),
        elem_flags,
        flags: 0,
    };
    match sys_bpf(cmd, &mut attr) {
        Ok(_) => Ok(BatchOut {
            count: attr.count.min(count),
            done: false,
        }),
        Err(Errno::ENOENT) => Ok(BatchOut {
            count: attr.count.min(count),
            done: true,
        }),
        Err(e) => Err(SysError::new(call, e)),
    }
}

/// Copy up to `count` elements into `keys`/`values`, starting after the
/// token `in_batch` (from the start when `None`); the next token goes to
/// `out_batch` (at least `max(key_size, 4)` bytes).
#[allow(clippy::too_many_arguments)]
pub fn map_lookup_batch(
    fd: BorrowedFd<'_>,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    count: u32,
    elem_flags: u64,
) -> SysResult<BatchOut> {
    lookup_batch(
        BPF_MAP_LOOKUP_BATCH,
        "BPF_MAP_LOOKUP_BATCH",
        fd,
        in_batch,
        out_batch,
        keys,
        values,
        count,
        elem_flags,
    )
}

/// As [`map_lookup_batch`], deleting what it returns.
#[allow(clippy::too_many_arguments)]
pub fn map_lookup_and_delete_batch(
    fd: BorrowedFd<'_>,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    count: u32,
    elem_flags: u64,
) -> SysResult<BatchOut> {
    lookup_batch(
        BPF_MAP_LOOKUP_AND_DELETE_BATCH,
        "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
        fd,
        in_batch,
        out_batch,
        keys,
        values,
        count,
        elem_flags,
    )
}

/// Update `count` elements; returns how many were processed. On error the
/// kernel may have applied a prefix (not reported).
pub fn map_update_batch(
    fd: BorrowedFd<'_>,
    keys: &[u8],
    values: &[u8],
    count: u32,
    elem_flags: u64,
) -> SysResult<u32> {
    let s = map_sizes(fd)?;
    let n = count as usize;
    check_len(
        "BPF_MAP_UPDATE_BATCH: keys buffer too small",
        keys.len(),
        s.key.saturating_mul(n),
    )?;
    check_len(
        "BPF_MAP_UPDATE_BATCH: values buffer too small",
        values.len(),
        s.value.saturating_mul(n),
    )?;
    let mut attr = raw::MapBatch {
        keys: ptr(keys),
        values: ptr(values),
        count,
        map_fd: fd_u32(fd),
        elem_flags,
        ..Default::default()
    };
    sys_bpf(BPF_MAP_UPDATE_BATCH, &mut attr)
        .map_err(|e| SysError::new("BPF_MAP_UPDATE_BATCH", e))?;
    Ok(attr.count.min(count))
}

/// Delete `count` keys; returns how many were deleted.
pub fn map_delete_batch(
    fd: BorrowedFd<'_>,
    keys: &[u8],
    count: u32,
    elem_flags: u64,
) -> SysResult<u32> {
    let s = map_sizes(fd)?;
    check_len(
        "BPF_MAP_DELETE_BATCH: keys buffer too small",
        keys.len(),
        s.key.saturating_mul(count as usize),
    )?;
    let mut attr = raw::MapBatch {
        keys: ptr(keys),
        count,
        map_fd: fd_u32(fd),
        elem_flags,
        ..Default::default()
    };
    sys_bpf(BPF_MAP_DELETE_BATCH, &mut attr)
        .map_err(|e| SysError::new("BPF_MAP_DELETE_BATCH", e))?;
    Ok(attr.count.min(count))
}
