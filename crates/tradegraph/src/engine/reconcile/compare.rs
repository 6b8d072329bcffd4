//! The pure comparison of the broker's view with the bot's: [`compare`].

use super::Discrepancy;
use rust_decimal::Decimal;
use std::collections::HashSet;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderKind, OrderSide};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;

/// What the broker says: its working orders, positions, account, and the fills since the
/// last reconciliation.
#[derive(Debug, Clone)]
pub(crate) struct VenueView {
    /// [`Broker::open_orders`](tradegraph_broker::Broker::open_orders).
    pub(crate) open_orders: Vec<Order>,
    /// [`Broker::positions`](tradegraph_broker::Broker::positions).
    pub(crate) positions: Vec<Position>,
    /// [`Broker::account`](tradegraph_broker::Broker::account).
    pub(crate) account: Account,
    /// [`Broker::fills_since`](tradegraph_broker::Broker::fills_since) the last reconciliation.
    pub(crate) fills: Vec<Fill>,
}

/// What the bot knows: which client ids are its own, its ledger's open trade and cursor.
#[derive(Debug, Clone)]
pub(crate) struct BotView {
    /// The instrument: orders, positions and fills of others are not this bot's business.
    pub(crate) symbol: Symbol,
    /// Client ids the bot sent (an order intent) or attached to one (its exits).
    pub(crate) ours: HashSet<ClientOrderId>,
    /// Client ids whose origin cannot be told (the broker let the finished order go): skipped.
    pub(crate) untold: HashSet<ClientOrderId>,
    /// The ledger's open trade, signed (negative short; zero when none).
    pub(crate) ledger_position: Decimal,
    /// The last fill the ledger read.
    pub(crate) ledger_cursor: u64,
    /// The last fill the ledger may read (the broker's saved state; `u64::MAX` for a venue).
    pub(crate) readable: u64,
    /// The instrument's quantity step.
    pub(crate) step: Decimal,
    /// The last price seen, for working stops (which have no limit price).
    pub(crate) price: Option<Decimal>,
}

/// Compares the broker's view with the bot's and lists every disagreement, in a stable order:
/// unknown working orders, the position, unknown and missed fills, the cash.
pub(crate) fn compare(venue: &VenueView, bot: &BotView) -> Vec<Discrepancy> {
    let mut found = Vec::new();
    let ours = |id: &ClientOrderId| bot.ours.contains(id) || bot.untold.contains(id);
    let working: Vec<&Order> = venue
        .open_orders
        .iter()
        .filter(|o| o.request.symbol == bot.symbol && !o.status.is_terminal())
        .collect();
    for order in &working {
        let attached = order.parent.as_ref().is_some_and(&ours);
        if !ours(&order.request.client_id) && !attached {
            found.push(Discrepancy::UnknownOrder {
                client_id: order.request.client_id.clone(),
                order_id: order.id.clone(),
            });
        }
    }
    let broker: Decimal = venue
        .positions
        .iter()
        .filter(|p| p.symbol == bot.symbol)
        .map(|p| p.quantity)
        .sum();
    // One step (a lot) apart is a difference: a venue cannot hold less than a step.
    let apart = (broker - bot.ledger_position).abs();
    if apart >= bot.step && !apart.is_zero() {
        found.push(Discrepancy::PositionMismatch {
            broker,
            ledger: bot.ledger_position,
            step: bot.step,
        });
    }
    for fill in venue.fills.iter().filter(|f| f.symbol == bot.symbol) {
        if !ours(&fill.client_id) {
            found.push(Discrepancy::UnknownFill {
                seq: fill.seq,
                client_id: fill.client_id.clone(),
                quantity: fill.signed_quantity(),
            });
        }
        if fill.seq > bot.ledger_cursor && fill.seq <= bot.readable {
            found.push(Discrepancy::MissedFill {
                seq: fill.seq,
                client_id: fill.client_id.clone(),
                ledger_cursor: bot.ledger_cursor,
            });
        }
    }
    let needed = working
        .iter()
        .filter(|o| o.request.side == OrderSide::Buy && !o.request.reduce_only)
        .filter(|o| o.parent.is_none())
        .filter_map(|o| {
            let price = match o.request.kind {
                OrderKind::Limit { price } => Some(price),
                OrderKind::Stop { trigger } => Some(trigger),
                _ => bot.price,
            }?;
            o.remaining().checked_mul(price)
        })
        .fold(Decimal::ZERO, |sum, need| sum.saturating_add(need));
    if needed > venue.account.cash {
        found.push(Discrepancy::CashShort {
            cash: venue.account.cash,
            needed,
        });
    }
    found
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
