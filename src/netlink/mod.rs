//! The crate's small rtnetlink client: [`msg`] builds and parses messages
//! (pure), [`Rtnl`] sends requests and reads acks and dumps over a
//! `NETLINK_ROUTE` socket from `sys`. Used for XDP without links (`IFLA_XDP`),
//! the XDP query, and legacy tc (`clsact` + `cls_bpf`).

pub mod msg;

use crate::sys::{NetlinkSocket, SysError};
use msg::{
    MsgBuilder, NetlinkError, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use std::sync::atomic::{AtomicU32, Ordering};
use thiserror::Error;

/// A failed rtnetlink exchange.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtnlError {
    /// The socket call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The kernel refused, or the reply was malformed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
}

impl RtnlError {
    /// The kernel's errno, if the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            RtnlError::Netlink(NetlinkError::Kernel { errno, .. }) => Some(*errno),
            RtnlError::Sys(e) => Some(e.raw_errno()),
            _ => None,
        }
    }
}

/// A route netlink socket bound in the network namespace of the thread that
/// opened it (it keeps talking to that namespace).
#[derive(Debug)]
pub struct Rtnl {
    sock: NetlinkSocket,
    seq: AtomicU32,
}

impl Rtnl {
    /// Open a socket in the calling thread's network namespace.
    pub fn open() -> Result<Rtnl, RtnlError> {
        Ok(Rtnl {
            sock: NetlinkSocket::route()?,
            seq: AtomicU32::new(0),
        })
    }

    fn next_seq(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    /// Send request `ty` (with `NLM_F_REQUEST | NLM_F_ACK | flags`), built by
    /// `build`, and wait for its ack.
    pub fn request(
        &self,
        ty: u16,
        flags: u16,
        build: impl FnOnce(&mut MsgBuilder),
    ) -> Result<(), RtnlError> {
        let seq = self.next_seq();
        let mut b = MsgBuilder::new(ty, NLM_F_REQUEST | NLM_F_ACK | flags, seq);
        build(&mut b);
        self.sock.send(&b.finish()?)?;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = self.sock.recv(&mut buf)?;
            for m in msg::parse_messages(&buf[..n])? {
                if m.seq == seq && m.ty == NLMSG_ERROR {
                    return Ok(msg::parse_error(&m)?);
                }
            }
        }
    }

    /// Send request `ty` (a get; `dump` adds `NLM_F_DUMP`) and collect the
    /// payloads of every reply message (with their type).
    pub fn get(
        &self,
        ty: u16,
        dump: bool,
        build: impl FnOnce(&mut MsgBuilder),
    ) -> Result<Vec<(u16, Vec<u8>)>, RtnlError> {
        let seq = self.next_seq();
        let flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { 0 };
        let mut b = MsgBuilder::new(ty, flags, seq);
        build(&mut b);
        self.sock.send(&b.finish()?)?;
        let mut buf = vec![0u8; 16 * 1024];
        let mut out = Vec::new();
        loop {
            let n = self.sock.recv(&mut buf)?;
            for m in msg::parse_messages(&buf[..n])? {
                if m.seq != seq {
                    continue;
                }
                match m.ty {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        msg::parse_error(&m)?;
                        return Ok(out);
                    }
                    _ => {
                        out.push((m.ty, m.payload.to_vec()));
                        if !dump {
                            return Ok(out);
                        }
                    }
                }
            }
        }
    }
}
