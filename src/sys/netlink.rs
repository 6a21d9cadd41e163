//! rtnetlink sockets (`socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)`), the
//! interface-name lookup, and `SO_ATTACH_BPF`. Messages are built and parsed
//! by the pure `crate::netlink::msg`; only the syscalls are here.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{last_errno, SysError, SysResult};

/// `SOL_NETLINK`.
const SOL_NETLINK: libc::c_int = 270;
/// `NETLINK_CAP_ACK`: errors do not echo the whole request.
const NETLINK_CAP_ACK: libc::c_int = 10;
/// `NETLINK_EXT_ACK`: errors carry the kernel's explanation.
const NETLINK_EXT_ACK: libc::c_int = 11;

/// A bound `NETLINK_ROUTE` socket (in the calling thread's network namespace).
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
}

fn setsockopt_int(fd: &OwnedFd, level: libc::c_int, opt: libc::c_int, v: libc::c_int) -> bool {
    // SAFETY: `v` lives across the call; its size is passed.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

impl NetlinkSocket {
    /// Open and bind a route socket, asking for capped, extended acks
    /// (kernels without them still work: the options are best effort).
    pub fn route() -> SysResult<NetlinkSocket> {
        // SAFETY: plain socket(2); the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(SysError::new("socket(AF_NETLINK)", last_errno()));
        }
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        setsockopt_int(&fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
        setsockopt_int(&fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
        // SAFETY: sockaddr_nl is plain data; zero is a valid value.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `sa` is a valid sockaddr_nl of the size passed.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(SysError::new("bind(AF_NETLINK)", last_errno()));
        }
        Ok(NetlinkSocket { fd })
    }

    /// Send one message to the kernel.
    pub fn send(&self, msg: &[u8]) -> SysResult<()> {
        // SAFETY: sockaddr_nl is plain data; zero (pid 0) is the kernel.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: `msg` and `sa` are valid for the lengths passed.
            let n = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    (&sa as *const libc::sockaddr_nl).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let e = last_errno();
            if e != nix::errno::Errno::EINTR {
                return Err(SysError::new("sendto(AF_NETLINK)", e));
            }
        }
    }

    /// Receive one datagram into `buf` (grown to fit it); returns its length.
    pub fn recv(&self, buf: &mut Vec<u8>) -> SysResult<usize> {
        loop {
            // MSG_PEEK|MSG_TRUNC: the datagram's full size, so `buf` can grow.
            // SAFETY: a null buffer of length 0 is valid with MSG_TRUNC.
            let need = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    std::ptr::null_mut(),
                    0,
                    libc::MSG_PEEK | libc::MSG_TRUNC,
                )
            };
            if need < 0 {
                let e = last_errno();
                if e == nix::errno::Errno::EINTR {
                    continue;
                }
                return Err(SysError::new("recv(AF_NETLINK)", e));
            }
            if buf.len() < need as usize {
                buf.resize(need as usize, 0);
            }
            // SAFETY: `buf` is writable for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = last_errno();
            if e != nix::errno::Errno::EINTR {
                return Err(SysError::new("recv(AF_NETLINK)", e));
            }
        }
    }
}

/// The index of interface `name` in the calling thread's network namespace.
pub fn if_nametoindex(name: &str) -> SysResult<u32> {
    let c = CString::new(name)
        .map_err(|_| SysError::new("if_nametoindex: NUL in name", nix::errno::Errno::EINVAL))?;
    // SAFETY: `c` is a valid C string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(SysError::new("if_nametoindex", last_errno()));
    }
    Ok(i)
}

/// Attach socket filter `prog` to socket `sock` (`SO_ATTACH_BPF`).
pub fn so_attach_bpf(sock: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> SysResult<()> {
    let v: libc::c_int = prog.as_raw_fd();
    // SAFETY: `v` lives across the call; its size is passed.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_BPF,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(SysError::new("setsockopt(SO_ATTACH_BPF)", last_errno()));
    }
    Ok(())
}

/// Remove the socket filter of `sock` (`SO_DETACH_BPF`).
pub fn so_detach_bpf(sock: BorrowedFd<'_>) -> SysResult<()> {
    let v: libc::c_int = 0;
    // SAFETY: as in `so_attach_bpf`.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_DETACH_BPF,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(SysError::new("setsockopt(SO_DETACH_BPF)", last_errno()));
    }
    Ok(())
}
