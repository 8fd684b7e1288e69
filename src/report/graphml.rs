//! `clusters.graphml`: the clustered accounts and their sampled linkage, for
//! Gephi, yEd, NetworkX or igraph; optionally the indicator values that
//! link them ([`IndicatorHolders`]).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;

use super::model::{ClusterReport, Detection};
use super::{escape, write_error, xml_forbidden};
use crate::error::Result;
use crate::id::ClusterId;
use crate::report::model::Flag;

/// What [`write_graphml_with`] includes.
///
/// ```
/// use hydra_detect::GraphmlConfig;
///
/// let config = GraphmlConfig::new().all_accounts(true);
/// assert!(config.get_all_accounts());
/// assert!(config.get_indicators().is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GraphmlConfig<'a> {
    /// Every account in a community, not only hydra networks' members.
    all_accounts: bool,
    /// Who holds the evidence's indicator values, when indicator nodes are
    /// asked for.
    indicators: Option<&'a IndicatorHolders>,
}

impl<'a> GraphmlConfig<'a> {
    /// The default: the members of hydra networks only, no indicator nodes.
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

    /// Also writes indicator nodes: one per indicator value named in the
    /// evidence of an exported cluster that two or more exported accounts
    /// hold, with an edge from each of those accounts (default: none).
    /// `holders` must come from the run that made the detection written
    /// ([`Analysis::indicator_holders`](crate::Analysis::indicator_holders),
    /// or `DistRun::indicator_holders` with the `distributed` feature); see
    /// [`write_graphml_with`].
    pub fn indicators(mut self, holders: &'a IndicatorHolders) -> Self {
        self.indicators = Some(holders);
        self
    }

    /// Whether every account in a community is included.
    pub fn get_all_accounts(&self) -> bool {
        self.all_accounts
    }

    /// The holders indicator nodes are drawn from, if indicator nodes are
    /// included.
    pub fn get_indicators(&self) -> Option<&'a IndicatorHolders> {
        self.indicators
    }
}

/// Which clustered accounts hold each indicator value that a detection's
/// cluster evidence names ([`ClusterEvidence::top_indicators`], at most 10
/// per cluster): what [`GraphmlConfig::indicators`] draws indicator nodes
/// and their edges from.
///
/// The holders are kept as positions in the detection's `accounts`, and
/// each cluster's entries by position in its `top_indicators`: they hold
/// no indicator value at all, so the values written are the detection's
/// own, and a [`redact`](crate::redact)ed copy of the detection writes
/// redacted indicator nodes with the same holders. Pass the detection they
/// were made for (or its redacted copy): clusters whose id does not match
/// and positions out of range are ignored.
///
/// Memory: one `u32` per link between a clustered account and a value the
/// evidence names (each value counted once, however many clusters name it).
///
/// [`ClusterEvidence::top_indicators`]: crate::ClusterEvidence::top_indicators
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndicatorHolders {
    /// Per cluster, in the detection's `clusters` order: its id and, per
    /// entry of its `top_indicators` (same order), an index into `values`.
    clusters: Vec<(ClusterId, Vec<u32>)>,
    /// Per distinct indicator value named: the positions in the detection's
    /// `accounts` of the clustered accounts holding it, sorted.
    values: Vec<Vec<u32>>,
}

impl IndicatorHolders {
    /// Holders from `clusters` (per cluster of the detection, in order, its
    /// id and per evidence entry an index into `values`) and `values`
    /// (sorted account positions per distinct value).
    pub(crate) fn new(clusters: Vec<(ClusterId, Vec<u32>)>, values: Vec<Vec<u32>>) -> Self {
        IndicatorHolders { clusters, values }
    }

    /// How many distinct indicator values the evidence names.
    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    /// How many account–value links are held (each value counted once).
    pub fn link_count(&self) -> usize {
        self.values.iter().map(Vec::len).sum()
    }

    /// The holders of `cluster`'s evidence entries, if it is the cluster
    /// at `position` of the detection these holders were made for.
    fn entries(&self, position: usize, cluster: &ClusterId) -> Option<&[u32]> {
        self.clusters.get(position).filter(|(id, _)| id == cluster).map(|(_, v)| v.as_slice())
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
/// label Gephi and yEd show), `type` (`account`), `account`, `cluster`,
/// `score`, `flag`, `hydra` (its community was judged a hydra) and `banned`
/// attributes, and one edge per pair in those communities' [`sample_edges`]
/// with its `weight`.
///
/// With [`GraphmlConfig::indicators`], also one node per indicator value
/// that the evidence of an exported cluster names
/// ([`top_indicators`], at most 10 per cluster: the values its members
/// share most) and that two or more exported accounts hold (a value one
/// account holds links nothing), with `label` (`kind:value`, e.g.
/// `payment:card-4242`), `type` (`indicator`), `kind`, `value` and
/// `holders` (how many exported accounts hold it) attributes, and one edge,
/// without a weight, from each exported account holding it. A value named
/// by several clusters is one node. Taking only the values the evidence
/// names keeps the file bounded (at most 10 indicator nodes per cluster,
/// and an edge per account–value link among them) and keeps it in step
/// with `clusters.json` and `report.html`, which name the same values
/// (redacted alike: the values come from `detection`).
///
/// Account nodes are `n0`, `n1`, … in account order, indicator nodes `i0`,
/// `i1`, … in the order clusters (then their evidence) first name them
/// (account ids go in the `account` attribute, so any id is safe); text is
/// XML-escaped, with a carriage return as `&#13;` so that it reads back as
/// itself. An account, cluster id or indicator value holding a character
/// XML 1.0 cannot carry at all (a control character other than tab, line
/// feed and carriage return) is written with escapes instead, `\u0001`
/// for U+0001 and `\\` for a backslash, and its node gets `escaped =
/// true`: undo the escapes of those nodes only, and every id reads back
/// exactly (two ids never collide). Edges between members missing from
/// `detection.accounts` are left out.
///
/// [`sample_edges`]: crate::ClusterReport::sample_edges
/// [`top_indicators`]: crate::ClusterEvidence::top_indicators
///
/// # Errors
///
/// Returns an [`ErrorKind::Io`](crate::ErrorKind::Io) error if writing fails.
///
/// # Examples
///
/// ```
/// use hydra_detect::{Config, Detector, Event, GraphmlConfig, IndicatorKind, write_graphml_with};
///
/// let mut events = Vec::new();
/// for i in 0..3 {
///     events.push(Event::signup(1_767_225_600 + i, format!("a{i}")));
///     events.push(Event::observe(1_767_225_700 + i, format!("a{i}"), IndicatorKind::Ip, "192.0.2.7"));
/// }
/// let analysis = Detector::new(Config::new()).analyze_events(events)?;
/// let holders = analysis.indicator_holders();
/// let config = GraphmlConfig::new().all_accounts(true).indicators(&holders);
/// let mut out = Vec::new();
/// write_graphml_with(analysis.detection(), &config, &mut out)?;
/// let text = String::from_utf8(out)?;
/// // The three accounts share the IP and its /24, which the library derives.
/// assert!(text.contains("<data key=\"label\">ip:192.0.2.7</data>"));
/// assert!(text.contains("<data key=\"label\">ip_prefix:192.0.2.0/24</data>"));
/// assert_eq!(text.matches("<data key=\"type\">indicator</data>").count(), 2);
/// assert_eq!(text.matches("<data key=\"holders\">3</data>").count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Complexity
///
/// Time `O(a + b log b + e log a + h)` for `a` accounts, `b` banned
/// members, `e` sampled edges and `h` holder positions in the exported
/// clusters' evidence; space `O(a + b + v)` for `v` indicator values named.
pub fn write_graphml_with(
    detection: &Detection,
    config: &GraphmlConfig<'_>,
    out: impl Write,
) -> Result<()> {
    write(detection, config, out).map_err(write_error("clusters.graphml"))
}

fn write(
    detection: &Detection,
    config: &GraphmlConfig<'_>,
    out: impl Write,
) -> std::io::Result<()> {
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
  <key id="type" for="node" attr.name="type" attr.type="string"><default>account</default></key>
  <key id="account" for="node" attr.name="account" attr.type="string"/>
  <key id="cluster" for="node" attr.name="cluster" attr.type="string"/>
  <key id="score" for="node" attr.name="score" attr.type="double"/>
  <key id="flag" for="node" attr.name="flag" attr.type="string"/>
  <key id="hydra" for="node" attr.name="hydra" attr.type="boolean"/>
  <key id="banned" for="node" attr.name="banned" attr.type="boolean"/>
  <key id="kind" for="node" attr.name="kind" attr.type="string"/>
  <key id="value" for="node" attr.name="value" attr.type="string"/>
  <key id="holders" for="node" attr.name="holders" attr.type="int"/>
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
        let (escaped, account, cluster_id) = carried(&v.account, cluster.as_str());
        write!(
            w,
            "    <node id=\"n{next}\"><data key=\"label\">{}</data><data key=\"type\">account</data><data key=\"account\">{}</data><data key=\"cluster\">{}</data>",
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
    let exported = |c: &&ClusterReport| c.hydra || config.all_accounts;
    // Indicator nodes, and their edges after the account-account ones.
    let mut holds: Vec<(usize, usize)> = Vec::new();
    if let Some(holders) = config.indicators {
        // Distinct values (indexes into `holders.values`) already decided.
        let mut seen: BTreeSet<u32> = BTreeSet::new();
        let mut next = 0usize;
        for (position, cluster) in detection.clusters.iter().enumerate() {
            if !exported(&cluster) {
                continue;
            }
            let Some(entries) = holders.entries(position, &cluster.id) else { continue };
            for (entry, &value) in cluster.evidence.top_indicators.iter().zip(entries) {
                if !seen.insert(value) {
                    continue;
                }
                let exported_holders: Vec<usize> = holders
                    .values
                    .get(value as usize)
                    .into_iter()
                    .flatten()
                    .filter_map(|&a| node_of.get(a as usize).copied().flatten())
                    .collect();
                if exported_holders.len() < 2 {
                    continue;
                }
                let (escaped, kind, text) = carried(entry.kind.as_str(), &entry.value);
                write!(
                    w,
                    "    <node id=\"i{next}\"><data key=\"label\">{}:{}</data><data key=\"type\">indicator</data><data key=\"kind\">{}</data><data key=\"value\">{}</data>",
                    escape(&kind),
                    escape(&text),
                    escape(&kind),
                    escape(&text)
                )?;
                if escaped {
                    w.write_all(b"<data key=\"escaped\">true</data>")?;
                }
                writeln!(w, "<data key=\"holders\">{}</data></node>", exported_holders.len())?;
                holds.extend(exported_holders.into_iter().map(|a| (a, next)));
                next += 1;
            }
        }
    }
    let find = |account: &str| {
        detection
            .accounts
            .binary_search_by(|v| v.account.as_str().cmp(account))
            .ok()
            .and_then(|i| node_of[i])
    };
    for cluster in detection.clusters.iter().filter(exported) {
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
    for (account, indicator) in holds {
        writeln!(w, "    <edge source=\"n{account}\" target=\"i{indicator}\"/>")?;
    }
    w.write_all(b"  </graph>\n</graphml>\n")?;
    w.flush()
}

/// `text` with each backslash doubled and each character XML cannot carry
/// written `\uXXXX`.
/// Two texts of one node as XML can carry them: both as they are, or, if
/// either holds a character XML 1.0 cannot carry, both backslash-escaped
/// (and `true`, for the node's `escaped` attribute).
fn carried<'t>(x: &'t str, y: &'t str) -> (bool, Cow<'t, str>, Cow<'t, str>) {
    if x.contains(xml_forbidden) || y.contains(xml_forbidden) {
        (true, Cow::Owned(backslash_escape(x)), Cow::Owned(backslash_escape(y)))
    } else {
        (false, Cow::Borrowed(x), Cow::Borrowed(y))
    }
}

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
    use crate::report::model::AccountVerdict;

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

    /// A hydra `c-h` (a-1..a-4) and a non-hydra `c-l` (b-1, b-2) whose
    /// evidence names a card both hold, and holders as a run would give.
    fn with_indicators() -> (Detection, IndicatorHolders) {
        use crate::event::IndicatorKind;
        use crate::report::model::IndicatorCount;
        let mut d = Detection::default();
        for (name, cluster) in
            [("a-1", "c-h"), ("a-2", "c-h"), ("a-3", "c-h"), ("a-4", "c-h"), ("b-1", "c-l")]
                .into_iter()
                .chain([("b-2", "c-l"), ("z", "")])
        {
            d.accounts.push(AccountVerdict {
                account: name.into(),
                cluster: (!cluster.is_empty()).then(|| ClusterId::new(cluster)),
                score: Some(0.5),
                flag: None,
            });
        }
        let count = |kind: IndicatorKind, value: &str, accounts| IndicatorCount {
            kind,
            value: value.into(),
            accounts,
        };
        let report = |id: &str, hydra, members: &[&str], top| ClusterReport {
            id: ClusterId::new(id),
            score: 0.5,
            hydra,
            size: members.len(),
            members: Default::default(),
            signals: vec![],
            evidence: crate::report::model::ClusterEvidence {
                top_indicators: top,
                banned_members: vec![],
            },
            lifecycle: Default::default(),
            cells: Vec::new(),
            member_ids: members.iter().map(|m| m.to_string()).collect(),
            sample_edges: vec![(0, 1, 1.0)],
        };
        d.clusters.push(report(
            "c-h",
            true,
            &["a-1", "a-2", "a-3", "a-4"],
            vec![
                count(IndicatorKind::Payment, "card<&>", 3),
                count(IndicatorKind::Ip, "192.0.2.7", 2),
                count(IndicatorKind::Device, "dev\u{1}x", 2),
            ],
        ));
        d.clusters.push(report(
            "c-l",
            false,
            &["b-1", "b-2"],
            vec![
                count(IndicatorKind::Email, "x@example.org", 2),
                count(IndicatorKind::Payment, "card<&>", 1),
            ],
        ));
        // Values: 0 the card (a-1, a-2, a-3, b-1), 1 the IP (a-4 and the
        // unclustered z), 2 the device (a-2, a-3), 3 the e-mail (b-1, b-2).
        let holders = IndicatorHolders::new(
            vec![(ClusterId::new("c-h"), vec![0, 1, 2]), (ClusterId::new("c-l"), vec![3, 0])],
            vec![vec![0, 1, 2, 4], vec![3, 6], vec![1, 2], vec![4, 5]],
        );
        (d, holders)
    }

    fn graphml(d: &Detection, config: &GraphmlConfig<'_>) -> String {
        let mut out = Vec::new();
        write_graphml_with(d, config, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Balanced, properly nested tags with quoted attributes; text with no
    /// raw `<` and only the five entities and numeric references.
    fn well_formed(text: &str) -> std::result::Result<(), String> {
        let mut rest = text
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .ok_or("no declaration")?;
        let mut open: Vec<&str> = Vec::new();
        let entity_ok = |t: &str| {
            t.split('&').skip(1).all(|e| {
                ["amp;", "lt;", "gt;", "quot;", "apos;", "#13;"].iter().any(|x| e.starts_with(x))
            })
        };
        while let Some(start) = rest.find('<') {
            if !entity_ok(&rest[..start]) || rest[..start].contains('>') {
                return Err(format!(
                    "bad text before {:?}",
                    &rest[start..rest.len().min(start + 40)]
                ));
            }
            let end = start + rest[start..].find('>').ok_or("unclosed tag")?;
            let tag = &rest[start + 1..end];
            if tag.matches('"').count() % 2 != 0 || tag.contains('<') || !entity_ok(tag) {
                return Err(format!("bad tag <{tag}>"));
            }
            if let Some(name) = tag.strip_prefix('/') {
                if open.pop() != Some(name) {
                    return Err(format!("</{name}> closes nothing open"));
                }
            } else if !tag.ends_with('/') {
                open.push(tag.split_whitespace().next().ok_or("empty tag")?);
            }
            rest = &rest[end + 1..];
        }
        if !open.is_empty() || !rest.trim().is_empty() {
            return Err(format!("left open: {open:?}"));
        }
        Ok(())
    }

    #[test]
    fn indicator_nodes_for_values_two_exported_accounts_hold() {
        let (d, holders) = with_indicators();
        // Without holders: accounts only, each typed.
        let text = graphml(&d, &GraphmlConfig::new());
        well_formed(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(text.matches("<data key=\"type\">account</data>").count(), 4);
        assert!(!text.contains("\"i0\""), "{text}");

        // Hydra members only: the card (a-1..a-3) and the device (a-2, a-3);
        // the IP has one exported holder (z is in no cluster) and the
        // e-mail is named by a cluster that is not exported.
        let config = GraphmlConfig::new().indicators(&holders);
        let text = graphml(&d, &config);
        well_formed(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(text.matches("<data key=\"type\">indicator</data>").count(), 2, "{text}");
        assert_eq!(text.matches("<node ").count(), 6);
        // 1 sampled edge + 3 card holders + 2 device holders.
        assert_eq!(text.matches("<edge ").count(), 6);
        assert!(
            text.contains(
                "<node id=\"i0\"><data key=\"label\">payment:card&lt;&amp;&gt;</data><data \
                 key=\"type\">indicator</data><data key=\"kind\">payment</data><data \
                 key=\"value\">card&lt;&amp;&gt;</data><data key=\"holders\">3</data></node>"
            ),
            "{text}"
        );
        // A control character is escaped, and the node says so.
        assert!(
            text.contains(
                "<data key=\"value\">dev\\u0001x</data><data key=\"escaped\">true</data>\
                 <data key=\"holders\">2</data>"
            ),
            "{text}"
        );
        for edge in ["n0\" target=\"i0", "n1\" target=\"i0", "n2\" target=\"i0", "n1\" target=\"i1"]
        {
            assert!(text.contains(&format!("<edge source=\"{edge}\"/>")), "{edge}\n{text}");
        }
        assert!(!text.contains("192.0.2.7") && !text.contains("x@example.org"), "{text}");

        // Every clustered account: the card, named by both clusters, is one
        // node with its 4 holders; the e-mail joins.
        let text = graphml(&d, &config.all_accounts(true));
        well_formed(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(text.matches("<data key=\"type\">indicator</data>").count(), 3);
        assert_eq!(text.matches("<data key=\"label\">payment:card&lt;&amp;&gt;</data>").count(), 1);
        assert!(text.contains("<data key=\"holders\">4</data>"), "{text}");
        assert!(text.contains("<data key=\"label\">email:x@example.org</data>"), "{text}");
        // 2 sampled edges + 4 card + 2 device + 2 e-mail holders.
        assert_eq!(text.matches("<edge ").count(), 10);
    }

    #[test]
    fn indicator_nodes_of_a_redacted_detection_are_redacted() {
        let (d, holders) = with_indicators();
        let shared = crate::report::redact(&d, b"key");
        let config = GraphmlConfig::new().all_accounts(true).indicators(&holders);
        let text = graphml(&shared, &config);
        well_formed(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for raw in ["card&lt;", "dev\\u0001x", "x@example.org"] {
            assert!(!text.contains(raw), "{raw} left in\n{text}");
        }
        // Same nodes and edges as unredacted; values are the report's tokens.
        let plain = graphml(&d, &config);
        assert_eq!(text.matches("<edge ").count(), plain.matches("<edge ").count());
        let token = &shared.clusters[0].evidence.top_indicators[0].value;
        assert!(token.starts_with("h:"), "{token}");
        assert!(text.contains(&format!("<data key=\"label\">payment:{token}</data>")), "{text}");
        assert!(text.contains(&format!("<data key=\"value\">{token}</data>")), "{text}");
    }

    #[test]
    fn holders_of_another_detection_are_ignored() {
        let (d, _) = with_indicators();
        let other = IndicatorHolders::new(
            vec![(ClusterId::new("c-other"), vec![0]), (ClusterId::new("c-l"), vec![0, 7])],
            vec![vec![0, 1, 99]],
        );
        let text = graphml(&d, &GraphmlConfig::new().all_accounts(true).indicators(&other));
        well_formed(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        // c-h's id does not match its entry; c-l's second entry points
        // past the values. c-l's e-mail entry gets the holders of value 0
        // (a-1, a-2; position 99 is no account).
        assert_eq!(text.matches("<data key=\"type\">indicator</data>").count(), 1, "{text}");
        assert!(
            text.contains(
                "<data key=\"label\">email:x@example.org</data><data key=\"type\">indicator</data>"
            ),
            "{text}"
        );
        assert_eq!(text.matches("target=\"i0\"/>").count(), 2, "{text}");
    }
}
