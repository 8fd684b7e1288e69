//! Watch a live stream: flag replacements of banned accounts as they sign up.

// # Watching a stream
//
// An operator's accounts share cards, devices and proxy IPs. When some are
// banned, the operator signs up replacements within hours on the same
// infrastructure. A family member who signs up on a shared home network
// must not be caught in the same net.
//
// We will:
//
// 1. build a `Watcher` with the default configuration,
// 2. feed it a household and an operator's pool, a ban wave, and the
//    signups that follow, printing each flag as the JSON line `hydra watch`
//    would print,
// 3. lift a ban and see the flag that depended on it retracted,
// 4. run the same stream through a `DurableWatcher` with a state directory
//    and reopen it, as after a crash.

use hydra_detect::{
    DurabilityConfig, DurableWatcher, Event, IndicatorKind, WatchConfig, WatchFlagKind, Watcher,
};

fn stream() -> Vec<Event> {
    let obs = |ts, a: &str, kind, v: &str| Event::observe(ts, a, kind, v);
    let mut events = Vec::new();
    // A household on one IP; the kid is banned for spam.
    for (i, member) in ["mum", "kid"].iter().enumerate() {
        events.push(Event::signup(i as i64 * 100, *member));
        events.push(obs(i as i64 * 100 + 1, member, IndicatorKind::Ip, "81.2.3.4"));
    }
    // An operator's pool: six accounts over two cards and two devices.
    for i in 0..6 {
        let a = format!("op-{i}");
        let t = 1000 + i * 60;
        events.push(Event::signup(t, &*a));
        events.push(obs(t + 1, &a, IndicatorKind::Ip, "81.2.3.4"));
        events.push(obs(t + 2, &a, IndicatorKind::Device, &format!("dev-{}", i % 2)));
        events.push(obs(t + 3, &a, IndicatorKind::Payment, &format!("card-{}", i % 2)));
    }
    // A ban wave, then signups an hour later.
    events.push(Event::ban(86_400, "kid", Some("spam".into())));
    events.push(Event::ban(86_400, "op-0", Some("hydra".into())));
    events.push(Event::ban(86_400, "op-1", Some("hydra".into())));
    let t = 86_400 + 3600;
    events.push(Event::signup(t, "gran"));
    events.push(obs(t + 1, "gran", IndicatorKind::Ip, "81.2.3.4"));
    events.push(Event::signup(t + 10, "op-new"));
    events.push(obs(t + 11, "op-new", IndicatorKind::Ip, "81.2.3.4"));
    events.push(obs(t + 12, "op-new", IndicatorKind::Device, "dev-0"));
    events.push(obs(t + 40, "op-new", IndicatorKind::Payment, "card-0"));
    // The ban of op-0 turns out to be a mistake.
    events.push(Event::unban(t + 7200, "op-0"));
    events
}

fn main() -> hydra_detect::Result<()> {
    // ## 1. A watcher
    let mut watcher = Watcher::new(WatchConfig::new())?;

    // ## 2. and 3. Feed the stream
    //
    // `apply` returns the flags an event caused; the empty `Vec` of the
    // common case does not allocate. `seq` is the event's position in the
    // stream and is copied into each flag.
    let events = stream();
    let mut announced = Vec::new();
    for (i, event) in events.iter().enumerate() {
        for flag in watcher.apply(i as u64 + 1, event)? {
            println!("{}", flag.to_json());
            announced.push((flag.account.clone(), flag.flag));
        }
    }
    // The replacement was flagged on op-0's device and card; once op-0's
    // ban is lifted, all that is left is a shared IP, which never flags on
    // its own: the flag is retracted. Gran, on the same IP, never was.
    assert_eq!(
        announced,
        [
            ("op-new".to_owned(), WatchFlagKind::Replacement),
            ("op-new".to_owned(), WatchFlagKind::Retract)
        ]
    );

    // ## 4. Durable state
    //
    // With a state directory, each event is logged before its flags are
    // delivered (here to a sink that drops them); reopening recovers the
    // state and reports how many events were applied, so a producer can
    // resend from there.
    let dir = tempfile::tempdir()
        .map_err(|e| hydra_detect::Error::io("cannot make a temporary directory", None, e))?;
    let mut durable = DurableWatcher::open(
        dir.path(),
        WatchConfig::new(),
        DurabilityConfig::new(),
        Box::new(std::io::sink()),
    )?;
    for (i, event) in events.iter().enumerate() {
        durable.apply(i as u64 + 1, event)?;
    }
    durable.close()?;
    let reopened = DurableWatcher::open(
        dir.path(),
        WatchConfig::new(),
        DurabilityConfig::new(),
        Box::new(std::io::sink()),
    )?;
    println!("applied={}", reopened.applied());
    assert_eq!(reopened.applied(), events.len() as u64);
    Ok(())
}
