//! The walk of the type section that checks every type header and records
//! where every [`SPARSE`]-th type starts, as a few independent chains
//! interleaved in one thread.
//!
//! Each type's length gives the next type's offset, so a plain walk is one
//! dependency chain: load a header, decode its length, add, load the next
//! (~14 cycles a type, most of opening vmlinux's 126k types). Here the
//! section is cut into [`CHAINS`] segments: each cut is moved to the first
//! 4-byte-aligned offset after it where [`PROBE`] consecutive headers look
//! plausible ([`plausible_at`]), and [`LANES`] segments at a time are walked
//! in the same loop, one step of each per iteration, so their latency
//! chains overlap (a finished segment's lane goes to the next one).
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

use super::types::rd32;
use super::types::KIND_FUNC;
use super::{BtfError, SPARSE, TYPE_HDR};

/// Most segments a walk is cut into (and entries of [`Walked::segs`]).
pub(super) const MAX_CHAINS: usize = 8;
/// Segments a large type section is cut into.
const CHAINS: usize = 4;
/// Segments walked at the same time.
const LANES: usize = 4;
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

/// Per kind, for the fast loop: the length of a type of that kind is
/// `(s & FIXED_MASK) + (s >> PER_SHIFT) * vlen` (invalid kinds: at least
/// [`POISON`]), and bit `NAMED_BIT` says whether a named type of that kind
/// goes to the name index (all valid kinds but FUNC).
const SIZES: [u64; 32] = {
    let mut t = [POISON; 32];
    let mut k = 0;
    while k < 32 {
        if let Some((fixed, per)) = extra(k) {
            t[k] = (TYPE_HDR as u64 + fixed as u64)
                | (per as u64) << PER_SHIFT
                | ((k as u32 != KIND_FUNC) as u64) << NAMED_BIT;
        }
        k += 1;
    }
    t
};
const FIXED_MASK: u64 = (1 << 41) - 1;
const NAMED_BIT: u32 = 47;
const PER_SHIFT: u32 = 48;

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
    /// Sparse offset tables of the segments, one after the other.
    pub(super) sparse: Vec<u32>,
    /// (index of its first type, index of its first `sparse` entry) of
    /// each segment, in order; unused entries are `(u32::MAX, 0)`. Segment
    /// `s`'s entry `j` is the offset of its type `SPARSE * j`.
    pub(super) segs: [(u32, u32); MAX_CHAINS],
    /// (id, name_off) of the named non-FUNC types, in id order.
    pub(super) named_types: Vec<(u32, u32)>,
}

/// Added to a type's length when its header is invalid (unknown kind,
/// name outside the strings): the chain then ends past the section, which
/// marks it for an exact re-walk ([`exact`]), so the fast loop needs no
/// check of its own. Offsets are u64: sections are at most 4 GiB.
const POISON: u64 = 1 << 40;

/// One chain: a segment walked from `start` until an offset >= `end`.
struct Chain {
    start: usize,
    /// Offset of the next type (of the bad one if `bad`).
    off: u64,
    end: u64,
    /// Types walked (index within the segment of the next).
    n: u32,
    /// The round of [`run_all`] its type 0 was (or would have been) walked
    /// in.
    n0: u32,
    /// Stopped at an invalid type (at `off`): set by [`exact`] only.
    bad: bool,
    /// The fast loop met something invalid (or ran past the section): its
    /// results are not used, the segment is walked again by [`exact`].
    suspect: bool,
    sparse: Vec<u32>,
    /// (index within the segment, name_off) of named non-FUNC types.
    named: Vec<(u32, u32)>,
}

impl Chain {
    fn new(start: usize, end: usize, n: u32) -> Chain {
        let bytes = end.saturating_sub(start);
        Chain {
            start,
            off: start as u64,
            end: end as u64,
            n,
            n0: 0,
            bad: false,
            suspect: false,
            sparse: Vec::with_capacity(bytes / (24 * SPARSE) + 1),
            named: Vec::with_capacity(bytes / 192),
        }
    }
    fn done(&self) -> bool {
        self.bad || self.suspect || self.off >= self.end
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

    let mut segs = [(u32::MAX, 0u32); MAX_CHAINS];
    segs[0] = (0, 0);
    let mut nsegs = 1;
    let mut sparse: Vec<u32> = Vec::new();
    let mut named: Vec<(u32, u32)> = Vec::new();
    let mut count = 0u32;
    let (mut off, mut bad) = (0u64, false);
    for (j, mut next) in chains.into_iter().enumerate() {
        if bad {
            break;
        }
        if off != next.start as u64 || next.suspect {
            // Cut inside a type (or something invalid on the way): walk
            // this segment again from where the walk really is, as part of
            // the current segment; exactly if the fast loop fails.
            let seg_first = segs[nsegs - 1].0;
            let mut c = [Chain::new(
                off as usize,
                next.end as usize,
                count - seg_first,
            )];
            if !next.suspect {
                run_all(types, sec.total_str, &mut c);
            }
            let [mut c] = c;
            if c.suspect || next.suspect {
                c = Chain::new(off as usize, next.end as usize, count - seg_first);
                exact(sec, &mut c);
            }
            if j == 0 {
                (sparse, named) = (c.sparse, c.named);
                rebase(&mut named, sec.first_id);
            } else {
                sparse.extend_from_slice(&c.sparse);
                let base = sec.first_id + seg_first;
                named.extend(c.named.iter().map(|&(i, no)| (base + i, no)));
            }
            count = seg_first + c.n;
            (off, bad) = (c.off, c.bad);
            continue;
        }
        if j == 0 {
            (sparse, named) = (
                std::mem::take(&mut next.sparse),
                std::mem::take(&mut next.named),
            );
            rebase(&mut named, sec.first_id);
        } else {
            segs[nsegs] = (count, sparse.len() as u32);
            nsegs += 1;
            sparse.extend_from_slice(&next.sparse);
            let base = sec.first_id + count;
            named.extend(next.named.iter().map(|&(i, no)| (base + i, no)));
        }
        count += next.n;
        (off, bad) = (next.off, next.bad);
    }
    let off = off as usize;
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

/// Walk chain `c` one type at a time, checking each header and stopping
/// at the first invalid one (`bad`, at `off`): the plain serial walk, for
/// segments the fast loop found something wrong in.
fn exact(sec: Section<'_>, c: &mut Chain) {
    let t = sec.types;
    while c.off < c.end {
        let o = c.off as usize;
        if c.n as usize % SPARSE == 0 {
            c.sparse.push(o as u32);
        }
        let Some(h) = t.get(o..o + TYPE_HDR) else {
            c.bad = true;
            return;
        };
        let name_off = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let vlen = u16::from_le_bytes([h[4], h[5]]) as usize;
        let k = (h[7] & 0x1f) as u32;
        let Some((fixed, per)) = extra(k as usize) else {
            c.bad = true;
            return;
        };
        let need = TYPE_HDR + fixed as usize + per as usize * vlen;
        if name_off as u64 >= sec.total_str || t.len() - o < need {
            c.bad = true;
            return;
        }
        if name_off != 0 && k != KIND_FUNC {
            c.named.push((c.n, name_off));
        }
        c.n += 1;
        c.off += need as u64;
    }
}

/// Run all `chains` to their ends, at most [`LANES`] at a time,
/// interleaved: one loop steps each of the running chains once per round.
/// When one ends, the next not yet started takes its lane at the next
/// round that is a multiple of [`SPARSE`] (all running chains record their
/// sparse offsets in the same rounds).
fn run_all(types: &[u8], total_str: u64, chains: &mut [Chain]) {
    // The round counter: chain `c`'s type `i` is walked in round
    // `c.n0 + i`. The first chain starts at its own `n` (a continuation
    // starts mid-segment), so its offsets are recorded at the right types.
    let mut round = chains.first().map_or(0, |c| c.n);
    let mut next = 0;
    loop {
        let running = chains[..next].iter().filter(|c| !c.done()).count();
        if running == 0 && next < chains.len() {
            round = chains[next].n;
        }
        let mut running = running;
        while running < LANES
            && next < chains.len()
            && round.wrapping_sub(chains[next].n) as usize % SPARSE == 0
        {
            chains[next].n0 = round.wrapping_sub(chains[next].n);
            running += !chains[next].done() as usize;
            next += 1;
        }
        if running == 0 {
            return;
        }
        let more = running < LANES && next < chains.len();
        let mut act: Vec<&mut Chain> = chains[..next].iter_mut().filter(|c| !c.done()).collect();
        match act.len() {
            1 => run::<1>(types, total_str, &mut act, &mut round, more),
            2 => run::<2>(types, total_str, &mut act, &mut round, more),
            3 => run::<3>(types, total_str, &mut act, &mut round, more),
            _ => run::<4>(types, total_str, &mut act, &mut round, more),
        }
    }
}

/// Step the `K` chains of `st` together from round `round` until one of
/// them stops (or, if `more`, until the next round that is a multiple of
/// [`SPARSE`]: another chain is waiting for a lane).
///
/// Per type and chain: one bounds check, one compare with the chain's end,
/// no other branch: an invalid header adds [`POISON`] to its length (the
/// chain stops and is walked again by [`exact`]), a name offset check is a
/// running maximum, named types go to a small buffer unconditionally (only
/// the count moves), and a type's length comes from one [`SIZES`] entry.
#[inline(never)]
fn run<const K: usize>(
    types: &[u8],
    total_str: u64,
    st: &mut [&mut Chain],
    round: &mut u32,
    more: bool,
) {
    let Some(st) = st.get_mut(..K) else { return };
    let Ok(st) = <&mut [&mut Chain; K]>::try_from(st) else {
        return;
    };
    let len = types.len() as u64;
    let mut off = [0u64; K];
    let mut end = [0u64; K];
    let mut top = [0u32; K];
    let mut n0 = [0u32; K];
    let mut nb = [0usize; K];
    // (round | name_off << 32) entries.
    let mut buf = [[0u64; BUF]; K];
    for c in 0..K {
        off[c] = st[c].off;
        end[c] = st[c].end;
        n0[c] = st[c].n0;
    }
    let mut n = *round;
    let mut first = true;
    loop {
        if n as usize % SPARSE == 0 {
            if more && !first {
                break;
            }
            for c in 0..K {
                st[c].sparse.push(off[c] as u32);
                // Room for the SPARSE entries until the next check.
                if nb[c] > BUF - SPARSE {
                    let b = buf[c].get(..nb[c]).unwrap_or(&[]);
                    let base = n0[c];
                    st[c].named.extend(
                        b.iter()
                            .map(|&e| ((e as u32).wrapping_sub(base), (e >> 32) as u32)),
                    );
                    nb[c] = 0;
                }
            }
        }
        first = false;
        // Unrolled by hand: `opt-level = "z"` (the release profile) does
        // not unroll loops, and the lanes only overlap when unrolled.
        let mut stop = step(
            types,
            n,
            &mut off[0],
            end[0],
            &mut top[0],
            &mut buf[0],
            &mut nb[0],
        );
        if K > 1 {
            stop |= step(
                types,
                n,
                &mut off[1],
                end[1],
                &mut top[1],
                &mut buf[1],
                &mut nb[1],
            );
        }
        if K > 2 {
            stop |= step(
                types,
                n,
                &mut off[2],
                end[2],
                &mut top[2],
                &mut buf[2],
                &mut nb[2],
            );
        }
        if K > 3 {
            stop |= step(
                types,
                n,
                &mut off[3],
                end[3],
                &mut top[3],
                &mut buf[3],
                &mut nb[3],
            );
        }
        n = n.wrapping_add(1);
        if stop {
            break;
        }
    }
    *round = n;
    for c in 0..K {
        let b = buf[c].get(..nb[c]).unwrap_or(&[]);
        let base = n0[c];
        st[c].named.extend(
            b.iter()
                .map(|&e| ((e as u32).wrapping_sub(base), (e >> 32) as u32)),
        );
        st[c].off = off[c];
        st[c].n = n.wrapping_sub(base);
        st[c].suspect = off[c] > len || top[c] as u64 >= total_str;
    }
}

/// One type of one chain in [`run`]: read the header at `*off`, record
/// the name, advance `*off` by the type's length; whether the chain is at
/// or past its end.
#[inline(always)]
fn step(
    types: &[u8],
    n: u32,
    off: &mut u64,
    end: u64,
    top: &mut u32,
    buf: &mut [u64; BUF],
    nb: &mut usize,
) -> bool {
    let o = *off as usize;
    // Past the end (only invalid types start in the last 7 bytes):
    // 0, kind 0, invalid.
    // (A `match`, not `map_or`: at `opt-level = "z"` that is a call.)
    let w = match types.get(o..o + 8) {
        Some(h) => u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]),
        None => 0,
    };
    let vlen = (w >> 32) as u16 as u64;
    let sz = SIZES[(w >> 56) as usize & 0x1f];
    let need = (sz & FIXED_MASK) + (sz >> PER_SHIFT) * vlen;
    *top = (*top).max(w as u32);
    buf[*nb % BUF] = (w << 32) | n as u64;
    *nb += (sz >> NAMED_BIT) as usize & 1 & (w as u32 != 0) as usize;
    *off += need;
    *off >= end
}

/// Marks an invalid kind in [`EXTRA`].
pub(super) const BAD_KIND: u8 = 0xff;

/// Bytes after the fixed 12-byte header of a type: (fixed part, per vlen
/// entry), by kind number (`BAD_KIND`: 0 and > 19 are invalid).
pub(super) const EXTRA: [(u8, u8); 32] = {
    let mut t = [(BAD_KIND, 0u8); 32];
    let mut k = 0;
    while k < 32 {
        if let Some(e) = extra(k) {
            t[k] = e;
        }
        k += 1;
    }
    t
};

/// The error for the type at `off` of the type section (the parse loop's
/// cold path: works out which check failed).
#[cold]
pub(super) fn parse_error(
    types: &[u8],
    off: usize,
    id: u32,
    total_str: u64,
    too_many: bool,
) -> BtfError {
    if too_many {
        return BtfError::BadHeader("too many types".into());
    }
    let len = types.len().saturating_sub(off);
    if len < TYPE_HDR {
        return BtfError::Truncated {
            what: "type header",
            offset: off,
            need: TYPE_HDR,
            len,
        };
    }
    let name_off = rd32(types, off);
    let info = rd32(types, off + 4);
    let k = (info >> 24) & 0x1f;
    let (fixed, per) = EXTRA[k as usize];
    if fixed == BAD_KIND {
        return BtfError::BadType {
            id,
            offset: off,
            what: format!("unknown kind {k}"),
        };
    }
    if name_off as u64 >= total_str {
        return BtfError::BadType {
            id,
            offset: off,
            what: format!("name offset {name_off} outside string section"),
        };
    }
    BtfError::Truncated {
        what: "type data",
        offset: off,
        need: TYPE_HDR + fixed as usize + per as usize * (info & 0xffff) as usize,
        len,
    }
}
