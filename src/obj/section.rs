//! Section names → program type, expected attach type and attach target, the
//! way libbpf's `SEC()` conventions define them.

// The UAPI constants live in `abi`; these paths stay for existing users.
pub use crate::abi::{attach_type, prog_type};

/// Where a kprobe or uprobe fires: at the function's entry, or when it
/// returns (kretprobe/uretprobe).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// At the probed address (`kprobe/`, `uprobe/`).
    #[default]
    Entry,
    /// When the probed function returns (`kretprobe/`, `uretprobe/`).
    Return,
}

impl ProbeKind {
    /// Whether this is a return probe.
    pub fn is_return(self) -> bool {
        self == ProbeKind::Return
    }
    /// `"kprobe"` or `"kretprobe"`.
    pub fn kprobe_name(self) -> &'static str {
        match self {
            ProbeKind::Entry => "kprobe",
            ProbeKind::Return => "kretprobe",
        }
    }
    /// `"uprobe"` or `"uretprobe"`.
    pub fn uprobe_name(self) -> &'static str {
        match self {
            ProbeKind::Entry => "uprobe",
            ProbeKind::Return => "uretprobe",
        }
    }
}

/// How a program attaches, decided by its section name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachTarget {
    /// `tracepoint/<category>/<name>` or `tp/<category>/<name>`.
    Tracepoint {
        /// The tracefs events directory (`syscalls`, `sched`, ...).
        category: String,
        /// The event (`sys_enter_execve`, ...).
        name: String,
    },
    /// `raw_tracepoint/<name>`, `raw_tp/<name>` (and the writable variants).
    RawTracepoint {
        /// The tracepoint.
        name: String,
    },
    /// `tp_btf/`, `fentry/`, `fexit/`, `fmod_ret/`, `lsm/`, `iter/`: a BTF function
    /// (or tracepoint, or iterator) in vmlinux or a module.
    Btf {
        /// The function, tracepoint or iterator name after the `/`.
        name: String,
    },
    /// `kprobe/<func>[+off]`, `kretprobe/<func>`.
    Kprobe {
        /// The kernel function.
        func: String,
        /// Bytes past the function's start.
        offset: u64,
        /// Entry or return probe.
        kind: ProbeKind,
    },
    /// `uprobe/<path>:<symbol>[+off]`, `uretprobe/...`.
    Uprobe {
        /// The binary: a path, or a library name.
        path: String,
        /// The symbol (empty: `offset` is a file offset).
        symbol: String,
        /// Bytes past the symbol (or the file offset).
        offset: u64,
        /// Entry or return probe.
        kind: ProbeKind,
    },
    /// `uprobe.multi/<path>:<pattern>`, `uretprobe.multi/...`: every function
    /// of the binary whose name matches the glob (`*`, `?`).
    UprobeMulti {
        /// Binary or library (a path, or a name found through ld.so.cache).
        path: String,
        /// Glob over its symbol names.
        pattern: String,
        /// A uretprobe.
        ret: bool,
    },
    /// `kprobe.multi/<pattern>`, `kretprobe.multi/<pattern>`: every
    /// traceable kernel function whose name matches the glob.
    KprobeMulti {
        /// Glob over kernel function names.
        pattern: String,
        /// A kretprobe.
        ret: bool,
    },
    /// A perf event chosen by user space (`perf_event`).
    PerfEvent,
    /// Not auto-attachable: the section says what the program is, not where
    /// it goes (xdp, tc, socket, cgroup, a bare `kprobe`/`uprobe`, ...).
    None,
}

/// What a section name means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgKind {
    /// `enum bpf_prog_type` (see [`crate::abi::ProgType`]).
    pub prog_type: u32,
    /// `enum bpf_attach_type` given to BPF_PROG_LOAD (see
    /// [`crate::abi::AttachType`]); 0 for types that need none.
    pub expected_attach_type: u32,
    /// Where it attaches automatically, if anywhere.
    pub target: AttachTarget,
    /// Sleepable (`.s` variants): BPF_F_SLEEPABLE.
    pub sleepable: bool,
    /// `xdp.frags`: BPF_F_XDP_HAS_FRAGS.
    pub xdp_frags: bool,
}

impl ProgKind {
    fn new(prog_type: u32, expected_attach_type: u32, target: AttachTarget) -> ProgKind {
        ProgKind {
            prog_type,
            expected_attach_type,
            target,
            sleepable: false,
            xdp_frags: false,
        }
    }
}

fn split_func_off(s: &str) -> (String, u64) {
    match s.rsplit_once('+') {
        Some((f, off)) => match parse_u64(off) {
            Some(o) => (f.to_string(), o),
            None => (s.to_string(), 0),
        },
        None => (s.to_string(), 0),
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    crate::util::number::parse_unsigned(s, false)
}

fn uprobe_target(rest: &str, kind: ProbeKind) -> AttachTarget {
    // PATH:SYMBOL[+off]; PATH may itself not contain ':'.
    match rest.rsplit_once(':') {
        Some((path, sym)) if !path.is_empty() => {
            let (symbol, offset) = match parse_u64(sym) {
                Some(o) => (String::new(), o),
                None => split_func_off(sym),
            };
            AttachTarget::Uprobe {
                path: path.to_string(),
                symbol,
                offset,
                kind,
            }
        }
        _ => AttachTarget::None,
    }
}

/// Decode a program section name. `None` when the name is not one we know.
pub fn prog_kind(section: &str) -> Option<ProgKind> {
    use attach_type as at;
    use prog_type as pt;
    let (head, rest) = match section.split_once('/') {
        Some((h, r)) => (h, Some(r)),
        None => (section, None),
    };
    let rest_s = rest.unwrap_or("");
    let btf = |t: u32, a: u32| {
        ProgKind::new(
            t,
            a,
            AttachTarget::Btf {
                name: rest_s.to_string(),
            },
        )
    };
    let plain = |t: u32, a: u32| ProgKind::new(t, a, AttachTarget::None);
    let kind = match head {
        "tracepoint" | "tp" => {
            let (category, name) = rest?.split_once('/')?;
            ProgKind::new(
                pt::TRACEPOINT,
                0,
                AttachTarget::Tracepoint {
                    category: category.into(),
                    name: name.into(),
                },
            )
        }
        "raw_tracepoint" | "raw_tp" => ProgKind::new(
            pt::RAW_TRACEPOINT,
            0,
            match rest {
                Some(n) if !n.is_empty() => AttachTarget::RawTracepoint { name: n.into() },
                _ => AttachTarget::None,
            },
        ),
        "raw_tracepoint.w" | "raw_tp.w" => ProgKind::new(
            pt::RAW_TRACEPOINT_WRITABLE,
            0,
            match rest {
                Some(n) if !n.is_empty() => AttachTarget::RawTracepoint { name: n.into() },
                _ => AttachTarget::None,
            },
        ),
        "tp_btf" => btf(pt::TRACING, at::TRACE_RAW_TP),
        "fentry" | "fentry.s" => btf(pt::TRACING, at::TRACE_FENTRY),
        "fexit" | "fexit.s" => btf(pt::TRACING, at::TRACE_FEXIT),
        "fmod_ret" | "fmod_ret.s" => btf(pt::TRACING, at::MODIFY_RETURN),
        "lsm" | "lsm.s" => btf(pt::LSM, at::LSM_MAC),
        "iter" | "iter.s" => btf(pt::TRACING, at::TRACE_ITER),
        "kprobe" | "kretprobe" => {
            let kind = if head == "kretprobe" {
                ProbeKind::Return
            } else {
                ProbeKind::Entry
            };
            let target = match rest {
                Some(r) if !r.is_empty() => {
                    let (func, offset) = split_func_off(r);
                    AttachTarget::Kprobe { func, offset, kind }
                }
                _ => AttachTarget::None,
            };
            ProgKind::new(pt::KPROBE, 0, target)
        }
        "ksyscall" | "kretsyscall" => plain(pt::KPROBE, 0),
        "uprobe" | "uretprobe" | "uprobe.s" | "uretprobe.s" => {
            let kind = if head.starts_with("uret") {
                ProbeKind::Return
            } else {
                ProbeKind::Entry
            };
            let target = match rest {
                Some(r) => uprobe_target(r, kind),
                None => AttachTarget::None,
            };
            ProgKind::new(pt::KPROBE, 0, target)
        }
        "uprobe.multi" | "uretprobe.multi" | "uprobe.multi.s" | "uretprobe.multi.s" => {
            let ret = head.starts_with("uret");
            let target = match rest.and_then(|r| r.rsplit_once(':')) {
                Some((path, pattern)) if !path.is_empty() && !pattern.is_empty() => {
                    AttachTarget::UprobeMulti {
                        path: path.into(),
                        pattern: pattern.into(),
                        ret,
                    }
                }
                _ => AttachTarget::None,
            };
            ProgKind::new(pt::KPROBE, at::TRACE_UPROBE_MULTI, target)
        }
        "kprobe.multi" | "kretprobe.multi" => {
            let target = match rest {
                Some(p) if !p.is_empty() => AttachTarget::KprobeMulti {
                    pattern: p.into(),
                    ret: head == "kretprobe.multi",
                },
                _ => AttachTarget::None,
            };
            ProgKind::new(pt::KPROBE, at::TRACE_KPROBE_MULTI, target)
        }
        "usdt" => plain(pt::KPROBE, 0),
        "socket" => plain(pt::SOCKET_FILTER, 0),
        "xdp" | "xdp.frags" if rest.is_none() => {
            let mut k = plain(pt::XDP, at::XDP);
            k.xdp_frags = head == "xdp.frags";
            k
        }
        "xdp" | "xdp.frags" => match rest_s {
            "devmap" | "cpumap" => plain(
                pt::XDP,
                if rest_s == "devmap" {
                    at::XDP_DEVMAP
                } else {
                    at::XDP_CPUMAP
                },
            ),
            _ => plain(pt::XDP, at::XDP),
        },
        "tc" | "classifier" | "tcx" => plain(pt::SCHED_CLS, 0),
        "action" => plain(pt::SCHED_ACT, 0),
        "perf_event" => ProgKind::new(pt::PERF_EVENT, 0, AttachTarget::PerfEvent),
        "syscall" => plain(pt::SYSCALL, 0),
        "sk_lookup" => plain(pt::SK_LOOKUP, at::SK_LOOKUP),
        "netfilter" => plain(pt::NETFILTER, at::NETFILTER),
        "flow_dissector" => plain(pt::FLOW_DISSECTOR, at::FLOW_DISSECTOR),
        "sockops" => plain(pt::SOCK_OPS, at::CGROUP_SOCK_OPS),
        "sk_skb" => match rest_s {
            "stream_parser" => plain(pt::SK_SKB, at::SK_SKB_STREAM_PARSER),
            "stream_verdict" => plain(pt::SK_SKB, at::SK_SKB_STREAM_VERDICT),
            _ => plain(pt::SK_SKB, at::SK_SKB_VERDICT),
        },
        "sk_msg" => plain(pt::SK_MSG, at::SK_MSG_VERDICT),
        "struct_ops" | "struct_ops.s" => plain(pt::STRUCT_OPS, 0),
        "freplace" => btf(pt::EXT, 0),
        "cgroup_skb" => match rest_s {
            "egress" => plain(pt::CGROUP_SKB, at::CGROUP_INET_EGRESS),
            _ => plain(pt::CGROUP_SKB, at::CGROUP_INET_INGRESS),
        },
        "cgroup" => {
            let (t, a) = match rest_s {
                "skb" => (pt::CGROUP_SKB, at::CGROUP_INET_INGRESS),
                "sock" | "sock_create" => (pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_CREATE),
                "sock_release" => (pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_RELEASE),
                "post_bind4" => (pt::CGROUP_SOCK, at::CGROUP_INET4_POST_BIND),
                "post_bind6" => (pt::CGROUP_SOCK, at::CGROUP_INET6_POST_BIND),
                "dev" => (pt::CGROUP_DEVICE, at::CGROUP_DEVICE),
                "bind4" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_BIND),
                "bind6" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_BIND),
                "connect4" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_CONNECT),
                "connect6" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_CONNECT),
                "sendmsg4" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP4_SENDMSG),
                "sendmsg6" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP6_SENDMSG),
                "recvmsg4" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP4_RECVMSG),
                "recvmsg6" => (pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP6_RECVMSG),
                "sysctl" => (pt::CGROUP_SYSCTL, at::CGROUP_SYSCTL),
                "getsockopt" => (pt::CGROUP_SOCKOPT, at::CGROUP_GETSOCKOPT),
                "setsockopt" => (pt::CGROUP_SOCKOPT, at::CGROUP_SETSOCKOPT),
                _ => return None,
            };
            plain(t, a)
        }
        _ => return None,
    };
    let mut kind = kind;
    // Syscall programs are always sleepable (the kernel refuses others).
    kind.sleepable = head.ends_with(".s") || kind.prog_type == pt::SYSCALL;
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracepoints() {
        let k = prog_kind("tp/syscalls/sys_enter_execve").unwrap();
        assert_eq!(k.prog_type, prog_type::TRACEPOINT);
        assert_eq!(
            k.target,
            AttachTarget::Tracepoint {
                category: "syscalls".into(),
                name: "sys_enter_execve".into()
            }
        );
        assert!(prog_kind("tracepoint/syscalls").is_none());
    }

    #[test]
    fn probes() {
        let k = prog_kind("uprobe/usr/bin/bash:readline+4").unwrap();
        assert_eq!(
            k.target,
            AttachTarget::Uprobe {
                path: "usr/bin/bash".into(),
                symbol: "readline".into(),
                offset: 4,
                kind: ProbeKind::Entry
            }
        );
        let k = prog_kind("kretprobe/do_unlinkat").unwrap();
        assert_eq!(
            k.target,
            AttachTarget::Kprobe {
                func: "do_unlinkat".into(),
                offset: 0,
                kind: ProbeKind::Return
            }
        );
        assert_eq!(prog_kind("uprobe").unwrap().target, AttachTarget::None);
    }

    #[test]
    fn multi_probes() {
        let k = prog_kind("uretprobe.multi.s//usr/lib/libc.so.6:getp*id").unwrap();
        assert_eq!(k.expected_attach_type, attach_type::TRACE_UPROBE_MULTI);
        assert_eq!(k.prog_type, prog_type::KPROBE);
        assert!(k.sleepable);
        assert_eq!(
            k.target,
            AttachTarget::UprobeMulti {
                path: "/usr/lib/libc.so.6".into(),
                pattern: "getp*id".into(),
                ret: true
            }
        );
        assert_eq!(
            prog_kind("uprobe.multi").unwrap().target,
            AttachTarget::None
        );
        assert_eq!(
            prog_kind("uprobe.multi/libc.so.6").unwrap().target,
            AttachTarget::None
        );
        let k = prog_kind("kprobe.multi/vfs_*").unwrap();
        assert_eq!(k.expected_attach_type, attach_type::TRACE_KPROBE_MULTI);
        assert_eq!(
            k.target,
            AttachTarget::KprobeMulti {
                pattern: "vfs_*".into(),
                ret: false
            }
        );
        assert!(matches!(
            prog_kind("kretprobe.multi/x").unwrap().target,
            AttachTarget::KprobeMulti { ret: true, .. }
        ));
        assert!(!prog_kind("kprobe.multi/x").unwrap().sleepable);
    }

    #[test]
    fn others() {
        assert_eq!(
            prog_kind("xdp").unwrap().expected_attach_type,
            attach_type::XDP
        );
        assert!(prog_kind("xdp.frags").unwrap().xdp_frags);
        assert!(prog_kind("fentry.s/foo").unwrap().sleepable);
        assert!(prog_kind("syscall").unwrap().sleepable);
        assert_eq!(
            prog_kind("fexit/foo").unwrap().expected_attach_type,
            attach_type::TRACE_FEXIT
        );
        assert_eq!(
            prog_kind("socket").unwrap().prog_type,
            prog_type::SOCKET_FILTER
        );
        assert_eq!(
            prog_kind("classifier").unwrap().prog_type,
            prog_type::SCHED_CLS
        );
        assert!(prog_kind("bogus/thing").is_none());
    }
}
