//! String interning while building, and compact sorted string tables after.
//!
//! # Overview
//!
//! - [`Interner`] maps strings to temporary dense ids in order of first
//!   appearance (an `ahash` map, so building is fast); its ids depend on input
//!   order and never leave the builder.
//! - [`StrTable`] is the frozen form: every string sorted and concatenated in
//!   one buffer, so ids are ranks in sorted order and the table costs one
//!   allocation instead of one per string.

use ahash::AHashMap;
use rayon::slice::ParallelSliceMut;

/// Strings to temporary ids, in order of first appearance.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    /// Invariant: the values are distinct temporary ids handed out by the caller.
    map: AHashMap<Box<str>, u32>,
}

impl Interner {
    /// The temporary id of `s`, if already interned.
    #[inline]
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    /// Interns `s` with the temporary id `id` (which the caller has not used
    /// before). `s` must not be interned yet.
    #[inline]
    pub(crate) fn insert(&mut self, s: &str, id: u32) {
        self.map.insert(s.into(), id);
    }

    /// How many distinct strings are interned.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Freezes into a sorted table, returning it and, for each string, its
    /// temporary id in table order (so `temps[rank]` is the temporary id of
    /// the string of that rank).
    ///
    /// # Complexity
    ///
    /// `O(n log n)` string comparisons (parallel from `parallel_threshold`
    /// strings), `O(total bytes)` memory for the table.
    pub(crate) fn into_sorted(self, parallel_threshold: usize) -> (StrTable, Vec<u32>) {
        let mut entries: Vec<(Box<str>, u32)> = self.map.into_iter().collect();
        // Strings are distinct, so an unstable sort is deterministic.
        if entries.len() >= parallel_threshold {
            entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        } else {
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        let bytes = entries.iter().map(|(s, _)| s.len()).sum();
        let mut table = StrTable::with_capacity(entries.len(), bytes);
        let mut temps = Vec::with_capacity(entries.len());
        for (s, temp) in entries {
            table.push(&s);
            temps.push(temp);
        }
        (table, temps)
    }
}

/// Strings stored back to back in one buffer, addressed by position.
#[derive(Clone, Debug, Default)]
pub(crate) struct StrTable {
    /// All strings concatenated.
    text: String,
    /// Invariant: `ends.len()` is the string count and `ends` is
    /// non-decreasing; string `i` is `text[ends[i-1]..ends[i]]` (start 0 for `i = 0`).
    ends: Vec<usize>,
}

impl StrTable {
    /// An empty table with room for `count` strings of `bytes` total length.
    pub(crate) fn with_capacity(count: usize, bytes: usize) -> Self {
        Self { text: String::with_capacity(bytes), ends: Vec::with_capacity(count) }
    }

    /// Appends `s`; its position is the previous [`StrTable::len`].
    pub(crate) fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// How many strings the table holds.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The string at `i`.
    ///
    /// # Panics
    ///
    /// If `i >= self.len()` (a caller bug: ids come from this table).
    #[inline]
    #[track_caller]
    pub(crate) fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The position of `s` in `range`, which must be sorted, by binary search.
    pub(crate) fn find_in(&self, range: std::ops::Range<usize>, s: &str) -> Option<usize> {
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).cmp(s) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_table_ranks_strings() {
        let mut interner = Interner::default();
        for (i, s) in ["pear", "apple", "fig", ""].iter().enumerate() {
            assert_eq!(interner.get(s), None);
            interner.insert(s, i as u32);
        }
        assert_eq!(interner.get("fig"), Some(2));
        assert_eq!(interner.len(), 4);
        let (table, temps) = interner.into_sorted(0);
        let got: Vec<&str> = (0..table.len()).map(|i| table.get(i)).collect();
        assert_eq!(got, ["", "apple", "fig", "pear"]);
        assert_eq!(temps, [3, 1, 2, 0]);
        assert_eq!(table.find_in(0..4, "fig"), Some(2));
        assert_eq!(table.find_in(0..4, "kiwi"), None);
        assert_eq!(table.find_in(1..4, ""), None);
    }
}
