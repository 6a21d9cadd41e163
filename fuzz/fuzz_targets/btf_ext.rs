//! BtfExt::parse on arbitrary bytes against a fixed BTF.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let btf = common::ext_btf();
    if let Ok(ext) = tinybpf::btf::BtfExt::parse(data, btf) {
        for (sec, _) in &ext.core_relos {
            let _ = ext.core_relos_for(sec).len();
            let _ = ext.func_info_for(sec).len();
            let _ = ext.line_info_for(sec).len();
        }
        let _ = tinybpf::reloc::core::needs_kernel_btf(&ext);
    }
});
