//! The name index: essential names (flavor suffixes stripped), the key
//! hash, and the lookups by name built on them.

use std::sync::OnceLock;

use super::parse::type_len_at;
use super::types::rd32;
use super::types::KIND_FUNC;
use super::{Btf, Kind};

/// Length of the essential part of a name: `foo___bar` -> `foo` (the last
/// `X___Y` separator where X and Y are not underscores).
pub fn essential_name(name: &str) -> &str {
    let n = essential_len(name.as_bytes());
    name.get(..n).unwrap_or(name)
}

fn essential_len(b: &[u8]) -> usize {
    let n = b.len();
    if n >= 5 {
        let mut i = n - 5;
        loop {
            if b[i] != b'_'
                && b[i + 1] == b'_'
                && b[i + 2] == b'_'
                && b[i + 3] == b'_'
                && b[i + 4] != b'_'
            {
                return i + 1;
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
    }
    n
}

/// Name index classes. FUNCs are most of vmlinux's named types (56k of 71k)
/// but only attach targets and ksyms look them up, so they get an index of
/// their own, built only when a FUNC is looked up; CO-RE never needs it.
const CLASS_TYPES: usize = 0;
const CLASS_FUNCS: usize = 1;

#[inline(always)]
fn class_of(kind: Kind) -> usize {
    if kind == Kind::Func {
        CLASS_FUNCS
    } else {
        CLASS_TYPES
    }
}

/// Name index of one class: its named types grouped by the first two
/// bytes of their name ([`group_of`]; a counting sort, so ids stay in
/// increasing order within a group), and for each group an open-addressing
/// table built on the first lookup of a name in that group. One lookup on
/// vmlinux thus hashes a few hundred names instead of all 15k.
pub(super) struct NameIndex {
    /// (id, name_off) of the class's named types, grouped.
    entries: Vec<(u32, u32)>,
    /// Group `g` is `entries[starts[g]..starts[g + 1]]`.
    starts: Vec<u32>,
    /// One table per group, built lazily.
    tables: Vec<OnceLock<GroupTable>>,
}

/// Number of name groups (see [`group_of`]).
const GROUPS: usize = 1024;

/// The group of a name (bytes to its NUL or the end of `s`): a hash of the
/// first two bytes of its key (the part [`key_hash`] hashes, up to the
/// first `___`), so every flavor of an essential name and the essential
/// name itself fall in one group. Reads only the first eight bytes.
#[inline(always)]
fn group_of(s: &[u8]) -> usize {
    let w = word_at(s, 0);
    // Key bytes: stop at a NUL or at the start of "___".
    let z = zero_bytes(w);
    let u = zero_bytes(w ^ UNDERSCORES);
    let starts3 = u & (u >> 8) & (u >> 16);
    let stop = (z | starts3).trailing_zeros() / 8;
    let b0 = if stop >= 1 { w & 0xff } else { 0 };
    let b1 = if stop >= 2 { (w >> 8) & 0xff } else { 0 };
    ((b0 * 0x9e37 + b1 * 0x1f3) % GROUPS as u64) as usize
}

/// Open-addressing table (linear probing, load <= 1/2) of one group: slot
/// values are 1 + the entry's index within the group (0 = empty), keyed by
/// [`key_hash`] of the name. Entries with the same key sit in one probe run
/// in increasing id order.
struct GroupTable {
    /// log2 of `slots.len()` (>= 1).
    bits: u32,
    slots: Vec<u32>,
}

impl GroupTable {
    fn slot(&self, h: u64) -> usize {
        (h >> (64 - self.bits)) as usize
    }
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }
}

/// Hash of a name up to its NUL, end, or first `___`, whichever comes first.
///
/// Cutting at the first `___` makes every flavor of an essential name
/// (`foo`, `foo___v1`, `foo___a___b` for essential `foo___a`) hash alike: an
/// essential name ends either at the end of the name or just before its last
/// `X___Y` separator, and either way the first `___` of the name and of its
/// essential part are the same (or both absent). Names are hashed in place
/// in the string section (no copy), eight bytes at a time.
#[inline(always)]
fn key_hash(s: &[u8]) -> u64 {
    let cut = key_len(s);
    let mut h: u64 = 0;
    let mut i = 0;
    while i + 8 <= cut {
        h = (h.rotate_left(23) ^ word_at(s, i)).wrapping_mul(0x517c_c1b7_2722_0a95);
        i += 8;
    }
    if i < cut {
        let w = word_at(s, i) & (u64::MAX >> (64 - 8 * (cut - i)));
        h = (h.rotate_left(23) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    h = (h ^ cut as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 32)
}

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const UNDERSCORES: u64 = 0x5f5f_5f5f_5f5f_5f5f;

/// 0x80 in each byte of `x` that is zero, 0 elsewhere (exact: no carries
/// between bytes).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !(((x & LO7).wrapping_add(LO7)) | x | LO7)
}

/// Eight bytes of `s` from `i`, little-endian; bytes past the end read as 0.
#[inline(always)]
fn word_at(s: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    match s.get(i..i.saturating_add(8)) {
        Some(b) => a.copy_from_slice(b),
        None => {
            let r = s.get(i..).unwrap_or(&[]);
            a[..r.len()].copy_from_slice(r);
        }
    }
    u64::from_le_bytes(a)
}

/// Length of the hashed part of a name: up to the first NUL, the end of
/// `s`, or the first `___`.
#[inline(always)]
fn key_len(s: &[u8]) -> usize {
    let mut i = 0usize;
    let mut prev_u = 0u64;
    loop {
        let w = word_at(s, i);
        let z = zero_bytes(w);
        let u = zero_bytes(w ^ UNDERSCORES);
        // Bytes ending a run of three underscores (runs may start in the
        // previous word).
        let e = u & ((u << 8) | (prev_u >> 56)) & ((u << 16) | (prev_u >> 48));
        if z | e != 0 {
            let zpos = if z != 0 {
                i + (z.trailing_zeros() / 8) as usize
            } else {
                usize::MAX
            };
            // A run ending at byte j starts at j - 2 (j >= 2 overall, as
            // the word before the first reads as no underscores).
            let tpos = if e != 0 {
                (i + (e.trailing_zeros() / 8) as usize).saturating_sub(2)
            } else {
                usize::MAX
            };
            return zpos.min(tpos).min(s.len());
        }
        if i >= s.len() {
            return s.len();
        }
        i += 8;
        prev_u = u;
    }
}

impl Btf {
    /// (id, name_off) of the own named FUNCs: a second walk over the type
    /// section (only attach targets and ksyms ever need it).
    fn named_funcs_list(&self) -> Vec<(u32, u32)> {
        let types = self.types();
        let mut out = Vec::with_capacity(self.count as usize / 2);
        let mut off = 0usize;
        for i in 0..self.count {
            let Some(t) = types.get(off..) else { break };
            let name_off = rd32(t, 0);
            if name_off != 0 && t.get(7).is_some_and(|&k| (k & 0x1f) as u32 == KIND_FUNC) {
                out.push((self.first_id + i, name_off));
            }
            let len = type_len_at(t);
            if len == 0 {
                break;
            }
            off += len;
        }
        out
    }

    /// Build the name index CO-RE uses (types other than FUNCs) now rather
    /// than at the first lookup (e.g. on another thread, ahead of need).
    pub fn prepare_type_index(&self) {
        self.index(CLASS_TYPES);
    }

    fn index(&self, class: usize) -> &NameIndex {
        let class = class.min(CLASS_FUNCS);
        self.index[class].get_or_init(|| {
            let funcs;
            let list: &[(u32, u32)] = if class == CLASS_FUNCS {
                funcs = self.named_funcs_list();
                &funcs
            } else {
                &self.named_types
            };
            // Counting sort by group (the only pass that reads every name,
            // and only its first eight bytes).
            let strs = self.strs();
            let base_len = self.base_str_len;
            let firsts: Vec<u16> = list
                .iter()
                .map(|&(_, no)| {
                    let s = match no.checked_sub(base_len) {
                        Some(o) => strs.get(o as usize..).unwrap_or(&[]),
                        None => self.str_tail(no),
                    };
                    group_of(s) as u16
                })
                .collect();
            let mut starts = vec![0u32; GROUPS + 1];
            for &b in &firsts {
                starts[b as usize + 1] += 1;
            }
            for b in 0..GROUPS {
                starts[b + 1] += starts[b];
            }
            let mut pos = starts.clone();
            let mut entries = vec![(0u32, 0u32); list.len()];
            for (&e, &b) in list.iter().zip(&firsts) {
                let p = &mut pos[b as usize];
                if let Some(slot) = entries.get_mut(*p as usize) {
                    *slot = e;
                }
                *p += 1;
            }
            log::debug!(
                "btf: {} name index: {} names",
                if class == CLASS_FUNCS { "func" } else { "type" },
                entries.len(),
            );
            NameIndex {
                entries,
                starts,
                tables: (0..GROUPS).map(|_| OnceLock::new()).collect(),
            }
        })
    }

    /// Group `b` and its table (built on first use).
    fn group<'s>(
        &'s self,
        idx: &'s NameIndex,
        b: usize,
    ) -> Option<(&'s [(u32, u32)], &'s GroupTable)> {
        let lo = *idx.starts.get(b)? as usize;
        let hi = *idx.starts.get(b + 1)? as usize;
        let group = idx.entries.get(lo..hi)?;
        if group.is_empty() {
            return None;
        }
        let table = idx.tables.get(b)?.get_or_init(|| {
            let cap = (group.len() * 2).next_power_of_two().max(2);
            let mut tab = GroupTable {
                bits: cap.trailing_zeros(),
                slots: vec![0u32; cap],
            };
            let mask = tab.mask();
            for (j, &(_, no)) in group.iter().enumerate() {
                // Never full: the group fills at most half the slots.
                let mut s = tab.slot(key_hash(self.str_tail(no)));
                while let Some(slot) = tab.slots.get_mut(s) {
                    if *slot == 0 {
                        *slot = j as u32 + 1;
                        break;
                    }
                    s = (s + 1) & mask;
                }
            }
            tab
        });
        Some((group, table))
    }

    /// Own types of index class `class` whose essential name is `essential`,
    /// in increasing id order.
    fn class_ids<'s>(&'s self, class: usize, essential: &'s str) -> impl Iterator<Item = u32> + 's {
        let idx = self.index(class);
        let b = group_of(essential.as_bytes());
        let found = self.group(idx, b);
        let (mut s, mut left) = match found {
            Some((_, t)) => (t.slot(key_hash(essential.as_bytes())), t.slots.len()),
            None => (0, 0),
        };
        std::iter::from_fn(move || {
            let (group, t) = found?;
            while left > 0 {
                left -= 1;
                let v = *t.slots.get(s)? as usize;
                if v == 0 {
                    return None;
                }
                s = (s + 1) & t.mask();
                let &(id, no) = group.get(v.checked_sub(1)?)?;
                let name = self.raw_str(no);
                if &name[..essential_len(name)] == essential.as_bytes() {
                    return Some(id);
                }
            }
            None
        })
    }

    /// Own types (not the base's) whose essential name (flavor suffix
    /// `___x` stripped) equals `essential`: non-FUNC types in increasing id
    /// order, then FUNCs.
    pub fn own_ids_by_essential_name<'s>(
        &'s self,
        essential: &'s str,
    ) -> impl Iterator<Item = u32> + 's {
        self.class_ids(CLASS_TYPES, essential)
            .chain(self.class_ids(CLASS_FUNCS, essential))
    }

    /// Like [`Btf::own_ids_by_essential_name`], but may skip types that
    /// cannot be of a kind compatible with `kind` (FUNCs unless `kind` is
    /// FUNC, and the other way round): cheaper, as vmlinux's FUNCs are then
    /// never indexed. Callers still check each type's kind.
    pub fn own_ids_by_essential_name_for_kind<'s>(
        &'s self,
        essential: &'s str,
        kind: Kind,
    ) -> impl Iterator<Item = u32> + 's {
        self.class_ids(class_of(kind), essential)
    }

    /// Find a type by exact name and kind (base first for split BTF; lowest
    /// id first).
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<u32> {
        if let Some(base) = &self.base {
            if let Some(id) = base.find_by_name_kind(name, kind) {
                return Some(id);
            }
        }
        if name.is_empty() {
            return None;
        }
        self.class_ids(class_of(kind), essential_name(name))
            .find(|&id| {
                self.type_by_id(id)
                    .map(|t| t.kind == kind && t.name == name)
                    .unwrap_or(false)
            })
    }

    /// Find a type by exact name, any kind (base first for split BTF;
    /// non-FUNC types before FUNCs).
    pub fn find_by_name(&self, name: &str) -> Option<u32> {
        if let Some(base) = &self.base {
            if let Some(id) = base.find_by_name(name) {
                return Some(id);
            }
        }
        if name.is_empty() {
            return None;
        }
        self.own_ids_by_essential_name(essential_name(name))
            .find(|&id| self.name(id).map(|n| n == name).unwrap_or(false))
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// The byte-at-a-time definition `key_len` must agree with.
    fn key_len_slow(s: &[u8]) -> usize {
        let mut i = 0;
        while i < s.len() {
            if s[i] == 0 || s[i..].starts_with(b"___") {
                return i;
            }
            i += 1;
        }
        s.len()
    }

    #[test]
    fn key_len_matches_bytewise_definition() {
        let names: &[&[u8]] = &[
            b"",
            b"a",
            b"task_struct",
            b"task_struct\0junk",
            b"___",
            b"a___b",
            b"ab__",
            b"1234567___",
            b"12345678___x",
            b"1234567_",
            b"1234567__\0",
            b"__u64",
            b"trace_event_raw_sched_switch",
            b"x\0___",
            b"abcdefg_\x5f_z",
            b"\xff\x80___",
            b"\x5e\x00\x5f",
            b"________________",
            b"abcdefghijklmnopqrstuvwxyz0123456789",
        ];
        for n in names {
            assert_eq!(
                key_len(n),
                key_len_slow(n),
                "{:?}",
                String::from_utf8_lossy(n)
            );
        }
        // Every cut of a pseudo-random mix of '_', 0, letters.
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let mut v = Vec::new();
            for _ in 0..(x % 23) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                v.push([b'_', b'_', b'a', 0, b'Z', 0xff][(x >> 16) as usize % 6]);
            }
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            assert_eq!(key_len(&v), key_len_slow(&v), "{v:?}");
        }
    }

    #[test]
    fn flavors_hash_like_their_essential_name() {
        for (full, ess) in [
            ("foo___v1", "foo"),
            ("foo___a___b", "foo___a"),
            ("task_struct___old", "task_struct"),
            ("a_very_long_struct_name___x", "a_very_long_struct_name"),
            ("plain", "plain"),
        ] {
            assert_eq!(essential_name(full), ess);
            let mut stored = full.as_bytes().to_vec();
            stored.extend_from_slice(b"\0next\0");
            assert_eq!(key_hash(&stored), key_hash(ess.as_bytes()), "{full}");
        }
        assert_ne!(key_hash(b"sched_switch"), key_hash(b"sched_wakeup"));
    }
}
