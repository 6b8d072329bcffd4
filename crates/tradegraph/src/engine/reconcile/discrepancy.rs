//! [`Discrepancy`]: one way the venue's word and the bot's own state disagree.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tradegraph_core::order::{ClientOrderId, OrderId};

/// One way the broker's word (its working orders, positions, account and fills) and the bot's
/// own state (its order intents, the trade ledger's open trade, the fills the ledger read)
/// disagree. Any of them puts the bot in `reducing` until a person confirms.
///
/// Serialized with a `kind` tag:
///
/// ```
/// use tradegraph::engine::Discrepancy;
/// use tradegraph_core::order::OrderId;
/// let d = Discrepancy::UnknownOrder { client_id: "manual-1".parse()?, order_id: OrderId::new("42") };
/// assert_eq!(d.kind(), "unknown_order");
/// assert_eq!(serde_json::to_value(&d)?["kind"], "unknown_order");
/// assert!(d.to_string().contains("manual-1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Discrepancy {
    /// A working order whose client id is neither an order intent of the bot nor an exit
    /// attached to one (placed by hand, or by another program on the same account).
    UnknownOrder {
        /// The order's client id.
        client_id: ClientOrderId,
        /// The venue's order id.
        order_id: OrderId,
    },
    /// The broker's position differs from the ledger's open trade by at least the
    /// instrument's quantity step (one lot).
    PositionMismatch {
        /// The broker's position (signed: negative is short).
        broker: Decimal,
        /// The ledger's open trade (signed; zero when no trade is open).
        ledger: Decimal,
        /// The instrument's quantity step.
        step: Decimal,
    },
    /// A fill of an order the bot does not know.
    UnknownFill {
        /// The fill's number at the broker.
        seq: u64,
        /// The order's client id.
        client_id: ClientOrderId,
        /// Signed quantity.
        quantity: Decimal,
    },
    /// A fill the trade ledger could read and did not.
    MissedFill {
        /// The fill's number at the broker.
        seq: u64,
        /// The order's client id.
        client_id: ClientOrderId,
        /// The ledger's cursor: the last fill it read.
        ledger_cursor: u64,
    },
    /// The cash is below what the working entry orders need.
    CashShort {
        /// The cash the broker reports.
        cash: Decimal,
        /// What the working buy entries need (remaining quantity × their price).
        needed: Decimal,
    },
}

impl Discrepancy {
    /// Its `kind` tag: `unknown_order`, `position_mismatch`, `unknown_fill`, `missed_fill`,
    /// `cash_short`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownOrder { .. } => "unknown_order",
            Self::PositionMismatch { .. } => "position_mismatch",
            Self::UnknownFill { .. } => "unknown_fill",
            Self::MissedFill { .. } => "missed_fill",
            Self::CashShort { .. } => "cash_short",
        }
    }

    /// Whether its numbers move while it lasts (a position mismatch, a cash shortfall): a
    /// person's confirmation of it lapses once a reconciliation does not find it.
    pub(crate) fn is_moving(&self) -> bool {
        matches!(self, Self::PositionMismatch { .. } | Self::CashShort { .. })
    }

    /// Whether `other` is the same discrepancy: an order or a fill by its ids; a position
    /// mismatch by its offset (the broker's position minus the ledger's) within one quantity
    /// step; a cash shortfall by its kind.
    pub(crate) fn same_as(&self, other: &Discrepancy) -> bool {
        match (self, other) {
            (
                Self::PositionMismatch {
                    broker: b1,
                    ledger: l1,
                    step: s1,
                },
                Self::PositionMismatch {
                    broker: b2,
                    ledger: l2,
                    step: s2,
                },
            ) => {
                let apart = ((*b1 - *l1) - (*b2 - *l2)).abs();
                apart < (*s1).max(*s2)
            }
            (Self::CashShort { .. }, Self::CashShort { .. }) => true,
            _ => self == other,
        }
    }
}

impl std::fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOrder {
                client_id,
                order_id,
            } => write!(
                f,
                "the broker has a working order {client_id} (venue id {order_id}) that the bot \
                 did not send: cancel it at the venue or confirm that it may stay"
            ),
            Self::PositionMismatch {
                broker,
                ledger,
                step,
            } => write!(
                f,
                "the broker's position is {broker} but the bot's open trade is {ledger} (at \
                 least one quantity step, {step}, apart): check the account at the venue"
            ),
            Self::UnknownFill {
                seq,
                client_id,
                quantity,
            } => write!(
                f,
                "fill {seq} ({quantity}) is of order {client_id}, which the bot did not send"
            ),
            Self::MissedFill {
                seq,
                client_id,
                ledger_cursor,
            } => write!(
                f,
                "fill {seq} of order {client_id} was not read by the trade ledger (it read up \
                 to fill {ledger_cursor})"
            ),
            Self::CashShort { cash, needed } => write!(
                f,
                "the cash ({cash}) is below what the working entry orders need ({needed}): \
                 cancel some, or add funds"
            ),
        }
    }
}
