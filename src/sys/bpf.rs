//! bpf(2) commands.
//!
//! Every buffer the kernel writes to is a Rust slice whose length is checked
//! against what the kernel will write (map key/value sizes come from
//! `BPF_OBJ_GET_INFO_BY_FD`), so these functions are safe to call with any input.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;

use super::bpf_attr as raw;
use super::{name_from_field, obj_name, SysError, SysResult};
use crate::insn::{
    Insn, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, CALL, LD_IMM64,
};

// enum bpf_cmd
const BPF_MAP_CREATE: u32 = 0;
const BPF_MAP_LOOKUP_ELEM: u32 = 1;
const BPF_MAP_UPDATE_ELEM: u32 = 2;
const BPF_MAP_DELETE_ELEM: u32 = 3;
const BPF_MAP_GET_NEXT_KEY: u32 = 4;
const BPF_PROG_LOAD: u32 = 5;
const BPF_OBJ_PIN: u32 = 6;
const BPF_OBJ_GET: u32 = 7;
const BPF_PROG_ATTACH: u32 = 8;
const BPF_PROG_DETACH: u32 = 9;
const BPF_PROG_TEST_RUN: u32 = 10;
const BPF_PROG_GET_NEXT_ID: u32 = 11;
const BPF_MAP_GET_NEXT_ID: u32 = 12;
const BPF_PROG_GET_FD_BY_ID: u32 = 13;
const BPF_MAP_GET_FD_BY_ID: u32 = 14;
const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
const BPF_RAW_TRACEPOINT_OPEN: u32 = 17;
const BPF_BTF_LOAD: u32 = 18;
const BPF_BTF_GET_FD_BY_ID: u32 = 19;
const BPF_MAP_LOOKUP_AND_DELETE_ELEM: u32 = 21;
const BPF_MAP_FREEZE: u32 = 22;
const BPF_BTF_GET_NEXT_ID: u32 = 23;
const BPF_MAP_LOOKUP_BATCH: u32 = 24;
const BPF_MAP_LOOKUP_AND_DELETE_BATCH: u32 = 25;
const BPF_MAP_UPDATE_BATCH: u32 = 26;
const BPF_MAP_DELETE_BATCH: u32 = 27;
const BPF_LINK_CREATE: u32 = 28;
const BPF_LINK_UPDATE: u32 = 29;
const BPF_LINK_GET_FD_BY_ID: u32 = 30;
const BPF_LINK_GET_NEXT_ID: u32 = 31;
const BPF_LINK_DETACH: u32 = 34;
const BPF_PROG_BIND_MAP: u32 = 35;

// Map types whose user-space value is one slot per possible CPU.
const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_LRU_PERCPU_HASH: u32 = 10;
const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: u32 = 21;

/// Issue bpf(2) with `attr`; the size argument is `size_of::<T>()`.
///
/// Callers (this module only) pass one of the `bpf_attr` structs, whose
/// pointer fields point into live buffers at least as large as the lengths
/// written next to them.
fn sys_bpf<T>(cmd: u32, attr: &mut T) -> Result<libc::c_long, Errno> {
    let size = core::mem::size_of::<T>() as libc::c_uint;
    // SAFETY: `attr` is a valid, initialised, exclusively borrowed attr struct
    // of `size` bytes; the buffers it points to outlive this call and are
    // sized as the attr says (checked by each caller).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_int,
            attr as *mut T as *mut libc::c_void,
            size,
        )
    };
    if ret < 0 {
        Err(super::last_errno())
    } else {
        Ok(ret)
    }
}

/// Like [`sys_bpf`], retrying on `EAGAIN` a few times (the verifier and BTF
/// loader return it when interrupted).
fn sys_bpf_retry<T>(cmd: u32, attr: &mut T) -> Result<libc::c_long, Errno> {
    let mut tries = 0;
    loop {
        match sys_bpf(cmd, attr) {
            Err(Errno::EAGAIN) if tries < 5 => tries += 1,
            r => return r,
        }
    }
}

fn bpf_fd<T>(call: &'static str, cmd: u32, attr: &mut T) -> SysResult<OwnedFd> {
    let ret = sys_bpf_retry(cmd, attr).map_err(|e| SysError::new(call, e))?;
    Ok(owned_fd(ret))
}

fn owned_fd(ret: libc::c_long) -> OwnedFd {
    // SAFETY: a non-negative return of an fd-returning bpf command is a new fd
    // that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(ret as RawFd) }
}

fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

fn opt_fd(fd: Option<BorrowedFd<'_>>) -> u32 {
    fd.map(fd_u32).unwrap_or(0)
}

fn ptr<T>(s: &[T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_ptr() as u64
    }
}

fn mut_ptr<T>(s: &mut [T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_mut_ptr() as u64
    }
}

fn len_u32(call: &'static str, n: usize) -> SysResult<u32> {
    u32::try_from(n).map_err(|_| SysError::new(call, Errno::E2BIG))
}

fn path_cstring(call: &'static str, path: &Path) -> SysResult<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| SysError::new(call, Errno::EINVAL))
}

// ---------------------------------------------------------------- maps

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
}

pub fn map_create(a: &MapCreateAttr<'_>) -> SysResult<OwnedFd> {
    let mut attr = raw::MapCreate {
        map_type: a.map_type,
        key_size: a.key_size,
        value_size: a.value_size,
        max_entries: a.max_entries,
        map_flags: a.map_flags,
        inner_map_fd: opt_fd(a.inner_map_fd),
        numa_node: a.numa_node,
        map_name: obj_name(a.name),
        map_ifindex: a.map_ifindex,
        btf_fd: opt_fd(a.btf_fd),
        btf_key_type_id: a.btf_key_type_id,
        btf_value_type_id: a.btf_value_type_id,
        btf_vmlinux_value_type_id: a.btf_vmlinux_value_type_id,
        map_extra: a.map_extra,
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
    let vs = info.value_size as usize;
    let value = match info.map_type {
        BPF_MAP_TYPE_PERCPU_HASH
        | BPF_MAP_TYPE_PERCPU_ARRAY
        | BPF_MAP_TYPE_LRU_PERCPU_HASH
        | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE => vs
            .div_ceil(8)
            .saturating_mul(8)
            .saturating_mul(super::num_possible_cpus()? as usize),
        _ => vs,
    };
    Ok(MapSizes {
        key: info.key_size as usize,
        value,
    })
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

/// Look `key` up; the value goes to `value`. `Ok(false)` when absent.
pub fn map_lookup_elem(
    fd: BorrowedFd<'_>,
    key: &[u8],
    value: &mut [u8],
    flags: u64,
) -> SysResult<bool> {
    map_lookup_elem_sized(fd, map_sizes(fd)?, key, value, flags)
}

/// Insert or replace (`flags`: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`).
pub fn map_update_elem(fd: BorrowedFd<'_>, key: &[u8], value: &[u8], flags: u64) -> SysResult<()> {
    map_update_elem_sized(fd, map_sizes(fd)?, key, value, flags)
}

/// Delete `key`; `Ok(false)` when it was absent.
pub fn map_delete_elem(fd: BorrowedFd<'_>, key: &[u8]) -> SysResult<bool> {
    map_delete_elem_sized(fd, map_sizes(fd)?, key)
}

/// The key after `key` (the first key when `None`) into `next`; `Ok(false)` at the end.
pub fn map_get_next_key(
    fd: BorrowedFd<'_>,
    key: Option<&[u8]>,
    next: &mut [u8],
) -> SysResult<bool> {
    map_get_next_key_sized(fd, map_sizes(fd)?, key, next)
}

/// Pop an element (queue/stack: `key` is `None`) or look up and delete `key`.
/// `Ok(false)` when empty/absent.
pub fn map_lookup_and_delete_elem(
    fd: BorrowedFd<'_>,
    key: Option<&[u8]>,
    value: &mut [u8],
) -> SysResult<bool> {
    map_lookup_and_delete_elem_sized(fd, map_sizes(fd)?, key, value)
}

/// A map fd that knows its key and value sizes, asked of the kernel once:
/// its element operations check buffers against them without a
/// BPF_OBJ_GET_INFO_BY_FD per call (the free functions above need one, since
/// they can be given any fd).
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
        let fd = map_create(a)?;
        let vs = a.value_size as usize;
        let value = match a.map_type {
            BPF_MAP_TYPE_PERCPU_HASH
            | BPF_MAP_TYPE_PERCPU_ARRAY
            | BPF_MAP_TYPE_LRU_PERCPU_HASH
            | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE => vs
                .div_ceil(8)
                .saturating_mul(8)
                .saturating_mul(super::num_possible_cpus()? as usize),
            _ => vs,
        };
        Ok(MapFd {
            fd,
            sizes: MapSizes {
                key: a.key_size as usize,
                value,
            },
        })
    }

    pub fn as_fd(&self) -> BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.fd)
    }

    pub fn sizes(&self) -> MapSizes {
        self.sizes
    }

    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> SysResult<bool> {
        map_lookup_elem_sized(self.as_fd(), self.sizes, key, value, flags)
    }

    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> SysResult<()> {
        map_update_elem_sized(self.as_fd(), self.sizes, key, value, flags)
    }

    pub fn delete(&self, key: &[u8]) -> SysResult<bool> {
        map_delete_elem_sized(self.as_fd(), self.sizes, key)
    }

    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> SysResult<bool> {
        map_get_next_key_sized(self.as_fd(), self.sizes, key, next)
    }

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

// ---------------------------------------------------------------- programs

/// Arguments of `BPF_PROG_LOAD`. `func_info`/`line_info` are the raw records
/// (`bpf_func_info` / `bpf_line_info`), their count is `len / rec_size`.
/// `fd_array` backs `BPF_PSEUDO_MAP_IDX*` loads and module kfunc calls.
#[derive(Debug, Clone, Copy)]
pub struct ProgLoadAttr<'a> {
    pub prog_type: u32,
    pub insns: &'a [Insn],
    pub license: &'a CStr,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub name: &'a [u8],
    pub expected_attach_type: u32,
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    pub func_info: &'a [u8],
    pub func_info_rec_size: u32,
    pub line_info: &'a [u8],
    pub line_info_rec_size: u32,
    pub attach_btf_id: u32,
    pub attach_btf_obj_fd: Option<BorrowedFd<'a>>,
    pub attach_prog_fd: Option<BorrowedFd<'a>>,
    pub fd_array: &'a [RawFd],
}

impl Default for ProgLoadAttr<'_> {
    fn default() -> Self {
        ProgLoadAttr {
            prog_type: 0,
            insns: &[],
            license: c"GPL",
            kern_version: 0,
            prog_flags: 0,
            name: b"",
            expected_attach_type: 0,
            prog_btf_fd: None,
            func_info: &[],
            func_info_rec_size: 0,
            line_info: &[],
            line_info_rec_size: 0,
            attach_btf_id: 0,
            attach_btf_obj_fd: None,
            attach_prog_fd: None,
            fd_array: &[],
        }
    }
}

/// The verifier log buffer: `buf.len()` is the size offered to the kernel
/// (at least 128 bytes when non-empty); `true_size` is what the kernel
/// reported it needed (6.4+; 0 on older kernels).
#[derive(Debug, Default, Clone)]
pub struct VerifierLog {
    pub level: u32,
    pub buf: Vec<u8>,
    pub true_size: u32,
}

impl VerifierLog {
    /// The log text up to the first NUL.
    pub fn text(&self) -> String {
        name_from_field(&self.buf)
    }
}

/// A failed `BPF_PROG_LOAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgLoadError {
    pub errno: Errno,
    pub log_true_size: u32,
}

impl std::fmt::Display for ProgLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        SysError::new("BPF_PROG_LOAD", self.errno).fmt(f)
    }
}

impl std::error::Error for ProgLoadError {}

impl From<ProgLoadError> for SysError {
    fn from(e: ProgLoadError) -> SysError {
        SysError::new("BPF_PROG_LOAD", e.errno)
    }
}

/// Check that every fd_array index in `insns` is inside `fd_array` (the
/// kernel reads `fd_array[idx]` without knowing the array's length).
fn check_fd_array(insns: &[Insn], fd_array: &[RawFd]) -> Result<(), Errno> {
    for (i, insn) in insns.iter().enumerate() {
        let idx = if insn.code == LD_IMM64
            && matches!(insn.src(), BPF_PSEUDO_MAP_IDX | BPF_PSEUDO_MAP_IDX_VALUE)
        {
            Some(insn.imm as u32 as usize)
        } else if insn.code == CALL && insn.src() == BPF_PSEUDO_KFUNC_CALL && insn.off != 0 {
            Some(insn.off as u16 as usize)
        } else {
            None
        };
        if let Some(idx) = idx {
            if idx >= fd_array.len() {
                log::debug!(
                    "BPF_PROG_LOAD: insn {i} uses fd_array[{idx}], array has {}",
                    fd_array.len()
                );
                return Err(Errno::EINVAL);
            }
        }
    }
    Ok(())
}

fn record_count(len: usize, rec_size: u32) -> Result<u32, Errno> {
    if len == 0 {
        return Ok(0);
    }
    if rec_size == 0 || len % rec_size as usize != 0 {
        return Err(Errno::EINVAL);
    }
    u32::try_from(len / rec_size as usize).map_err(|_| Errno::E2BIG)
}

/// `BPF_PROG_LOAD` once. With `log`, the kernel fills `log.buf` at
/// `log.level` and `log.true_size` is updated.
pub fn prog_load(
    a: &ProgLoadAttr<'_>,
    mut log: Option<&mut VerifierLog>,
) -> Result<OwnedFd, ProgLoadError> {
    let fail = |errno| ProgLoadError {
        errno,
        log_true_size: 0,
    };
    check_fd_array(a.insns, a.fd_array).map_err(fail)?;
    if a.attach_btf_obj_fd.is_some() && a.attach_prog_fd.is_some() {
        return Err(fail(Errno::EINVAL));
    }
    let insn_cnt = u32::try_from(a.insns.len()).map_err(|_| fail(Errno::E2BIG))?;
    let mut attr = raw::ProgLoad {
        prog_type: a.prog_type,
        insn_cnt,
        insns: ptr(a.insns),
        license: a.license.as_ptr() as u64,
        kern_version: a.kern_version,
        prog_flags: a.prog_flags,
        prog_name: obj_name(a.name),
        expected_attach_type: a.expected_attach_type,
        prog_btf_fd: opt_fd(a.prog_btf_fd),
        func_info_rec_size: if a.func_info.is_empty() {
            0
        } else {
            a.func_info_rec_size
        },
        func_info: ptr(a.func_info),
        func_info_cnt: record_count(a.func_info.len(), a.func_info_rec_size).map_err(fail)?,
        line_info_rec_size: if a.line_info.is_empty() {
            0
        } else {
            a.line_info_rec_size
        },
        line_info: ptr(a.line_info),
        line_info_cnt: record_count(a.line_info.len(), a.line_info_rec_size).map_err(fail)?,
        attach_btf_id: a.attach_btf_id,
        attach_fd: opt_fd(a.attach_btf_obj_fd.or(a.attach_prog_fd)),
        fd_array: ptr(a.fd_array),
        ..Default::default()
    };
    if let Some(l) = log.as_deref_mut() {
        if !l.buf.is_empty() {
            attr.log_level = l.level;
            attr.log_size = len_u32("BPF_PROG_LOAD", l.buf.len()).map_err(|e| fail(e.errno))?;
            attr.log_buf = mut_ptr(&mut l.buf);
        }
    }
    let res = sys_bpf_retry(BPF_PROG_LOAD, &mut attr);
    if let Some(l) = log {
        l.true_size = attr.log_true_size;
    }
    match res {
        Ok(fd) => Ok(owned_fd(fd)),
        Err(errno) => Err(ProgLoadError {
            errno,
            log_true_size: attr.log_true_size,
        }),
    }
}

const LOG_START: usize = 64 * 1024;
/// 16 MiB - 1: kernels before 5.2 reject log sizes above `u32::MAX >> 8`.
const LOG_MAX: usize = (u32::MAX >> 8) as usize;

/// Run `load` with the loader's log policy: first without a log; on failure
/// again with a 64 KiB log at `level` (at least 1), growing it (to the size
/// the kernel reports, or ×4) while the kernel says it is too small
/// (`ENOSPC`), up to 16 MiB. Errors carry the log text.
fn with_log_retry<F>(
    call: &'static str,
    level: u32,
    mut load: F,
) -> Result<OwnedFd, (SysError, String)>
where
    F: FnMut(Option<&mut VerifierLog>) -> Result<OwnedFd, (Errno, u32)>,
{
    let first = match load(None) {
        Ok(fd) => return Ok(fd),
        Err((e, _)) => e,
    };
    log::debug!("{call} failed ({first}); retrying with a log");
    let mut log = VerifierLog {
        level: level.max(1),
        buf: vec![0; LOG_START],
        true_size: 0,
    };
    loop {
        match load(Some(&mut log)) {
            Ok(fd) => return Ok(fd),
            Err((Errno::ENOSPC, true_size)) if log.buf.len() < LOG_MAX => {
                let want = (true_size as usize)
                    .max(log.buf.len().saturating_mul(4))
                    .min(LOG_MAX);
                log::debug!(
                    "{call}: log of {} bytes too small, retrying with {want}",
                    log.buf.len()
                );
                log.buf = vec![0; want];
            }
            Err((e, _)) => return Err((SysError::new(call, e), log.text())),
        }
    }
}

/// `BPF_PROG_LOAD` with the loader's log retry policy (see the module docs of
/// the loader): no log first, then a growing log at `level`.
pub fn prog_load_with_log_retry(
    a: &ProgLoadAttr<'_>,
    level: u32,
) -> Result<OwnedFd, (SysError, String)> {
    with_log_retry("BPF_PROG_LOAD", level, |log| {
        prog_load(a, log).map_err(|e| (e.errno, e.log_true_size))
    })
}

fn btf_load_once(data: &[u8], log: Option<&mut VerifierLog>) -> Result<OwnedFd, (Errno, u32)> {
    let btf_size = u32::try_from(data.len()).map_err(|_| (Errno::E2BIG, 0))?;
    let mut attr = raw::BtfLoad {
        btf: ptr(data),
        btf_size,
        ..Default::default()
    };
    let mut log = log;
    if let Some(l) = log.as_deref_mut() {
        attr.btf_log_level = l.level;
        attr.btf_log_size = u32::try_from(l.buf.len()).map_err(|_| (Errno::E2BIG, 0))?;
        attr.btf_log_buf = mut_ptr(&mut l.buf);
    }
    let res = sys_bpf_retry(BPF_BTF_LOAD, &mut attr);
    if let Some(l) = log {
        l.true_size = attr.btf_log_true_size;
    }
    res.map(owned_fd).map_err(|e| (e, attr.btf_log_true_size))
}

/// `BPF_BTF_LOAD` of a raw BTF blob, with the same log retry policy as
/// [`prog_load_with_log_retry`].
pub fn btf_load(data: &[u8], log_level: u32) -> Result<OwnedFd, (SysError, String)> {
    with_log_retry("BPF_BTF_LOAD", log_level, |log| btf_load_once(data, log))
}

/// Arguments of `BPF_PROG_TEST_RUN`. `data_out`/`ctx_out` receive the
/// output; their lengths are the sizes offered to the kernel.
#[derive(Debug)]
pub struct TestRunAttr<'a> {
    pub prog_fd: BorrowedFd<'a>,
    pub data_in: &'a [u8],
    pub data_out: Option<&'a mut [u8]>,
    pub ctx_in: &'a [u8],
    pub ctx_out: Option<&'a mut [u8]>,
    pub repeat: u32,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
}

impl<'a> TestRunAttr<'a> {
    pub fn new(prog_fd: BorrowedFd<'a>) -> TestRunAttr<'a> {
        TestRunAttr {
            prog_fd,
            data_in: &[],
            data_out: None,
            ctx_in: &[],
            ctx_out: None,
            repeat: 0,
            flags: 0,
            cpu: 0,
            batch_size: 0,
        }
    }
}

/// What `BPF_PROG_TEST_RUN` reported. `data_size_out`/`ctx_size_out` are the
/// sizes the kernel produced (may exceed the buffers; then it returned ENOSPC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRunOut {
    pub retval: u32,
    pub duration_ns: u32,
    pub data_size_out: u32,
    pub ctx_size_out: u32,
}

pub fn prog_test_run(a: &mut TestRunAttr<'_>) -> SysResult<TestRunOut> {
    let call = "BPF_PROG_TEST_RUN";
    let mut attr = raw::TestRun {
        prog_fd: fd_u32(a.prog_fd),
        data_size_in: len_u32(call, a.data_in.len())?,
        data_in: ptr(a.data_in),
        repeat: a.repeat,
        ctx_size_in: len_u32(call, a.ctx_in.len())?,
        ctx_in: ptr(a.ctx_in),
        flags: a.flags,
        cpu: a.cpu,
        batch_size: a.batch_size,
        ..Default::default()
    };
    if let Some(out) = a.data_out.as_deref_mut() {
        attr.data_size_out = len_u32(call, out.len())?;
        attr.data_out = mut_ptr(out);
    }
    if let Some(out) = a.ctx_out.as_deref_mut() {
        attr.ctx_size_out = len_u32(call, out.len())?;
        attr.ctx_out = mut_ptr(out);
    }
    sys_bpf(BPF_PROG_TEST_RUN, &mut attr).map_err(|e| SysError::new(call, e))?;
    Ok(TestRunOut {
        retval: attr.retval,
        duration_ns: attr.duration,
        data_size_out: attr.data_size_out,
        ctx_size_out: attr.ctx_size_out,
    })
}

/// Keep `map` alive as long as `prog` (maps the program uses only indirectly).
pub fn prog_bind_map(prog: BorrowedFd<'_>, map: BorrowedFd<'_>) -> SysResult<()> {
    let mut attr = raw::ProgBindMap {
        prog_fd: fd_u32(prog),
        map_fd: fd_u32(map),
        flags: 0,
    };
    sys_bpf(BPF_PROG_BIND_MAP, &mut attr).map_err(|e| SysError::new("BPF_PROG_BIND_MAP", e))?;
    Ok(())
}

// ---------------------------------------------------------------- pinning, attaching

/// Pin `fd` (map, program, link) at `path` on a bpf filesystem.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &Path) -> SysResult<()> {
    let p = path_cstring("BPF_OBJ_PIN", path)?;
    let mut attr = raw::Obj {
        pathname: p.as_ptr() as u64,
        bpf_fd: fd_u32(fd),
        file_flags: 0,
    };
    sys_bpf(BPF_OBJ_PIN, &mut attr).map_err(|e| SysError::new("BPF_OBJ_PIN", e))?;
    Ok(())
}

/// Open the object pinned at `path`.
pub fn obj_get(path: &Path) -> SysResult<OwnedFd> {
    let p = path_cstring("BPF_OBJ_GET", path)?;
    let mut attr = raw::Obj {
        pathname: p.as_ptr() as u64,
        ..Default::default()
    };
    bpf_fd("BPF_OBJ_GET", BPF_OBJ_GET, &mut attr)
}

/// Legacy attach (cgroup, sockmap, flow dissector, ...).
pub fn prog_attach(
    target_fd: BorrowedFd<'_>,
    prog_fd: BorrowedFd<'_>,
    attach_type: u32,
    flags: u32,
) -> SysResult<()> {
    let mut attr = raw::ProgAttach {
        target_fd: fd_u32(target_fd),
        attach_bpf_fd: fd_u32(prog_fd),
        attach_type,
        attach_flags: flags,
        replace_bpf_fd: 0,
    };
    sys_bpf(BPF_PROG_ATTACH, &mut attr).map_err(|e| SysError::new("BPF_PROG_ATTACH", e))?;
    Ok(())
}

pub fn prog_detach(
    target_fd: BorrowedFd<'_>,
    prog_fd: Option<BorrowedFd<'_>>,
    attach_type: u32,
) -> SysResult<()> {
    let mut attr = raw::ProgAttach {
        target_fd: fd_u32(target_fd),
        attach_bpf_fd: opt_fd(prog_fd),
        attach_type,
        ..Default::default()
    };
    sys_bpf(BPF_PROG_DETACH, &mut attr).map_err(|e| SysError::new("BPF_PROG_DETACH", e))?;
    Ok(())
}

/// What a link attaches to: an fd (perf event, cgroup, program for
/// freplace), a network interface, or nothing (fentry/fexit/LSM, iterators).
#[derive(Debug, Clone, Copy)]
pub enum LinkTarget<'a> {
    None,
    Fd(BorrowedFd<'a>),
    Ifindex(u32),
}

/// The attach-type specific part of `BPF_LINK_CREATE`.
#[derive(Debug, Clone, Copy, Default)]
pub enum LinkCreateExtra<'a> {
    #[default]
    None,
    /// `BPF_PERF_EVENT` (tracepoints, kprobes, uprobes through perf events).
    PerfEvent { bpf_cookie: u64 },
    /// `BPF_TRACE_FENTRY`/`FEXIT`/`MODIFY_RETURN`/`LSM_MAC`, freplace.
    Tracing { target_btf_id: u32, cookie: u64 },
    /// Just a target BTF id (freplace on older kernels).
    TargetBtfId(u32),
    /// `BPF_TRACE_ITER`: the raw `union bpf_iter_link_info`.
    Iter { info: &'a [u8] },
    /// `BPF_TRACE_UPROBE_MULTI`: `ref_ctr_offsets`/`cookies` are empty or as
    /// long as `offsets`.
    UprobeMulti {
        path: &'a CStr,
        offsets: &'a [u64],
        ref_ctr_offsets: &'a [u64],
        cookies: &'a [u64],
        pid: u32,
        flags: u32,
    },
}

pub fn link_create(
    prog_fd: BorrowedFd<'_>,
    target: LinkTarget<'_>,
    attach_type: u32,
    flags: u32,
    extra: LinkCreateExtra<'_>,
) -> SysResult<OwnedFd> {
    let call = "BPF_LINK_CREATE";
    let mut attr = raw::LinkCreate {
        prog_fd: fd_u32(prog_fd),
        target: match target {
            LinkTarget::None => 0,
            LinkTarget::Fd(fd) => fd_u32(fd),
            LinkTarget::Ifindex(i) => i,
        },
        attach_type,
        flags,
        extra: raw::LinkExtra::default(),
    };
    match extra {
        LinkCreateExtra::None => {}
        LinkCreateExtra::PerfEvent { bpf_cookie } => {
            attr.extra.perf_event = raw::LinkPerfEvent { bpf_cookie };
        }
        LinkCreateExtra::Tracing {
            target_btf_id,
            cookie,
        } => {
            attr.extra.tracing = raw::LinkTracing {
                target_btf_id,
                _pad0: 0,
                cookie,
            };
        }
        LinkCreateExtra::TargetBtfId(id) => attr.extra.target_btf_id = id,
        LinkCreateExtra::Iter { info } => {
            attr.extra.iter = raw::LinkIter {
                iter_info: ptr(info),
                iter_info_len: len_u32(call, info.len())?,
                _pad0: 0,
            };
        }
        LinkCreateExtra::UprobeMulti {
            path,
            offsets,
            ref_ctr_offsets,
            cookies,
            pid,
            flags,
        } => {
            let n = offsets.len();
            if n == 0
                || (!ref_ctr_offsets.is_empty() && ref_ctr_offsets.len() != n)
                || (!cookies.is_empty() && cookies.len() != n)
            {
                return Err(SysError::new(
                    "BPF_LINK_CREATE: uprobe_multi array lengths differ",
                    Errno::EINVAL,
                ));
            }
            attr.extra.uprobe_multi = raw::LinkUprobeMulti {
                path: path.as_ptr() as u64,
                offsets: ptr(offsets),
                ref_ctr_offsets: ptr(ref_ctr_offsets),
                cookies: ptr(cookies),
                cnt: len_u32(call, n)?,
                flags,
                pid,
                _pad0: 0,
            };
        }
    }
    bpf_fd(call, BPF_LINK_CREATE, &mut attr)
}

/// Swap the program of a link (`old_prog` with `BPF_F_REPLACE`).
pub fn link_update(
    link: BorrowedFd<'_>,
    new_prog: BorrowedFd<'_>,
    old_prog: Option<BorrowedFd<'_>>,
    flags: u32,
) -> SysResult<()> {
    let mut attr = raw::LinkUpdate {
        link_fd: fd_u32(link),
        new_prog_fd: fd_u32(new_prog),
        flags,
        old_prog_fd: opt_fd(old_prog),
    };
    sys_bpf(BPF_LINK_UPDATE, &mut attr).map_err(|e| SysError::new("BPF_LINK_UPDATE", e))?;
    Ok(())
}

/// Detach a link while keeping its fd.
pub fn link_detach(link: BorrowedFd<'_>) -> SysResult<()> {
    let mut attr = raw::LinkDetach {
        link_fd: fd_u32(link),
    };
    sys_bpf(BPF_LINK_DETACH, &mut attr).map_err(|e| SysError::new("BPF_LINK_DETACH", e))?;
    Ok(())
}

/// Attach a raw tracepoint / BTF-typed program (`name` is `None` for
/// tp_btf/fentry-style programs whose target came from `attach_btf_id`).
pub fn raw_tracepoint_open(name: Option<&CStr>, prog_fd: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    let mut attr = raw::RawTracepoint {
        name: name.map(|n| n.as_ptr() as u64).unwrap_or(0),
        prog_fd: fd_u32(prog_fd),
        _pad0: 0,
    };
    bpf_fd(
        "BPF_RAW_TRACEPOINT_OPEN",
        BPF_RAW_TRACEPOINT_OPEN,
        &mut attr,
    )
}

// ---------------------------------------------------------------- ids and info

fn next_id(cmd: u32, call: &'static str, start: u32) -> SysResult<Option<u32>> {
    let mut attr = raw::GetId {
        id: start,
        ..Default::default()
    };
    match sys_bpf(cmd, &mut attr) {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(SysError::new(call, e)),
    }
}

fn fd_by_id(cmd: u32, call: &'static str, id: u32) -> SysResult<OwnedFd> {
    let mut attr = raw::GetId {
        id,
        ..Default::default()
    };
    bpf_fd(call, cmd, &mut attr)
}

/// The smallest program id greater than `start`; `None` past the last.
pub fn prog_get_next_id(start: u32) -> SysResult<Option<u32>> {
    next_id(BPF_PROG_GET_NEXT_ID, "BPF_PROG_GET_NEXT_ID", start)
}
pub fn map_get_next_id(start: u32) -> SysResult<Option<u32>> {
    next_id(BPF_MAP_GET_NEXT_ID, "BPF_MAP_GET_NEXT_ID", start)
}
pub fn link_get_next_id(start: u32) -> SysResult<Option<u32>> {
    next_id(BPF_LINK_GET_NEXT_ID, "BPF_LINK_GET_NEXT_ID", start)
}
pub fn btf_get_next_id(start: u32) -> SysResult<Option<u32>> {
    next_id(BPF_BTF_GET_NEXT_ID, "BPF_BTF_GET_NEXT_ID", start)
}
pub fn prog_get_fd_by_id(id: u32) -> SysResult<OwnedFd> {
    fd_by_id(BPF_PROG_GET_FD_BY_ID, "BPF_PROG_GET_FD_BY_ID", id)
}
pub fn map_get_fd_by_id(id: u32) -> SysResult<OwnedFd> {
    fd_by_id(BPF_MAP_GET_FD_BY_ID, "BPF_MAP_GET_FD_BY_ID", id)
}
pub fn link_get_fd_by_id(id: u32) -> SysResult<OwnedFd> {
    fd_by_id(BPF_LINK_GET_FD_BY_ID, "BPF_LINK_GET_FD_BY_ID", id)
}
pub fn btf_get_fd_by_id(id: u32) -> SysResult<OwnedFd> {
    fd_by_id(BPF_BTF_GET_FD_BY_ID, "BPF_BTF_GET_FD_BY_ID", id)
}

/// `BPF_OBJ_GET_INFO_BY_FD` into `buf`, which is zeroed first (so pointer
/// fields of the info struct are never honoured: arrays are not fetched).
/// Returns the `info_len` the kernel wrote back.
pub fn obj_get_info_by_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<u32> {
    buf.fill(0);
    let mut attr = raw::InfoByFd {
        bpf_fd: fd_u32(fd),
        info_len: len_u32("BPF_OBJ_GET_INFO_BY_FD", buf.len())?,
        info: mut_ptr(buf),
    };
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)
        .map_err(|e| SysError::new("BPF_OBJ_GET_INFO_BY_FD", e))?;
    Ok(attr.info_len)
}

/// Info into one of our zero-initialised raw info structs (all pointer
/// fields are zero, so the kernel only writes within the struct).
fn info_raw<T: Default>(fd: BorrowedFd<'_>) -> SysResult<T> {
    let mut info = T::default();
    let mut attr = raw::InfoByFd {
        bpf_fd: fd_u32(fd),
        info_len: core::mem::size_of::<T>() as u32,
        info: &mut info as *mut T as u64,
    };
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)
        .map_err(|e| SysError::new("BPF_OBJ_GET_INFO_BY_FD", e))?;
    Ok(info)
}

/// The commonly used parts of `struct bpf_prog_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgInfo {
    pub id: u32,
    pub prog_type: u32,
    pub tag: [u8; 8],
    pub name: String,
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub load_time_ns: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub gpl_compatible: bool,
    pub btf_id: u32,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
}

pub fn prog_info(fd: BorrowedFd<'_>) -> SysResult<ProgInfo> {
    let r: raw::ProgInfoRaw = info_raw(fd)?;
    Ok(ProgInfo {
        id: r.id,
        prog_type: r.prog_type,
        tag: r.tag,
        name: name_from_field(&r.name),
        jited_prog_len: r.jited_prog_len,
        xlated_prog_len: r.xlated_prog_len,
        load_time_ns: r.load_time,
        created_by_uid: r.created_by_uid,
        nr_map_ids: r.nr_map_ids,
        gpl_compatible: r.bits & 1 != 0,
        btf_id: r.btf_id,
        run_time_ns: r.run_time_ns,
        run_cnt: r.run_cnt,
        verified_insns: r.verified_insns,
        attach_btf_obj_id: r.attach_btf_obj_id,
        attach_btf_id: r.attach_btf_id,
    })
}

/// `struct bpf_map_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapInfo {
    pub id: u32,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: String,
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub map_extra: u64,
}

pub fn map_info(fd: BorrowedFd<'_>) -> SysResult<MapInfo> {
    let r: raw::MapInfoRaw = info_raw(fd)?;
    Ok(MapInfo {
        id: r.id,
        map_type: r.map_type,
        key_size: r.key_size,
        value_size: r.value_size,
        max_entries: r.max_entries,
        map_flags: r.map_flags,
        name: name_from_field(&r.name),
        ifindex: r.ifindex,
        btf_vmlinux_value_type_id: r.btf_vmlinux_value_type_id,
        btf_id: r.btf_id,
        btf_key_type_id: r.btf_key_type_id,
        btf_value_type_id: r.btf_value_type_id,
        map_extra: r.map_extra,
    })
}

/// The head of `struct bpf_link_info`, plus the per-type union as raw
/// 32-bit words (pointer members are left zero, so names are not fetched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub id: u32,
    pub link_type: u32,
    pub prog_id: u32,
    pub extra: [u32; 16],
}

pub fn link_info(fd: BorrowedFd<'_>) -> SysResult<LinkInfo> {
    let r: raw::LinkInfoRaw = info_raw(fd)?;
    Ok(LinkInfo {
        id: r.id,
        link_type: r.link_type,
        prog_id: r.prog_id,
        extra: r.extra,
    })
}

/// `struct bpf_btf_info`, with the object's name (e.g. `vmlinux` or a module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfInfo {
    pub id: u32,
    pub btf_size: u32,
    pub name: String,
    pub kernel_btf: bool,
}

pub fn btf_info(fd: BorrowedFd<'_>) -> SysResult<BtfInfo> {
    let mut name = [0u8; 64];
    let mut info = raw::BtfInfoRaw {
        name: name.as_mut_ptr() as u64,
        name_len: name.len() as u32,
        ..Default::default()
    };
    let mut attr = raw::InfoByFd {
        bpf_fd: fd_u32(fd),
        info_len: core::mem::size_of::<raw::BtfInfoRaw>() as u32,
        info: &mut info as *mut raw::BtfInfoRaw as u64,
    };
    // The kernel writes at most `name_len` bytes to `name`, which lives until
    // after the call.
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)
        .map_err(|e| SysError::new("BPF_OBJ_GET_INFO_BY_FD", e))?;
    Ok(BtfInfo {
        id: info.id,
        btf_size: info.btf_size,
        name: name_from_field(&name),
        kernel_btf: info.kernel_btf != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::BPF_PSEUDO_MAP_FD;

    #[test]
    fn fd_array_indices_checked() {
        let ld = |src, imm| Insn::new(LD_IMM64, 1, src, 0, imm);
        let ok = [
            ld(BPF_PSEUDO_MAP_IDX, 1),
            Insn::default(),
            ld(BPF_PSEUDO_MAP_FD, 99),
            Insn::default(),
        ];
        assert!(check_fd_array(&ok, &[3, 4]).is_ok());
        assert_eq!(check_fd_array(&ok, &[3]), Err(Errno::EINVAL));
        let kf = [Insn::new(CALL, 0, BPF_PSEUDO_KFUNC_CALL, 2, 77)];
        assert_eq!(check_fd_array(&kf, &[0, 0]), Err(Errno::EINVAL));
        assert!(check_fd_array(&kf, &[0, 0, 5]).is_ok());
        let neg = [ld(BPF_PSEUDO_MAP_IDX_VALUE, -1), Insn::default()];
        assert_eq!(check_fd_array(&neg, &[1, 2, 3]), Err(Errno::EINVAL));
    }

    #[test]
    fn record_counts() {
        assert_eq!(record_count(0, 0), Ok(0));
        assert_eq!(record_count(24, 8), Ok(3));
        assert_eq!(record_count(25, 8), Err(Errno::EINVAL));
        assert_eq!(record_count(8, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn log_retry_grows_then_reports() {
        let mut sizes = Vec::new();
        let r = with_log_retry("T", 1, |log| match log {
            None => Err((Errno::EACCES, 0)),
            Some(l) => {
                sizes.push(l.buf.len());
                if l.buf.len() < 1_000_000 {
                    Err((Errno::ENOSPC, 300_000))
                } else {
                    l.buf[..5].copy_from_slice(b"oops\0");
                    Err((Errno::EACCES, 0))
                }
            }
        });
        let (e, text) = r.unwrap_err();
        assert_eq!(e, SysError::new("T", Errno::EACCES));
        assert_eq!(text, "oops");
        assert_eq!(sizes, vec![64 * 1024, 300_000, 1_200_000]);
    }

    #[test]
    fn log_retry_caps() {
        let mut last = 0;
        let r = with_log_retry("T", 2, |log| match log {
            None => Err((Errno::EINVAL, 0)),
            Some(l) => {
                assert_eq!(l.level, 2);
                last = l.buf.len();
                Err((Errno::ENOSPC, 0))
            }
        });
        assert_eq!(r.unwrap_err().0.errno, Errno::ENOSPC);
        assert_eq!(last, LOG_MAX);
    }
}
