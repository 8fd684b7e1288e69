//! The report writers against CONTRACT.md: `accounts.csv`, `clusters.json`,
//! `report.html`, `clusters.graphml`, and `--redact` across all of them.

use hydra_detect::{
    AccountVerdict, ClusterEvidence, ClusterId, ClusterReport, Detection, Evidence, Flag,
    GraphmlConfig, IndicatorCount, IndicatorKind, Lifecycle, MemberCounts, ReplacementReport,
    RunInfo, SignalReport, redact, write_accounts_csv, write_clusters_json, write_graphml,
    write_graphml_with, write_html,
};

/// Raw indicator values used in the fixture; none may survive redaction.
const RAW_VALUES: [&str; 5] =
    ["card-4242-4242", "203.0.113.77", "tpl-9f8e7d", "mallory@example.org", "203.0.113.0/24"];

fn verdict(
    account: &str,
    cluster: Option<&str>,
    score: Option<f64>,
    flag: Option<Flag>,
) -> AccountVerdict {
    AccountVerdict { account: account.into(), cluster: cluster.map(ClusterId::new), score, flag }
}

fn cluster(id: &str, score: f64, hydra: bool, members: &[&str]) -> ClusterReport {
    let n = members.len() as u32;
    ClusterReport {
        id: ClusterId::new(id),
        score,
        hydra,
        size: members.len(),
        members: MemberCounts {
            none: if hydra { 0 } else { members.len() },
            hydra: if hydra { members.len() } else { 0 },
            replacement: 0,
        },
        signals: vec![
            SignalReport {
                name: "payment_pooling".into(),
                value: 0.8,
                weight: 0.25,
                explain: "4 members pay with card-4242-4242".into(),
            },
            SignalReport {
                name: "signup_burst".into(),
                value: 0.6,
                weight: 0.15,
                explain: "most members signed up within one day".into(),
            },
        ],
        evidence: ClusterEvidence {
            top_indicators: vec![
                IndicatorCount {
                    kind: IndicatorKind::Payment,
                    value: "card-4242-4242".into(),
                    accounts: 4,
                },
                IndicatorCount {
                    kind: IndicatorKind::Ip,
                    value: "203.0.113.77".into(),
                    accounts: 3,
                },
                IndicatorCount {
                    kind: IndicatorKind::IpPrefix,
                    value: "203.0.113.0/24".into(),
                    accounts: 4,
                },
                IndicatorCount {
                    kind: IndicatorKind::Template,
                    value: "tpl-9f8e7d".into(),
                    accounts: 2,
                },
            ],
            banned_members: vec![members[0].to_owned()],
        },
        lifecycle: Lifecycle {
            first_signup: Some(1_767_225_600),
            last_signup: Some(1_767_225_600 + 2 * 86_400),
            signups_per_day: vec![3, 0, 1],
            bans_per_day: vec![0, 1, 0],
            bans: 1,
            signups_after_first_ban: 1,
            replacement_rate: 1.0,
            median_ban_to_replacement_secs: Some(3_600),
            ip_pool: 2,
            payment_pool: 1,
        },
        cells: Vec::new(),
        member_ids: members.iter().map(|m| (*m).to_owned()).collect(),
        sample_edges: (1..n).map(|i| (0, i, 1.0 + i as f32)).collect(),
    }
}

/// Two hydras (the weaker listed first) and one legitimate community; `a-4`
/// is both a hydra member and a replacement; `solo` is in no community;
/// `r-x` is a replacement outside any community.
fn fixture() -> Detection {
    let mut d = Detection {
        run: RunInfo {
            version: "0.1.0".into(),
            input: "events.csv".into(),
            input_sha256: "00".repeat(32),
            config: serde_json::json!({"graph": {"cap": 1000}}),
            seed: 42,
            events: 123,
            skipped_rows: [("timestamp".to_owned(), 2u64)].into_iter().collect(),
            ..RunInfo::default()
        },
        ..Detection::default()
    };
    d.accounts = vec![
        verdict("a-1", Some("c-a-1"), Some(0.91234), Some(Flag::Hydra)),
        verdict("a-2", Some("c-a-1"), Some(0.91234), Some(Flag::Hydra)),
        verdict("a-3", Some("c-a-1"), Some(0.91234), Some(Flag::Hydra)),
        verdict("a-4", Some("c-a-1"), Some(0.91234), Some(Flag::Hydra)),
        verdict("b-1", Some("c-b-1"), Some(0.7), Some(Flag::Hydra)),
        verdict("b-2", Some("c-b-1"), Some(0.7), Some(Flag::Hydra)),
        verdict("l-1", Some("c-l-1"), Some(0.05), None),
        verdict("l-2", Some("c-l-1"), Some(0.05), None),
        verdict("r-x", None, None, Some(Flag::Replacement)),
        verdict("solo", None, None, None),
    ];
    d.clusters = vec![
        cluster("c-b-1", 0.7, true, &["b-1", "b-2"]),
        cluster("c-l-1", 0.05, false, &["l-1", "l-2"]),
        cluster("c-a-1", 0.91234, true, &["a-1", "a-2", "a-3", "a-4"]),
    ];
    d.replacements = vec![
        ReplacementReport {
            account: "a-4".into(),
            signup_ts: 1_767_225_600 + 2 * 86_400,
            cluster: Some(ClusterId::new("c-a-1")),
            linked_banned: vec!["a-1".into()],
            evidence: vec![
                Evidence {
                    kind: IndicatorKind::Payment,
                    value: "card-4242-4242".into(),
                    shared_with: 1,
                },
                Evidence {
                    kind: IndicatorKind::Email,
                    value: "mallory@example.org".into(),
                    shared_with: 1,
                },
            ],
        },
        ReplacementReport {
            account: "r-x".into(),
            signup_ts: 1_767_225_600 + 3 * 86_400,
            cluster: None,
            linked_banned: vec!["a-1".into()],
            evidence: vec![Evidence {
                kind: IndicatorKind::Ip,
                value: "203.0.113.77".into(),
                shared_with: 1,
            }],
        },
    ];
    d
}

fn all_outputs(d: &Detection) -> [(&'static str, Vec<u8>); 4] {
    let mut csv = Vec::new();
    write_accounts_csv(d, &mut csv).unwrap();
    let mut json = Vec::new();
    write_clusters_json(d, &mut json).unwrap();
    let mut html = Vec::new();
    write_html(d, &mut html).unwrap();
    let mut graphml = Vec::new();
    write_graphml(d, &mut graphml).unwrap();
    [
        ("accounts.csv", csv),
        ("clusters.json", json),
        ("report.html", html),
        ("clusters.graphml", graphml),
    ]
}

#[test]
fn accounts_csv_has_the_contract_header_and_one_row_per_account() {
    let mut out = Vec::new();
    write_accounts_csv(&fixture(), &mut out).unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    assert_eq!(reader.headers().unwrap(), vec!["account", "cluster", "score", "flag"]);
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    let accounts: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(accounts, ["a-1", "a-2", "a-3", "a-4", "b-1", "b-2", "l-1", "l-2", "r-x", "solo"]);
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    assert_eq!(row("a-1"), ["a-1", "c-a-1", "0.9123", "hydra"]);
    // Replacement wins over hydra.
    assert_eq!(row("a-4"), ["a-4", "c-a-1", "0.9123", "replacement"]);
    // `none` for no flag; empty cluster and score outside any community.
    assert_eq!(row("l-1"), ["l-1", "c-l-1", "0.0500", "none"]);
    assert_eq!(row("solo"), ["solo", "", "", "none"]);
    assert_eq!(row("r-x"), ["r-x", "", "", "replacement"]);
}

#[test]
fn clusters_json_lists_only_hydras_ranked_with_the_contract_fields() {
    let mut out = Vec::new();
    write_clusters_json(&fixture(), &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], "hydra-detect/clusters/1");
    for key in ["version", "input", "input_sha256", "config", "seed", "events", "skipped_rows"] {
        assert!(v["run"].get(key).is_some(), "run.{key} missing");
    }
    assert_eq!(v["run"]["skipped_rows"]["timestamp"], 2);
    let clusters = v["clusters"].as_array().unwrap();
    let ids: Vec<&str> = clusters.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["c-a-1", "c-b-1"], "only hydras, highest score first");
    let c = &clusters[0];
    for key in ["id", "score", "size", "members", "signals", "evidence", "lifecycle"] {
        assert!(c.get(key).is_some(), "clusters[0].{key} missing");
    }
    assert_eq!(c["size"], 4);
    for key in ["none", "hydra", "replacement"] {
        assert!(c["members"][key].is_u64(), "members.{key}");
    }
    for key in ["name", "value", "weight", "explain"] {
        assert!(c["signals"][0].get(key).is_some(), "signals[0].{key}");
    }
    let top = &c["evidence"]["top_indicators"][0];
    assert_eq!(
        (top["kind"].as_str(), top["value"].as_str(), top["accounts"].as_u64()),
        (Some("payment"), Some("card-4242-4242"), Some(4))
    );
    assert_eq!(c["evidence"]["banned_members"], serde_json::json!(["a-1"]));
    assert!(c.get("member_ids").is_none() && c.get("sample_edges").is_none());

    let reps = v["replacements"].as_array().unwrap();
    assert_eq!(reps.len(), 2);
    for key in ["account", "signup_ts", "cluster", "linked_banned", "evidence"] {
        assert!(reps[0].get(key).is_some(), "replacements[0].{key}");
    }
    assert_eq!(reps[0]["cluster"], "c-a-1");
    assert!(reps[1]["cluster"].is_null(), "cluster is null outside any community");
    let e = &reps[0]["evidence"][0];
    assert_eq!((e["kind"].as_str(), e["shared_with"].as_u64()), (Some("payment"), Some(1)));
}

#[test]
fn redaction_leaves_no_raw_indicator_value_in_any_output() {
    let original = fixture();
    // The fixture does carry the raw values before redaction.
    let plain = all_outputs(&original);
    for value in RAW_VALUES {
        assert!(plain.iter().any(|(_, b)| contains(b, value.as_bytes())), "{value} not in fixture");
    }
    let shared = redact(&original, b"test key");
    for (name, bytes) in all_outputs(&shared) {
        for value in RAW_VALUES {
            assert!(!contains(&bytes, value.as_bytes()), "{value} left in {name}");
        }
    }
    let mut json = Vec::new();
    write_clusters_json(&shared, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let token = v["clusters"][0]["evidence"]["top_indicators"][0]["value"].as_str().unwrap();
    assert!(token.starts_with("h:") && token.len() == 18, "{token}");
    assert_eq!(v["replacements"][0]["evidence"][0]["value"], token, "same value, same token");
    assert_eq!(v["replacements"][0]["account"], "a-4", "account ids are kept");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn graphml_is_well_formed_with_nodes_and_weighted_edges() {
    let d = fixture();
    let mut out = Vec::new();
    write_graphml(&d, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    check_xml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    // By default the members of the two hydra networks are nodes.
    assert_eq!(text.matches("<node ").count(), 6);
    // 3 + 1 sampled edges over the two hydra networks.
    assert_eq!(text.matches("<edge ").count(), 4);
    assert!(text.contains("<data key=\"flag\">replacement</data>"));
    assert!(text.contains("attr.name=\"weight\" attr.type=\"double\""));
    assert!(text.contains("<data key=\"label\">a-1</data>"), "{text}");
    // Every account in a community; `solo` and `r-x` are in none.
    let mut out = Vec::new();
    write_graphml_with(&d, &GraphmlConfig::new().all_accounts(true), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    check_xml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(text.matches("<node ").count(), 8);
    // 3 + 1 + 1 sampled edges over the three communities.
    assert_eq!(text.matches("<edge ").count(), 5);
}

#[test]
fn graphml_escapes_hostile_account_ids() {
    let mut d = Detection::default();
    for id in ["<x>&\"'", "]]>\u{7}", "ok"] {
        d.accounts.push(verdict(id, Some("c-<x>"), Some(0.5), Some(Flag::Hydra)));
    }
    d.accounts.sort_by(|a, b| a.account.cmp(&b.account));
    let mut c = cluster("c-<x>", 0.5, true, &["<x>&\"'", "]]>\u{7}", "ok"]);
    c.member_ids.sort();
    d.clusters.push(c);
    let mut out = Vec::new();
    write_graphml(&d, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    check_xml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
}

/// A small well-formedness check: balanced, properly nested tags, quoted
/// attributes, known entities only, no raw `<` or `&` in text, no control
/// characters XML 1.0 forbids.
pub(crate) fn check_xml(text: &str) -> Result<(), String> {
    let body = text
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .ok_or("no XML declaration")?;
    if let Some(c) = body.chars().find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(format!("forbidden character {:?}", c));
    }
    let check_entities = |s: &str| -> Result<(), String> {
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            let tail = &rest[i..];
            let ok =
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| tail.starts_with(e));
            if !ok {
                return Err(format!("bad entity at {:?}", &tail[..tail.len().min(10)]));
            }
            rest = &tail[1..];
        }
        Ok(())
    };
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        let text_part = &rest[..open];
        if text_part.contains('>') {
            return Err(format!("raw '>' in text near {text_part:?}"));
        }
        check_entities(text_part)?;
        let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop().ok_or_else(|| format!("</{name}> without an open tag"))?;
            if top != name {
                return Err(format!("</{name}> closes <{top}>"));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return Err(format!("bad tag name {name:?}"));
        }
        // Attributes: name="value" pairs.
        let mut attrs = tag[name_end..].trim();
        while !attrs.is_empty() {
            let eq = attrs.find("=\"").ok_or_else(|| format!("bad attributes in <{tag}>"))?;
            let end = attrs[eq + 2..].find('"').ok_or("unterminated attribute")? + eq + 2;
            let value = &attrs[eq + 2..end];
            if value.contains('<') {
                return Err(format!("'<' in attribute of <{name}>"));
            }
            check_entities(value)?;
            attrs = attrs[end + 1..].trim_start();
        }
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    if !rest.trim().is_empty() || !stack.is_empty() || roots != 1 {
        return Err(format!("unbalanced document: open {stack:?}, roots {roots}"));
    }
    Ok(())
}

#[test]
fn the_xml_checker_rejects_broken_documents() {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    assert!(check_xml(&format!("{head}<a><b x=\"1\"/>t&amp;</a>")).is_ok());
    assert!(check_xml(&format!("{head}<a><b></a></b>")).is_err());
    assert!(check_xml(&format!("{head}<a>&</a>")).is_err());
    assert!(check_xml(&format!("{head}<a x=\"<\"></a>")).is_err());
    assert!(check_xml(&format!("{head}<a></a><a></a>")).is_err());
    assert!(check_xml(&format!("{head}<a>\u{1}</a>")).is_err());
}

#[test]
fn html_report_is_self_contained_and_shows_every_hydra() {
    let mut out = Vec::new();
    write_html(&fixture(), &mut out).unwrap();
    let page = String::from_utf8(out).unwrap();
    assert!(!page.contains("http://") && !page.contains("https://"), "external reference");
    for forbidden in ["<link", "<img", "<iframe", "src=", "url(", "fetch(", "XMLHttpRequest"] {
        assert!(!page.contains(forbidden), "{forbidden} in a self-contained page");
    }
    // Two script elements: the search index (data, never run) and the
    // inline script, which the Content-Security-Policy allows by its hash.
    assert_eq!(page.matches("<script").count(), 2);
    assert!(page.contains("<script type=\"application/json\" id=\"hydra-index\">"));
    assert!(page.contains("content=\"default-src &apos;none&apos;; script-src &apos;sha256-"));
    // Times say they are UTC; a replacement links to its network's section.
    assert!(page.contains("All times on this page are UTC"));
    assert!(page.contains("<time datetime=\"2026-01-03T00:00:00Z\">2026-01-03T00:00:00Z</time>"));
    assert!(page.contains(
        "<tr id=\"replacement-1\"><td class=\"mono\">a-4</td><td><time datetime=\"2026-01-03T00:00:00Z\">\
         2026-01-03T00:00:00Z</time></td><td class=\"mono\"><a href=\"#cluster-1\">c-a-1</a></td>"
    ));
    assert!(page.contains("<article id=\"cluster-1\">"));
    for id in ["c-a-1", "c-b-1", "c-l-1", "r-x", "payment_pooling", "card-4242-4242"] {
        assert!(page.contains(id), "{id} missing");
    }
    // A linkage picture and a lifecycle chart for each hydra.
    assert_eq!(page.matches("class=\"linkage\"").count(), 2);
    assert_eq!(page.matches("class=\"chart\"").count(), 2);
}

/// The Chromium binary when one runs; `None` (with a note) when none is
/// installed, unless `HYDRA_REQUIRE_CHROMIUM` is set, as `.ci/run` does once
/// it has installed it, which makes a missing browser a failure.
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"].into_iter().find(|b| {
        std::process::Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("HYDRA_REQUIRE_CHROMIUM").is_none(),
            "HYDRA_REQUIRE_CHROMIUM is set but no chromium runs"
        );
        eprintln!("note: chromium not installed; skipping the browser check of report.html");
    }
    found
}

/// The DOM headless Chromium holds once `page` has loaded from a file, at
/// the URL `fragment` (empty, or `#...`).
fn dump_dom(chromium: &str, page: &[u8], fragment: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    std::fs::write(&path, page).unwrap();
    let profile = dir.path().join("profile");
    let output = std::process::Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", path.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Opens the page in headless Chromium: the DOM it parses must hold the
/// sections and pictures.
#[test]
fn html_report_opens_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let mut out = Vec::new();
    write_html(&fixture(), &mut out).unwrap();
    let dom = dump_dom(chromium, &out, "");
    assert!(dom.contains("Hydra clusters, ranked by score"), "{dom}");
    assert_eq!(dom.matches("<svg class=\"linkage\"").count(), 2, "{dom}");
    assert!(dom.contains("<circle"));
    // The script ran (the CSP hash admits it): it counted the rows.
    assert!(
        dom.contains(
            "<span id=\"f-count\" class=\"muted\" role=\"status\">2 of 2 networks shown</span>"
        ),
        "{dom}"
    );
}

/// An account name that tries to close the script element, inject markup
/// and break out of attributes.
const HOSTILE: &str = "</script><img src=x onerror=alert(1)>\"'&<!--";

/// The fixture with four hydras for sorting and filtering: ranks by score
/// `c-a-1` (4 members, one replacement), `c-c-1` (10 members), `c-d-1` (2,
/// no ban, one member named [`HOSTILE`]) and `c-b-1` (2).
fn ranked_fixture() -> Detection {
    let mut d = fixture();
    let c_members: Vec<String> = (1..=10).map(|i| format!("c-{i}")).collect();
    let c_refs: Vec<&str> = c_members.iter().map(String::as_str).collect();
    let mut c = cluster("c-c-1", 0.8, true, &c_refs);
    c.member_ids.sort();
    let mut d_cluster = cluster("c-d-1", 0.75, true, &[HOSTILE, "d-1"]);
    d_cluster.member_ids.sort();
    d_cluster.evidence.banned_members.clear();
    d_cluster.lifecycle.bans = 0;
    d_cluster.evidence.top_indicators[3].value = "tpl-\"><script>alert(2)</script>".into();
    for m in &c_members {
        d.accounts.push(verdict(m, Some("c-c-1"), Some(0.8), Some(Flag::Hydra)));
    }
    for m in [HOSTILE, "d-1"] {
        d.accounts.push(verdict(m, Some("c-d-1"), Some(0.75), Some(Flag::Hydra)));
    }
    d.accounts.sort_by(|a, b| a.account.cmp(&b.account));
    let a = d.clusters.iter_mut().find(|c| c.id.as_str() == "c-a-1").unwrap();
    a.members = MemberCounts { none: 0, hydra: 3, replacement: 1 };
    d.clusters.push(c);
    d.clusters.push(d_cluster);
    d
}

/// `text` with every byte outside `[A-Za-z0-9-.]` percent-encoded, for a
/// URL fragment.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The self-test's record of one step: field name to value.
fn steps(dom: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let start = dom.rfind("<pre id=\"selftest\">").unwrap_or_else(|| panic!("no self-test: {dom}"));
    let body = &dom[start + "<pre id=\"selftest\">".len()..];
    let body = &body[..body.find("</pre>").unwrap()];
    let body = body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    assert!(!body.lines().any(|l| l.starts_with("error=")), "{body}");
    body.lines()
        .map(|line| {
            line.split(" | ")
                .map(|field| {
                    let (k, v) = field
                        .split_once('=')
                        .unwrap_or_else(|| panic!("no name=value in {field:?} of {line:?}"));
                    (k.to_owned(), v.to_owned())
                })
                .collect()
        })
        .collect()
}

/// Drives the page's table and search box in headless Chromium through the
/// same controls a reader uses (`#selftest=...` clicks the headers' buttons,
/// types into the filters and submits the search form) and checks what the
/// page shows after each step.
#[test]
fn html_report_sorts_filters_and_searches_in_headless_chromium() {
    let d = ranked_fixture();
    let mut out = Vec::new();
    write_html(&d, &mut out).unwrap();
    let page = String::from_utf8(out.clone()).unwrap();
    // Hostile names are escaped in the markup and in the index.
    assert!(!page.contains("<img") && !page.contains("<script>alert") && !page.contains("<!--"));
    assert_eq!(page.matches("<script").count(), 2);
    let Some(chromium) = chromium() else { return };
    let plan: Vec<(String, &str, &str, &str)> = vec![
        // (step, rows shown in order, sorted column, status)
        ("sort:1".into(), "c-a-1,c-b-1,c-c-1,c-d-1", "1:ascending", ""),
        ("sort:1".into(), "c-d-1,c-c-1,c-b-1,c-a-1", "1:descending", ""),
        // Numerically (10 > 4 > 2), ties in rank order.
        ("sort:3".into(), "c-c-1,c-a-1,c-d-1,c-b-1", "3:descending", ""),
        ("sort:3".into(), "c-d-1,c-b-1,c-a-1,c-c-1", "3:ascending", ""),
        ("sort:2".into(), "c-a-1,c-c-1,c-d-1,c-b-1", "2:descending", ""),
        ("sort:2".into(), "c-b-1,c-d-1,c-c-1,c-a-1", "2:ascending", ""),
        ("sort:0".into(), "c-a-1,c-c-1,c-d-1,c-b-1", "0:ascending", ""),
        ("min:0.76".into(), "c-a-1,c-c-1", "0:ascending", ""),
        ("min:0".into(), "c-a-1,c-c-1,c-d-1,c-b-1", "0:ascending", ""),
        ("flag:unbanned".into(), "c-d-1", "0:ascending", ""),
        ("flag:replacement".into(), "c-a-1", "0:ascending", ""),
        ("flag:".into(), "c-a-1,c-c-1,c-d-1,c-b-1", "0:ascending", ""),
        ("text:c-1".into(), "c-c-1", "0:ascending", ""),
        ("text:".into(), "c-a-1,c-c-1,c-d-1,c-b-1", "0:ascending", ""),
        (
            "find:b-2".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "1 match for \u{201c}b-2\u{201d}.",
        ),
        // A highlighted network stays shown through a filter.
        ("min:0.76".into(), "c-a-1,c-c-1,c-b-1", "0:ascending", "1 match for \u{201c}b-2\u{201d}."),
        (
            "min:0".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "1 match for \u{201c}b-2\u{201d}.",
        ),
        (
            format!("find:{}", percent_encode(HOSTILE)),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "1 match for \u{201c}</script><img src=x onerror=alert(1)>\"'&<!--\u{201d}.",
        ),
        (
            "find:r-x".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "1 match for \u{201c}r-x\u{201d}.",
        ),
        (
            "find:203.0.113.77".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "5 matches for \u{201c}203.0.113.77\u{201d}.",
        ),
        (
            "find:4242".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "5 matches containing \u{201c}4242\u{201d}.",
        ),
        (
            "find:nobody".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "Nothing matches \u{201c}nobody\u{201d}.",
        ),
        // Exact first: c-1 is not c-10; otherwise any containing the text, in any case.
        (
            "find:c-1".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "1 match for \u{201c}c-1\u{201d}.",
        ),
        (
            "find:R-X".into(),
            "c-a-1,c-c-1,c-d-1,c-b-1",
            "0:ascending",
            "1 match containing \u{201c}R-X\u{201d}.",
        ),
    ];
    let fragment: Vec<&str> = plan.iter().map(|p| p.0.as_str()).collect();
    let dom = dump_dom(chromium, &out, &format!("#selftest={}", fragment.join("&")));
    assert!(!dom.contains("<img"), "injected markup in the DOM");
    let got = steps(&dom);
    assert_eq!(got.len(), plan.len(), "{dom}");
    for ((step, rows, sort, status), g) in plan.iter().zip(&got) {
        assert_eq!(&g["step"], step);
        assert_eq!(g["rows"], *rows, "rows after {step}");
        assert_eq!(g["sort"], *sort, "sorted column after {step}");
        if !status.is_empty() {
            assert_eq!(g["status"], *status, "status after {step}");
        }
    }
    let field = |step: usize, key: &str| got[step][key].clone();
    assert_eq!(field(7, "shown"), "2 of 4 networks shown");
    assert_eq!(field(8, "shown"), "4 of 4 networks shown");
    // Search highlights the network's row and section and jumps there.
    assert_eq!(field(14, "hits"), "rank-4,cluster-4");
    assert_eq!(field(14, "links"), "#cluster-4");
    assert_eq!(field(14, "hash"), "#cluster-4");
    assert_eq!(field(17, "hits"), "rank-3,cluster-3");
    // A replacement in no community: its row in the replacements table.
    assert_eq!(field(18, "hits"), "replacement-2");
    assert_eq!(field(18, "hash"), "#replacement-2");
    // An indicator in all four networks and in r-x's evidence.
    assert_eq!(field(19, "links"), "#cluster-1,#cluster-2,#cluster-3,#cluster-4,#replacement-2");
    assert_eq!(field(20, "links").split(',').count(), 5);
    assert_eq!(field(21, "hits"), "");
    assert_eq!(field(21, "links"), "");
    assert_eq!(field(22, "hits"), "rank-2,cluster-2");
    assert_eq!(field(23, "hits"), "replacement-2");
}
