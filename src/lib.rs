//! tinybpf: load BPF CO-RE objects by talking to the kernel through bpf(2) and
//! perf_event_open(2) directly. No libbpf, no C at run time.

pub mod btf;
mod btf_load;
pub mod callback;
pub mod core_load;
pub mod error;
pub mod events;
pub mod inflate;
pub mod insn;
pub mod kconfig;
pub mod link;
pub mod linker;
mod loader;
pub mod map;
pub mod memlock;
pub mod net;
pub mod netlink;
pub mod obj;
pub mod object;
pub mod perfbuf;
pub mod program;
pub mod reloc_core;
pub mod ringbuf;
pub mod sys;
pub mod tracefs;
pub mod uprobe;
pub(crate) mod verifier_log;

pub use error::{Error, Result};
pub use link::Link;
pub use map::Map;
pub use object::{LoadOptions, Object, OpenObject};
pub use perfbuf::{PerfBuffer, SendPerfBuffer};
pub use program::{Program, TestRun, TestRunOpts};
pub use ringbuf::{RingBuffer, SendRingBuffer};
