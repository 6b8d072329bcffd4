//! The risk guard's output: what to trade, in exact decimals, ready to become an order.

use super::{ClientOrderId, DecisionId, Exits, Leg, OrderRequest, OrderSide};
use crate::money::Money;
use crate::{Price, Quantity, Symbol};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether an intent opens (or adds to) a position or closes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentPurpose {
    /// Opens a position or adds to one on the same side. Always carries a stop-loss.
    Open,
    /// Closes the whole position (reduce-only).
    Close,
}

/// An order the [risk guard](crate::risk) approved: side, quantity (a positive multiple of the
/// lot size), the price it was sized at and, for an entry, its exits (the stop-loss is always
/// there). [`OrderIntent::to_request`] turns it into the broker order with its deterministic
/// client order id.
///
/// ```
/// use tradegraph_core::order::{DecisionId, Exits, IntentPurpose, OrderIntent, OrderSide};
/// use tradegraph_core::{Decimal, Symbol};
/// let intent = OrderIntent {
///     symbol: Symbol::new("BANKNIFTY"),
///     decision_id: DecisionId::new("BANKNIFTY-20250106T041500.000Z"),
///     purpose: IntentPurpose::Open,
///     side: OrderSide::Buy,
///     quantity: Decimal::from(30),
///     reference_price: Decimal::from(50_000),
///     exits: Exits::stop(Decimal::from(49_000)),
/// };
/// let order = intent.to_request();
/// assert_eq!(order.client_id, intent.client_id());
/// assert_eq!(order.exits, Some(intent.exits));
/// assert!(!order.reduce_only);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIntent {
    /// The instrument.
    pub symbol: Symbol,
    /// The decision it comes from (the seed of its client order id).
    pub decision_id: DecisionId,
    /// Open or close.
    pub purpose: IntentPurpose,
    /// Buy or sell.
    pub side: OrderSide,
    /// How much: positive, a multiple of the lot size (a close is the whole position).
    pub quantity: Quantity,
    /// The price the guard sized it at.
    pub reference_price: Price,
    /// Exits to attach; an `Open` intent always has a stop-loss. Empty for a close.
    #[serde(default)]
    pub exits: Exits,
}

impl OrderIntent {
    /// The leg this intent is: `Entry` or `Exit`.
    pub fn leg(&self) -> Leg {
        match self.purpose {
            IntentPurpose::Open => Leg::Entry,
            IntentPurpose::Close => Leg::Exit,
        }
    }

    /// Its deterministic client order id.
    pub fn client_id(&self) -> ClientOrderId {
        ClientOrderId::derive(&self.symbol, &self.decision_id, self.leg())
    }

    /// `quantity × reference_price`, `None` on overflow.
    pub fn notional(&self) -> Option<Money> {
        self.quantity.checked_mul(self.reference_price)
    }

    /// The market order that carries it out: with the exits attached for an entry, reduce-only
    /// for a close.
    pub fn to_request(&self) -> OrderRequest {
        let order = OrderRequest::market(
            self.client_id(),
            self.symbol.clone(),
            self.side,
            self.quantity,
        );
        match self.purpose {
            IntentPurpose::Open => order.with_exits(self.exits),
            IntentPurpose::Close => order.reduce_only(),
        }
    }
}

impl fmt::Display for OrderIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.purpose {
            IntentPurpose::Open => "open",
            IntentPurpose::Close => "close",
        };
        write!(
            f,
            "{what}: {} {} {} @ {}",
            self.side, self.quantity, self.symbol, self.reference_price
        )?;
        if let Some(sl) = self.exits.stop_loss {
            write!(f, " SL {sl}")?;
        }
        if let Some(tp) = self.exits.take_profit {
            write!(f, " TP {tp}")?;
        }
        if let Some(trail) = self.exits.trailing_distance {
            write!(f, " trail {trail}")?;
        }
        Ok(())
    }
}
