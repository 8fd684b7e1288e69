//! Integration tests: the public API and the `hydra` binary, used as a user would.
