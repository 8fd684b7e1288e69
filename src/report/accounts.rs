//! `accounts.csv`: one verdict per account.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;

use super::model::{Detection, Flag};
use super::write_error;
use crate::error::Result;

/// The header of `accounts.csv`.
pub(crate) const ACCOUNTS_HEADER: [&str; 4] = ["account", "cluster", "score", "flag"];

/// Decimals printed for scores: stable text across platforms, and finer than
/// any threshold anyone sets.
pub(crate) const SCORE_DECIMALS: usize = 4;

/// Writes `accounts.csv`: header `account,cluster,score,flag`, then one row
/// per account in `detection.accounts`, sorted by account id.
///
/// `cluster` and `score` are empty for an account in no community; `score`
/// has 4 decimals; `flag` is `none`, `hydra` or `replacement`. An account
/// listed in `detection.replacements` is written `replacement` even if its
/// verdict says `hydra` (docs/FORMATS.md: replacement wins).
///
/// **Spreadsheet formulas.** An `account` or `cluster` cell that begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a
/// formula when the file is opened in a spreadsheet (CSV injection), so it
/// is written with a leading `'` (`=cmd|…` becomes `'=cmd|…`), which
/// spreadsheets show as text. A cell that begins with `'` itself gets one
/// more, so the rule is reversible: a reader drops one leading `'` from
/// every such cell ([`crate::eval`] does) to get the id back exactly.
///
/// # Errors
///
/// Returns an [`ErrorKind::Io`](crate::ErrorKind::Io) error if writing fails.
///
/// # Examples
///
/// ```
/// use hydra_detect::{AccountVerdict, Detection, write_accounts_csv};
///
/// let mut detection = Detection::default();
/// detection.accounts.push(AccountVerdict {
///     account: "a-1".into(),
///     cluster: None,
///     score: None,
///     flag: None,
/// });
/// let mut out = Vec::new();
/// write_accounts_csv(&detection, &mut out)?;
/// assert_eq!(String::from_utf8(out)?, "account,cluster,score,flag\na-1,,,none\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Complexity
///
/// Time `O(a log a + r log r)` for `a` accounts and `r` replacements (the
/// sort, skipped when the accounts are already sorted); space `O(r)`.
pub fn write_accounts_csv(detection: &Detection, out: impl Write) -> Result<()> {
    let replacements: BTreeSet<&str> =
        detection.replacements.iter().map(|r| r.account.as_str()).collect();
    let mut order: Vec<usize> = (0..detection.accounts.len()).collect();
    if !detection.accounts.windows(2).all(|w| w[0].account <= w[1].account) {
        order.sort_by(|&a, &b| detection.accounts[a].account.cmp(&detection.accounts[b].account));
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(ACCOUNTS_HEADER).map_err(write_error("accounts.csv"))?;
    let mut score = String::new();
    for i in order {
        let v = &detection.accounts[i];
        let flag = if replacements.contains(v.account.as_str()) {
            Some(Flag::Replacement)
        } else {
            v.flag
        };
        score.clear();
        if let (Some(_), Some(s)) = (&v.cluster, v.score) {
            score = format!("{s:.SCORE_DECIMALS$}");
        }
        let cluster = v.cluster.as_ref().map_or("", |c| c.as_str());
        let (account, cluster) = (defuse(&v.account), defuse(cluster));
        w.write_record([&*account, &*cluster, score.as_str(), Flag::name(flag)])
            .map_err(write_error("accounts.csv"))?;
    }
    w.flush().map_err(write_error("accounts.csv"))?;
    Ok(())
}

/// `cell` as written to `accounts.csv`: with a leading `'` if it begins
/// like a spreadsheet formula, or with `'` (see [`write_accounts_csv`]).
fn defuse(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A cell of `accounts.csv` read back: [`write_accounts_csv`]'s leading
/// `'` dropped.
pub(crate) fn undefuse(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::ClusterId;
    use crate::report::model::{AccountVerdict, ReplacementReport};

    fn verdict(
        account: &str,
        cluster: Option<&str>,
        score: Option<f64>,
        flag: Option<Flag>,
    ) -> AccountVerdict {
        AccountVerdict {
            account: account.into(),
            cluster: cluster.map(ClusterId::new),
            score,
            flag,
        }
    }

    fn write(d: &Detection) -> String {
        let mut out = Vec::new();
        write_accounts_csv(d, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_are_sorted_with_fixed_decimals_and_none() {
        let mut d = Detection::default();
        d.accounts.push(verdict("b", Some("c-a"), Some(0.123456), Some(Flag::Hydra)));
        d.accounts.push(verdict("a", Some("c-a"), Some(1.0), None));
        d.accounts.push(verdict("c", None, None, None));
        assert_eq!(
            write(&d),
            "account,cluster,score,flag\na,c-a,1.0000,none\nb,c-a,0.1235,hydra\nc,,,none\n"
        );
    }

    // See: #15 (`=cmd|…`, `+SUM(1)`, `@…` were written as is).
    #[test]
    fn cells_that_would_run_as_formulas_are_defused_reversibly() {
        let ids = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@x", "\tt", "'quoted", "a=1", "n-1"];
        let mut d = Detection::default();
        for id in ids {
            d.accounts.push(verdict(id, None, None, None));
        }
        d.accounts.push(verdict("m", Some("=c-1"), Some(0.5), None));
        let text = write(&d);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut back = Vec::new();
        for record in reader.records() {
            let record = record.unwrap();
            assert!(!record[0].starts_with(['=', '+', '-', '@', '\t']), "{text}");
            back.push((undefuse(&record[0]).to_owned(), undefuse(&record[1]).to_owned()));
        }
        let mut want: Vec<(String, String)> =
            ids.iter().map(|s| (s.to_string(), String::new())).collect();
        want.push(("m".into(), "=c-1".into()));
        want.sort();
        assert_eq!(back, want);
        assert!(text.contains("\n'=cmd|"), "{text}");
        assert!(text.contains("\na=1,"), "{text}");
    }

    #[test]
    fn replacement_wins_over_hydra_and_ids_are_quoted() {
        let mut d = Detection::default();
        d.accounts.push(verdict("x,\"y\"", Some("c-1"), Some(0.9), Some(Flag::Hydra)));
        d.replacements.push(ReplacementReport {
            account: "x,\"y\"".into(),
            signup_ts: 0,
            cluster: Some(ClusterId::new("c-1")),
            linked_banned: vec![],
            evidence: vec![],
        });
        assert_eq!(
            write(&d),
            "account,cluster,score,flag\n\"x,\"\"y\"\"\",c-1,0.9000,replacement\n"
        );
    }
}
