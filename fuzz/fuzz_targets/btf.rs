//! Btf::parse on arbitrary bytes, then every type walked.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = tinybpf::btf::Btf::parse(data.to_vec()) {
        common::walk_btf(&btf);
    }
});
