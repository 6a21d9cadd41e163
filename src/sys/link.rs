//! Pinning and attaching: `BPF_OBJ_PIN`/`BPF_OBJ_GET`, `BPF_PROG_ATTACH`/
//! `BPF_PROG_DETACH`, `BPF_LINK_CREATE`/`UPDATE`/`DETACH`,
//! `BPF_RAW_TRACEPOINT_OPEN`.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

use super::bpf::*;
use super::bpf_attr as raw;
use super::{SysError, SysResult};

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
    /// `BPF_TRACE_KPROBE_MULTI`: by names (`syms`, NUL-terminated) or by
    /// addresses; `cookies` empty or as long as the targets.
    KprobeMulti {
        syms: &'a [*const std::ffi::c_char],
        addrs: &'a [u64],
        cookies: &'a [u64],
        flags: u32,
    },
    /// `BPF_TCX_INGRESS`/`EGRESS`: the program or link (fd, or id with
    /// `BPF_F_ID`) that `BPF_F_BEFORE`/`AFTER` refer to, and the expected
    /// revision of the attachment list (0: any).
    Tcx {
        relative: u32,
        expected_revision: u64,
    },
    /// `BPF_NETFILTER`: protocol family, hook, priority, `BPF_F_NETFILTER_*`.
    Netfilter {
        pf: u32,
        hooknum: u32,
        priority: i32,
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
        LinkCreateExtra::KprobeMulti {
            syms,
            addrs,
            cookies,
            flags,
        } => {
            let n = syms.len().max(addrs.len());
            if n == 0
                || (!syms.is_empty() && !addrs.is_empty())
                || (!cookies.is_empty() && cookies.len() != n)
            {
                return Err(SysError::new(
                    "BPF_LINK_CREATE: kprobe_multi needs syms or addrs, and cookies as many",
                    Errno::EINVAL,
                ));
            }
            attr.extra.kprobe_multi = raw::LinkKprobeMulti {
                flags,
                cnt: len_u32(call, n)?,
                syms: ptr(syms),
                addrs: ptr(addrs),
                cookies: ptr(cookies),
            };
        }
        LinkCreateExtra::Tcx {
            relative,
            expected_revision,
        } => {
            attr.extra.tcx = raw::LinkTcx {
                relative,
                _pad0: 0,
                expected_revision,
            };
        }
        LinkCreateExtra::Netfilter {
            pf,
            hooknum,
            priority,
            flags,
        } => {
            attr.extra.netfilter = raw::LinkNetfilter {
                pf,
                hooknum,
                priority,
                flags,
            };
        }
    }
    bpf_fd(call, BPF_LINK_CREATE, &mut attr)
}

/// Start one pass of an iterator link (`BPF_ITER_CREATE`): read(2) the
/// returned fd until it returns 0 for the seq_file output.
pub fn iter_create(link: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    let mut attr = raw::IterCreate {
        link_fd: fd_u32(link),
        flags: 0,
    };
    bpf_fd("BPF_ITER_CREATE", BPF_ITER_CREATE, &mut attr)
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
