//! The book the agents decide on: beyond the account (in [`TradingState::account`]), the
//! instrument's working orders and what the risk guard allows now.

use crate::TradingState;
use serde::{Deserialize, Serialize};
use tradegraph_core::order::{Leg, Order, OrderKind, OrderSide};
use tradegraph_core::position::Position;
use tradegraph_core::risk::{Headroom, RiskContext, RiskGuard, RiskLimits, Volatility};
use tradegraph_core::{Decimal, Price, Timeframe, Timestamp};

/// How many candles of the decision timeframe the guard measures volatility on.
pub(crate) const VOLATILITY_LOOKBACK: usize = 14;

/// How old a book may be for its quote to count (a feed's depth stream refreshes it every
/// second or less).
const QUOTE_FRESH_MS: i64 = 60_000;

/// What the risk guard rules on for `state`'s instrument with `account`, at `price` and `now`:
/// with the snapshot's best bid and ask when the book has both and is less than a minute old
/// (a buy is sized at the ask when it is above the price). The one place the agents build it:
/// the guard, the execution's re-check, the book and rule mode's lot sizing use the same.
pub(crate) fn risk_context<'a>(
    state: &'a TradingState,
    account: &'a tradegraph_core::Account,
    price: Price,
    now: Timestamp,
) -> RiskContext<'a> {
    let context = RiskContext::new(&state.instrument, account, price, now);
    let quote = state.market.book.as_ref().and_then(|book| {
        let fresh = now.millis().saturating_sub(book.ts.millis()) <= QUOTE_FRESH_MS;
        let (bid, ask) = (book.best_bid()?.price, book.best_ask()?.price);
        (fresh && bid > Decimal::ZERO && bid <= ask).then_some((bid, ask))
    });
    match quote {
        Some((bid, ask)) => context.with_quote(bid, ask),
        None => context,
    }
}

/// The volatility the guard rules with: measured on the decision timeframe's candles.
pub(crate) fn guard_volatility(state: &TradingState, timeframe: Timeframe) -> Volatility {
    Volatility::from_candles(state.market.candles(timeframe), VOLATILITY_LOOKBACK)
}

/// The rest of the book when a cycle starts: the instrument's working orders, the guard's
/// limits and its [`Headroom`]. With the account, it is what the risk manager and the
/// portfolio manager see, in their prompts and in rule mode alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Book {
    /// The instrument's working orders: entries waiting, attached stop-loss, take-profit and
    /// trailing stop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub working: Vec<Order>,
    /// The guard's limits.
    pub limits: RiskLimits,
    /// What the guard allows now.
    pub headroom: Headroom,
    /// What the bot holds entries back for beyond the guard (its operator, its reconciliation
    /// with the broker).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<EntryHold>,
}

/// Why the bot holds new entries back, beyond the risk guard's rules: the agents are told, so
/// they do not propose what would be held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryHold {
    /// The operator paused new entries.
    PausedByOperator,
    /// Reconciliation with the broker found discrepancies a person must confirm.
    HeldByReconciliation,
}

impl std::fmt::Display for EntryHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::PausedByOperator => "new entries are paused by the operator",
            Self::HeldByReconciliation => {
                "reconciliation with the broker found discrepancies a person must confirm"
            }
        })
    }
}

impl Book {
    /// The book of `state`'s instrument on `state`'s account (`None` without one): its working
    /// orders among `orders`, and what `guard` allows at `now` (the guard's own view of the
    /// market: volatility on `timeframe`). Changes nothing in the guard.
    pub fn new(
        state: &TradingState,
        orders: Vec<Order>,
        guard: &RiskGuard,
        timeframe: Timeframe,
        now: Timestamp,
    ) -> Option<Self> {
        let account = state.account.as_ref()?;
        let context = risk_context(state, account, state.market.price, now)
            .with_volatility(guard_volatility(state, timeframe));
        let symbol = &state.instrument.symbol;
        Some(Self {
            working: orders
                .into_iter()
                .filter(|o| &o.request.symbol == symbol && o.status.is_working())
                .collect(),
            limits: guard.limits().clone(),
            headroom: guard.headroom(&context),
            holds: Vec::new(),
        })
    }

    /// The protective exits working for the position: stop-loss, take-profit, trailing stop
    /// (the last of each kind, for a position with exits from several entries).
    pub fn exits(&self) -> WorkingExits {
        let mut exits = WorkingExits::default();
        for order in self.working.iter().filter(|o| o.parent.is_some()) {
            match order.request.kind {
                OrderKind::Stop { trigger } => exits.stop_loss = Some(trigger),
                OrderKind::Limit { price } if is_stop_leg(order) => {
                    exits.stop_loss = Some(order.trigger_price.unwrap_or(price));
                }
                OrderKind::Limit { price } => exits.take_profit = Some(price),
                OrderKind::TrailingStop { .. } => {
                    exits.trailing_stop = Some(order.trigger_price);
                }
                _ => {}
            }
        }
        exits
    }

    /// Whether entries are blocked now: by the guard (kill switch, daily halt, session, circuit
    /// breaker, open positions, an unusable equity) or held back by the bot.
    pub fn entries_blocked(&self) -> bool {
        !self.headroom.entry_blocks.is_empty() || !self.holds.is_empty()
    }

    /// What blocks entries, in words: the guard's reasons, then the bot's holds.
    pub fn entry_blocks(&self) -> Vec<String> {
        let guard = self.headroom.entry_blocks.iter().map(ToString::to_string);
        guard
            .chain(self.holds.iter().map(ToString::to_string))
            .collect()
    }
}

/// The exits working for a position, as prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkingExits {
    /// The stop-loss trigger.
    pub stop_loss: Option<Price>,
    /// The take-profit limit.
    pub take_profit: Option<Price>,
    /// A working trailing stop, with its current trigger (`None` until the first price
    /// arms it).
    pub trailing_stop: Option<Option<Price>>,
}

/// The position in `state`'s instrument, if one is open.
pub fn position(state: &TradingState) -> Option<&Position> {
    state.account.as_ref()?.position(&state.instrument.symbol)
}

/// Which way a position or order goes, in words.
pub(crate) fn side_word(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "buy",
        OrderSide::Sell => "sell",
    }
}

/// `value` with at most `dp` decimals, without trailing zeros.
pub(crate) fn exact(value: Decimal, dp: u32) -> String {
    value.round_dp(dp).normalize().to_string()
}

/// Whether `order` is its entry's stop-loss leg, told by its id: a stop sent as a limit past
/// its trigger (a Kite GTT's stop leg) is one too.
pub(crate) fn is_stop_leg(order: &Order) -> bool {
    order
        .parent
        .as_ref()
        .is_some_and(|entry| order.client_id() == &entry.child(Leg::StopLoss))
}
