//! Small pure helpers used by several layers (std only).

pub(crate) mod elf_bytes;
pub(crate) mod glob;
pub(crate) mod inflate;
pub(crate) mod number;
pub(crate) mod release;
pub(crate) mod sort;
