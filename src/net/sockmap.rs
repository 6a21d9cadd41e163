//! `sk_msg` and `sk_skb` programs on a sockmap or sockhash: a BPF link
//! (6.10+), or `BPF_PROG_ATTACH` with the map's fd where the kernel has no
//! sockmap links.

use crate::error::{AttachError, Result};
use crate::link::Link;
use crate::map::Map;
use crate::program::Program;
use crate::sys;
use std::os::fd::AsFd;

use super::NetAttach;

impl Program {
    /// Attach this `sk_msg`/`sk_skb` program to sockmap (or sockhash) `map`,
    /// at the attach type its section named (`sk_msg`, `sk_skb/stream_parser`,
    /// `sk_skb/stream_verdict`, `sk_skb/verdict`). Dropping the link detaches.
    pub fn attach_sockmap(&self, map: &Map) -> Result<Link> {
        let at = self.kind().expected_attach_type;
        let target = format!("sockmap {} (attach type {at})", map.name());
        let desc = format!("{} → {target}", self.name());
        match sys::link_create(
            self.fd(),
            sys::LinkTarget::Fd(map.fd()),
            at,
            0,
            sys::LinkCreateExtra::None,
        ) {
            Ok(fd) => return Ok(Link::bpf(fd, None, desc)),
            Err(e) if e.errno == nix::errno::Errno::EINVAL => {
                log::debug!("{desc}: no sockmap link ({e}); using BPF_PROG_ATTACH");
            }
            Err(e) => return Err(self.attach_err(target, e)),
        }
        let dup = |step, e| self.attach_err(&target, AttachError::io_step(step, e));
        let map_fd = map
            .fd()
            .try_clone_to_owned()
            .map_err(|e| dup("copy the map fd", e))?;
        let prog = self
            .fd()
            .try_clone_to_owned()
            .map_err(|e| dup("copy the program fd", e))?;
        sys::prog_attach(map_fd.as_fd(), self.fd(), at, 0)
            .map_err(|e| self.attach_err(&target, e))?;
        Ok(Link::net(
            prog,
            Box::new(NetAttach::ProgAttach {
                target: map_fd,
                attach_type: at,
            }),
            desc,
        ))
    }
}
