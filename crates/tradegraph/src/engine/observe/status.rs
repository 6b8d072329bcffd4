//! [`BotStatus`]: a running bot's state at a glance, kept current by the engine.

use super::Check;
use crate::engine::control::ApprovalView;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Symbol, Timestamp};

/// Whether the bot may open positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trading {
    /// Entries and exits allowed.
    #[default]
    Active,
    /// No new entries; open positions are managed and closed as usual (the operator paused
    /// entries, the circuit breaker cools down).
    Reducing,
    /// Nothing is opened and open positions are closed (the kill switch, the daily loss limit).
    Halted,
}

impl Trading {
    /// Every state, in order.
    pub const ALL: [Self; 3] = [Self::Active, Self::Reducing, Self::Halted];

    /// `active`, `reducing`, `halted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Reducing => "reducing",
            Self::Halted => "halted",
        }
    }
}

/// Where the feed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedState {
    /// No event yet.
    #[default]
    Starting,
    /// Connected and delivering.
    Connected,
    /// Disconnected; reconnecting.
    Disconnected,
    /// Connected, but no market data for a minute while the market is open.
    Stale,
    /// The feed ended (a replayed file is done).
    Ended,
}

impl FeedState {
    /// `starting`, `connected`, `disconnected`, `stale`, `ended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
            Self::Stale => "stale",
            Self::Ended => "ended",
        }
    }
}

/// The feed at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedStatus {
    /// Connected, disconnected, stale, ...
    pub state: FeedState,
    /// When the last market event arrived (wall clock; updated once a second).
    pub last_event_at: Option<Timestamp>,
    /// The exchange time of the last market event.
    pub last_exchange_at: Option<Timestamp>,
    /// Reconnections since the bot started.
    pub reconnects: u64,
}

/// A running bot's state at a glance: the engine keeps it current on a `watch` channel
/// ([`BotHandle::status`](crate::engine::BotHandle::status)) as facts change; the HTTP service
/// serves it at `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotStatus {
    /// The instrument.
    pub instrument: Symbol,
    /// `paper` or `live`.
    pub mode: String,
    /// Whether the bot may open positions.
    pub trading: Trading,
    /// Why it may not, when it may not.
    pub trading_reason: Option<String>,
    /// The kill switch.
    pub kill_switch: bool,
    /// The operator paused new entries.
    pub entries_paused: bool,
    /// The feed.
    pub feed: FeedStatus,
    /// Decision cycles since the bot first started.
    pub cycles: u64,
    /// The run its decisions, trades and lessons are written under (kept across restarts; the
    /// read API shows this run's records).
    #[serde(default)]
    pub run_id: tradegraph_store::RunId,
    /// The last cycle's decision.
    pub last_decision_id: Option<String>,
    /// The market time of the last cycle.
    pub last_decision_at: Option<Timestamp>,
    /// Equity at the last one-minute bar or fill.
    pub equity: Option<Decimal>,
    /// How far (percent) equity is below its peak now: the highest equity the engine read
    /// (at each closed minute and each cycle) since this process's bot started; the peak is
    /// not saved with the bot's state, so a restart starts it again. `None` before the first
    /// reading.
    pub drawdown_pct: Option<f64>,
    /// The largest [`drawdown_pct`](Self::drawdown_pct) since this process's bot started.
    pub max_drawdown_pct: Option<f64>,
    /// Every entry waits for an operator's approval.
    pub approval_required: bool,
    /// Orders waiting for approval.
    pub pending_approvals: Vec<ApprovalView>,
    /// When this process's bot started (wall clock).
    pub started_at: Timestamp,
    /// Whether the engine is running (false once it stopped).
    pub running: bool,
    /// The engine's own health checks (`engine`, `feed`, `broker`, `state_store`).
    pub checks: Vec<Check>,
    /// The tradegraph version.
    pub version: String,
    /// The last reconciliation with the broker, and whether it holds the bot in `reducing`
    /// until a person confirms.
    #[serde(default)]
    pub reconciliation: crate::engine::Reconciliation,
}

impl BotStatus {
    /// The status of a bot on `instrument` starting now.
    pub fn new(instrument: Symbol, live: bool, started_at: Timestamp) -> Self {
        Self {
            instrument,
            mode: if live { "live" } else { "paper" }.to_owned(),
            trading: Trading::Active,
            trading_reason: None,
            kill_switch: false,
            entries_paused: false,
            feed: FeedStatus::default(),
            cycles: 0,
            run_id: tradegraph_store::RunId::default(),
            last_decision_id: None,
            last_decision_at: None,
            equity: None,
            drawdown_pct: None,
            max_drawdown_pct: None,
            approval_required: false,
            pending_approvals: Vec::new(),
            started_at,
            running: true,
            checks: Vec::new(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            reconciliation: crate::engine::Reconciliation::default(),
        }
    }
}
