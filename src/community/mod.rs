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

mod compare;
mod components;
mod edge_list;
mod graph;
mod label_prop;
mod leiden;
mod lfr;
mod partition;
mod quality;

pub use self::compare::{ari, nmi};
pub use self::components::connected_components;
pub use self::edge_list::{EdgeListConfig, parse_edge_list, read_edge_list};
pub use self::graph::Graph;
pub use self::label_prop::{LabelPropagationConfig, label_propagation};
pub use self::leiden::{LeidenConfig, leiden};
pub use self::lfr::{LfrConfig, lfr};
pub use self::partition::Partition;
pub use self::quality::{Quality, cpm, modularity};
