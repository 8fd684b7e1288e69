//! The legitimate population: solo users, households on dynamic IPs,
//! companies behind office NATs with corporate cards, campuses, mobile
//! carrier NATs, VPN and cloud exits, accounts banned for unrelated reasons,
//! and the family members and colleagues who sign up on a network right
//! after one of its accounts was banned.

use rand::RngExt;

use crate::error::Result;
use crate::event::Timestamp;
use crate::sim::record::{DOMAIN_CAMPUS, DOMAIN_COMPANY, op};
use crate::sim::truth::Role;
use crate::sim::world::{Addr, COMMON_TLS, Gen, gt, lease_at, tag};

const DAY: i64 = 86_400;
const HOUR: i64 = 3600;

/// Where a legitimate account's IPs come from at a given time.
#[derive(Clone, Copy, Debug)]
struct Net<'a> {
    /// Shared exits (office, campus, carrier, VPN, cloud), picked at random.
    pool: &'a [Addr],
    /// Probability of using `pool` rather than `home`.
    p_pool: f64,
    /// The account's (or household's) residential leases.
    home: &'a [(Timestamp, Addr)],
    /// Sign up on `pool` (an office or campus network) whatever `p_pool`.
    signup_on_pool: bool,
}

impl Net<'_> {
    fn at(&self, g: &mut Gen, t: Timestamp) -> Addr {
        if !self.pool.is_empty() && (self.home.is_empty() || g.chance(self.p_pool)) {
            self.pool[g.below(self.pool.len())]
        } else {
            lease_at(self.home, t)
        }
    }
}

/// One legitimate account to generate.
#[derive(Clone, Debug)]
struct Persona {
    signup: Timestamp,
    domain: u64,
    device: u64,
    tls: u64,
    ua: u64,
    card: Option<u64>,
    phone: Option<u64>,
    org: Option<u64>,
    sessions: usize,
    /// Private templates (personal, company, course) and how often they are used.
    private: Vec<u64>,
    p_private: f64,
    /// A ban (reason code 1 spam or 2 chargeback) and its optional unban.
    ban: Option<(Timestamp, u64, Option<Timestamp>)>,
    /// Extra sessions at these times (to be seen on a given lease).
    forced: Vec<Timestamp>,
    /// Extra sessions at these times on these addresses (seen on a network
    /// just before being banned there).
    pinned: Vec<(Timestamp, Addr)>,
    /// The signup's address, if it must be a given network's.
    signup_addr: Option<Addr>,
    /// Business hours only.
    office_hours: bool,
    tags: u32,
}

impl Gen {
    fn persona(&mut self, signup: Timestamp, domain: u64) -> Persona {
        let common = self.chance(0.2);
        let device = if common { self.common_device() } else { self.unique() };
        let sessions = (1.0 + self.exp(7.0)).min(22.0) as usize;
        let private = if self.chance(0.3) { vec![self.unique()] } else { Vec::new() };
        let tls = self.common_tls();
        let ua = self.common_ua();
        let card = self.chance(0.55).then(|| self.unique());
        let phone = self.chance(0.25).then(|| self.unique());
        Persona {
            signup,
            domain,
            device,
            tls,
            ua,
            card,
            phone,
            org: None,
            sessions,
            p_private: if private.is_empty() { 0.0 } else { 0.4 },
            private,
            ban: None,
            forced: Vec::new(),
            pinned: Vec::new(),
            signup_addr: None,
            office_hours: false,
            tags: if common { tag::COMMON_DEVICE } else { 0 },
        }
    }

    /// A signup time: uniform over the period but the last day.
    fn signup_time(&mut self) -> Timestamp {
        self.between(self.start, self.end - DAY)
    }

    /// With the unrelated-ban rate, bans `p` some time after signup.
    fn maybe_ban(&mut self, p: &mut Persona) {
        if self.chance(self.cfg.get_legit_ban_rate()) {
            let at = p.signup + self.between(HOUR, 20 * DAY);
            self.ban(p, at);
        }
    }

    /// Bans `p` at `ts` for spam or a chargeback, sometimes lifted later.
    fn ban(&mut self, p: &mut Persona, ts: Timestamp) {
        if ts >= self.end - HOUR {
            return;
        }
        let reason = 1 + self.below(2) as u64;
        let unban = self.chance(0.3).then(|| ts + self.between(HOUR, 72 * HOUR));
        p.ban = Some((ts, reason, unban.filter(|&u| u < self.end)));
        p.tags |= tag::BANNED_UNRELATED;
        if p.ban.is_some_and(|b| b.2.is_some()) {
            p.tags |= tag::UNBANNED;
        }
    }

    /// A session time at or after `from`, daytime, or office hours.
    fn session_time(&mut self, from: Timestamp, office: bool) -> Timestamp {
        let day0 = from / DAY;
        let day = self.between(day0, self.end / DAY + 1);
        let hour = if office { self.between(8, 18) } else { self.between(7, 24) };
        (day * DAY + hour * HOUR + self.between(0, HOUR)).max(from)
    }

    /// Generates the account's events and queues them.
    fn legit(&mut self, p: Persona, net: Net<'_>, group: u32, gtype: u8) -> Result<Timestamp> {
        let s = p.signup;
        let mut acct = self.account(s)?;
        let addr = if let Some(addr) = p.signup_addr {
            addr
        } else if net.signup_on_pool && !net.pool.is_empty() {
            net.pool[self.below(net.pool.len())]
        } else {
            net.at(self, s)
        };
        acct.ip(s, addr);
        acct.push(s + self.between(0, 30), op::EMAIL, acct.number ^ 0x2f3a5, p.domain);
        acct.push(s + self.between(0, 30), op::EMAIL_DOMAIN, 0, p.domain);
        acct.push(s + self.between(0, 30), op::DEVICE, p.device, 0);
        acct.push(s + self.between(0, 30), op::TLS_FP, p.tls, 0);
        acct.push(s + self.between(0, 30), op::USER_AGENT, p.ua, 0);
        let active = |t: Timestamp, end: Timestamp| match p.ban {
            _ if t >= end => false,
            Some((b, _, Some(u))) => t < b || t >= u,
            Some((b, _, None)) => t < b,
            None => true,
        };
        let end = self.end;
        if let Some(org) = p.org {
            acct.push(s + self.between(0, 120), op::ORG, org, 0);
        }
        if let Some(phone) = p.phone {
            let t = s + self.between(60, 900);
            if active(t, end) {
                acct.push(t, op::PHONE, phone, 0);
            }
        }
        if let Some(card) = p.card {
            let upto = if self.chance(0.5) { 3600 } else { 5 * DAY };
            let t = s + self.between(60, upto);
            if active(t, end) {
                acct.push(t, op::PAYMENT, card, 0);
            }
        }
        let mut times: Vec<(Timestamp, Option<Addr>)> =
            (0..p.sessions).map(|_| (self.session_time(s + 300, p.office_hours), None)).collect();
        times.extend(p.forced.iter().filter(|&&t| t > s).map(|&t| (t, None)));
        // Pinned sessions come first so the budget never drops them.
        let mut pinned: Vec<(Timestamp, Option<Addr>)> =
            p.pinned.iter().filter(|pin| pin.0 > s).map(|&(t, a)| (t, Some(a))).collect();
        pinned.append(&mut times);
        for (t, pin) in pinned {
            if !active(t, end) || !acct.room(3) {
                continue;
            }
            let addr = match pin {
                Some(a) => a,
                None => net.at(self, t),
            };
            acct.ip(t, addr);
            let tpl = if !p.private.is_empty() && self.chance(p.p_private) {
                p.private[self.below(p.private.len())]
            } else {
                self.popular_template(t)
            };
            acct.push((t + self.between(1, 120)).min(end - 1), op::TEMPLATE, tpl, 0);
        }
        if let Some((b, reason, unban)) = p.ban {
            acct.push(b, op::BAN, reason, 0);
            if let Some(u) = unban {
                acct.push(u, op::UNBAN, 0, 0);
            }
        }
        self.emit(acct, Role::Legit, group, gtype, p.tags)?;
        Ok(s)
    }

    /// Solo users on their own dynamic residential IPs.
    pub(crate) fn solos(&mut self, n: u64) -> Result<()> {
        for _ in 0..n {
            let s = self.signup_time();
            let domain = self.public_domain();
            let mut p = self.persona(s, domain);
            if self.chance(0.05) {
                p.org = Some(self.unique());
            }
            self.maybe_ban(&mut p);
            let home = self.timeline(s, 2.0, 8.0, 0.01);
            self.legit(
                p,
                Net { pool: &[], p_pool: 0.0, home: &home, signup_on_pool: false },
                0,
                gt::SOLO,
            )?;
        }
        Ok(())
    }

    /// Households of 2 to 5 on a shared dynamic IP, sometimes with a family
    /// card and a member banned for an unrelated reason followed by a new
    /// member's signup on the same network. Returns the accounts made.
    pub(crate) fn households(&mut self, budget: u64) -> Result<u64> {
        let mut made = 0;
        while made < budget {
            let size = [2, 2, 2, 3, 3, 3, 4, 4, 5][self.below(9)];
            let post_ban = self.chance(0.03);
            made += self.household(size, post_ban, None)?;
        }
        Ok(made)
    }

    /// One household; with `hydra_ban`, its lease around that ban is the
    /// banned hydra's proxy IP and a new member signs up on it right after.
    fn household(
        &mut self,
        size: usize,
        post_ban: bool,
        hydra_ban: Option<(Timestamp, Addr)>,
    ) -> Result<u64> {
        let id = self.groups.len();
        let group = self.group(format!("hh-{id}"));
        let first = match hydra_ban {
            Some((ts, _)) => self.between(self.start, (ts - 2 * DAY).max(self.start + 1)),
            None => self.signup_time(),
        };
        let mut home = self.timeline(first, 2.0, 6.0, 0.03);
        if let Some((ts, addr)) = hydra_ban {
            // The household holds the proxy exit's IP around the ban.
            let from = ts - self.between(DAY, 3 * DAY);
            let to = ts + self.between(DAY, 3 * DAY);
            let after = lease_at(&home, to);
            home.retain(|l| l.0 < from || l.0 > to);
            home.push((from, addr));
            home.push((to, after));
            home.sort_by_key(|l| l.0);
        }
        let domain = if self.chance(0.6) { 0 } else { self.public_domain() };
        let family_card = self.chance(0.35).then(|| self.unique());
        let card_users = 2 + self.below(3);
        let mut personas = Vec::with_capacity(size + 1);
        for m in 0..size {
            let s = if m == 0 {
                first
            } else {
                (first + self.between(0, 30 * DAY)).min(self.end - DAY)
            };
            let mut p = self.persona(s, domain);
            p.tags |= tag::DYNAMIC_IP;
            if let Some(card) = family_card
                && m < card_users
            {
                p.card = Some(card);
                p.tags |= tag::SHARED_CARD;
            }
            if let Some((ts, _)) = hydra_ban {
                p.signup = p.signup.min(ts - DAY);
                p.forced.push(ts - self.between(HOUR, DAY));
            }
            self.maybe_ban(&mut p);
            personas.push(p);
        }
        let mut late: Option<(Timestamp, bool)> = None;
        if let Some((ts, _)) = hydra_ban {
            late = Some((ts + self.between(120, 3 * HOUR), false));
        } else if post_ban {
            let victim = self.below(size);
            let mut b = personas[victim].signup + self.between(DAY, 20 * DAY);
            // Keep the ban and the newcomer's signup inside one lease.
            let next = home.partition_point(|l| l.0 <= b);
            if let Some(&(lease_end, _)) = home.get(next) {
                b = b.min(lease_end - 7 * HOUR);
            }
            if b > personas[victim].signup + HOUR && b < self.end - 7 * HOUR {
                personas[victim].ban = None;
                personas[victim].tags &= !(tag::BANNED_UNRELATED | tag::UNBANNED);
                self.ban(&mut personas[victim], b);
                let addr = lease_at(&home, b);
                let seen_at = b - self.between(60, 2 * HOUR).min(b - personas[victim].signup - 1);
                personas[victim].pinned.push((seen_at, addr));
                late = Some((b + self.between(300, 6 * HOUR), true));
            }
        }
        if let Some((s, may_share)) = late {
            let mut p = self.persona(s, domain);
            p.tags |= tag::DYNAMIC_IP | tag::POST_BAN_SIGNUP;
            if let Some(card) = family_card
                && may_share
                && self.chance(0.5)
            {
                p.card = Some(card);
                p.tags |= tag::SHARED_CARD;
            }
            p.signup_addr = Some(lease_at(&home, s));
            personas.push(p);
        }
        let n = personas.len() as u64;
        for p in personas {
            let net = Net { pool: &[], p_pool: 0.0, home: &home, signup_on_pool: false };
            self.legit(p, net, group, gt::HOUSEHOLD)?;
        }
        Ok(n)
    }

    /// Households that were on a hydra's proxy IP when it was banned, with a
    /// member signing up on it minutes to hours after the ban.
    pub(crate) fn post_hydra_ban_households(&mut self, count: usize) -> Result<u64> {
        let mut bans = self.hydra_bans.clone();
        bans.sort_by_key(|b| (b.ts, b.addr.ip));
        bans.retain(|b| b.ts > self.start + 3 * DAY && b.ts < self.end - 4 * HOUR);
        if bans.is_empty() || count == 0 {
            return Ok(0);
        }
        let mut made = 0;
        let step = (bans.len() / count).max(1);
        for b in bans.iter().step_by(step).take(count) {
            let size = 2 + self.below(2);
            made += self.household(size, false, Some((b.ts, b.addr)))?;
        }
        Ok(made)
    }

    /// One company of `size` behind a few office NAT IPs, with a corporate
    /// domain and org, often one corporate card for many accounts, an
    /// onboarding burst, internal templates, and sometimes a colleague
    /// signing up on the office network right after a banned colleague.
    pub(crate) fn company(&mut self, size: usize, force_card: bool) -> Result<u64> {
        let id = self.groups.len();
        let group = self.group(format!("co-{id}"));
        let nats = 1 + (size / 300).min(5) + self.below(2);
        let office = self.office(nats);
        let domain = DOMAIN_COMPANY + id as u64;
        let org = self.unique();
        let card_mode = if force_card { 0 } else { self.below(10) };
        let corp_cards: Vec<u64> = match card_mode {
            0..=5 => vec![self.unique()],
            6 | 7 => (0..size.div_ceil(25)).map(|_| self.unique()).collect(),
            _ => Vec::new(),
        };
        let corp_device = self.chance(0.3).then(|| self.unique());
        let internal: Vec<u64> = (0..2 + self.below(4)).map(|_| self.unique()).collect();
        let burst = size >= 10 && self.chance(0.7);
        let burst_at = self.between(self.start, self.end - 10 * DAY) + 9 * HOUR;
        let burst_n = if burst { size * (4 + self.below(4)) / 10 } else { 0 };
        let mut t_burst = burst_at;
        let mut personas = Vec::with_capacity(size + 1);
        for m in 0..size {
            let s = if m < burst_n {
                t_burst += self.between(10, 240);
                t_burst
            } else {
                self.signup_time()
            };
            let mut p = self.persona(s, domain);
            p.org = Some(org);
            p.office_hours = true;
            p.tls = 1 + self.below(3) as u64;
            p.tags |= tag::OFFICE_NAT;
            if m < burst_n {
                p.tags |= tag::ONBOARDING_BURST;
            }
            if !corp_cards.is_empty() && self.chance(0.9) {
                p.card = Some(corp_cards[(m / 25) % corp_cards.len()]);
                p.tags |= tag::CORP_CARD;
            }
            if let Some(d) = corp_device
                && self.chance(0.85)
            {
                p.device = d;
                p.tags = (p.tags & !tag::COMMON_DEVICE) | tag::CORP_DEVICE;
            }
            p.private = internal.clone();
            p.p_private = 0.5;
            p.tags |= tag::COMPANY_TEMPLATE;
            self.maybe_ban(&mut p);
            personas.push(p);
        }
        if size >= 10 && (force_card || self.chance(0.15)) {
            let victim = self.below(size);
            let b = personas[victim].signup + self.between(DAY, 15 * DAY);
            if b < self.end - 5 * HOUR && personas[victim].ban.is_none() {
                self.ban(&mut personas[victim], b);
                let seen_at = b - self.between(60, 2 * HOUR);
                personas[victim].pinned.push((seen_at, office[0]));
                let s = b + self.between(300, 4 * HOUR);
                let mut p = self.persona(s, domain);
                p.signup_addr = Some(office[0]);
                p.org = Some(org);
                p.office_hours = true;
                p.private = internal.clone();
                p.p_private = 0.5;
                p.tags |= tag::OFFICE_NAT | tag::POST_BAN_SIGNUP | tag::COMPANY_TEMPLATE;
                if let Some(&card) = corp_cards.first() {
                    p.card = Some(card);
                    p.tags |= tag::CORP_CARD;
                }
                personas.push(p);
            }
        }
        let n = personas.len() as u64;
        for p in personas {
            // The signup itself happens at the office.
            let home = self.timeline(p.signup + DAY, 3.0, 10.0, 0.01);
            let net = Net { pool: &office, p_pool: 0.8, home: &home, signup_on_pool: true };
            self.legit(p, net, group, gt::COMPANY)?;
        }
        Ok(n)
    }

    /// Companies (sizes 5 to the configured maximum, heavy-tailed), the
    /// first one the largest, with one corporate card for many accounts.
    pub(crate) fn companies(&mut self, budget: u64) -> Result<u64> {
        let max = self.cfg.get_max_company_size() as u64;
        let mut made = 0;
        let first = (budget / 4).clamp(5.min(budget), max);
        if first >= 5 {
            made += self.company(first as usize, true)?;
        }
        while made + 5 <= budget {
            let u: f64 = 1.0 - self.rng.random::<f64>();
            let size = (5.0 * u.powf(-1.0 / 1.15)) as u64;
            let size = size.clamp(5, max).min(budget - made).max(5);
            made += self.company(size as usize, false)?;
        }
        Ok(made)
    }

    /// Campuses: a few NAT IPs for thousands of students, a `.edu` domain,
    /// no shared card, a semester-start signup burst and course templates.
    pub(crate) fn campuses(&mut self, budget: u64) -> Result<u64> {
        let count = (budget / 1500).max(1);
        let mut made = 0;
        for c in 0..count {
            let size = if c + 1 == count { budget - made } else { budget / count };
            if size == 0 {
                break;
            }
            let id = self.groups.len();
            let group = self.group(format!("campus-{id}"));
            let asn = 30_000 + id as u32;
            let base = u32::from_be_bytes([128, (id >> 8) as u8, id as u8, 0]);
            let nat: Vec<Addr> = (0..4 + size as usize / 150)
                .map(|i| Addr { ip: base + 1 + i as u32, asn })
                .collect();
            let domain = DOMAIN_CAMPUS + id as u64;
            let courses: Vec<u64> = (0..1 + size / 60).map(|_| self.unique()).collect();
            let semester = self.between(self.start, self.start + 10 * DAY);
            for _ in 0..size {
                let s = if self.chance(0.5) {
                    semester + self.between(8 * HOUR, 3 * DAY)
                } else {
                    self.signup_time()
                };
                let mut p = self.persona(s, domain);
                p.card = self.chance(0.35).then(|| self.unique());
                p.tags |= tag::CAMPUS_NETWORK;
                if self.chance(0.6) {
                    p.private.push(courses[self.below(courses.len())]);
                    p.p_private = 0.5;
                    p.tags |= tag::COURSE_TEMPLATE;
                }
                self.maybe_ban(&mut p);
                let home = self.timeline(s, 3.0, 10.0, 0.01);
                self.legit(
                    p,
                    Net { pool: &nat, p_pool: 0.75, home: &home, signup_on_pool: true },
                    group,
                    gt::CAMPUS,
                )?;
            }
            made += size;
        }
        Ok(made)
    }

    /// Users of shared exits: mobile carrier NAT, VPN exits, cloud egress.
    pub(crate) fn shared_exits(&mut self, kind: u8, budget: u64) -> Result<u64> {
        let (pools, p_pool, t) = match kind {
            // Thousands per carrier: one carrier on small platforms.
            gt::CGNAT => (if budget < 3000 { 1 } else { 3u64 }, 1.0, tag::CGNAT),
            gt::VPN => (2, 0.9, tag::VPN_EXIT),
            _ => (2, 0.95, tag::CLOUD_EGRESS),
        };
        let pools = pools.min(budget.max(1));
        let mut made = 0;
        for k in 0..pools {
            let size = if k + 1 == pools { budget - made } else { budget / pools };
            let id = self.groups.len();
            let prefix = ["cgnat", "vpn", "cloud"][(kind - gt::CGNAT) as usize];
            let group = self.group(format!("{prefix}-{id}"));
            let pool = self.exit_pool(kind, k, size);
            for _ in 0..size {
                let s = self.signup_time();
                let domain = self.public_domain();
                let mut p = self.persona(s, domain);
                p.tags |= t;
                match kind {
                    gt::CGNAT => {
                        p.ua = 7 + 8 * self.between(0, 7) as u64;
                        if self.chance(0.4) {
                            p.device = self.common_device();
                            p.tags |= tag::COMMON_DEVICE;
                        }
                    }
                    gt::CLOUD => {
                        p.tls = 3;
                        p.ua = 2 + 8 * self.between(0, 7) as u64;
                    }
                    _ => {}
                }
                self.maybe_ban(&mut p);
                let home = if p_pool < 1.0 { self.timeline(s, 2.0, 8.0, 0.01) } else { Vec::new() };
                let net = Net { pool: &pool, p_pool, home: &home, signup_on_pool: false };
                self.legit(p, net, group, kind)?;
            }
            made += size;
        }
        Ok(made)
    }

    fn exit_pool(&mut self, kind: u8, k: u64, members: u64) -> Vec<Addr> {
        let (a, b, asn, n) = match (kind, k) {
            (gt::CGNAT, 0) => (172, 56, 21_928, 8 + members / 400),
            (gt::CGNAT, 1) => (166, 137, 20_057, 8 + members / 400),
            (gt::CGNAT, _) => (107, 77, 6167, 8 + members / 400),
            (gt::VPN, 0) => (185, 159, 9009, 20 + members / 100),
            (gt::VPN, _) => (146, 70, 62_371, 20 + members / 100),
            (_, 0) => (3, 80, 16_509, 10 + members / 100),
            (_, _) => (34, 100, 15_169, 10 + members / 100),
        };
        (0..n.min(60_000))
            .map(|i| Addr {
                ip: u32::from_be_bytes([a, b, (i / 250) as u8, 1 + (i % 250) as u8]),
                asn,
            })
            .collect()
    }
}

/// Keeps `COMMON_TLS` referenced for readers: company TLS codes are the top 3.
const _: () = assert!(COMMON_TLS >= 3);
