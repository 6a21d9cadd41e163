//! tc: tcx links (`BPF_TCX_INGRESS`/`EGRESS`, 6.6+) with ordering anchors,
//! and legacy `clsact` + `cls_bpf` (direct action) over rtnetlink.

use crate::error::{AttachError, Error, Result};
use crate::link::Link;
use crate::netlink::msg::{self, NLM_F_CREATE, NLM_F_EXCL};
use crate::netlink::{Rtnl, RtnlError};
use crate::program::Program;
use crate::sys;
use std::os::fd::AsRawFd;

use super::NetAttach;

const BPF_TCX_INGRESS: u32 = 46;
const BPF_TCX_EGRESS: u32 = 47;
const BPF_F_BEFORE: u32 = 1 << 3;
const BPF_F_AFTER: u32 = 1 << 4;
const BPF_F_ID: u32 = 1 << 5;
const BPF_F_LINK: u32 = 1 << 13;

const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const RTM_GETTFILTER: u16 = 46;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_ID: u16 = 11;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
/// `TC_H_CLSACT` (== `TC_H_INGRESS`): the clsact qdisc's parent.
const TC_H_CLSACT: u32 = 0xffff_fff1;
/// The clsact qdisc's own handle, `ffff:`.
const CLSACT_HANDLE: u32 = 0xffff_0000;
const TC_H_MIN_INGRESS: u32 = 0xfff2;
const TC_H_MIN_EGRESS: u32 = 0xfff3;
/// `ETH_P_ALL`, as the filter's protocol (network byte order).
const ETH_P_ALL_BE: u16 = 0x0003u16.to_be();

/// Which way packets go through the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcDirection {
    /// Received packets.
    Ingress,
    /// Sent packets.
    Egress,
}

/// What a tcx anchor refers to.
#[derive(Debug, Clone, Copy)]
pub enum TcxRef<'a> {
    /// The hook's ends: `Before(Any)` is first, `After(Any)` last.
    Any,
    /// An attached program.
    Program(&'a Program),
    /// A tcx link.
    Link(&'a Link),
    /// A program by id.
    ProgramId(u32),
    /// A link by id.
    LinkId(u32),
}

/// Where a tcx program goes among those already on the hook.
#[derive(Debug, Clone, Copy, Default)]
pub enum TcxAnchor<'a> {
    /// At the end (the kernel's default).
    #[default]
    None,
    /// Right before the referenced one (`Any`: first).
    Before(TcxRef<'a>),
    /// Right after the referenced one (`Any`: last).
    After(TcxRef<'a>),
}

impl TcxAnchor<'_> {
    /// `BPF_F_*` flags and `relative_fd`/`relative_id`.
    fn encode(&self) -> (u32, u32) {
        let (dir, r) = match self {
            TcxAnchor::None => return (0, 0),
            TcxAnchor::Before(r) => (BPF_F_BEFORE, r),
            TcxAnchor::After(r) => (BPF_F_AFTER, r),
        };
        match r {
            TcxRef::Any => (dir, 0),
            TcxRef::Program(p) => (dir, p.raw_fd() as u32),
            TcxRef::Link(l) => (dir | BPF_F_LINK, l.fd().as_raw_fd() as u32),
            TcxRef::ProgramId(id) => (dir | BPF_F_ID, *id),
            TcxRef::LinkId(id) => (dir | BPF_F_ID | BPF_F_LINK, *id),
        }
    }
}

/// Options of a legacy tc filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcOptions {
    /// Filter priority (1 is run first; 0 is not allowed here).
    pub priority: u16,
    /// Filter handle (non-zero).
    pub handle: u32,
}

impl Default for TcOptions {
    fn default() -> Self {
        TcOptions {
            priority: 1,
            handle: 1,
        }
    }
}

/// A `cls_bpf` filter on a clsact hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcFilter {
    /// Interface index.
    pub ifindex: u32,
    /// Direction (the clsact parent).
    pub direction: TcDirection,
    /// Priority.
    pub priority: u16,
    /// Handle.
    pub handle: u32,
    /// Program id (`TCA_BPF_ID`; 0 if the kernel did not say).
    pub prog_id: u32,
    /// `TCA_BPF_NAME`.
    pub name: String,
}

fn tcx_attach_type(direction: TcDirection) -> u32 {
    match direction {
        TcDirection::Ingress => BPF_TCX_INGRESS,
        TcDirection::Egress => BPF_TCX_EGRESS,
    }
}

/// The programs on a tcx hook, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TcxQuery {
    /// The attachment list's revision (for `attach_tcx_at_revision`).
    pub revision: u64,
    /// Program ids, first to run first.
    pub prog_ids: Vec<u32>,
    /// The link id of each program (0: attached without a link).
    pub link_ids: Vec<u32>,
}

/// What runs on the tcx hook of `ifindex` (`BPF_PROG_QUERY`).
pub fn tcx_query(ifindex: u32, direction: TcDirection) -> Result<TcxQuery> {
    let at = tcx_attach_type(direction);
    let what = format!("tcx query of {direction:?} on interface {ifindex}");
    let mut n = 16usize;
    loop {
        let mut prog_ids = vec![0u32; n];
        let mut link_ids = vec![0u32; n];
        match sys::prog_query(ifindex, at, &mut prog_ids, &mut link_ids) {
            Ok(out) => {
                let count = (out.count as usize).min(n);
                prog_ids.truncate(count);
                link_ids.truncate(count);
                return Ok(TcxQuery {
                    revision: out.revision,
                    prog_ids,
                    link_ids,
                });
            }
            Err(e) if e.errno == nix::errno::Errno::ENOSPC && n < 1 << 16 => n *= 4,
            Err(e) => return Err(Error::sys(what, e)),
        }
    }
}

fn parent(dir: TcDirection) -> u32 {
    (TC_H_CLSACT & 0xffff_0000)
        | match dir {
            TcDirection::Ingress => TC_H_MIN_INGRESS,
            TcDirection::Egress => TC_H_MIN_EGRESS,
        }
}

fn filter_info(priority: u16) -> u32 {
    ((priority as u32) << 16) | ETH_P_ALL_BE as u32
}

/// The `cls_bpf` filters on the clsact hook of `ifindex` (in the calling
/// thread's network namespace). An interface without clsact has none.
pub fn tc_filters(ifindex: u32, direction: TcDirection) -> Result<Vec<TcFilter>> {
    Rtnl::open()
        .and_then(|rtnl| dump_filters(&rtnl, ifindex, direction))
        .map_err(|source| Error::Netlink {
            what: format!("tc filters of interface {ifindex}"),
            source,
        })
}

fn dump_filters(
    rtnl: &Rtnl,
    ifindex: u32,
    direction: TcDirection,
) -> std::result::Result<Vec<TcFilter>, RtnlError> {
    let replies = match rtnl.get(RTM_GETTFILTER, true, |b| {
        b.header(&msg::tcmsg(ifindex as i32, 0, parent(direction), 0));
    }) {
        Ok(r) => r,
        // No clsact qdisc: no filters.
        Err(e) if matches!(e.errno(), Some(libc::EINVAL) | Some(libc::ENOENT)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for (_, p) in replies {
        let (_, handle, _, info) = msg::parse_tcmsg(&p)?;
        let attrs = msg::parse_attrs(p.get(20..).unwrap_or_default())?;
        let kind = msg::find_attr(&attrs, TCA_KIND).map(|a| a.str());
        // The dump lists each priority's head without a handle too.
        if kind.as_deref() != Some("bpf") || handle == 0 {
            continue;
        }
        let mut f = TcFilter {
            ifindex,
            direction,
            priority: (info >> 16) as u16,
            handle,
            prog_id: 0,
            name: String::new(),
        };
        if let Some(o) = msg::find_attr(&attrs, TCA_OPTIONS) {
            for a in msg::parse_attrs(o.value)? {
                match a.ty {
                    TCA_BPF_ID => f.prog_id = a.u32().unwrap_or(0),
                    TCA_BPF_NAME => f.name = a.str(),
                    _ => {}
                }
            }
        }
        out.push(f);
    }
    Ok(out)
}

/// Delete the filter, then the clsact qdisc if this attachment created it
/// and no filter is left on either side.
pub(crate) fn legacy_detach(
    rtnl: &Rtnl,
    f: &TcFilter,
    qdisc_created: bool,
) -> std::result::Result<(), AttachError> {
    let netlink = |step| move |source| AttachError::Netlink { step, source };
    rtnl.request(RTM_DELTFILTER, 0, |b| {
        b.header(&msg::tcmsg(
            f.ifindex as i32,
            f.handle,
            parent(f.direction),
            filter_info(f.priority),
        ));
        b.attr_str(TCA_KIND, "bpf");
    })
    .map_err(netlink("RTM_DELTFILTER"))?;
    if !qdisc_created {
        return Ok(());
    }
    let left = dump_filters(rtnl, f.ifindex, TcDirection::Ingress)
        .and_then(|i| Ok(i.len() + dump_filters(rtnl, f.ifindex, TcDirection::Egress)?.len()))
        .map_err(netlink("list the filters left on clsact"))?;
    if left > 0 {
        log::debug!("clsact on {} still has {left} filter(s): kept", f.ifindex);
        return Ok(());
    }
    rtnl.request(RTM_DELQDISC, 0, |b| {
        b.header(&msg::tcmsg(f.ifindex as i32, CLSACT_HANDLE, TC_H_CLSACT, 0));
        b.attr_str(TCA_KIND, "clsact");
    })
    .map_err(netlink("RTM_DELQDISC clsact"))
}

/// Add the clsact qdisc; `Ok(false)` if it was already there.
fn ensure_clsact(rtnl: &Rtnl, ifindex: u32) -> std::result::Result<bool, RtnlError> {
    match rtnl.request(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, |b| {
        b.header(&msg::tcmsg(ifindex as i32, CLSACT_HANDLE, TC_H_CLSACT, 0));
        b.attr_str(TCA_KIND, "clsact");
    }) {
        Ok(()) => Ok(true),
        Err(e) if e.errno() == Some(libc::EEXIST) => Ok(false),
        Err(e) => Err(e),
    }
}

impl Program {
    /// Attach this `tc` (sched_cls) program to `ifindex` through a tcx link
    /// (6.6+), placed by `anchor`. Dropping the link detaches.
    pub fn attach_tcx(
        &self,
        ifindex: u32,
        direction: TcDirection,
        anchor: TcxAnchor<'_>,
    ) -> Result<Link> {
        self.attach_tcx_at_revision(ifindex, direction, anchor, 0)
    }

    /// [`Program::attach_tcx`], refused (`ESTALE`) unless the hook's
    /// attachment list is still at `expected_revision` (from
    /// [`tcx_query`]; 0: any).
    pub fn attach_tcx_at_revision(
        &self,
        ifindex: u32,
        direction: TcDirection,
        anchor: TcxAnchor<'_>,
        expected_revision: u64,
    ) -> Result<Link> {
        let target = format!("tcx {direction:?} on interface {ifindex}");
        self.tcx_link(ifindex, direction, anchor, expected_revision)
            .map_err(|e| {
                let hint = (e.errno == nix::errno::Errno::EINVAL)
                    .then_some("tcx needs Linux 6.6+; on older kernels use attach_tc");
                self.attach_err(target, AttachError::sys_hint(e, hint))
            })
    }

    /// The tcx `BPF_LINK_CREATE`, with the kernel's error as is.
    pub(crate) fn tcx_link(
        &self,
        ifindex: u32,
        direction: TcDirection,
        anchor: TcxAnchor<'_>,
        expected_revision: u64,
    ) -> std::result::Result<Link, sys::SysError> {
        let (flags, relative) = anchor.encode();
        let at = tcx_attach_type(direction);
        let fd = sys::link_create(
            self.fd(),
            sys::LinkTarget::Ifindex(ifindex),
            at,
            flags,
            sys::LinkCreateExtra::Tcx {
                relative,
                expected_revision,
            },
        )?;
        Ok(Link::bpf(
            fd,
            None,
            format!("{} → tcx {direction:?} on interface {ifindex}", self.name()),
        ))
    }

    /// Attach this `tc` program the legacy way: a `cls_bpf` filter in
    /// direct-action mode on the `clsact` qdisc of `ifindex` (created if
    /// missing). Dropping the link deletes the filter, and the qdisc if this
    /// call created it and no filter is left.
    pub fn attach_tc(&self, ifindex: u32, direction: TcDirection, opts: TcOptions) -> Result<Link> {
        let target = format!(
            "tc {direction:?} on interface {ifindex} (prio {}, handle {:#x})",
            opts.priority, opts.handle
        );
        if opts.priority == 0 || opts.handle == 0 {
            return Err(self.attach_err(
                target,
                AttachError::NotPossible(
                    "priority and handle must be non-zero (they identify the filter to delete)",
                ),
            ));
        }
        let netlink =
            |step, source| self.attach_err(&target, AttachError::Netlink { step, source });
        let rtnl = Rtnl::open().map_err(|e| netlink("open a netlink socket", e))?;
        let created = ensure_clsact(&rtnl, ifindex).map_err(|e| netlink("add clsact qdisc", e))?;
        let filter = TcFilter {
            ifindex,
            direction,
            priority: opts.priority,
            handle: opts.handle,
            prog_id: 0,
            name: self.name().to_string(),
        };
        let added = rtnl.request(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, |b| {
            b.header(&msg::tcmsg(
                ifindex as i32,
                opts.handle,
                parent(direction),
                filter_info(opts.priority),
            ));
            b.attr_str(TCA_KIND, "bpf");
            let n = b.nest_start(TCA_OPTIONS);
            b.attr_u32(TCA_BPF_FD, self.raw_fd() as u32);
            b.attr_str(TCA_BPF_NAME, self.name());
            b.attr_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
            b.nest_end(n);
        });
        if let Err(e) = added {
            if created {
                let _ = rtnl.request(RTM_DELQDISC, 0, |b| {
                    b.header(&msg::tcmsg(ifindex as i32, CLSACT_HANDLE, TC_H_CLSACT, 0));
                    b.attr_str(TCA_KIND, "clsact");
                });
            }
            return Err(netlink("add cls_bpf filter", e));
        }
        let prog = match self.fd().try_clone_to_owned() {
            Ok(p) => p,
            Err(e) => {
                let _ = legacy_detach(&rtnl, &filter, created);
                return Err(
                    self.attach_err(&target, AttachError::io_step("copy the program fd", e))
                );
            }
        };
        Ok(Link::net(
            prog,
            Box::new(NetAttach::TcFilter {
                rtnl,
                filter,
                qdisc_created: created,
            }),
            format!("{} → {target}", self.name()),
        ))
    }
}
