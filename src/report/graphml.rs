//! `clusters.graphml`: the clustered accounts and their sampled linkage, for
//! Gephi, yEd, NetworkX or igraph.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;

use super::model::Detection;
use super::{escape, write_error, xml_forbidden};
use crate::error::Result;
use crate::report::model::Flag;

/// What [`write_graphml_with`] includes.
///
/// ```
/// use hydra_detect::GraphmlConfig;
///
/// let config = GraphmlConfig::new().all_accounts(true);
/// assert!(config.get_all_accounts());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphmlConfig {
    /// Every account in a community, not only hydra networks' members.
    all_accounts: bool,
}

impl GraphmlConfig {
    /// The default: the members of hydra networks only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Includes every account that belongs to a community, hydra or not
    /// (default `false`: the members of hydra networks only, the accounts
    /// a reviewer looks at; the whole platform can be too big to draw).
    pub fn all_accounts(mut self, yes: bool) -> Self {
        self.all_accounts = yes;
        self
    }

    /// Whether every account in a community is included.
    pub fn get_all_accounts(&self) -> bool {
        self.all_accounts
    }
}

/// Writes `clusters.graphml` (GraphML 1.0, undirected) with the default
/// [`GraphmlConfig`]: the members of hydra networks. See
/// [`write_graphml_with`].
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
pub fn write_graphml(detection: &Detection, out: impl Write) -> Result<()> {
    write_graphml_with(detection, &GraphmlConfig::new(), out)
}

/// Writes `clusters.graphml` (GraphML 1.0, undirected): one node per member
/// of a hydra network (with [`GraphmlConfig::all_accounts`], per account
/// that belongs to any community), with `label` (the account id, the node
/// label Gephi and yEd show), `account`, `cluster`, `score`, `flag`,
/// `hydra` (its community was judged a hydra) and `banned` attributes, and
/// one edge per pair in those communities' [`sample_edges`] with its `weight`.
///
/// Node ids are `n0`, `n1`, … in account order (account ids go in the
/// `account` attribute, so any id is safe); text is XML-escaped, with a
/// carriage return as `&#13;` so that it reads back as itself. An account
/// or cluster id holding a character XML 1.0 cannot carry at all (a control
/// character other than tab, line feed and carriage return) is written with
/// escapes instead, `\u0001` for U+0001 and `\\` for a backslash, and its
/// node gets `escaped = true`: undo the escapes of those nodes only, and
/// every id reads back exactly (two ids never collide). Edges between
/// members missing from `detection.accounts` are left out.
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
/// use hydra_detect::{Detection, GraphmlConfig, write_graphml_with};
///
/// let mut out = Vec::new();
/// write_graphml_with(&Detection::default(), &GraphmlConfig::new().all_accounts(true), &mut out)?;
/// assert!(String::from_utf8(out)?.contains("attr.name=\"label\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Complexity
///
/// Time `O(a + b log b + e log a)` for `a` accounts, `b` banned members and
/// `e` sampled edges; space `O(a + b)`.
pub fn write_graphml_with(
    detection: &Detection,
    config: &GraphmlConfig,
    out: impl Write,
) -> Result<()> {
    write(detection, config, out).map_err(write_error("clusters.graphml"))
}

fn write(detection: &Detection, config: &GraphmlConfig, out: impl Write) -> std::io::Result<()> {
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
  <key id="label" for="node" attr.name="label" attr.type="string"/>
  <key id="account" for="node" attr.name="account" attr.type="string"/>
  <key id="cluster" for="node" attr.name="cluster" attr.type="string"/>
  <key id="score" for="node" attr.name="score" attr.type="double"/>
  <key id="flag" for="node" attr.name="flag" attr.type="string"/>
  <key id="hydra" for="node" attr.name="hydra" attr.type="boolean"/>
  <key id="banned" for="node" attr.name="banned" attr.type="boolean"/>
  <key id="escaped" for="node" attr.name="escaped" attr.type="boolean"><default>false</default></key>
  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>
  <graph id="clusters" edgedefault="undirected">
"#,
    )?;
    // Node index of each account with a community, by position in `accounts`.
    let mut node_of: Vec<Option<usize>> = vec![None; detection.accounts.len()];
    let mut next = 0usize;
    for (i, v) in detection.accounts.iter().enumerate() {
        let Some(cluster) = &v.cluster else { continue };
        let in_hydra = hydra.contains(cluster.as_str());
        if !in_hydra && !config.all_accounts {
            continue;
        }
        node_of[i] = Some(next);
        let flag = if replacements.contains(v.account.as_str()) {
            Some(Flag::Replacement)
        } else {
            v.flag
        };
        let escaped = v.account.contains(xml_forbidden) || cluster.as_str().contains(xml_forbidden);
        let (account, cluster_id) = if escaped {
            (
                Cow::Owned(backslash_escape(&v.account)),
                Cow::Owned(backslash_escape(cluster.as_str())),
            )
        } else {
            (Cow::Borrowed(v.account.as_str()), Cow::Borrowed(cluster.as_str()))
        };
        write!(
            w,
            "    <node id=\"n{next}\"><data key=\"label\">{}</data><data key=\"account\">{}</data><data key=\"cluster\">{}</data>",
            escape(&account),
            escape(&account),
            escape(&cluster_id)
        )?;
        if escaped {
            w.write_all(b"<data key=\"escaped\">true</data>")?;
        }
        if let Some(score) = v.score.filter(|s| s.is_finite()) {
            write!(w, "<data key=\"score\">{score}</data>")?;
        }
        writeln!(
            w,
            "<data key=\"flag\">{}</data><data key=\"hydra\">{}</data><data key=\"banned\">{}</data></node>",
            Flag::name(flag),
            in_hydra,
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
    for cluster in detection.clusters.iter().filter(|c| c.hydra || config.all_accounts) {
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

/// `text` with each backslash doubled and each character XML cannot carry
/// written `\uXXXX`.
fn backslash_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if xml_forbidden(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::ClusterId;
    use crate::report::model::{AccountVerdict, ClusterReport};

    // See: #15 (a raw \r read back as \n; distinct control characters
    // collapsed to one U+FFFD, so two ids could collide).
    #[test]
    fn ids_with_control_characters_stay_distinct_and_exact() {
        let ids = ["a\rb", "a\nb", "x\u{1}", "x\u{2}", "x\\u0001", "y\\"];
        let mut d = Detection::default();
        for id in ids {
            d.accounts.push(AccountVerdict {
                account: id.into(),
                cluster: Some(ClusterId::new("c-1")),
                score: Some(0.5),
                flag: None,
            });
        }
        let mut out = Vec::new();
        // c-1 is no hydra (not even among the clusters): every account asked for.
        write_graphml_with(&d, &GraphmlConfig::new().all_accounts(true), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("<data key=\"account\">a&#13;b</data>"), "{text}");
        assert!(text.contains("<data key=\"label\">a&#13;b</data>"), "{text}");
        assert!(text.contains("<data key=\"account\">x\\u0001</data>"), "{text}");
        assert!(text.contains("<data key=\"account\">x\\u0002</data>"), "{text}");
        // Not escaped (no forbidden character): a literal backslash-u stays.
        assert!(text.contains("<data key=\"account\">x\\u0001</data><data key=\"cluster\">c-1</data><data key=\"score\">"), "{text}");
        assert_eq!(text.matches("<data key=\"escaped\">true</data>").count(), 2);
        assert!(!text.contains('\u{fffd}') && !text.contains('\r'), "{text}");
    }

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
            text.contains(
                "<data key=\"account\">a&lt;&amp;&gt;&quot;&apos;\\u0001</data><data \
                 key=\"cluster\">c-1</data><data key=\"escaped\">true</data>"
            ),
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

    #[test]
    fn hydra_networks_only_unless_every_account_is_asked_for() {
        let mut d = Detection::default();
        for (name, cluster) in [("h-1", "c-h"), ("h-2", "c-h"), ("l-1", "c-l"), ("l-2", "c-l")] {
            d.accounts.push(AccountVerdict {
                account: name.into(),
                cluster: Some(ClusterId::new(cluster)),
                score: Some(0.5),
                flag: None,
            });
        }
        for (id, hydra, members) in [("c-h", true, ["h-1", "h-2"]), ("c-l", false, ["l-1", "l-2"])]
        {
            d.clusters.push(ClusterReport {
                id: ClusterId::new(id),
                score: 0.5,
                hydra,
                size: 2,
                members: Default::default(),
                signals: vec![],
                evidence: Default::default(),
                lifecycle: Default::default(),
                cells: Vec::new(),
                member_ids: members.iter().map(|m| m.to_string()).collect(),
                sample_edges: vec![(0, 1, 1.0)],
            });
        }
        let mut out = Vec::new();
        write_graphml(&d, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!((text.matches("<node ").count(), text.matches("<edge ").count()), (2, 1));
        assert!(text.contains("<data key=\"label\">h-1</data>") && !text.contains("l-1"), "{text}");
        let mut out = Vec::new();
        write_graphml_with(&d, &GraphmlConfig::new().all_accounts(true), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!((text.matches("<node ").count(), text.matches("<edge ").count()), (4, 2));
        assert!(text.contains("<data key=\"label\">l-2</data>"), "{text}");
    }
}
