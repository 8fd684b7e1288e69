//! Batch facade (being built).
