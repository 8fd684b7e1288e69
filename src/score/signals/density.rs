//! [`Signal::Density`](crate::score::config::Signal::Density): the
//! suspiciousness-weighted degree of the densest core, resisting camouflage.
//!
//! FRAUDAR (Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of
//! Camouflage", KDD 2016) scores a block of the account–indicator bipartite
//! graph by `f(S) / |S|`, where each edge to indicator `i` weighs
//! `1 / ln(deg(i) + 5)` (popular indicators count little), and finds the
//! densest block by greedily peeling the node of least weighted degree.
//! Edges a fraudster adds to look normal (camouflage) touch popular
//! indicators or outsiders and are peeled first, so they cannot dilute the
//! core. We peel the community's members and the indicators two or more of
//! them share, keep the block of largest `f(S) / |S|`, and report its
//! average weighted degree per account: `between(f(S) / accounts(S),
//! density_floor, density_full)`.
//!
//! # Complexity
//!
//! `O(E log E)` time and `O(E)` space over the member–indicator edges of
//! shared indicators.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Measured;
use crate::event::IndicatorKind;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, between};

/// Edge weight of an indicator seen on `degree` accounts platform-wide.
pub(crate) fn column_weight(degree: usize) -> f64 {
    1.0 / (degree as f64 + 5.0).ln()
}

/// A float ordered totally, for the peeling heap.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The densest block found by greedy peeling: `(f(S), accounts in S, |S|)`.
pub(crate) fn densest_core(view: &ClusterView<'_>) -> (f64, usize, usize) {
    let n = view.len();
    // Prefixes and ASNs restate the IPs at a coarser grain: counting them
    // again would reward the same evidence twice.
    let shared: Vec<usize> = (0..view.indicators.len())
        .filter(|&i| {
            let ind = &view.indicators[i];
            ind.members.len() >= 2
                && !matches!(ind.kind, IndicatorKind::IpPrefix | IndicatorKind::Asn)
        })
        .collect();
    // Nodes: 0..n members, n.. shared indicators.
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n + shared.len()];
    let mut total = 0.0;
    for (k, &i) in shared.iter().enumerate() {
        let ind = &view.indicators[i];
        let w = column_weight(ind.degree);
        for &m in &ind.members {
            adj[m as usize].push((n + k, w));
            adj[n + k].push((m as usize, w));
            total += w;
        }
    }
    let mut prio: Vec<f64> = adj.iter().map(|e| e.iter().map(|&(_, w)| w).sum()).collect();
    let mut alive = vec![true; adj.len()];
    let mut heap: BinaryHeap<Reverse<(Key, usize)>> =
        prio.iter().enumerate().map(|(v, &p)| Reverse((Key(p), v))).collect();
    let mut nodes = adj.len();
    let mut accounts = n;
    let mut best = (total, accounts, nodes);
    let density = |(f, _, s): (f64, usize, usize)| if s == 0 { 0.0 } else { f / s as f64 };
    while let Some(Reverse((Key(p), v))) = heap.pop() {
        if !alive[v] || p != prio[v] {
            continue;
        }
        alive[v] = false;
        nodes -= 1;
        if v < n {
            accounts -= 1;
        }
        total -= p;
        for &(u, w) in &adj[v] {
            if alive[u] {
                prio[u] -= w;
                heap.push(Reverse((Key(prio[u]), u)));
            }
        }
        let now = (total.max(0.0), accounts, nodes);
        if nodes > 0 && density(now) > density(best) + 1e-12 {
            best = now;
        }
    }
    best
}

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let (f, accounts, _) = densest_core(view);
    let degree = if accounts == 0 { 0.0 } else { f / accounts as f64 };
    let value = between(degree, config.get_density_floor(), config.get_density_full());
    let explain = format!(
        "densest core: {accounts} accounts with weighted degree {degree:.2} over rare shared indicators"
    );
    Measured::new(value, explain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::{ind, member};

    fn block(camouflage: usize) -> ClusterView<'static> {
        let members: Vec<_> = (0..(10 + camouflage) as u32).map(|i| member(i, 0)).collect();
        let core: Vec<u32> = (0..10).collect();
        let mut inds: Vec<_> = (0..8).map(|k| ind(k, IndicatorKind::Ip, "p", 10, &core)).collect();
        // Camouflage: each core account also shares a popular indicator with outsiders.
        for c in 0..camouflage as u32 {
            inds.push(ind(100 + c, IndicatorKind::Template, "pop", 50_000, &[c % 10, 10 + c]));
        }
        ClusterView::assemble(members, inds)
    }

    #[test]
    fn camouflage_does_not_dilute_the_core() {
        let config = ScoreConfig::new();
        let clean = measure(&block(0), &config).value;
        let camouflaged = measure(&block(40), &config).value;
        assert!(clean > 0.3, "{clean}");
        assert!((clean - camouflaged).abs() < 0.05, "{clean} vs {camouflaged}");
    }

    #[test]
    fn sparse_groups_are_not_dense() {
        let config = ScoreConfig::new();
        let v = ClusterView::assemble(
            (0..4).map(|i| member(i, 0)).collect(),
            vec![ind(0, IndicatorKind::Ip, "home", 4, &[0, 1, 2, 3])],
        );
        assert_eq!(measure(&v, &config).value, 0.0);
        assert_eq!(densest_core(&ClusterView::default()).0, 0.0);
    }
}
