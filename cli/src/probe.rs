//! `tinybpf probe`: what the running kernel supports, found by trying it.

use crate::table::Table;
use crate::Fail;
use tinybpf::features::{map_type_name, prog_type_name, Features};

/// Probe the running kernel's BPF features (needs root)
///
/// Tries each feature the way libbpf and `bpftool feature probe` do and prints
/// one row per feature: its group, its name and yes/no. Groups: `btf` (BTF
/// loading and each BTF kind or flag an object's BTF may use; missing ones
/// are rewritten before loading), `prog_type` (a trivial program of each
/// type), `map_type` (a one-entry map of each type), `helper` (a few helpers
/// for kprobe programs) and `other` (perf-event links, ring buffers, the
/// kernel reporting its log size, memory-cgroup accounting of BPF memory).
/// Without root, most answers are "no".
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "Exit status: 0 success; 2 usage error."
)]
pub struct ProbeArgs {
    /// Only print the features the kernel lacks
    #[arg(long)]
    pub missing: bool,
}

/// Helpers worth knowing about, probed for kprobe programs.
const HELPERS: [(u32, &str); 6] = [
    (113, "probe_read_kernel"),
    (130, "ringbuf_output"),
    (158, "get_current_task_btf"),
    (125, "ktime_get_boot_ns"),
    (165, "snprintf"),
    (181, "loop"),
];
const PROG_KPROBE: u32 = 2;

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

pub fn run(a: &ProbeArgs) -> Result<(), Fail> {
    if !is_root() {
        eprintln!("tinybpf: warning: not root: probes that need privileges will say \"no\"");
    }
    let mut rows: Vec<(&str, String, bool)> = Vec::new();
    rows.push(("btf", "btf".into(), Features::btf_supported()));
    for (name, have) in Features::btf_probed().list() {
        rows.push(("btf", name.into(), have));
    }
    for t in 1.. {
        let Some(name) = prog_type_name(t) else { break };
        rows.push(("prog_type", name.into(), Features::prog_type(t)));
    }
    for t in 1.. {
        let Some(name) = map_type_name(t) else { break };
        rows.push(("map_type", name.into(), Features::map_type(t)));
    }
    for (id, name) in HELPERS {
        rows.push(("helper", name.into(), Features::helper(PROG_KPROBE, id)));
    }
    rows.push(("other", "perf_link".into(), Features::perf_link()));
    rows.push(("other", "bpf_cookie".into(), Features::bpf_cookie()));
    rows.push(("other", "ringbuf".into(), Features::ringbuf()));
    rows.push(("other", "log_true_size".into(), Features::log_true_size()));
    rows.push(("other", "memcg_account".into(), Features::memcg_account()));
    let mut t = Table::new(0, &["GROUP", "FEATURE", "SUPPORTED"]);
    for (group, name, have) in rows {
        if a.missing && have {
            continue;
        }
        t.row(vec![group.to_string(), name, yes(have)]);
    }
    print!("{}", t.render());
    Ok(())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
