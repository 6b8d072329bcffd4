//! What a bot runs on.

use rust_decimal::Decimal;
use std::path::PathBuf;
use tradegraph_agents::node::Brain;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Instrument, Timeframe};
use tradegraph_market::news::{MacroSnapshot, NewsItem};
use tradegraph_store::Stores;

/// The instruments tradegraph ships a bot for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentKey {
    /// BTC/USDT on Binance.
    Btc,
    /// Nifty Bank (NSE index futures).
    BankNifty,
    /// Nifty 50 (NSE index futures).
    Nifty,
}

impl InstrumentKey {
    /// The instrument.
    pub fn instrument(self) -> Instrument {
        match self {
            Self::Btc => Instrument::btc_usdt(),
            Self::BankNifty => Instrument::bank_nifty(),
            Self::Nifty => Instrument::nifty_50(),
        }
    }

    /// `btc`, `banknifty`, `nifty`: the suffix of `.env.<key>` and the example's name.
    pub fn key(self) -> &'static str {
        match self {
            Self::Btc => "btc",
            Self::BankNifty => "banknifty",
            Self::Nifty => "nifty",
        }
    }

    /// The bundled sample file of one-minute bars, relative to the repository root.
    pub fn sample_data(self) -> &'static str {
        match self {
            Self::Btc => "examples/data/btcusdt-1m.csv",
            Self::BankNifty => "examples/data/banknifty-1m.csv",
            Self::Nifty => "examples/data/nifty50-1m.csv",
        }
    }
}

/// A bot's configuration.
#[derive(Clone)]
pub struct BotConfig {
    /// What is traded.
    pub instrument: Instrument,
    /// A CSV of one-minute bars or a JSONL recording to replay.
    pub data: PathBuf,
    /// The graph, as YAML (the default is `graphs/trading.yaml`).
    pub graph_yaml: String,
    /// Where the YAML came from, for error messages.
    pub graph_origin: String,
    /// A decision cycle runs when a candle of this timeframe closes.
    pub decision_every: Timeframe,
    /// Paper capital.
    pub cash: Decimal,
    /// Prompts, model and rule-mode knobs of the agents.
    pub brain: Brain,
    /// News the agents may read (each only once published).
    pub news: Vec<NewsItem>,
    /// Macro figures (each only once public).
    pub macro_snapshots: Vec<MacroSnapshot>,
    /// Candles kept per timeframe in the agents' view.
    pub keep_candles: usize,
    /// The risk guard's limits (DESIGN.md's defaults unless set).
    pub risk_limits: RiskLimits,
    /// Where candles, decisions and trades go ([`Stores::memory`] unless connected).
    pub stores: Stores,
}
