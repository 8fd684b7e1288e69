//! `report.html`: one self-contained page for a reviewer: the run, the hydra
//! clusters ranked with their signals, lifecycle, evidence and linkage, and
//! the replacements.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;

use super::clusters::ranked_hydras;
use super::model::{ClusterReport, Detection, Flag};
use super::svg::{self, Hub, Node};
use super::{escape, write_error};
use crate::error::Result;

/// Hydra clusters given a full section (signals, lifecycle, evidence,
/// picture); the rest are listed in the ranking table only.
const DETAILED_CLUSTERS: usize = 20;
/// Rows of the ranking table; `clusters.json` has them all.
const RANKED_ROWS: usize = 500;
/// Rows of the replacements table.
const REPLACEMENT_ROWS: usize = 500;
/// Communities not judged hydras shown as "closest calls".
const NEAR_MISSES: usize = 10;
/// Banned members and linked banned accounts listed by name before "and N more".
const NAMES_LISTED: usize = 40;
/// Side of a linkage picture in pixels.
const PICTURE: u32 = 420;

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433;margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;border-bottom:2px solid #d8dde6;padding-bottom:4px}
h3{font-size:16px;margin:0 0 8px}h4{font-size:14px;margin:14px 0 6px;color:#3b4456}
.muted{color:#6b7385}.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;background:#fff;width:100%}th,td{border-bottom:1px solid #e3e7ee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px}
.card{background:#fff;border:1px solid #e3e7ee;border-radius:6px;padding:10px}.card b{display:block;font-size:22px}
article{background:#fff;border:1px solid #e3e7ee;border-radius:8px;padding:16px;margin:16px 0}
.cols{display:flex;flex-wrap:wrap;gap:18px}.cols>div{flex:1 1 420px;min-width:0}
.pill{display:inline-block;border-radius:9px;padding:0 7px;font-size:12px;color:#fff}
.hydra{background:#d1495b}.replacement{background:#7b3fa0}.none{background:#8a94a6}
.legend span{margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
svg{display:block}svg.bar{display:inline-block;vertical-align:middle;margin-right:6px}
details pre{background:#fff;border:1px solid #e3e7ee;padding:8px;overflow:auto;max-height:320px}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:6px 0}dl.facts dt{color:#6b7385}dl.facts dd{margin:0}
";

/// Writes `report.html`: one self-contained page (inline CSS and SVG, no
/// script, no external reference) with the run summary, the hydra clusters
/// ranked by score, a detailed section for each of the top 20 (signals as
/// bars, a signups-and-bans-per-day chart, lifecycle figures, shared
/// indicators, banned members and a picture of the linkage), the closest
/// communities not judged hydras, and the replacements with their evidence.
///
/// The linkage picture draws at most 150 members of a cluster (its best
/// connected ones in [`sample_edges`]) with a deterministic force layout;
/// when a cluster has no sampled edges it shows the members around the most
/// shared indicators instead. Identical detections give identical bytes.
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
/// use hydra_detect::{Detection, write_html};
///
/// let mut out = Vec::new();
/// write_html(&Detection::default(), &mut out)?;
/// let page = String::from_utf8(out)?;
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(!page.contains("http://") && !page.contains("https://"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Complexity
///
/// Time `O(a + c log c + r)` for `a` accounts, `c` clusters and `r`
/// replacements, plus `O(20 · 150² · 300)` for the pictures' layouts; the
/// page's size is bounded by the row caps, not by the input.
pub fn write_html(detection: &Detection, mut out: impl Write) -> Result<()> {
    let page = render(detection);
    out.write_all(page.as_bytes()).map_err(write_error("report.html"))?;
    out.flush().map_err(write_error("report.html"))?;
    Ok(())
}

/// Account sets looked up while drawing.
struct Lookup<'a> {
    detection: &'a Detection,
    replacements: BTreeSet<&'a str>,
}

impl Lookup<'_> {
    fn flag(&self, account: &str) -> Option<Flag> {
        if self.replacements.contains(account) {
            return Some(Flag::Replacement);
        }
        self.detection.account(account).and_then(|v| v.flag)
    }
}

fn render(d: &Detection) -> String {
    let lookup = Lookup {
        detection: d,
        replacements: d.replacements.iter().map(|r| r.account.as_str()).collect(),
    };
    let hydras = ranked_hydras(d);
    let mut h = String::with_capacity(1 << 16);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str("<title>hydra-detect report</title><style>");
    h.push_str(STYLE);
    h.push_str("</style></head><body><main>\n");
    summary(&mut h, d, &hydras);
    ranking(&mut h, &hydras);
    for (rank, cluster) in hydras.iter().enumerate().take(DETAILED_CLUSTERS) {
        detail(&mut h, rank + 1, cluster, &lookup);
    }
    near_misses(&mut h, d);
    replacements(&mut h, d);
    let _ = write!(
        h,
        "<footer class=\"muted\"><p>Written by hydra-detect {} (schema {}). Indicator values \
         shown as <code>h:</code> tokens were redacted with a keyed hash. Every figure on this \
         page comes from the detection; <code>clusters.json</code> and <code>accounts.csv</code> \
         hold the full lists.</p></footer>\n</main></body></html>\n",
        escape(&d.run.version),
        super::CLUSTERS_SCHEMA
    );
    h
}

fn summary(h: &mut String, d: &Detection, hydras: &[&ClusterReport]) {
    let run = &d.run;
    h.push_str("<header><h1>hydra-detect report</h1>");
    let _ = write!(
        h,
        "<p class=\"muted\">Input <code>{}</code>{} · {} events · seed {} · version {}</p></header>",
        escape(&run.input),
        if run.input_sha256.is_empty() {
            String::new()
        } else {
            format!(" (sha256 <code>{}</code>)", escape(&run.input_sha256))
        },
        run.events,
        run.seed,
        escape(&run.version)
    );
    let flagged = |f: Flag| d.accounts.iter().filter(|v| v.flag == Some(f)).count();
    let hydra_members: usize = hydras.iter().map(|c| c.size).sum();
    let skipped: u64 = run.skipped_rows.values().sum();
    h.push_str("<h2>Summary</h2><div class=\"cards\">");
    let cards = [
        ("accounts", d.accounts.len().to_string()),
        ("communities", d.clusters.len().to_string()),
        ("hydra clusters", hydras.len().to_string()),
        ("accounts in hydra clusters", hydra_members.to_string()),
        ("flagged hydra", flagged(Flag::Hydra).to_string()),
        ("flagged replacement", d.replacements.len().to_string()),
        ("rows skipped", skipped.to_string()),
    ];
    for (label, value) in cards {
        let _ = write!(h, "<div class=\"card\"><b>{value}</b>{label}</div>");
    }
    h.push_str("</div>");
    if skipped > 0 {
        h.push_str("<p>Skipped rows by reason: ");
        let parts: Vec<String> =
            run.skipped_rows.iter().map(|(k, v)| format!("{} {v}", escape(k))).collect();
        h.push_str(&parts.join(", "));
        h.push_str("</p>");
    }
    let config = serde_json::to_string_pretty(&run.config).unwrap_or_default();
    let _ = write!(
        h,
        "<details><summary>Configuration in force</summary><pre class=\"mono\">{}</pre></details>",
        escape(&config)
    );
}

fn ranking(h: &mut String, hydras: &[&ClusterReport]) {
    h.push_str("<h2>Hydra clusters, ranked by score</h2>");
    if hydras.is_empty() {
        h.push_str("<p>No community was judged a hydra.</p>");
        return;
    }
    h.push_str(
        "<table><tr><th class=\"num\">#</th><th>cluster</th><th>score</th><th class=\"num\">size</th>\
         <th class=\"num\">hydra</th><th class=\"num\">replacement</th><th class=\"num\">none</th>\
         <th class=\"num\">banned</th><th>signups</th></tr>",
    );
    for (i, c) in hydras.iter().enumerate().take(RANKED_ROWS) {
        let name = if i < DETAILED_CLUSTERS {
            format!("<a href=\"#cluster-{}\">{}</a>", i + 1, escape(c.id.as_str()))
        } else {
            escape(c.id.as_str()).into_owned()
        };
        let _ = write!(h, "<tr><td class=\"num\">{}</td><td class=\"mono\">{name}</td><td>", i + 1);
        svg::bar(h, c.score, svg::COLOR_HYDRA);
        let _ = write!(
            h,
            "{:.3}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            c.score,
            c.size,
            c.members.hydra,
            c.members.replacement,
            c.members.none,
            c.lifecycle.bans,
            span(c.lifecycle.first_signup, c.lifecycle.last_signup)
        );
    }
    h.push_str("</table>");
    if hydras.len() > RANKED_ROWS {
        let _ = write!(
            h,
            "<p class=\"muted\">and {} more in clusters.json</p>",
            hydras.len() - RANKED_ROWS
        );
    }
    h.push('\n');
}

fn span(first: Option<i64>, last: Option<i64>) -> String {
    match (first, last) {
        (Some(a), Some(b)) if svg::date(a) == svg::date(b) => svg::date(a),
        (Some(a), Some(b)) => format!("{} – {}", svg::date(a), svg::date(b)),
        (Some(a), None) | (None, Some(a)) => svg::date(a),
        (None, None) => String::new(),
    }
}

fn detail(h: &mut String, rank: usize, c: &ClusterReport, lookup: &Lookup<'_>) {
    let _ = write!(
        h,
        "<article id=\"cluster-{rank}\"><h3>#{rank} <span class=\"mono\">{}</span> · score {:.3} · \
         {} accounts</h3><p><span class=\"pill hydra\">{} hydra</span> \
         <span class=\"pill replacement\">{} replacement</span> <span class=\"pill none\">{} none</span></p>",
        escape(c.id.as_str()),
        c.score,
        c.size,
        c.members.hydra,
        c.members.replacement,
        c.members.none
    );
    h.push_str("<div class=\"cols\"><div><h4>Signals</h4>");
    if c.signals.is_empty() {
        h.push_str("<p class=\"muted\">No signals recorded.</p>");
    } else {
        h.push_str("<table><tr><th>signal</th><th>value</th><th class=\"num\">weight</th></tr>");
        for s in &c.signals {
            let _ = write!(
                h,
                "<tr><td><b>{}</b><br><span class=\"muted\">{}</span></td><td>",
                escape(&s.name),
                escape(&s.explain)
            );
            svg::bar(h, s.value, svg::COLOR_SIGNUP);
            let _ = write!(h, "{:.2}</td><td class=\"num\">{:.2}</td></tr>", s.value, s.weight);
        }
        h.push_str("</table>");
    }
    h.push_str("</div><div><h4>Linkage</h4>");
    picture(h, c, lookup);
    h.push_str("</div></div>");

    let l = &c.lifecycle;
    h.push_str("<h4>Lifecycle</h4>");
    svg::lifecycle_chart(h, l.first_signup, &l.signups_per_day, &l.bans_per_day);
    h.push_str("<dl class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        let _ = write!(h, "<dt>{k}</dt><dd>{v}</dd>");
    };
    if let Some(t) = l.first_signup {
        fact("first signup", svg::date_time(t));
    }
    if let Some(t) = l.last_signup {
        fact("last signup", svg::date_time(t));
    }
    fact("members ever banned", l.bans.to_string());
    fact("signed up after the first ban", l.signups_after_first_ban.to_string());
    fact("replacements per banned member", format!("{:.2}", l.replacement_rate));
    if let Some(s) = l.median_ban_to_replacement_secs {
        fact("median ban → next signup", duration(s));
    }
    fact("distinct IPs", l.ip_pool.to_string());
    fact("distinct payment methods", l.payment_pool.to_string());
    h.push_str("</dl>");

    h.push_str("<h4>Most shared indicators</h4>");
    if c.evidence.top_indicators.is_empty() {
        h.push_str("<p class=\"muted\">None recorded.</p>");
    } else {
        h.push_str(
            "<table><tr><th>kind</th><th>value</th><th class=\"num\">members on it</th></tr>",
        );
        for i in &c.evidence.top_indicators {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"num\">{} of {}</td></tr>",
                escape(i.kind.as_str()),
                escape(&i.value),
                i.accounts,
                c.size
            );
        }
        h.push_str("</table>");
    }
    let banned = &c.evidence.banned_members;
    let _ = write!(h, "<h4>Banned members ({})</h4>", banned.len());
    if banned.is_empty() {
        h.push_str("<p class=\"muted\">None: this cluster was found from structure and behaviour alone.</p>");
    } else {
        names(h, banned);
    }
    h.push_str("</article>\n");
}

fn names(h: &mut String, names: &[String]) {
    h.push_str("<p class=\"mono\">");
    let shown: Vec<String> =
        names.iter().take(NAMES_LISTED).map(|n| escape(n).into_owned()).collect();
    h.push_str(&shown.join(", "));
    if names.len() > NAMES_LISTED {
        let _ = write!(h, " <span class=\"muted\">and {} more</span>", names.len() - NAMES_LISTED);
    }
    h.push_str("</p>");
}

fn duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let sign = if secs < 0 { "-" } else { "" };
    if s < 120 {
        format!("{sign}{s} s")
    } else if s < 7200 {
        format!("{sign}{:.1} min", s as f64 / 60.0)
    } else if s < 172_800 {
        format!("{sign}{:.1} h", s as f64 / 3600.0)
    } else {
        format!("{sign}{:.1} days", s as f64 / 86_400.0)
    }
}

fn picture(h: &mut String, c: &ClusterReport, lookup: &Lookup<'_>) {
    let members = &c.member_ids;
    if members.is_empty() {
        h.push_str("<p class=\"muted\">Member list not available.</p>");
        return;
    }
    let banned =
        |m: &str| c.evidence.banned_members.binary_search_by(|b| b.as_str().cmp(m)).is_ok();
    let node = |m: &str| {
        let color = match lookup.flag(m) {
            Some(Flag::Replacement) => svg::COLOR_REPLACEMENT,
            Some(Flag::Hydra) => svg::COLOR_HYDRA,
            _ => svg::COLOR_NONE,
        };
        (color, banned(m))
    };
    let valid = |&&(a, b, w): &&(u32, u32, f32)| {
        (a as usize) < members.len() && (b as usize) < members.len() && a != b && w.is_finite()
    };
    let edges: Vec<(u32, u32, f32)> = c.sample_edges.iter().filter(valid).copied().collect();
    let drawn = svg::sample_nodes(members.len(), &edges, svg::MAX_NODES);
    let nodes: Vec<Node<'_>> = drawn
        .iter()
        .map(|&i| {
            let m = members[i as usize].as_str();
            let (color, banned) = node(m);
            Node { label: m, color, banned }
        })
        .collect();
    if edges.is_empty() {
        let hubs: Vec<Hub> = c
            .evidence
            .top_indicators
            .iter()
            .take(8)
            .map(|i| Hub {
                kind: i.kind.as_str().to_owned(),
                label: format!("{}: {}", i.kind.as_str(), i.value),
                accounts: i.accounts,
            })
            .collect();
        svg::bipartite(h, PICTURE, &nodes, &hubs, c.size);
        let _ = write!(
            h,
            "<p class=\"muted\">No linkage sample: {} of {} members on a ring, the most shared \
             indicators (squares, with member counts) inside; spokes only from indicators every \
             member shares.</p>",
            nodes.len(),
            c.size
        );
    } else {
        // Re-index the kept edges onto the drawn nodes.
        let mut slot = vec![u32::MAX; members.len()];
        for (k, &i) in drawn.iter().enumerate() {
            slot[i as usize] = k as u32;
        }
        let kept: Vec<(u32, u32, f32)> = edges
            .iter()
            .filter_map(|&(a, b, w)| {
                let (a, b) = (slot[a as usize], slot[b as usize]);
                (a != u32::MAX && b != u32::MAX).then_some((a, b, w))
            })
            .collect();
        svg::linkage(h, PICTURE, &nodes, &kept);
        let _ = write!(
            h,
            "<p class=\"muted\">{} of {} members{}, {} sampled links; thicker lines are stronger \
             links.</p>",
            nodes.len(),
            c.size,
            if nodes.len() < members.len() { " (the best connected)" } else { "" },
            kept.len()
        );
    }
    let _ = write!(
        h,
        "<p class=\"legend muted\"><span><i style=\"background:{}\"></i>hydra</span>\
         <span><i style=\"background:{}\"></i>replacement</span><span><i style=\"background:{}\"></i>none</span>\
         <span>dark ring: banned</span></p>",
        svg::COLOR_HYDRA,
        svg::COLOR_REPLACEMENT,
        svg::COLOR_NONE
    );
}

fn near_misses(h: &mut String, d: &Detection) {
    let mut rest: Vec<&ClusterReport> = d.clusters.iter().filter(|c| !c.hydra).collect();
    if rest.is_empty() {
        return;
    }
    rest.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    let _ = write!(
        h,
        "<h2>Closest calls: communities not judged hydras</h2><p class=\"muted\">The {} highest \
         scoring of {} communities below the threshold.</p>",
        rest.len().min(NEAR_MISSES),
        rest.len()
    );
    h.push_str("<table><tr><th>cluster</th><th>score</th><th class=\"num\">size</th><th>strongest signals</th></tr>");
    for c in rest.iter().take(NEAR_MISSES) {
        let _ = write!(h, "<tr><td class=\"mono\">{}</td><td>", escape(c.id.as_str()));
        svg::bar(h, c.score, svg::COLOR_NONE);
        let mut signals: Vec<_> = c.signals.iter().filter(|s| s.value > 0.0).collect();
        signals.sort_by(|a, b| {
            (b.value * b.weight).total_cmp(&(a.value * a.weight)).then_with(|| a.name.cmp(&b.name))
        });
        let top: Vec<String> =
            signals.iter().take(3).map(|s| format!("{} {:.2}", escape(&s.name), s.value)).collect();
        let _ = write!(
            h,
            "{:.3}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            c.score,
            c.size,
            top.join(", ")
        );
    }
    h.push_str("</table>\n");
}

fn replacements(h: &mut String, d: &Detection) {
    let _ = write!(h, "<h2>Replacement accounts ({})</h2>", d.replacements.len());
    if d.replacements.is_empty() {
        h.push_str("<p>No account was flagged as a replacement.</p>");
        return;
    }
    h.push_str(
        "<p class=\"muted\">Accounts that appeared after a ban and took over banned accounts' \
         infrastructure.</p><table><tr><th>account</th><th>signup</th><th>cluster</th>\
         <th>linked banned accounts</th><th>evidence (shared with banned)</th></tr>",
    );
    for r in d.replacements.iter().take(REPLACEMENT_ROWS) {
        let cluster = r.cluster.as_ref().map_or_else(|| "—".into(), |c| escape(c.as_str()));
        let linked: Vec<String> =
            r.linked_banned.iter().take(5).map(|a| escape(a).into_owned()).collect();
        let more = r.linked_banned.len().saturating_sub(5);
        let evidence: Vec<String> = r
            .evidence
            .iter()
            .take(6)
            .map(|e| {
                format!(
                    "{}: <code>{}</code> ({})",
                    escape(e.kind.as_str()),
                    escape(&e.value),
                    e.shared_with
                )
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{cluster}</td><td class=\"mono\">{}{}</td><td>{}</td></tr>",
            escape(&r.account),
            svg::date_time(r.signup_ts),
            linked.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() },
            evidence.join("<br>")
        );
    }
    h.push_str("</table>");
    if d.replacements.len() > REPLACEMENT_ROWS {
        let _ = write!(
            h,
            "<p class=\"muted\">and {} more in clusters.json</p>",
            d.replacements.len() - REPLACEMENT_ROWS
        );
    }
    h.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::IndicatorKind;
    use crate::id::ClusterId;
    use crate::report::model::{
        AccountVerdict, ClusterEvidence, IndicatorCount, Lifecycle, MemberCounts, SignalReport,
    };

    fn detection(edges: bool) -> Detection {
        let mut d = Detection::default();
        let members: Vec<String> = (0..200).map(|i| format!("a-{i:03}")).collect();
        for m in &members {
            d.accounts.push(AccountVerdict {
                account: m.clone(),
                cluster: Some(ClusterId::new("c-<a-000>")),
                score: Some(0.9),
                flag: Some(Flag::Hydra),
            });
        }
        d.clusters.push(ClusterReport {
            id: ClusterId::new("c-<a-000>"),
            score: 0.9,
            hydra: true,
            size: members.len(),
            members: MemberCounts { none: 0, hydra: 200, replacement: 0 },
            signals: vec![SignalReport {
                name: "payment_pooling".into(),
                value: 0.8,
                weight: 0.2,
                explain: "cards <shared> by many".into(),
            }],
            evidence: ClusterEvidence {
                top_indicators: vec![IndicatorCount {
                    kind: IndicatorKind::Payment,
                    value: "card&1".into(),
                    accounts: 40,
                }],
                banned_members: vec!["a-001".into()],
            },
            lifecycle: Lifecycle {
                first_signup: Some(1_767_225_600),
                last_signup: Some(1_767_225_600 + 5 * 86_400),
                signups_per_day: vec![100, 0, 50, 0, 0, 50],
                bans_per_day: vec![0, 1, 0, 0, 0, 0],
                bans: 1,
                ..Lifecycle::default()
            },
            sample_edges: if edges { (1..200).map(|i| (i / 2, i, 1.0)).collect() } else { vec![] },
            cells: Vec::new(),
            member_ids: members,
        });
        d
    }

    #[test]
    fn page_is_self_contained_escaped_and_bounded() {
        for edges in [true, false] {
            let page = render(&detection(edges));
            assert!(!page.contains("http://") && !page.contains("https://"));
            assert!(!page.contains("<script"));
            assert!(page.contains("c-&lt;a-000&gt;"));
            assert!(page.contains("card&amp;1"));
            assert!(!page.contains("<shared>"));
            assert_eq!(page.matches("<circle").count(), svg::MAX_NODES);
            assert_eq!(page, render(&detection(edges)), "deterministic");
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(30), "30 s");
        assert_eq!(duration(600), "10.0 min");
        assert_eq!(duration(3 * 86_400), "3.0 days");
    }
}
