//! [`BotEvent`]: what a running bot reports, as it happens.

use super::{CheckState, FeedState, Trading};
use crate::engine::control::ApprovalView;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tradegraph_core::order::{Fill, Order, OrderKind, OrderSide, OrderStatus};
use tradegraph_core::risk::{RiskReason, VerdictStatus};
use tradegraph_core::Timestamp;
use tradegraph_store::ActionOutcome;

/// One thing a running bot did or saw, typed, in the order it happened. The engine publishes
/// them on the broadcast channel of [`BotConfig::events`](crate::engine::BotConfig::events);
/// the HTTP service numbers them and streams them as server-sent events, each event's `type`
/// being its SSE event name.
///
/// Serialized with a `type` tag:
///
/// ```
/// use tradegraph::engine::BotEvent;
/// let e = BotEvent::NodeStarted { decision_id: "BTCUSDT-20240101T101500.000Z".into(), node: "technical".into(), step: 0 };
/// assert_eq!(e.kind(), "node_started");
/// let json = serde_json::to_value(&e)?;
/// assert_eq!(json["type"], "node_started");
/// assert_eq!(json["node"], "technical");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BotEvent {
    /// A node of the decision graph began.
    NodeStarted {
        /// The cycle.
        decision_id: String,
        /// The node.
        node: String,
        /// The superstep.
        step: u64,
    },
    /// A node of the decision graph finished (or paused the run, for an approval).
    NodeFinished {
        /// The cycle.
        decision_id: String,
        /// The node.
        node: String,
        /// The superstep.
        step: u64,
        /// How long it took, retries included, in milliseconds.
        duration_ms: f64,
    },
    /// A decision cycle ended and its record is in the decision log.
    Decision(DecisionEvent),
    /// An order was sent, refused or cancelled.
    Order(OrderEvent),
    /// An order filled (wholly or partly).
    Fill(FillEvent),
    /// A trade closed, with the P&L its fills give.
    TradeClosed(TradeClosedEvent),
    /// The kill switch was engaged or released.
    KillSwitch {
        /// Engaged now.
        engaged: bool,
        /// When (wall clock).
        at: Timestamp,
    },
    /// The trading state changed: active, reducing (no new entries) or halted.
    TradingState {
        /// The state.
        state: Trading,
        /// Why, when not active.
        reason: Option<String>,
        /// When (wall clock).
        at: Timestamp,
    },
    /// The feed connected, disconnected, went quiet or ended.
    Feed {
        /// The feed's state.
        state: FeedState,
        /// What the feed said.
        detail: Option<String>,
        /// When (wall clock).
        at: Timestamp,
    },
    /// An order waits for an operator's approval.
    ApprovalRequested(ApprovalView),
    /// An order waiting for approval was approved, rejected, expired or superseded.
    ApprovalResolved {
        /// The approval (the decision's id).
        id: String,
        /// `approved`, `rejected`, `expired` or `superseded`.
        outcome: String,
        /// Who: the operator's address, when one answered.
        by: Option<String>,
        /// Why, for a rejection.
        reason: Option<String>,
        /// When (wall clock).
        at: Timestamp,
    },
    /// An operator acted on the bot (also kept in the operator log).
    OperatorAction {
        /// What (`kill_switch.engage`, `positions.close_all`, ...).
        action: String,
        /// From where.
        source: Option<String>,
        /// Done, refused or failed.
        outcome: ActionOutcome,
        /// What happened.
        message: String,
        /// When (wall clock).
        at: Timestamp,
    },
    /// An alert (circuit breakers, performance floors, system, feed and stores).
    Alert(AlertEvent),
    /// A health check changed state.
    Health(HealthChange),
    /// The broker's word was compared with the bot's state (at start, after the venue broker
    /// reconnected); discrepancies put the bot on hold in `reducing` until a person confirms.
    Reconciliation {
        /// What was found.
        report: crate::engine::ReconcileReport,
        /// Whether the bot is held now.
        held: bool,
    },
}

impl BotEvent {
    /// The event's type: its `type` tag and its server-sent event name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NodeStarted { .. } => "node_started",
            Self::NodeFinished { .. } => "node_finished",
            Self::Decision(_) => "decision",
            Self::Order(_) => "order",
            Self::Fill(_) => "fill",
            Self::TradeClosed(_) => "trade_closed",
            Self::KillSwitch { .. } => "kill_switch",
            Self::TradingState { .. } => "trading_state",
            Self::Feed { .. } => "feed",
            Self::ApprovalRequested(_) => "approval_requested",
            Self::ApprovalResolved { .. } => "approval_resolved",
            Self::OperatorAction { .. } => "operator_action",
            Self::Alert(_) => "alert",
            Self::Health(_) => "health",
            Self::Reconciliation { .. } => "reconciliation",
        }
    }

    /// Every type, for filters (`?types=`).
    pub const KINDS: [&'static str; 15] = [
        "node_started",
        "node_finished",
        "decision",
        "order",
        "fill",
        "trade_closed",
        "kill_switch",
        "trading_state",
        "feed",
        "approval_requested",
        "approval_resolved",
        "operator_action",
        "alert",
        "health",
        "reconciliation",
    ];
}

/// A decision cycle, as the decision log holds it (`GET /api/v1/decisions/{id}` has the whole
/// record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionEvent {
    /// The stored record's `decision_id`.
    pub decision_id: String,
    /// The cycle's number since the bot first started.
    pub seq: u64,
    /// The market time it decided at.
    pub at: Timestamp,
    /// The portfolio manager's action (`BUY`, `SELL`, `HOLD`, `CLOSE`).
    pub action: Option<String>,
    /// The portfolio manager's confidence.
    pub confidence: Option<f64>,
    /// The risk guard's verdict.
    pub verdict: Option<VerdictStatus>,
    /// The guard's findings, in words.
    pub reasons: Vec<String>,
    /// The guard's findings and the execution's refusal, typed (what [`reasons`](Self::reasons)
    /// and [`refused`](Self::refused) say in words), for whoever acts on them: the alerts
    /// match the circuit breaker, the daily loss limit and the position limits here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk: Vec<RiskReason>,
    /// Why execution refused the order, if it did.
    pub refused: Option<String>,
    /// Orders the cycle sent.
    pub orders: usize,
    /// What the operator gate did (`approved`, `rejected`, `expired`, `superseded`,
    /// `entries paused`), when it stepped in.
    pub gate: Option<String>,
}

/// An order as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// The client order id.
    pub client_id: String,
    /// Buy or sell.
    pub side: OrderSide,
    /// How much.
    pub quantity: Decimal,
    /// Market, limit, stop, trailing stop.
    pub kind: OrderKind,
    /// Its status.
    pub status: OrderStatus,
    /// Filled so far.
    pub filled_quantity: Decimal,
    /// Why it was refused or cancelled.
    pub reason: Option<String>,
    /// When it last changed.
    pub at: Timestamp,
}

impl From<&Order> for OrderEvent {
    fn from(o: &Order) -> Self {
        Self {
            client_id: o.request.client_id.as_str().to_owned(),
            side: o.request.side,
            quantity: o.request.quantity,
            kind: o.request.kind,
            status: o.status,
            filled_quantity: o.filled_quantity,
            reason: o.reason.clone(),
            at: o.updated_at,
        }
    }
}

/// A fill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillEvent {
    /// The broker's fill number.
    pub seq: u64,
    /// The order's client id.
    pub client_id: String,
    /// Buy or sell.
    pub side: OrderSide,
    /// How much.
    pub quantity: Decimal,
    /// At what price.
    pub price: Decimal,
    /// The fee.
    pub fee: Decimal,
    /// When.
    pub at: Timestamp,
}

impl From<&Fill> for FillEvent {
    fn from(f: &Fill) -> Self {
        Self {
            seq: f.seq,
            client_id: f.client_id.as_str().to_owned(),
            side: f.side,
            quantity: f.quantity,
            price: f.price,
            fee: f.fee,
            at: f.ts,
        }
    }
}

/// A closed trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeClosedEvent {
    /// The trade (its entry order's client id).
    pub trade_id: String,
    /// Long (`BUY`) or short (`SELL`).
    pub side: OrderSide,
    /// Average entry price.
    pub entry_price: Decimal,
    /// Average exit price.
    pub exit_price: Option<Decimal>,
    /// How much was bought or sold to open it.
    pub quantity: Decimal,
    /// Net P&L, fees included.
    pub pnl: Option<Decimal>,
    /// When it closed.
    pub at: Option<Timestamp>,
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record (a recovery, a note).
    Info,
    /// Look at it soon.
    Warning,
    /// Look at it now.
    Critical,
}

impl Severity {
    /// `info`, `warning`, `critical`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The severity named `name` (`info`, `warning`, `critical`), as serialized.
    ///
    /// ```
    /// use tradegraph::engine::Severity;
    /// assert_eq!(Severity::parse("critical"), Some(Severity::Critical));
    /// assert_eq!(Severity::parse("fatal"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Info, Self::Warning, Self::Critical]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// What an alert is about: one kind per condition the specification lists. Serialized in
/// snake_case (`circuit_breaker`, `store_down`, ...). The kinds, their rules and what to do
/// are in the [`alerts`](crate::alerts) module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertKind {
    /// Volatility tripped the guard's circuit breaker: no new entries for its cool-down.
    CircuitBreaker,
    /// Equity fell from its peak by more than `[alerts] max_drawdown_pct`.
    Drawdown,
    /// A model provider, the broker or a store is failing (errors, a disabled key, a spent
    /// budget).
    ApiFailures,
    /// The rolling win rate is below `[alerts] min_win_rate`.
    WinRateFloor,
    /// The rolling Sharpe ratio is below `[alerts] min_sharpe`.
    SharpeFloor,
    /// The process's resident memory is above `[alerts] max_memory_mb`.
    Memory,
    /// More error-level log events per minute than `[alerts] max_errors_per_minute`.
    ErrorRate,
    /// The guard refused or cut an entry at a position limit.
    PositionLimit,
    /// The day's loss reached the guard's limit: the bot is halted for the day.
    DailyLossLimit,
    /// The feed is stale or disconnected.
    FeedStale,
    /// Redis or MongoDB does not answer (the bot carries on in memory or spilling to disk).
    StoreDown,
    /// The session date is past the exchange's holiday list: its holidays are unknown.
    HolidayList,
    /// The engine stopped on an error: the bot no longer trades.
    EngineStopped,
    /// Reconciliation found the broker and the bot disagree: the bot is held in `reducing`
    /// until a person confirms.
    Reconciliation,
    /// The shadow evaluation adopted an amendment to an analyst's prompt: the bot changed its
    /// own prompt (see it with `tradegraph prompts versions`, undo it with `rollback`).
    PromptAdopted,
    /// The open position has had no exit working at the broker for a minute although its
    /// entry asked for a stop or a target: it is unprotected.
    PositionUnprotected,
}

impl AlertKind {
    /// Every kind, in order.
    pub const ALL: [Self; 16] = [
        Self::CircuitBreaker,
        Self::Drawdown,
        Self::ApiFailures,
        Self::WinRateFloor,
        Self::SharpeFloor,
        Self::Memory,
        Self::ErrorRate,
        Self::PositionLimit,
        Self::DailyLossLimit,
        Self::FeedStale,
        Self::StoreDown,
        Self::HolidayList,
        Self::EngineStopped,
        Self::Reconciliation,
        Self::PromptAdopted,
        Self::PositionUnprotected,
    ];

    /// Its snake_case name, as serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CircuitBreaker => "circuit_breaker",
            Self::Drawdown => "drawdown",
            Self::ApiFailures => "api_failures",
            Self::WinRateFloor => "win_rate_floor",
            Self::SharpeFloor => "sharpe_floor",
            Self::Memory => "memory",
            Self::ErrorRate => "error_rate",
            Self::PositionLimit => "position_limit",
            Self::DailyLossLimit => "daily_loss_limit",
            Self::FeedStale => "feed_stale",
            Self::StoreDown => "store_down",
            Self::HolidayList => "holiday_list",
            Self::EngineStopped => "engine_stopped",
            Self::Reconciliation => "reconciliation",
            Self::PromptAdopted => "prompt_adopted",
            Self::PositionUnprotected => "position_unprotected",
        }
    }

    /// The kind named `name` (its snake_case name).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert: what kind, about what, how urgent, what happened and what to do.
///
/// ```
/// use tradegraph::engine::{AlertEvent, AlertKind, Severity};
/// let at = tradegraph::core::Timestamp::from_secs(1_704_103_200);
/// let a = AlertEvent::new(AlertKind::StoreDown, "redis", Severity::Critical, "redis does not answer", at);
/// assert_eq!(a.key, "store_down:redis");
/// let json = serde_json::to_value(&a)?;
/// assert_eq!((json["kind"].as_str(), json["severity"].as_str()), (Some("store_down"), Some("critical")));
/// assert_eq!(a.recovery("redis answers again", at).severity, Severity::Info);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// What kind.
    pub kind: AlertKind,
    /// What it is deduplicated on: the kind, and what it is about when there is more than one
    /// thing of its kind (`store_down:redis`, `api_failures:llm`).
    pub key: String,
    /// How urgent.
    pub severity: Severity,
    /// What happened and what to do, in words.
    pub message: String,
    /// Whether it says that the condition of an earlier alert of the same key is over.
    #[serde(default)]
    pub recovered: bool,
    /// When (wall clock).
    pub at: Timestamp,
    /// Its id in the store's alert log (`<instrument>@<timestamp>#<n>`), set by the alert
    /// service when it raises it: the same alert on the event stream and in
    /// `GET /api/v1/alerts` has the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
}

impl AlertEvent {
    /// The alert one guard finding raises, if any (the alerts' risk rule, and the engine's
    /// daily loss check between decisions).
    pub(crate) fn of_risk(reason: &RiskReason, at: Timestamp) -> Option<Self> {
        let (kind, severity, about) = match reason {
            RiskReason::CircuitBreaker { .. } => {
                (AlertKind::CircuitBreaker, Severity::Critical, "")
            }
            RiskReason::DailyLossLimit { .. } => {
                (AlertKind::DailyLossLimit, Severity::Critical, "")
            }
            // A cap (`PositionCapped`) is the guard sizing an entry down, working as meant: no
            // alert; a refusal at the limit is one.
            RiskReason::PositionLimitReached { .. } => {
                (AlertKind::PositionLimit, Severity::Warning, "size")
            }
            RiskReason::MaxOpenPositions { .. } => (
                AlertKind::PositionLimit,
                Severity::Warning,
                "open_positions",
            ),
            _ => return None,
        };
        let todo = match kind {
            AlertKind::CircuitBreaker => {
                "no new entries until it cools down; check the market before releasing anything"
            }
            AlertKind::DailyLossLimit => {
                "the bot is halted for the rest of the trading day; review today's trades"
            }
            _ => "the entry was refused; raise [risk] max_position_pct or max_open_positions only if intended",
        };
        Some(Self::new(
            kind,
            about,
            severity,
            format!("risk guard: {reason}: {todo}"),
            at,
        ))
    }

    /// An alert of `kind` about `about` (empty: the kind alone is the key).
    pub fn new(
        kind: AlertKind,
        about: &str,
        severity: Severity,
        message: impl Into<String>,
        at: Timestamp,
    ) -> Self {
        let key = if about.is_empty() {
            kind.as_str().to_owned()
        } else {
            format!("{kind}:{about}")
        };
        Self {
            kind,
            key,
            severity,
            message: message.into(),
            recovered: false,
            at,
            alert_id: None,
        }
    }

    /// The recovery of this alert: the same kind and key, [`Severity::Info`].
    #[must_use]
    pub fn recovery(&self, message: impl Into<String>, at: Timestamp) -> Self {
        Self {
            kind: self.kind,
            key: self.key.clone(),
            severity: Severity::Info,
            message: message.into(),
            recovered: true,
            at,
            alert_id: None,
        }
    }
}

/// A health check that changed state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthChange {
    /// The check (serialized as its name: `feed`, `redis`, `mongodb`, `llm`, ...).
    pub check: super::CheckId,
    /// Its state now.
    pub state: CheckState,
    /// What it found.
    pub message: String,
    /// When (wall clock).
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::BotEvent;

    /// The README's list of event types is the catalogue.
    #[test]
    fn the_readme_lists_every_event_type() {
        let readme = include_str!("../../../../../README.md");
        let list = readme
            .split("**Events.**")
            .nth(1)
            .and_then(|rest| rest.split("is the\ntype (").nth(1))
            .and_then(|rest| rest.split(')').next())
            .expect("the README's Events paragraph lists the types");
        let documented: std::collections::BTreeSet<&str> = list
            .split(',')
            .map(|t| t.trim().trim_matches('`'))
            .collect();
        let defined: std::collections::BTreeSet<&str> = BotEvent::KINDS.into_iter().collect();
        assert_eq!(documented, defined);
    }
}
