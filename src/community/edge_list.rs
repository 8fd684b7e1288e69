//! Reading a graph from a text edge list: [`read_edge_list`], [`parse_edge_list`].
//!
//! # Overview
//!
//! The format is the plain one most graph tools read and write:
//!
//! ```text
//! # comment lines and blank lines are skipped
//! 0 1          # an edge of weight 1 (a trailing comment is allowed too)
//! 1 2 0.5      # an edge of weight 0.5
//! 2 2          # a self-loop
//! ```
//!
//! - Each line holds `u v` or `u v w`, separated by spaces or tabs; `\r\n`
//!   line ends are accepted.
//! - Node ids are 0-based integers below `2^32 - 1`; the node count is the
//!   largest id plus one, or [`EdgeListConfig::min_node_count`] if that is
//!   more (isolated nodes at the end). Ids are indices, not names: a
//!   largest id more than 2^20 above twice the edge count (one stray huge
//!   id) is an error rather than gigabytes of per-node arrays, unless that
//!   many nodes are asked for with [`EdgeListConfig::min_node_count`].
//! - Each undirected edge is listed once. A pair listed again (in either
//!   direction) is the same edge: the weights are summed (an error if the
//!   sum passes the largest `f32`).
//! - A weight must be a finite number `>= 0` (`1`, `0.25`, `1e-3`).
//!
//! A bad line is an [`Error`] of kind [`ErrorKind::Input`](crate::ErrorKind::Input)
//! naming its line number and the offending value, e.g.
//! `line 3: node id "-4" is negative (expected a 0-based index)`.
//!
//! # Speed
//!
//! The file is read whole into memory and parsed by hand from bytes, with no
//! allocation per line; above [`EdgeListConfig::parallel_threshold`] bytes it
//! is cut at line ends into chunks parsed in parallel (rayon), and line
//! numbers for errors are recovered by counting line ends only when an error
//! is found. The parsed chunks go to the graph builder as they are, which
//! fills the rows of each range of nodes in parallel. The result does not
//! depend on the number of threads.

use std::path::Path;

use rayon::prelude::*;

use crate::community::Graph;
use crate::error::{Error, InputProblem, Result};

/// The largest node id accepted: the count must stay below `u32::MAX`,
/// which [`Graph`] keeps free as a sentinel.
const MAX_NODE_ID: u64 = u32::MAX as u64 - 2;

/// Default [`EdgeListConfig::max_node_count`]: 2^27 nodes (about 2 GiB of
/// per-node arrays in [`Graph`]).
const DEFAULT_MAX_NODE_COUNT: usize = 1 << 27;

/// Default [`EdgeListConfig::parallel_threshold`]: 4 MiB of text.
const DEFAULT_PARALLEL_THRESHOLD: usize = 4 << 20;

/// Smallest parallel chunk: below this, splitting costs more than it saves.
const MIN_CHUNK_BYTES: usize = 64 << 10;

/// Options for [`read_edge_list`] and [`parse_edge_list`].
///
/// ```
/// use hydra_detect::community::EdgeListConfig;
///
/// let config = EdgeListConfig::new().min_node_count(10);
/// assert_eq!(config.get_min_node_count(), 10);
/// ```
#[derive(Clone, Debug)]
pub struct EdgeListConfig {
    /// The graph has at least this many nodes (default 0: largest id + 1).
    min_node_count: usize,
    /// A larger node count (a huge id) is an error rather than an allocation.
    max_node_count: usize,
    /// Inputs of at least this many bytes are parsed in parallel chunks.
    parallel_threshold: usize,
}

impl Default for EdgeListConfig {
    fn default() -> Self {
        Self {
            min_node_count: 0,
            max_node_count: DEFAULT_MAX_NODE_COUNT,
            parallel_threshold: DEFAULT_PARALLEL_THRESHOLD,
        }
    }
}

impl EdgeListConfig {
    /// The defaults: node count from the largest id, parallel from 4 MiB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the graph at least `count` nodes, for files whose last nodes
    /// are isolated (default 0: the largest id plus one).
    pub fn min_node_count(mut self, count: usize) -> Self {
        self.min_node_count = count;
        self
    }

    /// The minimum node count.
    pub fn get_min_node_count(&self) -> usize {
        self.min_node_count
    }

    /// Refuses graphs of more than `count` nodes (default 2^27, about 134
    /// million), so that one stray huge id cannot make the reader allocate
    /// gigabytes of per-node arrays.
    pub fn max_node_count(mut self, count: usize) -> Self {
        self.max_node_count = count;
        self
    }

    /// The maximum node count.
    pub fn get_max_node_count(&self) -> usize {
        self.max_node_count
    }

    /// Parses inputs of at least `bytes` bytes in parallel (default 4 MiB).
    /// The result is the same either way.
    pub fn parallel_threshold(mut self, bytes: usize) -> Self {
        self.parallel_threshold = bytes;
        self
    }

    /// The parallel threshold in bytes.
    pub fn get_parallel_threshold(&self) -> usize {
        self.parallel_threshold
    }
}

/// Reads an undirected weighted graph from the edge-list file at `path`.
///
/// See the [`community` docs](crate::community) for the format.
///
/// # Complexity
///
/// `O(bytes + n + m log d)` time (parsing, then [`Graph::from_edges`]);
/// the file is held in memory while parsing, plus 12 bytes per edge.
///
/// # Errors
///
/// An I/O error if the file cannot be read, an input error naming the line
/// and value of the first malformed line, or a limit error if the node count
/// exceeds [`EdgeListConfig::max_node_count`].
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{read_edge_list, EdgeListConfig};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("g.txt");
/// std::fs::write(&path, "0 1\n1 2 0.5\n")?;
/// let graph = read_edge_list(&path, &EdgeListConfig::new())?;
/// assert_eq!(graph.node_count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_edge_list(path: &Path, config: &EdgeListConfig) -> Result<Graph> {
    let parsed = {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::io(format!("cannot read edge list {}", path.display()), Some(path.into()), e)
        })?;
        parse_edges(&bytes, config.parallel_threshold)?
        // The text is freed here, before the graph is built.
    };
    build_graph(parsed, config)
}

/// Parses an undirected weighted graph from edge-list text in memory.
///
/// See the [`community` docs](crate::community) for the format, and
/// [`read_edge_list`] for complexity.
///
/// # Errors
///
/// An input error naming the line and value of the first malformed line, or
/// a limit error if the node count exceeds [`EdgeListConfig::max_node_count`].
///
/// # Examples
///
/// ```
/// use hydra_detect::community::{parse_edge_list, EdgeListConfig};
///
/// let graph = parse_edge_list(b"# triangle\n0 1\n1 2\n2 0 2.5\n", &EdgeListConfig::new())?;
/// assert_eq!(graph.node_count(), 3);
///
/// let err = parse_edge_list(b"0 1\n1 x\n", &EdgeListConfig::new()).unwrap_err();
/// assert_eq!(err.line(), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_edge_list(bytes: &[u8], config: &EdgeListConfig) -> Result<Graph> {
    build_graph(parse_edges(bytes, config.parallel_threshold)?, config)
}

/// Nodes a graph may have beyond the two ends of each edge (isolated nodes
/// from gaps in the ids) unless [`EdgeListConfig::min_node_count`] asks for
/// more: node ids are indices, and one stray huge id must not size memory.
const SPARSE_ID_SLACK: usize = 1 << 20;

/// Checks the node count against the limits and builds the graph.
fn build_graph(parsed: ParsedEdges, config: &EdgeListConfig) -> Result<Graph> {
    let edge_count: usize = parsed.chunks.iter().map(Vec::len).sum();
    let touchable = edge_count.saturating_mul(2).saturating_add(SPARSE_ID_SLACK);
    if parsed.node_count > touchable.max(config.min_node_count) {
        return Err(Error::limit(format!(
            "the largest node id {} is far above what {edge_count} edges can touch (at most {} \
             nodes with an edge, and {SPARSE_ID_SLACK} more are allowed for gaps): node ids are \
             0-based indices, so renumber them densely, or ask for that many nodes with \
             EdgeListConfig::min_node_count (hydra cluster --nodes)",
            parsed.node_count - 1,
            edge_count.saturating_mul(2)
        )));
    }
    let node_count = parsed.node_count.max(config.min_node_count);
    if node_count > config.max_node_count || node_count > MAX_NODE_ID as usize + 1 {
        let why = if parsed.node_count >= config.min_node_count {
            format!("the largest node id is {}", parsed.node_count - 1)
        } else {
            format!("at least {} nodes were asked for", config.min_node_count)
        };
        return Err(Error::limit(format!(
            "edge list has {node_count} nodes ({why}), more than the limit of {}: raise \
             EdgeListConfig::max_node_count (hydra cluster --max-nodes) or renumber the ids densely",
            config.max_node_count.min(MAX_NODE_ID as usize + 1)
        )));
    }
    // The chunks are read in place, in file order, without copying them into one.
    Graph::try_from_edge_chunks(node_count, parsed.chunks)
}

/// Edges parsed from a whole input, still in per-chunk vectors (in file
/// order) so they need not be copied into one.
#[derive(Debug)]
pub(crate) struct ParsedEdges {
    /// Largest node id seen plus one (0 without edges).
    pub(crate) node_count: usize,
    /// The edges `(u, v, w)` in file order, split where the input was.
    pub(crate) chunks: Vec<Vec<(u32, u32, f32)>>,
}

/// A parse failure inside one chunk, before its line number is known.
#[derive(Debug)]
struct ChunkError {
    /// 0-based line within the chunk.
    line: u64,
    problem: InputProblem,
    message: String,
}

/// One chunk's edges and its largest id plus one.
type ChunkResult = std::result::Result<(Vec<(u32, u32, f32)>, usize), ChunkError>;

/// Parses `bytes` into edges, in parallel chunks from `parallel_threshold`
/// bytes; reports the first malformed line in file order.
pub(crate) fn parse_edges(bytes: &[u8], parallel_threshold: usize) -> Result<ParsedEdges> {
    let bounds = if bytes.len() >= parallel_threshold {
        // About four chunks a thread, to balance uneven line lengths.
        let target = bytes.len() / (4 * rayon::current_num_threads());
        chunk_bounds(bytes, target.max(MIN_CHUNK_BYTES))
    } else {
        vec![0, bytes.len()]
    };
    let ranges: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let results: Vec<ChunkResult> = if ranges.len() > 1 {
        ranges.par_iter().map(|&(s, e)| parse_chunk(&bytes[s..e])).collect()
    } else {
        ranges.iter().map(|&(s, e)| parse_chunk(&bytes[s..e])).collect()
    };
    let mut chunks = Vec::with_capacity(results.len());
    let mut node_count = 0;
    for (result, &(start, _)) in results.into_iter().zip(&ranges) {
        match result {
            Ok((edges, count)) => {
                node_count = node_count.max(count);
                chunks.push(edges);
            }
            Err(e) => {
                // Only now count the lines before this chunk.
                let before = bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64;
                return Err(Error::input(before + e.line + 1, e.problem, e.message));
            }
        }
    }
    Ok(ParsedEdges { node_count, chunks })
}

/// Cuts `bytes` into pieces of about `target` bytes, each ending just after
/// a line end (or at the end of input). Returns the boundaries, first 0, last
/// `bytes.len()`.
fn chunk_bounds(bytes: &[u8], target: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    let mut pos = 0;
    while bytes.len() - pos > target {
        let probe = pos + target;
        match bytes[probe..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                pos = probe + i + 1;
                if pos < bytes.len() {
                    bounds.push(pos);
                }
            }
            None => break,
        }
    }
    bounds.push(bytes.len());
    bounds
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r'
}

/// The text of a token for messages, cut short if long.
fn show(token: &[u8]) -> String {
    const MAX: usize = 40;
    let s = String::from_utf8_lossy(&token[..token.len().min(MAX)]).into_owned();
    if token.len() > MAX { format!("{s}...") } else { s }
}

/// Parses one chunk that starts at a line start.
fn parse_chunk(chunk: &[u8]) -> ChunkResult {
    // About 14 bytes a line for 1M-node LFR graphs: reserve close to that.
    let mut edges = Vec::with_capacity(chunk.len() / 12);
    let mut max_id: i64 = -1;
    let mut line: u64 = 0;
    let mut pos = 0;
    let len = chunk.len();
    while pos < len {
        // Up to three tokens; `fields` counts them.
        let mut tokens: [&[u8]; 3] = [&[], &[], &[]];
        let mut fields = 0;
        loop {
            while pos < len && is_space(chunk[pos]) {
                pos += 1;
            }
            if pos >= len || chunk[pos] == b'\n' {
                break;
            }
            if chunk[pos] == b'#' {
                while pos < len && chunk[pos] != b'\n' {
                    pos += 1;
                }
                break;
            }
            let start = pos;
            while pos < len && !is_space(chunk[pos]) && chunk[pos] != b'\n' && chunk[pos] != b'#' {
                pos += 1;
            }
            let token = &chunk[start..pos];
            if fields == 3 {
                return Err(ChunkError {
                    line,
                    problem: InputProblem::Syntax,
                    message: format!(
                        "unexpected fourth column \"{}\" (expected \"u v\" or \"u v w\")",
                        show(token)
                    ),
                });
            }
            tokens[fields] = token;
            fields += 1;
        }
        match fields {
            0 => {}
            1 => {
                return Err(ChunkError {
                    line,
                    problem: InputProblem::Syntax,
                    message: format!(
                        "missing second node id after \"{}\" (expected \"u v\" or \"u v w\")",
                        show(tokens[0])
                    ),
                });
            }
            _ => {
                let u = parse_id(tokens[0]).map_err(|(problem, message)| ChunkError {
                    line,
                    problem,
                    message,
                })?;
                let v = parse_id(tokens[1]).map_err(|(problem, message)| ChunkError {
                    line,
                    problem,
                    message,
                })?;
                let w = if fields == 3 {
                    parse_weight(tokens[2]).map_err(|(problem, message)| ChunkError {
                        line,
                        problem,
                        message,
                    })?
                } else {
                    1.0
                };
                max_id = max_id.max(u.max(v) as i64);
                edges.push((u, v, w));
            }
        }
        // Step over the line end.
        pos += 1;
        line += 1;
    }
    Ok((edges, (max_id + 1) as usize))
}

/// Parses a node id: decimal digits, at most [`MAX_NODE_ID`].
fn parse_id(token: &[u8]) -> std::result::Result<u32, (InputProblem, String)> {
    let mut value: u64 = 0;
    for &b in token {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(bad_id(token));
        }
        value = value * 10 + d as u64;
        if value > MAX_NODE_ID {
            // Keep scanning so "123abc..." says "not a number" rather than "too large".
            if token.iter().all(u8::is_ascii_digit) {
                return Err((
                    InputProblem::Value,
                    format!("node id \"{}\" is too large (at most {MAX_NODE_ID})", show(token)),
                ));
            }
            return Err(bad_id(token));
        }
    }
    Ok(value as u32)
}

fn bad_id(token: &[u8]) -> (InputProblem, String) {
    if token.len() > 1 && token[0] == b'-' && token[1..].iter().all(u8::is_ascii_digit) {
        return (
            InputProblem::Value,
            format!("node id \"{}\" is negative (expected a 0-based index)", show(token)),
        );
    }
    (
        InputProblem::Syntax,
        format!("bad node id \"{}\" (expected a non-negative integer)", show(token)),
    )
}

/// Parses a weight: a finite number `>= 0`.
fn parse_weight(token: &[u8]) -> std::result::Result<f32, (InputProblem, String)> {
    // Integer weights, the common case, skip the float parser.
    if token.len() <= 7 && token.iter().all(u8::is_ascii_digit) {
        let v = token.iter().fold(0u32, |acc, &b| acc * 10 + (b - b'0') as u32);
        return Ok(v as f32);
    }
    let parsed = std::str::from_utf8(token).ok().and_then(|s| s.parse::<f32>().ok());
    match parsed {
        None => Err((
            InputProblem::Syntax,
            format!("bad weight \"{}\" (expected a number)", show(token)),
        )),
        Some(w) if !w.is_finite() => {
            Err((InputProblem::Value, format!("weight \"{}\" is not a finite number", show(token))))
        }
        Some(w) if w < 0.0 => Err((
            InputProblem::Value,
            format!("weight \"{}\" is negative (expected >= 0)", show(token)),
        )),
        Some(w) => Ok(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    // See: #15 (a 12-byte file `0 134217727` made hydra cluster use 11 GB).
    #[test]
    fn an_id_far_above_the_edge_count_is_refused_unless_asked_for() {
        let config = EdgeListConfig::new();
        let err = parse_edge_list(b"0 134217727\n", &config).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Limit { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("largest node id 134217727 is far above"), "{message}");
        assert!(message.contains("--nodes"), "{message}");
        // Gaps within the slack, or nodes asked for, are fine.
        assert_eq!(parse_edge_list(b"0 1000\n", &config).unwrap().node_count(), 1001);
        let asked = config.clone().min_node_count(2_000_001);
        assert_eq!(parse_edge_list(b"0 2000000\n", &asked).unwrap().node_count(), 2_000_001);
    }

    // See: #15 (duplicate edges summing to infinity gave modularity NaN, exit 0).
    #[test]
    fn repeated_edges_whose_weights_sum_past_f32_are_an_error() {
        let err = parse_edge_list(b"0 1 3e38\n1 0 3e38\n", &EdgeListConfig::new()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("edge (0, 1) is listed more than once"), "{message}");
        assert!(message.contains("scale the weights down"), "{message}");
        let g = parse_edge_list(b"0 1 1e38\n1 0 1e38\n", &EdgeListConfig::new()).unwrap();
        assert!(g.total_weight().is_finite());
    }

    fn edges(text: &str) -> (usize, Vec<(u32, u32, f32)>) {
        let p = parse_edges(text.as_bytes(), usize::MAX).unwrap();
        (p.node_count, p.chunks.concat())
    }

    fn error(text: &str) -> (u64, String) {
        let e = parse_edges(text.as_bytes(), usize::MAX).unwrap_err();
        match e.kind() {
            ErrorKind::Input { line, message, .. } => (*line, message.clone()),
            other => panic!("not an input error: {other:?}"),
        }
    }

    #[test]
    fn parses_pairs_weights_comments_and_blank_lines() {
        let (n, e) = edges("# header\n\n0 1\n  1\t2 0.5 \r\n3 3 2 # loop\n\n# end");
        assert_eq!(n, 4);
        assert_eq!(e, vec![(0, 1, 1.0), (1, 2, 0.5), (3, 3, 2.0)]);
        // No final newline, a comment right after a token.
        let (n, e) = edges("5 0 1e-1#c");
        assert_eq!(n, 6);
        assert_eq!(e, vec![(5, 0, 0.1)]);
        assert_eq!(edges(""), (0, vec![]));
        assert_eq!(edges("# nothing\n"), (0, vec![]));
    }

    #[test]
    fn errors_name_line_and_value() {
        let (line, msg) = error("0 1\n# c\n\n2 x\n");
        assert_eq!(line, 4);
        assert!(msg.contains("\"x\""), "{msg}");
        let (line, msg) = error("0 1\n-3 2\n");
        assert_eq!(line, 2);
        assert!(msg.contains("negative") && msg.contains("-3"), "{msg}");
        let (line, msg) = error("7\n");
        assert_eq!(line, 1);
        assert!(msg.contains("missing second node id"), "{msg}");
        let (line, msg) = error("0 1\n1 2 3 4\n");
        assert_eq!(line, 2);
        assert!(msg.contains("fourth column \"4\""), "{msg}");
        let (_, msg) = error("0 1 nan\n");
        assert!(msg.contains("not a finite"), "{msg}");
        let (_, msg) = error("0 1 inf\n");
        assert!(msg.contains("not a finite"), "{msg}");
        let (_, msg) = error("0 1 -2.5\n");
        assert!(msg.contains("negative") && msg.contains("-2.5"), "{msg}");
        let (_, msg) = error("0 1 heavy\n");
        assert!(msg.contains("bad weight \"heavy\""), "{msg}");
        let (_, msg) = error("0 4294967294\n");
        assert!(msg.contains("too large"), "{msg}");
        let (_, msg) = error("0 1.5\n");
        assert!(msg.contains("bad node id \"1.5\""), "{msg}");
    }

    #[test]
    fn largest_id_is_accepted_by_the_parser_and_limited_by_the_reader() {
        let (n, e) = edges("4294967293 0\n");
        assert_eq!(n, 4294967294);
        assert_eq!(e, vec![(4294967293, 0, 1.0)]);
        let err = parse_edge_list(b"4294967293 0\n", &EdgeListConfig::new()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Limit { .. }), "{err}");
        assert!(err.to_string().contains("largest node id 4294967293 is far above"), "{err}");
        let err =
            parse_edge_list(b"0 1\n", &EdgeListConfig::new().min_node_count(1 << 30)).unwrap_err();
        assert!(err.to_string().contains("asked for"), "{err}");
        let g = parse_edge_list(b"0 1\n", &EdgeListConfig::new().min_node_count(5)).unwrap();
        assert_eq!(g.node_count(), 5);
    }

    #[test]
    fn repeated_pairs_are_summed_and_self_loops_kept() {
        let g = parse_edge_list(b"0 1\n1 0 2\n2 2 0.5\n", &EdgeListConfig::new()).unwrap();
        assert_eq!(g.node_count(), 3);
        assert_eq!(g.neighbors(0).collect::<Vec<_>>(), vec![(1, 3.0)]);
        assert_eq!(g.neighbors(2).collect::<Vec<_>>(), vec![(2, 0.5)]);
    }

    #[test]
    fn chunks_end_at_line_ends() {
        let text = b"0 1\n2 3\n4 5\n6 7\n";
        assert_eq!(chunk_bounds(text, 5), vec![0, 8, 16]);
        assert_eq!(chunk_bounds(text, 100), vec![0, 16]);
        assert_eq!(chunk_bounds(b"0 1\n2 3", 1), vec![0, 4, 7]);
    }

    #[test]
    fn parallel_chunks_give_the_same_edges_and_error_lines() {
        let mut text = String::new();
        for i in 0..200_000u32 {
            text.push_str(&format!("{} {} {}\n", i, (i * 7) % 1000, (i % 5) as f32 / 2.0));
        }
        let serial = parse_edges(text.as_bytes(), usize::MAX).unwrap();
        let parallel = parse_edges(text.as_bytes(), 0).unwrap();
        assert!(parallel.chunks.len() > 1, "the input should be split");
        assert_eq!(serial.node_count, parallel.node_count);
        assert_eq!(serial.chunks.concat(), parallel.chunks.concat());
        // An error far into the file keeps its global line number.
        text.push_str("1 oops\n");
        let e = parse_edges(text.as_bytes(), 0).unwrap_err();
        assert_eq!(e.line(), Some(200_001));
    }
}
