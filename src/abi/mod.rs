//! The kernel's BPF ABI as plain data: instruction encoding.

pub mod insn;
