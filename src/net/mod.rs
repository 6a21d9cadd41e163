//! Networking attach points: XDP ([`xdp`]), tcx and legacy tc ([`tc`]),
//! cgroups ([`cgroup`]) and socket filters ([`socket`]).
//!
//! Every attach returns a [`Link`](crate::Link) that detaches on drop. BPF
//! links are used where the kernel has them; otherwise the attachment is
//! made over rtnetlink or `BPF_PROG_ATTACH` and undone the same way when the
//! `Link` is dropped (such links cannot be pinned).
//!
//! Interface indexes are those of the network namespace of the calling
//! thread; the netlink socket of an attachment stays in the namespace it was
//! made in, so dropping the link later from elsewhere still detaches.

pub mod auto;
pub mod cgroup;
pub mod netfilter;
pub mod netns;
pub mod socket;
pub mod sockmap;
pub mod tc;
pub mod xdp;

use crate::error::{AttachError, Error, Result};
use crate::netlink::Rtnl;
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};

pub use auto::{NetHook, NetTarget};
pub use netfilter::{NetfilterHook, NfHook, NfProto};
pub use tc::{tc_filters, tcx_query, TcxQuery};
pub use tc::{TcDirection, TcFilter, TcOptions, TcxAnchor, TcxRef};
pub use xdp::{xdp_query, XdpMode, XdpQuery};

/// The index of interface `name` in the calling thread's network namespace.
pub fn ifindex(name: &str) -> Result<u32> {
    sys::if_nametoindex(name).map_err(|e| Error::sys(format!("interface {name:?}"), e))
}

/// An attachment made without a BPF link, undone when its link is dropped.
#[derive(Debug)]
pub(crate) enum NetAttach {
    /// XDP set through `IFLA_XDP` (kernels without XDP links).
    XdpNetlink {
        rtnl: Rtnl,
        ifindex: u32,
        flags: u32,
    },
    /// A `cls_bpf` filter on a `clsact` qdisc.
    TcFilter {
        rtnl: Rtnl,
        filter: TcFilter,
        /// Whether this attach created the `clsact` qdisc.
        qdisc_created: bool,
    },
    /// `BPF_PROG_ATTACH` on `target` (cgroups on kernels without links).
    ProgAttach { target: OwnedFd, attach_type: u32 },
}

impl crate::link::Detach for NetAttach {
    fn detach(&self, prog: &OwnedFd) -> std::result::Result<(), AttachError> {
        match self {
            NetAttach::XdpNetlink {
                rtnl,
                ifindex,
                flags,
            } => xdp::netlink_detach(rtnl, *ifindex, *flags, prog).map_err(|source| {
                AttachError::Netlink {
                    step: "IFLA_XDP detach",
                    source,
                }
            }),
            NetAttach::TcFilter {
                rtnl,
                filter,
                qdisc_created,
            } => tc::legacy_detach(rtnl, filter, *qdisc_created),
            NetAttach::ProgAttach {
                target,
                attach_type,
            } => sys::prog_detach(target.as_fd(), Some(prog.as_fd()), *attach_type)
                .map_err(AttachError::from),
        }
    }
}
