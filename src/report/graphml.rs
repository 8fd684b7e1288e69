//! `clusters.graphml`: the clustered accounts and their sampled linkage, for
//! Gephi, yEd, NetworkX or igraph.

use std::collections::BTreeSet;
use std::io::Write;

use super::model::Detection;
use super::{escape, write_error};
use crate::error::Result;
use crate::report::model::Flag;

/// Writes `clusters.graphml` (GraphML 1.0, undirected): one node per account
/// that belongs to a community, with `account`, `cluster`, `score`, `flag`,
/// `hydra` (its community was judged a hydra) and `banned` attributes, and
/// one edge per pair in the communities' [`sample_edges`] with its `weight`.
///
/// Node ids are `n0`, `n1`, … in account order (account ids go in the
/// `account` attribute, so any id is safe); text is XML-escaped and
/// characters XML cannot carry become U+FFFD. Edges between members missing
/// from `detection.accounts` are left out.
///
/// [`sample_edges`]: crate::ClusterReport::sample_edges
///
/// # Errors
///
/// Returns an [`ErrorKind::Io`](crate::ErrorKind::Io) error if writing fails.
///
/// # Examples
///
/// ```
/// use hydra_detect::{Detection, write_graphml};
///
/// let mut out = Vec::new();
/// write_graphml(&Detection::default(), &mut out)?;
/// assert!(String::from_utf8(out)?.contains("<graph id=\"clusters\" edgedefault=\"undirected\">"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Complexity
///
/// Time `O(a + b log b + e log a)` for `a` accounts, `b` banned members and
/// `e` sampled edges; space `O(a + b)`.
pub fn write_graphml(detection: &Detection, out: impl Write) -> Result<()> {
    write(detection, out).map_err(write_error("clusters.graphml"))
}

fn write(detection: &Detection, out: impl Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(out);
    let hydra: BTreeSet<&str> = detection.hydra_clusters().map(|c| c.id.as_str()).collect();
    let banned: BTreeSet<&str> = detection
        .clusters
        .iter()
        .flat_map(|c| c.evidence.banned_members.iter().map(String::as_str))
        .collect();
    let replacements: BTreeSet<&str> =
        detection.replacements.iter().map(|r| r.account.as_str()).collect();
    w.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="account" for="node" attr.name="account" attr.type="string"/>
  <key id="cluster" for="node" attr.name="cluster" attr.type="string"/>
  <key id="score" for="node" attr.name="score" attr.type="double"/>
  <key id="flag" for="node" attr.name="flag" attr.type="string"/>
  <key id="hydra" for="node" attr.name="hydra" attr.type="boolean"/>
  <key id="banned" for="node" attr.name="banned" attr.type="boolean"/>
  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>
  <graph id="clusters" edgedefault="undirected">
"#,
    )?;
    // Node index of each account with a community, by position in `accounts`.
    let mut node_of: Vec<Option<usize>> = vec![None; detection.accounts.len()];
    let mut next = 0usize;
    for (i, v) in detection.accounts.iter().enumerate() {
        let Some(cluster) = &v.cluster else { continue };
        node_of[i] = Some(next);
        let flag = if replacements.contains(v.account.as_str()) {
            Some(Flag::Replacement)
        } else {
            v.flag
        };
        write!(
            w,
            "    <node id=\"n{next}\"><data key=\"account\">{}</data><data key=\"cluster\">{}</data>",
            escape(&v.account),
            escape(cluster.as_str())
        )?;
        if let Some(score) = v.score.filter(|s| s.is_finite()) {
            write!(w, "<data key=\"score\">{score}</data>")?;
        }
        writeln!(
            w,
            "<data key=\"flag\">{}</data><data key=\"hydra\">{}</data><data key=\"banned\">{}</data></node>",
            Flag::name(flag),
            hydra.contains(cluster.as_str()),
            banned.contains(v.account.as_str())
        )?;
        next += 1;
    }
    let find = |account: &str| {
        detection
            .accounts
            .binary_search_by(|v| v.account.as_str().cmp(account))
            .ok()
            .and_then(|i| node_of[i])
    };
    for cluster in &detection.clusters {
        for &(a, b, weight) in &cluster.sample_edges {
            let (Some(a), Some(b)) =
                (cluster.member_ids.get(a as usize), cluster.member_ids.get(b as usize))
            else {
                continue;
            };
            let (Some(a), Some(b)) = (find(a), find(b)) else { continue };
            let weight = if weight.is_finite() { weight } else { 0.0 };
            writeln!(
                w,
                "    <edge source=\"n{a}\" target=\"n{b}\"><data key=\"weight\">{weight}</data></edge>"
            )?;
        }
    }
    w.write_all(b"  </graph>\n</graphml>\n")?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::ClusterId;
    use crate::report::model::{AccountVerdict, ClusterReport};

    #[test]
    fn escapes_text_and_maps_edges_through_member_ids() {
        let mut d = Detection::default();
        for (name, cluster) in [("a<&>\"'\u{1}", Some("c-1")), ("b", Some("c-1")), ("z", None)] {
            d.accounts.push(AccountVerdict {
                account: name.into(),
                cluster: cluster.map(ClusterId::new),
                score: cluster.map(|_| 0.5),
                flag: cluster.map(|_| Flag::Hydra),
            });
        }
        d.clusters.push(ClusterReport {
            id: ClusterId::new("c-1"),
            score: 0.5,
            hydra: true,
            size: 2,
            members: Default::default(),
            signals: vec![],
            evidence: Default::default(),
            lifecycle: Default::default(),
            cells: Vec::new(),
            member_ids: vec!["a<&>\"'\u{1}".into(), "b".into()],
            sample_edges: vec![(0, 1, 2.5), (0, 7, 1.0)],
        });
        let mut out = Vec::new();
        write_graphml(&d, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("<data key=\"account\">a&lt;&amp;&gt;&quot;&apos;\u{fffd}</data>"),
            "{text}"
        );
        assert!(
            text.contains(
                "<edge source=\"n0\" target=\"n1\"><data key=\"weight\">2.5</data></edge>"
            )
        );
        assert_eq!(text.matches("<node ").count(), 2);
        assert_eq!(text.matches("<edge ").count(), 1);
    }
}
