#![allow(missing_docs)] // TODO(api-errors): documented by the api-errors rewrite; the lead removes this after merging.
//! The loader's error: what failed, for which program or map, and what to do.

use crate::obj::ParseError;
use crate::reloc::link::LinkError;
use crate::sys::SysError;
use nix::errno::Errno;
use thiserror::Error;

/// Everything that can go wrong between a path and attached programs.
#[derive(Debug, Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("BTF: {0}")]
    Btf(String),
    #[error("CO-RE: {0}")]
    Core(String),
    #[error("program {program}: section {section:?} is not one tinybpf knows how to load")]
    UnknownSection { program: String, section: String },
    /// The verifier refused a program. `log` holds the verifier's whole log.
    #[error("program {program}: rejected by the kernel ({errno:?}): {}", summary(.log, *.errno))]
    Verifier {
        program: String,
        errno: Errno,
        log: String,
    },
    /// A map could not be created.
    #[error("map {map}: {source}{}", hint(source.errno))]
    Map { map: String, source: SysError },
    /// The kernel refused for lack of privileges (EPERM/EACCES where only
    /// privileges explain it, e.g. loading the object's BTF): nothing else
    /// was tried. The message says what to do (root, or which capabilities).
    #[error("{what}: {source}{}", hint(source.errno))]
    Permission { what: String, source: SysError },
    /// Any other failed system call, with the object it was for.
    #[error("{what}: {source}{}", sys_hint(source))]
    Sys { what: String, source: SysError },
    #[error("attach {program} to {target}: {reason}")]
    Attach {
        program: String,
        target: String,
        reason: String,
    },
    #[error("tracefs: {0}")]
    Tracefs(String),
    #[error("no {kind} named {name:?} in this object")]
    NotFound { kind: &'static str, name: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::reloc::core::CoreError> for Error {
    fn from(e: crate::reloc::core::CoreError) -> Error {
        Error::Core(e.to_string())
    }
}

impl From<crate::reloc::kconfig::KconfigError> for Error {
    fn from(e: crate::reloc::kconfig::KconfigError) -> Error {
        Error::Invalid(e.0)
    }
}

impl Error {
    pub(crate) fn sys(what: impl Into<String>, source: SysError) -> Error {
        Error::Sys {
            what: what.into(),
            source,
        }
    }
    /// The errno behind this error, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Verifier { errno, .. } => Some(*errno),
            Error::Map { source, .. }
            | Error::Sys { source, .. }
            | Error::Permission { source, .. } => Some(source.errno),
            Error::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
            _ => None,
        }
    }
    /// The verifier log, for a rejected program.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            Error::Verifier { log, .. } => Some(log),
            _ => None,
        }
    }
}

/// A hint for errnos whose usual cause is the environment, not the object.
pub(crate) fn hint(errno: Errno) -> &'static str {
    match errno {
        Errno::EPERM | Errno::EACCES => {
            if nix::unistd::geteuid().is_root() {
                " (hint: root, but the kernel said no: CAP_BPF/CAP_PERFMON or CAP_SYS_ADMIN may be dropped, lockdown may be active, or RLIMIT_MEMLOCK is too low on a kernel before 5.11)"
            } else {
                " (hint: loading BPF needs root, or CAP_BPF plus CAP_PERFMON: run it as root, e.g. with sudo)"
            }
        }
        Errno::E2BIG => " (hint: a size or count exceeds what this kernel accepts)",
        Errno::EINVAL => " (hint: this kernel may not support the map type, flags or program type)",
        _ => "",
    }
}

/// [`hint`], except where the message already says more: a test run's
/// EINVAL is about its input, not the kernel's support.
fn sys_hint(source: &SysError) -> &'static str {
    if source.call == "BPF_PROG_TEST_RUN" && source.errno == Errno::EINVAL {
        ""
    } else {
        hint(source.errno)
    }
}

/// The last meaningful line of a verifier log (skipping statistics lines).
pub fn log_summary(log: &str) -> Option<&str> {
    log.lines().rev().map(str::trim).find(|l| {
        !l.is_empty()
            && !l.starts_with("processed ")
            && !l.starts_with("verification time")
            && !l.starts_with("stack depth")
            && !l.starts_with("-- END PROG LOAD LOG --")
    })
}

/// The instruction the verifier was at when it gave up: the index of the
/// last `N: (op) ...` line of the log.
pub fn log_failing_insn(log: &str) -> Option<usize> {
    log.lines().rev().find_map(|l| {
        let (n, rest) = l.split_once(": (")?;
        let _ = rest;
        n.trim().parse().ok()
    })
}

fn summary(log: &str, errno: Errno) -> String {
    match (log_summary(log), log_failing_insn(log)) {
        (Some(l), Some(i)) => format!("at instruction {i}: {l}"),
        (Some(l), None) => l.to_string(),
        (None, _) => format!("refused without a verifier log{}", hint(errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_summary() {
        let log = "0: R1=ctx() R10=fp0\n6: (85) call bpf_map_lookup_elem#1 ; R0=map_value_or_null\n7: (79) r1 = *(u64 *)(r0 +0)\nR0 invalid mem access 'map_value_or_null'\nprocessed 7 insns (limit 1000000)\n";
        assert_eq!(log_failing_insn(log), Some(7));
        assert_eq!(
            log_summary(log),
            Some("R0 invalid mem access 'map_value_or_null'")
        );
        assert_eq!(
            summary(log, Errno::EACCES),
            "at instruction 7: R0 invalid mem access 'map_value_or_null'"
        );
        assert!(summary("", Errno::EPERM).starts_with("refused without a verifier log"));
    }
}
