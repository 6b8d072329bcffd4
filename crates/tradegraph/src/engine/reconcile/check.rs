//! The engine's side of reconciliation: reading both views, acting on what they disagree on,
//! saving the hold, and a person's confirmation.

use super::{compare, BotView, ReconcileReport, ReconcileTrigger, VenueView};
use crate::engine::control::Reply;
use crate::engine::journal::{Execution, Journal};
use crate::engine::observe::{wall_now, AlertEvent, AlertKind, BotEvent, Severity};
use crate::engine::{Engine, EngineError};
use futures::Stream;
use serde_json::json;
use std::collections::HashSet;
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, Order};
use tradegraph_core::Symbol;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::{IntentLog, StatePart};

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Compares the broker's working orders, positions, account and fills with the bot's order
    /// intents, trade ledger and the fills it read; discrepancies raise an alert and an event,
    /// and hold the bot in `reducing` (saved) until a person confirms.
    ///
    /// # Errors
    /// The broker's or the store's error when a view cannot be read (the caller decides: at
    /// start the bot does not start; after a reconnect it tries again); a state conflict.
    pub(crate) async fn reconcile_venue(
        &mut self,
        trigger: ReconcileTrigger,
    ) -> Result<ReconcileReport, EngineError> {
        // The ledger first reads what the broker booked meanwhile (a venue broker catches up
        // after a reconnect): a stale ledger would disagree with the broker for nothing. (It
        // saves the broker's state first when new fills are not saved yet.)
        Box::pin(self.read_fills(None)).await?;
        let known = Known {
            symbol: self.config.instrument.symbol.clone(),
            fills_seen: self.reconciliation.get().fills_seen,
            ledger_position: self.ledger.open_position(),
            ledger_cursor: self.ledger.cursor(),
            step: self.config.instrument.lot_size,
            price: self.desk.market().price(),
        };
        let intents = self.config.stores.intents.clone();
        let (venue, bot) = views(&self.broker, intents.as_ref(), known).await?;
        let last_fill = venue.fills.iter().map(|f| f.seq).max();
        let discrepancies = compare(&venue, &bot);
        // Reports are told apart by their time (a confirmation names it, an alert's key is
        // made of it): each later than the last, even within one millisecond of the wall clock.
        let previous = self.reconciliation.get().last().map(|r| r.at);
        let now = wall_now();
        let at = match previous {
            Some(last) if now <= last => last.add_millis(1),
            _ => now,
        };
        let report = ReconcileReport {
            at,
            trigger,
            discrepancies,
        };
        let symbol = self.config.instrument.symbol.clone();
        let new = self.reconciliation.update(|r| {
            let new = r.record(report.clone());
            if let Some(seq) = last_fill {
                r.fills_seen = r.fills_seen.max(seq);
            }
            new
        });
        if !new.is_empty() {
            let list: Vec<String> = new.iter().map(|d| d.to_string()).collect();
            tracing::error!(%symbol, ?trigger, discrepancies = %list.join("; "), "reconciliation: the broker and the bot disagree; entries are held until a person confirms");
            let message = format!(
                "reconciliation with the broker found {} new discrepancy(ies): {}; entries are \
                 held until a person confirms (POST /api/v1/reconciliation/confirm with the \
                 report's `at`, {})",
                list.len(),
                list.join("; "),
                report.at
            );
            // One alert per report that found something new: the cool-down of one key cannot
            // swallow a new discrepancy found soon after a confirmation.
            let about = report.at.to_string();
            self.observer.publish(|| {
                BotEvent::Alert(AlertEvent::new(
                    AlertKind::Reconciliation,
                    &about,
                    Severity::Critical,
                    message,
                    wall_now(),
                ))
            });
        } else if self.reconciliation.get().held {
            tracing::warn!(%symbol, ?trigger, "reconciliation: nothing new, but entries stay held until a person confirms the earlier discrepancies");
        } else {
            tracing::info!(%symbol, ?trigger, "reconciliation: the broker and the bot agree (or only on what a person confirmed)");
        }
        let held = self.reconciliation.get().held;
        self.observer.publish(|| BotEvent::Reconciliation {
            report: report.clone(),
            held,
        });
        self.save_reconciliation().await?;
        self.refresh_status();
        Ok(report)
    }

    /// Reconciles again when the venue broker re-established its order-update link since the
    /// last reconciliation (checked each second). A view that cannot be read is tried again at
    /// the next check.
    ///
    /// # Errors
    /// Only what stops the bot (a state conflict).
    pub(crate) async fn on_reconnections(&mut self) -> Result<(), EngineError> {
        let now = self.broker.reconnections();
        if now == self.reconnections || self.config.mode != crate::engine::Mode::Service {
            return Ok(());
        }
        match self.reconcile_venue(ReconcileTrigger::Reconnect).await {
            Ok(_) => {
                self.reconnections = now;
                Ok(())
            }
            Err(e @ EngineError::StateConflict { .. }) => Err(e),
            Err(e) => {
                tracing::warn!(symbol = %self.config.instrument.symbol, error = %e, "reconciliation after the broker reconnected failed; trying again in a second");
                Ok(())
            }
        }
    }

    /// A person who read the reconciliation of `seen` (its report's `at`) confirmed the
    /// discrepancies: the hold ends (saved). Refused, changing nothing, when the last
    /// reconciliation is not the one the person read.
    pub(crate) async fn confirm_reconciliation(
        &mut self,
        seen: tradegraph_core::Timestamp,
        by: Option<&str>,
    ) -> Result<Reply, EngineError> {
        let by = by.map(str::to_owned);
        let confirmed = match self
            .reconciliation
            .update(|r| r.confirm(seen, wall_now(), by))
        {
            Ok(confirmed) => confirmed,
            Err(stale) => {
                let last = stale.last.map(|t| t.to_string());
                let mut reply = Reply::refused(format!(
                    "the reconciliation changed since it was read: its last report is of {}, \
                     not {seen}; read GET /api/v1/reconciliation again and confirm with its \
                     `last.at`",
                    last.as_deref().unwrap_or("-")
                ));
                reply.detail = json!({"last_at": last});
                return Ok(reply);
            }
        };
        let was = !confirmed.is_empty();
        self.save_reconciliation().await?;
        self.refresh_status();
        let message = if was {
            format!(
                "reconciliation confirmed: {} discrepancy(ies) accepted; entries are allowed again",
                confirmed.len()
            )
        } else {
            "nothing to confirm: reconciliation holds nothing".to_owned()
        };
        Ok(Reply::done(
            message,
            json!({"was_held": was, "confirmed": confirmed}),
        ))
    }

    /// Saves the reconciliation state; an outage is retried each second (see
    /// [`save_part`](Engine::save_part)).
    pub(crate) async fn save_reconciliation(&mut self) -> Result<(), EngineError> {
        let value = self.reconciliation.get().clone();
        self.reconciliation_saved = self.save_part(StatePart::Reconciliation, &value).await?;
        self.observer.status(|s| {
            s.reconciliation = value;
            true
        });
        Ok(())
    }
}

/// What the bot knows for a reconciliation, read before the broker is asked.
struct Known {
    symbol: Symbol,
    fills_seen: u64,
    ledger_position: rust_decimal::Decimal,
    ledger_cursor: u64,
    step: rust_decimal::Decimal,
    price: Option<rust_decimal::Decimal>,
}

/// Reads the broker's view and the bot's.
async fn views<B: Execution>(
    broker: &Journal<B>,
    intents: &dyn IntentLog,
    known: Known,
) -> Result<(VenueView, BotView), EngineError> {
    let symbol = known.symbol;
    let venue = VenueView {
        open_orders: broker.open_orders().await?,
        positions: broker.positions().await?,
        account: broker.account().await?,
        fills: broker.fills_since(known.fills_seen).await?,
    };
    let mut ours = HashSet::new();
    let mut untold = HashSet::new();
    let mut ids: Vec<(ClientOrderId, Option<Order>)> = Vec::new();
    for order in venue
        .open_orders
        .iter()
        .filter(|o| o.request.symbol == symbol)
    {
        ids.push((order.request.client_id.clone(), Some(order.clone())));
        if let Some(parent) = &order.parent {
            ids.push((parent.clone(), None));
        }
    }
    for fill in venue.fills.iter().filter(|f| f.symbol == symbol) {
        ids.push((fill.client_id.clone(), None));
    }
    let is_intent = |id: ClientOrderId| async move {
        Ok::<bool, EngineError>(intents.intent(&id).await?.is_some())
    };
    for (id, order) in ids {
        if ours.contains(&id) || untold.contains(&id) {
            continue;
        }
        if is_intent(id.clone()).await? {
            ours.insert(id);
            continue;
        }
        // An exit attached to an entry of the bot is the bot's: its parent from the broker's
        // own book first (no request), from the venue only for an order the book lost.
        let order = match order.or_else(|| broker.inner().tracked_order(&id)) {
            Some(order) => Some(order),
            None => broker.order(&id).await?,
        };
        match order.and_then(|o| o.parent) {
            Some(parent) if is_intent(parent.clone()).await? => {
                ours.insert(id);
            }
            Some(_) => {}
            None if broker.inner().is_retired(&id) => {
                untold.insert(id);
            }
            None => {}
        }
    }
    let bot = BotView {
        symbol,
        ours,
        untold,
        ledger_position: known.ledger_position,
        ledger_cursor: known.ledger_cursor,
        readable: broker.readable_fills(),
        step: known.step,
        price: known.price,
    };
    Ok((venue, bot))
}
