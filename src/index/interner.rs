//! String interning while building, and the frozen sorted string table.
//!
//! # Overview
//!
//! - [`Interner`] hands out temporary ids in order of first appearance for
//!   `(tag, string)` keys (the tag is the indicator kind's slot, or 0 for
//!   accounts). Its ids depend on input order and never leave the builder.
//!   Every key lives in one byte arena as a record `[id][tag][len][bytes]`,
//!   and the hash table is a flat array of 32-byte slots probed linearly:
//!   24 bits of hash, the record's offset, the id, tag and length, and the
//!   key's first 16 bytes. Lookups are bound by cache misses on tables this
//!   large, so a hit on a key of at most 16 bytes (account ids, addresses,
//!   prefixes, phone numbers, ...) touches one slot and nothing else, and a
//!   longer key one slot and its arena record; no `String` per key, no side
//!   arrays on the hot path. The table grows by re-reading the arena in order.
//! - [`StrTable`] is the frozen form: every string sorted and concatenated in
//!   one buffer, so ids are ranks in sorted order and the table costs one
//!   allocation instead of one per string.
//! - [`Interner::sort_ids`] orders ids by their strings: a radix sort on the
//!   eight bytes after the group's common prefix, then a sort of the runs
//!   that tie on those bytes by the next eight, and string comparisons only
//!   for the (rare) strings that tie on both.

use rayon::prelude::*;

use super::radix;

/// Fixed seeds: hashes never reach ids or output, but fixed seeds keep runs
/// reproducible to the byte, probe sequences included.
const SEEDS: [u64; 4] =
    [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344, 0xa409_3822_299f_31d0, 0x082e_fa98_ec4e_6c89];

/// Bytes before a key's text in its arena record: id, tag, length (`u32` each).
const HEADER: usize = 12;
/// Low bits of a slot: arena offset + 1 (0 marks an empty slot).
const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;
/// The arena may not grow past this (1 TiB): offsets must fit a slot.
const MAX_ARENA: usize = (1 << OFFSET_BITS) - 2;

/// Key bytes kept in a slot.
const INLINE: usize = 16;
/// Tag or length too large for a slot's `u16`: compare in the arena.
const WIDE: u16 = u16::MAX;
/// Keys looked up together by [`Interner::intern_all`] (and re-inserted
/// together when the table grows): enough loads in flight to hide most of
/// a memory access, few enough to stay inside the processor's window.
const GROUP: usize = 16;

/// One table slot (32 bytes, two per cache line).
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// 0 if empty, else the top 24 bits of the key's hash and its arena
    /// record's offset + 1.
    meta: u64,
    id: u32,
    /// The tag and the length, or [`WIDE`] if they do not fit.
    tag: u16,
    len: u16,
    /// The key's first (up to) 16 bytes, zero-padded.
    head: [u8; INLINE],
}

impl Slot {
    fn new(h: u64, offset: usize, id: u32, tag: u32, s: &[u8]) -> Slot {
        let mut head = [0u8; INLINE];
        let n = s.len().min(INLINE);
        head[..n].copy_from_slice(&s[..n]);
        Slot {
            meta: ((h >> OFFSET_BITS) << OFFSET_BITS) | (offset as u64 + 1),
            id,
            tag: u16::try_from(tag).unwrap_or(WIDE),
            len: u16::try_from(s.len()).unwrap_or(WIDE),
            head,
        }
    }

    #[inline]
    fn offset(&self) -> usize {
        (self.meta & OFFSET_MASK) as usize - 1
    }
}

#[inline]
fn read_u32(arena: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&arena[at..at + 4]);
    u32::from_le_bytes(b)
}

/// `(tag, string)` keys to temporary ids `0, 1, 2, ...` in order of first appearance.
#[derive(Debug)]
pub(crate) struct Interner {
    /// Records `[id: u32][tag: u32][len: u32][bytes]`, little-endian, in id
    /// order. The bytes are a whole `&str` given to [`Interner::intern`].
    arena: Vec<u8>,
    /// Invariant: `offsets[id]` is the arena offset of `id`'s record.
    offsets: Vec<u64>,
    /// Invariant: empty, or a power of two longer than `offsets.len()`
    /// (at most 70% full); each key's slot is at or after (cyclically) its
    /// home `hash & (len - 1)` with no empty slot in between.
    table: Vec<Slot>,
    state: ahash::RandomState,
}

impl Default for Interner {
    fn default() -> Self {
        Self {
            arena: Vec::new(),
            offsets: Vec::new(),
            table: Vec::new(),
            state: ahash::RandomState::with_seeds(SEEDS[0], SEEDS[1], SEEDS[2], SEEDS[3]),
        }
    }
}

impl Interner {
    #[inline]
    fn key_hash(&self, tag: u32, s: &[u8]) -> u64 {
        self.state.hash_one(s) ^ u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    /// The bytes of `id`.
    ///
    /// # Panics
    ///
    /// If `id` was not handed out by this interner.
    #[inline]
    #[track_caller]
    fn bytes(&self, id: u32) -> &[u8] {
        let at = self.offsets[id as usize] as usize;
        let len = read_u32(&self.arena, at + 8) as usize;
        &self.arena[at + HEADER..at + HEADER + len]
    }

    /// The string of `id`.
    ///
    /// # Panics
    ///
    /// If `id` was not handed out by this interner.
    #[cfg(test)]
    #[track_caller]
    pub(crate) fn str(&self, id: u32) -> &str {
        // The bytes were copied from a `&str`, so this cannot fail.
        std::str::from_utf8(self.bytes(id)).expect("interned keys are UTF-8")
    }

    /// The tag of `id`.
    #[inline]
    #[track_caller]
    pub(crate) fn tag(&self, id: u32) -> u32 {
        read_u32(&self.arena, self.offsets[id as usize] as usize + 4)
    }

    /// The slot index of `(tag, s)` with hash `h`: its slot if present
    /// (`Ok`), else the empty slot where it would go (`Err`). The table
    /// must not be empty.
    #[inline]
    fn probe(&self, h: u64, tag: u32, s: &[u8]) -> Result<usize, usize> {
        let mask = self.table.len() - 1;
        let check = h >> OFFSET_BITS;
        let short_tag = u16::try_from(tag).unwrap_or(WIDE);
        let short_len = u16::try_from(s.len()).unwrap_or(WIDE);
        let n = s.len().min(INLINE);
        let mut i = (h as usize) & mask;
        loop {
            let slot = &self.table[i];
            if slot.meta == 0 {
                return Err(i);
            }
            if slot.meta >> OFFSET_BITS == check
                && slot.tag == short_tag
                && slot.len == short_len
                && slot.head[..n] == s[..n]
            {
                if s.len() <= INLINE && short_tag != WIDE {
                    return Ok(i);
                }
                let rec = &self.arena[slot.offset()..];
                if read_u32(rec, 4) == tag
                    && read_u32(rec, 8) as usize == s.len()
                    && &rec[HEADER..HEADER + s.len()] == s
                {
                    return Ok(i);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The temporary id of `(tag, s)`, if already interned.
    #[cfg(test)]
    pub(crate) fn get(&self, tag: u32, s: &str) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        let h = self.key_hash(tag, s.as_bytes());
        let i = self.probe(h, tag, s.as_bytes()).ok()?;
        Some(self.table[i].id)
    }

    /// Whether an interner holding `keys` keys in `arena` arena bytes has
    /// room for `more` keys of `bytes` bytes in all (an upper bound is
    /// enough: callers pass what the keys could at most add).
    pub(crate) fn fits(keys: usize, arena: usize, more: usize, bytes: usize) -> bool {
        keys.saturating_add(more) < u32::MAX as usize - 2
            && arena.saturating_add(more.saturating_mul(HEADER)).saturating_add(bytes) <= MAX_ARENA
    }

    /// Bytes used by the arena (see [`Interner::fits`]).
    pub(crate) fn arena_len(&self) -> usize {
        self.arena.len()
    }

    /// The temporary id of `(tag, s)`, interning it with the next id if new.
    /// The caller checks [`Interner::fits`] first.
    #[cfg(test)]
    pub(crate) fn intern(&mut self, tag: u32, s: &str) -> u32 {
        if (self.offsets.len() + 1) * 10 > self.table.len() * 7 {
            self.grow();
        }
        let h = self.key_hash(tag, s.as_bytes());
        self.intern_hashed(h, tag, s.as_bytes())
    }

    /// The temporary ids of `keys` (pairs of tag and string), in order,
    /// appended to `ids`: the same ids as [`Interner::intern`] on each key
    /// in turn. The caller checks [`Interner::fits`] for all of them.
    ///
    /// Lookups in a table larger than the caches wait for memory one at a
    /// time; here the keys go in groups of [`GROUP`] whose hashes are
    /// computed first and whose home slots (and, for keys longer than a
    /// slot holds, the arena records they point to) are then read in one
    /// tight loop of independent loads, so the processor has them in flight
    /// together before the probes run.
    pub(crate) fn intern_all<'k, I>(&mut self, keys: I, ids: &mut Vec<u32>)
    where
        I: IntoIterator<Item = (u32, &'k str)>,
    {
        let mut keys = keys.into_iter();
        let mut group: [(u32, &[u8]); GROUP] = [(0, &[]); GROUP];
        let mut hashes = [0u64; GROUP];
        loop {
            let mut n = 0;
            for (slot, (tag, s)) in group.iter_mut().zip(keys.by_ref()) {
                *slot = (tag, s.as_bytes());
                n += 1;
            }
            if n == 0 {
                return;
            }
            // Grow before the group, so the probes below see the table the
            // loads warmed.
            while (self.offsets.len() + n) * 10 > self.table.len() * 7 {
                self.grow();
            }
            for (h, &(tag, s)) in hashes.iter_mut().zip(&group[..n]) {
                *h = self.key_hash(tag, s);
            }
            self.warm(&hashes[..n], |i| group[i].1.len());
            for (&h, &(tag, s)) in hashes.iter().zip(&group[..n]) {
                ids.push(self.intern_hashed(h, tag, s));
            }
        }
    }

    /// Reads the home slots of `hashes`, then the arena records of those
    /// slots whose key may be longer than a slot holds (`len(i)` is the
    /// length of key `i`), so that the probes that follow find them cached.
    /// Only a hint: the result is discarded.
    #[inline]
    fn warm(&self, hashes: &[u64], len: impl Fn(usize) -> usize) {
        let mask = self.table.len() - 1;
        let mut metas = [0u64; GROUP];
        for (m, &h) in metas.iter_mut().zip(hashes) {
            *m = self.table[(h as usize) & mask].meta;
        }
        let mut touched = 0u8;
        for (i, (&m, &h)) in metas.iter().zip(hashes).enumerate() {
            if m != 0 && m >> OFFSET_BITS == h >> OFFSET_BITS && len(i) > INLINE {
                let at = ((m & OFFSET_MASK) as usize - 1).min(self.arena.len().saturating_sub(1));
                touched ^= self.arena.get(at + HEADER).copied().unwrap_or(0);
            }
        }
        std::hint::black_box((metas, touched));
    }

    /// [`Interner::intern`] given the key's hash; the table has room.
    #[inline]
    fn intern_hashed(&mut self, h: u64, tag: u32, s: &[u8]) -> u32 {
        match self.probe(h, tag, s) {
            Ok(i) => self.table[i].id,
            Err(i) => {
                let id = self.offsets.len() as u32;
                let at = self.arena.len();
                self.arena.extend_from_slice(&id.to_le_bytes());
                self.arena.extend_from_slice(&tag.to_le_bytes());
                self.arena.extend_from_slice(&(s.len() as u32).to_le_bytes());
                self.arena.extend_from_slice(s);
                self.offsets.push(at as u64);
                self.table[i] = Slot::new(h, at, id, tag, s);
                id
            }
        }
    }

    /// Doubles the table (at least 1,024 slots) and re-inserts every key,
    /// reading the arena in order, in groups whose new home slots are read
    /// together first (see [`Interner::intern_all`]).
    ///
    /// # Complexity
    ///
    /// `O(n + b)` for `n` keys of `b` bytes; amortised `O(1)` per key.
    fn grow(&mut self) {
        let len = (self.table.len() * 2).max(1024);
        let mut table = vec![Slot::default(); len];
        let mask = len - 1;
        let mut at = 0;
        let mut group = [(0usize, 0u64); GROUP];
        while at < self.arena.len() {
            let mut n = 0;
            while n < GROUP && at < self.arena.len() {
                let tag = read_u32(&self.arena, at + 4);
                let len = read_u32(&self.arena, at + 8) as usize;
                group[n] = (at, self.key_hash(tag, &self.arena[at + HEADER..at + HEADER + len]));
                at += HEADER + len;
                n += 1;
            }
            let mut metas = [0u64; GROUP];
            for (m, &(_, h)) in metas.iter_mut().zip(&group[..n]) {
                *m = table[(h as usize) & mask].meta;
            }
            std::hint::black_box(metas);
            for &(rec, h) in &group[..n] {
                let id = read_u32(&self.arena, rec);
                let tag = read_u32(&self.arena, rec + 4);
                let len = read_u32(&self.arena, rec + 8) as usize;
                let key = &self.arena[rec + HEADER..rec + HEADER + len];
                let mut i = (h as usize) & mask;
                while table[i].meta != 0 {
                    i = (i + 1) & mask;
                }
                table[i] = Slot::new(h, rec, id, tag, key);
            }
        }
        self.table = table;
    }

    /// How many distinct keys are interned.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Frees the hash table (lookups are over once freezing starts).
    pub(crate) fn drop_table(&mut self) {
        self.table = Vec::new();
    }

    /// Sorts `ids` by their strings (byte order). Strings of the ids must be
    /// distinct (true within one tag), so the result does not depend on the
    /// order `ids` came in.
    ///
    /// # Complexity
    ///
    /// `O(b + n)` for a radix sort on the 8 bytes after the common prefix of
    /// the `n` strings (`b` bytes in all), plus `O(r log r)` comparisons of
    /// the next 8 bytes for each run of `r` strings that tie on those, and
    /// string comparisons for what ties on both. Runs are sorted in parallel
    /// from `parallel_threshold` ids.
    pub(crate) fn sort_ids(&self, ids: &mut [u32], parallel_threshold: usize) {
        if ids.len() < 2 {
            return;
        }
        let first = self.bytes(ids[0]);
        let mut lcp = first.len();
        for &id in &ids[1..] {
            let s = self.bytes(id);
            lcp = first[..lcp].iter().zip(s).take_while(|(a, b)| a == b).count();
            if lcp == 0 {
                break;
            }
        }
        // Big-endian bytes at..at+8, zero-padded: key order is consistent
        // with byte order (a shorter string ties with or precedes its
        // extensions) among strings that agree on the bytes before `at`.
        let key = |id: u32, at: usize| {
            let s = self.bytes(id);
            let mut k = [0u8; 8];
            let tail = s.get(at..).unwrap_or(&[]);
            let n = tail.len().min(8);
            k[..n].copy_from_slice(&tail[..n]);
            u64::from_be_bytes(k)
        };
        let mut keyed: Vec<(u64, u32)> = if ids.len() >= parallel_threshold {
            ids.par_iter().map(|&id| (key(id, lcp), id)).collect()
        } else {
            ids.iter().map(|&id| (key(id, lcp), id)).collect()
        };
        radix::sort_by_key(&mut keyed, |x| x.0);
        // Runs that tie on the key: sort them on the full strings.
        let mut runs: Vec<&mut [(u64, u32)]> = Vec::new();
        let mut rest = keyed.as_mut_slice();
        while !rest.is_empty() {
            let k = rest[0].0;
            let len = rest.iter().take_while(|x| x.0 == k).count();
            let (run, tail) = rest.split_at_mut(len);
            if len > 1 {
                runs.push(run);
            }
            rest = tail;
        }
        // A run sorts on its next eight bytes (each string read once, then
        // integer comparisons), and only what still ties on the full strings.
        let by_text = |run: &mut &mut [(u64, u32)]| {
            for x in run.iter_mut() {
                x.0 = key(x.1, lcp + 8);
            }
            run.sort_unstable_by_key(|x| x.0);
            let mut rest = &mut run[..];
            while !rest.is_empty() {
                let k = rest[0].0;
                let len = rest.iter().take_while(|x| x.0 == k).count();
                let (tie, tail) = rest.split_at_mut(len);
                if len > 1 {
                    // The strings agree up to lcp + 16 as padded keys, not
                    // necessarily as bytes (a shorter one may end inside):
                    // compare from lcp, which every string reaches.
                    tie.sort_unstable_by(|a, b| {
                        self.bytes(a.1)[lcp..].cmp(&self.bytes(b.1)[lcp..])
                    });
                }
                rest = tail;
            }
        };
        if ids.len() >= parallel_threshold {
            runs.par_iter_mut().for_each(by_text);
        } else {
            runs.iter_mut().for_each(by_text);
        }
        for (slot, (_, id)) in ids.iter_mut().zip(keyed) {
            *slot = id;
        }
    }

    /// The strings as a table in which `id` is at position `rank[id]`
    /// (`rank` a permutation of the ids).
    ///
    /// The arena is read in order and each string written to its place:
    /// random writes, unlike random reads, do not stall on cache misses one
    /// at a time.
    ///
    /// # Complexity
    ///
    /// `O(n + b)` for `n` strings of `b` bytes.
    ///
    /// # Panics
    ///
    /// If `rank` is not a permutation of `0..self.len()` (a caller bug).
    pub(crate) fn table_by_rank(&self, rank: &[u32]) -> StrTable {
        let n = self.len();
        assert_eq!(rank.len(), n, "one rank per id");
        let records = || {
            let mut at = 0;
            std::iter::from_fn(move || {
                (at < self.arena.len()).then(|| {
                    let id = read_u32(&self.arena, at);
                    let len = read_u32(&self.arena, at + 8) as usize;
                    let start = at + HEADER;
                    at = start + len;
                    (id, start..start + len)
                })
            })
        };
        let mut ends = vec![0usize; n];
        for (id, range) in records() {
            ends[rank[id as usize] as usize] = range.len();
        }
        let mut total = 0;
        for e in &mut ends {
            total += *e;
            *e = total;
        }
        let mut text = vec![0u8; total];
        for (id, range) in records() {
            let end = ends[rank[id as usize] as usize];
            text[end - range.len()..end].copy_from_slice(&self.arena[range]);
        }
        // Whole `&str`s copied to whole places: still UTF-8.
        let text = String::from_utf8(text).expect("interned keys are UTF-8");
        StrTable { text, ends }
    }

    /// Heap bytes held.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.offsets.capacity() * std::mem::size_of::<u64>()
            + self.table.capacity() * std::mem::size_of::<Slot>()
    }
}

/// The pieces of `text` ending at `ends` (non-decreasing offsets; the first
/// piece starts at 0): how the builder's batches store their strings back
/// to back.
pub(crate) fn pieces(
    text: &str,
    ends: impl IntoIterator<Item = usize>,
) -> impl Iterator<Item = &str> {
    ends.into_iter().scan(0, move |start, end| {
        let piece = &text[*start..end];
        *start = end;
        Some(piece)
    })
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
    use proptest::prelude::*;

    use super::*;

    fn sorted(interner: &Interner, ids: &[u32], threshold: usize) -> Vec<String> {
        let mut ids = ids.to_vec();
        interner.sort_ids(&mut ids, threshold);
        ids.iter().map(|&id| interner.str(id).to_string()).collect()
    }

    #[test]
    fn interns_by_tag_and_string() {
        let mut interner = Interner::default();
        let words = ["pear", "apple", "fig", "", "pear"];
        let ids: Vec<u32> = words.iter().map(|w| interner.intern(0, w)).collect();
        assert_eq!(ids, [0, 1, 2, 3, 0]);
        // The same string under another tag is another key.
        assert_eq!(interner.intern(5, "fig"), 4);
        assert_eq!(interner.get(0, "fig"), Some(2));
        assert_eq!(interner.get(5, "fig"), Some(4));
        assert_eq!(interner.get(1, "fig"), None);
        assert_eq!(interner.get(0, "kiwi"), None);
        assert_eq!((interner.len(), interner.tag(4), interner.str(1)), (5, 5, "apple"));
        assert!(interner.heap_bytes() > 0);
        let order: Vec<u32> = {
            let mut ids = vec![0, 1, 2, 3];
            interner.sort_ids(&mut ids, usize::MAX);
            ids
        };
        assert_eq!(order, [3, 1, 2, 0]);
        // Id 4 ("fig" under tag 5) goes last.
        let mut rank = vec![4u32; 5];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        let table = interner.table_by_rank(&rank);
        assert_eq!(table.len(), 5);
        let got: Vec<&str> = (0..table.len()).map(|i| table.get(i)).collect();
        assert_eq!(got, ["", "apple", "fig", "pear", "fig"]);
        assert_eq!(table.find_in(0..4, "fig"), Some(2));
        assert_eq!(table.find_in(0..4, "kiwi"), None);
        assert_eq!(table.find_in(1..4, ""), None);
    }

    #[test]
    fn long_keys_and_wide_tags_compare_in_the_arena() {
        let mut interner = Interner::default();
        let long = "0123456789abcdef-tail-1";
        let keys = [
            (0, long),
            (0, "0123456789abcdef-tail-2"),
            (0, "0123456789abcdef"),
            (70_000, "x"),
            (70_001, "x"),
            (65_535, "x"),
        ];
        for (i, &(tag, key)) in keys.iter().enumerate() {
            assert_eq!(interner.intern(tag, key), i as u32);
        }
        let huge = "h".repeat(70_000);
        assert_eq!(interner.intern(1, &huge), 6);
        // Enough keys to grow the table a few times.
        for i in 0..5000 {
            interner.intern(2, &format!("key-{i}-with-a-long-enough-suffix"));
        }
        for (i, &(tag, key)) in keys.iter().enumerate() {
            assert_eq!(interner.intern(tag, key), i as u32);
            assert_eq!((interner.str(i as u32), interner.tag(i as u32)), (key, tag));
        }
        // Reversed ranks reverse the table.
        let n = interner.len() as u32;
        let rank: Vec<u32> = (0..n).rev().collect();
        let table = interner.table_by_rank(&rank);
        assert_eq!(table.len(), n as usize);
        assert_eq!(table.get(0), interner.str(n - 1));
        assert_eq!(table.get(n as usize - 1), long);
        assert_eq!(table.get(n as usize - 7), huge);
        assert_eq!(interner.get(1, &huge), Some(6));
        assert_eq!(interner.get(1, &huge[1..]), None);
        assert_eq!(interner.get(2, "key-4999-with-a-long-enough-suffix"), Some(5006));
        assert_eq!(interner.len(), 5007);
    }

    #[test]
    fn pieces_split_at_the_ends() {
        let got: Vec<&str> = pieces("ab-cde", [2, 2, 3, 6]).collect();
        assert_eq!(got, ["ab", "", "-", "cde"]);
        assert_eq!(pieces("", []).count(), 0);
    }

    #[test]
    fn grouped_interning_matches_one_at_a_time() {
        // Repeats, long and short keys, wide tags, and enough keys for the
        // table to grow inside runs of groups.
        let keys: Vec<(u32, String)> = (0..6000u32)
            .map(|i| {
                let k = (i * 7919) % 2500;
                let tag = [0, 1, 70_000][(k % 3) as usize];
                let key = if k % 5 == 0 {
                    format!("long-key-{k}-padded-past-sixteen")
                } else {
                    format!("k{k}")
                };
                (tag, key)
            })
            .collect();
        let mut one = Interner::default();
        let expected: Vec<u32> = keys.iter().map(|(t, k)| one.intern(*t, k)).collect();
        let mut grouped = Interner::default();
        let mut ids = Vec::new();
        for chunk in keys.chunks(37) {
            grouped.intern_all(chunk.iter().map(|(t, k)| (*t, k.as_str())), &mut ids);
        }
        assert_eq!(ids, expected);
        assert_eq!(grouped.len(), one.len());
        for id in 0..one.len() as u32 {
            assert_eq!((grouped.str(id), grouped.tag(id)), (one.str(id), one.tag(id)));
        }
        grouped.intern_all(std::iter::empty(), &mut ids);
        assert_eq!(ids.len(), keys.len());
    }

    #[test]
    fn sorts_long_common_prefixes_and_ties() {
        let mut interner = Interner::default();
        // One common prefix, ties on the next eight bytes, NUL bytes, UTF-8
        // strings differing inside a character, and a string that is a
        // prefix of others.
        let words = [
            "acct-0000123456789b",
            "acct-0000123456789a",
            "acct-00001234",
            "acct-00001234\0",
            "acct-00001234\0\0\0\0\0\0\0",
            "acct-0000é",
            "acct-0000è",
            "acct-000",
        ];
        let ids: Vec<u32> = words.iter().map(|w| interner.intern(0, w)).collect();
        let mut expected: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        expected.sort();
        assert_eq!(sorted(&interner, &ids, usize::MAX), expected);
        assert_eq!(sorted(&interner, &ids, 0), expected);
    }

    proptest! {
        #[test]
        fn sorting_matches_string_order(
            words in proptest::collection::btree_set("[ab\\x00é]{0,12}", 0..700),
            prefix in "[a-z]{0,9}",
            seed in any::<u64>(),
        ) {
            let mut interner = Interner::default();
            let mut ids: Vec<u32> =
                words.iter().map(|w| interner.intern(3, &format!("{prefix}{w}"))).collect();
            // Any input order gives the same result.
            ids.sort_by_key(|&id| (u64::from(id) ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let expected: Vec<String> = words.iter().map(|w| format!("{prefix}{w}")).collect();
            prop_assert_eq!(sorted(&interner, &ids, 0), expected.clone());
            prop_assert_eq!(sorted(&interner, &ids, usize::MAX), expected);
            for w in &words {
                let key = format!("{prefix}{w}");
                prop_assert!(interner.get(3, &key).is_some());
            }
        }
    }
}
