//! XDP: `BPF_LINK_CREATE` (attach type `BPF_XDP`, 5.9+), falling back to
//! rtnetlink `IFLA_XDP` when the kernel has no XDP links; and the query of
//! what is attached (`RTM_GETLINK`, `IFLA_XDP_*_PROG_ID`).

use crate::error::{AttachError, Error, Result};
use crate::link::Link;
use crate::netlink::msg;
use crate::netlink::{Rtnl, RtnlError};
use crate::obj::section::attach_type;
use crate::program::Program;
use crate::sys;
use std::os::fd::{AsRawFd, OwnedFd};

use super::NetAttach;

const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const IFLA_XDP: u16 = 43;
const IFLA_XDP_FD: u16 = 1;
const IFLA_XDP_ATTACHED: u16 = 2;
const IFLA_XDP_FLAGS: u16 = 3;
const IFLA_XDP_PROG_ID: u16 = 4;
const IFLA_XDP_DRV_PROG_ID: u16 = 5;
const IFLA_XDP_SKB_PROG_ID: u16 = 6;
const IFLA_XDP_HW_PROG_ID: u16 = 7;
const IFLA_XDP_EXPECTED_FD: u16 = 8;

const XDP_FLAGS_UPDATE_IF_NOEXIST: u32 = 1 << 0;
const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;
const XDP_FLAGS_HW_MODE: u32 = 1 << 3;
const XDP_FLAGS_REPLACE: u32 = 1 << 4;

/// Where XDP runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XdpMode {
    /// Let the kernel choose (native if the driver has it, else generic).
    #[default]
    Default,
    /// Generic (skb) mode: works on every device, slower.
    Generic,
    /// Native (driver) mode.
    Native,
    /// Offloaded to the NIC.
    Offload,
}

impl XdpMode {
    /// The `XDP_FLAGS_*_MODE` bit.
    pub fn flags(self) -> u32 {
        match self {
            XdpMode::Default => 0,
            XdpMode::Generic => XDP_FLAGS_SKB_MODE,
            XdpMode::Native => XDP_FLAGS_DRV_MODE,
            XdpMode::Offload => XDP_FLAGS_HW_MODE,
        }
    }
}

/// What XDP programs an interface has (program ids; 0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XdpQuery {
    /// `IFLA_XDP_ATTACHED`: `XDP_ATTACHED_NONE` (0), `DRV` (1), `SKB` (2),
    /// `HW` (3) or `MULTI` (4).
    pub attached: u8,
    /// The program id when exactly one mode is attached.
    pub prog_id: u32,
    /// Native-mode program.
    pub drv_prog_id: u32,
    /// Generic-mode program.
    pub skb_prog_id: u32,
    /// Offloaded program.
    pub hw_prog_id: u32,
}

impl XdpQuery {
    /// Whether program `id` is attached in any mode.
    pub fn has(&self, id: u32) -> bool {
        id != 0
            && [
                self.prog_id,
                self.drv_prog_id,
                self.skb_prog_id,
                self.hw_prog_id,
            ]
            .contains(&id)
    }
}

/// The XDP programs attached to interface `ifindex` (of the calling
/// thread's network namespace).
pub fn xdp_query(ifindex: u32) -> Result<XdpQuery> {
    query(ifindex).map_err(|source| Error::Netlink {
        what: format!("XDP query of interface {ifindex}"),
        source,
    })
}

fn query(ifindex: u32) -> std::result::Result<XdpQuery, RtnlError> {
    let rtnl = Rtnl::open()?;
    let replies = rtnl.get(RTM_GETLINK, false, |b| {
        b.header(&msg::ifinfomsg(0, ifindex as i32));
    })?;
    let mut q = XdpQuery::default();
    for (_, payload) in replies {
        let attrs = msg::parse_attrs(payload.get(16..).unwrap_or_default())?;
        let Some(xdp) = msg::find_attr(&attrs, IFLA_XDP) else {
            continue;
        };
        for a in msg::parse_attrs(xdp.value)? {
            match a.ty {
                IFLA_XDP_ATTACHED => q.attached = a.u8().unwrap_or(0),
                IFLA_XDP_PROG_ID => q.prog_id = a.u32().unwrap_or(0),
                IFLA_XDP_DRV_PROG_ID => q.drv_prog_id = a.u32().unwrap_or(0),
                IFLA_XDP_SKB_PROG_ID => q.skb_prog_id = a.u32().unwrap_or(0),
                IFLA_XDP_HW_PROG_ID => q.hw_prog_id = a.u32().unwrap_or(0),
                _ => {}
            }
        }
    }
    Ok(q)
}

/// `RTM_SETLINK` with `IFLA_XDP { FD, FLAGS [, EXPECTED_FD] }`.
fn set_xdp(
    rtnl: &Rtnl,
    ifindex: u32,
    fd: i32,
    flags: u32,
    expected: Option<i32>,
) -> std::result::Result<(), RtnlError> {
    rtnl.request(RTM_SETLINK, 0, |b| {
        b.header(&msg::ifinfomsg(0, ifindex as i32));
        let n = b.nest_start(IFLA_XDP);
        b.attr(IFLA_XDP_FD, &fd.to_ne_bytes());
        b.attr_u32(IFLA_XDP_FLAGS, flags);
        if let Some(e) = expected {
            b.attr(IFLA_XDP_EXPECTED_FD, &e.to_ne_bytes());
        }
        b.nest_end(n);
    })
}

/// Remove `prog` from `ifindex` (only if it is still the one attached, on
/// kernels that can check that).
pub(crate) fn netlink_detach(
    rtnl: &Rtnl,
    ifindex: u32,
    flags: u32,
    prog: &OwnedFd,
) -> std::result::Result<(), RtnlError> {
    let mode = flags & !XDP_FLAGS_UPDATE_IF_NOEXIST;
    match set_xdp(
        rtnl,
        ifindex,
        -1,
        mode | XDP_FLAGS_REPLACE,
        Some(prog.as_raw_fd()),
    ) {
        Err(e) if e.errno() == Some(libc::EINVAL) => set_xdp(rtnl, ifindex, -1, mode, None),
        r => r,
    }
}

impl Program {
    /// Attach this XDP program to interface `ifindex` (see
    /// [`net::ifindex`](crate::net::ifindex)) in `mode`, through a BPF link;
    /// on kernels without XDP links (EINVAL, before 5.9) through rtnetlink,
    /// refusing to replace a program already there. Dropping the link
    /// detaches.
    pub fn attach_xdp(&self, ifindex: u32, mode: XdpMode) -> Result<Link> {
        let target = format!("XDP ({mode:?} mode) on interface {ifindex}");
        let desc = format!("{} → {target}", self.name());
        log::debug!("attaching {desc}");
        let link_err = match sys::link_create(
            self.fd(),
            sys::LinkTarget::Ifindex(ifindex),
            attach_type::XDP,
            mode.flags(),
            sys::LinkCreateExtra::None,
        ) {
            Ok(fd) => return Ok(Link::bpf(fd, None, desc)),
            Err(e) if e.errno == nix::errno::Errno::EINVAL => e,
            Err(e) => return Err(self.attach_err(target, e)),
        };
        log::debug!("{desc}: no XDP link ({link_err}); using IFLA_XDP");
        let flags = mode.flags() | XDP_FLAGS_UPDATE_IF_NOEXIST;
        // The link attempt can only have failed with EINVAL here: say so.
        self.xdp_over_netlink(
            ifindex,
            flags,
            &target,
            desc,
            "BPF_LINK_CREATE: Invalid argument (EINVAL: no XDP links); then over netlink: IFLA_XDP",
        )
    }

    /// Attach over rtnetlink (`IFLA_XDP`) even where XDP links exist: what
    /// [`Program::attach_xdp`] falls back to on old kernels.
    pub fn attach_xdp_netlink(&self, ifindex: u32, mode: XdpMode) -> Result<Link> {
        let target = format!("XDP ({mode:?} mode, netlink) on interface {ifindex}");
        let flags = mode.flags() | XDP_FLAGS_UPDATE_IF_NOEXIST;
        let desc = format!("{} → {target}", self.name());
        self.xdp_over_netlink(ifindex, flags, &target, desc, "IFLA_XDP")
    }

    /// Set XDP `flags` over rtnetlink (`IFLA_XDP`); the link it returns
    /// holds a copy of the program fd and undoes the attachment on drop.
    /// `step` names the request in a refusal.
    fn xdp_over_netlink(
        &self,
        ifindex: u32,
        flags: u32,
        target: &str,
        desc: String,
        step: &'static str,
    ) -> Result<Link> {
        let netlink = |step, source| self.attach_err(target, AttachError::Netlink { step, source });
        let rtnl = Rtnl::open().map_err(|e| netlink("open a netlink socket", e))?;
        set_xdp(&rtnl, ifindex, self.fd().as_raw_fd(), flags, None)
            .map_err(|e| netlink(step, e))?;
        let prog = self
            .fd()
            .try_clone_to_owned()
            .map_err(|e| self.attach_err(target, AttachError::io_step("copy the program fd", e)))?;
        Ok(Link::net(
            prog,
            Box::new(NetAttach::XdpNetlink {
                rtnl,
                ifindex,
                flags,
            }),
            desc,
        ))
    }
}
