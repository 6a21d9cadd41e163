//! Section names → program type, expected attach type and attach target, the
//! way libbpf's `SEC()` conventions define them.

/// `enum bpf_prog_type` values used here.
pub mod prog_type {
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    pub const SOCKET_FILTER: u32 = 1;
    /// `BPF_PROG_TYPE_KPROBE`.
    pub const KPROBE: u32 = 2;
    /// `BPF_PROG_TYPE_SCHED_CLS`.
    pub const SCHED_CLS: u32 = 3;
    /// `BPF_PROG_TYPE_SCHED_ACT`.
    pub const SCHED_ACT: u32 = 4;
    /// `BPF_PROG_TYPE_TRACEPOINT`.
    pub const TRACEPOINT: u32 = 5;
    /// `BPF_PROG_TYPE_XDP`.
    pub const XDP: u32 = 6;
    /// `BPF_PROG_TYPE_PERF_EVENT`.
    pub const PERF_EVENT: u32 = 7;
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    pub const CGROUP_SKB: u32 = 8;
    /// `BPF_PROG_TYPE_CGROUP_SOCK`.
    pub const CGROUP_SOCK: u32 = 9;
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    pub const SOCK_OPS: u32 = 13;
    /// `BPF_PROG_TYPE_SK_SKB`.
    pub const SK_SKB: u32 = 14;
    /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
    pub const CGROUP_DEVICE: u32 = 15;
    /// `BPF_PROG_TYPE_SK_MSG`.
    pub const SK_MSG: u32 = 16;
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    pub const RAW_TRACEPOINT: u32 = 17;
    /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
    pub const CGROUP_SOCK_ADDR: u32 = 18;
    /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
    pub const FLOW_DISSECTOR: u32 = 22;
    /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
    pub const CGROUP_SYSCTL: u32 = 23;
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`.
    pub const RAW_TRACEPOINT_WRITABLE: u32 = 24;
    /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
    pub const CGROUP_SOCKOPT: u32 = 25;
    /// `BPF_PROG_TYPE_TRACING`.
    pub const TRACING: u32 = 26;
    /// `BPF_PROG_TYPE_STRUCT_OPS`.
    pub const STRUCT_OPS: u32 = 27;
    /// `BPF_PROG_TYPE_EXT`.
    pub const EXT: u32 = 28;
    /// `BPF_PROG_TYPE_LSM`.
    pub const LSM: u32 = 29;
    /// `BPF_PROG_TYPE_SK_LOOKUP`.
    pub const SK_LOOKUP: u32 = 30;
    /// `BPF_PROG_TYPE_SYSCALL`.
    pub const SYSCALL: u32 = 31;
    /// `BPF_PROG_TYPE_NETFILTER`.
    pub const NETFILTER: u32 = 32;
}

/// `enum bpf_attach_type` values used here.
pub mod attach_type {
    /// `BPF_CGROUP_INET_INGRESS`.
    pub const CGROUP_INET_INGRESS: u32 = 0;
    /// `BPF_CGROUP_INET_EGRESS`.
    pub const CGROUP_INET_EGRESS: u32 = 1;
    /// `BPF_CGROUP_INET_SOCK_CREATE`.
    pub const CGROUP_INET_SOCK_CREATE: u32 = 2;
    /// `BPF_CGROUP_SOCK_OPS`.
    pub const CGROUP_SOCK_OPS: u32 = 3;
    /// `BPF_SK_SKB_STREAM_PARSER`.
    pub const SK_SKB_STREAM_PARSER: u32 = 4;
    /// `BPF_SK_SKB_STREAM_VERDICT`.
    pub const SK_SKB_STREAM_VERDICT: u32 = 5;
    /// `BPF_CGROUP_DEVICE`.
    pub const CGROUP_DEVICE: u32 = 6;
    /// `BPF_SK_MSG_VERDICT`.
    pub const SK_MSG_VERDICT: u32 = 7;
    /// `BPF_CGROUP_INET4_BIND`.
    pub const CGROUP_INET4_BIND: u32 = 8;
    /// `BPF_CGROUP_INET6_BIND`.
    pub const CGROUP_INET6_BIND: u32 = 9;
    /// `BPF_CGROUP_INET4_CONNECT`.
    pub const CGROUP_INET4_CONNECT: u32 = 10;
    /// `BPF_CGROUP_INET6_CONNECT`.
    pub const CGROUP_INET6_CONNECT: u32 = 11;
    /// `BPF_CGROUP_INET4_POST_BIND`.
    pub const CGROUP_INET4_POST_BIND: u32 = 12;
    /// `BPF_CGROUP_INET6_POST_BIND`.
    pub const CGROUP_INET6_POST_BIND: u32 = 13;
    /// `BPF_CGROUP_UDP4_SENDMSG`.
    pub const CGROUP_UDP4_SENDMSG: u32 = 14;
    /// `BPF_CGROUP_UDP6_SENDMSG`.
    pub const CGROUP_UDP6_SENDMSG: u32 = 15;
    /// `BPF_FLOW_DISSECTOR`.
    pub const FLOW_DISSECTOR: u32 = 17;
    /// `BPF_CGROUP_SYSCTL`.
    pub const CGROUP_SYSCTL: u32 = 18;
    /// `BPF_CGROUP_UDP4_RECVMSG`.
    pub const CGROUP_UDP4_RECVMSG: u32 = 19;
    /// `BPF_CGROUP_UDP6_RECVMSG`.
    pub const CGROUP_UDP6_RECVMSG: u32 = 20;
    /// `BPF_CGROUP_GETSOCKOPT`.
    pub const CGROUP_GETSOCKOPT: u32 = 21;
    /// `BPF_CGROUP_SETSOCKOPT`.
    pub const CGROUP_SETSOCKOPT: u32 = 22;
    /// `BPF_TRACE_RAW_TP`.
    pub const TRACE_RAW_TP: u32 = 23;
    /// `BPF_TRACE_FENTRY`.
    pub const TRACE_FENTRY: u32 = 24;
    /// `BPF_TRACE_FEXIT`.
    pub const TRACE_FEXIT: u32 = 25;
    /// `BPF_MODIFY_RETURN`.
    pub const MODIFY_RETURN: u32 = 26;
    /// `BPF_LSM_MAC`.
    pub const LSM_MAC: u32 = 27;
    /// `BPF_TRACE_ITER`.
    pub const TRACE_ITER: u32 = 28;
    /// `BPF_CGROUP_INET_SOCK_RELEASE`.
    pub const CGROUP_INET_SOCK_RELEASE: u32 = 34;
    /// `BPF_SK_LOOKUP`.
    pub const SK_LOOKUP: u32 = 36;
    /// `BPF_XDP`.
    pub const XDP: u32 = 37;
    /// `BPF_SK_SKB_VERDICT`.
    pub const SK_SKB_VERDICT: u32 = 38;
    /// `BPF_PERF_EVENT`.
    pub const PERF_EVENT: u32 = 41;
    /// `BPF_NETFILTER`.
    pub const NETFILTER: u32 = 45;
    /// `BPF_TRACE_KPROBE_MULTI`.
    pub const TRACE_KPROBE_MULTI: u32 = 42;
    /// `BPF_TRACE_UPROBE_MULTI`.
    pub const TRACE_UPROBE_MULTI: u32 = 48;
}

/// How a program attaches, decided by its section name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachTarget {
    /// `tracepoint/<category>/<name>` or `tp/<category>/<name>`.
    Tracepoint {
        /// Tracepoint category (e.g. `syscalls`).
        category: String,
        /// Tracepoint name.
        name: String,
    },
    /// `raw_tracepoint/<name>`, `raw_tp/<name>` (and the writable variants).
    RawTracepoint {
        /// Raw tracepoint name.
        name: String,
    },
    /// `tp_btf/`, `fentry/`, `fexit/`, `fmod_ret/`, `lsm/`, `iter/`: a BTF function
    /// (or tracepoint, or iterator) in vmlinux or a module.
    Btf {
        /// The BTF name of the target function, tracepoint or iterator.
        name: String,
    },
    /// `kprobe/<func>[+off]`, `kretprobe/<func>`.
    Kprobe {
        /// Kernel function.
        func: String,
        /// Offset into it.
        offset: u64,
        /// A kretprobe.
        ret: bool,
    },
    /// `uprobe/<path>:<symbol>[+off]`, `uretprobe/...`.
    Uprobe {
        /// Binary or library (a path, or a name found through ld.so.cache).
        path: String,
        /// Symbol in it.
        symbol: String,
        /// Offset from the symbol.
        offset: u64,
        /// A uretprobe.
        ret: bool,
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
    /// Program type (`BPF_PROG_TYPE_*`).
    pub prog_type: u32,
    /// `expected_attach_type` (`BPF_*` attach type).
    pub expected_attach_type: u32,
    /// Where it attaches.
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

fn uprobe_target(rest: &str, ret: bool) -> AttachTarget {
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
                ret,
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
            let ret = head == "kretprobe";
            let target = match rest {
                Some(r) if !r.is_empty() => {
                    let (func, offset) = split_func_off(r);
                    AttachTarget::Kprobe { func, offset, ret }
                }
                _ => AttachTarget::None,
            };
            ProgKind::new(pt::KPROBE, 0, target)
        }
        "ksyscall" | "kretsyscall" => plain(pt::KPROBE, 0),
        "uprobe" | "uretprobe" | "uprobe.s" | "uretprobe.s" => {
            let ret = head.starts_with("uret");
            let target = match rest {
                Some(r) => uprobe_target(r, ret),
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
            "devmap" | "cpumap" => plain(pt::XDP, if rest_s == "devmap" { 33 } else { 35 }),
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
    kind.sleepable = head.ends_with(".s");
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
                ret: false
            }
        );
        let k = prog_kind("kretprobe/do_unlinkat").unwrap();
        assert_eq!(
            k.target,
            AttachTarget::Kprobe {
                func: "do_unlinkat".into(),
                offset: 0,
                ret: true
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
