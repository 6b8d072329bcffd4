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
//! | `TRADEGRAPH_LIVE` | `1` with `live = true` in `[bot]`: real orders (refused in this version: no venue broker yet) |
//! | `TRADEGRAPH_API_TOKEN` | the bearer token of the HTTP service's control endpoints (generated and printed once when unset) |
//! | `TRADEGRAPH_PROMPTS_DIR` | `graph.prompts_dir` |
//! | `TRADEGRAPH_LLM_BUDGET_USD` | `llm.budget_usd` |
//! | `TRADEGRAPH_DASHBOARD_PEERS` | `dashboard.peers`: the bots the overview page lists, `host:port,host:port` |
//! | `REDIS_URL`, `MONGODB_URI` | `stores.redis_url`, `stores.mongodb_uri` |
//! | `BINANCE_WS_URL`, `BINANCE_API_URL`, `BINANCE_API_KEY`, `BINANCE_API_SECRET` | `[feeds.binance]` |
//! | `KITE_WS_URL`, `KITE_API_URL`, `KITE_API_KEY`, `KITE_ACCESS_TOKEN` | `[feeds.kite]` |

mod dotenv;
mod error;
mod file;
mod flags;
mod instrument;
mod layers;
mod origin;
mod resolve;
mod settings;
mod show;

pub use error::ConfigError;
pub use flags::{FeedKind, Flags, LogArgs, LogFormat};
pub use origin::{Origin, Origins};
pub use resolve::{
    API_TOKEN_VAR, CONFIG_VAR, DATA_VAR, DEFAULT_CONFIG_FILE, FEED_VAR, INSTRUMENT_VAR, LISTEN_VAR,
    LIVE_VAR, LLM_BUDGET_VAR, PROMPTS_DIR_VAR,
};
pub use resolve::{DASHBOARD_PEERS_VAR, DEFAULT_DASHBOARD_PEERS};
pub use settings::{FeedSettings, GraphSource, Settings, Venue};
pub use show::ShowFormat;
