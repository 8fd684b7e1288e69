//! ingest stage (being built).
