//! # Quickstart: find a hydra in a handful of events
//!
//! A hydra is a network of accounts one operator runs through proxies,
//! replacing every banned account with a fresh one. This example builds a
//! tiny platform by hand and lets the `Detector` find it.
//!
//! We will:
//!
//! 1. write the events of an operator's accounts and of a family, as the
//!    platform would log them (signups, observations of indicators, bans);
//! 2. run the batch `Detector` with its default configuration;
//! 3. print each account's verdict, and the evidence behind each hydra.
//!
//! Run it with `cargo run --example quickstart`.

use hydra_detect::{Config, Detector, Event, Flag, IndicatorKind, Result};

fn main() -> Result<()> {
    // ## 1. The events
    //
    // Times are unix seconds. The operator signs up 12 accounts within an
    // hour. They pay with three pooled cards, come through four residential
    // proxy IPs, and send requests shaped by one rare prompt template. Every
    // account works in the same minutes.
    let t0: i64 = 1_767_225_600; // 2026-01-01 00:00 UTC
    let mut events = Vec::new();
    let operator = |i: i64, signup: i64, events: &mut Vec<Event>| {
        let account = format!("op-{i:02}");
        events.push(Event::signup(signup, &account));
        events.push(Event::observe(
            signup + 5,
            &account,
            IndicatorKind::Payment,
            format!("card-pool-{}", i % 3),
        ));
        events.push(Event::observe(
            signup + 9,
            &account,
            IndicatorKind::Email,
            format!("x{i}@mailinator.test"),
        ));
        for minute in 0..6 {
            let ts = t0 + 7_200 + minute * 600 + i;
            events.push(Event::observe(
                ts.max(signup + 10),
                &account,
                IndicatorKind::Ip,
                format!("203.0.113.{}", 10 + (i + minute) % 4),
            ));
            events.push(Event::observe(
                ts.max(signup + 10),
                &account,
                IndicatorKind::Template,
                "tpl-distill-7f3a",
            ));
        }
    };
    for i in 0..12 {
        operator(i, t0 + i * 240, &mut events);
    }

    // The platform bans three of them the next day; within the hour the
    // operator signs up three replacements on the same cards and proxies.
    for i in 0..3 {
        events.push(Event::ban(t0 + 86_400 + i * 60, format!("op-{i:02}"), Some("hydra".into())));
    }
    for i in 12..15 {
        operator(i, t0 + 86_400 + 1_800 + i * 60, &mut events);
    }

    // A family: three people on one home IP, one mail provider, one card,
    // signing up weeks apart and using the platform at their own pace.
    for (k, name) in ["ana", "ben", "eva"].iter().enumerate() {
        let signup = t0 + k as i64 * 14 * 86_400;
        events.push(Event::signup(signup, *name));
        events.push(Event::observe(signup + 60, *name, IndicatorKind::Ip, "198.51.100.23"));
        events.push(Event::observe(signup + 61, *name, IndicatorKind::EmailDomain, "mail.example"));
        events.push(Event::observe(signup + 62, *name, IndicatorKind::Payment, "card-family"));
        events.push(Event::observe(
            signup + 3_600 * (k as i64 + 5),
            *name,
            IndicatorKind::Template,
            "tpl-popular-chat",
        ));
    }

    // ## 2. Detection
    //
    // Events may come in any order: batch results do not depend on it.
    let detection = Detector::new(Config::new()).detect_events(events)?;

    // ## 3. Verdicts and evidence
    //
    // Every account gets a verdict; `flag` is `None` for an account not
    // flagged (written `none` in `accounts.csv`).
    println!("{:<8} {:<16} {:>6}  flag", "account", "cluster", "score");
    for v in &detection.accounts {
        let cluster = v.cluster.as_ref().map_or("-", |c| c.as_str());
        let score = v.score.map_or_else(|| "-".to_owned(), |s| format!("{s:.3}"));
        println!("{:<8} {:<16} {:>6}  {}", v.account, cluster, score, Flag::name(v.flag));
    }

    // A hydra cluster carries its signals (each a value in [0, 1] with the
    // weight it has in the score, and a line of explanation) and the
    // indicators its members share most.
    for cluster in detection.hydra_clusters() {
        println!("\nhydra {} — score {:.3}, {} accounts", cluster.id, cluster.score, cluster.size);
        for signal in cluster.signals.iter().filter(|s| s.value > 0.5) {
            println!("  {:<16} {:.2}  {}", signal.name, signal.value, signal.explain);
        }
        for indicator in &cluster.evidence.top_indicators {
            println!(
                "  shared {}={} by {} members",
                indicator.kind, indicator.value, indicator.accounts
            );
        }
    }

    // Replacements name the banned accounts whose infrastructure they took over.
    for r in &detection.replacements {
        println!("\nreplacement {} took over from {}", r.account, r.linked_banned.join(", "));
        for e in &r.evidence {
            println!("  {}={} shared with {} banned", e.kind, e.value, e.shared_with);
        }
    }
    Ok(())
}
