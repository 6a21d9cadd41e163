//! The only module that issues syscalls and holds `unsafe`.
//!
//! A small typed layer over bpf(2), perf_event_open(2), mmap(2), mount(2),
//! rlimits and epoll. Every fd the kernel returns is an [`OwnedFd`]; fds passed
//! in are [`BorrowedFd`]s. Every bpf command has its own `#[repr(C)]` attr
//! struct (see `bpf_attr`) that ends at the last field the command uses and
//! has no implicit padding, so the kernel never sees stray non-zero bytes.
//!
//! bpf(2) is split by object: `bpf` (the raw call and shared helpers),
//! `map`, `prog`, `btf`, `link` (pinning and attaching) and `info`
//! (ids and object info). Only single-shot primitives live here; policies
//! such as retrying a load with a growing verifier log are the loader's.
//!
//! [`OwnedFd`]: std::os::fd::OwnedFd
//! [`BorrowedFd`]: std::os::fd::BorrowedFd

// sys binds whole bpf(2) commands and their attrs; some primitives are used
// only by the crate's tests (src/sys/kernel_tests.rs) or kept for attach kinds to
// come, so unused ones are not an error here.
#![allow(dead_code)]

mod bpf;
pub(crate) mod bpf_attr;
pub mod btf;
pub mod fs;
pub mod info;
pub mod link;
pub mod map;
pub mod mmap;
pub mod netlink;
pub mod perf;
pub mod pod;
pub mod prog;
pub mod query;
pub mod token;

pub use btf::*;
pub use fs::*;
pub use info::*;
pub use link::*;
pub use map::*;
pub use mmap::Mmap;
pub use netlink::*;
pub use perf::*;
pub use pod::Pod;
pub use prog::*;
pub use query::*;
pub use token::*;

use nix::errno::Errno;
use std::cell::Cell;

thread_local! {
    /// The last errno [`last_errno`] saw that `Errno` has no variant for.
    static LAST_UNKNOWN: Cell<i32> = const { Cell::new(0) };
}

/// The errno of the call that just failed. An errno `Errno` cannot name (the
/// kernel-internal ones, 512 and up, such as `ENOTSUPP`) becomes
/// `UnknownErrno`; its number is remembered for [`SysError::new`].
pub(crate) fn last_errno() -> Errno {
    let raw = Errno::last_raw();
    let e = Errno::from_raw(raw);
    if e == Errno::UnknownErrno {
        LAST_UNKNOWN.with(|c| c.set(raw));
    }
    e
}

/// Name and meaning of the kernel-internal errnos (`include/linux/errno.h`)
/// that reach user space although no libc names them.
pub fn kernel_errno(raw: i32) -> Option<(&'static str, &'static str)> {
    Some(match raw {
        512 => ("ERESTARTSYS", "interrupted by a signal"),
        513 => ("ERESTARTNOINTR", "interrupted; to be restarted"),
        514 => ("ERESTARTNOHAND", "interrupted by a signal"),
        515 => ("ENOIOCTLCMD", "no such ioctl command"),
        516 => ("ERESTART_RESTARTBLOCK", "interrupted; to be restarted"),
        517 => ("EPROBE_DEFER", "driver not ready yet"),
        518 => ("EOPENSTALE", "stale open"),
        519 => ("ENOPARAM", "parameter not supported"),
        521 => ("EBADHANDLE", "illegal handle"),
        522 => ("ENOTSYNC", "update synchronization mismatch"),
        523 => ("EBADCOOKIE", "cookie is stale"),
        524 => (
            "ENOTSUPP",
            "operation not supported by the kernel for this object",
        ),
        525 => ("ETOOSMALL", "buffer or request is too small"),
        526 => ("ESERVERFAULT", "server fault"),
        527 => ("EBADTYPE", "type not supported"),
        528 => (
            "EJUKEBOX",
            "request initiated, but will not complete before timeout",
        ),
        529 => ("EIOCBQUEUED", "I/O queued"),
        530 => ("ERECALLCONFLICT", "conflict with recalled state"),
        _ => return None,
    })
}

/// A failed system call: which one, and the errno it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysError {
    /// The call, e.g. `"BPF_PROG_LOAD"`; for checks done before the call it
    /// also names what was wrong (`"BPF_MAP_LOOKUP_ELEM: value buffer too small"`).
    pub call: &'static str,
    /// The errno; `UnknownErrno` for the kernel-internal ones (see [`SysError::raw_errno`]).
    pub errno: Errno,
    raw: i32,
}

impl SysError {
    /// `errno` from the call that just failed on this thread: an
    /// `UnknownErrno` takes its number from the failing call (a thread-local set by `sys`).
    pub fn new(call: &'static str, errno: Errno) -> SysError {
        let raw = if errno == Errno::UnknownErrno {
            LAST_UNKNOWN.with(Cell::get)
        } else {
            errno as i32
        };
        SysError { call, errno, raw }
    }
    /// From an `io::Error` (errno taken from it; `EIO` when it carries none).
    pub fn from_io(call: &'static str, e: &std::io::Error) -> SysError {
        let raw = e.raw_os_error().unwrap_or(libc::EIO);
        SysError {
            call,
            errno: Errno::from_raw(raw),
            raw,
        }
    }
    /// The errno's number, also for those `Errno` cannot name (0 if unknown).
    pub fn raw_errno(&self) -> i32 {
        self.raw
    }
    /// Whether the kernel said "not supported": `EOPNOTSUPP` or its
    /// kernel-internal twin `ENOTSUPP` (524).
    pub fn not_supported(&self) -> bool {
        self.errno == Errno::EOPNOTSUPP || self.raw == 524
    }
}

impl std::fmt::Display for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.errno != Errno::UnknownErrno {
            return write!(f, "{}: {} ({:?})", self.call, self.errno.desc(), self.errno);
        }
        match kernel_errno(self.raw) {
            Some((name, meaning)) => write!(
                f,
                "{}: {meaning} ({name}, kernel-internal errno {})",
                self.call, self.raw
            ),
            None => write!(f, "{}: unknown errno {}", self.call, self.raw),
        }
    }
}

impl std::error::Error for SysError {}

pub type SysResult<T> = Result<T, SysError>;

/// Copy `name` into a kernel object name field: at most 15 bytes, NUL-terminated.
pub(crate) fn obj_name(name: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = name.len().min(15);
    out[..n].copy_from_slice(&name[..n]);
    out
}

/// The name stored in a kernel object name field, up to the first NUL.
pub(crate) fn name_from_field(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let e = SysError::new("BPF_MAP_CREATE", Errno::EPERM);
        assert_eq!(
            e.to_string(),
            "BPF_MAP_CREATE: Operation not permitted (EPERM)"
        );
        // A kernel-internal errno keeps its number and gets its name.
        LAST_UNKNOWN.with(|c| c.set(524));
        let e = SysError::new("BPF_PROG_TEST_RUN", Errno::UnknownErrno);
        assert_eq!(e.raw_errno(), 524);
        assert!(e.not_supported());
        let s = e.to_string();
        assert!(
            s.starts_with("BPF_PROG_TEST_RUN: operation not supported"),
            "{s}"
        );
        assert!(s.contains("ENOTSUPP, kernel-internal errno 524"), "{s}");
        assert!(!s.contains("Unknown"), "{s}");
        let e = SysError::from_io("x", &std::io::Error::from_raw_os_error(527));
        assert!(e.to_string().contains("EBADTYPE"), "{e}");
        let e = SysError::from_io("x", &std::io::Error::from_raw_os_error(600));
        assert_eq!(e.to_string(), "x: unknown errno 600");
    }

    #[test]
    fn names() {
        assert_eq!(&obj_name(b"abc")[..4], b"abc\0");
        let long = obj_name(b"0123456789abcdefghij");
        assert_eq!(&long[..15], b"0123456789abcde");
        assert_eq!(long[15], 0);
        assert_eq!(name_from_field(&long), "0123456789abcde");
        assert_eq!(name_from_field(b"xy\0zz"), "xy");
    }
}

/// The sys layer against the running kernel (needs root).
#[cfg(test)]
mod kernel_tests;
