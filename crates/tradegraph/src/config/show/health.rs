//! The `[health]` section of `tradegraph config show`.

use super::Section;
use crate::config::Settings;
use serde_json::json;

impl Settings {
    pub(super) fn health_section(&self) -> Section {
        let s = "health";
        let h = &self.health;
        Section {
            name: s.into(),
            array: false,
            entries: vec![
                self.entry(s, "every_secs", Some(json!(h.every.as_secs()))),
                self.entry(s, "llm_every_secs", Some(json!(h.llm_every.as_secs()))),
                self.entry(s, "timeout_secs", Some(json!(h.timeout.as_secs()))),
                self.entry(
                    s,
                    "feed_stale_secs",
                    Some(json!(h.feed_stale_after.as_secs())),
                ),
            ],
        }
    }
}
