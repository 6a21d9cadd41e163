//! Socket filters: `SO_ATTACH_BPF`.

use crate::error::{Error, Result};
use crate::program::Program;
use crate::sys;
use std::os::fd::AsFd;

impl Program {
    /// Attach this `socket` program as the filter of `sock`
    /// (`SO_ATTACH_BPF`). The filter lives as long as the socket (or until
    /// [`detach_socket`]).
    pub fn attach_socket(&self, sock: impl AsFd) -> Result<()> {
        sys::so_attach_bpf(sock.as_fd(), self.fd())
            .map_err(|e| Error::sys(format!("program {} as socket filter", self.name()), e))
    }
}

/// Remove the BPF filter of `sock` (`SO_DETACH_BPF`).
pub fn detach_socket(sock: impl AsFd) -> Result<()> {
    sys::so_detach_bpf(sock.as_fd()).map_err(|e| Error::sys("socket filter", e))
}
