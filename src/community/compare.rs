//! Agreement between two partitions of the same nodes: [`nmi`] and [`ari`].
//!
//! # Overview
//!
//! Both measures are computed from the contingency table of the two
//! partitions (how many nodes lie in community `i` of one and `j` of the
//! other), built in `O(n)` by grouping the nodes of each community of the
//! first partition and counting their communities in the second with a dense
//! scratch array: no hashing, so the summation order, and hence the last bit
//! of the result, is the same on every run.
//!
//! - [`nmi`]: normalized mutual information, `2 I(A;B) / (H(A) + H(B))` (the
//!   *arithmetic-mean* normalization, as scikit-learn's default and the
//!   "NMI_sum" of Danon et al.), in `[0, 1]`.
//! - [`ari`]: the adjusted Rand index of Hubert and Arabie, `1` for identical
//!   partitions, about `0` for independent ones, negative when worse than
//!   chance.

use crate::community::Partition;

/// Normalized mutual information between two partitions of the same nodes.
///
/// `NMI(A, B) = 2 I(A; B) / (H(A) + H(B))`: the mutual information of the two
/// community labels of a random node, normalized by the *arithmetic mean* of
/// their entropies (Danon, Díaz-Guilera, Duch and Arenas, "Comparing community
/// structure identification", J. Stat. Mech. 2005; scikit-learn's default
/// `average_method="arithmetic"`). It is `1` when the partitions group the
/// nodes the same way, `0` when they share no information, and symmetric.
/// Two partitions that each put every node in one community score `1`;
/// empty partitions score `1`.
///
/// # Complexity
///
/// `O(n + k_a + k_b)` time and space for `n` nodes and `k` communities.
///
/// # Panics
///
/// If the partitions have different node counts.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{nmi, Partition};
///
/// let a = Partition::from_membership(vec![0, 0, 0, 1, 1, 1]);
/// let b = Partition::from_membership(vec![5, 5, 5, 2, 2, 2]);
/// assert!((nmi(&a, &b) - 1.0).abs() < 1e-12);
/// let c = Partition::from_membership(vec![0, 1, 0, 1, 0, 1]);
/// assert!(nmi(&a, &c) < 0.1);
/// ```
#[track_caller]
pub fn nmi(a: &Partition, b: &Partition) -> f64 {
    nmi_labels(a.membership(), b.membership())
}

/// Adjusted Rand index between two partitions of the same nodes.
///
/// The Rand index is the fraction of node pairs on which the partitions
/// agree (together in both, or apart in both); the adjusted index of Hubert
/// and Arabie ("Comparing partitions", J. Classification 2, 1985) subtracts
/// its expectation under random labelings with the same community sizes and
/// rescales, so identical partitions score `1`, independent ones about `0`,
/// and worse than chance is negative. Symmetric. When both partitions are
/// all singletons, or both one community, it is `1`.
///
/// # Complexity
///
/// `O(n + k_a + k_b)` time and space.
///
/// # Panics
///
/// If the partitions have different node counts.
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{ari, Partition};
///
/// let a = Partition::from_membership(vec![0, 0, 0, 1, 1, 1]);
/// let b = Partition::from_membership(vec![0, 0, 1, 1, 2, 2]);
/// assert!((ari(&a, &b) - 0.8 / 3.3).abs() < 1e-12);
/// ```
#[track_caller]
pub fn ari(a: &Partition, b: &Partition) -> f64 {
    ari_labels(a.membership(), b.membership())
}

/// The contingency table of two labelings of the same `n` nodes.
///
/// Invariants: `a_sizes[i]` and `b_sizes[j]` are the community sizes (all
/// positive for dense labels), `cells` holds every non-zero cell
/// `(i, j, n_ij)` once, grouped by `i` ascending and, within `i`, in the order
/// the `j` first appear among `i`'s members in node order.
#[derive(Debug)]
struct Contingency {
    n: u64,
    a_sizes: Vec<u64>,
    b_sizes: Vec<u64>,
    cells: Vec<(u32, u32, u64)>,
}

impl Contingency {
    /// Builds the table of two dense labelings (`a[v]` and `b[v]` are the
    /// communities of node `v`, each labeling numbered `0..k`).
    ///
    /// # Complexity
    ///
    /// `O(n + k_a + k_b)` time and space.
    ///
    /// # Panics
    ///
    /// If the labelings have different lengths.
    #[track_caller]
    fn new(a: &[u32], b: &[u32]) -> Self {
        assert_eq!(
            a.len(),
            b.len(),
            "partitions of different node counts ({} and {}) cannot be compared",
            a.len(),
            b.len()
        );
        let ka = a.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        let kb = b.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        let mut a_sizes = vec![0u64; ka];
        let mut b_sizes = vec![0u64; kb];
        for &c in a {
            a_sizes[c as usize] += 1;
        }
        for &c in b {
            b_sizes[c as usize] += 1;
        }
        // Counting sort of the nodes by their community in `a`: `start[i]` is
        // where community i's members begin in `order`.
        let mut start = Vec::with_capacity(ka + 1);
        let mut acc = 0usize;
        start.push(0);
        for &s in &a_sizes {
            acc += s as usize;
            start.push(acc);
        }
        let mut fill = start.clone();
        let mut order = vec![0u32; a.len()];
        for (v, &c) in a.iter().enumerate() {
            order[fill[c as usize]] = v as u32;
            fill[c as usize] += 1;
        }
        // Per community of `a`, count its members' communities in `b` with a
        // dense scratch array, remembering which entries were touched so the
        // reset costs only what was used.
        let mut count = vec![0u64; kb];
        let mut touched: Vec<u32> = Vec::new();
        let mut cells = Vec::new();
        for i in 0..ka {
            for &v in &order[start[i]..start[i + 1]] {
                let j = b[v as usize];
                if count[j as usize] == 0 {
                    touched.push(j);
                }
                count[j as usize] += 1;
            }
            for &j in &touched {
                cells.push((i as u32, j, count[j as usize]));
                count[j as usize] = 0;
            }
            touched.clear();
        }
        Self { n: a.len() as u64, a_sizes, b_sizes, cells }
    }
}

/// `x ln x` with the convention `0 ln 0 = 0`.
fn x_ln_x(x: f64) -> f64 {
    if x > 0.0 { x * x.ln() } else { 0.0 }
}

/// Shannon entropy (natural log) of a distribution given by counts over `n`.
fn entropy(sizes: &[u64], n: f64) -> f64 {
    // H = ln n - (1/n) Σ s ln s: one division instead of one per term.
    let sum: f64 = sizes.iter().map(|&s| x_ln_x(s as f64)).sum();
    n.ln() - sum / n
}

/// NMI of two dense labelings; see [`nmi`].
#[track_caller]
fn nmi_labels(a: &[u32], b: &[u32]) -> f64 {
    let t = Contingency::new(a, b);
    if a == b {
        // Exactly 1, where the sums below could miss it by an ulp.
        return 1.0;
    }
    let n = t.n as f64;
    let ha = entropy(&t.a_sizes, n);
    let hb = entropy(&t.b_sizes, n);
    if ha + hb <= 0.0 {
        // Both partitions put every node in one community: identical.
        return 1.0;
    }
    // I = (1/n) Σ n_ij ln(n n_ij / (a_i b_j)).
    let mut sum = 0.0;
    for &(i, j, nij) in &t.cells {
        let nij = nij as f64;
        let ai = t.a_sizes[i as usize] as f64;
        let bj = t.b_sizes[j as usize] as f64;
        sum += nij * (n * nij / (ai * bj)).ln();
    }
    let mi = sum / n;
    (2.0 * mi / (ha + hb)).clamp(0.0, 1.0)
}

/// Number of unordered pairs among `x` items.
fn pairs(x: u64) -> u128 {
    let x = x as u128;
    x * x.saturating_sub(1) / 2
}

/// ARI of two dense labelings; see [`ari`].
#[track_caller]
fn ari_labels(a: &[u32], b: &[u32]) -> f64 {
    let t = Contingency::new(a, b);
    let index: u128 = t.cells.iter().map(|&(_, _, c)| pairs(c)).sum();
    let sa: u128 = t.a_sizes.iter().map(|&s| pairs(s)).sum();
    let sb: u128 = t.b_sizes.iter().map(|&s| pairs(s)).sum();
    let total = pairs(t.n);
    // ARI = (index - sa sb / total) / ((sa + sb) / 2 - sa sb / total).
    // Multiplied through by 2 total, every term is an integer: exact as long
    // as the products fit in 128 bits (n below about 2^31 nodes), else f64.
    let exact = (|| {
        let index_t = index.checked_mul(total)?;
        let sa_sb = sa.checked_mul(sb)?;
        let sum_t = (sa + sb).checked_mul(total)?;
        let num = 2 * (index_t as i128 - sa_sb as i128);
        let den = sum_t as i128 - 2 * sa_sb as i128;
        Some((num, den))
    })();
    let (num, den) = match exact {
        Some((num, den)) => (num as f64, den as f64),
        None => {
            let (index, sa, sb, total) = (index as f64, sa as f64, sb as f64, total as f64);
            let expected = sa * sb / total;
            (index - expected, (sa + sb) / 2.0 - expected)
        }
    };
    if den == 0.0 {
        // Only when both partitions are all singletons or both one community
        // (then sa = sb = 0 or sa = sb = total): identical partitions.
        return 1.0;
    }
    num / den
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(x: f64, y: f64) -> bool {
        (x - y).abs() < 1e-12
    }

    #[test]
    fn contingency_counts_cells_once_in_a_fixed_order() {
        let t = Contingency::new(&[0, 0, 1, 1, 0], &[1, 0, 0, 0, 1]);
        assert_eq!(t.a_sizes, vec![3, 2]);
        assert_eq!(t.b_sizes, vec![3, 2]);
        assert_eq!(t.cells, vec![(0, 1, 2), (0, 0, 1), (1, 0, 2)]);
    }

    #[test]
    fn identical_labelings_score_one() {
        let a = [0, 0, 1, 1, 2, 2, 2, 3];
        assert!(close(nmi_labels(&a, &a), 1.0));
        assert!(close(ari_labels(&a, &a), 1.0));
        // Relabeling changes nothing.
        let b = [3, 3, 0, 0, 1, 1, 1, 2];
        assert!(close(nmi_labels(&a, &b), 1.0));
        assert!(close(ari_labels(&a, &b), 1.0));
    }

    #[test]
    fn trivial_partitions_follow_the_usual_conventions() {
        let one = [0u32; 5];
        let singletons = [0, 1, 2, 3, 4];
        assert_eq!(nmi_labels(&one, &one), 1.0);
        assert_eq!(ari_labels(&one, &one), 1.0);
        assert_eq!(ari_labels(&singletons, &singletons), 1.0);
        // One community against anything else shares no information.
        assert_eq!(nmi_labels(&one, &singletons), 0.0);
        assert_eq!(ari_labels(&one, &singletons), 0.0);
        assert_eq!(nmi_labels(&[], &[]), 1.0);
        assert_eq!(ari_labels(&[], &[]), 1.0);
    }

    #[test]
    fn hand_computed_example() {
        // a = {0,1,2},{3,4,5}; b = {0,1},{2,3},{4,5}.
        let a = [0, 0, 0, 1, 1, 1];
        let b = [0, 0, 1, 1, 2, 2];
        // H(a) = ln 2, H(b) = ln 3. Cells: 2,1 | 1,2 (each /6).
        // I = (2/6) ln(6*2/(3*2)) * 2 + (1/6) ln(6*1/(3*2)) * 2 = (2/3) ln 2.
        let expected_nmi = 2.0 * (2.0 / 3.0) * 2f64.ln() / (2f64.ln() + 3f64.ln());
        assert!(close(nmi_labels(&a, &b), expected_nmi), "{}", nmi_labels(&a, &b));
        // index = C(2,2)+C(2,2) = 2; sa = 3+3 = 6; sb = 1+1+1 = 3; total = 15.
        // ARI = (2 - 18/15) / (4.5 - 18/15) = 0.8 / 3.3.
        let expected_ari = 0.8 / 3.3;
        assert!(close(ari_labels(&a, &b), expected_ari), "{}", ari_labels(&a, &b));
        // Both measures are symmetric.
        assert!(close(nmi_labels(&b, &a), expected_nmi));
        assert!(close(ari_labels(&b, &a), expected_ari));
    }

    #[test]
    fn ari_is_negative_when_worse_than_chance() {
        // a pairs (0,1),(2,3); b pairs (0,2),(1,3): no pair agrees.
        // index = 0, sa = sb = 2, total = 6: ARI = (0 - 4/6) / (2 - 4/6) = -0.5.
        let a = [0, 0, 1, 1];
        let b = [0, 1, 0, 1];
        assert!(close(ari_labels(&a, &b), -0.5));
        // Independent: I = 0.
        assert!(close(nmi_labels(&a, &b), 0.0));
    }

    #[test]
    #[should_panic(expected = "different node counts")]
    fn different_lengths_are_a_caller_bug() {
        nmi_labels(&[0, 1], &[0]);
    }
}
