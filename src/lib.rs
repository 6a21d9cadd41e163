//! Load BPF CO-RE objects (`*.bpf.o`, compiled by clang) by talking to the
//! kernel through bpf(2) and perf_event_open(2) directly: no libbpf, no C at
//! run time. tinybpf parses the ELF object, relocates it against the running
//! kernel's BTF (CO-RE), creates its maps, loads its programs and attaches
//! them where their section names say; dropping the [`Object`] undoes it all.
//!
//! # The lifecycle
//!
//! 1. **open**: [`OpenObject::open`] (or [`OpenObject::from_bytes`]) parses
//!    the object; no system call yet.
//! 2. **adjust**: [`OpenObject::set_global_value`] (`const volatile`
//!    config), [`OpenObject::set_max_entries`], [`OpenObject::load_only`] /
//!    [`OpenObject::set_autoload`], [`OpenObject::options_mut`].
//! 3. **load**: [`OpenObject::load`] uploads the BTF, relocates (CO-RE,
//!    `.kconfig`), creates the maps and loads the programs → [`Object`].
//! 4. **attach**: [`Object::attach_all`] (by section name: `tp/`, `raw_tp/`,
//!    `tp_btf/`, `uprobe/`, ...) or [`Object::attach`]; or one [`Program`]'s
//!    `attach_*` methods, which return a [`Link`] you keep.
//! 5. **drop**: dropping the [`Object`] detaches its links, then closes
//!    programs, maps and BTF, in that order: nothing is left in the kernel
//!    (unless pinned).
//!
//! # Example
//!
//! The classic `hello` (`examples/hello.rs`): a tracepoint program that
//! calls `bpf_printk` on every execve, its output read from `trace_pipe`;
//! then a map read, a global set before load, and a test run:
//!
//! ```no_run
//! use std::time::Duration;
//! use tinybpf::events::{Interrupt, TracePipe};
//! use tinybpf::{OpenObject, TestRunOpts};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // open → load → attach: bpf_printk("Hello world!") on every execve.
//! let mut obj = OpenObject::open("bpf/hello.bpf.o")?.load()?;
//! let mut pipe = TracePipe::open()?; // finds (or mounts) tracefs
//! pipe.discard_pending()?; // earlier output is not ours
//! obj.attach_all()?;
//! let interrupt = Interrupt::new()?; // Ctrl-C ends the loop below
//! while !interrupt.pending() {
//!     for line in pipe.read_lines(Duration::from_millis(500), Some(&interrupt))? {
//!         println!("{line}");
//!     }
//! }
//! drop(obj); // detach, unload, close
//!
//! // open → adjust → load, then read a map: `execs` of bpf/maps.bpf.o is a
//! // hash map from pid to `struct event`, filled on every execve.
//! #[repr(C)]
//! #[derive(Clone, Copy)]
//! struct Event { comm: [u8; 16], pid: u32, uid: u32 }
//! tinybpf::pod!(Event { comm, pid, uid }); // checked: no padding
//!
//! let mut open = OpenObject::open("bpf/maps.bpf.o")?;
//! open.set_max_entries("execs", 1024)?;
//! let mut obj = open.load()?;
//! obj.attach_all()?;
//! std::thread::sleep(Duration::from_secs(1));
//! let execs = obj.map("execs").ok_or("no map execs")?;
//! for key in execs.keys() {
//!     let pid = u32::from_ne_bytes(key?.as_slice().try_into()?);
//!     if let Some(e) = execs.get::<u32, Event>(&pid)? {
//!         println!("pid {pid}: uid {}", e.uid);
//!     }
//! }
//!
//! // A `const volatile` global, set before load, and a test run.
//! let mut open = OpenObject::open("bpf/globals.bpf.o")?;
//! open.set_global_value("multiplier", &3u32)?;
//! let obj = open.load()?;
//! let packet = TestRunOpts::default().data_in(&[0; 64]);
//! let run = obj.program("xdp_count").ok_or("no program")?.test_run(&packet)?;
//! assert_eq!(run.retval, 2); // XDP_PASS: the program saw multiplier == 3
//! # Ok(())
//! # }
//! ```
//!
//! More in `examples/`: `api_tour` (the README's snippet), `maps` (a typed
//! hash map with [`pod!`]), `execsnoop` ([`RingBuffer`], or [`PerfBuffer`]),
//! `ringbuf_thread` (a [`SendRingBuffer`] on its own thread).
//! Typed skeletons ([`skel`], `tinybpf gen skeleton`): `maps_skel`,
//! `execsnoop_skel`.
//!
//! # Main types
//!
//! - [`OpenObject`]: a parsed object, adjusted before [`OpenObject::load`];
//!   [`LoadOptions`] (BTF file for CO-RE, verifier log level, pin root).
//! - [`Object`]: what a load made; [`Object::program`], [`Object::map`].
//! - [`Program`]: attach (`attach_*`), [`Program::test_run`], pin.
//! - [`Map`]: by bytes ([`Map::lookup`], [`Map::update`], [`Map::keys`])
//!   and typed ([`Map::get`], [`Map::set`] for [`Pod`] types, made with
//!   [`pod!`]) access, per-CPU values, global data ([`Map::data`]), pinning.
//! - [`Link`]: an attachment; detached when dropped, unless pinned.
//! - [`RingBuffer`], [`PerfBuffer`]: event streams from BPF, epoll-based;
//!   their `Send` variants [`SendRingBuffer`], [`SendPerfBuffer`].
//! - [`events`]: [`events::TracePipe`] (`bpf_printk` output),
//!   [`events::Interrupt`] (Ctrl-C for event loops).
//!
//! # Errors
//!
//! Every fallible call returns [`Result`], whose error is the one [`Error`]
//! type. Its variants carry typed sources: the parse, BTF, CO-RE and link
//! errors of the pure layers ([`obj::ParseError`], [`btf::BtfError`],
//! [`reloc::core::CoreError`], [`reloc::link::LinkError`]) and the failed
//! system call (with its errno) for kernel errors; the message names what
//! failed (program, map, section, symbol, instruction, file) and ends with
//! a hint saying what to do. [`Error::errno`] gives the errno when a system
//! call failed (`EPERM`: missing privileges; `EACCES`/`EINVAL` from the
//! verifier). [`Error::verifier_log`] gives the whole verifier log when the
//! kernel rejected a program (with C source lines from `.BTF.ext`).
//!
//! # Privileges and tests
//!
//! Loading needs root, or CAP_BPF (plus CAP_PERFMON for tracing programs);
//! the README has the table per attach kind. `cargo test` runs the unit
//! tests and the real-kernel tests; run it as root (the repository's
//! `.cargo/config.toml` runner does it through `sudo -E`): without root the
//! kernel tests skip, unless `CI` is set, in which case they fail.
//!
//! # Modules
//!
//! The crate has one home per lifecycle stage (`docs/architecture.md`):
//! pure layers ([`obj`]: ELF → [`obj::ObjectSpec`]; [`btf`]; [`reloc`]:
//! CO-RE, linking, `.kconfig`; [`abi`]: instruction encoding and map types),
//! a crate-private load pipeline that asks the kernel stage by stage, and
//! the run-time handles above. [`obj`], [`btf`], [`reloc`] and [`kernel`]
//! serve tools (parse, relocate, check against a kernel's BTF without
//! loading); their API may change between minor versions. System calls
//! live in a crate-private `sys` module, the only one with `unsafe`.

#![deny(missing_docs)]

pub mod abi;
mod auto_attach;
pub mod btf;
mod callback;
pub mod error;
pub mod events;
pub mod features;
pub mod iter;
pub mod kernel;
mod link;
mod load;
mod map;
mod multi;
pub mod net;
pub mod netlink;
pub mod obj;
mod object;
mod open;
mod perfbuf;
mod program;
pub mod reloc;
mod ringbuf;
pub mod skel;
pub mod skeleton;
mod sys;
pub mod tracefs;
pub mod uprobe;
pub mod usdt;
mod util;

pub use abi::{AttachType, MapType, ProgType};
pub use callback::{Callbacks, IntoLostFn, IntoRecordFn, IntoSampleFn, Local, Sendable};
pub use error::{Error, Result};
pub use iter::{IterOpts, IterReader};
pub use link::Link;
pub use load::freplace::AttachProgTarget;
pub use map::{flags as map_flags, Keys, Map, Pod};
pub use multi::{KprobeMultiOpts, UprobeMultiOpts};
pub use object::Object;
pub use open::{LoadOptions, OpenObject};
pub use perfbuf::{PerfBuffer, PerfBufferBuilder, SendPerfBuffer};
pub use program::{Pid, ProbeKind, Program, TestRun, TestRunOpts, UprobeOpts};
pub use ringbuf::{RingBuffer, SendRingBuffer};

/// What [`pod!`] expands to; not API.
#[doc(hidden)]
pub mod __private {
    pub use crate::sys::pod::{__pod_field_size, __pod_type_size};
}
