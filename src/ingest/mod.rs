//! Ingest: bytes in (CSV, JSON Lines, gzip) to validated [`Event`](crate::Event)s out.

pub(crate) mod normalize;
