//! [`AccountEdges`]: the weighted account graph as plain data, for other
//! tools: an edge list (`u v w` lines, as `hydra cluster`, igraph and
//! NetworKit read them) and an id map (`id,account`).

use std::io::Write;

use crate::error::{Error, Result};

/// Schema tag in the first comment line of an edge list.
const EDGES_SCHEMA: &str = "hydra-detect/edges/1";

/// A weighted undirected account graph as plain data: node `i` is account
/// [`accounts`](Self::accounts)`[i]`, and each edge `(i, j, w)` is listed
/// once, `i < j`, sorted.
///
/// Made by [`EventIndex::graph`](crate::EventIndex::graph) (every account;
/// ids as in `accounts.csv`, whose rows are in the same sorted order) and
/// [`EventIndex::subgraph`](crate::EventIndex::subgraph). It owes nothing to
/// any graph crate; for petgraph, for instance:
/// `petgraph::graph::UnGraph::<(), f32>::from_edges(edges.edges().iter().copied())`.
///
/// # Examples
///
/// ```
/// use hydra_detect::{Event, GraphBuilder, GraphConfig, IndicatorKind};
///
/// let mut builder = GraphBuilder::new(GraphConfig::new());
/// for (line, account) in [(2, "b"), (3, "a"), (4, "c")] {
///     builder.add(line, &Event::observe(0, account, IndicatorKind::Device, "d-1"))?;
/// }
/// let graph = builder.index().graph();
/// assert_eq!(graph.accounts(), ["a", "b", "c"]);
/// assert_eq!(graph.edge_count(), 3);
/// let mut text = Vec::new();
/// graph.write_edge_list(&mut text)?;
/// assert!(String::from_utf8(text)?.lines().any(|l| l.starts_with("0 1 ")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AccountEdges {
    /// Node names, node `i` first; distinct.
    accounts: Vec<String>,
    /// `(i, j, w)` with `i < j < accounts.len()`, sorted by `(i, j)`,
    /// each pair once, `w` finite and `> 0`.
    edges: Vec<(u32, u32, f32)>,
}

impl AccountEdges {
    /// Made by the index, which keeps the invariants.
    pub(crate) fn new(accounts: Vec<String>, edges: Vec<(u32, u32, f32)>) -> Self {
        Self { accounts, edges }
    }

    /// How many nodes (accounts, linked or not).
    pub fn node_count(&self) -> usize {
        self.accounts.len()
    }

    /// How many undirected edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// The account ids, by node: node `i` is `accounts()[i]`.
    pub fn accounts(&self) -> &[String] {
        &self.accounts
    }

    /// The edges `(i, j, weight)`, `i < j`, sorted, each pair once.
    pub fn edges(&self) -> &[(u32, u32, f32)] {
        &self.edges
    }

    /// Writes the edges as text: comment lines starting with `#` (the
    /// schema, the node and edge counts), then one `i j w` line per edge,
    /// the weight written so that it reads back as the same `f32`. This is
    /// the format [`read_edge_list`](crate::community::read_edge_list) and
    /// `hydra cluster` read; igraph (`Graph.Read_Ncol`, `weights=True`) and
    /// NetworKit (`EdgeListReader(' ', 0, '#')`) read it too. Nodes without
    /// edges at the end of the id range appear in no line: give readers
    /// the node count (`hydra cluster --nodes`).
    ///
    /// # Errors
    ///
    /// An [`Io`](crate::ErrorKind::Io) error if writing fails.
    pub fn write_edge_list(&self, out: impl Write) -> Result<()> {
        self.write_edges(out).map_err(|e| Error::io("cannot write the edge list", None, e))
    }

    fn write_edges(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
        writeln!(w, "# {EDGES_SCHEMA}: undirected weighted account graph, one edge a line: u v w")?;
        writeln!(w, "# nodes {} edges {}", self.accounts.len(), self.edges.len())?;
        writeln!(w, "# node ids are 0-based; the id map (id,account) names each node")?;
        for &(i, j, weight) in &self.edges {
            writeln!(w, "{i} {j} {weight}")?;
        }
        w.flush()
    }

    /// Writes the id map as CSV, header `id,account`, one row per node in
    /// id order (fields quoted as CSV needs).
    ///
    /// # Errors
    ///
    /// An [`Io`](crate::ErrorKind::Io) error if writing fails.
    pub fn write_id_map(&self, out: impl Write) -> Result<()> {
        let fail = |e: csv::Error| {
            let io = match e.into_kind() {
                csv::ErrorKind::Io(io) => io,
                other => std::io::Error::other(format!("{other:?}")),
            };
            Error::io("cannot write the id map", None, io)
        };
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["id", "account"]).map_err(fail)?;
        let mut id = String::new();
        for (i, account) in self.accounts.iter().enumerate() {
            id.clear();
            id.push_str(&i.to_string());
            w.write_record([id.as_str(), account.as_str()]).map_err(fail)?;
        }
        w.flush().map_err(|e| Error::io("cannot write the id map", None, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::{EdgeListConfig, parse_edge_list};

    #[test]
    fn the_edge_list_reads_back_as_the_same_graph() {
        let weights = [1.0f32, 0.1, 1.0 / 3.0, 7.25e-6, 123_456_790.0, f32::MIN_POSITIVE];
        let edges: Vec<(u32, u32, f32)> =
            weights.iter().enumerate().map(|(k, &w)| (k as u32, k as u32 + 1, w)).collect();
        let accounts = (0..=weights.len()).map(|i| format!("a{i}")).collect();
        let graph = AccountEdges::new(accounts, edges.clone());
        let mut text = Vec::new();
        graph.write_edge_list(&mut text).unwrap();
        let read = parse_edge_list(&text, &EdgeListConfig::new()).unwrap();
        assert_eq!(read.node_count(), graph.node_count());
        for &(i, j, w) in &edges {
            let back: Vec<(u32, f32)> = read.neighbors(i).filter(|&(t, _)| t == j).collect();
            assert_eq!(back, vec![(j, w)], "edge {i} {j}: {}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn the_id_map_quotes_what_csv_needs() {
        let accounts =
            vec!["plain".to_owned(), "with,comma".to_owned(), "q\"uote\nline".to_owned()];
        let graph = AccountEdges::new(accounts.clone(), Vec::new());
        let mut out = Vec::new();
        graph.write_id_map(&mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let rows: Vec<(usize, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].parse().unwrap(), r[1].to_owned())
            })
            .collect();
        assert_eq!(rows, accounts.into_iter().enumerate().collect::<Vec<_>>());
    }
}
