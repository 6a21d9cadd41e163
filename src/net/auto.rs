//! Attach networking programs by their section and program type to an
//! interface or cgroup the caller names ([`NetTarget`]): what
//! `tinybpf load --iface/--cgroup` uses.

use crate::error::{Error, Result};
use crate::link::Link;
use crate::obj::section::{attach_type, prog_type};
use crate::object::Object;
use crate::program::Program;
use std::path::PathBuf;

use super::tc::{TcDirection, TcOptions, TcxAnchor};
use super::xdp::XdpMode;

/// Where networking programs go.
#[derive(Debug, Clone, Default)]
pub struct NetTarget {
    /// Interface for `xdp` and `tc`/`tcx` programs.
    pub ifindex: Option<u32>,
    /// XDP mode.
    pub xdp_mode: XdpMode,
    /// cgroup v2 directory for `cgroup*` and `sockops` programs.
    pub cgroup: Option<PathBuf>,
}

/// What kind of networking hook a program type needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetHook {
    /// `xdp`: an interface.
    Xdp,
    /// `tc`, `tcx`, `classifier`: an interface (tcx, else clsact).
    Tc,
    /// cgroup programs and sockops: a cgroup directory.
    Cgroup,
}

impl Program {
    /// The networking hook this program attaches to, if any.
    pub fn net_hook(&self) -> Option<NetHook> {
        match self.prog_type().raw() {
            // Not xdp/devmap, xdp/cpumap: those go into maps.
            prog_type::XDP if self.kind().expected_attach_type == attach_type::XDP => {
                Some(NetHook::Xdp)
            }
            prog_type::SCHED_CLS => Some(NetHook::Tc),
            prog_type::CGROUP_SKB
            | prog_type::CGROUP_SOCK
            | prog_type::CGROUP_DEVICE
            | prog_type::CGROUP_SOCK_ADDR
            | prog_type::CGROUP_SYSCTL
            | prog_type::CGROUP_SOCKOPT
            | prog_type::SOCK_OPS => Some(NetHook::Cgroup),
            _ => None,
        }
    }

    /// The tc direction the section names (`tc/egress`, `tcx/egress`;
    /// ingress otherwise).
    fn tc_direction(&self) -> TcDirection {
        match self.section().split('/').nth(1) {
            Some("egress") => TcDirection::Egress,
            _ => TcDirection::Ingress,
        }
    }

    /// Attach to `target` by program type: XDP (in `target.xdp_mode`) and tc
    /// to `target.ifindex` (tc through tcx, falling back to a clsact
    /// filter, priority 1 handle 1, on kernels without tcx), cgroup programs
    /// to `target.cgroup`.
    pub fn attach_net(&self, target: &NetTarget) -> Result<Link> {
        let missing = |what: &'static str| Error::Attach {
            program: self.name().to_string(),
            target: self.section().to_string(),
            reason: crate::error::AttachError::NotGiven(what),
        };
        match self.net_hook() {
            Some(NetHook::Xdp) => {
                let i = target
                    .ifindex
                    .ok_or_else(|| missing("an interface (--iface)"))?;
                self.attach_xdp(i, target.xdp_mode)
            }
            Some(NetHook::Tc) => {
                let i = target
                    .ifindex
                    .ok_or_else(|| missing("an interface (--iface)"))?;
                let dir = self.tc_direction();
                match self.tcx_link(i, dir, TcxAnchor::None, 0) {
                    Ok(l) => Ok(l),
                    Err(e) if e.errno == nix::errno::Errno::EINVAL => {
                        log::debug!("{}: no tcx ({e}); using clsact", self.name());
                        self.attach_tc(i, dir, TcOptions::default())
                    }
                    Err(_) => self.attach_tcx(i, dir, TcxAnchor::None),
                }
            }
            Some(NetHook::Cgroup) => {
                let c = target
                    .cgroup
                    .as_ref()
                    .ok_or_else(|| missing("a cgroup directory (--cgroup)"))?;
                self.attach_cgroup(c)
            }
            None => Err(Error::Attach {
                program: self.name().to_string(),
                target: self.section().to_string(),
                reason: crate::error::AttachError::NotPossible("not an xdp, tc or cgroup program"),
            }),
        }
    }
}

impl Object {
    /// Attach program `program` with [`Program::attach_net`] and keep the
    /// link in the object.
    pub fn attach_net(&mut self, program: &str, target: &NetTarget) -> Result<&Link> {
        let p = self.program(program).ok_or_else(|| Error::NotFound {
            kind: "program",
            name: program.into(),
        })?;
        let l = p.attach_net(target)?;
        self.links.push(l);
        Ok(self.links.last().expect("just pushed"))
    }
}
