//! Summaries of an [`Index`]: indicators per kind, the degree distribution and
//! the largest indicators (for `graph.json` and for choosing caps).

use serde::Serialize;

use crate::event::IndicatorKind;
use crate::id::IndicatorId;

use super::Index;

/// Indicators whose account count falls in `[min, max]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct DegreeBucket {
    /// Smallest account count in the bucket.
    pub(crate) min: u64,
    /// Largest account count in the bucket.
    pub(crate) max: u64,
    /// How many indicators have an account count in `[min, max]`.
    pub(crate) indicators: u64,
}

impl Index {
    /// How many indicators each kind has, in kind order.
    pub(crate) fn indicators_by_kind(&self) -> Vec<(IndicatorKind, usize)> {
        self.kinds().map(|(kind, ids)| (kind.clone(), ids.len())).collect()
    }

    /// The distribution of indicator degrees (accounts per indicator) in
    /// power-of-two buckets `[1, 1]`, `[2, 3]`, `[4, 7]`, ...; empty buckets
    /// are left out.
    pub(crate) fn degree_histogram(&self) -> Vec<DegreeBucket> {
        let mut counts = [0u64; 65];
        for i in 0..self.indicator_count() {
            let d = self.indicator_degree(IndicatorId::new(i as u32)) as u64;
            // Every indicator has at least one account; be safe anyway.
            let bucket = if d == 0 { 0 } else { 64 - d.leading_zeros() as usize };
            counts[bucket] += 1;
        }
        (1..65)
            .filter(|&b| counts[b] > 0)
            .map(|b| DegreeBucket {
                min: 1u64 << (b - 1),
                max: if b == 64 { u64::MAX } else { (1u64 << b) - 1 },
                indicators: counts[b],
            })
            .collect()
    }

    /// The `n` indicators with the most accounts, largest first (ties by id).
    ///
    /// # Complexity
    ///
    /// `O(I log n)` for `I` shared indicators.
    pub(crate) fn largest_indicators(&self, n: usize) -> Vec<IndicatorId> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        if n == 0 {
            return Vec::new();
        }
        // A min-heap on (degree, Reverse(id)) keeps the n best seen so far.
        let mut heap = BinaryHeap::with_capacity(n + 1);
        let candidates: Box<dyn Iterator<Item = IndicatorId>> =
            if self.shared_indicators().len() >= n {
                Box::new(self.shared_indicators().iter().copied())
            } else {
                Box::new((0..self.indicator_count() as u32).map(IndicatorId::new))
            };
        for id in candidates {
            heap.push(Reverse((self.indicator_degree(id), Reverse(id))));
            if heap.len() > n {
                heap.pop();
            }
        }
        let mut best: Vec<(usize, Reverse<IndicatorId>)> =
            heap.into_iter().map(|Reverse(x)| x).collect();
        best.sort_unstable_by(|a, b| b.cmp(a));
        best.into_iter().map(|(_, Reverse(id))| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::event::Event;

    use super::*;

    #[test]
    fn histogram_and_largest() {
        let mut events = Vec::new();
        for a in 0..5 {
            events.push(Event::observe(0, format!("a{a}"), IndicatorKind::Template, "big"));
        }
        for a in 0..2 {
            events.push(Event::observe(0, format!("a{a}"), IndicatorKind::Device, "pair"));
        }
        events.push(Event::observe(0, "a0", IndicatorKind::Email, "x@y"));
        let index = Index::from_events(&events).unwrap();
        let h = index.degree_histogram();
        assert_eq!(
            h,
            [
                DegreeBucket { min: 1, max: 1, indicators: 1 },
                DegreeBucket { min: 2, max: 3, indicators: 1 },
                DegreeBucket { min: 4, max: 7, indicators: 1 },
            ]
        );
        let largest = index.largest_indicators(2);
        let values: Vec<&str> = largest.iter().map(|&i| index.indicator_value(i)).collect();
        assert_eq!(values, ["big", "pair"]);
        assert_eq!(index.largest_indicators(10).len(), 3);
        let by_kind = index.indicators_by_kind();
        assert_eq!(by_kind.len(), 3);
        assert!(by_kind.iter().all(|(_, n)| *n == 1));
    }
}
