//! The only module that issues syscalls and holds `unsafe`.
//!
//! A small typed layer over bpf(2), perf_event_open(2), mmap(2), mount(2),
//! rlimits and epoll. Every fd the kernel returns is an [`OwnedFd`]; fds passed
//! in are [`BorrowedFd`]s. Every bpf command has its own `#[repr(C)]` attr
//! struct (see `bpf_attr`) that ends at the last field the command uses and
//! has no implicit padding, so the kernel never sees stray non-zero bytes.
//!
//! [`OwnedFd`]: std::os::fd::OwnedFd
//! [`BorrowedFd`]: std::os::fd::BorrowedFd

pub mod bpf;
pub(crate) mod bpf_attr;
pub mod fs;
pub mod mmap;
pub mod perf;
pub mod pod;

pub use bpf::*;
pub use fs::*;
pub use mmap::Mmap;
pub use perf::*;
pub use pod::Pod;

use nix::errno::Errno;

/// A failed system call: which one, and the errno it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysError {
    /// The call, e.g. `"BPF_PROG_LOAD"`; for checks done before the call it
    /// also names what was wrong (`"BPF_MAP_LOOKUP_ELEM: value buffer too small"`).
    pub call: &'static str,
    pub errno: Errno,
}

impl SysError {
    pub fn new(call: &'static str, errno: Errno) -> SysError {
        SysError { call, errno }
    }
    /// From an `io::Error` (errno taken from it; `EIO` when it carries none).
    pub fn from_io(call: &'static str, e: &std::io::Error) -> SysError {
        let errno = e.raw_os_error().map(Errno::from_raw).unwrap_or(Errno::EIO);
        SysError { call, errno }
    }
}

impl std::fmt::Display for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({:?})", self.call, self.errno.desc(), self.errno)
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
