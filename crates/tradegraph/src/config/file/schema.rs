//! The sections of the configuration file, as serde reads them (unknown keys are errors).

use super::session::SessionSpec;
use crate::config::{FeedKind, Venue};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use toml::Spanned;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Currency, Exchange, Segment, Timeframe};
use tradegraph_llm::config::LlmConfig;

/// The whole file (no `Debug`: URLs may carry passwords). `[llm] budget_usd` is taken out before this is read (it is not a field of
/// [`LlmConfig`]), and the keys of `[risk]` are checked beforehand ([`RiskLimits`] ignores
/// unknown ones).
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct FileDoc {
    pub(crate) bot: BotSection,
    pub(crate) risk: Option<RiskLimits>,
    pub(crate) graph: GraphSection,
    pub(crate) stores: StoresSection,
    pub(crate) llm: Option<LlmConfig>,
    pub(crate) feeds: FeedsSection,
    pub(crate) instruments: Vec<Spanned<InstrumentSpec>>,
    pub(crate) dashboard: DashboardSection,
    pub(crate) health: HealthSection,
    pub(crate) alerts: AlertsSection,
    pub(crate) live: LiveSection,
    pub(crate) paper: PaperSection,
    pub(crate) news: NewsSection,
    #[serde(rename = "macro")]
    pub(crate) macros: MacroSection,
}

/// `[news]`: where the agents' news comes from.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct NewsSection {
    /// `auto`, `fixture`, `finnhub`, `eodhd` or `none`.
    pub(crate) source: Option<String>,
    /// A live provider is asked at most this often.
    pub(crate) refresh_secs: Option<u64>,
    /// Finnhub's category (`crypto`).
    pub(crate) category: Option<String>,
    /// EODHD's ticker (`NSEI.INDX`).
    pub(crate) symbol: Option<String>,
}

/// `[macro]`: where the agents' macro figures come from.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct MacroSection {
    /// `auto`, `fixture`, `file`, `fred` or `none`.
    pub(crate) source: Option<String>,
    /// The snapshots' JSON file (`source = "file"`).
    pub(crate) file: Option<PathBuf>,
    /// A live provider is asked at most this often.
    pub(crate) refresh_secs: Option<u64>,
}

/// `[paper]`: how the paper broker executes (`fees` and `slippage` are tables with a `model`
/// key and that model's fields).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct PaperSection {
    /// `next_open` or `immediate`.
    pub(crate) fill_timing: Option<tradegraph_broker::paper::FillTiming>,
    /// `[paper.fees]`.
    pub(crate) fees: Option<Spanned<tradegraph_broker::paper::CostModel>>,
    /// `[paper.slippage]`.
    pub(crate) slippage: Option<Spanned<tradegraph_broker::paper::SlippageModel>>,
}

/// `[bot]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct BotSection {
    pub(crate) instrument: Option<String>,
    pub(crate) feed: Option<FeedKind>,
    pub(crate) data: Option<PathBuf>,
    pub(crate) seed: Option<u64>,
    pub(crate) speed: Option<f64>,
    pub(crate) decision_timeframe: Option<Timeframe>,
    pub(crate) keep_candles: Option<usize>,
    pub(crate) cash: Option<Decimal>,
    pub(crate) max_verdict_age_secs: Option<u64>,
    /// A decision cycle's deadline: a model that has not answered in its agent's share of it
    /// is dropped and the agent's rules answer.
    pub(crate) cycle_deadline_secs: Option<u64>,
    /// The lease of the bot's claim on its instrument in a Redis or MongoDB state store.
    pub(crate) instance_lease_secs: Option<u64>,
    /// How near the cycle's situation a lesson must be to be shown to the agents.
    pub(crate) lesson_max_distance: Option<f64>,
    /// Whether the learning agent proposes amendments to the analysts' prompts.
    pub(crate) refine_prompts: Option<bool>,
    pub(crate) live: Option<bool>,
    pub(crate) listen: Option<SocketAddr>,
    /// `none` or `required`: entries wait for an operator's approval.
    pub(crate) approval: Option<ApprovalSetting>,
    /// How long an entry waits for approval before it is rejected as expired.
    pub(crate) approval_timeout_secs: Option<u64>,
    /// More holidays for the instrument's exchange session (one `YYYY-MM-DD` a line), e.g. next
    /// year's NSE circular before the bundled list has it.
    pub(crate) holidays_file: Option<PathBuf>,
}

/// `[bot] approval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ApprovalSetting {
    /// Orders go out as the guard lets them.
    None,
    /// Entries wait for an operator.
    Required,
}

/// `[graph]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct GraphSection {
    pub(crate) file: Option<PathBuf>,
    pub(crate) prompts_dir: Option<PathBuf>,
}

/// `[dashboard]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DashboardSection {
    /// The bots the overview page lists, as `host:port`.
    pub(crate) peers: Option<Vec<String>>,
}

/// `[health]`: the periodic health checks.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct HealthSection {
    /// A round of checks this often.
    pub(crate) every_secs: Option<u64>,
    /// The model providers' key check at most this often.
    pub(crate) llm_every_secs: Option<u64>,
    /// A check that does not answer within this is failing.
    pub(crate) timeout_secs: Option<u64>,
    /// The feed is stale after this long without market data while the market is open.
    pub(crate) feed_stale_secs: Option<u64>,
}

/// `[alerts]`: the alert rules' limits, the cool-down and the webhooks (no `Debug`: webhook
/// URLs are secrets).
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AlertsSection {
    pub(crate) enabled: Option<bool>,
    pub(crate) cooldown_secs: Option<u64>,
    pub(crate) sample_secs: Option<u64>,
    pub(crate) max_memory_mb: Option<u64>,
    pub(crate) max_errors_per_minute: Option<u64>,
    pub(crate) window_trades: Option<usize>,
    pub(crate) min_win_rate: Option<f64>,
    pub(crate) min_sharpe: Option<f64>,
    pub(crate) max_drawdown_pct: Option<f64>,
    pub(crate) webhook: Vec<Spanned<WebhookSpec>>,
}

/// One `[[alerts.webhook]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookSpec {
    /// The URL itself (a secret in the file), or:
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// the environment variable (or `.env` entry) holding it.
    #[serde(default)]
    pub(crate) url_env: Option<String>,
    pub(crate) format: crate::config::WebhookFormat,
    #[serde(default)]
    pub(crate) chat_id: Option<String>,
}

/// `[stores]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StoresSection {
    pub(crate) redis_url: Option<String>,
    pub(crate) redis_cluster: Option<bool>,
    pub(crate) mongodb_uri: Option<String>,
    pub(crate) database: Option<String>,
    pub(crate) spill_file: Option<PathBuf>,
    pub(crate) state_file: Option<PathBuf>,
}

/// `[feeds]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct FeedsSection {
    pub(crate) binance: BinanceSection,
    pub(crate) kite: KiteSection,
}

/// `[feeds.binance]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct BinanceSection {
    pub(crate) ws_url: Option<String>,
    pub(crate) api_url: Option<String>,
    /// The WebSocket API of live trading's user data stream.
    pub(crate) ws_api_url: Option<String>,
}

/// `[live]`: what live trading needs besides the feed's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct LiveSection {
    /// Base-asset holdings in the Binance account that are not the bot's.
    pub(crate) binance_reserved_base: Option<Decimal>,
    /// Kite's product: `MIS` (intraday) or `NRML`.
    pub(crate) kite_product: Option<String>,
    /// Where `tradegraph kite login` keeps the day's access token.
    pub(crate) data_dir: Option<PathBuf>,
}

/// `[feeds.kite]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct KiteSection {
    pub(crate) ws_url: Option<String>,
    pub(crate) api_url: Option<String>,
    /// Instrument name -> the Kite instrument token its bot subscribes to.
    pub(crate) tokens: BTreeMap<String, Spanned<u32>>,
}

/// One `[[instruments]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstrumentSpec {
    pub(crate) name: String,
    pub(crate) symbol: String,
    pub(crate) venue: Venue,
    #[serde(default)]
    pub(crate) exchange: Option<Exchange>,
    #[serde(default)]
    pub(crate) segment: Option<Segment>,
    pub(crate) currency: Currency,
    pub(crate) tick_size: Decimal,
    pub(crate) lot_size: Decimal,
    pub(crate) session: SessionSpec,
}
