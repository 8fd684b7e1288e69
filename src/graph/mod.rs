//! graph stage (being built).
