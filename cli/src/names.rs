//! Human names for kernel enums and section meanings.

use tinybpf::abi::ProgType;
use tinybpf::obj::{AttachTarget, ProgKind};
use tinybpf::obj::{BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG};

/// `enum bpf_prog_type` as bpftool spells it (`type N` when unnamed).
pub fn prog_type(t: ProgType) -> String {
    match t {
        ProgType::Unknown(n) => format!("type {n}"),
        t => t.name().to_string(),
    }
}

/// Program type of a parsed section, or "unknown".
pub fn kind_type(kind: Option<&ProgKind>) -> String {
    match kind {
        Some(k) => {
            let mut s = prog_type(k.prog_type.into());
            if k.sleepable {
                s.push_str(" (sleepable)");
            }
            if k.xdp_frags {
                s.push_str(" (frags)");
            }
            s
        }
        None => "unknown section".to_string(),
    }
}

/// Where a program attaches automatically, or "-" when it does not.
pub fn attach_target(kind: Option<&ProgKind>) -> String {
    let Some(k) = kind else {
        return "-".into();
    };
    match &k.target {
        AttachTarget::Tracepoint { category, name } => format!("tracepoint {category}/{name}"),
        AttachTarget::RawTracepoint { name } => format!("raw_tracepoint {name}"),
        AttachTarget::Btf { name } => format!("btf {name}"),
        AttachTarget::Kprobe { func, offset, kind } => {
            let what = kind.kprobe_name();
            if *offset == 0 {
                format!("{what} {func}")
            } else {
                format!("{what} {func}+{offset:#x}")
            }
        }
        AttachTarget::Uprobe {
            path,
            symbol,
            offset,
            kind,
        } => {
            let what = kind.uprobe_name();
            match (symbol.is_empty(), *offset) {
                (true, o) => format!("{what} {path}:{o:#x}"),
                (false, 0) => format!("{what} {path}:{symbol}"),
                (false, o) => format!("{what} {path}:{symbol}+{o:#x}"),
            }
        }
        AttachTarget::UprobeMulti { path, pattern, ret } => {
            let what = if *ret {
                "uretprobe.multi"
            } else {
                "uprobe.multi"
            };
            format!("{what} {path}:{pattern}")
        }
        AttachTarget::KprobeMulti { pattern, ret } => {
            let what = if *ret {
                "kretprobe.multi"
            } else {
                "kprobe.multi"
            };
            format!("{what} {pattern}")
        }
        AttachTarget::PerfEvent => "- (perf event: manual)".into(),
        AttachTarget::None => "-".into(),
    }
}

/// Map flags as hex plus the names of the ones we know.
pub fn map_flags(f: u32) -> String {
    if f == 0 {
        return "0".into();
    }
    let known = [
        (BPF_F_NO_PREALLOC, "no_prealloc"),
        (1 << 3, "rdonly"),
        (1 << 4, "wronly"),
        (BPF_F_RDONLY_PROG, "rdonly_prog"),
        (1 << 8, "wronly_prog"),
        (BPF_F_MMAPABLE, "mmapable"),
    ];
    let names: Vec<&str> = known
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        format!("{f:#x}")
    } else {
        format!("{f:#x} ({})", names.join(","))
    }
}

/// `enum bpf_core_relo_kind`, libbpf's short names.
pub fn core_kind(k: u32) -> String {
    let s = match k {
        0 => "byte_off",
        1 => "byte_sz",
        2 => "field_exists",
        3 => "signed",
        4 => "lshift_u64",
        5 => "rshift_u64",
        6 => "local_type_id",
        7 => "target_type_id",
        8 => "type_exists",
        9 => "type_size",
        10 => "enumval_exists",
        11 => "enumval_value",
        12 => "type_matches",
        _ => return format!("kind {k}"),
    };
    s.to_string()
}
