//! `BPF_PROG_QUERY`: what is attached to a hook (cgroup, netns, tcx, ...).

use nix::errno::Errno;

use super::bpf::{len_u32, mut_ptr, sys_bpf};
use super::{SysError, SysResult};

const BPF_PROG_QUERY: u32 = 16;

/// `attr.query`, up to `revision`.
#[repr(C)]
#[derive(Default)]
struct ProgQuery {
    /// `target_fd` or `target_ifindex`.
    target: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    /// `prog_cnt` / `count`.
    count: u32,
    _pad0: u32,
    prog_attach_flags: u64,
    link_ids: u64,
    link_attach_flags: u64,
    revision: u64,
}

/// What `BPF_PROG_QUERY` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProgQueryOut {
    /// How many programs are attached (may exceed the buffers).
    pub count: u32,
    /// The hook's attach flags (cgroups).
    pub attach_flags: u32,
    /// The attachment list's revision (tcx, netkit, ...; 0 elsewhere).
    pub revision: u64,
}

/// Query hook `target` (an fd, or an ifindex for tcx) for `attach_type`;
/// fills `prog_ids` (and `link_ids`, if not empty: as long as `prog_ids`)
/// in run order. `ENOSPC` means the buffers were too small (`count` of a
/// query with empty buffers says how large they must be).
pub fn prog_query(
    target: u32,
    attach_type: u32,
    prog_ids: &mut [u32],
    link_ids: &mut [u32],
) -> SysResult<ProgQueryOut> {
    let call = "BPF_PROG_QUERY";
    if !link_ids.is_empty() && link_ids.len() != prog_ids.len() {
        return Err(SysError::new(
            "BPF_PROG_QUERY: link_ids and prog_ids lengths differ",
            Errno::EINVAL,
        ));
    }
    let mut attr = ProgQuery {
        target,
        attach_type,
        prog_ids: mut_ptr(prog_ids),
        count: len_u32(call, prog_ids.len())?,
        link_ids: mut_ptr(link_ids),
        ..Default::default()
    };
    sys_bpf(BPF_PROG_QUERY, &mut attr).map_err(|e| SysError::new(call, e))?;
    Ok(ProgQueryOut {
        count: attr.count,
        attach_flags: attr.attach_flags,
        revision: attr.revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_the_uapi() {
        assert_eq!(offset_of!(ProgQuery, prog_ids), 16);
        assert_eq!(offset_of!(ProgQuery, count), 24);
        assert_eq!(offset_of!(ProgQuery, prog_attach_flags), 32);
        assert_eq!(offset_of!(ProgQuery, link_ids), 40);
        assert_eq!(offset_of!(ProgQuery, link_attach_flags), 48);
        assert_eq!(offset_of!(ProgQuery, revision), 56);
        assert_eq!(size_of::<ProgQuery>(), 64);
    }
}
