//! `[health]`: how often the health checks run, their time limit, and when the feed is stale.

use super::Resolver;
use crate::config::ConfigError;
use crate::config::HealthConfig;
use std::time::Duration;

impl Resolver<'_> {
    /// `[health] every_secs`, `llm_every_secs`, `timeout_secs` and `feed_stale_secs`: each at
    /// least 1 s; the rounds' periods at most a day.
    pub(super) fn health(&mut self) -> Result<HealthConfig, ConfigError> {
        let defaults = HealthConfig::default();
        let section = self.doc().map(|d| &d.health);
        let file = (
            section.and_then(|h| h.every_secs),
            section.and_then(|h| h.llm_every_secs),
            section.and_then(|h| h.timeout_secs),
            section.and_then(|h| h.feed_stale_secs),
        );
        let every = self.health_secs("health.every_secs", file.0, defaults.every)?;
        let llm_every = self.health_secs("health.llm_every_secs", file.1, defaults.llm_every)?;
        Ok(HealthConfig {
            every: self.period("health.every_secs", every)?,
            llm_every: self.period("health.llm_every_secs", llm_every)?,
            timeout: self.health_secs("health.timeout_secs", file.2, defaults.timeout)?,
            feed_stale_after: self.health_secs(
                "health.feed_stale_secs",
                file.3,
                defaults.feed_stale_after,
            )?,
        })
    }

    fn health_secs(
        &mut self,
        key: &str,
        file: Option<u64>,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let secs = self.pick(
            key,
            None,
            None,
            |_| Err(String::new()),
            file,
            || default.as_secs(),
        )?;
        if secs == 0 {
            return Err(self.invalid(key, "must be at least 1 (seconds)".into()));
        }
        Ok(Duration::from_secs(secs))
    }
}
