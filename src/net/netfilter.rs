//! Netfilter hooks through BPF links (`BPF_NETFILTER`, 6.4+), in the
//! network namespace of the calling thread.

use crate::error::{AttachError, Result};
use crate::link::Link;
use crate::obj::section::attach_type;
use crate::program::Program;
use crate::sys;

/// `BPF_F_NETFILTER_IP_DEFRAG`.
const BPF_F_NETFILTER_IP_DEFRAG: u32 = 1;

/// Protocol family of a netfilter hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NfProto {
    /// `NFPROTO_IPV4`.
    Ipv4,
    /// `NFPROTO_IPV6`.
    Ipv6,
}

/// The netfilter hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NfHook {
    /// `NF_INET_PRE_ROUTING`.
    PreRouting,
    /// `NF_INET_LOCAL_IN`.
    LocalIn,
    /// `NF_INET_FORWARD`.
    Forward,
    /// `NF_INET_LOCAL_OUT`.
    LocalOut,
    /// `NF_INET_POST_ROUTING`.
    PostRouting,
}

/// Where a netfilter program goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetfilterHook {
    /// Protocol family.
    pub pf: NfProto,
    /// Hook point.
    pub hook: NfHook,
    /// Priority among the hook's functions (not `INT_MIN`/`INT_MAX`).
    pub priority: i32,
    /// Reassemble fragments first (`BPF_F_NETFILTER_IP_DEFRAG`).
    pub defrag: bool,
}

impl Program {
    /// Attach this `netfilter` program to `hook` in the calling thread's
    /// network namespace. Dropping the link detaches.
    pub fn attach_netfilter(&self, hook: NetfilterHook) -> Result<Link> {
        let target = format!(
            "netfilter {:?} {:?} priority {}",
            hook.pf, hook.hook, hook.priority
        );
        let pf = match hook.pf {
            NfProto::Ipv4 => 2,
            NfProto::Ipv6 => 10,
        };
        let hooknum = match hook.hook {
            NfHook::PreRouting => 0,
            NfHook::LocalIn => 1,
            NfHook::Forward => 2,
            NfHook::LocalOut => 3,
            NfHook::PostRouting => 4,
        };
        let fd = sys::link_create(
            self.fd(),
            sys::LinkTarget::None,
            attach_type::NETFILTER,
            0,
            sys::LinkCreateExtra::Netfilter {
                pf,
                hooknum,
                priority: hook.priority,
                flags: if hook.defrag {
                    BPF_F_NETFILTER_IP_DEFRAG
                } else {
                    0
                },
            },
        )
        .map_err(|e| {
            let hint = (e.errno == nix::errno::Errno::EINVAL)
                .then_some("netfilter links need Linux 6.4+ with CONFIG_NETFILTER_BPF_LINK");
            self.attach_err(&target, AttachError::sys_hint(e, hint))
        })?;
        Ok(Link::bpf(fd, None, format!("{} → {target}", self.name())))
    }
}
