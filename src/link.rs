//! Links: an attached program. Dropping a link detaches it.

use crate::error::{AttachError, Error, Result};
use crate::sys;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// How a program is attached.
#[derive(Debug)]
pub(crate) enum LinkFd {
    /// A BPF link (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN); the perf event
    /// it was created on, if any, is kept open alongside.
    Bpf {
        link: OwnedFd,
        /// The perf event the link was made on, kept open as long as the link.
        #[allow(dead_code)]
        perf: Option<OwnedFd>,
    },
    /// A perf event with the program set by ioctl (kernels without perf links).
    PerfIoctl { perf: OwnedFd },
    /// Attached over netlink or BPF_PROG_ATTACH (see `crate::net`); `prog`
    /// is a copy of the program's fd; `attach` knows how to undo it.
    Net {
        prog: OwnedFd,
        attach: Box<dyn Detach>,
        /// Set once detached (by `force_detach`), so drop does not repeat it.
        detached: std::sync::atomic::AtomicBool,
    },
    /// A struct_ops map registered by its update (no BPF link): a copy of
    /// the map's fd; deleting its element unregisters it.
    StructOpsMap { map: sys::MapFd },
}

/// An attachment made without a BPF link, undone when its [`Link`] is
/// dropped or force-detached. Implemented where such attachments are made
/// (`crate::net`), so this file needs none of their machinery.
pub(crate) trait Detach: std::fmt::Debug + Send + Sync {
    /// Undo the attachment of program `prog`; the error is the reason.
    fn detach(&self, prog: &OwnedFd) -> std::result::Result<(), AttachError>;
}

/// An attached program: a BPF link, or a perf event carrying the program on
/// kernels without perf links. Dropping it detaches the program, unless it
/// was pinned ([`Link::pin`]; [`Link::from_pin`] takes it back).
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let obj = tinybpf::OpenObject::open("bpf/hello.bpf.o")?.load()?;
/// let link = obj.program("handle_tp").ok_or("no program")?.attach()?;
/// println!("{}", link.description()); // handle_tp → tracepoint syscalls/sys_enter_execve
/// if let Some(info) = link.info()? {
///     println!("link id {}", info.id);
/// }
/// drop(link); // detached
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Link {
    pub(crate) fd: LinkFd,
    /// Program name and what it is attached to, for messages.
    pub(crate) desc: String,
}

/// What the kernel says about a link.
use crate::sys::LinkInfo;

impl Link {
    /// An attachment made without a BPF link (see `crate::net`).
    pub(crate) fn net(prog: OwnedFd, attach: Box<dyn Detach>, desc: String) -> Link {
        Link {
            fd: LinkFd::Net {
                prog,
                attach,
                detached: std::sync::atomic::AtomicBool::new(false),
            },
            desc,
        }
    }

    pub(crate) fn bpf(link: OwnedFd, perf: Option<OwnedFd>, desc: String) -> Link {
        Link {
            fd: LinkFd::Bpf { link, perf },
            desc,
        }
    }

    /// Open a link pinned on bpffs.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Link> {
        let path = path.as_ref();
        let fd = sys::obj_get(path)
            .map_err(|e| Error::sys(format!("open pinned link {}", path.display()), e))?;
        Ok(Link::bpf(fd, None, path.display().to_string()))
    }

    /// What this link attaches (program and target).
    pub fn description(&self) -> &str {
        &self.desc
    }

    /// The link's fd (the perf event's, for ioctl-attached programs).
    pub fn fd(&self) -> BorrowedFd<'_> {
        match &self.fd {
            LinkFd::Bpf { link, .. } => link.as_fd(),
            LinkFd::PerfIoctl { perf } => perf.as_fd(),
            LinkFd::Net { prog, .. } => prog.as_fd(),
            LinkFd::StructOpsMap { map } => map.as_fd(),
        }
    }

    /// BPF_OBJ_GET_INFO_BY_FD on the link (`None` for ioctl-attached programs).
    pub fn info(&self) -> Result<Option<LinkInfo>> {
        match &self.fd {
            LinkFd::Bpf { link, .. } => {
                Ok(Some(sys::link_info(link.as_fd()).map_err(|e| {
                    Error::sys(format!("link {}", self.desc), e)
                })?))
            }
            LinkFd::PerfIoctl { .. } | LinkFd::Net { .. } | LinkFd::StructOpsMap { .. } => Ok(None),
        }
    }

    /// Pin the link on bpffs: the program stays attached after this process exits.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        match &self.fd {
            LinkFd::Bpf { link, .. } => sys::obj_pin(link.as_fd(), path).map_err(|e| {
                Error::sys(format!("pin link {} at {}", self.desc, path.display()), e)
            }),
            LinkFd::PerfIoctl { .. } => Err(Error::Invalid(format!(
                "link {} is a perf event attached by ioctl and cannot be pinned",
                self.desc
            ))),
            LinkFd::Net { .. } | LinkFd::StructOpsMap { .. } => Err(Error::Invalid(format!(
                "link {} was attached without a BPF link (old kernel) and cannot be pinned",
                self.desc
            ))),
        }
    }

    /// Detach now, even if the link is pinned or shared (BPF_LINK_DETACH).
    pub fn force_detach(&self) -> Result<()> {
        match &self.fd {
            LinkFd::Bpf { link, .. } => sys::link_detach(link.as_fd())
                .map_err(|e| Error::sys(format!("detach {}", self.desc), e)),
            LinkFd::PerfIoctl { perf } => sys::perf_event_ioc_disable(perf.as_fd())
                .map_err(|e| Error::sys(format!("disable {}", self.desc), e)),
            LinkFd::Net {
                prog,
                attach,
                detached,
            } => {
                if detached.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    return Ok(());
                }
                attach.detach(prog).map_err(|reason| Error::Detach {
                    link: self.desc.clone(),
                    reason,
                })
            }
            LinkFd::StructOpsMap { map } => map
                .delete(&0u32.to_le_bytes())
                .map(|_| ())
                .map_err(|e| Error::sys(format!("unregister {}", self.desc), e)),
        }
    }

    /// Detach by closing the link (what dropping it does).
    pub fn detach(self) {
        drop(self)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        match &self.fd {
            LinkFd::PerfIoctl { perf } => {
                let _ = sys::perf_event_ioc_disable(perf.as_fd());
            }
            LinkFd::Net {
                prog,
                attach,
                detached,
            } => {
                if detached.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                if let Err(r) = attach.detach(prog) {
                    log::warn!("detaching {}: {r}", self.desc);
                }
            }
            LinkFd::StructOpsMap { map } => {
                // ENOENT: already unregistered by force_detach.
                let _ = map.delete(&0u32.to_le_bytes());
            }
            LinkFd::Bpf { .. } => {}
        }
        log::debug!("detaching {}", self.desc);
    }
}

/// Write struct_ops map `name`'s value with its programs' fds, then
/// register it: BPF_LINK_CREATE for `.struct_ops.link` maps (`BPF_F_LINK`),
/// the update itself for `.struct_ops` ones (the link deletes the element
/// when dropped).
/// `prog_fd` gives the fd of a loaded program by name.
pub(crate) fn attach_struct_ops(
    map: &crate::map::Map,
    name: &str,
    prog_fd: &dyn Fn(&str) -> Option<std::os::fd::RawFd>,
) -> Result<Link> {
    let layout = map.struct_ops().ok_or_else(|| {
        Error::Invalid(format!(
            "map {name} is not a struct_ops map (a SEC(\".struct_ops\") or SEC(\".struct_ops.link\") variable)"
        ))
    })?;
    let target = format!("struct_ops {name}");
    let err = |reason: AttachError| Error::Attach {
        program: name.to_string(),
        target: target.clone(),
        reason,
    };
    let mut value = layout.value.clone();
    for p in &layout.progs {
        let fd = prog_fd(&p.program).ok_or_else(|| {
            Error::Invalid(format!(
                "struct_ops map {name}: member {} needs program {}, which was not loaded (autoload off?)",
                p.member, p.program
            ))
        })? as u64;
        let at = p.offset as usize;
        value
            .get_mut(at..at + 8)
            .ok_or_else(|| Error::Invalid(format!("struct_ops map {name}: slot past the value")))?
            .copy_from_slice(&fd.to_le_bytes());
    }
    let link = map.map_flags() & crate::obj::BPF_F_LINK != 0;
    map.map_fd()
        .update(&0u32.to_le_bytes(), &value, 0)
        .map_err(|e| err(e.into()))?;
    let desc = format!(
        "{name} → struct_ops {} ({} programs)",
        layout.type_name,
        layout.progs.len()
    );
    if link {
        let fd = sys::link_create(
            map.fd(),
            sys::LinkTarget::None,
            crate::abi::attach_type::STRUCT_OPS,
            0,
            sys::LinkCreateExtra::None,
        )
        .map_err(|e| err(e.into()))?;
        log::debug!("struct_ops map {name} registered through a link");
        Ok(Link::bpf(fd, None, desc))
    } else {
        // Registered by the update: from here on, the link unregisters it.
        let unreg = |e: sys::SysError| {
            let _ = map.map_fd().delete(&0u32.to_le_bytes());
            err(e.into())
        };
        let dup = map
            .fd()
            .try_clone_to_owned()
            .map_err(|e| unreg(sys::SysError::from_io("F_DUPFD_CLOEXEC", &e)))?;
        let mfd = sys::MapFd::new(dup).map_err(unreg)?;
        log::debug!("struct_ops map {name} registered by its update");
        Ok(Link {
            fd: LinkFd::StructOpsMap { map: mfd },
            desc,
        })
    }
}
