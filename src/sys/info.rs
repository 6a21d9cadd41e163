//! Ids and info: `BPF_*_GET_NEXT_ID`, `BPF_*_GET_FD_BY_ID`,
//! `BPF_OBJ_GET_INFO_BY_FD` and the typed [`ProgInfo`], [`MapInfo`],
//! [`LinkInfo`], [`BtfInfo`].

use std::os::fd::{BorrowedFd, OwnedFd};

use nix::errno::Errno;

use super::bpf::*;
use super::bpf_attr as raw;
use super::{name_from_field, SysError, SysResult};

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
    /// Kernel id of the program.
    pub id: u32,
    /// Program type (`BPF_PROG_TYPE_*`).
    pub prog_type: u32,
    /// Hash of the instructions, as `bpftool` shows it.
    pub tag: [u8; 8],
    /// Name (truncated by the kernel to 15 bytes).
    pub name: String,
    /// Size of the JIT-compiled code in bytes.
    pub jited_prog_len: u32,
    /// Size of the kernel's translated instructions in bytes.
    pub xlated_prog_len: u32,
    /// When it was loaded (ns since boot).
    pub load_time_ns: u64,
    /// Uid of the loader.
    pub created_by_uid: u32,
    /// Number of maps it uses.
    pub nr_map_ids: u32,
    /// Whether its license is GPL-compatible.
    pub gpl_compatible: bool,
    /// Id of its BTF object (0: none).
    pub btf_id: u32,
    /// Total run time in ns (with `kernel.bpf_stats_enabled`).
    pub run_time_ns: u64,
    /// Number of runs (with `kernel.bpf_stats_enabled`).
    pub run_cnt: u64,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// Id of the BTF object of the attach target (0: vmlinux or none).
    pub attach_btf_obj_id: u32,
    /// BTF type id of the attach target.
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
    /// Kernel id of the map.
    pub id: u32,
    /// Map type (`BPF_MAP_TYPE_*`).
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// Creation flags (`BPF_F_*`).
    pub map_flags: u32,
    /// Name (truncated by the kernel to 15 bytes).
    pub name: String,
    /// Network device it is offloaded to (0: none).
    pub ifindex: u32,
    /// BTF type id of a struct_ops value in vmlinux.
    pub btf_vmlinux_value_type_id: u32,
    /// Id of its BTF object (0: none).
    pub btf_id: u32,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// `map_extra` as created.
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
    /// Kernel id of the link.
    pub id: u32,
    /// Link type (`BPF_LINK_TYPE_*`).
    pub link_type: u32,
    /// Id of the program it attaches.
    pub prog_id: u32,
    /// The link-type-specific part, as raw 32-bit words (pointers left zero).
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
    match sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr) {
        Ok(_) => {}
        // Before 5.11 `struct bpf_btf_info` ends before `name`: a longer
        // info with a non-zero tail is E2BIG. Ask again for btf/btf_size/id
        // only (no name, not kernel BTF: those kernels have none by id).
        Err(Errno::E2BIG) => {
            info = raw::BtfInfoRaw::default();
            attr.info_len = core::mem::offset_of!(raw::BtfInfoRaw, name) as u32;
            attr.info = &mut info as *mut raw::BtfInfoRaw as u64;
            sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)
                .map_err(|e| SysError::new("BPF_OBJ_GET_INFO_BY_FD", e))?;
        }
        Err(e) => return Err(SysError::new("BPF_OBJ_GET_INFO_BY_FD", e)),
    }
    Ok(BtfInfo {
        id: info.id,
        btf_size: info.btf_size,
        name: name_from_field(&name),
        kernel_btf: info.kernel_btf != 0,
    })
}

/// The raw BTF blob behind a BTF fd (what was loaded, for object BTF; the
/// kernel's own for vmlinux/module BTF).
pub fn btf_data(fd: BorrowedFd<'_>) -> SysResult<Vec<u8>> {
    let size = btf_info(fd)?.btf_size;
    let mut data = vec![0u8; size as usize];
    let mut info = raw::BtfInfoRaw {
        btf: data.as_mut_ptr() as u64,
        btf_size: size,
        ..Default::default()
    };
    let mut attr = raw::InfoByFd {
        bpf_fd: fd_u32(fd),
        info_len: core::mem::size_of::<raw::BtfInfoRaw>() as u32,
        info: &mut info as *mut raw::BtfInfoRaw as u64,
    };
    // The kernel writes at most `btf_size` bytes to `data`, which lives
    // until after the call.
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)
        .map_err(|e| SysError::new("BPF_OBJ_GET_INFO_BY_FD", e))?;
    data.truncate(info.btf_size.min(size) as usize);
    Ok(data)
}
