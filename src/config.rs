//! [`Config`]: one struct holding every stage's configuration.
//!
//! A run's configuration is written into its report (`run.config` in
//! `clusters.json`) and can be read back from TOML, where every table and
//! every key is optional:
//!
//! ```toml
//! [ingest]
//! lenient = true
//!
//! [graph]
//! supernode_cap = 500
//!
//! [leiden]
//! quality = "cpm"
//! resolution = 0.05
//! seed = 7
//!
//! [score]
//! threshold = 0.5
//! [score.weights]
//! sync = 0.2
//! ```

use serde::{Deserialize, Serialize};

use crate::community::{LeidenConfig, Quality};
use crate::error::{Error, Result};
use crate::graph::GraphConfig;
use crate::ingest::IngestConfig;
use crate::score::{ScoreConfig, Signal};

/// The CPM resolution the detector uses by default (see [`Config`]).
pub const DEFAULT_CPM_RESOLUTION: f64 = 0.003;

/// The strongest links kept per account by default (see [`Config`]).
pub const DEFAULT_TOP_K: usize = 40;

/// Configuration of a whole detection run: one field per stage.
///
/// `Default` is the documented default of every stage, except that the
/// account graph keeps only each account's [`DEFAULT_TOP_K`] strongest
/// links (memory `accounts × k`, and a sparse graph for Leiden), and Leiden
/// optimises the Constant Potts Model (CPM) at resolution
/// [`DEFAULT_CPM_RESOLUTION`] rather than modularity. Why CPM: modularity
/// has a resolution limit (Fortunato and Barthélemy, 2007) — in a graph of
/// millions of accounts it merges any community smaller than about the
/// square root of the total edge weight into a neighbour, so a 40-account
/// hydra next to a 5,000-account campus would vanish into it. CPM asks only
/// that each community's internal density exceed `γ`, whatever the size of
/// the rest of the graph (Traag, Van Dooren and Nesterov, 2011), so small
/// hydras stay apart from big groups, and a company or household, densely
/// tied inside and only weakly to the outside, stays on its own.
///
/// # Example
///
/// ```
/// use hydra_detect::{Config, ScoreConfig};
///
/// let config = Config::from_toml_str("[score]\nthreshold = 0.6\n")?;
/// assert_eq!(config.get_score().get_threshold(), 0.6);
/// let again = Config::from_toml_str(&config.to_toml_string()?)?;
/// assert_eq!(again, config);
/// let config = Config::new().score(ScoreConfig::new().threshold(0.7));
/// assert_eq!(config.get_score().get_threshold(), 0.7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Config {
    ingest: IngestConfig,
    graph: GraphConfig,
    leiden: LeidenConfig,
    score: ScoreConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ingest: IngestConfig::default(),
            graph: GraphConfig::default().top_k(Some(DEFAULT_TOP_K)),
            leiden: LeidenConfig::new()
                .quality(Quality::Cpm { resolution: DEFAULT_CPM_RESOLUTION }),
            score: ScoreConfig::default(),
        }
    }
}

impl Config {
    /// The defaults of every stage (see [`Config`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how events are read.
    pub fn ingest(mut self, ingest: IngestConfig) -> Self {
        self.ingest = ingest;
        self
    }

    /// How events are read.
    pub fn get_ingest(&self) -> &IngestConfig {
        &self.ingest
    }

    /// Sets how the account graph is built.
    pub fn graph(mut self, graph: GraphConfig) -> Self {
        self.graph = graph;
        self
    }

    /// How the account graph is built.
    pub fn get_graph(&self) -> &GraphConfig {
        &self.graph
    }

    /// Sets how communities are found. Its initial partition and fixed
    /// nodes are dropped: batch detection numbers the accounts itself (see
    /// [`Detector::warm_start`](crate::Detector::warm_start) for a warm start).
    pub fn leiden(mut self, leiden: LeidenConfig) -> Self {
        self.leiden = leiden.without_start();
        self
    }

    /// How communities are found.
    pub fn get_leiden(&self) -> &LeidenConfig {
        &self.leiden
    }

    /// Sets how communities are scored.
    pub fn score(mut self, score: ScoreConfig) -> Self {
        self.score = score;
        self
    }

    /// How communities are scored.
    pub fn get_score(&self) -> &ScoreConfig {
        &self.score
    }

    /// The community-detection seed.
    pub fn get_seed(&self) -> u64 {
        self.leiden.get_seed()
    }

    /// Reads a configuration from TOML; missing tables and keys keep their
    /// defaults.
    ///
    /// # Errors
    ///
    /// A [`crate::ErrorKind::Config`] error naming the bad key or value:
    /// invalid TOML, an unknown key, or a value out of range.
    pub fn from_toml_str(text: &str) -> Result<Config> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| Error::config(e.to_string().trim_end()))?;
        let config = raw.into_config();
        config.validate()?;
        Ok(config)
    }

    /// Checks every stage's configuration, so that a value that makes no
    /// sense is found before any input is read.
    ///
    /// # Errors
    ///
    /// A [`crate::ErrorKind::Config`] error naming the first bad key: a
    /// record length limit of 0 or above
    /// [`IngestConfig::MAX_RECORD_LEN_LIMIT`], a graph weight out of range,
    /// a negative or non-finite resolution or tolerance, a randomness that
    /// is not positive, a score knob out of range, or score weights whose
    /// sum is not finite.
    pub fn validate(&self) -> Result<()> {
        self.ingest.validate()?;
        self.graph.validate()?;
        self.leiden.check_settings()?;
        self.score.validate()?;
        let total: f64 = Signal::ALL.iter().map(|&s| self.score.get_weight(s)).sum();
        if !total.is_finite() {
            return Err(Error::config(format!(
                "score.weights sum to {total} (expected a finite total: scale them down)"
            )));
        }
        Ok(())
    }

    /// Writes the whole configuration as TOML (every key, defaults included).
    ///
    /// # Errors
    ///
    /// A [`crate::ErrorKind::Config`] error if a value cannot be written
    /// (a non-finite number).
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(&RawConfig::from_config(self)).map_err(|e| Error::config(e.to_string()))
    }

    /// The configuration as JSON, for the run manifest.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(RawConfig::from_config(self)).unwrap_or(serde_json::Value::Null)
    }
}

impl Serialize for Config {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        RawConfig::from_config(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        RawConfig::deserialize(d).map(RawConfig::into_config)
    }
}

/// The serialized form of [`Config`].
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    ingest: IngestConfig,
    graph: GraphConfig,
    leiden: LeidenSettings,
    score: ScoreConfig,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig::from_config(&Config::default())
    }
}

impl RawConfig {
    fn from_config(c: &Config) -> Self {
        Self {
            ingest: c.ingest.clone(),
            graph: c.graph.clone(),
            leiden: LeidenSettings::from_leiden(&c.leiden),
            score: c.score.clone(),
        }
    }

    fn into_config(self) -> Config {
        Config {
            ingest: self.ingest,
            graph: self.graph,
            leiden: self.leiden.into_leiden(),
            score: self.score,
        }
    }
}

/// Which quality function Leiden optimises, as written in TOML.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum QualityName {
    Cpm,
    Modularity,
}

/// The serializable settings of a [`LeidenConfig`].
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LeidenSettings {
    quality: QualityName,
    resolution: f64,
    seed: u64,
    max_iterations: Option<usize>,
    randomness: f64,
    parallel_threshold: usize,
}

impl Default for LeidenSettings {
    fn default() -> Self {
        LeidenSettings::from_leiden(&Config::default().leiden)
    }
}

impl LeidenSettings {
    fn from_leiden(l: &LeidenConfig) -> Self {
        let (quality, resolution) = match l.get_quality() {
            Quality::Cpm { resolution } => (QualityName::Cpm, resolution),
            Quality::Modularity { resolution } => (QualityName::Modularity, resolution),
        };
        Self {
            quality,
            resolution,
            seed: l.get_seed(),
            max_iterations: l.get_max_iterations(),
            randomness: l.get_randomness(),
            parallel_threshold: l.get_parallel_threshold(),
        }
    }

    fn into_leiden(self) -> LeidenConfig {
        let quality = match self.quality {
            QualityName::Cpm => Quality::Cpm { resolution: self.resolution },
            QualityName::Modularity => Quality::Modularity { resolution: self.resolution },
        };
        LeidenConfig::new()
            .quality(quality)
            .seed(self.seed)
            .max_iterations(self.max_iterations)
            .randomness(self.randomness)
            .parallel_threshold(self.parallel_threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leiden_start_of_the_callers_is_dropped() {
        // Its node ids would not be the accounts' (and a wrong node count
        // would stop Leiden).
        let leiden = LeidenConfig::new()
            .initial(crate::community::Partition::singletons(3))
            .fixed_nodes([0, 1]);
        let config = Config::new().leiden(leiden);
        assert!(config.get_leiden().get_initial().is_none());
        assert!(config.get_leiden().get_fixed_nodes().is_empty());
        let events = (0..4).map(|i| {
            crate::event::Event::observe(
                1_767_225_600,
                format!("a{i}"),
                crate::event::IndicatorKind::Ip,
                "192.0.2.9",
            )
        });
        assert_eq!(crate::Detector::new(config).detect_events(events).unwrap().accounts.len(), 4);
    }

    #[test]
    fn defaults_round_trip_through_toml() {
        let config = Config::new();
        let text = config.to_toml_string().unwrap();
        assert_eq!(Config::from_toml_str(&text).unwrap(), config);
        assert!(matches!(config.get_leiden().get_quality(), Quality::Cpm { .. }));
    }

    #[test]
    fn partial_files_keep_other_defaults() {
        let config =
            Config::from_toml_str("[leiden]\nseed = 9\n[score.weights]\nsync = 0.5\n").unwrap();
        assert_eq!(config.get_seed(), 9);
        assert_eq!(config.get_score().get_weight(crate::score::Signal::Sync), 0.5);
        assert_eq!(config.get_graph(), Config::new().get_graph());
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        let err = Config::from_toml_str("[score]\nthreshhold = 1\n").unwrap_err();
        assert!(err.to_string().contains("threshhold"), "{err}");
        let err = Config::from_toml_str("[score]\nthreshold = 2.0\n").unwrap_err();
        assert!(err.to_string().contains("score.threshold"), "{err}");
        assert!(Config::from_toml_str("[leiden]\nquality = \"louvain\"\n").is_err());
    }

    // See: #15 (resolution -1 and randomness 0 panicked after ingest, a
    // huge max_record_len read 0 events, overflowing weights gave 0 clusters).
    #[test]
    fn values_that_make_no_sense_are_refused_before_any_input() {
        for (text, key) in [
            ("[leiden]\nresolution = -1.0\n", "resolution -1"),
            ("[leiden]\nrandomness = 0.0\n", "randomness 0"),
            ("[ingest]\nmax_record_len = 9223372036854775807\n", "max_record_len"),
            ("[ingest]\nmax_record_len = 0\n", "max_record_len"),
            ("[score.weights]\nsync = 1e308\nvolume = 1e308\n", "score.weights sum to inf"),
        ] {
            let err = Config::from_toml_str(text).unwrap_err();
            assert!(err.to_string().contains(key), "{text}: {err}");
        }
        let huge = Config::new().ingest(IngestConfig::new().max_record_len(usize::MAX));
        assert!(huge.validate().unwrap_err().to_string().contains("max_record_len"));
        // The detector checks before it opens the input.
        let bad = Config::new().leiden(LeidenConfig::new().randomness(0.0));
        let err = crate::Detector::new(bad).detect_path("/nonexistent/events.csv".as_ref());
        let err = err.unwrap_err();
        assert!(matches!(err.kind(), crate::ErrorKind::Config { .. }), "{err}");
    }

    #[test]
    fn config_serializes_to_json_for_the_manifest() {
        let json = Config::new().to_json();
        assert_eq!(json["leiden"]["quality"], "cpm");
        assert!(json["score"]["threshold"].is_number());
    }
}
