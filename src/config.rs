//! [`Config`]: one struct holding every stage's configuration.

/// Configuration of a whole detection run: one field per stage.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Config {}
