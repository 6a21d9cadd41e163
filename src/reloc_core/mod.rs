//! CO-RE relocation engine (pure: instructions + local BTF + target BTF in, patched instructions out).

/// Placeholder until the engine lands.
#[derive(Clone, Debug)]
pub struct RelocOutcome {
    pub section: String,
    pub insn_idx: usize,
    pub kind: String,
    pub type_name: String,
    pub access: String,
    pub target_value: Option<u64>,
}

pub fn needs_kernel_btf(ext: &crate::btf::BtfExt) -> bool {
    ext.core_relos
        .iter()
        .any(|(_, r)| r.iter().any(|r| r.kind != 6))
}
