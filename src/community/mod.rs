//! Community detection on weighted undirected graphs: Leiden, connected
//! components, label propagation and quality measures.
//!
//! # Overview
//!
//! - [`Graph`]: the input, an undirected weighted graph in CSR form, built
//!   from an edge list ([`Graph::from_edges`]) or from CSR arrays
//!   ([`Graph::from_csr`]).
//! - [`Partition`]: the output, every node's community, numbered by smallest
//!   member so equal groupings compare equal.

mod graph;
mod partition;

pub use self::graph::Graph;
pub use self::partition::Partition;
