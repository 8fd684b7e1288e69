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
//! - [`leiden`] with [`LeidenConfig`]: the main algorithm (Traag, Waltman and
//!   van Eck 2019), maximising [`modularity`] or [`cpm`] as chosen by
//!   [`Quality`]; seeded, with warm starts and fixed nodes, and the same
//!   result on any number of threads.
//! - [`connected_components`] and [`label_propagation`]: fast, coarse passes
//!   and baselines.
//! - [`modularity`] and [`cpm`]: the quality of any partition, with the same
//!   self-loop convention Leiden optimises.
//! - [`lfr`], [`nmi`] and [`ari`]: benchmark graphs with planted communities,
//!   and how well a partition recovers them.
//!
//! # Example
//!
//! ```
//! use hydra_detect::community::{leiden, modularity, Graph, LeidenConfig, Quality};
//!
//! // Two triangles joined by one edge.
//! let g = Graph::from_edges(6, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0),
//!                                (3, 4, 1.0), (4, 5, 1.0), (3, 5, 1.0), (2, 3, 1.0)]);
//! let p = leiden(&g, &LeidenConfig::new().seed(7));
//! assert_eq!(p.communities(), vec![vec![0, 1, 2], vec![3, 4, 5]]);
//! assert!(modularity(&g, &p, 1.0) > 0.35);
//!
//! // CPM: keep groups denser than 0.5.
//! let p = leiden(&g, &LeidenConfig::new().quality(Quality::Cpm { resolution: 0.5 }));
//! assert_eq!(p.community_count(), 2);
//! ```

mod compare;
pub(crate) mod components;
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
