//! score stage (being built).
