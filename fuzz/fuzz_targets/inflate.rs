//! `inflate::gunzip` and raw `inflate::inflate` (the /proc/config.gz path)
//! on arbitrary bytes, with a 1 MiB output limit.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tinybpf::inflate::gunzip(data, 1 << 20);
    let _ = tinybpf::inflate::inflate(data, 1 << 20);
    if data.len() > 10 {
        // A gzip header followed by the fuzzer's deflate stream.
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(&data[10..]);
        let _ = tinybpf::inflate::gunzip(&gz, 1 << 20);
    }
});
