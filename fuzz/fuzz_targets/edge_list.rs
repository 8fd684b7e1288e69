//! The edge-list parser and graph builder on arbitrary bytes: an error or a
//! graph, never a panic, and never more nodes than the limits allow.
#![no_main]

use hydra_detect::community::{EdgeListConfig, parse_edge_list};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = EdgeListConfig::new().max_node_count(1 << 22);
    if let Ok(graph) = parse_edge_list(data, &config) {
        assert!(graph.node_count() <= 1 << 22);
        assert!(graph.total_weight().is_finite());
    }
});
