//! Structure-aware: the fuzzer's bytes drive the generator shared with
//! tests/mutation.rs (`tests/common/gen_elf.rs`), which builds a plausible
//! BPF object (functions with random sizes, symbols of every type and
//! binding, relocations against functions/data/maps/externs, ld_imm64 at
//! function edges, BTF and .BTF.ext records). The object goes through
//! parse → the pure `OpenObject` setters → CO-RE (against its own BTF or
//! the fixed target) → link every program. The tail of the input also
//! drives `kconfig::encode_value` with arbitrary types and values.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
#[path = "../../tests/common/gen_elf.rs"]
mod gen_elf;

use tinybpf::obj::kconfig::KconfigType;

fn kconfig(data: &[u8]) {
    let Some((&[k, a, b], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let n = u16::from_le_bytes([a, b]) as u32 % 70;
    let ty = match k % 5 {
        0 => KconfigType::Bool,
        1 => KconfigType::Char,
        2 => KconfigType::Tristate { size: n },
        3 => KconfigType::Int {
            size: n,
            signed: k & 0x80 != 0,
        },
        _ => KconfigType::CharArray { len: n },
    };
    let raw = String::from_utf8_lossy(rest.get(..rest.len().min(40)).unwrap_or_default());
    let mut out = vec![0u8; ty.size() as usize];
    let _ = tinybpf::reloc::kconfig::encode_value("CONFIG_FUZZ", ty, &raw, &mut out);
    // A slot of the wrong size is an error, not a panic.
    let mut short = vec![0u8; (ty.size() as usize).saturating_sub(1)];
    let _ = tinybpf::reloc::kconfig::encode_value("CONFIG_FUZZ", ty, &raw, &mut short);
}

fuzz_target!(|data: &[u8]| {
    let mut src = gen_elf::Src::new(data);
    let bytes = gen_elf::generate(&mut src);
    if let Some(tail) = data.len().checked_sub(48).and_then(|s| data.get(s..)) {
        kconfig(tail);
    }
    let Ok(mut spec) = tinybpf::obj::ObjectSpec::parse("gen", &bytes) else {
        return;
    };
    common::open_object_api(&bytes, &spec);
    let own = tinybpf::btf::Btf::from_elf(&bytes).ok();
    let target = match (&own, data.first()) {
        (Some(b), Some(x)) if x & 1 == 1 => b,
        _ => common::target_btf(),
    };
    let _ = tinybpf::reloc::relocate(&mut spec, target);
    let ext = common::ext_info(&spec);
    for i in 0..spec.programs.len() + 1 {
        if let Ok(l) = tinybpf::reloc::link::link_program(&spec, i, &ext) {
            let _ = tinybpf::abi::insn::Insn::encode_all(&l.insns);
        }
    }
});
