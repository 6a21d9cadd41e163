//! ObjectSpec::parse on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = tinybpf::obj::ObjectSpec::parse("fuzz", data) {
        if let Some(b) = &spec.btf {
            common::walk_btf(b);
        }
        let _ = spec.programs.iter().map(|p| p.name.len()).sum::<usize>();
    }
});
