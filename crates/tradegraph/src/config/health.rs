//! [`HealthConfig`]: how often the checks run and how long they may take (`[health]`).

use crate::engine::FEED_STALE_AFTER;
use std::time::Duration;

/// How often the health checks run, how long each may take, and when the feed counts as stale:
/// the `[health]` section of the configuration file.
///
/// ```
/// use std::time::Duration;
/// use tradegraph::config::HealthConfig;
/// let config = HealthConfig::default();
/// assert_eq!(config.every, Duration::from_secs(10));
/// assert_eq!(config.llm_every, Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthConfig {
    /// A round of checks this often (`every_secs`, 10).
    pub every: Duration,
    /// The model providers' key check (an HTTP listing of models) at most this often
    /// (`llm_every_secs`, 300); their breakers and success rates are read every round.
    pub llm_every: Duration,
    /// A check that does not answer within this is failing (`timeout_secs`, 5).
    pub timeout: Duration,
    /// Read by the engine, not the checker (the engine owns the `feed` check): it reports the
    /// feed stale after this long without market data while the market is open
    /// (`feed_stale_secs`, [`FEED_STALE_AFTER`], 60; `tradegraph run` sets
    /// [`BotConfig::stale_after`](crate::engine::BotConfig::stale_after) from it).
    pub feed_stale_after: Duration,
}

impl HealthConfig {
    /// How long the engine's `broker` check allows no answered call to the broker while the
    /// market is open before it is degraded: three rounds of checks, and at least 180 s (the
    /// engine calls its broker at each closed minute, a venue's broker at no other time when
    /// the bot does not trade).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tradegraph::config::HealthConfig;
    /// assert_eq!(HealthConfig::default().broker_quiet_after(), Duration::from_secs(180));
    /// let slow = HealthConfig { every: Duration::from_secs(120), ..HealthConfig::default() };
    /// assert_eq!(slow.broker_quiet_after(), Duration::from_secs(360));
    /// ```
    pub fn broker_quiet_after(&self) -> Duration {
        // Saturating: a huge `every_secs` must not overflow (it means "practically never").
        self.every.saturating_mul(3).max(Duration::from_secs(180))
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(10),
            llm_every: Duration::from_secs(300),
            timeout: Duration::from_secs(5),
            feed_stale_after: FEED_STALE_AFTER,
        }
    }
}
