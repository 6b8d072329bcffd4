//! What a bot author needs, in one `use`.
//!
//! `use tradegraph::prelude::*;` brings the engine and its configuration, the instrument and
//! its money types, the clocks and the feeds, the paper broker and the [`Broker`] trait, the
//! stores, the agents with their registry and default graph, the graph builder and the risk
//! limits. Everything else stays one path away under the crate's modules ([`crate::market`],
//! [`crate::agents`], ...).
//!
//! ```
//! use tradegraph::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let btc = Instrument::btc_usdt();
//! let config = BotConfig::new(btc, Brain::rules_only()?, Decimal::from(10_000), Mode::Backtest);
//! assert_eq!(config.graph_yaml, DEFAULT_GRAPH);
//! assert_eq!(config.risk_limits, RiskLimits::default());
//! # Ok(()) }
//! ```

// The engine and its configuration.
pub use crate::config::{Flags, Settings};
pub use crate::engine::{
    backtest, describe_cycle, paper_broker, summary_text, BotConfig, BotSummary, Engine,
    EngineError, Mode,
};

// The trading domain.
pub use tradegraph_core::{
    Currency, Decimal, Instrument, RiskLimits, Side, Symbol, Timeframe, Timestamp,
};

// Clocks and feeds.
pub use tradegraph_market::feed::binance::{BinanceConfig, BinanceFeed};
pub use tradegraph_market::feed::kite::{KiteConfig, KiteFeed};
pub use tradegraph_market::feed::replay::{Replay, ReplayConfig};
pub use tradegraph_market::feed::synthetic::{SyntheticConfig, SyntheticGenerator};
pub use tradegraph_market::{Clock, MarketEvent, SimulatedClock, SystemClock};

// Brokers.
pub use tradegraph_broker::{Broker, BrokerError, FeeModel, PaperBroker, PaperConfig};

// Stores.
pub use tradegraph_store::{Stores, StoresConfig};

// The agents, their registry and the default graph.
pub use tradegraph_agents::model::{LlmModel, ReportModel};
pub use tradegraph_agents::node::{registry, Brain, DEFAULT_GRAPH};
pub use tradegraph_agents::prompt::Prompts;
pub use tradegraph_agents::{AgentName, TradingState};

// The graph engine.
pub use tradegraph_graph::{CompiledGraph, Node, RunConfig, StateGraph, END, START};
