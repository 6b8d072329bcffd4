//! Orders: sides, kinds, time in force, identifiers, requests, the lifecycle, fills, and the
//! risk guard's order intents.
//!
//! The flow: the [risk guard](crate::risk) turns a decision into an [`OrderIntent`];
//! [`OrderIntent::to_request`] makes the [`OrderRequest`] (a market order with its [`Exits`]
//! attached, under a [`ClientOrderId`] derived from the instrument, the [`DecisionId`] and the
//! [`Leg`]); a broker keeps it as an [`Order`] whose [`OrderStatus`] follows the lifecycle and
//! reports [`Fill`]s, which a [`Portfolio`](crate::position::Portfolio) books.
//!
//! Idempotency lives in the client order id: the same decision always derives the same ids, and a
//! broker given an id it has seen returns the order it already has.

mod charge;
mod fill;
mod id;
mod intent;
mod kind;
mod record;
mod request;
mod side;
mod status;

pub use charge::{Charge, ChargeKind};
pub use fill::{Fill, Liquidity};
pub use id::{ClientOrderId, DecisionId, Leg, OrderId};
pub use intent::{IntentPurpose, OrderIntent};
pub use kind::{OrderKind, TimeInForce};
pub use record::Order;
pub use request::{Exits, OrderRequest};
pub use side::OrderSide;
pub use status::OrderStatus;
