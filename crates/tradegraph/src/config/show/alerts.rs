//! The `[alerts]` section of `tradegraph config show` (webhook URLs masked).

use super::Section;
use crate::config::Settings;
use serde_json::json;

impl Settings {
    pub(super) fn alerts_sections(&self) -> Vec<Section> {
        let s = "alerts";
        let a = &self.alerts;
        let mut out = vec![Section {
            name: s.into(),
            array: false,
            entries: vec![
                self.entry(s, "enabled", Some(json!(a.enabled))),
                self.entry(s, "cooldown_secs", Some(json!(a.cooldown.as_secs()))),
                self.entry(s, "sample_secs", Some(json!(a.sample_every.as_secs()))),
                self.entry(s, "max_memory_mb", Some(json!(a.max_memory_mb))),
                self.entry(
                    s,
                    "max_errors_per_minute",
                    Some(json!(a.max_errors_per_minute)),
                ),
                self.entry(s, "window_trades", Some(json!(a.window_trades))),
                self.entry(s, "min_win_rate", Some(json!(a.min_win_rate))),
                self.entry(s, "min_sharpe", Some(json!(a.min_sharpe))),
                self.entry(s, "max_drawdown_pct", Some(json!(a.max_drawdown_pct))),
            ],
        }];
        for hook in &a.webhooks {
            let mut entries = vec![
                self.entry("alerts.webhook", "url", Some(json!("***"))),
                self.entry(
                    "alerts.webhook",
                    "format",
                    Some(json!(hook.format.as_str())),
                ),
            ];
            if let Some(chat) = &hook.chat_id {
                entries.push(self.entry("alerts.webhook", "chat_id", Some(json!(chat))));
            }
            out.push(Section {
                name: "alerts.webhook".into(),
                array: true,
                entries,
            });
        }
        out
    }
}
