//! The loader's error: what failed, for which program or map, and what to do.
//!
//! Every layer keeps its own typed error ([`ParseError`], [`BtfError`],
//! [`CoreError`], [`LinkError`], [`KconfigError`], [`TracefsError`],
//! [`UprobeError`], [`RtnlError`], [`UsdtError`], [`SysError`]);
//! [`enum@Error`] wraps them, adds which program, map or file it was about,
//! and returns the wrapped error from [`std::error::Error::source`].

use crate::btf::BtfError;
pub use crate::netlink::RtnlError;
use crate::obj::ParseError;
use crate::reloc::core::CoreError;
use crate::reloc::kconfig::KconfigError;
use crate::reloc::link::LinkError;
use crate::reloc::struct_ops::StructOpsError;
pub use crate::sys::SysError;
use crate::tracefs::TracefsError;
use crate::uprobe::UprobeError;
use nix::errno::Errno;
use std::path::PathBuf;
use thiserror::Error;

mod attach;
pub use attach::{AttachError, UsdtError};

/// Everything that can go wrong between a path and attached programs.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The object file is not a BPF object tinybpf can read.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Linking subprograms, maps, globals or calls into a program failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A BTF file (target BTF, kernel BTF) could not be parsed.
    #[error("BTF: {what}: {source}")]
    Btf {
        /// Which BTF (usually its path).
        what: String,
        /// Why it could not be parsed.
        source: BtfError,
    },
    /// The running kernel's BTF is missing, or lacks an attach target.
    #[error("BTF: {0}")]
    KernelBtf(#[from] KernelBtfError),
    /// A CO-RE relocation could not be resolved against the target BTF.
    #[error("CO-RE: {0}")]
    Core(#[from] CoreError),
    /// A `.struct_ops*` variable does not fit the kernel's struct.
    #[error(transparent)]
    StructOps(#[from] StructOpsError),
    /// A `.kconfig` extern could not be computed or encoded, or the kernel
    /// config file could not be read.
    #[error("{}{source}", path_prefix(.path))]
    Kconfig {
        /// The kernel config file, when the error is about reading it.
        path: Option<PathBuf>,
        /// What is wrong.
        source: KconfigError,
    },
    /// The kernel's release string holds no version tinybpf can read (for
    /// `LINUX_KERNEL_VERSION` and version-dependent decisions).
    #[error("cannot tell the kernel version from release {release:?}")]
    KernelVersion {
        /// `uname -r`.
        release: String,
    },
    /// A program's section name is not one tinybpf knows how to load.
    #[error("program {program}: section {section:?} is not one tinybpf knows how to load")]
    UnknownSection {
        /// The program.
        program: String,
        /// Its ELF section.
        section: String,
    },
    /// The verifier refused a program. `log` holds the verifier's whole log.
    #[error("program {program}: rejected by the kernel ({errno:?}): {}", summary(.log, *.errno))]
    Verifier {
        /// The program.
        program: String,
        /// What BPF_PROG_LOAD returned.
        errno: Errno,
        /// The verifier's log (possibly empty).
        log: String,
    },
    /// A map could not be created.
    #[error("map {map}: {source}{}", hint(source.errno))]
    Map {
        /// The map.
        map: String,
        /// The failed call.
        source: SysError,
    },
    /// The kernel refused for lack of privileges (EPERM/EACCES where only
    /// privileges explain it, e.g. loading the object's BTF): nothing else
    /// was tried. The message says what to do (root, or which capabilities).
    #[error("{what}: {source}{}", hint(source.errno))]
    Permission {
        /// What was refused.
        what: String,
        /// The failed call.
        source: SysError,
    },
    /// Any other failed system call, with the object it was for.
    #[error("{what}: {source}{}", sys_hint(source))]
    Sys {
        /// What the call was for.
        what: String,
        /// The failed call.
        source: SysError,
    },
    /// A map was used with the wrong key or value size, or the wrong
    /// per-CPU-ness.
    #[error("map {map}: {problem}")]
    MapUsage {
        /// The map.
        map: String,
        /// What was wrong with the call.
        #[source]
        problem: MapUsageError,
    },
    /// A map pinned by name exists at its pin path with a different type,
    /// key or value size, or number of entries: remove the pin, or change
    /// the pin root.
    #[error("map {map}: pinned map at {} has a different definition", .path.display())]
    PinMismatch {
        /// The map.
        map: String,
        /// The pin found.
        path: PathBuf,
    },
    /// The directory a map is pinned in is not (and could not be made) a
    /// directory on a bpf filesystem.
    #[error("map {map}: {source}")]
    Bpffs {
        /// The map.
        map: String,
        /// What is wrong with the directory.
        source: crate::sys::BpffsError,
    },
    /// A program could not be attached.
    #[error("attach {program} to {target}: {reason}")]
    Attach {
        /// The program.
        program: String,
        /// Where it was to go (`"tracepoint syscalls/sys_enter_openat"`, ...).
        target: String,
        /// Why not.
        #[source]
        reason: AttachError,
    },
    /// An attachment made without a BPF link (netlink XDP, a legacy tc
    /// filter, `BPF_PROG_ATTACH`) could not be undone.
    #[error("detach {link}: {reason}")]
    Detach {
        /// The link's description (program and target).
        link: String,
        /// Why not.
        #[source]
        reason: AttachError,
    },
    /// An rtnetlink query (the XDP query, the tc filter list) failed.
    #[error("{what}: {source}")]
    Netlink {
        /// What was asked (`"XDP query of interface 3"`, ...).
        what: String,
        /// The socket call's failure, or the kernel's errno and
        /// extended-ack text.
        source: RtnlError,
    },
    /// tracefs could not be found, mounted or read.
    #[error("tracefs: {0}")]
    Tracefs(#[from] TracefsError),
    /// A program or map name that is not in this object.
    #[error("no {kind} named {name:?} in this object")]
    NotFound {
        /// `"program"` or `"map"`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The caller asked for something this object or handle cannot do
    /// (wrong key or value size, a map that is not memory-mapped, ...); the
    /// message says what and how to fix it.
    #[error("{0}")]
    Invalid(String),
}

/// Shorthand for results whose error is [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the running kernel's BTF lacks.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KernelBtfError {
    /// No kernel BTF file exists.
    #[error("no kernel BTF found (tried {}); the kernel needs CONFIG_DEBUG_INFO_BTF, or pass a BTF file", .tried.join(", "))]
    NotFound {
        /// The paths tried, in order.
        tried: Vec<String>,
    },
    /// A tp_btf/fentry/fexit/fmod_ret/lsm/iter section names no target.
    #[error("program {program}: section names no attach target")]
    NoAttachTarget {
        /// The program.
        program: String,
    },
    /// The attach target is in neither vmlinux nor module BTF.
    #[error("program {program}: attach target {target} ({kind}) not found in kernel BTF")]
    AttachTargetNotFound {
        /// The program.
        program: String,
        /// The BTF name looked up (`btf_trace_<tp>`, `bpf_lsm_<hook>`, ...).
        target: String,
        /// The BTF kind looked for (`"func"`, `"typedef"`).
        kind: &'static str,
    },
}

/// How a map call did not fit the map (inside [`Error::MapUsage`]).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapUsageError {
    /// A typed call's key type has the wrong size.
    #[error("{op}: key type {type_name} is {given} bytes, the map's keys are {expected} bytes")]
    KeyType {
        /// The call (`"get"`, `"set_percpu"`, ...).
        op: &'static str,
        /// The Rust type given.
        type_name: &'static str,
        /// Its size.
        given: usize,
        /// The map's key size.
        expected: u32,
    },
    /// A typed call's value type has the wrong size.
    #[error(
        "{op}: value type {type_name} is {given} bytes, the map's values are {expected} bytes"
    )]
    ValueType {
        /// The call.
        op: &'static str,
        /// The Rust type given.
        type_name: &'static str,
        /// Its size.
        given: usize,
        /// The map's value size.
        expected: u32,
    },
    /// A single-value call on a per-CPU map.
    #[error("{op}: a {map_type} map holds one value per CPU; use get_percpu/set_percpu (or lookup_percpu/update_percpu)")]
    PerCpu {
        /// The call.
        op: &'static str,
        /// The map's type.
        map_type: crate::abi::MapType,
    },
    /// A per-CPU call on a map that is not per-CPU.
    #[error("{op}: a {map_type} map is not per-CPU; use {instead}")]
    NotPerCpu {
        /// The call.
        op: &'static str,
        /// The map's type.
        map_type: crate::abi::MapType,
        /// The calls to use instead.
        instead: &'static str,
    },
    /// A raw key of the wrong length.
    #[error("key is {given} bytes, the map's keys are {expected}")]
    KeyLen {
        /// The length given.
        given: usize,
        /// The map's key size.
        expected: u32,
    },
    /// A raw value of the wrong length.
    #[error("value is {given} bytes, expected {expected}")]
    ValueLen {
        /// The length given.
        given: usize,
        /// The length user space reads and writes for this map.
        expected: usize,
    },
    /// One CPU's raw value of a per-CPU update has the wrong length.
    #[error("update_percpu: the value for CPU {cpu} is {given} bytes, the map's values are {expected} bytes")]
    PerCpuValueLen {
        /// The CPU (index into the values given).
        cpu: usize,
        /// The length given.
        given: usize,
        /// The map's value size.
        expected: usize,
    },
    /// A per-CPU update without exactly one value per possible CPU.
    #[error("{given} values given, one per possible CPU needed ({cpus})")]
    PerCpuCount {
        /// The number of values given.
        given: usize,
        /// The number of possible CPUs.
        cpus: usize,
    },
    /// The kernel returned a per-CPU value shorter than asked for.
    #[error("{op}: short per-CPU value buffer")]
    ShortPerCpu {
        /// The call.
        op: &'static str,
    },
}

impl From<KconfigError> for Error {
    fn from(source: KconfigError) -> Error {
        Error::Kconfig { path: None, source }
    }
}

fn path_prefix(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!("{}: ", p.display()),
        None => String::new(),
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
            Error::Attach { reason, .. } | Error::Detach { reason, .. } => reason.errno(),
            Error::Netlink { source, .. } => source.errno().map(Errno::from_raw),
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

    #[test]
    fn sources_are_typed_and_messages_unchanged() {
        use std::error::Error as _;
        let e = Error::from(KconfigError("CONFIG_X: bad".into()));
        assert_eq!(e.to_string(), "CONFIG_X: bad");
        assert!(e.source().unwrap().downcast_ref::<KconfigError>().is_some());
        let e = Error::Kconfig {
            path: Some("/boot/config".into()),
            source: KconfigError("truncated".into()),
        };
        assert_eq!(e.to_string(), "/boot/config: truncated");

        let e = Error::Attach {
            program: "p".into(),
            target: "kprobe f+0".into(),
            reason: AttachError::NoPmu {
                what: "kprobe support",
                config: "CONFIG_KPROBES",
                source: SysError::new("read PMU", Errno::ENOENT),
            },
        };
        let msg = e.to_string();
        assert!(
            msg.starts_with("attach p to kprobe f+0: this kernel has no kprobe support ("),
            "{msg}"
        );
        assert!(msg.ends_with("); it needs CONFIG_KPROBES"), "{msg}");
        assert_eq!(e.errno(), Some(Errno::ENOENT));
        assert!(matches!(
            e.source().unwrap().downcast_ref::<AttachError>(),
            Some(AttachError::NoPmu { .. })
        ));

        let e = Error::from(KernelBtfError::NotFound {
            tried: vec!["/a".into(), "/b".into()],
        });
        assert_eq!(
            e.to_string(),
            "BTF: no kernel BTF found (tried /a, /b); the kernel needs CONFIG_DEBUG_INFO_BTF, or pass a BTF file"
        );
        assert!(e.source().unwrap().is::<KernelBtfError>());
        assert_eq!(e.errno(), None);
    }

    #[test]
    fn typed_attach_errors_keep_their_source_and_say_why() {
        use crate::netlink::msg::NetlinkError;
        use std::error::Error as _;
        let rtnl = RtnlError::Netlink(NetlinkError::Kernel {
            errno: libc::ENODEV,
            message: Some("Cannot find device".into()),
        });
        let e = Error::Attach {
            program: "p".into(),
            target: "tc Ingress on interface 9".into(),
            reason: AttachError::Netlink {
                step: "add clsact qdisc",
                source: rtnl.clone(),
            },
        };
        assert_eq!(
            e.to_string(),
            format!("attach p to tc Ingress on interface 9: add clsact qdisc: {rtnl}")
        );
        assert!(e.to_string().contains("(Cannot find device)"), "{e}");
        assert_eq!(e.errno(), Some(Errno::ENODEV));
        let reason = e.source().unwrap();
        assert_eq!(reason.source().unwrap().downcast_ref(), Some(&rtnl));

        let sys = SysError::new("BPF_LINK_CREATE", Errno::EINVAL);
        let e = AttachError::Sys {
            step: Some("step"),
            source: sys,
            hint: Some("tcx needs Linux 6.6+"),
        };
        assert_eq!(e.to_string(), format!("step: {sys} (tcx needs Linux 6.6+)"));
        assert_eq!(e.source().unwrap().downcast_ref(), Some(&sys));
        assert_eq!(AttachError::from(sys).to_string(), sys.to_string());
        assert_eq!(e.errno(), Some(Errno::EINVAL));

        let io = || std::io::Error::from_raw_os_error(libc::ENOENT);
        let e = AttachError::io_step("open the cgroup directory", io());
        assert_eq!(
            e.to_string(),
            format!("open the cgroup directory: {}", io())
        );
        assert!(e.source().unwrap().is::<std::io::Error>());
        assert_eq!(e.errno(), Some(Errno::ENOENT));

        assert_eq!(
            AttachError::NotGiven("an interface (--iface)").to_string(),
            "an interface (--iface) not given"
        );
        assert_eq!(
            AttachError::WrongSection {
                section: "tp/x".into(),
                why: "is not an iterator",
            }
            .to_string(),
            "section \"tp/x\" is not an iterator"
        );
        assert_eq!(
            AttachError::NoMatch {
                what: "traceable kernel function".into(),
                pattern: "nope_*".into(),
            }
            .to_string(),
            "no traceable kernel function matches \"nope_*\""
        );
        assert_eq!(
            AttachError::CookieCount {
                cookies: 1,
                targets: 2,
                of: "functions",
                fix: "give one per symbol",
            }
            .to_string(),
            "1 cookies for 2 functions: give one per symbol"
        );
        let e = AttachError::from(UsdtError::NoProbe {
            path: "/bin/x".into(),
            probe: "p:n".into(),
        });
        assert_eq!(
            e.to_string(),
            "/bin/x has no USDT probe p:n (see its .note.stapsdt: readelf -n)"
        );
        assert!(matches!(&e, AttachError::Usdt(u) if matches!(**u, UsdtError::NoProbe { .. })));

        let e = Error::Detach {
            link: "p → XDP".into(),
            reason: AttachError::Netlink {
                step: "IFLA_XDP detach",
                source: rtnl.clone(),
            },
        };
        assert_eq!(
            e.to_string(),
            format!("detach p → XDP: IFLA_XDP detach: {rtnl}")
        );
        assert_eq!(e.errno(), Some(Errno::ENODEV));
        let e = Error::Netlink {
            what: "XDP query of interface 9".into(),
            source: rtnl.clone(),
        };
        assert_eq!(e.to_string(), format!("XDP query of interface 9: {rtnl}"));
        assert_eq!(e.source().unwrap().downcast_ref(), Some(&rtnl));
        assert_eq!(e.errno(), Some(Errno::ENODEV));
    }

    #[test]
    fn error_stays_small() {
        // Every Result carries it: clippy's result_large_err limit is 128.
        assert!(std::mem::size_of::<Error>() <= 128);
    }
}
