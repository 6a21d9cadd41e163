//! Sorting through one copy of the standard library's sort.
//!
//! Every `sort*` call with a new element type or comparator monomorphizes
//! the whole sort (quicksort, merges, small-sorts: 2–4 KB of code each).
//! The short, cold lists outside the hot paths go through [`sort_by`]
//! instead: it sorts indices with a `dyn` comparator, so the crate carries
//! one copy of the sort, and per element type only a small permutation.

use std::cmp::Ordering;

/// The stable sorted order of `n` items that `cmp` compares by index.
fn order(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| cmp(a, b));
    idx
}

/// Sort `v` by `cmp`, stably (equal items keep their order).
pub(crate) fn sort_by<T>(v: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let idx = order(v.len(), &|a, b| cmp(&v[a], &v[b]));
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(
        idx.into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// Sort `v` by `key`, stably.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sort `v` in its natural order.
pub(crate) fn sort<T: Ord>(v: &mut Vec<T>) {
    sort_by(v, T::cmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e')];
        sort_by_key(&mut v, |e| e.0);
        assert_eq!(v, [(0, 'd'), (1, 'b'), (1, 'e'), (3, 'a'), (3, 'c')]);
        let mut s: Vec<String> = ["b", "a", "c", "a"].map(String::from).to_vec();
        sort(&mut s);
        assert_eq!(s, ["a", "a", "b", "c"]);
        let mut e: Vec<u32> = Vec::new();
        sort(&mut e);
        assert!(e.is_empty());
        let mut r = vec![1u64, 5, 2, 4];
        sort_by(&mut r, |a, b| b.cmp(a));
        assert_eq!(r, [5, 4, 2, 1]);
    }
}
