//! Errors of brokers.

use crate::live::VenueReason;
use tradegraph_core::order::{ClientOrderId, OrderStatus};
use tradegraph_core::{CoreError, Price, Symbol};

/// What went wrong talking to a broker.
///
/// An order the broker refuses (no price yet, market closed, off the tick grid, not enough
/// equity) is not an error: it comes back as an [`Order`](tradegraph_core::Order) with status
/// `Rejected` and a reason, and is kept under its client order id like any other.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The broker does not trade this instrument.
    #[error(
        "instrument {0} is not configured on this broker: add it to the broker's configuration"
    )]
    UnknownInstrument(Symbol),
    /// A client order id already used for a different order.
    #[error("client order id {0} was already used for a different order: derive a new id for a new order")]
    DuplicateClientOrderId(ClientOrderId),
    /// No order has this client order id.
    #[error("no order has client order id {0}")]
    UnknownOrder(ClientOrderId),
    /// The order cannot be cancelled in its status.
    #[error("order {client_id} is {status} and cannot be cancelled")]
    NotCancellable {
        /// The order.
        client_id: ClientOrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// The order cannot be amended: it is no longer working, or the change does not fit it;
    /// nothing changed.
    #[error("order {client_id} cannot be amended: {reason}")]
    NotAmendable {
        /// The order.
        client_id: ClientOrderId,
        /// Why, typed.
        reason: crate::AmendRefusal,
    },
    /// A configuration value that cannot work.
    #[error("broker configuration: {0}")]
    Config(String),
    /// A saved paper account that cannot be restored: corrupt, or taken with another
    /// configuration (currency, starting cash, instruments).
    #[error("cannot restore the paper account from its snapshot: {0}; restore it with the configuration it was saved with, or start a new paper account")]
    Snapshot(String),
    /// The broker's state is unusable because a thread panicked while changing it.
    #[error("the {0} broker's state was poisoned by a panic; restart it")]
    Poisoned(&'static str),
    /// A venue failed a request (unreachable, rate limited, credentials refused, ...): nothing
    /// was placed by this call, or its outcome is unknown until the order is queried
    /// ([`VenueReason::Unavailable`]).
    #[error("{venue}: {reason}")]
    Venue {
        /// Which broker: `binance`, `kite`, `paper`.
        venue: String,
        /// Why, typed.
        reason: VenueReason,
    },
    /// The broker does not do this (e.g. amending an order at a venue without that call).
    #[error("the {broker} broker cannot {what}")]
    Unsupported {
        /// Which broker.
        broker: String,
        /// What was asked.
        what: &'static str,
    },
    /// The order's intent could not be written durably before sending it, so it was not sent
    /// (an order that could not be reconciled after a crash must never go out).
    #[error("order {client_id}: its intent could not be recorded, so it was not sent: {reason}")]
    Journal {
        /// The order.
        client_id: ClientOrderId,
        /// What failed, typed (also the error's source).
        #[source]
        reason: crate::IntentFailure,
    },
    /// The order journal knows this client order id and does not send the order again (see
    /// [`NotRepeated`](tradegraph_core::risk::NotRepeated)); nothing was sent.
    #[error("order {client_id} is not sent again: {why}")]
    NotRepeated {
        /// The order.
        client_id: ClientOrderId,
        /// Why.
        why: tradegraph_core::risk::NotRepeated,
    },
    /// An entry not sent because the kill switch was engaged after it was decided (between the
    /// risk check and the send); nothing was sent, and its intent is settled as never sent.
    /// Orders that reduce a position still go.
    #[error("order {client_id} was not sent: the kill switch was engaged after it was decided, and no entry goes out while it is")]
    KillSwitch {
        /// The order.
        client_id: ClientOrderId,
    },
    /// A price event whose price cannot be real (zero, negative, or above
    /// [`MAX_PRICE`](tradegraph_core::MAX_PRICE)): refused, so it neither fills nor marks
    /// anything.
    #[error("refused a {event} for {symbol} at price {price}: prices must be above 0 and at most {max}; the feed should have reported it as malformed, check its source", max = tradegraph_core::MAX_PRICE)]
    ImplausiblePrice {
        /// The instrument.
        symbol: Symbol,
        /// Which event and field (`tick`, `tick bid`, `candle low`, `trade`).
        event: &'static str,
        /// The refused price.
        price: Price,
    },
    /// A domain error (decimal overflow, lifecycle).
    #[error(transparent)]
    Core(#[from] CoreError),
}
