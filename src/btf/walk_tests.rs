//! The interleaved walk ([`super::walk`]) against a plain serial walk:
//! same offsets, ids, named types and errors on real kernel BTF, on
//! synthetic BTF built so a wrong cut looks plausible, on tiny and on
//! corrupt BTF.

use super::parse::type_len_at;
use super::walk::parse_error;
use super::walk::{cut_points, plausible_at, walk, walk_from, Section, Walked, MAX_CHAINS};
use super::{Btf, BtfError, BTF_MAGIC, HDR_MIN, SPARSE, TYPE_HDR};

/// What the serial walk finds: every type's offset, the named non-FUNC
/// types (id, name_off).
#[derive(Debug, PartialEq)]
struct Serial {
    offs: Vec<usize>,
    named: Vec<(u32, u32)>,
}

/// The plain serial walk, written as simply as possible.
fn serial(sec: Section<'_>) -> Result<Serial, String> {
    let t = sec.types;
    let mut s = Serial {
        offs: vec![],
        named: vec![],
    };
    let mut off = 0;
    while off < t.len() {
        let id = sec.first_id + s.offs.len() as u32;
        let err = || format!("{:?}", parse_error(t, off, id, sec.total_str, false));
        if t.len() - off < TYPE_HDR {
            return Err(err());
        }
        let name_off = u32::from_le_bytes(t[off..off + 4].try_into().unwrap());
        let k = t[off + 7] & 0x1f;
        if !(1..=19).contains(&k) || name_off as u64 >= sec.total_str {
            return Err(err());
        }
        let len = type_len_at(&t[off..]);
        if t.len() - off < len {
            return Err(err());
        }
        if name_off != 0 && k != 12 {
            s.named.push((id, name_off));
        }
        s.offs.push(off);
        off += len;
    }
    Ok(s)
}

/// Every type's offset as the walk's segments and sparse tables give it.
fn offsets(w: &Walked, t: &[u8]) -> Vec<usize> {
    let nsegs = w.segs.iter().filter(|s| s.0 != u32::MAX).count();
    assert!(w.segs[..nsegs].windows(2).all(|p| p[0].0 < p[1].0));
    (0..w.count)
        .map(|i| {
            let seg = w.segs[..nsegs].iter().rev().find(|s| s.0 <= i).unwrap();
            let local = (i - seg.0) as usize;
            let mut off = w.sparse[seg.1 as usize + local / SPARSE] as usize;
            for _ in 0..local % SPARSE {
                off += type_len_at(&t[off..]);
            }
            off
        })
        .collect()
}

fn as_serial(r: Result<Walked, BtfError>, t: &[u8]) -> Result<(Serial, usize), String> {
    let w = r.map_err(|e| format!("{e:?}"))?;
    let nsegs = w.segs.iter().filter(|s| s.0 != u32::MAX).count();
    let s = Serial {
        offs: offsets(&w, t),
        named: w.named_types,
    };
    Ok((s, nsegs))
}

/// Check the walk from `starts` against the serial walk; the number of
/// segments joined.
fn check(sec: Section<'_>, starts: &[usize], what: &str) -> usize {
    let want = serial(sec);
    let got = as_serial(walk_from(sec, starts), sec.types);
    match (&want, &got) {
        (Ok(w), Ok((g, _))) => {
            assert_eq!(w.offs.len(), g.offs.len(), "{what} {starts:?}: count");
            assert!(w == g, "{what} {starts:?}: results differ");
        }
        _ => assert_eq!(want.as_ref().err(), got.as_ref().err(), "{what} {starts:?}"),
    }
    got.map(|g| g.1).unwrap_or(0)
}

/// A raw BTF blob's sections (as `Btf::parse` finds them).
fn section(b: &[u8]) -> Section<'_> {
    let rd = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let hdr = rd(4);
    let (to, tl, so, sl) = (rd(8), rd(12), rd(16), rd(20));
    Section {
        types: &b[hdr + to..hdr + to + tl],
        total_str: sl as u64,
        first_id: 1,
        strs: &b[hdr + so..hdr + so + sl],
        base_str_len: 0,
    }
}

/// Pseudo-random numbers (deterministic).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as u32
    }
}

/// Raw BTF: `parts` of random types of about the given byte sizes, with a
/// decoy ENUM between consecutive parts whose entries spell `decoy` PTR
/// headers (they tile its data, so a walk started inside it falls in step
/// with the real one where it ends).
fn synthetic(seed: u64, parts: &[usize], decoy: usize) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut strs = vec![0u8];
    let mut names = vec![];
    for i in 0..400 {
        names.push(strs.len() as u32);
        strs.extend_from_slice(format!("name_{i}___v{}\0", i % 3).as_bytes());
    }
    let mut t: Vec<u32> = vec![];
    for (p, &size) in parts.iter().enumerate() {
        if p > 0 {
            t.extend([0, (6 << 24) | (decoy as u32 * 3 / 2), 4]);
            for _ in 0..decoy {
                t.extend([0, 2 << 24, 1]);
            }
        }
        let stop = t.len() + size / 4;
        while t.len() < stop {
            let name = names[r.next(names.len() as u32) as usize];
            let v = r.next(6);
            match r.next(12) {
                0 => t.extend([name, 1 << 24, 4, 32]),
                1 => t.extend([0, 2 << 24, 1]),
                2 => t.extend([0, 3 << 24, 0, 1, 1, 4]),
                3 | 4 => {
                    t.extend([name, (4 << 24) | v, 8]);
                    for j in 0..v {
                        t.extend([name, 1, j * 8]);
                    }
                }
                5 => {
                    t.extend([name, (6 << 24) | v, 4]);
                    for j in 0..v {
                        t.extend([name, j]);
                    }
                }
                6 => t.extend([name, 12 << 24 | (v % 3), 2]),
                7 => {
                    t.extend([0, (13 << 24) | v, 1]);
                    for _ in 0..v {
                        t.extend([name, 1]);
                    }
                }
                8 => t.extend([name, 8 << 24, 1]),
                9 => t.extend([name, 14 << 24, 1, 1]),
                10 => {
                    t.extend([name, (19 << 24) | v, 8]);
                    for j in 0..v {
                        t.extend([name, j, 0]);
                    }
                }
                _ => t.extend([name, 17 << 24, 1, u32::MAX]),
            }
        }
    }
    let types: Vec<u8> = t.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut b = Vec::new();
    b.extend_from_slice(&BTF_MAGIC.to_le_bytes());
    b.extend_from_slice(&[1, 0]);
    let tl = types.len() as u32;
    for w in [HDR_MIN as u32, 0, tl, tl, strs.len() as u32] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(&types);
    b.extend_from_slice(&strs);
    b
}

/// Raw BTF files to test on: the running kernel's (required under CI) and
/// the Debian kernels' in /var/tmp/tinybpf-btf when present.
fn kernel_btfs() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    match std::fs::read("/sys/kernel/btf/vmlinux") {
        Ok(b) => out.push(("/sys/kernel/btf/vmlinux".to_string(), b)),
        Err(e) => {
            assert!(std::env::var("CI").is_err(), "kernel BTF: {e}");
            eprintln!("skipping /sys/kernel/btf/vmlinux: {e}");
        }
    }
    if let Ok(dir) = std::fs::read_dir("/var/tmp/tinybpf-btf") {
        let mut paths: Vec<_> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "btf"))
            .collect();
        paths.sort();
        for p in paths {
            let b = std::fs::read(&p).unwrap();
            if b.starts_with(&BTF_MAGIC.to_le_bytes()) {
                out.push((p.display().to_string(), b));
            }
        }
    }
    out
}

#[test]
fn kernel_btf_same_as_serial() {
    for (name, b) in kernel_btfs() {
        let sec = section(&b);
        let len = sec.types.len();
        // The real cut: found, a true boundary, and joined.
        let cuts = cut_points(sec, 2, 128 * 1024);
        assert_eq!(cuts.len(), 1, "{name}");
        let want = serial(sec).unwrap();
        assert!(want.offs.binary_search(&cuts[0]).is_ok(), "{name}: cut");
        assert_eq!(check(sec, &cuts, &name), 2, "{name}");
        let w = walk(sec).unwrap();
        assert_ne!(w.segs[1].0, u32::MAX, "{name}: not cut");
        // Four chains, and arbitrary (mostly wrong) cuts.
        let four = cut_points(sec, 4, 128 * 1024);
        assert_eq!(check(sec, &four, &name), 4, "{name}");
        check(sec, &[(len / 3) & !3, (2 * len / 3) & !3], &name);
        check(sec, &[4, 8, 12], &name);
        check(sec, &[len - 4], &name);
        // The parsed Btf: every id at the serial walk's offset.
        let btf = Btf::parse(b.clone()).unwrap();
        assert_eq!(btf.len() as usize, want.offs.len() + 1);
        for (i, &o) in want.offs.iter().enumerate() {
            assert_eq!(
                btf.own_offset(i as u32 + 1),
                Some(o),
                "{name}: id {}",
                i + 1
            );
        }
        assert_eq!(btf.named_types, want.named, "{name}");
    }
}

#[test]
fn decoy_cut_is_taken_and_undone() {
    // The middle of the section lies in a decoy ENUM whose data reads as
    // PTR headers: the cut goes there, the first chain does not land on it,
    // and the walk over the second half is redone.
    let b = synthetic(7, &[20_000, 20_000], 400);
    let sec = section(&b);
    let want = serial(sec).unwrap();
    let cuts = cut_points(sec, 2, 1024);
    assert_eq!(cuts.len(), 1);
    assert!(plausible_at(sec, cuts[0]));
    assert!(
        want.offs.binary_search(&cuts[0]).is_err(),
        "cut is a real type"
    );
    assert_eq!(check(sec, &cuts, "decoy"), 1);
    // Four chains: the middle cut is a decoy (the others may not be).
    let cuts = cut_points(sec, 4, 1024);
    assert_eq!(cuts.len(), 3);
    assert!(want.offs.binary_search(&cuts[1]).is_err());
    check(sec, &cuts, "decoy4");
}

#[test]
fn synthetic_same_as_serial() {
    for seed in 0..20 {
        let b = synthetic(seed, &[5000, 3000, 7000, 2000], 2 * (seed as usize % 4));
        let sec = section(&b);
        let len = sec.types.len();
        let want = serial(sec).unwrap();
        for chains in 1..=MAX_CHAINS {
            let cuts = cut_points(sec, chains, 512);
            let joined = check(sec, &cuts, "synthetic");
            assert!(joined <= chains);
        }
        // True boundaries only: every segment is joined.
        let n = want.offs.len();
        let exact = [want.offs[n / 4], want.offs[n / 2], want.offs[n - 1]];
        assert_eq!(check(sec, &exact, "exact"), 4);
        // Random cuts (any 4-byte-aligned offsets, some inside types).
        let mut r = Lcg(seed);
        for _ in 0..50 {
            let mut s: Vec<usize> = (0..r.next(4))
                .map(|_| r.next(len as u32) as usize & !3)
                .collect();
            s.sort();
            check(sec, &s, "random");
        }
    }
}

#[test]
fn tiny_btf() {
    for parts in [&[0usize][..], &[12], &[60], &[200]] {
        let b = synthetic(3, parts, 0);
        let sec = section(&b);
        assert!(cut_points(sec, 4, 1).len() <= 3);
        assert!(cut_points(sec, 2, 128 * 1024).is_empty());
        check(sec, &[], "tiny");
        check(sec, &[4], "tiny");
        check(sec, &[12, 24, 36], "tiny");
        check(sec, &[sec.types.len()], "tiny");
    }
}

#[test]
fn corrupt_btf_same_errors() {
    let good = synthetic(11, &[3000, 3000], 6);
    let sec = section(&good);
    let types_at = HDR_MIN;
    let len = sec.types.len();
    let offs = serial(sec).unwrap().offs;
    let mut r = Lcg(5);
    for round in 0..300 {
        let mut b = good.clone();
        // Break a header: an unknown kind, a name past the strings, a vlen
        // running past the end; or truncate the type section.
        let at = offs[r.next(offs.len() as u32) as usize] + types_at;
        match round % 4 {
            0 => b[at + 7] = 20 + r.next(12) as u8,
            1 => b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes()),
            2 => b[at + 5] = 0xff,
            _ => {
                let cut = r.next(len as u32) as usize;
                b[12..16].copy_from_slice(&(cut as u32).to_le_bytes());
            }
        }
        let sec = section(&b);
        let l = sec.types.len();
        assert!(serial(sec).is_err() || round % 4 >= 2);
        for starts in [
            cut_points(sec, 2, 512),
            cut_points(sec, 4, 512),
            vec![(l / 2) & !3],
            vec![4, (l / 3) & !3, (l * 2 / 3) & !3],
        ] {
            check(sec, &starts, "corrupt");
        }
    }
}
