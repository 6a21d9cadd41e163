#![allow(missing_docs)] // TODO(api-errors): documented by the api-errors rewrite; the lead removes this after merging.
//! The kernel's BPF ABI as plain data: instruction encoding and map types.

pub mod insn;
pub mod map_type;
