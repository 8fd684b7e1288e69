//! index stage (being built).
