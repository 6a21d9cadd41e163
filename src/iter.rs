//! BPF iterators (`SEC("iter/task")`, `iter/bpf_map`, `iter/bpf_map_elem`,
//! `iter/tcp`, ...): attach with [`Program::attach_iter`] to get a [`Link`],
//! then read one pass of the program's seq_file output with
//! [`Link::iter_read`] / [`Link::iter_open`], or pin the link on bpffs and
//! read the pin like a file (each `open` of the pin is a new pass).
//!
//! Iterator programs are `BPF_PROG_TYPE_TRACING` with expected attach type
//! `BPF_TRACE_ITER`; the kernel target (`bpf_iter_<name>`) is fixed at load
//! time, so they need no trampoline. Attaching is `BPF_LINK_CREATE` with the
//! optional `union bpf_iter_link_info` ([`IterOpts`]: the map of a map
//! element iterator, the task or process of a task iterator, the cgroup of a
//! cgroup iterator); each pass is `BPF_ITER_CREATE` on the link, whose fd is
//! read until end of file.

use crate::error::AttachError;
use crate::error::{Error, Result};
use crate::link::{Link, LinkFd};
use crate::obj::section::attach_type;
use crate::obj::AttachTarget;
use crate::program::Program;
use crate::sys;
use crate::sys::bpf_attr::IterLinkInfo;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// `enum bpf_cgroup_iter_order`: how a cgroup iterator walks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u32)]
pub enum CgroupIterOrder {
    /// The kernel's default (`BPF_CGROUP_ITER_ORDER_UNSPEC`): pre-order.
    #[default]
    Unspec = 0,
    /// Only the given cgroup (`BPF_CGROUP_ITER_SELF_ONLY`).
    SelfOnly = 1,
    /// Descendants, parents first (`BPF_CGROUP_ITER_DESCENDANTS_PRE`).
    DescendantsPre = 2,
    /// Descendants, children first (`BPF_CGROUP_ITER_DESCENDANTS_POST`).
    DescendantsPost = 3,
    /// The cgroup and its ancestors, up to the root (`BPF_CGROUP_ITER_ANCESTORS_UP`).
    AncestorsUp = 4,
}

/// What an iterator walks, beyond its kind (`union bpf_iter_link_info`).
/// The default walks everything the iterator kind covers.
#[derive(Clone, Copy, Debug, Default)]
pub enum IterOpts<'a> {
    /// No parameters: every task, every map, every socket, ...
    #[default]
    All,
    /// The map whose elements `iter/bpf_map_elem` (or `iter/bpf_sk_storage_map`,
    /// `iter/sockmap`) walks.
    Map(BorrowedFd<'a>),
    /// One thread of a task iterator (`task.tid`).
    Thread(u32),
    /// The threads of one process (`task.pid`).
    Process(u32),
    /// The threads of the process behind a pidfd (`task.pid_fd`).
    ProcessFd(BorrowedFd<'a>),
    /// A cgroup iterator starting at the cgroup open at `fd`.
    CgroupFd {
        /// A cgroup directory opened read-only.
        fd: BorrowedFd<'a>,
        /// How to walk from there.
        order: CgroupIterOrder,
    },
    /// A cgroup iterator starting at the cgroup with this id (0: the root).
    CgroupId {
        /// The cgroup id (the inode number of its directory on cgroup v2).
        id: u64,
        /// How to walk from there.
        order: CgroupIterOrder,
    },
}

impl<'a> IterOpts<'a> {
    /// The map's elements (for `iter/bpf_map_elem` and friends).
    pub fn map(map: &'a crate::map::Map) -> IterOpts<'a> {
        IterOpts::Map(map.fd())
    }

    /// The raw `union bpf_iter_link_info`, or `None` for [`IterOpts::All`].
    fn link_info(&self) -> Option<IterLinkInfo> {
        let fd = |f: &BorrowedFd<'_>| f.as_raw_fd() as u32;
        let mut info = IterLinkInfo::default();
        match self {
            IterOpts::All => return None,
            IterOpts::Map(f) => info.word0 = fd(f),
            IterOpts::Thread(tid) => info.word0 = *tid,
            IterOpts::Process(pid) => info.word1 = *pid,
            IterOpts::ProcessFd(f) => info.word2 = fd(f),
            IterOpts::CgroupFd { fd: f, order } => {
                info.word0 = *order as u32;
                info.word1 = fd(f);
            }
            IterOpts::CgroupId { id, order } => {
                info.word0 = *order as u32;
                info.word2 = *id as u32;
                info.word3 = (*id >> 32) as u32;
            }
        }
        Some(info)
    }

    fn describe(&self) -> String {
        match self {
            IterOpts::All => String::new(),
            IterOpts::Map(f) => format!(" (map fd {})", f.as_raw_fd()),
            IterOpts::Thread(t) => format!(" (thread {t})"),
            IterOpts::Process(p) => format!(" (process {p})"),
            IterOpts::ProcessFd(f) => format!(" (pidfd {})", f.as_raw_fd()),
            IterOpts::CgroupFd { fd, order } => {
                format!(" (cgroup fd {}, {order:?})", fd.as_raw_fd())
            }
            IterOpts::CgroupId { id, order } => format!(" (cgroup id {id}, {order:?})"),
        }
    }
}

impl Program {
    /// Whether this is an iterator program (`SEC("iter/...")`).
    pub fn is_iter(&self) -> bool {
        self.kind.expected_attach_type == attach_type::TRACE_ITER
    }

    /// Attach an iterator program (`BPF_LINK_CREATE` with `BPF_TRACE_ITER`).
    /// The link does nothing by itself: each [`Link::iter_read`] (or each
    /// `open` of the link pinned on bpffs) runs one pass.
    pub fn attach_iter(&self, opts: &IterOpts<'_>) -> Result<Link> {
        let kind = match &self.kind.target {
            AttachTarget::Btf { name } => name.clone(),
            _ => String::new(),
        };
        if !self.is_iter() {
            return Err(Error::Attach {
                program: self.name.clone(),
                target: format!("an iterator{}", opts.describe()),
                reason: AttachError::WrongSection {
                    section: self.section.clone(),
                    why: "is not an iterator: iterators are SEC(\"iter/<kind>\") programs",
                },
            });
        }
        let target = format!("iterator {kind}{}", opts.describe());
        let info = opts.link_info().map(|i| i.bytes());
        let extra = match &info {
            Some(b) => sys::LinkCreateExtra::Iter { info: b },
            None => sys::LinkCreateExtra::None,
        };
        let fd = sys::link_create(
            self.fd(),
            sys::LinkTarget::None,
            attach_type::TRACE_ITER,
            0,
            extra,
        )
        .map_err(|e| {
            let hint = match e.errno {
                nix::errno::Errno::EINVAL if matches!(opts, IterOpts::All) => {
                    Some("hint: map element iterators need IterOpts::Map")
                }
                nix::errno::Errno::EINVAL => {
                    Some("hint: this iterator kind may not take these parameters")
                }
                _ => None,
            };
            self.attach_err(&target, AttachError::sys_hint(e, hint))
        })?;
        log::debug!("attached {} as {target}", self.name);
        Ok(Link::bpf(fd, None, format!("{} → {target}", self.name)))
    }
}

/// One pass of an iterator: read it like a file until end of file.
#[derive(Debug)]
pub struct IterReader {
    file: File,
    desc: String,
}

impl IterReader {
    /// Everything this pass prints, as bytes.
    pub fn read_all(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.file
            .read_to_end(&mut out)
            .map_err(|source| Error::Io {
                path: format!("iterator {}", self.desc).into(),
                source,
            })?;
        Ok(out)
    }
}

impl Read for IterReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

impl AsFd for IterReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for IterReader {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl Link {
    /// Start one pass of an iterator link (`BPF_ITER_CREATE`).
    pub fn iter_open(&self) -> Result<IterReader> {
        let link = match &self.fd {
            LinkFd::Bpf { link, .. } => link,
            LinkFd::PerfIoctl { .. } | LinkFd::Net { .. } | LinkFd::StructOpsMap { .. } => {
                return Err(Error::Invalid(format!(
                    "link {} is not a BPF link, so not an iterator",
                    self.desc
                )))
            }
        };
        let fd: OwnedFd = sys::iter_create(link.as_fd()).map_err(|e| {
            let why = if e.errno == nix::errno::Errno::EINVAL {
                " (hint: only links made by Program::attach_iter can be read)"
            } else {
                ""
            };
            Error::sys(format!("iterator {}{why}", self.desc), e)
        })?;
        Ok(IterReader {
            file: File::from(fd),
            desc: self.desc.clone(),
        })
    }

    /// Run one pass of an iterator link and return all it printed.
    pub fn iter_read(&self) -> Result<Vec<u8>> {
        self.iter_open()?.read_all()
    }

    /// [`Link::iter_read`] as text (invalid UTF-8 is replaced).
    pub fn iter_read_string(&self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.iter_read()?).into_owned())
    }
}
