//! [`Settings`]: a bot's effective configuration, fully typed.

use super::{FeedKind, Origins};
use crate::engine::Approval;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Instrument, Symbol, Timeframe};
use tradegraph_llm::config::LlmConfig;
use tradegraph_llm::Secret;
use tradegraph_store::url::redact;
use tradegraph_store::StoresConfig;

/// A bot's effective configuration: flags, then the environment, then `.env.<name>`, then
/// `.env`, then the configuration file, then the defaults (see [`Settings::resolve`]).
///
/// `Debug` never shows a secret: keys and tokens print as `***`, URLs without their password.
#[derive(Clone)]
#[non_exhaustive]
pub struct Settings {
    /// `btc`, `banknifty`, `nifty` or a custom instrument's name: the suffix of
    /// `.env.<name>` and of the bot's state and spill files.
    pub name: String,
    /// What the bot trades.
    pub instrument: Instrument,
    /// Where the instrument's live data and orders go.
    pub venue: Venue,
    /// Where market data comes from.
    pub feed: FeedSettings,
    /// A decision cycle runs when a candle of this timeframe closes.
    pub decision_every: Timeframe,
    /// Candles kept per timeframe in the agents' view.
    pub keep_candles: usize,
    /// Paper capital, in the instrument's currency.
    pub cash: Decimal,
    /// The risk guard's limits.
    pub risk: RiskLimits,
    /// The execution re-check refuses a verdict older than this.
    pub max_verdict_age: Duration,
    /// A decision cycle's deadline (`[bot] cycle_deadline_secs`,
    /// `TRADEGRAPH_CYCLE_DEADLINE_SECS`; 30 s by default).
    pub cycle_deadline: Duration,
    /// The lease of the bot's claim on its instrument in a Redis or MongoDB state store (`[bot]
    /// instance_lease_secs`, `TRADEGRAPH_INSTANCE_LEASE_SECS`; 30 s by default): a second
    /// instance waits this long to see the claim renewed, a start after a crash waits it once.
    pub instance_lease: Duration,
    /// How near the cycle's situation a lesson must be to be shown (`[bot]
    /// lesson_max_distance`; 1 by default).
    pub lesson_max_distance: f64,
    /// Whether the learning agent proposes amendments to the analysts' prompts, adopted after
    /// a shadow evaluation or a person's approval (`[bot] refine_prompts`; on by default; only
    /// with a model: the rules read no prompt).
    pub refine_prompts: bool,
    /// Whether entries wait for an operator's approval (`[bot] approval`,
    /// `approval_timeout_secs`).
    pub approval: Approval,
    /// The trading graph.
    pub graph: GraphSource,
    /// A directory of prompt templates replacing the embedded ones.
    pub prompts_dir: Option<PathBuf>,
    /// Redis, MongoDB, the spill file and the state file.
    pub stores: StoresConfig,
    /// The LLM chain (empty: the agents run in rule mode).
    pub llm: LlmConfig,
    /// A cap on what the run may spend on models, in US dollars (`None`: no cap set).
    pub llm_budget_usd: Option<Decimal>,
    /// Real orders: only when `TRADEGRAPH_LIVE=1` and `live = true` in the file.
    pub live: bool,
    /// What live trading needs besides the feed's keys (`[live]`).
    pub live_trading: LiveSettings,
    /// How the paper broker executes: the cost table, the slippage model and when market
    /// orders fill (`[paper]`, `TRADEGRAPH_FILL_TIMING`).
    pub execution: crate::backtest::execution::ExecutionSettings,
    /// The address of the bot's HTTP service (`--listen`, `TRADEGRAPH_LISTEN`).
    pub listen: SocketAddr,
    /// The bearer token of the HTTP service's control endpoints (`TRADEGRAPH_API_TOKEN`; when
    /// unset, `tradegraph run` generates one and prints it once).
    pub api_token: Option<Secret>,
    /// The bots the dashboard's overview page lists, as `host:port` (`[dashboard] peers`,
    /// `TRADEGRAPH_DASHBOARD_PEERS`; the three standard bots on 8001, 8002 and 8003 unless set).
    pub dashboard_peers: Vec<String>,
    /// The periodic health checks: how often, their time limit, when the feed is stale
    /// (`[health]`).
    pub health: super::HealthConfig,
    /// The alerts: their limits, the cool-down and the webhooks (`[alerts]`; webhook URLs are
    /// secrets and show as `***`).
    pub alerts: super::AlertsConfig,
    /// Where the agents' news comes from (`[news]`).
    pub news: super::NewsSettings,
    /// Where the agents' macro figures come from (`[macro]`).
    pub macros: super::MacroSettings,
    /// The configuration file read, if any.
    pub config_file: Option<PathBuf>,
    /// Things the caller should tell the user (a live switch set without the other, a
    /// variable ignored, a missing replay file).
    pub notices: Vec<String>,
    /// Where every value came from, by its key in the configuration file.
    pub origins: Origins,
}

/// `[live]`: what live trading needs besides the feed's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveSettings {
    /// Base-asset holdings in the Binance account that are not the bot's (`binance_reserved_base`,
    /// `BINANCE_RESERVED_BASE`; 0): the broker's position is the base balance minus this.
    pub binance_reserved_base: Decimal,
    /// Kite's product (`kite_product`, `KITE_PRODUCT`): MIS (intraday, the default) or NRML.
    pub kite_product: tradegraph_broker::live::kite::KiteProduct,
    /// Where `tradegraph kite login` keeps the day's access token (`data_dir`,
    /// `TRADEGRAPH_DATA_DIR`; `data` in the working directory): read when `KITE_ACCESS_TOKEN`
    /// is not set.
    pub data_dir: PathBuf,
    /// The Kite Connect app `tradegraph kite login` logs in with: its key (`KITE_API_KEY`),
    /// its secret (`KITE_API_SECRET`, needed by the login only) and the API's address
    /// (`KITE_API_URL`, `[feeds.kite] api_url`), from the same layers as every setting.
    pub kite_app: KiteApp,
}

impl Settings {
    /// Whether the bot's state (its order intents with it) survives a restart: kept in
    /// MongoDB, Redis or a state file, not in memory only. Live trading needs it.
    pub fn state_is_durable(&self) -> bool {
        let s = &self.stores;
        s.mongodb_uri.is_some() || s.redis_url.is_some() || s.state_file.is_some()
    }
}

/// The Kite Connect app (`tradegraph kite login`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KiteApp {
    /// `KITE_API_KEY`.
    pub api_key: Option<tradegraph_core::redact::Secret>,
    /// `KITE_API_SECRET`.
    pub api_secret: Option<tradegraph_core::redact::Secret>,
    /// `KITE_API_URL`, `[feeds.kite] api_url`; Kite's own unless set.
    pub api_url: String,
}

/// Where an instrument's live data and orders go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Venue {
    /// Binance spot.
    Binance,
    /// Zerodha Kite Connect.
    Kite,
    /// None: replayed or synthetic data only.
    None,
}

impl Venue {
    /// `binance`, `kite`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Binance => "binance",
            Self::Kite => "kite",
            Self::None => "none",
        }
    }
}

/// A feed and what it needs.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum FeedSettings {
    /// A CSV of one-minute bars or a JSONL recording, on a simulated clock.
    Replay {
        /// The file.
        path: PathBuf,
    },
    /// Generated market data.
    Synthetic {
        /// The generator's seed.
        seed: u64,
        /// Its pace, a multiple of real time in trading time (`[bot] speed`,
        /// `TRADEGRAPH_SPEED`; 1: real time).
        speed: f64,
    },
    /// Binance spot (`BINANCE_WS_URL`, `BINANCE_API_URL`).
    Binance {
        /// The WebSocket endpoint.
        ws_url: String,
        /// The REST endpoint.
        api_url: String,
        /// The WebSocket API of live trading's user data stream (`BINANCE_WS_API_URL`,
        /// `[feeds.binance] ws_api_url`; unset, Binance's own or the testnet's, following
        /// `api_url`; `None` when `api_url` is neither and it is not set).
        ws_api_url: Option<String>,
        /// `BINANCE_API_KEY`, for live orders.
        api_key: Option<Secret>,
        /// `BINANCE_API_SECRET`, for live orders.
        api_secret: Option<Secret>,
    },
    /// Zerodha Kite Connect (`KITE_*`).
    Kite {
        /// The ticker's WebSocket endpoint.
        ws_url: String,
        /// The REST endpoint.
        api_url: String,
        /// `KITE_API_KEY`.
        api_key: Secret,
        /// `KITE_ACCESS_TOKEN`.
        access_token: Secret,
        /// Instrument tokens to subscribe to, with the symbol their events carry.
        tokens: Vec<(u32, Symbol)>,
    },
}

impl FeedSettings {
    /// Which feed this is.
    pub fn kind(&self) -> FeedKind {
        match self {
            Self::Replay { .. } => FeedKind::Replay,
            Self::Synthetic { .. } => FeedKind::Synthetic,
            Self::Binance { .. } => FeedKind::Binance,
            Self::Kite { .. } => FeedKind::Kite,
        }
    }
}

impl fmt::Debug for FeedSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Replay { path } => f.debug_struct("Replay").field("path", path).finish(),
            Self::Synthetic { seed, speed } => f
                .debug_struct("Synthetic")
                .field("seed", seed)
                .field("speed", speed)
                .finish(),
            Self::Binance {
                ws_url,
                api_url,
                ws_api_url,
                api_key,
                api_secret,
            } => f
                .debug_struct("Binance")
                .field("ws_url", &redact(ws_url))
                .field("api_url", &redact(api_url))
                .field("ws_api_url", &ws_api_url.as_deref().map(redact))
                .field("api_key", api_key)
                .field("api_secret", api_secret)
                .finish(),
            Self::Kite {
                ws_url,
                api_url,
                api_key,
                access_token,
                tokens,
            } => f
                .debug_struct("Kite")
                .field("ws_url", &redact(ws_url))
                .field("api_url", &redact(api_url))
                .field("api_key", api_key)
                .field("access_token", access_token)
                .field("tokens", tokens)
                .finish(),
        }
    }
}

/// The trading graph's YAML and where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct GraphSource {
    /// The YAML text.
    pub yaml: String,
    /// Where it came from, for error messages (`graphs/trading.yaml` for the embedded default).
    pub origin: String,
}

impl fmt::Debug for GraphSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphSource")
            .field("origin", &self.origin)
            .field("bytes", &self.yaml.len())
            .finish()
    }
}

/// The LLM configuration with its base URLs redacted (keys are [`Secret`]s already).
struct LlmDebug<'a>(&'a LlmConfig);

impl fmt::Debug for LlmDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut config = self.0.clone();
        for p in &mut config.providers {
            p.base_url = p.base_url.as_deref().map(redact);
        }
        fmt::Debug::fmt(&config, f)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("name", &self.name)
            .field("instrument", &self.instrument)
            .field("venue", &self.venue)
            .field("feed", &self.feed)
            .field("decision_every", &self.decision_every)
            .field("keep_candles", &self.keep_candles)
            .field("cash", &self.cash)
            .field("risk", &self.risk)
            .field("max_verdict_age", &self.max_verdict_age)
            .field("cycle_deadline", &self.cycle_deadline)
            .field("instance_lease", &self.instance_lease)
            .field("lesson_max_distance", &self.lesson_max_distance)
            .field("refine_prompts", &self.refine_prompts)
            .field("approval", &self.approval)
            .field("graph", &self.graph)
            .field("prompts_dir", &self.prompts_dir)
            .field("stores", &self.stores)
            .field("llm", &LlmDebug(&self.llm))
            .field("llm_budget_usd", &self.llm_budget_usd)
            .field("live", &self.live)
            .field("live_trading", &self.live_trading)
            .field("listen", &self.listen)
            .field("api_token", &self.api_token)
            .field("dashboard_peers", &self.dashboard_peers)
            .field("health", &self.health)
            .field("alerts", &self.alerts)
            .field("config_file", &self.config_file)
            .field("notices", &self.notices)
            .finish_non_exhaustive()
    }
}
