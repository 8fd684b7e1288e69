//! The streaming watcher: hand-made scenarios (household, hydra pool and ban
//! wave), retractions, at-most-once announcements, bounded memory, crash
//! recovery of `hydra watch --state` under SIGKILL (replacement and hydra
//! flags), inline and background re-clustering, and damaged state files.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use hydra_detect::{
    DurabilityConfig, DurableWatcher, ErrorKind, Event, IndicatorKind, Recluster, WatchConfig,
    WatchFlag, WatchFlagKind, Watcher,
};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

fn obs(ts: i64, account: &str, kind: IndicatorKind, value: &str) -> Event {
    Event::observe(ts, account, kind, value)
}

fn run(events: &[Event]) -> (Watcher, Vec<WatchFlag>) {
    run_with(WatchConfig::new(), events)
}

fn run_with(config: WatchConfig, events: &[Event]) -> (Watcher, Vec<WatchFlag>) {
    let mut watcher = Watcher::new(config).unwrap();
    let mut flags = Vec::new();
    for (i, e) in events.iter().enumerate() {
        watcher.apply_into(i as u64 + 1, e, &mut flags).unwrap();
    }
    (watcher, flags)
}

fn flagged(flags: &[WatchFlag], kind: WatchFlagKind) -> Vec<&str> {
    flags.iter().filter(|f| f.flag == kind).map(|f| f.account.as_str()).collect()
}

/// A household of four on one dynamic IP with a family card; one member is
/// banned for spam, and a new member signs up on the same network with the
/// same card an hour later.
fn household_after_spam_ban() -> Vec<Event> {
    let mut ev = Vec::new();
    for (i, m) in ["mum", "dad", "kid"].iter().enumerate() {
        let t = i as i64 * DAY;
        ev.push(Event::signup(t, *m));
        ev.push(obs(t + 1, m, IndicatorKind::Ip, "81.2.3.4"));
        ev.push(obs(t + 2, m, IndicatorKind::Payment, "family-card"));
        ev.push(obs(t + 3, m, IndicatorKind::EmailDomain, "gmail.com"));
    }
    ev.push(Event::ban(5 * DAY, "kid", Some("spam".into())));
    let t = 5 * DAY + HOUR;
    ev.push(Event::signup(t, "gran"));
    ev.push(obs(t + 1, "gran", IndicatorKind::Ip, "81.2.3.4"));
    ev.push(obs(t + 2, "gran", IndicatorKind::Payment, "family-card"));
    ev.push(obs(t + 3, "gran", IndicatorKind::EmailDomain, "gmail.com"));
    ev.push(obs(t + 4, "gran", IndicatorKind::Device, "gran-phone"));
    ev
}

#[test]
fn family_member_after_a_spam_ban_is_not_flagged() {
    let (_, flags) = run(&household_after_spam_ban());
    assert_eq!(flags, []);
}

/// A household whose IP is also a residential proxy exit: a hydra account
/// used it and was banned; a family member signs up on it minutes later.
#[test]
fn family_member_on_a_banned_proxy_users_ip_is_not_flagged() {
    let (_, flags) = run(&family_on_a_banned_proxy_users_ip());
    assert_eq!(flags, []);
}

fn family_on_a_banned_proxy_users_ip() -> Vec<Event> {
    let mut ev = Vec::new();
    for m in ["a", "b"] {
        ev.push(Event::signup(0, m));
        ev.push(obs(1, m, IndicatorKind::Ip, "73.1.1.1"));
    }
    for h in 0..3 {
        let name = format!("hydra-{h}");
        ev.push(Event::signup(10 + h, &*name));
        ev.push(obs(11 + h, &name, IndicatorKind::Ip, "73.1.1.1"));
        ev.push(obs(12 + h, &name, IndicatorKind::Template, "tpl-distill"));
        ev.push(Event::ban(DAY, &*name, Some("hydra".into())));
    }
    let t = DAY + 600;
    ev.push(Event::signup(t, "c"));
    ev.push(obs(t + 1, "c", IndicatorKind::Ip, "73.1.1.1"));
    ev.push(obs(t + 2, "c", IndicatorKind::Device, "c-laptop"));
    ev.push(obs(t + 3, "c", IndicatorKind::Template, "tpl-popular"));
    ev
}

/// The quiet-takeover rule (off by default) flags on the signup IP alone;
/// the family members and colleagues of the hard-negative scenarios, who
/// sign up on an address their household or office uses, stay unflagged.
#[test]
fn hard_negatives_stay_unflagged_with_quiet_takeovers() {
    let config = WatchConfig::new().quiet_takeover_secs(3 * HOUR);
    for events in [household_after_spam_ban(), family_on_a_banned_proxy_users_ip()] {
        let (_, flags) = run_with(config.clone(), &events);
        assert_eq!(flags, []);
    }
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios");
    for (name, legit) in [
        ("family_after_ban", "fam"),
        ("household_family_card", "home"),
        ("company_corp_card", "acme"),
        ("proxy_neighbours", "hh"),
        ("campus", "stud"),
        ("cgnat_crowd", "mob"),
    ] {
        let path = scenarios.join(name).join("events.csv");
        let (events, _) = hydra_detect::read_events(&path, &hydra_detect::IngestConfig::new())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (_, flags) = run_with(config.clone(), &events);
        let wrong: Vec<&str> = flagged(&flags, WatchFlagKind::Replacement)
            .into_iter()
            .filter(|a| a.starts_with(legit))
            .collect();
        assert!(wrong.is_empty(), "{name}: {wrong:?} flagged as replacements");
    }
}

/// An operator's pool: accounts share a few cards, devices and proxy IPs and
/// a rare template; a ban wave hits some, and replacements sign up within
/// hours on the banned accounts' card and device.
pub(crate) fn hydra_pool_with_ban_wave() -> Vec<Event> {
    let mut ev = Vec::new();
    for i in 0..12 {
        let name = format!("op-{i}");
        let t = i as i64 * 60;
        ev.push(Event::signup(t, &*name));
        ev.push(obs(t + 1, &name, IndicatorKind::Ip, &format!("100.0.0.{}", i % 4)));
        ev.push(obs(t + 2, &name, IndicatorKind::Device, &format!("dev-{}", i % 3)));
        ev.push(obs(t + 3, &name, IndicatorKind::Payment, &format!("card-{}", i % 4)));
        ev.push(obs(t + 4, &name, IndicatorKind::Template, "tpl-op"));
    }
    let wave = 3 * DAY;
    for i in 0..4 {
        ev.push(Event::ban(wave + i, format!("op-{i}"), Some("hydra".into())));
    }
    for i in 0..4 {
        let name = format!("new-{i}");
        let t = wave + HOUR + i as i64 * 300;
        ev.push(Event::signup(t, &*name));
        ev.push(obs(t + 1, &name, IndicatorKind::Ip, &format!("100.0.0.{}", i % 4)));
        ev.push(obs(t + 2, &name, IndicatorKind::Device, &format!("dev-{}", i % 3)));
        ev.push(obs(t + 40, &name, IndicatorKind::Payment, &format!("card-{}", i % 4)));
    }
    ev
}

#[test]
fn replacements_after_a_ban_wave_are_flagged_with_evidence() {
    let (_, flags) = run(&hydra_pool_with_ban_wave());
    assert_eq!(flagged(&flags, WatchFlagKind::Replacement), ["new-0", "new-1", "new-2", "new-3"]);
    for f in &flags {
        assert_eq!(f.schema, "hydra-detect/flag/1");
        assert!(f.score > 0.0 && f.score <= 1.0);
        assert!(!f.linked_banned.is_empty());
        assert!(f.linked_banned.windows(2).all(|w| w[0] < w[1]), "sorted: {:?}", f.linked_banned);
        assert!(f.linked_banned.iter().all(|b| b.starts_with("op-")));
        assert!(!f.evidence.is_empty());
    }
    let json = flags[0].to_json();
    assert!(json.starts_with(r#"{"schema":"hydra-detect/flag/1","seq":"#), "{json}");
}

#[test]
fn accounts_from_before_the_ban_are_not_replacements() {
    let mut ev = hydra_pool_with_ban_wave();
    // An old pool member keeps using the banned card: it is not new.
    ev.push(obs(4 * DAY, "op-5", IndicatorKind::Payment, "card-0"));
    let (_, flags) = run(&ev);
    assert!(!flagged(&flags, WatchFlagKind::Replacement).contains(&"op-5"));
}

#[test]
fn flags_are_announced_at_most_once_and_retracted_by_unban() {
    let mut ev = hydra_pool_with_ban_wave();
    let t = 5 * DAY;
    // More links of an already flagged account: no second announcement.
    ev.push(obs(t, "new-0", IndicatorKind::Phone, "+1555"));
    ev.push(obs(t + 1, "new-0", IndicatorKind::Payment, "card-1"));
    // Lifting every ban behind new-1's flag retracts it.
    for b in ["op-0", "op-1", "op-2", "op-3"] {
        ev.push(Event::unban(t + 10, b));
    }
    ev.push(obs(t + 20, "new-1", IndicatorKind::Device, "dev-1"));
    let (_, flags) = run(&ev);
    let replacements = flagged(&flags, WatchFlagKind::Replacement);
    let mut unique = replacements.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(replacements.len(), unique.len(), "{replacements:?}");
    let retracted = flagged(&flags, WatchFlagKind::Retract);
    assert_eq!(retracted.len(), 4, "{flags:#?}");
    let first_retract = flags.iter().position(|f| f.flag == WatchFlagKind::Retract).unwrap();
    assert!(flags[first_retract].seq > flags.iter().map(|f| f.seq).filter(|_| true).min().unwrap());
}

#[test]
fn an_unban_with_other_reasons_left_does_not_retract() {
    let mut ev = hydra_pool_with_ban_wave();
    // new-0 shares card-0 and dev-0 with op-0, and dev-0 with op-3.
    ev.push(Event::unban(5 * DAY, "op-3"));
    let (_, flags) = run(&ev);
    assert!(!flagged(&flags, WatchFlagKind::Retract).contains(&"new-0"), "{flags:#?}");
}

#[test]
fn stale_links_are_evicted_and_memory_stays_bounded() {
    let config = WatchConfig::new().horizon_secs(10 * DAY);
    let mut watcher = Watcher::new(config).unwrap();
    let mut peak = 0;
    let mut seq = 0;
    // 200 days of churn: 50 fresh accounts a day, each seen on its own IP
    // and device and a shared template, never seen again.
    for day in 0..200i64 {
        for k in 0..50 {
            let a = format!("d{day}-{k}");
            let t = day * DAY + k * 60;
            for e in [
                Event::signup(t, &*a),
                obs(t + 1, &a, IndicatorKind::Ip, &format!("10.{}.{}.{}", day % 200, k, day % 7)),
                obs(t + 2, &a, IndicatorKind::Device, &format!("dev-{day}-{k}")),
                obs(t + 3, &a, IndicatorKind::Template, "tpl-common"),
            ] {
                seq += 1;
                watcher.apply(seq, &e).unwrap();
            }
        }
        peak = peak.max(watcher.link_count());
    }
    // Without eviction there would be 200 × 50 × 4 links; with a 10-day
    // horizon, about 10 days' worth plus the sweep's lag.
    assert!(peak < 20 * 50 * 4, "peak links {peak}");
    assert!(watcher.account_count() < 20 * 50, "accounts {}", watcher.account_count());
    assert!(watcher.indicator_count() < 20 * 50 * 3, "indicators {}", watcher.indicator_count());
}

#[test]
fn replacement_flags_do_not_depend_on_batching_or_restarts() {
    // The same stream through one watcher and through a durable watcher
    // reopened every 7 events gives the same flags, with quiet takeovers
    // off (the default) and on (their per-IP visitors are rebuilt from the
    // links after a snapshot is loaded).
    let events = scenario(3);
    let quiet = WatchConfig::new().quiet_takeover_secs(3 * HOUR);
    // Quiet takeovers flag some replacements at their signup IP's event.
    assert_ne!(run(&events).1, run_with(quiet.clone(), &events).1);
    for config in [WatchConfig::new(), quiet] {
        let (_, expected) = run_with(config.clone(), &events);
        assert!(expected.len() >= 5, "scenario too weak: {} flags", expected.len());
        let want: Vec<String> = expected.iter().map(WatchFlag::to_json).collect();
        assert_eq!(run_with_restarts(&config, 50, &events), want);
    }
}

/// The flags (JSON lines) of a durable watcher reopened every 7 events,
/// with a snapshot every `snapshot_every` events.
fn run_with_restarts(config: &WatchConfig, snapshot_every: u64, events: &[Event]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = SharedBuf::default();
    let durability = DurabilityConfig::new().snapshot_every(snapshot_every);
    let mut seq = 0;
    while seq < events.len() {
        let mut w = DurableWatcher::open(
            dir.path(),
            config.clone(),
            durability.clone(),
            Box::new(out.clone()),
        )
        .unwrap();
        assert_eq!(w.applied(), seq as u64);
        let end = (seq + 7).min(events.len());
        // Resend from the start: already applied events are skipped.
        for (i, e) in events[..end].iter().enumerate() {
            w.apply(i as u64 + 1, e).unwrap();
        }
        w.close().unwrap();
        seq = end;
    }
    out.lines()
}

#[test]
fn hydra_flags_with_sync_reclustering_do_not_depend_on_restarts() {
    // Re-clustering inline every 50 events: one watcher, and a durable
    // watcher reopened every 7 events (snapshots every 40), give the same
    // hydra and replacement flags.
    let events = scenario(5);
    let config = WatchConfig::new().recluster(Recluster::Sync(50));
    let mut watcher = Watcher::new(config.clone()).unwrap();
    let mut expected = Vec::new();
    for (i, e) in events.iter().enumerate() {
        watcher.apply_into(i as u64 + 1, e, &mut expected).unwrap();
    }
    let hydra = flagged(&expected, WatchFlagKind::Hydra);
    assert!(hydra.len() >= 10, "scenario too weak: {} hydra flags", hydra.len());
    // Members of the operators' clusters, never a household.
    assert!(hydra.iter().all(|a| a.starts_with("op")), "{hydra:?}");
    assert!(watcher.clustered_at() > 0 && watcher.hydra_clusters().count() >= 1);
    for f in expected.iter().filter(|f| f.flag == WatchFlagKind::Hydra) {
        assert!(f.cluster.is_some() && !f.evidence.is_empty(), "{}", f.to_json());
    }

    let want: Vec<String> = expected.iter().map(WatchFlag::to_json).collect();
    assert_eq!(run_with_restarts(&config, 40, &events), want);
}

#[test]
fn background_reclustering_publishes_without_blocking_the_event_path() {
    // One background run, started at the second-to-last event: whenever it
    // finishes, the events go on, and waiting for it at the end publishes
    // the same clustering an inline run at that count would.
    let events = scenario(5);
    let at = events.len() as u64 - 1;
    let mut watcher =
        Watcher::new(WatchConfig::new().recluster(Recluster::Background(at))).unwrap();
    let mut flags = Vec::new();
    for (i, e) in events.iter().enumerate() {
        watcher.apply_into(i as u64 + 1, e, &mut flags).unwrap();
    }
    watcher.finish_recluster(events.len() as u64, &mut flags);
    assert_eq!(watcher.clustered_at(), at);
    assert!(watcher.hydra_clusters().count() >= 1);
    // The first clustering announces no member: a member is announced when
    // the clustering in force had it too.
    assert!(flagged(&flags, WatchFlagKind::Hydra).is_empty());
}

#[test]
fn members_are_announced_when_two_clusterings_in_a_row_have_them() {
    // Re-clustering every quarter of the events: the first clustering that
    // finds a hydra announces none of its members, a later one does.
    let events = scenario(5);
    let quarter = events.len() as u64 / 4;
    let mut watcher = Watcher::new(WatchConfig::new().recluster(Recluster::Sync(quarter))).unwrap();
    let mut flags = Vec::new();
    // (seq, hydra clusters in force, members announced at that seq).
    let mut publications = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let seq = i as u64 + 1;
        let mut new = Vec::new();
        watcher.apply_into(seq, e, &mut new).unwrap();
        if seq.is_multiple_of(quarter) {
            let members: Vec<String> = new
                .iter()
                .filter(|f| f.flag == WatchFlagKind::Hydra && f.seq == seq)
                .map(|f| f.account.clone())
                .collect();
            publications.push((seq, watcher.hydra_clusters().count(), members));
        }
        flags.extend(new);
    }
    let first = publications.iter().position(|p| p.1 > 0).expect("a clustering finds a hydra");
    assert!(publications[first].2.is_empty(), "{publications:?}");
    let later: Vec<&String> = publications[first + 1..].iter().flat_map(|p| &p.2).collect();
    assert!(!later.is_empty(), "{publications:?}");
    assert!(later.iter().all(|a| a.starts_with("op")), "{later:?}");
    // At most once per account.
    let hydra = flagged(&flags, WatchFlagKind::Hydra);
    let mut sorted = hydra.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), hydra.len());
}

/// A seeded synthetic platform: households, solo users, and two operators
/// with ban waves followed by replacements.
fn scenario(seed: u64) -> Vec<Event> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut ev: Vec<Event> = Vec::new();
    for h in 0..30 {
        let t0 = rng.random_range(0..10 * DAY);
        for m in 0..rng.random_range(2..5) {
            let a = format!("hh{h}-{m}");
            let t = t0 + m * HOUR;
            ev.push(Event::signup(t, &*a));
            ev.push(obs(t + 1, &a, IndicatorKind::Ip, &format!("81.0.{h}.1")));
            ev.push(obs(t + 2, &a, IndicatorKind::Device, &format!("dev-{a}")));
            ev.push(obs(t + 3, &a, IndicatorKind::Template, &format!("tpl-pop-{}", m % 3)));
        }
    }
    for op in 0..2 {
        let mut live: Vec<String> = Vec::new();
        let t0 = rng.random_range(0..2 * DAY);
        for i in 0..40 {
            let a = format!("op{op}-{i}");
            let t = t0 + i * 30;
            ev.push(Event::signup(t, &*a));
            ev.push(obs(t + 1, &a, IndicatorKind::Ip, &format!("100.{op}.0.{}", i % 10)));
            ev.push(obs(t + 2, &a, IndicatorKind::Device, &format!("op{op}-dev-{}", i % 5)));
            ev.push(obs(t + 3, &a, IndicatorKind::Payment, &format!("op{op}-card-{}", i % 10)));
            ev.push(obs(t + 4, &a, IndicatorKind::Template, &format!("op{op}-tpl")));
            live.push(a);
        }
        let mut n = 0;
        for wave in 1..4 {
            let tw = t0 + wave * 3 * DAY;
            let victims: Vec<String> = live.iter().step_by(4).take(6).cloned().collect();
            live.retain(|a| !victims.contains(a));
            for (k, v) in victims.iter().enumerate() {
                ev.push(Event::ban(tw + k as i64, &**v, Some("hydra".into())));
                let r = format!("op{op}-r{n}");
                n += 1;
                let t = tw + rng.random_range(300..6 * HOUR);
                let i = v
                    .rsplit('-')
                    .next()
                    .unwrap()
                    .trim_start_matches('r')
                    .parse::<i64>()
                    .unwrap_or(0);
                ev.push(Event::signup(t, &*r));
                ev.push(obs(t + 1, &r, IndicatorKind::Ip, &format!("100.{op}.0.{}", i % 10)));
                ev.push(obs(t + 2, &r, IndicatorKind::Device, &format!("op{op}-dev-{}", i % 5)));
                ev.push(obs(
                    t + 60,
                    &r,
                    IndicatorKind::Payment,
                    &format!("op{op}-card-{}", i % 10),
                ));
                live.push(r);
            }
        }
    }
    // One wrongly banned household member, unbanned later.
    ev.push(Event::ban(5 * DAY, "hh0-0", Some("hydra".into())));
    ev.push(Event::unban(6 * DAY, "hh0-0"));
    // Arrival order is time order (stable for equal times).
    ev.sort_by_key(|e| e.ts);
    ev
}

/// An in-memory sink shared with the writer thread.
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    pub(crate) fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn to_csv(events: &[Event]) -> Vec<u8> {
    let mut out = b"ts,account,event,kind,value,reason\n".to_vec();
    for e in events {
        let (kind, value, reason) = match &e.action {
            hydra_detect::Action::Observe(i) => (i.kind.as_str(), i.value.as_str(), ""),
            hydra_detect::Action::Ban { reason } => ("", "", reason.as_deref().unwrap_or("")),
            _ => ("", "", ""),
        };
        writeln!(out, "{},{},{},{kind},{value},{reason}", e.ts, e.account, e.action.name())
            .unwrap();
    }
    out
}

fn hydra() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hydra"))
}

/// Runs `hydra watch` to completion on `input`; returns stdout lines and stderr.
fn watch_to_end(args: &[&str], input: &[u8]) -> (Vec<String>, String, bool) {
    let mut child = hydra()
        .arg("watch")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let lines = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    (lines, String::from_utf8(out.stderr).unwrap(), out.status.success())
}

#[test]
fn sigkill_mid_stream_loses_nothing_acknowledged_and_repeats_no_flag() {
    let events = scenario(7);
    let input = to_csv(&events);
    let (expected, _, ok) = watch_to_end(&["--sync-recluster", "50"], &input);
    assert!(ok);
    assert!(expected.len() >= 5, "scenario too weak: {expected:?}");
    // Hydra-membership flags are covered too.
    assert!(expected.iter().any(|l| l.contains(r#""flag":"hydra""#)), "{expected:?}");

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let mut printed: Vec<String> = Vec::new();
    let mut rng = Pcg64::seed_from_u64(11);
    let mut last_applied = 0u64;
    for round in 0..5 {
        let mut child = hydra()
            .args([
                "watch",
                "--state",
                state_arg,
                "--sync-recluster",
                "50",
                "--snapshot-every",
                "300",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The producer resends the stream from the start; cut it somewhere.
        let cut = rng.random_range(input.len() / 10..input.len());
        let mut stdin = child.stdin.take().unwrap();
        let chunk = input[..cut].to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&chunk);
            stdin
        });
        // A kill during the previous round's log write leaves a torn tail,
        // which the watcher reports (one line) before `applied=`.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let applied: u64 = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "round {round}: no applied= line");
            if let Some(n) = line.trim().strip_prefix("applied=") {
                break n.parse().unwrap();
            }
            assert!(line.contains("cut a torn final write"), "round {round}: {line}");
        };
        assert!(
            applied >= last_applied,
            "round {round}: applied went back from {last_applied} to {applied}"
        );
        last_applied = applied;
        let wait = rng.random_range(0..40);
        std::thread::sleep(std::time::Duration::from_millis(wait));
        child.kill().unwrap();
        let _stdin = feeder.join().unwrap();
        child.wait().unwrap();
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        printed.extend(out.lines().map(str::to_owned));
    }
    // Finally an uninterrupted run to the end of the stream.
    let (rest, stderr, ok) =
        watch_to_end(&["--state", state_arg, "--sync-recluster", "50"], &input);
    assert!(ok, "{stderr}");
    printed.extend(rest);
    assert_eq!(printed, expected);
}

/// Builds a state directory holding a snapshot and a log with records.
fn state_with_snapshot_and_log(dir: &Path) -> usize {
    let events = scenario(5);
    let sink = Box::new(std::io::sink());
    // A snapshot two thirds of the way, then log records after it.
    let durability = DurabilityConfig::new().snapshot_every(events.len() as u64 * 2 / 3);
    let mut w = DurableWatcher::open(dir, WatchConfig::new(), durability, sink).unwrap();
    for (i, e) in events.iter().enumerate() {
        w.apply(i as u64 + 1, e).unwrap();
    }
    w.close().unwrap();
    events.len()
}

fn reopen(dir: &Path) -> hydra_detect::Result<DurableWatcher> {
    DurableWatcher::open(
        dir,
        WatchConfig::new(),
        DurabilityConfig::new(),
        Box::new(std::io::sink()),
    )
}

fn state_error(result: hydra_detect::Result<DurableWatcher>) -> (String, String) {
    let err = result.unwrap_err();
    match err.kind() {
        ErrorKind::State { path, message } => {
            (path.file_name().unwrap().to_string_lossy().into_owned(), message.clone())
        }
        other => panic!("expected a state error, got {other:?}: {err}"),
    }
}

// See: #15 (a damaged log tail was taken for a torn write and flags were
// announced again).
#[test]
fn a_torn_final_write_is_cut_off_and_lost_acknowledged_events_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let n = state_with_snapshot_and_log(dir.path()) as u64;
    let log = dir.path().join("log.bin");
    let bytes = std::fs::read(&log).unwrap();
    // A torn final write after the acknowledged events: a record's first 20
    // bytes, then zeros where the file grew but the data never landed.
    let mut torn = bytes.clone();
    torn.extend_from_slice(&bytes[24..44]);
    torn.extend_from_slice(&[0; 64]);
    std::fs::write(&log, &torn).unwrap();
    let w = reopen(dir.path()).unwrap();
    assert_eq!((w.applied(), w.torn_bytes()), (n, 84));
    drop(w);
    // The cut was made durable: reopening again agrees.
    let w = reopen(dir.path()).unwrap();
    assert_eq!((w.applied(), w.torn_bytes()), (n, 0));
    drop(w);
    // Cut into acknowledged events, cut to the header, zeroed tail, deleted.
    let zeroed = {
        let mut z = bytes.clone();
        let len = z.len();
        z[len - 60..].fill(0);
        z
    };
    for (what, damaged) in [
        ("cut", Some(bytes[..bytes.len() - 80].to_vec())),
        ("header only", Some(bytes[..24].to_vec())),
        ("zeroed tail", Some(zeroed)),
        ("deleted", None),
    ] {
        match &damaged {
            Some(b) => std::fs::write(&log, b).unwrap(),
            None => std::fs::remove_file(&log).unwrap(),
        }
        let (file, message) = state_error(reopen(dir.path()));
        assert_eq!(file, "log.bin", "{what}");
        assert!(message.contains("acknowledged events are lost"), "{what}: {message}");
        std::fs::write(&log, &bytes).unwrap();
    }
    assert_eq!(reopen(dir.path()).unwrap().applied(), n);
}

#[test]
fn damaged_state_files_are_clear_errors() {
    // A corrupted record in the middle of the log.
    let dir = tempfile::tempdir().unwrap();
    state_with_snapshot_and_log(dir.path());
    let log = dir.path().join("log.bin");
    let mut bytes = std::fs::read(&log).unwrap();
    assert!(bytes.len() > 200, "log too short to damage in the middle");
    bytes[40] ^= 0x55;
    std::fs::write(&log, &bytes).unwrap();
    let (file, message) = state_error(reopen(dir.path()));
    assert_eq!(file, "log.bin");
    assert!(message.contains("damaged record"), "{message}");

    // A damaged snapshot.
    let dir = tempfile::tempdir().unwrap();
    state_with_snapshot_and_log(dir.path());
    let snap = dir.path().join("snapshot.bin");
    let mut bytes = std::fs::read(&snap).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&snap, &bytes).unwrap();
    let (file, message) = state_error(reopen(dir.path()));
    assert_eq!(file, "snapshot.bin");
    assert!(message.contains("checksum"), "{message}");

    // A truncated snapshot.
    std::fs::write(&snap, &bytes[..10]).unwrap();
    let (file, message) = state_error(reopen(dir.path()));
    assert_eq!(file, "snapshot.bin");
    assert!(message.contains("truncated"), "{message}");

    // Another format version.
    let dir = tempfile::tempdir().unwrap();
    state_with_snapshot_and_log(dir.path());
    let log = dir.path().join("log.bin");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[8] = 99;
    let crc = crc32fast::hash(&bytes[..20]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&log, &bytes).unwrap();
    let (file, message) = state_error(reopen(dir.path()));
    assert_eq!(file, "log.bin");
    assert!(message.contains("version 99"), "{message}");

    // And the CLI says so, naming the file.
    let (_, stderr, ok) = watch_to_end(&["--state", dir.path().to_str().unwrap()], b"");
    assert!(!ok);
    assert!(stderr.contains("log.bin") && stderr.contains("version 99"), "{stderr}");
}

#[test]
fn bad_lines_are_skipped_and_reported_unless_strict() {
    let mut input = to_csv(&hydra_pool_with_ban_wave());
    input.extend_from_slice(b"not-a-time,x,signup,,,\n");
    let (flags, stderr, ok) = watch_to_end(&[], &input);
    assert!(ok);
    assert_eq!(flags.len(), 4);
    assert!(stderr.contains("line ") && stderr.contains("not-a-time"), "{stderr}");
    let (_, stderr, ok) = watch_to_end(&["--strict"], &input);
    assert!(!ok);
    assert!(stderr.contains("not-a-time"), "{stderr}");
}

// See: #15 (a second watcher on the same state directory corrupted it).
#[test]
fn a_second_watcher_on_a_state_directory_is_refused_and_a_killed_ones_lock_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let mut first = hydra()
        .args(["watch", "--state", state_arg])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(first.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "applied=0");
    let (_, message, ok) = watch_to_end(&["--state", state_arg], b"");
    assert!(!ok);
    assert!(message.contains("in use by another hydra watch"), "{message}");
    assert!(message.contains(&format!("process {}", first.id())), "{message}");
    // Killed: its lock goes with it.
    first.kill().unwrap();
    first.wait().unwrap();
    let input = to_csv(&hydra_pool_with_ban_wave());
    let (flags, message, ok) = watch_to_end(&["--state", state_arg], &input);
    assert!(ok, "{message}");
    assert_eq!(flags.len(), 4);
}

// See: #15 (resend mistakes passed silently).
#[test]
fn resend_mistakes_are_refused() {
    let events = scenario(5);
    let input = to_csv(&events);
    let (expected, _, ok) = watch_to_end(&[], &input);
    assert!(ok);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let k = events.len() * 2 / 3;
    let (mut printed, message, ok) = watch_to_end(&["--state", state_arg], &to_csv(&events[..k]));
    assert!(ok, "{message}");
    let tail = to_csv(&events[k..]);
    // The tail without --first-seq: numbered from 1, it is not what was logged.
    let (out, message, ok) = watch_to_end(&["--state", state_arg], &tail);
    assert!(!ok && out.is_empty(), "{message}");
    assert!(message.contains("event 1 as resent differs from event 1"), "{message}");
    assert!(message.contains(&format!("--first-seq {}", k + 1)), "{message}");
    // A gap: applied k, resent from k + 1001.
    let gap = format!("{}", k + 1001);
    let (_, message, ok) = watch_to_end(&["--state", state_arg, "--first-seq", &gap], &tail);
    assert!(!ok);
    assert!(message.contains(&format!("events {} to {} would be missing", k + 1, k + 1000)));
    // A first sequence number that overflows.
    let (_, message, ok) = watch_to_end(&["--first-seq", "18446744073709551615"], &tail);
    assert!(!ok);
    assert!(message.contains("past the largest sequence number"), "{message}");
    // The right resend goes on where the state stopped.
    let first = format!("{}", k + 1);
    let (rest, message, ok) = watch_to_end(&["--state", state_arg, "--first-seq", &first], &tail);
    assert!(ok, "{message}");
    printed.extend(rest);
    assert_eq!(printed, expected);
}

// See: #15 (after 10 bad lines the skip report lost the reason and value).
#[test]
fn a_long_run_of_bad_lines_is_reported_by_reason_with_samples() {
    // Two bad lines after each good one, 40 pairs in all.
    let good = to_csv(&hydra_pool_with_ban_wave());
    let mut input = Vec::new();
    let mut pairs = 0;
    for line in good.split_inclusive(|&b| b == b'\n') {
        input.extend_from_slice(line);
        if pairs < 40 && input.len() > line.len() {
            writeln!(input, "bad-ts-{pairs},x,signup,,,").unwrap();
            writeln!(input, "1767225600,y{pairs},bann,,,").unwrap();
            pairs += 1;
        }
    }
    while pairs < 40 {
        writeln!(input, "bad-ts-{pairs},x,signup,,,").unwrap();
        writeln!(input, "1767225600,y{pairs},bann,,,").unwrap();
        pairs += 1;
    }
    let (flags, stderr, ok) = watch_to_end(&[], &input);
    assert!(ok, "{stderr}");
    assert_eq!(flags.len(), 4);
    // The first ten one by one, then samples naming the counts by reason
    // and the latest bad value, the last one at the end of the input.
    assert!(stderr.contains("bad-ts-4"), "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(last.contains("80 records skipped (timestamp 40, event 40)"), "{last}");
    assert!(last.contains("latest: line ") && last.contains("\"bann\""), "{last}");
    let samples = stderr.lines().filter(|l| l.contains("so far; latest: line ")).count();
    assert!(samples >= 3, "{stderr}");
}
