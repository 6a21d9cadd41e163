//! The name index: essential names (flavor suffixes stripped), the groups
//! names are sorted into, and the lookups by name built on them.

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

/// Name index of one class: its named types grouped by the first eight
/// bytes of their key ([`group_of`]; a counting sort, so ids stay in
/// increasing order within a group). A lookup compares the names of one
/// group with the name it looks for: on vmlinux a dozen names for most,
/// ~1,600 that all start `trace_ev` for `trace_event_raw_*`, each
/// comparison ending at the first differing byte. (The previous index
/// grouped by two bytes and built a hash table of a whole group on its
/// first lookup, hashing all 1,719 `tr*` names for one `trace_event_raw_*`.)
pub(super) struct NameIndex {
    /// (id, name_off) of the class's named types, grouped.
    entries: Vec<(u32, u32)>,
    /// Group `g` is `entries[starts[g]..starts[g + 1]]`.
    starts: Vec<u32>,
}

/// log2 of the number of name groups (see [`group_of`]).
const GROUP_BITS: u32 = 10;
/// Number of name groups.
const GROUPS: usize = 1 << GROUP_BITS;

/// The group of a name (bytes to its NUL or the end of `s`): a hash of its
/// key's bytes within the first eight. The key ends at the first NUL or
/// `___`, so every flavor of an essential name (`foo___v1`, `foo___a___b`
/// for `foo___a`) and the essential name itself fall in one group: they
/// agree up to the first `___`. A `___` that starts at byte 6 or 7 is not
/// seen in eight bytes, so trailing underscores there are cut too. Reads
/// only the first eight bytes (one load per name when the index is built).
#[inline(always)]
fn group_of(s: &[u8]) -> usize {
    let w = word_at(s, 0);
    let z = zero_bytes(w);
    let u = zero_bytes(w ^ UNDERSCORES);
    let starts3 = u & (u >> 8) & (u >> 16);
    let mut stop = (z | starts3).trailing_zeros() / 8;
    if stop == 8 && u >> 56 != 0 {
        stop = if (u >> 48) & 0x80 != 0 { 6 } else { 7 };
    }
    let key = if stop == 0 {
        0
    } else {
        w & (u64::MAX >> (64 - 8 * stop))
    };
    let h = (key ^ u64::from(stop)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - GROUP_BITS)) as usize
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
            NameIndex { entries, starts }
        })
    }

    /// Own types of index class `class` whose essential name is `essential`,
    /// in increasing id order: the names of its group that start with it
    /// (usually one) have their essential part compared.
    fn class_ids<'s>(&'s self, class: usize, essential: &'s str) -> impl Iterator<Item = u32> + 's {
        let idx = self.index(class);
        let e = essential.as_bytes();
        let b = group_of(e);
        let group = match (idx.starts.get(b), idx.starts.get(b + 1)) {
            (Some(&lo), Some(&hi)) => idx.entries.get(lo as usize..hi as usize),
            _ => None,
        };
        group.unwrap_or(&[]).iter().filter_map(move |&(id, no)| {
            if self.str_tail(no).get(..e.len()) != Some(e) {
                return None;
            }
            (essential_len(self.raw_str(no)) == e.len()).then_some(id)
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
mod group_tests {
    use super::*;

    #[test]
    fn flavors_fall_in_the_group_of_their_essential_name() {
        for (full, ess) in [
            ("foo___v1", "foo"),
            ("foo___a___b", "foo___a"),
            ("task_struct___old", "task_struct"),
            ("a_very_long_struct_name___x", "a_very_long_struct_name"),
            ("plain", "plain"),
            // A `___` starting at byte 6, 7 or 8 (across the first word).
            ("abcdef___x", "abcdef"),
            ("abcdefg___x", "abcdefg"),
            ("abcdefgh___x", "abcdefgh"),
            ("abcdef_g___x", "abcdef_g"),
            ("a___b", "a"),
        ] {
            assert_eq!(essential_name(full), ess);
            let mut stored = full.as_bytes().to_vec();
            stored.extend_from_slice(b"\0next\0");
            assert_eq!(group_of(&stored), group_of(ess.as_bytes()), "{full}");
        }
        // Every flavor of pseudo-random names of '_', 'a', 'b'.
        let mut x: u32 = 12345;
        for _ in 0..3000 {
            let mut v = Vec::new();
            for _ in 0..(1 + x % 13) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                v.push([b'_', b'_', b'a', b'b'][(x >> 16) as usize % 4]);
            }
            let name = String::from_utf8(v).unwrap();
            let ess = essential_name(&name);
            let mut stored = name.as_bytes().to_vec();
            stored.push(0);
            assert_eq!(group_of(&stored), group_of(ess.as_bytes()), "{name:?}");
        }
        assert_ne!(group_of(b"sched_switch"), group_of(b"task_struct"));
    }
}
