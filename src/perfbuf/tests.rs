//! Unit tests of the perf buffer's pure parts (record decoding, wrapped
//! copies, CPU lists).

use super::*;

fn sample(raw: &[u8]) -> Vec<u8> {
    let size = (HEADER_SIZE + 4 + raw.len()).div_ceil(8) * 8;
    let mut v = Vec::new();
    v.extend_from_slice(&PERF_RECORD_SAMPLE.to_ne_bytes());
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&(size as u16).to_ne_bytes());
    v.extend_from_slice(&((size - HEADER_SIZE - 4) as u32).to_ne_bytes());
    v.extend_from_slice(raw);
    v.resize(size, 0);
    v
}

#[test]
fn decode() {
    let rec = sample(&[7u8; 64]);
    assert_eq!(rec.len(), 80);
    match decode_record(&rec) {
        Some(PerfRecord::Sample(raw)) => {
            assert_eq!(raw.len(), 68);
            assert_eq!(&raw[..64], &[7u8; 64]);
        }
        r => panic!("{r:?}"),
    }
    let mut lost = Vec::new();
    lost.extend_from_slice(&PERF_RECORD_LOST.to_ne_bytes());
    lost.extend_from_slice(&0u16.to_ne_bytes());
    lost.extend_from_slice(&24u16.to_ne_bytes());
    lost.extend_from_slice(&5u64.to_ne_bytes());
    lost.extend_from_slice(&123u64.to_ne_bytes());
    assert_eq!(decode_record(&lost), Some(PerfRecord::Lost(123)));
    // Truncated, or a raw size past the record: rejected, no panic.
    assert_eq!(decode_record(&lost[..20]), None);
    let mut bad = rec.clone();
    bad[8..12].copy_from_slice(&1000u32.to_ne_bytes());
    assert_eq!(decode_record(&bad), None);
    bad[8..12].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert_eq!(decode_record(&bad), None);
    assert_eq!(decode_record(&[]), None);
    let mut other = lost.clone();
    other[0..4].copy_from_slice(&3u32.to_ne_bytes());
    assert_eq!(decode_record(&other), Some(PerfRecord::Other(3)));
}

#[test]
fn wrapped_copy() {
    // A 32-byte ring after 8 bytes of "metadata"; a record written at
    // position 24 (of 40) wraps: 8 bytes at the end, 16 at the start.
    let mut mem = [0xeeu8; 8 + 32];
    let rec: Vec<u8> = (0..24u8).collect();
    for (i, b) in rec.iter().enumerate() {
        mem[8 + (24 + i) % 32] = *b;
    }
    let read = |off: usize, dst: &mut [u8]| match mem.get(off..off + dst.len()) {
        Some(s) => {
            dst.copy_from_slice(s);
            true
        }
        None => false,
    };
    let mut out = vec![0u8; 24];
    assert!(copy_wrapped(read, 8, 32, 24 + 64, &mut out));
    assert_eq!(out, rec);
    let mut small = [0u8; 4];
    assert!(copy_wrapped(read, 8, 32, 25, &mut small));
    assert_eq!(small, [1, 2, 3, 4]);
    let mut big = vec![0u8; 33];
    assert!(!copy_wrapped(read, 8, 32, 0, &mut big));
    assert!(!copy_wrapped(read, 8, 0, 0, &mut small));
    // Data area claimed past the memory: refused.
    assert!(!copy_wrapped(read, 16, 32, 30, &mut small));
}

#[test]
fn cpu_sets() {
    assert_eq!(parse_cpu_set("0-1\n"), Some(vec![0, 1]));
    assert_eq!(parse_cpu_set("0,2-3,5"), Some(vec![0, 2, 3, 5]));
    assert_eq!(parse_cpu_set("3,1,1"), Some(vec![1, 3]));
    assert_eq!(parse_cpu_set(""), Some(vec![]));
    assert_eq!(parse_cpu_set("2-1"), None);
    assert_eq!(parse_cpu_set("0-4294967295"), None);
    assert_eq!(parse_cpu_set("x"), None);
    assert!(!online_cpus().unwrap().is_empty());
}
