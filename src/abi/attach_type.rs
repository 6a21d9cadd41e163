//! `enum bpf_attach_type`: constants and [`AttachType`].
//!
//! Value 0 is `BPF_CGROUP_INET_INGRESS`, which is also what "no expected
//! attach type" looks like in `BPF_PROG_LOAD`: only program types that
//! need one give the number a meaning.

uapi_enum! {
    /// Where a program attaches (`enum bpf_attach_type`).
    AttachType, "BPF_" {
        CgroupInetIngress = CGROUP_INET_INGRESS = 0 => "cgroup_inet_ingress",
        CgroupInetEgress = CGROUP_INET_EGRESS = 1 => "cgroup_inet_egress",
        CgroupInetSockCreate = CGROUP_INET_SOCK_CREATE = 2 => "cgroup_inet_sock_create",
        CgroupSockOps = CGROUP_SOCK_OPS = 3 => "cgroup_sock_ops",
        SkSkbStreamParser = SK_SKB_STREAM_PARSER = 4 => "sk_skb_stream_parser",
        SkSkbStreamVerdict = SK_SKB_STREAM_VERDICT = 5 => "sk_skb_stream_verdict",
        CgroupDevice = CGROUP_DEVICE = 6 => "cgroup_device",
        SkMsgVerdict = SK_MSG_VERDICT = 7 => "sk_msg_verdict",
        CgroupInet4Bind = CGROUP_INET4_BIND = 8 => "cgroup_inet4_bind",
        CgroupInet6Bind = CGROUP_INET6_BIND = 9 => "cgroup_inet6_bind",
        CgroupInet4Connect = CGROUP_INET4_CONNECT = 10 => "cgroup_inet4_connect",
        CgroupInet6Connect = CGROUP_INET6_CONNECT = 11 => "cgroup_inet6_connect",
        CgroupInet4PostBind = CGROUP_INET4_POST_BIND = 12 => "cgroup_inet4_post_bind",
        CgroupInet6PostBind = CGROUP_INET6_POST_BIND = 13 => "cgroup_inet6_post_bind",
        CgroupUdp4Sendmsg = CGROUP_UDP4_SENDMSG = 14 => "cgroup_udp4_sendmsg",
        CgroupUdp6Sendmsg = CGROUP_UDP6_SENDMSG = 15 => "cgroup_udp6_sendmsg",
        LircMode2 = LIRC_MODE2 = 16 => "lirc_mode2",
        FlowDissector = FLOW_DISSECTOR = 17 => "flow_dissector",
        CgroupSysctl = CGROUP_SYSCTL = 18 => "cgroup_sysctl",
        CgroupUdp4Recvmsg = CGROUP_UDP4_RECVMSG = 19 => "cgroup_udp4_recvmsg",
        CgroupUdp6Recvmsg = CGROUP_UDP6_RECVMSG = 20 => "cgroup_udp6_recvmsg",
        CgroupGetsockopt = CGROUP_GETSOCKOPT = 21 => "cgroup_getsockopt",
        CgroupSetsockopt = CGROUP_SETSOCKOPT = 22 => "cgroup_setsockopt",
        TraceRawTp = TRACE_RAW_TP = 23 => "trace_raw_tp",
        TraceFentry = TRACE_FENTRY = 24 => "trace_fentry",
        TraceFexit = TRACE_FEXIT = 25 => "trace_fexit",
        ModifyReturn = MODIFY_RETURN = 26 => "modify_return",
        LsmMac = LSM_MAC = 27 => "lsm_mac",
        TraceIter = TRACE_ITER = 28 => "trace_iter",
        CgroupInet4Getpeername = CGROUP_INET4_GETPEERNAME = 29 => "cgroup_inet4_getpeername",
        CgroupInet6Getpeername = CGROUP_INET6_GETPEERNAME = 30 => "cgroup_inet6_getpeername",
        CgroupInet4Getsockname = CGROUP_INET4_GETSOCKNAME = 31 => "cgroup_inet4_getsockname",
        CgroupInet6Getsockname = CGROUP_INET6_GETSOCKNAME = 32 => "cgroup_inet6_getsockname",
        XdpDevmap = XDP_DEVMAP = 33 => "xdp_devmap",
        CgroupInetSockRelease = CGROUP_INET_SOCK_RELEASE = 34 => "cgroup_inet_sock_release",
        XdpCpumap = XDP_CPUMAP = 35 => "xdp_cpumap",
        SkLookup = SK_LOOKUP = 36 => "sk_lookup",
        Xdp = XDP = 37 => "xdp",
        SkSkbVerdict = SK_SKB_VERDICT = 38 => "sk_skb_verdict",
        SkReuseportSelect = SK_REUSEPORT_SELECT = 39 => "sk_reuseport_select",
        SkReuseportSelectOrMigrate = SK_REUSEPORT_SELECT_OR_MIGRATE = 40 => "sk_reuseport_select_or_migrate",
        PerfEvent = PERF_EVENT = 41 => "perf_event",
        TraceKprobeMulti = TRACE_KPROBE_MULTI = 42 => "trace_kprobe_multi",
        LsmCgroup = LSM_CGROUP = 43 => "lsm_cgroup",
        StructOps = STRUCT_OPS = 44 => "struct_ops",
        Netfilter = NETFILTER = 45 => "netfilter",
        TcxIngress = TCX_INGRESS = 46 => "tcx_ingress",
        TcxEgress = TCX_EGRESS = 47 => "tcx_egress",
        TraceUprobeMulti = TRACE_UPROBE_MULTI = 48 => "trace_uprobe_multi",
        CgroupUnixConnect = CGROUP_UNIX_CONNECT = 49 => "cgroup_unix_connect",
        CgroupUnixSendmsg = CGROUP_UNIX_SENDMSG = 50 => "cgroup_unix_sendmsg",
        CgroupUnixRecvmsg = CGROUP_UNIX_RECVMSG = 51 => "cgroup_unix_recvmsg",
        CgroupUnixGetpeername = CGROUP_UNIX_GETPEERNAME = 52 => "cgroup_unix_getpeername",
        CgroupUnixGetsockname = CGROUP_UNIX_GETSOCKNAME = 53 => "cgroup_unix_getsockname",
        NetkitPrimary = NETKIT_PRIMARY = 54 => "netkit_primary",
        NetkitPeer = NETKIT_PEER = 55 => "netkit_peer",
        TraceKprobeSession = TRACE_KPROBE_SESSION = 56 => "trace_kprobe_session",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_names() {
        for v in 0..128 {
            assert_eq!(AttachType::from_raw(v).raw(), v);
        }
        assert_eq!(AttachType::from(TRACE_FENTRY), AttachType::TraceFentry);
        assert_eq!(AttachType::PerfEvent.raw(), 41);
        assert_eq!(AttachType::Xdp.to_string(), "xdp");
    }
}
