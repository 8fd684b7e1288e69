//! Hydra operators: scripted signup bursts, rotating residential proxies,
//! pooled cards, spoofed devices, distillation templates mixed with popular
//! ones and resold traffic, synchronized activity, ban waves and
//! replacements that reuse the banned accounts' infrastructure.

use rand::Rng;

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

/// Fixed traits by position (see [`SimConfig`](crate::sim::SimConfig)).
#[derive(Clone, Copy, Debug)]
struct Traits {
    careful: bool,
    never_banned: bool,
    pivot: bool,
    device_pool: bool,
    /// Replacements draw from the pools like any new account and reuse
    /// nothing of the banned account's own (signup address, card, device).
    pooled_replacement: bool,
}

impl Traits {
    fn of(position: usize) -> Self {
        Self {
            careful: position == 1,
            never_banned: position == 2,
            pivot: position == 0 || position == 3,
            device_pool: position == 2 || (position >= 3 && position.is_multiple_of(2)),
            pooled_replacement: position == 4,
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
        t
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
    let traits = Traits::of(position);
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
    let pool_size = if traits.careful { size * 3 / 2 } else { size / 2 }.max(40);
    let pool: Vec<Addr> = (0..pool_size).map(|_| g.residential()).collect();
    g.proxy_ips.extend(pool.iter().map(|a| a.ip));
    g.proxy_pools.push(pool.clone());
    let cards: Vec<u64> = (0..(size / 4).max(3)).map(|_| g.unique()).collect();
    let devices: Vec<u64> = (0..8 + size / 200).map(|_| g.unique()).collect();
    let phones: Vec<u64> = (0..(size / 8).max(2)).map(|_| g.unique()).collect();
    let custom_tls = g.unique();
    let uas = [g.common_ua(), 2 + 8 * g.between(0, 7) as u64];
    let family: Vec<u64> = (0..g.between(3, 9)).map(|_| g.unique()).collect();
    let new_family: Vec<u64> = (0..g.between(3, 7)).map(|_| g.unique()).collect();
    let pivot_at = g.release + g.between(0, 6 * 3600);

    let new_plan = |g: &mut Gen, signup: Timestamp| -> Plan {
        let n_ips = g.between(4, 13) as usize;
        let ips = (0..n_ips).map(|_| pool[g.below(pool.len())]).collect();
        let device = if traits.device_pool && !traits.careful {
            devices[g.below(devices.len())]
        } else {
            g.unique()
        };
        let card = if traits.careful {
            g.chance(0.5).then(|| g.unique())
        } else {
            g.chance(0.9).then(|| cards[g.below(cards.len())])
        };
        let phone = (!traits.careful && g.chance(0.3)).then(|| phones[g.below(phones.len())]);
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
            let share = 0.1 + g.rng.random::<f64>() * 0.15;
            let alive = plans.len();
            for i in 0..alive {
                if plans[i].ban.is_some() || plans[i].signup > wave - 2 * DAY || !g.chance(share) {
                    continue;
                }
                let ban = wave + g.between(0, 1800);
                plans[i].ban = Some(ban);
                if !g.chance(if traits.careful { 0.7 } else { 0.85 }) {
                    continue;
                }
                let delay = g.exp(5400.0).clamp(90.0, 12.0 * 3600.0) as i64;
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
            wave += g.between(6 * DAY, 11 * DAY);
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
