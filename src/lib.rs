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

#![deny(missing_docs)]

pub mod abi;
pub mod btf;
mod callback;
pub mod error;
pub mod events;
pub mod kernel;
mod link;
mod load;
mod map;
pub mod obj;
mod object;
mod open;
mod perfbuf;
mod program;
pub mod reloc;
mod ringbuf;
mod sys;
pub mod tracefs;
pub mod uprobe;
mod util;

pub use callback::{Callbacks, IntoLostFn, IntoRecordFn, IntoSampleFn, Local, Sendable};
pub use error::{Error, Result};
pub use link::Link;
pub use map::{flags as map_flags, Keys, Map, Pod};
pub use object::Object;
pub use open::{LoadOptions, OpenObject};
pub use perfbuf::{PerfBuffer, PerfBufferBuilder, SendPerfBuffer};
pub use program::{Program, TestRun, TestRunOpts};
pub use ringbuf::{RingBuffer, SendRingBuffer};

/// What [`pod!`] expands to; not API.
#[doc(hidden)]
pub mod __private {
    pub use crate::sys::pod::{__pod_field_size, __pod_type_size};
}
