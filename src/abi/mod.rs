//! The kernel's BPF ABI as plain data: instruction encoding and map types.

pub mod insn;
pub mod map_type;
