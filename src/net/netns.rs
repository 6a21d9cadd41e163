//! Programs attached to a network namespace (`sk_lookup`,
//! `flow_dissector`) through BPF links on the namespace's fd.

use crate::error::{AttachError, Result};
use crate::link::Link;
use crate::program::Program;
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};

impl Program {
    /// Attach this `sk_lookup` or `flow_dissector` program to the network
    /// namespace `netns` (an fd of `/proc/PID/ns/net` or `/run/netns/NAME`).
    /// Dropping the link detaches.
    pub fn attach_netns(&self, netns: impl AsFd) -> Result<Link> {
        let target = "network namespace".to_string();
        let fd = sys::link_create(
            self.fd(),
            sys::LinkTarget::Fd(netns.as_fd()),
            self.kind().expected_attach_type,
            0,
            sys::LinkCreateExtra::None,
        )
        .map_err(|e| self.attach_err(&target, e))?;
        Ok(Link::bpf(fd, None, format!("{} → {target}", self.name())))
    }

    /// [`Program::attach_netns`] on the calling thread's network namespace.
    pub fn attach_netns_current(&self) -> Result<Link> {
        let ns: OwnedFd = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(|e| {
                self.attach_err(
                    "network namespace",
                    AttachError::io_step("open /proc/thread-self/ns/net", e),
                )
            })?
            .into();
        self.attach_netns(ns)
    }
}
