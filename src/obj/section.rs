//! Section names → program type, expected attach type and attach target, the
//! way libbpf's `SEC()` conventions define them.

/// `enum bpf_prog_type` values used here.
pub mod prog_type {
    pub const SOCKET_FILTER: u32 = 1;
    pub const KPROBE: u32 = 2;
    pub const SCHED_CLS: u32 = 3;
    pub const SCHED_ACT: u32 = 4;
    pub const TRACEPOINT: u32 = 5;
    pub const XDP: u32 = 6;
    pub const PERF_EVENT: u32 = 7;
    pub const CGROUP_SKB: u32 = 8;
    pub const CGROUP_SOCK: u32 = 9;
    pub const SOCK_OPS: u32 = 13;
    pub const SK_SKB: u32 = 14;
    pub const CGROUP_DEVICE: u32 = 15;
    pub const SK_MSG: u32 = 16;
    pub const RAW_TRACEPOINT: u32 = 17;
    pub const CGROUP_SOCK_ADDR: u32 = 18;
    pub const FLOW_DISSECTOR: u32 = 22;
    pub const CGROUP_SYSCTL: u32 = 23;
    pub const RAW_TRACEPOINT_WRITABLE: u32 = 24;
    pub const CGROUP_SOCKOPT: u32 = 25;
    pub const TRACING: u32 = 26;
    pub const STRUCT_OPS: u32 = 27;
    pub const EXT: u32 = 28;
    pub const LSM: u32 = 29;
    pub const SK_LOOKUP: u32 = 30;
    pub const SYSCALL: u32 = 31;
}

/// `enum bpf_attach_type` values used here.
pub mod attach_type {
    pub const CGROUP_INET_INGRESS: u32 = 0;
    pub const CGROUP_INET_EGRESS: u32 = 1;
    pub const CGROUP_INET_SOCK_CREATE: u32 = 2;
    pub const CGROUP_SOCK_OPS: u32 = 3;
    pub const SK_SKB_STREAM_PARSER: u32 = 4;
    pub const SK_SKB_STREAM_VERDICT: u32 = 5;
    pub const CGROUP_DEVICE: u32 = 6;
    pub const SK_MSG_VERDICT: u32 = 7;
    pub const CGROUP_INET4_BIND: u32 = 8;
    pub const CGROUP_INET6_BIND: u32 = 9;
    pub const CGROUP_INET4_CONNECT: u32 = 10;
    pub const CGROUP_INET6_CONNECT: u32 = 11;
    pub const CGROUP_INET4_POST_BIND: u32 = 12;
    pub const CGROUP_INET6_POST_BIND: u32 = 13;
    pub const CGROUP_UDP4_SENDMSG: u32 = 14;
    pub const CGROUP_UDP6_SENDMSG: u32 = 15;
    pub const FLOW_DISSECTOR: u32 = 17;
    pub const CGROUP_SYSCTL: u32 = 18;
    pub const CGROUP_UDP4_RECVMSG: u32 = 19;
    pub const CGROUP_UDP6_RECVMSG: u32 = 20;
    pub const CGROUP_GETSOCKOPT: u32 = 21;
    pub const CGROUP_SETSOCKOPT: u32 = 22;
    pub const TRACE_RAW_TP: u32 = 23;
    pub const TRACE_FENTRY: u32 = 24;
    pub const TRACE_FEXIT: u32 = 25;
    pub const MODIFY_RETURN: u32 = 26;
    pub const LSM_MAC: u32 = 27;
    pub const TRACE_ITER: u32 = 28;
    pub const CGROUP_INET_SOCK_RELEASE: u32 = 34;
    pub const SK_LOOKUP: u32 = 36;
    pub const XDP: u32 = 37;
    pub const SK_SKB_VERDICT: u32 = 38;
    pub const PERF_EVENT: u32 = 41;
}

/// How a program attaches, decided by its section name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachTarget {
    /// `tracepoint/<category>/<name>` or `tp/<category>/<name>`.
    Tracepoint { category: String, name: String },
    /// `raw_tracepoint/<name>`, `raw_tp/<name>` (and the writable variants).
    RawTracepoint { name: String },
    /// `tp_btf/`, `fentry/`, `fexit/`, `fmod_ret/`, `lsm/`, `iter/`: a BTF function
    /// (or tracepoint, or iterator) in vmlinux or a module.
    Btf { name: String },
    /// `kprobe/<func>[+off]`, `kretprobe/<func>`.
    Kprobe {
        func: String,
        offset: u64,
        ret: bool,
    },
    /// `uprobe/<path>:<symbol>[+off]`, `uretprobe/...`.
    Uprobe {
        path: String,
        symbol: String,
        offset: u64,
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
    pub prog_type: u32,
    pub expected_attach_type: u32,
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
