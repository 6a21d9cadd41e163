//! The running kernel as a CO-RE target, for offline tools (`tinybpf check`,
//! tests, benchmarks): its BTF, its modules' BTF, BTF files standing in for
//! it, and what `.kconfig` externs would see. Build a target with
//! [`CoreTarget::kernel`] or [`CoreTarget::file`], then relocate with
//! [`crate::reloc::relocate_copy`].

pub use crate::load::target::{kernel_btf, module_btfs, read_btf_file};
pub use crate::reloc::kconfig::{KernelConfig, KernelFacts};
pub use crate::reloc::CoreTarget;
