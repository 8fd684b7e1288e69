//! `report.html`: one self-contained page for a reviewer: the run, the hydra
//! clusters ranked with their signals, lifecycle, evidence and linkage, and
//! the replacements.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write;

use sha2::{Digest, Sha256};

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
/// Unflagged members of a network put in the search index; flagged ones
/// (hydra and replacement) are always all there.
const UNFLAGGED_INDEXED: usize = 100;
/// The page's script: sorting, filtering, search and the `#selftest` driver.
const SCRIPT: &str = include_str!("report.js");

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
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] button::after{content:' \\25B2'}th[aria-sort=descending] button::after{content:' \\25BC'}
.controls{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:8px 0}.controls input[type=number]{width:5em}
tr.hit>td{background:#fff3bf}article.hit,tr.hit{outline:2px solid #f0b400}:target{scroll-margin-top:12px}
#find-results{margin:4px 0}
";

/// Writes `report.html`: one self-contained page (inline CSS, SVG and
/// script, no external reference, a Content-Security-Policy that allows
/// only its own script) with the run summary, a search box, the hydra
/// clusters ranked by score in a table that sorts by any column and
/// filters by minimum score, members and text, a detailed section for each
/// of the top 20 (signals as bars, a signups-and-bans-per-day chart,
/// lifecycle figures, shared indicators, banned members and a picture of
/// the linkage), the closest communities not judged hydras, and the
/// replacements with their evidence, each linked to its cluster's section
/// or row. Times are ISO 8601 in UTC.
///
/// The search box finds an account or an indicator value and highlights and
/// jumps to the networks or replacements holding it; it reads a JSON index
/// embedded in the page that holds every flagged account, the first 100
/// unflagged members of each hydra network, each network's most shared
/// indicators and each replacement's evidence.
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
/// Time `O(a log a + c log c + r)` for `a` accounts, `c` clusters and `r`
/// replacements, plus `O(20 · 150² · 300)` for the pictures' layouts. The
/// page's size is bounded by the row caps except for the search index,
/// which holds each flagged account's name and each distinct indicator
/// value of the evidence once, plus a few bytes per replacement.
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
    let anchors = anchors(d, &hydras);
    let mut h = String::with_capacity(1 << 16);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        h,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &apos;none&apos;; \
         script-src &apos;sha256-{}&apos;; style-src &apos;unsafe-inline&apos;; \
         base-uri &apos;none&apos;; form-action &apos;none&apos;\">",
        base64(&Sha256::digest(SCRIPT.as_bytes()))
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str("<title>hydra-detect report</title><style>");
    h.push_str(STYLE);
    h.push_str("</style></head><body><main>\n");
    summary(&mut h, d, &hydras);
    search_box(&mut h);
    ranking(&mut h, &hydras);
    for (rank, cluster) in hydras.iter().enumerate().take(DETAILED_CLUSTERS) {
        detail(&mut h, rank + 1, cluster, &lookup);
    }
    near_misses(&mut h, d);
    replacements(&mut h, d, &anchors);
    let _ = write!(
        h,
        "<footer class=\"muted\"><p>Written by hydra-detect {} (schema {}). Indicator values \
         shown as <code>h:</code> tokens were redacted with a keyed hash. Every figure on this \
         page comes from the detection; <code>clusters.json</code> and <code>accounts.csv</code> \
         hold the full lists. All times are UTC.</p></footer>\n</main>\n",
        escape(&d.run.version),
        super::CLUSTERS_SCHEMA
    );
    h.push_str("<script type=\"application/json\" id=\"hydra-index\">");
    h.push_str(&search_index(d, &hydras, &anchors, &lookup));
    h.push_str("</script>\n<script>");
    h.push_str(SCRIPT);
    h.push_str("</script>\n</body></html>\n");
    h
}

/// The anchor of each cluster that has one on the page: `cluster-N` for a
/// detailed hydra, `rank-N` for a row of the ranking table only, `near-N`
/// for a closest call.
fn anchors<'a>(d: &'a Detection, hydras: &[&'a ClusterReport]) -> BTreeMap<&'a str, String> {
    let mut anchors = BTreeMap::new();
    for (i, c) in hydras.iter().enumerate().take(RANKED_ROWS) {
        let anchor = if i < DETAILED_CLUSTERS {
            format!("cluster-{}", i + 1)
        } else {
            format!("rank-{}", i + 1)
        };
        anchors.insert(c.id.as_str(), anchor);
    }
    for (i, c) in closest_calls(d).into_iter().enumerate() {
        anchors.insert(c.id.as_str(), format!("near-{}", i + 1));
    }
    anchors
}

/// The search index: a JSON object with `k`, the indicator kinds, `v`, every
/// indicator value listed once as `[kind index, value]` (sorted), `n`, one
/// entry per hydra network in rank order (`id`, `rank`, `href`: its anchor
/// or empty, `m`: its flagged members and its first [`UNFLAGGED_INDEXED`]
/// unflagged ones, `more`: the unflagged members left out, `i`: its most
/// shared indicators as indexes into `v`), `r`, one `[account, [indexes into
/// v]]` per replacement (its evidence), and `rows`, how many replacements
/// have a row (`replacement-N`). Values are listed once because replacements
/// share pooled ones. Every `<`, `>` and `&` is written as a JSON `\u`
/// escape, so no value can close the script element holding it.
fn search_index(
    d: &Detection,
    hydras: &[&ClusterReport],
    anchors: &BTreeMap<&str, String>,
    lookup: &Lookup<'_>,
) -> String {
    let href = |id: &str| anchors.get(id).cloned().unwrap_or_default();
    let mut slots: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for c in hydras {
        for i in &c.evidence.top_indicators {
            slots.insert((i.kind.as_str(), i.value.as_str()), 0);
        }
    }
    for r in &d.replacements {
        for e in &r.evidence {
            slots.insert((e.kind.as_str(), e.value.as_str()), 0);
        }
    }
    let kinds: Vec<&str> = slots.keys().map(|k| k.0).collect::<BTreeSet<_>>().into_iter().collect();
    let mut values = Vec::with_capacity(slots.len());
    for (n, ((kind, value), slot)) in slots.iter_mut().enumerate() {
        *slot = n;
        values.push((kinds.binary_search(kind).unwrap_or(0), *value));
    }
    let slot = |kind: &str, value: &str| slots.get(&(kind, value)).copied().unwrap_or(0);
    let networks: Vec<serde_json::Value> = hydras
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut members = Vec::new();
            let mut unflagged = 0usize;
            for m in &c.member_ids {
                if lookup.flag(m).is_some() {
                    members.push(m.as_str());
                } else {
                    unflagged += 1;
                    if unflagged <= UNFLAGGED_INDEXED {
                        members.push(m.as_str());
                    }
                }
            }
            let indicators: Vec<usize> = c
                .evidence
                .top_indicators
                .iter()
                .map(|i| slot(i.kind.as_str(), i.value.as_str()))
                .collect();
            serde_json::json!({
                "id": c.id.as_str(),
                "rank": i + 1,
                "href": href(c.id.as_str()),
                "m": members,
                "more": unflagged.saturating_sub(UNFLAGGED_INDEXED),
                "i": indicators,
            })
        })
        .collect();
    let replacements: Vec<(&str, Vec<usize>)> = d
        .replacements
        .iter()
        .map(|r| {
            let evidence = r.evidence.iter().map(|e| slot(e.kind.as_str(), e.value.as_str()));
            (r.account.as_str(), evidence.collect())
        })
        .collect();
    let index = serde_json::json!({
        "k": kinds,
        "v": values,
        "n": networks,
        "r": replacements,
        "rows": REPLACEMENT_ROWS,
    })
    .to_string();
    let mut out = String::with_capacity(index.len() + 64);
    for c in index.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648), for the script's CSP hash.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * k) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The search box; its results are filled in by the script.
fn search_box(h: &mut String) {
    h.push_str(
        "<h2>Find an account or indicator</h2><form id=\"find\" role=\"search\" class=\"controls\">\
         <label for=\"find-q\">Account or indicator value</label>\
         <input type=\"search\" id=\"find-q\" name=\"q\" size=\"40\" autocomplete=\"off\">\
         <button type=\"submit\">Find</button></form>\
         <p id=\"find-status\" class=\"muted\" role=\"status\" aria-live=\"polite\">Finds every \
         flagged account, the first unflagged members of each network, and every indicator listed \
         as evidence; the exact value first, otherwise any containing the text.</p>\
         <ul id=\"find-results\"></ul>\n",
    );
}

fn summary(h: &mut String, d: &Detection, hydras: &[&ClusterReport]) {
    let run = &d.run;
    h.push_str("<header><h1>hydra-detect report</h1>");
    let _ = write!(
        h,
        "<p class=\"muted\">Input <code>{}</code>{} · {} events · seed {} · version {}</p>\
         <p class=\"muted\">All times on this page are UTC, written in ISO 8601 \
         (<code>2026-01-31T23:59:00Z</code>); days are UTC days.</p></header>",
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
        "<div class=\"controls\" id=\"filters\"><label>min score \
         <input type=\"number\" id=\"f-min\" min=\"0\" max=\"1\" step=\"0.01\" value=\"0\"></label>\
         <label>members <select id=\"f-flag\"><option value=\"\">any</option>\
         <option value=\"replacement\">with replacements</option>\
         <option value=\"banned\">with banned members</option>\
         <option value=\"unbanned\">no banned member</option></select></label>\
         <label>text <input type=\"search\" id=\"f-text\" placeholder=\"id, account or indicator\"></label>\
         <span id=\"f-count\" class=\"muted\" role=\"status\"></span></div>\
         <p class=\"muted\">Click a column's header to sort by it, again to reverse.</p>",
    );
    h.push_str("<table id=\"networks\"><thead><tr>");
    let columns = [
        ("#", true),
        ("cluster", false),
        ("score", true),
        ("size", true),
        ("hydra", true),
        ("replacement", true),
        ("none", true),
        ("banned", true),
        ("signups (UTC days)", true),
    ];
    for (i, (name, numeric)) in columns.into_iter().enumerate() {
        let _ = write!(
            h,
            "<th{}{}><button type=\"button\">{name}</button></th>",
            if numeric { " class=\"num\" data-type=\"num\"" } else { " data-type=\"text\"" },
            if i == 0 { " aria-sort=\"ascending\"" } else { "" }
        );
    }
    h.push_str("</tr></thead><tbody>");
    for (i, c) in hydras.iter().enumerate().take(RANKED_ROWS) {
        let rank = i + 1;
        let id = escape(c.id.as_str());
        let name = if i < DETAILED_CLUSTERS {
            format!("<a href=\"#cluster-{rank}\">{id}</a>")
        } else {
            id.clone().into_owned()
        };
        let _ = write!(
            h,
            "<tr id=\"rank-{rank}\" data-id=\"{id}\" data-rank=\"{rank}\" data-score=\"{}\" \
             data-replacement=\"{}\" data-banned=\"{}\"><td class=\"num\" data-v=\"{rank}\">{rank}</td>\
             <td class=\"mono\">{name}</td><td class=\"num\" data-v=\"{}\">",
            c.score, c.members.replacement, c.lifecycle.bans, c.score
        );
        svg::bar(h, c.score, svg::COLOR_HYDRA);
        let number = |v: usize| format!("<td class=\"num\" data-v=\"{v}\">{v}</td>");
        let _ = write!(
            h,
            "{:.3}</td>{}{}{}{}{}<td class=\"num\" data-v=\"{}\">{}</td></tr>",
            c.score,
            number(c.size),
            number(c.members.hydra),
            number(c.members.replacement),
            number(c.members.none),
            number(c.lifecycle.bans),
            c.lifecycle.first_signup.map_or_else(String::new, |t| t.to_string()),
            span(c.lifecycle.first_signup, c.lifecycle.last_signup)
        );
    }
    h.push_str("</tbody></table>");
    if hydras.len() > RANKED_ROWS {
        let _ = write!(
            h,
            "<p class=\"muted\">and {} more in clusters.json (the search finds their flagged \
             accounts)</p>",
            hydras.len() - RANKED_ROWS
        );
    }
    h.push('\n');
}

/// The UTC days of the first and last signup.
fn span(first: Option<i64>, last: Option<i64>) -> String {
    match (first, last) {
        (Some(a), Some(b)) if svg::date(a) == svg::date(b) => svg::date(a),
        (Some(a), Some(b)) => format!("{} – {}", svg::date(a), svg::date(b)),
        (Some(a), None) | (None, Some(a)) => svg::date(a),
        (None, None) => String::new(),
    }
}

/// A moment as ISO 8601 in UTC (`2026-01-01T01:02:00Z`) in a `<time>`.
fn time(ts: i64) -> String {
    let iso = svg::date_time(ts);
    format!("<time datetime=\"{iso}\">{iso}</time>")
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
        fact("first signup", time(t));
    }
    if let Some(t) = l.last_signup {
        fact("last signup", time(t));
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

/// The [`NEAR_MISSES`] highest scoring communities not judged hydras,
/// highest first, ties by id.
fn closest_calls(d: &Detection) -> Vec<&ClusterReport> {
    let mut rest: Vec<&ClusterReport> = d.clusters.iter().filter(|c| !c.hydra).collect();
    rest.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    rest.truncate(NEAR_MISSES);
    rest
}

fn near_misses(h: &mut String, d: &Detection) {
    let rest = closest_calls(d);
    if rest.is_empty() {
        return;
    }
    let below = d.clusters.iter().filter(|c| !c.hydra).count();
    let _ = write!(
        h,
        "<h2>Closest calls: communities not judged hydras</h2><p class=\"muted\">The {} highest \
         scoring of {} communities below the threshold.</p>",
        rest.len(),
        below
    );
    h.push_str("<table><tr><th>cluster</th><th>score</th><th class=\"num\">size</th><th>strongest signals</th></tr>");
    for (i, c) in rest.iter().enumerate() {
        let _ = write!(
            h,
            "<tr id=\"near-{}\"><td class=\"mono\">{}</td><td>",
            i + 1,
            escape(c.id.as_str())
        );
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

fn replacements(h: &mut String, d: &Detection, anchors: &BTreeMap<&str, String>) {
    let _ = write!(h, "<h2>Replacement accounts ({})</h2>", d.replacements.len());
    if d.replacements.is_empty() {
        h.push_str("<p>No account was flagged as a replacement.</p>");
        return;
    }
    h.push_str(
        "<p class=\"muted\">Accounts that appeared after a ban and took over banned accounts' \
         infrastructure. A cluster links to its section or row on this page when it has one.</p>\
         <table><tr><th>account</th><th>signup (UTC)</th><th>cluster</th>\
         <th>linked banned accounts</th><th>evidence (shared with banned)</th></tr>",
    );
    for (j, r) in d.replacements.iter().enumerate().take(REPLACEMENT_ROWS) {
        let cluster = match &r.cluster {
            None => "—".to_owned(),
            Some(c) => match anchors.get(c.as_str()) {
                Some(anchor) => format!("<a href=\"#{anchor}\">{}</a>", escape(c.as_str())),
                None => escape(c.as_str()).into_owned(),
            },
        };
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
            "<tr id=\"replacement-{}\"><td class=\"mono\">{}</td><td>{}</td>\
             <td class=\"mono\">{cluster}</td><td class=\"mono\">{}{}</td><td>{}</td></tr>",
            j + 1,
            escape(&r.account),
            time(r.signup_ts),
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
            assert_eq!(page.matches("<script").count(), 2, "the index and the script");
            assert!(!page.contains("src="));
            assert!(page.contains("c-&lt;a-000&gt;"));
            assert!(page.contains("card&amp;1"));
            assert!(!page.contains("<shared>"));
            assert_eq!(page.matches("<circle").count(), svg::MAX_NODES);
            assert_eq!(page, render(&detection(edges)), "deterministic");
        }
    }

    #[test]
    fn index_holds_every_flagged_member_and_caps_the_unflagged() {
        let mut d = detection(true);
        // Members 0..150 unflagged, 150..200 flagged.
        for v in d.accounts.iter_mut().take(150) {
            v.flag = None;
        }
        let page = render(&d);
        let start = page.find("id=\"hydra-index\">").unwrap() + "id=\"hydra-index\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let index: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        let net = &index["n"][0];
        let members: Vec<&str> =
            net["m"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        assert_eq!(members.len(), UNFLAGGED_INDEXED + 50);
        assert!((150..200).all(|i| members.contains(&format!("a-{i:03}").as_str())));
        assert_eq!(net["more"], 150 - UNFLAGGED_INDEXED);
        assert_eq!(net["href"], "cluster-1");
        let value = &index["v"][net["i"][0].as_u64().unwrap() as usize];
        assert_eq!(value[1], "card&1");
        assert_eq!(index["k"][value[0].as_u64().unwrap() as usize], "payment");
        // `<`, `>` and `&` only as JSON escapes inside the script element.
        assert!(!page[start..end].contains(['<', '>', '&']));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, coded) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(30), "30 s");
        assert_eq!(duration(600), "10.0 min");
        assert_eq!(duration(3 * 86_400), "3.0 days");
    }
}
