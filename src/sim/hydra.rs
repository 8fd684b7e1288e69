//! Hydra operators: scripted signup bursts, rotating residential proxies,
//! pooled cards, spoofed devices, distillation templates mixed with popular
//! ones and resold traffic, synchronized activity, ban waves and
//! replacements that reuse the banned accounts' infrastructure.

use rand::RngExt;

use crate::error::Result;
use crate::event::Timestamp;
use crate::sim::record::{DOMAIN_OPERATOR, op};
use crate::sim::truth::Role;
use crate::sim::world::{Addr, Gen, HydraBan, gt, tag};

const DAY: i64 = 86_400;

/// What one operator did, for the summary.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OperatorSummary {
    /// Operator id, e.g. `op-3`.
    pub id: String,
    /// Accounts signed up in its initial bursts.
    pub initial: u64,
    /// Replacement accounts signed up after bans.
    pub replacements: u64,
    /// Its accounts banned (reason `hydra`).
    pub banned: u64,
    /// Its traits, as the tags its accounts carry (`careful_operator`, ...).
    pub traits: Vec<&'static str>,
}

/// An operator's style: fixed by position, or drawn from the seed
/// ([`SimConfig::varied`](crate::sim::SimConfig::varied)).
#[derive(Clone, Copy, Debug)]
struct Traits {
    careful: bool,
    never_banned: bool,
    pivot: bool,
    device_pool: bool,
    /// Replacements draw from the pools like any new account and reuse
    /// nothing of the banned account's own (signup address, card, device).
    pooled_replacement: bool,
    /// Bans come one or a few at a time every day or two, not in waves.
    trickle: bool,
    /// Exits through rented cloud addresses instead of residential proxies.
    cloud: bool,
    /// Large pools and few addresses per account: each account links to
    /// only a few others.
    sparse: bool,
}

impl Traits {
    fn of(position: usize) -> Self {
        Self {
            careful: position == 1,
            never_banned: position == 2,
            pivot: position == 0 || position == 3,
            device_pool: position == 2 || (position >= 3 && position.is_multiple_of(2)),
            pooled_replacement: position == 4,
            trickle: false,
            cloud: false,
            sparse: false,
        }
    }

    fn drawn(g: &mut Gen) -> Self {
        Self {
            careful: g.chance(0.25),
            never_banned: g.chance(0.2),
            pivot: g.chance(0.5),
            device_pool: g.chance(0.5),
            pooled_replacement: g.chance(0.5),
            trickle: g.chance(0.35),
            cloud: g.chance(0.2),
            sparse: g.chance(0.25),
        }
    }

    fn tags(self) -> u32 {
        let mut t = 0;
        if self.careful {
            t |= tag::CAREFUL_OPERATOR;
        } else {
            t |= tag::POOLED_CARD;
        }
        if self.never_banned {
            t |= tag::NEVER_BANNED;
        }
        if self.pivot {
            t |= tag::PIVOT;
        }
        if self.pooled_replacement {
            t |= tag::POOLED_REPLACEMENT;
        }
        if self.device_pool && !self.careful {
            t |= tag::DEVICE_POOL;
        } else {
            t |= tag::DEVICE_RANDOM;
        }
        if self.trickle {
            t |= tag::TRICKLE_BANS;
        }
        if self.cloud {
            t |= tag::CLOUD_OPERATOR;
        }
        if self.sparse {
            t |= tag::SPARSE_FLEET;
        }
        t
    }
}

/// An operator's numbers: the fixed ones of the presets, or drawn from wide
/// ranges per operator.
#[derive(Clone, Copy, Debug)]
struct Params {
    /// Proxy exits in its pool.
    pool: usize,
    cards: usize,
    devices: usize,
    phones: usize,
    /// Addresses per account: `ips.0 ..= ips.1 - 1`.
    ips: (i64, i64),
    /// Chance that an account holds a card (from the pool, or its own when careful).
    card_p: f64,
    /// Chance that an account holds a phone from the pool.
    phone_p: f64,
    /// Share of live accounts banned per wave: `ban_share.0 + U(0, ban_share.1)`.
    ban_share: (f64, f64),
    /// Chance that a ban is replaced.
    replace_p: f64,
    /// Mean delay from a ban to its replacement's signup, seconds.
    delay: f64,
    /// Days from one wave (or trickle step) to the next: `gap.0 ..= gap.1 - 1` seconds.
    gap: (i64, i64),
}

impl Params {
    /// The fixed numbers of the presets (draws nothing).
    fn fixed(t: Traits, size: usize) -> Self {
        Self {
            pool: if t.careful { size * 3 / 2 } else { size / 2 }.max(40),
            cards: (size / 4).max(3),
            devices: 8 + size / 200,
            phones: (size / 8).max(2),
            ips: (4, 13),
            card_p: if t.careful { 0.5 } else { 0.9 },
            phone_p: if t.careful { 0.0 } else { 0.3 },
            ban_share: (0.1, 0.15),
            replace_p: if t.careful { 0.7 } else { 0.85 },
            delay: 5400.0,
            gap: (6 * DAY, 11 * DAY),
        }
    }

    /// Numbers drawn from wide ranges, shaped by the traits.
    fn drawn(g: &mut Gen, t: Traits, size: usize) -> Self {
        let u = |g: &mut Gen, lo: f64, hi: f64| lo + g.rng.random::<f64>() * (hi - lo);
        let lo = g.between(1, 7);
        let mut p = Self {
            pool: ((size as f64 * u(g, 0.2, 2.0)) as usize).max(40),
            cards: ((size as f64 / u(g, 2.0, 40.0)) as usize).max(3),
            devices: 4 + (size as f64 / u(g, 20.0, 1000.0)) as usize,
            phones: ((size as f64 / u(g, 2.0, 20.0)) as usize).max(2),
            ips: (lo, lo + g.between(2, 12)),
            card_p: u(g, 0.4, 1.0),
            phone_p: if t.careful { 0.0 } else { u(g, 0.0, 0.7) },
            ban_share: (u(g, 0.03, 0.2), u(g, 0.02, 0.2)),
            replace_p: u(g, 0.55, 0.95),
            delay: u(g, 600.0, 86_400.0),
            gap: (6 * DAY, 11 * DAY),
        };
        if t.trickle {
            p.ban_share = (u(g, 0.002, 0.01), 0.01);
            p.gap = (DAY / 2, 2 * DAY);
        }
        if t.sparse {
            p.pool = size * 2;
            p.ips = (1, 4);
            p.cards = (size / 2).max(3);
            p.devices = (size / 10).max(8);
            p.phones = (size / 2).max(2);
        }
        p
    }
}

/// One account's plan, fixed before its events are drawn.
#[derive(Clone, Debug)]
struct Plan {
    signup: Timestamp,
    ban: Option<Timestamp>,
    replacement: bool,
    ips: Vec<Addr>,
    device: u64,
    card: Option<u64>,
    phone: Option<u64>,
    domain: u64,
}

/// Generates operator `position` (0-based) with `size` initial accounts.
pub(crate) fn operator(g: &mut Gen, position: usize, size: u32) -> Result<OperatorSummary> {
    let traits = if g.cfg.get_varied() { Traits::drawn(g) } else { Traits::of(position) };
    let par = if g.cfg.get_varied() {
        Params::drawn(g, traits, size as usize)
    } else {
        Params::fixed(traits, size as usize)
    };
    let id = format!("op-{}", position + 1);
    let group = g.group(id.clone());
    let size = size as usize;
    let (start, end) = (g.start, g.end);
    let span = end - start;

    let op_start =
        start + if position == 0 { g.between(0, 2 * DAY) } else { g.between(0, span / 6) };
    // Synchronized activity: the operator's scripts run in the same minutes.
    let mut minutes = Vec::new();
    let work_from = g.between(0, 10);
    let mut day = start / DAY;
    while day * DAY < end {
        let k = g.between(6, 13);
        for _ in 0..k {
            let hour = work_from + g.between(0, 14);
            minutes.push((day * DAY + hour * 3600) / 60 + g.between(0, 60));
        }
        day += 1;
    }
    minutes.sort_unstable();
    minutes.dedup();

    // Infrastructure: residential proxies, cards, devices, phones, domains.
    let pool: Vec<Addr> =
        (0..par.pool).map(|_| if traits.cloud { g.cloud() } else { g.residential() }).collect();
    if !traits.cloud {
        g.proxy_ips.extend(pool.iter().map(|a| a.ip));
        g.proxy_pools.push(pool.clone());
    }
    let cards: Vec<u64> = (0..par.cards).map(|_| g.unique()).collect();
    let devices: Vec<u64> = (0..par.devices).map(|_| g.unique()).collect();
    let phones: Vec<u64> = (0..par.phones).map(|_| g.unique()).collect();
    let custom_tls = g.unique();
    let uas = [g.common_ua(), 2 + 8 * g.between(0, 7) as u64];
    let family: Vec<u64> = (0..g.between(3, 9)).map(|_| g.unique()).collect();
    let new_family: Vec<u64> = (0..g.between(3, 7)).map(|_| g.unique()).collect();
    let pivot_at = g.release + g.between(0, 6 * 3600);

    let new_plan = |g: &mut Gen, signup: Timestamp| -> Plan {
        let n_ips = g.between(par.ips.0, par.ips.1) as usize;
        let ips = (0..n_ips).map(|_| pool[g.below(pool.len())]).collect();
        let device = if traits.device_pool && !traits.careful {
            devices[g.below(devices.len())]
        } else {
            g.unique()
        };
        let card = if traits.careful {
            g.chance(par.card_p).then(|| g.unique())
        } else {
            g.chance(par.card_p).then(|| cards[g.below(cards.len())])
        };
        let phone =
            (par.phone_p > 0.0 && g.chance(par.phone_p)).then(|| phones[g.below(phones.len())]);
        let domain = if traits.careful || g.chance(0.4) {
            g.below(2) as u64
        } else {
            DOMAIN_OPERATOR + 4 * position as u64 + g.below(2) as u64
        };
        Plan { signup, ban: None, replacement: false, ips, device, card, phone, domain }
    };

    // Scripted signup bursts over the first three weeks of the operator.
    let mut plans: Vec<Plan> = Vec::with_capacity(size * 2);
    while plans.len() < size {
        let burst = (g.between(30, 301) as usize).min(size - plans.len());
        let mut t = op_start + g.between(0, 21 * DAY).min((end - op_start - 3 * DAY).max(1));
        for _ in 0..burst {
            t += g.between(2, 41);
            let p = new_plan(g, t);
            plans.push(p);
        }
    }
    plans.sort_by_key(|p| p.signup);
    let initial = plans.len() as u64;

    // Ban waves, each followed by replacements reusing banned infrastructure.
    let mut replacements = 0u64;
    if !traits.never_banned {
        let mut wave = op_start + g.between(7 * DAY, 14 * DAY);
        while wave < end - DAY {
            let share = par.ban_share.0 + g.rng.random::<f64>() * par.ban_share.1;
            let alive = plans.len();
            for i in 0..alive {
                if plans[i].ban.is_some() || plans[i].signup > wave - 2 * DAY || !g.chance(share) {
                    continue;
                }
                let ban = wave + g.between(0, 1800);
                plans[i].ban = Some(ban);
                if !g.chance(par.replace_p) {
                    continue;
                }
                let delay = g.exp(par.delay).clamp(90.0, 4.0 * par.delay.max(10_800.0)) as i64;
                let signup = ban + delay;
                if signup >= end - 3600 {
                    continue;
                }
                let banned = plans[i].clone();
                let mut p = new_plan(g, signup);
                if traits.pooled_replacement {
                    p.replacement = true;
                    plans.push(p);
                    replacements += 1;
                    continue;
                }
                // The banned account's signup IP comes first: it was observed.
                let reuse = g.between(1, 4) as usize;
                for (k, addr) in banned.ips.iter().take(reuse).enumerate() {
                    if k < p.ips.len() {
                        p.ips[k] = *addr;
                    }
                }
                if !traits.careful {
                    if banned.card.is_some() && g.chance(0.7) {
                        p.card = banned.card;
                    }
                    if traits.device_pool || g.chance(0.4) {
                        p.device = banned.device;
                    }
                }
                p.replacement = true;
                plans.push(p);
                replacements += 1;
            }
            wave += g.between(par.gap.0, par.gap.1);
        }
    }

    // Events.
    let base_tags = traits.tags();
    let mut banned = 0u64;
    for plan in &plans {
        let mut acct = g.account(plan.signup)?;
        let s = plan.signup;
        let stop = plan.ban.unwrap_or(end);
        acct.push(s + g.between(0, 4), op::EMAIL, acct.number ^ 0x2f3a5, plan.domain);
        acct.push(s + g.between(0, 4), op::EMAIL_DOMAIN, 0, plan.domain);
        acct.push(s + g.between(0, 4), op::DEVICE, plan.device, 0);
        let tls = if traits.careful {
            1
        } else if g.chance(0.5) {
            3
        } else {
            custom_tls
        };
        acct.push(s + g.between(0, 4), op::TLS_FP, tls, 0);
        let ua = if traits.careful { 0 } else { uas[g.below(2)] };
        acct.push(s + g.between(0, 4), op::USER_AGENT, ua, 0);
        acct.ip(s, plan.ips[0]);
        if let Some(card) = plan.card {
            acct.push((s + g.between(30, 900)).min(stop - 1), op::PAYMENT, card, 0);
        }
        if let Some(phone) = plan.phone {
            acct.push((s + g.between(10, 120)).min(stop - 1), op::PHONE, phone, 0);
        }
        // High volume in the operator's minutes, rotating through proxies.
        let lo = minutes.partition_point(|&m| m * 60 < s + 60);
        let hi = minutes.partition_point(|&m| m * 60 + 60 < stop);
        let mut last_ip = plan.ips[0];
        if hi > lo {
            let n = g.between(12, 29) as usize;
            let mut picks: Vec<usize> = (0..n).map(|_| lo + g.below(hi - lo)).collect();
            picks.sort_unstable();
            picks.dedup();
            let mut k = g.below(plan.ips.len());
            for m in picks {
                if !acct.room(4) {
                    break;
                }
                let t = minutes[m] * 60 + g.between(0, 60);
                k = (k + 1 + usize::from(g.chance(0.3))) % plan.ips.len();
                last_ip = plan.ips[k];
                acct.ip(t, last_ip);
                for _ in 0..1 + usize::from(g.chance(0.5)) {
                    let tpl = if traits.pivot && t >= pivot_at && g.chance(0.8) {
                        new_family[g.below(new_family.len())]
                    } else {
                        let x = g.rng.random::<f64>();
                        if x < 0.55 {
                            family[g.below(family.len())]
                        } else if x < 0.75 {
                            g.popular_template(t)
                        } else {
                            g.unique()
                        }
                    };
                    acct.push((t + g.between(0, 30)).min(stop - 1), op::TEMPLATE, tpl, 0);
                }
            }
        }
        if let Some(ban) = plan.ban {
            acct.push(ban, op::BAN, 0, 0);
            g.hydra_bans.push(HydraBan { ts: ban, addr: last_ip });
            banned += 1;
        }
        let role = if plan.replacement { Role::HydraReplacement } else { Role::Hydra };
        g.emit(acct, role, group, gt::OPERATOR, base_tags)?;
    }

    let tags = base_tags;
    let traits = crate::sim::world::TAGS
        .iter()
        .enumerate()
        .filter(|(i, _)| tags >> i & 1 == 1)
        .map(|(_, t)| *t)
        .collect();
    Ok(OperatorSummary { id, initial, replacements, banned, traits })
}
