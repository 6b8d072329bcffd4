//! The bot engine: one loop for backtest, paper and live.
//!
//! An [`Engine`] owns one instrument's bot and is generic over its clock, its feed (any
//! stream of [`MarketEvent`](tradegraph_market::MarketEvent)s) and its broker
//! ([`Execution`]). Its loop, the same for every run:
//!
//! 1. **Every market event** goes to the broker ([`Broker::on_market`]: the paper broker works
//!    its stops and targets on every trade and tick, on one-minute bars when the feed has no
//!    ticks), to the price the execution agent re-checks against, to the hot cache (real ticks
//!    and trades only), to the candle aggregator and to the agents' market view.
//! 2. **Each close of the decision timeframe** (by the exchange's event time, so a replay
//!    drives the loop exactly as the market does; live, a quiet market's candle also closes on
//!    the wall clock past its end) runs one decision cycle of the graph under one decision id
//!    (milliseconds): the graph thread, the client order ids and the decision log's record.
//! 3. **The broker's fills** are the one record of trades: the [`TradeLedger`] turns them into
//!    the trade log's records (every kind of close ends `Closed` with the fills' P&L), the
//!    learner's outcomes and the summary.
//! 4. **What must survive a restart** (the guard's state, the kill switch, the learner, the
//!    ledger, the paper account, the decision sequence) is saved to the store as it changes
//!    and restored by [`Engine::start`] ([`Mode::Service`]).
//! 5. **Order intents** are written before an order goes to the broker and reconciled by client
//!    order id at start ([`Journal`]), so no order is placed twice, whatever crashes when. Then
//!    the broker's working orders, positions, account and fills are compared with the bot's
//!    own state, at start and after every reconnection of a venue broker
//!    ([`Reconciliation`]): what disagrees holds the bot in `reducing` until a person confirms.
//! 6. **Operators** act through a [`BotHandle`] ([`Engine::handle`]): [`Command`]s (the kill
//!    switch, pausing entries, closing the position, cancelling orders, approving or rejecting
//!    an entry that waits, see [`Approval`]) are carried out inside the loop, so the engine stays
//!    the one owner of its state, and recorded in the operator log. Watchers read the
//!    [`BotStatus`] (kept current on a `watch` channel) and the [`BotEvent`]s the engine
//!    publishes on the broadcast channel of [`BotConfig::events`].
//!
//! [`Broker::on_market`]: tradegraph_broker::Broker::on_market

mod backtest;
mod calls;
mod cancel;
pub(crate) mod candles;
mod checkpoints;
mod config;
mod control;
mod cycle;
#[allow(clippy::module_inception)]
mod engine;
mod error;
mod graph_run;
pub mod instance;
mod journal;
mod ledger;
mod observe;
pub(crate) mod prices;
mod protection;
mod reconcile;
mod record;
mod refine;
mod report;
pub(crate) mod run;
mod state;
mod summary;
mod tell;
#[cfg(feature = "live")]
mod venue;
pub(crate) mod watch;

pub use backtest::{backtest, paper_broker, paper_broker_with};
pub use config::{BotConfig, Mode, FEED_STALE_AFTER};
pub use control::{Approval, ApprovalView, BotHandle, Command, Reply, ReplyKind};
pub use engine::Engine;
pub use error::EngineError;
pub use instance::{InstanceClaim, InstanceClaiming, InstanceLease, INSTANCE_LEASE};
pub use journal::{Execution, Journal, Reconciled};
pub use ledger::{EntryContext, LedgerEvent, TradeLedger};
pub(crate) use observe::wall_now;
pub use observe::{
    AlertEvent, AlertKind, BotEvent, BotStatus, Check, CheckId, CheckState, DecisionEvent,
    EquityCurve, FeedState, FeedStatus, FillEvent, HealthChange, HealthReport, OrderEvent,
    Severity, TradeClosedEvent, Trading,
};
pub use reconcile::{Discrepancy, ReconcileReport, ReconcileTrigger, Reconciliation};
pub use report::{bars_per_year, describe_cycle, summary_text};
#[cfg(feature = "service")]
pub(crate) use state::BotState;
pub use state::{KillSwitchState, PauseState, Sequence};
pub use summary::{
    sharpe, BotSummary, EquityPoint, VerdictCounts, SERVICE_KEEP_EQUITY, SERVICE_KEEP_FILLS,
    SERVICE_KEEP_TRADES,
};
