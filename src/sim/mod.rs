//! A seeded simulator of an API platform's event stream, with ground truth.
//!
//! # Overview
//!
//! - [`SimConfig`] sets the size and shape of the platform: presets
//!   ([`SimConfig::small`] about 20k accounts, [`SimConfig::demo`] 100k,
//!   [`SimConfig::medium`] 200k, [`SimConfig::large`] 2M), a seed and a
//!   [`scale`](SimConfig::scale) up to 10M accounts.
//! - [`Simulator::generate`] runs it and returns a [`Simulation`]: the events
//!   in time order ([`Simulation::events`], [`Simulation::write_events_csv`])
//!   and the [`Truth`] per account, plus a [`SimSummary`].
//! - [`Truth`] is also what `truth.csv` reads into, for [`crate::eval`].
//!
//! # What is simulated
//!
//! Eight weeks (by default) of signups, observations (`ip` and its `asn`,
//! `device`, `tls_fp`, `user_agent`, `email`, `email_domain`, `payment`,
//! sometimes `phone`, `org` for companies, `template`), bans and unbans.
//! The legitimate population carries the structures that fool naive linkage:
//!
//! | group type | what it shares |
//! |---|---|
//! | `solo` | nothing on purpose; popular templates and fingerprints |
//! | `household` | a dynamic residential IP (changes every few days), one mail provider, sometimes a family card (2 to 4 members) |
//! | `company` | 1 to 7 office NAT IPs, corporate domain and org, often one corporate card for many, onboarding bursts, internal templates, sometimes one device image |
//! | `campus` | a few NAT IPs for thousands, a `.edu` domain, a semester-start burst, course templates; no shared card |
//! | `cgnat` | mobile carrier NAT IPs shared by thousands |
//! | `vpn`, `cloud` | VPN exits and cloud egress IPs shared by many unrelated users |
//!
//! Operators (`group_type` `operator`, ids `op-1`, `op-2`, ...) sign up in
//! scripted bursts, rotate through residential proxy IPs that real
//! households also hold (some households are planted on them), pool payment
//! cards (a handful of accounts per card), spoof devices (random or from a
//! small pool), use rare distillation templates shared by most of their
//! accounts mixed with popular templates and resold traffic, act in the same
//! minutes at high volume, and are banned in waves followed minutes to hours
//! later by replacements reusing part of the banned infrastructure. `op-1`
//! pivots most traffic to a new template family on the release day, `op-2`
//! is careful (no shared card, device or phone), `op-3` is never banned.
//!
//! Truth tags name the hard situations ([`TAGS`]): `dynamic_ip`,
//! `shared_card`, `corp_card`, `office_nat`, `onboarding_burst`,
//! `campus_network`, `course_template`, `company_template`, `corp_device`,
//! `cgnat`, `vpn_exit`, `cloud_egress`, `common_device`, `proxy_ip_shared`
//! (a legitimate account seen on an operator's proxy IP), `post_ban_signup`
//! (signed up on the network of an account banned minutes to hours before),
//! `banned_unrelated`, `unbanned`; and for operators' accounts
//! `careful_operator`, `never_banned`, `pivot`, `device_pool`,
//! `device_random`, `pooled_card`, `pooled_replacement`, and with
//! [`SimConfig::varied`] also `trickle_bans`, `cloud_operator`,
//! `sparse_fleet`.
//!
//! With [`SimConfig::varied`] (`hydra simulate --varied`) operators take no
//! fixed roles: each one's style and numbers are drawn from the seed (see
//! the method), so a detector tuned to one seed meets other operators on the
//! next.
//!
//! # Streaming
//!
//! Groups are generated one after the other into a buffer of compact
//! 37-byte records; whenever [`SimConfig::max_events_in_memory`] are held the
//! buffer is sorted and spilled to a temporary file, and the output is a
//! k-way merge of the runs by (time, account, the account's own order), so
//! the order is total and deterministic and memory stays bounded.
//!
//! # Example
//!
//! ```
//! use hydra_detect::sim::{Role, SimConfig, Simulator};
//!
//! let config = SimConfig::small().accounts(3000).operator_sizes(vec![300, 60, 60]).seed(7);
//! let sim = Simulator::new(config)?.generate()?;
//! let hydras = sim.truth().iter().filter(|a| a.role().is_hydra()).count();
//! assert!(hydras >= 420);
//! let mut csv = Vec::new();
//! sim.write_events_csv(&mut csv, |_| {})?;
//! assert!(csv.starts_with(b"ts,account,event,kind,value,reason\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod hydra;
mod legit;
mod record;
mod runs;
mod truth;
mod world;

use std::fmt;
use std::io::Write;

pub use config::{DEFAULT_START, MAX_SIM_ACCOUNTS, Preset, SimConfig};
pub use hydra::OperatorSummary;
pub use truth::{AccountTruth, Role, Truth};
pub use world::{GROUP_TYPES, TAGS};

use crate::error::{Error, Result};
use crate::event::Event;
use record::{BAN_REASONS, Rec, account_name, op, to_event};
use runs::{Merge, Runs};
use truth::TruthBuilder;
use world::{Gen, gt};

/// Runs a [`SimConfig`].
#[derive(Clone, Debug)]
pub struct Simulator {
    config: SimConfig,
}

impl Simulator {
    /// A simulator of `config`.
    ///
    /// # Errors
    ///
    /// As [`SimConfig::validate`].
    pub fn new(config: SimConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Generates the platform.
    ///
    /// # Errors
    ///
    /// An I/O error if a sorted run cannot be spilled to a temporary file.
    ///
    /// # Complexity
    ///
    /// `O(E log E)` time for `E` events; memory `O(max_events_in_memory + A)`
    /// for `A` accounts (the truth is kept, 1 to 2 words an account).
    pub fn generate(&self) -> Result<Simulation> {
        self.generate_with_progress(|_| {})
    }

    /// As [`Simulator::generate`], calling `progress` with the number of
    /// accounts generated so far after each group.
    ///
    /// # Errors
    ///
    /// As [`Simulator::generate`].
    pub fn generate_with_progress(&self, mut progress: impl FnMut(u64)) -> Result<Simulation> {
        let cfg = &self.config;
        let total = cfg.get_scaled_accounts();
        let sizes = cfg.get_scaled_operator_sizes();
        let hydra_initial: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
        let mut g = Gen::new(cfg, total + hydra_initial * 3);
        let mut operators = Vec::with_capacity(sizes.len());
        for (i, &size) in sizes.iter().enumerate() {
            operators.push(hydra::operator(&mut g, i, size)?);
            progress(g.accounts_made());
        }
        let legit_budget = total.saturating_sub(g.accounts_made());
        let share = |s: f64| (legit_budget as f64 * s).round() as u64;
        let mut legit = g.companies(share(cfg.get_company_share()))?;
        progress(g.accounts_made());
        legit += g.campuses(share(cfg.get_campus_share()))?;
        progress(g.accounts_made());
        for (kind, s) in [
            (gt::CGNAT, cfg.get_cgnat_share()),
            (gt::VPN, cfg.get_vpn_share()),
            (gt::CLOUD, cfg.get_cloud_share()),
        ] {
            let n = share(s);
            if n > 0 {
                legit += g.shared_exits(kind, n)?;
            }
            progress(g.accounts_made());
        }
        let planted = (g.hydra_bans.len() / 40).clamp(5, 2000);
        legit += g.post_hydra_ban_households(planted)?;
        legit += g.households(share(cfg.get_household_share()))?;
        progress(g.accounts_made());
        let solos = legit_budget.saturating_sub(legit);
        let chunk = 50_000;
        let mut done = 0;
        while done < solos {
            let n = chunk.min(solos - done);
            g.solos(n)?;
            done += n;
            progress(g.accounts_made());
        }
        let width = g.perm.width();
        let mut b = TruthBuilder::default();
        let mut name = String::new();
        let mut by_role = [0u64; 3];
        let mut by_type = [0u64; GROUP_TYPES.len()];
        let mut tag_names: Vec<&str> = Vec::with_capacity(TAGS.len());
        for row in &g.truth {
            name.clear();
            account_name(row.number, width, &mut name);
            tag_names.clear();
            tag_names.extend((0..TAGS.len()).filter(|i| row.tags >> i & 1 == 1).map(|i| TAGS[i]));
            by_role[row.role as usize] += 1;
            by_type[row.group_type as usize] += 1;
            let group = &g.groups[row.group as usize];
            b.push(
                &name,
                row.role,
                group,
                GROUP_TYPES[row.group_type as usize],
                tag_names.iter().copied(),
            )
            .map_err(Error::config)?;
        }
        let truth = b.finish().map_err(|(a, m)| Error::config(format!("{m} {a}")))?;
        let roles = [Role::Legit, Role::Hydra, Role::HydraReplacement];
        let summary = SimSummary {
            seed: cfg.get_seed(),
            start: cfg.get_start(),
            end: cfg.get_end(),
            accounts: g.truth.len() as u64,
            events: g.counters.events,
            roles: roles.iter().map(|r| (r.as_str().to_owned(), by_role[*r as usize])).collect(),
            group_types: GROUP_TYPES
                .iter()
                .zip(by_type)
                .filter(|(_, n)| *n > 0)
                .map(|(t, n)| ((*t).to_owned(), n))
                .collect(),
            groups: g.groups.len() as u64 - 1,
            operators,
            bans: BAN_REASONS
                .iter()
                .zip(g.counters.bans)
                .map(|(r, n)| ((*r).to_owned(), n))
                .collect(),
            unbans: g.counters.unbans,
            spilled_runs: 0,
        };
        let runs = g.runs.finish();
        let summary = SimSummary { spilled_runs: runs.spilled(), ..summary };
        Ok(Simulation { runs, truth, summary, width })
    }
}

/// What a simulation produced: its events (kept as sorted runs, in memory or
/// in temporary files), its [`Truth`] and a [`SimSummary`].
#[derive(Clone, Debug)]
pub struct Simulation {
    runs: Runs,
    truth: Truth,
    summary: SimSummary,
    width: usize,
}

impl Simulation {
    /// Ground truth per account, sorted by account.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Counts of accounts, events and bans, and the operators.
    pub fn summary(&self) -> &SimSummary {
        &self.summary
    }

    /// The events in time order (ties by account, then the account's own
    /// order, so the signup comes first). Each call starts from the beginning.
    ///
    /// # Errors
    ///
    /// An I/O error if a spilled run cannot be opened; the iterator yields an
    /// error if one cannot be read.
    pub fn events(&self) -> Result<Events> {
        Ok(Events { merge: self.runs.merge()?, width: self.width })
    }

    /// Writes the events as docs/FORMATS.md's CSV (header
    /// `ts,account,event,kind,value,reason`, integer `ts`), calling `progress`
    /// with the number of events written every 65,536 events and at the end.
    /// Returns the number of events.
    ///
    /// # Errors
    ///
    /// An I/O error from `writer` or from reading a spilled run.
    pub fn write_events_csv<W: Write>(
        &self,
        mut writer: W,
        mut progress: impl FnMut(u64),
    ) -> Result<u64> {
        let io = |e| Error::io("cannot write events", None, e);
        writer.write_all(b"ts,account,event,kind,value,reason\n").map_err(io)?;
        let mut line = String::with_capacity(256);
        let mut value = String::with_capacity(128);
        let mut n = 0u64;
        for rec in self.runs.merge()? {
            let rec: Rec = rec?;
            line.clear();
            use std::fmt::Write as _;
            let _ = write!(line, "{},", rec.ts);
            account_name(rec.account, self.width, &mut line);
            match rec.op {
                op::SIGNUP => line.push_str(",signup,,,\n"),
                op::BAN => {
                    line.push_str(",ban,,,");
                    line.push_str(BAN_REASONS[rec.a as usize % 3]);
                    line.push('\n');
                }
                op::UNBAN => line.push_str(",unban,,,\n"),
                _ => {
                    let kind = record::observation(&rec, &mut value);
                    line.push_str(",observe,");
                    line.push_str(kind.as_str());
                    line.push(',');
                    if value.contains([',', '"', '\n', '\r']) {
                        line.push('"');
                        line.push_str(&value.replace('"', "\"\""));
                        line.push('"');
                    } else {
                        line.push_str(&value);
                    }
                    line.push_str(",\n");
                }
            }
            writer.write_all(line.as_bytes()).map_err(io)?;
            n += 1;
            if n.is_multiple_of(65_536) {
                progress(n);
            }
        }
        writer.flush().map_err(io)?;
        progress(n);
        Ok(n)
    }
}

/// The events of a [`Simulation`] in time order.
#[derive(Debug)]
pub struct Events {
    merge: Merge,
    width: usize,
}

impl Iterator for Events {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        Some(self.merge.next()?.map(|r| to_event(&r, self.width)))
    }
}

/// Counts describing a [`Simulation`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct SimSummary {
    /// The seed.
    pub seed: u64,
    /// Start of the period, unix seconds.
    pub start: i64,
    /// End of the period (exclusive), unix seconds.
    pub end: i64,
    /// Accounts.
    pub accounts: u64,
    /// Events.
    pub events: u64,
    /// Accounts by role (`legit`, `hydra`, `hydra_replacement`).
    pub roles: Vec<(String, u64)>,
    /// Accounts by group type.
    pub group_types: Vec<(String, u64)>,
    /// Groups (operators and legitimate groups).
    pub groups: u64,
    /// Every operator.
    pub operators: Vec<OperatorSummary>,
    /// Bans by reason (`hydra`, `spam`, `chargeback`).
    pub bans: Vec<(String, u64)>,
    /// Unbans of wrongly banned legitimate accounts.
    pub unbans: u64,
    /// Sorted runs spilled to temporary files (0: all in memory).
    pub spilled_runs: usize,
}

impl fmt::Display for SimSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed {}: {} accounts, {} events", self.seed, self.accounts, self.events)?;
        let list = |v: &[(String, u64)]| {
            v.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
        };
        writeln!(f, "  roles: {}", list(&self.roles))?;
        writeln!(f, "  group types: {}", list(&self.group_types))?;
        writeln!(f, "  bans: {}; unbans {}", list(&self.bans), self.unbans)?;
        writeln!(f, "  operators:")?;
        for o in &self.operators {
            writeln!(
                f,
                "    {:<6} {:>6} initial + {:>5} replacements, {:>5} banned  [{}]",
                o.id,
                o.initial,
                o.replacements,
                o.banned,
                o.traits.join(", ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::normalize::validate_event;

    #[test]
    fn events_are_valid_ordered_and_budgeted() {
        let cfg = SimConfig::small().accounts(4000).operator_sizes(vec![400, 100, 100, 50]);
        let sim = Simulator::new(cfg.max_events_in_memory(5000)).unwrap().generate().unwrap();
        assert!(sim.summary().spilled_runs > 3);
        let mut last = (i64::MIN, String::new());
        let mut per_account: ahash::AHashMap<String, u32> = Default::default();
        let mut n = 0;
        for e in sim.events().unwrap() {
            let e = e.unwrap();
            validate_event(&e).unwrap();
            assert!((e.ts, &e.account) >= (last.0, &last.1), "{e:?} after {last:?}");
            let c = per_account.entry(e.account.clone()).or_default();
            assert_eq!(*c == 0, e.action == crate::Action::Signup, "{e:?}");
            *c += 1;
            last = (e.ts, e.account);
            n += 1;
        }
        assert_eq!(n, sim.summary().events);
        assert_eq!(per_account.len(), sim.truth().len());
        assert!(per_account.values().all(|&c| (5..=60).contains(&c)));
    }
}
