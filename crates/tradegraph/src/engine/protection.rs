//! Whether the open position is protected at the broker. A venue broker places an entry's
//! exits after its fill, and may fail to (Kite refusing a stop whose trigger the price already
//! passed, a day order lapsing at the close, a venue away while the exits are owed); it logs
//! that and keeps trying, but nothing told the operator. Each minute (in a service), an open
//! trade whose entry asked for a stop or a target, with no exit of it working at the broker on
//! the closing side for a minute or more (an entry's child order, or any order that only
//! reduces), raises the critical `position_unprotected` alert, once per trade; its recovery
//! goes out once an exit works again or the position is flat. Two checks are needed, a minute
//! apart: the exits placed right after a fill are not caught half-way.

use super::journal::Execution;
use super::observe::{wall_now, AlertEvent, AlertKind, BotEvent, Severity};
use super::{Engine, Mode};
use futures::Stream;
use tradegraph_broker::Broker;
use tradegraph_core::order::OrderSide;
use tradegraph_core::position::Account;
use tradegraph_core::{Decimal, Timestamp};
use tradegraph_market::{Clock, MarketEvent};

/// How long the position may be seen without a working exit before the alert.
const UNPROTECTED_GRACE_MS: i64 = 60_000;

/// What the watch saw of the position's protection.
#[derive(Debug, Clone, Default)]
pub(super) struct ProtectionWatch {
    /// Since when (engine clock) no exit was seen working, while one was expected.
    since: Option<Timestamp>,
    /// The alert raised for this stretch, for its recovery.
    alerted: Option<AlertEvent>,
    /// The broker's working orders could not be read at the last check (said once).
    unreadable: bool,
}

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Checks that the open position's exits work at the broker (see the module).
    pub(super) async fn watch_protection(&mut self, account: &Account) {
        if self.config.mode != Mode::Service {
            return;
        }
        let symbol = self.config.instrument.symbol.clone();
        let held = account
            .position(&symbol)
            .map_or(Decimal::ZERO, |p| p.quantity);
        let asked = self
            .ledger
            .open_trade()
            .filter(|t| t.stop_loss.is_some() || t.take_profit.is_some());
        let now = self.clock.now();
        let unprotected = match asked {
            Some(trade) if !held.is_zero() => {
                let closing = if held.is_sign_positive() {
                    OrderSide::Sell
                } else {
                    OrderSide::Buy
                };
                match self.broker.open_orders().await {
                    Ok(orders) => {
                        self.protection.unreadable = false;
                        // An exit: an entry's child order, or any order that only reduces
                        // (a Kite GTT leg whose entry a restart could not name, a close
                        // resting at the venue).
                        let working = orders.iter().any(|o| {
                            (o.parent.is_some() || o.request.reduce_only)
                                && o.request.symbol == symbol
                                && o.request.side == closing
                                && !o.status.is_terminal()
                        });
                        (!working).then_some(trade)
                    }
                    Err(e) => {
                        // Unknown now: what was seen stands until the broker answers.
                        if !std::mem::replace(&mut self.protection.unreadable, true) {
                            tracing::warn!(%symbol, error = %e, "whether the open position's exits work cannot be checked: the broker's working orders cannot be read; checked again each minute");
                        }
                        return;
                    }
                }
            }
            _ => None,
        };
        let Some(trade) = unprotected else {
            self.protection.since = None;
            if let Some(raised) = self.protection.alerted.take() {
                let why = if held.is_zero() {
                    "the position is closed"
                } else {
                    "an exit works at the broker again"
                };
                tracing::info!(%symbol, "the open position is protected again: {why}");
                let recovery = raised.recovery(format!("{symbol}: {why}"), wall_now());
                self.observer.publish(|| BotEvent::Alert(recovery));
            }
            return;
        };
        let since = *self.protection.since.get_or_insert(now);
        if self.protection.alerted.is_some()
            || now.millis().saturating_sub(since.millis()) < UNPROTECTED_GRACE_MS
        {
            return;
        }
        let price = |p: Option<Decimal>| p.map_or_else(|| "none".to_owned(), |p| p.to_string());
        let message = format!(
            "{symbol}: the open position ({held}) has no exit working at the broker although \
             its entry asked for a stop at {} and a target at {}, for {} s: it is UNPROTECTED. \
             Place a stop at the venue by hand, or close it (POST /api/v1/close-all); the \
             bot's log says why the exits are not there",
            price(trade.stop_loss),
            price(trade.take_profit),
            now.millis().saturating_sub(since.millis()) / 1000,
        );
        tracing::error!(%symbol, %held, "{message}");
        // One key per trade: a later trade's stretch is not held back by this one's cool-down.
        let alert = AlertEvent::new(
            AlertKind::PositionUnprotected,
            &trade.trade_id,
            Severity::Critical,
            message,
            wall_now(),
        );
        self.protection.alerted = Some(alert.clone());
        self.observer.publish(|| BotEvent::Alert(alert));
    }
}
