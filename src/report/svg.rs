//! Inline SVG pictures for `report.html`: a cluster's linkage drawn with a
//! small force layout, its lifecycle as a day chart, and signal bars.
//!
//! Everything here is deterministic (no randomness, fixed iteration counts,
//! ties broken by index) and bounded (at most [`MAX_NODES`] nodes a picture,
//! at most [`MAX_BINS`] bars a chart), so a report of a huge run stays small
//! and two runs on the same input give byte-identical pages.

use std::fmt::Write as _;

use super::escape;
use crate::event::Timestamp;

/// Most members drawn in one linkage picture.
pub(crate) const MAX_NODES: usize = 150;
/// Most bars in a lifecycle chart; longer histories are binned by several days.
pub(crate) const MAX_BINS: usize = 120;
/// Force-layout iterations: enough for 150 nodes to settle.
const ITERATIONS: usize = 300;

/// Node colour by flag: none, hydra, replacement.
pub(crate) const COLOR_NONE: &str = "#8a94a6";
pub(crate) const COLOR_HYDRA: &str = "#d1495b";
pub(crate) const COLOR_REPLACEMENT: &str = "#7b3fa0";
pub(crate) const COLOR_SIGNUP: &str = "#3a7bd5";
pub(crate) const COLOR_BAN: &str = "#d1495b";

/// The nodes to draw when a graph has more than `max`: those with the
/// largest weighted degree (the cluster's core), ties by index. Returns
/// indexes in increasing order.
///
/// # Complexity
///
/// Time `O(e + n log n)`, space `O(n)`.
pub(crate) fn sample_nodes(n: usize, edges: &[(u32, u32, f32)], max: usize) -> Vec<u32> {
    if n <= max {
        return (0..n as u32).collect();
    }
    let mut degree = vec![0f64; n];
    for &(a, b, w) in edges {
        if (a as usize) < n && (b as usize) < n && a != b {
            degree[a as usize] += f64::from(w.max(0.0));
            degree[b as usize] += f64::from(w.max(0.0));
        }
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| degree[b as usize].total_cmp(&degree[a as usize]).then(a.cmp(&b)));
    order.truncate(max);
    order.sort_unstable();
    order
}

/// Positions for `n` nodes in the unit square by the force-directed method
/// of Fruchterman and Reingold ("Graph drawing by force-directed placement",
/// Software: Practice and Experience 21(11), 1991).
///
/// Every pair of nodes repels with force `k²/d`; each edge attracts its ends
/// with `w·d²/k` (`w` the edge weight relative to the heaviest); a weak pull
/// to the centre keeps separate components on the page. Moves are capped by a
/// temperature that cools linearly over a fixed number of iterations. Start
/// positions lie on a golden-angle spiral, so the result depends only on the
/// input (no randomness), and edges are summed in the order given.
///
/// # Complexity
///
/// Time `O(ITERATIONS · (n² + e))`, space `O(n)`; callers keep `n` at most
/// [`MAX_NODES`].
pub(crate) fn force_layout(n: usize, edges: &[(u32, u32, f32)]) -> Vec<(f64, f64)> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let r = 0.45 * ((i as f64 + 0.5) / n as f64).sqrt();
            let t = i as f64 * golden;
            (0.5 + r * t.cos(), 0.5 + r * t.sin())
        })
        .collect();
    if n < 2 {
        return pos;
    }
    let max_w = edges.iter().map(|e| f64::from(e.2)).fold(0.0, f64::max);
    let k = (1.0 / n as f64).sqrt();
    let mut disp = vec![(0.0f64, 0.0f64); n];
    for step in 0..ITERATIONS {
        let temperature = 0.1 * (1.0 - step as f64 / ITERATIONS as f64) + 0.002;
        disp.iter_mut().for_each(|d| *d = (0.0, 0.0));
        for i in 0..n {
            for j in i + 1..n {
                let (dx, dy) = (pos[i].0 - pos[j].0, pos[i].1 - pos[j].1);
                let d2 = (dx * dx + dy * dy).max(1e-9);
                // k²/d along the unit vector (dx, dy)/d.
                let f = k * k / d2;
                disp[i].0 += dx * f;
                disp[i].1 += dy * f;
                disp[j].0 -= dx * f;
                disp[j].1 -= dy * f;
            }
        }
        for &(a, b, w) in edges {
            let (a, b) = (a as usize, b as usize);
            if a >= n || b >= n || a == b {
                continue;
            }
            let w = if max_w > 0.0 { (f64::from(w) / max_w).clamp(0.05, 1.0) } else { 1.0 };
            let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-9);
            // w·d²/k along the unit vector: w·d·(dx, dy)/k.
            let f = w * d / k;
            disp[a].0 -= dx * f;
            disp[a].1 -= dy * f;
            disp[b].0 += dx * f;
            disp[b].1 += dy * f;
        }
        for (p, d) in pos.iter_mut().zip(&disp) {
            let (gx, gy) = (0.5 - p.0, 0.5 - p.1);
            let (dx, dy) = (d.0 + gx * 2.0 * k, d.1 + gy * 2.0 * k);
            let len = (dx * dx + dy * dy).sqrt();
            if len > 0.0 {
                let step = len.min(temperature);
                p.0 += dx / len * step;
                p.1 += dy / len * step;
            }
        }
    }
    fit(&mut pos);
    pos
}

/// Scales positions to fill the unit square, keeping the aspect ratio.
fn fit(pos: &mut [(f64, f64)]) {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in pos.iter() {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let span = (x1 - x0).max(y1 - y0);
    if !span.is_finite() || span <= 0.0 {
        pos.iter_mut().for_each(|p| *p = (0.5, 0.5));
        return;
    }
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    for p in pos.iter_mut() {
        *p = (0.5 + (p.0 - cx) / span, 0.5 + (p.1 - cy) / span);
    }
}

/// One node of a linkage picture.
#[derive(Clone, Debug)]
pub(crate) struct Node<'a> {
    /// Tooltip: the account id.
    pub(crate) label: &'a str,
    /// Fill colour (by flag).
    pub(crate) color: &'static str,
    /// Drawn with a dark ring: the account was banned.
    pub(crate) banned: bool,
}

/// Appends a `size`×`size` SVG of `nodes` linked by `edges` (indexes into
/// `nodes`) laid out by [`force_layout`].
pub(crate) fn linkage(out: &mut String, size: u32, nodes: &[Node<'_>], edges: &[(u32, u32, f32)]) {
    let pos = force_layout(nodes.len(), edges);
    let margin = 12.0;
    let span = f64::from(size) - 2.0 * margin;
    let at = |i: usize| (margin + pos[i].0 * span, margin + pos[i].1 * span);
    let max_w = edges.iter().map(|e| f64::from(e.2)).fold(0.0, f64::max);
    let _ = write!(
        out,
        r#"<svg class="linkage" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" aria-label="linkage of {} accounts">"#,
        nodes.len()
    );
    out.push_str(r##"<g stroke="#5b6577" stroke-linecap="round">"##);
    for &(a, b, w) in edges {
        let (a, b) = (a as usize, b as usize);
        if a >= nodes.len() || b >= nodes.len() || a == b {
            continue;
        }
        let rel = if max_w > 0.0 { (f64::from(w) / max_w).clamp(0.0, 1.0) } else { 1.0 };
        let ((x1, y1), (x2, y2)) = (at(a), at(b));
        let _ = write!(
            out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke-opacity="{:.2}" stroke-width="{:.2}"/>"#,
            0.15 + 0.5 * rel,
            0.5 + 1.5 * rel
        );
    }
    out.push_str("</g>");
    let r = if nodes.len() > 80 { 3.5 } else { 5.0 };
    for (i, node) in nodes.iter().enumerate() {
        let (x, y) = at(i);
        let ring = if node.banned { r##" stroke="#111" stroke-width="1.8""## } else { "" };
        let _ = write!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{}"{ring}><title>{}</title></circle>"#,
            node.color,
            escape(node.label)
        );
    }
    out.push_str("</svg>");
}

/// A hub of the fallback picture: one shared indicator.
#[derive(Clone, Debug)]
pub(crate) struct Hub {
    /// The indicator's kind, shown beside the hub.
    pub(crate) kind: String,
    /// `kind: value`, shown on hover.
    pub(crate) label: String,
    /// Members seen on it.
    pub(crate) accounts: usize,
}

/// Appends the fallback picture used when no linkage sample is available:
/// members on a ring, the most shared indicators as squares inside it, each
/// drawn with its member count. Spokes are drawn only from an indicator that
/// every member shares, since which members share a partial one is unknown.
pub(crate) fn bipartite(
    out: &mut String,
    size: u32,
    nodes: &[Node<'_>],
    hubs: &[Hub],
    cluster_size: usize,
) {
    let c = f64::from(size) / 2.0;
    let ring = c - 14.0;
    let n = nodes.len().max(1) as f64;
    let node_at = |i: usize| {
        let t = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
        (c + ring * t.cos(), c + ring * t.sin())
    };
    let hub_at = |j: usize| {
        let h = hubs.len().max(1) as f64;
        let t = std::f64::consts::TAU * j as f64 / h - std::f64::consts::FRAC_PI_2;
        let r = if hubs.len() == 1 { 0.0 } else { ring * 0.42 };
        (c + r * t.cos(), c + r * t.sin())
    };
    let _ = write!(
        out,
        r#"<svg class="linkage" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" aria-label="members and shared indicators">"#
    );
    out.push_str(r##"<g stroke="#5b6577" stroke-opacity="0.25">"##);
    for (j, hub) in hubs.iter().enumerate() {
        if hub.accounts >= cluster_size && cluster_size > 0 {
            let (hx, hy) = hub_at(j);
            for i in 0..nodes.len() {
                let (x, y) = node_at(i);
                let _ = write!(out, r#"<line x1="{hx:.1}" y1="{hy:.1}" x2="{x:.1}" y2="{y:.1}"/>"#);
            }
        }
    }
    out.push_str("</g>");
    let r = if nodes.len() > 80 { 3.0 } else { 4.5 };
    for (i, node) in nodes.iter().enumerate() {
        let (x, y) = node_at(i);
        let ring = if node.banned { r##" stroke="#111" stroke-width="1.6""## } else { "" };
        let _ = write!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{}"{ring}><title>{}</title></circle>"#,
            node.color,
            escape(node.label)
        );
    }
    for (j, hub) in hubs.iter().enumerate() {
        let (x, y) = hub_at(j);
        let side = 8.0 + 10.0 * (hub.accounts as f64 / cluster_size.max(1) as f64).min(1.0);
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="{side:.1}" height="{side:.1}" fill="#f0b429" stroke="#7a5a00"><title>{} (shared by {} of {} members)</title></rect><text x="{:.1}" y="{:.1}" font-size="10" fill="#333">{}</text>"##,
            x - side / 2.0,
            y - side / 2.0,
            escape(&hub.label),
            hub.accounts,
            cluster_size,
            x + side / 2.0 + 2.0,
            y + 3.0,
            format_args!("{} {}", escape(&hub.kind), hub.accounts)
        );
    }
    out.push_str("</svg>");
}

/// Appends a chart of signups (up) and bans (down) per day from `first_ts`'s
/// day, binned by several days when there are more than [`MAX_BINS`] days.
pub(crate) fn lifecycle_chart(
    out: &mut String,
    first_ts: Option<Timestamp>,
    signups: &[usize],
    bans: &[usize],
) {
    let days = signups.len().max(bans.len());
    if days == 0 {
        out.push_str(r#"<p class="muted">No signups recorded.</p>"#);
        return;
    }
    let per_bin = days.div_ceil(MAX_BINS);
    let bins = days.div_ceil(per_bin);
    let sum = |v: &[usize], b: usize| -> usize { v.iter().skip(b * per_bin).take(per_bin).sum() };
    let up: Vec<usize> = (0..bins).map(|b| sum(signups, b)).collect();
    let down: Vec<usize> = (0..bins).map(|b| sum(bans, b)).collect();
    let max_up = up.iter().copied().max().unwrap_or(0).max(1);
    let max_down = down.iter().copied().max().unwrap_or(0);
    let (width, left, top) = (560.0, 40.0, 14.0);
    let up_h = 90.0;
    let down_h = if max_down > 0 { 50.0 } else { 0.0 };
    let height = top + up_h + down_h + 30.0;
    let axis = top + up_h;
    let bar_w = (width - left - 10.0) / bins as f64;
    let _ = write!(
        out,
        r#"<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="signups and bans per day">"#
    );
    for (b, (&u, &d)) in up.iter().zip(&down).enumerate() {
        let x = left + b as f64 * bar_w;
        let day = b * per_bin;
        let when = match first_ts {
            Some(ts) => date(ts + 86_400 * day as i64),
            None => format!("day {day}"),
        };
        if u > 0 {
            let h = up_h * u as f64 / max_up as f64;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{COLOR_SIGNUP}"><title>{when}: {u} signups</title></rect>"#,
                axis - h,
                (bar_w - 0.5).max(0.5)
            );
        }
        if d > 0 {
            let h = down_h * d as f64 / max_down as f64;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{axis:.1}" width="{:.1}" height="{h:.1}" fill="{COLOR_BAN}"><title>{when}: {d} bans</title></rect>"#,
                (bar_w - 0.5).max(0.5)
            );
        }
    }
    let end = left + bins as f64 * bar_w;
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="{axis}" x2="{end:.1}" y2="{axis}" stroke="#333"/><text x="{}" y="{}" font-size="10" text-anchor="end" fill="{COLOR_SIGNUP}">{max_up}</text>"##,
        left - 4.0,
        top + 8.0
    );
    if max_down > 0 {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="10" text-anchor="end" fill="{COLOR_BAN}">{max_down}</text>"#,
            left - 4.0,
            axis + down_h
        );
    }
    let bottom = height - 8.0;
    let first = first_ts.map_or_else(|| "day 0".to_owned(), date);
    let last = first_ts
        .map_or_else(|| format!("day {}", days - 1), |ts| date(ts + 86_400 * (days as i64 - 1)));
    let unit =
        if per_bin == 1 { "per UTC day".to_owned() } else { format!("per {per_bin} UTC days") };
    let _ = write!(
        out,
        r##"<text x="{left}" y="{bottom}" font-size="10" fill="#333">{first}</text><text x="{end:.1}" y="{bottom}" font-size="10" text-anchor="end" fill="#333">{last}</text><text x="{:.1}" y="{bottom}" font-size="10" text-anchor="middle" fill="#666">signups (up) and bans (down) {unit}</text></svg>"##,
        (left + end) / 2.0
    );
}

/// Appends a horizontal bar of `value` in [0, 1].
pub(crate) fn bar(out: &mut String, value: f64, color: &str) {
    let v = if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.0 };
    let _ = write!(
        out,
        r##"<svg class="bar" width="160" height="12" viewBox="0 0 160 12"><rect width="160" height="12" fill="#e8ebf0"/><rect width="{:.1}" height="12" fill="{color}"/></svg>"##,
        160.0 * v
    );
}

/// `YYYY-MM-DD` (UTC) of a unix timestamp, by Hinnant's days-to-civil
/// algorithm (proleptic Gregorian calendar).
pub(crate) fn date(ts: Timestamp) -> String {
    let (y, m, d) = civil(ts.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ`: a unix timestamp in ISO 8601, UTC.
pub(crate) fn date_time(ts: Timestamp) -> String {
    let secs = ts.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", date(ts), secs / 3600, secs / 60 % 60, secs % 60)
}

/// Year, month, day of `days` since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_767_225_600), "2026-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-86_400), "1969-12-31");
        assert_eq!(date_time(1_767_225_600 + 3_600 + 123), "2026-01-01T01:02:03Z");
        assert_eq!(date_time(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn layout_is_deterministic_bounded_and_pulls_linked_nodes_together() {
        // Two triangles joined by one weak edge.
        let edges = [
            (0, 1, 1.0),
            (1, 2, 1.0),
            (0, 2, 1.0),
            (3, 4, 1.0),
            (4, 5, 1.0),
            (3, 5, 1.0),
            (2, 3, 0.1),
        ];
        let a = force_layout(6, &edges);
        assert_eq!(a, force_layout(6, &edges));
        assert!(a.iter().all(|p| (0.0..=1.0).contains(&p.0) && (0.0..=1.0).contains(&p.1)));
        let d = |i: usize, j: usize| ((a[i].0 - a[j].0).powi(2) + (a[i].1 - a[j].1).powi(2)).sqrt();
        assert!(d(0, 1) < d(0, 5), "within {} across {}", d(0, 1), d(0, 5));
        assert!(d(4, 5) < d(1, 4));
    }

    #[test]
    fn sampling_keeps_the_best_connected_nodes() {
        let edges = [(5, 6, 3.0), (5, 7, 1.0), (0, 1, 0.5)];
        assert_eq!(sample_nodes(8, &edges, 3), vec![5, 6, 7]);
        assert_eq!(sample_nodes(3, &[], 5), vec![0, 1, 2]);
        assert_eq!(sample_nodes(4, &[], 2), vec![0, 1]);
    }

    #[test]
    fn long_histories_are_binned() {
        let mut out = String::new();
        let signups = vec![1usize; 365];
        lifecycle_chart(&mut out, Some(0), &signups, &[]);
        assert_eq!(out.matches("<rect").count(), 365usize.div_ceil(4));
        assert!(out.contains("per 4 UTC days"));
    }
}
