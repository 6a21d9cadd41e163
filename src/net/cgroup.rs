//! cgroup programs: `BPF_LINK_CREATE` on the cgroup's directory fd, falling
//! back to `BPF_PROG_ATTACH` with `BPF_F_ALLOW_MULTI` where the kernel has
//! no cgroup links (EINVAL).

use crate::error::{AttachError, Result};
use crate::link::Link;
use crate::program::Program;
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use super::NetAttach;

const BPF_F_ALLOW_MULTI: u32 = 1 << 1;

impl Program {
    /// Attach this cgroup program (cgroup/skb, sock_create, connect4, ...)
    /// to the cgroup v2 directory `cgroup`, at the attach type its section
    /// named. Dropping the link detaches.
    pub fn attach_cgroup(&self, cgroup: impl AsRef<Path>) -> Result<Link> {
        let path = cgroup.as_ref();
        let at = self.kind().expected_attach_type;
        let target = format!("cgroup {} (attach type {at})", path.display());
        let dir = self.open_cgroup(path, &target)?;
        let desc = format!("{} → {target}", self.name());
        match sys::link_create(
            self.fd(),
            sys::LinkTarget::Fd(dir.as_fd()),
            at,
            0,
            sys::LinkCreateExtra::None,
        ) {
            Ok(fd) => return Ok(Link::bpf(fd, None, desc)),
            Err(e) if e.errno == nix::errno::Errno::EINVAL => {
                log::debug!("{desc}: no cgroup link ({e}); using BPF_PROG_ATTACH");
            }
            Err(e) => return Err(self.attach_err(target, e)),
        }
        self.attach_cgroup_legacy_fd(dir, at, desc, &target)
    }

    /// Attach with `BPF_PROG_ATTACH` (`BPF_F_ALLOW_MULTI`) even where cgroup
    /// links exist: what [`Program::attach_cgroup`] falls back to.
    pub fn attach_cgroup_legacy(&self, cgroup: impl AsRef<Path>) -> Result<Link> {
        let path = cgroup.as_ref();
        let at = self.kind().expected_attach_type;
        let target = format!("cgroup {} (attach type {at}, prog_attach)", path.display());
        let dir = self.open_cgroup(path, &target)?;
        let desc = format!("{} → {target}", self.name());
        self.attach_cgroup_legacy_fd(dir, at, desc, &target)
    }

    fn open_cgroup(&self, path: &Path, target: &str) -> Result<OwnedFd> {
        std::fs::File::open(path).map(OwnedFd::from).map_err(|e| {
            self.attach_err(target, AttachError::io_step("open the cgroup directory", e))
        })
    }

    fn attach_cgroup_legacy_fd(
        &self,
        dir: OwnedFd,
        at: u32,
        desc: String,
        target: &str,
    ) -> Result<Link> {
        let prog = self
            .fd()
            .try_clone_to_owned()
            .map_err(|e| self.attach_err(target, AttachError::io_step("copy the program fd", e)))?;
        sys::prog_attach(dir.as_fd(), self.fd(), at, BPF_F_ALLOW_MULTI)
            .map_err(|e| self.attach_err(target, e))?;
        Ok(Link::net(
            prog,
            Box::new(NetAttach::ProgAttach {
                target: dir,
                attach_type: at,
            }),
            desc,
        ))
    }
}
