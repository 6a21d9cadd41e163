//! Multi-target probe links (`BPF_LINK_CREATE` with one program on many
//! functions): `uprobe.multi` (6.6+) in `uprobe.rs` and `kprobe.multi`
//! (5.18+, needs `CONFIG_FPROBE`) in `kprobe.rs`. Each file holds an
//! `impl Program` block; the targets come from a glob (`*`, `?`) over the
//! binary's symbols or the kernel's traceable functions.

mod kprobe;
mod uprobe;

pub use kprobe::KprobeMultiOpts;
pub use uprobe::UprobeMultiOpts;

use crate::error::Error;
use crate::program::Program;

/// `BPF_F_UPROBE_MULTI_RETURN` / `BPF_F_KPROBE_MULTI_RETURN`.
const MULTI_RETURN: u32 = 1;

/// An attach failure of `prog` on `target`.
fn attach_err(prog: &Program, target: &str, reason: impl Into<String>) -> Error {
    Error::Attach {
        program: prog.name.clone(),
        target: target.to_string(),
        reason: reason.into(),
    }
}
