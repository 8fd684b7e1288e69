//! Where a run is: stage starts and progress within a stage, as `tracing`
//! events for a front end to draw (the `hydra` binary shows progress bars).
//!
//! Each stage also logs one `info` event when it ends, with its counts and
//! time, under the crate's own target; those are the `-v` lines. The events
//! here are `trace` events under the target [`TARGET`], cheap when nobody
//! listens, and carry no input data:
//!
//! - `stage = "NAME"`: the stage NAME started (its length unknown);
//! - `stage = "NAME", pos = P, len = L`: NAME has done P of L units
//!   (`len` 0 when unknown), `unit` says which (`bytes`, `events`, …);
//! - `stage = "NAME", done = true`: NAME ended.
//!
//! A front end listens for events under [`TARGET`]; a program that wraps
//! the library can announce stages of its own with the same functions, so
//! that one listener draws them all (the `hydra` binary does so for its
//! simulate, read and write stages).

/// The `tracing` target of progress events.
pub const TARGET: &str = "hydra_detect::progress";

/// Announces that `stage` started.
pub fn start(stage: &'static str) {
    tracing::trace!(target: TARGET, stage);
}

/// Reports that `stage` has done `pos` of `len` `unit`s (`len` 0: unknown).
pub fn advance(stage: &'static str, unit: &'static str, pos: u64, len: u64) {
    tracing::trace!(target: TARGET, stage, unit, pos, len);
}

/// Announces that `stage` ended.
pub fn done(stage: &'static str) {
    tracing::trace!(target: TARGET, stage, done = true);
}
