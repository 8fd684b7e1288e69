//! Global account ids without a central table: an account's id is the rank
//! of its name among all account names in byte order, as the index assigns
//! ids, computed by range partitioning.
//!
//! Every worker broadcasts a sample of the names it read (in its hello);
//! all pick the same `workers − 1` splitters from the union of the samples,
//! so worker `r` owns the names between splitters `r` and `r + 1`. Each
//! worker sends the names it read to their range's owner, which sorts and
//! deduplicates them; the owners broadcast their counts, so range `r`'s
//! ids start after the names of the ranges before it and every worker owns
//! a contiguous run of ids. A worker that needs the ids of some names (the
//! holders of the indicators it owns) sends them along, sorted, and gets
//! their ids back in order.

use timely::worker::Worker;

use crate::error::{Error, Result};

use super::rounds::{Rounds, chunks};
use super::wire::Shuffle;

/// Names each worker puts in its sample (more balance the ranges better).
pub(crate) const SAMPLES: usize = 256;

/// Up to [`SAMPLES`] names spread evenly over `sorted`.
pub(crate) fn sample(sorted: &[String]) -> Vec<String> {
    if sorted.len() <= SAMPLES {
        return sorted.to_vec();
    }
    (0..SAMPLES).map(|i| sorted[i * sorted.len() / SAMPLES].clone()).collect()
}

/// The `workers − 1` splitters of the union of every worker's sample:
/// worker `r` owns the names `s` with `splitters[r − 1] ≤ s < splitters[r]`.
pub(crate) fn splitters(mut samples: Vec<String>, workers: usize) -> Vec<String> {
    samples.sort_unstable();
    samples.dedup();
    if samples.is_empty() {
        return Vec::new();
    }
    (1..workers).map(|r| samples[r * samples.len() / workers].clone()).collect()
}

/// The ids of one worker's asked names, and where each worker's ids start.
#[derive(Debug)]
pub(crate) struct Ranks {
    /// `starts[r]..starts[r + 1]` are the ids worker `r` owns; the last
    /// entry is the number of accounts.
    pub(crate) starts: Vec<u32>,
    /// The ids of the asked names, in their order.
    pub(crate) ids: Vec<u32>,
}

impl Ranks {
    /// The worker that owns account `id`.
    pub(crate) fn owner(&self, id: u32) -> usize {
        self.starts[..self.starts.len() - 1].partition_point(|&s| s <= id) - 1
    }
}

/// Ranks every account name: `read` are the distinct names this worker
/// read, sorted; `asked` the names whose ids it wants back, sorted and
/// distinct; `splitters` from [`splitters`]. Three rounds.
///
/// # Errors
///
/// A limit error past 2³² − 2 distinct accounts (as the index refuses),
/// on every worker; an I/O error on every worker if an asked name was
/// read by no worker (a broken invariant).
pub(crate) fn rank(
    worker: &mut Worker,
    rounds: &mut Rounds,
    read: &[String],
    asked: &[String],
    splitters: &[String],
) -> Result<Ranks> {
    let (me, peers) = (rounds.me(), rounds.peers());
    let from = me as u32;
    // Both lists are sorted, so each range is a run of them.
    let runs = |names: &[String]| -> Vec<(usize, usize)> {
        let mut runs = Vec::with_capacity(peers);
        let mut start = 0;
        for r in 0..peers {
            let end = if r >= splitters.len() {
                names.len()
            } else {
                start + names[start..].partition_point(|n| n.as_str() < splitters[r].as_str())
            };
            runs.push((start, end));
            start = end;
        }
        runs
    };
    let (read_runs, asked_runs) = (runs(read), runs(asked));
    for r in 0..peers {
        let (s, e) = read_runs[r];
        for m in chunks(&read[s..e], |seq, names| Shuffle::Names { from, ask: false, seq, names }) {
            rounds.send(r, m);
        }
        let (s, e) = asked_runs[r];
        for m in chunks(&asked[s..e], |seq, names| Shuffle::Names { from, ask: true, seq, names }) {
            rounds.send(r, m);
        }
    }
    let mut mine: Vec<String> = Vec::new();
    // Per asking worker: (seq, names).
    let mut requests: Vec<Vec<(u32, Vec<String>)>> = vec![Vec::new(); peers];
    for msg in rounds.finish(worker, "ids")?.messages {
        if let Shuffle::Names { from, ask, seq, names } = msg {
            if ask {
                requests[from as usize].push((seq, names));
            } else {
                mine.extend(names);
            }
        }
    }
    mine.sort_unstable();
    mine.dedup();
    rounds.broadcast(&Shuffle::Count { from, count: mine.len() as u64 });
    let mut counts = vec![0u64; peers];
    for msg in rounds.finish(worker, "ids")?.messages {
        if let Shuffle::Count { from, count } = msg {
            counts[from as usize] = count;
        }
    }
    let total: u64 = counts.iter().sum();
    if total > u64::from(u32::MAX - 1) {
        return Err(Error::limit(format!(
            "{total} distinct accounts (at most 4294967294); split the input"
        )));
    }
    let mut starts = vec![0u32; peers + 1];
    for r in 0..peers {
        starts[r + 1] = starts[r] + counts[r] as u32;
    }
    let base = starts[me];
    'askers: for (asker, mut pieces) in requests.into_iter().enumerate() {
        pieces.sort_unstable_by_key(|(seq, _)| *seq);
        let mut ids = Vec::new();
        for name in pieces.iter().flat_map(|(_, names)| names) {
            let Ok(at) = mine.binary_search(name) else {
                // Fails this round on every worker.
                rounds.fail(format!("account {name:?} was asked for but read by no worker"));
                break 'askers;
            };
            ids.push(base + at as u32);
        }
        for m in chunks(&ids, |seq, ids| Shuffle::Ids { from, seq, ids }) {
            rounds.send(asker, m);
        }
    }
    drop(mine);
    let mut replies: Vec<(u32, u32, Vec<u32>)> = Vec::new();
    for msg in rounds.finish(worker, "ids")?.messages {
        if let Shuffle::Ids { from, seq, ids } = msg {
            replies.push((from, seq, ids));
        }
    }
    replies.sort_unstable_by_key(|(from, seq, _)| (*from, *seq));
    let ids: Vec<u32> = replies.into_iter().flat_map(|(_, _, ids)| ids).collect();
    if ids.len() != asked.len() {
        return Err(rounds.abort(
            worker,
            format!("asked for {} account ids, received {}", asked.len(), ids.len()),
        ));
    }
    Ok(Ranks { starts, ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worker that owns `name` under `splitters`.
    fn range_of(splitters: &[String], name: &str) -> usize {
        splitters.partition_point(|s| s.as_str() <= name)
    }

    #[test]
    fn splitters_cut_the_union_and_ranges_follow_them() {
        let names: Vec<String> = (0..1000).map(|i| format!("acct{i:04}")).collect();
        let s = splitters(sample(&names), 4);
        assert_eq!(s.len(), 3);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        let mut counts = [0usize; 4];
        for n in &names {
            counts[range_of(&s, n)] += 1;
        }
        assert!(counts.iter().all(|&c| (200..300).contains(&c)), "{counts:?}");
        assert_eq!(range_of(&s, ""), 0);
        assert_eq!(range_of(&s, "zzz"), 3);
        assert!(splitters(Vec::new(), 3).is_empty());
        assert_eq!(range_of(&[], "x"), 0);
    }

    #[test]
    fn owners_of_ids_skip_empty_ranges() {
        let ranks = Ranks { starts: vec![0, 3, 3, 7], ids: Vec::new() };
        let owners: Vec<usize> = (0..7).map(|i| ranks.owner(i)).collect();
        assert_eq!(owners, [0, 0, 0, 2, 2, 2, 2]);
    }
}
