//! watch stage (being built).
