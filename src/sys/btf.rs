//! `BPF_BTF_LOAD`.

use std::os::fd::{BorrowedFd, OwnedFd};

use nix::errno::Errno;

use super::bpf::*;
use super::bpf_attr as raw;
use super::{SysError, VerifierLog};

/// A failed `BPF_BTF_LOAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BtfLoadError {
    pub errno: Errno,
    /// The log size the kernel reported it needed (6.4+; 0 on older kernels
    /// or without a log).
    pub log_true_size: u32,
}

impl std::fmt::Display for BtfLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        SysError::new("BPF_BTF_LOAD", self.errno).fmt(f)
    }
}

impl std::error::Error for BtfLoadError {}

impl From<BtfLoadError> for SysError {
    fn from(e: BtfLoadError) -> SysError {
        SysError::new("BPF_BTF_LOAD", e.errno)
    }
}

/// `BPF_BTF_LOAD` of a raw BTF blob, once. With `log`, the kernel fills
/// `log.buf` at `log.level` and `log.true_size` is updated.
pub fn btf_load(data: &[u8], log: Option<&mut VerifierLog>) -> Result<OwnedFd, BtfLoadError> {
    btf_load_token(data, log, None)
}

/// [`btf_load`] through a BPF token (6.9+: `btf_token_fd` and
/// `BPF_F_TOKEN_FD`).
pub fn btf_load_token(
    data: &[u8],
    mut log: Option<&mut VerifierLog>,
    token: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, BtfLoadError> {
    let fail = |errno| BtfLoadError {
        errno,
        log_true_size: 0,
    };
    let btf_size = u32::try_from(data.len()).map_err(|_| fail(Errno::E2BIG))?;
    let mut attr = raw::BtfLoad {
        btf: ptr(data),
        btf_size,
        btf_flags: token.map_or(0, |_| super::BPF_F_TOKEN_FD),
        btf_token_fd: token.map_or(0, |f| fd_u32(f) as i32),
        ..Default::default()
    };
    if let Some(l) = log.as_deref_mut() {
        attr.btf_log_level = l.level;
        attr.btf_log_size = u32::try_from(l.buf.len()).map_err(|_| fail(Errno::E2BIG))?;
        attr.btf_log_buf = mut_ptr(&mut l.buf);
    }
    let res = sys_bpf_retry(BPF_BTF_LOAD, &mut attr);
    if let Some(l) = log {
        l.true_size = attr.btf_log_true_size;
    }
    res.map(owned_fd).map_err(|errno| BtfLoadError {
        errno,
        log_true_size: attr.btf_log_true_size,
    })
}
