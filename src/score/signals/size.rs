//! [`Signal::Size`](crate::score::config::Signal::Size): how many accounts.
//!
//! Hydras run hundreds to thousands of accounts; families a handful. Size
//! alone proves nothing (companies and campuses are large too), so its
//! default weight is small. The value saturates: `1 - exp(-(n - 1) / 30)`.

use super::Measured;
use crate::score::view::ClusterView;

/// Members at which size reaches about 63%.
const SCALE: f64 = 30.0;

pub(super) fn measure(view: &ClusterView<'_>) -> Measured {
    let n = view.len();
    let value = 1.0 - (-((n.max(1) - 1) as f64) / SCALE).exp();
    Measured::new(value, format!("{n} member accounts"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::member;

    #[test]
    fn grows_with_members_and_saturates() {
        let small = ClusterView::assemble((0..3).map(|i| member(i, 0)).collect(), vec![]);
        let big = ClusterView::assemble((0..300).map(|i| member(i, 0)).collect(), vec![]);
        let (s, b) = (measure(&small), measure(&big));
        assert!(s.value < 0.1, "{s:?}");
        assert!(b.value > 0.99, "{b:?}");
        assert_eq!(b.explain, "300 member accounts");
    }
}
