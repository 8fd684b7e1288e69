//! [`Signal::Template`](crate::score::config::Signal::Template): rare request
//! templates shared by most members.
//!
//! One operator's scripts send the same request shapes from every account;
//! a popular framework's template is shared too, but mostly by outsiders. A
//! template is *rare* here when at least `rare_template_share` of the
//! accounts using it platform-wide are members. The value is the share of
//! members using a rare template shared with another member. Template
//! sharing never flags a community on its own (see
//! [`ScoreConfig::corroboration`]).

use super::Measured;
use crate::event::IndicatorKind;
use crate::score::config::ScoreConfig;
use crate::score::view::{ClusterView, pct};

pub(super) fn measure(view: &ClusterView<'_>, config: &ScoreConfig) -> Measured {
    let n = view.len().max(1);
    let mut on_rare = vec![false; view.len()];
    let mut rare = 0usize;
    let mut used = 0usize;
    for t in view.of_kind(&IndicatorKind::Template) {
        used += 1;
        let inside = t.members.len() as f64 / t.degree.max(1) as f64;
        if t.members.len() >= 2 && inside >= config.get_rare_template_share() {
            rare += 1;
            for &m in &t.members {
                on_rare[m as usize] = true;
            }
        }
    }
    let share = on_rare.iter().filter(|&&r| r).count() as f64 / n as f64;
    let explain = if used == 0 {
        "no request template known for any member".to_owned()
    } else {
        format!(
            "{} of members use one of {rare} rare templates shared within the group ({used} templates seen)",
            pct(share)
        )
    };
    Measured::new(share, explain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::view::testkit::{ind, member};

    #[test]
    fn rare_shared_template_fires_and_popular_one_does_not() {
        let config = ScoreConfig::new();
        let all: Vec<u32> = (0..10).collect();
        let members = || (0..10).map(|i| member(i, 0)).collect::<Vec<_>>();
        let hydra =
            ClusterView::assemble(members(), vec![ind(0, IndicatorKind::Template, "t", 12, &all)]);
        let popular = ClusterView::assemble(
            members(),
            vec![ind(0, IndicatorKind::Template, "langchain", 50_000, &all)],
        );
        assert_eq!(measure(&hydra, &config).value, 1.0);
        assert_eq!(measure(&popular, &config).value, 0.0);
    }
}
