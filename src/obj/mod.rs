//! Object parsing: ELF bytes in, program and map specs out; no syscalls.
