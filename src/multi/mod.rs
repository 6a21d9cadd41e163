//! Newer link kinds. Multi-target probe links (`BPF_LINK_CREATE` with one
//! program on many functions): `uprobe.multi` (6.6+) in `uprobe.rs` and
//! `kprobe.multi` (5.18+, needs `CONFIG_FPROBE`) in `kprobe.rs`; `freplace`
//! links to a chosen target program in `freplace.rs`. Each file holds an
//! `impl Program` block; the targets come from a glob (`*`, `?`) over the
//! binary's symbols or the kernel's traceable functions.

mod freplace;
mod kprobe;
mod uprobe;

#[cfg(test)]
pub(crate) use freplace::func_btf_id;
pub(crate) use freplace::target_func_id;

pub use kprobe::KprobeMultiOpts;
pub use uprobe::UprobeMultiOpts;

/// `BPF_F_UPROBE_MULTI_RETURN` / `BPF_F_KPROBE_MULTI_RETURN`.
const MULTI_RETURN: u32 = 1;
