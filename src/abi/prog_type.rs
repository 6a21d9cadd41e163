//! `enum bpf_prog_type`: constants and [`ProgType`].

uapi_enum! {
    /// A program's type (`enum bpf_prog_type`).
    ProgType, "BPF_PROG_TYPE_" {
        Unspec = UNSPEC = 0 => "unspec",
        SocketFilter = SOCKET_FILTER = 1 => "socket_filter",
        Kprobe = KPROBE = 2 => "kprobe",
        SchedCls = SCHED_CLS = 3 => "sched_cls",
        SchedAct = SCHED_ACT = 4 => "sched_act",
        Tracepoint = TRACEPOINT = 5 => "tracepoint",
        Xdp = XDP = 6 => "xdp",
        PerfEvent = PERF_EVENT = 7 => "perf_event",
        CgroupSkb = CGROUP_SKB = 8 => "cgroup_skb",
        CgroupSock = CGROUP_SOCK = 9 => "cgroup_sock",
        LwtIn = LWT_IN = 10 => "lwt_in",
        LwtOut = LWT_OUT = 11 => "lwt_out",
        LwtXmit = LWT_XMIT = 12 => "lwt_xmit",
        SockOps = SOCK_OPS = 13 => "sock_ops",
        SkSkb = SK_SKB = 14 => "sk_skb",
        CgroupDevice = CGROUP_DEVICE = 15 => "cgroup_device",
        SkMsg = SK_MSG = 16 => "sk_msg",
        RawTracepoint = RAW_TRACEPOINT = 17 => "raw_tracepoint",
        CgroupSockAddr = CGROUP_SOCK_ADDR = 18 => "cgroup_sock_addr",
        LwtSeg6local = LWT_SEG6LOCAL = 19 => "lwt_seg6local",
        LircMode2 = LIRC_MODE2 = 20 => "lirc_mode2",
        SkReuseport = SK_REUSEPORT = 21 => "sk_reuseport",
        FlowDissector = FLOW_DISSECTOR = 22 => "flow_dissector",
        CgroupSysctl = CGROUP_SYSCTL = 23 => "cgroup_sysctl",
        RawTracepointWritable = RAW_TRACEPOINT_WRITABLE = 24 => "raw_tracepoint_writable",
        CgroupSockopt = CGROUP_SOCKOPT = 25 => "cgroup_sockopt",
        Tracing = TRACING = 26 => "tracing",
        StructOps = STRUCT_OPS = 27 => "struct_ops",
        Ext = EXT = 28 => "ext",
        Lsm = LSM = 29 => "lsm",
        SkLookup = SK_LOOKUP = 30 => "sk_lookup",
        Syscall = SYSCALL = 31 => "syscall",
        Netfilter = NETFILTER = 32 => "netfilter",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_names() {
        for v in 0..64 {
            assert_eq!(ProgType::from_raw(v).raw(), v);
        }
        assert_eq!(ProgType::from(XDP), ProgType::Xdp);
        assert_eq!(ProgType::SchedCls.to_string(), "sched_cls");
        assert_eq!(ProgType::from_raw(77).to_string(), "unknown (77)");
    }
}
