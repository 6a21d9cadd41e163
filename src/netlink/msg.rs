//! Netlink message building and parsing (pure: no sockets, no syscalls).
//!
//! A message is an `nlmsghdr` (16 bytes: len, type, flags, seq, pid) and a
//! payload padded to 4 bytes. rtnetlink payloads start with a fixed header
//! (`ifinfomsg`, `tcmsg`) followed by `rtattr` TLVs (`u16 len`, `u16 type`,
//! value, padding to 4), which may nest. Errors and acks come back as
//! `NLMSG_ERROR` carrying `struct nlmsgerr` and, with extended acks, TLVs
//! of which `NLMSGERR_ATTR_MSG` is the kernel's explanation.

use thiserror::Error;

/// `NLMSG_ERROR`: an error or (errno 0) an ack.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: end of a multipart dump.
pub const NLMSG_DONE: u16 = 3;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`: part of a multipart reply.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`: ask for an ack.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_REPLACE` (new requests).
pub const NLM_F_REPLACE: u16 = 0x100;
/// `NLM_F_EXCL` (new requests).
pub const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE` (new requests).
pub const NLM_F_CREATE: u16 = 0x400;
/// `NLM_F_CAPPED` (ack flags): the original request is not echoed in full.
pub const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS` (ack flags): extended-ack TLVs follow.
pub const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG`: the extended ack's text.
pub const NLMSGERR_ATTR_MSG: u16 = 1;
/// `NLA_F_NESTED`: set on nested attributes' type.
pub const NLA_F_NESTED: u16 = 0x8000;

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// Size of `struct rtattr`'s header.
pub const RTA_HDRLEN: usize = 4;

/// What can be wrong with a netlink reply, or what the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NetlinkError {
    /// A header or attribute claims more bytes than there are.
    #[error("netlink {what}: needs {need} bytes, {have} present")]
    Truncated {
        /// The header or attribute being read.
        what: &'static str,
        /// Bytes it needs.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A length field is smaller than its own header.
    #[error("netlink {what}: length {len} is shorter than its header")]
    BadLength {
        /// The header being read.
        what: &'static str,
        /// The length it claims.
        len: usize,
    },
    /// The kernel answered with a negative errno (and, with extended acks,
    /// a message saying why).
    #[error("kernel refused the request: {}{}", errno_text(*.errno), .message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel {
        /// The positive errno.
        errno: i32,
        /// The extended ack message, if any.
        message: Option<String>,
    },
    /// The message is too large for a 32-bit (or 16-bit attribute) length.
    #[error("netlink {what}: {len} bytes do not fit the length field")]
    TooLarge {
        /// The message or attribute.
        what: &'static str,
        /// Its size.
        len: usize,
    },
}

fn errno_text(errno: i32) -> String {
    format!(
        "{} (errno {errno})",
        std::io::Error::from_raw_os_error(errno)
    )
}

/// Round up to the 4-byte netlink alignment.
pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Builds one netlink request.
#[derive(Debug, Clone)]
pub struct MsgBuilder {
    buf: Vec<u8>,
    /// Size of an attribute too large for its u16 length, if any.
    overflow: Option<usize>,
}

impl MsgBuilder {
    /// Start a message of type `ty` with `flags` and sequence number `seq`.
    pub fn new(ty: u16, flags: u16, seq: u32) -> MsgBuilder {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        MsgBuilder {
            buf,
            overflow: None,
        }
    }

    /// Append a fixed header (`ifinfomsg`, `tcmsg`), padded to 4 bytes.
    pub fn header(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self.pad();
        self
    }

    fn pad(&mut self) {
        self.buf.resize(align4(self.buf.len()), 0);
    }

    /// Append attribute `ty` with `value`.
    pub fn attr(&mut self, ty: u16, value: &[u8]) -> &mut Self {
        let len = RTA_HDRLEN + value.len();
        let len16 = u16::try_from(len).unwrap_or_else(|_| {
            self.overflow = Some(len);
            0
        });
        self.buf.extend_from_slice(&len16.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    /// Append a `u32` attribute.
    pub fn attr_u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }

    /// Append a NUL-terminated string attribute.
    pub fn attr_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.attr(ty, &v)
    }

    /// Open a nested attribute; close it with [`MsgBuilder::nest_end`].
    pub fn nest_start(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.attr(ty | NLA_F_NESTED, &[]);
        at
    }

    /// Close the nested attribute opened at `at`.
    pub fn nest_end(&mut self, at: usize) -> &mut Self {
        let n = self.buf.len() - at;
        let len = u16::try_from(n).unwrap_or_else(|_| {
            self.overflow = Some(n);
            0
        });
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// The finished message, with its length filled in.
    pub fn finish(mut self) -> Result<Vec<u8>, NetlinkError> {
        if let Some(len) = self.overflow {
            return Err(NetlinkError::TooLarge {
                what: "attribute",
                len,
            });
        }
        let len = u32::try_from(self.buf.len()).map_err(|_| NetlinkError::TooLarge {
            what: "message",
            len: self.buf.len(),
        })?;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        Ok(self.buf)
    }
}

/// One message of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// `nlmsg_type`.
    pub ty: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// The payload (after the 16-byte header, without trailing padding).
    pub payload: &'a [u8],
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Split a datagram into messages.
pub fn parse_messages(buf: &[u8]) -> Result<Vec<Message<'_>>, NetlinkError> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < buf.len() {
        let rest = &buf[off..];
        if rest.len() < NLMSG_HDRLEN {
            return Err(NetlinkError::Truncated {
                what: "message header",
                need: NLMSG_HDRLEN,
                have: rest.len(),
            });
        }
        let len = u32_at(rest, 0) as usize;
        if len < NLMSG_HDRLEN {
            return Err(NetlinkError::BadLength {
                what: "message header",
                len,
            });
        }
        if len > rest.len() {
            return Err(NetlinkError::Truncated {
                what: "message",
                need: len,
                have: rest.len(),
            });
        }
        out.push(Message {
            ty: u16_at(rest, 4),
            flags: u16_at(rest, 6),
            seq: u32_at(rest, 8),
            payload: &rest[NLMSG_HDRLEN..len],
        });
        off += align4(len).min(rest.len());
    }
    Ok(out)
}

/// One attribute: its type (without `NLA_F_NESTED`) and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The type, nested/byte-order flags masked off.
    pub ty: u16,
    /// The value.
    pub value: &'a [u8],
}

impl Attr<'_> {
    /// The value as a `u32`, if it is at least 4 bytes.
    pub fn u32(&self) -> Option<u32> {
        (self.value.len() >= 4).then(|| u32_at(self.value, 0))
    }
    /// The value as a `u8`.
    pub fn u8(&self) -> Option<u8> {
        self.value.first().copied()
    }
    /// The value as a string (up to its NUL).
    pub fn str(&self) -> String {
        let end = self
            .value
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.value.len());
        String::from_utf8_lossy(&self.value[..end]).into_owned()
    }
}

/// Parse the attributes filling `buf`.
pub fn parse_attrs(buf: &[u8]) -> Result<Vec<Attr<'_>>, NetlinkError> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + RTA_HDRLEN <= buf.len() {
        let len = u16_at(buf, off) as usize;
        let ty = u16_at(buf, off + 2) & 0x3fff;
        if len < RTA_HDRLEN {
            return Err(NetlinkError::BadLength {
                what: "attribute",
                len,
            });
        }
        if off + len > buf.len() {
            return Err(NetlinkError::Truncated {
                what: "attribute",
                need: len,
                have: buf.len() - off,
            });
        }
        out.push(Attr {
            ty,
            value: &buf[off + RTA_HDRLEN..off + len],
        });
        off += align4(len);
    }
    Ok(out)
}

/// The first attribute of type `ty`.
pub fn find_attr<'a>(attrs: &[Attr<'a>], ty: u16) -> Option<Attr<'a>> {
    attrs.iter().copied().find(|a| a.ty == ty)
}

/// Read an `NLMSG_ERROR` payload: `Ok(())` for an ack (errno 0), the typed
/// error (with the extended ack message) otherwise.
pub fn parse_error(msg: &Message<'_>) -> Result<(), NetlinkError> {
    let p = msg.payload;
    if p.len() < 4 {
        return Err(NetlinkError::Truncated {
            what: "nlmsgerr",
            need: 4,
            have: p.len(),
        });
    }
    let err = u32_at(p, 0) as i32;
    if err == 0 {
        return Ok(());
    }
    let mut message = None;
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        // nlmsgerr = error + the request's header (+ its payload unless capped).
        let mut off = 4 + NLMSG_HDRLEN;
        if msg.flags & NLM_F_CAPPED == 0 && p.len() >= off {
            off = 4 + u32_at(p, 4) as usize;
        }
        if let Some(tlvs) = p.get(align4(off)..) {
            if let Ok(attrs) = parse_attrs(tlvs) {
                message = find_attr(&attrs, NLMSGERR_ATTR_MSG).map(|a| a.str());
            }
        }
    }
    Err(NetlinkError::Kernel {
        errno: err.unsigned_abs() as i32,
        message,
    })
}

/// `struct ifinfomsg` (16 bytes).
pub fn ifinfomsg(family: u8, index: i32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0] = family;
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b
}

/// The interface index of an `ifinfomsg` payload.
pub fn ifinfomsg_index(payload: &[u8]) -> Result<i32, NetlinkError> {
    if payload.len() < 16 {
        return Err(NetlinkError::Truncated {
            what: "ifinfomsg",
            need: 16,
            have: payload.len(),
        });
    }
    Ok(u32_at(payload, 4) as i32)
}

/// `struct tcmsg` (20 bytes).
pub fn tcmsg(ifindex: i32, handle: u32, parent: u32, info: u32) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    b[8..12].copy_from_slice(&handle.to_ne_bytes());
    b[12..16].copy_from_slice(&parent.to_ne_bytes());
    b[16..20].copy_from_slice(&info.to_ne_bytes());
    b
}

/// The fields of a `tcmsg` payload: (ifindex, handle, parent, info).
pub fn parse_tcmsg(payload: &[u8]) -> Result<(i32, u32, u32, u32), NetlinkError> {
    if payload.len() < 20 {
        return Err(NetlinkError::Truncated {
            what: "tcmsg",
            need: 20,
            have: payload.len(),
        });
    }
    Ok((
        u32_at(payload, 4) as i32,
        u32_at(payload, 8),
        u32_at(payload, 12),
        u32_at(payload, 16),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse_roundtrip() {
        let mut b = MsgBuilder::new(19, NLM_F_REQUEST | NLM_F_ACK, 7);
        b.header(&ifinfomsg(0, 5));
        let n = b.nest_start(43);
        b.attr_u32(1, 9).attr_u32(3, 2);
        b.nest_end(n);
        b.attr_str(3, "eth0");
        let buf = b.finish().unwrap();
        assert_eq!(buf.len() % 4, 0);
        let msgs = parse_messages(&buf).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!((msgs[0].ty, msgs[0].seq), (19, 7));
        assert_eq!(ifinfomsg_index(msgs[0].payload).unwrap(), 5);
        let attrs = parse_attrs(&msgs[0].payload[16..]).unwrap();
        assert_eq!(attrs.len(), 2);
        let xdp = find_attr(&attrs, 43).unwrap();
        let inner = parse_attrs(xdp.value).unwrap();
        assert_eq!(find_attr(&inner, 1).unwrap().u32(), Some(9));
        assert_eq!(find_attr(&inner, 3).unwrap().u32(), Some(2));
        assert_eq!(find_attr(&attrs, 3).unwrap().str(), "eth0");
    }

    #[test]
    fn truncated_and_bad_lengths_are_typed() {
        assert!(matches!(
            parse_messages(&[1, 2, 3]),
            Err(NetlinkError::Truncated { .. })
        ));
        let mut m = [0u8; 16];
        m[0] = 4;
        assert!(matches!(
            parse_messages(&m),
            Err(NetlinkError::BadLength { len: 4, .. })
        ));
        m[0] = 64;
        assert!(matches!(
            parse_messages(&m),
            Err(NetlinkError::Truncated { need: 64, .. })
        ));
        assert!(matches!(
            parse_attrs(&[2, 0, 1, 0]),
            Err(NetlinkError::BadLength { len: 2, .. })
        ));
        assert!(matches!(
            parse_attrs(&[40, 0, 1, 0, 0, 0, 0, 0]),
            Err(NetlinkError::Truncated { .. })
        ));
        let big = vec![0u8; 70_000];
        let mut b = MsgBuilder::new(1, 0, 0);
        b.attr(1, &big);
        assert!(matches!(
            b.finish(),
            Err(NetlinkError::TooLarge {
                what: "attribute",
                ..
            })
        ));
    }

    #[test]
    fn extended_ack_message_is_read() {
        // NLMSG_ERROR, capped, with TLVs: error -22, echoed header, MSG TLV.
        let mut p = Vec::new();
        p.extend_from_slice(&(-22i32).to_ne_bytes());
        p.extend_from_slice(&[0u8; 16]);
        let text = b"bad fd\0";
        p.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(text);
        let msg = Message {
            ty: NLMSG_ERROR,
            flags: NLM_F_CAPPED | NLM_F_ACK_TLVS,
            seq: 1,
            payload: &p,
        };
        let e = parse_error(&msg).unwrap_err();
        assert_eq!(
            e,
            NetlinkError::Kernel {
                errno: 22,
                message: Some("bad fd".into())
            }
        );
        assert!(e.to_string().contains("bad fd"), "{e}");
        let ack = Message {
            ty: NLMSG_ERROR,
            flags: 0,
            seq: 1,
            payload: &[0u8; 20],
        };
        assert_eq!(parse_error(&ack), Ok(()));
        let short = Message {
            payload: &[0u8; 2],
            ..ack
        };
        assert!(matches!(
            parse_error(&short),
            Err(NetlinkError::Truncated { .. })
        ));
    }

    #[test]
    fn tcmsg_layout() {
        let t = tcmsg(3, 0xffff_0000, 0xffff_fff1, 0x0001_0300);
        assert_eq!(
            parse_tcmsg(&t).unwrap(),
            (3, 0xffff_0000, 0xffff_fff1, 0x0001_0300)
        );
        assert!(parse_tcmsg(&t[..10]).is_err());
    }
}
