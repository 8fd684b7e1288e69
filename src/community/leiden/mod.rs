//! The Leiden algorithm: [`leiden`] with its [`LeidenConfig`].
//!
//! Split as libleidenalg splits its engine: [`partition`] holds the mutable
//! partition and its aggregates (changed only by `move_node`), [`quality`]
//! the quality functions (`diff_move`, `quality`), and one file per phase:
//! [`moving`] → [`refine`] → [`aggregate`].

mod aggregate;
mod moving;
mod partition;
mod quality;
mod refine;

use std::borrow::Cow;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;

use self::aggregate::{LevelGraph, aggregate};
use self::moving::{is_stable, move_nodes, move_nodes_batched};
use self::partition::LevelPartition;
use self::quality::{Cpm, Modularity, QualityFunction};
use self::refine::refine;
use super::components::{find, union};
use super::graph::Graph;
use super::partition::Partition;
use super::quality::Quality;
use crate::error::{Error, Result};

/// Settings for [`leiden`].
///
/// Defaults ([`LeidenConfig::new`]): modularity with resolution 1, seed 42,
/// iterate until an iteration improves the quality by at most a relative
/// [tolerance](LeidenConfig::tolerance) of 1e-4 (small graphs: until no
/// improvement at all), randomness `θ = 0.01`,
/// parallel phases (local moving in batches, refinement, aggregation) on
/// levels of at least 50 000 nodes, no initial partition
/// (every node starts alone), no fixed nodes.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{LeidenConfig, Quality};
///
/// let config = LeidenConfig::new()
///     .quality(Quality::Cpm { resolution: 0.05 })
///     .seed(7)
///     .max_iterations(Some(2));
/// assert_eq!(config.get_seed(), 7);
/// assert_eq!(config.get_max_iterations(), Some(2));
/// assert_eq!(LeidenConfig::default().get_seed(), 42);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LeidenConfig {
    quality: Quality,
    seed: u64,
    max_iterations: Option<usize>,
    tolerance: f64,
    randomness: f64,
    parallel_threshold: usize,
    /// Level-0 graphs of at least this many nodes are renumbered by community.
    renumber_threshold: usize,
    /// With `parallel_moving`, levels of at least this many nodes move in
    /// batches (a size of the algorithm, not of the machine: the result
    /// must not depend on `parallel_threshold`).
    batched_threshold: usize,
    parallel_moving: bool,
    initial: Option<Partition>,
    /// Sorted, without repeats.
    fixed: Vec<u32>,
}

impl Default for LeidenConfig {
    fn default() -> Self {
        LeidenConfig {
            quality: Quality::default(),
            seed: 42,
            max_iterations: None,
            tolerance: DEFAULT_TOLERANCE,
            randomness: 0.01,
            parallel_threshold: 50_000,
            renumber_threshold: RENUMBER_NODES,
            batched_threshold: BATCHED_NODES,
            parallel_moving: true,
            initial: None,
            fixed: Vec::new(),
        }
    }
}

impl LeidenConfig {
    /// The default settings (see [`LeidenConfig`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The quality function to maximise (default: modularity, resolution 1).
    pub fn quality(mut self, quality: Quality) -> Self {
        self.quality = quality;
        self
    }

    /// Seed of the random node orders and refinement choices (default 42).
    ///
    /// The same graph, settings and seed give the same partition, whatever
    /// the number of threads.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// At most this many iterations; `None` (the default) iterates until an
    /// iteration does not improve the quality.
    ///
    /// One iteration is a full multi-level pass (move, refine, aggregate,
    /// repeated until the graph stops shrinking); each later iteration
    /// starts from the previous result. `Some(0)` returns the initial
    /// partition.
    pub fn max_iterations(mut self, max_iterations: Option<usize>) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// Stop iterating once an iteration raises the quality by at most this
    /// fraction of its value (default 1e-4; 0 iterates until no improvement).
    ///
    /// The iteration that falls below it is kept; this only saves the
    /// further iterations, each a full pass over the graph, that would add
    /// less than the tolerance each (on a 1M-node graph, ten more iterations
    /// for a modularity gain of 2e-6). Graphs of fewer than 10 000 nodes
    /// iterate until no improvement whatever the tolerance: they are cheap.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Runs the local moving of levels of 50,000 nodes or more in batches,
    /// evaluated in parallel (default on; off: one node at a time on every
    /// level).
    ///
    /// The queue is taken in batches of a size fixed by the graph; each
    /// batch's best moves are found in parallel against the partition at
    /// the start of the batch, then applied in order, each re-checked in
    /// O(1) and applied only if it still improves the quality (a node whose
    /// neighbor moved earlier in the batch is queued again instead). The
    /// result is the same on any number of threads and whatever the
    /// [parallel threshold](LeidenConfig::parallel_threshold) (levels of
    /// 50,000 nodes or more move in batches, evaluated in parallel when the
    /// level also reaches that threshold), but not the same as with this
    /// off. On by default: on an otherwise idle 2-core machine it
    /// cut the whole detection on 1M-node LFR graphs by 11–16 % at equal
    /// modularity (BENCHMARKS.md).
    pub fn parallel_moving(mut self, on: bool) -> Self {
        self.parallel_moving = on;
        self
    }

    /// Whether local moving runs in parallel batches.
    pub fn get_parallel_moving(&self) -> bool {
        self.parallel_moving
    }

    /// The iteration tolerance.
    pub fn get_tolerance(&self) -> f64 {
        self.tolerance
    }

    /// Renumbers level-0 graphs of at least `nodes` nodes (tests reach the
    /// renumbered path on small graphs with it).
    #[cfg(test)]
    pub(crate) fn renumber_threshold(mut self, nodes: usize) -> Self {
        self.renumber_threshold = nodes;
        self
    }

    /// Moves levels of at least `nodes` nodes in batches when
    /// [`parallel_moving`](LeidenConfig::parallel_moving) is on (tests reach
    /// the batched path on small graphs with it).
    #[cfg(test)]
    pub(crate) fn batched_threshold(mut self, nodes: usize) -> Self {
        self.batched_threshold = nodes;
        self
    }

    /// Randomness `θ > 0` of the refinement (default 0.01).
    ///
    /// A node joins a refined subcommunity with probability proportional to
    /// `exp(gain / θ)`, the gain in units of edge weight: small values are
    /// nearly greedy, large ones explore.
    pub fn randomness(mut self, theta: f64) -> Self {
        self.randomness = theta;
        self
    }

    /// Levels with at least this many nodes, or 20 times as many adjacency
    /// entries, run their parallel phases (refinement, aggregation,
    /// relabelling) on the rayon thread pool (default 50 000). The result
    /// does not depend on it.
    pub fn parallel_threshold(mut self, nodes: usize) -> Self {
        self.parallel_threshold = nodes;
        self
    }

    /// Starts from `partition` instead of singletons (a warm start).
    ///
    /// The result is never worse than `partition` by the chosen quality.
    pub fn initial(mut self, partition: Partition) -> Self {
        self.initial = Some(partition);
        self
    }

    /// The same settings without an initial partition or fixed nodes: what
    /// batch detection keeps of a caller's config, whose node ids it assigns.
    pub(crate) fn without_start(mut self) -> Self {
        self.initial = None;
        self.fixed = Vec::new();
        self
    }

    /// Holds these nodes fixed: a fixed node never moves.
    ///
    /// Two fixed nodes end in the same community exactly when they start in
    /// the same community of the [initial](LeidenConfig::initial) partition
    /// (without one, every fixed node keeps a community of its own). Other
    /// nodes may join or leave their communities.
    pub fn fixed_nodes(mut self, nodes: impl IntoIterator<Item = u32>) -> Self {
        let mut fixed: Vec<u32> = nodes.into_iter().collect();
        fixed.sort_unstable();
        fixed.dedup();
        self.fixed = fixed;
        self
    }

    /// The quality function.
    pub fn get_quality(&self) -> Quality {
        self.quality
    }

    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The iteration bound, `None` for "until no improvement".
    pub fn get_max_iterations(&self) -> Option<usize> {
        self.max_iterations
    }

    /// The refinement randomness `θ`.
    pub fn get_randomness(&self) -> f64 {
        self.randomness
    }

    /// The parallel threshold, in nodes per level.
    pub fn get_parallel_threshold(&self) -> usize {
        self.parallel_threshold
    }

    /// The initial partition, if any.
    pub fn get_initial(&self) -> Option<&Partition> {
        self.initial.as_ref()
    }

    /// The fixed nodes, sorted.
    pub fn get_fixed_nodes(&self) -> &[u32] {
        &self.fixed
    }

    /// Checks these settings against `graph`.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Config`](crate::ErrorKind::Config) error if the
    /// resolution or the tolerance is negative or not finite, the randomness
    /// is not finite and positive,
    /// the initial partition does not have one entry per node, or a fixed
    /// node is out of range.
    pub fn validate(&self, graph: &Graph) -> Result<()> {
        self.check_settings()?;
        if let Some(p) = self.initial.as_ref().filter(|p| p.node_count() != graph.node_count()) {
            return Err(Error::config(format!(
                "the initial partition has {} nodes but the graph has {}",
                p.node_count(),
                graph.node_count()
            )));
        }
        if let Some(&v) = self.fixed.last().filter(|&&v| v as usize >= graph.node_count()) {
            return Err(Error::config(format!(
                "fixed node {v} is out of range (the graph has {} nodes)",
                graph.node_count()
            )));
        }
        Ok(())
    }

    /// Checks the settings that do not depend on a graph: resolution,
    /// tolerance and randomness.
    pub(crate) fn check_settings(&self) -> Result<()> {
        let resolution = self.quality.resolution();
        if !(resolution.is_finite() && resolution >= 0.0) {
            return Err(Error::config(format!(
                "resolution {resolution} is not a finite non-negative number"
            )));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::config(format!(
                "tolerance {} is not a finite non-negative number",
                self.tolerance
            )));
        }
        if !(self.randomness.is_finite() && self.randomness > 0.0) {
            return Err(Error::config(format!(
                "randomness {} is not a finite positive number",
                self.randomness
            )));
        }
        Ok(())
    }
}

/// Finds communities with the Leiden algorithm.
///
/// Leiden (Traag, Waltman and van Eck 2019, "From Louvain to Leiden:
/// guaranteeing well-connected communities", *Scientific Reports* 9, 5233)
/// improves on Louvain by refining each community before aggregating it.
/// Each level has three phases:
///
/// 1. **Fast local moving**: nodes, queued in a random order, move greedily
///    to the neighboring community with the best quality gain; a node that
///    moved re-queues its neighbors outside its new community.
/// 2. **Refinement**: within each community, nodes start alone and merge,
///    at random among the moves that do not lower the quality, only into
///    well-connected subsets; every refined community is connected.
/// 3. **Aggregation**: each refined community becomes one node of the next
///    level, starting in the community that contains it.
///
/// Levels repeat until a level's communities are all single nodes or the
/// graph stops shrinking; that is one iteration. Iterations repeat, each
/// from the previous result, until one brings no improvement, or less than
/// the [tolerance](LeidenConfig::tolerance), or
/// [`max_iterations`](LeidenConfig::max_iterations) is reached.
///
/// On large graphs (32 768 nodes or more), the first iteration renumbers
/// the nodes after its first local moving so that each community's nodes
/// are consecutive, and every later phase and iteration runs on the
/// renumbered copy: the hot loops then find most neighbors' data in
/// nearby cache lines. The result is mapped back to the original ids. As a
/// last safeguard every community is checked, on the last (small) level
/// graph, and a disconnected one is split into its connected components,
/// which can only raise the quality; components holding fixed nodes stay
/// together, so a disconnected initial community of fixed nodes survives.
///
/// Later iterations on large graphs reuse work: when no node of level 0
/// moves, the communities are unions of the previous iteration's level-1
/// nodes, so the iteration continues from that kept level 1 instead of
/// refining and aggregating level 0 again; and on large levels, the local
/// moving of their first two levels, which rarely moves a node, first runs
/// as a parallel read-only check that no node would move. So does, in every
/// iteration, the local moving of a large level that follows a level which
/// moved at most 0.1 % of its nodes.
///
/// The quality is [modularity](super::modularity) or [CPM](super::cpm)
/// with a resolution, with self-loops counted as those functions count them.
/// Refinement and aggregation run on the rayon pool on levels of at least
/// [`parallel_threshold`](LeidenConfig::parallel_threshold) nodes, and so
/// does the evaluation of local moving's batches on levels of 50,000 nodes
/// or more (see [`parallel_moving`](LeidenConfig::parallel_moving)); smaller
/// levels move one node at a time. Randomness comes from
/// one `Pcg64` seeded by [`seed`](LeidenConfig::seed), and each parallel
/// task draws from its own stream derived from it, so the result is the
/// same on any thread count.
///
/// # Arguments
///
/// * `graph`: the graph.
/// * `config`: quality function, seed, iteration bound, warm start, fixed nodes.
///
/// # Returns
///
/// The [`Partition`] found, numbered by smallest member; its quality is at
/// least that of the initial partition (singletons by default).
///
/// # Complexity
///
/// O(m) time per sweep of the local-moving queue and O(n + m) per
/// refinement and aggregation, on a geometrically shrinking graph: in
/// practice near-linear per iteration, with a few iterations. O(n + m) space.
///
/// # Panics
///
/// If [`LeidenConfig::validate`] rejects `config` for `graph`.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{leiden, modularity, Graph, LeidenConfig};
///
/// // Two 4-cliques joined by one edge.
/// let mut edges = vec![(3, 4, 1.0)];
/// for base in [0u32, 4] {
///     for a in 0..4 {
///         for b in a + 1..4 {
///             edges.push((base + a, base + b, 1.0));
///         }
///     }
/// }
/// let g = Graph::from_edges(8, edges);
/// let p = leiden(&g, &LeidenConfig::new());
/// assert_eq!(p.membership(), &[0, 0, 0, 0, 1, 1, 1, 1]);
/// assert!(modularity(&g, &p, 1.0) > 0.42);
/// ```
#[track_caller]
pub fn leiden(graph: &Graph, config: &LeidenConfig) -> Partition {
    if let Err(e) = config.validate(graph) {
        panic!("{e}");
    }
    let n = graph.node_count();
    let initial = match &config.initial {
        Some(p) => p.clone(),
        None => Partition::singletons(n),
    };
    // Without edges every partition has modularity 0 and singletons are
    // optimal for CPM with γ >= 0; nothing to optimise either way.
    if graph.total_weight() <= 0.0 && matches!(config.quality, Quality::Modularity { .. }) {
        return split_disconnected(graph, initial.membership(), &config.fixed);
    }
    match config.quality {
        Quality::Modularity { resolution } => {
            optimise(graph, config, &Modularity { resolution }, initial)
        }
        Quality::Cpm { resolution } => optimise(graph, config, &Cpm { resolution }, initial),
    }
}

/// Default [`LeidenConfig::tolerance`].
const DEFAULT_TOLERANCE: f64 = 1e-4;

/// Graphs below this many nodes ignore [`LeidenConfig::tolerance`].
const TOLERANCE_MIN_NODES: usize = 10_000;

/// Level-0 graphs with at least this many nodes are renumbered by community
/// after the first local moving (see [`LevelGraph::renumbered`]): below it
/// the per-node arrays fit in a core's cache anyway.
const RENUMBER_NODES: usize = 1 << 15;

/// Levels of at least this many nodes move in batches (with
/// `parallel_moving`); smaller levels keep the one-node-at-a-time loop,
/// which is as fast there.
const BATCHED_NODES: usize = 50_000;

/// A level whose local moving moves at most one node in this many is
/// *quiet*: the next level's sweep is then first run as the parallel check
/// [`is_stable`], which on the deep levels of an iteration (where the
/// moves have died out but refinement still merges a few nodes) finds
/// that no node would move, in parallel instead of one node at a time.
///
/// When the check finds a node that would move, its work is lost. On
/// detection's account graph (medium preset, 10 iterations) one in 1,000
/// never lost it and caught 8 of the 10 levels at depth 4 and every deeper
/// one, all without moves; one in 100 would also have run it on 6 levels at
/// depth 3, of which 5 had moves.
const QUIET_LEVEL: usize = 1_000;

/// Levels of fewer nodes than the parallel threshold still run their
/// parallel phases when they hold at least this many times the threshold
/// in adjacency entries: aggregated levels can be small in nodes yet dense
/// (detection's account graph: 15,000 nodes with 6 M entries).
const PARALLEL_ENTRIES_PER_NODE: usize = 20;

/// Whether `level` runs its parallel phases (see
/// [`LeidenConfig::parallel_threshold`]); results do not depend on it.
fn is_parallel(level: &LevelGraph<'_>, threshold: usize) -> bool {
    level.node_count() >= threshold
        || level.entry_count() >= threshold.saturating_mul(PARALLEL_ENTRIES_PER_NODE)
}

/// The iteration loop: keep running [`iteration`] while it improves.
fn optimise<Q: QualityFunction>(
    graph: &Graph,
    config: &LeidenConfig,
    quality: &Q,
    initial: Partition,
) -> Partition {
    let n = graph.node_count();
    let mut rng = Pcg64::seed_from_u64(config.seed);
    let mut best = initial;
    let mut improved = false;
    let level0 = LevelGraph::from_graph(graph, &config.fixed, config.parallel_threshold);
    let mut best_quality = match config.initial {
        None => singleton_quality(quality, &level0),
        Some(_) => config.quality.evaluate(graph, &best),
    };
    // Level 0 renumbered by the first iteration's communities, and the new
    // id of each node; later iterations run on it.
    let mut renumbered: Option<Renumbered> = None;
    // On large graphs, the level 1 of the last iteration that built one (see
    // `FirstLevel`). Small graphs redraw the refinement of level 0 in every
    // iteration: it is cheap there, and finds more (Zachary's karate club
    // with seed 12 stops at 0.398 instead of 0.420 without).
    let large = n >= config.renumber_threshold;
    let mut first_level: Option<FirstLevel> = None;
    let mut done = 0usize;
    while config.max_iterations.is_none_or(|max| done < max) {
        let _span = tracing::debug_span!("leiden_iteration", iteration = done).entered();
        let started = std::time::Instant::now();
        let result = match renumbered.as_ref() {
            None => {
                let slot = large.then_some(&mut renumbered);
                let membership = best.membership().to_vec();
                let kept = large.then_some(&mut first_level);
                iteration(&level0, config, quality, membership, slot, kept, &mut rng)
            }
            Some((base, new_of)) => {
                let mut membership = vec![0u32; n];
                for (&c, &i) in best.membership().iter().zip(new_of) {
                    membership[i as usize] = c;
                }
                let mut result = iteration(
                    base,
                    config,
                    quality,
                    first_position_labels(membership),
                    None,
                    large.then_some(&mut first_level),
                    &mut rng,
                );
                let own = &result.membership;
                result.membership = new_of.iter().map(|&i| own[i as usize]).collect();
                result
            }
        };
        let candidate = Partition::from_membership(result.membership);
        let q = result.quality;
        done += 1;
        tracing::debug!(
            iteration = done,
            quality = q,
            communities = candidate.community_count(),
            ms = started.elapsed().as_millis() as u64
        );
        let gain = q - best_quality;
        // Relative tolerance: CPM values grow with the graph.
        if gain > 1e-12 * best_quality.abs().max(1.0) {
            best = candidate;
            improved = true;
            best_quality = q;
        } else {
            break;
        }
        if n >= TOLERANCE_MIN_NODES && gain <= config.tolerance * q.abs() {
            break;
        }
    }
    if improved {
        // Iterations split their result already (see `split_level`).
        best
    } else {
        split_disconnected(graph, best.membership(), &config.fixed)
    }
}

/// The quality of the all-singletons partition of `level`, in O(n): each
/// community's internal weight is its node's self-loop.
fn singleton_quality<Q: QualityFunction>(quality: &Q, level: &LevelGraph<'_>) -> f64 {
    let lambda = quality.penalty(level);
    let x = quality.node_weights(level);
    let sum: f64 =
        level.self_weights().iter().zip(x).map(|(&w, &x)| w - 0.5 * lambda * x * x).sum();
    quality.norm(level) * sum + quality.constant(level)
}

/// Relabels communities (ids `< n`) by the position of their first member,
/// so that ids of nearby nodes are nearby.
fn first_position_labels(mut membership: Vec<u32>) -> Vec<u32> {
    let mut map = vec![u32::MAX; membership.len()];
    for (i, c) in membership.iter_mut().enumerate() {
        let slot = &mut map[*c as usize];
        if *slot == u32::MAX {
            *slot = i as u32;
        }
        *c = *slot;
    }
    membership
}

/// Nodes of large levels are visited in shuffled blocks of this many
/// consecutive ids (see [`visit_order`]).
const VISIT_BLOCK: usize = 64;

/// The order local moving first visits the `n` nodes of a level in: a
/// random permutation, drawn from `rng`.
///
/// With `blocked` (large levels), blocks of [`VISIT_BLOCK`] consecutive ids
/// are shuffled and each block visited in id order: rows are then read in
/// runs, and on a level renumbered by community (or an aggregated one, whose
/// ids follow the communities) the nodes visited one after the other share
/// their neighbors' cache lines; the blocks keep the order random at a
/// coarser grain.
fn visit_order(n: usize, blocked: bool, rng: &mut Pcg64) -> Vec<u32> {
    if !blocked {
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.shuffle(rng);
        return order;
    }
    let mut blocks: Vec<u32> = (0..n.div_ceil(VISIT_BLOCK) as u32).collect();
    blocks.shuffle(rng);
    let mut order = Vec::with_capacity(n);
    for b in blocks {
        let start = b as usize * VISIT_BLOCK;
        order.extend(start as u32..(start + VISIT_BLOCK).min(n) as u32);
    }
    order
}

/// What one [`iteration`] found.
struct IterationResult {
    /// The community of every node of the base graph.
    membership: Vec<u32>,
    /// Its quality.
    quality: f64,
}

/// A level-0 graph renumbered by community, and the new id of each node.
type Renumbered = (LevelGraph<'static>, Vec<u32>);

/// Level 1 of the last iteration that built one: the aggregate of its
/// refined level-0 partition, kept for the next iteration.
///
/// Invariant while kept: every community of the best partition so far is a
/// union of these aggregate nodes (later levels only move aggregate nodes
/// whole, and the final split works on unions of them too).
struct FirstLevel {
    /// The level-1 graph.
    graph: LevelGraph<'static>,
    /// The level-1 node of each node of the level-0 graph the iteration
    /// refined (the base of the next iteration).
    node_of: Vec<u32>,
}

/// One iteration: levels of move → refine → aggregate from `membership`
/// (community ids `< n`) on `base`.
///
/// With a `renumber` slot, level 0 is renumbered by community after its
/// local moving and left in the slot for later iterations; the membership
/// returned is still over the nodes of `base`.
///
/// A `first_level` slot (large graphs) holds the level 1 of the previous
/// iteration, if any. When no node of level 0 moves, the communities are
/// unions of that level's nodes, so refining and aggregating level 0 again
/// would only redraw an equally valid refinement: the iteration goes
/// straight to the kept level 1 instead (with the parallel check, 14 % less
/// CPU for `hydra cluster` on a 1M-node LFR graph). Otherwise the new
/// level 1 replaces the kept one.
fn iteration<'b, 'a: 'b, Q: QualityFunction>(
    base: &'b LevelGraph<'a>,
    config: &LeidenConfig,
    quality: &Q,
    membership: Vec<u32>,
    mut renumber: Option<&'b mut Option<Renumbered>>,
    first_level: Option<&'b mut Option<FirstLevel>>,
    rng: &mut Pcg64,
) -> IterationResult {
    let n = base.node_count();
    let mut level: Cow<'b, LevelGraph<'a>> = Cow::Borrowed(base);
    let mut membership = membership;
    // Later iterations rarely move a node on their first levels: those
    // zero-move sweeps run as a parallel check.
    let expect_stable = matches!(first_level, Some(Some(_)));
    let mut first_level = first_level;
    // The level-graph node each base node is in.
    let mut node_of: Vec<u32> = (0..n as u32).collect();
    let mut depth = 0usize;
    // Whether the previous level of this iteration moved at most one node
    // in `QUIET_LEVEL` (the next one then rarely moves any).
    let mut quiet_before = false;
    loop {
        let started = std::time::Instant::now();
        let level_n = level.node_count();
        let parallel = is_parallel(&level, config.parallel_threshold);
        let mut partition = LevelPartition::new(membership, quality.node_weights(&level));
        let order = visit_order(level_n, level_n >= config.renumber_threshold, rng);
        let moves = {
            let _span = tracing::debug_span!("leiden_move", depth, nodes = level_n).entered();
            let check = (expect_stable && depth <= 1) || quiet_before;
            if check && parallel && is_stable(&level, quality, &partition) {
                0
            } else if config.parallel_moving && level_n >= config.batched_threshold {
                move_nodes_batched(&level, quality, &mut partition, &order, parallel)
            } else {
                move_nodes(&level, quality, &mut partition, &order)
            }
        };
        drop(order);
        quiet_before = moves.saturating_mul(QUIET_LEVEL) <= level_n;
        let move_ms = started.elapsed().as_millis() as u64;
        let communities = partition.community_count();
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(depth, quality = quality.quality(&level, &partition));
        }
        if communities == level_n {
            tracing::debug!(depth, nodes = level_n, entries = level.entry_count(), moves, move_ms);
            let split = split_level(&level, partition.membership());
            return finish(&level, quality, &node_of, split, parallel);
        }
        if depth == 0 && moves == 0 && first_level.as_ref().is_some_and(|kept| kept.is_some()) {
            let kept: &'b Option<FirstLevel> = first_level.take().expect("checked above");
            let kept = kept.as_ref().expect("checked above");
            // Communities are unions of the kept level's nodes (see `FirstLevel`).
            let (dense, _) = partition.dense_membership();
            let mut next = vec![0u32; kept.graph.node_count()];
            for (&c, &a) in dense.iter().zip(&kept.node_of) {
                next[a as usize] = c;
            }
            debug_assert!(dense.iter().zip(&kept.node_of).all(|(&c, &a)| next[a as usize] == c));
            tracing::debug!(depth, nodes = level_n, moves, move_ms, "kept level 1");
            node_of.clone_from(&kept.node_of);
            membership = next;
            level = Cow::Borrowed(&kept.graph);
            depth += 1;
            continue;
        }
        if depth == 0 {
            // Nodes moved: the kept level no longer nests in the communities.
            if let Some(slot) = first_level.as_mut() {
                **slot = None;
            }
        }
        if let Some(slot) = renumber.take() {
            let (graph, new_of, new_membership) =
                renumber_by_community(&level, partition.membership(), parallel);
            partition = LevelPartition::new(new_membership, quality.node_weights(&graph));
            node_of.clone_from(&new_of);
            let slot: &'b Option<Renumbered> = {
                *slot = Some((graph, new_of));
                slot
            };
            if let Some((graph, _)) = slot {
                level = Cow::Borrowed(graph);
            }
        }
        let renumber_ms = started.elapsed().as_millis() as u64 - move_ms;
        let refined = {
            let _span = tracing::debug_span!("leiden_refine", depth).entered();
            refine(&level, quality, &partition, config.randomness, rng.next_u64(), parallel)
        };
        let refine_ms = started.elapsed().as_millis() as u64 - move_ms - renumber_ms;
        if refined.count == level_n {
            // Nothing merged: aggregating would not shrink the graph.
            let split = split_level(&level, partition.membership());
            return finish(&level, quality, &node_of, split, parallel);
        }
        let next = {
            let _span = tracing::debug_span!("leiden_aggregate", depth).entered();
            aggregate(&level, &refined.membership, refined.count, parallel)
        };
        let map = &refined.membership;
        if parallel {
            node_of.par_iter_mut().for_each(|v| *v = map[*v as usize]);
        } else {
            node_of.iter_mut().for_each(|v| *v = map[*v as usize]);
        }
        tracing::debug!(
            depth,
            nodes = level_n,
            entries = level.entry_count(),
            moves,
            communities,
            refined = refined.count,
            move_ms,
            renumber_ms,
            refine_ms,
            aggregate_ms = started.elapsed().as_millis() as u64 - move_ms - renumber_ms - refine_ms
        );
        membership = refined.parent;
        level = match first_level.take().filter(|_| depth == 0) {
            Some(slot) => {
                let kept: &'b Option<FirstLevel> = {
                    *slot = Some(FirstLevel { graph: next, node_of: refined.membership });
                    slot
                };
                Cow::Borrowed(&kept.as_ref().expect("just stored").graph)
            }
            None => Cow::Owned(next),
        };
        depth += 1;
    }
}

/// The end of an iteration: the community of every base node and the quality.
fn finish<Q: QualityFunction>(
    level: &LevelGraph<'_>,
    quality: &Q,
    node_of: &[u32],
    split: Vec<u32>,
    parallel: bool,
) -> IterationResult {
    // The quality on the (small) last level equals that on the base graph.
    let q =
        quality.quality(level, &LevelPartition::new(split.clone(), quality.node_weights(level)));
    IterationResult { membership: relabel(node_of, &split, parallel), quality: q }
}

/// Renumbers `level` so that each community of `membership` is a run of
/// consecutive nodes (communities in id order, members in id order).
///
/// Returns the renumbered graph, the new id of each node and the
/// membership in new ids, each community labelled by its first new id.
fn renumber_by_community(
    level: &LevelGraph<'_>,
    membership: &[u32],
    parallel: bool,
) -> (LevelGraph<'static>, Vec<u32>, Vec<u32>) {
    let n = level.node_count();
    let mut start = vec![0u32; n + 1];
    for &c in membership {
        start[c as usize + 1] += 1;
    }
    for c in 0..n {
        start[c + 1] += start[c];
    }
    let mut order = vec![0u32; n];
    let mut new_of = vec![0u32; n];
    let mut cursor = start[..n].to_vec();
    for (v, &c) in membership.iter().enumerate() {
        let at = cursor[c as usize];
        order[at as usize] = v as u32;
        new_of[v] = at;
        cursor[c as usize] += 1;
    }
    let new_membership: Vec<u32> =
        order.iter().map(|&v| start[membership[v as usize] as usize]).collect();
    let graph = level.renumbered(&order, &new_of, parallel);
    (graph, new_of, new_membership)
}

/// The community of each original node, through `node_of`.
fn relabel(node_of: &[u32], membership: &[u32], parallel: bool) -> Vec<u32> {
    if parallel {
        node_of.par_iter().map(|&v| membership[v as usize]).collect()
    } else {
        node_of.iter().map(|&v| membership[v as usize]).collect()
    }
}

/// Splits each community of `level` into its connected components, keeping
/// together the components of a community that hold fixed nodes; returns a
/// label per level node.
///
/// Every node of an aggregated level stands for a connected set of original
/// nodes (refined communities are connected), so a community is connected
/// in the original graph exactly when it is connected here, on a graph that
/// is much smaller.
fn split_level(level: &LevelGraph<'_>, membership: &[u32]) -> Vec<u32> {
    let n = level.node_count();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for u in 0..n as u32 {
        let c = membership[u as usize];
        for (v, _) in level.neighbors(u) {
            if v > u && membership[v as usize] == c {
                union(&mut parent, u, v);
            }
        }
    }
    if level.has_fixed() {
        // Community ids are < n: the first fixed node of each community.
        let mut first_fixed = vec![u32::MAX; n];
        for v in (0..n as u32).filter(|&v| level.is_fixed(v)) {
            let first = &mut first_fixed[membership[v as usize] as usize];
            if *first == u32::MAX {
                *first = v;
            }
            union(&mut parent, *first, v);
        }
    }
    (0..n as u32).map(|u| find(&mut parent, u)).collect()
}

/// Splits every community into its connected components, keeping together
/// the components of a community that hold fixed nodes.
fn split_disconnected(graph: &Graph, membership: &[u32], fixed: &[u32]) -> Partition {
    let n = graph.node_count();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for u in 0..n as u32 {
        let c = membership[u as usize];
        for (v, _) in graph.neighbors(u) {
            if v > u && membership[v as usize] == c {
                union(&mut parent, u, v);
            }
        }
    }
    // Community ids are < n: the first fixed node of each community.
    let mut first_fixed = vec![u32::MAX; n];
    for &v in fixed {
        let first = &mut first_fixed[membership[v as usize] as usize];
        if *first == u32::MAX {
            *first = v;
        }
        union(&mut parent, *first, v);
    }
    let roots: Vec<u32> = (0..n as u32).map(|u| find(&mut parent, u)).collect();
    let split = Partition::from_membership(roots);
    if split.community_count() != Partition::from_membership(membership.to_vec()).community_count()
    {
        tracing::debug!(communities = split.community_count(), "split disconnected communities");
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::quality::modularity;

    fn ring_of_cliques(k: u32, size: u32) -> Graph {
        crate::community::graph::ring_of_cliques(k, size, 1.0)
    }

    #[test]
    fn ring_of_cliques_is_split_into_cliques() {
        let g = ring_of_cliques(20, 5);
        let p = leiden(&g, &LeidenConfig::new());
        assert_eq!(p.community_count(), 20);
        for (v, &c) in p.membership().iter().enumerate() {
            assert_eq!(c as usize, v / 5);
        }
    }

    #[test]
    fn zero_iterations_return_the_initial_partition() {
        let g = ring_of_cliques(4, 3);
        let p = leiden(&g, &LeidenConfig::new().max_iterations(Some(0)));
        assert_eq!(p, Partition::singletons(12));
    }

    #[test]
    fn split_keeps_fixed_nodes_together() {
        // 0-1 and 2-3 are separate edges; all in one community; 0 and 3 fixed.
        let g = Graph::from_edges(5, [(0, 1, 1.0), (2, 3, 1.0)]);
        let p = split_disconnected(&g, &[0, 0, 0, 0, 0], &[0, 3]);
        assert_eq!(p.membership(), &[0, 0, 0, 0, 1]);
        let p = split_disconnected(&g, &[0, 0, 0, 0, 0], &[]);
        assert_eq!(p.membership(), &[0, 0, 1, 1, 2]);
    }

    #[test]
    fn edgeless_graphs_stay_singletons() {
        let g = Graph::from_edges(4, []);
        assert_eq!(leiden(&g, &LeidenConfig::new()), Partition::singletons(4));
        let cpm = LeidenConfig::new().quality(Quality::Cpm { resolution: 0.5 });
        assert_eq!(leiden(&g, &cpm), Partition::singletons(4));
    }

    #[test]
    fn invalid_settings_are_reported() {
        let g = ring_of_cliques(2, 3);
        let bad = LeidenConfig::new().quality(Quality::Modularity { resolution: f64::NAN });
        assert!(bad.validate(&g).unwrap_err().to_string().contains("resolution NaN"));
        let bad = LeidenConfig::new().randomness(0.0);
        assert!(bad.validate(&g).is_err());
        let bad = LeidenConfig::new().tolerance(-1.0);
        assert!(bad.validate(&g).unwrap_err().to_string().contains("tolerance -1"));
        let bad = LeidenConfig::new().initial(Partition::singletons(2));
        assert!(bad.validate(&g).unwrap_err().to_string().contains("2 nodes"));
        let bad = LeidenConfig::new().fixed_nodes([6]);
        assert!(bad.validate(&g).unwrap_err().to_string().contains("fixed node 6"));
        assert!(LeidenConfig::new().validate(&g).is_ok());
    }

    #[test]
    #[should_panic(expected = "fixed node 9")]
    fn leiden_panics_on_invalid_settings() {
        leiden(&ring_of_cliques(2, 3), &LeidenConfig::new().fixed_nodes([9]));
    }

    /// A random graph of `k` planted groups of `size` nodes: dense inside,
    /// sparse between.
    fn planted(k: u32, size: u32, seed: u64) -> Graph {
        use rand::RngExt;
        let mut rng = Pcg64::seed_from_u64(seed);
        let n = k * size;
        let mut edges = Vec::new();
        for u in 0..n {
            for v in u + 1..n {
                let p = if u / size == v / size { 0.5 } else { 0.01 };
                if rng.random::<f64>() < p {
                    edges.push((u, v, 1.0));
                }
            }
        }
        // Shuffle the ids so that groups are not runs of consecutive ids.
        let mut perm: Vec<u32> = (0..n).collect();
        perm.shuffle(&mut rng);
        Graph::from_edges(
            n as usize,
            edges.into_iter().map(|(u, v, w)| (perm[u as usize], perm[v as usize], w)),
        )
    }

    #[test]
    fn renumbered_runs_find_the_planted_groups_on_any_path() {
        let g = planted(8, 25, 3);
        let plain = leiden(&g, &LeidenConfig::new().renumber_threshold(usize::MAX));
        let base = LeidenConfig::new().renumber_threshold(0);
        let renumbered = leiden(&g, &base);
        assert_eq!(renumbered.community_count(), 8);
        // The renumbered run visits nodes in another order but finds the same groups.
        assert_eq!(renumbered, plain);
        let parallel = leiden(&g, &base.clone().parallel_threshold(0));
        assert_eq!(parallel, renumbered);
        let cpm = base.quality(Quality::Cpm { resolution: 0.1 });
        assert_eq!(leiden(&g, &cpm), renumbered);
    }

    #[test]
    fn renumbered_runs_keep_fixed_nodes_and_warm_starts() {
        let g = planted(6, 20, 5);
        let base = LeidenConfig::new().renumber_threshold(0);
        let p = leiden(&g, &base);
        let q = modularity(&g, &p, 1.0);
        let warm = leiden(&g, &base.clone().initial(p.clone()).seed(9));
        assert!(modularity(&g, &warm, 1.0) >= q - 1e-12);
        // Two fixed nodes in different groups, started together: they stay together.
        let (a, b) = (p.communities()[0][0], p.communities()[1][0]);
        let mut initial: Vec<u32> = (0..g.node_count() as u32).collect();
        initial[b as usize] = a;
        let held =
            leiden(&g, &base.initial(Partition::from_membership(initial)).fixed_nodes([a, b]));
        assert_eq!(held.community_of(a), held.community_of(b));
    }

    #[test]
    fn renumbering_permutes_rows_and_node_arrays() {
        let g = crate::community::graph::two_triangles();
        let level = LevelGraph::from_graph(&g, &[4], usize::MAX);
        // Communities {0, 2, 4} and {1, 3, 5}.
        let (r, new_of, m) = renumber_by_community(&level, &[0, 1, 0, 1, 0, 1], false);
        assert_eq!(new_of, vec![0, 3, 1, 4, 2, 5]);
        assert_eq!(m, vec![0, 0, 0, 3, 3, 3]);
        assert!(r.is_fixed(2) && !r.is_fixed(4));
        for v in 0..6u32 {
            let mut old: Vec<(u32, f64)> =
                level.neighbors(v).map(|(u, w)| (new_of[u as usize], w)).collect();
            let mut new: Vec<(u32, f64)> = r.neighbors(new_of[v as usize]).collect();
            old.sort_by(|a, b| a.partial_cmp(b).unwrap());
            new.sort_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(old, new);
            assert_eq!(r.strengths()[new_of[v as usize] as usize], level.strengths()[v as usize]);
        }
        let par = renumber_by_community(&level, &[0, 1, 0, 1, 0, 1], true).0;
        assert_eq!(par.targets(), r.targets());
    }

    #[test]
    fn parallel_moving_is_the_same_on_any_threads_and_parallel_threshold() {
        let g = planted(10, 30, 11);
        let batched = LeidenConfig::new().batched_threshold(0).parallel_moving(true);
        let run = |threads: usize, config: &LeidenConfig| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| leiden(&g, config))
        };
        let one = run(1, &batched.clone().parallel_threshold(0));
        assert_eq!(one.community_count(), 10);
        assert_eq!(run(2, &batched.clone().parallel_threshold(0)), one);
        assert_eq!(run(2, &batched.parallel_threshold(usize::MAX)), one);
        let sequential = leiden(&g, &LeidenConfig::new());
        assert!((modularity(&g, &one, 1.0) - modularity(&g, &sequential, 1.0)).abs() < 1e-9);
    }

    #[test]
    fn dense_levels_with_few_nodes_run_in_parallel() {
        // 40 nodes, 1,560 entries: below a threshold of 50 nodes, above
        // 20 × 50 entries.
        let dense: Vec<(u32, u32, f32)> =
            (0..40u32).flat_map(|u| (u + 1..40).map(move |v| (u, v, 1.0))).collect();
        let dense = Graph::from_edges(40, dense);
        let level = LevelGraph::from_graph(&dense, &[], usize::MAX);
        assert!(is_parallel(&level, 50));
        assert!(!is_parallel(&level, 100));
        assert!(!is_parallel(&level, usize::MAX));
        let triangles = crate::community::graph::two_triangles();
        let sparse = LevelGraph::from_graph(&triangles, &[], usize::MAX);
        assert!(!is_parallel(&sparse, 50));
        assert!(is_parallel(&sparse, 6));
    }

    #[test]
    fn singleton_quality_matches_the_public_functions() {
        let g = planted(4, 10, 2);
        let level = LevelGraph::from_graph(&g, &[], usize::MAX);
        let singletons = Partition::singletons(g.node_count());
        let m = singleton_quality(&Modularity { resolution: 0.7 }, &level);
        assert!((m - modularity(&g, &singletons, 0.7)).abs() < 1e-12);
        let c = singleton_quality(&Cpm { resolution: 0.3 }, &level);
        assert!((c - crate::community::quality::cpm(&g, &singletons, 0.3)).abs() < 1e-12);
        let looped = crate::community::graph::two_triangles();
        let level = LevelGraph::from_graph(&looped, &[], usize::MAX);
        let m = singleton_quality(&Modularity { resolution: 1.0 }, &level);
        assert!((m - modularity(&looped, &Partition::singletons(6), 1.0)).abs() < 1e-12);
    }

    #[test]
    fn later_iterations_from_the_kept_level_never_lose_quality_or_connectivity() {
        let g = planted(12, 40, 21);
        let base = LeidenConfig::new().tolerance(0.0);
        for config in [base.clone(), base.renumber_threshold(0)] {
            // The first iterations of a longer run are those of a shorter one.
            let mut previous = f64::NEG_INFINITY;
            for iterations in 1..=4 {
                let p = leiden(&g, &config.clone().max_iterations(Some(iterations)));
                let q = modularity(&g, &p, 1.0);
                assert!(q >= previous, "{iterations} iterations: {q} < {previous}");
                previous = q;
                let split = split_disconnected(&g, p.membership(), &[]);
                assert_eq!(split.community_count(), p.community_count(), "{iterations} iterations");
            }
        }
    }

    #[test]
    fn quality_never_drops_below_the_initial_partition() {
        let g = ring_of_cliques(10, 4);
        let p = leiden(&g, &LeidenConfig::new());
        let q = modularity(&g, &p, 1.0);
        let again = leiden(&g, &LeidenConfig::new().initial(p.clone()).seed(3));
        assert!(modularity(&g, &again, 1.0) >= q - 1e-12);
    }
}
