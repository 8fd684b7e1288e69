//! Integration tests: the public API and the `hydra` binary, used as a user would.
mod cli; // the hydra binary: detect (reports, strict/lenient, redact, stdin, --print-config) and explain
mod cluster; // hydra cluster end to end, the edge-list reader, LFR + Leiden through the public API
mod community; // Leiden known answers (karate, planted), connectivity, 1 vs 2 threads, warm start, fixed nodes
mod detect; // batch Detector: input order and thread count, manifest and input hash, gzip, stable ids, explain, config errors
mod eval; // evaluation: known figures on hand-made truth/verdicts/flag stream, hydra eval CLI
mod faults; // watcher state fault injection: every cut, flipped byte and deleted file is recovered exactly or refused
mod formats; // docs/FORMATS.md and docs/clusters.schema.json agree with what the writers produce
mod graph; // hydra graph: graph.json, --cap/--top-k, strict leaves nothing, lenient counts, stdin JSONL, input order
mod independent; // an independent platform (../shared, beside the checkout in CI): the detection-quality bar for detect and watch
mod ingest; // input contract: CSV/JSONL/gzip, every malformed field with its line, strict/lenient, arbitrary bytes
mod parquet; // Parquet (feature `parquet`): same accounts.csv as CSV, bad files; without it, the feature hint; gzip on stdin
mod report; // report writers: contract fields, ranking, redaction, well-formed GraphML, self-contained HTML
mod scenarios;
mod sim; // simulator: determinism by seed, contract-valid ordered events, truth agrees with events
mod watch; // streaming watcher: scenarios, retract, at-most-once, eviction, SIGKILL recovery, damaged state // tests/data/scenarios: hard negatives stay quiet, hydras and replacements found, signals bounded, evidence for every flag
