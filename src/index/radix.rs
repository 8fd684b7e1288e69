//! Least-significant-digit radix sort on a `u64` key, for the builder's
//! large buffers (observations, activity minutes, string sort keys).
//!
//! # Overview
//!
//! [`sort_by_key`] sorts stably in `O(n · d)` for `d` non-trivial 11-bit
//! digits of the key (digits on which every element agrees are skipped), with
//! one scratch buffer of the same length. Comparison sorts cost
//! `O(n log n)` comparisons with unpredictable branches; on ten million
//! records the radix passes are several times faster (Knuth, *The Art of
//! Computer Programming* vol. 3, §5.2.5, "Sorting by distribution").

/// Bits per digit: 2,048 buckets, whose counters fit in L1/L2 cache.
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
/// Digits of a 64-bit key (the last one has 9 bits).
const DIGITS: usize = 64_usize.div_ceil(DIGIT_BITS as usize);
/// Below this length a comparison sort is faster than the histogram passes.
const SMALL: usize = 512;

/// Sorts `v` by `key`, stably (equal keys keep their order).
///
/// # Complexity
///
/// `O(n · d + d · 2048)` time for `n` items and `d ≤ 6` digits that differ
/// between items; `O(n)` extra memory (one scratch copy of `v`).
pub(crate) fn sort_by_key<T: Copy>(v: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    let n = v.len();
    if n < SMALL {
        v.sort_by_key(|x| key(x));
        return;
    }
    // One read pass counts every digit.
    let mut counts = vec![[0usize; BUCKETS]; DIGITS];
    for x in v.iter() {
        let k = key(x);
        for (d, c) in counts.iter_mut().enumerate() {
            c[((k >> (d as u32 * DIGIT_BITS)) as usize) & (BUCKETS - 1)] += 1;
        }
    }
    let mut scratch: Vec<T> = Vec::new();
    for (d, c) in counts.iter_mut().enumerate() {
        // A digit on which all items agree leaves the order as it is.
        if c.contains(&n) {
            continue;
        }
        // Exclusive prefix sums: each bucket's first slot.
        let mut sum = 0;
        for slot in c.iter_mut() {
            let k = *slot;
            *slot = sum;
            sum += k;
        }
        if scratch.is_empty() {
            scratch = v.clone();
        }
        let shift = d as u32 * DIGIT_BITS;
        for x in v.iter() {
            let b = ((key(x) >> shift) as usize) & (BUCKETS - 1);
            scratch[c[b]] = *x;
            c[b] += 1;
        }
        std::mem::swap(v, &mut scratch);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sorts_like_a_stable_sort(
            keys in proptest::collection::vec(any::<u64>(), 0..2000),
            narrow in any::<bool>(),
        ) {
            // Narrow keys exercise skipped digits and many ties.
            let items: Vec<(u64, usize)> = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| (if narrow { k % 700 } else { k }, i))
                .collect();
            let mut radix = items.clone();
            sort_by_key(&mut radix, |x| x.0);
            let mut expected = items;
            expected.sort_by_key(|x| x.0);
            prop_assert_eq!(radix, expected);
        }
    }

    #[test]
    fn large_input_with_shared_high_bits() {
        let mut v: Vec<u64> =
            (0..5000u64).map(|i| (7 << 40) | (i.wrapping_mul(2_654_435_761) % 100_000)).collect();
        let mut expected = v.clone();
        expected.sort_unstable();
        sort_by_key(&mut v, |&x| x);
        assert_eq!(v, expected);
    }
}
