//! The gzip/DEFLATE decoder (the /proc/config.gz path), reached through the
//! public `KernelConfig::from_bytes` (which gunzips gzip input with a
//! 64 MiB output limit): arbitrary bytes, and a gzip header followed by the
//! fuzzer's deflate stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinybpf::reloc::kconfig::KernelConfig;

fuzz_target!(|data: &[u8]| {
    let _ = KernelConfig::from_bytes(data);
    if data.len() > 10 {
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(&data[10..]);
        let _ = KernelConfig::from_bytes(&gz);
    }
});
