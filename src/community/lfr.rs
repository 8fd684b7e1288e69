//! The LFR benchmark graph generator: [`lfr`] with [`LfrConfig`].
//!
//! # Overview
//!
//! Lancichinetti, Fortunato and Radicchi, "Benchmark graphs for testing
//! community detection algorithms", *Phys. Rev. E* 78, 046110 (2008), plant
//! communities in a random graph whose node degrees and community sizes both
//! follow power laws, as in real networks, with a *mixing parameter* `μ`: the
//! fraction of each node's edges that leave its community. Community detection
//! should recover the planted partition well up to about `μ = 0.5` and
//! degrade beyond; [`nmi`](crate::community::nmi) measures how well.
//!
//! [`lfr`] builds one graph (undirected, unweighted, communities not
//! overlapping) and its planted [`Partition`], deterministically from
//! [`LfrConfig::seed`].
//!
//! # How the graph is built
//!
//! 1. Degrees: `floor(x)` of a continuous power law `x^-τ1` on
//!    `[x_min, max_degree + 1)`, with `x_min` found by bisection so that the
//!    expected degree is exactly [`LfrConfig::average_degree`].
//! 2. Each node's internal degree is `(1 - μ) k`, rounded up or down at
//!    random so that the mean is exact; the rest of its edges are external.
//! 3. Community sizes: `floor(x)` of a power law `x^-τ2` on
//!    `[min, max + 1)`, drawn until they cover the nodes, then trimmed or
//!    topped up by single nodes so that they sum to exactly `n`.
//! 4. Nodes, in decreasing internal degree, go to a random community with
//!    room, chosen with probability proportional to its free places, among
//!    those large enough (`internal degree <= size - 1`). Processing the most
//!    constrained nodes first never strands a node when any valid
//!    assignment exists.
//! 5. Internal edges: a configuration model in each community (stubs
//!    shuffled and paired); external edges: one configuration model over all
//!    external stubs. A pair that is a self-loop, repeats an edge, or (for an
//!    external pair) joins two nodes of the same community is repaired by a
//!    degree-preserving swap with a random good edge.
//!
//! # Differences from the reference generator
//!
//! Made to build a million-node graph in seconds, at the cost of exactness:
//!
//! - The reference rewires until every degree is exact; here a bad pair that
//!   still has no valid swap after a bounded number of tries is dropped, so a
//!   few nodes may lose an edge or two (noticeable only in communities that
//!   are nearly complete graphs).
//! - The reference places nodes at random and evicts residents to make room;
//!   here step 4 assigns them in one pass. If the sampled sizes cannot hold a
//!   node's internal degree at all, it goes to the largest community with
//!   room and its internal degree is cut to `size - 1` (its mixing rises).
//! - Internal degrees are rounded at random rather than to the nearest
//!   integer, and one stub per community moves from internal to external
//!   (with `μ = 0`: is dropped) when a community's internal degrees sum to an
//!   odd number.
//! - Only the undirected, unweighted, non-overlapping variant is built.
//!
//! The realised `μ`, degrees and sizes are therefore close to, not exactly,
//! the requested ones; the tests bound the gap.

use ahash::AHashSet;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;

use crate::community::{Graph, Partition};
use crate::error::{Error, Result};

/// Swap attempts for one bad pair before it is dropped.
const SWAP_TRIES: usize = 64;

/// Parameters of an LFR benchmark graph.
///
/// The defaults are those of the "small communities" benchmark of the paper
/// with `τ1 = 2`, `τ2 = 1`: 1,000 nodes of average degree 20 and maximum
/// degree 50, communities of 20 to 100 nodes, `μ = 0.3`, seed 42.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{lfr, LfrConfig};
///
/// let config = LfrConfig::new().node_count(2_000).mixing(0.4).seed(7);
/// assert_eq!(config.get_mixing(), 0.4);
/// let (graph, truth) = lfr(&config)?;
/// assert_eq!(graph.node_count(), 2_000);
/// assert!(truth.community_count() >= 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct LfrConfig {
    node_count: usize,
    average_degree: f64,
    max_degree: usize,
    degree_exponent: f64,
    community_size_exponent: f64,
    min_community_size: usize,
    max_community_size: usize,
    mixing: f64,
    seed: u64,
    parallel_threshold: usize,
}

impl Default for LfrConfig {
    fn default() -> Self {
        Self {
            node_count: 1000,
            average_degree: 20.0,
            max_degree: 50,
            degree_exponent: 2.0,
            community_size_exponent: 1.0,
            min_community_size: 20,
            max_community_size: 100,
            mixing: 0.3,
            seed: 42,
            parallel_threshold: 100_000,
        }
    }
}

impl LfrConfig {
    /// The defaults (see [`LfrConfig`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of nodes `n` (default 1,000).
    pub fn node_count(mut self, n: usize) -> Self {
        self.node_count = n;
        self
    }

    /// Average degree `k` (default 20).
    pub fn average_degree(mut self, k: f64) -> Self {
        self.average_degree = k;
        self
    }

    /// Maximum degree (default 50).
    pub fn max_degree(mut self, k: usize) -> Self {
        self.max_degree = k;
        self
    }

    /// Exponent `τ1` of the degree distribution `P(k) ~ k^-τ1` (default 2).
    pub fn degree_exponent(mut self, tau1: f64) -> Self {
        self.degree_exponent = tau1;
        self
    }

    /// Exponent `τ2` of the community size distribution (default 1).
    pub fn community_size_exponent(mut self, tau2: f64) -> Self {
        self.community_size_exponent = tau2;
        self
    }

    /// Smallest community size (default 20).
    pub fn min_community_size(mut self, size: usize) -> Self {
        self.min_community_size = size;
        self
    }

    /// Largest community size (default 100).
    pub fn max_community_size(mut self, size: usize) -> Self {
        self.max_community_size = size;
        self
    }

    /// Mixing parameter `μ` in `[0, 1]`: the fraction of each node's edges
    /// that leave its community (default 0.3).
    pub fn mixing(mut self, mu: f64) -> Self {
        self.mixing = mu;
        self
    }

    /// Seed of the random generator (default 42): same seed, same graph.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Graphs of at least this many nodes wire their communities in parallel
    /// (default 100,000). The graph does not depend on it.
    pub fn parallel_threshold(mut self, nodes: usize) -> Self {
        self.parallel_threshold = nodes;
        self
    }

    /// Number of nodes.
    pub fn get_node_count(&self) -> usize {
        self.node_count
    }

    /// Average degree.
    pub fn get_average_degree(&self) -> f64 {
        self.average_degree
    }

    /// Maximum degree.
    pub fn get_max_degree(&self) -> usize {
        self.max_degree
    }

    /// Degree exponent `τ1`.
    pub fn get_degree_exponent(&self) -> f64 {
        self.degree_exponent
    }

    /// Community size exponent `τ2`.
    pub fn get_community_size_exponent(&self) -> f64 {
        self.community_size_exponent
    }

    /// Smallest community size.
    pub fn get_min_community_size(&self) -> usize {
        self.min_community_size
    }

    /// Largest community size.
    pub fn get_max_community_size(&self) -> usize {
        self.max_community_size
    }

    /// Mixing parameter `μ`.
    pub fn get_mixing(&self) -> f64 {
        self.mixing
    }

    /// Seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// Parallel threshold in nodes.
    pub fn get_parallel_threshold(&self) -> usize {
        self.parallel_threshold
    }

    /// Checks every parameter; returns the lower end `x_min` of the
    /// continuous degree law that gives the requested average degree.
    fn validate(&self) -> Result<f64> {
        let n = self.node_count;
        if n < 2 || n > u32::MAX as usize {
            return Err(Error::config(format!(
                "node_count {n} is out of range (expected 2 to {})",
                u32::MAX
            )));
        }
        if self.max_degree < 1 || self.max_degree >= n {
            return Err(Error::config(format!(
                "max_degree {} is out of range (expected 1 to node_count - 1 = {})",
                self.max_degree,
                n - 1
            )));
        }
        let k = self.average_degree;
        if !(k.is_finite() && k >= 1.0 && k <= self.max_degree as f64) {
            return Err(Error::config(format!(
                "average_degree {k} is out of range (expected 1 to max_degree = {})",
                self.max_degree
            )));
        }
        for (name, tau) in [
            ("degree_exponent", self.degree_exponent),
            ("community_size_exponent", self.community_size_exponent),
        ] {
            if !(tau.is_finite() && (0.0..=10.0).contains(&tau)) {
                return Err(Error::config(format!(
                    "{name} {tau} is out of range (expected 0 to 10)"
                )));
            }
        }
        if !(0.0..=1.0).contains(&self.mixing) {
            return Err(Error::config(format!(
                "mixing {} is out of range (expected 0 to 1)",
                self.mixing
            )));
        }
        let (smin, smax) = (self.min_community_size, self.max_community_size);
        if smin < 1 || smin > n {
            return Err(Error::config(format!(
                "min_community_size {smin} is out of range (expected 1 to node_count = {n})"
            )));
        }
        if smax < smin || smax > n {
            return Err(Error::config(format!(
                "max_community_size {smax} is out of range (expected min_community_size = \
                 {smin} to node_count = {n})"
            )));
        }
        let max_internal = ((1.0 - self.mixing) * self.max_degree as f64).ceil() as usize;
        if max_internal >= smax {
            return Err(Error::config(format!(
                "max_community_size {smax} cannot hold the largest internal degree \
                 (1 - mixing) * max_degree = {max_internal}: raise it above {max_internal} \
                 or lower max_degree"
            )));
        }
        let law = PowerLaw { exponent: self.degree_exponent };
        let kmax = self.max_degree as f64;
        let lowest = law.floor_mean(1.0, kmax + 1.0);
        if k < lowest {
            return Err(Error::config(format!(
                "average_degree {k} is below {lowest:.3}, the least possible with \
                 degree_exponent {} and max_degree {} (degrees are at least 1): raise it, \
                 raise degree_exponent's opposite, or lower max_degree",
                self.degree_exponent, self.max_degree
            )));
        }
        // E[floor x] rises with x_min, from `lowest` at 1 to kmax at kmax.
        let (mut lo, mut hi) = (1.0, kmax);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if law.floor_mean(mid, kmax + 1.0) < k {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(0.5 * (lo + hi))
    }
}

/// A continuous power law `p(x) ~ x^-exponent` on an interval `[a, b)`.
#[derive(Clone, Copy, Debug)]
struct PowerLaw {
    exponent: f64,
}

impl PowerLaw {
    /// The CDF on `[a, b)` at `x`.
    fn cdf(self, a: f64, b: f64, x: f64) -> f64 {
        let x = x.clamp(a, b);
        let e = 1.0 - self.exponent;
        if e.abs() < 1e-9 {
            (x / a).ln() / (b / a).ln()
        } else {
            (x.powf(e) - a.powf(e)) / (b.powf(e) - a.powf(e))
        }
    }

    /// The inverse CDF on `[a, b)` at `u` in `[0, 1)`.
    fn quantile(self, a: f64, b: f64, u: f64) -> f64 {
        let e = 1.0 - self.exponent;
        let x = if e.abs() < 1e-9 {
            a * (b / a).powf(u)
        } else {
            (a.powf(e) + u * (b.powf(e) - a.powf(e))).powf(1.0 / e)
        };
        // Rounding can land on `b`; keep the half-open interval.
        x.clamp(a, b.next_down())
    }

    /// `E[floor(x)]` for `x` drawn on `[a, b)`.
    fn floor_mean(self, a: f64, b: f64) -> f64 {
        let mut mean = 0.0;
        let mut k = a.floor();
        while k < b {
            let p = self.cdf(a, b, k + 1.0) - self.cdf(a, b, k);
            mean += k * p;
            k += 1.0;
        }
        mean
    }

    /// `floor(x)` for one `x` drawn on `[a, b)`.
    fn sample(self, a: f64, b: f64, rng: &mut Pcg64) -> usize {
        self.quantile(a, b, rng.random::<f64>()).floor() as usize
    }
}

/// Builds an LFR benchmark graph and its planted partition.
///
/// See the [`community` docs](crate::community) for the model, the construction and
/// how it differs from the reference generator. Edges are unweighted
/// (weight 1), with no self-loops or repeated pairs.
///
/// # Complexity
///
/// `O(n log n + m)` expected time (the log from sorting nodes by internal
/// degree and a Fenwick tree over community capacities) and `O(n + m)` space;
/// communities are wired in parallel from
/// [`LfrConfig::parallel_threshold`] nodes.
///
/// # Errors
///
/// [`ErrorKind::Config`](crate::ErrorKind::Config) naming the parameter if
/// one is out of range or they are inconsistent (e.g. a maximum community
/// size that cannot hold the largest internal degree).
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{lfr, nmi, LfrConfig};
///
/// let (_graph, truth) = lfr(&LfrConfig::new())?;
/// assert_eq!(nmi(&truth, &truth), 1.0);
///
/// let err = lfr(&LfrConfig::new().mixing(1.5)).unwrap_err();
/// assert!(err.to_string().contains("mixing"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lfr(config: &LfrConfig) -> Result<(Graph, Partition)> {
    let planted = plant(config)?;
    let graph =
        Graph::from_edges(config.node_count, planted.edges.iter().map(|&(u, v)| (u, v, 1.0f32)));
    Ok((graph, Partition::from_membership(planted.membership)))
}

/// An LFR graph before it becomes a [`Graph`]: each edge once.
#[derive(Debug)]
pub(crate) struct Planted {
    /// Undirected edges `(u, v)`, `u != v`, no pair twice.
    pub(crate) edges: Vec<(u32, u32)>,
    /// Community of each node, numbered in the order they were drawn.
    pub(crate) membership: Vec<u32>,
}

/// Draws the degrees, communities and edges of an LFR graph.
pub(crate) fn plant(config: &LfrConfig) -> Result<Planted> {
    let x_min = config.validate()?;
    let n = config.node_count;
    let mut rng = Pcg64::seed_from_u64(config.seed);

    // 1. Degrees, with an even sum.
    let degree_law = PowerLaw { exponent: config.degree_exponent };
    let kmax = config.max_degree as f64;
    let mut degree: Vec<u32> =
        (0..n).map(|_| degree_law.sample(x_min, kmax + 1.0, &mut rng) as u32).collect();
    if degree.iter().map(|&d| d as u64).sum::<u64>() % 2 == 1 {
        match degree.iter().position(|&d| (d as usize) < config.max_degree) {
            Some(v) => degree[v] += 1,
            None => degree[0] -= 1,
        }
    }

    // 2. Internal degrees, rounded at random around (1 - μ) k.
    let mut internal: Vec<u32> = degree
        .iter()
        .map(|&d| {
            let x = (1.0 - config.mixing) * d as f64;
            let low = x.floor();
            let up = rng.random::<f64>() < x - low;
            (low as u32 + u32::from(up)).min(d)
        })
        .collect();

    // 3. Community sizes summing to n.
    let sizes = community_sizes(config, &mut rng)?;

    // 4. Assignment, most constrained nodes first.
    let membership = assign(&sizes, &mut internal, &mut rng);

    // 5a. Internal edges per community, each with its own seeded stream so
    // that the result does not depend on the threads.
    let mut members: Vec<Vec<u32>> = sizes.iter().map(|&s| Vec::with_capacity(s)).collect();
    for (v, &c) in membership.iter().enumerate() {
        members[c as usize].push(v as u32);
    }
    // An odd internal degree sum cannot be paired: move one stub of the
    // member with the largest internal degree outside (which keeps the
    // external sum even), or with μ = 0, where nothing may leave, drop it.
    for list in &members {
        let sum: u64 = list.iter().map(|&v| internal[v as usize] as u64).sum();
        if sum % 2 == 1 {
            let v = *list
                .iter()
                .max_by_key(|&&v| (internal[v as usize], std::cmp::Reverse(v)))
                .expect("an odd sum has a member");
            internal[v as usize] -= 1;
            if config.mixing == 0.0 {
                degree[v as usize] -= 1;
            }
        }
    }
    let wire = |(c, list): (usize, &Vec<u32>)| {
        let mut rng = Pcg64::seed_from_u64(stream_seed(config.seed, c as u64));
        wire_community(list, &internal, &mut rng)
    };
    let internal_edges: Vec<Vec<(u32, u32)>> = if n >= config.parallel_threshold {
        members.par_iter().enumerate().map(wire).collect()
    } else {
        members.iter().enumerate().map(wire).collect()
    };
    drop(members);

    // 5b. External edges.
    let mut stubs: Vec<u32> = Vec::new();
    for v in 0..n {
        let external = degree[v] - internal[v];
        stubs.extend(std::iter::repeat_n(v as u32, external as usize));
    }
    let external_edges = wire_external(stubs, &membership, &mut rng);

    let total = internal_edges.iter().map(Vec::len).sum::<usize>() + external_edges.len();
    let mut edges = Vec::with_capacity(total);
    for list in internal_edges {
        edges.extend(list);
    }
    edges.extend(external_edges);
    Ok(Planted { edges, membership })
}

/// A seed for community `c`'s stream, decorrelated from the main one by
/// SplitMix64 finalisation.
fn stream_seed(seed: u64, c: u64) -> u64 {
    let mut z = seed ^ c.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Community sizes from the size power law, summing to exactly `n`.
fn community_sizes(config: &LfrConfig, rng: &mut Pcg64) -> Result<Vec<usize>> {
    let n = config.node_count;
    let (smin, smax) = (config.min_community_size, config.max_community_size);
    let law = PowerLaw { exponent: config.community_size_exponent };
    let mut sizes = Vec::new();
    let mut total = 0;
    while total < n {
        let s = law.sample(smin as f64, smax as f64 + 1.0, rng);
        sizes.push(s);
        total += s;
    }
    // Trim the excess one node at a time from random communities above the
    // minimum; if they are all at the minimum, drop the last one instead and
    // top up random communities below the maximum.
    let mut excess = total - n;
    let mut shrinkable: Vec<usize> = (0..sizes.len()).filter(|&c| sizes[c] > smin).collect();
    while excess > 0 && !shrinkable.is_empty() {
        let i = rng.random_range(0..shrinkable.len());
        let c = shrinkable[i];
        sizes[c] -= 1;
        excess -= 1;
        if sizes[c] == smin {
            shrinkable.swap_remove(i);
        }
    }
    if excess > 0 {
        let last = sizes.pop().expect("sizes cover n > 0 nodes");
        let mut missing = last - excess;
        let mut growable: Vec<usize> = (0..sizes.len()).filter(|&c| sizes[c] < smax).collect();
        while missing > 0 && !growable.is_empty() {
            let i = rng.random_range(0..growable.len());
            let c = growable[i];
            sizes[c] += 1;
            missing -= 1;
            if sizes[c] == smax {
                growable.swap_remove(i);
            }
        }
        if missing > 0 {
            return Err(Error::config(format!(
                "node_count {n} cannot be split into communities of min_community_size {smin} \
                 to max_community_size {smax}: widen the range"
            )));
        }
    }
    Ok(sizes)
}

/// A Fenwick (binary indexed) tree of non-negative counts.
#[derive(Debug)]
struct Fenwick {
    tree: Vec<u64>,
}

impl Fenwick {
    /// A tree over `values`, built in linear time.
    fn new(values: &[u64]) -> Self {
        let mut tree = vec![0; values.len() + 1];
        for i in 1..tree.len() {
            tree[i] += values[i - 1];
            // Hand the partial sum up to the parent node.
            let parent = i + (i & i.wrapping_neg());
            if parent < tree.len() {
                tree[parent] += tree[i];
            }
        }
        Self { tree }
    }

    /// Sum of the first `len` values.
    fn prefix(&self, len: usize) -> u64 {
        let mut i = len;
        let mut sum = 0;
        while i > 0 {
            sum += self.tree[i];
            i &= i - 1;
        }
        sum
    }

    fn decrement(&mut self, index: usize) {
        let mut i = index + 1;
        while i < self.tree.len() {
            self.tree[i] -= 1;
            i += i & i.wrapping_neg();
        }
    }

    /// The smallest index whose prefix sum including it exceeds `target`.
    fn find(&self, mut target: u64) -> usize {
        let mut pos = 0;
        let mut step = (self.tree.len() - 1).next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && self.tree[next] <= target {
                pos = next;
                target -= self.tree[next];
            }
            step >>= 1;
        }
        pos
    }
}

/// Assigns every node a community of size above its internal degree, in
/// decreasing internal degree, with probability proportional to the free
/// places; cuts the internal degree of a node that fits nowhere.
fn assign(sizes: &[usize], internal: &mut [u32], rng: &mut Pcg64) -> Vec<u32> {
    // Communities by decreasing size: the eligible ones form a prefix.
    let mut by_size: Vec<usize> = (0..sizes.len()).collect();
    by_size.sort_by_key(|&c| (std::cmp::Reverse(sizes[c]), c));
    let sorted_sizes: Vec<usize> = by_size.iter().map(|&c| sizes[c]).collect();
    let mut free = Fenwick::new(&sorted_sizes.iter().map(|&s| s as u64).collect::<Vec<_>>());
    let mut nodes: Vec<u32> = (0..internal.len() as u32).collect();
    nodes.sort_by_key(|&v| (std::cmp::Reverse(internal[v as usize]), v));
    let mut membership = vec![0u32; internal.len()];
    for v in nodes {
        let k = internal[v as usize] as usize;
        let eligible = sorted_sizes.partition_point(|&s| s > k);
        let room = free.prefix(eligible);
        let slot = if room > 0 {
            free.find(rng.random_range(0..room))
        } else {
            // Nowhere large enough has room: the largest community with room.
            let slot = free.find(0);
            internal[v as usize] = (sorted_sizes[slot] - 1) as u32;
            slot
        };
        free.decrement(slot);
        membership[v as usize] = by_size[slot] as u32;
    }
    membership
}

/// Key of an unordered pair.
fn pair_key(u: u32, v: u32) -> u64 {
    let (a, b) = if u < v { (u, v) } else { (v, u) };
    ((a as u64) << 32) | b as u64
}

/// Wires one community's internal stubs: configuration model, then swaps
/// to remove self-loops and repeated pairs.
fn wire_community(members: &[u32], internal: &[u32], rng: &mut Pcg64) -> Vec<(u32, u32)> {
    let mut stubs: Vec<u32> = Vec::new();
    for &v in members {
        stubs.extend(std::iter::repeat_n(v, internal[v as usize] as usize));
    }
    wire(stubs, rng, |_, _| true)
}

/// Wires the external stubs: configuration model, then swaps to remove
/// self-loops, repeated pairs and pairs inside one community.
fn wire_external(stubs: Vec<u32>, membership: &[u32], rng: &mut Pcg64) -> Vec<(u32, u32)> {
    wire(stubs, rng, |u, v| membership[u as usize] != membership[v as usize])
}

/// Pairs shuffled `stubs` into edges allowed by `allowed` (and not
/// self-loops or repeats), repairing bad pairs by degree-preserving swaps
/// with random good edges; drops a bad pair after [`SWAP_TRIES`] failures.
fn wire(
    mut stubs: Vec<u32>,
    rng: &mut Pcg64,
    allowed: impl Fn(u32, u32) -> bool,
) -> Vec<(u32, u32)> {
    stubs.shuffle(rng);
    let mut edges: Vec<(u32, u32)> = Vec::with_capacity(stubs.len() / 2);
    let mut seen: AHashSet<u64> = AHashSet::with_capacity(stubs.len() / 2);
    let mut bad: Vec<(u32, u32)> = Vec::new();
    for pair in stubs.chunks_exact(2) {
        let (u, v) = (pair[0], pair[1]);
        if u != v && allowed(u, v) && seen.insert(pair_key(u, v)) {
            edges.push((u, v));
        } else {
            bad.push((u, v));
        }
    }
    drop(stubs);
    let ok = |x: u32, y: u32, seen: &AHashSet<u64>| {
        x != y && allowed(x, y) && !seen.contains(&pair_key(x, y))
    };
    for (a, b) in bad {
        if edges.is_empty() {
            break;
        }
        for _ in 0..SWAP_TRIES {
            let i = rng.random_range(0..edges.len());
            let (c, d) = if rng.random::<bool>() { edges[i] } else { (edges[i].1, edges[i].0) };
            // (a, b) + (c, d) -> (a, c) + (b, d): every degree unchanged.
            if ok(a, c, &seen) && ok(b, d, &seen) && pair_key(a, c) != pair_key(b, d) {
                seen.remove(&pair_key(c, d));
                seen.insert(pair_key(a, c));
                seen.insert(pair_key(b, d));
                edges[i] = (a, c);
                edges.push((b, d));
                break;
            }
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Realised statistics of a planted graph.
    struct Stats {
        degree: Vec<u32>,
        external: Vec<u32>,
        sizes: Vec<usize>,
    }

    fn stats(p: &Planted) -> Stats {
        let n = p.membership.len();
        let mut degree = vec![0u32; n];
        let mut external = vec![0u32; n];
        for &(u, v) in &p.edges {
            degree[u as usize] += 1;
            degree[v as usize] += 1;
            if p.membership[u as usize] != p.membership[v as usize] {
                external[u as usize] += 1;
                external[v as usize] += 1;
            }
        }
        let k = p.membership.iter().max().map_or(0, |&c| c as usize + 1);
        let mut sizes = vec![0usize; k];
        for &c in &p.membership {
            sizes[c as usize] += 1;
        }
        Stats { degree, external, sizes }
    }

    #[test]
    fn realised_graph_is_close_to_the_request() {
        for (seed, mu) in [(1, 0.1), (2, 0.3), (3, 0.5), (4, 0.7)] {
            let config = LfrConfig::new().node_count(2_000).mixing(mu).seed(seed);
            let p = plant(&config).unwrap();
            let s = stats(&p);
            let n = 2_000.0;
            let m = p.edges.len() as f64;
            let mean_degree = 2.0 * m / n;
            assert!((mean_degree - 20.0).abs() < 1.0, "seed {seed}: mean degree {mean_degree}");
            assert!(s.degree.iter().all(|&d| (1..=50).contains(&d)), "seed {seed}: degree range");
            assert!(*s.degree.iter().max().unwrap() >= 40, "seed {seed}: no hub near max");
            let realised: f64 = s.external.iter().map(|&x| x as f64).sum::<f64>() / (2.0 * m);
            assert!((realised - mu).abs() < 0.02, "seed {seed}: mu {realised} for {mu}");
            assert_eq!(s.sizes.iter().sum::<usize>(), 2_000);
            assert!(s.sizes.iter().all(|&c| (20..=100).contains(&c)), "seed {seed}: sizes");
            // A simple graph: no self-loops, no pair twice.
            let mut keys: Vec<u64> = p.edges.iter().map(|&(u, v)| pair_key(u, v)).collect();
            assert!(p.edges.iter().all(|&(u, v)| u != v));
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), p.edges.len(), "seed {seed}: repeated pair");
        }
    }

    #[test]
    fn same_seed_same_graph_whatever_the_threads() {
        let config = LfrConfig::new().node_count(3_000).seed(9);
        let serial = plant(&config.clone().parallel_threshold(usize::MAX)).unwrap();
        let parallel = plant(&config.clone().parallel_threshold(0)).unwrap();
        assert_eq!(serial.edges, parallel.edges);
        assert_eq!(serial.membership, parallel.membership);
        let other = plant(&config.seed(10)).unwrap();
        assert_ne!(serial.edges, other.edges);
    }

    #[test]
    fn extreme_mixing_values_work() {
        let p = plant(&LfrConfig::new().mixing(0.0)).unwrap();
        assert!(stats(&p).external.iter().all(|&x| x == 0));
        let p = plant(&LfrConfig::new().mixing(1.0)).unwrap();
        let s = stats(&p);
        assert_eq!(s.external, s.degree);
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            (LfrConfig::new().node_count(1), "node_count"),
            (LfrConfig::new().max_degree(1000), "max_degree"),
            (LfrConfig::new().average_degree(60.0), "average_degree"),
            (LfrConfig::new().average_degree(f64::NAN), "average_degree"),
            (LfrConfig::new().degree_exponent(-1.0), "degree_exponent"),
            (LfrConfig::new().community_size_exponent(f64::INFINITY), "community_size_exponent"),
            (LfrConfig::new().mixing(-0.1), "mixing"),
            (LfrConfig::new().min_community_size(0), "min_community_size"),
            (LfrConfig::new().min_community_size(2000), "min_community_size"),
            (LfrConfig::new().max_community_size(10), "max_community_size"),
            // (1 - 0.3) * 50 = 35 internal edges need a community of 36.
            (LfrConfig::new().min_community_size(10).max_community_size(30), "max_community_size"),
            // Exponent 0 (uniform) gives a mean degree of about 25 at least.
            (LfrConfig::new().degree_exponent(0.0).average_degree(3.0), "average_degree"),
        ];
        for (config, name) in cases {
            let err = plant(&config).unwrap_err();
            assert!(matches!(err.kind(), crate::ErrorKind::Config { .. }), "{err}");
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
    }

    #[test]
    fn power_law_floor_mean_matches_sampling() {
        let law = PowerLaw { exponent: 2.0 };
        let mut rng = Pcg64::seed_from_u64(5);
        let draws = 200_000;
        let mean =
            (0..draws).map(|_| law.sample(3.5, 51.0, &mut rng) as f64).sum::<f64>() / draws as f64;
        let expected = law.floor_mean(3.5, 51.0);
        assert!((mean - expected).abs() < 0.1, "{mean} vs {expected}");
        // Exponent 1 takes the logarithmic branch.
        let law = PowerLaw { exponent: 1.0 };
        assert!((law.cdf(1.0, 100.0, 10.0) - 0.5).abs() < 1e-12);
        assert!((law.quantile(1.0, 100.0, 0.5) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn community_sizes_sum_to_n_within_bounds() {
        for (n, lo, hi) in [(1000, 20, 100), (57, 20, 30), (45, 20, 25), (100, 100, 100)] {
            let config = LfrConfig::new()
                .node_count(n)
                .max_degree(10)
                .average_degree(5.0)
                .min_community_size(lo)
                .max_community_size(hi);
            let mut rng = Pcg64::seed_from_u64(1);
            let sizes = community_sizes(&config, &mut rng).unwrap();
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|&s| (lo..=hi).contains(&s)), "{sizes:?}");
        }
        // 45 nodes cannot be split into communities of 30 to 40.
        let config = LfrConfig::new()
            .node_count(45)
            .max_degree(10)
            .average_degree(5.0)
            .min_community_size(30)
            .max_community_size(40);
        let err = community_sizes(&config, &mut Pcg64::seed_from_u64(1)).unwrap_err();
        assert!(err.to_string().contains("widen the range"), "{err}");
    }

    #[test]
    fn public_api_returns_graph_and_planted_partition() {
        let (graph, truth) = lfr(&LfrConfig::new().node_count(500).max_community_size(60)).unwrap();
        assert_eq!(graph.node_count(), 500);
        assert_eq!(truth.node_count(), 500);
        let p = plant(&LfrConfig::new().node_count(500).max_community_size(60)).unwrap();
        assert_eq!(graph.edge_count(), p.edges.len());
        assert_eq!(truth, Partition::from_membership(p.membership));
    }

    #[test]
    fn fenwick_prefix_find_and_decrement() {
        let mut f = Fenwick::new(&[3, 0, 2, 5, 1]);
        assert_eq!(f.prefix(0), 0);
        assert_eq!(f.prefix(1), 3);
        assert_eq!(f.prefix(3), 5);
        assert_eq!(f.prefix(5), 11);
        assert_eq!(f.find(0), 0);
        assert_eq!(f.find(2), 0);
        assert_eq!(f.find(3), 2);
        assert_eq!(f.find(4), 2);
        assert_eq!(f.find(5), 3);
        assert_eq!(f.find(10), 4);
        f.decrement(0);
        f.decrement(0);
        f.decrement(0);
        assert_eq!(f.find(0), 2);
        assert_eq!(f.prefix(5), 8);
    }
}
