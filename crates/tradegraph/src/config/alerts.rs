//! [`AlertsConfig`]: what `[alerts]` in `tradegraph.toml` sets.

use std::fmt;
use std::time::Duration;
use tradegraph_llm::Secret;

/// How a webhook's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The alert as JSON (generic receivers).
    Json,
    /// Slack's incoming webhooks: `{"text": ..., "blocks": [...]}`.
    Slack,
    /// Telegram's `sendMessage`: `{"chat_id": ..., "text": ..., "parse_mode": "HTML"}`.
    Telegram,
}

impl WebhookFormat {
    /// `json`, `slack`, `telegram`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Slack => "slack",
            Self::Telegram => "telegram",
        }
    }
}

/// One `[[alerts.webhook]]`. Its URL is a secret (a Slack hook's path, a Telegram bot's token):
/// `Debug` prints `***` for it.
#[derive(Clone)]
pub struct WebhookConfig {
    /// Where alerts are POSTed.
    pub url: Secret,
    /// How the body is written.
    pub format: WebhookFormat,
    /// The chat a Telegram bot writes to (`format = "telegram"` only).
    pub chat_id: Option<String>,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("chat_id", &self.chat_id)
            .finish()
    }
}

/// `[alerts]`: the rules' thresholds, the cool-down and the webhooks. The log, the event
/// stream and the store's `alerts` collection always receive alerts while alerts are enabled.
///
/// ```
/// use tradegraph::config::AlertsConfig;
/// let config = AlertsConfig::default();
/// assert!(config.enabled && config.webhooks.is_empty());
/// assert_eq!(config.cooldown.as_secs(), 900);
/// ```
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// Whether alerts run at all (`enabled`, default true).
    pub enabled: bool,
    /// The same alert key is raised at most once per this (`cooldown_secs`, 900).
    pub cooldown: Duration,
    /// How often memory, error rate and the performance floors are sampled (`sample_secs`, 10).
    pub sample_every: Duration,
    /// Resident memory above this raises `memory` (`max_memory_mb`, 2048).
    pub max_memory_mb: u64,
    /// Error-level log events per minute above this raise `error_rate`
    /// (`max_errors_per_minute`, 10).
    pub max_errors_per_minute: u64,
    /// The rolling window of closed trades for the win rate (`window_trades`, 20).
    pub window_trades: usize,
    /// A rolling win rate (0 to 1) below this raises `win_rate_floor` (`min_win_rate`, 0.3).
    pub min_win_rate: f64,
    /// A rolling Sharpe ratio below this raises `sharpe_floor` (`min_sharpe`, 0).
    pub min_sharpe: f64,
    /// Equity this far (percent) below its peak raises `drawdown` (`max_drawdown_pct`, 10).
    pub max_drawdown_pct: f64,
    /// The webhooks (`[[alerts.webhook]]`).
    pub webhooks: Vec<WebhookConfig>,
    /// The webhooks left out because their `url_env` is set nowhere: each problem, naming the
    /// variable and the file's line. The commands that deliver alerts (`run`, `worker`) refuse
    /// to start with any; the others (a backtest, `kite login`) run without those webhooks.
    pub unset_webhooks: Vec<String>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown: Duration::from_secs(900),
            sample_every: Duration::from_secs(10),
            max_memory_mb: 2048,
            max_errors_per_minute: 10,
            window_trades: 20,
            min_win_rate: 0.3,
            min_sharpe: 0.0,
            max_drawdown_pct: 10.0,
            webhooks: Vec::new(),
            unset_webhooks: Vec::new(),
        }
    }
}
