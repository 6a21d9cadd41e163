//! BPF tokens (Linux 6.9+): `BPF_TOKEN_CREATE` from a bpffs mounted with
//! `delegate_*` options, and the new-mount-API calls (`fsopen`, `fsconfig`,
//! `fsmount`, plus `pidfd_getfd`) that set such a bpffs up for a user
//! namespace.
//!
//! A token fd goes into `BPF_MAP_CREATE` (`map_token_fd`),
//! `BPF_PROG_LOAD` (`prog_token_fd`) and `BPF_BTF_LOAD` (`btf_token_fd`),
//! each with `BPF_F_TOKEN_FD` in that command's flags (see `map.rs`,
//! `prog.rs`, `btf.rs`).

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::bpf::*;
use super::bpf_attr as raw;
use super::{SysError, SysResult};

/// `BPF_TOKEN_CREATE`.
const BPF_TOKEN_CREATE: u32 = 36;
/// `BPF_F_TOKEN_FD`: the command's `*_token_fd` field is set.
pub const BPF_F_TOKEN_FD: u32 = 1 << 16;

/// A token from the bpffs (root directory) open at `bpffs`.
pub fn token_create(bpffs: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    let mut attr = raw::TokenCreate {
        flags: 0,
        bpffs_fd: fd_u32(bpffs),
    };
    bpf_fd("BPF_TOKEN_CREATE", BPF_TOKEN_CREATE, &mut attr)
}

/// The fd a successful fd-returning syscall gave, or its errno.
fn fd_result(call: &'static str, ret: libc::c_long) -> SysResult<OwnedFd> {
    if ret < 0 {
        return Err(SysError::new(call, super::last_errno()));
    }
    // SAFETY: a non-negative return of these syscalls is a new fd that
    // nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

/// `fsopen(fstype, FSOPEN_CLOEXEC)`: a filesystem context in the caller's
/// user namespace.
pub fn fsopen(fstype: &CStr) -> SysResult<OwnedFd> {
    // SAFETY: a NUL-terminated string that outlives the call, and a flag.
    let ret = unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), 1 as libc::c_uint) };
    fd_result("fsopen", ret)
}

/// `fsconfig(fd, FSCONFIG_SET_STRING, key, value, 0)`.
pub fn fsconfig_set_string(fs: BorrowedFd<'_>, key: &CStr, value: &CStr) -> SysResult<()> {
    // SAFETY: an fd and two NUL-terminated strings that outlive the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            1 as libc::c_uint,
            key.as_ptr(),
            value.as_ptr(),
            0 as libc::c_int,
        )
    };
    if ret < 0 {
        return Err(SysError::new("fsconfig", super::last_errno()));
    }
    Ok(())
}

/// `fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)`: make the superblock.
pub fn fsconfig_create(fs: BorrowedFd<'_>) -> SysResult<()> {
    // SAFETY: an fd and null pointers the command does not read.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            6 as libc::c_uint,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0 as libc::c_int,
        )
    };
    if ret < 0 {
        return Err(SysError::new(
            "fsconfig(FSCONFIG_CMD_CREATE)",
            super::last_errno(),
        ));
    }
    Ok(())
}

/// `fsmount(fd, FSMOUNT_CLOEXEC, 0)`: a detached mount of the context's
/// superblock (its root can be opened as `/proc/self/fd/N`).
pub fn fsmount(fs: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    // SAFETY: an fd and two flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            1 as libc::c_uint,
            0 as libc::c_uint,
        )
    };
    fd_result("fsmount", ret)
}

/// A copy of fd `fd` of process `pid` (`pidfd_open` + `pidfd_getfd`; needs
/// ptrace rights over it).
pub fn pidfd_getfd(pid: i32, fd: RawFd) -> SysResult<OwnedFd> {
    // SAFETY: a pid and a flag.
    let pidfd = fd_result("pidfd_open", unsafe {
        libc::syscall(libc::SYS_pidfd_open, pid, 0 as libc::c_uint)
    })?;
    // SAFETY: an fd we own, a number in the other process, a flag.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_getfd,
            pidfd.as_raw_fd(),
            fd,
            0 as libc::c_uint,
        )
    };
    fd_result("pidfd_getfd", ret)
}
