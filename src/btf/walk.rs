//! The walk of the type section that checks every type header and records
//! where every [`SPARSE`]-th type starts, as a few independent chains
//! interleaved in one thread.
//!
//! Each type's length gives the next type's offset, so a plain walk is one
//! dependency chain: load a header, decode its length, add, load the next
//! (~14 cycles a type, most of opening vmlinux's 126k types). Here the
//! section is cut into [`CHAINS`] segments: each cut is moved to the first
//! 4-byte-aligned offset after it where [`PROBE`] consecutive headers look
//! plausible ([`plausible_at`]), and all segments are walked in the same
//! loop, one step of each per iteration, so their latency chains overlap.
//! A segment's types get their ids only once the segment before it is
//! known to end **exactly** at its start; if it ends past it instead (the
//! cut was inside a type), that segment's results are dropped and the
//! walk before it simply continues over it, one chain. The result is thus
//! the plain serial walk's, always (same offsets, ids, names, and the same
//! first error), and the guess only decides how fast it comes.
//!
//! Each accepted segment keeps its own sparse offset table, recorded from
//! its own first type (the ids before it were unknown while walking):
//! [`Walked::segs`] says where each starts.

use super::parse::parse_error;
use super::types::KIND_FUNC;
use super::{BtfError, SPARSE, TYPE_HDR};

/// Most segments a walk is cut into (and entries of [`Walked::segs`]).
pub(super) const MAX_CHAINS: usize = 4;
/// Segments a large type section is cut into.
const CHAINS: usize = 2;
/// Least bytes per segment worth a cut (smaller sections: one chain).
const MIN_SEGMENT: usize = 128 * 1024;
/// Consecutive headers a cut candidate must pass as plausible.
const PROBE: usize = 32;
/// Bytes searched after a cut for a plausible candidate.
const SCAN: usize = 64 * 1024;
/// Named types buffered per chain before a copy to its vector.
const BUF: usize = 256;

/// Bytes after the fixed 12-byte header of a type: (fixed part, per vlen
/// entry), by kind number (`None`: invalid kind).
pub(super) const fn extra(kind: usize) -> Option<(u8, u8)> {
    Some(match kind {
        1 => (4, 0),   // int
        2 => (0, 0),   // ptr
        3 => (12, 0),  // array
        4 => (0, 12),  // struct
        5 => (0, 12),  // union
        6 => (0, 8),   // enum
        7 => (0, 0),   // fwd
        8 => (0, 0),   // typedef
        9 => (0, 0),   // volatile
        10 => (0, 0),  // const
        11 => (0, 0),  // restrict
        12 => (0, 0),  // func
        13 => (0, 8),  // func_proto
        14 => (4, 0),  // var
        15 => (0, 12), // datasec
        16 => (0, 0),  // float
        17 => (4, 0),  // decl_tag
        18 => (0, 0),  // type_tag
        19 => (0, 12), // enum64
        _ => return None,
    })
}

/// [`extra`] packed two bits per kind (fixed part / 4, per-entry part / 4;
/// the sizes are 0, 4, 8 or 12), so the walk needs no table load on its
/// offset-to-offset chain, and which kinds are valid (one bit each).
const FIXED4: u64 = pack(0);
const PER4: u64 = pack(1);
const VALID: u32 = {
    let mut v = 0u32;
    let mut k = 0;
    while k < 32 {
        if extra(k).is_some() {
            v |= 1 << k;
        }
        k += 1;
    }
    v
};
/// Kinds whose vlen is always 0 (int, ptr, array, fwd, typedef, volatile,
/// const, restrict, var, float, decl_tag, type_tag): a cut-candidate check.
const NO_VLEN: u32 = (1 << 1)
    | (1 << 2)
    | (1 << 3)
    | (1 << 7)
    | (1 << 8)
    | (1 << 9)
    | (1 << 10)
    | (1 << 11)
    | (1 << 14)
    | (1 << 16)
    | (1 << 17)
    | (1 << 18);

const fn pack(which: usize) -> u64 {
    let mut v = 0u64;
    let mut k = 0;
    while k < 32 {
        if let Some((fixed, per)) = extra(k) {
            let x = if which == 0 { fixed } else { per };
            v |= ((x / 4) as u64 & 3) << (2 * k);
        }
        k += 1;
    }
    v
}

/// The type section being walked and what its headers are checked against.
#[derive(Clone, Copy)]
pub(super) struct Section<'a> {
    /// The type section.
    pub(super) types: &'a [u8],
    /// Length of all string sections (base's and own): the bound on name
    /// offsets.
    pub(super) total_str: u64,
    /// Id of the first type.
    pub(super) first_id: u32,
    /// The own string section (a cut-candidate check: names start strings).
    pub(super) strs: &'a [u8],
    /// Length of the base's string section (0 if not split BTF).
    pub(super) base_str_len: u32,
}

/// What the walk found.
pub(super) struct Walked {
    /// Number of types.
    pub(super) count: u32,
    /// Number of named FUNCs.
    pub(super) named_funcs: u32,
    /// Sparse offset tables of the segments, one after the other.
    pub(super) sparse: Vec<u32>,
    /// (index of its first type, index of its first `sparse` entry) of
    /// each segment, in order; unused entries are `(u32::MAX, 0)`. Segment
    /// `s`'s entry `j` is the offset of its type `SPARSE * j`.
    pub(super) segs: [(u32, u32); MAX_CHAINS],
    /// (id, name_off) of the named non-FUNC types, in id order.
    pub(super) named_types: Vec<(u32, u32)>,
}

/// One chain: a segment walked from `start` until an offset >= `end`.
struct Chain {
    start: usize,
    /// Offset of the next type (of the bad one if `bad`).
    off: usize,
    end: usize,
    /// Types walked (index within the segment of the next).
    n: u32,
    funcs: u32,
    /// Stopped at an invalid type (at `off`).
    bad: bool,
    sparse: Vec<u32>,
    /// (index within the segment, name_off) of named non-FUNC types.
    named: Vec<(u32, u32)>,
}

impl Chain {
    fn new(start: usize, end: usize, n: u32) -> Chain {
        let bytes = end.saturating_sub(start);
        Chain {
            start,
            off: start,
            end,
            n,
            funcs: 0,
            bad: false,
            sparse: Vec::with_capacity(bytes / (24 * SPARSE) + 1),
            named: Vec::with_capacity(bytes / 192),
        }
    }
    fn done(&self) -> bool {
        self.bad || self.off >= self.end
    }
}

/// Walk `sec` (cut into segments when it is large).
pub(super) fn walk(sec: Section<'_>) -> Result<Walked, BtfError> {
    let starts = cut_points(sec, CHAINS, MIN_SEGMENT);
    walk_from(sec, &starts)
}

/// Where to start the chains after the first, for `chains` chains of at
/// least `min_segment` bytes each: the first plausible type boundary (see
/// [`plausible_at`]) at or after each even cut, strictly increasing. Fewer
/// (none) when the section is small or no candidate is found.
pub(super) fn cut_points(sec: Section<'_>, chains: usize, min_segment: usize) -> Vec<usize> {
    let len = sec.types.len();
    let chains = chains.clamp(1, MAX_CHAINS).min(len / min_segment.max(1));
    let mut out = Vec::with_capacity(chains);
    let mut lo = 0usize;
    for j in 1..chains {
        let cut = (len / chains * j).max(lo + 4) & !3;
        let found = (cut..cut.saturating_add(SCAN).min(len))
            .step_by(4)
            .find(|&c| plausible_at(sec, c));
        if let Some(c) = found {
            out.push(c);
            lo = c;
        }
    }
    out
}

/// Whether [`PROBE`] headers from `off` (or all to the end of the section)
/// decode as valid types whose names start strings, with reserved info
/// bits clear and no vlen where their kind has none. A heuristic only:
/// [`walk_from`] gives the serial walk's results for any candidates.
pub(super) fn plausible_at(sec: Section<'_>, mut off: usize) -> bool {
    let t = sec.types;
    for _ in 0..PROBE {
        if off == t.len() {
            return true;
        }
        let Some(h) = t.get(off..off + TYPE_HDR) else {
            return false;
        };
        let name_off = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let info = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let vlen = (info & 0xffff) as usize;
        let k = (info >> 24) & 0x1f;
        let Some((fixed, per)) = extra(k as usize) else {
            return false;
        };
        if info & 0x60ff_0000 != 0
            || name_off as u64 >= sec.total_str
            || ((NO_VLEN >> k) & 1 == 1 && vlen != 0)
            || (k == KIND_FUNC && vlen > 2)
        {
            return false;
        }
        if name_off > sec.base_str_len {
            let o = (name_off - sec.base_str_len) as usize;
            if sec.strs.get(o - 1) != Some(&0) {
                return false;
            }
        }
        let need = TYPE_HDR + fixed as usize + per as usize * vlen;
        if t.len() - off < need {
            return false;
        }
        off += need;
    }
    true
}

/// Walk `sec` with one chain from 0 and one from each of `starts`
/// (increasing, at most `MAX_CHAINS - 1`; any offsets: wrong ones only
/// cost time), then join the segments that are exact and walk over the
/// others again. Same result as one chain from 0.
pub(super) fn walk_from(sec: Section<'_>, starts: &[usize]) -> Result<Walked, BtfError> {
    let types = sec.types;
    let len = types.len();
    let mut bounds = vec![0usize];
    for &s in starts.iter().take(MAX_CHAINS - 1) {
        if s > *bounds.last().unwrap_or(&0) && s < len {
            bounds.push(s);
        }
    }
    let mut chains: Vec<Chain> = (0..bounds.len())
        .map(|j| Chain::new(bounds[j], bounds.get(j + 1).copied().unwrap_or(len), 0))
        .collect();
    // The first chain's vectors become the result's: room for all.
    if let Some(c) = chains.first_mut() {
        c.sparse.reserve(len / (24 * SPARSE) + 1);
        c.named.reserve(len / 192);
    }
    run_all(types, sec.total_str, &mut chains);

    let mut rest = chains.into_iter();
    let Some(first) = rest.next() else {
        return Err(parse_error(types, 0, sec.first_id, sec.total_str, false));
    };
    let mut segs = [(u32::MAX, 0u32); MAX_CHAINS];
    segs[0] = (0, 0);
    let mut nsegs = 1;
    let mut sparse = first.sparse;
    let mut named = first.named;
    rebase(&mut named, sec.first_id);
    let mut count = first.n;
    let mut funcs = first.funcs;
    let (mut off, mut bad) = (first.off, first.bad);
    for next in rest {
        if bad {
            break;
        }
        if off != next.start {
            // Cut inside a type: walk over this segment again from where
            // the walk really is, continuing the current segment.
            let seg_first = segs[nsegs - 1].0;
            let mut c = [Chain::new(off, next.end, count - seg_first)];
            run_all(types, sec.total_str, &mut c);
            let [c] = c;
            sparse.extend_from_slice(&c.sparse);
            named.extend(c.named.iter().map(|&(i, no)| (sec.first_id + seg_first + i, no)));
            count = seg_first + c.n;
            funcs += c.funcs;
            (off, bad) = (c.off, c.bad);
            continue;
        }
        segs[nsegs] = (count, sparse.len() as u32);
        nsegs += 1;
        sparse.extend_from_slice(&next.sparse);
        named.extend(next.named.iter().map(|&(i, no)| (sec.first_id + count + i, no)));
        count += next.n;
        funcs += next.funcs;
        (off, bad) = (next.off, next.bad);
    }
    if bad || off != len {
        return Err(parse_error(
            types,
            off,
            sec.first_id.wrapping_add(count),
            sec.total_str,
            false,
        ));
    }
    // Each type takes >= 12 bytes, so count cannot wrap; ids must fit a u32.
    if count > u32::MAX - sec.first_id {
        return Err(parse_error(types, off, 0, sec.total_str, true));
    }
    Ok(Walked {
        count,
        named_funcs: funcs,
        sparse,
        segs,
        named_types: named,
    })
}

fn rebase(named: &mut [(u32, u32)], base: u32) {
    for e in named {
        e.0 += base;
    }
}

/// Run all `chains` to their ends, interleaved: while k of them are still
/// going, one loop steps each of those k once per iteration.
fn run_all(types: &[u8], total_str: u64, chains: &mut [Chain]) {
    loop {
        let mut act: Vec<&mut Chain> = chains.iter_mut().filter(|c| !c.done()).collect();
        match act.len() {
            0 => return,
            1 => run::<1>(types, total_str, &mut act),
            2 => run::<2>(types, total_str, &mut act),
            3 => run::<3>(types, total_str, &mut act),
            _ => run::<4>(types, total_str, &mut act),
        }
    }
}

/// Step the `K` chains of `st` (all going, all at the same `n`) together
/// until one of them stops.
///
/// Per type and chain: one bounds check, all validity checks folded into
/// one cold path, no data-dependent branch (named types go to a small
/// buffer unconditionally; only the count moves), and the sizes come from
/// bits of constants, not a table load on the offset-to-offset chain.
#[inline(never)]
fn run<const K: usize>(types: &[u8], total_str: u64, st: &mut [&mut Chain]) {
    let Some(st) = st.get_mut(..K) else { return };
    let Ok(st) = <&mut [&mut Chain; K]>::try_from(st) else {
        return;
    };
    let mut off = [0usize; K];
    let mut end = [0usize; K];
    let mut funcs = [0u32; K];
    let mut bad = [false; K];
    let mut nb = [0usize; K];
    let mut buf = [[(0u32, 0u32); BUF]; K];
    for c in 0..K {
        off[c] = st[c].off;
        end[c] = st[c].end;
    }
    let mut n = st[0].n;
    loop {
        if n as usize % SPARSE == 0 {
            for c in 0..K {
                st[c].sparse.push(off[c] as u32);
            }
        }
        let mut stop = false;
        for c in 0..K {
            let o = off[c];
            let Some(h) = types.get(o..o + TYPE_HDR) else {
                bad[c] = true;
                stop = true;
                continue;
            };
            let name_off = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
            let vlen = u16::from_le_bytes([h[4], h[5]]) as usize;
            let k = (h[7] & 0x1f) as u32;
            let fixed4 = (FIXED4 >> (2 * k)) as usize & 3;
            let per4 = (PER4 >> (2 * k)) as usize & 3;
            let need = TYPE_HDR + 4 * (fixed4 + per4 * vlen);
            if (VALID >> k) & 1 == 0 || (name_off as u64 >= total_str) | (types.len() - o < need) {
                bad[c] = true;
                stop = true;
                continue;
            }
            let named = name_off != 0;
            let func = k == KIND_FUNC;
            funcs[c] += (named & func) as u32;
            buf[c][nb[c] % BUF] = (n, name_off);
            nb[c] += (named & !func) as usize;
            if nb[c] == BUF {
                st[c].named.extend_from_slice(&buf[c]);
                nb[c] = 0;
            }
            off[c] = o + need;
            stop |= off[c] >= end[c];
        }
        n += 1;
        if stop {
            break;
        }
    }
    for c in 0..K {
        st[c].named.extend_from_slice(&buf[c][..nb[c] % BUF]);
        st[c].off = off[c];
        st[c].n = if bad[c] { n - 1 } else { n };
        st[c].bad = bad[c];
        st[c].funcs += funcs[c];
    }
}
