//! The whole pure pipeline: parse → CO-RE against a fixed target BTF →
//! link every program.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let target = common::target_btf();
    let Ok(mut spec) = tinybpf::obj::ObjectSpec::parse("fuzz", data) else {
        return;
    };
    let _ = tinybpf::reloc::relocate(&mut spec, target);
    let ext = common::ext_info(&spec);
    for i in 0..spec.programs.len() {
        if let Ok(l) = tinybpf::reloc::link::link_program(&spec, i, &ext) {
            let _ = tinybpf::abi::insn::Insn::encode_all(&l.insns);
        }
    }
});
