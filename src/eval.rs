//! Metrics against ground truth (being built).
