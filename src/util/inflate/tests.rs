//! DEFLATE/gzip tests.

use super::*;

/// `printf 'hello hello hello hello\n' | gzip -9n` (fixed Huffman, a match).
const HELLO_GZ: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57,
    0xc8, 0x40, 0x27, 0xb9, 0x00, 0x00, 0x88, 0x59, 0x0b, 0x18, 0x00, 0x00, 0x00,
];

#[test]
fn stored_fixed_tiny() {
    assert_eq!(
        gunzip(HELLO_GZ, 1024).unwrap(),
        b"hello hello hello hello\n"
    );
    // A stored block: BFINAL=1, BTYPE=00, LEN=3, NLEN=!3, "abc".
    let raw = [0x01, 0x03, 0x00, 0xfc, 0xff, b'a', b'b', b'c'];
    assert_eq!(inflate(&raw, 16).unwrap(), (b"abc".to_vec(), 8));
    // Fixed block of an empty stream: 0x03 0x00.
    assert_eq!(inflate(&[0x03, 0x00], 16).unwrap(), (Vec::new(), 2));
}

#[test]
fn stored_blocks_roundtrip() {
    for len in [0usize, 1, 65535, 65536, 140_000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let gz = super::tests_support::gzip_stored(&data);
        assert_eq!(gunzip(&gz, len).unwrap(), data, "len {len}");
    }
}

#[test]
fn crc() {
    assert_eq!(crc32(b""), 0);
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}

#[test]
fn errors_not_panics() {
    // Truncation at every length.
    for n in 0..HELLO_GZ.len() {
        assert!(gunzip(&HELLO_GZ[..n], 1024).is_err(), "prefix {n}");
    }
    // Every single-bit flip: an error or (rarely) other data, never a panic.
    for i in 0..HELLO_GZ.len() {
        for bit in 0..8 {
            let mut d = HELLO_GZ.to_vec();
            d[i] ^= 1 << bit;
            let _ = gunzip(&d, 1024);
        }
    }
    assert_eq!(
        inflate(&[0x07], 16).unwrap_err(),
        InflateError::BadBlockType { at: 0 }
    );
    assert!(matches!(
        inflate(&[0x01, 0x03, 0x00, 0xfc, 0xfe, b'a', b'b', b'c'], 16),
        Err(InflateError::StoredLength { .. })
    ));
    assert_eq!(
        gunzip(HELLO_GZ, 10).unwrap_err(),
        InflateError::TooLarge { limit: 10 }
    );
    let mut bad_crc = HELLO_GZ.to_vec();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 1;
    assert!(matches!(
        gunzip(&bad_crc, 1024),
        Err(InflateError::Crc { .. })
    ));
    assert!(matches!(
        gunzip(b"PK\x03\x04 not gzip", 1024),
        Err(InflateError::BadHeader(_))
    ));
}

#[test]
fn pseudo_random_garbage() {
    // xorshift garbage as raw DEFLATE and behind a gzip header.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..2000 {
        let len = (round % 200) + 1;
        let mut d = Vec::with_capacity(len + 10);
        if round % 2 == 0 {
            d.extend_from_slice(&HELLO_GZ[..10]);
        }
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            d.push(x as u8);
        }
        let _ = gunzip(&d, 1 << 16);
        let _ = inflate(&d, 1 << 16);
    }
}

fn gzip(data: &[u8], level: &str) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .args(["-c", level])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip(1) is needed by this test");
    let mut stdin = child.stdin.take().unwrap();
    let owned = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&owned));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// Text-like data with long and short repeats, plus incompressible runs
/// (gzip stores those), so dynamic, fixed and stored blocks all appear.
fn sample(len: usize) -> Vec<u8> {
    let words: [&[u8]; 8] = [
        b"CONFIG_",
        b"=y\n",
        b"# is not set\n",
        b"BPF",
        b"NET_",
        b"=m\n",
        b"0x1000",
        b"_SYSCALL",
    ];
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x % 97 == 0 {
            for _ in 0..300 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                out.push((x >> 24) as u8);
            }
        } else {
            out.extend_from_slice(words[(x % 8) as usize]);
        }
    }
    out.truncate(len);
    out
}

#[test]
fn matches_gzip_tool() {
    for (len, level) in [
        (0, "-6"),
        (1, "-1"),
        (1000, "-9"),
        (200_000, "-6"),
        (70_000, "-1"),
    ] {
        let data = sample(len);
        let gz = gzip(&data, level);
        assert_eq!(gunzip(&gz, len).unwrap(), data, "len {len} level {level}");
        if len > 0 {
            assert_eq!(
                gunzip(&gz, len - 1).unwrap_err(),
                InflateError::TooLarge { limit: len - 1 }
            );
        }
        // Two members back to back decode as their concatenation.
        let mut two = gz.clone();
        two.extend_from_slice(&gz);
        let mut want = data.clone();
        want.extend_from_slice(&data);
        assert_eq!(gunzip(&two, 2 * len).unwrap(), want);
    }
    // Incompressible data: gzip writes stored blocks.
    let mut x: u32 = 0x2545_f491;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect();
    let gz = gzip(&noise, "-9");
    assert!(gz.len() > noise.len(), "expected stored blocks");
    assert_eq!(gunzip(&gz, noise.len()).unwrap(), noise);
    // Truncating a real stream anywhere is an error.
    let gz = gzip(&sample(5000), "-6");
    for n in (0..gz.len()).step_by(7) {
        assert!(gunzip(&gz[..n], 1 << 20).is_err(), "prefix {n}");
    }
    // Corrupting it anywhere never panics, and never passes the CRC
    // with wrong data.
    let data = sample(5000);
    for i in (10..gz.len() - 8).step_by(3) {
        let mut d = gz.clone();
        d[i] ^= 0x5a;
        if let Ok(v) = gunzip(&d, 1 << 20) {
            assert_eq!(v, data);
        }
    }
}

#[test]
fn running_kernel_config() {
    // /proc/config.gz, when the kernel has CONFIG_IKCONFIG_PROC.
    let Ok(gz) = std::fs::read("/proc/config.gz") else {
        eprintln!("no /proc/config.gz; skipped");
        return;
    };
    let text = gunzip(&gz, 64 << 20).unwrap();
    assert!(text.starts_with(b"#\n# Automatically generated file"));
    let zcat = std::process::Command::new("gzip")
        .args(["-dc", "/proc/config.gz"])
        .output()
        .unwrap();
    assert_eq!(text, zcat.stdout);
}
