//! Integration tests: the public API and the `hydra` binary, used as a user would.
mod report; // report writers: contract fields, ranking, redaction, well-formed GraphML, self-contained HTML
mod ingest; // input contract: CSV/JSONL/gzip, every malformed field with its line, strict/lenient, arbitrary bytes
mod community; // Leiden known answers (karate, planted), connectivity, 1 vs 2 threads, warm start, fixed nodes
