//! The raw bpf(2) call and the helpers the per-object files share:
//! command numbers, `EAGAIN` retry, fd and pointer conversions.
//!
//! Every buffer the kernel writes to is a Rust slice whose length is checked
//! against what the kernel will write (map key/value sizes come from
//! `BPF_OBJ_GET_INFO_BY_FD`), so the functions built on these helpers are safe
//! to call with any input.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;

use super::{SysError, SysResult};

// enum bpf_cmd
pub(super) const BPF_MAP_CREATE: u32 = 0;
pub(super) const BPF_MAP_LOOKUP_ELEM: u32 = 1;
pub(super) const BPF_MAP_UPDATE_ELEM: u32 = 2;
pub(super) const BPF_MAP_DELETE_ELEM: u32 = 3;
pub(super) const BPF_MAP_GET_NEXT_KEY: u32 = 4;
pub(super) const BPF_PROG_LOAD: u32 = 5;
pub(super) const BPF_OBJ_PIN: u32 = 6;
pub(super) const BPF_OBJ_GET: u32 = 7;
pub(super) const BPF_PROG_ATTACH: u32 = 8;
pub(super) const BPF_PROG_DETACH: u32 = 9;
pub(super) const BPF_PROG_TEST_RUN: u32 = 10;
pub(super) const BPF_PROG_GET_NEXT_ID: u32 = 11;
pub(super) const BPF_MAP_GET_NEXT_ID: u32 = 12;
pub(super) const BPF_PROG_GET_FD_BY_ID: u32 = 13;
pub(super) const BPF_MAP_GET_FD_BY_ID: u32 = 14;
pub(super) const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
pub(super) const BPF_RAW_TRACEPOINT_OPEN: u32 = 17;
pub(super) const BPF_BTF_LOAD: u32 = 18;
pub(super) const BPF_BTF_GET_FD_BY_ID: u32 = 19;
pub(super) const BPF_MAP_LOOKUP_AND_DELETE_ELEM: u32 = 21;
pub(super) const BPF_MAP_FREEZE: u32 = 22;
pub(super) const BPF_BTF_GET_NEXT_ID: u32 = 23;
pub(super) const BPF_MAP_LOOKUP_BATCH: u32 = 24;
pub(super) const BPF_MAP_LOOKUP_AND_DELETE_BATCH: u32 = 25;
pub(super) const BPF_MAP_UPDATE_BATCH: u32 = 26;
pub(super) const BPF_MAP_DELETE_BATCH: u32 = 27;
pub(super) const BPF_LINK_CREATE: u32 = 28;
pub(super) const BPF_LINK_UPDATE: u32 = 29;
pub(super) const BPF_LINK_GET_FD_BY_ID: u32 = 30;
pub(super) const BPF_LINK_GET_NEXT_ID: u32 = 31;
pub(super) const BPF_ITER_CREATE: u32 = 33;
pub(super) const BPF_LINK_DETACH: u32 = 34;
pub(super) const BPF_PROG_BIND_MAP: u32 = 35;

/// Issue bpf(2) with `attr`; the size argument is `size_of::<T>()`.
///
/// Callers (the bpf files of `sys` only) pass one of the `bpf_attr` structs, whose
/// pointer fields point into live buffers at least as large as the lengths
/// written next to them.
pub(super) fn sys_bpf<T>(cmd: u32, attr: &mut T) -> Result<libc::c_long, Errno> {
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
pub(super) fn sys_bpf_retry<T>(cmd: u32, attr: &mut T) -> Result<libc::c_long, Errno> {
    let mut tries = 0;
    loop {
        match sys_bpf(cmd, attr) {
            Err(Errno::EAGAIN) if tries < 5 => tries += 1,
            r => return r,
        }
    }
}

pub(super) fn bpf_fd<T>(call: &'static str, cmd: u32, attr: &mut T) -> SysResult<OwnedFd> {
    let ret = sys_bpf_retry(cmd, attr).map_err(|e| SysError::new(call, e))?;
    Ok(owned_fd(ret))
}

pub(super) fn owned_fd(ret: libc::c_long) -> OwnedFd {
    // SAFETY: a non-negative return of an fd-returning bpf command is a new fd
    // that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(ret as RawFd) }
}

pub(super) fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

pub(super) fn opt_fd(fd: Option<BorrowedFd<'_>>) -> u32 {
    fd.map(fd_u32).unwrap_or(0)
}

pub(super) fn ptr<T>(s: &[T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_ptr() as u64
    }
}

pub(super) fn mut_ptr<T>(s: &mut [T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_mut_ptr() as u64
    }
}

pub(super) fn len_u32(call: &'static str, n: usize) -> SysResult<u32> {
    u32::try_from(n).map_err(|_| SysError::new(call, Errno::E2BIG))
}

pub(super) fn path_cstring(call: &'static str, path: &Path) -> SysResult<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| SysError::new(call, Errno::EINVAL))
}
