use super::{AgentDecision, Extra, RunId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::{Decimal, Price, Quantity, Side, Symbol, Timestamp};

/// Where a trade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeStatus {
    /// Sent to the broker, not filled yet.
    Pending,
    /// Filled, position open.
    Open,
    /// Position closed.
    Closed,
    /// Cancelled before it filled.
    Cancelled,
    /// Refused by the risk guard or the broker.
    Rejected,
}

/// An executed (or attempted) trade, as stored in `trades_executed`: `{trade_id, instrument,
/// status, entry_timestamp, entry_price, quantity, confidence, agent_decisions}` plus the side
/// and, once closed, the exit. Writing it again with the same `trade_id` updates it.
///
/// ```
/// use tradegraph_core::Side;
/// use tradegraph_store::{TradeRecord, TradeStatus};
/// let at = "2024-01-01T10:00:00Z".parse()?;
/// let t = TradeRecord::new("t-1", "BTCUSDT".into(), Side::Buy, at, "45000.5".parse()?, "0.01".parse()?);
/// assert_eq!(t.status, TradeStatus::Open);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Unique trade id.
    pub trade_id: String,
    /// The instrument.
    pub instrument: Symbol,
    /// Where it stands.
    pub status: TradeStatus,
    /// When it was entered.
    pub entry_timestamp: Timestamp,
    /// Average entry price.
    pub entry_price: Price,
    /// Quantity.
    pub quantity: Quantity,
    /// The portfolio manager's confidence, in `[0, 1]`.
    pub confidence: f64,
    /// The agents' views that led to it.
    pub agent_decisions: BTreeMap<String, AgentDecision>,
    /// Buy or sell.
    pub side: Side,
    /// The decision that produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    /// The run that wrote it: with [`trade_id`](Self::trade_id), the record's key.
    #[serde(default, skip_serializing_if = "RunId::is_unset")]
    pub run_id: RunId,
    /// Stop-loss price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<Price>,
    /// Take-profit price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<Price>,
    /// When it was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_timestamp: Option<Timestamp>,
    /// Average exit price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_price: Option<Price>,
    /// Realized profit and loss, in the quote currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realized_pnl: Option<Decimal>,
    /// Further fields (broker order ids, fees, paper or live, ...).
    #[serde(
        flatten,
        default,
        serialize_with = "super::extra::trade",
        deserialize_with = "super::extra::read"
    )]
    pub extra: Extra,
}

impl TradeRecord {
    /// An open trade with no agent views and confidence 0.
    pub fn new(
        trade_id: impl Into<String>,
        instrument: Symbol,
        side: Side,
        entry_timestamp: Timestamp,
        entry_price: Price,
        quantity: Quantity,
    ) -> Self {
        Self {
            trade_id: trade_id.into(),
            instrument,
            status: TradeStatus::Open,
            entry_timestamp,
            entry_price,
            quantity,
            confidence: 0.0,
            agent_decisions: BTreeMap::new(),
            side,
            decision_id: None,
            run_id: RunId::default(),
            stop_loss: None,
            take_profit: None,
            exit_timestamp: None,
            exit_price: None,
            realized_pnl: None,
            extra: Extra::new(),
        }
    }
}
