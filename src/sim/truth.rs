//! Ground truth per account: [`Truth`], read from and written to `truth.csv`.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, InputProblem, Result};

/// What an account really is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An ordinary customer (possibly banned for an unrelated reason).
    Legit,
    /// An operator's account.
    Hydra,
    /// An operator's account signed up after a ban of one of its accounts,
    /// reusing some of the banned infrastructure.
    HydraReplacement,
}

impl Role {
    /// `legit`, `hydra` or `hydra_replacement`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Legit => "legit",
            Role::Hydra => "hydra",
            Role::HydraReplacement => "hydra_replacement",
        }
    }

    /// Parses [`Role::as_str`]'s words.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "legit" => Some(Role::Legit),
            "hydra" => Some(Role::Hydra),
            "hydra_replacement" => Some(Role::HydraReplacement),
            _ => None,
        }
    }

    /// Whether the account belongs to an operator (hydra or replacement).
    pub fn is_hydra(self) -> bool {
        self != Role::Legit
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug)]
struct Entry {
    account: Box<str>,
    role: Role,
    /// Index into `groups`; 0 is the empty group (solo accounts).
    group: u32,
    group_type: u32,
    /// Bit i set = the account has tag `tags[i]`.
    tags: u64,
}

/// Ground truth for every account of a simulated platform, sorted by account.
///
/// One row of `truth.csv` (`account,role,group,group_type,tags`) per account.
/// Groups, group types and tags are interned, so the truth of millions of
/// accounts stays small; at most 64 distinct tags are supported.
#[derive(Clone, Debug, Default)]
pub struct Truth {
    entries: Vec<Entry>,
    groups: Vec<Box<str>>,
    group_types: Vec<Box<str>>,
    tags: Vec<Box<str>>,
}

/// The truth about one account, borrowed from a [`Truth`].
#[derive(Clone, Copy, Debug)]
pub struct AccountTruth<'a> {
    truth: &'a Truth,
    entry: &'a Entry,
}

impl<'a> AccountTruth<'a> {
    /// The account id.
    pub fn account(&self) -> &'a str {
        &self.entry.account
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.entry.role
    }

    /// Its group: an operator id like `op-3`, a legitimate group id like
    /// `co-12`, or empty for a solo account.
    pub fn group(&self) -> &'a str {
        &self.truth.groups[self.entry.group as usize]
    }

    /// Its group type: `operator`, `solo`, `household`, `company`, ...
    pub fn group_type(&self) -> &'a str {
        &self.truth.group_types[self.entry.group_type as usize]
    }

    /// Its tags (hard-negative situations), in the order of first appearance.
    pub fn tags(&self) -> impl Iterator<Item = &'a str> + 'a {
        let bits = self.entry.tags;
        let truth = self.truth;
        (0..truth.tags.len()).filter(move |i| bits >> i & 1 == 1).map(move |i| &*truth.tags[i])
    }

    /// Whether it has `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.truth
            .tags
            .iter()
            .position(|t| &**t == tag)
            .is_some_and(|i| self.entry.tags >> i & 1 == 1)
    }
}

impl Truth {
    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The truth about `account`, if known.
    pub fn get(&self, account: &str) -> Option<AccountTruth<'_>> {
        let i = self.entries.binary_search_by(|e| (*e.account).cmp(account)).ok()?;
        Some(AccountTruth { truth: self, entry: &self.entries[i] })
    }

    /// Every account, sorted by account id.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = AccountTruth<'_>> + '_ {
        self.entries.iter().map(move |entry| AccountTruth { truth: self, entry })
    }

    /// Reads `truth.csv` from `path`.
    ///
    /// # Errors
    ///
    /// An I/O error if the file cannot be read; an input error naming the
    /// line and the file for a missing column, an unknown role, a duplicate
    /// account or more than 64 distinct tags.
    pub fn read_csv(path: &Path) -> Result<Truth> {
        let file = Error::open(path)?;
        Self::from_csv_reader(std::io::BufReader::new(file), &path.display().to_string())
    }

    /// Reads `truth.csv` content from `reader`; `name` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`Truth::read_csv`].
    pub fn from_csv_reader<R: Read>(reader: R, name: &str) -> Result<Truth> {
        let mut rdr =
            csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
        let bad = |line: u64, problem, msg: String| {
            Error::input(line, problem, format!("{msg} in {name}"))
        };
        let headers =
            rdr.byte_headers().map_err(|e| bad(1, InputProblem::Syntax, e.to_string()))?.clone();
        let col = |want: &str| {
            headers.iter().position(|h| h == want.as_bytes()).ok_or_else(|| {
                bad(
                    1,
                    InputProblem::Header,
                    format!(
                        "missing column {want:?} (expected account,role,group,group_type,tags)"
                    ),
                )
            })
        };
        let (ca, cr, cg, ct, cx) =
            (col("account")?, col("role")?, col("group")?, col("group_type")?, col("tags")?);
        let mut b = TruthBuilder::default();
        let mut record = csv::StringRecord::new();
        loop {
            let line = rdr.position().line();
            match rdr.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let problem = if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                        InputProblem::Encoding
                    } else {
                        InputProblem::Syntax
                    };
                    return Err(bad(line, problem, format!("malformed row: {e}")));
                }
            }
            let field = |i: usize| record.get(i).unwrap_or("");
            let account = field(ca);
            if account.is_empty() {
                return Err(bad(line, InputProblem::Account, "empty account".into()));
            }
            let role = Role::parse(field(cr)).ok_or_else(|| {
                bad(
                    line,
                    InputProblem::Value,
                    format!(
                        "unknown role {:?} (expected legit, hydra or hydra_replacement)",
                        crate::ingest::normalize::clip(field(cr))
                    ),
                )
            })?;
            let tags = field(cx).split(';').filter(|t| !t.is_empty());
            b.push(account, role, field(cg), field(ct), tags)
                .map_err(|msg| bad(line, InputProblem::Value, msg))?;
        }
        b.finish()
            .map_err(|(account, msg)| bad(0, InputProblem::Account, format!("{msg}: {account:?}")))
    }

    /// Writes `truth.csv`: header `account,role,group,group_type,tags`, one row
    /// per account in account order.
    ///
    /// # Errors
    ///
    /// An I/O error from `writer`.
    pub fn write_csv<W: Write>(&self, writer: W) -> Result<()> {
        let mut w = csv::Writer::from_writer(writer);
        let io = |e: csv::Error| {
            let msg = format!("cannot write truth: {e}");
            Error::io(msg, None, std::io::Error::other(e))
        };
        w.write_record(["account", "role", "group", "group_type", "tags"]).map_err(io)?;
        let mut tags = String::new();
        for a in self.iter() {
            tags.clear();
            for (i, t) in a.tags().enumerate() {
                if i > 0 {
                    tags.push(';');
                }
                tags.push_str(t);
            }
            w.write_record([a.account(), a.role().as_str(), a.group(), a.group_type(), &tags])
                .map_err(io)?;
        }
        w.flush().map_err(|e| Error::io("cannot write truth", None, e))?;
        Ok(())
    }
}

/// Builds a [`Truth`], interning groups, types and tags.
#[derive(Debug, Default)]
pub(crate) struct TruthBuilder {
    truth: Truth,
    group_ids: HashMap<Box<str>, u32>,
    type_ids: HashMap<Box<str>, u32>,
}

impl TruthBuilder {
    fn intern(table: &mut Vec<Box<str>>, ids: &mut HashMap<Box<str>, u32>, s: &str) -> u32 {
        if let Some(&i) = ids.get(s) {
            return i;
        }
        let i = table.len() as u32;
        table.push(s.into());
        ids.insert(s.into(), i);
        i
    }

    /// Adds one account; `Err` names a tag-table overflow.
    pub(crate) fn push<'t>(
        &mut self,
        account: &str,
        role: Role,
        group: &str,
        group_type: &str,
        tags: impl Iterator<Item = &'t str>,
    ) -> std::result::Result<(), String> {
        if self.truth.groups.is_empty() {
            self.truth.groups.push("".into());
            self.group_ids.insert("".into(), 0);
        }
        let group = Self::intern(&mut self.truth.groups, &mut self.group_ids, group);
        let group_type = Self::intern(&mut self.truth.group_types, &mut self.type_ids, group_type);
        let mut bits = 0u64;
        for t in tags {
            let i = match self.truth.tags.iter().position(|x| &**x == t) {
                Some(i) => i,
                None => {
                    if self.truth.tags.len() == 64 {
                        return Err(format!(
                            "more than 64 distinct tags (the 65th is {:?})",
                            crate::ingest::normalize::clip(t)
                        ));
                    }
                    self.truth.tags.push(t.into());
                    self.truth.tags.len() - 1
                }
            };
            bits |= 1 << i;
        }
        self.truth.entries.push(Entry {
            account: account.into(),
            role,
            group,
            group_type,
            tags: bits,
        });
        Ok(())
    }

    /// Sorts by account; `Err` names a duplicate account.
    pub(crate) fn finish(mut self) -> std::result::Result<Truth, (String, &'static str)> {
        if self.truth.groups.is_empty() {
            self.truth.groups.push("".into());
        }
        self.truth.entries.sort_unstable_by(|a, b| a.account.cmp(&b.account));
        if let Some(w) = self.truth.entries.windows(2).find(|w| w[0].account == w[1].account) {
            return Err((w[0].account.to_string(), "duplicate account"));
        }
        Ok(self.truth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "account,role,group,group_type,tags\n\
        b,hydra,op-1,operator,careful_operator\n\
        a,legit,hh-1,household,shared_card;post_ban_signup\n\
        c,legit,,solo,\n";

    #[test]
    fn reads_writes_and_looks_up() {
        let t = Truth::from_csv_reader(CSV.as_bytes(), "t.csv").unwrap();
        assert_eq!(t.len(), 3);
        let a = t.get("a").unwrap();
        assert_eq!(a.role(), Role::Legit);
        assert_eq!(a.group(), "hh-1");
        assert_eq!(a.tags().collect::<Vec<_>>(), ["shared_card", "post_ban_signup"]);
        assert!(a.has_tag("post_ban_signup") && !a.has_tag("careful_operator"));
        assert_eq!(t.get("c").unwrap().group(), "");
        assert!(t.get("zz").is_none());
        let mut out = Vec::new();
        t.write_csv(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("account,role,group,group_type,tags\na,legit,hh-1"), "{text}");
        let again = Truth::from_csv_reader(text.as_bytes(), "x").unwrap();
        assert_eq!(again.get("b").unwrap().role(), Role::Hydra);
    }

    #[test]
    fn errors_name_line_and_file() {
        let bad = "account,role,group,group_type,tags\nx,legit,,solo,\ny,alien,,solo,\n";
        let e = Truth::from_csv_reader(bad.as_bytes(), "t.csv").unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(e.to_string().contains("alien") && e.to_string().contains("t.csv"), "{e}");
        let e = Truth::from_csv_reader("account,role\n".as_bytes(), "t.csv").unwrap_err();
        assert!(e.to_string().contains("group"), "{e}");
        let dup = "account,role,group,group_type,tags\nx,legit,,solo,\nx,legit,,solo,\n";
        assert!(Truth::from_csv_reader(dup.as_bytes(), "t.csv").is_err());
    }
}
