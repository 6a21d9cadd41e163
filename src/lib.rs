//! tinybpf: load BPF CO-RE objects by talking to the kernel through bpf(2) and
//! perf_event_open(2) directly. No libbpf, no C at run time.
//!
//! One home per lifecycle stage (see `docs/architecture.md`):
//!
//! - [`obj`]: ELF bytes → [`obj::ObjectSpec`] (pure);
//! - [`btf`]: BTF and BTF.ext parsing (pure);
//! - [`reloc`]: everything that rewrites instructions — CO-RE
//!   ([`reloc::core`]), subprogram/map linking ([`reloc::link`]), `.kconfig`
//!   values ([`reloc::kconfig`]) — pure, shared by `check` and load;
//! - `load` (internal): the pipeline that asks the kernel, stage by stage,
//!   and produces an [`Object`];
//! - [`OpenObject`] / [`Object`], [`Map`], [`Program`], [`Link`], ...: the
//!   run-time handles.
//!
//! The running kernel's BTF and module BTF for offline checks are in
//! [`kernel`].

pub mod abi;
pub mod btf;
pub mod callback;
pub mod error;
pub mod events;
pub mod features;
pub mod iter;
pub mod kernel;
pub mod link;
mod load;
pub mod map;
pub mod obj;
pub mod object;
pub mod open;
pub mod perfbuf;
pub mod program;
pub mod reloc;
pub mod ringbuf;
/// Raw system calls (bpf(2), perf_event_open(2), mmap, bpffs). Internal and
/// unstable: exposed only for the crate's own tests, CLI and benchmarks.
#[doc(hidden)]
pub mod sys;
pub mod tracefs;
pub mod uprobe;
pub mod usdt;
pub(crate) mod util;

pub use error::{Error, Result};
pub use iter::{IterOpts, IterReader};
pub use link::Link;
pub use map::Map;
pub use object::Object;
pub use open::{LoadOptions, OpenObject};
pub use perfbuf::{PerfBuffer, SendPerfBuffer};
pub use program::{Program, TestRun, TestRunOpts};
pub use ringbuf::{RingBuffer, SendRingBuffer};
