//! What the running kernel supports, found by trying it (like libbpf's and
//! `bpftool feature probe`'s probes), not by version numbers: a tiny BTF per
//! BTF kind, a `r0 = 0; exit` program per program type, a one-entry map per
//! map type, a program calling a helper, and a few one-off probes. Each
//! answer is probed on first use and cached for the life of the process.
//!
//! Probes need the privileges loading needs (root or CAP_BPF); without
//! them every probe that must load something answers `false`, except the
//! BTF kind probes, which then answer `true` (so BTF is not rewritten for
//! nothing: the real load reports the permission problem).

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::sync::{Mutex, OnceLock};

use nix::errno::Errno;

use crate::abi::insn::Insn;
use crate::abi::map_type;
use crate::btf::{BtfBuilder, BtfFeatures, BTF_INT_SIGNED};
use crate::obj::maps::{BPF_F_MMAPABLE, BPF_F_NO_PREALLOC};
use crate::obj::section::{attach_type, prog_type};
use crate::sys;

/// `ENOTSUPP` (kernel-internal, 524): what a known struct_ops map type
/// answers for a value type that is no struct_ops.
const ENOTSUPP: i32 = 524;
/// `BPF_FUNC_ktime_get_coarse_ns`, added with memcg accounting (5.11).
const HELPER_KTIME_GET_COARSE_NS: u32 = 160;
/// `BPF_FUNC_get_attach_cookie` (5.15).
const HELPER_GET_ATTACH_COOKIE: u32 = 174;
/// `BPF_PROG_TYPE_NETFILTER` and its attach type.
const PROG_NETFILTER: u32 = 32;
const ATTACH_NETFILTER: u32 = 45;
const PROG_LIRC_MODE2: u32 = 20;
const ATTACH_LIRC_MODE2: u32 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Btf(BtfProbe),
    ProgType(u32),
    MapType(u32),
    Helper(u32, u32),
    PerfLink,
    LogTrueSize,
    MemcgAccount,
}

/// The BTF features that have a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum BtfProbe {
    Basic,
    Func,
    FuncGlobal,
    Datasec,
    Float,
    DeclTag,
    TypeTag,
    Enum64,
    EnumKflag,
}

fn cache() -> &'static Mutex<HashMap<Key, bool>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, bool>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cached(key: Key, probe: impl FnOnce() -> bool) -> bool {
    if let Some(v) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return *v;
    }
    // Probe without the lock held (probes may ask for other probes).
    let v = probe();
    log::debug!("feature probe {key:?}: {v}");
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, v);
    v
}

/// Feature probes of the running kernel (all answers cached per process).
#[derive(Debug, Clone, Copy, Default)]
pub struct Features;

impl Features {
    /// Which BTF kinds and flags the kernel accepts in an object's BTF (what
    /// [`crate::btf::sanitize()`] needs). Without BTF support at all, every
    /// feature is reported present (nothing to rewrite: loading goes on
    /// without BTF anyway).
    pub fn btf() -> BtfFeatures {
        if let Some(f) = *btf_override().lock().unwrap_or_else(|e| e.into_inner()) {
            return f;
        }
        Features::btf_probed()
    }

    /// Make [`Features::btf`] answer `f` (or the probed answer again with
    /// `None`) for the rest of the process: to test or reproduce how objects
    /// load on a kernel with fewer BTF features.
    pub fn set_btf_override(f: Option<BtfFeatures>) {
        *btf_override().lock().unwrap_or_else(|e| e.into_inner()) = f;
    }

    /// Whether [`Features::set_btf_override`] is in force.
    pub(crate) fn btf_overridden() -> bool {
        btf_override()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// The probed BTF features, ignoring [`Features::set_btf_override`].
    pub fn btf_probed() -> BtfFeatures {
        static BTF: OnceLock<BtfFeatures> = OnceLock::new();
        *BTF.get_or_init(|| {
            if !btf_probe(BtfProbe::Basic) {
                return BtfFeatures::all();
            }
            BtfFeatures {
                func: btf_probe(BtfProbe::Func),
                func_global: btf_probe(BtfProbe::FuncGlobal),
                datasec: btf_probe(BtfProbe::Datasec),
                float: btf_probe(BtfProbe::Float),
                decl_tag: btf_probe(BtfProbe::DeclTag),
                type_tag: btf_probe(BtfProbe::TypeTag),
                enum64: btf_probe(BtfProbe::Enum64),
                enum_kflag: btf_probe(BtfProbe::EnumKflag),
            }
        })
    }

    /// Whether the kernel loads BTF at all (`BPF_BTF_LOAD`, 4.18).
    pub fn btf_supported() -> bool {
        btf_probe(BtfProbe::Basic)
    }

    /// Whether this process may load tracing programs (root, or CAP_BPF with
    /// CAP_PERFMON): when not, every probe that loads a program or creates
    /// a privileged map answers `false` for want of privileges, not of the
    /// feature, and a fallback chosen on such an answer would be wrong.
    pub fn privileged() -> bool {
        Features::prog_type(prog_type::TRACEPOINT)
    }

    /// Whether the kernel knows program type `t` (`enum bpf_prog_type`): a
    /// trivial program of that type loads, or gets as far as the verifier,
    /// or is refused by policy (EPERM while a tracepoint program loads: e.g. an
    /// LSM, or tracing without trampolines).
    pub fn prog_type(t: u32) -> bool {
        cached(Key::ProgType(t), || probe_prog_type(t))
    }

    /// Whether the kernel can create maps of type `t` (`enum bpf_map_type`).
    pub fn map_type(t: u32) -> bool {
        cached(Key::MapType(t), || probe_map_type(t))
    }

    /// Whether programs of type `prog_type` may call helper number `helper`
    /// (`BPF_FUNC_*`): the verifier does not answer "invalid func" or
    /// "unknown func" for a program calling it.
    pub fn helper(prog_type: u32, helper: u32) -> bool {
        cached(Key::Helper(prog_type, helper), || {
            match probe_helper(prog_type, helper) {
                // It loaded: the program type is there too, no need to ask.
                HelperProbe::Loaded => true,
                HelperProbe::Refused(v) => Features::prog_type(prog_type) && v,
            }
        })
    }

    /// `BPF_LINK_CREATE` for perf events (kprobes, uprobes and tracepoints
    /// as bpf links, 5.15). Without it, programs are attached to perf events
    /// with the `PERF_EVENT_IOC_SET_BPF` ioctl.
    pub fn perf_link() -> bool {
        if let Some(v) = *perf_link_override()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            return v;
        }
        cached(Key::PerfLink, probe_perf_link)
    }

    /// Make [`Features::perf_link`] answer `v` (or the probed answer again
    /// with `None`) for the rest of the process: to test or reproduce the
    /// ioctl attach of kernels before 5.15 on a newer one.
    pub fn set_perf_link_override(v: Option<bool>) {
        *perf_link_override()
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = v;
    }

    /// `bpf_get_attach_cookie` for tracing programs (5.15): what
    /// `.kconfig`'s `LINUX_HAS_BPF_COOKIE` says.
    pub fn bpf_cookie() -> bool {
        Features::helper(prog_type::TRACEPOINT, HELPER_GET_ATTACH_COOKIE)
    }

    /// The ring buffer map (`BPF_MAP_TYPE_RINGBUF`, 5.8).
    pub fn ringbuf() -> bool {
        Features::map_type(map_type::RINGBUF)
    }

    /// The kernel reports the log size it needed (`log_true_size`, 6.4).
    pub fn log_true_size() -> bool {
        cached(Key::LogTrueSize, probe_log_true_size)
    }

    /// BPF memory is charged to the memory cgroup instead of
    /// `RLIMIT_MEMLOCK` (5.11; probed the way libbpf does, through a helper
    /// that came with it).
    pub fn memcg_account() -> bool {
        cached(Key::MemcgAccount, || {
            Features::helper(prog_type::CGROUP_SKB, HELPER_KTIME_GET_COARSE_NS)
        })
    }
}

fn btf_override() -> &'static Mutex<Option<BtfFeatures>> {
    static O: Mutex<Option<BtfFeatures>> = Mutex::new(None);
    &O
}

fn perf_link_override() -> &'static Mutex<Option<bool>> {
    static O: Mutex<Option<bool>> = Mutex::new(None);
    &O
}

fn btf_probe(p: BtfProbe) -> bool {
    cached(Key::Btf(p), || {
        let blob = btf_probe_blob(p);
        match sys::btf_load(&blob, None) {
            Ok(_fd) => true,
            // Cannot tell: say yes, the real load will say why it fails.
            Err(e) if matches!(e.errno, Errno::EPERM | Errno::EACCES) => true,
            Err(e) => {
                log::debug!("BTF probe {p:?}: {e}");
                false
            }
        }
    })
}

/// The tiny BTF that needs feature `p`.
fn btf_probe_blob(p: BtfProbe) -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, BTF_INT_SIGNED);
    match p {
        BtfProbe::Basic => {}
        BtfProbe::Func | BtfProbe::FuncGlobal => {
            let proto = b.add_func_proto(int, &[("a", int)]);
            b.add_func("f", proto, (p == BtfProbe::FuncGlobal) as u16);
        }
        BtfProbe::Datasec => {
            let var = b.add_var("a", int, 0);
            b.add_datasec(".data", 4, &[(var, 0, 4)]);
        }
        BtfProbe::Float => {
            b.add_float("float", 4);
        }
        BtfProbe::DeclTag => {
            let var = b.add_var("a", int, 0);
            b.add_decl_tag("tag", var, -1);
        }
        BtfProbe::TypeTag => {
            let tag = b.add_type_tag("tag", int);
            b.add_ptr(tag);
        }
        BtfProbe::Enum64 => {
            b.add_enum64("e", 8, false, &[("A", 1 << 40)]);
        }
        BtfProbe::EnumKflag => {
            b.add_enum("e", 4, true, &[("A", -1)]);
        }
    }
    b.to_bytes()
}

/// `LINUX_VERSION_CODE` of the running kernel (kprobes before 5.0 check it).
fn kernel_version_code() -> u32 {
    let release = sys::uname_release();
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    );
    (a.min(255) << 16) | (b.min(255) << 8) | c.min(255)
}

const MOV_R0_0: Insn = Insn::new(0xb7, 0, 0, 0, 0);
const EXIT: Insn = Insn::new(0x95, 0, 0, 0, 0);

/// Load `insns` as a program of type `t` with the attach type and ids the
/// type needs; returns whether it loaded, and the verifier log.
fn try_load(t: u32, insns: &[Insn]) -> (Result<(), Errno>, String) {
    let mut attr = sys::ProgLoadAttr {
        prog_type: t,
        insns,
        ..Default::default()
    };
    match t {
        prog_type::KPROBE => attr.kern_version = kernel_version_code(),
        prog_type::CGROUP_SOCK_ADDR => {
            attr.expected_attach_type = attach_type::CGROUP_INET4_CONNECT
        }
        prog_type::CGROUP_SOCKOPT => attr.expected_attach_type = attach_type::CGROUP_GETSOCKOPT,
        prog_type::SK_LOOKUP => attr.expected_attach_type = attach_type::SK_LOOKUP,
        prog_type::TRACING => {
            attr.expected_attach_type = attach_type::TRACE_FENTRY;
            attr.attach_btf_id = 1;
        }
        prog_type::LSM => {
            attr.expected_attach_type = attach_type::LSM_MAC;
            attr.attach_btf_id = 1;
        }
        prog_type::EXT | prog_type::STRUCT_OPS => attr.attach_btf_id = 1,
        PROG_NETFILTER => attr.expected_attach_type = ATTACH_NETFILTER,
        PROG_LIRC_MODE2 => attr.expected_attach_type = ATTACH_LIRC_MODE2,
        _ => {}
    }
    let mut log = sys::VerifierLog {
        level: 1,
        buf: vec![0; 16 * 1024],
        true_size: 0,
    };
    let res = sys::prog_load(&attr, Some(&mut log)).map(drop);
    // ENOSPC: the log filled up, the program itself is not the problem.
    let res = match res {
        Err(e) if e.errno == Errno::ENOSPC => Ok(()),
        other => other.map_err(|e| e.errno),
    };
    (res, log.text())
}

fn probe_prog_type(t: u32) -> bool {
    match try_load(t, &[MOV_R0_0, EXIT]) {
        (Ok(()), _) => true,
        // The kernel got as far as the verifier (or the attach checks that
        // log): it knows the type. Unknown types fail before any log.
        // Refused by policy (an LSM, or no trampolines for this type) while
        // a privileged-only type loads: the type got past the kernel's
        // lookup (unknown types fail with EINVAL before the policy hooks).
        (Err(e @ (Errno::EPERM | Errno::EACCES)), _) => {
            log::debug!("program type {t} probe: {e} without a log");
            let baseline = if t == prog_type::TRACEPOINT {
                prog_type::XDP
            } else {
                prog_type::TRACEPOINT
            };
            t != prog_type::XDP && Features::prog_type(baseline)
        }
        (Err(e), log) => {
            log::debug!("program type {t} probe: {e}: {}", log.trim());
            !log.trim().is_empty()
        }
    }
}

/// What loading a program of type `t` that calls `helper` said.
enum HelperProbe {
    /// It loaded (so type and helper are both there).
    Loaded,
    /// It did not; whether the helper looks available, for a type that is.
    Refused(bool),
}

fn probe_helper(t: u32, helper: u32) -> HelperProbe {
    let call = Insn::new(0x85, 0, 0, 0, helper as i32);
    match try_load(t, &[call, MOV_R0_0, EXIT]) {
        (Ok(()), _) => HelperProbe::Loaded,
        (Err(Errno::EPERM), _) => HelperProbe::Refused(false),
        (Err(_), log) => HelperProbe::Refused(
            !log.is_empty()
                && !["invalid func ", "unknown func ", "cannot use helper "]
                    .iter()
                    .any(|m| log.contains(m)),
        ),
    }
}

fn probe_map_type(t: u32) -> bool {
    let mut attr = sys::MapCreateAttr {
        map_type: t,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        name: b"probe",
        ..Default::default()
    };
    let mut inner = None;
    let mut btf = None;
    match t {
        map_type::LPM_TRIE => {
            attr.key_size = 8;
            attr.map_flags = BPF_F_NO_PREALLOC;
        }
        map_type::STACK_TRACE => attr.value_size = 8,
        map_type::QUEUE | map_type::STACK | map_type::BLOOM_FILTER => attr.key_size = 0,
        map_type::RINGBUF | map_type::USER_RINGBUF => {
            attr.key_size = 0;
            attr.value_size = 0;
            attr.max_entries = sys::mmap::page_size() as u32;
        }
        map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS => {
            inner = sys::map_create(&sys::MapCreateAttr {
                map_type: map_type::ARRAY,
                key_size: 4,
                value_size: 4,
                max_entries: 1,
                ..Default::default()
            })
            .ok();
            if inner.is_none() {
                return false;
            }
        }
        // cgroup storage: key is struct bpf_cgroup_storage_key.
        19 | 21 => {
            attr.key_size = 16;
            attr.max_entries = 0;
        }
        // Local storage (sk, inode, task, cgroup): BTF key and value.
        24 | 28 | 29 | 32 => {
            let mut b = BtfBuilder::new();
            let int = b.add_int("int", 4, BTF_INT_SIGNED);
            let val = b.add_composite(false, "val", 4, &[("cnt", int, 0)]);
            btf = sys::btf_load(&b.to_bytes(), None).ok();
            if btf.is_none() {
                return false;
            }
            attr.map_flags = BPF_F_NO_PREALLOC;
            attr.max_entries = 0;
            attr.btf_key_type_id = int;
            attr.btf_value_type_id = val;
        }
        // struct_ops: a known type refuses id 1 with ENOTSUPP.
        26 => attr.btf_vmlinux_value_type_id = 1,
        // arena: one page, mmapable.
        33 => {
            attr.key_size = 0;
            attr.value_size = 0;
            attr.map_flags = BPF_F_MMAPABLE;
        }
        _ => {}
    }
    attr.inner_map_fd = inner.as_ref().map(|f| f.as_fd());
    attr.btf_fd = btf.as_ref().map(|f| f.as_fd());
    match sys::map_create(&attr) {
        Ok(_fd) => true,
        Err(e) if t == 26 => e.raw_errno() == ENOTSUPP,
        Err(e) => {
            log::debug!("map type {t} probe: {e}");
            false
        }
    }
}

fn probe_perf_link() -> bool {
    let attr = sys::ProgLoadAttr {
        prog_type: prog_type::TRACEPOINT,
        insns: &[MOV_R0_0, EXIT],
        ..Default::default()
    };
    let Ok(prog) = sys::prog_load(&attr, None) else {
        return false;
    };
    // A bad perf event fd: a kernel with perf links says EBADF, one
    // without says EINVAL (unknown attach type for the program).
    let bad = sys::map_create(&sys::MapCreateAttr {
        map_type: map_type::ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        ..Default::default()
    });
    let Ok(bad) = bad else { return false };
    match sys::link_create(
        prog.as_fd(),
        sys::LinkTarget::Fd(bad.as_fd()),
        attach_type::PERF_EVENT,
        0,
        sys::LinkCreateExtra::None,
    ) {
        Ok(_) => true,
        Err(e) => e.errno == Errno::EBADF,
    }
}

fn probe_log_true_size() -> bool {
    let blob = btf_probe_blob(BtfProbe::Basic);
    let mut log = sys::VerifierLog {
        level: 1,
        buf: vec![0; 4096],
        true_size: 0,
    };
    sys::btf_load(&blob, Some(&mut log)).is_ok() && log.true_size > 0
}

/// `bpftool`-style names of program types `0..=32`.
pub fn prog_type_name(t: u32) -> Option<&'static str> {
    const NAMES: [&str; 33] = [
        "unspec",
        "socket_filter",
        "kprobe",
        "sched_cls",
        "sched_act",
        "tracepoint",
        "xdp",
        "perf_event",
        "cgroup_skb",
        "cgroup_sock",
        "lwt_in",
        "lwt_out",
        "lwt_xmit",
        "sock_ops",
        "sk_skb",
        "cgroup_device",
        "sk_msg",
        "raw_tracepoint",
        "cgroup_sock_addr",
        "lwt_seg6local",
        "lirc_mode2",
        "sk_reuseport",
        "flow_dissector",
        "cgroup_sysctl",
        "raw_tracepoint_writable",
        "cgroup_sockopt",
        "tracing",
        "struct_ops",
        "ext",
        "lsm",
        "sk_lookup",
        "syscall",
        "netfilter",
    ];
    NAMES.get(t as usize).copied()
}

/// `bpftool`-style names of map types `0..=33`.
pub fn map_type_name(t: u32) -> Option<&'static str> {
    const NAMES: [&str; 34] = [
        "unspec",
        "hash",
        "array",
        "prog_array",
        "perf_event_array",
        "percpu_hash",
        "percpu_array",
        "stack_trace",
        "cgroup_array",
        "lru_hash",
        "lru_percpu_hash",
        "lpm_trie",
        "array_of_maps",
        "hash_of_maps",
        "devmap",
        "sockmap",
        "cpumap",
        "xskmap",
        "sockhash",
        "cgroup_storage",
        "reuseport_sockarray",
        "percpu_cgroup_storage",
        "queue",
        "stack",
        "sk_storage",
        "devmap_hash",
        "struct_ops",
        "ringbuf",
        "inode_storage",
        "task_storage",
        "bloom_filter",
        "user_ringbuf",
        "cgrp_storage",
        "arena",
    ];
    NAMES.get(t as usize).copied()
}
