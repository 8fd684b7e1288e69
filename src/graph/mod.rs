//! The account graph: accounts linked by the indicators they share, weighted
//! by kind, specificity and time, with bounded cost on supernodes.
//!
//! # Overview
//!
//! - [`GraphConfig`] (public): weights per kind, the supernode cap and its
//!   time windows, the time factor, per-kind caps, known shared values,
//!   top-k and the parallel threshold. Every default is documented on its setter.
//! - `AccountGraph::build` projects an `Index` onto an undirected symmetric
//!   CSR over account ids with `f32` weights and a `KindMask` per edge, and
//!   returns `ProjectionStats` (pairs emitted, pairs skipped by the cap, timings).
//! - [`GraphBuilder`], [`EventIndex`] and [`GraphSummary`] (public): events
//!   in, a frozen index, then the summary `hydra graph` writes as
//!   `graph.json` out.
//! - [`AccountEdges`] (public): the weighted graph as plain data, written
//!   as an edge list and an id map (`hydra graph --edges`).
//!
//! The weighting formula is documented in `weight.rs`, the projection
//! (supernodes, windows, determinism) in `project.rs`.

mod csr;
mod export;
mod project;
mod summary;
mod weight;

pub(crate) use csr::AccountGraph;
#[cfg(feature = "distributed")]
pub(crate) use csr::{kept_by, kth_strongest};
pub use export::AccountEdges;
#[cfg(feature = "distributed")]
pub(crate) use project::{
    Counters, Edge, Edges, Pair, ProjectionStats, RELEASE_PAIRS, emit, merge_pairs, sum_pairs,
};
pub use summary::{EventIndex, GraphBuilder, GraphSummary};
pub use weight::GraphConfig;
#[cfg(feature = "distributed")]
pub(crate) use weight::{KindMask, KindTable};

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::seq::SliceRandom;
    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64;

    use super::project::ProjectionStats;
    use super::weight::specificity;
    use super::*;
    use crate::event::{Event, IndicatorKind};
    use crate::id::{AccountId, IndicatorId};
    use crate::index::{Index, IndexBuilder};

    /// A small random platform: accounts sharing a few indicators of mixed
    /// kinds, some repeated, at times spread over a day.
    fn platform(seed: u64, accounts: usize, observations: usize) -> Vec<Event> {
        let mut rng = Pcg64::seed_from_u64(seed);
        let kinds = [
            IndicatorKind::Ip,
            IndicatorKind::Payment,
            IndicatorKind::Device,
            IndicatorKind::UserAgent,
            IndicatorKind::parse("ja5").unwrap(),
        ];
        let mut events = Vec::with_capacity(observations);
        for _ in 0..observations {
            let a = rng.random_range(0..accounts);
            let k = rng.random_range(0..kinds.len());
            let v = rng.random_range(0..accounts / 3 + 1);
            let value = match kinds[k] {
                IndicatorKind::Ip => format!("10.{}.{}.{}", v % 3, v % 7, v),
                _ => format!("v{v}"),
            };
            let ts = rng.random_range(0..86_400);
            events.push(Event::observe(ts, format!("acc{a}"), kinds[k].clone(), value));
        }
        events
    }

    fn build(events: &[Event], config: &GraphConfig) -> (AccountGraph, ProjectionStats) {
        let index = Index::from_events(events).unwrap();
        AccountGraph::build(&index, config)
    }

    fn on_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(f)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn shuffled_input_gives_identical_graph(seed in any::<u64>(), shuffle in any::<u64>()) {
            let events = platform(seed, 40, 400);
            let mut shuffled = events.clone();
            shuffled.shuffle(&mut Pcg64::seed_from_u64(shuffle));
            // A small cap so that supernode windows are exercised too.
            let config = GraphConfig::new().supernode_cap(6).top_k(Some(4));
            let (a, sa) = build(&events, &config);
            let (b, sb) = build(&shuffled, &config);
            prop_assert_eq!(a, b);
            prop_assert_eq!(sa.pairs_emitted, sb.pairs_emitted);
        }

        #[test]
        fn repeated_observations_change_nothing(seed in any::<u64>()) {
            let events = platform(seed, 30, 200);
            let mut doubled = events.clone();
            doubled.extend(events.iter().cloned());
            let config = GraphConfig::new();
            prop_assert_eq!(build(&events, &config).0, build(&doubled, &config).0);
        }
    }

    #[test]
    fn one_thread_and_two_threads_give_identical_graphs() {
        for seed in [1, 2, 3] {
            let events = platform(seed, 300, 6000);
            let config = GraphConfig::new().supernode_cap(20).parallel_threshold(0).top_k(Some(5));
            let index = on_threads(2, || {
                let mut b = IndexBuilder::new().parallel_threshold(0);
                for e in &events {
                    b.add(e).unwrap();
                }
                b.finish()
            });
            let one = on_threads(1, || AccountGraph::build(&index, &config));
            let two = on_threads(2, || AccountGraph::build(&index, &config));
            assert_eq!(one.0, two.0, "seed {seed}");
            assert_eq!(one.1.pairs_emitted, two.1.pairs_emitted, "seed {seed}");
            assert!(one.1.indicators_over_cap > 0, "seed {seed}: supernodes exercised");
            assert!(one.0.edge_count() > 0);
            let serial =
                AccountGraph::build(&index, &config.clone().parallel_threshold(usize::MAX));
            assert_eq!(one.0, serial.0, "seed {seed}: serial path");
        }
    }

    #[test]
    fn a_huge_indicator_costs_no_more_than_the_cap() {
        let cap = 200usize;
        let mut b = IndexBuilder::new();
        // 100,000 accounts on one carrier-grade NAT address, one every 3
        // seconds: about 200 per ten-minute window.
        for i in 0..100_000i64 {
            let e = Event::observe(i * 3, format!("a{i:06}"), IndicatorKind::Ip, "100.64.0.1");
            b.add(&e).unwrap();
        }
        let index = b.finish();
        let config = GraphConfig::new().supernode_cap(cap).window_cap(1000);
        let (graph, stats) = AccountGraph::build(&index, &config);
        let budget = (cap * (cap - 1) / 2) as u64;
        // Two supernodes: the address and its /24.
        assert_eq!(stats.indicators_over_cap, 2);
        assert!(stats.max_indicator_pairs <= budget, "{stats:?}");
        assert!(stats.pairs_emitted <= 2 * budget, "{stats:?}");
        assert_eq!(stats.pairs_regular, 0);
        assert_eq!(stats.pairs_skipped_by_cap, 2 * (100_000u64 * 99_999 / 2));
        assert!(stats.windows_over_budget > 0);
        assert!(graph.edge_count() as u64 <= stats.pairs_emitted);
    }

    #[test]
    fn specificity_and_time_shape_edges() {
        let events = vec![
            // A pair on a device, minutes apart.
            Event::observe(0, "a", IndicatorKind::Device, "d"),
            Event::observe(120, "b", IndicatorKind::Device, "d"),
            // A pair on a device, weeks apart.
            Event::observe(0, "c", IndicatorKind::Device, "e"),
            Event::observe(30 * 86_400, "d", IndicatorKind::Device, "e"),
            // Ten accounts on a device at once.
        ];
        let mut events = events;
        for i in 0..10 {
            events.push(Event::observe(0, format!("t{i}"), IndicatorKind::Device, "f"));
        }
        let index = Index::from_events(&events).unwrap();
        let (g, _) = AccountGraph::build(&index, &GraphConfig::new());
        let id = |s: &str| index.account_id(s).unwrap();
        let w = |x: &str, y: &str| g.edge(id(x), id(y)).unwrap().0;
        assert!(w("a", "b") > w("c", "d"), "time factor");
        assert!(w("a", "b") > w("t0", "t1"), "specificity");
        assert!((w("t0", "t1") as f64 - 0.6 * specificity(10)).abs() < 1e-5);
        let (_, _, mask) = g.neighbors(id("a")).next().unwrap();
        assert!(mask.contains(&IndicatorKind::Device));
    }

    #[test]
    fn repeated_observations_do_not_create_links() {
        let mut events = Vec::new();
        for t in 0..50 {
            events.push(Event::observe(t, "a", IndicatorKind::Payment, "p"));
        }
        events.push(Event::observe(5, "b", IndicatorKind::Payment, "p"));
        let index = Index::from_events(&events).unwrap();
        assert_eq!(index.link_count(), 2);
        let p = index.indicator_id(&IndicatorKind::Payment, "p").unwrap();
        assert_eq!(index.indicator_links(p).next().unwrap().1.count, 50);
        let (g, stats) = AccountGraph::build(&index, &GraphConfig::new());
        assert_eq!((g.edge_count(), stats.pairs_emitted), (1, 1));
        assert_eq!(index.indicator_degree(IndicatorId::new(0)), 2);
        assert_eq!(g.degree(AccountId::new(0)), 1);
    }
}
