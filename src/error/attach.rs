//! Why an attach failed ([`AttachError`], inside [`Error::Attach`](super::Error::Attach)), and
//! why USDT probes could not be read or attached ([`UsdtError`]).

use super::{SysError, TracefsError, UprobeError};
use crate::netlink::RtnlError;
use nix::errno::Errno;
use std::path::PathBuf;
use thiserror::Error;

/// Why a program could not be attached (inside [`Error::Attach`](super::Error::Attach)), or an
/// attachment made without a BPF link not undone (inside [`Error::Detach`](super::Error::Detach)).
/// Failures of typed calls keep them as their source.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AttachError {
    /// A system call failed (perf_event_open, BPF_LINK_CREATE, ...).
    #[error("{}{source}{}", step_prefix(*.step), hint_suffix(*.hint))]
    Sys {
        /// The step it was for, when the call alone does not say
        /// (`"copy the program fd"`, ...).
        step: Option<&'static str>,
        /// The failed call.
        source: SysError,
        /// What usually explains this errno here (`"tcx needs Linux 6.6+"`).
        hint: Option<&'static str>,
    },
    /// The tracepoint's id could not be read from tracefs (boxed: it is
    /// large, and errors travel in every `Result`).
    #[error(transparent)]
    Tracefs(Box<TracefsError>),
    /// The uprobe's binary or symbol could not be resolved (boxed).
    #[error(transparent)]
    Uprobe(Box<UprobeError>),
    /// The USDT probes could not be read, or do not fit the object (boxed).
    #[error(transparent)]
    Usdt(Box<UsdtError>),
    /// A file could not be opened or read (the uprobe's binary, the cgroup
    /// directory, ...).
    #[error("{}{source}", step_prefix(*.step))]
    Io {
        /// The step, when the error alone does not say
        /// (`"open the cgroup directory"`).
        step: Option<&'static str>,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The kernel lacks the probe PMU this attach needs.
    #[error("this kernel has no {what} ({source}); it needs {config}")]
    NoPmu {
        /// `"kprobe support"` or `"uprobe PMU"`.
        what: &'static str,
        /// The kernel option that provides it.
        config: &'static str,
        /// Reading the PMU's sysfs files failed.
        source: SysError,
    },
    /// This program cannot be attached this way; the message says why.
    #[error("{0}")]
    NotPossible(&'static str),
    /// An rtnetlink request (XDP without links, legacy tc) failed.
    #[error("{step}: {source}")]
    Netlink {
        /// The request (`"add clsact qdisc"`, `"IFLA_XDP"`, ...).
        step: &'static str,
        /// The socket call's failure, or the kernel's errno and
        /// extended-ack text.
        source: RtnlError,
    },
    /// Something this attach needs was not given (an interface, a cgroup,
    /// a pattern).
    #[error("{0} not given")]
    NotGiven(&'static str),
    /// The program's section is not one this attach takes.
    #[error("section {section:?} {why}")]
    WrongSection {
        /// The program's section.
        section: String,
        /// What is wrong and what to use (`"is not an iterator: ..."`).
        why: &'static str,
    },
    /// A pattern matched no function.
    #[error("no {what} matches {pattern:?}")]
    NoMatch {
        /// What was searched (`"traceable kernel function"`, `"function
        /// of /usr/lib/libc.so.6"`).
        what: String,
        /// The pattern.
        pattern: String,
    },
    /// BPF cookies were given, but not one per target.
    #[error("{cookies} cookies for {targets} {of}: {fix}")]
    CookieCount {
        /// Cookies given.
        cookies: usize,
        /// Targets (functions, offsets).
        targets: usize,
        /// What the targets are (`"functions"`, `"offsets"`).
        of: &'static str,
        /// What to do.
        fix: &'static str,
    },
}

fn step_prefix(step: Option<&'static str>) -> String {
    step.map(|s| format!("{s}: ")).unwrap_or_default()
}

fn hint_suffix(hint: Option<&'static str>) -> String {
    hint.map(|h| format!(" ({h})")).unwrap_or_default()
}

/// Why USDT probes could not be read, or attached (inside
/// [`AttachError::Usdt`]; re-exported as `usdt::UsdtError`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UsdtError {
    /// The binary could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Not a (64-bit, x86-64) ELF file, or malformed headers.
    #[error("not a readable x86-64 ELF file: {0}")]
    Elf(String),
    /// A malformed `.note.stapsdt`.
    #[error(".note.stapsdt: {0}")]
    Note(String),
    /// An argument spec this loader cannot read.
    #[error("probe {probe}: arguments {spec:?}: {reason}")]
    Arg {
        /// `provider:name`.
        probe: String,
        /// The whole argument string.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// The binary has no such probe.
    #[error("{} has no USDT probe {probe} (see its .note.stapsdt: readelf -n)", .path.display())]
    NoProbe {
        /// The binary.
        path: PathBuf,
        /// `provider:name`.
        probe: String,
    },
    /// The object's spec map does not hold `struct __bpf_usdt_spec` values.
    #[error(
        "map {map} has {value_size}-byte values, not the {expected} of struct __bpf_usdt_spec"
    )]
    SpecSize {
        /// The map.
        map: String,
        /// Its value size.
        value_size: u32,
        /// `sizeof(struct __bpf_usdt_spec)`.
        expected: usize,
    },
    /// The object's spec map has no free spec id left.
    #[error("map {map} is full ({capacity} specs): raise BPF_USDT_MAX_SPEC_CNT")]
    SpecsFull {
        /// The map.
        map: String,
        /// Its entries.
        capacity: u32,
    },
}

impl From<TracefsError> for AttachError {
    fn from(e: TracefsError) -> AttachError {
        AttachError::Tracefs(Box::new(e))
    }
}

impl From<UprobeError> for AttachError {
    fn from(e: UprobeError) -> AttachError {
        AttachError::Uprobe(Box::new(e))
    }
}

impl From<UsdtError> for AttachError {
    fn from(e: UsdtError) -> AttachError {
        AttachError::Usdt(Box::new(e))
    }
}

impl From<SysError> for AttachError {
    fn from(source: SysError) -> AttachError {
        AttachError::Sys {
            step: None,
            source,
            hint: None,
        }
    }
}

impl From<std::io::Error> for AttachError {
    fn from(source: std::io::Error) -> AttachError {
        AttachError::Io { step: None, source }
    }
}

impl AttachError {
    /// A failed system call with a hint (`None`: no hint).
    pub(crate) fn sys_hint(source: SysError, hint: Option<&'static str>) -> AttachError {
        AttachError::Sys {
            step: None,
            source,
            hint,
        }
    }
    /// A failed file operation at a named step.
    pub(crate) fn io_step(step: &'static str, source: std::io::Error) -> AttachError {
        AttachError::Io {
            step: Some(step),
            source,
        }
    }
    /// The errno behind this error, if a system call (or netlink request)
    /// failed.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            AttachError::Sys { source: e, .. } | AttachError::NoPmu { source: e, .. } => {
                Some(e.errno)
            }
            AttachError::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
            AttachError::Netlink { source, .. } => source.errno().map(Errno::from_raw),
            AttachError::Usdt(e) => match &**e {
                UsdtError::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
                _ => None,
            },
            _ => None,
        }
    }
}
