//! A bot's configuration: the TOML file, the environment and `.env` files, custom instruments,
//! and the flags that override them.
//!
//! [`Settings::resolve`] merges, highest precedence first: command-line [`Flags`], the process
//! environment, `.env.<name>` (the instrument's own file), `.env`, the configuration file
//! (`--config`, `TRADEGRAPH_CONFIG` or `tradegraph.toml`; every key is annotated in
//! `tradegraph.example.toml`), then the defaults. [`Settings::origins`] records which layer
//! each value came from and [`Settings::show`] prints them all, secrets masked.
//!
//! The variables read, beyond the LLM providers' (`OPENAI_API_KEY`, ... see
//! [`tradegraph_llm::config::LlmConfig::from_env`]):
//!
//! | variable | setting |
//! |---|---|
//! | `TRADEGRAPH_CONFIG` | the configuration file |
//! | `TRADEGRAPH_INSTRUMENT` | `bot.instrument` (not from `.env.<name>`) |
//! | `TRADEGRAPH_FEED`, `TRADEGRAPH_DATA` | `bot.feed`, `bot.data` |
//! | `TRADEGRAPH_LISTEN` | `bot.listen`: the address of the bot's HTTP service |
//! | `TRADEGRAPH_LIVE` | `1` with `live = true` in `[bot]`: real orders at the venue (with its keys, a live feed and a durable state store; a banner shows the account and limits at start) |
//! | `TRADEGRAPH_API_TOKEN` | the bearer token of the HTTP service's control endpoints (generated and printed once when unset) |
//! | `TRADEGRAPH_PROMPTS_DIR` | `graph.prompts_dir` |
//! | `TRADEGRAPH_LLM_BUDGET_USD` | `llm.budget_usd` |
//! | `TRADEGRAPH_LLM_SELECTION` | `llm.selection`: `priority` (primary first) or `weighted` (by recent success and latency) |
//! | `TRADEGRAPH_DASHBOARD_PEERS` | `dashboard.peers`: the bots the overview page lists, `host:port,host:port` |
//! | `REDIS_URL`, `MONGODB_URI` | `stores.redis_url`, `stores.mongodb_uri` |
//! | `REDIS_CLUSTER` | `stores.redis_cluster` |
//! | `BINANCE_WS_URL`, `BINANCE_API_URL`, `BINANCE_API_KEY`, `BINANCE_API_SECRET` | `[feeds.binance]` |
//! | `BINANCE_WS_API_URL` | `feeds.binance.ws_api_url`: live trading's user data stream (Binance's or the testnet's, following `BINANCE_API_URL`, unless set) |
//! | `KITE_WS_URL`, `KITE_API_URL`, `KITE_API_KEY`, `KITE_ACCESS_TOKEN` | `[feeds.kite]` (the access token falls back to the day's token of `tradegraph kite login` in `live.data_dir`) |
//! | `KITE_API_SECRET` | the Kite Connect app's secret, for `tradegraph kite login` only (`live.kite_app`) |
//! | `BINANCE_RESERVED_BASE`, `KITE_PRODUCT`, `TRADEGRAPH_DATA_DIR` | `live.binance_reserved_base`, `live.kite_product`, `live.data_dir` |

mod alerts;
mod dotenv;
mod env_example;
mod error;
mod file;
mod flags;
mod health;
mod inputs;
mod instrument;
mod layers;
mod origin;
mod resolve;
mod settings;
mod show;

pub use alerts::{AlertsConfig, WebhookConfig, WebhookFormat};
pub use env_example::{env_example, env_example_names};
pub use error::ConfigError;
pub use flags::{FeedKind, Flags, LogArgs, LogFormat};
pub use health::HealthConfig;
pub use inputs::{
    bundled_news, MacroProvider, MacroSettings, NewsProvider, NewsSettings, Opened, LIVE_TIMEOUT,
};
#[cfg(feature = "cli")]
pub(crate) use layers::CommandEnv;
pub use origin::{Origin, Origins};
#[cfg(feature = "service")]
pub(crate) use resolve::{api_token_problem, API_TOKEN_MIN_LEN};
pub use resolve::{
    binance_environment, default_cash, DASHBOARD_PEERS_VAR, DEFAULT_DASHBOARD_PEERS,
    FILL_TIMING_VAR,
};
pub use resolve::{
    API_TOKEN_VAR, BINANCE_RESERVED_BASE_VAR, CONFIG_VAR, CYCLE_DEADLINE_VAR, DATA_DIR_VAR,
    DATA_VAR, DEFAULT_CONFIG_FILE, FEED_VAR, INSTANCE_LEASE_VAR, INSTRUMENT_VAR, KITE_PRODUCT_VAR,
    LISTEN_VAR, LIVE_VAR, LLM_BUDGET_VAR, PROMPTS_DIR_VAR, SPEED_VAR,
};
pub use resolve::{MACRO_FILE_VAR, MACRO_VAR, NEWS_VAR};
pub use settings::{FeedSettings, GraphSource, KiteApp, LiveSettings, Settings, Venue};
pub use show::ShowFormat;
