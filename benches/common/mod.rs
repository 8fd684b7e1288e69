//! A synthetic platform for benches and scale runs: seeded, streamed, with a
//! realistic mix of indicator sharing.
//!
//! Accounts fall into classes by a hash of their index: solo users (own IP,
//! device, e-mail, card), households of about three (shared home IP, family
//! card), offices of about forty (office IPs, corporate domain, org and
//! card), mobile users behind carrier-grade NAT (a few addresses shared by
//! about a thousand accounts each: supernodes), and hydra rings of about two
//! hundred accounts (a pool of payment cards, many-to-many rotation over
//! proxy IPs, a rare template, synchronized first sightings). Everyone draws
//! user agents, TLS fingerprints, ASNs and popular framework templates from
//! small skewed pools, so those become supernodes too.
//!
//! Observations pick a random account each, so the stream is interleaved as
//! real traffic is, not grouped by account.

#![allow(dead_code)] // Each bench or example uses a different part.

use std::fmt::Write as _;

use hydra_detect::{Action, Event, Indicator, IndicatorKind};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

/// Parameters of a synthetic platform.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Platform {
    /// Number of accounts.
    pub(crate) accounts: u64,
    /// Number of `observe` events.
    pub(crate) observations: u64,
    /// Seed of the event stream.
    pub(crate) seed: u64,
}

/// SplitMix64: a cheap, good hash of an integer.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Hydra { ring: u64 },
    Office { office: u64 },
    Mobile,
    Household { home: u64 },
    Solo,
}

impl Platform {
    /// A platform of `accounts` accounts and `observations` observations.
    pub(crate) fn new(accounts: u64, observations: u64, seed: u64) -> Self {
        Self { accounts: accounts.max(1), observations, seed }
    }

    fn class(&self, a: u64) -> Class {
        let h = mix(a ^ self.seed);
        let n = self.accounts;
        match h % 100 {
            0..2 => Class::Hydra { ring: (h >> 8) % (n / 10_000).max(1) },
            2..5 => Class::Office { office: (h >> 8) % (n * 3 / 4_000).max(1) },
            5..10 => Class::Mobile,
            10..35 => Class::Household { home: (h >> 8) % (n / 12).max(1) },
            _ => Class::Solo,
        }
    }

    /// When account `a` signed up: spread over sixty days; hydra rings sign
    /// up in bursts of ten one minute apart.
    fn signup(&self, a: u64, class: Class) -> i64 {
        match class {
            Class::Hydra { ring } => {
                let burst = (mix(a) % 20) as i64;
                T0 + (mix(ring ^ 77) % (30 * DAY as u64)) as i64
                    + burst * DAY / 4
                    + (a % 10) as i64 * 60
            }
            _ => T0 + (mix(a ^ 0x5151) % (60 * DAY as u64)) as i64,
        }
    }

    /// Calls `f` with every event, in stream order. One `Event` is reused,
    /// so the stream costs no allocation per event.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Event)) {
        let mut rng = Pcg64::seed_from_u64(self.seed);
        let mut event = Event {
            ts: 0,
            account: String::new(),
            action: Action::Observe(Indicator::new(IndicatorKind::Ip, String::new())),
        };
        let custom = IndicatorKind::parse("ja4h").expect("valid kind");
        for _ in 0..self.observations {
            let a = rng.random_range(0..self.accounts);
            let class = self.class(a);
            let r: u64 = rng.random();
            let signup = self.signup(a, class);
            let ts = match class {
                // Hydra accounts work in short synchronized sessions.
                Class::Hydra { .. } => signup + (r % 3) as i64 * DAY + (r >> 8) as i64 % 300,
                _ => signup + (r % (30 * DAY as u64)) as i64,
            };
            event.ts = ts;
            event.account.clear();
            let _ = write!(event.account, "acct-{a:08}");
            let Action::Observe(ind) = &mut event.action else { unreachable!() };
            ind.value.clear();
            let v = &mut ind.value;
            let pick = (r >> 16) % 100;
            let sub = r >> 24;
            ind.kind = match pick {
                0..35 => {
                    match class {
                        Class::Hydra { ring } => {
                            let _ = write!(v, "45.{}.{}.{}", ring % 200, (sub % 50) / 10, sub % 10);
                        }
                        Class::Office { office } => {
                            let o = mix(office);
                            let _ = write!(v, "81.{}.{}.{}", o % 250, (o >> 8) % 250, sub % 2);
                        }
                        Class::Mobile => {
                            let pool = (self.accounts / 2_000).max(1);
                            let _ =
                                write!(v, "100.64.{}.{}", (sub % pool) / 250, (sub % pool) % 250);
                        }
                        Class::Household { home } if !sub.is_multiple_of(10) => {
                            let h = mix(home ^ 0x40);
                            let _ = write!(
                                v,
                                "{}.{}.{}.{}",
                                90 + h % 60,
                                (h >> 8) % 256,
                                (h >> 16) % 256,
                                (h >> 24) % 256
                            );
                        }
                        _ => {
                            // Own address, sometimes a one-off elsewhere.
                            let h = if sub.is_multiple_of(10) { mix(r) } else { mix(a ^ 0x41) };
                            let _ = write!(
                                v,
                                "{}.{}.{}.{}",
                                1 + h % 89,
                                (h >> 8) % 256,
                                (h >> 16) % 256,
                                (h >> 24) % 256
                            );
                        }
                    }
                    IndicatorKind::Ip
                }
                35..45 => {
                    match class {
                        Class::Hydra { ring } => write!(v, "dev-h{ring}-{}", sub % 30),
                        _ => write!(v, "dev-{:x}", mix(a ^ 0xde)),
                    }
                    .ok();
                    IndicatorKind::Device
                }
                45..53 => {
                    // Skewed: a handful of agents cover most traffic.
                    let x = sub % 1000;
                    let _ = write!(v, "Mozilla/5.0 agent-{}", x * x / 3_000);
                    IndicatorKind::UserAgent
                }
                53..57 => {
                    let _ = write!(v, "t13d{}", (sub % 100) * (sub % 100) / 250);
                    IndicatorKind::TlsFp
                }
                57..70 => {
                    match class {
                        Class::Hydra { ring } => write!(v, "tmpl-rare-{ring}"),
                        _ if sub.is_multiple_of(2) => write!(v, "tmpl-framework-{}", sub % 10 / 3),
                        _ => write!(v, "tmpl-{:x}-{}", mix(a ^ 0x7e), sub % 3),
                    }
                    .ok();
                    IndicatorKind::Template
                }
                70..75 => {
                    let _ = write!(v, "user{a}@mail-{}.example", a % 7);
                    IndicatorKind::Email
                }
                75..78 => {
                    match class {
                        Class::Office { office } => write!(v, "corp{office}.example"),
                        _ => write!(v, "mail-{}.example", a % 7),
                    }
                    .ok();
                    IndicatorKind::EmailDomain
                }
                78..81 => {
                    let _ = write!(v, "+1555{:07}", mix(a ^ 0x90) % 10_000_000);
                    IndicatorKind::Phone
                }
                81..87 => {
                    match class {
                        Class::Hydra { ring } => write!(v, "card-h{ring}-{}", sub % 20),
                        Class::Office { office } => write!(v, "card-corp-{office}"),
                        Class::Household { home } if a % 2 == 0 => write!(v, "card-home-{home}"),
                        _ => write!(v, "card-{:x}", mix(a ^ 0xca)),
                    }
                    .ok();
                    IndicatorKind::Payment
                }
                87..93 => {
                    let x = sub % 3000;
                    let _ = write!(v, "AS{}", 1000 + x * x / 3000);
                    IndicatorKind::Asn
                }
                93..96 => {
                    match class {
                        Class::Office { office } => write!(v, "Org {office}"),
                        _ => write!(v, "org-{:x}", mix(a ^ 0x06)),
                    }
                    .ok();
                    IndicatorKind::Org
                }
                _ => {
                    let _ = write!(v, "ja4h-{}", sub % 100);
                    custom.clone()
                }
            };
            f(&event);
        }
    }

    /// Every event in a `Vec` (small platforms only).
    pub(crate) fn events(&self) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.observations as usize);
        self.for_each(|e| out.push(e.clone()));
        out
    }
}
