//! `BPF_BTF_LOAD`.

use std::os::fd::OwnedFd;

use nix::errno::Errno;

use super::bpf::*;
use super::bpf_attr as raw;
use super::prog::with_log_retry;
use super::{SysError, VerifierLog};

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
