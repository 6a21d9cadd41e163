//! tinybpf: load BPF CO-RE objects by talking to the kernel through bpf(2) and
//! perf_event_open(2) directly. No libbpf, no C at run time.

pub mod btf;
pub mod insn;
pub mod memlock;
pub mod obj;
pub mod reloc_core;
pub mod sys;
pub mod tracefs;
